"""Ground-truth records and their JSON-lines form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["declarations", "certificate", "scanned", "image", "hostile"]
Expected = Literal["accept", "dead_letter", "duplicate"]


@dataclass(frozen=True)
class CoverageTruth:
    name: str
    limit: str | None
    deductible: str | None
    premium: str | None
    # Only certificates fill these: each limit line belongs to one listed policy.
    policy_number: str | None = None
    carrier_name: str | None = None
    effective_date: str | None = None
    expiration_date: str | None = None


@dataclass(frozen=True)
class RecordTruth:
    document_type: Literal["declarations", "certificate"]
    carrier_name: str
    policy_number: str
    insured_name: str
    effective_date: str
    expiration_date: str
    total_premium: str | None
    currency: str
    coverages: tuple[CoverageTruth, ...]


@dataclass(frozen=True)
class GroundTruth:
    file: str
    sha256: str
    kind: Kind
    layout: str
    scanned: bool
    pages: int
    expected: Expected
    expected_failure_category: str | None
    duplicate_of: str | None
    record: RecordTruth | None

    def to_json(self) -> str:
        # asdict keeps field order, which is the documented key order.
        return json.dumps(asdict(self), ensure_ascii=True)

    @staticmethod
    def from_json(line: str) -> GroundTruth:
        raw: dict[str, Any] = json.loads(line)
        record = raw.pop("record")
        return GroundTruth(**raw, record=None if record is None else _record(record))


def _record(raw: dict[str, Any]) -> RecordTruth:
    coverages = tuple(CoverageTruth(**c) for c in raw.pop("coverages"))
    return RecordTruth(**raw, coverages=coverages)


def write_ground_truth(path: Path, truths: list[GroundTruth]) -> None:
    lines = [t.to_json() + "\n" for t in sorted(truths, key=lambda t: t.file)]
    path.write_bytes("".join(lines).encode("ascii"))  # no platform newline translation


def load_ground_truth(path: Path) -> list[GroundTruth]:
    text = path.read_text(encoding="utf-8")
    return [GroundTruth.from_json(line) for line in text.splitlines() if line.strip()]
