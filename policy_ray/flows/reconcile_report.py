"""What a quarantine tells people: the forensic report (Markdown, next to the lake, written through the
storage adapter so an s3:// lake gets it too) and the alert (an ERROR log record, a webhook POST)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from policy_ray import logs
from policy_ray.adapters import storage
from policy_ray.adapters.lake import Lake
from policy_ray.core.reconcile import BatchFigures, Deviation, ReconcileConfig, is_filled
from policy_ray.flows.reconcile_figures import partial_record

REPORTS_FOLDER = "reports"  # beside the lake's tables' folder, never inside it


def report_uri(lake_uri: str, batch_id: str) -> str:
    """`<lake's parent>/reports/<batch>-reconcile.md`, for a folder and an object store alike."""
    name = f"{REPORTS_FOLDER}/{batch_id}-reconcile.md"
    if storage.is_local(lake_uri):
        return str(Path(lake_uri.removeprefix("file://")).resolve().parent / name)
    scheme, rest = lake_uri.split("://", 1)
    rest = rest.rstrip("/")
    parent = rest.rsplit("/", 1)[0] if "/" in rest else rest  # a lake at a bucket's root: the bucket
    return f"{scheme}://{parent}/{name}"


def write_text(uri: str, text: str, storage_options: Mapping[str, str] | None = None) -> None:
    fs, path = storage.filesystem_for(uri, storage_options, small_writes=True)
    if storage.is_local(uri):
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)  # object stores have no folders to make
    with fs.open_output_stream(path) as out:
        out.write(text.encode())


def write_report(lake: Lake, batch: Mapping[str, Any], figures: BatchFigures, deviations: Sequence[Deviation],
                 config: ReconcileConfig) -> str:
    text = render(batch, figures, deviations, _template_documents(lake, batch["batch_id"], deviations, config),
                  _worst_dead_letters(lake, batch["batch_id"], config), config)
    uri = report_uri(lake.uri, batch["batch_id"])
    try:
        write_text(uri, text, lake.storage_options)
    except OSError as exc:  # the quarantine and the alert stand without the report; say where it failed
        logs.logger.bind(batch_id=batch["batch_id"], stage="reconcile").error(
            "forensic report not written", report=uri, error=str(exc))
        return f"(not written: {uri}: {exc})"
    return uri


def alert(batch_id: str, deviations: Sequence[Deviation], report: str, webhook: str | None) -> None:
    logs.logger.bind(batch_id=batch_id, stage="reconcile").error(
        "batch quarantined", reasons=[d.message for d in deviations], report=report)
    if webhook:
        post(webhook, {"event": "batch_quarantined", "batch_id": batch_id,
                       "reasons": [{"check": d.check, "subject": d.subject, "message": d.message} for d in deviations],
                       "report": report})


def post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as exc:  # the alert is also in the logs; a dead webhook must not hide the quarantine
        logs.logger.error("quarantine webhook failed", url=url, error=str(exc))


def _affected_templates(deviations: Sequence[Deviation]) -> list[str]:
    return sorted({d.subject.rsplit(".", 1)[0] for d in deviations if d.check == "fill_rate"})


def _template_documents(lake: Lake, batch_id: str, deviations: Sequence[Deviation],
                        config: ReconcileConfig) -> dict[str, list[dict[str, Any]]]:
    """Per template that lost fields: its documents of the night, least confident first, with the
    fields each one misses (committed rows and dead letters alike)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for template in _affected_templates(deviations):
        policies = lake.read("policies", ["source_uri", "confidence", *config.fields], batch_id=batch_id,
                             where=ds.field("template_id") == template).to_pylist()
        docs = [{"file": r["source_uri"], "where": "policies", "confidence": r["confidence"],
                 "missing": [f for f in config.fields if not is_filled(r.get(f))]} for r in policies]
        dead = lake.read("dead_letters", ["source_uri", "confidence", "failure_category", "partial_fields"],
                         batch_id=batch_id).to_pylist()
        for r in dead:
            record = partial_record(r["partial_fields"])
            if record.get("template_id") == template:
                docs.append({"file": r["source_uri"], "where": f"dead_letters ({r['failure_category']})",
                             "confidence": r["confidence"],
                             "missing": [f for f in config.fields if not is_filled(record.get(f))]})
        docs.sort(key=lambda d: (-len(d["missing"]), d["confidence"] if d["confidence"] is not None else -1.0))
        out[template] = docs[:config.worst_documents]
    return out


def _worst_dead_letters(lake: Lake, batch_id: str, config: ReconcileConfig) -> list[dict[str, Any]]:
    dead = lake.read("dead_letters", ["source_uri", "failure_category", "confidence", "error_message"],
                     batch_id=batch_id).to_pylist()
    return sorted(dead, key=lambda r: (r["confidence"] is None, r["confidence"] or 0.0))[:config.worst_documents]


def render(batch: Mapping[str, Any], figures: BatchFigures, deviations: Sequence[Deviation],
           template_docs: Mapping[str, list[dict[str, Any]]], dead: Sequence[Mapping[str, Any]],
           config: ReconcileConfig) -> str:
    batch_id = batch["batch_id"]
    share = (lambda n: f"{n / figures.listed:.0%}") if figures.listed else (lambda n: "-")
    lines = [f"# Reconciliation report: batch {batch_id}", "",
             f"Batch date {batch['batch_date']}, input `{batch.get('input_uri')}`, reconcile config "
             f"{config.version}.", "",
             f"Listed {figures.listed}: accepted {batch.get('accepted')}, dead-lettered {figures.dead_lettered} "
             f"({share(figures.dead_lettered)}), duplicates {batch.get('duplicates')}; OCR route {figures.ocr} "
             f"({share(figures.ocr)}, from the tables).", "", "## Deviations", "",
             "| check | subject | observed | expected | message |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {d.check} | {d.subject} | {d.observed:.3f} | {d.expected:.3f} | {d.message} |" for d in deviations]
    if figures.completeness is not None:
        lines += ["", "## Completeness", "", "| figure | value |", "| --- | --- |"]
        lines += [f"| {k} | {v} |" for k, v in figures.completeness.counts().items()]
    for template, docs in template_docs.items():
        lines += ["", f"## Documents of template {template} (most missing fields, least confident first)", "",
                  "| file | table | confidence | missing fields |", "| --- | --- | --- | --- |"]
        lines += [f"| {Path(d['file']).name} | {d['where']} | {_conf(d['confidence'])} | "
                  f"{', '.join(d['missing']) or '-'} |" for d in docs]
    lines += ["", "## Worst dead letters", "", "| file | category | confidence | message |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {Path(r['source_uri']).name} | {r['failure_category']} | {_conf(r['confidence'])} | "
              f"{(r['error_message'] or '')[:120]} |" for r in dead]
    lines += ["", f'Release after review: `policy-ray batch release {batch_id} --lake LAKE --reason "..."`', ""]
    return "\n".join(lines)


def _conf(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
