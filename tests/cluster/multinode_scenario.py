"""A night on a multi-node Ray cluster on this machine (`ray.cluster_utils.Cluster`): run by
tests/cluster/test_multinode.py in a subprocess, never in the pytest process (the suite shares one
in-process Ray instance, and `Cluster(connect=True)` calls `ray.init` itself).

    python tests/cluster/multinode_scenario.py {ocr|grow|lose} WORKDIR

Writes the night under WORKDIR/night and the lake under WORKDIR/lake, and prints one JSON line
`RESULT {...}`: the cluster's node ids, the night's summary, and one record per document outcome
(which actor, on which node) as the driver saw it.

The cluster is isolated from any other Ray instance on the machine: its own short temp dir, free ports
for the head's services, a random auth token in the environment (never ~/.ray/auth_token).
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

NIGHT = date(2026, 12, 1)


def _free_ports(n: int) -> list[int]:
    import socket

    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def start_cluster(temp_dir: str, head_cpus: int) -> Any:
    from ray.cluster_utils import Cluster

    gcs, agent, metrics, runtime_env = _free_ports(4)
    return Cluster(initialize_head=True, connect=True, head_node_args={
        "num_cpus": head_cpus, "temp_dir": temp_dir, "include_dashboard": False, "gcs_server_port": gcs,
        "dashboard_agent_listen_port": agent, "metrics_export_port": metrics, "runtime_env_agent_port": runtime_env,
        "object_store_memory": 100 * 1024 * 1024,
    })


def add_node(cluster: Any, temp_dir: str, **args: Any) -> Any:
    return cluster.add_node(temp_dir=temp_dir, object_store_memory=100 * 1024 * 1024, **args)


class Outcomes:
    """Every document outcome the driver logs, with the actor and node that produced it.

    With `pause_at`, the driver stops after that many outcomes until `resume` is set: the main thread
    changes the cluster meanwhile (Ray's Node registers signal handlers, so only the main thread can add
    one). Actors keep working on the documents they hold; the driver just does not hand out more.
    """

    def __init__(self, pause_at: int | None = None) -> None:
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.pause_at = pause_at
        self.paused = threading.Event()
        self.resume = threading.Event()

    def install(self) -> None:
        from policy_ray.flows import nightly

        original = nightly._log_outcome

        def spy(result: Any) -> None:
            worker = result.worker
            with self.lock:
                self.records.append({
                    "file": Path(result.task.source_uri).name, "status": result.status,
                    "attempt": result.task.attempt, "actor": worker.actor_id if worker else None,
                    "node": worker.node_id if worker else None, "at": time.monotonic(),
                    "category": result.failure.category.value if result.failure else None,
                })
                pause = len(self.records) == self.pause_at
            original(result)
            if pause:
                self.paused.set()
                self.resume.wait(timeout=120)

        nightly._log_outcome = spy


def settings(**fields: Any) -> Any:
    """Settings with these fields; ones this checkout's Settings lacks yet (the scaling fields of issue 7)
    are left out, so the scenarios that do not need them still run."""
    import dataclasses

    from policy_ray.config import Settings

    known = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v for k, v in fields.items() if k in known})


def run(scenario: str, work: Path) -> dict[str, Any]:
    import tempfile

    import ray

    from policy_ray.flows.nightly import NightRequest, run_night
    from policy_ray.sample import generate_night

    temp_dir = tempfile.mkdtemp(prefix="prm-", dir="/tmp")
    night, lake = work / "night", work / "lake"
    events: dict[str, float] = {}
    nodes: dict[str, str] = {}
    change: Any = None  # what the main thread does to the cluster while the driver is paused

    if scenario == "ocr":
        # (a) OCR actors only where `ocr` is advertised: the head has CPUs but no `ocr`.
        generate_night(night, 5, 3, include_hostile=False, scanned_share=0.4)
        cluster = start_cluster(temp_dir, head_cpus=2)
        ocr_node = add_node(cluster, temp_dir, num_cpus=2, resources={"ocr": 2})
        nodes = {"head": cluster.head_node.node_id, "ocr": ocr_node.node_id}
        outcomes = Outcomes()
        night_settings = settings(extractors=1, ocr=True, ocr_workers=1, scale_interval_s=1.0)
    elif scenario == "grow":
        # (b) A node joins after the second document: the pool grows onto it.
        generate_night(night, 30, 5, include_hostile=False, scanned_share=0.0)
        cluster = start_cluster(temp_dir, head_cpus=1)
        nodes = {"head": cluster.head_node.node_id}

        def join() -> None:
            nodes["added"] = add_node(cluster, temp_dir, num_cpus=2).node_id

        change, outcomes = join, Outcomes(pause_at=2)
        night_settings = settings(extractors=0, ocr=False, scale_interval_s=1.0)
    elif scenario == "lose":
        # (c) The worker node goes away after the third document, its actors holding documents.
        generate_night(night, 12, 9, include_hostile=False, scanned_share=0.0)
        cluster = start_cluster(temp_dir, head_cpus=1)
        worker = add_node(cluster, temp_dir, num_cpus=2)
        nodes = {"head": cluster.head_node.node_id, "removed": worker.node_id}

        def leave() -> None:
            cluster.remove_node(worker, allow_graceful=False)
            # Resume only once the GCS has marked the node dead, as the autoscaler would see it: the
            # driver's next scaler tick then reads the smaller cluster while documents still wait.
            cluster.wait_for_nodes(timeout=60)

        change, outcomes = leave, Outcomes(pause_at=3)
        night_settings = settings(extractors=0, ocr=False, scale_interval_s=1.0, document_deadline_s=60)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")

    (night / "ground_truth.jsonl").unlink(missing_ok=True)
    outcomes.install()
    done: dict[str, Any] = {}

    def drive_night() -> None:
        try:
            done["summary"] = run_night(NightRequest(str(night), str(lake), NIGHT, progress=False), night_settings)
        except BaseException as exc:
            done["error"] = exc
        finally:
            outcomes.paused.set()  # never leave the main thread waiting

    started = time.monotonic()
    thread = threading.Thread(target=drive_night, name="night", daemon=True)
    thread.start()
    if change is not None:
        outcomes.paused.wait(timeout=180)
        if "summary" not in done and "error" not in done:
            events["change_started_at"] = time.monotonic()
            change()
            events["change_done_at"] = time.monotonic()
        outcomes.resume.set()
    thread.join(timeout=300)
    if "error" in done:
        raise done["error"]
    summary = done["summary"]
    result = {"scenario": scenario, "nodes": {k: v[:12] for k, v in nodes.items()},
              "seconds": time.monotonic() - started, "summary": summary.as_dict(), "records": outcomes.records,
              "events": {k: v - started for k, v in events.items()}}
    for r in result["records"]:
        r["at"] -= started
    ray.shutdown()  # the driver first: Cluster refuses to remove the node it is connected to
    cluster.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)
    return result


if __name__ == "__main__":
    scenario, work = sys.argv[1], Path(sys.argv[2])
    out = run(scenario, work)
    print("RESULT " + json.dumps(out, default=str), flush=True)
