"""What an operator watches (Prometheus text format at /metrics): updates and their latency, failures, the
outbox's backlog and age, Telegram's 429s, the sweeper's lag, and which process leads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from storage.outbox import OutboxStore

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Reply latency buckets (seconds) around the goal of a p95 under 0.3 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """One app's metrics on a registry of its own (several apps can live in one test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("gridbot_updates", "Updates handled, by outcome", ["outcome"], registry=r)
        self.latency = Histogram(
            "gridbot_update_seconds", "Time from receiving an update to its commit", buckets=LATENCY_BUCKETS, registry=r
        )
        self.backlog = Gauge("gridbot_outbox_due", "Messages due and not yet sent", registry=r)
        self.backlog_age = Gauge(
            "gridbot_outbox_oldest_due_seconds", "How long the oldest due message waited", registry=r
        )
        self.last_sweep = Gauge("gridbot_sweep_last_timestamp_seconds", "When the last sweep round ended", registry=r)
        self.sweep_lag = Gauge(
            "gridbot_sweep_lag_seconds", "Seconds since the last sweep round in this process", registry=r
        )
        self.leader = Gauge("gridbot_leader", "1 if this process runs the scheduled work", registry=r)
        self._swept_at: float | None = None

    def watch(self, counts: Callable[[], dict[str, tuple[str, float]]]) -> None:
        """Counters kept by others (the sender, the feeder), read at each scrape: name → (help, value)."""

        class Read(Collector):
            def collect(self) -> Iterable[Metric]:
                for name, (text, value) in counts().items():
                    yield CounterMetricFamily(name, text, value=value)

        self.registry.register(Read())

    def handled(self, outcome: str, seconds: float) -> None:
        """One update done: handled, refused (a polite no), failed (a bug) or duplicate."""
        self.updates.labels(outcome).inc()
        self.latency.observe(seconds)

    def swept(self) -> None:
        """A sweep round ended."""
        self._swept_at = time.time()
        self.last_sweep.set(self._swept_at)

    def leading(self, yes: bool) -> None:
        """Whether this process leads now."""
        self.leader.set(1 if yes else 0)

    async def exposition(self, store: OutboxStore) -> bytes:
        """The text a Prometheus scrape reads; the outbox figures read from the database now."""
        try:
            due, oldest = await store.backlog()
            self.backlog.set(due)
            self.backlog_age.set(oldest)
        except Exception:  # noqa: BLE001, S110 - the database away: the other figures still tell the story
            pass
        if self._swept_at is not None:
            self.sweep_lag.set(time.time() - self._swept_at)
        return generate_latest(self.registry)
