"""The models behind a small protocol: ``encode``, ``generate``, ``score`` (and ``warm_up``).

``Engine`` (protocol.py) is what the pipeline needs from the models, as vLLM's ``EngineClient``
or LitServe's ``LitAPI``: batch functions that take a list and return a list of the same length,
run by the micro-batchers in a worker thread. ``TorchEngine`` (torch_engine.py) is the real one
(text encoder + trained generator and critic, batch-invariant on CPU). Tests and the bench wrap
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
from service.engine.protocol import Embedding, Engine, Score, Visual
from service.engine.torch_engine import TorchEngine
from service.engine.wrapper import EngineWrapper

__all__ = ["Engine", "EngineWrapper", "TorchEngine", "Visual", "Embedding", "Score", "CheckpointError",
           "resolve_device"]
