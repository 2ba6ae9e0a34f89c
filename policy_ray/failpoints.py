"""Named failpoints for crash-safety tests: `POLICY_RAY_FAILPOINTS=after_write:policies` makes the
process kill itself (SIGKILL, no cleanup) when it reaches that point. `name=raise` raises instead,
`name=kill` says the default out loud, `name@3` fires on the third time the point is reached.

`POLICY_RAY_FAILPOINT_LOG=FILE` appends the name of every point reached to FILE (one line each,
written straight to the file descriptor, so a SIGKILL loses nothing): a harness that kills the job
at a random moment reads the last line to learn where the kill landed.

Off and free unless one of the variables is set.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "POLICY_RAY_FAILPOINTS"
LOG_ENV = "POLICY_RAY_FAILPOINT_LOG"
POINTS = (
    "night_started",
    "before_write:extractions", "after_write:extractions",
    "before_write:policies", "after_write:policies",
    "before_write:dead_letters", "after_write:dead_letters",
    "before_write:documents", "after_write:documents",
    "before_audit", "after_audit",
    "between_micro_batches",
    "ocr_handoff",
    "before_batch_close", "after_batch_close",
)
ACTIONS = ("kill", "raise")


class FailpointHit(Exception):
    """Raised by a failpoint set to `raise`: lets an in-process test stop a night at that point."""


def _parse(spec: str) -> dict[str, tuple[str, int]]:
    points: dict[str, tuple[str, int]] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, action = item.partition("=")
        name, _, nth = name.partition("@")
        if name not in POINTS or (action or "kill") not in ACTIONS:
            raise ValueError(f"{ENV}: unknown failpoint or action in {item!r} (points: {', '.join(POINTS)})")
        points[name] = (action or "kill", int(nth or 1))
    return points


_ARMED = _parse(os.environ.get(ENV, ""))
_SEEN: Counter[str] = Counter()
_LOG_FD: int | None = None


def _open_log(path: str) -> int | None:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if path else None


_LOG_FD = _open_log(os.environ.get(LOG_ENV, ""))


def arm(spec: str, log: str = "") -> None:
    """Arm failpoints in this process (tests); '' disarms. `log`: a trace file, as LOG_ENV."""
    global _ARMED, _LOG_FD
    _ARMED = _parse(spec)
    _SEEN.clear()
    if _LOG_FD is not None:
        os.close(_LOG_FD)
    _LOG_FD = _open_log(log)


def reach(name: str) -> None:
    if _LOG_FD is not None:
        os.write(_LOG_FD, f"{name}\n".encode())
    if not _ARMED or name not in _ARMED:
        return
    _SEEN[name] += 1
    action, nth = _ARMED[name]
    if _SEEN[name] != nth:
        return
    if action == "raise":
        raise FailpointHit(name)
    os.kill(os.getpid(), signal.SIGKILL)


def last_reached(log_path: str) -> str | None:
    """The last point a traced process reached (None: it died before the first)."""
    try:
        with open(log_path, "rb") as f:
            lines = f.read().decode(errors="replace").split()
    except FileNotFoundError:
        return None
    return lines[-1] if lines else None
