"""Ad-hoc SQL over every table in the lake, through deltalake's DataFusion QueryBuilder."""

from __future__ import annotations

import pyarrow as pa
from deltalake import QueryBuilder

from policy_ray.adapters.lake import Lake
from policy_ray.adapters.lake_schema import TABLES

# Rows of quarantined batches stay in `policies`, flagged by their batch's status; this view shows only
# batches reconciliation has passed or a reviewer released: a night still running (a re-run of a
# quarantined night included, whose status reads `running` until it closes) is not judged yet.
CURRENT_STATUSES = ("completed", "released")
POLICIES_CURRENT = ("CREATE VIEW policies_current AS SELECT p.* FROM policies p JOIN batches b "
                    "ON p.batch_id = b.batch_id WHERE b.status IN ("
                    + ", ".join(f"'{s}'" for s in CURRENT_STATUSES) + ")")


def run_sql(lake_uri: str, sql: str) -> pa.Table:
    lake = Lake(lake_uri)
    builder = QueryBuilder()
    for name in TABLES:
        builder.register(name, lake.table(name))
    builder.execute(POLICIES_CURRENT).read_all()
    reader = builder.execute(sql)
    return pa.table(reader.read_all())


def policies_current(lake_uri: str) -> pa.Table:
    """Committed policies of every batch that is not quarantined (for pandas/polars users)."""
    return run_sql(lake_uri, "SELECT * FROM policies_current")


def format_table(table: pa.Table, *, max_rows: int = 50) -> str:
    rows = table.slice(0, max_rows).to_pylist()
    names = table.column_names
    cells = [[_cell(r[n]) for n in names] for r in rows]
    widths = [max([len(n), *(len(c[i]) for c in cells)]) for i, n in enumerate(names)]
    out = [" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    if table.num_rows > max_rows:
        out.append(f"... {table.num_rows - max_rows} more rows")
    out.append(f"({table.num_rows} rows)")
    return "\n".join(out)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
