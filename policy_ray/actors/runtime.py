"""Connecting to Ray and building actor factories: where stages become actors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import ray

from policy_ray.actors.worker import StageWorker
from policy_ray.config import PipelineData, Settings


def connect(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Join the cluster `ray job submit` put us on, the given address, or start a local instance."""
    if ray.is_initialized():
        return
    if address or os.environ.get("RAY_ADDRESS"):
        ray.init(address=address or None, log_to_driver=False)
    else:
        # A new local instance, never a `ray start` cluster that happens to run on this machine.
        # Actor logs stay in Ray's per-node worker logs; the driver logs every document outcome itself.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)


def worker_factory(kind: str, settings: Settings, data: PipelineData, *, ocr_available: bool = False,
                   resources: dict[str, Any] | None = None) -> Callable[[str], Any]:
    """A function that starts one stage-worker actor of `kind` with the resources it needs."""
    remote_cls = ray.remote(StageWorker)
    data_ref = ray.put(data)  # shipped once to the object store, not once per actor
    options: dict[str, Any] = {"max_restarts": 0, "max_task_retries": 0, **(resources or {})}

    def make(name: str) -> Any:
        return remote_cls.options(**options).remote(kind, settings, data_ref, name, ocr_available)

    return make


def cluster_resources() -> dict[str, float]:
    return {k: float(v) for k, v in ray.cluster_resources().items()}
