"""The runbooks quote the config: keep them honest."""

from __future__ import annotations

import tomllib
from pathlib import Path

from policy_ray.config import DEFAULTS_DIR
from policy_ray.errors import FailureCategory

RUNBOOKS = Path(__file__).resolve().parents[1] / "runbooks"


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
