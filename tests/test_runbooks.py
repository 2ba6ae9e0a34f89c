"""The runbooks quote the config: keep them honest."""

from __future__ import annotations

import dataclasses
import json
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy_ray.config import DEFAULTS_DIR
from policy_ray.errors import FailureCategory

REPO = Path(__file__).resolve().parents[1]
RUNBOOKS = REPO / "runbooks"


def test_every_failure_category_is_documented() -> None:
    text = (RUNBOOKS / "dead-letters.md").read_text()
    missing = [c.value for c in FailureCategory if f"`{c.value}`" not in text]
    assert not missing, f"document these categories in runbooks/dead-letters.md: {missing}"


def test_routing_runbook_quotes_the_current_thresholds_and_version() -> None:
    config = tomllib.loads((DEFAULTS_DIR / "routing.toml").read_text())
    text = (RUNBOOKS / "routing.md").read_text()
    assert f"`{config['version']}`" in text
    for name, value in config["thresholds"].items():
        assert f"| `{name}` | {value:.2f} |" in text, name
    for row in config["matrix"]:
        assert f"| {row['name']} |" in text, row["name"]


def test_ocr_runbook_quotes_the_breaker_thresholds() -> None:
    breaker = tomllib.loads((DEFAULTS_DIR / "routing.toml").read_text())["ocr_breaker"]
    text = (RUNBOOKS / "ocr.md").read_text()
    for name, value in breaker.items():
        assert f"| `{name}` | {value:g} |" in text, f"runbooks/ocr.md does not quote {name} = {value}"


# ---- runbooks/cluster.md ------------------------------------------------------------------------------------


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


def _shape(bundle: Mapping[str, float]) -> str:
    """A bundle as the runbook writes it: `{"CPU": 1, "extractor": 1}`."""
    return "`" + json.dumps({k: int(v) if float(v).is_integer() else v for k, v in bundle.items()}) + "`"


def _cluster() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load((REPO / "cluster.yaml").read_text()))


def _head_env(cluster: dict[str, Any]) -> dict[str, str]:
    command = next(c for c in cluster["head_start_ray_commands"] if "ray start" in c)
    words = shlex.split(command)
    return dict(w.split("=", 1) for w in words[: words.index("ray")] if w.startswith("POLICY_RAY_"))


def test_cluster_runbook_quotes_the_current_numbers() -> None:
    """Every number runbooks/cluster.md quotes, recomputed from where it is defined: Settings, the scaling
    policy, the pool policy, cluster.yaml and the KubeRay manifest. The bounds must also agree with the
    cluster they bound (scale_max_cpus is all the cpu_extractor CPUs, scale_max_ocr_bundles one GPU OCR
    actor per gpu_ocr node)."""
    import yaml

    from policy_ray.actors.pool import PoolPolicy
    from policy_ray.cli import build_parser, settings_from_args
    from policy_ray.config import Settings
    from policy_ray.core.scaling import Backlog, ScalingPolicy, required_capacity
    from policy_ray.flows.scaling import policy_from_settings

    text = (RUNBOOKS / "cluster.md").read_text()
    settings, policy = Settings(), ScalingPolicy()
    cluster = _cluster()
    types = cluster["available_node_types"]
    extractor, ocr = types["cpu_extractor"], types["gpu_ocr"]
    head_env = _head_env(cluster)
    rayjob = yaml.safe_load((REPO / "deploy" / "kuberay-rayjob.yaml").read_text())
    capacity_wait_s = next(f.default for f in dataclasses.fields(PoolPolicy) if f.name == "capacity_wait_s")
    assert isinstance(capacity_wait_s, float)

    # The defaults bound exactly the cluster cluster.yaml describes.
    assert settings.scale_max_cpus == extractor["max_workers"] * extractor["resources"]["CPU"]
    gpus_per_actor = float(head_env["POLICY_RAY_OCR_GPUS"])
    assert settings.scale_max_ocr_bundles == ocr["max_workers"] * int(ocr["resources"]["GPU"] / gpus_per_actor)
    assert policy_from_settings(settings).assumed_pages_per_second_per_cpu == policy.assumed_pages_per_second_per_cpu
    idle_s = cluster["idle_timeout_minutes"] * 60
    assert rayjob["spec"]["rayClusterSpec"]["autoscalerOptions"]["idleTimeoutSeconds"] == idle_s

    rows = [
        f"| `scale_max_cpus` | {settings.scale_max_cpus} | `cluster.yaml`: {extractor['max_workers']} `cpu_extractor` "
        f"nodes x {extractor['resources']['CPU']} CPUs |",
        f"| `scale_max_ocr_bundles` | {settings.scale_max_ocr_bundles} | `cluster.yaml`: {ocr['max_workers']} "
        "`gpu_ocr` nodes, one GPU OCR actor each |",
        f"| `scale_min_cpus` | {settings.scale_min_cpus} | `Settings` |",
        f"| `night_window_s` | {_hours(settings.night_window_s)} | `Settings` (`--night-window-hours`) |",
        f"| `scale_interval_s` | {settings.scale_interval_s:g} s | `Settings` |",
        f"| `scale_min_remaining_s` | {_minutes(settings.scale_min_remaining_s)} | `Settings` |",
        f"| `capacity_wait_s` | {_minutes(capacity_wait_s)} | `PoolPolicy` (`policy_ray/actors/pool.py`) |",
        f"| `idle_timeout_minutes` | {cluster['idle_timeout_minutes']} min | `cluster.yaml` (KubeRay: "
        f"`idleTimeoutSeconds` {idle_s}) |",
        f"| assumed pages per second per extractor CPU | {policy.assumed_pages_per_second_per_cpu:g} "
        "| `ScalingPolicy` |",
        f"| assumed pages per document | {policy.assumed_pages_per_document:g} | `ScalingPolicy` |",
        f"| OCR documents per second per bundle | {policy.ocr_docs_per_second_per_bundle:g} | `ScalingPolicy` |",
        f"| grow when the need is above the standing request by | {policy.grow_threshold:.0%} and "
        f"{policy.min_step_cpus} CPUs | `ScalingPolicy` |",
        f"| shrink when the need has been at or below | {1 - policy.shrink_threshold:.0%} for "
        f"{_minutes(policy.shrink_delay_s)} | `ScalingPolicy` |",
        f"| `batch_lease_s` | {_hours(settings.batch_lease_s)} | `Settings` |",
    ]
    missing = [row for row in rows if row not in text]
    assert not missing, "runbooks/cluster.md's Numbers table is out of date:\n" + "\n".join(missing)

    # The same numbers where the prose quotes them.
    on_cluster = settings_from_args(build_parser().parse_args(
        ["ingest", "s3://in", "--lake", "s3://lake", "--extractor-resource", head_env["POLICY_RAY_EXTRACTOR_RESOURCE"],
         "--ocr-resource", head_env["POLICY_RAY_OCR_RESOURCE"], "--ocr-gpus", head_env["POLICY_RAY_OCR_GPUS"]]))
    shapes = policy_from_settings(on_cluster)
    rate, per_doc = policy.assumed_pages_per_second_per_cpu, policy.assumed_pages_per_document

    def cpus(documents: int, pages_each: float, pages_per_s: float, hours: float) -> int:
        backlog = Backlog(documents=documents, pages=documents * pages_each)
        return required_capacity(backlog, pages_per_s, hours * 3600, policy).extractors

    quotes = [
        f"re-computed every `scale_interval_s` ({settings.scale_interval_s:g} s)",
        f"(smoothed; {rate:g} until measured, i.e. {rate / per_doc:g}\n  documents of {per_doc:g} pages)",
        f"`night_window_s` ({_hours(settings.night_window_s)}) from the driver's start",
        f"`scale_min_remaining_s`, {settings.scale_min_remaining_s / 60:g} minutes, left",
        f"mean page count of the documents this night has finished ({per_doc:g} until the\n  first one",
        f"**extractor bundles** {_shape(shapes.extractor_bundle)}",
        f"**OCR bundles** {_shape(shapes.ocr_bundle)}",
        f"ceil(OCR queue / ({policy.ocr_docs_per_second_per_bundle:g} doc/s x time left))",
        f"`scale_min_cpus` ({settings.scale_min_cpus}) .. `scale_max_cpus` ({settings.scale_max_cpus})",
        f"at most `scale_max_ocr_bundles` ({settings.scale_max_ocr_bundles}) OCR bundles",
        f"Example: 100,000 documents of 3 pages at 1.5 pages/s/CPU with 6 h ahead ask for {cpus(100_000, 3, 1.5, 6)} "
        f"extractor CPUs; if\nthe measured rate drops to 0.6, {cpus(100_000, 3, 0.6, 6)}; with 60,000 documents left, "
        f"2 h ahead at 0.6, {cpus(60_000, 3, 0.6, 2)}. The same 100,000\ndocuments of 30 pages each at 1.5 "
        f"pages/s/CPU ask for {cpus(100_000, 30, 1.5, 6)}.",
        f"once it is {policy.grow_threshold:.0%} (and at least {policy.min_step_cpus} CPUs) above",
        f"only after it has lasted {policy.shrink_delay_s / 60:g} minutes at half or less",
        f"`idle_timeout_minutes` ({cluster['idle_timeout_minutes']}) after",
        f"(`--max-attempts`, default {settings.max_attempts})",
        f"`capacity_wait_s` ({capacity_wait_s / 60:g} minutes)",
        f"(`batch_lease_s`, {_hours(settings.batch_lease_s)})",
        f"Micro-batches of {settings.commit_every_docs} documents or {settings.commit_interval_s:g} s",
        f"({extractor['max_workers']} `cpu_extractor` x {extractor['resources']['CPU']} CPUs, {ocr['max_workers']} "
        "`gpu_ocr`)",
        *(f"`{name}={value}`" for name, value in head_env.items()),
    ]
    assert 1 - policy.shrink_threshold == 0.5  # "half" in the prose
    assert (rate, per_doc) == (1.5, 3.0)  # the example's "3 pages at 1.5 pages/s/CPU" is the assumed rate
    missing = [quote for quote in quotes if quote not in text]
    assert not missing, "runbooks/cluster.md quotes stale numbers; expected:\n" + "\n---\n".join(missing)
