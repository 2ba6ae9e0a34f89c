"""Random SIGKILLs against the nightly job, then re-runs, then the oracle. Prints the counts.

    python scripts/kill_harness.py --kills 100 [--docs 10] [--scanned-share 0.2] [--no-ocr] [--seed 1]

Each round starts `policy-ray ingest` on a fresh lake against one shared local Ray instance (a night
with scans and OCR on, by default), kills it with SIGKILL after a random delay, and re-runs it until a
run completes; then it checks the oracle: every input file is committed, dead-lettered or a recorded
duplicate exactly once, no key is in two places, no table has a duplicate row, and `audit verify`
passes. Every killed run writes the failpoints it reaches to a trace (POLICY_RAY_FAILPOINT_LOG), so
each kill is counted under the last point it passed: where in the night it landed. Rounds where the
run had finished before the kill count as "finished before kill".
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

from policy_ray import failpoints
from policy_ray.adapters.lake import Lake
from policy_ray.flows.verify import verify
from policy_ray.sample import generate_night

STARTUP = "startup (before night_started)"
# What the job is doing after it passed each point (until it reaches the next one).
PHASE = {STARTUP: "starting, connecting to Ray", "night_started": "lease, planning, first extractions",
         "between_micro_batches": "commit started", "before_audit": "writing audit entries",
         "after_audit": "extracting (a micro-batch committed)", "ocr_handoff": "extracting / OCR",
         "before_batch_close": "closing the batch", "after_batch_close": "reconciling, exiting"}


def oracle(lake_dir: Path, files: list[Path]) -> tuple[int, int, bool]:
    """(lost, duplicated, audit verifies)."""
    lake = Lake(str(lake_dir))
    ledger = lake.read("documents", ["source_uri", "idempotency_key", "disposition"]).to_pylist()
    uris = Counter(r["source_uri"] for r in ledger)
    lost = len({str(f) for f in files} - set(uris))
    duplicated = sum(n - 1 for n in uris.values() if n > 1)
    for table in ("policies", "dead_letters", "extractions"):
        keys = lake.read(table, ["idempotency_key"]).column(0).to_pylist()
        duplicated += len(keys) - len(set(keys))
    keys = [*lake.read("policies", ["idempotency_key"]).column(0).to_pylist(),
            *lake.read("dead_letters", ["idempotency_key"]).column(0).to_pylist()]
    duplicated += len(keys) - len(set(keys))  # one document in two places
    return lost, duplicated, verify(lake).ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--docs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scanned-share", type=float, default=0.2, help="share of scans in the night")
    parser.add_argument("--ocr", action=argparse.BooleanOptionalAction, default=True, help="OCR on (tesseract)")
    parser.add_argument("--max-delay", type=float, default=12.0, help="kill within this many seconds of start")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="policy_ray_kills_"))
    night = work / "night"
    generate_night(night, args.docs, args.seed, scanned_share=args.scanned_share)
    files = sorted(p for p in night.iterdir() if p.name != "ground_truth.jsonl")
    ray.init(address="local", num_cpus=3, include_dashboard=False, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    ocr = ["--ocr", "--ocr-workers", "1", "--ocr-engine", "tesseract"] if args.ocr else ["--no-ocr"]
    totals: Counter[str] = Counter()
    landed: Counter[str] = Counter()
    for round_no in range(args.kills):
        lake = work / f"lake{round_no}"
        trace = work / f"trace{round_no}.log"
        command = [sys.executable, "-m", "policy_ray", "ingest", str(night), "--lake", str(lake), "--batch-date",
                   "2026-12-01", "--address", address, "--extractors", "1", *ocr, "--commit-every", "3",
                   "--no-progress"]
        delay = rng.uniform(0.5, args.max_delay)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "POLICY_RAY_LOG_LEVEL": "WARNING", failpoints.LOG_ENV: str(trace)})
        try:
            proc.wait(timeout=delay)
            totals["finished before kill"] += 1
            where = "finished before kill"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            totals["killed"] += 1
            where = failpoints.last_reached(str(trace)) or STARTUP
            landed[where] += 1
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
        print(f"round {round_no + 1}: kill after {delay:.1f}s (last point reached: {where}), lost {lost}, "
              f"duplicated {duplicated}, audit verify {'ok' if ok else 'FAILED'}", flush=True)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
    scans = sum(1 for f in files if "_scan_" in f.name or f.suffix.lower() in (".tif", ".tiff", ".png", ".jpg"))
    mode = "on" if args.ocr else "off"
    print(f"\n{args.kills} rounds on {len(files)} documents ({scans} scans, OCR {mode}): {counts}")
    print("kills by the last failpoint reached before them:")
    order = {p: i for i, p in enumerate((STARTUP, *failpoints.POINTS))}
    for where, n in sorted(landed.items(), key=lambda kv: order.get(kv[0], len(order))):
        phase = PHASE.get(where) or ("writing " + where.split(":")[1] if where.startswith("before_write") else
                                     "between table commits")
        print(f"  {where:32s} {n:4d}  ({phase})")
    ray.shutdown()
    failed = totals["lost"] or totals["duplicated"] or totals["verify failed"] or totals["re-run failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    start = time.time()
    code = main()
    print(f"({time.time() - start:.0f}s)")
    sys.exit(code)
