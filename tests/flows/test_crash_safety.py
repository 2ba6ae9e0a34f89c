"""Kill the night with a real SIGKILL at every failpoint, run it again, and check the oracle: every
input accounted for exactly once, no duplicate rows, `audit verify` passes, and every audit entry
names the Delta version that added its row."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import ray

from policy_ray import failpoints
from policy_ray.adapters.lake import Lake, added_files
from policy_ray.config import Settings
from policy_ray.flows.nightly import BatchBusy, NightRequest, run_night
from policy_ray.flows.verify import verify
from tests.flows.helpers import assert_accounted_once

pytestmark = pytest.mark.usefixtures("ray_session")
NIGHT = date(2026, 12, 1)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from policy_ray.sample import generate_night

    out = tmp_path_factory.mktemp("crash_night")
    generate_night(out, 8, 41, include_hostile=True, scanned_share=0.15)  # one scan, one truncated file
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != "ground_truth.jsonl")


def _row_key(table: str, row: dict[str, Any]) -> str:
    return f"{row['batch_id']}|{row['source_uri']}" if table == "documents" else row["idempotency_key"]


def _entry_key(table: str, entry: dict[str, Any]) -> str:
    if table == "documents":
        return f"{entry['batch_id']}|{json.loads(entry['details'])['source_uri']}"
    return str(entry["idempotency_key"])


def assert_entries_name_their_rows(lake: Lake) -> None:
    """Independently of verify: the version each entry names is the one whose commit added its row."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for e in lake.read("audit_log").to_pylist():
        if e["table_name"] and e["table_version"] is not None:
            groups[(e["table_name"], e["table_version"])].append(e)
    for (table, version), entries in groups.items():
        log = lake.log_file(table, version)
        assert log is not None
        keys = {_row_key(table, r) for _, t in lake.scan(table, version=version, paths=added_files(log))
                for r in t.to_pylist()}
        for e in entries:
            assert _entry_key(table, e) in keys, f"entry {e['seq']} ({e['stage']}) names {table} v{version}"


def _oracle(folder: Path, lake_dir: Path) -> None:
    lake = Lake(str(lake_dir))
    assert_accounted_once(lake, _files(folder))
    report = verify(lake)
    assert report.ok, report.render()
    assert_entries_name_their_rows(lake)


def _settings(**changes: Any) -> Settings:
    return Settings(extractors=1, ocr=False, commit_every_docs=3, document_deadline_s=60,
                    reconcile=False).replace(**changes)


def _ocr_settings() -> Settings:
    return _settings(ocr=True, ocr_workers=1, ocr_engine="tesseract")


def _ingest(night: Path, lake: Path, *, ocr: bool, extra: tuple[str, ...] = ()) -> list[str]:
    command = [sys.executable, "-m", "policy_ray", "ingest", str(night), "--lake", str(lake), "--batch-date",
               NIGHT.isoformat(), "--address", ray.get_runtime_context().gcs_address, "--extractors", "1",
               "--commit-every", "3", "--no-progress", "--no-reconcile", *extra]
    return [*command, "--ocr", "--ocr-workers", "1", "--ocr-engine", "tesseract"] if ocr else [*command, "--no-ocr"]


def _nth(point: str) -> int:
    # Points reached once per micro-batch fire in the second one: the first is then on disk to roll from.
    return 2 if point.startswith(("before_write", "after_write", "before_audit", "after_audit", "between")) else 1


@pytest.mark.parametrize("point", failpoints.POINTS)
def test_a_night_sigkilled_at_a_failpoint_is_finished_by_the_next_run(point: str, tiny_night: Path,
                                                                      tmp_path: Path) -> None:
    lake, trace = tmp_path / "lake", tmp_path / "failpoints.log"
    ocr = point == "ocr_handoff"  # the OCR hand-off only happens with OCR on (the night has one scan)
    env = {**os.environ, failpoints.ENV: f"{point}@{_nth(point)}", failpoints.LOG_ENV: str(trace)}
    killed = subprocess.run(_ingest(tiny_night, lake, ocr=ocr), env=env, cwd=REPO, capture_output=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert failpoints.last_reached(str(trace)) == point
    summary = run_night(NightRequest(str(tiny_night), str(lake), NIGHT, progress=False),
                        _ocr_settings() if ocr else _settings())
    assert summary.listed == len(_files(tiny_night))
    _oracle(tiny_night, lake)


def test_two_processes_started_at_once_write_one_set_of_rows(tiny_night: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    Lake(str(lake)).ensure_tables()
    outs = [tmp_path / f"summary{i}.json" for i in range(2)]
    procs = [subprocess.Popen(_ingest(tiny_night, lake, ocr=False, extra=("--json-summary", str(out))), cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for out in outs]
    codes = [p.wait(timeout=300) for p in procs]
    # One holds the lease and runs; the other exits 3 having written nothing (or, had the first finished
    # before it started, finds nothing left to do).
    if sorted(codes) != [0, 3]:
        assert codes == [0, 0], [p.stderr.read()[-2000:] for p in procs if p.stderr]
        assert min(json.loads(o.read_text())["processed"] for o in outs) == 0
    _oracle(tiny_night, lake)


def test_two_threads_of_one_process_started_at_once_write_one_set_of_rows(tiny_night: Path,
                                                                           tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    request = NightRequest(str(tiny_night), str(lake), NIGHT, progress=False)
    Lake(str(lake)).ensure_tables()
    outcomes: list[Any] = []

    def run() -> None:
        try:
            outcomes.append(run_night(request, _settings()))
        except BatchBusy as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(outcomes) == 2
    busy = [o for o in outcomes if isinstance(o, BatchBusy)]
    done = [o for o in outcomes if not isinstance(o, BatchBusy)]
    assert len(busy) == 1 or (len(done) == 2 and min(s.processed for s in done) == 0)
    _oracle(tiny_night, lake)
