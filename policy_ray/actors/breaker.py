"""The cluster-wide OCR circuit breaker: one named, detached actor holds the state for every driver and pool.

It lives in a fixed namespace (a job's own namespace is anonymous, so a plain named actor would be one per
job) and outlives the job that created it: tonight's night, a replay started beside it and tomorrow's night
all see one state. Its name carries a hash of its thresholds, so a reviewed change of routing.toml starts a
breaker with the new thresholds instead of inheriting an old one's.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import ray

from policy_ray import logs
from policy_ray.core.breaker import BreakerConfig, BreakerState, CircuitBreaker
from policy_ray.core.identity import canonical_sha256

BREAKER_NAME = "policy-ray-ocr-breaker"
NAMESPACE = "policy-ray"


class BreakerActor:
    def __init__(self, config: BreakerConfig):
        logs.configure("breaker")
        self.breaker = CircuitBreaker(config)
        self.log = logs.logger.bind(stage="ocr_breaker")

    def allow(self) -> bool:
        return self._logged(lambda now: self.breaker.allow(now))

    def record(self, success: bool) -> str:
        self._logged(lambda now: self.breaker.record(now, success=success))
        return self.breaker.state.value

    def observe_queue(self, depth: int) -> str:
        self._logged(lambda now: self.breaker.observe_queue(now, depth))
        return self.breaker.state.value

    def snapshot(self) -> dict[str, Any]:
        return self.breaker.snapshot()

    def _logged(self, step: Any) -> Any:
        before = len(self.breaker.transitions)
        out = step(time.monotonic())
        for t in self.breaker.transitions[before:]:
            level = "ERROR" if t.target is BreakerState.OPEN else "WARNING"
            self.log.log(level, "OCR circuit breaker changed state", source=t.source.value, target=t.target.value,
                         reason=t.reason)
        return out


def actor_name(config: BreakerConfig, name: str = BREAKER_NAME) -> str:
    return f"{name}-{canonical_sha256(dataclasses.asdict(config))[:8]}"


def get_or_create(config: BreakerConfig, *, name: str = BREAKER_NAME) -> Any:
    """The cluster's breaker for these thresholds; created on first use, shared by every caller afterwards."""
    remote = ray.remote(num_cpus=0, max_restarts=-1)(BreakerActor)
    return remote.options(name=actor_name(config, name), namespace=NAMESPACE, lifetime="detached",
                          get_if_exists=True).remote(config)
