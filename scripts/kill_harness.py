"""Random SIGKILLs against the nightly job, then re-runs, then the oracle. Prints the counts.

    python scripts/kill_harness.py --kills 100 [--docs 12] [--seed 1]

Each round starts `policy-ray ingest` on a fresh lake (or the same lake, with --same-lake) against
one shared local Ray instance, kills it with SIGKILL after a random delay, and repeats until a run
completes; then it checks the oracle: every input file is committed, dead-lettered or a recorded
duplicate exactly once, no key is in two places, no table has a duplicate row, and `audit verify`
passes. Rounds where the kill came after the run had finished count as "finished before kill".
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import ray

from policy_ray.adapters.lake import Lake
from policy_ray.flows.verify import verify
from policy_ray.sample import generate_night


def oracle(lake_dir: Path, files: list[Path]) -> tuple[int, int, bool]:
    """(lost, duplicated, audit verifies)."""
    lake = Lake(str(lake_dir))
    ledger = lake.read("documents", ["source_uri", "idempotency_key", "disposition"]).to_pylist()
    uris = Counter(r["source_uri"] for r in ledger)
    lost = len({str(f) for f in files} - set(uris))
    duplicated = sum(n - 1 for n in uris.values() if n > 1)
    keys = [*lake.read("policies", ["idempotency_key"]).column(0).to_pylist(),
            *lake.read("dead_letters", ["idempotency_key"]).column(0).to_pylist()]
    duplicated += len(keys) - len(set(keys))
    return lost, duplicated, verify(lake).ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--docs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=12.0, help="kill within this many seconds of start")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="policy_ray_kills_"))
    night = work / "night"
    generate_night(night, args.docs, args.seed, scanned_share=0.0)
    files = sorted(p for p in night.iterdir() if p.name != "ground_truth.jsonl")
    ray.init(address="local", num_cpus=3, include_dashboard=False, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    totals: Counter[str] = Counter()
    for round_no in range(args.kills):
        lake = work / f"lake{round_no}"
        command = [sys.executable, "-m", "policy_ray", "ingest", str(night), "--lake", str(lake), "--batch-date",
                   "2026-12-01", "--address", address, "--extractors", "1", "--no-ocr", "--commit-every", "3",
                   "--no-progress"]
        delay = rng.uniform(0.5, args.max_delay)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "POLICY_RAY_LOG_LEVEL": "WARNING"})
        try:
            proc.wait(timeout=delay)
            totals["finished before kill"] += 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            totals["killed"] += 1
        runs = 1
        while subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            runs += 1  # a re-run itself failing would be a finding: counted below
            if runs > 3:
                totals["re-run failed"] += 1
                break
        lost, duplicated, ok = oracle(lake, files)
        totals["lost"] += lost
        totals["duplicated"] += duplicated
        totals["verify failed"] += not ok
        print(f"round {round_no + 1}: kill after {delay:.1f}s, lost {lost}, duplicated {duplicated}, "
              f"audit verify {'ok' if ok else 'FAILED'}", flush=True)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
    print(f"\n{args.kills} rounds on {len(files)} documents: {counts}")
    ray.shutdown()
    failed = totals["lost"] or totals["duplicated"] or totals["verify failed"] or totals["re-run failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    start = time.time()
    code = main()
    print(f"({time.time() - start:.0f}s)")
    sys.exit(code)
