"""Fixtures for the demo-page tests: a real ``adloom serve`` and a real headless Chromium.

The server is ``tests/reliability/procs.AdloomServer`` (the same process the reliability tests
start): the in-process embedding cache (no Redis), CPU, no warm-up so it is ready sooner. The
browser is Debian's ``chromium`` (``APT_PACKAGES`` in the Makefile; ``make test`` installs it)
driven by Playwright for Python (the ``test`` extra); Playwright's own browser downloads are
never used. A missing ``/usr/bin/chromium`` fails with the command that installs it: CI runs
``make test``, which installs it, so these tests never pass by skipping.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.procs import AdloomServer, checkpoint

CHROMIUM = Path(os.environ.get("ADLOOM_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def _checkpoint_prefix(workdir: Path) -> Path:
    """The shipped checkpoint, or (before one is trained) tests/deploy's untrained stand-in:
    these tests check the page's plumbing and pixel sizes, never image content."""
    prefix = checkpoint()
    if prefix.with_suffix(".safetensors").is_file() and prefix.with_suffix(".json").is_file():
        return prefix
    from tests.deploy.conftest import _checkpoint

    return _checkpoint(workdir)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A ready ``adloom serve`` on a free loopback port, stopped when the module ends."""
    workdir = tmp_path_factory.mktemp("demo")
    server = AdloomServer({
        "ADLOOM_CHECKPOINT": str(_checkpoint_prefix(workdir)),
        "ADLOOM_WARMUP": "false",          # the page needs no warm buckets; starts in seconds
        "ADLOOM_MAX_BATCH_SIZE": "4",
        "ADLOOM_TORCH_THREADS": "1",       # a 2-core box; leave room for the browser
        "ADLOOM_REQUEST_TIMEOUT_S": "60",
        "ADLOOM_LOG_LEVEL": "WARNING",
    }, log_dir=workdir, name="demo")
    with server.serving():
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright (no Playwright-managed browser)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (`make sysdeps`, or "
                    "`apt-get install --no-install-recommends chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        pytest.fail("playwright is not installed: `pip install -e '.[test]'`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser context and page on the demo; fails the test on any page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.goto(demo_server.url + "/", wait_until="load")
    pg.errors = errors
    yield pg
    context.close()
