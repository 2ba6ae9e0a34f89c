"""The driver's logs: JSON lines with correlation ids on every document line, and no document content."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policy_ray import logs
from policy_ray.config import Settings
from policy_ray.flows.nightly import NightRequest, run_night


@pytest.mark.usefixtures("ray_session")
def test_a_night_logs_json_lines_with_correlation_ids_and_no_personal_data(
        small_night: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder, truth = small_night
    stream = io.StringIO()
    logs.configure("driver", stream=stream)
    try:
        summary = run_night(NightRequest(str(folder), str(tmp_path / "lake"), date(2026, 12, 1), progress=False),
                            Settings(extractors=2, ocr=False, document_deadline_s=60))
    finally:
        logs.configure("driver")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is one JSON object
    routed = [e for e in lines if e["msg"] == "document routed"]
    assert len(routed) == summary.processed == len(truth)
    for entry in routed:
        assert entry["batch_id"] == summary.batch_id and entry["stage"] == "route" and entry["component"] == "driver"
        assert len(entry["doc"]) == 12 and int(entry["doc"], 16) >= 0  # a hash prefix, never a file name
        assert entry["actor_id"].startswith("extractor-") and entry["node"] and entry["attempt"] == 1
        assert entry["status"] in ("accepted", "dead_letter")
    text = stream.getvalue()
    for record in (t["record"] for t in truth if t.get("record")):
        for field in ("insured_name", "policy_number"):
            assert not record[field] or record[field] not in text, f"a {field} reached the logs"


def test_log_lines_go_above_a_progress_bar_while_it_is_drawn() -> None:
    """On a terminal the bar is redrawn under each log line (tqdm.write), never cut through by one."""
    from policy_ray.flows.nightly import _close_progress, _progress

    stream, above = io.StringIO(), list[str]()
    logs.configure("driver", stream=stream)
    try:
        bar = _progress(True)
        assert logs._line_writer is not None  # set by the bar
        logs.write_lines_with(above.append)  # what _progress set, captured instead of tqdm.write
        logs.logger.bind(batch_id="b1", stage="route").info("document routed")
        _close_progress(bar)
        logs.logger.bind(batch_id="b1", stage="summary").info("night done")
    finally:
        logs.configure("driver")
    assert [json.loads(line)["msg"] for line in above] == ["document routed"]
    assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == ["night done"]
