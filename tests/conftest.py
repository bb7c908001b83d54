"""Fixtures shared by the service tests: real models loaded once, hermetic settings, apps.

The text encoder and the shipped checkpoint (``models/checkpoints/adloom-base``) are loaded once
per session and shared by every pipeline and app a test builds; building a pipeline on them is
cheap (threads and queues: composition on threads here; tests/service/test_compose_pool.py and
the real-server tests run the default worker processes), so each test gets its own.
``ADLOOM_TEST_CHECKPOINT`` points the tests at another checkpoint prefix while developing.
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from models.registry import DEFAULT_CHECKPOINT

CHECKPOINT = Path(os.environ.get("ADLOOM_TEST_CHECKPOINT") or DEFAULT_CHECKPOINT)


def hermetic_settings(**overrides):
    """Settings from the arguments only: a developer's exported ADLOOM_* must not change a test."""
    from service.config import Settings

    class HermeticSettings(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, **sources):
            return (init_settings,)

    base = dict(device="cpu", checkpoint=CHECKPOINT, warmup=False, max_batch_size=8,
                max_batch_wait_ms=5, compose_workers=2, compose_mode="thread", log_json=True)
    return HermeticSettings(**{**base, **overrides})



@pytest.fixture(scope="session")
def loaded_models():
    """The real TextEncoder + checkpoint on CPU, loaded once."""
    from service.engine import TorchEngine

    if not (CHECKPOINT.with_suffix(".safetensors").exists() and CHECKPOINT.with_suffix(".json").exists()):
        pytest.fail(f"checkpoint {CHECKPOINT} is missing; train it with `make train`")
    return TorchEngine.load(hermetic_settings())


@pytest.fixture
def make_pipeline(loaded_models):
    """Factory: a fresh CreativePipeline on the shared models (stopped at teardown by its owner)."""
    from service.pipeline import CreativePipeline

    def make(cls=CreativePipeline, *, engine=None, seams: dict | None = None, **overrides):
        return cls(hermetic_settings(**overrides), engine or loaded_models, **(seams or {}))

    return make


@asynccontextmanager
async def running_app(pipeline, settings=None):
    """The real app around ``pipeline``, lifespan entered, ready; yields (app, AsyncClient)."""
    from service.app import create_app

    app = create_app(settings or pipeline.settings, pipeline)
    async with app.router.lifespan_context(app):
        await app.state.runtime.wait_ready(timeout=120)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://adloom.test", timeout=60) as client:
            yield app, client


@pytest.fixture
async def client(make_pipeline):
    """An AsyncClient against a ready app with default test settings."""
    async with running_app(make_pipeline()) as (_, c):
        yield c


def product_request(title: str = "Linen summer dress", **extra) -> dict:
    """A small valid /creative body (one 300x250 creative unless overridden)."""
    body = {"product": {"title": title, "price": 39.9, "currency": "USD"}, "sizes": ["medium_rectangle"],
            "variants": 1, "seed": 7}
    body.update(extra)
    return body


@pytest.fixture
def settings_factory():
    """hermetic_settings as a fixture: ``settings_factory(max_queue=2)``."""
    return hermetic_settings


@pytest.fixture
def app_factory():
    """running_app as a fixture: ``async with app_factory(pipeline) as (app, client)``."""
    return running_app


@pytest.fixture
def body():
    """product_request as a fixture: ``body(title=..., style=...)``."""
    return product_request
