"""Figure 6: cold start, the production way.

A Ray head of our own (`ray start --head --block` in a subprocess in its own session, every port picked
free, a fresh --temp-dir, token auth with a random token; as tests/cluster/test_job_submit.py does),
then `ray job submit --working-dir <repo> -- python jobs/nightly_ingest.py NIGHT --lake LAKE ...` on a
small digital night with `--commit-every 1`, so the first micro-batch is the first document. Measured
from the moment `ray job submit` is started until the first Delta version of LAKE/policies appears
(the file _delta_log/00000000000000000001.json: version 0 is the empty table the job creates), and until
the job returns. The head's own start is reported apart. The in-process Ray instance is stopped first
so the head has both cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench import common
from bench.common import Context, Figure, fmt, ratio

BASE_DOCS = 8
SEED = 63
MARKER = "POLICY_RAY_BENCH_HEAD"
HEAD_TIMEOUT_S = 120
JOB_TIMEOUT_S = 300
EXCLUDES = [".venv", ".git", "demo", "bench/out", ".mypy_cache", ".ruff_cache", ".pytest_cache"]


@dataclass
class Head:
    proc: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    temp_dir: Path
    marker: str
    log: Path


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


def _jobs_api_ok(url: str, token: str) -> bool:
    request = urllib.request.Request(f"{url}/api/jobs/")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_head() -> Head:
    ray = common.VENV_BIN / "ray"
    temp_dir = Path(tempfile.mkdtemp(prefix="prb-", dir="/tmp"))  # short: Unix socket paths stay < 108 bytes
    log = temp_dir.with_suffix(".log")
    token = secrets.token_hex(32)
    marker = f"{temp_dir.name}-{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items()
           if k not in {"RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH_TOKEN_PATH", "RAY_JOB_HEADERS"}}
    env.update({"PATH": f"{common.VENV_BIN}{os.pathsep}{env.get('PATH', '')}", "RAY_AUTH_MODE": "token",
                "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0", "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
                "PYTHONUNBUFFERED": "1", MARKER: marker})
    gcs, dash, agent_http, agent_grpc, runtime_env, metrics, client, node_manager, object_manager = _free_ports(9)
    command = [str(ray), "start", "--head", "--block", f"--port={gcs}", "--dashboard-host=127.0.0.1",
               f"--dashboard-port={dash}", "--include-dashboard=true", f"--dashboard-agent-listen-port={agent_http}",
               f"--dashboard-agent-grpc-port={agent_grpc}", f"--runtime-env-agent-port={runtime_env}",
               f"--metrics-export-port={metrics}", f"--ray-client-server-port={client}",
               f"--node-manager-port={node_manager}", f"--object-manager-port={object_manager}", "--num-cpus=2",
               "--disable-usage-stats", f"--temp-dir={temp_dir}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=temp_dir, start_new_session=True)
    head = Head(proc, f"http://127.0.0.1:{dash}", env, temp_dir, marker, log)
    deadline = time.monotonic() + HEAD_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop_head(head)
            raise RuntimeError(f"`ray start --head` exited with {proc.returncode}")
        if (temp_dir / "ray_current_cluster").exists() and _jobs_api_ok(head.url, token):
            return head
        time.sleep(0.25)
    stop_head(head)
    raise RuntimeError(f"the head did not serve the jobs API within {HEAD_TIMEOUT_S} s")


def _ours(process: psutil.Process, head: Head) -> bool:
    with contextlib.suppress(psutil.Error):
        if str(head.temp_dir) in " ".join(process.cmdline()):
            return True
        return process.environ().get(MARKER) == head.marker
    return False


def stop_head(head: Head) -> None:
    """SIGTERM to `ray start --block` (it stops what it started), SIGKILL to its session, then a sweep of any
    process carrying this head's marker (job drivers run in sessions of their own). Never `ray stop`."""
    if head.proc.poll() is None:
        head.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(head.proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        head.proc.wait(timeout=10)
    me = os.getpid()
    for _ in range(3):
        left = [p for p in psutil.process_iter() if p.pid != me and _ours(p, head)]
        if not left:
            break
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(left, timeout=5)
    shutil.rmtree(head.temp_dir, ignore_errors=True)
    head.log.unlink(missing_ok=True)


def submit_and_watch(head: Head, night: Path, lake: Path) -> dict[str, Any]:
    submission_id = f"bench-cold-{secrets.token_hex(4)}"
    command = [str(common.VENV_BIN / "ray"), "job", "submit", "--address", head.url, "--submission-id",
               submission_id, "--working-dir", str(common.REPO), "--runtime-env-json",
               json.dumps({"excludes": EXCLUDES}), "--", "python", "jobs/nightly_ingest.py", str(night), "--lake",
               str(lake), "--batch-date", common.BATCH_DATE.isoformat(), "--no-progress", "--no-ocr",
               "--commit-every", "1"]
    first_version = lake / "policies" / "_delta_log" / f"{1:020d}.json"
    created = lake / "policies" / "_delta_log" / f"{0:020d}.json"
    out_file = lake.parent / "submit.log"
    started = time.perf_counter()
    lake_created = first_commit = None
    with out_file.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=head.env, cwd=common.REPO)
        deadline = started + JOB_TIMEOUT_S
        while proc.poll() is None and time.perf_counter() < deadline:
            now = time.perf_counter()
            if lake_created is None and created.exists():
                lake_created = now - started
            if first_commit is None and first_version.exists():
                first_commit = now - started
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    finished = time.perf_counter() - started
    if first_commit is None and first_version.exists():
        first_commit = finished
    tail = out_file.read_text(errors="replace")[-3000:]
    return {"returncode": proc.returncode, "first_commit_s": first_commit, "lake_created_s": lake_created,
            "job_s": finished, "tail": tail}


def run(ctx: Context) -> Figure:
    fig = Figure("cold_start", "6. Cold start: `ray job submit` to the first committed row")
    if not (common.VENV_BIN / "ray").exists():
        fig.error = f"{common.VENV_BIN / 'ray'} not found"
        return fig
    n = ctx.size(BASE_DOCS, minimum=2)
    folder = common.night(n, SEED, include_hostile=False, scanned_share=0.0)
    ctx.ray_down()
    head_started = time.perf_counter()
    head = start_head()
    head_s = time.perf_counter() - head_started
    try:
        with common.scratch("cold-") as tmp:
            out = submit_and_watch(head, folder, tmp / "lake")
    finally:
        stop_head(head)
    fig.sizes = {"documents": n, "night": f"generate_night(n={n}, seed={SEED}, include_hostile=False, "
                 "scanned_share=0)", "job": "jobs/nightly_ingest.py --no-ocr --commit-every 1 (2 extractors)"}
    first = out["first_commit_s"]
    created = out["lake_created_s"]
    fig.details.append(f"Head start (`ray start --head` until its jobs API answers): {fmt(head_s, 1)} s, not counted "
                       f"below. `ray job submit` -> empty tables created "
                       f"{fmt(created if created is not None else float('nan'), 1)} s -> first version of "
                       f"LAKE/policies {fmt(first if first is not None else float('nan'), 1)} s -> job done "
                       f"{fmt(out['job_s'], 1)} s (exit {out['returncode']}).")
    if out["returncode"] != 0 or first is None:
        fig.details.append("```\n" + out["tail"] + "\n```")
        fig.error = "the submitted job failed or never committed"
        fig.row("submit -> first committed row, s", "failed", "", False)
        return fig
    fig.row("`ray job submit` -> first committed row, seconds", fmt(first, 1))
    fig.row("`ray job submit` -> job done, seconds", fmt(out["job_s"], 1))
    scaling = ctx.shared.get("scaling")
    if scaling:
        warm = scaling["job2_warmup_s"]
        rate = scaling["job2_steady_rate"]
        fig.row("cold start / in-process start to first result (figure 1, job2)", fmt(ratio(first, warm), 1))
        fig.row("cold start, in documents of steady throughput (figure 1, job2)", fmt(first * rate, 0))
    fig.raw = {"head_s": head_s, **{k: v for k, v in out.items() if k != "tail"}}
    return fig
