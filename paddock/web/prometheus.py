"""A snapshot of Paddock's metrics (services/metrics.py) in Prometheus' text format, with the
process's own (memory, CPU, open files; the garbage collector's passes) from prometheus_client's
process and GC collectors.

Only web/metrics.py imports this module, when /metrics is first asked for: it is where
prometheus_client comes in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import accumulate

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from paddock.runtime.frozen import frozen_objects
from paddock.services.counters import Counter, Gauge, Histogram
from paddock.services.counters import Metric as PaddockMetric
from paddock.services.metrics import MetricsSnapshot

CONTENT_TYPE = CONTENT_TYPE_LATEST


def _counter(metric: Counter) -> CounterMetricFamily:
    family = CounterMetricFamily(metric.name, metric.help, labels=metric.labels)
    if not metric.labels and not metric.values:
        family.add_metric([], 0.0)  # a counter nothing bumped yet reads 0, not absent
    for labels, value in sorted(metric.values.items()):
        family.add_metric(list(labels), value)
    return family


def _gauge(metric: Gauge) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric.name, metric.help, labels=metric.labels)
    if not metric.labels and not metric.values:
        family.add_metric([], 0.0)
    for labels, value in sorted(metric.values.items()):
        family.add_metric(list(labels), value)
    return family


def _histogram(metric: Histogram) -> HistogramMetricFamily:
    family = HistogramMetricFamily(metric.name, metric.help, labels=metric.labels)
    bounds = [*(repr(float(b)) for b in metric.bounds), "+Inf"]
    for labels, series in sorted(metric.series.items()):
        cumulative = list(accumulate(series.buckets))
        family.add_metric(
            list(labels), list(zip(bounds, map(float, cumulative), strict=True)), series.sum
        )
    return family


def family_of(metric: PaddockMetric) -> Metric:
    if isinstance(metric, Counter):
        return _counter(metric)
    if isinstance(metric, Gauge):
        return _gauge(metric)
    return _histogram(metric)


def _gauge_of(
    name: str, help_: str, labels: list[str], values: Iterable[tuple[str | float, ...]]
) -> Metric:
    family = GaugeMetricFamily(name, help_, labels=labels)
    for *label_values, value in values:
        family.add_metric([str(v) for v in label_values], float(value))
    return family


class SnapshotCollector(Collector):
    def __init__(self, snapshot: MetricsSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        census, bus = self.snapshot.census, self.snapshot.bus
        yield _gauge_of(
            "paddock_processes",
            "Processes in the database, by state and sandbox provider",
            ["state", "provider"],
            sorted((s, p, n) for (s, p), n in census.processes.items()),
        )
        yield _gauge_of(
            "paddock_attempts",
            "Attempts in the database, by state",
            ["state"],
            sorted(census.attempts.items()),
        )
        yield _gauge_of(
            "paddock_previews",
            "Previews in the database, by state",
            ["state"],
            sorted(census.previews.items()),
        )
        published = CounterMetricFamily(
            "paddock_event_bus_events_published", "Events the bus published"
        )
        published.add_metric([], float(self.snapshot.events_published))
        yield published
        overflows = CounterMetricFamily(
            "paddock_event_bus_overflows",
            "Times a subscriber fell a whole queue behind and was sent `sync`",
        )
        overflows.add_metric([], float(bus.overflows))
        yield overflows
        yield _gauge_of(
            "paddock_event_bus_subscribers",
            "Subscribers of the event bus",
            [],
            [(bus.subscribers,)],
        )
        yield _gauge_of(
            "paddock_event_bus_lag_events",
            "Most events one subscriber has yet to read",
            [],
            [(bus.pending,)],
        )
        yield _gauge_of(
            "paddock_event_bus_lag_seconds",
            "How long the furthest-behind subscriber has had unread events (0: all caught up)",
            [],
            [(bus.seconds,)],
        )
        for metric in self.snapshot.counters:
            yield family_of(metric)


class FrozenObjects(Collector):
    def collect(self) -> Iterator[Metric]:
        yield _gauge_of(
            "paddock_gc_frozen_objects",
            "Objects the server froze out of the collector's passes once started",
            [],
            [(frozen_objects(),)],
        )


def exposition(snapshot: MetricsSnapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    registry.register(ProcessCollector(registry=None))
    GCCollector(registry)  # registers itself: collections and what they found, by generation
    registry.register(FrozenObjects())
    return generate_latest(registry)
