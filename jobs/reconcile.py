"""Entry point for `ray job submit ... -- python jobs/reconcile.py --lake LAKE (--batch ID | --all)`.

Takes exactly the options of `policy-ray reconcile` (the nightly job also reconciles its own batch at
its end; this job re-checks a batch, or sweeps every batch for deviations and drift), with its exit
codes: 0 nothing new, 1 a new deviation (a batch quarantined now) or drift, an unknown batch; 2 the lake
cannot be read (runbooks/reconcile.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy_ray.cli import main

if __name__ == "__main__":
    sys.exit(main(["reconcile", *sys.argv[1:]]))
