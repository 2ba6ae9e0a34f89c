import tomllib

import pytest

from policy_ray.config import DEFAULTS_DIR
from policy_ray.core.models import MappedDocument, PolicyRecord
from policy_ray.core.routing import Route, matrix_from_dict, route_document
from policy_ray.errors import FailureCategory

MATRIX = matrix_from_dict(tomllib.loads((DEFAULTS_DIR / "routing.toml").read_text()))
REQUIRED = ("carrier_name", "policy_number", "insured_name", "effective_date", "expiration_date")


def _mapped(conf: float, *, recognized: bool = True, errors: tuple[str, ...] = ()) -> MappedDocument:
    record = PolicyRecord("declarations", "generic", "", "C", "P-123", "I", None, None, None, None)
    return MappedDocument(record=record, field_confidence=dict.fromkeys(REQUIRED, conf), recognized=recognized,
                          validation_errors=errors)


# (confidence, source, text_layer, recognized, errors, ocr_available) -> (route, category)
CASES = [
    (0.95, "text", True, True, (), False, Route.ACCEPT, None),
    (0.95, "text", True, True, (), True, Route.ACCEPT, None),
    (0.85, "text", True, True, (), False, Route.ACCEPT, None),
    (0.70, "text", True, True, (), True, Route.DEAD_LETTER, FailureCategory.LOW_CONFIDENCE),
    (0.30, "text", True, True, (), True, Route.OCR, FailureCategory.LOW_CONFIDENCE),
    (0.30, "text", True, True, (), False, Route.DEAD_LETTER, FailureCategory.LOW_CONFIDENCE),
    (0.00, "text", False, True, (), True, Route.OCR, FailureCategory.NO_TEXT_LAYER),
    (0.00, "text", False, True, (), False, Route.DEAD_LETTER, FailureCategory.NO_TEXT_LAYER),
    (0.00, "text", True, False, (), True, Route.DEAD_LETTER, FailureCategory.UNRECOGNIZED_DOCUMENT),
    (0.95, "text", True, True, ("expiration_date: not after effective_date",), True, Route.DEAD_LETTER,
     FailureCategory.FAILED_VALIDATION),
    (0.95, "text", True, True, ("total_premium: coverage premiums do not add up",), True, Route.ACCEPT, None),
    (0.95, "ocr", True, True, (), True, Route.ACCEPT, None),
    (0.50, "ocr", True, True, (), True, Route.DEAD_LETTER, FailureCategory.OCR_LOW_CONFIDENCE),
]


@pytest.mark.parametrize(("conf", "source", "text_layer", "recognized", "errors", "ocr", "route", "category"), CASES)
def test_matrix(conf: float, source: str, text_layer: bool, recognized: bool, errors: tuple[str, ...], ocr: bool,
                route: Route, category: FailureCategory | None) -> None:
    decision = route_document(_mapped(conf, recognized=recognized, errors=errors), source=source,
                              text_layer=text_layer, ocr_available=ocr, matrix=MATRIX)
    assert (decision.route, decision.category) == (route, category)


def test_matrix_must_end_with_catch_all() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        matrix_from_dict({"version": "x", "thresholds": {"accept": 0.9, "ocr": 0.5, "field_keep": 0.8},
                          "matrix": [{"name": "a", "band": "accept", "route": "accept"}]})


def test_matrix_rejects_unknown_conditions_and_bad_thresholds() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        matrix_from_dict({"version": "x", "thresholds": {"accept": 0.9, "ocr": 0.5, "field_keep": 0.8},
                          "matrix": [{"name": "a", "colour": "red", "route": "accept"}]})
    with pytest.raises(ValueError, match="thresholds"):
        matrix_from_dict({"version": "x", "thresholds": {"accept": 0.5, "ocr": 0.9, "field_keep": 0.8},
                          "matrix": [{"name": "a", "route": "accept"}]})
