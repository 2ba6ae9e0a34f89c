"""A per-process memory ceiling and RSS readings.

Ray's `memory=` only reserves scheduling capacity; nothing enforces it. RLIMIT_DATA (heap and private
anonymous mappings) makes a decompression bomb raise MemoryError inside the actor. RLIMIT_AS is no
use here: a Ray worker maps ~9 GB of virtual address space before doing anything (measured).
"""

from __future__ import annotations

import resource

import psutil


def set_memory_ceiling(ceiling_mb: int) -> None:
    limit = ceiling_mb << 20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def rss_mb() -> float:
    return round(psutil.Process().memory_info().rss / (1 << 20), 1)
