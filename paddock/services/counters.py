"""Paddock's own counters, gauges and histograms: plain numbers in this process, bumped where
each fact happens (a log batch stored, a sandbox limit hit, a request answered).

Nothing here imports a metrics library, so counting costs a dict update: `/metrics`
(web/metrics.py) reads these, with the database's state, when it is scraped, and only then
imports prometheus_client (an idle server never loads it; decision 020). docs/reliability.md
lists every metric.

Every site bumps them from the event loop's thread, so an update needs no lock.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

Labels = tuple[str, ...]


@dataclass
class _Values:
    """A number per label set."""

    name: str
    help: str
    labels: Labels = ()
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount


@dataclass
class Counter(_Values):
    """Only goes up (per server run). Its exposed name gets `_total`."""


@dataclass
class Gauge(_Values):
    """A value now: up and down."""

    def dec(self, *labels: str, amount: float = 1.0) -> None:
        self.inc(*labels, amount=-amount)


@dataclass
class Series:
    """One histogram's label set: how many observations fell in each bucket (not cumulative;
    the last one is +Inf), their count and their sum."""

    buckets: list[int]
    count: int = 0
    sum: float = 0.0


@dataclass
class Histogram:
    name: str
    help: str
    labels: Labels
    bounds: tuple[float, ...]  # the buckets' upper bounds, ascending; +Inf is implied
    series: dict[Labels, Series] = field(default_factory=dict)

    def observe(self, value: float, *labels: str) -> None:
        found = self.series.get(labels)
        if found is None:
            found = self.series[labels] = Series([0] * (len(self.bounds) + 1))
        # A value equal to a bound belongs to that bound's bucket (Prometheus' `le`).
        found.buckets[bisect_left(self.bounds, value)] += 1
        found.count += 1
        found.sum += value


Metric = Counter | Gauge | Histogram

# From a local API call (~1 ms) to a slow git operation or a long log download.
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram(
    "paddock_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template (a streamed "
    "answer, SSE included, counts until it ends)",
    ("method", "route", "status"),
    LATENCY_BOUNDS,
)
ATTEMPTS_STARTED = Counter("paddock_attempts_started", "Attempts started")
PREVIEWS_STARTED = Counter("paddock_previews_started", "Previews (dev servers) started")
LOG_LINES = Counter(
    "paddock_log_lines_ingested", "Log lines of processes stored (after splitting, redacted)"
)
LOG_BYTES = Counter("paddock_log_bytes_ingested", "Bytes of log text stored")
LIMIT_HITS = Counter(
    "paddock_sandbox_limit_hits",
    "Processes ended by a sandbox limit (oom_killed, pids_limit, timeout)",
    ("limit", "provider"),
)
SSE_CLIENTS = Gauge("paddock_sse_clients", "Server-sent event streams open now")
SSE_CONNECTIONS = Counter("paddock_sse_connections", "Server-sent event streams opened")

METRICS: tuple[Metric, ...] = (
    REQUEST_SECONDS,
    ATTEMPTS_STARTED,
    PREVIEWS_STARTED,
    LOG_LINES,
    LOG_BYTES,
    LIMIT_HITS,
    SSE_CLIENTS,
    SSE_CONNECTIONS,
)
