"""Scaling a night on a Ray cluster: ask the autoscaler for the capacity a backlog needs, and grow the
pools onto nodes as they join and back as they leave.

Ray's autoscaler reacts to resource *demand*, not to a queue in our driver: a backlog of 50,000
documents is invisible to it while the pool's few actors are busy. `BacklogScaler` turns the backlog
(documents and their pages waiting for or on an extractor, documents waiting for or on OCR) into a
demand with `ray.autoscaler.sdk.request_resources(bundles=[...])`: enough extractor bundles to finish
the pages left within the night's window at the measured pages per second, and OCR bundles for the OCR
queue, clamped to configured bounds. The request is a standing target that replaces the last one, so it
is re-sent only when it changes meaningfully (hysteresis: grow at once, shrink only after the lower
need has lasted a while, release a shape whose backlog is gone at once) and cleared
(`request_resources(num_cpus=0, bundles=[])`) when the backlog is gone and when the night ends, however
it ends; a request left standing keeps nodes up. A failing call never fails the night, but is counted
in the summary (`requests_failed`, `last_error`).

Nodes that join do nothing until an actor is placed on them: `NightScaler.tick`, called from the
scheduler's loop, re-reads the cluster's resources every `scale_interval_s` and grows each pool to
`target_pool_size`. When nodes leave, the actors that died with them are replaced by ones that wait to
be placed (never handed a document: the pool's readiness gate), and the next tick shrinks the pool to
what the remaining nodes hold, so no waiting actor keeps asking the autoscaler for a node that is gone.
Once the listing is done, extractors with nothing left to do leave too, so their nodes can go idle
and the autoscaler can remove them while OCR finishes the night.

The arithmetic (`required_capacity`, `next_request`: policy_ray/core/scaling.py; `target_pool_size`) is pure
and tested without Ray.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from policy_ray import logs
from policy_ray.config import Settings
from policy_ray.core.scaling import (
    DEFAULT_INTERVAL_S,
    DEFAULT_MAX_CPUS,
    DEFAULT_MAX_OCR_BUNDLES,
    DEFAULT_MIN_REMAINING_S,
    DEFAULT_NIGHT_WINDOW_S,
    Backlog,
    ResourceRequest,
    ScalingPolicy,
    next_request,
    required_capacity,
)
from policy_ray.flows.capacity import (
    PoolPlan,
    configured_resource,
    plan_pools,
)

HISTORY = 50  # requests the summary lists (the first ones and the latest)
RequestFn = Callable[[list[dict[str, float]]], None]  # bundles -> None; [] releases


def policy_from_settings(settings: Settings) -> ScalingPolicy:
    """The policy a night's settings ask for; the bundle shapes are the shapes the actors request."""
    extractor_bundle = {"CPU": settings.extractor_num_cpus}
    if (extractor_resource := configured_resource(settings, "extractor")) is not None:
        extractor_bundle[extractor_resource] = 1.0
    ocr_bundle = {"CPU": settings.ocr_num_cpus}
    if (ocr_resource := configured_resource(settings, "ocr")) is not None:
        ocr_bundle[ocr_resource] = 1.0
    if settings.ocr_use_gpu:
        ocr_bundle["GPU"] = settings.ocr_gpus_per_actor
    return ScalingPolicy(
        night_window_s=float(getattr(settings, "night_window_s", DEFAULT_NIGHT_WINDOW_S)),
        min_cpus=int(getattr(settings, "scale_min_cpus", 0)),
        max_cpus=int(getattr(settings, "scale_max_cpus", DEFAULT_MAX_CPUS)),
        max_ocr_bundles=int(getattr(settings, "scale_max_ocr_bundles", DEFAULT_MAX_OCR_BUNDLES)),
        min_remaining_s=float(getattr(settings, "scale_min_remaining_s", DEFAULT_MIN_REMAINING_S)),
        extractor_bundle=extractor_bundle,
        ocr_bundle=ocr_bundle,
    )


def _ray_request(bundles: list[dict[str, float]]) -> None:
    from ray.autoscaler.sdk import request_resources

    request_resources(num_cpus=0, bundles=bundles)


@dataclass(frozen=True)
class Sent:
    """One request the autoscaler accepted: when (seconds into the night), what, and why."""

    at_s: float
    request: ResourceRequest
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"at_s": round(self.at_s, 1), "extractors": self.request.extractors, "ocr": self.request.ocr,
                "reason": self.reason}


class BacklogScaler:
    """Keeps the autoscaler's standing request in line with the night's backlog. The driver calls
    `update` periodically and `release` at the end (in a `finally`).

    A failing `request_resources` never fails the night (the nodes it has still work it), but it is not
    silent either: every failure is counted and the last error kept for the summary
    (`scaling.requests_failed`, `scaling.last_error`); the request is tried again at the next update."""

    def __init__(self, policy: ScalingPolicy, *, request: RequestFn | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self._request = request or _ray_request
        self._clock = clock
        self.started = clock()
        self.current: ResourceRequest | None = None
        self._lower_since: float | None = None
        self.sent: list[Sent] = []
        self.requests_sent = 0
        self.failures = 0
        self.last_error: str | None = None
        self.peak = ResourceRequest()
        self.log = logs.logger.bind(stage="scaler")

    def remaining_s(self) -> float:
        return self.started + self.policy.night_window_s - self._clock()

    def update(self, backlog: Backlog, pages_per_second_per_cpu: float | None) -> None:
        proposed = required_capacity(backlog, pages_per_second_per_cpu, self.remaining_s(), self.policy)
        send, self._lower_since = next_request(self.current, proposed, self._lower_since, self._clock(),
                                               self.policy)
        if send is not None:
            self._send(send, reason="backlog" if not send.empty else "drained", documents=backlog.documents,
                       pages=round(backlog.pages, 1), ocr_documents=backlog.ocr_documents,
                       rate=pages_per_second_per_cpu)

    def release(self) -> None:
        """Clear the standing request (idempotent; safe to call when nothing was ever asked)."""
        if self.current is not None and self.current.empty:
            return
        self._send(ResourceRequest(), reason="released")

    def summary(self) -> dict[str, Any]:
        history = self.sent if len(self.sent) <= HISTORY else [*self.sent[:HISTORY // 2], *self.sent[-HISTORY // 2:]]
        current = self.current
        return {
            "requests_sent": self.requests_sent, "requests_failed": self.failures, "last_error": self.last_error,
            "last_request": None if current is None else {"extractors": current.extractors, "ocr": current.ocr},
            "peak_request": {"extractors": self.peak.extractors, "ocr": self.peak.ocr},
            "bundle_shapes": {"extractor": dict(self.policy.extractor_bundle), "ocr": dict(self.policy.ocr_bundle)},
            "requests": [s.as_dict() for s in history],
        }

    def _send(self, request: ResourceRequest, *, reason: str, **context: Any) -> None:
        try:
            self._request(request.bundles(self.policy))
        except Exception as exc:  # a hint to the autoscaler must never fail the night ...
            error = f"{type(exc).__name__}: {exc}"[:300]
            if error != self.last_error:  # ... but it is logged (once per distinct error) and counted
                self.log.warning("request_resources failed; the night goes on with the nodes it has",
                                 error=error, failures=self.failures + 1, extractor_bundles=request.extractors,
                                 ocr_bundles=request.ocr)
            self.failures += 1
            self.last_error = error
            return
        self.current = request
        self.requests_sent += 1
        self.sent.append(Sent(self._clock() - self.started, request, reason))
        self.peak = ResourceRequest(max(self.peak.extractors, request.extractors), max(self.peak.ocr, request.ocr))
        self.log.info("asked the autoscaler for capacity", extractor_bundles=request.extractors,
                      ocr_bundles=request.ocr, cpus=request.cpus(self.policy), reason=reason, **context)


# ---- pools that follow the cluster --------------------------------------------------------------------


def target_pool_size(resources: Mapping[str, float], settings: Settings, *, kind: str = "extractor") -> int:
    """How many actors of `kind` the cluster's current resources can place (pure).

    Extractors: a fixed `--extractors N` stays N. Otherwise one per unit of the extractor resource where
    nodes advertise it (`extractor`, or the configured `extractor_resource`), else one per CPU; CPUs of OCR
    nodes (one per OCR unit) or, without OCR nodes, the OCR pool's own CPUs are left to OCR; at most
    `scale_max_cpus` worth. OCR: `ocr_workers`, or one per unit of the OCR resource where nodes advertise
    it (on GPU: no more than the GPUs hold), at most `scale_max_ocr_bundles`. Never below 1 (extractors) or
    `ocr_workers` (OCR): an actor that cannot be placed yet waits for a node and is handed nothing.
    """
    policy = policy_from_settings(settings)
    ocr_name = configured_resource(settings, "ocr")
    ocr_units = resources.get(ocr_name, 0.0) if ocr_name else 0.0
    if kind == "ocr":
        if not settings.ocr:
            return 0
        units = int(ocr_units + 1e-9)
        if settings.ocr_use_gpu:
            units = min(units, int(resources.get("GPU", 0.0) / settings.ocr_gpus_per_actor + 1e-9))
        return max(settings.ocr_workers, min(units, policy.max_ocr_bundles))
    if settings.extractors:
        return settings.extractors
    per_actor = max(settings.extractor_num_cpus, 0.01)
    extractor_name = configured_resource(settings, "extractor")
    if extractor_name and resources.get(extractor_name):
        placeable = int(resources[extractor_name] + 1e-9)
    else:
        ocr_units = ocr_units if settings.ocr else 0.0
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


class Finished(Protocol):
    """What the scaler reads of a finished document (policy_ray.core.outcomes.DocumentResult)."""

    @property
    def page_count(self) -> int: ...


FactoryFor = Callable[[str, dict[str, Any]], Any]  # (kind, actor options) -> actor factory


class NightScaler:
    """Called from the scheduler's loop (`tick`), for every finished document (`observe`) and at the end
    of the night (`release`).

    Every `interval_s`: read the cluster's resources; grow or shrink each pool to `target_pool_size`
    (nodes joined or left); once the listing is done, give back extractors that have nothing left to do,
    so their nodes can go idle while OCR finishes; when the resources that pin a kind of actor to its
    nodes (`extractor`, `ocr`) appear, make new actors ask for them; and, with autoscaling on,
    re-compute the backlog's request.

    The backlog counts documents and pages. Pages are estimated: documents x the mean page count of the
    documents this night has finished (every result carries the page count its actor read; before the
    first one, `assumed_pages_per_document`). File size is no estimate of pages here: our scans hold
    ~450 KB a page and born-digital declarations ~3.5 KB, so a night's mix would swing a size-based
    estimate a hundredfold. Throughput is measured in pages per second per extractor CPU.
    """

    def __init__(self, settings: Settings, plan: PoolPlan, pools: Sequence[GrowablePool],
                 progress: Callable[[], Progress], *, expected_documents: Callable[[], int] | None = None,
                 factory_for: FactoryFor | None = None, resources: Callable[[], dict[str, float]] | None = None,
                 request: RequestFn | None = None, clock: Callable[[], float] = time.monotonic,
                 interval_s: float | None = None):
        # The OCR engine and GPU use as the plan resolved them: bundles and OCR targets follow the actors.
        self.settings = settings.replace(ocr_engine=plan.ocr_engine, ocr_use_gpu=plan.ocr_use_gpu)
        self.pools = list(pools)
        self.progress = progress
        self.expected_documents = expected_documents
        self.factory_for = factory_for
        self._resources = resources or _cluster_resources
        self._clock = clock
        self.interval_s = float(interval_s if interval_s is not None
                                else getattr(settings, "scale_interval_s", DEFAULT_INTERVAL_S))
        self.autoscale = bool(getattr(settings, "autoscale", True))
        self.policy = policy_from_settings(self.settings)
        self.backlog = BacklogScaler(self.policy, request=request, clock=clock)
        self._options = {"extractor": dict(plan.extractor_options), "ocr": dict(plan.ocr_options)}
        self._expected: int | None = None
        self._next = clock()
        self._last: tuple[float, int] | None = None
        self.rate: float | None = None  # pages per second per extractor CPU, smoothed
        self.documents_finished = 0
        self.pages_finished = 0
        self.last_backlog: Backlog | None = None
        self.peak_backlog = Backlog()
        self.grown: dict[str, int] = {}
        self.shrunk: dict[str, int] = {}  # actors given back because nodes left
        self.released: dict[str, int] = {}  # idle actors given back because the listing is done
        self.log = logs.logger.bind(stage="scaler")

    def observe(self, result: Finished) -> None:
        """A document finished (either pool): its pages feed the page estimate and the measured rate."""
        self.documents_finished += 1
        self.pages_finished += max(0, int(result.page_count or 0))

    def pages_per_document(self) -> float:
        if self.documents_finished and self.pages_finished:
            return self.pages_finished / self.documents_finished
        return self.policy.assumed_pages_per_document

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
        return {"grown": dict(self.grown), "shrunk": dict(self.shrunk), "released": dict(self.released),
                **self.backlog.summary(),
                "backlog": None if self.last_backlog is None else self.last_backlog.as_dict(),
                "backlog_peak": self.peak_backlog.as_dict(),
                "pages_finished": self.pages_finished,
                "pages_per_document": round(self.pages_per_document(), 2),
                "pages_per_second_per_cpu": None if self.rate is None else round(self.rate, 4)}

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
        documents = max(0, self._expected - progress.listed) + retries + in_flight
        ocr_waiting = progress.ocr_queued + (len(ocr.in_flight()) + len(ocr.retries) if ocr is not None else 0)
        backlog = Backlog(documents=documents, pages=documents * self.pages_per_document(),
                          ocr_documents=ocr_waiting)
        self.last_backlog = backlog
        self.peak_backlog = Backlog(max(self.peak_backlog.documents, backlog.documents),
                                    max(self.peak_backlog.pages, backlog.pages),
                                    max(self.peak_backlog.ocr_documents, backlog.ocr_documents))
        live = extract.live_count() if extract is not None else 0
        self._measure(now, self.pages_finished, live * self.policy.cpus_per_extractor)
        self.backlog.update(backlog, self.rate)

    def _measure(self, now: float, pages: int, cpus: float) -> None:
        if self._last is not None and cpus > 0:
            seconds, done = now - self._last[0], pages - self._last[1]
            if seconds > 0 and done > 0:
                sample = done / seconds / cpus
                self.rate = sample if self.rate is None else 0.7 * self.rate + 0.3 * sample
        self._last = (now, pages)


def _cluster_resources() -> dict[str, float]:
    from policy_ray.actors import runtime

    return runtime.cluster_resources()
