"""Build one night slot: the file's name, its bytes and its ground truth."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from policy_ray.sample import hostile, images, scan
from policy_ray.sample.acord_drawn import draw_certificate
from policy_ray.sample.acord_fill import fill_acord25
from policy_ray.sample.carriers import CARRIERS, LAYOUTS
from policy_ray.sample.certificate import make_certificate
from policy_ray.sample.dec_pdf import RenderedPdf, render_declaration
from policy_ray.sample.declaration import Declaration, make_declaration
from policy_ray.sample.plan import Slot
from policy_ray.sample.truth import Expected, GroundTruth, Kind, RecordTruth

SINGLE_PAGE_LAYOUTS = tuple(k for k in LAYOUTS if k != "northgate")  # image files hold the first page only
FAILURE_CATEGORY = {"truncated": "malformed_pdf", "not_a_pdf": "not_a_pdf", "zero_bytes": "empty_file",
                    "encrypted": "encrypted"}
NO_TEXT_LAYER = "no_text_layer"


@dataclass(frozen=True)
class Built:
    data: bytes
    truth: GroundTruth


def _built(name: str, data: bytes, kind: Kind, layout: str, pages: int, expected: Expected, *,
           scanned: bool = False, failure: str | None = None, duplicate_of: str | None = None,
           record: RecordTruth | None = None) -> Built:
    sha = hashlib.sha256(data).hexdigest()
    return Built(data, GroundTruth(name, sha, kind, layout, scanned, pages, expected, failure, duplicate_of, record))


def _declaration(rng: random.Random, layout: str, wording: tuple[int, int]) -> tuple[Declaration, RenderedPdf]:
    dec = make_declaration(rng, CARRIERS[layout])
    return dec, render_declaration(dec, rng, rng.randint(*wording))


def build_declarations(slot: Slot, rng: random.Random, wording: tuple[int, int]) -> Built:
    dec, pdf = _declaration(rng, slot.variant, wording)
    name = f"{slot.index:05d}_dec_{slot.variant}.pdf"
    return _built(name, pdf.data, "declarations", slot.variant, pdf.pages, "accept", record=dec.record())


def build_certificate(slot: Slot, rng: random.Random, acord_form: Path | None) -> Built:
    cert = make_certificate(rng)
    if slot.variant == "acord25_drawn" or acord_form is None:
        data = draw_certificate(cert)
    else:
        data = fill_acord25(acord_form, cert, flatten=slot.variant == "acord25_flat")
    name = f"{slot.index:05d}_coi_acord25.pdf"
    return _built(name, data, "certificate", slot.variant, 1, "accept", record=cert.record())


def build_scanned(slot: Slot, rng: random.Random, wording: tuple[int, int], quarter_turn: bool) -> Built:
    dec, pdf = _declaration(rng, slot.variant, wording)
    data = scan.image_only_pdf(scan.scan(pdf.data, rng, quarter_turn), "Scanned document")
    name = f"{slot.index:05d}_scan_{slot.variant}.pdf"
    return _built(name, data, "scanned", slot.variant, pdf.pages, "dead_letter", scanned=True,
                  failure=NO_TEXT_LAYER, record=dec.record())


def build_image(slot: Slot, rng: random.Random) -> Built:
    layout = rng.choice(SINGLE_PAGE_LAYOUTS)
    dec, pdf = _declaration(rng, layout, (1, 1))
    pages = 2 if slot.variant == "tif" else 1  # TIFF: declarations + a wording page
    scanned_pages = scan.scan(pdf.data, rng, quarter_turn=False, max_pages=pages)
    data = images.tiff(scanned_pages) if slot.variant == "tif" else \
        images.png(scanned_pages[0]) if slot.variant == "png" else images.jpeg(scanned_pages[0])
    name = f"{slot.index:05d}_img_{layout}.{slot.variant}"
    return _built(name, data, "image", layout, pages, "dead_letter", scanned=True, failure=NO_TEXT_LAYER,
                  record=dec.record())


def build_hostile(slot: Slot, rng: random.Random, wording: tuple[int, int]) -> Built:
    """Every hostile kind except `duplicate`, which needs the rest of the night (see night.py)."""
    name = f"{slot.index:05d}_hostile_{slot.variant}.pdf"
    failure = FAILURE_CATEGORY[slot.variant]
    pages = 0  # nothing a reader can open, except the encrypted file below
    if slot.variant == "truncated":
        data = hostile.truncate(_declaration(rng, rng.choice(LAYOUTS), wording)[1].data, rng)
    elif slot.variant == "not_a_pdf":
        data = hostile.not_a_pdf(rng)
    elif slot.variant == "zero_bytes":
        data = b""
    else:
        pdf = _declaration(rng, rng.choice(LAYOUTS), wording)[1]
        data, pages = hostile.encrypt(pdf.data, rng), pdf.pages
    return _built(name, data, "hostile", slot.variant, pages, "dead_letter", failure=failure)


def build_duplicate(slot: Slot, original: Built) -> Built:
    name = f"{slot.index:05d}_hostile_duplicate.pdf"
    return _built(name, original.data, "hostile", "duplicate", original.truth.pages, "duplicate",
                  duplicate_of=original.truth.file)
