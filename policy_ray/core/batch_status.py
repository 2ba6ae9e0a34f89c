"""Batch states, the transitions between them, and what reconciliation may do to each. Pure.

    (none) -> running -> completed -> quarantined -> released
                 ^  re-run of any settled batch  |

A quarantine and a release are *reviews*: decisions that stand until reconciliation or a reviewer
changes them, each with an audit entry (`batch_quarantined`, `batch_released`). A re-run of a
reviewed batch therefore closes with the reviewed status, not `completed`: only a release (a person)
lifts a quarantine, and only figures that changed since the release (a re-run added documents) put a
released batch back into quarantine. A running batch is never judged: its figures are not final, and
its close would overwrite whatever status a reconciliation wrote meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from policy_ray.core.audit_chain import Stage


class BatchStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    QUARANTINED = "quarantined"
    RELEASED = "released"


REVIEWED = frozenset({BatchStatus.QUARANTINED, BatchStatus.RELEASED})

# Every move a batch's status may make; anything else is refused. A close is RUNNING -> the status
# the batch had been reviewed to (or COMPLETED); QUARANTINED -> QUARANTINED renews the reasons when
# the figures changed and still deviate.
TRANSITIONS: Mapping[BatchStatus | None, frozenset[BatchStatus]] = {
    None: frozenset({BatchStatus.RUNNING}),
    BatchStatus.RUNNING: frozenset({BatchStatus.RUNNING, BatchStatus.COMPLETED, *REVIEWED}),
    BatchStatus.COMPLETED: frozenset({BatchStatus.RUNNING, BatchStatus.QUARANTINED}),
    BatchStatus.QUARANTINED: frozenset({BatchStatus.RUNNING, BatchStatus.QUARANTINED, BatchStatus.RELEASED}),
    BatchStatus.RELEASED: frozenset({BatchStatus.RUNNING, BatchStatus.QUARANTINED}),
}

# Replay batches (flows/replay.py) are a selection of failed documents, not a night: they are marked
# by their input ("dlq-replay:<batch>") and their id ("replay-<hash>"), with no column of their own,
# so a lake written before this rule needs no schema change.
REPLAY_INPUT_PREFIX = "dlq-replay:"
REPLAY_ID_PREFIX = "replay-"


class TransitionRefused(ValueError):
    """The batch's status does not allow this move."""


def check(current: BatchStatus | str | None, target: BatchStatus) -> BatchStatus:
    now = BatchStatus(current) if current is not None else None
    if target not in TRANSITIONS[now]:
        raise TransitionRefused(f"a batch that is {now.value if now else 'new'} cannot become {target.value}")
    return target


def is_replay(batch_id: str, input_uri: str | None) -> bool:
    return (input_uri or "").startswith(REPLAY_INPUT_PREFIX) or batch_id.startswith(REPLAY_ID_PREFIX)


def reviewed_status(stages: Iterable[str]) -> BatchStatus | None:
    """The last review of a batch, from its audit stages in chain order (None: never reviewed)."""
    last: BatchStatus | None = None
    for stage in stages:
        if stage == Stage.BATCH_QUARANTINED.value:
            last = BatchStatus.QUARANTINED
        elif stage == Stage.BATCH_RELEASED.value:
            last = BatchStatus.RELEASED
    return last


def status_after_run(reviewed: BatchStatus | None) -> BatchStatus:
    """What closing a run writes: the reviewed status if there is one, else completed."""
    return check(BatchStatus.RUNNING, reviewed if reviewed in REVIEWED else BatchStatus.COMPLETED)


@dataclass(frozen=True)
class Verdict:
    status: BatchStatus  # the status after this reconciliation
    quarantine: bool  # record a quarantine now: status, audit entry, alert, report
    new: bool  # this run is the first to find these deviations (reconcile exits 1)
    note: str


def judge(status: BatchStatus | str, deviating: bool, figures_changed: bool) -> Verdict:
    """What reconciliation does to a batch in `status`, given whether it deviates and whether its
    figures changed since its last review (quarantine or release)."""
    now = BatchStatus(status)
    if now is BatchStatus.RUNNING:
        return Verdict(now, False, False, "running: not judged until the run closes")
    if now is BatchStatus.COMPLETED:
        if deviating:
            return _quarantine(now, "deviates from its baseline: quarantined")
        return Verdict(now, False, False, "no deviation")
    if not figures_changed:
        note = ("already quarantined; release after review" if now is BatchStatus.QUARANTINED
                else "released after review; figures unchanged since")
        return Verdict(now, False, False, note)
    if deviating:
        return _quarantine(now, "figures changed since its review and deviate: quarantined again")
    if now is BatchStatus.QUARANTINED:
        return Verdict(now, False, False, "figures changed and no longer deviate; release after review")
    return Verdict(now, False, False, "figures changed since the release and still match the baseline")


def _quarantine(now: BatchStatus, note: str) -> Verdict:
    return Verdict(check(now, BatchStatus.QUARANTINED), True, True, note)


def can_release(status: BatchStatus | str | None) -> None:
    """Raises TransitionRefused unless the batch is quarantined (a release lifts a quarantine)."""
    if status is None or BatchStatus(status) is not BatchStatus.QUARANTINED:
        raise TransitionRefused(f"batch is {status or 'unknown'}, not quarantined: nothing to release")
    check(status, BatchStatus.RELEASED)
