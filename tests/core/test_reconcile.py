"""Reconciliation, pure: fill rates per template, route mix and completeness against a trailing
baseline, each deviation named; small samples and replays are not judged on their mix."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

import pytest

from policy_ray.config import DEFAULTS_DIR
from policy_ray.core.reconcile import (
    BatchFigures,
    ReconcileConfig,
    TemplateFill,
    baseline_of,
    check_completeness,
    counts_as_ocr,
    reconcile,
)

CONFIG = ReconcileConfig.from_mapping(tomllib.loads((DEFAULTS_DIR / "reconcile.toml").read_text()))
FIELDS = CONFIG.fields


def fill(documents: int, **filled: int) -> TemplateFill:
    """`documents` documents with every field filled, except as given."""
    return TemplateFill(documents, {f: filled.get(f, documents) for f in FIELDS})


def night(name: str, listed: int = 40, dead: int = 2, ocr: int = 4, replay: bool = False,
          **fills: TemplateFill) -> BatchFigures:
    return BatchFigures(name, listed, dead, ocr, fills or {"harborline_dec": fill(10), "cedar_dec": fill(10)},
                        replay=replay)


BASELINE = [night(f"n{i}") for i in range(7)]


def checks(deviations: list[Any]) -> list[tuple[str, str]]:
    return [(d.check, d.subject) for d in deviations]


@pytest.mark.parametrize(
    ("tonight", "baseline", "expected"),
    [
        pytest.param(night("clean"), BASELINE, [], id="clean night"),
        pytest.param(night("moved", harborline_dec=fill(10, policy_number=2, insured_name=1), cedar_dec=fill(10)),
                     BASELINE, [("fill_rate", "harborline_dec.policy_number"),
                                ("fill_rate", "harborline_dec.insured_name")], id="fill-rate drop names the template"),
        pytest.param(night("small", harborline_dec=fill(4, policy_number=0)), BASELINE, [],
                     id="a template with too few documents tonight is not judged"),
        pytest.param(night("new", acme_dec=fill(10, policy_number=0)), BASELINE, [],
                     id="a template with no baseline is not judged"),
        pytest.param(night("drop within", harborline_dec=fill(10, policy_number=8)), BASELINE, [],
                     id="a drop within max_drop passes"),
        pytest.param(night("dead", dead=12), BASELINE, [("route_mix", "dead_letter")], id="dead-letter spike"),
        pytest.param(night("ocr", ocr=16), BASELINE, [("route_mix", "ocr")], id="OCR spike"),
        pytest.param(night("tiny", listed=10, dead=8, ocr=9), BASELINE, [],
                     id="a night under min_documents is not judged on its mix"),
        pytest.param(night("dead", dead=12), [night(f"s{i}", listed=10, dead=5) for i in range(7)], [],
                     id="small baseline nights do not form a mix baseline"),
        pytest.param(night("first", dead=30, ocr=30), [], [], id="the first night has no baseline"),
        pytest.param(night("replay", dead=30, ocr=30, replay=True, harborline_dec=fill(10, policy_number=0)),
                     BASELINE, [], id="a replay batch is not judged on fill rates or mix"),
    ],
)
def test_deviations(tonight: BatchFigures, baseline: list[BatchFigures], expected: list[tuple[str, str]]) -> None:
    assert checks(reconcile(tonight, baseline, CONFIG)) == expected


def test_the_message_names_template_field_and_rates() -> None:
    [deviation] = reconcile(night("moved", harborline_dec=fill(10, policy_number=3)), BASELINE, CONFIG)
    assert "harborline_dec" in deviation.message and "policy_number" in deviation.message
    assert (deviation.observed, deviation.expected) == (0.3, 1.0)


def test_the_baseline_is_the_last_n_nights_and_never_a_replay() -> None:
    old_bad = [night(f"old{i}", dead=30) for i in range(5)]  # a bad stretch long ago
    recent = [night(f"r{i}", dead=2) for i in range(CONFIG.baseline_batches)]
    replays = [night("replay", dead=40, replay=True)]
    history = old_bad + recent + replays
    assert [b.batch_id for b in baseline_of(history, CONFIG)] == [b.batch_id for b in recent]
    # Tonight's 14 dead letters of 40 are a spike against the recent nights, not against the old ones.
    assert checks(reconcile(night("t", dead=14), history, CONFIG)) == [("route_mix", "dead_letter")]
    short = dataclasses.replace(CONFIG, baseline_batches=2)
    assert [b.batch_id for b in baseline_of(history, short)] == ["r5", "r6"]


def test_the_baseline_of_a_template_pools_its_documents_over_the_nights() -> None:
    # Two nights at 100% and five at 40%: (20 + 20) of 70 documents, pooled over the nights.
    baseline = [night(f"a{i}", harborline_dec=fill(10)) for i in range(2)]
    baseline += [night(f"b{i}", harborline_dec=fill(10, policy_number=4)) for i in range(5)]
    expected = (20 + 20) / 70
    [deviation] = reconcile(night("t", harborline_dec=fill(10, policy_number=0)), baseline, CONFIG)
    assert deviation.expected == pytest.approx(expected)


def ledger(*rows: tuple[str, str, str]) -> list[tuple[str, str, str]]:
    return list(rows)


CLEAN: dict[str, Any] = dict(
    listed=3,
    ledger=[("a.pdf", "ka", "committed"), ("b.pdf", "kb", "dead_lettered"), ("c.pdf", "ka", "duplicate")],
    policies=["ka"], dead_letters=["kb"],
    entries=[("ka", "received"), ("ka", "committed"), ("kb", "dead_lettered"), ("ka", "duplicate")],
)


def with_(**changes: Any) -> dict[str, Any]:
    return {**CLEAN, **changes}


@pytest.mark.parametrize(
    ("inputs", "subject", "words"),
    [
        (with_(listed=4), "ledger", "1 of 4 listed documents have no ledger row"),
        (with_(ledger=[*CLEAN["ledger"], ("b.pdf", "kb", "dead_lettered")]), "ledger", "recorded more than once"),
        (with_(policies=[]), "rows", "do not have exactly one row"),
        (with_(policies=["ka", "ka"]), "rows", "do not have exactly one row"),
        (with_(dead_letters=["kb", "kx"]), "rows", "not in the ledger"),
        (with_(entries=[("ka", "committed"), ("kb", "dead_lettered")]), "audit_log", "no audit entry"),
        (with_(entries=[*CLEAN["entries"], ("kz", "committed")]), "audit_log", "ledger does not record"),
    ],
)
def test_completeness_compares_ledger_rows_and_audit_trail(inputs: dict[str, Any], subject: str,
                                                           words: str) -> None:
    figures = dataclasses.replace(night("t"), completeness=check_completeness(**inputs))
    found = [d for d in reconcile(figures, BASELINE, CONFIG) if d.check == "completeness"]
    assert [d.subject for d in found] == [subject], found
    assert words in found[0].message


def test_a_complete_batch_has_no_completeness_deviation_even_as_a_replay() -> None:
    clean = check_completeness(**CLEAN)
    assert reconcile(dataclasses.replace(night("t"), completeness=clean), BASELINE, CONFIG) == []
    broken = check_completeness(**with_(listed=5))
    replay = dataclasses.replace(night("r", replay=True), completeness=broken)
    assert checks(reconcile(replay, BASELINE, CONFIG)) == [("completeness", "ledger")]  # completeness still applies


def test_the_fingerprint_changes_with_the_figures_only() -> None:
    a = dataclasses.replace(night("t"), completeness=check_completeness(**CLEAN))
    assert a.fingerprint() == dataclasses.replace(a, batch_id="other").fingerprint()
    assert a.fingerprint() != dataclasses.replace(a, listed=41).fingerprint()
    assert a.fingerprint() != dataclasses.replace(a, fills={"harborline_dec": fill(11)}).fingerprint()


def test_ocr_dead_letters_are_told_by_category_or_stage() -> None:
    assert counts_as_ocr("ocr_circuit_open", "ocr_route", CONFIG)
    assert counts_as_ocr("worker_crash", "ocr", CONFIG)  # an OCR worker that died
    assert not counts_as_ocr("worker_crash", "extract", CONFIG)
    assert not counts_as_ocr("low_confidence", "route", CONFIG)


def test_the_runbook_quotes_the_current_config() -> None:
    text = (DEFAULTS_DIR.parents[1] / "runbooks" / "reconcile.md").read_text()
    assert f"`{CONFIG.version}`" in text
    for quoted in (f"`max_unaccounted` = {CONFIG.max_unaccounted}", f"`baseline_batches` = {CONFIG.baseline_batches}",
                   f"`min_documents` = {CONFIG.fill_min_documents}", f"`max_drop` = {CONFIG.max_fill_drop}",
                   f"`min_documents` = {CONFIG.mix_min_documents}",
                   f"`max_dead_letter_rise` = {CONFIG.max_dead_letter_rise}", f"`max_ocr_rise` = {CONFIG.max_ocr_rise}",
                   *(f"`{c}`" for c in CONFIG.ocr_categories), *(f"`{s}`" for s in CONFIG.ocr_stages)):
        assert quoted in text, quoted
