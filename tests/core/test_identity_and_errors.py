import pickle
from datetime import date
from decimal import Decimal

from policy_ray.core.identity import canonical_json, canonical_sha256, idempotency_key
from policy_ray.errors import Failure, FailureCategory, PolicyRayError


def test_canonical_json_is_order_independent_and_typed() -> None:
    a = {"b": Decimal("1.50"), "a": date(2026, 1, 2)}
    b = {"a": date(2026, 1, 2), "b": Decimal("1.50")}
    assert canonical_json(a) == canonical_json(b) == b'{"a":"2026-01-02","b":"1.50"}'
    assert canonical_sha256(a) == canonical_sha256(b)


def test_idempotency_key_depends_on_document_and_batch() -> None:
    k = idempotency_key("ab" * 32, "2026-12-01-x")
    assert k == idempotency_key("ab" * 32, "2026-12-01-x")
    assert k != idempotency_key("ab" * 32, "2026-12-02-x")
    assert k != idempotency_key("cd" * 32, "2026-12-01-x")


def test_errors_survive_pickling_with_their_category() -> None:
    err = PolicyRayError(FailureCategory.ENCRYPTED, "password needed", stage="preflight", page=2)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, PolicyRayError)
    assert (back.category, back.message, back.stage, back.page) == (FailureCategory.ENCRYPTED, "password needed",
                                                                    "preflight", 2)
    assert not back.retryable


def test_failure_from_exceptions() -> None:
    f = Failure.from_exception(MemoryError(), stage="extract", component="extractor")
    assert f.category is FailureCategory.MEMORY_LIMIT and f.retryable
    g = Failure.from_exception(ValueError("boom"), stage="extract", component="extractor")
    assert g.category is FailureCategory.INTERNAL_ERROR and "ValueError: boom" in g.message and g.stack_trace
