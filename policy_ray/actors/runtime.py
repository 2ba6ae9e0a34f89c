"""Connecting to Ray and building actor factories: where stages become actors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import ray

from policy_ray.actors.extractor import ExtractorWorker
from policy_ray.config import PipelineData, Settings


def connect(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Join the cluster `ray job submit` put us on, the given address, or start a local instance."""
    if ray.is_initialized():
        return
    if address or os.environ.get("RAY_ADDRESS"):
        ray.init(address=address or None, log_to_driver=False)
    else:
        # Actor logs stay in Ray's per-node worker logs; the driver logs every document outcome itself.
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)


def extractor_factory(settings: Settings, data: PipelineData, *, ocr_available: bool) -> Callable[[str], Any]:
    remote_cls = ray.remote(ExtractorWorker)
    data_ref = ray.put(data)  # shipped once to the object store, not once per actor

    def make(name: str) -> Any:
        return remote_cls.options(num_cpus=settings.extractor_num_cpus, max_restarts=0,
                                  max_task_retries=0).remote(settings, data_ref, name, ocr_available)

    return make


def cluster_cpus() -> int:
    return int(ray.cluster_resources().get("CPU", 1))
