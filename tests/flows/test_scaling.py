"""Backlog scaling arithmetic, hysteresis and pool targets: pure, no Ray."""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import Any

import pytest

from policy_ray.cli import build_parser, settings_from_args
from policy_ray.config import Settings
from policy_ray.core.outcomes import DocumentResult, DocumentTask
from policy_ray.core.scaling import Backlog, ResourceRequest, ScalingPolicy, next_request, required_capacity
from policy_ray.flows.capacity import plan_pools
from policy_ray.flows.scaling import BacklogScaler, NightScaler, Progress, policy_from_settings, target_pool_size

HOUR = 3600.0
POLICY = ScalingPolicy(night_window_s=6 * HOUR, min_cpus=0, max_cpus=64, max_ocr_bundles=4)
DOC_RATE = 1.5  # pages/s/CPU: 0.5 documents/s of 3 pages


def docs(documents: int, ocr: int = 0, pages_per_document: float = 3.0) -> Backlog:
    return Backlog(documents=documents, pages=documents * pages_per_document, ocr_documents=ocr)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- required_capacity ----------------------------------------------------------------------------------


def test_a_larger_backlog_asks_for_more_cpus() -> None:
    small = required_capacity(docs(1_000), DOC_RATE, 6 * HOUR, POLICY)
    large = required_capacity(docs(20_000), DOC_RATE, 6 * HOUR, POLICY)
    # 60,000 pages / (1.5 pages/s/CPU * 21,600 s) = 1.85 -> 2 CPUs; 3,000 pages -> 1
    assert small == ResourceRequest(extractors=1, ocr=0)
    assert large == ResourceRequest(extractors=2, ocr=0)
    much_larger = required_capacity(docs(200_000), DOC_RATE, 6 * HOUR, POLICY)
    assert much_larger.extractors == 19  # 600,000 / 32,400 = 18.5


def test_pages_not_documents_size_the_request() -> None:
    # The same 20,000 documents: a night of 30-page policies needs ten times the CPUs of 3-page ones.
    short = required_capacity(docs(20_000, pages_per_document=3), DOC_RATE, 6 * HOUR, POLICY)
    long = required_capacity(docs(20_000, pages_per_document=30), DOC_RATE, 6 * HOUR, POLICY)
    assert (short.extractors, long.extractors) == (2, 19)  # 600,000 pages / 32,400 = 18.5 -> 19


def test_less_time_left_or_a_slower_rate_asks_for_more() -> None:
    base = required_capacity(docs(50_000), DOC_RATE, 6 * HOUR, POLICY).extractors
    assert required_capacity(docs(50_000), DOC_RATE, 2 * HOUR, POLICY).extractors > base
    assert required_capacity(docs(50_000), 0.3, 6 * HOUR, POLICY).extractors > base
    # No measurement yet: the policy's assumed rate stands in.
    assert required_capacity(docs(50_000), None, 6 * HOUR, POLICY).extractors == base


def test_the_shortest_time_planned_with_is_configurable() -> None:
    # 12 documents, 36 pages, 20 s left: the default plans with 10 minutes at least (1 CPU) ...
    assert required_capacity(docs(12), None, 20.0, POLICY).extractors == 1
    # ... a policy that plans with the 20 s left asks for 36 / (1.5 * 20) = 1.2 -> 2.
    assert required_capacity(docs(12), None, 20.0, ScalingPolicy(min_remaining_s=5.0)).extractors == 2


def test_in_flight_documents_count_as_backlog() -> None:
    assert required_capacity(docs(3), DOC_RATE, 6 * HOUR, POLICY) == ResourceRequest(extractors=1, ocr=0)


def test_bounds_clamp_the_request() -> None:
    assert required_capacity(docs(10_000_000), DOC_RATE, 6 * HOUR, POLICY).extractors == 64
    assert required_capacity(docs(10_000_000), DOC_RATE, -5.0, POLICY).extractors == 64  # past the window
    floor = ScalingPolicy(min_cpus=8, max_cpus=64)
    assert required_capacity(docs(500), DOC_RATE, 6 * HOUR, floor).extractors == 8
    assert required_capacity(docs(3), DOC_RATE, 6 * HOUR, floor).extractors == 3  # never more bundles than documents
    two_cpu_actors = ScalingPolicy(max_cpus=9, extractor_bundle={"CPU": 2.0, "extractor": 1.0})
    assert required_capacity(docs(10_000_000), DOC_RATE, 6 * HOUR, two_cpu_actors).extractors == 4  # 8 of 9 CPUs
    assert required_capacity(docs(10_000, ocr=10_000), DOC_RATE, 6 * HOUR, POLICY).ocr == 4  # max_ocr_bundles
    assert required_capacity(docs(10_000, ocr=5), DOC_RATE, 6 * HOUR, ScalingPolicy(max_ocr_bundles=0)).ocr == 0


def test_ocr_queue_asks_for_ocr_bundles() -> None:
    assert required_capacity(docs(0, ocr=1), DOC_RATE, 6 * HOUR, POLICY) == ResourceRequest(extractors=0, ocr=1)
    # 5,000 scans at 0.1/s per bundle within 6 h: 2.3 -> 3 bundles
    assert required_capacity(docs(0, ocr=5_000), DOC_RATE, 6 * HOUR, POLICY).ocr == 3


def test_a_drained_backlog_needs_nothing() -> None:
    assert required_capacity(Backlog(), DOC_RATE, 6 * HOUR, POLICY).empty
    assert required_capacity(Backlog(), None, -1.0, ScalingPolicy(min_cpus=16)).empty


def test_bundles_have_the_actor_shapes() -> None:
    policy = policy_from_settings(Settings(extractor_num_cpus=1.0, ocr_num_cpus=1.0, ocr_use_gpu=True,
                                           ocr_gpus_per_actor=0.5))
    bundles = ResourceRequest(extractors=2, ocr=1).bundles(policy)
    assert bundles == [{"CPU": 1.0, "extractor": 1.0}] * 2 + [{"CPU": 1.0, "ocr": 1.0, "GPU": 0.5}]
    assert ResourceRequest().bundles(policy) == []
    # Configured resources are what the actors ask for, so they are what the bundles carry.
    named = policy_from_settings(Settings(extractor_resource="cpu_slot", ocr_resource="none"))
    assert ResourceRequest(1, 1).bundles(named) == [{"CPU": 1.0, "cpu_slot": 1.0}, {"CPU": 1.0}]


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        ScalingPolicy(min_cpus=10, max_cpus=5)
    with pytest.raises(ValueError):
        ScalingPolicy(night_window_s=0)
    with pytest.raises(ValueError):
        Settings(ocr_use_gpu=True, ocr_gpus_per_actor=0)


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


def test_a_drained_shape_is_released_at_once_and_the_other_kept() -> None:
    # Extraction is done while scans wait for OCR: the extractor nodes can go, the OCR request stands.
    send, since = next_request(ResourceRequest(extractors=20, ocr=2), ResourceRequest(extractors=0, ocr=1), None,
                               0.0, POLICY)
    assert send == ResourceRequest(extractors=0, ocr=2) and since is None
    send, _ = next_request(ResourceRequest(extractors=6, ocr=2), ResourceRequest(extractors=9, ocr=0), None, 0.0,
                           POLICY)
    assert send == ResourceRequest(extractors=9, ocr=0)


# ---- BacklogScaler ---------------------------------------------------------------------------------------


def test_backlog_scaler_grows_holds_and_releases() -> None:
    clock, sent = Clock(), list[list[dict[str, float]]]()
    scaler = BacklogScaler(POLICY, request=sent.append, clock=clock)
    scaler.update(docs(100_008), DOC_RATE)
    assert len(sent) == 1 and len(sent[0]) == 10  # 300,024 pages / 32,400 -> 10 extractor bundles
    assert sent[0][0] == {"CPU": 1.0, "extractor": 1.0}
    for queued in (99_000, 98_500, 101_000):  # the same need, measured again and again: nothing re-sent
        clock.now += 10
        scaler.update(docs(queued), DOC_RATE)
    assert len(sent) == 1
    clock.now += 10
    scaler.update(docs(100_008), 0.3)  # throughput collapsed: ask for more at once
    assert len(sent) == 2 and len(sent[1]) == 47
    clock.now += 10
    scaler.update(Backlog(), 0.3)  # drained
    assert sent[-1] == [] and scaler.current == ResourceRequest()
    scaler.release()  # already released: not sent again
    assert len(sent) == 3
    summary = scaler.summary()
    assert summary["requests_sent"] == 3 and summary["requests_failed"] == 0 and summary["last_error"] is None
    assert summary["peak_request"] == {"extractors": 47, "ocr": 0}
    assert [(r["extractors"], r["reason"]) for r in summary["requests"]] == [(10, "backlog"), (47, "backlog"),
                                                                             (0, "drained")]
    assert summary["bundle_shapes"]["extractor"] == {"CPU": 1.0, "extractor": 1.0}


def test_release_clears_a_standing_request() -> None:
    sent: list[list[dict[str, float]]] = []
    scaler = BacklogScaler(POLICY, request=sent.append, clock=Clock())
    scaler.release()  # nothing asked yet: still clears whatever a crashed run left standing
    scaler.update(docs(50_000, ocr=10), None)
    scaler.release()
    assert sent[0] == [] and sent[1] and sent[-1] == []


def test_a_failing_autoscaler_call_is_counted_but_does_not_fail_the_night() -> None:
    clock, sent, failing = Clock(), list[list[dict[str, float]]](), [True]

    def flaky(bundles: list[dict[str, float]]) -> None:  # the injected fault: the GCS refuses the call
        if failing[0]:
            raise ConnectionError("GCS unavailable")
        sent.append(bundles)

    scaler = BacklogScaler(POLICY, request=flaky, clock=clock)
    scaler.update(docs(1_000), None)
    clock.now += 10
    scaler.update(docs(1_000), None)  # still wanted, still refused: tried again, counted again
    assert scaler.current is None and not sent
    summary = scaler.summary()
    assert (summary["requests_sent"], summary["requests_failed"]) == (0, 2)
    assert summary["last_error"] == "ConnectionError: GCS unavailable"
    assert summary["last_request"] is None
    failing[0] = False  # the GCS is back: the next update sends the standing need
    clock.now += 10
    scaler.update(docs(1_000), None)
    scaler.release()
    assert sent == [[{"CPU": 1.0, "extractor": 1.0}], []]
    summary = scaler.summary()
    assert (summary["requests_sent"], summary["requests_failed"]) == (2, 2)
    assert summary["last_request"] == {"extractors": 0, "ocr": 0}


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
    # RapidOCR on GPU: no more OCR actors than the GPUs hold, whatever the `ocr` units say.
    gpu = Settings(ocr=True, ocr_workers=1, ocr_engine="rapidocr", ocr_use_gpu=True, ocr_gpus_per_actor=1.0)
    assert target_pool_size({"CPU": 8.0, "GPU": 2.0, "ocr": 8.0}, gpu, kind="ocr") == 2
    assert target_pool_size({"CPU": 0.0}, gpu, kind="ocr") == 1  # none up yet: the configured worker waits
    # A configured resource name is the one counted.
    assert target_pool_size({"CPU": 8.0, "scan": 3.0}, Settings(ocr=True, ocr_resource="scan"), kind="ocr") == 3


# ---- where actors go: configuration, not the cluster as the driver first finds it -------------------------


def test_configured_node_resources_place_actors_before_any_node_advertises_them() -> None:
    # cluster.yaml at the start of a night: the head (no CPU, no custom resources) and no worker yet.
    head_only = {"CPU": 0.0, "memory": 1e10}
    automatic = plan_pools(Settings(), head_only)
    assert "resources" not in automatic.ocr_options and "resources" not in automatic.extractor_options
    configured = plan_pools(Settings(ocr_resource="ocr", extractor_resource="extractor"), head_only)
    assert configured.ocr_options == {"num_cpus": 1.0, "resources": {"ocr": 1}}
    assert configured.extractor_options == {"num_cpus": 1.0, "resources": {"extractor": 1}}
    assert configured.extractors == 1  # one actor waits for the first node; the pool grows as nodes join
    # Automatic mode targets the nodes once they advertise their resource; "none" never does.
    joined = {"CPU": 12.0, "extractor": 8.0, "ocr": 4.0}
    assert plan_pools(Settings(), joined).ocr_options["resources"] == {"ocr": 1}
    never = plan_pools(Settings(ocr_resource="none", extractor_resource="none"), joined)
    assert "resources" not in never.ocr_options and "resources" not in never.extractor_options


def test_gpu_ocr_is_configuration() -> None:
    head_only = {"CPU": 0.0}
    gpu = Settings(ocr_engine="rapidocr", ocr_use_gpu=True, ocr_gpus_per_actor=1.0, ocr_resource="ocr")
    plan = plan_pools(gpu, head_only)  # no GPU in sight yet: OCR actors ask for one all the same
    assert (plan.ocr_engine, plan.ocr_use_gpu) == ("rapidocr", True)
    assert plan.ocr_options == {"num_cpus": 1.0, "num_gpus": 1.0, "resources": {"ocr": 1}}
    # auto: RapidOCR on GPU when GPUs are configured or already there; Tesseract (CPU) otherwise.
    assert plan_pools(Settings(ocr_use_gpu=True), head_only).ocr_engine == "rapidocr"
    assert plan_pools(Settings(), {"CPU": 4.0, "GPU": 1.0}).ocr_use_gpu is True
    cpu = plan_pools(Settings(), head_only)
    assert (cpu.ocr_engine, cpu.ocr_use_gpu, "num_gpus" in cpu.ocr_options) == ("tesseract", False, False)
    # Tesseract cannot use a GPU: asked for explicitly, it runs on CPU and asks for none.
    tesseract = plan_pools(Settings(ocr_engine="tesseract", ocr_use_gpu=True), {"GPU": 1.0})
    assert (tesseract.ocr_use_gpu, "num_gpus" in tesseract.ocr_options) == (False, False)


def test_cli_takes_node_resources_and_gpus_from_the_cluster_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["ingest", "in", "--lake", "lake"]
    for name in ("POLICY_RAY_EXTRACTOR_RESOURCE", "POLICY_RAY_OCR_RESOURCE", "POLICY_RAY_OCR_GPUS"):
        monkeypatch.delenv(name, raising=False)
    plain = settings_from_args(build_parser().parse_args(args))
    assert (plain.extractor_resource, plain.ocr_resource, plain.ocr_use_gpu) == ("", "", False)
    # What cluster.yaml's head exports for the jobs it runs.
    monkeypatch.setenv("POLICY_RAY_EXTRACTOR_RESOURCE", "extractor")
    monkeypatch.setenv("POLICY_RAY_OCR_RESOURCE", "ocr")
    monkeypatch.setenv("POLICY_RAY_OCR_GPUS", "1")
    on_cluster = settings_from_args(build_parser().parse_args(args))
    assert (on_cluster.extractor_resource, on_cluster.ocr_resource) == ("extractor", "ocr")
    assert (on_cluster.ocr_use_gpu, on_cluster.ocr_gpus_per_actor) == (True, 1.0)
    # Flags win over the environment.
    mine = settings_from_args(build_parser().parse_args([*args, "--ocr-resource", "none", "--ocr-gpus", "0"]))
    assert (mine.ocr_resource, mine.ocr_use_gpu) == ("none", False)


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
    assert extract.size == 1 and len(sent) == 1 and len(sent[0]) == 4  # 120,000 pages / (1.5/s * 6 h) = 3.7
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


def _result(pages: int) -> DocumentResult:
    task = DocumentTask("s3://in/x.pdf", "0" * 64, 1000, "b", date(2026, 12, 1), "k")
    return DocumentResult(task=task, status="accepted", page_count=pages)


def test_night_scaler_counts_pages_from_the_documents_it_has_seen() -> None:
    clock, sent = Clock(), list[list[dict[str, float]]]()
    settings = Settings(ocr=True, ocr_workers=1, ocr_resource="ocr", extractor_resource="extractor")
    plan = plan_pools(settings, {"CPU": 0.0})
    extract, ocr = FakePool("extractor", plan.extractors), FakePool("ocr", plan.ocr_workers)
    extract.busy, ocr.busy = 2, 1
    progress = Progress(listed=0, processed=0, ocr_queued=0)
    scaler = NightScaler(settings, plan, [extract, ocr], lambda: progress, expected_documents=lambda: 100_000,
                         resources=lambda: {"CPU": 0.0}, request=sent.append, clock=clock, interval_s=5.0)
    scaler.tick()  # nothing measured yet: 3 pages a document assumed
    assert scaler.summary()["backlog"] == {"documents": 100_002, "pages": 300_006.0, "ocr_documents": 1}
    assert len(sent[0]) == 10 + 1 and sent[0][-1] == {"CPU": 1.0, "ocr": 1.0}  # 300,006 / 32,400 -> 10
    for pages in (40, 20, 30):  # this backlog is of long policies
        scaler.observe(_result(pages))
    progress = Progress(listed=3, processed=3, ocr_queued=4)
    clock.now += 300  # 90 pages in 300 s on one extractor CPU
    scaler.tick()
    summary = scaler.summary()
    assert summary["pages_per_document"] == 30.0 and summary["pages_finished"] == 90
    assert summary["backlog"] == {"documents": 99_999, "pages": 2_999_970.0, "ocr_documents": 5}
    assert summary["backlog_peak"]["pages"] == 2_999_970.0
    assert summary["pages_per_second_per_cpu"] == 0.3
    # Ten times the pages at a fifth of the assumed rate: the request grows at once, up to scale_max_cpus.
    assert summary["last_request"] == {"extractors": 160, "ocr": 1}  # 2,999,970 / (0.3 * 21,300) = 469
    assert summary["requests_sent"] == 2 and summary["requests_failed"] == 0


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
