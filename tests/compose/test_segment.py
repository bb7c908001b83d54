"""Cut-outs of products on backgrounds that are not plain (service/compose/segment.py), scored by
IoU against masks known by construction: the horse silhouette that ships in scikit-image's wheel
(``skimage.data.horse``) and drawn shapes, painted and set on gradient and textured grounds that
also ship there (``brick``, ``gravel``, ``grass``)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

from service.compose.product import prepare_product
from service.compose.segment import segment


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _horse_mask(w: int, h: int, scale: float, cx: float, cy: float) -> np.ndarray:
    horse = ~data.horse()  # True on the horse
    ys, xs = np.nonzero(horse)
    horse = horse[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    hh, hw = horse.shape
    k = scale * min(w, h) / max(hh, hw)
    small = np.asarray(Image.fromarray(horse.astype(np.uint8) * 255).resize((round(hw * k), round(hh * k)),
                                                                          Image.Resampling.NEAREST)) > 127
    out = np.zeros((h + 2 * small.shape[0], w + 2 * small.shape[1]), bool)  # room for one running off an edge
    x0 = round(cx * w - small.shape[1] / 2) + small.shape[1]
    y0 = round(cy * h - small.shape[0] / 2) + small.shape[0]
    out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return out[small.shape[0]:small.shape[0] + h, small.shape[1]:small.shape[1] + w]


def _bottle_mask(w: int, h: int, cx: float) -> np.ndarray:
    img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(img)
    x = cx * w
    d.rounded_rectangle((x - 0.09 * w, 0.30 * h, x + 0.09 * w, 0.86 * h), radius=int(0.04 * w), fill=255)
    d.rectangle((x - 0.035 * w, 0.14 * h, x + 0.035 * w, 0.32 * h), fill=255)
    return np.asarray(img) > 127


def _gradient(w: int, h: int, top, bottom, seed: int) -> np.ndarray:
    """A studio backdrop: a vertical gradient with a vignette and sensor noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, h)[:, None, None]
    ground = np.array(top) * (1 - t) + np.array(bottom) * t
    yy, xx = np.mgrid[0:h, 0:w]
    vignette = 1 - 0.25 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)[..., None] * 2
    return np.clip(ground * vignette + rng.normal(0, 2.5, (h, w, 3)), 0, 255)


def _texture(w: int, h: int, name: str, tint) -> np.ndarray:
    tex = getattr(data, name)().astype(np.float32)
    if tex.ndim == 3:
        tex = tex.mean(2)
    tex = np.asarray(Image.fromarray(tex.astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR), np.float32)
    return np.clip(tex[..., None] / 255.0 * np.array(tint)[None, None] * 1.3, 0, 255)


def _paint(ground: np.ndarray, mask: np.ndarray, base, seed: int) -> Image.Image:
    """The object: a shaded colour (light from the top left), anti-aliased onto the ground."""
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w]
    shade = 1.1 - 0.35 * (xx / w + yy / h)
    obj = np.clip(np.array(base)[None, None] * shade[..., None], 0, 255)
    soft = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(0.7)),
                      np.float32)[..., None] / 255.0
    out = ground * (1 - soft) + obj * soft
    return Image.fromarray(out.astype(np.uint8))


CASES = [
    ("horse on a grey gradient", lambda w, h: _gradient(w, h, (235, 235, 240), (150, 150, 160), 1),
     lambda w, h: _horse_mask(w, h, 0.6, 0.5, 0.52), (150, 40, 30)),
    ("horse off-centre on warm gradient", lambda w, h: _gradient(w, h, (250, 225, 190), (190, 120, 80), 2),
     lambda w, h: _horse_mask(w, h, 0.5, 0.38, 0.5), (30, 60, 140)),
    ("bottle on brick", lambda w, h: _texture(w, h, "brick", (200, 150, 120)),
     lambda w, h: _bottle_mask(w, h, 0.62), (20, 120, 70)),
    ("horse on gravel", lambda w, h: _texture(w, h, "gravel", (170, 170, 160)),
     lambda w, h: _horse_mask(w, h, 0.55, 0.5, 0.5), (200, 60, 150)),
    ("bottle on grass", lambda w, h: _texture(w, h, "grass", (120, 190, 90)),
     lambda w, h: _bottle_mask(w, h, 0.4), (230, 210, 60)),
]


@pytest.mark.parametrize("name,ground,mask,colour", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("size", [(640, 480), (420, 560)])
def test_an_object_on_a_busy_ground_is_cut_out_close_to_its_known_mask(name, ground, mask, colour, size):
    w, h = size
    truth = mask(w, h)
    photo = _paint(ground(w, h), truth, colour, 3)
    seg = segment(np.asarray(photo))
    assert seg.used, seg.reason
    assert _iou(seg.alpha >= 0.5, truth) >= 0.9, (seg.share, seg.support)
    # the asset: a card (the photo, for full-bleed and split layouts) carrying its cut-out, or
    # (a ground even enough for the flood fill) the cut-out itself
    asset = prepare_product(photo)
    cut = asset if asset.kind == "cutout" else asset.cutout
    assert cut is not None and cut.kind == "cutout"
    a = np.asarray(cut.image.getchannel("A"))
    ys, xs = np.nonzero(truth)
    assert abs(a.shape[0] - (ys.max() - ys.min() + 1)) <= 0.05 * h  # cropped to the object
    assert abs(a.shape[1] - (xs.max() - xs.min() + 1)) <= 0.05 * w


def test_a_scene_without_an_object_or_an_object_cut_by_the_frame_is_not_cut_out():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    seg = segment(noise)
    assert not seg.used and seg.reason
    w, h = 640, 480
    ground = _gradient(w, h, (235, 235, 240), (150, 150, 160), 4)
    cut = _horse_mask(w, h, 0.9, 0.15, 0.5)  # runs out of the left edge
    seg = segment(np.asarray(_paint(ground, cut, (150, 40, 30), 1)))
    assert not seg.used and seg.reason  # (its colours in the border band: GrabCut leaves it there)
    flat = _gradient(w, h, (200, 200, 200), (120, 120, 130), 5)  # nothing on it
    seg = segment(flat.astype(np.uint8))
    assert not seg.used


@pytest.mark.parametrize("name", ["coffee", "chelsea", "astronaut"])
def test_lifestyle_photos_and_portraits_are_not_cut_out(name):
    """Real photos bundled in scikit-image's wheel: a cup on a wooden table (its coffee has the
    table's colour), a cat's face filling the frame, a portrait with badges and a helmet. The
    confidence refuses each cut, so they stay photos (full-bleed, split, card)."""
    photo = Image.fromarray(getattr(data, name)()[..., :3])
    seg = segment(np.asarray(photo))
    assert not seg.used and seg.reason
    asset = prepare_product(photo)
    assert asset.kind == "card" and asset.cutout is None and asset.segmentation["reason"]


def test_a_photo_with_a_cut_out_goes_full_bleed_and_stands_cut_out_on_the_scene():
    from models.scene import format as scene_format
    from service.compose import CreativeContent, compose_creative
    from service.compose.product import PHOTO_FAMILIES, shown

    w, h = 800, 600
    photo = _paint(_texture(w, h, "grass", (120, 190, 90)), _bottle_mask(w, h, 0.55), (150, 40, 30), 3)
    asset = prepare_product(photo)
    assert asset.kind == "card" and asset.cutout is not None
    assert shown(asset, "photo") is asset and shown(asset, "split") is asset and shown(asset, "stage") is asset.cutout
    scene = scene_format.random_scene(np.random.default_rng(4))
    content = CreativeContent(headline="Ruby glass bottle", price=29.9, currency="EUR", product_image=photo)
    for cw, ch in ((1200, 628), (1080, 1080), (1080, 1920)):
        families = set()
        for v in range(4):
            out = compose_creative(scene, content, cw, ch, v)
            family = out.layout.split("/")[1]
            families.add(family)
            assert out.checks["overlaps"] == 0 and out.checks["min_contrast_ratio"] >= 4.5, (cw, ch, v)
            if family not in PHOTO_FAMILIES:  # the cut-out: as large as its floor, never the card's rectangle
                assert out.checks["product_share"] >= 0.25 or out.checks["product_note"], (cw, ch, v, family)
        # the photo and its cut-out both among the first variants
        assert families & set(PHOTO_FAMILIES) and families - set(PHOTO_FAMILIES), (cw, ch, families)
