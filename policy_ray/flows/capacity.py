"""How big each pool is and where its actors may run, from the settings and the cluster's resources.

Plain arithmetic, kept apart so a resource plan can be tested without a cluster. The OCR pool's
CPUs are reserved up front: Ray places an actor only where its CPUs are free, and two CPU-holding
pools that together ask for more than the node has would wait forever without a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policy_ray.config import Settings

OCR_NODE_RESOURCE = "ocr"  # advertised by OCR worker nodes in cluster.yaml
EXTRACTOR_NODE_RESOURCE = "extractor"  # advertised by CPU extractor nodes in cluster.yaml


@dataclass(frozen=True)
class PoolPlan:
    extractors: int
    extractor_options: dict[str, Any]
    ocr_workers: int
    ocr_engine: str
    ocr_use_gpu: bool
    ocr_options: dict[str, Any]


def plan_pools(settings: Settings, resources: dict[str, float]) -> PoolPlan:
    gpus = resources.get("GPU", 0.0)
    engine = settings.ocr_engine
    if engine == "auto":
        engine = "rapidocr" if gpus > 0 else "tesseract"
    use_gpu = engine == "rapidocr" and gpus > 0
    ocr_workers = settings.ocr_workers if settings.ocr else 0

    ocr_options: dict[str, Any] = {"num_cpus": settings.ocr_num_cpus}
    if use_gpu:
        ocr_options["num_gpus"] = settings.ocr_gpus_per_actor
    if resources.get(OCR_NODE_RESOURCE):
        ocr_options["resources"] = {OCR_NODE_RESOURCE: 1}

    extractor_options: dict[str, Any] = {"num_cpus": settings.extractor_num_cpus}
    if resources.get(EXTRACTOR_NODE_RESOURCE):
        extractor_options["resources"] = {EXTRACTOR_NODE_RESOURCE: 1}
        free = resources[EXTRACTOR_NODE_RESOURCE]
    else:
        # Same nodes for both pools: leave the OCR pool its CPUs.
        reserved = 0.0 if resources.get(OCR_NODE_RESOURCE) else ocr_workers * settings.ocr_num_cpus
        free = resources.get("CPU", 1.0) - reserved
    extractors = settings.extractors or max(1, int(free // max(settings.extractor_num_cpus, 0.01)))
    return PoolPlan(extractors=extractors, extractor_options=extractor_options, ocr_workers=ocr_workers,
                    ocr_engine=engine, ocr_use_gpu=use_gpu, ocr_options=ocr_options)
