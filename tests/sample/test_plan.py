"""Night planning: the mix for small nights and argument checking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from policy_ray.sample import generate_night, load_ground_truth
from policy_ray.sample.plan import MixOptions, counts
from policy_ray.sample.truth import Kind


@pytest.mark.parametrize("n", range(0, 8))
def test_small_nights_keep_one_of_each_kind_when_they_can(n: int) -> None:
    mix = counts(n, MixOptions(include_images=True, include_hostile=True, scanned_share=0.12, acord_form=True))
    assert sum(mix.values()) == n
    order: list[Kind] = ["declarations", "certificate", "scanned", "hostile", "image"]
    for position, kind in enumerate(order):
        assert mix[kind] >= (1 if n > position else 0), (n, mix)


def test_empty_night_writes_an_empty_truth_file(tmp_path: Path) -> None:
    truth_path = generate_night(tmp_path, 0, 1)
    assert truth_path.read_bytes() == b"" and load_ground_truth(truth_path) == []


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_night(tmp_path, -1, 1)
    with pytest.raises(ValueError):
        generate_night(tmp_path, 5, 1, wording_pages=(3, 1))
    with pytest.raises(ValueError):
        generate_night(tmp_path, 5, 1, scanned_share=1.5)


def test_blank_acord_form_is_only_read(acord25: Path | None, tmp_path: Path) -> None:
    if acord25 is None:
        pytest.skip("blank ACORD 25 not available")
    before = acord25.read_bytes()
    truth_path = generate_night(tmp_path, 6, 5, acord_form=acord25, include_hostile=False, scanned_share=0.0)
    assert any(t.kind == "certificate" for t in load_ground_truth(truth_path))
    assert acord25.read_bytes() == before and PdfReader(acord25).get_fields()
