"""service/config.py: ADLOOM_* parsing, defaults, and fail-fast messages naming the variable."""
from __future__ import annotations

import pytest

from service.config import ConfigError, Settings, load_settings


@pytest.fixture
def ckpt(tmp_path):
    """A checkpoint prefix whose two files exist (Settings checks existence, not content)."""
    (tmp_path / "c.safetensors").write_bytes(b"x")
    (tmp_path / "c.json").write_text("{}")
    return tmp_path / "c"


@pytest.fixture
def env(monkeypatch, ckpt):
    """A clean ADLOOM_* environment pointing at ``ckpt``; returns setenv."""
    import os

    for k in list(os.environ):
        if k.startswith("ADLOOM_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("ADLOOM_CHECKPOINT", str(ckpt))
    return monkeypatch.setenv


def test_defaults(env):
    s = load_settings()
    assert s.device == "auto" and s.max_batch_size == 32 and 0 < s.max_batch_wait_ms <= 10
    assert s.redis_url is None and s.api_keys == [] and s.metrics_require_key is False
    assert s.warmup is True and s.png_compress_level == 1 and s.compose_workers >= 1
    assert (s.max_image_pixels, s.max_image_side) == (4096 * 4096, 4096)  # issue 4: up to 4096x4096
    assert s.threads >= 1  # 0 means "the cores we may use"


def test_torch_threads_leave_the_compose_workers_their_cores(env):
    from service.config import available_cores

    cores = available_cores()
    env("ADLOOM_COMPOSE_WORKERS", str(cores))
    assert load_settings().threads == 1  # every core composing: the models keep one
    env("ADLOOM_COMPOSE_WORKERS", "1")
    assert load_settings().threads == max(1, cores - 1)
    env("ADLOOM_COMPOSE_MODE", "thread")
    assert load_settings().threads == cores  # threads compose inside this process: all cores
    env("ADLOOM_TORCH_THREADS", "3")
    assert load_settings().threads == 3  # an explicit setting wins


def test_environment_is_read_with_the_prefix(env, ckpt):
    env("ADLOOM_DEVICE", "CPU")
    env("ADLOOM_MAX_BATCH_SIZE", "16")
    env("ADLOOM_REDIS_URL", "redis://cache:6379/2")
    env("ADLOOM_API_KEYS", " key-one-123 , key-two-456 ,")
    env("ADLOOM_METRICS_REQUIRE_KEY", "true")
    env("ADLOOM_LOG_LEVEL", "debug")
    s = load_settings()
    assert (s.device, s.max_batch_size, s.redis_url) == ("cpu", 16, "redis://cache:6379/2")
    assert s.api_keys == ["key-one-123", "key-two-456"] and s.metrics_require_key
    assert s.log_level == "DEBUG" and s.checkpoint == ckpt


def test_checkpoint_suffix_is_normalised_to_the_prefix(ckpt):
    assert Settings(checkpoint=ckpt.with_suffix(".safetensors")).checkpoint == ckpt


@pytest.mark.parametrize("var,value,needle", [
    ("ADLOOM_DEVICE", "tpu", "ADLOOM_DEVICE"),
    ("ADLOOM_MAX_BATCH_SIZE", "0", "ADLOOM_MAX_BATCH_SIZE"),
    ("ADLOOM_MAX_BATCH_SIZE", "many", "ADLOOM_MAX_BATCH_SIZE"),
    ("ADLOOM_MAX_QUEUE", "-5", "ADLOOM_MAX_QUEUE"),
    ("ADLOOM_REQUEST_TIMEOUT_S", "0", "ADLOOM_REQUEST_TIMEOUT_S"),
    ("ADLOOM_REDIS_URL", "http://cache:6379", "ADLOOM_REDIS_URL"),
    ("ADLOOM_PNG_COMPRESS_LEVEL", "12", "ADLOOM_PNG_COMPRESS_LEVEL"),
    ("ADLOOM_CHECKPOINT", "/nonexistent/adloom-base", "missing adloom-base.safetensors"),
    ("ADLOOM_TEXT_ENCODER", "/nonexistent", "ADLOOM_TEXT_ENCODER"),
    ("ADLOOM_API_KEYS", "short", "at least 8 characters"),
    ("ADLOOM_LOG_LEVEL", "chatty", "ADLOOM_LOG_LEVEL"),
    ("ADLOOM_WARMUP", "perhaps", "ADLOOM_WARMUP"),
    ("ADLOOM_MAX_IMAGE_SIDE", "10", "ADLOOM_MAX_IMAGE_SIDE"),
])
def test_bad_values_stop_with_the_variable_named(env, var, value, needle):
    env(var, value)
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert var in str(e.value) and needle in str(e.value)


def test_every_problem_is_reported_at_once(env):
    env("ADLOOM_DEVICE", "tpu")
    env("ADLOOM_MAX_QUEUE", "0")
    msg = str(pytest.raises(ConfigError, load_settings).value)
    assert "ADLOOM_DEVICE" in msg and "ADLOOM_MAX_QUEUE" in msg


def test_api_keys_never_appear_in_messages_or_descriptions(env):
    env("ADLOOM_API_KEYS", "sekrit-key-0001,x")
    msg = str(pytest.raises(ConfigError, load_settings).value)
    assert "sekrit" not in msg
    env("ADLOOM_API_KEYS", "sekrit-key-0001")
    s = load_settings()
    assert "sekrit" not in repr(s) and s.describe()["api_keys"] == 1


def test_batch_buckets_cover_every_power_of_two_up_to_the_max(ckpt):
    assert Settings(checkpoint=ckpt, max_batch_size=32).batch_buckets == [1, 2, 4, 8, 16, 32]
    assert Settings(checkpoint=ckpt, max_batch_size=12).batch_buckets == [1, 2, 4, 8, 12]
    assert Settings(checkpoint=ckpt, max_batch_size=1).batch_buckets == [1]


def test_overrides_beat_the_environment(env):
    env("ADLOOM_PORT", "9000")
    assert load_settings(port=8123).port == 8123


def test_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [f"ADLOOM_{n.upper()}" for n in Settings.model_fields if f"`ADLOOM_{n.upper()}`" not in readme]
    assert not missing, f"README's configuration table lacks {missing}"
