"""Batch states: every allowed transition, every refused one, what a re-run closes with, and what
reconciliation may do to a batch in each status."""

from __future__ import annotations

import itertools

import pytest

from policy_ray.core.batch_status import (
    TRANSITIONS,
    BatchStatus,
    TransitionRefused,
    can_release,
    check,
    is_replay,
    judge,
    reviewed_status,
    status_after_run,
)

R, C, Q, L = BatchStatus.RUNNING, BatchStatus.COMPLETED, BatchStatus.QUARANTINED, BatchStatus.RELEASED
ALLOWED = {(None, R), (R, R), (R, C), (R, Q), (R, L), (C, R), (C, Q), (Q, R), (Q, Q), (Q, L), (L, R), (L, Q)}


@pytest.mark.parametrize(("current", "target"), list(itertools.product([None, R, C, Q, L], [R, C, Q, L])))
def test_each_transition_is_allowed_or_refused_by_the_table(current: BatchStatus | None,
                                                            target: BatchStatus) -> None:
    if (current, target) in ALLOWED:
        assert check(current, target) is target
    else:
        with pytest.raises(TransitionRefused):
            check(current, target)
    assert (target in TRANSITIONS[current]) == ((current, target) in ALLOWED)


def test_nothing_but_a_run_leaves_completed_for_released_or_running_for_nothing() -> None:
    with pytest.raises(TransitionRefused):
        check(C, L)  # only a quarantined batch is released
    with pytest.raises(TransitionRefused):
        check(L, L)
    with pytest.raises(TransitionRefused):
        check(Q, C)  # a quarantine is never quietly undone


@pytest.mark.parametrize(("reviewed", "closes_as"), [(None, C), (Q, Q), (L, L)])
def test_a_rerun_closes_with_the_last_review(reviewed: BatchStatus | None, closes_as: BatchStatus) -> None:
    assert status_after_run(reviewed) is closes_as


def test_the_last_review_in_the_audit_trail_decides() -> None:
    assert reviewed_status(["batch_started", "received", "batch_completed"]) is None
    assert reviewed_status(["batch_completed", "batch_quarantined"]) is Q
    assert reviewed_status(["batch_quarantined", "batch_released"]) is L
    assert reviewed_status(["batch_quarantined", "batch_released", "batch_started", "batch_quarantined"]) is Q


@pytest.mark.parametrize(
    ("status", "deviating", "changed", "after", "quarantine", "new"),
    [
        (R, True, True, R, False, False),  # never judged while running
        (C, False, False, C, False, False),
        (C, True, False, Q, True, True),
        (Q, True, False, Q, False, False),  # already reported: no second alert, exit 0
        (Q, True, True, Q, True, True),  # the figures changed and still deviate: reasons renewed
        (Q, False, True, Q, False, False),  # only a release lifts a quarantine
        (L, True, False, L, False, False),  # reviewed and released on these very figures
        (L, True, True, Q, True, True),  # changed since the release (a re-run added documents)
        (L, False, True, L, False, False),
    ],
)
def test_what_reconciliation_does_in_each_status(status: BatchStatus, deviating: bool, changed: bool,
                                                 after: BatchStatus, quarantine: bool, new: bool) -> None:
    verdict = judge(status, deviating, changed)
    assert (verdict.status, verdict.quarantine, verdict.new) == (after, quarantine, new)
    assert verdict.note


def test_only_a_quarantined_batch_can_be_released() -> None:
    can_release("quarantined")
    for status in ("running", "completed", "released", None):
        with pytest.raises(TransitionRefused):
            can_release(status)


def test_replay_batches_are_told_from_nights_by_their_input_or_id() -> None:
    assert is_replay("replay-0123456789ab", "dlq-replay:replay-0123456789ab")
    assert is_replay("replay-0123456789ab", None)
    assert not is_replay("2026-12-01-db103e8f", "/data/incoming/2026-12-01")
