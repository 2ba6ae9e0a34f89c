"""How big each pool is and where its actors may run, from the settings and the cluster's resources.

Plain arithmetic, kept apart so a resource plan can be tested without a cluster. The OCR pool's
CPUs are reserved up front: Ray places an actor only where its CPUs are free, and two CPU-holding
pools that together ask for more than the node has would wait forever without a message.

Where actors run is configuration, not a guess from the cluster as the driver first finds it: a cluster
that scales from zero workers advertises nothing at the start. `Settings.extractor_resource` and
`Settings.ocr_resource` name the custom resource each actor of a pool asks for (one unit), so it lands
only on the node type that advertises it and the autoscaler starts that node type for it:

- a name (cluster.yaml's head sets POLICY_RAY_EXTRACTOR_RESOURCE=extractor and POLICY_RAY_OCR_RESOURCE=ocr
  for the jobs it runs; `--extractor-resource` / `--ocr-resource`): asked for from the first actor on;
- "" (automatic, the default elsewhere): asked for once a node advertises `extractor` / `ocr`;
- "none": never (a cluster whose nodes are all alike).

OCR on GPU is configuration too (`Settings.ocr_use_gpu`, `--ocr-gpus N`): OCR actors then ask for
`ocr_gpus_per_actor` GPUs and RapidOCR runs on CUDA. With `ocr_engine="auto"` GPUs in the cluster at
the start also select RapidOCR on GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy_ray.config import Settings
from policy_ray.core.scaling import EXTRACTOR_NODE_RESOURCE, OCR_NODE_RESOURCE

NO_NODE_RESOURCE = "none"  # Settings.*_resource: never ask for a custom resource


@dataclass(frozen=True)
class PoolPlan:
    extractors: int
    extractor_options: dict[str, Any]
    ocr_workers: int
    ocr_engine: str
    ocr_use_gpu: bool
    ocr_options: dict[str, Any]


def configured_resource(settings: Settings, kind: str) -> str | None:
    """The custom resource `kind`'s actors are configured to ask for: a name, None for "none", or the
    default name (`extractor`, `ocr`) in automatic mode. What the autoscaler request's bundles carry."""
    value, default = ((settings.ocr_resource, OCR_NODE_RESOURCE) if kind == "ocr"
                      else (settings.extractor_resource, EXTRACTOR_NODE_RESOURCE))
    if value == NO_NODE_RESOURCE:
        return None
    return value or default


def placement_resource(settings: Settings, kind: str, resources: Mapping[str, float]) -> str | None:
    """The custom resource `kind`'s actors ask for now: a configured name always; in automatic mode the
    default name only once a node advertises it (else nothing could place the actor)."""
    name = configured_resource(settings, kind)
    value = settings.ocr_resource if kind == "ocr" else settings.extractor_resource
    if name is None or (not value and not resources.get(name)):
        return None
    return name


def resolve_ocr_engine(settings: Settings, resources: Mapping[str, float]) -> tuple[str, bool]:
    """(engine, on GPU): `ocr_use_gpu` (or, for "auto", GPUs in the cluster now) selects RapidOCR on GPU."""
    gpus = resources.get("GPU", 0.0)
    engine = settings.ocr_engine
    if engine == "auto":
        engine = "rapidocr" if settings.ocr_use_gpu or gpus > 0 else "tesseract"
    return engine, engine == "rapidocr" and (settings.ocr_use_gpu or gpus > 0)


def plan_pools(settings: Settings, resources: dict[str, float]) -> PoolPlan:
    engine, use_gpu = resolve_ocr_engine(settings, resources)
    ocr_workers = settings.ocr_workers if settings.ocr else 0

    ocr_options: dict[str, Any] = {"num_cpus": settings.ocr_num_cpus}
    if use_gpu:
        ocr_options["num_gpus"] = settings.ocr_gpus_per_actor
    ocr_resource = placement_resource(settings, "ocr", resources)
    if ocr_resource:
        ocr_options["resources"] = {ocr_resource: 1}

    extractor_options: dict[str, Any] = {"num_cpus": settings.extractor_num_cpus}
    extractor_resource = placement_resource(settings, "extractor", resources)
    if extractor_resource:
        extractor_options["resources"] = {extractor_resource: 1}
        free = resources.get(extractor_resource, 0.0)
    else:
        # Same nodes for both pools: leave the OCR pool its CPUs.
        reserved = 0.0 if ocr_resource else ocr_workers * settings.ocr_num_cpus
        free = resources.get("CPU", 1.0) - reserved
    extractors = settings.extractors or max(1, int(free // max(settings.extractor_num_cpus, 0.01)))
    return PoolPlan(extractors=extractors, extractor_options=extractor_options, ocr_workers=ocr_workers,
                    ocr_engine=engine, ocr_use_gpu=use_gpu, ocr_options=ocr_options)
