"""Reconciliation after a night, batch quarantine, and release.

Recipe: gather tonight's figures (ledger, fill rates per template over committed AND dead-lettered
documents, route mix) -> gather the trailing baseline -> compare (core/reconcile.py) -> on a
deviation: quarantine the batch, audit it, raise the alert (ERROR log, optional webhook), write a
forensic report next to the lake.
"""

from __future__ import annotations

import json
import tomllib
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.config import DEFAULTS_DIR
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.core.reconcile import BatchFigures, Deviation, ReconcileConfig, TemplateFill, reconcile
from policy_ray.flows.audit_append import append_entries
from policy_ray.flows.verify import verify

DONE = ("completed", "released")


def load_config(path: Path = DEFAULTS_DIR / "reconcile.toml") -> ReconcileConfig:
    return ReconcileConfig.from_mapping(tomllib.loads(path.read_text()))


@dataclass
class ReconcileResult:
    batch_id: str
    status: str
    deviations: list[Deviation] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    report: str | None = None

    def render(self) -> str:
        lines = [f"batch {self.batch_id}: {self.status}"]
        lines += [f"  deviation ({d.check}): {d.message}" for d in self.deviations]
        lines += [f"  drift: {d}" for d in self.drift]
        if self.report:
            lines.append(f"  forensic report: {self.report}")
        return "\n".join(lines)


def gather(lake: Lake, batch: dict[str, Any], config: ReconcileConfig) -> BatchFigures:
    batch_id = batch["batch_id"]
    ledger = lake.read("documents", ["source_uri", "disposition"], batch_id=batch_id).to_pylist()
    per_file = Counter(r["source_uri"] for r in ledger)
    fills: dict[str, TemplateFill] = {}
    for row in lake.read("policies", ["template_id", *config.fields], batch_id=batch_id).to_pylist():
        fills.setdefault(row["template_id"], TemplateFill()).add(row, config.fields)
    dead = lake.read("dead_letters", ["partial_fields"], batch_id=batch_id).to_pylist()
    for row in dead:
        record = (json.loads(row["partial_fields"]) if row["partial_fields"] else {}).get("record") or {}
        if record.get("template_id"):
            fills.setdefault(record["template_id"], TemplateFill()).add(record, config.fields)
    return BatchFigures(batch_id=batch_id, listed=int(batch["listed"] or len(per_file)),
                        accounted=sum(1 for n in per_file.values() if n == 1),
                        duplicated_ledger=sum(1 for n in per_file.values() if n > 1), dead_lettered=len(dead),
                        sent_to_ocr=int(batch["sent_to_ocr"] or 0), fills=fills)


def reconcile_batch(lake: Lake, batch_id: str, *, config: ReconcileConfig | None = None,
                    webhook: str | None = None, check_drift: bool = False) -> ReconcileResult:
    config = config or load_config()
    batches = lake.read("batches").to_pylist()
    batch = next((b for b in batches if b["batch_id"] == batch_id), None)
    if batch is None:
        raise KeyError(f"no batch {batch_id}")
    baseline = [gather(lake, b, config) for b in sorted(batches, key=lambda b: (b["batch_date"], b["batch_id"]))
                if b["status"] in DONE and b["batch_date"] < batch["batch_date"]][-config.baseline_batches:]
    deviations = reconcile(gather(lake, batch, config), baseline, config)
    result = ReconcileResult(batch_id, batch["status"], deviations)
    if check_drift:
        result.drift = [str(f) for f in verify(lake, batch_id=batch_id).findings]
    if deviations and batch["status"] != "quarantined":
        result.report = _quarantine(lake, batch, deviations, config, webhook)
        result.status = "quarantined"
    return result


def reconcile_all(lake: Lake, *, config: ReconcileConfig | None = None,
                  webhook: str | None = None) -> list[ReconcileResult]:
    ids = [b["batch_id"] for b in sorted(lake.read("batches", ["batch_id", "batch_date"]).to_pylist(),
                                         key=lambda b: (b["batch_date"], b["batch_id"]))]
    return [reconcile_batch(lake, i, config=config, webhook=webhook, check_drift=True) for i in ids]


def _quarantine(lake: Lake, batch: dict[str, Any], deviations: list[Deviation], config: ReconcileConfig,
                webhook: str | None) -> str:
    batch_id = batch["batch_id"]
    reasons = [{"check": d.check, "subject": d.subject, "message": d.message} for d in deviations]
    lake.upsert("batches", [{**batch, "status": "quarantined", "status_reason": json.dumps(reasons)}],
                key="batch_id", metadata={"batch_id": batch_id, "event": "quarantined"})
    append_entries(lake, batch_id, [Draft(batch_id, Stage.BATCH_QUARANTINED,
                                          details=json.dumps({"reasons": reasons, "config": config.version}))])
    report = _write_report(lake, batch, deviations)
    logs.logger.bind(batch_id=batch_id, stage="reconcile").error(
        "batch quarantined", reasons=[d.message for d in deviations], report=report)
    if webhook:
        _post(webhook, {"event": "batch_quarantined", "batch_id": batch_id, "reasons": reasons, "report": report})
    return report


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as exc:  # the alert is also in the logs; a dead webhook must not hide the quarantine
        logs.logger.error("quarantine webhook failed", url=url, error=str(exc))


def _write_report(lake: Lake, batch: dict[str, Any], deviations: list[Deviation]) -> str:
    batch_id = batch["batch_id"]
    dead = lake.read("dead_letters", ["source_uri", "failure_category", "confidence", "error_message"],
                     batch_id=batch_id).to_pylist()
    worst = sorted(dead, key=lambda r: (r["confidence"] is None, r["confidence"] or 0.0))[:15]
    lines = [f"# Reconciliation report: batch {batch_id}", "",
             f"Batch date {batch['batch_date']}, listed {batch['listed']}, accepted {batch['accepted']}, "
             f"dead-lettered {batch['dead_lettered']}, duplicates {batch['duplicates']}, "
             f"sent to OCR {batch['sent_to_ocr']}.", "", "## Deviations", "",
             "| check | subject | observed | expected | message |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {d.check} | {d.subject} | {d.observed:.3f} | {d.expected:.3f} | {d.message} |" for d in deviations]
    lines += ["", "## Worst documents", "", "| file | category | confidence | message |", "| --- | --- | --- | --- |"]
    lines += [f"| {Path(r['source_uri']).name} | {r['failure_category']} | {r['confidence']} | "
              f"{(r['error_message'] or '')[:120]} |" for r in worst]
    lines += ["", "Release after review: `policy-ray batch release " + batch_id + " --reason \"...\"`", ""]
    if "://" in lake.uri:
        logs.logger.warning("forensic report not written: the lake is not on a local filesystem", batch_id=batch_id)
        return "(not written: object-store lake)"
    folder = Path(lake.uri).parent / "reports"  # next to the lake, outside its tables
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{batch_id}-reconcile.md"
    path.write_text("\n".join(lines))
    return str(path)


def release(lake: Lake, batch_id: str, reason: str) -> None:
    batch = lake.batch_row(batch_id)
    if batch is None:
        raise KeyError(f"no batch {batch_id}")
    if batch["status"] != "quarantined":
        raise ValueError(f"batch {batch_id} is {batch['status']}, not quarantined")
    lake.upsert("batches", [{**batch, "status": "released", "status_reason": reason}], key="batch_id",
                metadata={"batch_id": batch_id, "event": "released"})
    append_entries(lake, batch_id, [Draft(batch_id, Stage.BATCH_RELEASED, details=json.dumps({"reason": reason}))])
    logs.logger.bind(batch_id=batch_id, stage="reconcile").warning("quarantined batch released", reason=reason)
