"""Entry point for `ray job submit ... -- python jobs/nightly_ingest.py INPUT --lake LAKE [...]`.

Takes exactly the options of `policy-ray ingest`; inside a submitted job RAY_ADDRESS is set, so the
driver joins the cluster it was submitted to.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `ray job submit --working-dir .` ships the repository; make the package importable from it even
# where it is not pip-installed on the cluster.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy_ray.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
