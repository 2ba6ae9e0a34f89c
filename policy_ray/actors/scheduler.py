"""Drives several actor pools from one loop: each pool ("lane") pulls its next task when a slot is
free, every in-flight call across all lanes is awaited together, and each lane's deadlines are
enforced. The night is over when no lane has work in flight, queued for retry, or still to come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ray

from policy_ray.actors.pool import RecyclingActorPool
from policy_ray.core.outcomes import DocumentResult, DocumentTask


@dataclass
class Lane:
    pool: RecyclingActorPool
    next_task: Callable[[], DocumentTask | None]  # None: nothing to hand out right now
    on_result: Callable[[DocumentResult], None]

    def fill(self) -> int:
        """Hand out work to idle slots; how many tasks were handed out."""
        handed = 0
        for slot in self.pool.idle():
            task = self.pool.retries.popleft() if self.pool.retries else self.next_task()
            if task is None:
                break
            self.pool.submit(slot, task)
            handed += 1
        return handed


def drive(lanes: list[Lane], *, poll_s: float = 0.5) -> None:
    for lane in lanes:
        lane.pool.start()
    try:
        while True:
            for lane in lanes:
                lane.fill()
            owners = {ref: (lane, slot) for lane in lanes for ref, slot in lane.pool.in_flight().items()}
            if not owners:
                # Nothing running and nothing could be handed out: every source is dry.
                return
            timeout = min([poll_s, *(lane.pool.seconds_to_next_deadline() for lane in lanes)])
            ready, _ = ray.wait(list(owners), num_returns=1, timeout=timeout)
            for ref in ready:
                lane, slot = owners[ref]
                lane.pool.collect(slot, lane.on_result)
            for lane in lanes:
                lane.pool.enforce_deadlines(lane.on_result)
    finally:
        for lane in lanes:
            lane.pool.shutdown()
