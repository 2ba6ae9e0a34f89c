"""Evaluate extraction against a sample night's ground truth in one process (no Ray, no lake).

    python scripts/eval_extraction.py NIGHT_DIR [--verbose]

Prints, per file, the route and every field that differs from the truth; then the accuracy of
accepted fields and the straight-through rate of digital documents.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from policy_ray.config import Settings, load_pipeline_data
from policy_ray.core.identity import idempotency_key, sha256_hex
from policy_ray.core.outcomes import DocumentTask, record_payload
from policy_ray.stages.extract import ExtractStage
from policy_ray.stages.ocr import OcrStage


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("night", type=Path)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--no-triage", action="store_true")
    parser.add_argument("--ocr", action="store_true", help="run documents the router sends to OCR through OCR")
    parser.add_argument("--only-scans", action="store_true", help="evaluate scanned documents only")
    args = parser.parse_args()
    settings = Settings(triage=not args.no_triage)
    data = load_pipeline_data(settings)
    stage = ExtractStage(settings, data, ocr_available=args.ocr)
    ocr_stage = OcrStage(settings.replace(ocr_engine="tesseract"), data) if args.ocr else None
    truth = [json.loads(line) for line in (args.night / "ground_truth.jsonl").read_text().splitlines()]
    correct = total = digital = accepted_digital = 0
    for t in truth:
        if args.only_scans and not t.get("scanned"):
            continue
        path = args.night / t["file"]
        data = path.read_bytes()
        sha = sha256_hex(data)
        task = DocumentTask(str(path), sha, len(data), "eval", date(2026, 12, 1), idempotency_key(sha, "eval"))
        result = stage.process(task)
        if result.status == "ocr" and ocr_stage is not None:
            result = ocr_stage.process(task)
        is_digital = t["expected"] == "accept" or (args.ocr and bool(t.get("scanned")))
        digital += is_digital
        line = f"{t['file']:<36} {result.status:<12} conf={result.confidence:.2f}"
        if result.failure:
            line += f" {result.failure.category.value}: {result.failure.message[:90]}"
        diffs = []
        if result.status == "accepted":
            accepted_digital += is_digital
            got = _norm(record_payload(result.record)) if result.record else {}
            expected = t["record"] or {}
            for key, want in expected.items():
                total += 1
                if got.get(key) == want:
                    correct += 1
                else:
                    diffs.append(f"    {key}: got {str(got.get(key))[:160]} want {str(want)[:160]}")
        elif is_digital and result.partial_fields and args.verbose:
            diffs.append(f"    partial conf: {result.field_confidence}")
        print(line)
        for d in diffs:
            print(d)
    print(f"\naccepted-field accuracy {correct}/{total} = {correct / max(total, 1):.4f}; "
          f"straight-through {accepted_digital}/{digital} = {accepted_digital / max(digital, 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
