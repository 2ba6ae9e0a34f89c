"""The recycling pool on a real local Ray: a document that killed its worker is retried on a fresh actor;
shrinking withdraws actors still waiting for a node first, then idle ones, and lets a busy one finish
its document before it leaves."""

from __future__ import annotations

import os
import time
from datetime import date
from typing import Any

import pytest
import ray

from policy_ray.actors.pool import PoolPolicy, RecyclingActorPool
from policy_ray.core.outcomes import DocumentResult, DocumentTask, WorkerStats

pytestmark = pytest.mark.usefixtures("ray_session")


class SleepingWorker:
    """Stands in for a stage worker: holds each document `size_bytes` milliseconds."""

    def __init__(self, name: str) -> None:
        self.name, self.calls = name, 0

    def process(self, task: DocumentTask) -> DocumentResult:
        self.calls += 1
        if task.size_bytes < 0 and task.attempt == 1:
            os._exit(13)  # a document that kills its worker the first time (a segfault in a C extension)
        time.sleep(max(task.size_bytes, 0) / 1000)
        return DocumentResult(task=task, status="accepted",
                              worker=WorkerStats(self.name, os.getpid(), "local", 50.0, self.calls))


def placeable(name: str) -> Any:
    return ray.remote(num_cpus=0)(SleepingWorker).remote(name)


def unplaceable(name: str) -> Any:
    return ray.remote(num_cpus=0, resources={"no-such-node": 1})(SleepingWorker).remote(name)


def task(n: int, hold_ms: int = 0) -> DocumentTask:
    return DocumentTask(source_uri=f"/night/{n}.pdf", doc_sha256=f"{n:064x}", size_bytes=hold_ms,
                        batch_id="b", batch_date=date(2026, 12, 1), idempotency_key=f"k{n}")


def pool_of(size: int) -> RecyclingActorPool:
    policy = PoolPolicy(size=size, max_calls=100, rss_limit_mb=10_000, deadline_s=60, max_attempts=3)
    pool = RecyclingActorPool(placeable, policy, kind="test")
    pool.start()
    deadline = time.monotonic() + 60
    while pool.live_count() < size:
        assert time.monotonic() < deadline, "actors did not start"
        ray.wait(pool.starting(), num_returns=1, timeout=1)
    return pool


def alive(actor: Any) -> bool:
    try:
        ray.get(actor.__ray_ready__.remote(), timeout=10)
        return True
    except ray.exceptions.RayActorError:
        return False


def test_shrinking_withdraws_waiting_actors_first_then_idle_ones() -> None:
    pool = pool_of(2)
    try:
        pool.factory = unplaceable  # nodes "left": new actors wait for a node that never comes
        assert pool.resize(3) == 1 and pool.live_count() == 2
        waiting = pool._slots[2].actor
        assert pool.shrink(2) == 1
        assert pool.size == 2 and pool.live_count() == 2 and waiting not in [s.actor for s in pool._slots]
        idle = [s.actor for s in pool.idle()]
        assert pool.shrink(1) == 1 and pool.size == 1
        gone = next(a for a in idle if a not in [s.actor for s in pool._slots])
        assert not alive(gone)
        assert pool.shrink(0) == 0 and pool.size == 1  # never below one actor
        assert pool.stats.shrunk == 2
    finally:
        pool.shutdown()


def test_a_busy_actor_finishes_its_document_before_it_leaves() -> None:
    pool = pool_of(2)
    results: list[DocumentResult] = []
    try:
        for n, slot in enumerate(pool.idle()):
            pool.submit(slot, task(n, hold_ms=300))
        assert pool.shrink(1) == 1
        assert pool.size == 1 and len(pool._slots) == 2  # one retiring, still holding its document
        retiring = next(s for s in pool._slots if s.retiring)
        while pool.in_flight():
            ready, _ = ray.wait(list(pool.in_flight()), num_returns=1, timeout=30)
            for ref in ready:
                pool.collect(pool.in_flight()[ref], results.append)
        assert sorted(r.task.doc_sha256 for r in results) == [task(0).doc_sha256, task(1).doc_sha256]
        assert len(pool._slots) == 1 and not pool._slots[0].retiring
        assert [s.index for s in pool._slots] == [0]
        assert not alive(retiring.actor)
        # Growing again first keeps a retiring actor on, then starts new ones.
        assert pool.resize(2) == 1 and pool.size == 2
    finally:
        pool.shutdown()


def test_growing_keeps_a_retiring_actor_instead_of_starting_one() -> None:
    pool = pool_of(2)
    try:
        for n, busy in enumerate(pool.idle()):
            pool.submit(busy, task(n, hold_ms=200))
        pool.shrink(1)
        slot = next(s for s in pool._slots if s.retiring)
        assert pool.size == 1
        started = pool.stats.actors_started
        assert pool.resize(2) == 1
        assert not slot.retiring and pool.stats.actors_started == started
    finally:
        pool.shutdown()


def test_a_document_that_killed_its_actor_is_retried_on_a_fresh_one() -> None:
    from policy_ray.actors.scheduler import Lane, drive

    policy = PoolPolicy(size=2, max_calls=100, rss_limit_mb=10_000, deadline_s=60, max_attempts=3)
    pool = RecyclingActorPool(placeable, policy, kind="test")
    tasks = iter([task(0, 50), task(1, 50), task(2, -1), *(task(n, 50) for n in range(3, 12))])
    results: list[DocumentResult] = []
    drive([Lane(pool, lambda: next(tasks, None), results.append)])
    assert sorted(int(r.task.source_uri.rsplit("/", 1)[1].split(".")[0]) for r in results) == list(range(12))
    retried = next(r for r in results if r.task.source_uri == "/night/2.pdf")
    assert retried.status == "accepted" and retried.task.attempt == 2
    # Its first document: a fresh actor (the one that ran attempt 1 died with it), not a busy survivor.
    assert retried.worker is not None and retried.worker.calls == 1
    assert pool.stats.recycled["crashed"] == 1 and pool.stats.retries == 1
