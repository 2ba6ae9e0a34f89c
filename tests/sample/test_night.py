"""The synthetic night: mix, determinism, ground truth and that each file is what it claims."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from policy_ray.sample import GroundTruth, generate_night, load_ground_truth
from policy_ray.sample.plan import HOSTILE_KINDS

MONEY = re.compile(r"^\d+\.\d{2}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def page_texts(data: bytes, password: str | None = None) -> list[str]:
    doc = pdfium.PdfDocument(data, password=password)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def by_kind(truths: list[GroundTruth], kind: str) -> list[GroundTruth]:
    return [t for t in truths if t.kind == kind]


def printed_total(layout: str, total: str) -> str:
    amount = f"{Decimal(total):,.2f}"
    return {"harborline": f"Total Annual Premium: ${amount}", "cedar": amount,
            "northgate": f"USD {amount}", "bluewater": f"${amount}"}[layout]


def test_same_arguments_give_byte_identical_nights(night_dir: Path, make_night: Callable[[Path], Path],
                                                   tmp_path: Path) -> None:
    again = make_night(tmp_path).parent
    first = sorted(p.name for p in night_dir.iterdir())
    assert first == sorted(p.name for p in again.iterdir())
    for name in first:
        assert (night_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_mix_and_count(night_dir: Path, truths: list[GroundTruth], night_n: int, acord25: Path | None) -> None:
    documents = [p for p in night_dir.iterdir() if p.name != "ground_truth.jsonl"]
    assert len(documents) == len(truths) == night_n
    kinds = Counter(t.kind for t in truths)
    assert kinds["certificate"] == round(night_n * 0.20)
    assert kinds["scanned"] == round(night_n * 0.12)
    assert kinds["hostile"] == round(night_n * 0.08)
    assert kinds["image"] == 3
    assert kinds["declarations"] >= night_n * 0.5
    layouts = Counter(t.layout for t in truths if t.kind == "declarations")
    assert set(layouts) == {"harborline", "cedar", "northgate", "bluewater"}
    assert {t.layout for t in by_kind(truths, "hostile")} == set(HOSTILE_KINDS)
    flavours = {"acord25_fields", "acord25_flat"} if acord25 else {"acord25_drawn"}
    assert {t.layout for t in by_kind(truths, "certificate")} == flavours
    assert {t.file.rsplit(".", 1)[1] for t in by_kind(truths, "image")} == {"tif", "png", "jpg"}


def test_every_file_has_a_truth_line_with_its_sha256(night_dir: Path, truths: list[GroundTruth]) -> None:
    names = [t.file for t in truths]
    assert names == sorted(names)
    assert set(names) == {p.name for p in night_dir.iterdir()} - {"ground_truth.jsonl"}
    for t in truths:
        assert hashlib.sha256((night_dir / t.file).read_bytes()).hexdigest() == t.sha256, t.file
        assert re.match(r"^\d{5}_(dec|coi|scan|img|hostile)_[a-z0-9_]+\.(pdf|tif|png|jpg)$", t.file)


def test_truth_values_are_well_formed(truths: list[GroundTruth]) -> None:
    for t in truths:
        if t.kind == "hostile":
            assert t.record is None
            continue
        assert t.record is not None
        rec = t.record
        assert ISO_DATE.match(rec.effective_date) and ISO_DATE.match(rec.expiration_date)
        assert rec.effective_date[:4] in ("2026", "2027") and rec.expiration_date > rec.effective_date
        for cov in rec.coverages:
            for amount in (cov.limit, cov.deductible, cov.premium):
                assert amount is None or MONEY.match(amount), (t.file, cov)


def test_totals_equal_the_sum_of_coverage_premiums(truths: list[GroundTruth]) -> None:
    for t in truths:
        if t.record is None:
            continue
        if t.record.document_type == "certificate":
            assert t.record.total_premium is None
            assert all(c.premium is None and c.deductible is None for c in t.record.coverages)
            continue
        premiums = [Decimal(c.premium) for c in t.record.coverages if c.premium is not None]
        assert t.record.total_premium is not None
        assert sum(premiums, Decimal("0.00")) == Decimal(t.record.total_premium), t.file


def test_declarations_have_a_text_layer_with_the_printed_truth(night_dir: Path, truths: list[GroundTruth]) -> None:
    for t in by_kind(truths, "declarations"):
        assert t.record is not None
        texts = page_texts((night_dir / t.file).read_bytes())
        assert len(texts) == t.pages
        text = "\n".join(texts)
        assert t.record.policy_number in text, t.file
        assert t.record.insured_name in text, t.file
        assert t.record.carrier_name in text, t.file
        assert printed_total(t.layout, t.record.total_premium or "") in text, t.file
        for cov in t.record.coverages:
            assert cov.name in text, (t.file, cov.name)


def test_policy_wording_carries_no_field_labels(night_dir: Path, truths: list[GroundTruth]) -> None:
    first_wording_page = {"harborline": 1, "cedar": 1, "northgate": 2, "bluewater": 1}
    for t in by_kind(truths, "declarations"):
        assert t.record is not None
        for text in page_texts((night_dir / t.file).read_bytes())[first_wording_page[t.layout]:]:
            assert "SECTION" in text
            for label in ("Policy Number", "Policy No.", "Policy #", "POLICY NUMBER", "Insured:", "Premium:"):
                assert label not in text, (t.file, label)
            assert t.record.policy_number not in text


def test_northgate_coverage_table_continues_on_page_two(night_dir: Path, truths: list[GroundTruth]) -> None:
    northgate = [t for t in by_kind(truths, "declarations") if t.layout == "northgate"]
    assert northgate
    for t in northgate:
        assert t.record is not None
        page1, page2 = page_texts((night_dir / t.file).read_bytes())[:2]
        assert "COVERAGE SCHEDULE (continued)" in page2 and "COVERAGE" in page2
        on_page2 = [c for c in t.record.coverages if c.name in page2 and c.name not in page1]
        assert len(on_page2) >= 2, t.file
        total = f"USD {Decimal(t.record.total_premium or '0'):,.2f}"
        assert re.search(r"TOTAL POLICY PREMIUM\s+" + re.escape(total), page2)
        assert "TOTAL POLICY PREMIUM" not in page1


def test_certificates_carry_their_policies(night_dir: Path, truths: list[GroundTruth]) -> None:
    for t in by_kind(truths, "certificate"):
        assert t.record is not None and t.expected == "accept" and t.pages == 1
        data = (night_dir / t.file).read_bytes()
        numbers = {c.policy_number for c in t.record.coverages}
        assert t.record.policy_number == t.record.coverages[0].policy_number
        text = "\n".join(page_texts(data))
        fields = PdfReader(night_dir / t.file).get_fields()
        if t.layout in ("acord25_flat", "acord25_drawn"):  # drawn: no blank form beside the checkout
            assert fields is None
            assert all(n in text for n in numbers if n), t.file
        else:
            assert fields is not None
            values = {str(f.get("/V")) for f in fields.values()}
            assert numbers <= values
            assert t.record.insured_name in values
            assert t.record.policy_number not in text  # only in the form fields


def test_scans_have_no_text_layer(night_dir: Path, truths: list[GroundTruth]) -> None:
    scans = by_kind(truths, "scanned")
    sizes = []
    for t in scans:
        assert t.scanned and t.expected == "dead_letter" and t.expected_failure_category == "no_text_layer"
        assert t.record is not None and t.record.policy_number
        data = (night_dir / t.file).read_bytes()
        assert all(not text.strip() for text in page_texts(data)), t.file
        doc = pdfium.PdfDocument(data)
        assert len(doc) == t.pages
        sizes.append(doc[0].get_size())
        doc.close()
    assert (792.0, 612.0) in sizes  # one scan in ten went through sideways


def test_image_files(night_dir: Path, truths: list[GroundTruth]) -> None:
    for t in by_kind(truths, "image"):
        assert t.scanned and t.expected == "dead_letter" and t.record is not None
        with Image.open(night_dir / t.file) as image:
            assert getattr(image, "n_frames", 1) == t.pages == (2 if t.file.endswith(".tif") else 1)
            assert image.size == (1700, 2200)


def test_hostile_files_are_really_broken(night_dir: Path, truths: list[GroundTruth]) -> None:
    expected = {"truncated": "malformed_pdf", "not_a_pdf": "not_a_pdf", "zero_bytes": "empty_file",
                "encrypted": "encrypted"}
    names = {t.file: t for t in truths}
    for t in by_kind(truths, "hostile"):
        data = (night_dir / t.file).read_bytes()
        assert t.record is None
        if t.layout == "duplicate":
            assert t.expected == "duplicate" and t.duplicate_of is not None
            original = names[t.duplicate_of]
            assert original.file < t.file and original.expected == "accept"
            assert data == (night_dir / original.file).read_bytes()
            continue
        assert t.expected == "dead_letter" and t.expected_failure_category == expected[t.layout]
        with pytest.raises(pdfium.PdfiumError):
            pdfium.PdfDocument(data)
        if t.layout == "zero_bytes":
            assert data == b""
        elif t.layout == "not_a_pdf":
            assert not data.startswith(b"%PDF") and data
        elif t.layout == "truncated":
            assert data.startswith(b"%PDF") and b"%%EOF" not in data[-64:]
        else:
            assert PdfReader(night_dir / t.file).is_encrypted


def test_drawn_certificates_without_a_blank_form(tmp_path: Path) -> None:
    truth_path = generate_night(tmp_path, 12, 3, include_hostile=False, scanned_share=0.0)
    certs = [t for t in load_ground_truth(truth_path) if t.kind == "certificate"]
    assert certs and {t.layout for t in certs} == {"acord25_drawn"}
    for t in certs:
        assert t.record is not None
        text = "\n".join(page_texts((tmp_path / t.file).read_bytes()))
        assert "CERTIFICATE OF LIABILITY INSURANCE" in text and "INSURER A :" in text
        assert all(caption in text for caption in ("ADDL", "INSD", "SUBR", "WVD"))
        for cov in t.record.coverages:
            assert cov.policy_number is not None and cov.policy_number in text
            assert cov.limit is not None and f"$ {Decimal(cov.limit):,.0f}" in text


def test_some_certificates_mark_additional_insured_and_waiver_of_subrogation() -> None:
    import random

    from policy_ray.sample.acord_fill import MARK_FIELDS, field_values
    from policy_ray.sample.certificate import make_certificate

    certs = [make_certificate(random.Random(seed)) for seed in range(40)]
    marked = [c for c in certs if any(any(m) for m in c.marks)]
    assert 5 <= len(marked) <= 35  # some, not all
    for cert in marked:
        values = field_values(cert)
        for policy, marks in zip(cert.policies, cert.marks, strict=True):
            for name, mark in zip(MARK_FIELDS[policy.kind], marks, strict=True):
                if name and mark:
                    assert values[name] == mark
