"""What every figure shares: the machine, the sample-night cache, tasks, timers, RSS and the result model."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
NIGHTS = OUT / "nights"
SHARED = Path(os.environ.get("POLICY_RAY_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "pdfs"
LONG_PDF = CORPUS / "long_400p_memory_test.pdf"
BATCH_DATE = date(2026, 12, 1)
VENV_BIN = Path(sys.executable).parent


# ---- the machine -----------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def mem_total_gib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / (1 << 20), 1)
    return round(psutil.virtual_memory().total / (1 << 30), 1)


def _version(dist: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def tesseract_version() -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        return "not installed"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10, check=False)
        first = (done.stdout or done.stderr).splitlines()
        return first[0].strip() if first else "?"
    return "?"


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": mem_total_gib(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {d: _version(d) for d in ("ray", "deltalake", "pdfplumber", "pdfminer.six", "pypdfium2",
                                              "camelot-py", "pytesseract", "pyarrow")},
        "tesseract": tesseract_version(),
    }


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


# ---- sample nights (cached under bench/out/nights) --------------------------------------------------------


def _generator_digest() -> str:
    """Changes when the sample generator's code changes, so a stale cached night is rebuilt."""
    import policy_ray.sample as sample

    digest = hashlib.sha256()
    for path in sorted(Path(sample.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def night(n: int, seed: int, *, wording_pages: tuple[int, int] = (1, 4), include_hostile: bool = True,
          scanned_share: float = 0.12, include_images: bool = False) -> Path:
    """A generated night, built once and reused (byte-identical for the same arguments)."""
    from policy_ray.sample import generate_night

    key = (f"n{n}-s{seed}-w{wording_pages[0]}_{wording_pages[1]}-h{int(include_hostile)}"
           f"-sc{scanned_share:g}-i{int(include_images)}-{_generator_digest()}")
    folder = NIGHTS / key
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    generate_night(folder, n, seed, wording_pages=wording_pages, include_hostile=include_hostile,
                   scanned_share=scanned_share, include_images=include_images)
    marker.write_text(json.dumps({"n": n, "seed": seed}))
    return folder


def documents(folder: Path) -> list[Path]:
    """The files the nightly job would list, in its order."""
    from policy_ray.adapters.source import DocumentSource

    return [Path(f.uri) for f in DocumentSource(str(folder)).list()]


def ground_truth(folder: Path) -> dict[str, dict[str, Any]]:
    lines = (folder / "ground_truth.jsonl").read_text().splitlines()
    return {t["file"]: t for t in (json.loads(x) for x in lines if x.strip())}


def make_task(path: Path, batch_id: str = "bench") -> Any:
    """The DocumentTask the driver would build for `path` (as scripts/eval_extraction.py does)."""
    from policy_ray.core.identity import idempotency_key, sha256_hex
    from policy_ray.core.outcomes import DocumentTask

    data = path.read_bytes()
    sha = sha256_hex(data)
    return DocumentTask(str(path), sha, len(data), batch_id, BATCH_DATE, idempotency_key(sha, batch_id))


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path.read_bytes())
    except pdfium.PdfiumError:
        return 0
    try:
        return len(pdf)
    finally:
        pdf.close()


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=OUT))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---- timing and memory ------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_mb(pid: int | None = None) -> float:
    try:
        return psutil.Process(pid).memory_info().rss / (1 << 20)
    except psutil.Error:
        return float("nan")


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs (nan with fewer than 3 points)."""
    if len(xs) < 3:
        return float("nan")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return float("nan")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def quiet_driver_logs() -> None:
    """The driver logs one JSON line per document; a benchmark wants its own output only."""
    from policy_ray import logs

    logs.logger.remove()
    logs.logger.add(sys.stderr, level="ERROR", format="{time:HH:mm:ss} {level} {message}")


def run_python(code: str, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `code` in a fresh interpreter (a clean RSS baseline); it prints one JSON object last."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env={**os.environ, **(env or {})}, check=False)
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"subprocess failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# ---- results ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    metric: str
    value: str
    target: str = ""
    holds: bool | None = None  # None: no target, informational
    why: str = ""  # when a target does not hold: the measured reason, in one line

    @property
    def verdict(self) -> str:
        return "n/a" if self.holds is None else ("**yes**" if self.holds else "**no**")


@dataclass
class Figure:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    sizes: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)  # markdown lines: tables, explanations
    raw: dict[str, Any] = field(default_factory=dict)  # numbers for results.json
    load_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0
    error: str | None = None

    def row(self, metric: str, value: str, target: str = "", holds: bool | None = None, why: str = "") -> None:
        self.rows.append(Row(metric, value, target, holds, why if holds is False else ""))


def fmt(value: float, digits: int = 2) -> str:
    if value != value:  # nan
        return "n/a"
    return f"{value:.{digits}f}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


# ---- the run's context: sizes, the in-process Ray instance, figures' shared numbers ----------------------


@dataclass
class Context:
    scale: float = 1.0
    shared: dict[str, Any] = field(default_factory=dict)  # what one figure hands the next (e.g. a lake)
    ray_init_seconds: float | None = None

    def size(self, base: int, minimum: int = 1) -> int:
        return max(minimum, round(base * self.scale))

    def ray_up(self) -> float:
        """Start the local Ray instance the in-process figures share (`ray.init(num_cpus=2)`), once."""
        import ray

        if ray.is_initialized():
            return 0.0
        started = time.perf_counter()
        # address="local": a fresh instance of our own. Without it ray.init() joins the cluster another
        # `ray start` on this machine last registered in /tmp/ray (and then refuses num_cpus).
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        self.ray_init_seconds = time.perf_counter() - started
        return self.ray_init_seconds

    def ray_down(self) -> None:
        """Stop it before single-process figures, so idle Ray daemons do not share their cores."""
        import ray

        if ray.is_initialized():
            ray.shutdown()


# ---- where the CPU went during a measurement ----------------------------------------------------------------


def _machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot, from /proc/stat (all cores together)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _kind(process: psutil.Process, me: int) -> str:
    if process.pid == me:
        return "driver"
    try:
        cmd = " ".join(process.cmdline())
        name = process.name()
    except psutil.Error:
        return "other"
    if name.startswith("ray::") or cmd.startswith("ray::") or "default_worker.py" in cmd:
        return "ray workers"
    if "multiprocessing" in cmd:
        return "pool workers"
    if "ray" in cmd:
        return "ray daemons"
    return "other"


class CpuWatch:
    """CPU seconds used during a measurement by this process, its children (by kind) and everyone else.

    Children are sampled every `period_s` (a process that ends between samples loses its last slice).
    `mark()` (e.g. at the first result) also yields the same accounting from that moment on, under
    `steady`: CPU spent after warm-up."""

    def __init__(self, period_s: float = 0.25) -> None:
        import threading

        self.period_s = period_s
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._kinds: dict[int, str] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._busy0 = self._wall0 = 0.0
        self._mark: tuple[float, float, dict[int, float]] | None = None
        self.result: dict[str, Any] = {}

    def _sample(self, initial: bool = False) -> None:
        me = psutil.Process()
        try:
            processes = [me, *me.children(recursive=True)]
        except psutil.Error:
            processes = [me]
        with self._lock:
            for p in processes:
                try:
                    times = p.cpu_times()
                except psutil.Error:
                    continue
                used = times.user + times.system
                if p.pid not in self._first:
                    self._first[p.pid] = used if initial else 0.0
                    self._kinds[p.pid] = _kind(p, me.pid)
                self._last[p.pid] = used

    def _loop(self) -> None:
        while not self._halt.wait(self.period_s):
            self._sample()

    def mark(self) -> None:
        """From now on is the steady part (first call only)."""
        if self._mark is not None:
            return
        self._sample()
        with self._lock:
            self._mark = (time.perf_counter(), _machine_busy_s(), dict(self._last))

    def __enter__(self) -> CpuWatch:
        self._busy0, self._wall0 = _machine_busy_s(), time.perf_counter()
        self._sample(initial=True)
        self._thread.start()
        return self

    def _account(self, wall: float, busy: float, base: dict[int, float] | None) -> dict[str, float]:
        by_kind: dict[str, float] = {}
        for pid, first in self._first.items():
            start = first if base is None else base.get(pid, 0.0)  # born after the mark: all of it
            kind = self._kinds[pid]
            by_kind[kind] = by_kind.get(kind, 0.0) + max(0.0, self._last.get(pid, start) - start)
        ours = sum(by_kind.values())
        return {"wall_s": wall, "machine_busy_s": busy, "ours_s": ours, "others_s": max(0.0, busy - ours),
                **{f"{k}_s": v for k, v in by_kind.items()}}

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self._thread.join(timeout=5)
        self._sample()
        now, busy_now = time.perf_counter(), _machine_busy_s()
        with self._lock:
            result: dict[str, Any] = dict(self._account(now - self._wall0, busy_now - self._busy0, None))
            if self._mark is not None:
                at, busy_at, base = self._mark
                result["steady"] = self._account(now - at, busy_now - busy_at, base)
        self.result = result

    def cores(self, key: str) -> float:
        """Average cores used by `key` (e.g. 'others') over the measurement."""
        wall = float(self.result.get("wall_s", 0.0))
        return float(self.result.get(f"{key}_s", 0.0)) / wall if wall else float("nan")
