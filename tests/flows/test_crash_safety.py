"""Kill the night at every failpoint, run it again, and check the oracle: every input accounted for
exactly once, no duplicate rows, and `audit verify` passes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import ray

from policy_ray import failpoints
from policy_ray.adapters.lake import Lake
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
    generate_night(out, 8, 41, include_hostile=True, scanned_share=0.15)
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != "ground_truth.jsonl")


def _oracle(folder: Path, lake_dir: Path) -> None:
    lake = Lake(str(lake_dir))
    assert_accounted_once(lake, _files(folder))
    report = verify(lake)
    assert report.ok, report.render()


def _settings(**changes: Any) -> Settings:
    return Settings(extractors=1, ocr=False, commit_every_docs=3, document_deadline_s=60).replace(**changes)


POINTS = [p for p in failpoints.POINTS if p != "ocr_handoff"]


@pytest.mark.parametrize("point", POINTS)
def test_a_night_killed_at_a_failpoint_is_finished_by_the_next_run(point: str, tiny_night: Path,
                                                                   tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    request = NightRequest(str(tiny_night), str(lake), NIGHT, progress=False)
    nth = 2 if point.startswith(("before_write", "after_write", "before_audit", "after_audit", "between")) else 1
    failpoints.arm(f"{point}@{nth}=raise")
    try:
        with pytest.raises(failpoints.FailpointHit):
            run_night(request, _settings())
    finally:
        failpoints.arm("")
    summary = run_night(request, _settings())
    assert summary.listed == len(_files(tiny_night))
    _oracle(tiny_night, lake)


def test_a_kill_during_the_ocr_hand_off_loses_nothing(tiny_night: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    request = NightRequest(str(tiny_night), str(lake), NIGHT, progress=False)
    failpoints.arm("ocr_handoff=raise")
    try:
        with pytest.raises(failpoints.FailpointHit):
            run_night(request, _settings(ocr=True, ocr_workers=1, ocr_engine="tesseract"))
    finally:
        failpoints.arm("")
    run_night(request, _settings(ocr=True, ocr_workers=1, ocr_engine="tesseract"))
    _oracle(tiny_night, lake)


def test_a_real_sigkill_after_a_data_commit_is_rolled_forward(tiny_night: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    address = ray.get_runtime_context().gcs_address
    command = [sys.executable, "-m", "policy_ray", "ingest", str(tiny_night), "--lake", str(lake), "--batch-date",
               NIGHT.isoformat(), "--address", address, "--extractors", "1", "--no-ocr", "--commit-every", "3",
               "--no-progress"]
    env = {**os.environ, failpoints.ENV: "after_write:policies@2"}
    killed = subprocess.run(command, env=env, cwd=REPO, capture_output=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    again = subprocess.run(command, cwd=REPO, capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    _oracle(tiny_night, lake)


def test_two_copies_of_one_night_started_at_once_write_one_set_of_rows(tiny_night: Path, tmp_path: Path) -> None:
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
    # The second copy fails cleanly, or (if the first had finished) finds nothing to do.
    assert len(busy) == 1 or (len(done) == 2 and min(s.processed for s in done) == 0)
    _oracle(tiny_night, lake)
