"""Independent, reproducible random streams per night and per document."""

from __future__ import annotations

import random


def night_rng(seed: int) -> random.Random:
    return random.Random(seed)


def doc_rng(seed: int, index: int, purpose: str = "doc") -> random.Random:
    # String seeds are hashed with SHA-512 by `random`, so this is stable across
    # processes and Python runs, and one document never shifts another's stream.
    return random.Random(f"policy-ray-sample:{seed}:{index}:{purpose}")
