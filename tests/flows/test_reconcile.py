"""Reconciliation: a clean night passes; a carrier that moved its fields gets the night quarantined
with the template named (ERROR record, webhook body, forensic report); a quarantine or release
survives a re-run and is judged again only when the figures change; a running batch is never judged;
tables edited to drift are reported; the OCR share comes from the tables."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from loguru import logger

from policy_ray import failpoints
from policy_ray.adapters.lake import Lake
from policy_ray.config import DEFAULTS_DIR, Settings
from policy_ray.core.reconcile import Deviation
from policy_ray.flows.nightly import NightRequest, run_night
from policy_ray.flows.query import policies_current
from policy_ray.flows.reconcile import exit_code, load_config, reconcile_all, reconcile_batch, release
from policy_ray.flows.reconcile_figures import baseline_batches, gather
from policy_ray.flows.verify import verify
from policy_ray.sample import draw, generate_night
from tests.conftest import read_truth

pytestmark = pytest.mark.usefixtures("ray_session")
CONFIG = dataclasses.replace(load_config(), fill_min_documents=2)
MOVED = {"Policy Number:": "Contract Reference:", "Named Insured:": "Client of Record:"}
SETTINGS = Settings(extractors=2, ocr=False, reconcile=False, commit_every_docs=50)


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append({"path": self.path, "content_type": self.headers["Content-Type"],
                               "body": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory: pytest.TempPathFactory, ray_session: None) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("reconcile")
    lake = root / "lake"
    batch_ids = []
    for day, seed in ((1, 51), (2, 52)):
        night = root / f"night{day}"
        generate_night(night, 20, seed, include_hostile=False, scanned_share=0.0)
        batch_ids.append(run_night(NightRequest(str(night), str(lake), date(2026, 12, day), progress=False),
                                   SETTINGS).batch_id)
    # Night 3: Harborline moved its fields to new captions overnight.
    changed = root / "night3"
    original = draw.labelled

    def moved(c: Any, x: float, y: float, label: str, value: str, size: float = 9) -> float:
        return original(c, x, y, MOVED.get(label, label), value, size)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(draw, "labelled", moved)
        generate_night(changed, 20, 53, include_hostile=False, scanned_share=0.0)
    batch_ids.append(run_night(NightRequest(str(changed), str(lake), date(2026, 12, 3), progress=False),
                               SETTINGS).batch_id)
    return {"lake": lake, "batches": batch_ids, "nights": [root / f"night{d}" for d in (1, 2, 3)]}


def _copy(three_nights: dict[str, Any], tmp_path: Path) -> Lake:
    """Each test that writes gets its own copy of the three nights (reports land in tmp_path/reports)."""
    shutil.copytree(three_nights["lake"], tmp_path / "lake")
    return Lake(str(tmp_path / "lake"))


@pytest.fixture()
def errors() -> Iterator[list[dict[str, Any]]]:
    """ERROR records logged while the test runs (a loguru sink of the test's own)."""
    records: list[dict[str, Any]] = []
    sink = logger.add(lambda message: records.append(dict(message.record)), level="ERROR")
    yield records
    logger.remove(sink)


def _stages(lake: Lake, batch_id: str) -> list[str]:
    return lake.read("audit_log", ["stage"], batch_id=batch_id).column(0).to_pylist()


def test_a_clean_night_passes(three_nights: dict[str, Any]) -> None:
    result = reconcile_batch(Lake(str(three_nights["lake"])), three_nights["batches"][1], config=CONFIG)
    assert result.status == "completed" and not result.deviations and not result.drift
    assert exit_code([result]) == 0


def test_a_carrier_that_moved_its_fields_gets_the_night_quarantined(three_nights: dict[str, Any], tmp_path: Path,
                                                                    errors: list[dict[str, Any]]) -> None:
    lake = _copy(three_nights, tmp_path)
    batch_id = three_nights["batches"][2]
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received.clear()
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/alert"
    result = reconcile_batch(lake, batch_id, config=CONFIG, webhook=url)
    thread.join(10)
    server.server_close()
    assert result.status == "quarantined" and result.new and exit_code([result]) == 1
    lost = [d for d in result.deviations if d.check == "fill_rate" and d.subject.startswith("harborline_dec.")]
    assert lost, result.render()
    assert "harborline_dec" in (lake.batch_row(batch_id) or {})["status_reason"]

    # The alert: an ERROR record with the reasons, and the webhook's JSON body.
    [record] = [r for r in errors if r["message"] == "batch quarantined"]
    assert record["extra"]["batch_id"] == batch_id and record["extra"]["report"] == result.report
    assert any("harborline_dec" in reason for reason in record["extra"]["reasons"])
    assert _Hook.received == [{"path": "/alert", "content_type": "application/json", "body": {
        "event": "batch_quarantined", "batch_id": batch_id, "report": result.report,
        "reasons": [{"check": d.check, "subject": d.subject, "message": d.message} for d in result.deviations]}}]

    # The report: the figures, the deviations, and the template's own documents with what they miss.
    assert result.report == str(tmp_path / "reports" / f"{batch_id}-reconcile.md")
    report = Path(result.report).read_text()
    section = report.split("## Documents of template harborline_dec", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if ".pdf" in line]
    assert rows and all("policy_number" in line and "insured_name" in line for line in rows[:1]), section

    # Its rows stay, flagged by the batch: the current view leaves them out.
    current = {r["batch_id"] for r in policies_current(lake.uri).to_pylist()}
    assert batch_id not in current and three_nights["batches"][0] in current
    assert _stages(lake, batch_id).count("batch_quarantined") == 1

    # Reconciling it again reports, but is not news: no second entry, alert or exit 1.
    again = reconcile_batch(lake, batch_id, config=CONFIG, webhook=url)
    assert again.status == "quarantined" and again.deviations and not again.new and exit_code([again]) == 0
    assert _stages(lake, batch_id).count("batch_quarantined") == 1
    assert [r["message"] for r in errors] == ["batch quarantined"]

    release(lake, batch_id, "carrier confirmed the new layout; template update filed", config=CONFIG)
    row = lake.batch_row(batch_id) or {}
    assert row["status"] == "released" and "template update" in row["status_reason"]
    assert "batch_released" in _stages(lake, batch_id)
    assert verify(lake).ok
    with pytest.raises(ValueError):
        release(lake, batch_id, "twice", config=CONFIG)
    # Released on these very figures: the sweep does not put it back into quarantine.
    swept = {r.batch_id: r for r in reconcile_all(lake, config=CONFIG)}
    assert swept[batch_id].status == "released" and swept[batch_id].deviations and not swept[batch_id].new
    assert exit_code(swept.values()) == 0
    assert _stages(lake, batch_id).count("batch_quarantined") == 1


def test_a_rerun_keeps_the_review_until_the_figures_change(three_nights: dict[str, Any], tmp_path: Path) -> None:
    lake = _copy(three_nights, tmp_path)
    batch_id = three_nights["batches"][2]
    night3 = three_nights["nights"][2]
    request = NightRequest(str(night3), lake.uri, date(2026, 12, 3), progress=False)
    assert reconcile_batch(lake, batch_id, config=CONFIG).status == "quarantined"

    # A re-run without reconciliation no longer undoes the quarantine.
    run_night(request, SETTINGS)
    row = lake.batch_row(batch_id) or {}
    assert row["status"] == "quarantined" and "harborline_dec" in row["status_reason"] and row["run_count"] == 2

    release(lake, batch_id, "reviewed", config=CONFIG)
    summary = run_night(request, SETTINGS.replace(reconcile=True))  # end-of-night reconcile, default config
    assert summary.reconcile["status"] == "released" and summary.reconcile["drift"] == []
    assert (lake.batch_row(batch_id) or {})["status"] == "released"
    assert reconcile_batch(lake, batch_id, config=CONFIG).status == "released"

    # A late delivery lands in the night's folder: the re-run changes the figures, which still deviate.
    late = night3 / "zz-late-delivery.pdf"
    shutil.copy(next(three_nights["nights"][0].glob("*.pdf")), late)
    try:
        run_night(request, SETTINGS)
    finally:
        late.unlink()
    assert (lake.batch_row(batch_id) or {})["status"] == "released"
    result = reconcile_batch(lake, batch_id, config=CONFIG)
    assert result.status == "quarantined" and result.new
    stages = _stages(lake, batch_id)
    assert (stages.count("batch_quarantined"), stages.count("batch_released")) == (2, 1)
    assert verify(lake).ok


def test_a_running_batch_is_never_judged_and_the_ocr_share_comes_from_the_tables(tmp_path: Path) -> None:
    night = tmp_path / "night"
    truth = read_truth(generate_night(night, 6, 71, include_hostile=False, scanned_share=0.5))
    assert sum(t["scanned"] for t in truth) >= 2
    routing = tmp_path / "routing.toml"  # OCR "down": every scan becomes an ocr_circuit_open dead letter
    routing.write_text((DEFAULTS_DIR / "routing.toml").read_text().replace("max_queue_depth = 1000",
                                                                            "max_queue_depth = 0"))
    settings = Settings(extractors=2, ocr_workers=1, ocr_engine="tesseract", routing_path=routing, reconcile=False,
                        ocr_breaker_name=f"b-{uuid.uuid4().hex[:6]}")
    request = NightRequest(str(night), str(tmp_path / "lake"), date(2026, 12, 1), progress=False)
    failpoints.arm("before_batch_close=raise")
    try:
        with pytest.raises(failpoints.FailpointHit):
            run_night(request, settings)
    finally:
        failpoints.arm("")
    lake = Lake(str(tmp_path / "lake"))
    [batch] = lake.read("batches").to_pylist()
    assert batch["status"] == "running"
    for result in (reconcile_batch(lake, batch["batch_id"]), *reconcile_all(lake)):
        assert result.status == "running" and not result.deviations and not result.new and not result.report
    assert "batch_quarantined" not in _stages(lake, batch["batch_id"])

    # The re-run finds everything done: this run sent nothing to OCR, the night did.
    summary = run_night(request, settings.replace(reconcile=True))
    assert summary.reconcile["status"] == "completed" and summary.reconcile["drift"] == []
    row = lake.batch_row(batch["batch_id"]) or {}
    assert row["status"] == "completed" and row["sent_to_ocr"] == 0
    circuit_open = lake.read("dead_letters", ["failure_category"]).column(0).to_pylist().count("ocr_circuit_open")
    read_by_ocr = lake.read("policies", ["extraction_path"]).column(0).to_pylist().count("ocr")
    assert circuit_open >= 1 and circuit_open + read_by_ocr >= 2
    assert gather(lake, row, load_config()).ocr == circuit_open + read_by_ocr


def test_a_batch_marked_done_with_a_document_missing(three_nights: dict[str, Any], tmp_path: Path) -> None:
    lake = _copy(three_nights, tmp_path)
    batch_id = three_nights["batches"][0]
    uri = lake.read("documents", ["source_uri"], batch_id=batch_id).column(0)[0].as_py()
    DeltaTable(str(Path(lake.uri) / "documents")).delete(predicate=f"source_uri = '{uri}'")
    result = reconcile_batch(lake, batch_id, config=CONFIG)
    messages = [d.message for d in result.deviations if d.check == "completeness"]
    assert any("1 of 20 listed documents have no ledger row" in m for m in messages), result.render()
    assert result.status == "quarantined" and result.new


def test_a_row_without_its_audit_entry(three_nights: dict[str, Any], tmp_path: Path) -> None:
    lake = _copy(three_nights, tmp_path)
    batch_id = three_nights["batches"][0]
    policies = lake.read("policies", batch_id=batch_id)
    forged = policies.slice(0, 1).to_pylist()[0] | {"idempotency_key": "f" * 64, "doc_sha256": "e" * 64}
    write_deltalake(lake.table("policies"), pa.Table.from_pylist([forged], schema=policies.schema), mode="append")
    result = reconcile_batch(lake, batch_id, config=CONFIG)
    assert any(d.subject == "rows" and "not in the ledger" in d.message and "ffffffffffffffff" in d.message
               for d in result.deviations), result.render()
    assert any("not in the audit trail" in d and "ffffffffffffffff" in d for d in result.drift)
    assert result.status == "quarantined" and exit_code([result]) == 1


def test_an_audit_entry_without_its_row(three_nights: dict[str, Any], tmp_path: Path) -> None:
    lake = _copy(three_nights, tmp_path)
    key = lake.read("policies", ["idempotency_key"], batch_id=three_nights["batches"][0]).column(0)[0].as_py()
    DeltaTable(str(Path(lake.uri) / "policies")).delete(predicate=f"idempotency_key = '{key}'")
    results = {r.batch_id: r for r in reconcile_all(lake, config=CONFIG)}
    tampered = results[three_nights["batches"][0]]
    assert any("deleted" in d and key[:16] in d for d in tampered.drift)
    assert any(d.subject == "rows" and key[:16] in d.message for d in tampered.deviations), tampered.render()
    assert not results[three_nights["batches"][1]].drift
    assert exit_code(results.values()) == 1


def test_replays_never_form_a_baseline() -> None:
    def batch(batch_id: str, day: int, status: str = "completed", input_uri: str = "/in") -> dict[str, Any]:
        return {"batch_id": batch_id, "batch_date": date(2026, 12, day), "status": status, "input_uri": input_uri}

    batches = [batch("n1", 1), batch("n2", 2, "quarantined"), batch("replay-abc", 3, input_uri="dlq-replay:x"),
               batch("n4", 4, "released"), batch("n5", 5, "running"), batch("n6", 6)]
    assert [b["batch_id"] for b in baseline_batches(batches, batch("n7", 7), CONFIG)] == ["n1", "n4", "n6"]
    assert [b["batch_id"] for b in baseline_batches(batches, batch("n7", 7),
                                                    dataclasses.replace(CONFIG, baseline_batches=1))] == ["n6"]


def test_the_forensic_report_goes_next_to_an_object_store_lake(s3_options: dict[str, str]) -> None:
    from policy_ray.adapters import storage
    from policy_ray.core.reconcile import BatchFigures
    from policy_ray.flows.reconcile_report import report_uri, write_report

    lake = Lake("s3://lake/policy-ray", storage_options=s3_options)
    lake.ensure_tables()
    batch: dict[str, Any] = {"batch_id": "2026-12-03-abcdef12", "batch_date": date(2026, 12, 3),
                             "input_uri": "s3://in/x", "accepted": 0, "duplicates": 0}
    deviation = Deviation("fill_rate", "harborline_dec.policy_number", "template harborline_dec lost field "
                          "policy_number", 0.1, 1.0)
    uri = write_report(lake, batch, BatchFigures(batch["batch_id"], 20, 3, 0, {}), [deviation], CONFIG)
    assert uri == "s3://lake/reports/2026-12-03-abcdef12-reconcile.md"
    text = storage.open_bytes(uri, s3_options).decode()
    assert "harborline_dec lost field policy_number" in text and "## Documents of template harborline_dec" in text
    assert report_uri("s3://bucket", "b") == "s3://bucket/reports/b-reconcile.md"
    assert report_uri("/data/lake/", "b") == "/data/reports/b-reconcile.md"


@pytest.fixture(scope="module")
def s3_options(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto S3 server on a loopback port (the same as tests/cluster/test_s3_night.py uses), bucket `lake`."""
    import contextlib
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        options = {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket="lake")
        yield options
    finally:
        proc.terminate()
        proc.wait(timeout=10)
