"""service.metrics: every contract metric (README, "Metrics") exists once, parses, and starts with its series at 0."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

import service
from service import metrics
from service.vocabulary import CACHE_RESULTS, REJECT_REASONS, STAGES, TIMED_STAGES

SERVICE_DIR = Path(service.__file__).parent


def scrape() -> dict:
    body, content_type = metrics.render_latest()
    assert content_type.startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def series(family, sample_name: str) -> list[dict]:
    return [s.labels for s in family.samples if s.name == sample_name]


def test_every_design_metric_is_exported_with_its_type():
    families = scrape()
    expected = {
        "adloom_requests": "counter",
        "adloom_request_duration_seconds": "histogram",
        "adloom_queue_depth": "gauge",
        "adloom_queue_wait_seconds": "histogram",
        "adloom_batch_size": "histogram",
        "adloom_stage_duration_seconds": "histogram",
        "adloom_embedding_cache": "counter",
        "adloom_rejected": "counter",
        "adloom_creatives": "counter",
        "adloom_model_info": "gauge",
        "adloom_redis_up": "gauge",
    }
    for name, kind in expected.items():
        assert name in families, name
        assert families[name].type == kind, name


def test_label_values_are_pre_initialised_at_zero():
    families = scrape()
    cache = {s.labels["result"]: s.value for s in families["adloom_embedding_cache"].samples
             if s.name == "adloom_embedding_cache_total"}
    assert set(cache) >= {"hit", "miss", "error"}
    durations = series(families["adloom_stage_duration_seconds"], "adloom_stage_duration_seconds_count")
    stages = {labels["stage"] for labels in durations}
    assert stages >= {"encode", "generate", "score", "compose", "image_encode"} == set(TIMED_STAGES)
    assert set(STAGES) == {"encode", "generate", "score"}
    for name, sample_name in [
        ("adloom_queue_depth", "adloom_queue_depth"),
        ("adloom_queue_wait_seconds", "adloom_queue_wait_seconds_count"),
        ("adloom_batch_size", "adloom_batch_size_count"),
    ]:
        assert {l["stage"] for l in series(families[name], sample_name)} >= set(STAGES)
    reasons = {l["reason"] for l in series(families["adloom_rejected"], "adloom_rejected_total")}
    assert reasons >= set(REJECT_REASONS)


def emitted_labels(metric: str) -> dict[str, list[str]]:
    """Label values passed as string literals to ``<metric>.labels(...)`` in service/ (outside
    metrics.py, which declares them), by location; a call with no literal maps to an empty list.

    Found by parsing the source (conditional expressions included, e.g.
    ``REJECTED.labels("draining" if ... else "not_ready")``), so a new reason cannot be added
    without being seen here."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in SERVICE_DIR.rglob("*.py") if p != Path(metrics.__file__)):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "labels"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == metric):
                args = [*node.args, *(k.value for k in node.keywords)]
                values = [c.value for a in args for c in ast.walk(a)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                found[f"{path.relative_to(SERVICE_DIR.parent)}:{node.lineno}"] = values
    return found


def test_every_rejection_reason_the_code_emits_is_pre_initialised():
    emitted = emitted_labels("REJECTED")
    dynamic = [where for where, values in emitted.items() if not values]
    assert not dynamic, f"REJECTED.labels() with a non-literal reason cannot be checked: {dynamic}"
    reasons = {v for values in emitted.values() for v in values}
    assert reasons >= {"queue_full", "deadline", "draining", "not_ready", "body_too_large", "unauthorized"}, reasons
    missing = {where: sorted(set(values) - set(REJECT_REASONS)) for where, values in emitted.items()
               if set(values) - set(REJECT_REASONS)}
    assert not missing, f"reasons emitted but not in REJECT_REASONS: {missing}"
    # and none pre-initialised that nothing emits (a dashboard would wait for it forever)
    assert set(REJECT_REASONS) <= reasons, set(REJECT_REASONS) - reasons


def test_every_literal_cache_result_and_stage_is_pre_initialised():
    for metric, declared in (("EMBEDDING_CACHE", CACHE_RESULTS), ("STAGE_DURATION", TIMED_STAGES)):
        literal = {v for values in emitted_labels(metric).values() for v in values}
        assert literal and literal <= set(declared), (metric, literal - set(declared))


def test_buckets_cover_milliseconds_to_thirty_seconds_and_batch_sizes_to_128():
    families = scrape()
    buckets = series(families["adloom_stage_duration_seconds"], "adloom_stage_duration_seconds_bucket")
    latency = {float(labels["le"]) for labels in buckets}
    assert min(latency) == 0.001 and 30.0 in latency
    sizes = {l["le"] for l in series(families["adloom_batch_size"], "adloom_batch_size_bucket")}
    assert sizes == {"1.0", "2.0", "4.0", "8.0", "16.0", "32.0", "64.0", "128.0", "+Inf"}


def test_observations_show_up_in_the_scrape():
    metrics.REQUESTS.labels("/creative", "200").inc()
    metrics.CREATIVES.labels("medium_rectangle").inc(3)
    metrics.MODEL_INFO.labels("minilm@abc", "adloom-base@def", "cpu").set(1)
    metrics.REQUEST_DURATION.labels("/creative").observe(0.02)
    families = scrape()
    req = {(s.labels["route"], s.labels["status"]): s.value for s in families["adloom_requests"].samples
           if s.name == "adloom_requests_total"}
    assert req[("/creative", "200")] >= 1
    creatives = {s.labels["size"]: s.value for s in families["adloom_creatives"].samples
                 if s.name == "adloom_creatives_total"}
    assert creatives["medium_rectangle"] >= 3
    info = [s for s in families["adloom_model_info"].samples]
    assert any(s.labels == {"text_encoder": "minilm@abc", "generator": "adloom-base@def", "device": "cpu"}
               and s.value == 1 for s in info)


def test_metric_names_are_unique_and_prefixed():
    names = [f.name for f in scrape().values() if f.name.startswith("adloom")]
    assert len(names) == len(set(names))
    assert all(n.startswith("adloom_") for n in names)


def test_reimporting_the_module_does_not_redefine_metrics():
    # importlib.import_module returns the cached module; metrics are defined exactly once.
    assert importlib.import_module("service.metrics") is metrics
