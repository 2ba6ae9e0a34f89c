"""The extractor actor: the extraction stage behind a memory ceiling, reporting its health per call."""

from __future__ import annotations

import gc
import os

import ray

from policy_ray import logs
from policy_ray.actors.memory_guard import rss_mb, set_memory_ceiling
from policy_ray.config import PipelineData, Settings
from policy_ray.core.outcomes import DocumentResult, DocumentTask, WorkerStats
from policy_ray.errors import WORKER_FAILURES
from policy_ray.stages.extract import ExtractStage


class ExtractorWorker:
    """Plain class; `actor_class()` turns it into a Ray actor. Kept importable without Ray running."""

    def __init__(self, settings: Settings, data: PipelineData, name: str, ocr_available: bool = False):
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        set_memory_ceiling(settings.memory_ceiling_mb)
        logs.configure("extractor")
        self.name = name
        self.calls = 0
        self.stage = ExtractStage(settings, data, ocr_available=ocr_available)
        self.log = logs.logger.bind(actor_id=name)
        self.log.info("extractor started")

    def process(self, task: DocumentTask) -> DocumentResult:
        self.calls += 1
        log = self.log.bind(batch_id=task.batch_id, doc=task.short, attempt=task.attempt)
        result = self.stage.process(task)
        retire = bool(result.failure and result.failure.category in WORKER_FAILURES)
        if retire:
            gc.collect()  # give back what the failed document held before we report RSS
            log.warning("worker failure, asking to be replaced", category=result.failure.category.value
                        if result.failure else None)
        stats = WorkerStats(actor_id=self.name, pid=os.getpid(), node_id=_node_id(), rss_mb=rss_mb(),
                            calls=self.calls, retire=retire)
        log.debug("document done", stage="extract", status=result.status, rss_mb=stats.rss_mb)
        return _with_worker(result, stats)

    def stats(self) -> WorkerStats:
        return WorkerStats(actor_id=self.name, pid=os.getpid(), node_id=_node_id(), rss_mb=rss_mb(),
                           calls=self.calls)


def _node_id() -> str:
    try:
        return ray.get_runtime_context().get_node_id()[:12]
    except Exception:  # outside Ray (tests of the plain class)
        return "local"


def _with_worker(result: DocumentResult, stats: WorkerStats) -> DocumentResult:
    import dataclasses

    return dataclasses.replace(result, worker=stats)
