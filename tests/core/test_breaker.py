from policy_ray.core.breaker import BreakerConfig, BreakerState, CircuitBreaker

CONFIG = BreakerConfig(window_s=60, failure_rate=0.5, min_samples=4, max_queue_depth=10, cooldown_s=30,
                       probe_successes=2)


def test_opens_on_failure_rate_and_recovers_through_half_open() -> None:
    b = CircuitBreaker(CONFIG)
    for t, ok in enumerate([True, False, False, True]):
        assert b.allow(float(t))
        b.record(float(t), success=ok)
    assert b.state is BreakerState.OPEN
    assert not b.allow(10.0) and b.rejected == 1
    assert b.allow(40.0) and b.state is BreakerState.HALF_OPEN  # cool-down over
    b.record(41.0, success=True)
    assert b.state is BreakerState.HALF_OPEN
    b.record(42.0, success=True)
    assert b.state is BreakerState.CLOSED
    assert [t.target for t in b.transitions] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_reopens() -> None:
    b = CircuitBreaker(CONFIG)
    for t in range(4):
        b.record(float(t), success=False)
    assert b.allow(100.0) and b.state is BreakerState.HALF_OPEN
    b.record(101.0, success=False)
    assert b.state is BreakerState.OPEN and not b.allow(102.0)


def test_needs_enough_samples_and_forgets_old_ones() -> None:
    b = CircuitBreaker(CONFIG)
    b.record(0.0, success=False)
    b.record(1.0, success=False)
    assert b.state is BreakerState.CLOSED  # two samples are not evidence
    for t in (100.0, 101.0, 102.0):
        b.record(t, success=True)
    b.record(103.0, success=False)
    assert b.state is BreakerState.CLOSED  # the early failures left the window


def test_queue_depth_opens() -> None:
    b = CircuitBreaker(CONFIG)
    b.observe_queue(0.0, 10)
    assert b.state is BreakerState.CLOSED
    b.observe_queue(1.0, 11)
    assert b.state is BreakerState.OPEN and "queue depth" in b.transitions[-1].reason


def test_half_open_lets_only_the_probes_through() -> None:
    b = CircuitBreaker(CONFIG)
    for t in range(4):
        b.record(float(t), success=False)
    assert b.allow(100.0) and b.allow(100.5) and b.state is BreakerState.HALF_OPEN  # two probes out
    assert not b.allow(101.0) and b.rejected == 1  # the backlog waits for their outcome
    b.record(102.0, success=True)
    assert b.allow(103.0)  # one probe back: one more may go
    b.record(104.0, success=True)
    assert b.state is BreakerState.CLOSED and b.allow(105.0) and b.allow(105.5) and b.allow(106.0)
