"""Reconciliation: a clean night passes; a carrier that moved its fields gets the night quarantined
with the template named; release is audited; drift between tables is reported."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from deltalake import DeltaTable

from policy_ray.adapters.lake import Lake
from policy_ray.config import Settings
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.flows.query import policies_current
from policy_ray.flows.reconcile import load_config, reconcile_all, reconcile_batch, release
from policy_ray.flows.verify import verify
from policy_ray.sample import draw, generate_night

pytestmark = pytest.mark.usefixtures("ray_session")
CONFIG = dataclasses.replace(load_config(), fill_min_documents=2)
MOVED = {"Policy Number:": "Contract Reference:", "Named Insured:": "Client of Record:"}


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory: pytest.TempPathFactory, ray_session: None) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("reconcile")
    lake = root / "lake"
    settings = Settings(extractors=2, ocr=False, reconcile=False, commit_every_docs=50)
    batch_ids = []
    for day, seed in ((1, 51), (2, 52)):
        night = root / f"night{day}"
        generate_night(night, 20, seed, include_hostile=False, scanned_share=0.0)
        batch_ids.append(run_night(NightRequest(str(night), str(lake), date(2026, 12, day), progress=False),
                                   settings).batch_id)
    # Night 3: Harborline moved its fields to new captions overnight.
    changed = root / "night3"
    original = draw.labelled

    def moved(c: Any, x: float, y: float, label: str, value: str, size: float = 9) -> float:
        return original(c, x, y, MOVED.get(label, label), value, size)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(draw, "labelled", moved)
        generate_night(changed, 20, 53, include_hostile=False, scanned_share=0.0)
    batch_ids.append(run_night(NightRequest(str(changed), str(lake), date(2026, 12, 3), progress=False),
                               settings).batch_id)
    return {"lake": lake, "batches": batch_ids}


def test_a_clean_night_passes(three_nights: dict[str, Any]) -> None:
    result = reconcile_batch(Lake(str(three_nights["lake"])), three_nights["batches"][1], config=CONFIG,
                             check_drift=True)
    assert result.status == "completed" and not result.deviations and not result.drift


def test_a_carrier_that_moved_its_fields_gets_the_night_quarantined(three_nights: dict[str, Any]) -> None:
    lake = Lake(str(three_nights["lake"]))
    batch_id = three_nights["batches"][2]
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    result = reconcile_batch(lake, batch_id, config=CONFIG, webhook=f"http://127.0.0.1:{server.server_port}/alert")
    server.server_close()
    assert result.status == "quarantined"
    assert any(d.check == "fill_rate" and d.subject.startswith("harborline_dec.") for d in result.deviations)
    assert "harborline_dec" in (lake.batch_row(batch_id) or {})["status_reason"]
    assert result.report and "harborline_dec" in Path(result.report).read_text()
    assert _Hook.received and _Hook.received[0]["batch_id"] == batch_id
    # Its rows stay, flagged by the batch: the current view leaves them out.
    current = {r["batch_id"] for r in policies_current(str(three_nights["lake"])).to_pylist()}
    assert batch_id not in current and three_nights["batches"][0] in current
    stages = lake.read("audit_log", ["stage"], batch_id=batch_id).column(0).to_pylist()
    assert "batch_quarantined" in stages

    release(lake, batch_id, "carrier confirmed the new layout; template update filed")
    row = lake.batch_row(batch_id) or {}
    assert row["status"] == "released" and "template update" in row["status_reason"]
    assert "batch_released" in lake.read("audit_log", ["stage"], batch_id=batch_id).column(0).to_pylist()
    assert verify(lake).ok
    with pytest.raises(ValueError):
        release(lake, batch_id, "twice")


def test_the_sweep_reports_drift_between_tables(three_nights: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "lake"
    shutil.copytree(three_nights["lake"], copy)
    lake = Lake(str(copy))
    key = lake.read("policies", ["idempotency_key"], batch_id=three_nights["batches"][0]).column(0)[0].as_py()
    DeltaTable(str(copy / "policies")).delete(predicate=f"idempotency_key = '{key}'")
    results = {r.batch_id: r for r in reconcile_all(lake, config=CONFIG)}
    assert any("deleted" in d and key[:16] in d for d in results[three_nights["batches"][0]].drift)
    assert not results[three_nights["batches"][1]].drift
