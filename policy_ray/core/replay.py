"""Dead-letter replay, pure: which attempt a replay is, which batch it runs as, and what became of
each dead letter. Outcomes are found by the dead letter's own document (its content hash), never by
its path: a file replaced since the night is a different document, not a second try of this one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policy_ray.core.batch_status import REPLAY_ID_PREFIX
from policy_ray.core.identity import sha256_hex

OPEN, REQUEUED, RESOLVED, FAILED_AGAIN = "open", "requeued", "resolved", "failed_again"
FINISHED = (RESOLVED, FAILED_AGAIN)
# The dead letter a replay batch records when a replayed document fails again: the record of that
# attempt, not a second queue entry (the original dead letter, now `failed_again`, stays the one to
# list and replay).
REPLAY_ATTEMPT = "replay_attempt"


def unknown_content(doc_sha256: str, source_uri: str) -> bool:
    """A dead letter recorded when its file could not be read has no content hash, only a key made
    from its location (flows/nightly.py `_task_for`): its replay cannot be checked against one."""
    return doc_sha256 == sha256_hex(f"unreadable:{source_uri}".encode())


def attempt_of(status: str, resolution: Mapping[str, Any] | None) -> int:
    """The replay attempt a dead letter takes part in now: the one in flight while it is `requeued` (a
    killed replay resumes), otherwise one after the last finished one."""
    last = int((resolution or {}).get("attempt") or (1 if (resolution or {}).get("replay_batch_id") else 0))
    return max(last, 1) if status == REQUEUED else last + 1


def replay_batch_id(attempts: Mapping[str, int]) -> str:
    """The same dead letters at the same attempts run as the same batch (resume); a new attempt of any
    of them is a new batch."""
    text = "\n".join(f"{key}:{n}" for key, n in sorted(attempts.items()))
    return f"{REPLAY_ID_PREFIX}{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def step(previous: Mapping[str, Any] | None, previous_status: str, outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The dead letter's new `resolution`: this step, with every finished attempt before it kept in
    `history` (the column holds the latest step; the audit trail holds them all)."""
    prior = dict(previous or {})
    history = list(prior.pop("history", []))
    if previous_status in FINISHED and prior:
        history.append(prior)
    return {**outcome, "history": history}


def outcome_for(doc_sha256: str, source_uri: str, replay_key: str, ledger: Sequence[Mapping[str, Any]],
                dead: Mapping[str, Mapping[str, Any]], refused: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the replay made of one dead letter.

    `replay_key`: the idempotency key its document has in the replay batch; `ledger`: the replay
    batch's ledger rows; `dead`: the replay batch's dead letters by key; `refused`: why its file was
    not re-submitted (source_changed, source_unreadable), if it was not.
    """
    if unknown_content(doc_sha256, source_uri):
        rows = [r for r in ledger if r["source_uri"] == source_uri]
    else:
        rows = [r for r in ledger if r["idempotency_key"] == replay_key]
    order = {"committed": 0, "dead_lettered": 1, "duplicate": 2}
    rows.sort(key=lambda r: order.get(r["disposition"], 3))  # an in-batch copy defers to the document itself
    if rows:
        row = rows[0]
        if row["disposition"] == "committed":
            return {"status": RESOLVED, "policies_key": row["idempotency_key"]}
        if row["disposition"] == "duplicate":
            return {"status": RESOLVED, "policies_key": row["duplicate_of"],
                    "note": "already committed by another batch"}
        failure = dead.get(row["idempotency_key"], {})
        return {"status": FAILED_AGAIN, "failure_category": failure.get("failure_category"),
                "reason": (failure.get("error_message") or "")[:300]}
    if refused is not None:
        return {"status": FAILED_AGAIN, **refused}
    other = next((r for r in ledger if r["source_uri"] == source_uri), None)
    if other is not None:  # the file changed between the replay's check and its hashing
        return {"status": FAILED_AGAIN, "failure_category": "source_changed",
                "reason": "the file changed during the replay; its new content was refused (a source_changed "
                          "dead letter in the replay batch), not ingested",
                "other_document": other["idempotency_key"]}
    return {"status": FAILED_AGAIN, "failure_category": None, "reason": "not processed by the replay"}


def attempts_of(replay_dead: Iterable[Mapping[str, Any]], originals: Iterable[Mapping[str, Any]],
                replay_keys: Mapping[str, str]) -> dict[str, list[str]]:
    """Replay-batch dead letter key -> the original dead letters it is an attempt of (by document key,
    or by path for an original without a content hash)."""
    originals = list(originals)
    out: dict[str, list[str]] = {}
    for row in replay_dead:
        out[row["idempotency_key"]] = sorted(
            o["idempotency_key"] for o in originals
            if replay_keys[o["idempotency_key"]] == row["idempotency_key"]
            or (unknown_content(o["doc_sha256"], o["source_uri"]) and o["source_uri"] == row["source_uri"]))
    return out


def tally(outcomes: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """(resolved, failed again)."""
    statuses = [o["status"] for o in outcomes]
    return statuses.count(RESOLVED), statuses.count(FAILED_AGAIN)
