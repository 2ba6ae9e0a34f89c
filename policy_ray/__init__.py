"""policy-ray: nightly ingestion of carrier policy documents into auditable Delta tables on Ray."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"


@functools.cache
def code_version() -> str:
    """What code wrote a commit: `<package version>+<12 hex>`, the hex being the sha256 over every
    `.py` file of the package (relative path and bytes, in sorted order). Computed once per process.

    A source hash rather than the git commit: a Ray job's working dir, a wheel or a container image
    carry no .git, and a dirty working tree would otherwise pass for the commit it started from. The
    versioned data (templates, labels, routing matrix) is pinned by its own hashes beside this one.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{__version__}+{digest.hexdigest()[:12]}"
