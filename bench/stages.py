"""Figure 3: cost per page by stage.

Each adapter of the extraction path timed directly, document by document, on the digital night of
figure 1 (hashing; pypdfium2 text of every page; triage; pdfplumber words on the pages triage keeps;
pdfplumber ruled tables on the first table_pages_max of them; camelot lattice on the pages pdfplumber
found ruled tables on; pypdf form fields; mapping), plus the OCR path (render, recognize) on a few
scanned pages and the Delta commit of these documents' results as one micro-batch into a temp lake.
Two views per stage: ms per page the stage actually ran on, and its cost spread over every page of
the night as the job runs it (triage on), which is what adds up to a night's time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Context, Figure, fmt

BASE_DOCS = 30
OCR_PAGES = 2


@dataclass
class Cost:
    name: str
    ms: float = 0.0
    pages: int = 0  # pages the stage ran on
    calls: int = 0

    def add(self, seconds: float, pages: int) -> None:
        self.ms += seconds * 1000
        self.pages += pages
        self.calls += 1


def _clock(costs: dict[str, Cost], name: str, pages: int, fn: Any) -> Any:
    started = time.perf_counter()
    value = fn()
    _cost(costs, name).add(time.perf_counter() - started, pages)
    return value


def _cost(costs: dict[str, Cost], name: str) -> Cost:
    return costs.setdefault(name, Cost(name))


def measure_document(stage: Any, path: Path, costs: dict[str, Cost]) -> int:
    from policy_ray.adapters import camelot_tables, pdf_forms, pdfium, pdfplumber_words
    from policy_ray.adapters.source import DocumentSource
    from policy_ray.core.mapping import map_document
    from policy_ray.core.triage import select_field_pages

    settings = stage.settings
    source = DocumentSource(str(path.parent))
    data = path.read_bytes()
    with pdfium.open_pdf(data, max_pages=settings.max_pages) as pdf:
        total = len(pdf)
    sha = _clock(costs, "hashing (driver: read + sha256)", total, lambda: source.sha256(str(path)))

    def text() -> list[str]:
        with pdfium.open_pdf(data, max_pages=settings.max_pages) as pdf:
            return pdfium.page_texts(pdf)

    texts = _clock(costs, "text (pypdfium2, every page)", total, text)
    wanted = _clock(costs, "triage (page selection)", total, lambda: select_field_pages(texts, stage.triage_rules))
    has_text = [i for i in wanted if texts[i].strip()]
    table_pages = set(has_text[: settings.table_pages_max])
    words_s, pages = common.timed(lambda: pdfplumber_words.extract_pages(data, has_text, table_pages=set()))
    _cost(costs, "words (pdfplumber, triaged pages)").add(words_s, len(has_text))
    both_s, pages = common.timed(lambda: pdfplumber_words.extract_pages(data, has_text, table_pages=table_pages))
    # Tables = the same pages read with table extraction on, less the words-only read.
    _cost(costs, "tables (pdfplumber ruled grids)").add(max(0.0, both_s - words_s), len(table_pages))
    ruled = sorted(p.number for p in pages if any(t.source == "pdfplumber" for t in p.tables))
    if settings.camelot and ruled:
        _clock(costs, "tables (camelot lattice, ruled pages)", len(ruled),
               lambda: camelot_tables.lattice_tables(data, ruled))
    if b"/AcroForm" in data:
        _clock(costs, "form fields (pypdf)", total, lambda: pdf_forms.form_field_values(data))
    raw = stage.extract(data, sha)
    _clock(costs, "mapping (map_document)", len(raw.pages), lambda: map_document(raw, stage.data.mapping))
    return total


def measure_ocr(costs: dict[str, Cost], count: int) -> None:
    from bench import ocr

    pages = ocr.scan_pages(count)
    eng = ocr.engine()
    warm = ocr.render(*pages[0])
    eng.recognize(warm.image, scale=warm.scale)  # first tesseract process loads traineddata
    for path, index in pages:
        rendered = _clock(costs, "OCR render (pypdfium2, 200 dpi)", 1, lambda p=path, i=index: ocr.render(p, i))
        _clock(costs, "OCR recognize (Tesseract engine)", 1,
               lambda r=rendered: eng.recognize(r.image, scale=r.scale))


def measure_commit(stage: Any, paths: list[Path], costs: dict[str, Cost], total_pages: int) -> dict[str, Any]:
    from policy_ray.adapters.lake import Lake
    from policy_ray.flows.committer import BatchState, MicroBatchCommitter

    results = [stage.process(common.make_task(p, "bench-stages")) for p in paths]
    with common.scratch("stages-lake-") as tmp:
        lake = Lake(str(tmp / "lake"))
        lake.ensure_tables()
        state = BatchState.load(lake, "bench-stages")
        committer = MicroBatchCommitter(lake, "bench-stages", state, every_docs=10**9, interval_s=1e9,
                                        metadata={"batch_id": "bench-stages"})
        for result in results:
            committer.add(result)
        seconds, _ = common.timed(committer.flush)
    _cost(costs, "commit (one micro-batch, all tables)").add(seconds, total_pages)
    return {"commit_s": seconds, "commits": committer.commits, "documents": len(results)}


def run(ctx: Context) -> Figure:
    from policy_ray.config import Settings, load_pipeline_data
    from policy_ray.stages.extract import ExtractStage

    fig = Figure("stages", "3. Cost per page by stage")
    ctx.ray_down()
    common.quiet_driver_logs()
    from bench import scaling

    folder = common.night(ctx.size(scaling.BASE_DOCS, minimum=8), scaling.SEED, include_hostile=False,
                          scanned_share=0.0)
    paths = common.documents(folder)[: ctx.size(BASE_DOCS, minimum=4)]
    settings = Settings(ocr=False)
    stage = ExtractStage(settings, load_pipeline_data(settings))
    warmup: dict[str, Cost] = {}
    measure_document(stage, paths[0], warmup)  # imports (camelot, OpenCV), caches: not counted
    costs: dict[str, Cost] = {}
    total_pages = sum(measure_document(stage, p, costs) for p in paths)
    commit = measure_commit(stage, paths, costs, total_pages)
    try:
        measure_ocr(costs, ctx.size(OCR_PAGES, minimum=1))
    except Exception as exc:  # no tesseract: the rest of the table still stands
        fig.details.append(f"OCR not measured: `{type(exc).__name__}: {str(exc)[:200]}`")
    rows = []
    for cost in costs.values():
        per_ran = cost.ms / cost.pages if cost.pages else float("nan")
        spread = cost.ms / total_pages if not cost.name.startswith("OCR") else float("nan")
        rows.append([cost.name, cost.pages, fmt(cost.ms, 0), fmt(per_ran, 2), fmt(spread, 2)])
    fig.details += common.md_table(["stage", "pages it ran on", "total ms", "ms per page it ran on",
                                    "ms per night page (triage on)"], rows)
    fig.details.append("")
    spread_total = sum(c.ms for c in costs.values() if not c.name.startswith("OCR")) / total_pages
    words = costs.get("words (pdfplumber, triaged pages)")
    text = costs.get("text (pypdfium2, every page)")
    fig.details.append(f"{len(paths)} documents, {total_pages} pages; the text path costs {fmt(spread_total, 1)} ms "
                       f"per night page in all. The commit wrote {commit['commits']} table versions for "
                       f"{commit['documents']} documents in {fmt(commit['commit_s'], 2)} s (a micro-batch's cost is "
                       f"mostly per commit: spread over 250 documents it is smaller per page). OCR is per scanned "
                       f"page and is not spread over the digital night.")
    if words and text and words.pages and text.pages:
        speed = (words.ms / words.pages) / (text.ms / text.pages)
        fig.row("pdfplumber words / pypdfium2 text, ms per page", fmt(speed, 1))
    ocr_total = sum(c.ms for c in costs.values() if c.name.startswith("OCR"))
    ocr_pages = max((c.pages for c in costs.values() if c.name.startswith("OCR")), default=0)
    if ocr_pages and words and words.pages:
        fig.row("OCR page / pdfplumber words page", fmt((ocr_total / ocr_pages) / (words.ms / words.pages), 1))
    fig.row("whole text path, ms per night page (triage on)", fmt(spread_total, 1))
    fig.sizes = {"documents": len(paths), "pages": total_pages, "OCR pages": ocr_pages}
    fig.raw = {"costs": {c.name: {"ms": c.ms, "pages": c.pages, "calls": c.calls} for c in costs.values()},
               "total_pages": total_pages, "commit": commit}
    return fig
