"""Named failpoints for crash-safety tests: `POLICY_RAY_FAILPOINTS=after_write:policies` makes the
process kill itself (SIGKILL, no cleanup) when it reaches that point. `name=raise` raises instead,
`name@3` fires on the third time the point is reached. Off and free unless the variable is set.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "POLICY_RAY_FAILPOINTS"
POINTS = (
    "night_started",
    "before_write:extractions", "after_write:extractions",
    "before_write:policies", "after_write:policies",
    "before_write:dead_letters", "after_write:dead_letters",
    "before_audit", "after_audit",
    "before_write:documents", "after_write:documents",
    "between_micro_batches",
    "ocr_handoff",
    "before_batch_close", "after_batch_close",
)


class FailpointHit(Exception):
    """Raised by a failpoint set to `raise`: lets an in-process test stop a night at that point."""


def _parse(spec: str) -> dict[str, tuple[str, int]]:
    points: dict[str, tuple[str, int]] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, action = item.partition("=")
        name, _, nth = name.partition("@")
        points[name] = (action or "kill", int(nth or 1))
    return points


_ARMED = _parse(os.environ.get(ENV, ""))
_SEEN: Counter[str] = Counter()


def arm(spec: str) -> None:
    """Arm failpoints in this process (tests); '' disarms."""
    global _ARMED
    _ARMED = _parse(spec)
    _SEEN.clear()


def reach(name: str) -> None:
    if not _ARMED or name not in _ARMED:
        return
    _SEEN[name] += 1
    action, nth = _ARMED[name]
    if _SEEN[name] != nth:
        return
    if action == "raise":
        raise FailpointHit(name)
    os.kill(os.getpid(), signal.SIGKILL)
