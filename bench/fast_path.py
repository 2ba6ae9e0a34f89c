"""Figure 7: the fast path (issue 5).

A night of multi-page policies (declarations followed by 20-100 wording pages) through ExtractStage in
this process, two ways, interleaved document by document (alternating which goes first):
  fast  Settings(triage=True): pypdfium2 text of every page, pdfplumber and tables only on the pages
        triage keeps (the job's default)
  slow  Settings(triage=False, table_pages_max=max_pages): pdfplumber words and ruled tables on every page
Documents per hour of each, and whether the records the job would commit are identical: same status
per document and, for accepted ones, the same normalized_sha256 (the canonical hash of the record).
"""

from __future__ import annotations

import time
from typing import Any

from bench import common
from bench.common import Context, Figure, fmt, ratio

BASE_DOCS = 6  # certificates and long declarations, as the generator's mix draws them
SEED = 57
WORDING_PAGES = (20, 100)
TARGET = 5.0


def _geometry_pages(result: Any) -> str:
    pages = (result.raw_payload or {}).get("pages")
    return str(len(pages)) if isinstance(pages, list | tuple) else "-"


def run(ctx: Context) -> Figure:
    from policy_ray.config import Settings, load_pipeline_data
    from policy_ray.stages.extract import ExtractStage

    fig = Figure("fast_path", "7. The fast path: triage vs every page")
    ctx.ray_down()
    n = ctx.size(BASE_DOCS, minimum=2)
    folder = common.night(n, SEED, wording_pages=WORDING_PAGES, include_hostile=False, scanned_share=0.0)
    paths = common.documents(folder)
    truth = common.ground_truth(folder)
    fast_settings = Settings(triage=True, ocr=False)
    slow_settings = Settings(triage=False, ocr=False, table_pages_max=fast_settings.max_pages)
    data = load_pipeline_data(fast_settings)
    stages = {"fast": ExtractStage(fast_settings, data), "slow": ExtractStage(slow_settings, data)}
    # Warm-up (not timed): lazy imports (camelot, OpenCV) and caches, on the smallest document.
    smallest = min(paths, key=lambda p: p.stat().st_size)
    for stage in stages.values():
        stage.process(common.make_task(smallest, "bench-fast-path"))
    seconds = {"fast": 0.0, "slow": 0.0}
    rows = []
    identical = 0
    accepted_both = 0
    pages_total = 0
    differences: list[str] = []
    for i, path in enumerate(paths):
        task = common.make_task(path, "bench-fast-path")
        results: dict[str, Any] = {}
        for mode in (("fast", "slow") if i % 2 == 0 else ("slow", "fast")):
            stage = stages[mode]
            started = time.perf_counter()
            results[mode] = stage.process(task)
            elapsed = time.perf_counter() - started
            seconds[mode] += elapsed
            results[mode + "_s"] = elapsed
        fast, slow = results["fast"], results["slow"]
        same = fast.status == slow.status and fast.normalized_sha256 == slow.normalized_sha256
        identical += same
        accepted_both += fast.status == slow.status == "accepted"
        pages_total += fast.page_count
        if not same:
            differences.append(f"{path.name}: fast {fast.status} {(fast.normalized_sha256 or '')[:12]}, "
                               f"slow {slow.status} {(slow.normalized_sha256 or '')[:12]}")
        expected = truth.get(path.name, {}).get("expected", "?")
        rows.append([path.name, fast.page_count, _geometry_pages(fast),
                     fmt(results["fast_s"], 2), fmt(results["slow_s"], 2),
                     fmt(ratio(results["slow_s"], results["fast_s"]), 1), f"{fast.status} / {slow.status}",
                     expected, "yes" if same else "**no**"])
    per_hour = {mode: 3600 * len(paths) / s for mode, s in seconds.items()}
    speedup = ratio(per_hour["fast"], per_hour["slow"])
    fig.sizes = {"documents": len(paths), "pages": pages_total,
                 "night": f"generate_night(n={n}, seed={SEED}, wording_pages={WORDING_PAGES}, "
                          "include_hostile=False, scanned_share=0)"}
    fig.details += common.md_table(["document", "pages", "pages read with geometry (fast)", "fast s", "slow s",
                                    "slow / fast", "status fast / slow", "ground truth", "same record"], rows)
    fig.details.append("")
    fig.details.append(f"fast {fmt(per_hour['fast'], 0)} documents/hour, slow {fmt(per_hour['slow'], 0)} "
                       f"documents/hour (one core each, in this process). Accepted by both: {accepted_both}.")
    if differences:
        fig.details.append("Differences: " + "; ".join(differences))
    fig.row("triage on / every page, documents per hour", fmt(speedup, 1), f">= {TARGET:g}", speedup >= TARGET,
            why="the night's documents are short: triage saves pages only where there are pages to skip")
    fig.row("committed records identical (status + normalized_sha256)", f"{identical}/{len(paths)}",
            "all", identical == len(paths), why="; ".join(differences)[:300])
    fig.raw = {"seconds": seconds, "per_hour": per_hour, "identical": identical, "documents": len(paths),
               "pages": pages_total}
    return fig
