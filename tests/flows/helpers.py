"""Assertions shared by the flow tests: the accounting oracle and field accuracy against ground truth."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from policy_ray.adapters.lake import Lake

FIELDS = ("document_type", "carrier_name", "policy_number", "insured_name", "effective_date", "expiration_date",
          "total_premium", "currency")


def table_rows(lake: Lake, name: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    return lake.read(name, columns).to_pylist()


def assert_accounted_once(lake: Lake, files: list[Path]) -> dict[str, str]:
    """Every input file has exactly one ledger row, and every data row exactly one ledger entry."""
    ledger = table_rows(lake, "documents")
    # The job records resolved paths: compare resolved paths (an input folder may sit behind a link).
    by_uri = Counter(str(Path(r["source_uri"]).resolve()) for r in ledger)
    assert set(by_uri) == {str(f.resolve()) for f in files}, "a document was lost or invented"
    assert max(by_uri.values()) == 1, "a document was recorded twice"
    policies = table_rows(lake, "policies", ["idempotency_key"])
    dead = table_rows(lake, "dead_letters", ["idempotency_key"])
    keys = [r["idempotency_key"] for r in policies] + [r["idempotency_key"] for r in dead]
    assert len(keys) == len(set(keys)), "a document is in two places or twice in one table"
    committed = {r["idempotency_key"] for r in ledger if r["disposition"] == "committed"}
    dead_lettered = {r["idempotency_key"] for r in ledger if r["disposition"] == "dead_lettered"}
    assert committed == {r["idempotency_key"] for r in policies}
    assert dead_lettered == {r["idempotency_key"] for r in dead}
    return {Path(r["source_uri"]).name: r["disposition"] for r in ledger}


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def field_accuracy(rows: list[dict[str, Any]], truth: dict[str, dict[str, Any]]) -> tuple[int, int, list[str]]:
    """(correct, total, mismatches) over the top-level fields and coverage lines of accepted rows."""
    correct = total = 0
    wrong: list[str] = []
    for row in rows:
        name = Path(row["source_uri"]).name
        expected = truth[name]["record"]
        for f in FIELDS:
            total += 1
            if _norm(row[f]) == expected[f]:
                correct += 1
            else:
                wrong.append(f"{name}: {f}={_norm(row[f])!r} expected {expected[f]!r}")
        got = [{k: _norm(v) for k, v in c.items()} for c in row["coverages"]]
        total += 1
        if got == expected["coverages"]:
            correct += 1
        else:
            wrong.append(f"{name}: coverages differ ({len(got)} vs {len(expected['coverages'])})")
    return correct, total, wrong
