"""Which document goes in which slot of a night: the mix, its variants and its order.

Declarations take whatever the other kinds leave (about 55-60% of a night).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from policy_ray.sample.carriers import LAYOUTS
from policy_ray.sample.truth import Kind

HOSTILE_KINDS = ("truncated", "not_a_pdf", "zero_bytes", "encrypted", "duplicate")
IMAGE_FORMATS = ("tif", "png", "jpg")
CERTIFICATE_SHARE = 0.20
HOSTILE_SHARE = 0.08
IMAGES_PER_FORMAT_EVERY = 60  # one of each image format per this many documents
ACCEPTED: tuple[Kind, ...] = ("declarations", "certificate")


@dataclass(frozen=True)
class Slot:
    index: int  # 1-based position in the night; also the file-name prefix
    kind: Kind
    variant: str  # carrier layout, certificate flavour, hostile kind or image format


@dataclass(frozen=True)
class MixOptions:
    include_images: bool
    include_hostile: bool
    scanned_share: float
    acord_form: bool


def counts(n: int, options: MixOptions) -> dict[Kind, int]:
    wanted: dict[Kind, int] = {
        "certificate": round(n * CERTIFICATE_SHARE),
        "scanned": round(n * options.scanned_share),
        "hostile": round(n * HOSTILE_SHARE) if options.include_hostile else 0,
        "image": len(IMAGE_FORMATS) * max(1, n // IMAGES_PER_FORMAT_EVERY) if options.include_images else 0,
    }
    enabled = {"certificate": True, "scanned": options.scanned_share > 0,
               "hostile": options.include_hostile, "image": options.include_images}
    result: dict[Kind, int] = {"declarations": min(n, 1)}
    # Small nights: one of each enabled kind first, in this order, while room remains.
    for kind in wanted:
        result[kind] = 1 if enabled[kind] and sum(result.values()) < n else 0
    for kind, count in wanted.items():
        room = n - sum(result.values())
        result[kind] += max(0, min(count - result[kind], room))
    result["declarations"] += n - sum(result.values())
    return result


def _variants(kind: Kind, count: int, rng: random.Random, acord_form: bool) -> list[str]:
    if kind in ("declarations", "scanned"):
        cycle: tuple[str, ...] = LAYOUTS
    elif kind == "certificate":
        cycle = ("acord25_fields", "acord25_flat") if acord_form else ("acord25_drawn",)
    elif kind == "hostile":
        cycle = HOSTILE_KINDS
    else:
        cycle = IMAGE_FORMATS
    start = rng.randrange(len(cycle)) if kind in ("declarations", "scanned", "certificate") else 0
    return list(itertools.islice(itertools.cycle(cycle[start:] + cycle[:start]), count))


def plan_night(n: int, rng: random.Random, options: MixOptions) -> list[Slot]:
    pairs = [(kind, variant) for kind, count in counts(n, options).items()
             for variant in _variants(kind, count, rng, options.acord_form)]
    rng.shuffle(pairs)
    # A duplicate needs an accepted original earlier in the night: lead with one.
    first_accepted = next((i for i, (kind, _) in enumerate(pairs) if kind in ACCEPTED), None)
    if first_accepted is not None:
        pairs.insert(0, pairs.pop(first_accepted))
    return [Slot(i, kind, variant) for i, (kind, variant) in enumerate(pairs, start=1)]
