"""A pool of recyclable actors with per-document deadlines, retries on fresh actors, and poison handling.

Ray gives `max_calls` to tasks only; actors live until killed. This pool retires an actor after
`max_calls` documents or once its RSS passes the recycle threshold, kills one whose document overruns
its deadline, replaces one that crashed, and retries the document on a fresh actor. After
`max_attempts` worker failures the document is declared poison and handed back as a dead letter. The
rest of the night never waits for it.

A document is handed only to an actor Ray has placed and started (`__ray_ready__` resolved): an actor
waiting for a node (the cluster is still scaling up, or the node it replaced is gone) is never given a
document, so its wait never counts against a deadline. `resize` grows the pool when the cluster grows;
`shrink` gives actors back when it loses nodes (or the work ran dry): an actor still waiting for a node
leaves at once, so it stops asking the autoscaler for one, and a busy actor leaves after its document.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError

from policy_ray import logs
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.errors import WORKER_FAILURES, Failure, FailureCategory

ActorFactory = Callable[[str], Any]
FRESH_WAIT_S = 30.0  # how long a retry waits for a fresh actor to be placed before any actor may take it


@dataclass(frozen=True)
class PoolPolicy:
    size: int
    max_calls: int
    rss_limit_mb: float
    deadline_s: float
    max_attempts: int
    poll_s: float = 0.5
    timeout_category: FailureCategory = FailureCategory.TIMEOUT
    capacity_wait_s: float = 1200.0  # work waiting and no actor of the pool placed this long: NoCapacity


@dataclass
class PoolStats:
    actors_started: int = 0
    recycled: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    poison: int = 0
    shrunk: int = 0
    pids: set[int] = field(default_factory=set)
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"actors_started": self.actors_started, "recycled": dict(self.recycled), "retries": self.retries,
                "poison": self.poison, "shrunk": self.shrunk, "distinct_pids": len(self.pids),
                "peak_rss_mb": self.peak_rss_mb}


@dataclass
class _Slot:
    index: int
    actor: Any
    name: str
    ready: Any = None  # ObjectRef of actor.__ray_ready__(): resolves once Ray has placed and started it
    live: bool = False
    task: DocumentTask | None = None
    ref: Any = None
    started: float = 0.0
    retiring: bool = False  # the pool shrank: this actor leaves after its current document
    served: int = 0  # documents handed to this actor: 0 means fresh, the place for a retry
    created: float = field(default_factory=time.monotonic)


class RecyclingActorPool:
    def __init__(self, factory: ActorFactory, policy: PoolPolicy, *, kind: str = "extractor"):
        self.factory = factory
        self.policy = policy
        self.kind = kind
        self.stats = PoolStats()
        self._generation = 0
        self._slots: list[_Slot] = []
        self.retries: deque[DocumentTask] = deque()
        self.log = logs.logger.bind(stage=kind)

    @property
    def stage(self) -> str:
        """The lifecycle stage a worker failure is recorded under (the stage the worker runs)."""
        return "ocr" if self.kind == "ocr" else "extract"

    # ---- actor lifecycle -----------------------------------------------------------------------------

    def _start(self, index: int) -> _Slot:
        self._generation += 1
        name = f"{self.kind}-{index}-g{self._generation}"
        self.stats.actors_started += 1
        actor = self.factory(name)
        return _Slot(index=index, actor=actor, name=name, ready=actor.__ray_ready__.remote())

    def _replace(self, slot: _Slot, reason: str, *, graceful: bool) -> None:
        self.stats.recycled[reason] += 1
        self._stop(slot, graceful=graceful)
        if slot.retiring:
            self._remove(slot)
            return
        self.log.info("replacing actor", actor_id=slot.name, reason=reason)
        self._slots[slot.index] = self._start(slot.index)

    @staticmethod
    def _stop(slot: _Slot, *, graceful: bool) -> None:
        try:
            if graceful:
                slot.actor.__ray_terminate__.remote()  # finishes nothing pending: it has no queue
            else:
                ray.kill(slot.actor, no_restart=True)  # also withdraws a placement still pending
        except RayError:
            pass

    def _remove(self, slot: _Slot) -> None:
        self._slots = [s for s in self._slots if s is not slot]
        for position, kept in enumerate(self._slots):
            kept.index = position
        self.log.info("actor left the pool", actor_id=slot.name, size=self.size)

    def shutdown(self) -> None:
        for slot in self._slots:
            with contextlib.suppress(RayError):
                ray.kill(slot.actor, no_restart=True)
        self._slots = []

    # ---- stepping API: the scheduler drives one or more pools with these -----------------------------

    def start(self) -> None:
        self._slots = [self._start(i) for i in range(self.policy.size)]
        self.retries.clear()

    def resize(self, size: int) -> int:
        """Grow to `size` actors (the cluster grew); how many were added. An actor that cannot be placed
        yet just waits, and is handed nothing. A retiring actor is kept on before any new one starts."""
        added = 0
        for slot in self._slots:
            if self.size >= size:
                break
            if slot.retiring:
                slot.retiring = False
                added += 1
        while self.size < size:
            self._slots.append(self._start(len(self._slots)))
            added += 1
        if added:
            self.log.info("pool grown", size=self.size, added=added)
        return added

    def shrink(self, size: int) -> int:
        """Give back actors beyond `size` (never below one); how many leave. Actors still waiting for a
        node go first, then idle ones; a busy one is marked and leaves once its document is back."""
        staying = [s for s in self._slots if not s.retiring]
        excess = len(staying) - max(1, size)
        if excess <= 0:
            return 0
        leaving = sorted(staying, key=lambda s: (s.live, s.task is not None))[:excess]
        for slot in leaving:
            slot.retiring = True
            if slot.task is None:
                self._stop(slot, graceful=slot.live)
                self._remove(slot)
        self.stats.shrunk += excess
        self.log.info("pool shrunk", size=self.size, leaving=excess)
        return excess

    @property
    def size(self) -> int:
        """Actors the pool keeps (retiring ones, still finishing a document, not counted)."""
        return sum(not s.retiring for s in self._slots)

    def _promote(self) -> None:
        waiting = {s.ready: s for s in self._slots if not s.live}
        if waiting:
            ready, _ = ray.wait(list(waiting), num_returns=len(waiting), timeout=0)
            for ref in ready:
                waiting[ref].live = True

    def starting(self) -> list[Any]:
        """Readiness refs of actors Ray has not placed or started yet (the scheduler waits on them too)."""
        self._promote()
        return [s.ready for s in self._slots if not s.live]

    def live_count(self) -> int:
        return sum(s.live for s in self._slots)

    def idle(self) -> list[_Slot]:
        """Slots whose actor is up and has no document."""
        self._promote()
        return [s for s in self._slots if s.task is None and s.live]

    def submit(self, slot: _Slot, task: DocumentTask) -> None:
        slot.task, slot.started = task, time.monotonic()
        slot.served += 1
        slot.ref = slot.actor.process.remote(task)

    def takes_retry(self, slot: _Slot) -> bool:
        """A retry goes to a fresh actor (the replacement started when its document failed) unless none
        is coming: then to any actor, so a retry never waits on an actor the cluster cannot place."""
        if slot.served == 0:
            return True
        now = time.monotonic()
        return not any(s.served == 0 and not s.retiring and (s.live or now - s.created < FRESH_WAIT_S)
                       for s in self._slots)

    def in_flight(self) -> dict[Any, _Slot]:
        return {s.ref: s for s in self._slots if s.task is not None}

    def seconds_to_next_deadline(self) -> float:
        busy = [s for s in self._slots if s.task is not None]
        if not busy:
            return self.policy.poll_s
        now = time.monotonic()
        return max(0.01, min(s.started + self.policy.deadline_s - now for s in busy))

    def collect(self, slot: _Slot, on_result: Callable[[DocumentResult], None]) -> None:
        self._collect(slot, on_result, self.retries)

    def enforce_deadlines(self, on_result: Callable[[DocumentResult], None]) -> None:
        self._enforce_deadlines(on_result, self.retries)

    def run(self, tasks: Iterator[DocumentTask], on_result: Callable[[DocumentResult], None]) -> None:
        """Drive this pool alone over `tasks` (the scheduler module drives several at once)."""
        from policy_ray.actors.scheduler import Lane, drive

        drive([Lane(self, lambda: next(tasks, None), on_result)])

    def _collect(self, slot: _Slot, on_result: Callable[[DocumentResult], None],
                 retries: deque[DocumentTask]) -> None:
        task = slot.task
        assert task is not None
        slot.task, ref, slot.ref = None, slot.ref, None
        try:
            result: DocumentResult = ray.get(ref, timeout=60)
        except RayActorError as exc:  # the actor died: segfault, os._exit, OOM kill, lost node
            self._replace(slot, "crashed", graceful=False)
            self._retry_or_poison(task, Failure.of(FailureCategory.WORKER_CRASH, self.stage,
                                                   f"{self.kind} actor died: {type(exc).__name__}",
                                                   component=self.kind), on_result, retries)
            return
        except (RayTaskError, GetTimeoutError, RayError) as exc:
            self._replace(slot, "errored", graceful=False)
            failure = Failure.from_exception(exc, stage=self.stage, component=self.kind)
            self._retry_or_poison(task, Failure.of(FailureCategory.WORKER_CRASH, self.stage, failure.message,
                                                   component=self.kind), on_result, retries)
            return
        worker = result.worker
        if worker is not None:
            self.stats.pids.add(worker.pid)
            self.stats.peak_rss_mb = max(self.stats.peak_rss_mb, worker.rss_mb)
        if result.failure is not None and (result.failure.category in WORKER_FAILURES or
                                           (worker is not None and worker.retire)):
            self._replace(slot, result.failure.category.value, graceful=False)
            self._retry_or_poison(task, result.failure, on_result, retries)
            return
        on_result(result)
        if slot.retiring:
            self._stop(slot, graceful=True)
            self._remove(slot)
        elif worker is not None and worker.calls >= self.policy.max_calls:
            self._replace(slot, "max_calls", graceful=True)
        elif worker is not None and worker.rss_mb >= self.policy.rss_limit_mb:
            self._replace(slot, "rss", graceful=True)

    def _enforce_deadlines(self, on_result: Callable[[DocumentResult], None],
                           retries: deque[DocumentTask]) -> None:
        now = time.monotonic()
        for slot in list(self._slots):
            if slot.task is None or now - slot.started < self.policy.deadline_s:
                continue
            task = slot.task
            slot.task = slot.ref = None
            self._replace(slot, "deadline", graceful=False)
            failure = Failure.of(self.policy.timeout_category, self.stage,
                                 f"no result within {self.policy.deadline_s:.0f}s", component=self.kind)
            self._retry_or_poison(task, failure, on_result, retries)

    def _retry_or_poison(self, task: DocumentTask, failure: Failure, on_result: Callable[[DocumentResult], None],
                         retries: deque[DocumentTask]) -> None:
        log = self.log.bind(batch_id=task.batch_id, doc=task.short, attempt=task.attempt)
        if task.attempt < self.policy.max_attempts:
            self.stats.retries += 1
            log.warning("document failed its worker; retrying on a fresh actor", category=failure.category.value)
            retries.append(task.next_attempt(failure))
            return
        self.stats.poison += 1
        history = ", ".join(f.category.value for f in (*task.failures, failure))
        message = f"poison document: {task.attempt} attempts failed ({history}); last: {failure.message}"
        poison = Failure(category=failure.category, stage=failure.stage, component=self.kind, message=message,
                         stack_trace=failure.stack_trace, retryable=False)
        log.error("poison document sent to the dead-letter queue", category=failure.category.value)
        final = dataclasses.replace(task, failures=(*task.failures, failure))
        on_result(DocumentResult(task=final, status="dead_letter", failure=poison))
