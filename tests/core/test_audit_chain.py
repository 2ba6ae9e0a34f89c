"""The hash chain and whole-row hashes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policy_ray.core.audit_chain import (
    GENESIS,
    Draft,
    PublishedHead,
    Stage,
    check_anchor,
    check_chain,
    check_published,
    extend,
)
from policy_ray.core.row_digest import row_sha256

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _chain(n: int) -> list[dict[str, object]]:
    drafts = [Draft("b", Stage.RECEIVED, f"k{i}", "s", "s", row_sha256=f"{i:064x}") for i in range(n)]
    return [e.__dict__ for e in extend(0, GENESIS, drafts, NOW)]


def test_a_chain_verifies_and_an_edited_row_hash_breaks_it() -> None:
    rows = _chain(5)
    count, head, brk = check_chain(rows)
    assert count == 5 and brk is None and head == rows[-1]["entry_hash"]
    rows[2] = {**rows[2], "row_sha256": "f" * 64}  # the row hash is part of the sealed content
    assert check_chain(rows)[2] is not None and check_chain(rows)[2].seq == 3  # type: ignore[union-attr]


def test_a_chain_cut_at_its_tail_verifies_alone_but_not_against_its_anchor() -> None:
    rows = _chain(6)
    count, head, brk = check_chain(rows[:4])
    assert brk is None
    cut = check_anchor(count, head, 6, str(rows[-1]["entry_hash"]), "audit_log version 9")
    assert cut is not None and cut.seq == 5 and "entries 5..6 are missing" in cut.reason
    assert check_anchor(6, str(rows[-1]["entry_hash"]), 6, str(rows[-1]["entry_hash"]), "x") is None
    assert check_anchor(6, "0" * 64, 6, str(rows[-1]["entry_hash"]), "x") is not None


def test_row_hashes_cover_every_column_but_a_dead_letters_status() -> None:
    row = {"idempotency_key": "k", "source_uri": "/a.pdf", "payload_zlib": b"\x01\x02", "status": "open"}
    base = row_sha256("dead_letters", row)
    assert row_sha256("dead_letters", {**row, "status": "resolved"}) == base  # a replay may change it
    assert row_sha256("dead_letters", {**row, "source_uri": "/b.pdf"}) != base
    assert row_sha256("dead_letters", {**row, "payload_zlib": b"\x01\x03"}) != base
    assert row_sha256("policies", {**row, "status": "resolved"}) != row_sha256("policies", row)


def test_a_published_head_reads_and_prints_as_seq_colon_hash() -> None:
    head = PublishedHead.parse(f" 42:{'ab' * 32}\n")
    assert (head.seq, str(head)) == (42, f"42:{'ab' * 32}")
    for bad in ("42", f"0:{'ab' * 32}", f"x:{'ab' * 32}", "42:abc", f"42:{'AB' * 32}"):
        with pytest.raises(ValueError, match="SEQ:HASH"):
            PublishedHead.parse(bad)
    assert check_published(head, 50, "ab" * 32) is None
    rewritten = check_published(head, 50, "cd" * 32)
    assert rewritten is not None and rewritten.seq == 42 and "rewritten" in rewritten.reason
    cut = check_published(head, 41, None)
    assert cut is not None and "entries removed" in cut.reason
