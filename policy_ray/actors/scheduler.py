"""Drives several actor pools from one loop: each pool ("lane") pulls its next task when a slot is
free, every in-flight call across all lanes is awaited together, and each lane's deadlines are
enforced. The night is over when no lane has work in flight, queued for retry, or still to come.

Only actors that are up take work. While none of a lane's actors is up (the cluster is scaling from
zero, or lost the nodes they ran on), the loop waits for them; `tick` (the scaler) runs every turn.
A lane with work and no actor placed for `capacity_wait_s` ends the night with `NoCapacity`.
"""

from __future__ import annotations

import time
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
    held: DocumentTask | None = None  # taken from the source while no actor was up to take it
    starved_since: float | None = None

    def _take(self, retry_ok: bool) -> DocumentTask | None:
        if self.pool.retries and retry_ok:
            return self.pool.retries.popleft()
        if self.held is not None:
            task, self.held = self.held, None
            return task
        return self.next_task()

    def fill(self) -> int:
        """Hand out work to idle slots; how many tasks were handed out."""
        handed = 0
        for slot in sorted(self.pool.idle(), key=lambda s: s.served):  # fresh actors first: retries wait for them
            task = self._take(self.pool.takes_retry(slot))
            if task is None:
                break
            self.pool.submit(slot, task)
            handed += 1
        return handed

    def waiting(self) -> bool:
        """Whether work waits for an actor (takes one task from the source to find out)."""
        if self.held is None and not self.pool.retries:
            self.held = self.next_task()
        return self.held is not None or bool(self.pool.retries)

    def check_capacity(self, now: float) -> None:
        if not (self.held is not None or self.pool.retries) or self.pool.live_count():
            self.starved_since = None
            return
        if self.starved_since is None:
            self.starved_since = now
        elif now - self.starved_since > self.pool.policy.capacity_wait_s:
            raise NoCapacity(f"no {self.pool.kind} actor could be placed for "
                             f"{self.pool.policy.capacity_wait_s:.0f}s while documents waited")


class NoCapacity(RuntimeError):
    """A lane had work and no actor Ray could place (no node offers what its actors ask for)."""


def drive(lanes: list[Lane], *, poll_s: float = 0.5, tick: Callable[[], None] | None = None) -> None:
    for lane in lanes:
        lane.pool.start()
    try:
        while True:
            if tick is not None:
                tick()
            for lane in lanes:
                lane.fill()
            owners = {ref: (lane, slot) for lane in lanes for ref, slot in lane.pool.in_flight().items()}
            if not owners and not any(lane.waiting() for lane in lanes):
                # Nothing running and nothing left to hand out: every source is dry.
                return
            now = time.monotonic()
            for lane in lanes:
                lane.check_capacity(now)
            starting = [ref for lane in lanes for ref in lane.pool.starting()]
            timeout = min([poll_s, *(lane.pool.seconds_to_next_deadline() for lane in lanes)])
            if not owners and not starting:
                time.sleep(timeout)
                continue
            ready, _ = ray.wait([*owners, *starting], num_returns=1, timeout=timeout)
            for ref in ready:
                if ref in owners:  # otherwise an actor came up: the next turn hands it work
                    lane, slot = owners[ref]
                    lane.pool.collect(slot, lane.on_result)
            for lane in lanes:
                lane.pool.enforce_deadlines(lane.on_result)
    finally:
        for lane in lanes:
            lane.pool.shutdown()
