"""Reconciliation after a night, batch quarantine, and release.

Recipe: read the batch (a running one is never judged) -> its figures from the tables, completeness
across ledger, data tables and audit trail (reconcile_figures.py) -> the trailing baseline of nights
-> compare (core/reconcile.py) -> what that means for a batch in its status (core/batch_status.py)
-> on a new deviation: quarantine (audit entry, status, forensic report, alert) -> drift sweep
against the audit trail (flows/verify.py).

Exit codes of `policy-ray reconcile` (`exit_code`): 0 every batch shows no deviation, or deviates
in a way already reported (quarantined) or reviewed (released, figures unchanged since), or is still
running; 1 this run found a new deviation (a batch quarantined now) or drift between the tables.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_ray import logs
from policy_ray.adapters.lake import Lake
from policy_ray.config import DEFAULTS_DIR
from policy_ray.core.audit_chain import Stage
from policy_ray.core.batch_status import BatchStatus, can_release, judge
from policy_ray.core.reconcile import BatchFigures, Deviation, ReconcileConfig, reconcile
from policy_ray.flows import batch_review
from policy_ray.flows.batch_review import UnknownBatch, last_review, record, set_status
from policy_ray.flows.reconcile_figures import baseline_batches, gather
from policy_ray.flows.reconcile_report import alert, write_report
from policy_ray.flows.verify import verify

__all__ = ["ReconcileResult", "UnknownBatch", "exit_code", "load_config", "reconcile_all", "reconcile_batch",
           "release"]


def load_config(path: Path = DEFAULTS_DIR / "reconcile.toml") -> ReconcileConfig:
    return ReconcileConfig.from_mapping(tomllib.loads(path.read_text()))


@dataclass
class ReconcileResult:
    batch_id: str
    status: str
    deviations: list[Deviation] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    report: str | None = None
    new: bool = False  # deviations nobody had been told of: this run quarantined the batch
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.new or bool(self.drift)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "note": self.note, "new": self.new, "report": self.report,
                "deviations": [d.message for d in self.deviations], "drift": self.drift}

    def render(self) -> str:
        lines = [f"batch {self.batch_id}: {self.status}" + (f" ({self.note})" if self.note else "")]
        lines += [f"  deviation ({d.check}): {d.message}" for d in self.deviations]
        lines += [f"  drift: {d}" for d in self.drift]
        if self.report:
            lines.append(f"  forensic report: {self.report}")
        return "\n".join(lines)


def exit_code(results: Iterable[ReconcileResult]) -> int:
    return 1 if any(r.failed for r in results) else 0


def reconcile_batch(lake: Lake, batch_id: str, *, config: ReconcileConfig | None = None,
                    webhook: str | None = None, check_drift: bool = True) -> ReconcileResult:
    batches = lake.read("batches").to_pylist()
    batch = next((b for b in batches if b["batch_id"] == batch_id), None)
    if batch is None:
        raise UnknownBatch(batch_id)
    return _reconcile(lake, batch, batches, config or load_config(), webhook, check_drift)


def reconcile_all(lake: Lake, *, config: ReconcileConfig | None = None,
                  webhook: str | None = None) -> list[ReconcileResult]:
    """Every batch, oldest first, each with a drift sweep. A batch quarantined early in the sweep
    leaves the baseline of the nights after it."""
    config = config or load_config()
    batches = sorted(lake.read("batches").to_pylist(), key=lambda b: (b["batch_date"], b["batch_id"]))
    results = []
    for batch in batches:
        result = _reconcile(lake, batch, batches, config, webhook, True)
        batch["status"] = result.status
        results.append(result)
    return results


def _reconcile(lake: Lake, batch: dict[str, Any], batches: list[dict[str, Any]], config: ReconcileConfig,
               webhook: str | None, check_drift: bool) -> ReconcileResult:
    batch_id = batch["batch_id"]
    log = logs.logger.bind(batch_id=batch_id, stage="reconcile")
    status = BatchStatus(batch["status"])
    if status is BatchStatus.RUNNING:
        return ReconcileResult(batch_id, status.value, note=judge(status, False, False).note)
    review = last_review(lake, batch_id)
    if status is BatchStatus.COMPLETED and review.status is not None:
        # The trail holds a review the row does not show (a review killed before its status write, or a
        # re-run closed by a version that forgot reviews): the audit trail decides.
        set_status(lake, batch_id, status, review.status, review.reason, "review_restored")
        log.warning("batch status restored from its last review", status=review.status.value)
        status = review.status
    figures = gather(lake, batch, config, completeness=True)
    baseline = [] if figures.replay else [gather(lake, b, config) for b in baseline_batches(batches, batch, config)]
    deviations = reconcile(figures, baseline, config)
    changed = review.figures_sha256 is not None and review.figures_sha256 != figures.fingerprint()
    verdict = judge(status, bool(deviations), changed)
    result = ReconcileResult(batch_id, verdict.status.value, deviations, new=verdict.new, note=verdict.note)
    if verdict.quarantine:
        result.report = _quarantine(lake, batch, status, figures, deviations, config, webhook)
    if check_drift:
        result.drift = [str(f) for f in verify(lake, batch_id=batch_id).findings]
        if result.drift:
            log.error("state drift between the tables and the audit trail", findings=result.drift[:10])
    return result


def _quarantine(lake: Lake, batch: Mapping[str, Any], status: BatchStatus, figures: BatchFigures,
                deviations: list[Deviation], config: ReconcileConfig, webhook: str | None) -> str:
    batch_id = batch["batch_id"]
    reasons = [{"check": d.check, "subject": d.subject, "message": d.message} for d in deviations]
    record(lake, batch_id, Stage.BATCH_QUARANTINED, {"reasons": reasons, "config": config.version,
                                                     "figures_sha256": figures.fingerprint()})
    if not set_status(lake, batch_id, status, BatchStatus.QUARANTINED, json.dumps(reasons), "quarantined"):
        logs.logger.bind(batch_id=batch_id, stage="reconcile").warning(
            "batch changed while being quarantined; its next close applies the quarantine")
    report = write_report(lake, batch, figures, deviations, config)
    alert(batch_id, deviations, report, webhook)
    return report


def release(lake: Lake, batch_id: str, reason: str, *, config: ReconcileConfig | None = None) -> None:
    """Release a quarantined batch after review (a `batch_released` audit entry with the reason)."""
    config = config or load_config()
    batch = lake.batch_row(batch_id)
    if batch is None:
        raise UnknownBatch(batch_id)
    can_release(batch["status"])
    # The figures it is released on: a later change (a re-run adding documents) is judged again.
    figures = gather(lake, batch, config, completeness=True)
    batch_review.release(lake, batch, reason, figures_sha256=figures.fingerprint(), config_version=config.version)
