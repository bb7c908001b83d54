"""The serving rasterizer's merged paint (soft steps sharing one reduced surface, the grain as a
premultiplied tile) against the same scene painted step by step: the same picture within a level."""
from __future__ import annotations

import numpy as np
import pytest

from models.scene import format as F
from models.scene import raster_skia


def _mad_psnr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    mse = float((d ** 2).mean())
    return float(d.mean()), 10 * np.log10(255 ** 2 / max(mse, 1e-9))


@pytest.mark.parametrize("size", [(300, 250), (728, 90), (1080, 1080), (160, 600)])
def test_merged_paint_matches_the_step_by_step_paint(size):
    W, H = size
    rng = np.random.default_rng(W * 7 + H)
    keep = [[0.1 * W, 0.1 * H, 0.6 * W, 0.35 * H]]
    for i in range(12):
        scene = F.random_scene(rng)
        ko = keep if i % 2 else None
        merged = raster_skia.render(scene, W, H, keep_out=ko, merge=True)
        reference = raster_skia.render(scene, W, H, keep_out=ko, merge=False)
        mad, psnr = _mad_psnr(merged, reference)
        assert mad <= 1.5 and psnr >= 38, (i, size, mad, psnr)


def test_thumbnails_are_painted_step_by_step():
    """The palette and the critic read 64x64 thumbnails: they keep the step-by-step picture exactly."""
    scene = F.random_scene(np.random.default_rng(7))
    assert np.array_equal(raster_skia.render(scene, 64, 64), raster_skia.render(scene, 64, 64, merge=False))
    assert raster_skia.render(scene, 300, 250).shape == (250, 300, 3)
