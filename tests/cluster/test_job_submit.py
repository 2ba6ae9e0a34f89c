"""The nightly job submitted the production way: `ray job submit` to a real Ray head, checked in the lake.

The commands are the README's: its cluster section's `policy-ray sample`, `ray start --head` and `ray job
submit` lines are read from README.md and run as written, with only this test's paths, dashboard address,
ports and temp dir put in (`readme_commands`); a README edit that breaks them fails here.

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
import re
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
README = REPO / "README.md"
VENV_BIN = Path(sys.executable).parent  # .venv/bin: the tests run with the project's interpreter
RAY = VENV_BIN / "ray"
BATCH_DATE = "2026-12-01"
DOCUMENT_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}  # policy_ray.adapters.source
MARKER = "POLICY_RAY_TEST_HEAD"
# What the README's commands name that this test replaces with its own.
README_DASHBOARD = "http://127.0.0.1:8265"
README_NIGHT = "/tmp/night"
README_LAKE = "/tmp/lake"

# Each step has its own bound, generous for a busy shared machine (2 cores, other test runs): a slow
# machine waits longer, a hung step still fails with its own message.
HEAD_START_TIMEOUT_S = 150
SAMPLE_TIMEOUT_S = 150
JOB_TIMEOUT_S = 300
HEAD_STOP_S = 80  # SIGTERM wait, the group's SIGKILL and the sweeps (_stop_head)
# pytest-timeout counts a module fixture's setup in the first test that uses it and its teardown in the last:
# one test may carry the head's start, the sample, the submitted night and the head's stop.
pytestmark = pytest.mark.timeout(HEAD_START_TIMEOUT_S + SAMPLE_TIMEOUT_S + JOB_TIMEOUT_S + HEAD_STOP_S + 60)


@dataclass(frozen=True)
class ReadmeCommands:
    sample: list[str]  # policy-ray sample /tmp/night ...
    head: list[str]  # ray start --head ...
    submit: list[str]  # ray job submit ... -- python jobs/nightly_ingest.py ...
    logs: list[str]  # ray job logs ...

    @property
    def entrypoint(self) -> list[str]:
        return self.submit[self.submit.index("--") + 1:]

    def option(self, name: str) -> str:
        return self.submit[self.submit.index(name) + 1]


def readme_commands() -> ReadmeCommands:
    """The commands of the README's cluster section, as a shell would split them."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    block = next(b for b in blocks if "ray job submit" in b)
    lines = [shlex.split(line, comments=True) for line in block.replace("\\\n", " ").splitlines()]

    def starting(*words: str) -> list[str]:
        found = [line for line in lines if line[: len(words)] == list(words)]
        assert len(found) == 1, f"README.md: expected one `{' '.join(words)}` line, found {found}"
        return found[0]

    return ReadmeCommands(starting("policy-ray", "sample"), starting("ray", "start"), starting("ray", "job", "submit"),
                          starting("ray", "job", "logs"))


def substituted(command: list[str], replacements: dict[str, str]) -> list[str]:
    """`command` with each of `replacements` (a path or address the README names) put in; each must be there
    exactly once, so a README that stops naming one fails here instead of running something else."""
    for old in replacements:
        assert command.count(old) == 1, f"README.md command {command} should name {old!r} once"
    return [replacements.get(word, word) for word in command]


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
    readme = readme_commands().head
    # The README's `ray start --head ...` as written; what is added only keeps this head apart from any
    # other Ray on the machine (its own ports, temp dir) and in the foreground (--block) so it can be stopped.
    isolation = [
        "--block", f"--port={gcs}",
        "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}", "--include-dashboard=true",
        f"--dashboard-agent-listen-port={agent_http}", f"--dashboard-agent-grpc-port={agent_grpc}",
        f"--runtime-env-agent-port={runtime_env}", f"--metrics-export-port={metrics}",
        f"--ray-client-server-port={client}", f"--node-manager-port={node_manager}",
        f"--object-manager-port={object_manager}", "--disable-usage-stats", f"--temp-dir={temp_dir}",
    ]
    added = {flag.split("=", 1)[0] for flag in isolation}
    assert not added & {word.split("=", 1)[0] for word in readme}, f"README's head command sets {added & set(readme)}"
    command = [*readme, *isolation]  # `ray` is the virtualenv's: VENV_BIN leads the PATH in `env`
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
    # The command's first word is looked up on `env`'s PATH (the virtualenv's bin first), as a shell would.
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
    """The README's `ray job submit` with another submission id and entrypoint (and `extra` options)."""
    readme = readme_commands()
    options = substituted(readme.submit[: readme.submit.index("--")], {README_DASHBOARD: head.dashboard_url})
    options[options.index("--submission-id") + 1] = submission_id
    return _run([*options, *extra, "--", *entrypoint], head.env)


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
    readme = readme_commands()
    root = tmp_path_factory.mktemp("submitted")
    night, lake = root / "night", root / "lake"
    sample = _run(substituted(readme.sample, {README_NIGHT: str(night)}), ray_head.env, timeout=SAMPLE_TIMEOUT_S)
    assert sample.returncode == 0, sample.stderr
    # The README's command, word for word but for the dashboard's address and the night's folders. Its
    # submission id is the runbook's nightly-<date>: this head is new, so nothing was submitted under it.
    submit_command = substituted(readme.submit, {README_DASHBOARD: ray_head.dashboard_url,
                                                 README_NIGHT: str(night), README_LAKE: str(lake)})
    started = time.monotonic()
    submit = _run(submit_command, ray_head.env, timeout=JOB_TIMEOUT_S)
    entrypoint = submit_command[submit_command.index("--") + 1:]
    return SubmittedNight(readme.option("--submission-id"), night, lake, entrypoint, submit,
                          time.monotonic() - started)


def _read_table(path: Path, columns: list[str]) -> list[dict[str, Any]]:
    from policy_ray.adapters.lake import Lake

    # Through the adapter: its reads avoid the ways deltalake's own readers abort at interpreter exit.
    return Lake(str(path.parent)).read(path.name, columns).to_pylist()


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
    readme = readme_commands()
    assert submitted_night.submission_id == f"nightly-{BATCH_DATE}"
    info = _job_info(ray_head, submitted_night.submission_id)
    assert info["status"] == "SUCCEEDED", info
    assert info["entrypoint"] == shlex.join(submitted_night.entrypoint)  # what the CLI sends
    assert submitted_night.entrypoint[:2] == ["python", "jobs/nightly_ingest.py"]
    assert info["runtime_env"]["excludes"] == json.loads(readme.option("--runtime-env-json"))["excludes"]
    # The working dir travelled as a package the head stored (gcs://_ray_pkg_<hash>.zip).
    assert info["runtime_env"]["working_dir"].startswith("gcs://")
    # The driver's own summary, tailed back by the CLI ...
    documents = int(readme.sample[readme.sample.index("--n") + 1])
    assert f"listed {documents}:" in done.stdout, done.stdout[-4000:]
    # ... and by the README's `ray job logs` line.
    logs = _run(substituted(readme.logs, {README_DASHBOARD: ray_head.dashboard_url}), ray_head.env, timeout=120)
    assert logs.returncode == 0, logs.stderr
    assert f"listed {documents}:" in logs.stdout, logs.stdout[-4000:]


def test_every_file_of_the_night_has_exactly_one_ledger_row(submitted_night: SubmittedNight) -> None:
    assert submitted_night.submit.returncode == 0, submitted_night.submit.stderr
    files = sorted(p.name for p in submitted_night.night.iterdir()
                   if p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith("."))
    readme = readme_commands()
    assert len(files) == int(readme.sample[readme.sample.index("--n") + 1])
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
        "import json, os, sys, deltalake, pypdfium2, ray, policy_ray; "
        "print('PROBE ' + json.dumps({'prefix': sys.prefix, 'ray': ray.__version__, "
        "'policy_ray': policy_ray.__file__, 'address': os.environ.get('RAY_ADDRESS'), "
        f"'marker': os.environ.get({MARKER!r})}}))"
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
    # A variable set for `ray start --head` reaches the job's driver: how cluster.yaml's head hands its jobs
    # POLICY_RAY_EXTRACTOR_RESOURCE, POLICY_RAY_OCR_RESOURCE and POLICY_RAY_OCR_GPUS.
    assert seen["marker"] == ray_head.env[MARKER]
