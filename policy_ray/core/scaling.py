"""The arithmetic of scaling a night (pure: no Ray, no I/O): how much capacity a backlog needs within the
night's window, and when a standing autoscaler request is worth replacing. flows/scaling.py sends it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OCR_NODE_RESOURCE = "ocr"  # advertised by OCR worker nodes in cluster.yaml
EXTRACTOR_NODE_RESOURCE = "extractor"  # advertised by CPU extractor nodes in cluster.yaml
# Defaults for the Settings fields of issue 7 (a Settings without them still works, see policy_from_settings).
DEFAULT_NIGHT_WINDOW_S = 6 * 3600.0
DEFAULT_MAX_CPUS = 160  # cluster.yaml: 20 cpu_extractor nodes x 8 CPUs
DEFAULT_MAX_OCR_BUNDLES = 4  # cluster.yaml: 4 gpu_ocr nodes
DEFAULT_INTERVAL_S = 10.0
DEFAULT_MIN_REMAINING_S = 600.0



@dataclass(frozen=True)
class ScalingPolicy:
    night_window_s: float = DEFAULT_NIGHT_WINDOW_S  # the backlog should be done this long after the night starts
    min_cpus: int = 0  # extractor CPUs always asked for while documents are waiting
    max_cpus: int = DEFAULT_MAX_CPUS  # the most extractor CPUs a night asks for
    max_ocr_bundles: int = DEFAULT_MAX_OCR_BUNDLES  # the most OCR actors (bundles) a night asks for
    extractor_bundle: Mapping[str, float] = field(default_factory=lambda: {"CPU": 1.0, EXTRACTOR_NODE_RESOURCE: 1.0})
    ocr_bundle: Mapping[str, float] = field(default_factory=lambda: {"CPU": 1.0, OCR_NODE_RESOURCE: 1.0})
    # Until the night has measured its own: 0.5 documents/s/CPU of ~3 pages each (born-digital, triage on;
    # bench/RESULTS.md measures ~16 pages/s/CPU on an idle machine, so this errs towards asking for more).
    assumed_pages_per_second_per_cpu: float = 1.5
    assumed_pages_per_document: float = 3.0
    ocr_docs_per_second_per_bundle: float = 0.1  # a scan takes ~10 s of OCR (3 pages at 200 dpi)
    min_remaining_s: float = DEFAULT_MIN_REMAINING_S  # near or past the window's end: plan to finish within this
    grow_threshold: float = 0.2  # a larger need is asked for once it exceeds the standing one by 20% ...
    min_step_cpus: int = 2  # ... and by at least this many CPUs
    shrink_delay_s: float = 300.0  # a smaller need is asked for only once it has lasted this long ...
    shrink_threshold: float = 0.5  # ... and is at most half the standing one

    def __post_init__(self) -> None:
        if self.night_window_s <= 0 or self.min_remaining_s <= 0:
            raise ValueError("night_window_s and min_remaining_s must be positive")
        if not 0 <= self.min_cpus <= self.max_cpus:
            raise ValueError("scaling bounds must satisfy 0 <= min_cpus <= max_cpus")
        if self.max_ocr_bundles < 0:
            raise ValueError("max_ocr_bundles cannot be negative")
        if self.extractor_bundle.get("CPU", 0) <= 0:
            raise ValueError("an extractor bundle needs CPU")
        if self.assumed_pages_per_second_per_cpu <= 0 or self.assumed_pages_per_document <= 0:
            raise ValueError("assumed rates must be positive")

    @property
    def cpus_per_extractor(self) -> float:
        return float(self.extractor_bundle["CPU"])


@dataclass(frozen=True)
class Backlog:
    """What is left of the night: documents waiting for an extractor (not listed yet, or a retry) or on
    one, the pages they hold (an estimate, see NightScaler), and documents waiting for or on OCR."""

    documents: int = 0
    pages: float = 0.0
    ocr_documents: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "pages": round(self.pages, 1), "ocr_documents": self.ocr_documents}


@dataclass(frozen=True)
class ResourceRequest:
    """A standing request: `extractors` bundles of the extractor shape and `ocr` of the OCR shape."""

    extractors: int = 0
    ocr: int = 0

    @property
    def empty(self) -> bool:
        return self.extractors == 0 and self.ocr == 0

    def cpus(self, policy: ScalingPolicy) -> float:
        return self.extractors * policy.cpus_per_extractor + self.ocr * float(policy.ocr_bundle.get("CPU", 0))

    def bundles(self, policy: ScalingPolicy) -> list[dict[str, float]]:
        return ([dict(policy.extractor_bundle) for _ in range(self.extractors)]
                + [dict(policy.ocr_bundle) for _ in range(self.ocr)])


def required_capacity(backlog: Backlog, pages_per_second_per_cpu: float | None, remaining_s: float,
                      policy: ScalingPolicy) -> ResourceRequest:
    """What finishing the backlog within `remaining_s` takes, within the policy's bounds (pure).

    Extractor CPUs = pages left / (pages per second per CPU x seconds left); OCR bundles = OCR documents
    / (documents per second per bundle x seconds left); at least one of each shape while it has work."""
    documents = max(0, backlog.documents)
    seconds = max(remaining_s, policy.min_remaining_s)
    extractors = 0
    if documents:
        rate = pages_per_second_per_cpu if pages_per_second_per_cpu and pages_per_second_per_cpu > 0 else (
            policy.assumed_pages_per_second_per_cpu)
        pages = max(backlog.pages, 0.0)
        cpus = min(max(pages / (rate * seconds), float(policy.min_cpus)), float(policy.max_cpus))
        most = math.floor(policy.max_cpus / policy.cpus_per_extractor + 1e-9)
        # Whole bundles, at least one; never more than there are documents, never past max_cpus.
        extractors = min(max(1, math.ceil(cpus / policy.cpus_per_extractor - 1e-9)), documents, most)
    ocr = 0
    if backlog.ocr_documents > 0 and policy.max_ocr_bundles > 0:
        needed = backlog.ocr_documents / (policy.ocr_docs_per_second_per_bundle * seconds)
        ocr = min(max(1, math.ceil(needed - 1e-9)), backlog.ocr_documents, policy.max_ocr_bundles)
    return ResourceRequest(extractors=extractors, ocr=ocr)


def next_request(current: ResourceRequest | None, proposed: ResourceRequest, lower_since: float | None, now: float,
                 policy: ScalingPolicy) -> tuple[ResourceRequest | None, float | None]:
    """Hysteresis (pure): (the request to send now or None, when the need first fell below the standing one).

    The first request is always sent (it also replaces one a crashed driver left standing). A larger need
    is sent when it grows past the thresholds; a shape with nothing left to do at all (its backlog drained)
    is released at once, so its nodes can go idle; a smaller need only after it has lasted `shrink_delay_s`
    and fallen to `shrink_threshold` or below.
    """
    if current is None:
        return proposed, None
    if proposed == current:
        return None, None
    drained_extractors = proposed.extractors == 0 < current.extractors
    drained_ocr = proposed.ocr == 0 < current.ocr
    if drained_extractors or drained_ocr:
        # Release the drained shape now; keep the other's standing request (or its growth).
        keep_extractors = 0 if drained_extractors else max(current.extractors, proposed.extractors)
        keep_ocr = 0 if drained_ocr else max(current.ocr, proposed.ocr)
        return ResourceRequest(keep_extractors, keep_ocr), None
    step = max(policy.min_step_cpus / policy.cpus_per_extractor, current.extractors * policy.grow_threshold)
    grows = (proposed.ocr > current.ocr or (proposed.extractors > 0 and current.extractors == 0)
             or proposed.extractors >= current.extractors + step)
    if grows:
        # Never shrink the other shape in the same breath: keep the larger of each.
        return ResourceRequest(max(proposed.extractors, current.extractors), max(proposed.ocr, current.ocr)), None
    shrinks = (proposed.extractors <= current.extractors * (1 - policy.shrink_threshold)
               or (proposed.ocr < current.ocr and proposed.extractors <= current.extractors))
    if not shrinks:
        return None, None  # a small wobble either way: keep the standing request
    if lower_since is None:
        return None, now
    if now - lower_since >= policy.shrink_delay_s:
        return proposed, None
    return None, lower_since
