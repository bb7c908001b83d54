"""docker-compose.yml consistency, without a Docker engine.

Debian's docker-compose (v1.29, Python) validates the file against the Compose schema with
`config`, which needs no daemon; the rest is read from the YAML: services, ports, health
checks, start order, and that every ADLOOM_* it sets is a real Settings field with a valid value.
"""
from __future__ import annotations

import re
import subprocess

import pytest

from .conftest import ROOT, settings_fields, settings_from_env, tool

SERVICES = {"adloom", "adloom-gpu", "redis", "redis-feedback", "prometheus", "grafana"}


def adloom_env(compose: dict, service: str = "adloom") -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"][service]["environment"].items()}


def resolved(value: str) -> str:
    """Compose's ${VAR:-default} with VAR unset (what a plain `docker compose up` sees)."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration))


@pytest.mark.parametrize("profile", [None, "gpu"])
def test_compose_schema_valid(profile):
    docker_compose = tool("docker-compose", "make sysdeps (Debian docker-compose)")
    argv = [docker_compose, "-f", str(ROOT / "docker-compose.yml")]
    if profile:
        argv += ["--profile", profile]
    r = subprocess.run([*argv, "config", "--services"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    # v1 lists profiled services too; what matters here is that the merged file validates.
    assert SERVICES - {"adloom-gpu"} <= set(r.stdout.split())


def test_services_and_ports(compose):
    services = compose["services"]
    assert set(services) == SERVICES
    assert services["adloom"]["ports"] == ["8000:8000"]
    # Prometheus and Grafana (anonymous viewer) only on loopback of the Docker host.
    assert services["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]
    assert services["grafana"]["ports"] == ["127.0.0.1:3000:3000"]
    assert "ports" not in services["redis"], "the cache is internal to the compose network"
    published = [p.rsplit(":", 2)[-2] for s in services.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), f"host port clash: {published}"


def test_every_service_has_a_healthcheck(compose):
    for name, svc in compose["services"].items():
        check = svc.get("healthcheck")
        assert check and check["test"][0] == "CMD", f"{name}: exec-form healthcheck expected"
    adloom = compose["services"]["adloom"]["healthcheck"]
    assert "/healthz" in " ".join(adloom["test"]) and "urllib.request" in " ".join(adloom["test"])
    assert seconds(adloom["start_period"]) >= 60, "model load + warm-up must fit in start_period"
    assert compose["services"]["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_start_order(compose):
    services = compose["services"]
    for name in ("adloom", "adloom-gpu"):
        assert services[name]["depends_on"] == {"redis": {"condition": "service_healthy"},
                                                "redis-feedback": {"condition": "service_healthy"}}
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    # DNS discovery copes without adloom; a dependency would force the CPU replica on GPU-only runs.
    assert "depends_on" not in services["prometheus"]


def test_adloom_env_is_real_settings(compose, checkpoint_prefix):
    fields = settings_fields()
    for service in ("adloom", "adloom-gpu"):
        env = adloom_env(compose, service)
        unknown = sorted(set(env) - fields)
        assert not unknown, f"{service} sets ADLOOM_* that Settings does not read: {unknown}"
        # And the values pass Settings' own validation (types, ranges, redis scheme). The image
        # ships its checkpoint; here it is the repository's (or a stand-in until it is trained).
        settings_from_env({k: resolved(v) for k, v in env.items()}, checkpoint_prefix)
    env = adloom_env(compose)
    assert env["ADLOOM_REDIS_URL"] == "redis://redis:6379/0"
    assert env["ADLOOM_DEVICE"] == "cpu"
    assert adloom_env(compose, "adloom-gpu")["ADLOOM_DEVICE"] == "cuda"


def test_stop_grace_covers_the_drain(compose):
    svc = compose["services"]["adloom"]
    drain = float(adloom_env(compose)["ADLOOM_DRAIN_TIMEOUT_S"])
    assert seconds(svc["stop_grace_period"]) >= drain + 10


def test_redis_is_a_bounded_cache_without_persistence(compose):
    command = compose["services"]["redis"]["command"]
    flags = dict(zip(command[1::2], command[2::2]))
    assert command[0] == "redis-server"
    assert re.fullmatch(r"\d+(mb|gb)", flags["--maxmemory"])
    assert flags["--maxmemory-policy"] == "allkeys-lru"
    assert flags["--save"] == "" and flags["--appendonly"] == "no"
    assert "volumes" not in compose["services"]["redis"]


def test_feedback_redis_persists_and_never_evicts(compose):
    svc = compose["services"]["redis-feedback"]
    command = svc["command"]
    flags = dict(zip(command[1::2], command[2::2]))
    assert flags["--appendonly"] == "yes" and flags["--appendfsync"] in ("always", "everysec")
    assert flags["--maxmemory-policy"] == "noeviction"
    assert any(v.endswith(":/data") for v in svc["volumes"]) and "feedback-data" in compose["volumes"]
    assert "ports" not in svc
    assert adloom_env(compose)["ADLOOM_FEEDBACK_REDIS_URL"] == "redis://redis-feedback:6379/0"


def test_gpu_reservation_is_profile_gated(compose):
    gpu = compose["services"]["adloom-gpu"]
    assert gpu["profiles"] == ["gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    assert gpu["build"]["args"]["TORCH_INDEX_URL"].startswith("https://download.pytorch.org/whl/cu")
    assert "adloom" in gpu["networks"]["default"]["aliases"], "Prometheus discovers replicas by that name"
    assert "deploy" not in compose["services"]["adloom"], "the default service must run without a GPU"


def test_prometheus_and_grafana_mounts_exist(compose):
    services = compose["services"]
    mounts = {}
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            src, dest, *_ = volume.split(":")
            assert (ROOT / src).exists(), f"{name}: {src} does not exist"
            mounts[dest] = ROOT / src
    assert (mounts["/etc/prometheus"] / "prometheus.yml").is_file()
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (mounts["/var/lib/grafana/dashboards"] / home.rsplit("/", 1)[1]).is_file()
    assert (mounts["/etc/grafana/provisioning"] / "datasources").is_dir()


def test_prometheus_scrapes_adloom_every_5s(compose):
    from .conftest import load_yaml

    config = load_yaml("deploy/prometheus/prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "adloom"]
    assert job["scrape_interval"] == "5s"
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["adloom"] and sd["port"] == 8000 and sd["type"] == "A"
    assert "adloom" in compose["services"], "the DNS name is the compose service"
