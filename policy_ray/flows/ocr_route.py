"""The hand-off from extraction to OCR: a bounded queue in the driver, guarded by the cluster-wide
circuit breaker. While the breaker is open, documents bound for OCR become retryable
`ocr_circuit_open` dead letters instead of piling up."""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

import ray

from policy_ray import logs
from policy_ray.actors import breaker as breaker_actor
from policy_ray.config import PipelineData
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.errors import Failure, FailureCategory
from policy_ray.flows.committer import MicroBatchCommitter

# Outcomes that say the OCR machinery failed (not that a scan was poor): these feed the breaker.
ENGINE_FAILURES = frozenset({FailureCategory.OCR_TIMEOUT, FailureCategory.WORKER_CRASH, FailureCategory.INTERNAL_ERROR,
                             FailureCategory.MEMORY_LIMIT, FailureCategory.TIMEOUT})


class OcrRoute:
    def __init__(self, committer: MicroBatchCommitter, data: PipelineData, *, breaker_name: str):
        self.queue: deque[DocumentTask] = deque()
        self.breaker = breaker_actor.get_or_create(data.breaker, name=breaker_name)
        self.sent = self.turned_away = self.succeeded = self.failed = 0
        self.log = logs.logger.bind(stage="ocr_route", batch_id=committer.batch_id)
        # The breaker outlives this night: its history before now is other nights' (or other jobs').
        start: dict[str, Any] = ray.get(self.breaker.snapshot.remote())
        self._state, self._history_start = start["state"], len(start["history"])
        if self._state != "closed":
            self.log.warning("OCR circuit breaker is not closed at the start of the night", state=self._state)

    def enqueue(self, result: DocumentResult) -> DocumentResult | None:
        """Queue the document for OCR; or, with the breaker open, the dead letter to record instead."""
        if ray.get(self.breaker.allow.remote()):
            # A fresh attempt count: the OCR pool has its own retries and poison handling.
            self.queue.append(dataclasses.replace(result.task, attempt=1, failures=()))
            self.sent += 1
            self._seen(ray.get(self.breaker.observe_queue.remote(len(self.queue))))
            return None
        self.turned_away += 1
        failure = Failure.of(FailureCategory.OCR_CIRCUIT_OPEN, "ocr_route",
                             "the OCR circuit breaker is open; not attempted", component="ocr_route")
        return dataclasses.replace(result, status="dead_letter", failure=failure)

    def next_task(self) -> DocumentTask | None:
        return self.queue.popleft() if self.queue else None

    def record(self, result: DocumentResult) -> None:
        failed = result.failure is not None and result.failure.category in ENGINE_FAILURES
        self.failed += failed
        self.succeeded += not failed
        self._seen(ray.get(self.breaker.record.remote(not failed)))

    def _seen(self, state: str) -> None:
        """Log a change of the breaker's state in the driver's stream too (the actor logs it on its node)."""
        if state != self._state:
            level = "ERROR" if state == "open" else "WARNING"
            self.log.log(level, "OCR circuit breaker changed state", source=self._state, target=state)
            self._state = state

    def summary(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = ray.get(self.breaker.snapshot.remote())
        tonight = snapshot["history"][self._history_start:]
        return {"sent": self.sent, "turned_away": self.turned_away, "engine_failures": self.failed,
                "completed": self.succeeded,
                "breaker": {"state": snapshot["state"], "transitions": len(tonight), "history": tonight,
                            "rejected_since_created": snapshot["rejected"]}}
