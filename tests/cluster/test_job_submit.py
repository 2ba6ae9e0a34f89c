"""The nightly job submitted the production way: `ray job submit` to a real Ray head, checked in the lake.

The head is a separate `ray start --head --block` process owned by this module, never `ray.init` in the
pytest process (other tests share one in-process Ray instance, see tests/conftest.py). Everything talks to
the head through the `ray` CLI or `JobSubmissionClient` in a subprocess, over the dashboard's HTTP port.

Isolation from any other Ray instance on the machine (the session's in-process one, a developer's own):
- every port the head opens is a free port picked here (GCS, dashboard, dashboard agent http/grpc,
  runtime-env agent, metrics, client server, node manager, object manager), so nothing collides with
  Ray's defaults (6379, 8265, 52365, 10001) that another instance may already hold;
- `--temp-dir` is a fresh short folder under /tmp (Unix socket paths must stay under 108 bytes, which a
  pytest tmp_path can exceed), so `ray_current_cluster`, sockets and logs are this head's alone;
- RAY_ADDRESS / RAY_API_SERVER_ADDRESS are removed from the subprocesses' environment and every CLI
  call names its address explicitly; the pytest process's own environment is never changed;
- token authentication (on by default in this Ray) uses a random per-module token passed through
  RAY_AUTH_TOKEN, not ~/.ray/auth_token, so the test neither depends on nor touches the user's token.

Stopping: not `ray stop`, which kills every Ray process of the user on the machine (it would take the
session's in-process instance down with it). Instead the `ray start --block` process is started in its
own session and sent SIGTERM: it tears down the processes it started (GCS, raylet, dashboard, agents,
workers). Then its process group gets SIGKILL, and a last sweep kills any process still carrying this
head's marker variable in its environment (job drivers run in sessions of their own, so they are not
in the process group) or naming its temp dir on its command line.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent  # .venv/bin: the tests run with the project's interpreter
RAY = VENV_BIN / "ray"
BATCH_DATE = "2026-12-01"
DOCUMENT_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}  # policy_ray.adapters.source
EXCLUDES = [".venv", ".git", "demo", ".mypy_cache", ".ruff_cache", ".pytest_cache"]
MARKER = "POLICY_RAY_TEST_HEAD"
HEAD_START_TIMEOUT_S = 90
JOB_TIMEOUT_S = 180  # with the head start, under the suite's 300 s pytest-timeout


@dataclass(frozen=True)
class Head:
    dashboard_url: str
    gcs_address: str
    gcs_port: int
    env: dict[str, str]  # the environment every CLI call against this head runs with
    token: str
    temp_dir: Path
    log: Path


def _missing_ray_default_extras() -> list[str]:
    """Requirements of ray[default], from ray's own metadata, that this environment does not satisfy."""
    from packaging.requirements import Requirement

    missing = []
    for line in importlib.metadata.requires("ray") or []:
        requirement = Requirement(line)
        if requirement.marker is None or not requirement.marker.evaluate({"extra": "default"}):
            continue
        if requirement.marker.evaluate({"extra": ""}):
            continue  # a base requirement, not one the extra adds
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(str(requirement))
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            missing.append(f"{requirement} (have {installed})")
    return missing


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _head_env(token: str, marker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH_TOKEN_PATH", "RAY_JOB_HEADERS"}}
    env.update({
        # `python` in the job's entrypoint must be this virtualenv's interpreter, as on a cluster node
        # where the venv is on PATH; without this a bare `python` may resolve to another installation.
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
        # SIGTERM to `ray start --block` would otherwise first wait for the node to drain (30 s default).
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
        "PYTHONUNBUFFERED": "1",
        MARKER: marker,  # inherited by every process the head starts, job drivers included
    })
    return env


def _get(url: str, token: str | None, timeout: float = 5.0) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _tail(path: Path, chars: int = 4000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-chars:]
    return ""


def _wait_until_ready(proc: subprocess.Popen[bytes], url: str, token: str, temp_dir: Path, log: Path) -> str:
    deadline = time.monotonic() + HEAD_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`ray start --head` exited with {proc.returncode}:\n{_tail(log)}")
        address_file = temp_dir / "ray_current_cluster"
        if address_file.exists():
            with contextlib.suppress(OSError):
                status, _ = _get(f"{url}/api/jobs/", token)
                if status == 200:
                    return address_file.read_text().strip()
        time.sleep(0.5)
    pytest.fail(f"the Ray head did not serve the jobs API within {HEAD_START_TIMEOUT_S}s:\n{_tail(log)}")


def _ours(process: psutil.Process, marker: str, temp_dir: str) -> bool:
    with contextlib.suppress(psutil.Error):
        if temp_dir in " ".join(process.cmdline()):
            return True
        return process.environ().get(MARKER) == marker
    return False


def _stop_head(proc: subprocess.Popen[bytes], marker: str, temp_dir: Path) -> None:
    if proc.poll() is None:
        proc.terminate()  # `ray start --block` kills what it started on SIGTERM
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the group is only this head's processes
    proc.wait(timeout=10)
    me = os.getpid()
    for _ in range(3):
        left = [p for p in psutil.process_iter() if p.pid != me and _ours(p, marker, str(temp_dir))]
        if not left:
            break
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(left, timeout=5)
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_head() -> Iterator[Head]:
    if not RAY.exists():
        pytest.fail(f"{RAY} not found: install the project's requirements.lock into this virtualenv")
    # The jobs API is served by the dashboard, which needs the ray[default] extras; without them the head
    # starts but `ray job submit` has nothing to talk to. Reported as a failure: pyproject asks for them.
    missing = _missing_ray_default_extras()
    if missing:
        pytest.fail(f"`ray job submit` needs ray[default] (dashboard + job server); missing: {missing}")

    temp_dir = Path(tempfile.mkdtemp(prefix="prh-", dir="/tmp"))
    log = temp_dir.with_suffix(".log")
    token = secrets.token_hex(32)
    marker = f"{temp_dir.name}-{secrets.token_hex(4)}"
    env = _head_env(token, marker)
    (gcs, dashboard, agent_http, agent_grpc, runtime_env, metrics, client, node_manager,
     object_manager) = _free_ports(9)
    command = [
        str(RAY), "start", "--head", "--block",
        f"--port={gcs}",
        "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}", "--include-dashboard=true",
        f"--dashboard-agent-listen-port={agent_http}", f"--dashboard-agent-grpc-port={agent_grpc}",
        f"--runtime-env-agent-port={runtime_env}", f"--metrics-export-port={metrics}",
        f"--ray-client-server-port={client}", f"--node-manager-port={node_manager}",
        f"--object-manager-port={object_manager}",
        "--num-cpus=2", "--disable-usage-stats", f"--temp-dir={temp_dir}",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=temp_dir, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{dashboard}"
        gcs_address = _wait_until_ready(proc, url, token, temp_dir, log)
        yield Head(dashboard_url=url, gcs_address=gcs_address, gcs_port=gcs, env=env, token=token,
                   temp_dir=temp_dir, log=log)
    finally:
        _stop_head(proc, marker, temp_dir)
        log.unlink(missing_ok=True)


def _run(args: list[str], env: dict[str, str], timeout: float = JOB_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def _job_info(head: Head, submission_id: str) -> dict[str, Any]:
    """The job as the head records it, read with JobSubmissionClient in a subprocess (no Ray in pytest)."""
    script = (
        "import json, sys\n"
        "from ray.job_submission import JobSubmissionClient\n"
        "info = JobSubmissionClient(sys.argv[1]).get_job_info(sys.argv[2])\n"
        "print(json.dumps({'status': str(info.status.value), 'entrypoint': info.entrypoint,\n"
        "                  'message': info.message, 'runtime_env': info.runtime_env}))\n"
    )
    done = _run([sys.executable, "-c", script, head.dashboard_url, submission_id], head.env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _submit(head: Head, submission_id: str, entrypoint: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    return _run([
        str(RAY), "job", "submit", "--address", head.dashboard_url, "--submission-id", submission_id,
        "--working-dir", str(REPO), "--runtime-env-json", json.dumps({"excludes": EXCLUDES}), *extra,
        "--", *entrypoint,
    ], head.env)


@dataclass(frozen=True)
class SubmittedNight:
    submission_id: str
    night: Path
    lake: Path
    entrypoint: list[str]
    submit: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="module")
def submitted_night(ray_head: Head, tmp_path_factory: pytest.TempPathFactory) -> SubmittedNight:
    root = tmp_path_factory.mktemp("submitted")
    night, lake = root / "night", root / "lake"
    sample = _run([sys.executable, "-m", "policy_ray", "sample", str(night), "--n", "12", "--seed", "3"],
                  ray_head.env, timeout=120)
    assert sample.returncode == 0, sample.stderr
    # The runbook's deterministic id is nightly-<date>; the random suffix keeps reruns of this test apart.
    submission_id = f"nightly-{BATCH_DATE}-{secrets.token_hex(4)}"
    entrypoint = ["python", "jobs/nightly_ingest.py", str(night), "--lake", str(lake),
                  "--batch-date", BATCH_DATE, "--extractors", "1", "--no-progress"]
    started = time.monotonic()
    submit = _submit(ray_head, submission_id, entrypoint)
    return SubmittedNight(submission_id, night, lake, entrypoint, submit, time.monotonic() - started)


def _read_table(path: Path, columns: list[str]) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    # to_pyarrow_dataset(), not to_pyarrow_table(): the latter aborts the interpreter at exit (deltalake 1.6.6).
    return DeltaTable(str(path)).to_pyarrow_dataset().to_table(columns=columns).to_pylist()


def test_head_is_our_own_and_refuses_requests_without_the_token(ray_head: Head) -> None:
    # Its GCS is on the port picked here and its address file in its own temp dir, not /tmp/ray.
    assert ray_head.gcs_address.endswith(f":{ray_head.gcs_port}")
    assert (ray_head.temp_dir / "session_latest").exists()
    status, _ = _get(f"{ray_head.dashboard_url}/api/jobs/", token=None)
    assert status == 401
    status, _ = _get(f"{ray_head.dashboard_url}/api/jobs/", token=ray_head.token)
    assert status == 200


def test_ray_job_submit_runs_the_night_to_success(ray_head: Head, submitted_night: SubmittedNight) -> None:
    done = submitted_night.submit
    assert done.returncode == 0, f"ray job submit failed ({done.returncode}):\n{done.stdout[-6000:]}\n{done.stderr}"
    info = _job_info(ray_head, submitted_night.submission_id)
    assert info["status"] == "SUCCEEDED", info
    assert info["entrypoint"] == shlex.join(submitted_night.entrypoint)  # what the CLI sends
    assert info["runtime_env"]["excludes"] == EXCLUDES
    # The working dir travelled as a package the head stored (gcs://_ray_pkg_<hash>.zip).
    assert info["runtime_env"]["working_dir"].startswith("gcs://")
    # The driver's own summary, tailed back by the CLI.
    assert "listed 12:" in done.stdout, done.stdout[-4000:]


def test_every_file_of_the_night_has_exactly_one_ledger_row(submitted_night: SubmittedNight) -> None:
    assert submitted_night.submit.returncode == 0, submitted_night.submit.stderr
    files = sorted(p.name for p in submitted_night.night.iterdir()
                   if p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith("."))
    assert len(files) == 12
    ledger = _read_table(submitted_night.lake / "documents", ["source_uri", "disposition", "batch_date"])
    per_file = Counter(Path(r["source_uri"]).name for r in ledger)
    assert per_file == Counter(files), "documents must hold exactly one row per listed file"
    assert {str(r["batch_date"]) for r in ledger} == {BATCH_DATE}
    assert {r["disposition"] for r in ledger} <= {"committed", "dead_lettered", "duplicate"}
    policies = _read_table(submitted_night.lake / "policies", ["source_uri", "policy_number"])
    assert policies, "no policy was committed"
    committed = {Path(r["source_uri"]).name for r in ledger if r["disposition"] == "committed"}
    assert {Path(r["source_uri"]).name for r in policies} == committed


def test_the_same_submission_id_is_refused(ray_head: Head, submitted_night: SubmittedNight) -> None:
    assert submitted_night.submit.returncode == 0, submitted_night.submit.stderr
    again = _submit(ray_head, submitted_night.submission_id, submitted_night.entrypoint, "--no-wait")
    assert again.returncode != 0
    assert f"Job with submission_id {submitted_night.submission_id} already exists" in again.stdout + again.stderr
    # ... and the first run's record is untouched.
    assert _job_info(ray_head, submitted_night.submission_id)["status"] == "SUCCEEDED"


def test_job_driver_runs_on_the_project_virtualenv(ray_head: Head, submitted_night: SubmittedNight) -> None:
    """`python` in an entrypoint is whatever the node's PATH gives the job: it must be the venv's."""
    probe = (
        "import json, sys, deltalake, pypdfium2, ray, policy_ray; "
        "print('PROBE ' + json.dumps({'prefix': sys.prefix, 'ray': ray.__version__, "
        "'policy_ray': policy_ray.__file__, 'address': __import__('os').environ.get('RAY_ADDRESS')}))"
    )
    submission_id = f"probe-{secrets.token_hex(4)}"
    done = _submit(ray_head, submission_id, ["python", "-c", probe])  # the CLI shlex-joins it
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr}"
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE "))
    seen = json.loads(line.removeprefix("PROBE "))
    assert Path(seen["prefix"]).resolve() == Path(sys.prefix).resolve()
    assert seen["ray"] == importlib.metadata.version("ray")  # no `import ray` in the pytest process
    # The job's cwd is the unpacked working dir, so the package is the uploaded copy, not the editable
    # install in the repository (jobs/nightly_ingest.py also puts that copy first on sys.path).
    assert "_ray_pkg_" in seen["policy_ray"] and not seen["policy_ray"].startswith(str(REPO))
    assert seen["address"], "inside a submitted job RAY_ADDRESS points the driver at its cluster"
