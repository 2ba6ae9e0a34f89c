"""Figure 1: Ray overhead and scaling.

The same documents through four set-ups, measured back to back in this process:
  loop     ExtractStage.process in a plain single-process loop (read, hash, extract, map, route)
  pool2    the same loop body in multiprocessing.Pool(2) (spawn: deltalake must never be forked)
  job1     the full job, run_night(Settings(extractors=1, ocr=False)), Delta commits into a temp lake
  job2     the same with extractors=2
Warm-up (until the first document's result) is reported apart from the steady rate, which runs from
the first result to the last one (the loop, the pool) or to run_night's return (the job: its final
micro-batch commit and batch close are included).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Context, Figure, fmt, ratio

BASE_DOCS = 120
SEED = 21

_STAGE: Any = None


def _init_stage() -> None:
    """Build the extraction stage once per process (the actor's __init__, the pool's initializer)."""
    global _STAGE
    from policy_ray.config import Settings, load_pipeline_data
    from policy_ray.stages.extract import ExtractStage

    settings = Settings(ocr=False)
    _STAGE = ExtractStage(settings, load_pipeline_data(settings))


def process_path(path: str) -> Any:
    """The loop body: read and hash the file into a task, then extract, map and route it."""
    if _STAGE is None:
        _init_stage()
    return _STAGE.process(common.make_task(Path(path)))


@dataclass
class Run:
    name: str
    docs: int
    total_s: float = 0.0
    first_s: float = float("nan")  # start -> first result (warm-up)
    steady_s: float = float("nan")  # first result -> end
    accepted: set[str] = field(default_factory=set)  # normalized_sha256 of accepted results
    statuses: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def end_to_end_rate(self) -> float:
        return self.docs / self.total_s if self.total_s else float("nan")

    @property
    def steady_rate(self) -> float:
        return (self.docs - 1) / self.steady_s if self.steady_s and self.steady_s == self.steady_s else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"docs": self.docs, "total_s": round(self.total_s, 3), "warmup_s": round(self.first_s, 3),
                "steady_s": round(self.steady_s, 3), "steady_docs_per_s": round(self.steady_rate, 4),
                "end_to_end_docs_per_s": round(self.end_to_end_rate, 4), "statuses": self.statuses, **self.extra}


def _note(run: Run, result: Any) -> None:
    run.statuses[result.status] = run.statuses.get(result.status, 0) + 1
    if result.status == "accepted" and result.normalized_sha256:
        run.accepted.add(result.normalized_sha256)


def run_loop(paths: list[Path], watch: common.CpuWatch | None = None) -> Run:
    global _STAGE
    _STAGE = None
    run = Run("loop", len(paths))
    start = time.perf_counter()
    _init_stage()
    first = 0.0
    for i, path in enumerate(paths):
        _note(run, process_path(str(path)))
        if i == 0:
            first = time.perf_counter()
            if watch is not None:
                watch.mark()
    end = time.perf_counter()
    run.total_s, run.first_s, run.steady_s = end - start, first - start, end - first
    _STAGE = None
    return run


def run_pool(paths: list[Path], processes: int = 2, watch: common.CpuWatch | None = None) -> Run:
    run = Run(f"pool{processes}", len(paths))
    start = time.perf_counter()
    first = end = 0.0
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_init_stage) as pool:
        for i, result in enumerate(pool.imap_unordered(process_path, [str(p) for p in paths], chunksize=1)):
            _note(run, result)
            if i == 0:
                first = time.perf_counter()
                if watch is not None:
                    watch.mark()
        end = time.perf_counter()
    run.total_s, run.first_s, run.steady_s = end - start, first - start, end - first
    run.extra["pool_teardown_s"] = round(time.perf_counter() - end, 3)
    return run


class _RoutedTimes:
    """A loguru sink that notes when the driver routes each document (run_night logs one line each)."""

    def __init__(self, watch: common.CpuWatch | None = None) -> None:
        self.times: list[float] = []
        self.watch = watch
        self._lock = threading.Lock()

    def __call__(self, message: Any) -> None:
        if message.record["message"] == "document routed":
            with self._lock:
                self.times.append(time.perf_counter())
            if self.watch is not None and len(self.times) == 1:
                self.watch.mark()


def run_job(night: Path, lake: Path, extractors: int,
            watch: common.CpuWatch | None = None) -> tuple[Run, Any]:
    from policy_ray import logs
    from policy_ray.config import Settings
    from policy_ray.flows.nightly import NightRequest, run_night

    run = Run(f"job{extractors}", len(common.documents(night)))
    sink = _RoutedTimes(watch)
    common.quiet_driver_logs()
    sink_id = logs.logger.add(sink, level="INFO")
    try:
        request = NightRequest(input_uri=str(night), lake_uri=str(lake), batch_date=common.BATCH_DATE,
                               progress=False)
        start = time.perf_counter()
        summary = run_night(request, Settings(extractors=extractors, ocr=False))
        end = time.perf_counter()
    finally:
        logs.logger.remove(sink_id)
    run.total_s = end - start
    if sink.times:
        run.first_s, run.steady_s = sink.times[0] - start, end - sink.times[0]
    run.statuses = {"accepted": summary.accepted, "dead_lettered": summary.dead_lettered,
                    "duplicates": summary.duplicates}
    from policy_ray.adapters.lake import Lake

    table = Lake(str(lake)).read("policies", ["normalized_sha256"])
    run.accepted = {v for v in table.column("normalized_sha256").to_pylist() if v}
    run.extra.update({"summary_seconds": summary.seconds, "commits": summary.commits,
                      "commit_seconds": summary.commit_seconds, "pool": summary.pool,
                      "routed_lines_seen": len(sink.times)})
    return run, summary


def _cpu_per_doc(run: Run, steady: bool = True) -> float:
    """CPU seconds of all our processes per document: after the first result (steady) or in all."""
    cpu = run.extra.get("cpu", {})
    if steady:
        return float(cpu.get("steady", {}).get("ours_s", float("nan"))) / max(run.docs - 1, 1)
    return float(cpu.get("ours_s", float("nan"))) / run.docs


def _cores(run: Run, key: str) -> float:
    cpu = run.extra.get("cpu", {})
    wall = cpu.get("wall_s", 0.0)
    return cpu.get(f"{key}_s", 0.0) / wall if wall else float("nan")


def run(ctx: Context) -> Figure:
    fig = Figure("scaling", "1. Ray overhead and scaling")
    n = ctx.size(BASE_DOCS, minimum=8)
    folder = common.night(n, SEED, include_hostile=False, scanned_share=0.0)
    paths = common.documents(folder)
    pages = sum(common.page_count(p) for p in paths)
    fig.sizes = {"documents": len(paths), "pages": pages, "night": f"generate_night(n={n}, seed={SEED}, "
                 "include_hostile=False, scanned_share=0)", "ray": "ray.init(num_cpus=2)"}

    # Single-process set-ups first, with Ray down: its idle daemons would otherwise share the cores.
    ctx.ray_down()
    with common.CpuWatch() as watch:
        loop = run_loop(paths, watch)
    loop.extra["cpu"] = watch.result
    with common.CpuWatch() as watch:
        pool = run_pool(paths, 2, watch)
    pool.extra["cpu"] = watch.result
    ray_init = ctx.ray_up()
    runs = [loop, pool]
    summaries: dict[str, Any] = {}
    with common.scratch("scaling-") as tmp:
        for k in (1, 2):
            with common.CpuWatch() as watch:
                job, summary = run_job(folder, tmp / f"lake{k}", k, watch)
            job.extra["cpu"] = watch.result
            runs.append(job)
            summaries[job.name] = summary
        # Figure 5 reads commits and files of this night: keep a copy of the 2-extractor lake.
        keep = common.OUT / "last-night-lake"
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(tmp / "lake2", keep)
    job1, job2 = runs[2], runs[3]
    ctx.shared["scaling"] = {"lake": keep, "summary": summaries["job2"], "documents": len(paths), "pages": pages,
                             "job2_steady_rate": job2.steady_rate, "job2_warmup_s": job2.first_s,
                             "loop_steady_rate": loop.steady_rate}

    same = loop.accepted == pool.accepted == job1.accepted == job2.accepted
    fig.details += common.md_table(
        ["set-up", "warm-up s (to 1st result)", "steady docs/s", "end-to-end docs/s", "total s", "accepted"],
        [[r.name, fmt(r.first_s), fmt(r.steady_rate), fmt(r.end_to_end_rate), fmt(r.total_s),
          len(r.accepted)] for r in runs])
    fig.details.append("")
    fig.details.append("Where the CPU went during each run (average cores; the machine has "
                       f"{os.cpu_count()}): ")
    fig.details.append("")
    fig.details += common.md_table(
        ["set-up", "this process", "pool workers", "Ray workers (actors)", "Ray daemons", "everyone else",
         "machine busy"],
        [[r.name, *(fmt(_cores(r, k)) for k in ("driver", "pool workers", "ray workers", "ray daemons", "others",
                                                 "machine_busy"))] for r in runs])
    fig.details.append("")
    fig.details.append("CPU seconds per document, all our processes, after the first result (in all, warm-up "
                       "included): " + ", ".join(
                           f"{r.name} {fmt(_cpu_per_doc(r), 3)} ({fmt(_cpu_per_doc(r, False), 3)})" for r in runs)
                       + ". The ceilings in the table above come from the first figures: they do not depend on what "
                       "else ran, only on the CPU each set-up spends per document after warm-up (CPU time itself "
                       "inflates somewhat under contention: caches are shared).")
    fig.details.append("")
    fig.details.append(f"`ray.init(num_cpus=2)` took {fmt(ray_init)} s (before job1; not in any row). "
                       f"Commits inside the job: job1 {job1.extra['commits']} in {job1.extra['commit_seconds']} s, "
                       f"job2 {job2.extra['commits']} in {job2.extra['commit_seconds']} s. "
                       f"Accepted records identical in all four set-ups (normalized_sha256): {same}.")
    two_vs_one = ratio(job2.steady_rate, loop.steady_rate)
    job_vs_pool = ratio(job2.steady_rate, pool.steady_rate)
    cpu_job, cpu_pool, cpu_loop = (_cpu_per_doc(r) for r in (job2, pool, loop))
    others = {r.name: _cores(r, "others") for r in runs}
    pool_vs_loop = (f"the bare Pool(2) reached {fmt(ratio(pool.steady_rate, loop.steady_rate))}x the loop "
                    "on the same machine")
    contended = max(others["job2"], others["loop"]) > 0.1  # cores other processes took from the runs
    fig.row("2 actors (full job) / one process, steady docs/s", fmt(two_vs_one), ">= 1.8", two_vs_one >= 1.8,
            why=(f"2 cores are the ceiling and they were not ours: other processes used {fmt(others['job2'])} of "
                 f"them during job2 and {fmt(others['loop'])} during the loop; {pool_vs_loop}") if contended else
                (f"2 cores are the ceiling, and the job spends {fmt(ratio(cpu_job, cpu_loop))}x the loop's CPU per "
                 f"document (actor calls and result serialization, the driver's hashing and commits, Ray's "
                 f"daemons) on the same 2 cores; {pool_vs_loop}"))
    fig.row("full job (2 actors) / bare Pool(2), steady docs/s", fmt(job_vs_pool), ">= 0.95", job_vs_pool >= 0.95,
            why=f"the job used {fmt(ratio(cpu_job, cpu_pool))}x the CPU per document of Pool(2) (driver hashing and "
                f"commits, Ray's daemons, actor calls); other processes used {fmt(others['job2'])} cores during "
                f"job2 against {fmt(others['pool2'])} during Pool(2)")
    fig.row("1 actor (full job) / one process, steady docs/s", fmt(ratio(job1.steady_rate, loop.steady_rate)))
    fig.row("Pool(2) / one process, steady docs/s", fmt(ratio(pool.steady_rate, loop.steady_rate)))
    e2e = ratio(job2.end_to_end_rate, pool.end_to_end_rate)
    fig.row("full job (2 actors) / bare Pool(2), end-to-end docs/s (warm-up included)", fmt(e2e))
    fig.row("accepted records identical across set-ups", str(same), "identical", same)
    # Contention-free ceilings: with C CPU-seconds of work per document on 2 cores, no set-up can beat 2/C
    # documents per second, and a single-threaded loop runs at 1/C_loop on an idle core. So the ratios below
    # bound what each target could reach on an idle machine, from this run's CPU accounting.
    ceiling_scaling = ratio(2 * cpu_loop, cpu_job)
    ceiling_vs_pool = ratio(cpu_pool, cpu_job)
    fig.row("ceiling of 2 actors / one process on an idle machine (2 x loop CPU/doc / job2 CPU/doc)",
            fmt(ceiling_scaling), ">= 1.8", ceiling_scaling >= 1.8,
            why=f"the job spends {fmt(ratio(cpu_job, cpu_loop))}x the loop's CPU per document (actor calls and "
                f"result serialization in the actors, hashing and commits in the driver, Ray's daemons), all on "
                f"the same 2 cores")
    fig.row("ceiling of full job / Pool(2) on an idle machine (Pool CPU/doc / job2 CPU/doc)", fmt(ceiling_vs_pool),
            ">= 0.95", ceiling_vs_pool >= 0.95,
            why=f"the job spends {fmt(ratio(cpu_job, cpu_pool))}x Pool(2)'s CPU per document on the same 2 cores")
    fig.row("CPU seconds per document after warm-up, all our processes: full job (2 actors) / Pool(2)",
            fmt(ratio(cpu_job, cpu_pool)))
    fig.row("CPU seconds per document after warm-up: Pool(2) / one process", fmt(ratio(cpu_pool, cpu_loop)))
    fig.raw = {"runs": {r.name: r.as_dict() for r in runs}, "ray_init_s": ray_init}
    return fig
