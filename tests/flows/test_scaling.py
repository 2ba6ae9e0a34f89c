"""Backlog scaling arithmetic, hysteresis and pool targets: pure, no Ray."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from policy_ray.config import Settings
from policy_ray.flows.capacity import plan_pools
from policy_ray.flows.scaling import (
    BacklogScaler,
    NightScaler,
    Progress,
    ResourceRequest,
    ScalingPolicy,
    next_request,
    policy_from_settings,
    required_capacity,
    target_pool_size,
)

HOUR = 3600.0
POLICY = ScalingPolicy(night_window_s=6 * HOUR, min_cpus=0, max_cpus=64, max_ocr_bundles=4)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- required_capacity ----------------------------------------------------------------------------------


def test_a_larger_backlog_asks_for_more_cpus() -> None:
    small = required_capacity(1_000, 0, 0, 0.5, 6 * HOUR, POLICY)
    large = required_capacity(20_000, 0, 0, 0.5, 6 * HOUR, POLICY)
    # 20,000 documents / (0.5 doc/s/CPU * 21,600 s) = 1.85 -> 2 CPUs; 1,000 -> 1
    assert small == ResourceRequest(extractors=1, ocr=0)
    assert large == ResourceRequest(extractors=2, ocr=0)
    much_larger = required_capacity(200_000, 0, 0, 0.5, 6 * HOUR, POLICY)
    assert much_larger.extractors == 19  # 200,000 / 10,800 = 18.5


def test_less_time_left_or_a_slower_rate_asks_for_more() -> None:
    base = required_capacity(50_000, 0, 0, 0.5, 6 * HOUR, POLICY).extractors
    assert required_capacity(50_000, 0, 0, 0.5, 2 * HOUR, POLICY).extractors > base
    assert required_capacity(50_000, 0, 0, 0.1, 6 * HOUR, POLICY).extractors > base
    # No measurement yet: the policy's assumed rate stands in.
    assert required_capacity(50_000, 0, 0, None, 6 * HOUR, POLICY).extractors == base


def test_in_flight_documents_count_as_backlog() -> None:
    assert required_capacity(0, 3, 0, 0.5, 6 * HOUR, POLICY) == ResourceRequest(extractors=1, ocr=0)


def test_bounds_clamp_the_request() -> None:
    assert required_capacity(10_000_000, 0, 0, 0.5, 6 * HOUR, POLICY).extractors == 64
    assert required_capacity(10_000_000, 0, 0, 0.5, -5.0, POLICY).extractors == 64  # past the window
    floor = ScalingPolicy(min_cpus=8, max_cpus=64)
    assert required_capacity(500, 0, 0, 0.5, 6 * HOUR, floor).extractors == 8
    assert required_capacity(3, 0, 0, 0.5, 6 * HOUR, floor).extractors == 3  # never more bundles than documents
    two_cpu_actors = ScalingPolicy(max_cpus=9, extractor_bundle={"CPU": 2.0, "extractor": 1.0})
    assert required_capacity(10_000_000, 0, 0, 0.5, 6 * HOUR, two_cpu_actors).extractors == 4  # 8 of 9 CPUs
    assert required_capacity(10_000, 0, 10_000, 0.5, 6 * HOUR, POLICY).ocr == 4  # max_ocr_bundles
    assert required_capacity(10_000, 0, 5, 0.5, 6 * HOUR, ScalingPolicy(max_ocr_bundles=0)).ocr == 0


def test_ocr_queue_asks_for_ocr_bundles() -> None:
    assert required_capacity(0, 0, 1, 0.5, 6 * HOUR, POLICY) == ResourceRequest(extractors=0, ocr=1)
    # 5,000 scans at 0.1/s per bundle within 6 h: 2.3 -> 3 bundles
    assert required_capacity(0, 0, 5_000, 0.5, 6 * HOUR, POLICY).ocr == 3


def test_a_drained_backlog_needs_nothing() -> None:
    assert required_capacity(0, 0, 0, 0.5, 6 * HOUR, POLICY).empty
    assert required_capacity(0, 0, 0, None, -1.0, ScalingPolicy(min_cpus=16)).empty


def test_bundles_have_the_actor_shapes() -> None:
    policy = policy_from_settings(Settings(extractor_num_cpus=1.0, ocr_num_cpus=1.0, ocr_use_gpu=True,
                                           ocr_gpus_per_actor=0.5))
    bundles = ResourceRequest(extractors=2, ocr=1).bundles(policy)
    assert bundles == [{"CPU": 1.0, "extractor": 1.0}] * 2 + [{"CPU": 1.0, "ocr": 1.0, "GPU": 0.5}]
    assert ResourceRequest().bundles(policy) == []


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        ScalingPolicy(min_cpus=10, max_cpus=5)
    with pytest.raises(ValueError):
        ScalingPolicy(night_window_s=0)


# ---- hysteresis ------------------------------------------------------------------------------------------


def test_first_request_is_always_sent_even_when_empty() -> None:
    assert next_request(None, ResourceRequest(), None, 0.0, POLICY) == (ResourceRequest(), None)


def test_small_changes_do_not_flap() -> None:
    current = ResourceRequest(extractors=20)
    for wobble in (19, 21, 22, 18, 23, 17):
        send, since = next_request(current, ResourceRequest(extractors=wobble), None, 0.0, POLICY)
        assert send is None and since is None, wobble


def test_growth_is_sent_at_once() -> None:
    send, _ = next_request(ResourceRequest(extractors=20), ResourceRequest(extractors=24), None, 0.0, POLICY)
    assert send == ResourceRequest(extractors=24)
    send, _ = next_request(ResourceRequest(extractors=4), ResourceRequest(extractors=4, ocr=1), None, 0.0, POLICY)
    assert send == ResourceRequest(extractors=4, ocr=1)


def test_shrinking_waits_for_the_lower_need_to_last() -> None:
    current, lower = ResourceRequest(extractors=20), ResourceRequest(extractors=8)
    send, since = next_request(current, lower, None, 0.0, POLICY)
    assert send is None and since == 0.0
    send, since = next_request(current, lower, since, 100.0, POLICY)
    assert send is None and since == 0.0
    send, since = next_request(current, lower, since, POLICY.shrink_delay_s, POLICY)
    assert send == lower and since is None
    # A need that bounces back up in between resets the wait.
    _, since = next_request(current, lower, None, 0.0, POLICY)
    _, since = next_request(current, current, since, 200.0, POLICY)
    assert since is None


def test_a_drained_backlog_is_released_at_once() -> None:
    send, _ = next_request(ResourceRequest(extractors=20, ocr=2), ResourceRequest(), 5.0, 6.0, POLICY)
    assert send == ResourceRequest()


# ---- BacklogScaler ---------------------------------------------------------------------------------------


def test_backlog_scaler_grows_holds_and_releases() -> None:
    clock, sent = Clock(), list[list[dict[str, float]]]()
    scaler = BacklogScaler(POLICY, request=sent.append, clock=clock)
    scaler.update(100_000, 8, 0, 0.5)
    assert len(sent) == 1 and len(sent[0]) == 10  # 100,008 / 10,800 -> 10 extractor bundles
    assert sent[0][0] == {"CPU": 1.0, "extractor": 1.0}
    for queued in (99_000, 98_500, 101_000):  # the same need, measured again and again: nothing re-sent
        clock.now += 10
        scaler.update(queued, 8, 0, 0.5)
    assert len(sent) == 1
    clock.now += 10
    scaler.update(100_000, 8, 0, 0.1)  # throughput collapsed: ask for more at once
    assert len(sent) == 2 and len(sent[1]) == 47
    clock.now += 10
    scaler.update(0, 0, 0, 0.1)  # drained
    assert sent[-1] == [] and scaler.current == ResourceRequest()
    scaler.release()  # already released: not sent again
    assert len(sent) == 3


def test_release_clears_a_standing_request() -> None:
    sent: list[list[dict[str, float]]] = []
    scaler = BacklogScaler(POLICY, request=sent.append, clock=Clock())
    scaler.release()  # nothing asked yet: still clears whatever a crashed run left standing
    scaler.update(50_000, 0, 10, None)
    scaler.release()
    assert sent[0] == [] and sent[1] and sent[-1] == []


def test_a_failing_autoscaler_call_does_not_fail_the_night() -> None:
    def broken(_: list[dict[str, float]]) -> None:
        raise RuntimeError("no autoscaler here")

    scaler = BacklogScaler(POLICY, request=broken, clock=Clock())
    scaler.update(1_000, 0, 0, None)
    scaler.release()
    assert scaler.current is None


# ---- pool targets ----------------------------------------------------------------------------------------


def test_target_pool_size_follows_the_cluster() -> None:
    settings = Settings(ocr=False)
    assert target_pool_size({"CPU": 0.0}, settings) == 1  # head only: one actor waits for a node
    assert target_pool_size({"CPU": 2.0}, settings) == 2
    assert target_pool_size({"CPU": 6.0}, settings) == 6  # a node joined
    # The OCR pool's CPUs are left to it when OCR shares the nodes.
    assert target_pool_size({"CPU": 6.0}, Settings(ocr=True, ocr_workers=2)) == 4
    # Dedicated nodes: extractors count `extractor` units; OCR nodes' CPUs are not theirs.
    assert target_pool_size({"CPU": 20.0, "extractor": 16.0, "ocr": 4.0}, settings) == 16
    assert target_pool_size({"CPU": 12.0, "ocr": 4.0}, Settings(ocr=True)) == 8
    # Bounds: a fixed --extractors stays fixed; scale_max_cpus caps an automatic pool.
    assert target_pool_size({"CPU": 64.0}, Settings(extractors=3)) == 3
    assert target_pool_size({"CPU": 1000.0}, settings) == 160


def test_target_ocr_pool_size() -> None:
    assert target_pool_size({"CPU": 8.0}, Settings(ocr=True, ocr_workers=1), kind="ocr") == 1
    assert target_pool_size({"CPU": 8.0, "ocr": 8.0}, Settings(ocr=True, ocr_workers=1), kind="ocr") == 4
    assert target_pool_size({"CPU": 8.0, "ocr": 2.0}, Settings(ocr=True, ocr_workers=1), kind="ocr") == 2
    assert target_pool_size({"CPU": 8.0, "ocr": 8.0}, Settings(ocr=False), kind="ocr") == 0


# ---- NightScaler with fake pools -------------------------------------------------------------------------


class FakePool:
    def __init__(self, kind: str, size: int) -> None:
        self.kind = kind
        self.factory: Any = "initial"
        self.retries: deque[Any] = deque()
        self._size = size
        self.busy = 0

    @property
    def size(self) -> int:
        return self._size

    def resize(self, size: int) -> int:
        added = max(0, size - self._size)
        self._size = max(self._size, size)
        return added

    def shrink(self, size: int) -> int:
        gone = max(0, self._size - max(1, size))
        self._size -= gone
        return gone

    def live_count(self) -> int:
        return self._size

    def in_flight(self) -> dict[Any, Any]:
        return {i: i for i in range(self.busy)}


def test_night_scaler_grows_pools_retargets_and_requests() -> None:
    clock, sent = Clock(), list[list[dict[str, float]]]()
    resources = {"CPU": 2.0}
    settings = Settings(ocr=True, ocr_workers=1)
    plan = plan_pools(settings, resources)
    extract, ocr = FakePool("extractor", plan.extractors), FakePool("ocr", plan.ocr_workers)
    progress = Progress(listed=0, processed=0, ocr_queued=0)
    factories: list[tuple[str, dict[str, Any]]] = []

    def factory_for(kind: str, options: dict[str, Any]) -> str:
        factories.append((kind, options))
        return f"{kind}-factory-{len(factories)}"

    scaler = NightScaler(settings, plan, [extract, ocr], lambda: progress, expected_documents=lambda: 40_000,
                         factory_for=factory_for, resources=lambda: dict(resources), request=sent.append,
                         clock=clock, interval_s=5.0)
    scaler.tick()
    assert extract.size == 1 and len(sent) == 1 and len(sent[0]) == 4  # 40,000 / (0.5 doc/s * 6 h) = 3.7 -> 4
    clock.now += 1
    resources.update({"CPU": 20.0, "extractor": 16.0, "ocr": 4.0})
    scaler.tick()  # within the interval: nothing happens
    assert extract.size == 1
    clock.now += 5
    progress = Progress(listed=2_000, processed=1_990, ocr_queued=3)
    scaler.tick()
    assert extract.size == 16 and ocr.size == 4
    assert extract.factory == "extractor-factory-1" and ocr.factory == "ocr-factory-2"
    assert factories[0][1]["resources"] == {"extractor": 1} and factories[1][1]["resources"] == {"ocr": 1}
    scaler.release()
    assert sent[-1] == []
    assert scaler.summary()["grown"] == {"extractor": 15, "ocr": 3}


def test_night_scaler_shrinks_pools_when_nodes_leave_and_when_the_listing_is_done() -> None:
    clock = Clock()
    resources = {"CPU": 6.0}
    settings = Settings(ocr=True, ocr_workers=1)
    plan = plan_pools(settings, resources)
    extract, ocr = FakePool("extractor", plan.extractors), FakePool("ocr", plan.ocr_workers)
    progress = Progress(listed=10, processed=2, ocr_queued=0)
    scaler = NightScaler(settings, plan, [extract, ocr], lambda: progress, expected_documents=lambda: 100,
                         resources=lambda: dict(resources), request=lambda bundles: None, clock=clock,
                         interval_s=5.0)
    scaler.tick()
    assert extract.size == 5 and ocr.size == 1
    resources["CPU"] = 3.0  # a node left
    clock.now += 5
    scaler.tick()
    assert extract.size == 2 and ocr.size == 1  # OCR keeps its configured workers
    assert scaler.summary()["shrunk"] == {"extractor": 3}
    # The listing ran dry with one document still in flight: the idle extractor leaves.
    progress = Progress(listed=100, processed=99, ocr_queued=4, listing_done=True)
    extract.busy = 1
    clock.now += 5
    scaler.tick()
    assert extract.size == 1 and scaler.summary()["released"] == {"extractor": 1}
    assert scaler.summary()["shrunk"] == {"extractor": 3}
    resources["CPU"] = 6.0  # the node is back, but there is nothing left to give an extractor
    clock.now += 5
    scaler.tick()
    assert extract.size == 1
    # A retry is waiting: nothing more leaves, and the pool grows back to what the cluster holds.
    extract.retries.append("retry")
    clock.now += 5
    scaler.tick()
    assert extract.size == 5
