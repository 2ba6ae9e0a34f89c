"""The nightly ingestion job, as a recipe:

    connect -> load versioned data -> open the lake -> resume the batch -> plan (list, hash, dedupe)
    -> extractor pool -> micro-batch commits -> close the batch -> summary
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policy_ray import code_version, failpoints, logs
from policy_ray.actors import runtime
from policy_ray.actors.pool import PoolPolicy, RecyclingActorPool
from policy_ray.actors.scheduler import Lane, drive
from policy_ray.adapters.lake import Lake, count_by
from policy_ray.adapters.source import DocumentSource, SourceFile
from policy_ray.config import PipelineData, Settings, load_pipeline_data
from policy_ray.core.audit_chain import Draft, Stage
from policy_ray.core.batch_status import status_after_run
from policy_ray.core.digest_set import sha256_digest
from policy_ray.core.identity import idempotency_key, sha256_hex
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.core.rows import COMMITTED, DEAD_LETTERED, DUPLICATE
from policy_ray.errors import Failure, FailureCategory, PolicyRayError
from policy_ray.flows.batch_lease import BatchBusy, BatchLease
from policy_ray.flows.batch_review import last_review
from policy_ray.flows.capacity import plan_pools
from policy_ray.flows.committer import BatchState, MicroBatchCommitter
from policy_ray.flows.ocr_route import OcrRoute
from policy_ray.flows.reconcile import reconcile_batch
from policy_ray.flows.scaling import NightScaler, Progress


@dataclass(frozen=True)
class NightRequest:
    input_uri: str
    lake_uri: str
    batch_date: date
    batch_id: str | None = None
    address: str | None = None
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    files: tuple[str, ...] | None = None  # these documents instead of listing input_uri (a dead-letter replay)
    # uri -> the sha256 the file must hold (a replay re-submits a dead letter's own document, nothing else):
    # a file whose bytes differ when the driver hashes it is a `source_changed` dead letter, never ingested.
    expected_sha256: Mapping[str, str] | None = None
    take_over_lease: bool = False  # the operator says the run holding the batch is dead (runbooks/rerun-night.md)


@dataclass
class NightSummary:
    batch_id: str
    batch_date: date
    listed: int = 0
    processed: int = 0
    already_done: int = 0
    accepted: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    dead_letter_categories: dict[str, int] = field(default_factory=dict)
    routes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    documents_per_second: float = 0.0
    sent_to_ocr: int = 0
    commits: int = 0
    commit_seconds: float = 0.0
    pool: dict[str, Any] = field(default_factory=dict)
    ocr_pool: dict[str, Any] = field(default_factory=dict)
    ocr: dict[str, Any] = field(default_factory=dict)
    scaling: dict[str, Any] = field(default_factory=dict)
    reconcile: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["batch_date"] = self.batch_date.isoformat()
        return out

    def render(self) -> str:
        lines = [
            f"batch {self.batch_id} ({self.batch_date.isoformat()})",
            f"  listed {self.listed}: accepted {self.accepted}, dead-lettered {self.dead_lettered}, "
            f"duplicates {self.duplicates} (this run processed {self.processed}, "
            f"{self.already_done} already done by an earlier run)",
            f"  {self.documents_per_second:.2f} documents/s over {self.seconds:.1f}s; "
            f"{self.commits} commits ({self.commit_seconds:.1f}s)",
        ]
        if self.routes:
            lines.append("  routes: " + ", ".join(f"{k}={v}" for k, v in sorted(self.routes.items())))
        if self.dead_letter_categories:
            lines.append("  dead letters: " + ", ".join(
                f"{k}={v}" for k, v in sorted(self.dead_letter_categories.items())))
        lines.append(f"  extractor pool: {json.dumps(self.pool, sort_keys=True)}")
        if self.scaling:
            lines.append("  scaling: " + json.dumps({k: self.scaling.get(k) for k in SCALING_SHOWN}, sort_keys=True))
        if self.reconcile:
            lines.append(f"  reconciliation: {self.reconcile['status']}"
                         + "".join(f"\n    - {d}" for d in self.reconcile["deviations"])
                         + "".join(f"\n    - drift: {d}" for d in self.reconcile.get("drift", [])))
        if self.ocr_pool:
            lines.append(f"  OCR: sent {self.sent_to_ocr}; pool {json.dumps(self.ocr_pool, sort_keys=True)}")
            lines.append(f"  OCR breaker: {json.dumps(self.ocr, sort_keys=True)}")
        return "\n".join(lines)


SCALING_SHOWN = ("requests_sent", "requests_failed", "last_error", "peak_request", "last_request", "backlog_peak",
                 "grown", "shrunk", "released")


def batch_id_for(batch_date: date, input_identity: str) -> str:
    """Deterministic: the same night from the same place is the same batch, however often it runs and
    however the place is spelled (`input_identity` is `DocumentSource.identity`)."""
    where = hashlib.sha256(input_identity.encode()).hexdigest()[:8]
    return f"{batch_date.isoformat()}-{where}"


def run_night(request: NightRequest, settings: Settings) -> NightSummary:
    started = time.monotonic()
    runtime.connect(request.address)
    data = load_pipeline_data(settings)
    source = DocumentSource(request.input_uri, storage_options=settings.storage_options)
    batch_id = request.batch_id or batch_id_for(request.batch_date, source.identity)
    log = logs.logger.bind(batch_id=batch_id, stage="driver")
    lake = Lake(request.lake_uri, storage_options=settings.storage_options, pipeline_versions=data.versions)
    lake.ensure_tables()
    failpoints.reach("night_started")
    lease = BatchLease.take(lake, batch_id=batch_id, batch_date=request.batch_date,
                            input_uri=source.identity if request.files is None else request.input_uri,
                            routing_matrix_version=data.versions["routing_matrix_version"],
                            lease_s=settings.batch_lease_s, take_over=request.take_over_lease)
    try:
        state = BatchState.load(lake, batch_id)  # after taking the lease: nobody else writes this batch now
        return _run(request, settings, lake, source, state, data, batch_id, lease, started, log)
    finally:
        lease.end()


def _run(request: NightRequest, settings: Settings, lake: Lake, source: DocumentSource, state: BatchState,
         data: PipelineData, batch_id: str, lease: BatchLease, started: float, log: Any) -> NightSummary:
    run_count = lease.run_count
    log.info("night started", input=request.input_uri, lake=request.lake_uri, run=run_count,
             resumed_documents=state.resumed_documents)

    metadata = {"batch_id": batch_id, "run": str(run_count)}  # the lake adds code and data versions
    committer = MicroBatchCommitter(lake, batch_id, state, every_docs=settings.commit_every_docs,
                                    interval_s=settings.commit_interval_s, metadata=metadata, fence=lease.check)
    committer.add_event(Draft(batch_id, Stage.BATCH_STARTED, details=json.dumps(
        {"run": run_count, "input_uri": request.input_uri, **data.versions}, sort_keys=True)))
    summary = NightSummary(batch_id=batch_id, batch_date=request.batch_date)
    plan = plan_pools(settings, runtime.cluster_resources())
    ocr_settings = settings.replace(ocr_engine=plan.ocr_engine, ocr_use_gpu=plan.ocr_use_gpu)
    ocr_route = OcrRoute(committer, data, breaker_name=settings.ocr_breaker_name) if plan.ocr_workers else None
    log.info("pools planned", extractors=plan.extractors, ocr_workers=plan.ocr_workers, ocr_engine=plan.ocr_engine,
             ocr_gpu=plan.ocr_use_gpu)
    progress = _progress(request.progress)

    def finished(result: DocumentResult) -> None:
        summary.processed += 1
        scaler.observe(result)  # pages for the backlog estimate (issue 7)
        committer.add(result)
        _log_outcome(result)
        progress.update(1)

    def extracted(result: DocumentResult) -> None:
        if result.status == "ocr" and ocr_route is not None:
            failpoints.reach("ocr_handoff")
            summary.sent_to_ocr += 1
            turned_away = ocr_route.enqueue(result)
            if turned_away is None:
                return
            result = turned_away
        finished(result)

    def recognized(result: DocumentResult) -> None:
        assert ocr_route is not None
        ocr_route.record(result)
        finished(result)

    def factory_for(kind: str, options: dict[str, Any]) -> Any:
        return runtime.worker_factory(kind, ocr_settings if kind == "ocr" else settings, data,
                                      ocr_available=ocr_route is not None and kind != "ocr", resources=options)

    extract_pool = RecyclingActorPool(
        factory_for("extractor", plan.extractor_options),
        PoolPolicy(size=plan.extractors, max_calls=settings.max_calls,
                   rss_limit_mb=settings.rss_recycle_fraction * settings.memory_ceiling_mb,
                   deadline_s=settings.document_deadline_s, max_attempts=settings.max_attempts),
        kind="extractor",
    )
    listing = (source.stat(uri) for uri in request.files) if request.files is not None else source.list()
    tasks = plan_tasks(source, listing, state, committer, batch_id, request.batch_date, summary, progress,
                       expected=request.expected_sha256)
    feed = TaskFeed(tasks)
    lanes = [Lane(extract_pool, feed.next_task, extracted)]
    if ocr_route is not None:
        ocr_pool = RecyclingActorPool(
            factory_for("ocr", plan.ocr_options),
            PoolPolicy(size=plan.ocr_workers, max_calls=settings.ocr_max_calls,
                       rss_limit_mb=settings.rss_recycle_fraction * settings.ocr_memory_ceiling_mb,
                       deadline_s=settings.ocr_document_deadline_s * 1.25 + 5, max_attempts=settings.max_attempts,
                       timeout_category=FailureCategory.OCR_TIMEOUT),
            kind="ocr",
        )
        lanes.append(Lane(ocr_pool, ocr_route.next_task, recognized))
    scaler = NightScaler(settings, plan, [lane.pool for lane in lanes], lambda: Progress(
        summary.listed, summary.processed, len(ocr_route.queue) if ocr_route is not None else 0,
        feed.done),
        expected_documents=lambda: len(request.files) if request.files is not None else source.count(),
        factory_for=factory_for)

    def tick() -> None:
        scaler.tick()
        lease.renew_if_due()

    try:
        drive(lanes, tick=tick)
        committer.flush()
    finally:
        scaler.release()
        _close_progress(progress)
    summary.scaling = scaler.summary()
    failpoints.reach("before_batch_close")
    summary.pool = extract_pool.stats.as_dict()
    if ocr_route is not None:
        summary.ocr_pool = lanes[1].pool.stats.as_dict()
        summary.ocr = ocr_route.summary()
    summary.commits, summary.commit_seconds = committer.commits, round(committer.commit_seconds, 2)
    summary.seconds = round(time.monotonic() - started, 2)
    summary.documents_per_second = round(summary.processed / summary.seconds, 3) if summary.seconds else 0.0
    _close_batch(lake, request, batch_id, run_count, data, summary, committer)
    failpoints.reach("after_batch_close")
    if settings.reconcile:
        outcome = reconcile_batch(lake, batch_id, webhook=settings.alert_webhook, check_drift=True)
        summary.reconcile = outcome.as_dict()
    log.info("night finished", **{k: v for k, v in summary.as_dict().items() if k not in ("pool", "ocr_pool")})
    return summary


class TaskFeed:
    """The extractor lane's source: the planned tasks, and whether the listing has run dry."""

    def __init__(self, tasks: Iterator[DocumentTask]) -> None:
        self._tasks = tasks
        self.done = False

    def next_task(self) -> DocumentTask | None:
        task = None if self.done else next(self._tasks, None)
        self.done = task is None
        return task


def plan_tasks(source: DocumentSource, listing: Iterable[SourceFile], state: BatchState,
               committer: MicroBatchCommitter, batch_id: str, batch_date: date, summary: NightSummary,
               progress: Any, *, expected: Mapping[str, str] | None = None) -> Iterator[DocumentTask]:
    """Stream the listing: skip what this batch already recorded, record duplicates, yield the rest."""
    seen = state.documents  # content digests handed out or accounted for: grows ~16 bytes a document
    resumed = state.resumed_keys
    for file in listing:
        summary.listed += 1
        if state.accounted.has_text(file.uri):
            summary.already_done += 1
            progress.update(1)
            continue
        task = _task_for(source, file, batch_id, batch_date, committer, (expected or {}).get(file.uri))
        if task is None:
            progress.update(1)
            continue
        own_key = task.idempotency_key
        digest = sha256_digest(task.doc_sha256)
        committed, dead = resumed["policies"].has_text(own_key), resumed["dead_letters"].has_text(own_key)
        if (committed or dead) and digest not in seen:
            # Committed by a run of this batch that died before its ledger rows: roll forward, don't redo.
            committer.add_ledger_only(task, COMMITTED if committed else DEAD_LETTERED)
            seen.add(digest)
            progress.update(1)
            continue
        earlier = state.committed_elsewhere.get(task.doc_sha256) or (own_key if digest in seen else None)
        if earlier is not None:
            committer.add_duplicate(task, earlier)
            progress.update(1)
            continue
        seen.add(digest)
        yield task


def _task_for(source: DocumentSource, file: SourceFile, batch_id: str, batch_date: date,
              committer: MicroBatchCommitter, expected_sha256: str | None = None) -> DocumentTask | None:
    try:
        sha = source.sha256(file.uri)
    except PolicyRayError as exc:
        # No bytes, no content hash: key the dead letter on the location so it is still recorded once.
        sha = sha256_hex(f"unreadable:{file.uri}".encode())
        task = DocumentTask(file.uri, sha, file.size, batch_id, batch_date, idempotency_key(sha, batch_id))
        committer.add(DocumentResult(task=task, status="dead_letter",
                                     failure=Failure.from_exception(exc, stage="hash", component="driver")))
        return None
    task = DocumentTask(source_uri=file.uri, doc_sha256=sha, size_bytes=file.size, batch_id=batch_id,
                        batch_date=batch_date, idempotency_key=idempotency_key(sha, batch_id))
    if expected_sha256 is not None and sha != expected_sha256:
        # Keyed on the location, not the content: the bytes are not the document this run was given, and
        # may well be another document of the same run (which must stay free to commit under its own key).
        refused = sha256_hex(f"changed:{file.uri}:{sha}".encode())
        task = dataclasses.replace(task, idempotency_key=idempotency_key(refused, batch_id))
        committer.add(DocumentResult(task=task, status="dead_letter", failure=Failure.of(
            FailureCategory.SOURCE_CHANGED, "hash", f"the file no longer holds the document it was submitted for "
            f"(sha256 {expected_sha256[:12]}, now {sha[:12]}); not ingested", component="driver")))
        return None
    return task


def _log_outcome(result: DocumentResult) -> None:
    task = result.task
    worker = result.worker
    logs.logger.bind(batch_id=task.batch_id, doc=task.short, stage="route", attempt=task.attempt,
                     actor_id=worker.actor_id if worker else None, node=worker.node_id if worker else None).info(
        "document routed", status=result.status, rule=result.routing_rule,
        category=result.failure.category.value if result.failure else None,
        confidence=round(result.confidence, 3), pages=result.page_count)


def _progress(enabled: bool | None) -> Any:
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    bar = tqdm(desc="documents", unit="doc", disable=not show, file=sys.stderr)
    if show:  # the driver's log lines go above the bar, not through it (closed: _close_progress)
        logs.write_lines_with(lambda line: tqdm.write(line, file=sys.stderr))
    return bar


def _close_progress(bar: Any) -> None:
    bar.close()
    logs.write_lines_with(None)


def night_routes(dispositions: dict[str, int], accepted_by_path: dict[str, int]) -> dict[str, int]:
    """Documents by the route they took, over the whole night (earlier runs of the batch included)."""
    routes = {f"accepted_{path}": n for path, n in accepted_by_path.items()}
    routes["dead_letter"] = dispositions.get(DEAD_LETTERED, 0)
    routes["duplicate"] = dispositions.get(DUPLICATE, 0)
    return {k: v for k, v in routes.items() if v}


def _close_batch(lake: Lake, request: NightRequest, batch_id: str, run_count: int, data: PipelineData,
                 summary: NightSummary, committer: MicroBatchCommitter) -> None:
    """Counts come from the tables, not from this run: a resumed night reports the whole night."""
    ledger = lake.read("documents", ["disposition"], batch_id=batch_id)
    dispositions = count_by(ledger, "disposition")
    dead = lake.read("dead_letters", ["failure_category"], batch_id=batch_id)
    categories = count_by(dead, "failure_category")
    summary.accepted = dispositions.get(COMMITTED, 0)
    summary.dead_lettered = dispositions.get(DEAD_LETTERED, 0)
    summary.duplicates = dispositions.get(DUPLICATE, 0)
    summary.dead_letter_categories = categories
    summary.routes = night_routes(dispositions, count_by(
        lake.read("policies", ["extraction_path"], batch_id=batch_id), "extraction_path"))
    committer.add_event(Draft(batch_id, Stage.BATCH_COMPLETED, details=json.dumps(
        {"run": run_count, "listed": summary.listed, "accepted": summary.accepted,
         "dead_lettered": summary.dead_lettered, "duplicates": summary.duplicates}, sort_keys=True)))
    committer.flush()
    previous = lake.batch_row(batch_id)
    # A re-run keeps a quarantine or release (the audit trail holds the last review): only a release lifts a
    # quarantine, and only reconciliation re-judges a released batch (core/batch_status.py).
    review = last_review(lake, batch_id)
    row = {
        "batch_id": batch_id, "batch_date": request.batch_date,
        "input_uri": previous["input_uri"] if previous else request.input_uri,  # as the lease recorded it
        "status": status_after_run(review.status).value, "status_reason": review.reason,
        "started_at": previous["started_at"] if previous else logs.now_utc(),
        "finished_at": logs.now_utc(), "run_count": run_count, "lease_owner": None, "lease_until": None,
        "listed": summary.listed,
        "accepted": summary.accepted, "dead_lettered": summary.dead_lettered, "duplicates": summary.duplicates,
        "sent_to_ocr": summary.sent_to_ocr, "dead_letter_categories": sorted(categories.items()),
        "code_version": code_version(),
        "routing_matrix_version": data.versions["routing_matrix_version"],
        "summary_json": json.dumps(summary.as_dict(), sort_keys=True, default=str),
        "chain_seq": committer.head[0], "chain_head": committer.head[1],  # the batch_completed entry
    }
    lake.upsert("batches", [row], key="batch_id",
                metadata={"batch_id": batch_id, "event": "run_completed", "run": str(run_count),
                          "chain_seq": str(committer.head[0]), "chain_head": committer.head[1]})


__all__ = ["BatchBusy", "FailureCategory", "NightRequest", "NightSummary", "batch_id_for", "run_night"]
