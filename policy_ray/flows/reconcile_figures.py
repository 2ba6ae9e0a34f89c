"""A batch's figures, read from the tables (never from the run that wrote them: a resumed night is
judged on the whole night): fill rates per template over committed AND dead-lettered documents, the
route mix, and the keys completeness compares across ledger, data tables and audit trail."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow.dataset as ds

from policy_ray.adapters.lake import Lake
from policy_ray.core.audit_chain import Stage
from policy_ray.core.batch_status import BatchStatus, is_replay
from policy_ray.core.reconcile import (
    BatchFigures,
    Completeness,
    ReconcileConfig,
    TemplateFill,
    check_completeness,
    counts_as_ocr,
)

LEDGER_STAGES = (Stage.COMMITTED.value, Stage.DEAD_LETTERED.value, Stage.DUPLICATE.value)
BASELINE_STATUSES = (BatchStatus.COMPLETED.value, BatchStatus.RELEASED.value)


def partial_record(partial_fields: str | None) -> dict[str, Any]:
    """The record the mapping read for a dead letter (empty when it read nothing)."""
    return (json.loads(partial_fields) if partial_fields else {}).get("record") or {}


def gather(lake: Lake, batch: Mapping[str, Any], config: ReconcileConfig, *,
           completeness: bool = False) -> BatchFigures:
    batch_id = batch["batch_id"]
    policies = lake.read("policies", ["idempotency_key", "template_id", "extraction_path", *config.fields],
                         batch_id=batch_id).to_pylist()
    dead = lake.read("dead_letters", ["idempotency_key", "failure_category", "failure_stage", "partial_fields"],
                     batch_id=batch_id).to_pylist()
    fills: dict[str, TemplateFill] = {}
    for row in policies:
        if row["template_id"]:
            fills.setdefault(row["template_id"], TemplateFill()).add(row, config.fields)
    for row in dead:
        record = partial_record(row["partial_fields"])
        if record.get("template_id"):
            fills.setdefault(record["template_id"], TemplateFill()).add(record, config.fields)
    # The night's OCR share from its rows, not from a run's counter: a resumed night counts every run.
    ocr = sum(r["extraction_path"] == "ocr" for r in policies)
    ocr += sum(counts_as_ocr(r["failure_category"], r["failure_stage"], config) for r in dead)
    checked = _completeness(lake, batch, policies, dead) if completeness else None
    listed = batch["listed"] if batch["listed"] is not None else (checked.recorded if checked else len(policies))
    return BatchFigures(batch_id=batch_id, listed=int(listed), dead_lettered=len(dead), ocr=ocr, fills=fills,
                        completeness=checked, replay=is_replay(batch_id, batch.get("input_uri")))


def _completeness(lake: Lake, batch: Mapping[str, Any], policies: Sequence[Mapping[str, Any]],
                  dead: Sequence[Mapping[str, Any]]) -> Completeness:
    batch_id = batch["batch_id"]
    ledger = lake.read("documents", ["source_uri", "idempotency_key", "disposition"], batch_id=batch_id)
    audit = lake.read("audit_log", ["idempotency_key", "stage"], batch_id=batch_id,
                      where=ds.field("stage").isin(list(LEDGER_STAGES)))
    return check_completeness(
        batch["listed"],
        zip(*(ledger.column(c).to_pylist() for c in ("source_uri", "idempotency_key", "disposition")), strict=True),
        (r["idempotency_key"] for r in policies), (r["idempotency_key"] for r in dead),
        zip(audit.column("idempotency_key").to_pylist(), audit.column("stage").to_pylist(), strict=True))


def baseline_batches(batches: Sequence[Mapping[str, Any]], batch: Mapping[str, Any],
                     config: ReconcileConfig) -> list[Mapping[str, Any]]:
    """The nights before this one that form its baseline: completed or released (never quarantined or
    running), never a replay, the last `baseline_batches` of them by date."""
    earlier = [b for b in batches if b["status"] in BASELINE_STATUSES and b["batch_date"] < batch["batch_date"]
               and not is_replay(b["batch_id"], b.get("input_uri"))]
    earlier.sort(key=lambda b: (b["batch_date"], b["batch_id"]))
    return earlier[-config.baseline_batches:] if config.baseline_batches > 0 else []
