"""Figure 2: memory.

(a) Actors across a night: the production extractor actors (runtime.worker_factory behind a
    RecyclingActorPool of 2, the job's pool policy but with max_calls raised to the night's size so no
    recycling hides a leak) over a default-mix night. Each result carries the actor's RSS after the
    document; a sampler thread also reads every actor PID (and the driver) with psutil every 0.2 s.
    Reported: the peak against the memory ceiling and the RSS slope after warm-up, in KiB/document.
(b) The driver while 100,000 documents are queued: a fresh interpreter runs the job's own listing,
    hashing and de-duplication generator (flows.nightly.plan_tasks, with a real BatchState of an empty
    lake) over 100,000 distinct small files and samples its RSS every 2,000 tasks. The generator alone,
    not a 100,000-document night: extracting them would take hours on 2 cores.
(c) The 400-page document, in a fresh interpreter with the actor's RLIMIT_DATA ceiling set, triage on and
    off: RSS before and after, and the process's peak RSS (ru_maxrss).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Context, Figure, fmt

BASE_DOCS = 300
SEED = 33
LISTING_FILES = 100_000
ACTOR_SLOPE_TARGET_KIB = 10.0  # under 2 MB of drift over an actor's max_calls=200 documents
DRIVER_GROWTH_TARGET_MB = 32.0  # "flat": well under one actor's warm RSS per 100,000 queued documents


# ---- (a) actors across a night ---------------------------------------------------------------------------


class _Sampler(threading.Thread):
    def __init__(self, period_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.period_s = period_s
        self.pids: set[int] = set()
        self.peak: dict[int, float] = {}
        self.driver_peak = 0.0
        self._stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.driver_peak = max(self.driver_peak, common.rss_mb(me))
            for pid in list(self.pids):
                value = common.rss_mb(pid)
                if value == value:
                    self.peak[pid] = max(self.peak.get(pid, 0.0), value)
            self._stop.wait(self.period_s)

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=5)


def actors_across_night(ctx: Context, fig: Figure) -> None:
    from policy_ray.actors import runtime
    from policy_ray.actors.pool import PoolPolicy, RecyclingActorPool
    from policy_ray.config import Settings, load_pipeline_data

    n = ctx.size(BASE_DOCS, minimum=20)
    folder = common.night(n, SEED)
    paths = common.documents(folder)
    ctx.ray_up()
    settings = Settings(ocr=False)
    data = load_pipeline_data(settings)
    ceiling = settings.memory_ceiling_mb
    policy = PoolPolicy(size=2, max_calls=max(len(paths), 1), rss_limit_mb=settings.rss_recycle_fraction * ceiling,
                        deadline_s=settings.document_deadline_s, max_attempts=settings.max_attempts)
    pool = RecyclingActorPool(runtime.worker_factory("extractor", settings, data,
                                                     resources={"num_cpus": settings.extractor_num_cpus}), policy)
    per_actor: dict[str, list[tuple[int, float]]] = {}
    driver: list[tuple[int, float]] = []
    sampler = _Sampler()
    sampler.start()
    done = 0

    def on_result(result: Any) -> None:
        nonlocal done
        done += 1
        worker = result.worker
        if worker is not None:
            sampler.pids.add(worker.pid)
            per_actor.setdefault(f"{worker.actor_id} (pid {worker.pid})", []).append((worker.calls, worker.rss_mb))
        driver.append((done, common.rss_mb()))

    tasks = iter([common.make_task(p, "bench-memory") for p in paths])
    started = time.perf_counter()
    try:
        pool.run(tasks, on_result)
    finally:
        sampler.stop()
    seconds = time.perf_counter() - started

    rows = []
    slopes: list[float] = []
    for name, points in sorted(per_actor.items()):
        warm = max(20, len(points) // 5)  # the first documents import camelot, warm caches, etc.
        after = points[warm:]
        kib = common.slope([c for c, _ in after], [r for _, r in after]) * 1024
        if kib == kib:
            slopes.append(kib)
        rows.append([name, len(points), fmt(points[0][1], 0), fmt(points[min(warm, len(points) - 1)][1], 0),
                     fmt(points[-1][1], 0), fmt(max(r for _, r in points), 0), fmt(kib, 1)])
    reported_peak = max((r for pts in per_actor.values() for _, r in pts), default=float("nan"))
    sampled_peak = max(sampler.peak.values(), default=float("nan"))
    peak = max(reported_peak, sampled_peak)
    worst_slope = max(slopes, key=abs, default=float("nan"))
    d_warm = max(20, len(driver) // 5)
    driver_kib = common.slope([i for i, _ in driver[d_warm:]], [r for _, r in driver[d_warm:]]) * 1024
    fig.details.append(f"**(a) Actors across a night** ({len(paths)} documents, default mix with hostile files and "
                       f"scans, OCR off; {fmt(seconds, 1)} s; ceiling {ceiling} MB, recycle threshold "
                       f"{fmt(policy.rss_limit_mb, 0)} MB; warm-up = first max(20, 20%) documents of each actor)")
    fig.details.append("")
    fig.details += common.md_table(["actor", "documents", "RSS after doc 1 MB", "after warm-up MB", "last MB",
                                    "peak reported MB", "slope after warm-up KiB/doc"], rows)
    fig.details.append("")
    fig.details.append(f"Peak sampled with psutil every 0.2 s (between and during documents): {fmt(sampled_peak, 0)} MB. "
                       f"Driver RSS across the night: {fmt(driver[0][1] if driver else float('nan'), 0)} -> "
                       f"{fmt(driver[-1][1] if driver else float('nan'), 0)} MB "
                       f"(slope {fmt(driver_kib, 1)} KiB/doc, peak {fmt(sampler.driver_peak, 0)} MB).")
    fig.details.append("")
    fig.row("actor peak RSS / memory ceiling", f"{fmt(peak / ceiling, 3)} ({fmt(peak, 0)} of {ceiling} MB)", "< 1",
            peak < ceiling)
    fig.row("actor RSS slope after warm-up, KiB/document (worst actor)", fmt(worst_slope, 1),
            f"<= {ACTOR_SLOPE_TARGET_KIB:g} (flat)", abs(worst_slope) <= ACTOR_SLOPE_TARGET_KIB)
    fig.sizes["night (actors)"] = f"{len(paths)} documents, generate_night(n={n}, seed={SEED}) default mix"
    fig.raw["actors"] = {"per_actor": per_actor, "sampled_peak_mb": sampled_peak, "seconds": seconds,
                         "driver": driver, "slopes_kib": slopes, "pool": pool.stats.as_dict()}


# ---- (b) the driver while 100,000 documents are queued ---------------------------------------------------


def listing_folder(count: int) -> Path:
    folder = common.OUT / f"listing-{count}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):  # distinct bytes: every file is a new document, none a duplicate
        with open(folder / f"{i:06d}.pdf", "wb") as f:
            f.write(b"%%PDF-1.4\n%% policy-ray bench listing %d\n" % i)
    marker.write_text(str(count))
    return folder


LISTING_CHILD = """
import gc, json, resource, sys
from bench.memory import listing_child
print(json.dumps(listing_child(sys.argv[1], sys.argv[2])))
"""


def listing_child(folder: str, lake_dir: str) -> dict[str, Any]:
    """Runs in a fresh interpreter: RSS of the job's planning generator over a large listing."""
    import gc
    import resource

    from policy_ray.adapters.lake import Lake
    from policy_ray.adapters.source import DocumentSource
    from policy_ray.flows import nightly
    from policy_ray.flows.committer import BatchState, MicroBatchCommitter

    batch_id = "bench-listing"
    lake = Lake(lake_dir)
    lake.ensure_tables()
    state = BatchState.load(lake, batch_id)
    committer = MicroBatchCommitter(lake, batch_id, state, every_docs=250, interval_s=30.0, metadata={})
    summary = nightly.NightSummary(batch_id=batch_id, batch_date=common.BATCH_DATE)
    progress = nightly._progress(False)
    source = DocumentSource(folder)
    gc.collect()
    base = common.rss_mb()
    tasks = nightly.plan_tasks(source, state, committer, batch_id, common.BATCH_DATE, summary, progress)
    samples: list[tuple[int, float]] = []
    started = time.perf_counter()
    count = 0
    for count, _task in enumerate(tasks, start=1):
        if count == 1 or count % 2000 == 0:
            samples.append((count, common.rss_mb()))
    seconds = time.perf_counter() - started
    samples.append((count, common.rss_mb()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"base_mb": base, "samples": samples, "peak_mb": peak, "tasks": count, "listed": summary.listed,
            "seconds": seconds}


def driver_listing(ctx: Context, fig: Figure) -> None:
    folder = listing_folder(LISTING_FILES)
    with common.scratch("listing-lake-") as lake:
        out = common.run_python(LISTING_CHILD, str(folder), str(lake), timeout=900)
    samples = out["samples"]
    first = samples[0][1]
    end = samples[-1][1]
    tail = [s for s in samples if s[0] >= 10_000]
    kib = common.slope([c for c, _ in tail], [r for _, r in tail]) * 1024
    growth = end - first
    per_100k = growth * 100_000 / max(out["tasks"], 1)
    fig.details.append(f"**(b) Driver while {out['tasks']:,} documents are queued** (plan_tasks over "
                       f"{LISTING_FILES:,} distinct files of ~40 bytes, {fmt(out['seconds'], 1)} s): RSS "
                       f"{fmt(out['base_mb'], 0)} MB before the first task, {fmt(first, 0)} MB after it (the sorted "
                       f"directory listing is read at once), {fmt(end, 0)} MB after the last; slope "
                       f"{fmt(kib, 2)} KiB/queued document after 10,000; peak {fmt(out['peak_mb'], 0)} MB.")
    curve = ", ".join(f"{c:,}: {fmt(r, 0)}" for c, r in samples[:: max(1, len(samples) // 8)])
    fig.details.append(f"RSS curve (tasks: MB): {curve}.")
    fig.details.append("")
    fig.row(f"driver RSS growth while {out['tasks']:,} documents stream through planning (MB)",
            f"{fmt(growth, 1)} ({fmt(kib, 2)} KiB/doc)", f"flat: < {DRIVER_GROWTH_TARGET_MB:g} MB per 100k",
            per_100k < DRIVER_GROWTH_TARGET_MB)
    fig.row("driver RSS after listing / before listing", fmt(end / out["base_mb"], 2))
    fig.sizes["queued documents"] = f"{out['tasks']:,} (listing and hashing only)"
    fig.raw["listing"] = out


# ---- (c) the 400-page document ---------------------------------------------------------------------------


LONG_CHILD = """
import json, sys
from bench.memory import long_child
print(json.dumps(long_child(sys.argv[1], sys.argv[2] == "1")))
"""


def long_child(path: str, triage: bool) -> dict[str, Any]:
    import gc
    import resource

    from policy_ray.actors.memory_guard import set_memory_ceiling
    from policy_ray.config import Settings, load_pipeline_data
    from policy_ray.stages.extract import ExtractStage

    settings = Settings(triage=triage, ocr=False)
    set_memory_ceiling(settings.memory_ceiling_mb)  # what the actor does in its __init__
    stage = ExtractStage(settings, load_pipeline_data(settings))
    task = common.make_task(Path(path), "bench-long")
    gc.collect()
    before = common.rss_mb()
    started = time.perf_counter()
    result = stage.process(task)
    seconds = time.perf_counter() - started
    after = common.rss_mb()
    gc.collect()
    return {"triage": triage, "before_mb": before, "after_mb": after, "after_gc_mb": common.rss_mb(),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "seconds": seconds,
            "status": result.status, "pages": result.page_count, "timings_ms": result.timings_ms,
            "category": result.failure.category.value if result.failure else None,
            "ceiling_mb": settings.memory_ceiling_mb}


def long_document(ctx: Context, fig: Figure) -> None:
    if not common.LONG_PDF.exists():
        fig.details.append(f"**(c)** {common.LONG_PDF} not found: not measured.")
        return
    rows = []
    outs = []
    for triage in (True, False):
        out = common.run_python(LONG_CHILD, str(common.LONG_PDF), "1" if triage else "0", timeout=900)
        outs.append(out)
        rows.append(["on" if triage else "off", out["pages"], fmt(out["seconds"], 1), fmt(out["before_mb"], 0),
                     fmt(out["after_mb"], 0), fmt(out["peak_mb"], 0),
                     f"{out['status']}" + (f" ({out['category']})" if out["category"] else "")])
    fig.details.append(f"**(c) The 400-page document** ({common.LONG_PDF.name}, one fresh process per mode, "
                       f"RLIMIT_DATA ceiling {outs[0]['ceiling_mb']} MB as in an actor)")
    fig.details.append("")
    fig.details += common.md_table(["triage", "pages", "seconds", "RSS before MB", "RSS after MB",
                                    "peak RSS MB (ru_maxrss)", "outcome"], rows)
    fig.details.append("")
    worst = max(o["peak_mb"] for o in outs)
    ceiling = outs[0]["ceiling_mb"]
    fig.row("400-page document: peak RSS / ceiling (worst of triage on, off)",
            f"{fmt(worst / ceiling, 3)} ({fmt(worst, 0)} of {ceiling} MB)", "< 1", worst < ceiling)
    fig.row("400-page document: seconds triage off / triage on", fmt(outs[1]["seconds"] / outs[0]["seconds"], 1))
    fig.raw["long_document"] = outs


def run(ctx: Context) -> Figure:
    fig = Figure("memory", "2. Memory")
    for part in (actors_across_night, driver_listing, long_document):
        try:
            part(ctx, fig)
        except Exception as exc:  # one part failing must not hide the others
            fig.details.append(f"**{part.__name__} failed**: `{type(exc).__name__}: {str(exc)[:400]}`")
            fig.row(f"{part.__name__}", "failed", "", False)
    return fig


if __name__ == "__main__":  # a quick manual run: python -m bench.memory
    context = Context()
    figure = run(context)
    print("\n".join(figure.details))
    json.dump(figure.raw, sys.stdout, default=str)
