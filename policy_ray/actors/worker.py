"""The stage worker actor: a stage (extraction or OCR) behind a memory ceiling, reporting its health
after every document so the pool can recycle it."""

from __future__ import annotations

import dataclasses
import gc
import os

import ray

from policy_ray import logs
from policy_ray.actors.memory_guard import rss_mb, set_memory_ceiling
from policy_ray.config import PipelineData, Settings
from policy_ray.core.outcomes import DocumentResult, DocumentTask, WorkerStats
from policy_ray.errors import WORKER_FAILURES, FailureCategory
from policy_ray.stages.extract import ExtractStage
from policy_ray.stages.ocr import OcrStage

KINDS = ("extractor", "ocr")


class StageWorker:
    """Plain class; `actors.runtime` turns it into a Ray actor. Importable and testable without Ray."""

    def __init__(self, kind: str, settings: Settings, data: PipelineData, name: str, ocr_available: bool = False):
        if kind not in KINDS:
            raise ValueError(f"unknown worker kind {kind!r}")
        if not os.environ.get("OMP_THREAD_LIMIT"):  # one core per actor; OpenMP would oversubscribe (5x slower)
            os.environ["OMP_THREAD_LIMIT"] = "1"
        ceiling = settings.memory_ceiling_mb if kind == "extractor" else settings.ocr_memory_ceiling_mb
        set_memory_ceiling(ceiling)
        logs.configure(kind)
        self.kind = kind
        self.name = name
        self.calls = 0
        self.stage: ExtractStage | OcrStage = (
            ExtractStage(settings, data, ocr_available=ocr_available) if kind == "extractor"
            else OcrStage(settings, data)
        )
        self.log = logs.logger.bind(actor_id=name, stage=kind)
        self.log.info("worker started", memory_ceiling_mb=ceiling)

    def process(self, task: DocumentTask) -> DocumentResult:
        self.calls += 1
        log = self.log.bind(batch_id=task.batch_id, doc=task.short, attempt=task.attempt)
        result = self.stage.process(task)
        retire = bool(result.failure and result.failure.category in WORKER_FAILURES | {FailureCategory.OCR_TIMEOUT})
        if retire:
            gc.collect()  # give back what the failed document held before we report RSS
            log.warning("worker failure, asking to be replaced",
                        category=result.failure.category.value if result.failure else None)
        stats = WorkerStats(actor_id=self.name, pid=os.getpid(), node_id=_node_id(), rss_mb=rss_mb(),
                            calls=self.calls, retire=retire)
        log.debug("document done", status=result.status, rss_mb=stats.rss_mb)
        return dataclasses.replace(result, worker=stats)

    def stats(self) -> WorkerStats:
        return WorkerStats(actor_id=self.name, pid=os.getpid(), node_id=_node_id(), rss_mb=rss_mb(), calls=self.calls)


def _node_id() -> str:
    if not ray.is_initialized():  # the plain class used without Ray: never start an instance for a label
        return "local"
    return str(ray.get_runtime_context().get_node_id())[:12]
