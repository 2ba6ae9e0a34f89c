"""`policy-ray audit verify`: prove the lake says what the audit trail says.

Recipe: walk the hash chain one data file at a time in seq order (the whole history, never loaded at
once) -> compare where it ends with the heads the lake recorded elsewhere (the latest audit_log
commit's metadata, each completed batch's row) -> check the hash of every referenced Delta log file
and read which data files each of those versions added -> read every document table (`policies`,
`dead_letters`, `extractions`, `documents`; with --batch only that night's partition), one data file
at a time: each row must hash (whole row) to what its entry recorded, pass its table's own checks,
and sit in a file its entry's version added (a row that compaction moved is looked up in that version
by time travel, reading only the files that version added) -> rows the trail does not know, entries
whose rows are gone -> optionally re-hash the source files. Every finding names the entry it breaks.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from policy_ray.adapters.lake import Lake, added_files
from policy_ray.core.audit_chain import ChainWalker, PublishedHead, Stage, check_anchor, check_published
from policy_ray.core.identity import canonical_sha256
from policy_ray.core.row_digest import row_sha256, status_sha256

RECORD_FIELDS = ("document_type", "template_id", "template_version", "carrier_name", "policy_number",
                 "insured_name", "effective_date", "expiration_date", "total_premium", "currency", "coverages")
# Which entries pin the rows of each table the job writes for a document.
TABLE_STAGES = {"policies": {Stage.COMMITTED.value}, "dead_letters": {Stage.DEAD_LETTERED.value},
                "extractions": {Stage.EXTRACTED.value, Stage.OCR.value}, "documents": {Stage.RECORDED.value}}
KEPT = ("seq", "batch_id", "idempotency_key", "stage", "payload_sha256", "table_name", "table_version",
        "log_sha256", "row_sha256", "details")
DONE = ("completed", "quarantined", "released")
ANCHOR_LOOKBACK = 1000  # commits searched back for the last one policy-ray wrote, past foreign ones


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
    head_seq: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, seq: int | None, what: str) -> None:
        self.findings.append(Finding(seq, what))

    def render(self) -> str:
        status = "OK" if self.ok else f"FAILED ({len(self.findings)} findings)"
        lines = [f"audit verify: {status}: {self.entries} chain entries, {self.rows} rows, {self.versions} Delta "
                 f"versions, {self.sources} source files checked in {self.seconds:.2f}s; head {self.head[:16]}"]
        if self.ok and self.head_seq:
            lines.append(f"  head to publish outside the lake: {PublishedHead(self.head_seq, self.head)}")
        lines += [f"  first broken: {self.findings[0]}"] if self.findings else []
        lines += [f"  also: {f}" for f in self.findings[1:10]]
        return "\n".join(lines)


def record_hash_from_row(row: Mapping[str, Any]) -> str:
    """normalized_sha256 recomputed from a committed `policies` row (same canonical form as at commit)."""
    record = {name: row[name] for name in RECORD_FIELDS}
    record["coverages"] = [dict(c) for c in (row["coverages"] or [])]
    return canonical_sha256(record)


def verify(lake: Lake, *, batch_id: str | None = None, sources: Path | None = None,
           published: Sequence[PublishedHead] = ()) -> VerifyReport:
    """Check the lake's history; `published`: heads kept outside the lake that the chain must still hold."""
    started = time.perf_counter()
    report = VerifyReport()
    batches = [b for b in lake.read("batches").to_pylist() if batch_id is None or b["batch_id"] == batch_id]
    wanted = {int(b["chain_seq"]) for b in batches if b.get("chain_seq") is not None} | {p.seq for p in published}
    try:
        entries, at_seq = _walk_chain(lake, batch_id, wanted, report)
    except Exception as exc:  # an audit log whose Delta log no longer loads is a finding, not a crash
        report.add(None, f"audit_log cannot be read: {str(exc)[:300]}")
        entries, at_seq = [], {}
    if not report.findings:
        for head in published:
            found = at_seq.get(head.seq)
            broken = check_published(head, report.head_seq, found["entry_hash"] if found else None)
            if broken is not None:
                report.add(broken.seq, broken.reason)
    if report.findings:
        report.seconds = time.perf_counter() - started
        return report
    _check_batches(batches, at_seq, report)
    added = _check_logs(lake, entries, report)
    batch_date = batches[0]["batch_date"] if batch_id is not None and batches else None
    for table in TABLE_STAGES:
        try:
            _check_table(lake, table, entries, added, batch_id, batch_date, report)
        except Exception as exc:  # a table whose log no longer loads is a finding, not a crash
            report.add(None, f"{table} cannot be read: {str(exc)[:300]}")
    if sources is not None:
        _check_sources(entries, {b["batch_id"]: b["input_uri"] for b in lake.read("batches").to_pylist()},
                       sources, report)
    report.seconds = time.perf_counter() - started
    return report


# ---- the chain and its anchors ----------------------------------------------------------------------


def _walk_chain(lake: Lake, batch_id: str | None, wanted: set[int],
                report: VerifyReport) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Check the whole chain from one snapshot; keep the entries in scope (compact) and the entries
    at the seqs the batches recorded as their heads."""
    snapshot = lake.table("audit_log")
    walker = ChainWalker()
    entries: list[dict[str, Any]] = []
    at_seq: dict[int, dict[str, Any]] = {}
    for chunk in _in_seq_order(lake.dataset("audit_log", snapshot=snapshot)):
        for row in chunk.to_pylist():
            if walker.feed(row) is not None:
                break
            if row["seq"] in wanted:
                at_seq[row["seq"]] = row
            if batch_id is None or row["batch_id"] == batch_id:
                entries.append({k: row[k] for k in KEPT})
        if walker.broken is not None:
            break
    report.entries, report.head, report.head_seq = walker.count, walker.head, walker.count
    if walker.broken is not None:
        report.add(walker.broken.seq, f"hash chain broken: {walker.broken.reason}")
        return entries, at_seq
    _check_anchor(lake, snapshot.version(), walker, report)
    return entries, at_seq


def _in_seq_order(dataset: Any) -> Iterator[pa.Table]:
    """The audit log's data files in seq order, each sorted: every commit wrote one contiguous run of
    seqs. Files whose runs overlap (only a rewrite outside the pipeline makes them) are read at once."""
    spans = []
    for fragment in dataset.get_fragments():
        seqs = fragment.to_table(schema=dataset.schema, columns=["seq"]).column("seq")
        if len(seqs):
            spans.append((pc.min(seqs).as_py(), pc.max(seqs).as_py(), fragment))
    spans.sort(key=lambda s: s[0])
    if any(a[1] >= b[0] for a, b in itertools.pairwise(spans)):
        whole = dataset.to_table()
        yield whole.take(pc.sort_indices(whole, sort_keys=[("seq", "ascending")]))
        return
    for _, _, fragment in spans:
        t = fragment.to_table(schema=dataset.schema)
        yield t.take(pc.sort_indices(t, sort_keys=[("seq", "ascending")]))


def _check_anchor(lake: Lake, version: int, walker: ChainWalker, report: VerifyReport) -> None:
    """Every audit_log commit policy-ray makes names the head it leaves. Compare the recomputed end of
    the chain with the latest such commit: entries cut off the end show here."""
    foreign: list[str] = []
    for v in range(version, max(-1, version - ANCHOR_LOOKBACK), -1):
        info = lake.commit_info("audit_log", v) or {}
        if info.get("chain_seq") is None or not info.get("chain_head"):
            foreign.append(f"audit_log version {v} ({info.get('operation', 'log file missing')}) was not committed "
                           "by policy-ray (it names no chain head)")
            continue
        anchor_seq = int(info["chain_seq"])
        brk = check_anchor(walker.count, walker.head, anchor_seq, str(info["chain_head"]), f"audit_log version {v}")
        if brk is not None:
            report.add(brk.seq, brk.reason)
        elif walker.count > anchor_seq:
            report.add(anchor_seq + 1, f"entries {anchor_seq + 1}..{walker.count} follow the head audit_log version "
                                       f"{v} recorded: appended outside the pipeline")
        break
    for what in foreign:
        report.add(None, what)


def _check_batches(batches: Iterable[Mapping[str, Any]], at_seq: Mapping[int, Mapping[str, Any]],
                   report: VerifyReport) -> None:
    """A completed night recorded the chain's head at its end (its batch_completed entry) and its counts."""
    for b in batches:
        if b.get("chain_seq") is None:
            continue
        seq, bid = int(b["chain_seq"]), b["batch_id"]
        entry = at_seq.get(seq)
        if entry is None:
            report.add(seq, f"batch {bid} completed at entry {seq} ({str(b['chain_head'])[:16]}), which the chain "
                            f"no longer reaches: audit trail truncated")
        elif entry["entry_hash"] != b["chain_head"]:
            report.add(seq, f"batch {bid}'s recorded head differs from entry {seq} of the chain")
        elif entry["stage"] != Stage.BATCH_COMPLETED.value or entry["batch_id"] != bid:
            report.add(seq, f"batch {bid}'s recorded head is not its batch_completed entry")
        elif b["status"] in DONE:
            details = json.loads(entry["details"] or "{}")
            changed = [k for k in ("listed", "accepted", "dead_lettered", "duplicates") if details.get(k) != b[k]]
            if changed:
                report.add(seq, f"batches row {bid} was edited: {', '.join(changed)} differ from its "
                                "batch_completed entry")


def _check_logs(lake: Lake, entries: Iterable[Mapping[str, Any]],
                report: VerifyReport) -> dict[tuple[str, int], set[str]]:
    """Hash every referenced Delta log file; return the data files each of those versions added."""
    seen: dict[tuple[str, int], tuple[int, str | None]] = {}
    for e in entries:
        if e["table_name"] and e["table_version"] is not None:
            seen.setdefault((e["table_name"], int(e["table_version"])), (e["seq"], e["log_sha256"]))
    report.versions = len(seen)
    added: dict[tuple[str, int], set[str]] = {}
    for (table, version), (seq, expected) in sorted(seen.items(), key=lambda kv: kv[1][0]):
        log = lake.log_file(table, version)
        if log is None:
            report.add(seq, f"Delta log file of {table} version {version} is missing")
        elif hashlib.sha256(log).hexdigest() != expected:
            report.add(seq, f"Delta log file of {table} version {version} was rewritten")
        else:
            added[(table, version)] = added_files(log)
    return added


# ---- the rows ---------------------------------------------------------------------------------------


def _row_key(table: str, row: Mapping[str, Any]) -> str:
    # Ledger rows are per file (one batch lists a file once); every other row is per document.
    return f"{row['batch_id']}\x1f{row['source_uri']}" if table == "documents" else str(row["idempotency_key"])


def _entry_key(table: str, entry: Mapping[str, Any]) -> str:
    if table == "documents":
        return f"{entry['batch_id']}\x1f{json.loads(entry['details'] or '{}').get('source_uri')}"
    return str(entry["idempotency_key"])


def _label(table: str, key: str) -> str:
    return key.split("\x1f", 1)[1] if table == "documents" else key[:16]


def _row_problem(table: str, row: Mapping[str, Any], entry: Mapping[str, Any]) -> str | None:
    if table == "policies":
        recomputed = record_hash_from_row(row)
        if recomputed != entry["payload_sha256"] or recomputed != row["normalized_sha256"]:
            return "its normalized hash no longer matches the committed one"
    elif table == "extractions":
        payload = row["payload_zlib"]
        raw = hashlib.sha256(zlib.decompress(payload)).hexdigest() if payload is not None else None
        if raw != row["raw_sha256"] or raw != entry["payload_sha256"]:
            return "its stored raw payload no longer hashes to the raw_sha256 that was extracted"
    elif table == "dead_letters" and row["raw_sha256"] != entry["payload_sha256"]:
        return "its raw_sha256 differs from the one dead-lettered"
    elif table == "documents" and row["doc_sha256"] != entry["payload_sha256"]:
        return "its doc_sha256 differs from the file's hash as received"
    if row_sha256(table, row) != entry["row_sha256"]:
        return "it no longer hashes to the row that was committed"
    return None


def _check_table(lake: Lake, table: str, entries: Iterable[Mapping[str, Any]],
                 added: Mapping[tuple[str, int], set[str]], batch_id: str | None, batch_date: Any,
                 report: VerifyReport) -> None:
    expected: dict[str, Mapping[str, Any]] = {}
    replays: dict[str, Mapping[str, Any]] = {}  # dead letter -> its latest replay entry that pins its status
    for e in entries:
        if e["stage"] in TABLE_STAGES[table]:
            key = _entry_key(table, e)
            if key in expected:
                report.add(e["seq"], f"{table} row {_label(table, key)} is recorded twice (also entry "
                                     f"{expected[key]['seq']})")
            else:
                expected[key] = e
                if e["table_version"] is None:
                    report.add(e["seq"], f"entry for {table} row {_label(table, key)} names no table version")
        elif table == "dead_letters" and e["stage"] == Stage.REPLAYED.value and e["row_sha256"]:
            replays[str(e["idempotency_key"])] = e
    seen: Counter[str] = Counter()
    travel: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for path, rows in lake.scan(table, batch_id=batch_id, batch_date=batch_date):
        for row in rows.to_pylist():
            report.rows += 1
            key = _row_key(table, row)
            seen[key] += 1
            entry = expected.get(key)
            if entry is None:
                where = "" if table == "documents" else f" ({row['source_uri']})"
                report.add(None, f"{table} row {_label(table, key)}{where} is not in the audit trail "
                                 "(inserted outside the pipeline)")
                continue
            if seen[key] > 1:
                continue
            problem = _row_problem(table, row, entry)
            if problem:
                report.add(entry["seq"], f"{table} row {_label(table, key)} was edited: {problem}")
            replay = replays.get(key)
            if replay is not None and status_sha256(row["status"], row["resolution"]) != replay["row_sha256"]:
                report.add(replay["seq"], f"dead_letters row {key[:16]}: status or resolution differ from what "
                                          "its replay recorded")
            files = added.get((table, int(entry["table_version"]))) if entry["table_version"] is not None else None
            if files is not None and path not in files:
                travel[int(entry["table_version"])].append(entry)  # moved (compaction) or rewritten: look back
    for key, n in seen.items():
        if n > 1:
            report.add(expected[key]["seq"] if key in expected else None,
                       f"{table} row {_label(table, key)} appears {n} times")
    for key, entry in expected.items():
        if key not in seen:
            report.add(entry["seq"], f"{table} row {_label(table, key)} was deleted")
    _time_travel(lake, table, travel, added, report)


def _time_travel(lake: Lake, table: str, travel: Mapping[int, list[Mapping[str, Any]]],
                 added: Mapping[tuple[str, int], set[str]], report: VerifyReport) -> None:
    """Each version a row no longer sits in, read as it was: only the files that version added."""
    for version, group in sorted(travel.items()):
        try:
            rows = {_row_key(table, r): r for _, t in lake.scan(table, version=version, paths=added[(table, version)])
                    for r in t.to_pylist()}
        except Exception as exc:  # a version that cannot be loaded is itself the finding
            report.add(group[0]["seq"], f"{table} version {version} cannot be read: {str(exc)[:300]}")
            continue
        for e in group:
            key = _entry_key(table, e)
            row = rows.get(key)
            if row is None:
                report.add(e["seq"], f"{table} version {version} lacks row {_label(table, key)}")
            elif row_sha256(table, row) != e["row_sha256"]:
                report.add(e["seq"], f"{table} version {version} holds a different row {_label(table, key)}")


# ---- the source files -------------------------------------------------------------------------------


def _relative(uri: str, root: str | None) -> str | None:
    prefix = (root or "").rstrip("/") + "/"
    return uri[len(prefix):] if root and uri.startswith(prefix) else None


def _check_sources(entries: Iterable[Mapping[str, Any]], roots: Mapping[str, str], sources: Path,
                   report: VerifyReport) -> None:
    """Each received file, found under DIR by its path relative to its night's input root (the night's
    folder may have moved since), must still have the hash it was received with."""
    base = sources.resolve()
    hashed: dict[Path, str] = {}
    for e in entries:
        if e["stage"] != Stage.RECEIVED.value or not e["details"]:
            continue
        uri = str(json.loads(e["details"]).get("source_uri", ""))
        rel = _relative(uri, roots.get(e["batch_id"]))
        path = None
        if "://" not in uri and Path(uri).resolve().is_relative_to(base):
            path, rel = Path(uri), str(Path(uri).resolve().relative_to(base))
        elif rel is not None:
            path = base / rel
        if path is None:
            report.add(e["seq"], f"source file {uri} is not under its night's input root "
                                 f"({roots.get(e['batch_id'])}): cannot be found in {sources}")
            continue
        if not path.is_file():
            report.add(e["seq"], f"source file {rel} is missing from {sources}")
            continue
        if path not in hashed:
            hashed[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            report.sources += 1
        if hashed[path] != e["payload_sha256"]:
            report.add(e["seq"], f"source file {rel} no longer has the hash it was received with")
