"""The lake-wide index of committed documents: every hit exact, every miss a miss, 72 bytes a document."""

from __future__ import annotations

import hashlib
import random

from policy_ray.core.committed_index import CommittedIndex
from policy_ray.core.identity import idempotency_key


def sha(n: int) -> str:
    return hashlib.sha256(f"doc-{n}".encode()).hexdigest()


def test_every_committed_document_maps_to_its_key_and_nothing_else_does() -> None:
    committed = {sha(n): idempotency_key(sha(n), f"2026-11-{n % 28 + 1:02d}") for n in range(5_000)}
    items = list(committed.items())
    random.Random(7).shuffle(items)
    # As a table scan yields them: several batches, one of them empty.
    batches = [([s for s, _ in items[i:i + 1500]], [k for _, k in items[i:i + 1500]]) for i in range(0, 5000, 1500)]
    index = CommittedIndex.build([*batches, ([], [])])
    assert len(index) == 5_000
    assert all(index.get(s) == k for s, k in committed.items())
    assert not any(sha(n) in index for n in range(5_000, 6_000))
    assert index.nbytes == 5_000 * 72


def test_documents_sharing_their_first_eight_bytes_are_told_apart() -> None:
    base = sha(1)
    twins = [base[:16] + hashlib.sha256(f"tail-{i}".encode()).hexdigest()[:48] for i in range(5)]
    index = CommittedIndex.build([(twins[:4], [sha(100 + i) for i in range(4)])])
    assert [index.get(t) for t in twins] == [sha(100 + i) for i in range(4)] + [None]


def test_values_that_are_not_sha256_hex_are_kept_exactly() -> None:
    odd = "unreadable-not-a-digest"
    index = CommittedIndex.build([([odd, sha(1), None], ["key-1", sha(2), sha(3)])])
    assert index.get(odd) == "key-1" and index.get(sha(1)) == sha(2) and len(index) == 2
    assert index.get("zz" * 32) is None


def test_an_empty_lake_finds_nothing() -> None:
    index = CommittedIndex.build([])
    assert len(index) == 0 and index.get(sha(1)) is None and sha(1) not in index
