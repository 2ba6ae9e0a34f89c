"""Figure 5: Delta commits, files and compaction.

(a) One night (figure 1's two-extractor run, or a run of its own when figure 1 was skipped): Delta
    commits and data files per table, against the micro-batches the committer wrote; commit time as a
    share of the night (NightSummary.commit_seconds / NightSummary.seconds).
    A second night of twice the documents shows what grows with documents and what does not.
(b) A simulated month: that night's accepted rows appended as 30 nights of micro-batches (Lake.append,
    the job's own commit path, into a fresh lake), then a typical query through `policy-ray sql`'s code
    (flows.query.run_sql) before and after `policy-ray optimize` (flows.maintenance.optimize: compaction
    of every table, then a checkpoint).
"""

from __future__ import annotations

import math
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Context, Figure, fmt, ratio

NIGHTS = 30
BASE_MICRO_BATCHES = 5  # per simulated night: a 1,250-document night at 250 documents per micro-batch
QUERY_REPEATS = 5
QUERIES = {
    "carrier rollup": "SELECT carrier_name, count(*) AS policies, sum(total_premium) AS premium "
                      "FROM policies GROUP BY carrier_name ORDER BY policies DESC",
    "one night's policies": "SELECT policy_number, insured_name, total_premium FROM policies "
                            "WHERE batch_date = DATE '2026-11-15' ORDER BY policy_number",
}


def _night(ctx: Context) -> tuple[Path, Any, int]:
    """(lake, summary, documents) of a night run by the full job with 2 extractors."""
    shared = ctx.shared.get("scaling")
    if shared:
        return Path(shared["lake"]), shared["summary"], int(shared["documents"])
    from bench import scaling

    folder = common.night(ctx.size(scaling.BASE_DOCS, minimum=8), scaling.SEED, include_hostile=False,
                          scanned_share=0.0)
    ctx.ray_up()
    lake = common.OUT / "last-night-lake"
    shutil.rmtree(lake, ignore_errors=True)
    _run, summary = scaling.run_job(folder, lake, 2)
    return lake, summary, len(common.documents(folder))


def table_stats(lake: Path) -> dict[str, dict[str, int]]:
    from deltalake import DeltaTable

    stats = {}
    for table in sorted(p for p in lake.iterdir() if (p / "_delta_log").is_dir()):
        dt = DeltaTable(str(table))
        operations = [h.get("operation", "?") for h in dt.history()]
        stats[table.name] = {"versions_after_create": dt.version(), "files": len(dt.file_uris()),
                             "writes": sum(op in ("WRITE", "MERGE") for op in operations)}
    return stats


def _bigger_night(ctx: Context, docs: int) -> tuple[Path, Any, int]:
    """A night of twice the documents (same generator, another seed), run the same way."""
    from bench import scaling

    folder = common.night(2 * docs, scaling.SEED + 1, include_hostile=False, scanned_share=0.0)
    ctx.ray_up()
    lake = common.OUT / "bigger-night-lake"
    shutil.rmtree(lake, ignore_errors=True)
    _run, summary = scaling.run_job(folder, lake, 2)
    return lake, summary, len(common.documents(folder))


def _commits(lake: Path, batch_id: str) -> dict[str, Any]:
    from policy_ray.adapters.lake import Lake

    stats = table_stats(lake)
    micro = Lake(str(lake)).last_sequence(batch_id)
    data_commits = sum(s["versions_after_create"] for name, s in stats.items() if name != "batches")
    return {"tables": stats, "micro_batches": micro, "data_commits": data_commits,
            "commits": sum(s["versions_after_create"] for s in stats.values()),
            "files": sum(s["files"] for s in stats.values()),
            "per_micro_batch": ratio(data_commits, max(micro, 1)), "data_tables": len(stats) - 1}


def night_figures(ctx: Context, fig: Figure) -> None:
    from policy_ray.config import Settings

    lake, summary, docs = _night(ctx)
    night = _commits(lake, summary.batch_id)
    big_lake, big_summary, big_docs = _bigger_night(ctx, docs)
    big = _commits(big_lake, big_summary.batch_id)
    settings = Settings()
    fig.details.append(f"**(a) Two nights**: {docs} and {big_docs} documents (commit every "
                       f"{settings.commit_every_docs} documents or {settings.commit_interval_s:g} s, whichever "
                       f"comes first): {night['micro_batches']} and {big['micro_batches']} micro-batches; nights "
                       f"{fmt(summary.seconds, 1)} s and {fmt(big_summary.seconds, 1)} s, commits "
                       f"{fmt(summary.commit_seconds, 2)} s and {fmt(big_summary.commit_seconds, 2)} s.")
    fig.details.append("")
    fig.details += common.md_table(
        ["table", f"commits, {docs} documents", f"data files, {docs} documents", f"commits, {big_docs} documents",
         f"data files, {big_docs} documents"],
        [[name, s["versions_after_create"], s["files"], big["tables"][name]["versions_after_create"],
          big["tables"][name]["files"]] for name, s in night["tables"].items()])
    fig.details.append("")
    tables = night["data_tables"]
    bounded = all(n["per_micro_batch"] <= tables for n in (night, big))
    fig.row("data-table commits per micro-batch, night of N / night of 2N documents",
            f"{fmt(night['per_micro_batch'], 2)} / {fmt(big['per_micro_batch'], 2)}",
            f"<= {tables} each (one per table per micro-batch)", bounded,
            why="a table was written more than once in a micro-batch")
    fig.row("Delta commits per night, N / 2N documents (all tables)", f"{night['commits']} / {big['commits']}")
    fig.row("documents per Delta commit, N / 2N", f"{fmt(ratio(docs, night['commits']), 1)} / "
            f"{fmt(ratio(big_docs, big['commits']), 1)}")
    files_bounded = all(n["files"] <= n["commits"] for n in (night, big))
    fig.row("data files per night, N / 2N documents", f"{night['files']} / {big['files']}",
            "<= commits (no file per document)", files_bounded)
    fig.row("commit time / night time (N documents)", fmt(ratio(summary.commit_seconds, summary.seconds), 3))
    fig.raw["night"] = {"n": night, "2n": big, "seconds": [summary.seconds, big_summary.seconds],
                        "commit_seconds": [summary.commit_seconds, big_summary.commit_seconds],
                        "documents": [docs, big_docs]}


def _query_seconds(lake: Path, sql: str) -> tuple[float, int]:
    from policy_ray.flows.query import run_sql

    times = []
    rows = 0
    for _ in range(QUERY_REPEATS):
        started = time.perf_counter()
        rows = run_sql(str(lake), sql).num_rows
        times.append(time.perf_counter() - started)
    return common.median(times), rows


def month(ctx: Context, fig: Figure) -> None:
    import pyarrow as pa
    from deltalake import DeltaTable

    from policy_ray.adapters.lake import Lake
    from policy_ray.flows.maintenance import optimize

    night_lake, _summary, _docs = _night(ctx)
    source = Lake(str(night_lake)).read("policies")
    per_night = ctx.size(BASE_MICRO_BATCHES)
    with common.scratch("month-") as tmp:
        lake = Lake(str(tmp / "lake"))
        lake.ensure_tables()
        start_day = common.BATCH_DATE - timedelta(days=NIGHTS)
        started = time.perf_counter()
        for d in range(NIGHTS):
            day = start_day + timedelta(days=d)
            batch_id = f"{day.isoformat()}-month"
            rows = source.set_column(source.schema.get_field_index("batch_date"), "batch_date",
                                     pa.array([day] * source.num_rows, source.schema.field("batch_date").type))
            rows = rows.set_column(rows.schema.get_field_index("batch_id"), "batch_id",
                                   pa.array([batch_id] * rows.num_rows, rows.schema.field("batch_id").type))
            size = math.ceil(rows.num_rows / per_night)
            for j in range(per_night):
                chunk = rows.slice(j * size, size)
                if chunk.num_rows:
                    lake.append("policies", chunk, batch_id=batch_id, sequence=j + 1,
                                metadata={"batch_id": batch_id, "bench": "month"})
        append_s = time.perf_counter() - started
        uri = str(tmp / "lake" / "policies")
        files_before = len(DeltaTable(uri).file_uris())
        before = {name: _query_seconds(tmp / "lake", sql) for name, sql in QUERIES.items()}
        optimize_s, report = common.timed(lambda: optimize(lake))
        files_after = len(DeltaTable(uri).file_uris())
        after = {name: _query_seconds(tmp / "lake", sql) for name, sql in QUERIES.items()}
    fig.details.append(f"**(b) A simulated month**: {NIGHTS} nights x {per_night} micro-batches of "
                       f"{source.num_rows} accepted rows per night appended with Lake.append ({fmt(append_s, 1)} s); "
                       f"policies had {files_before} data files, {files_after} after `policy-ray optimize` "
                       f"({fmt(optimize_s, 2)} s for all tables: compaction, then a checkpoint of each; policies "
                       f"files removed {report['policies'].get('files_removed', '?')}). Query time = median of "
                       f"{QUERY_REPEATS} runs of flows.query.run_sql (what `policy-ray sql` runs: opens every "
                       "table, then DataFusion).")
    fig.details.append("")
    fig.details += common.md_table(
        ["query", "rows", "before optimize s", "after optimize s", "before / after"],
        [[name, before[name][1], fmt(before[name][0], 3), fmt(after[name][0], 3),
          fmt(ratio(before[name][0], after[name][0]), 2)] for name in QUERIES])
    fig.details.append("")
    rollup = ratio(before["carrier rollup"][0], after["carrier rollup"][0])
    why = ("nothing to compact: one file per night partition already" if files_before <= files_after else
           "the compacted table is read from fewer files but the query is dominated by something else")
    fig.row("month: query time before / after `policy-ray optimize` (carrier rollup)", fmt(rollup),
            "> 1 (compaction helps)", rollup > 1, why=why)
    fig.row("month: data files before / after compaction", f"{files_before} / {files_after}")
    fig.sizes.update({"month": f"{NIGHTS} nights x {per_night} micro-batches x {source.num_rows} rows"})
    fig.raw["month"] = {"before": before, "after": after, "files_before": files_before, "files_after": files_after,
                        "optimize_s": optimize_s, "report": report, "append_s": append_s}


def run(ctx: Context) -> Figure:
    fig = Figure("delta", "5. Delta: commits, files, compaction")
    common.quiet_driver_logs()
    for part in (night_figures, month):
        try:
            part(ctx, fig)
        except Exception as exc:
            fig.details.append(f"**{part.__name__} failed**: `{type(exc).__name__}: {str(exc)[:400]}`")
            fig.row(part.__name__, "failed", "", False)
    return fig
