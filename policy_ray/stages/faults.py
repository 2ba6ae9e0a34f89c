"""Test-only fault injection: make a named document crash, hang, run slow or exhaust its worker.

Off unless Settings.test_faults names a file; production settings never do, so this costs one dict
lookup per document.
"""

from __future__ import annotations

import os
import time

from policy_ray.core.outcomes import DocumentTask

FAULTS = ("crash", "crash_once", "hang", "hang_once", "slow", "slow_once", "memory", "raise")
SLOW_S = 3.0  # "slow": long enough for a test to change the cluster while the document is held


def inject(faults: dict[str, str], task: DocumentTask, *, stage: str = "extract") -> None:
    """Act out the fault named for this file. "ocr:hang" targets the OCR stage, plain "hang" extraction."""
    name = task.source_uri.rstrip("/").rsplit("/", 1)[-1]
    fault = faults.get(name)
    if fault is None:
        return
    target, _, fault = fault.rpartition(":")
    if (target or "extract") != stage:
        return
    if fault.endswith("_once") and task.attempt > 1:
        return
    if fault.startswith("crash"):
        os._exit(13)  # like a segfault in a C extension: no cleanup, no exception
    if fault.startswith("hang"):
        time.sleep(10**6)
    if fault.startswith("slow"):
        time.sleep(SLOW_S)
    if fault == "memory":
        hog = []
        while True:  # grows until the actor's memory ceiling raises MemoryError
            hog.append(bytearray(64 << 20))
    if fault == "raise":
        raise RuntimeError("injected failure")
