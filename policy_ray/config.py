"""Settings of a run and the versioned data it uses (templates, labels, routing matrix).

Loaded once by the driver, validated, and shipped to actors as plain picklable values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_ray.core.breaker import BreakerConfig
from policy_ray.core.coverage_table import ColumnKeywords
from policy_ray.core.heading import HeadingRules
from policy_ray.core.mapping import MappingConfig
from policy_ray.core.routing import RoutingMatrix, matrix_from_dict
from policy_ray.core.templates import registry_from_dicts

DEFAULTS_DIR = Path(__file__).parent / "defaults"


@dataclass(frozen=True)
class Settings:
    """Knobs of one run. Every field has a CLI flag or a default sized for a 2-core, 24 GiB worker."""

    extractors: int = 0  # 0: one per CPU of the cluster, less the CPUs the OCR pool reserves
    extractor_num_cpus: float = 1.0
    memory_ceiling_mb: int = 2048  # per actor, enforced in-process (RLIMIT_DATA)
    rss_recycle_fraction: float = 0.7  # retire an actor once its RSS passes this share of the ceiling
    max_calls: int = 200  # retire an actor after this many documents
    document_deadline_s: float = 180.0  # a document still running after this is abandoned
    max_attempts: int = 3  # worker failures (crash, hang, memory) before a document is declared poison
    max_pages: int = 2000  # page-count bombs and runaway files stop here
    max_file_mb: int = 256
    commit_every_docs: int = 250  # micro-batch size
    commit_interval_s: float = 30.0  # ... or this long since the last commit, whichever comes first
    reconcile: bool = True  # reconcile the night against its baseline at the end of the job
    alert_webhook: str | None = None  # POST a JSON alert here when a night is quarantined
    batch_lease_s: float = 900.0  # a run's claim on its batch, renewed every third of it (flows/batch_lease.py)
    triage: bool = True  # cheap pypdfium2 text first, geometry only on pages that carry fields
    camelot: bool = True
    table_pages_max: int = 6  # at most this many pages per document get table extraction
    templates_dir: Path = DEFAULTS_DIR / "templates"
    labels_path: Path = DEFAULTS_DIR / "labels.toml"
    routing_path: Path = DEFAULTS_DIR / "routing.toml"
    storage_options: dict[str, str] = field(default_factory=dict)  # s3://: policy_ray/adapters/storage.py
    autoscale: bool = True  # ask the autoscaler for what finishes the backlog within night_window_s
    night_window_s: float = 6 * 3600.0
    scale_min_cpus: int = 0  # extractor CPUs asked for at least while documents wait
    scale_max_cpus: int = 160  # the most extractor CPUs a night asks for (cluster.yaml: 20 nodes x 8)
    scale_max_ocr_bundles: int = 4  # the most OCR actors a night asks for (cluster.yaml: 4 gpu_ocr nodes)
    scale_interval_s: float = 10.0  # how often the driver re-reads the cluster, grows pools, re-asks
    scale_min_remaining_s: float = 600.0  # plan to finish within at least this long, even near the window's end
    # The custom resource each actor asks for (one unit), so it lands only on the node type advertising it:
    # a name: from the first actor on (a cluster scaling from zero workers advertises nothing yet); "": once a
    # node advertises `extractor` / `ocr`; "none": never. See policy_ray/flows/capacity.py.
    extractor_resource: str = ""
    ocr_resource: str = ""
    ocr: bool = True  # send scans and weak text to the OCR pool (off: they become retryable dead letters)
    ocr_workers: int = 1
    ocr_num_cpus: float = 1.0  # Tesseract runs one core per actor (OMP_THREAD_LIMIT=1)
    ocr_engine: str = "auto"  # tesseract | rapidocr | auto (rapidocr when OCR uses a GPU, else tesseract)
    # OCR actors ask for ocr_gpus_per_actor GPUs and RapidOCR runs on CUDA (--ocr-gpus N); with ocr_engine "auto",
    # GPUs in the cluster when the driver starts turn it on too (policy_ray/flows/capacity.py)
    ocr_use_gpu: bool = False
    ocr_gpus_per_actor: float = 1.0
    ocr_lang: str = "eng"
    ocr_dpi: int = 200  # measured: 200 dpi reads our scans better and ~2x faster than 300
    ocr_max_pixels: int = 40_000_000  # a page rendering beyond this (after lowering DPI) is image_too_large
    ocr_max_pages: int = 3  # declarations and schedules come first; wording pages are not worth OCR
    ocr_page_timeout_s: float = 60.0
    ocr_document_deadline_s: float = 240.0
    ocr_memory_ceiling_mb: int = 2048
    ocr_max_calls: int = 100
    ocr_breaker_name: str = "policy-ray-ocr-breaker"  # one breaker per Ray namespace: the cluster's
    test_faults: dict[str, str] = field(default_factory=dict)  # file name -> crash|hang|memory (tests only)

    def __post_init__(self) -> None:
        if self.extractors < 0 or self.ocr_workers < 0:
            raise ValueError("pool sizes cannot be negative")
        if not 0.1 <= self.rss_recycle_fraction <= 1.0:
            raise ValueError("rss_recycle_fraction must be within [0.1, 1.0]")
        if self.max_attempts < 1 or self.max_calls < 1:
            raise ValueError("max_attempts and max_calls must be positive")
        if self.ocr_engine not in ("auto", "tesseract", "rapidocr"):
            raise ValueError("ocr_engine must be auto, tesseract or rapidocr")
        if self.ocr_use_gpu and self.ocr_gpus_per_actor <= 0:
            raise ValueError("ocr_use_gpu needs ocr_gpus_per_actor > 0")
        if self.memory_ceiling_mb < 256:
            raise ValueError("memory_ceiling_mb below 256 leaves no room for the PDF libraries")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class PipelineData:
    """The versioned data a night runs with, and the hashes that pin it in the audit trail."""

    mapping: MappingConfig
    matrix: RoutingMatrix
    breaker: BreakerConfig
    versions: dict[str, str]


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_pipeline_data(settings: Settings) -> PipelineData:
    labels = tomllib.loads(settings.labels_path.read_text())
    template_files = sorted(settings.templates_dir.glob("*.toml"))
    templates = [tomllib.loads(p.read_text()) for p in template_files]
    registry = registry_from_dicts(templates, labels)
    routing = tomllib.loads(settings.routing_path.read_text())
    matrix = matrix_from_dict(routing)
    breaker = BreakerConfig.from_mapping(routing.get("ocr_breaker", {}))
    heading = labels.get("heading", {})
    mapping = MappingConfig(
        registry=registry,
        columns=ColumnKeywords.from_mapping(labels["table"]),
        heading=HeadingRules(
            carrier_keywords=tuple(heading.get("carrier_keywords", ())),
            exclude=tuple(heading.get("exclude", ())),
            title_words=tuple(heading.get("title_words", ())),
            letterhead=tuple(heading.get("letterhead", ())),
        ),
        qualifiers=tuple(labels.get("split", {}).get("qualifiers", ())),
    )
    templates_hash = hashlib.sha256(
        b"".join(p.name.encode() + bytes.fromhex(_sha256_file(p)) for p in template_files)
    ).hexdigest()
    versions = {
        "routing_matrix_version": matrix.version,
        "routing_matrix_sha256": _sha256_file(settings.routing_path),
        "labels_version": registry.version,
        "labels_sha256": _sha256_file(settings.labels_path),
        "templates_sha256": templates_hash,
        "templates": ",".join(f"{t.id}@{t.version}" for t in registry.templates),
    }
    return PipelineData(mapping=mapping, matrix=matrix, breaker=breaker, versions=versions)
