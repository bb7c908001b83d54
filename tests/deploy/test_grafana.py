"""Grafana provisioning and the adloom dashboard: wiring, panels, and metric names.

The queries themselves run against a real Prometheus in test_prometheus.py.
"""
from __future__ import annotations

import json
import re

from .conftest import ROOT, load_yaml

DASHBOARD = ROOT / "deploy/grafana/dashboards/adloom.json"


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_datasource_and_provider_wiring():
    (ds,) = load_yaml("deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    (provider,) = load_yaml("deploy/grafana/provisioning/dashboards/adloom.yml")["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    for panel in dashboard()["panels"]:
        assert panel["datasource"]["uid"] == ds["uid"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == ds["uid"]


def test_panels_are_well_formed():
    d = dashboard()
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    assert d["uid"] and d["title"] == "adloom"
    cells = set()
    for p in d["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps another panel"
                cells.add((x, y))
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)) and refs, p["title"]
    names = {v["name"] for v in d["templating"]["list"]}
    for e in exprs():
        for var in re.findall(r"\$(\w+)", e):
            assert var.startswith("__") or var in names, f"undefined variable ${var} in {e}"


def test_the_issue_panels_are_there():
    """Request rate, p50/p99, queue depth, mean batch size, cache hit ratio, stage timings, 429s."""
    all_exprs = "\n".join(exprs())
    required = {
        "request rate": r"rate\(adloom_requests_total\{",
        "p50": r"histogram_quantile\(0\.50?, sum by \(le\) \(rate\(adloom_request_duration_seconds_bucket",
        "p99": r"histogram_quantile\(0\.99, sum by \(le\) \(rate\(adloom_request_duration_seconds_bucket",
        "queue depth": r"adloom_queue_depth\{",
        "mean batch size": r"rate\(adloom_batch_size_sum.*\) / .*rate\(adloom_batch_size_count",
        "cache hit ratio": r'adloom_embedding_cache_total\{result="hit".*/.*'
                           r'adloom_embedding_cache_total\{result=~"hit\|miss"',
        "stage timings": r"adloom_stage_duration_seconds_(bucket|sum)",
        "429s": r'adloom_requests_total\{status="429"',
        "rejections": r"adloom_rejected_total",
    }
    for what, pattern in required.items():
        assert re.search(pattern, all_exprs), f"no panel for {what}"


def test_metric_names_exist_in_the_service():
    from prometheus_client import REGISTRY

    import service.metrics  # noqa: F401 - registers every adloom_ metric

    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""],
                "summary": ["_sum", "_count", ""], "info": ["_info"]}
    exported = {"up"}
    for family in REGISTRY.collect():
        exported |= {family.name + s for s in suffixes.get(family.type, [""])}
    used = set(re.findall(r"\b(adloom_[a-z_]+|up)\b(?=\{|\[|\))", "\n".join(exprs())))
    assert {"adloom_requests_total", "adloom_queue_depth", "adloom_batch_size_sum"} <= used
    missing = sorted(n for n in used if n not in exported)
    assert not missing, f"dashboard queries unknown metrics: {missing}"
