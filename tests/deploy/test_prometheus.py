"""Prometheus for real: Debian's prometheus and promtool against running adloom servers.

The compose scrape config (deploy/prometheus/prometheus.yml) is used as is, except that the
adloom job's DNS discovery (the compose service name) becomes a static list of the two local
replicas, and the server listens on a free loopback port with its storage in a temp folder.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from .conftest import ROOT, _stop, free_port, load_yaml, tool, unique_product

PROM_DIR = ROOT / "deploy/prometheus"


def promtool() -> str:
    return tool("promtool", "make sysdeps (Debian prometheus)")


def test_promtool_check_config():
    r = subprocess.run([promtool(), "check", "config", str(PROM_DIR / "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout and "rules found" in r.stdout, "the alert rules must be loaded"


def test_promtool_rule_unit_tests():
    r = subprocess.run([promtool(), "test", "rules", str(PROM_DIR / "tests/adloom_rules_test.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def local_config(tmp: Path, targets: list[str], self_port: int) -> Path:
    """The compose config with loopback targets; rule files copied beside it."""
    config = load_yaml("deploy/prometheus/prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "adloom"]
    assert job.pop("dns_sd_configs"), "compose config discovers adloom by DNS"
    job["static_configs"] = [{"targets": targets}]
    for j in config["scrape_configs"]:
        if j["job_name"] == "prometheus":
            j["static_configs"] = [{"targets": [f"127.0.0.1:{self_port}"]}]
    shutil.copytree(PROM_DIR / "rules", tmp / "rules")
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def prometheus(adloom_cluster, tmp_path):
    binary = tool("prometheus", "make sysdeps (Debian prometheus)")
    port = free_port()
    targets = [f"127.0.0.1:{r.port}" for r in adloom_cluster.replicas]
    config = local_config(tmp_path, targets, port)
    log = tmp_path / "prometheus.log"
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"prometheus exited {proc.returncode}:\n{log.read_text()[-2000:]}"
            try:
                if httpx.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "prometheus not ready in 60 s"
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc, 10)


def query(prom: str, q: str) -> dict:
    r = httpx.get(prom + "/api/v1/query", params={"query": q}, timeout=10)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", f"{q}: {body}"
    return body["data"]


def wait_for(prom: str, q: str, timeout: float = 60) -> list:
    end = time.monotonic() + timeout
    while True:
        result = query(prom, q)["result"]
        if result:
            return result
        assert time.monotonic() < end, f"no result for {q} within {timeout} s"
        time.sleep(1)


def test_prometheus_scrapes_adloom(adloom_cluster, prometheus):
    with httpx.Client(timeout=120) as client:
        for i in range(3):
            r = client.post(adloom_cluster.proxy.url + "/creative", json=unique_product(f"prom{i}"))
            assert r.status_code == 200, r.text[:500]

    series = wait_for(prometheus, 'adloom_requests_total{job="adloom", route="/creative", status="200"}')
    assert sum(float(s["value"][1]) for s in series) >= 3

    # Both replicas are healthy targets, scraped every 5 s as the compose config says.
    targets = httpx.get(prometheus + "/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
    adloom_targets = [t for t in targets if t["labels"]["job"] == "adloom"]
    assert len(adloom_targets) == 2
    end = time.monotonic() + 60  # a hang guard: they are up within a scrape interval or two
    while not all(t["health"] == "up" for t in adloom_targets):
        assert time.monotonic() < end, f"hang guard: the adloom targets were not all up in 60 s: {adloom_targets}"
        time.sleep(1)
        targets = httpx.get(prometheus + "/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        adloom_targets = [t for t in targets if t["labels"]["job"] == "adloom"]
    assert {t["scrapeInterval"] for t in adloom_targets} == {"5s"}

    # The alert rules loaded and evaluate without errors.
    groups = httpx.get(prometheus + "/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert [g["name"] for g in groups] == ["adloom"]
    wait_for(prometheus, 'count(adloom_model_info{job="adloom"})')

    # Every dashboard query parses and evaluates on real data. Grafana's variables take the
    # values the dashboard shows by default.
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/adloom.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            q = (target["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*")
                 .replace("$route", "/creative"))
            query(prometheus, q)
    # and the ones that need only one scrape already have data
    for q in ('sum(up{job="adloom", instance=~".*"})', 'sum by (stage) (adloom_queue_depth{instance=~".*"})'):
        assert query(prometheus, q)["result"], q


def test_promtool_check_metrics_on_live_output(adloom_cluster):
    """promtool lints our real /metrics (after traffic, so histograms have observations)."""
    replica = adloom_cluster.replicas[0]
    httpx.post(replica.url + "/creative", json=unique_product("lint"), timeout=120).raise_for_status()
    text = replica.metrics()
    assert "adloom_request_duration_seconds_bucket" in text
    r = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
