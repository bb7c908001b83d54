"""The serving rasterizer's merged paint (soft steps sharing one reduced surface, the grain as a
premultiplied tile) against the same scene painted step by step: the same picture within a level."""
from __future__ import annotations

import numpy as np
import pytest

from models.scene import format as F
from models.scene import raster_skia, upscale


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


def _discs_layer(n: int, W: int, H: int, sigma: float):
    """A union layer of ``n`` small blurred discs scattered over a W x H canvas."""
    import torch

    from models.scene.geometry import Shape

    rng = np.random.default_rng(n)
    r = rng.uniform(0.006, 0.016, n) * min(W, H)
    pos = rng.uniform(0, 1, (n, 2)) * [W, H]
    return Shape("dots", color=torch.tensor([0.9, 0.3, 0.2]), alpha=torch.tensor(0.85), sigma=torch.tensor(sigma),
                 circles=torch.tensor(np.column_stack([pos, r])))


def _paint(shape, W: int, H: int, split: bool) -> np.ndarray:
    import skia

    bgra = np.zeros((H, W, 4), np.uint8)
    surface = skia.Surface(bgra, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    raster_skia._paint_layer(surface.getCanvas(), shape, split=split)
    del surface
    return bgra


@pytest.mark.parametrize("size,sigma", [((1080, 1920), 2.4), ((1200, 628), 3.0), ((1080, 1080), 2.0)])
def test_a_scattered_blurred_union_is_blurred_a_group_at_a_time_with_the_same_picture(size, sigma, monkeypatch):
    """skia blurs a mask over the union's whole bounds; discs farther apart than the blur reaches
    are blurred a group at a time instead: the same picture, but for the blur's rounding."""
    W, H = size
    shape = _discs_layer(60, W, H, sigma)
    groups: list[int] = []
    apart = raster_skia._apart
    monkeypatch.setattr(raster_skia, "_apart", lambda *a: groups.append(len(out := apart(*a))) or out)
    split, whole = _paint(shape, W, H, split=True), _paint(shape, W, H, split=False)
    assert groups and groups[0] > 10  # it was split into many groups
    d = np.abs(split.astype(int) - whole.astype(int))
    mad, psnr = _mad_psnr(split, whole)
    assert d.max() <= 3 and psnr >= 60, (d.max(), mad, psnr)
    assert split[..., 3].sum() > 0


def test_a_union_blurred_less_than_two_px_is_never_split():
    """Under SPLIT_MIN_SIGMA skia's blur depends on the mask's extent by more than rounding."""
    shape = _discs_layer(60, 1080, 1920, 1.2)
    assert np.array_equal(_paint(shape, 1080, 1920, split=True), _paint(shape, 1080, 1920, split=False))


def test_blurred_unions_are_split_only_where_the_mask_is_large_and_mostly_empty():
    boxes = np.array([[0, 0, 10, 10], [14, 0, 24, 10], [400, 400, 410, 410], [800, 900, 812, 910]], float)
    # the first two are within each other's reach (3 sigma + 2 = 8.5 px): one group
    assert raster_skia._apart(boxes, 8.5, 1.0) == [[0, 1], [2], [3]]
    # a mask under SPLIT_MIN_PX device px (the same boxes on a canvas scaled to a quarter): whole
    assert raster_skia._apart(boxes, 8.5, 0.25) == [[0, 1, 2, 3]]
    # groups that would cover most of the union's mask anyway: whole
    dense = np.array([[0, 0, 500, 600], [520, 0, 1000, 600]], float)
    assert raster_skia._apart(dense, 8.5, 1.0) == [[0, 1]]


def _premul(rng: np.random.Generator, h: int, w: int, clear_rows: int = 0) -> np.ndarray:
    """Random premultiplied BGRA (colour <= alpha), its first ``clear_rows`` rows transparent."""
    px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    px[:clear_rows, :, 3] = 0
    px[..., :3] = np.minimum(px[..., :3], px[..., 3:4])
    return np.ascontiguousarray(px)


def _skia_upscaled(small: np.ndarray, k: int, base: np.ndarray) -> np.ndarray:
    """skia's own bilinear upscale of ``small`` drawn (source-over) on a copy of ``base``."""
    import skia

    out = base.copy()
    img = skia.Image.fromarray(small, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    surface = skia.Surface(out, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    rect = skia.Rect.MakeLTRB(0, 0, small.shape[1] * k, small.shape[0] * k)
    surface.getCanvas().drawImageRect(img, rect, skia.SamplingOptions(skia.FilterMode.kLinear), None)
    del surface
    return out


@pytest.mark.parametrize("k,size", [(4, (1080, 1920)), (4, (301, 250)), (2, (299, 253)), (2, (64, 2))])
def test_the_opencv_upscale_is_skias_byte_for_byte(k, size):
    """upscale_into (OpenCV, for speed) reproduces skia's bilinear upscale exactly: on an empty
    canvas (the merged paint's first run) and, drawn 1:1, over other pixels (a later run)."""
    import skia

    W, H = size
    rng = np.random.default_rng(W + H + k)
    small = _premul(rng, max(2, -(-H // k)), max(2, -(-W // k)), clear_rows=3)
    empty = np.zeros((H, W, 4), np.uint8)
    mine = np.zeros_like(empty)
    upscale.upscale_into(small, k, mine)
    assert np.array_equal(mine, _skia_upscaled(small, k, empty))

    base = _premul(rng, H, W)
    drawn = base.copy()
    surface = skia.Surface(drawn, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    image = skia.Image.fromarray(small, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    upscale.draw_scaled(surface.getCanvas(), image, (0, 0, small.shape[1] * k, small.shape[0] * k),
                             exact=(k, W, H))
    del surface
    assert np.array_equal(drawn, _skia_upscaled(small, k, base))


def test_a_factor_of_three_keeps_skias_draw():
    """k = 3's weights are not multiples of 1/8: the OpenCV path would not be exact, so it is not used."""
    assert 3 not in upscale.EXACT_FACTORS
    rng = np.random.default_rng(3)
    small = _premul(rng, 20, 30)
    mine = np.zeros((60, 90, 4), np.uint8)
    upscale.upscale_into(small, 3, mine)
    assert not np.array_equal(mine, _skia_upscaled(small, 3, np.zeros_like(mine)))


@pytest.mark.parametrize("size", [(300, 250), (1080, 1920), (1199, 627)])
def test_renders_are_the_same_bytes_with_the_opencv_upscale_and_without(size, monkeypatch):
    W, H = size
    rng = np.random.default_rng(W * 3 + H)
    scenes = [F.random_scene(rng, n_layers=int(rng.integers(1, 12))) for _ in range(10)]
    keep = [[0.1 * W, 0.1 * H, 0.6 * W, 0.35 * H]]
    fast = [raster_skia.render(s, W, H, keep_out=keep if i % 2 else None) for i, s in enumerate(scenes)]
    monkeypatch.setattr(upscale, "EXACT_FACTORS", ())
    for i, (s, img) in enumerate(zip(scenes, fast)):
        assert np.array_equal(img, raster_skia.render(s, W, H, keep_out=keep if i % 2 else None)), i
