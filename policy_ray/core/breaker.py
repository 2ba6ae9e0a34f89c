"""Circuit breaker for the OCR route, as a pure state machine (time is passed in, never read).

closed -> open     when the failure rate over the sliding window passes its threshold (with enough
                   samples), or the OCR queue is deeper than its limit;
open -> half_open  after the cool-down;
half_open -> closed after `probe_successes` consecutive successes; -> open on any failure. While
                   half-open, at most `probe_successes` documents are out as probes at a time: a
                   backlog must not rush through a breaker that has not seen OCR work again yet.
While open, documents bound for OCR become retryable `ocr_circuit_open` dead letters.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    window_s: float = 300.0
    failure_rate: float = 0.5
    min_samples: int = 10
    max_queue_depth: int = 1000
    cooldown_s: float = 60.0
    probe_successes: int = 3

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BreakerConfig:
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in data.items()})


@dataclass(frozen=True)
class Transition:
    at: float
    source: BreakerState
    target: BreakerState
    reason: str


@dataclass
class CircuitBreaker:
    config: BreakerConfig
    state: BreakerState = BreakerState.CLOSED
    opened_at: float = 0.0
    probes_ok: int = 0
    probes_out: int = 0  # documents let through while half-open whose outcome is not back yet
    outcomes: deque[tuple[float, bool]] = field(default_factory=deque)
    transitions: list[Transition] = field(default_factory=list)
    rejected: int = 0

    def allow(self, now: float) -> bool:
        """May a document be sent to OCR now? Counts the ones turned away."""
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.config.cooldown_s:
            self._move(now, BreakerState.HALF_OPEN, f"cool-down of {self.config.cooldown_s:.0f}s over")
        if self.state is BreakerState.OPEN or (
                self.state is BreakerState.HALF_OPEN and self.probes_out >= self.config.probe_successes):
            self.rejected += 1
            return False
        if self.state is BreakerState.HALF_OPEN:
            self.probes_out += 1
        return True

    def record(self, now: float, *, success: bool) -> None:
        self.outcomes.append((now, success))
        self._expire(now)
        if self.state is BreakerState.HALF_OPEN:
            self.probes_out = max(0, self.probes_out - 1)
            if not success:
                self._open(now, "a probe failed while half-open")
                return
            self.probes_ok += 1
            if self.probes_ok >= self.config.probe_successes:
                self._move(now, BreakerState.CLOSED, f"{self.probes_ok} probes succeeded")
            return
        if self.state is BreakerState.CLOSED:
            total = len(self.outcomes)
            failures = sum(1 for _, ok in self.outcomes if not ok)
            if total >= self.config.min_samples and failures / total >= self.config.failure_rate:
                self._open(now, f"failure rate {failures}/{total} over {self.config.window_s:.0f}s")

    def observe_queue(self, now: float, depth: int) -> None:
        if self.state is BreakerState.CLOSED and depth > self.config.max_queue_depth:
            self._open(now, f"OCR queue depth {depth} > {self.config.max_queue_depth}")

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state.value, "rejected": self.rejected, "transitions": len(self.transitions),
                "history": [(t.source.value, t.target.value, t.reason) for t in self.transitions]}

    def _expire(self, now: float) -> None:
        while self.outcomes and now - self.outcomes[0][0] > self.config.window_s:
            self.outcomes.popleft()

    def _open(self, now: float, reason: str) -> None:
        self.opened_at = now
        self._move(now, BreakerState.OPEN, reason)

    def _move(self, now: float, target: BreakerState, reason: str) -> None:
        self.transitions.append(Transition(now, self.state, target, reason))
        self.state = target
        self.probes_ok = self.probes_out = 0
        if target is not BreakerState.CLOSED:
            self.outcomes.clear()  # a fresh window after every change of state
