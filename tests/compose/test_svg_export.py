"""layers.svg: the whole creative as SVG (copy as <text>, the rest embedded) opens in headless
Chromium and matches the PNG outside the antialiased glyph edges."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageFilter

from models.scene import format as scene_format
from service.compose import CreativeContent
from service.rendering import render_creative
from service.tools.demo import packshot_shoe

CASES = [
    ("1200x628", CreativeContent(headline="Trail runner X2 🔥", subline="Light, grippy, made to last.", price=89,
                                 original_price=119, currency="EUR", locale="de-DE", brand_name="Stride",
                                 product_image=packshot_shoe())),
    ("300x250", CreativeContent(headline="一件时尚的红色连衣裙", price=199, currency="CNY", locale="zh-CN")),
    ("1080x1080", CreativeContent(headline="فستان صيفي من الكتان", subline="توصيل مجاني", price=39.9,
                                  currency="AED", locale="ar-AE", brand_name="Acme")),
    ("728x90", CreativeContent(headline="Summer sale, 50% off everything", price=20, original_price=40,
                               currency="USD")),
]


def _svg_and_png(size, content, variant=0):
    scene = scene_format.random_scene(np.random.default_rng(len(size) + variant))
    r, *_ = render_creative(scene, content, size, variant, 0, "png", True, False, 1)
    return r


def test_svg_sets_every_line_of_copy_as_text_with_its_font():
    r = _svg_and_png(*CASES[0])
    texts = re.findall(r"<text [^>]*>([^<]*)</text>", r.svg)
    copy = [e for e in r.elements if e["type"] in ("headline", "subline", "price", "original_price", "discount",
                                                   "cta", "brand")]
    assert re.sub(r"\s", "", "".join(texts)) == re.sub(r"\s", "", "".join(e["text"] for e in copy))
    assert 'font-family="Noto Sans' in r.svg and "Noto Color Emoji" in r.svg
    assert r.svg.count("<image ") == 1 and "<line " in r.svg  # the background; the strike-through
    kinds = {e["type"] for e in r.elements}
    assert {"product", "scene", "discount", "cta"} <= kinds


@pytest.mark.parametrize("case", range(len(CASES)))
def test_svg_in_chromium_matches_the_png_outside_glyph_edges(case):
    from playwright.sync_api import sync_playwright

    from tests.demo.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: `make sysdeps` installs Debian's chromium")
    size, content = CASES[case]
    r = _svg_and_png(size, content, variant=case)
    w, h = r.width, r.height
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": w, "height": h}, device_scale_factor=1)
            page.set_content(f'<html><body style="margin:0">{r.svg}</body></html>')
            shot = page.screenshot(clip={"x": 0, "y": 0, "width": w, "height": h})
        finally:
            browser.close()
    got = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    png = np.asarray(Image.open(io.BytesIO(r.image)).convert("RGB")).astype(int)
    bg = np.asarray(Image.open(io.BytesIO(r.background)).convert("RGB")).astype(int)
    # glyph pixels: where either rendering differs from the background, grown by 2 px (the edges)
    ink = (np.abs(png - bg).max(-1) > 8) | (np.abs(got - bg).max(-1) > 8)
    edges = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(5))) > 0
    outside = ~edges
    mad = np.abs(got - png).mean(-1)[outside].mean()
    assert mad <= 4.0, mad
    # the text landed where the PNG has it: most PNG ink pixels are ink in the SVG rendering too
    png_ink = np.abs(png - bg).max(-1) > 40
    svg_ink = np.asarray(Image.fromarray(((np.abs(got - bg).max(-1) > 8) * 255).astype(np.uint8))
                         .filter(ImageFilter.MaxFilter(5))) > 0
    assert (png_ink & svg_ink).sum() >= 0.9 * png_ink.sum()
