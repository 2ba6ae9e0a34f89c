"""A night on a multi-node Ray cluster on this machine: run by tests/cluster/test_multinode.py in a
subprocess, never in the pytest process (the suite shares one in-process Ray instance, and
`Cluster(connect=True)` calls `ray.init` itself).

    python tests/cluster/multinode_scenario.py {ocr|grow|lose|autoscale} WORKDIR

`ocr`, `grow` and `lose` use `ray.cluster_utils.Cluster` and change the cluster by hand (a node added
or removed mid-night). `autoscale` starts a real autoscaler instead: a `ray start --head` with an
autoscaling config for Ray's `fake_multinode` provider (what `ray.cluster_utils.AutoscalingCluster`
does; see AutoscalingHead for why not that class itself), shaped like cluster.yaml (a head with no CPU,
`cpu_extractor` and `gpu_ocr` node types, min 0). Nothing adds a node by hand: the driver's
`request_resources` and its actors' demand make the autoscaler start them.

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


OBJECT_STORE_BYTES = 80 * 1024 * 1024
# cluster.yaml's node types, scaled to this machine (2 cores): one logical CPU a node.
AUTOSCALING_NODE_TYPES: dict[str, dict[str, Any]] = {
    "cpu_extractor": {"resources": {"CPU": 1, "extractor": 1, "object_store_memory": OBJECT_STORE_BYTES},
                      "node_config": {}, "min_workers": 0, "max_workers": 2},
    "gpu_ocr": {"resources": {"CPU": 1, "ocr": 1, "object_store_memory": OBJECT_STORE_BYTES},
                "node_config": {}, "min_workers": 0, "max_workers": 1},
}


class AutoscalingHead:
    """A head node with a real (v1) autoscaler over Ray's `fake_multinode` provider, whose "instances"
    are raylets started on this machine by the autoscaler itself (provider `create_node`).

    This is `ray.cluster_utils.AutoscalingCluster` made safe for a shared machine: that class runs
    `ray stop --force` (every Ray process of the user, other tests' included) before and after, takes
    Ray's default ports, and reads a base config (fake_multi_node/example.yaml) this Ray's wheel does not
    ship. Here the same config is written whole, the head gets free ports and its own temp dir, and
    stopping it ends only its own processes (SIGTERM to `ray start --block`, then its process group;
    the test sweeps what is left by the marker variable every process of the scenario inherits).
    """

    def __init__(self, temp_dir: str, node_types: dict[str, dict[str, Any]], *, idle_timeout_minutes: float = 0.1):
        import os
        import subprocess

        import ray._private.services

        self.temp_dir = temp_dir
        gcs, agent_http, agent_grpc, runtime_env, metrics, client, node_manager, object_manager = _free_ports(8)
        self.gcs_address = f"{ray._private.services.get_node_ip_address()}:{gcs}"
        self.config = {
            "cluster_name": "policy-ray-test", "max_workers": sum(t["max_workers"] for t in node_types.values()),
            "provider": {"type": "fake_multinode", "use_node_id_as_ip": True, "disable_node_updaters": True,
                         "disable_launch_config_check": True, "launch_multiple": True,
                         "gcs_address": self.gcs_address},
            "available_node_types": {
                "ray.head.default": {"resources": {"CPU": 0}, "node_config": {}, "max_workers": 0},
                **node_types,
            },
            "head_node_type": "ray.head.default", "upscaling_speed": 1.0,
            "idle_timeout_minutes": idle_timeout_minutes, "auth": {}, "docker": {},
            "initialization_commands": [], "setup_commands": [], "head_setup_commands": [],
            "worker_setup_commands": [], "head_start_ray_commands": [], "worker_start_ray_commands": [],
            "file_mounts": {}, "cluster_synced_files": [], "file_mounts_sync_continuously": False,
            "rsync_exclude": [], "rsync_filter": [],
        }
        config_path = Path(temp_dir) / "autoscaling.json"
        config_path.write_text(json.dumps(self.config))
        env = {**os.environ, "RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1"}
        command = [
            str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", f"--port={gcs}",
            "--num-cpus=0", f"--object-store-memory={OBJECT_STORE_BYTES}", "--include-dashboard=false",
            f"--autoscaling-config={config_path}", f"--dashboard-agent-listen-port={agent_http}",
            f"--dashboard-agent-grpc-port={agent_grpc}", f"--runtime-env-agent-port={runtime_env}",
            f"--metrics-export-port={metrics}", f"--ray-client-server-port={client}",
            f"--node-manager-port={node_manager}", f"--object-manager-port={object_manager}",
            "--disable-usage-stats", f"--temp-dir={temp_dir}",
        ]
        self.log = Path(temp_dir) / "head.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=temp_dir, start_new_session=True)
        deadline = time.monotonic() + 90
        while not (Path(temp_dir) / "ray_current_cluster").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the autoscaling head did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def connect(self) -> None:
        import ray

        ray.init(address=self.gcs_address, log_to_driver=False)

    def shutdown(self) -> None:
        import contextlib
        import os
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


class NodeWatch:
    """Polls the GCS's node table: when each node was first seen alive and last seen alive, and what it
    advertised (a dead node's entry no longer says)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.nodes: dict[str, dict[str, Any]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="node-watch", daemon=True)

    def poll(self) -> None:
        import ray

        now = time.monotonic() - self.started
        for node in ray.nodes():
            entry = self.nodes.setdefault(node["NodeID"], {"resources": {}, "joined_at": None, "left_at": None})
            if node["Alive"]:
                entry["resources"] = {k: v for k, v in node["Resources"].items() if not k.startswith("node:")}
                if entry["joined_at"] is None:
                    entry["joined_at"] = now
            elif entry["joined_at"] is not None and entry["left_at"] is None:
                entry["left_at"] = now

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.poll()

    def alive_workers(self) -> int:
        return sum(1 for n in self.nodes.values() if n["joined_at"] is not None and n["left_at"] is None
                   and n["resources"].get("CPU", 0) > 0)

    def advertising(self, resource: str) -> float:
        return sum(n["resources"].get(resource, 0.0) for n in self.nodes.values()
                   if n["joined_at"] is not None and n["left_at"] is None)


def cluster_head_id() -> str:
    import ray

    return str(next(n["NodeID"] for n in ray.nodes() if n["Alive"] and not n["Resources"].get("CPU")))


def standing_request() -> Any:
    """The autoscaler's standing request_resources demand, as the v1 autoscaler reads it from the GCS."""
    from ray._private.ray_constants import AUTOSCALER_RESOURCE_REQUEST_CHANNEL
    from ray.experimental.internal_kv import _internal_kv_get

    raw = _internal_kv_get(AUTOSCALER_RESOURCE_REQUEST_CHANNEL)
    return None if raw is None else json.loads(raw)


class Outcomes:
    """Every document outcome the driver logs, with the actor and node that produced it.

    With `pause_at`, the driver stops after that many outcomes until `resume` is set: the main thread
    changes the cluster meanwhile (Ray's Node registers signal handlers, so only the main thread can add
    one). Actors keep working on the documents they hold; the driver just does not hand out more.
    """

    def __init__(self, pause_at: int | None = None, *, hold: bool = True) -> None:
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.pause_at = pause_at
        self.hold = hold  # False: signal the main thread at `pause_at`, but keep the driver going
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
                    "node_id": node_of_worker(worker.pid) if worker else None,
                    "category": result.failure.category.value if result.failure else None,
                })
                pause = len(self.records) == self.pause_at
            original(result)
            if pause:
                self.paused.set()
                if self.hold:
                    self.resume.wait(timeout=120)

        nightly._log_outcome = spy


_RAYLET_NODE: dict[int, str | None] = {}


def node_of_worker(pid: int) -> str | None:
    """The full node id of the raylet that started worker `pid` (every node runs on this machine).

    The worker reports only the first 12 hex digits of its node id, and the fake_multinode provider's node
    ids (fffff...00001, fffff...00002) agree in far more than that; the raylet's `--node_id` does not."""
    import contextlib

    import psutil

    with contextlib.suppress(psutil.Error):
        raylet = psutil.Process(pid).parent()
        if raylet is not None and raylet.pid not in _RAYLET_NODE:
            _RAYLET_NODE[raylet.pid] = next((a.split("=", 1)[1] for a in raylet.cmdline()
                                             if a.startswith("--node_id=")), None)
        return _RAYLET_NODE.get(raylet.pid) if raylet is not None else None
    return None


def settings(**fields: Any) -> Any:
    """Settings with exactly these fields: a field this checkout's Settings does not have is an error
    (a scenario silently running without the setting it is about would prove nothing)."""
    import dataclasses

    from policy_ray.config import Settings

    unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(Settings)})
    if unknown:
        raise TypeError(f"Settings has no field {', '.join(unknown)}: the scenario cannot run as written")
    return Settings(**fields)


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
    watch: NodeWatch | None = None  # autoscale: the node table, polled through the night
    events_nodes_before: list[str] = []

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
        # (c) The worker node goes away after the third document while its actors hold documents: from the
        # fourth on, every document's first attempt takes SLOW_S, and the driver keeps handing them out.
        generate_night(night, 12, 9, include_hostile=False, scanned_share=0.0)
        slow = {p.name: "slow_once" for p in sorted(night.glob("*.pdf"))[3:]}
        cluster = start_cluster(temp_dir, head_cpus=1)
        worker = add_node(cluster, temp_dir, num_cpus=2)
        nodes = {"head": cluster.head_node.node_id, "removed": worker.node_id}

        def leave() -> None:
            cluster.remove_node(worker, allow_graceful=False)
            # Resume only once the GCS has marked the node dead, as the autoscaler would see it: the
            # driver's next scaler tick then reads the smaller cluster while documents still wait.
            cluster.wait_for_nodes(timeout=60)

        change, outcomes = leave, Outcomes(pause_at=3, hold=False)
        night_settings = settings(extractors=0, ocr=False, scale_interval_s=1.0, document_deadline_s=60,
                                  test_faults=slow)
    elif scenario == "autoscale":
        # (d) cluster.yaml's shape from zero workers: a head with no CPU, nodes only from the autoscaler. The
        # backlog (24 documents, ~72 pages, a 20 s window) asks for 2 extractor bundles at the first tick;
        # the pool's one waiting extractor asks for one node, so the second cpu_extractor node is the
        # request's. OCR actors ask for `ocr` from the start, as configured, so they land only on gpu_ocr.
        generate_night(night, 24, 13, include_hostile=False, scanned_share=0.15)
        cluster = AutoscalingHead(temp_dir, AUTOSCALING_NODE_TYPES)
        cluster.connect()
        watch = NodeWatch(time.monotonic())
        watch.poll()
        nodes = {"head": cluster_head_id()}

        def second_extractor_node() -> None:
            # Nothing is done to the cluster: the driver waits until the autoscaler has started both
            # extractor nodes, so documents are still waiting when the pool grows onto the second.
            deadline = time.monotonic() + 120
            while watch.advertising("extractor") < 2 and time.monotonic() < deadline:
                time.sleep(0.5)

        change, outcomes = second_extractor_node, Outcomes(pause_at=2)
        night_settings = settings(extractors=0, ocr=True, ocr_workers=1, extractor_resource="extractor",
                                  ocr_resource="ocr", scale_interval_s=1.0, night_window_s=20.0,
                                  scale_min_remaining_s=1.0, scale_max_cpus=2, scale_max_ocr_bundles=1)
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
    if watch is not None:
        watch.started = started
        events_nodes_before = sorted(n for n, v in watch.nodes.items() if v["left_at"] is None)
        watch.thread.start()
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
    events["night_done_at"] = time.monotonic()
    after: dict[str, Any] = {}
    if watch is not None:
        # What the night left standing, as the autoscaler reads it; then the idle nodes must go.
        after["standing_request"] = standing_request()
        deadline = time.monotonic() + 90
        while watch.alive_workers() and time.monotonic() < deadline:
            time.sleep(0.5)
        if not watch.alive_workers():
            events["workers_gone_at"] = time.monotonic()
        watch.stop.set()
        watch.thread.join(timeout=5)
        after["cluster_nodes"] = watch.nodes
        after["nodes_before_night"] = events_nodes_before
    result = {"scenario": scenario, "nodes": {k: v[:12] for k, v in nodes.items()},
              "seconds": time.monotonic() - started, "summary": summary.as_dict(), "records": outcomes.records,
              "events": {k: v - started for k, v in events.items()}, **after}
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
