"""Generate a synthetic night of carrier documents plus its ground truth."""

from __future__ import annotations

from pathlib import Path

from policy_ray.sample import builders
from policy_ray.sample.plan import ACCEPTED, MixOptions, Slot, plan_night
from policy_ray.sample.seeding import doc_rng, night_rng
from policy_ray.sample.truth import load_ground_truth, write_ground_truth

__all__ = ["generate_night", "load_ground_truth"]

GROUND_TRUTH_FILE = "ground_truth.jsonl"
QUARTER_TURN_EVERY = 10  # one scan in ten was fed into the scanner sideways


def _check(n: int, wording_pages: tuple[int, int], scanned_share: float) -> None:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    low, high = wording_pages
    if not 0 <= low <= high:
        raise ValueError(f"wording_pages must be (low, high) with 0 <= low <= high, got {wording_pages}")
    if not 0.0 <= scanned_share <= 1.0:
        raise ValueError(f"scanned_share must be within [0, 1], got {scanned_share}")


def _build(slot: Slot, seed: int, acord_form: Path | None, wording: tuple[int, int],
           scan_number: int) -> builders.Built:
    rng = doc_rng(seed, slot.index)
    if slot.kind == "declarations":
        return builders.build_declarations(slot, rng, wording)
    if slot.kind == "certificate":
        return builders.build_certificate(slot, rng, acord_form)
    if slot.kind == "scanned":
        quarter_turn = scan_number % QUARTER_TURN_EVERY == QUARTER_TURN_EVERY // 2
        return builders.build_scanned(slot, rng, wording, quarter_turn)
    if slot.kind == "image":
        return builders.build_image(slot, rng)
    return builders.build_hostile(slot, rng, wording)


def generate_night(out_dir: Path, n: int, seed: int, *, acord_form: Path | None = None,
                   wording_pages: tuple[int, int] = (1, 4), include_images: bool = False,
                   include_hostile: bool = True, scanned_share: float = 0.12) -> Path:
    """Write `n` documents and `ground_truth.jsonl` into `out_dir`; return the truth file's path.

    Output is byte-identical for the same arguments. Existing files in `out_dir`
    are overwritten when names collide and otherwise left alone.
    """
    _check(n, wording_pages, scanned_share)
    options = MixOptions(include_images, include_hostile, scanned_share, acord_form is not None)
    slots = plan_night(n, night_rng(seed), options)
    built: dict[int, builders.Built] = {}
    scans = 0
    for slot in slots:
        if slot.variant == "duplicate":
            continue
        built[slot.index] = _build(slot, seed, acord_form, wording_pages, scans)
        scans += slot.kind == "scanned"
    for slot in slots:
        if slot.variant == "duplicate":
            originals = [b for i, b in sorted(built.items()) if i < slot.index and b.truth.kind in ACCEPTED]
            built[slot.index] = builders.build_duplicate(slot, doc_rng(seed, slot.index).choice(originals))
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in built.values():
        (out_dir / item.truth.file).write_bytes(item.data)
    truth_path = out_dir / GROUND_TRUTH_FILE
    write_ground_truth(truth_path, [b.truth for b in built.values()])
    return truth_path
