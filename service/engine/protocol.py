"""``Engine``: what the pipeline needs from the models, as batch functions.

As vLLM's ``EngineClient`` or LitServe's ``LitAPI``: every method takes a list and returns a list
of the same length, in order, run by the micro-batchers in a worker thread; an item's result must
not depend on its batch-mates. The types below name what travels between the stages.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from models.scene.palette import NamedPalette

Embedding = npt.NDArray[np.float32]  # a unit vector (D,): a text's embedding, or the conditioning c mixed from them
Visual = npt.NDArray[np.float32]  # a scene (ROWS, P): what generate makes and composition and score consume
Score = tuple[float, float]  # (realism 0..1, alignment cosine -1..1)
# (conditioning c, seed, the colours a caller named or None): the generator takes the palette as an
# input of its own, and the scene it makes is then put on it once (models/scene/palette.py).
GenerateItem = tuple[Embedding, int, NamedPalette | None]


@runtime_checkable
class Engine(Protocol):
    """What the pipeline needs from the models. Every method takes a batch and returns one
    result per item, in order; each item's result must not depend on its batch-mates."""

    @property
    def ids(self) -> dict[str, str]:
        """{"text_encoder", "generator", "device"}: reported in every response."""

    @property
    def text_dim(self) -> int:
        """D, the size of an embedding."""

    def encode(self, texts: list[str]) -> list[Embedding]:
        """texts -> unit float32 embeddings (D,)."""

    def generate(self, items: list[GenerateItem]) -> list[Visual]:
        """(conditioning c (D,), seed, named palette or None) items -> visuals on their palettes."""

    def score(self, items: list[tuple[Visual, Embedding]]) -> list[Score]:
        """(scene, c) pairs -> (realism 0..1, alignment cosine -1..1)."""

    def warm_up(self, buckets: list[int]) -> None:
        """Run each stage once per batch size in ``buckets`` (before readiness)."""
