"""Prometheus text -> samples for the tests, parsed with prometheus_client's own parser (the
bench has a dependency-free parser in bench/prom.py; these tests check our output against the
reference one)."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def scrape(text: str) -> dict[tuple[str, tuple], float]:
    """Prometheus text -> {(sample name, sorted labels): value}, via prometheus_client's parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sample(m: dict, name: str, **labels) -> float:
    """The sample ``name{labels}`` of a scrape (0.0 when absent: a counter not yet incremented)."""
    return m.get((name, tuple(sorted(labels.items()))), 0.0)
