"""The driver's growing key sets: exact membership at about 16 bytes a member."""

from __future__ import annotations

import hashlib
import random

from policy_ray.core.digest_set import WIDTH, DigestSet, sha256_digest, text_digest


def test_members_stay_members_across_merges_and_others_never_are() -> None:
    keys = [f"s3://night/{n:06d}.pdf" for n in range(20_000)]
    seen = DigestSet()
    for key in keys:
        seen.add_text(key)
    assert len(seen) == 20_000
    assert all(seen.has_text(k) for k in keys)
    assert not any(seen.has_text(f"s3://night/{n:06d}.pdf") for n in range(20_000, 25_000))
    seen.add_text(keys[0])  # adding a member again changes nothing
    assert len(seen) == 20_000


def test_members_ending_in_zero_bytes_are_told_apart() -> None:
    # numpy's fixed-width bytes drop trailing NULs when read back: the comparison must not.
    base = bytes(range(1, WIDTH - 1))
    twins = [base + b"\0\0", base + b"\0\1", base + b"\1\0"]
    digests = DigestSet([twins[0], twins[2]])
    for _ in range(5000):  # push the twins into the sorted block
        digests.add(random.Random(len(digests)).randbytes(WIDTH))
    assert twins[0] in digests and twins[2] in digests and twins[1] not in digests


def test_memory_grows_by_the_member_width_not_by_python_objects() -> None:
    digests = DigestSet(hashlib.sha256(str(n).encode()).digest()[:WIDTH] for n in range(100_000))
    assert len(digests) == 100_000
    # the block holds nearly all members; the tail is bounded by a sixteenth of it
    assert digests.nbytes >= 100_000 * WIDTH * 15 // 16


def test_a_copy_grows_on_its_own() -> None:
    original = DigestSet.of_texts(["a", "b"])
    grown = original.copy()
    grown.add_text("c")
    assert grown.has_text("c") and not original.has_text("c") and len(original) == 2


def test_sha256_members_are_its_leading_bytes_and_other_values_are_hashed() -> None:
    sha = hashlib.sha256(b"doc").hexdigest()
    assert sha256_digest(sha) == bytes.fromhex(sha)[:WIDTH]
    assert sha256_digest("unreadable:/x.pdf") == text_digest("unreadable:/x.pdf")
    assert sha256_digest("zz" * 32) == text_digest("zz" * 32)
    assert "not bytes" not in DigestSet() and b"short" not in DigestSet()
