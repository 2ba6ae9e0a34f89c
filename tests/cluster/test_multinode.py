"""More than one Ray node, on this machine: OCR placement, a node joining and a node lost mid-night, and
a backlog that makes a real autoscaler grow the cluster from zero workers.

Each scenario runs in a subprocess (tests/cluster/multinode_scenario.py) that builds its own cluster
(`ray.cluster_utils.Cluster`, or a head with an autoscaler over Ray's `fake_multinode` provider), runs a
small night and prints its outcomes as JSON; this process never starts or joins that Ray (the rest of
the suite shares one in-process instance, see tests/conftest.py). The lake it wrote is then checked here
with the same oracle as the single-node tests.

Cleanup: the subprocess runs in its own session with a marker variable in its environment; whatever
is left after it exits or times out (raylets, GCS, workers of its cluster) is killed by that marker or
by its temp dir on the command line, never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest

from policy_ray.adapters.lake import Lake
from policy_ray.flows.verify import verify
from tests.flows.helpers import assert_accounted_once

SCRIPT = Path(__file__).with_name("multinode_scenario.py")
REPO = SCRIPT.parents[2]
MARKER = "POLICY_RAY_TEST_MULTINODE"
SCENARIO_TIMEOUT_S = 240


def _ours(process: psutil.Process, marker: str) -> bool:
    with contextlib.suppress(psutil.Error):
        return process.environ().get(MARKER) == marker
    return False


def _sweep(marker: str) -> None:
    me = os.getpid()
    for _ in range(3):
        left = [p for p in psutil.process_iter() if p.pid != me and _ours(p, marker)]
        if not left:
            return
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(left, timeout=5)


def run_scenario(name: str, work: Path) -> dict[str, Any]:
    marker = f"{name}-{os.getpid()}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if k not in {"RAY_ADDRESS", "RAY_API_SERVER_ADDRESS"}}
    env.update({
        MARKER: marker,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": os.urandom(32).hex(),  # never ~/.ray/auth_token
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
        "PYTHONUNBUFFERED": "1",
    })
    log = work / f"{name}.log"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(SCRIPT), name, str(work)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=REPO, start_new_session=True)
    try:
        proc.wait(timeout=SCENARIO_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        pytest.fail(f"scenario {name} ran past {SCENARIO_TIMEOUT_S}s:\n{log.read_text(errors='replace')[-4000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        _sweep(marker)
    text = log.read_text(errors="replace")
    line = next((x for x in reversed(text.splitlines()) if x.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, f"scenario {name} failed ({proc.returncode}):\n{text[-6000:]}"
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["wall_s"] = time.monotonic() - started
    return result


def _documents(work: Path) -> list[Path]:
    return sorted((work / "night").glob("*.pdf"))


def _check_lake(work: Path) -> dict[str, str]:
    lake = Lake(str(work / "lake"))
    dispositions = assert_accounted_once(lake, _documents(work))
    report = verify(lake)
    assert report.ok, report.render()
    return dispositions


def test_ocr_actors_run_only_on_nodes_that_advertise_ocr(tmp_path: Path) -> None:
    result = run_scenario("ocr", tmp_path)
    nodes = result["nodes"]
    ocr_results = [r for r in result["records"] if (r["actor"] or "").startswith("ocr-")]
    assert ocr_results, f"no document went through OCR: {result['records']}"
    assert {r["node"] for r in ocr_results} == {nodes["ocr"]}, ocr_results
    assert result["summary"]["sent_to_ocr"] == len(ocr_results)
    _check_lake(tmp_path)


def test_extractors_spread_onto_a_node_added_mid_night(tmp_path: Path) -> None:
    result = run_scenario("grow", tmp_path)
    nodes, records = result["nodes"], result["records"]
    added_at = result["events"]["change_done_at"]
    assert "added" in nodes, result["events"]
    by_node = Counter(r["node"] for r in records)
    assert by_node[nodes["added"]] > 0, f"nothing ran on the node that joined: {by_node}"
    assert all(r["node"] == nodes["head"] for r in records[:2]), "the night started on the head alone"
    assert min(r["at"] for r in records if r["node"] == nodes["added"]) > added_at
    scaling = result["summary"]["scaling"]
    assert scaling["grown"].get("extractor", 0) >= 1
    # The backlog was asked for (no autoscaler acts on it here, the call itself must have worked) in the
    # extractor's shape, and released at the end.
    assert scaling["requests_sent"] > 0 and scaling["requests_failed"] == 0, scaling
    assert scaling["bundle_shapes"]["extractor"] == {"CPU": 1.0, "extractor": 1.0}
    assert scaling["requests"][0]["extractors"] >= 1 and scaling["last_request"] == {"extractors": 0, "ocr": 0}
    assert result["summary"]["pool"]["poison"] == 0
    dispositions = _check_lake(tmp_path)
    assert set(dispositions.values()) == {"committed"}


def test_losing_a_node_mid_night_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = run_scenario("lose", tmp_path)
    nodes, records, summary = result["nodes"], result["records"], result["summary"]
    assert "change_done_at" in result["events"], "the worker node was not removed"
    assert any(r["node"] == nodes["removed"] for r in records), "nothing ran on the node before it was removed"
    gone = result["events"]["change_done_at"]
    assert not any(r["node"] == nodes["removed"] and r["at"] > gone + 1 for r in records)
    # Documents in flight on the lost node were retried on live actors; none became poison.
    assert summary["pool"]["poison"] == 0, summary["pool"]
    assert summary["pool"]["recycled"].get("crashed", 0) + summary["pool"]["recycled"].get("errored", 0) >= 1
    # The pool shrank to what the head holds: the replacements waiting for the lost node were withdrawn.
    assert summary["scaling"]["shrunk"].get("extractor", 0) >= 1, summary["scaling"]
    assert summary["scaling"]["requests_sent"] > 0 and summary["scaling"]["requests_failed"] == 0
    assert summary["scaling"]["last_request"] == {"extractors": 0, "ocr": 0}
    dispositions = _check_lake(tmp_path)
    assert set(dispositions.values()) == {"committed"}, dispositions
    assert summary["listed"] == len(_documents(tmp_path)) and summary["processed"] == len(_documents(tmp_path))


def _most_alive_at_once(nodes: dict[str, Any], chosen: set[str]) -> int:
    """The most of `chosen` nodes alive at the same moment, from when each joined and left."""
    events = sorted(e for n in chosen for e in ((nodes[n]["joined_at"], 1),
                                                (nodes[n].get("left_at") or float("inf"), -1)))
    alive = most = 0
    for _, step in events:
        alive += step
        most = max(most, alive)
    return most


def test_a_backlog_makes_the_autoscaler_grow_the_cluster_and_the_pools_use_it(tmp_path: Path) -> None:
    """cluster.yaml's shape from zero workers: every worker node is one the autoscaler started; the driver's
    request asked for both extractor nodes, the pool grew onto the second, OCR ran only on the node
    advertising `ocr` (none existed when its actor was created), and the released request let the
    autoscaler remove the idle nodes."""
    result = run_scenario("autoscale", tmp_path)
    nodes, records, summary = result["cluster_nodes"], result["records"], result["summary"]
    head = next(n for n in nodes if n.startswith(result["nodes"]["head"]))
    assert result["nodes_before_night"] == [head], "a worker node existed before the night"
    assert not nodes[head]["resources"].get("CPU"), nodes[head]  # as in cluster.yaml: no work on the head
    workers = {n: v for n, v in nodes.items() if n != head}
    extractor_nodes = {n for n, v in workers.items() if v["resources"].get("extractor")}
    ocr_nodes = {n for n, v in workers.items() if v["resources"].get("ocr")}
    # The autoscaler may retire an idle node and start another later in the night (its idle timeout is short
    # here), so count nodes alive at once: both extractor nodes the type allows, and the one OCR node.
    assert _most_alive_at_once(workers, extractor_nodes) == 2 and _most_alive_at_once(workers, ocr_nodes) == 1, workers

    # The pools used the new nodes, each kind only its own.
    extracted = Counter(r["node_id"] for r in records if (r["actor"] or "").startswith("extractor-"))
    recognized = [r for r in records if (r["actor"] or "").startswith("ocr-")]
    assert set(extracted) <= extractor_nodes and len(extracted) >= 2, f"extractors ran on {extracted}"
    assert recognized, f"no document went through OCR: {records}"
    assert {r["node_id"] for r in recognized} <= ocr_nodes, recognized
    assert summary["sent_to_ocr"] == len(recognized)

    # The autoscaler was asked, in the actors' shapes, for what the backlog needed, and released.
    scaling = summary["scaling"]
    assert scaling["requests_sent"] > 0 and scaling["requests_failed"] == 0 and scaling["last_error"] is None
    assert scaling["bundle_shapes"] == {"extractor": {"CPU": 1.0, "extractor": 1.0}, "ocr": {"CPU": 1.0, "ocr": 1.0}}
    assert scaling["requests"][0]["extractors"] == 2, scaling["requests"]  # the backlog's need at the first tick
    assert scaling["peak_request"] == {"extractors": 2, "ocr": 1}
    assert scaling["last_request"] == {"extractors": 0, "ocr": 0}
    assert result["standing_request"] == [], "the night left a request standing"
    assert scaling["grown"].get("extractor", 0) >= 1
    assert scaling["backlog_peak"]["documents"] >= 20 and scaling["backlog_peak"]["pages"] > 0, scaling
    assert scaling["pages_finished"] > 0
    # With nothing asked for any more, the autoscaler removed the idle workers.
    assert "workers_gone_at" in result["events"], workers
    assert summary["pool"]["poison"] == 0 and summary["ocr_pool"]["poison"] == 0
    _check_lake(tmp_path)


def test_scenario_settings_refuse_a_field_settings_does_not_have() -> None:
    from tests.cluster.multinode_scenario import settings

    assert settings(ocr_resource="ocr", scale_min_remaining_s=1.0).ocr_resource == "ocr"
    with pytest.raises(TypeError, match="no field scale_max_gpus"):
        settings(extractors=1, scale_max_gpus=2)
