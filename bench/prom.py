"""Prometheus text exposition -> samples; the /metrics deltas the bench reports."""
from __future__ import annotations

import re

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Key = tuple[str, tuple[tuple[str, str], ...]]


def parse(text: str) -> dict[Key, float]:
    """{(name, sorted labels): value} for every sample line; comments and junk are skipped."""
    out: dict[Key, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.groups()
        try:
            v = float(value)
        except ValueError:
            continue
        out[(name, tuple(sorted(_LABEL.findall(labels or ""))))] = v
    return out


def value(samples: dict[Key, float], name: str, **labels: str) -> float:
    """The sample ``name{labels}`` (0.0 when absent: a counter not yet incremented)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: dict[Key, float], after: dict[Key, float], name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def mean_batch_sizes(before: dict[Key, float], after: dict[Key, float],
                     stages: tuple[str, ...] = ("encode", "generate", "score")) -> dict[str, float | None]:
    """Mean items per model call in the window, per stage: adloom_batch_size _sum/_count deltas."""
    out: dict[str, float | None] = {}
    for stage in stages:
        n = delta(before, after, "adloom_batch_size_count", stage=stage)
        s = delta(before, after, "adloom_batch_size_sum", stage=stage)
        out[stage] = round(s / n, 2) if n > 0 else None
    return out


def cache_counts(before: dict[Key, float], after: dict[Key, float]) -> dict[str, float]:
    return {r: delta(before, after, "adloom_embedding_cache_total", result=r) for r in ("hit", "miss", "error")}


def stage_ms_per_item(before: dict[Key, float], after: dict[Key, float], items: float,
                      stages: tuple[str, ...] = ("encode", "generate", "score", "compose", "image_encode")) -> dict:
    """Wall milliseconds each stage spent per creative in the window (adloom_stage_duration_seconds
    _sum deltas / creatives): a model batch's time is shared by its items."""
    if items <= 0:
        return {}
    return {s: round(delta(before, after, "adloom_stage_duration_seconds_sum", stage=s) * 1000 / items, 2)
            for s in stages}


def queue_wait_ms(before: dict[Key, float], after: dict[Key, float],
                  stages: tuple[str, ...] = ("encode", "generate", "score")) -> dict:
    """Mean milliseconds an item waited in each model stage's queue before its batch started."""
    out = {}
    for s in stages:
        n = delta(before, after, "adloom_queue_wait_seconds_count", stage=s)
        out[s] = round(delta(before, after, "adloom_queue_wait_seconds_sum", stage=s) * 1000 / n, 2) if n else None
    return out


def histogram_quantile(before: dict[Key, float], after: dict[Key, float], name: str, q: float,
                       **labels: str) -> float | None:
    """Upper bound of the bucket holding quantile ``q`` of the observations between two scrapes
    (Prometheus's histogram_quantile without the interpolation); None when nothing was observed."""
    bounds = sorted({float(dict(k[1])["le"]) for k in after if k[0] == f"{name}_bucket"
                     and all(dict(k[1]).get(n) == v for n, v in labels.items())})
    counts = [(le, delta(before, after, f"{name}_bucket", **labels, le=_le(le))) for le in bounds]
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return None
    for le, c in counts:
        if c >= q * total:
            return le
    return None


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)
