"""Settings of a run and the versioned data it uses (templates, labels, routing matrix).

Loaded once by the driver, validated, and shipped to actors as plain picklable values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_ray.core.coverage_table import ColumnKeywords
from policy_ray.core.mapping import MappingConfig
from policy_ray.core.routing import RoutingMatrix, matrix_from_dict
from policy_ray.core.templates import registry_from_dicts

DEFAULTS_DIR = Path(__file__).parent / "defaults"


def _default_extractors() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """Knobs of one run. Every field has a CLI flag or a default sized for a 2-core, 24 GiB worker."""

    extractors: int = field(default_factory=_default_extractors)
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
    triage: bool = True  # cheap pypdfium2 text first, geometry only on pages that carry fields
    camelot: bool = True
    table_pages_max: int = 6  # at most this many pages per document get table extraction
    templates_dir: Path = DEFAULTS_DIR / "templates"
    labels_path: Path = DEFAULTS_DIR / "labels.toml"
    routing_path: Path = DEFAULTS_DIR / "routing.toml"
    storage_options: dict[str, str] = field(default_factory=dict)
    test_faults: dict[str, str] = field(default_factory=dict)  # file name -> crash|hang|memory (tests only)

    def __post_init__(self) -> None:
        if self.extractors < 1:
            raise ValueError("extractors must be at least 1")
        if not 0.1 <= self.rss_recycle_fraction <= 1.0:
            raise ValueError("rss_recycle_fraction must be within [0.1, 1.0]")
        if self.max_attempts < 1 or self.max_calls < 1:
            raise ValueError("max_attempts and max_calls must be positive")
        if self.memory_ceiling_mb < 256:
            raise ValueError("memory_ceiling_mb below 256 leaves no room for the PDF libraries")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class PipelineData:
    """The versioned data a night runs with, and the hashes that pin it in the audit trail."""

    mapping: MappingConfig
    matrix: RoutingMatrix
    versions: dict[str, str]


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_pipeline_data(settings: Settings) -> PipelineData:
    labels = tomllib.loads(settings.labels_path.read_text())
    template_files = sorted(settings.templates_dir.glob("*.toml"))
    templates = [tomllib.loads(p.read_text()) for p in template_files]
    registry = registry_from_dicts(templates, labels)
    matrix = matrix_from_dict(tomllib.loads(settings.routing_path.read_text()))
    heading = labels.get("heading", {})
    mapping = MappingConfig(
        registry=registry,
        columns=ColumnKeywords.from_mapping(labels["table"]),
        carrier_keywords=tuple(heading.get("carrier_keywords", ())),
        carrier_exclude=tuple(heading.get("exclude", ())),
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
    return PipelineData(mapping=mapping, matrix=matrix, versions=versions)
