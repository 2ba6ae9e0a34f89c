"""How long `audit verify` takes on a night of N documents (issue 4: seconds, not minutes).

    python -m bench.verify_speed [--docs 10000]

Builds a lake through the real committer (micro-batches, audit entries with whole-row hashes, Delta
log hashes) from synthetic accepted results (no extraction: this measures verification, not
ingestion), then times `verify` over it (the whole history, then `--batch`), and over it again after
`optimize` (every row then sits in a compacted file, so each referenced version is read by time
travel).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from decimal import Decimal

from policy_ray.adapters.lake import Lake
from policy_ray.core.identity import canonical_sha256, idempotency_key, sha256_hex
from policy_ray.core.models import Coverage, PolicyRecord
from policy_ray.core.outcomes import DocumentResult, DocumentTask, normalized_sha256
from policy_ray.flows.committer import BatchState, MicroBatchCommitter
from policy_ray.flows.maintenance import optimize
from policy_ray.flows.verify import verify

BATCH_ID = "2026-12-01-bench"


def build(lake: Lake, docs: int, batch_id: str = BATCH_ID) -> None:
    lake.ensure_tables()
    committer = MicroBatchCommitter(lake, batch_id, BatchState.load(lake, batch_id), every_docs=250,
                                    interval_s=3600, metadata={"batch_id": batch_id})
    for i in range(docs):
        sha = sha256_hex(f"document {i}".encode())
        task = DocumentTask(f"/night/{i:06d}.pdf", sha, 1000, batch_id, date(2026, 12, 1),
                            idempotency_key(sha, batch_id))
        record = PolicyRecord("declarations", "harborline_dec", "1", "Harborline Mutual Insurance Company",
                              f"HMI-CPP-{i:07d}", f"Insured {i}", date(2026, 1, 1), date(2027, 1, 1),
                              Decimal("1200.00"), "USD",
                              (Coverage("Building", Decimal("500000.00"), Decimal("1000.00"), Decimal("1200.00")),))
        payload = {"doc": i, "words": ["Policy", "Number", f"HMI-CPP-{i:07d}"]}
        committer.add(DocumentResult(task=task, status="accepted", record=record, confidence=0.97,
                                     field_confidence={"policy_number": 0.97}, routing_rule="confident: accept",
                                     raw_payload=payload, raw_sha256=canonical_sha256(payload),
                                     normalized_sha256=normalized_sha256(record), page_count=1))
    committer.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    args = parser.parse_args()
    lake = Lake(tempfile.mkdtemp(prefix="verify_speed_") + "/lake")
    started = time.perf_counter()
    build(lake, args.docs)
    built = time.perf_counter() - started
    report = verify(lake)
    scoped = verify(lake, batch_id=BATCH_ID)
    optimize(lake)
    after = verify(lake)
    print(f"{args.docs} documents committed in {built:.1f}s; {report.render()}")
    print(f"--batch {BATCH_ID}: {scoped.render()}")
    print(f"after optimize: {after.render()}")


if __name__ == "__main__":
    main()
