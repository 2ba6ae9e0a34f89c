"""Crashing, hanging and memory-hungry documents; actor recycling. Real actors, injected faults."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_ray.adapters.lake import Lake
from policy_ray.config import Settings
from policy_ray.flows.nightly import NightRequest, run_night
from tests.flows.helpers import assert_accounted_once, table_rows

pytestmark = pytest.mark.usefixtures("ray_session")
NIGHT = date(2026, 12, 1)


def _digital(truth: list[dict[str, Any]]) -> list[str]:
    return [t["file"] for t in truth if t["expected"] == "accept"]


def _run(folder: Path, lake_dir: Path, **settings: Any) -> Any:
    base = Settings(extractors=2, ocr=False, document_deadline_s=60, commit_every_docs=5, max_attempts=2)
    return run_night(NightRequest(str(folder), str(lake_dir), NIGHT, progress=False), base.replace(**settings))


def test_crashing_and_hanging_documents_become_poison_while_the_night_completes(
        small_night: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder, truth = small_night
    crash, hang, memory, *rest = _digital(truth)
    summary = _run(folder, tmp_path / "lake", document_deadline_s=8,
                   test_faults={crash: "crash", hang: "hang", memory: "memory"})
    lake = Lake(str(tmp_path / "lake"))
    dispositions = assert_accounted_once(lake, sorted(folder.glob("*.pdf")))
    dead = {Path(r["source_uri"]).name: r for r in table_rows(lake, "dead_letters")}
    assert dead[crash]["failure_category"] == "worker_crash"
    assert dead[hang]["failure_category"] == "timeout"
    assert dead[memory]["failure_category"] == "memory_limit"
    for name in (crash, hang, memory):
        assert dead[name]["attempts"] == 2 and not dead[name]["retryable"]
        assert "poison" in dead[name]["error_message"]
    assert all(dispositions[name] == "committed" for name in rest)
    assert summary.pool["poison"] == 3 and summary.pool["retries"] == 3


def test_an_actor_killed_mid_night_loses_and_duplicates_nothing(
        small_night: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder, truth = small_night
    victims = _digital(truth)[:2]
    summary = _run(folder, tmp_path / "lake", test_faults={v: "crash_once" for v in victims})
    lake = Lake(str(tmp_path / "lake"))
    dispositions = assert_accounted_once(lake, sorted(folder.glob("*.pdf")))
    assert all(dispositions[v] == "committed" for v in victims)
    assert summary.pool["recycled"].get("crashed") == 2


def test_actors_are_recycled_after_max_calls(small_night: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder, _ = small_night
    summary = _run(folder, tmp_path / "lake", extractors=1, max_calls=3)
    assert summary.pool["recycled"]["max_calls"] >= 3
    assert summary.pool["distinct_pids"] >= 4  # really new processes, not the same actor renamed


def test_actors_are_recycled_past_the_rss_threshold(small_night: tuple[Path, list[dict[str, Any]]],
                                                    tmp_path: Path) -> None:
    folder, _ = small_night
    # 10% of a 1 GiB ceiling is below any Ray worker's RSS: every document retires its actor.
    summary = _run(folder, tmp_path / "lake", extractors=1, memory_ceiling_mb=1024, rss_recycle_fraction=0.1)
    assert summary.pool["recycled"]["rss"] >= summary.processed - 1
    assert summary.pool["distinct_pids"] >= summary.processed
    assert_accounted_once(Lake(str(tmp_path / "lake")), sorted(folder.glob("*.pdf")))
