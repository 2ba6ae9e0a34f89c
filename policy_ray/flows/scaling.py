"""Scaling a night on a Ray cluster: ask the autoscaler for the capacity a backlog needs, and grow the
pools onto nodes as they join and back as they leave.

Ray's autoscaler reacts to resource *demand*, not to a queue in our driver: a backlog of 50,000
documents is invisible to it while the pool's few actors are busy. `BacklogScaler` turns the backlog
into a demand with `ray.autoscaler.sdk.request_resources(bundles=[...])`: enough extractor bundles to
finish the queued documents within the night's window at the measured throughput, and OCR bundles for
the OCR queue, clamped to configured bounds. The request is a standing target that replaces the last
one, so it is re-sent only when it changes meaningfully (hysteresis: grow at once, shrink only after
the lower need has lasted a while) and cleared (`request_resources(num_cpus=0, bundles=[])`) when the
backlog is gone and when the night ends, however it ends; a request left standing keeps nodes up.

Nodes that join do nothing until an actor is placed on them: `NightScaler.tick`, called from the
scheduler's loop, re-reads the cluster's resources every `scale_interval_s` and grows each pool to
`target_pool_size`. When nodes leave, the actors that died with them are replaced by ones that wait to
be placed (never handed a document: the pool's readiness gate), and the next tick shrinks the pool to
what the remaining nodes hold, so no waiting actor keeps asking the autoscaler for a node that is gone.
Once the listing is done, extractors with nothing left to do leave too, so their nodes can go idle
and the autoscaler can remove them while OCR finishes the night.

The arithmetic (`required_capacity`, `next_request`, `target_pool_size`) is pure and tested without Ray.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from policy_ray import logs
from policy_ray.config import Settings
from policy_ray.flows.capacity import EXTRACTOR_NODE_RESOURCE, OCR_NODE_RESOURCE, PoolPlan, plan_pools

# Defaults for the Settings fields of issue 7 (a Settings without them still works, see policy_from_settings).
DEFAULT_NIGHT_WINDOW_S = 6 * 3600.0
DEFAULT_MAX_CPUS = 160  # cluster.yaml: 20 cpu_extractor nodes x 8 CPUs
DEFAULT_MAX_OCR_BUNDLES = 4  # cluster.yaml: 4 gpu_ocr nodes
DEFAULT_INTERVAL_S = 10.0

RequestFn = Callable[[list[dict[str, float]]], None]  # bundles -> None; [] releases


@dataclass(frozen=True)
class ScalingPolicy:
    night_window_s: float = DEFAULT_NIGHT_WINDOW_S  # the backlog should be done this long after the night starts
    min_cpus: int = 0  # extractor CPUs always asked for while documents are waiting
    max_cpus: int = DEFAULT_MAX_CPUS  # the most extractor CPUs a night asks for
    max_ocr_bundles: int = DEFAULT_MAX_OCR_BUNDLES  # the most OCR actors (bundles) a night asks for
    extractor_bundle: Mapping[str, float] = field(default_factory=lambda: {"CPU": 1.0, EXTRACTOR_NODE_RESOURCE: 1.0})
    ocr_bundle: Mapping[str, float] = field(default_factory=lambda: {"CPU": 1.0, OCR_NODE_RESOURCE: 1.0})
    assumed_docs_per_second_per_cpu: float = 0.5  # until a rate is measured (born-digital, triage on)
    ocr_docs_per_second_per_bundle: float = 0.1  # a scan takes ~10 s of OCR (3 pages at 200 dpi)
    min_remaining_s: float = 600.0  # near or past the window's end: plan to finish within this (-> max)
    grow_threshold: float = 0.2  # a larger need is asked for once it exceeds the standing one by 20% ...
    min_step_cpus: int = 2  # ... and by at least this many CPUs
    shrink_delay_s: float = 300.0  # a smaller need is asked for only once it has lasted this long ...
    shrink_threshold: float = 0.5  # ... and is at most half the standing one

    def __post_init__(self) -> None:
        if self.night_window_s <= 0 or self.min_remaining_s <= 0:
            raise ValueError("night_window_s and min_remaining_s must be positive")
        if not 0 <= self.min_cpus <= self.max_cpus:
            raise ValueError("scaling bounds must satisfy 0 <= min_cpus <= max_cpus")
        if self.max_ocr_bundles < 0:
            raise ValueError("max_ocr_bundles cannot be negative")
        if self.extractor_bundle.get("CPU", 0) <= 0:
            raise ValueError("an extractor bundle needs CPU")

    @property
    def cpus_per_extractor(self) -> float:
        return float(self.extractor_bundle["CPU"])


def policy_from_settings(settings: Settings) -> ScalingPolicy:
    """The policy a night's settings ask for; the bundle shapes mirror what the actors request."""
    ocr_bundle = {"CPU": settings.ocr_num_cpus, OCR_NODE_RESOURCE: 1.0}
    if settings.ocr_use_gpu:
        ocr_bundle["GPU"] = settings.ocr_gpus_per_actor
    return ScalingPolicy(
        night_window_s=float(getattr(settings, "night_window_s", DEFAULT_NIGHT_WINDOW_S)),
        min_cpus=int(getattr(settings, "scale_min_cpus", 0)),
        max_cpus=int(getattr(settings, "scale_max_cpus", DEFAULT_MAX_CPUS)),
        max_ocr_bundles=int(getattr(settings, "scale_max_ocr_bundles", DEFAULT_MAX_OCR_BUNDLES)),
        extractor_bundle={"CPU": settings.extractor_num_cpus, EXTRACTOR_NODE_RESOURCE: 1.0},
        ocr_bundle=ocr_bundle,
    )


@dataclass(frozen=True)
class ResourceRequest:
    """A standing request: `extractors` bundles of the extractor shape and `ocr` of the OCR shape."""

    extractors: int = 0
    ocr: int = 0

    @property
    def empty(self) -> bool:
        return self.extractors == 0 and self.ocr == 0

    def cpus(self, policy: ScalingPolicy) -> float:
        return self.extractors * policy.cpus_per_extractor + self.ocr * float(policy.ocr_bundle.get("CPU", 0))

    def bundles(self, policy: ScalingPolicy) -> list[dict[str, float]]:
        return ([dict(policy.extractor_bundle) for _ in range(self.extractors)]
                + [dict(policy.ocr_bundle) for _ in range(self.ocr)])


def required_capacity(queued_documents: int, in_flight: int, ocr_queue: int, docs_per_second_per_cpu: float | None,
                      remaining_s: float, policy: ScalingPolicy) -> ResourceRequest:
    """What finishing the backlog within `remaining_s` takes, within the policy's bounds (pure)."""
    documents = max(0, queued_documents) + max(0, in_flight)
    seconds = max(remaining_s, policy.min_remaining_s)
    extractors = 0
    if documents:
        rate = docs_per_second_per_cpu if docs_per_second_per_cpu and docs_per_second_per_cpu > 0 else (
            policy.assumed_docs_per_second_per_cpu)
        cpus = min(max(documents / (rate * seconds), float(policy.min_cpus)), float(policy.max_cpus))
        most = math.floor(policy.max_cpus / policy.cpus_per_extractor + 1e-9)
        # Whole bundles, at least one; never more than there are documents, never past max_cpus.
        extractors = min(max(1, math.ceil(cpus / policy.cpus_per_extractor - 1e-9)), documents, most)
    ocr = 0
    if ocr_queue > 0 and policy.max_ocr_bundles > 0:
        needed = ocr_queue / (policy.ocr_docs_per_second_per_bundle * seconds)
        ocr = min(max(1, math.ceil(needed - 1e-9)), ocr_queue, policy.max_ocr_bundles)
    return ResourceRequest(extractors=extractors, ocr=ocr)


def next_request(current: ResourceRequest | None, proposed: ResourceRequest, lower_since: float | None, now: float,
                 policy: ScalingPolicy) -> tuple[ResourceRequest | None, float | None]:
    """Hysteresis (pure): (the request to send now or None, when the need first fell below the standing one).

    The first request is always sent (it also replaces one a crashed driver left standing). A larger need
    is sent when it grows past the thresholds; a need of nothing at all (backlog drained) at once; a
    smaller need only after it has lasted `shrink_delay_s` and fallen to `shrink_threshold` or below.
    """
    if current is None:
        return proposed, None
    if proposed == current:
        return None, None
    if proposed.empty:
        return proposed, None
    step = max(policy.min_step_cpus / policy.cpus_per_extractor, current.extractors * policy.grow_threshold)
    grows = (proposed.ocr > current.ocr or (proposed.extractors > 0 and current.extractors == 0)
             or proposed.extractors >= current.extractors + step)
    if grows:
        # Never shrink the other shape in the same breath: keep the larger of each.
        return ResourceRequest(max(proposed.extractors, current.extractors), max(proposed.ocr, current.ocr)), None
    shrinks = (proposed.extractors <= current.extractors * (1 - policy.shrink_threshold)
               or (proposed.ocr < current.ocr and proposed.extractors <= current.extractors))
    if not shrinks:
        return None, None  # a small wobble either way: keep the standing request
    if lower_since is None:
        return None, now
    if now - lower_since >= policy.shrink_delay_s:
        return proposed, None
    return None, lower_since


def _ray_request(bundles: list[dict[str, float]]) -> None:
    from ray.autoscaler.sdk import request_resources

    request_resources(num_cpus=0, bundles=bundles)


class BacklogScaler:
    """Keeps the autoscaler's standing request in line with the night's backlog. The driver calls
    `update` periodically and `release` at the end (in a `finally`)."""

    def __init__(self, policy: ScalingPolicy, *, request: RequestFn | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self._request = request or _ray_request
        self._clock = clock
        self.started = clock()
        self.current: ResourceRequest | None = None
        self._lower_since: float | None = None
        self.sent: list[ResourceRequest] = []
        self._failed = False
        self.log = logs.logger.bind(stage="scaler")

    def remaining_s(self) -> float:
        return self.started + self.policy.night_window_s - self._clock()

    def update(self, queued_documents: int, in_flight: int, ocr_queue: int,
               docs_per_second_per_cpu: float | None) -> None:
        proposed = required_capacity(queued_documents, in_flight, ocr_queue, docs_per_second_per_cpu,
                                     self.remaining_s(), self.policy)
        send, self._lower_since = next_request(self.current, proposed, self._lower_since, self._clock(),
                                               self.policy)
        if send is not None:
            self._send(send, reason="backlog", queued=queued_documents, in_flight=in_flight, ocr_queue=ocr_queue,
                       rate=docs_per_second_per_cpu)

    def release(self) -> None:
        """Clear the standing request (idempotent; safe to call when nothing was ever asked)."""
        if self.current is not None and self.current.empty:
            return
        self._send(ResourceRequest(), reason="released")

    def _send(self, request: ResourceRequest, **context: Any) -> None:
        try:
            self._request(request.bundles(self.policy))
        except Exception as exc:  # a hint to the autoscaler must never fail the night
            if not self._failed:
                self.log.warning("request_resources failed; the night goes on with the nodes it has",
                                 error=str(exc)[:300])
            self._failed = True
            return
        self.current = request
        self.sent.append(request)
        self.log.info("asked the autoscaler for capacity", extractor_bundles=request.extractors,
                      ocr_bundles=request.ocr, cpus=request.cpus(self.policy), **context)


# ---- pools that follow the cluster --------------------------------------------------------------------


def target_pool_size(resources: Mapping[str, float], settings: Settings, *, kind: str = "extractor") -> int:
    """How many actors of `kind` the cluster's current resources can place (pure).

    Extractors: a fixed `--extractors N` stays N. Otherwise one per `extractor` unit where nodes advertise
    that resource, else one per CPU; CPUs of OCR nodes (one per `ocr` unit) or, without OCR nodes, the
    OCR pool's own CPUs are left to OCR; at most `scale_max_cpus` worth. OCR: `ocr_workers`, or one per
    `ocr` unit where nodes advertise it, at most `scale_max_ocr_bundles`. Never below 1 (extractors) or
    `ocr_workers` (OCR): an actor that cannot be placed yet waits for a node and is handed nothing.
    """
    policy = policy_from_settings(settings)
    if kind == "ocr":
        if not settings.ocr:
            return 0
        units = int(resources.get(OCR_NODE_RESOURCE, 0.0))
        return max(settings.ocr_workers, min(units, policy.max_ocr_bundles))
    if settings.extractors:
        return settings.extractors
    per_actor = max(settings.extractor_num_cpus, 0.01)
    if resources.get(EXTRACTOR_NODE_RESOURCE):
        placeable = int(resources[EXTRACTOR_NODE_RESOURCE])
    else:
        ocr_units = resources.get(OCR_NODE_RESOURCE, 0.0) if settings.ocr else 0.0
        reserved = (ocr_units if ocr_units else (settings.ocr_workers if settings.ocr else 0)) * settings.ocr_num_cpus
        placeable = int((resources.get("CPU", 0.0) - reserved) // per_actor + 1e-9)
    cap = max(1, int(policy.max_cpus // per_actor))
    return max(1, min(placeable, cap))


class GrowablePool(Protocol):
    """What the scaler needs of a pool (policy_ray.actors.pool.RecyclingActorPool)."""

    kind: str
    factory: Any
    retries: Any

    @property
    def size(self) -> int: ...

    def resize(self, size: int) -> int: ...

    def shrink(self, size: int) -> int: ...

    def live_count(self) -> int: ...

    def in_flight(self) -> dict[Any, Any]: ...


class Progress(NamedTuple):
    listed: int  # documents the driver has taken from the listing so far
    processed: int  # documents that came back from the pools
    ocr_queued: int  # documents waiting for an OCR actor
    listing_done: bool = False  # every listed document has been handed to the extractor pool


FactoryFor = Callable[[str, dict[str, Any]], Any]  # (kind, actor options) -> actor factory


class NightScaler:
    """Called from the scheduler's loop (`tick`) and at the end of the night (`release`).

    Every `interval_s`: read the cluster's resources; grow or shrink each pool to `target_pool_size`
    (nodes joined or left); once the listing is done, give back extractors that have nothing left to do,
    so their nodes can go idle while OCR finishes; when the resources that pin a kind of actor to its
    nodes (`extractor`, `ocr`) appear, make new actors ask for them; and, with autoscaling on,
    re-compute the backlog's request.
    """

    def __init__(self, settings: Settings, plan: PoolPlan, pools: Sequence[GrowablePool],
                 progress: Callable[[], Progress], *, expected_documents: Callable[[], int] | None = None,
                 factory_for: FactoryFor | None = None, resources: Callable[[], dict[str, float]] | None = None,
                 request: RequestFn | None = None, clock: Callable[[], float] = time.monotonic,
                 interval_s: float | None = None):
        self.settings = settings
        self.pools = list(pools)
        self.progress = progress
        self.expected_documents = expected_documents
        self.factory_for = factory_for
        self._resources = resources or _cluster_resources
        self._clock = clock
        self.interval_s = float(interval_s if interval_s is not None
                                else getattr(settings, "scale_interval_s", DEFAULT_INTERVAL_S))
        self.autoscale = bool(getattr(settings, "autoscale", True))
        self.policy = policy_from_settings(settings)
        self.backlog = BacklogScaler(self.policy, request=request, clock=clock)
        self._options = {"extractor": dict(plan.extractor_options), "ocr": dict(plan.ocr_options)}
        self._expected: int | None = None
        self._next = clock()
        self._last: tuple[float, int] | None = None
        self.rate: float | None = None  # documents per second per extractor CPU, smoothed
        self.grown: dict[str, int] = {}
        self.shrunk: dict[str, int] = {}  # actors given back because nodes left
        self.released: dict[str, int] = {}  # idle actors given back because the listing is done
        self.log = logs.logger.bind(stage="scaler")

    def tick(self) -> None:
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self.interval_s
        try:
            resources = self._resources()
        except Exception as exc:  # the GCS briefly unreachable: try again next interval
            self.log.warning("cluster resources unavailable", error=str(exc)[:200])
            return
        self._follow_cluster(resources)
        if self.autoscale:
            try:
                self._update_backlog(now)
            except Exception as exc:  # e.g. the input listing failed for the count: the night goes on
                self.log.warning("backlog not measured this time", error=str(exc)[:200])

    def release(self) -> None:
        if self.autoscale:
            self.backlog.release()

    def summary(self) -> dict[str, Any]:
        current = self.backlog.current
        return {"grown": dict(self.grown), "shrunk": dict(self.shrunk),
                "released": dict(self.released), "requests_sent": len(self.backlog.sent),
                "last_request": None if current is None else {"extractors": current.extractors, "ocr": current.ocr},
                "docs_per_second_per_cpu": None if self.rate is None else round(self.rate, 4)}

    def _follow_cluster(self, resources: dict[str, float]) -> None:
        plan = plan_pools(self.settings, resources) if self.factory_for is not None else None
        for pool in self.pools:
            kind = "ocr" if pool.kind == "ocr" else "extractor"
            if plan is not None and self.factory_for is not None:
                wanted = (plan.ocr_options if kind == "ocr" else plan.extractor_options).get("resources")
                options = self._options[kind]
                if wanted and options.get("resources") != wanted:
                    # Nodes of this kind joined: new actors ask for their resource and land only there.
                    options = {**options, "resources": dict(wanted)}
                    self._options[kind] = options
                    pool.factory = self.factory_for(pool.kind, options)
                    self.log.info("actors now target their nodes", pool=pool.kind, resources=wanted)
            target = target_pool_size(resources, self.settings, kind=kind)
            # Nothing left to hand out: idle extractors would only hold their nodes until the night ends.
            drained = kind == "extractor" and not pool.retries and self.progress().listing_done
            if target > pool.size and not drained:
                added = pool.resize(target)
                self.grown[pool.kind] = self.grown.get(pool.kind, 0) + added
                self.log.info("pool grown onto the cluster", pool=pool.kind, size=pool.size, added=added,
                              cluster_cpus=resources.get("CPU", 0.0))
            elif target < pool.size and (gone := pool.shrink(target)):
                self.shrunk[pool.kind] = self.shrunk.get(pool.kind, 0) + gone
                self.log.info("pool shrunk to the cluster", pool=pool.kind, size=pool.size, leaving=gone,
                              cluster_cpus=resources.get("CPU", 0.0))
            if drained and (gone := pool.shrink(len(pool.in_flight()))):
                self.released[pool.kind] = self.released.get(pool.kind, 0) + gone
                self.log.info("idle extractors released: the listing is done", size=pool.size, leaving=gone)

    def _update_backlog(self, now: float) -> None:
        if self._expected is None:
            self._expected = self.expected_documents() if self.expected_documents is not None else 0
        progress = self.progress()
        extract = next((p for p in self.pools if p.kind != "ocr"), None)
        ocr = next((p for p in self.pools if p.kind == "ocr"), None)
        in_flight = len(extract.in_flight()) if extract is not None else 0
        retries = len(extract.retries) if extract is not None else 0
        queued = max(0, self._expected - progress.listed) + retries
        ocr_waiting = progress.ocr_queued + (len(ocr.in_flight()) + len(ocr.retries) if ocr is not None else 0)
        live = extract.live_count() if extract is not None else 0
        self._measure(now, progress.processed, live * self.policy.cpus_per_extractor)
        self.backlog.update(queued, in_flight, ocr_waiting, self.rate)

    def _measure(self, now: float, processed: int, cpus: float) -> None:
        if self._last is not None and cpus > 0:
            seconds, done = now - self._last[0], processed - self._last[1]
            if seconds > 0 and done > 0:
                sample = done / seconds / cpus
                self.rate = sample if self.rate is None else 0.7 * self.rate + 0.3 * sample
        self._last = (now, processed)


def _cluster_resources() -> dict[str, float]:
    from policy_ray.actors import runtime

    return runtime.cluster_resources()
