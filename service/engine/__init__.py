"""The models behind a small protocol: ``encode``, ``generate``, ``score`` (and ``warm_up``).

``Engine`` (protocol.py) is what the pipeline needs from the models, as vLLM's ``EngineClient``
or LitServe's ``LitAPI``: batch functions that take a list and return a list of the same length,
run by the micro-batchers in a worker thread. ``TorchEngine`` (torch_engine.py) is the real one
(text encoder + trained generator and critic, batch-invariant on CPU); ``ProcessEngine``
(process_engine.py) runs it in a child process, which is what ``adloom serve`` does by default. Tests and the bench wrap
it (``EngineWrapper``, wrapper.py: a poisoned engine delegates to the real one) instead of
reaching into the pipeline. ``conditioning.py`` mixes a request's texts into the one vector the
generator and critic take.

``generate`` makes *scenes* (models/scene: a ground gradient and 16 layer slots, a float32
array (ROWS, P) per item), which composition renders at each creative's own size; ``score``
renders a scene at the critic's 64x64 (skia) and scores that.
"""
from __future__ import annotations

from models.registry import CheckpointError
from models.text_encoder import resolve_device
from service.config import Settings
from service.engine.process_engine import EngineProcessError, ProcessEngine
from service.engine.protocol import Embedding, Engine, Score, Visual
from service.engine.torch_engine import TorchEngine
from service.engine.wrapper import EngineWrapper


def load_engine(settings: Settings) -> Engine:
    """The engine ``adloom serve`` runs: the models in a process of their own
    (``ADLOOM_ENGINE_MODE=process``, process_engine.py) or in this one (``thread``)."""
    if settings.engine_mode == "process":
        return ProcessEngine.load(settings)
    return TorchEngine.load(settings)


__all__ = ["Engine", "EngineWrapper", "TorchEngine", "ProcessEngine", "EngineProcessError", "load_engine",
           "Visual", "Embedding", "Score", "CheckpointError",
           "resolve_device"]
