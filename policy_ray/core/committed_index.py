"""Every document the lake has committed, any night: doc_sha256 -> idempotency_key, compact (pure).

The driver checks each listed document against this to record a re-delivered file as a duplicate
instead of inserting it twice. It spans the lake's whole history: a seven-year lake at 2,500 documents a
night holds 6.4 million. A dict of hex strings costs about 260 bytes a document (measured: 1.7 GB in
the driver at that size); sorted fixed-width digests and keys cost 72 and are searched by bisection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

DIGEST_BYTES = 32


def _digest(value: str) -> bytes | None:
    """32 bytes of a 64-digit hex sha256, or None for anything else (kept aside, exactly)."""
    if len(value) != 2 * DIGEST_BYTES:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


class CommittedIndex:
    def __init__(self, digests: np.ndarray, keys: np.ndarray, others: dict[str, str]):
        """`digests` and `keys`: (n, 32) uint8 rows, sorted by digest (use `build`)."""
        self._digests = digests
        self._keys = keys
        self._first = digests.view(">u8")[:, 0].copy() if len(digests) else np.empty(0, dtype=">u8")
        self._others = others  # values that are not two sha256 hex digests: never expected, never lost

    @classmethod
    def build(cls, batches: Iterable[tuple[Sequence[str | None], Sequence[str | None]]]) -> CommittedIndex:
        """From (doc_sha256 values, idempotency_key values) column batches, as a table scan yields them."""
        digests, keys = bytearray(), bytearray()
        others: dict[str, str] = {}
        for shas, idem_keys in batches:
            for sha, key in zip(shas, idem_keys, strict=True):
                if sha is None or key is None:
                    continue
                sha_bytes, key_bytes = _digest(sha), _digest(key)
                if sha_bytes is None or key_bytes is None:
                    others[sha] = key
                    continue
                digests += sha_bytes
                keys += key_bytes
        d = np.frombuffer(bytes(digests), dtype=np.uint8).reshape(-1, DIGEST_BYTES)
        k = np.frombuffer(bytes(keys), dtype=np.uint8).reshape(-1, DIGEST_BYTES)
        if len(d):
            words = d.view(">u8")  # four big-endian words: their lexicographic order is the bytes' order
            order = np.lexsort((words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
            d, k = d[order], k[order]
        return cls(d, k, others)

    def __len__(self) -> int:
        return len(self._digests) + len(self._others)

    def __contains__(self, doc_sha256: str) -> bool:
        return self.get(doc_sha256) is not None

    @property
    def nbytes(self) -> int:
        return int(self._digests.nbytes + self._keys.nbytes + self._first.nbytes)

    def get(self, doc_sha256: str) -> str | None:
        """The idempotency key the document was committed under, or None if it never was."""
        digest = _digest(doc_sha256)
        if digest is None:
            return self._others.get(doc_sha256)
        first = np.frombuffer(digest[:8], dtype=">u8")[0]
        lo = int(np.searchsorted(self._first, first, side="left"))
        hi = int(np.searchsorted(self._first, first, side="right"))
        for i in range(lo, hi):  # almost always zero or one row: the first 8 bytes rarely collide
            if self._digests[i].tobytes() == digest:
                return self._keys[i].tobytes().hex()
        return None
