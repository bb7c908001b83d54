"""A real adloom server process whose generator fails on one kind of input (test-only launcher).

No valid HTTP request can make the shipped models raise (every field is validated and bounded,
texts are truncated by the tokenizer, seeds are range-checked), so the fault-isolation case
needs a stand-in for "an input the model chokes on". This launcher runs the real app, the real
models and the real batchers under uvicorn, exactly as ``adloom serve`` does, with one change:
an item whose seed is ``POISON_SEED`` reaches the real generator with a conditioning vector cut
to half its length. Any batch holding it then fails inside the real batch function (``np.stack``
of ragged rows, or the first Linear layer when it is alone), like a genuine model fault on one
input; the batcher must isolate it.

    python -m tests.reliability.poison_server --port 8123      # settings from ADLOOM_*
"""
from __future__ import annotations

import argparse

import numpy as np

from service.engine import EngineWrapper

POISON_SEED = 666


class PoisonedEngine(EngineWrapper):
    """The real engine, except that an item with POISON_SEED gets a malformed conditioning."""

    def generate(self, items: list[tuple[np.ndarray, int, np.ndarray | None]]) -> list[np.ndarray]:
        items = [(c[: c.shape[0] // 2], s, p) if s == POISON_SEED else (c, s, p) for c, s, p in items]
        return super().generate(items)


def main() -> None:
    import uvicorn

    from service.app import create_app
    from service.config import load_settings
    from service.logs import setup_logging
    from service.engine import TorchEngine
    from service.pipeline import CreativePipeline

    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    settings = load_settings()
    setup_logging(settings.log_level, settings.log_json)
    pipeline = CreativePipeline(settings, PoisonedEngine(TorchEngine.load(settings)))
    app = create_app(settings, pipeline)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=int(settings.drain_timeout_s) or None)


if __name__ == "__main__":
    main()
