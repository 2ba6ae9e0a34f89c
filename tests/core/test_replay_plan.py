"""Dead-letter replay, pure: attempts, replay batch ids, resolution history, and outcomes found by the
dead letter's own document rather than its path."""

from __future__ import annotations

from policy_ray.core.identity import sha256_hex
from policy_ray.core.replay import attempt_of, outcome_for, replay_batch_id, step, tally, unknown_content

SHA = "a" * 64


def test_a_requeued_dead_letter_resumes_its_attempt_and_a_finished_one_starts_the_next() -> None:
    assert attempt_of("open", None) == 1
    assert attempt_of("requeued", {"status": "requeued", "attempt": 1}) == 1  # a killed replay resumes
    assert attempt_of("failed_again", {"status": "failed_again", "attempt": 1}) == 2
    assert attempt_of("requeued", {"status": "requeued", "attempt": 2}) == 2
    assert attempt_of("failed_again", {"replay_batch_id": "replay-old"}) == 2  # written before attempts were kept


def test_the_batch_id_depends_on_keys_and_attempts() -> None:
    first = replay_batch_id({"k1": 1, "k2": 1})
    assert first == replay_batch_id({"k2": 1, "k1": 1})
    assert first.startswith("replay-")
    assert first != replay_batch_id({"k1": 2, "k2": 1}) != replay_batch_id({"k1": 1})


def test_each_finished_attempt_is_kept_in_the_history() -> None:
    one = step(None, "open", {"status": "requeued", "attempt": 1})
    assert one["history"] == []
    done = step(one, "requeued", {"status": "failed_again", "attempt": 1, "reason": "x"})
    assert done["history"] == []
    two = step(done, "failed_again", {"status": "requeued", "attempt": 2})
    assert [h["attempt"] for h in two["history"]] == [1] and two["history"][0]["reason"] == "x"
    resumed = step(two, "requeued", {"status": "requeued", "attempt": 2})
    assert [h["attempt"] for h in resumed["history"]] == [1]


def row(uri: str, key: str, disposition: str, duplicate_of: str | None = None) -> dict[str, str | None]:
    return {"source_uri": uri, "idempotency_key": key, "disposition": disposition, "duplicate_of": duplicate_of}


def test_the_outcome_is_found_by_the_documents_key_not_its_path() -> None:
    ledger = [row("/n/a.pdf", "new-content-key", "committed")]  # the path now holds other bytes
    got = outcome_for(SHA, "/n/a.pdf", "own-key", ledger, {}, None)
    assert got["status"] == "failed_again" and got["failure_category"] == "source_changed"
    assert got["other_document"] == "new-content-key"
    assert outcome_for(SHA, "/n/a.pdf", "new-content-key", ledger, {}, None) == {
        "status": "resolved", "policies_key": "new-content-key"}


def test_outcomes_of_each_disposition() -> None:
    dead = {"k": {"failure_category": "internal_error", "error_message": "injected failure"}}
    assert outcome_for(SHA, "/a", "k", [row("/a", "k", "dead_lettered")], dead, None) == {
        "status": "failed_again", "failure_category": "internal_error", "reason": "injected failure"}
    dup = outcome_for(SHA, "/a", "k", [row("/a", "k", "duplicate", "elsewhere")], {}, None)
    assert dup["status"] == "resolved" and dup["policies_key"] == "elsewhere"
    both = [row("/b", "k", "duplicate", "k"), row("/a", "k", "committed")]  # an in-batch copy defers
    assert outcome_for(SHA, "/b", "k", both, {}, None)["policies_key"] == "k"
    refused = {"failure_category": "source_unreadable", "reason": "gone"}
    assert outcome_for(SHA, "/a", "k", [], {}, refused) == {"status": "failed_again", **refused}
    assert outcome_for(SHA, "/a", "k", [], {}, None)["reason"] == "not processed by the replay"


def test_a_dead_letter_without_a_content_hash_is_found_by_its_path() -> None:
    uri = "/n/unreadable.pdf"
    pseudo = sha256_hex(f"unreadable:{uri}".encode())
    assert unknown_content(pseudo, uri) and not unknown_content(SHA, uri)
    got = outcome_for(pseudo, uri, "whatever", [row(uri, "real-key", "committed")], {}, None)
    assert got == {"status": "resolved", "policies_key": "real-key"}


def test_tally() -> None:
    assert tally([{"status": "resolved"}, {"status": "failed_again"}, {"status": "resolved"}]) == (2, 1)
