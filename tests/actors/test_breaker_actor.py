"""The OCR circuit breaker is one actor for the whole cluster: another job (a second driver process)
sees the state this one left, and a change of thresholds gets a breaker of its own."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import ray

from policy_ray.actors.breaker import actor_name, get_or_create
from policy_ray.core.breaker import BreakerConfig

pytestmark = pytest.mark.usefixtures("ray_session")

PROBE = """
import json, sys, ray
from policy_ray.actors.breaker import get_or_create
from policy_ray.core.breaker import BreakerConfig
ray.init(address=sys.argv[1], log_to_driver=False)
breaker = get_or_create(BreakerConfig(min_samples=2, cooldown_s=3600), name=sys.argv[2])
print(json.dumps(ray.get(breaker.snapshot.remote())))
"""


def test_another_job_sees_the_breaker_this_one_opened() -> None:
    name = f"breaker-{uuid.uuid4().hex[:8]}"
    config = BreakerConfig(min_samples=2, cooldown_s=3600)
    breaker = get_or_create(config, name=name)
    for _ in range(2):
        ray.get(breaker.record.remote(False))
    assert ray.get(breaker.snapshot.remote())["state"] == "open"
    address = ray.get_runtime_context().gcs_address
    other_job = subprocess.run([sys.executable, "-c", PROBE, address, name], capture_output=True, text=True,
                               timeout=120, check=False)
    assert other_job.returncode == 0, other_job.stderr[-3000:]
    seen = other_job.stdout.strip().splitlines()[-1]
    assert '"state": "open"' in seen and '"rejected": 0' in seen


def test_new_thresholds_get_a_breaker_of_their_own() -> None:
    name = f"breaker-{uuid.uuid4().hex[:8]}"
    strict, lenient = BreakerConfig(min_samples=2), BreakerConfig(min_samples=50)
    assert actor_name(strict, name) != actor_name(lenient, name)
    for _ in range(2):
        ray.get(get_or_create(strict, name=name).record.remote(False))
    assert ray.get(get_or_create(lenient, name=name).snapshot.remote())["state"] == "closed"
