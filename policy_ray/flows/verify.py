"""`policy-ray audit verify`: prove the lake says what the audit trail says.

Recipe: walk the hash chain -> check every referenced Delta log file's hash -> re-read every
referenced table version by time travel -> recompute each committed row's normalized hash from the
row itself -> find rows the trail does not know and entries whose rows are gone -> optionally
re-hash the source files. The first thing that does not hold is reported with its entry.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from policy_ray.adapters.lake import Lake
from policy_ray.core.audit_chain import Stage, check_chain
from policy_ray.core.identity import canonical_sha256

RECORD_FIELDS = ("document_type", "template_id", "template_version", "carrier_name", "policy_number",
                 "insured_name", "effective_date", "expiration_date", "total_premium", "currency", "coverages")


@dataclass
class Finding:
    seq: int | None
    what: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.what}" if self.seq is not None else self.what


@dataclass
class VerifyReport:
    entries: int = 0
    rows: int = 0
    versions: int = 0
    sources: int = 0
    head: str = ""
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def render(self) -> str:
        status = "OK" if self.ok else f"FAILED ({len(self.findings)} findings)"
        lines = [f"audit verify: {status}: {self.entries} chain entries, {self.rows} rows, {self.versions} Delta "
                 f"versions, {self.sources} source files checked in {self.seconds:.2f}s; head {self.head[:16]}"]
        lines += [f"  first broken: {self.findings[0]}"] if self.findings else []
        lines += [f"  also: {f}" for f in self.findings[1:10]]
        return "\n".join(lines)


def record_hash_from_row(row: Mapping[str, Any]) -> str:
    """normalized_sha256 recomputed from a committed `policies` row (same canonical form as at commit)."""
    record = {name: row[name] for name in RECORD_FIELDS}
    record["coverages"] = [dict(c) for c in (row["coverages"] or [])]
    return canonical_sha256(record)


def verify(lake: Lake, *, batch_id: str | None = None, sources: Path | None = None) -> VerifyReport:
    started = time.perf_counter()
    report = VerifyReport()
    audit = lake.read("audit_log")
    audit = audit.take(pc.sort_indices(audit, sort_keys=[("seq", "ascending")]))
    entries = audit.to_pylist()
    report.entries, report.head, brk = check_chain(entries)
    if brk is not None:
        report.findings.append(Finding(brk.seq, f"hash chain broken: {brk.reason}"))
        report.seconds = time.perf_counter() - started
        return report
    scoped = [e for e in entries if batch_id is None or e["batch_id"] == batch_id]
    _check_logs(lake, scoped, report)
    for check in (_check_policies, _check_dead_letters):
        try:
            check(lake, scoped, batch_id, report)
        except Exception as exc:  # a table whose log no longer loads is a finding, not a crash
            report.findings.append(Finding(None, f"{check.__name__.removeprefix('_check_')} cannot be read: "
                                                 f"{str(exc)[:300]}"))
    if sources is not None:
        _check_sources(scoped, sources, report)
    report.seconds = time.perf_counter() - started
    return report


def _check_logs(lake: Lake, entries: Iterable[Mapping[str, Any]], report: VerifyReport) -> None:
    seen: dict[tuple[str, int], tuple[int, str | None]] = {}
    for e in entries:
        if e["table_name"] and e["table_version"] is not None:
            seen.setdefault((e["table_name"], int(e["table_version"])), (e["seq"], e["log_sha256"]))
    report.versions = len(seen)
    for (table, version), (seq, expected) in sorted(seen.items(), key=lambda kv: kv[1][0]):
        actual = lake.log_sha256(table, version)
        if actual is None:
            report.findings.append(Finding(seq, f"Delta log file of {table} version {version} is missing"))
        elif actual != expected:
            report.findings.append(Finding(seq, f"Delta log file of {table} version {version} was rewritten"))


def _check_policies(lake: Lake, entries: list[Mapping[str, Any]], batch_id: str | None,
                    report: VerifyReport) -> None:
    committed = {e["idempotency_key"]: e for e in entries if e["stage"] == Stage.COMMITTED.value}
    current = lake.read("policies", batch_id=batch_id).to_pylist()
    report.rows += len(current)
    keys_now: dict[str, int] = defaultdict(int)
    for row in current:
        key = row["idempotency_key"]
        keys_now[key] += 1
        entry = committed.get(key)
        recomputed = record_hash_from_row(row)
        if entry is None:
            report.findings.append(Finding(None, f"policies row {key[:16]} ({row['source_uri']}) is not in the "
                                                 "audit trail (inserted outside the pipeline)"))
        elif recomputed != entry["payload_sha256"] or recomputed != row["normalized_sha256"]:
            report.findings.append(Finding(entry["seq"], f"policies row {key[:16]} was edited: its normalized hash "
                                                         "no longer matches the committed one"))
    for key, n in keys_now.items():
        if n > 1:
            seq = committed[key]["seq"] if key in committed else None
            report.findings.append(Finding(seq, f"policies row {key[:16]} appears {n} times"))
    for key, entry in committed.items():
        if key not in keys_now:
            report.findings.append(Finding(entry["seq"], f"policies row {key[:16]} was deleted"))
    _time_travel(lake, "policies", committed.values(), report)


def _time_travel(lake: Lake, table: str, entries: Iterable[Mapping[str, Any]], report: VerifyReport) -> None:
    """Each referenced version, read as it was: the rows the trail says it added are there, unchanged."""
    by_version: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for e in entries:
        if e["table_version"] is not None:
            by_version[int(e["table_version"])].append(e)
    for version, group in sorted(by_version.items()):
        try:
            rows = lake.read(table, ["idempotency_key", "normalized_sha256"] if table == "policies"
                             else ["idempotency_key"], version=version).to_pylist()
        except Exception as exc:  # a version that cannot be loaded is itself the finding
            report.findings.append(Finding(group[0]["seq"], f"{table} version {version} cannot be read: {exc}"))
            continue
        at_version = {r["idempotency_key"]: r for r in rows}
        for e in group:
            row = at_version.get(e["idempotency_key"])
            if row is None:
                report.findings.append(Finding(e["seq"], f"{table} version {version} lacks row "
                                                         f"{e['idempotency_key'][:16]}"))
            elif table == "policies" and row["normalized_sha256"] != e["payload_sha256"]:
                report.findings.append(Finding(e["seq"], f"{table} version {version} holds a different "
                                                         f"row {e['idempotency_key'][:16]}"))


def _check_dead_letters(lake: Lake, entries: list[Mapping[str, Any]], batch_id: str | None,
                        report: VerifyReport) -> None:
    audited = {e["idempotency_key"]: e for e in entries if e["stage"] == Stage.DEAD_LETTERED.value}
    current = lake.read("dead_letters", ["idempotency_key", "raw_sha256"], batch_id=batch_id).to_pylist()
    report.rows += len(current)
    keys_now = {r["idempotency_key"] for r in current}
    for row in current:
        if row["idempotency_key"] not in audited:
            report.findings.append(Finding(None, f"dead_letters row {row['idempotency_key'][:16]} is not in the "
                                                 "audit trail"))
    for key, entry in audited.items():
        if key not in keys_now:
            report.findings.append(Finding(entry["seq"], f"dead_letters row {key[:16]} was deleted"))
    _time_travel(lake, "dead_letters", audited.values(), report)


def _check_sources(entries: Iterable[Mapping[str, Any]], sources: Path, report: VerifyReport) -> None:
    for e in entries:
        if e["stage"] != Stage.RECEIVED.value or not e["details"]:
            continue
        name = Path(json.loads(e["details"]).get("source_uri", "")).name
        path = sources / name
        if not path.is_file():
            continue
        report.sources += 1
        if hashlib.sha256(path.read_bytes()).hexdigest() != e["payload_sha256"]:
            report.findings.append(Finding(e["seq"], f"source file {name} no longer has the hash it was received with"))
