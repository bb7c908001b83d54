"""``EngineWrapper``: an Engine around another, for tests, fault drills and the bench's peers."""
from __future__ import annotations

import numpy as np

from service.engine.protocol import Embedding, Engine, GenerateItem, Score, Visual


class EngineWrapper:
    """An Engine that delegates to ``inner``: subclass it and override one method to hold or
    fail a stage (tests, fault drills, the bench's peers) around the real models."""

    def __init__(self, inner: Engine):
        self.inner = inner

    @property
    def ids(self) -> dict[str, str]:
        return self.inner.ids

    @property
    def text_dim(self) -> int:
        return self.inner.text_dim

    def encode(self, texts: list[str]) -> list[Embedding]:
        return self.inner.encode(texts)

    def generate(self, items: list[GenerateItem]) -> list[Visual]:
        return self.inner.generate(items)

    def score(self, items: list[tuple[Visual, Embedding]]) -> list[Score]:
        return self.inner.score(items)

    def warm_up(self, buckets: list[int]) -> None:
        # Through this wrapper's own methods, so an override also sees the warm-up batches.
        c = np.zeros(self.text_dim, np.float32)
        c[0] = 1.0
        for n in buckets:
            self.encode(["warm-up"] * n)
            self.score([(v, c) for v in self.generate([(c, i, None) for i in range(n)])])
