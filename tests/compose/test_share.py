"""Work shared between the creatives of one request gives the same creatives as work done per
creative: the Copy made once per content (content.SHARE_COPY), the grain tile once per alpha."""
from __future__ import annotations

import numpy as np

from models.scene import format as scene_format
from models.scene import raster_skia
from service.compose import CreativeContent, compose_creative, content
from tests.compose.conftest import packshot
from tests.compose.logo_material import logos

SIZES = [(300, 250), (728, 90), (160, 600), (1080, 1080)]


def _compose_all(monkeypatch, share: bool, contents: list[CreativeContent]) -> list[tuple]:
    monkeypatch.setattr(content, "SHARE_COPY", share)
    content._COPIES.clear()
    raster_skia._grain_shader.cache_clear()
    scene = scene_format.random_scene(np.random.default_rng(11))
    out = []
    for c in contents:
        for w, h in SIZES:
            for v in range(2):
                r = compose_creative(scene, c, w, h, variant=v)
                out.append((r.image.tobytes(), r.background.tobytes(), r.layout, r.scores, r.design, r.checks))
    return out


def test_shared_copy_gives_byte_identical_creatives(monkeypatch):
    logo = logos()["orange_mark"]
    contents = [
        CreativeContent(headline="Linen summer dress", subline="Soft, light, made to last.", price=49.0,
                        original_price=69.0, currency="EUR", locale="de-DE", brand_name="Acme"),
        CreativeContent(headline="夏のワンピース 特別セール", price=4900, currency="JPY", locale="ja-JP", logo=logo,
                        product_image=packshot()[0]),
        CreativeContent(headline="فستان صيفي من الكتان", cta="تسوق الآن", locale="ar-SA", logo=logo),
    ]
    shared = _compose_all(monkeypatch, True, contents)
    assert len(content._COPIES) == len(contents)  # one Copy per content, whatever the sizes and variants
    alone = _compose_all(monkeypatch, False, contents)
    assert not content._COPIES
    assert shared == alone


def test_another_logo_or_text_is_not_taken_for_a_shared_copy(monkeypatch):
    monkeypatch.setattr(content, "SHARE_COPY", True)
    content._COPIES.clear()
    kit = logos()
    a = CreativeContent(headline="Acme", logo=kit["dark_wordmark"])
    copy_a, logo_a = content.make_copy(a)
    assert content.make_copy(a)[0] is copy_a  # shared
    b = CreativeContent(headline="Acme", logo=kit["orange_mark"])
    copy_b, logo_b = content.make_copy(b)
    a.logo = None  # the same text without a logo: not the copy made with one
    assert content.make_copy(a)[0] is not copy_a and content.make_copy(a)[1] is None
    assert copy_b is not copy_a and logo_b is not logo_a
    changed = CreativeContent(headline="Acme!", logo=kit["dark_wordmark"])
    assert content.make_copy(changed)[0] is not copy_a
