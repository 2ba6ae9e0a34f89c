"""A growing set of keys that costs about 16 bytes a member (pure).

The driver remembers, for the whole night, which documents it has handed out and which rows and audit
steps it has staged: that is how a file delivered twice is recorded as a duplicate and nothing is staged
twice. A Python set of hex strings costs ~150 bytes a member, so a 100,000-document night would grow
the driver by tens of MB for bookkeeping alone. Here members are 16-byte digests (blake2b of a text key,
or the leading bytes of a sha256) kept in one sorted numpy block, searched by bisection, plus a small
Python set of recent additions merged into the block once it reaches a fraction of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

WIDTH = 16  # bytes: collisions at 2**-64 per pair, far below any night's size
_DTYPE = np.dtype(f"S{WIDTH}")
MIN_TAIL = 4096
TAIL_FRACTION = 16  # the tail merges when it holds 1/16 of the block: amortized O(log n) per member


def text_digest(text: str) -> bytes:
    """The member for a text key (a source URI, an idempotency key with a stage)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=WIDTH).digest()


def sha256_digest(hex_sha256: str) -> bytes:
    """The member for a document's content hash: its leading bytes (it is already a digest), else a digest
    of the text for a value that is not hex."""
    try:
        return bytes.fromhex(hex_sha256)[:WIDTH] if len(hex_sha256) == 64 else text_digest(hex_sha256)
    except ValueError:
        return text_digest(hex_sha256)


class DigestSet:
    def __init__(self, members: Iterable[bytes] = ()) -> None:
        self._block = np.empty(0, dtype=_DTYPE)
        self._tail: set[bytes] = set()
        for member in members:
            self.add(member)

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> DigestSet:
        return cls(text_digest(t) for t in texts)

    def add(self, member: bytes) -> None:
        if len(member) != WIDTH:
            raise ValueError(f"a member is {WIDTH} bytes, got {len(member)}")
        if member in self:
            return
        self._tail.add(member)
        if len(self._tail) >= max(MIN_TAIL, len(self._block) // TAIL_FRACTION):
            self._merge()

    def add_text(self, text: str) -> None:
        self.add(text_digest(text))

    def has_text(self, text: str) -> bool:
        return text_digest(text) in self

    def __contains__(self, member: object) -> bool:
        if not isinstance(member, bytes) or len(member) != WIDTH:
            return False
        if member in self._tail:
            return True
        i = int(np.searchsorted(self._block, member))
        # numpy's S dtype drops trailing NUL bytes when it hands a value back: compare padded.
        return i < len(self._block) and self._block[i].ljust(WIDTH, b"\0") == member

    def __len__(self) -> int:
        return len(self._block) + len(self._tail)

    def copy(self) -> DigestSet:
        out = DigestSet()
        out._block = self._block.copy()
        out._tail = set(self._tail)
        return out

    @property
    def nbytes(self) -> int:
        """The sorted block's size (the tail is bounded by a fraction of it)."""
        return int(self._block.nbytes)

    def _merge(self) -> None:
        tail = np.array(sorted(self._tail), dtype=_DTYPE)
        self._block = np.concatenate([self._block, tail])
        self._block.sort(kind="stable")
        self._tail = set()
