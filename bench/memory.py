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

import inspect
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Context, Figure, fmt

BASE_DOCS = 2000
SEED = 33
LISTING_FILES = 100_000
ACTOR_SLOPE_TARGET_KIB = 10.0  # under 2 MB of drift over an actor's max_calls=200 documents
DRIVER_SLOPE_TARGET_KIB = 0.1  # "flat": under 10 MB per 100,000 queued documents
TRACE_DOCS = 20_000  # documents of a second, traced pass that says where the growth goes


# ---- (a) actors across a night ---------------------------------------------------------------------------


class _Sampler(threading.Thread):
    def __init__(self, period_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.period_s = period_s
        self.pids: set[int] = set()
        self.peak: dict[int, float] = {}
        self.driver_peak = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._halt.is_set():
            self.driver_peak = max(self.driver_peak, common.rss_mb(me))
            for pid in list(self.pids):
                value = common.rss_mb(pid)
                if value == value:
                    self.peak[pid] = max(self.peak.get(pid, 0.0), value)
            self._halt.wait(self.period_s)

    def stop(self) -> None:
        self._halt.set()
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
    late_slopes: list[float] = []
    rises: list[str] = []
    for name, points in sorted(per_actor.items()):
        warm = max(20, len(points) // 5)  # the first documents import camelot, warm caches, etc.
        after = points[warm:]
        kib = common.slope([c for c, _ in after], [r for _, r in after]) * 1024
        late = after[len(after) // 2:]
        late_kib = common.slope([c for c, _ in late], [r for _, r in late]) * 1024
        if kib == kib:
            slopes.append(kib)
        if late_kib == late_kib:
            late_slopes.append(late_kib)
        if len(after) >= 4:
            mid = after[len(after) // 2][1]
            rises.append(f"{mid - after[0][1]:+.1f} MB then {after[-1][1] - mid:+.1f} MB")
        rows.append([name, len(points), fmt(points[0][1], 0), fmt(points[min(warm, len(points) - 1)][1], 0),
                     fmt(points[-1][1], 0), fmt(max(r for _, r in points), 0), fmt(kib, 1), fmt(late_kib, 1)])
    reported_peak = max((r for pts in per_actor.values() for _, r in pts), default=float("nan"))
    sampled_peak = max(sampler.peak.values(), default=float("nan"))
    peak = max(reported_peak, sampled_peak)
    worst_slope = max(slopes, key=abs, default=float("nan"))
    d_warm = max(20, len(driver) // 5)
    driver_kib = common.slope([i for i, _ in driver[d_warm:]], [r for _, r in driver[d_warm:]]) * 1024
    fig.details.append(f"**(a) Actors across a night** ({len(paths)} documents, default mix with hostile files and "
                       f"scans, OCR off; {fmt(seconds, 1)} s; max_calls raised to {policy.max_calls} so no actor is "
                       f"recycled; ceiling {ceiling} MB, recycle threshold "
                       f"{fmt(policy.rss_limit_mb, 0)} MB; warm-up = first max(20, 20%) documents of each actor)")
    fig.details.append("")
    fig.details += common.md_table(["actor", "documents", "RSS after doc 1 MB", "after warm-up MB", "last MB",
                                    "peak reported MB", "slope after warm-up KiB/doc",
                                    "slope, second half after warm-up KiB/doc"], rows)
    fig.details.append("")
    d_first, d_last = (driver[0][1], driver[-1][1]) if driver else (float("nan"), float("nan"))
    fig.details.append(f"Peak sampled with psutil every 0.2 s (between and during documents): "
                       f"{fmt(sampled_peak, 0)} MB. Driver RSS across the night: {fmt(d_first, 0)} -> "
                       f"{fmt(d_last, 0)} MB "
                       f"(slope {fmt(driver_kib, 1)} KiB/doc, peak {fmt(sampler.driver_peak, 0)} MB).")
    fig.details.append("")
    fig.row("actor peak RSS / memory ceiling", f"{fmt(peak / ceiling, 3)} ({fmt(peak, 0)} of {ceiling} MB)", "< 1",
            peak < ceiling)
    fig.row("actor RSS slope after warm-up, KiB/document (worst actor)", fmt(worst_slope, 1),
            f"<= {ACTOR_SLOPE_TARGET_KIB:g} (flat)",
            None if worst_slope != worst_slope else abs(worst_slope) <= ACTOR_SLOPE_TARGET_KIB,
            why=f"RSS still settling after warm-up: per actor {'; '.join(rises)} over the first and the second half "
                f"of its documents after warm-up (worst second-half slope "
                f"{fmt(max(late_slopes, key=abs, default=float('nan')), 1)} KiB/doc); at the worst slope an actor "
                f"gains {fmt(worst_slope * 200 / 1024, 1)} MB over max_calls=200, against "
                f"{fmt(policy.rss_limit_mb - reported_peak, 0)} MB of headroom to the recycle threshold")
    fig.sizes["night (actors)"] = f"{len(paths)} documents, generate_night(n={n}, seed={SEED}) default mix"
    fig.raw["actors"] = {"per_actor": per_actor, "sampled_peak_mb": sampled_peak, "seconds": seconds,
                         "driver": driver, "slopes_kib": slopes, "late_slopes_kib": late_slopes,
                         "pool": pool.stats.as_dict()}


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


def _call_by_name(fn: Any, **available: Any) -> Any:
    """Call `fn` with the arguments its signature names (plan_tasks' signature has changed before)."""
    params = inspect.signature(fn).parameters
    missing = [n for n, p in params.items() if n not in available and p.default is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{fn.__qualname__} needs arguments this benchmark does not know: {missing}")
    return fn(**{n: available[n] for n in params if n in available})


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
    hwm_reset = _reset_peak_rss()  # the peak then covers the generator only
    tasks = _call_by_name(nightly.plan_tasks, source=source, listing=source.list(), state=state,
                          committer=committer, batch_id=batch_id, batch_date=common.BATCH_DATE, summary=summary,
                          progress=progress)
    samples: list[tuple[int, float]] = []
    started = time.perf_counter()
    count = 0
    for count, _task in enumerate(tasks, start=1):
        if count == 1 or count % 2000 == 0:
            samples.append((count, common.rss_mb()))
    seconds = time.perf_counter() - started
    if samples[-1][0] != count:
        samples.append((count, common.rss_mb()))
    exhausted = common.rss_mb()  # the generator has returned: its listing is released
    peak = _peak_rss_mb() if hwm_reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del tasks
    sites = _growth_sites(folder, lake, batch_id + "-traced")
    return {"base_mb": base, "samples": samples, "peak_mb": peak, "tasks": count, "listed": summary.listed,
            "exhausted_mb": exhausted, "seconds": seconds, "growth_sites": sites}


def _growth_sites(folder: str, lake: Any, batch_id: str) -> list[dict[str, Any]]:
    """Where the planning generator's memory grows per document: tracemalloc over TRACE_DOCS tasks."""
    import gc
    import tracemalloc

    from policy_ray.adapters.source import DocumentSource
    from policy_ray.flows import nightly
    from policy_ray.flows.committer import BatchState, MicroBatchCommitter

    state = BatchState.load(lake, batch_id)
    committer = MicroBatchCommitter(lake, batch_id, state, every_docs=250, interval_s=30.0, metadata={})
    summary = nightly.NightSummary(batch_id=batch_id, batch_date=common.BATCH_DATE)
    source = DocumentSource(folder)
    tasks = _call_by_name(nightly.plan_tasks, source=source, listing=source.list(), state=state,
                          committer=committer, batch_id=batch_id, batch_date=common.BATCH_DATE, summary=summary,
                          progress=nightly._progress(False))
    next(tasks)  # the listing itself is read here
    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    for i, _task in enumerate(tasks, start=1):
        if i >= TRACE_DOCS:
            break
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    sites = []
    for stat in after.compare_to(before, "lineno")[:4]:
        frame = stat.traceback[0]
        name = frame.filename.removeprefix(str(common.REPO) + "/")
        where = f"{name if not name.startswith('/') else Path(name).name}:{frame.lineno}"
        sites.append({"where": where, "bytes_per_doc": stat.size_diff / TRACE_DOCS})
    return sites


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
                       f"directory listing is read at once), {fmt(end, 0)} MB at the last "
                       f"({fmt(out['exhausted_mb'], 0)} MB once the generator returned); slope "
                       f"{fmt(kib, 2)} KiB/queued document after 10,000; peak {fmt(out['peak_mb'], 0)} MB.")
    sites = "; ".join(f"`{x['where']}` {fmt(x['bytes_per_doc'], 0)} B/doc" for x in out.get("growth_sites", []))
    fig.details.append(f"Where it grows (tracemalloc over {TRACE_DOCS:,} tasks after the first): {sites}.")
    if kib > DRIVER_SLOPE_TARGET_KIB:
        fig.details.append("Reading those lines: each is an allocation that grows with the number of documents "
                           "listed rather than with the number in flight; the top one is what to shrink first.")
    curve = ", ".join(f"{c:,}: {fmt(r, 0)}" for c, r in [*samples[:-1:max(1, len(samples) // 8)], samples[-1]])
    fig.details.append(f"RSS curve (tasks: MB): {curve}.")
    fig.details.append("")
    fig.row(f"driver RSS growth while {out['tasks']:,} documents stream through planning (MB)",
            f"{fmt(growth, 1)} ({fmt(kib, 2)} KiB/doc, {fmt(per_100k, 0)} MB per 100k)",
            f"flat: <= {DRIVER_SLOPE_TARGET_KIB:g} KiB/doc", kib <= DRIVER_SLOPE_TARGET_KIB,
            why="grows with the listing, not with what is in flight: " + (
                "; ".join(f"{x['where']} {fmt(x['bytes_per_doc'], 0)} B/doc" for x in out.get("growth_sites", [])[:3])
                or "see the tracemalloc line") + " (see the figure's text)")
    fig.row("driver RSS after listing / before listing", fmt(end / out["base_mb"], 2))
    fig.sizes["queued documents"] = f"{out['tasks']:,} (listing and hashing only)"
    fig.raw["listing"] = out


# ---- (c) the 400-page document ---------------------------------------------------------------------------


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) so the peak covers the document only (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    hwm_reset = _reset_peak_rss()
    started = time.perf_counter()
    result = stage.process(task)
    seconds = time.perf_counter() - started
    after = common.rss_mb()
    gc.collect()
    return {"triage": triage, "before_mb": before, "after_mb": after, "after_gc_mb": common.rss_mb(),
            "peak_mb": _peak_rss_mb() if hwm_reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_is_during_document": hwm_reset, "seconds": seconds, "status": result.status,
            "pages": result.page_count, "timings_ms": result.timings_ms,
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
    during = "VmHWM reset just before the document" if outs[0].get("peak_is_during_document") else "ru_maxrss"
    fig.details.append(f"**(c) The 400-page document** ({common.LONG_PDF.name}, one fresh process per mode, "
                       f"RLIMIT_DATA ceiling {outs[0]['ceiling_mb']} MB as in an actor; peak = {during})")
    fig.details.append("")
    fig.details += common.md_table(["triage", "pages", "seconds", "RSS before MB", "RSS after MB",
                                    "peak RSS MB", "outcome"], rows)
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
