"""Contact sheet of creatives (docs/gallery.png): 6 demo products x 4 sizes.

``python -m service.tools.gallery --model [out.png]`` renders it with scenes from the trained
scene generator (as served); without ``--model`` the scenes come from the corpus recipes.
``--heroes docs/heroes.png`` also renders the product-and-brand sheet: a lifestyle photo, a
studio packshot and a transparent PNG with dark, light, gold and boxed logos at every named size.
``render_gallery(visual_fn, out_path)`` takes any ``visual_fn(prompt, seed)`` returning a scene
(or a plain image backdrop). The demo products and stand-in scenes are in demo.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from models.registry import DEFAULT_CHECKPOINT, load_checkpoint
from models.text_encoder import TextEncoder
from service.compose import NAMED_SIZES, compose_creative
from service.compose.textsetter import setter

from service.compose import CreativeContent

from .demo import (
    DemoProduct, demo_logo, demo_products, demo_visual, packshot_bottle_rgba, packshot_dress, packshot_mug,
)

GALLERY_SIZES = ("half_page", "medium_rectangle", "square", "leaderboard")
CELL_GAP = 24


# --------------------------------------------------------------------------- the sheet


def _draw_caption(sheet: Image.Image, xy: tuple[int, int], lines: list[tuple[str, int, tuple]]) -> None:
    d = ImageDraw.Draw(sheet)
    x, y = xy
    for text, px, color in lines:
        st = setter("sans", "bold" if px >= 15 else "regular")
        y += px
        st.draw_line(d, x, y, text, px, fill=color)
        y += int(px * 0.55)


def render_gallery(visual_fn: Callable[[str, int], "np.ndarray | Image.Image"], out_path: str | Path,
                   products: list[DemoProduct] | None = None) -> Path:
    """Render products x (half page, medium rectangle, square, leaderboard) into one PNG.

    Per row: the half page on the left; to its right the medium rectangle, the 1080 square shown
    at 404 px, a caption, and the leaderboard underneath. Variants rotate so every layout
    family shows up. ``visual_fn(prompt, seed)`` supplies the generated visual per product.
    """
    products = products or demo_products()
    g, row_h = CELL_GAP, 600
    sheet_w = g + 300 + g + 728 + g
    head = 56
    sheet = Image.new("RGB", (sheet_w, head + len(products) * (row_h + g) + g), (236, 238, 242))
    _draw_caption(sheet, (g, 10), [("adloom composition gallery", 20, (30, 34, 44)),
                                   ("half_page, medium_rectangle, square (shown at 404 px), leaderboard", 12,
                                    (110, 116, 128))])
    for r, prod in enumerate(products):
        visual = visual_fn(prod.prompt, r)
        y = head + r * (row_h + g)
        x1 = g + 300 + g
        cells = [("half_page", (g, y), None), ("medium_rectangle", (x1, y), None),
                 ("square", (x1 + 300 + g, y), (404, 404)), ("leaderboard", (x1, y + row_h - 90), None)]
        layouts = []
        for col, (name, pos, disp) in enumerate(cells):
            w, h = NAMED_SIZES[name]
            out = compose_creative(visual, prod.content, w, h, variant=(r + col) % 3)
            layouts.append(f"{name}: {out.layout}")
            img = out.image if disp is None else out.image.resize(disp, Image.Resampling.LANCZOS)
            sheet.paste(img, pos)
        c = prod.content
        was = f" (was {c.original_price:g})" if c.original_price else ""
        money = f"{c.currency} {c.price:g}{was}" if c.price else "no price"
        _draw_caption(sheet, (x1, y + 250 + 10), [
            (c.headline if len(c.headline) <= 34 else c.headline[:33] + "…", 15, (30, 34, 44)),
            (f"{c.locale} · {money} · font {c.font}", 12, (90, 96, 108)),
            (f"brand: {c.brand_name or '-'}{' + logo' if c.logo else ''} · visual: “{prod.prompt}”", 12, (90, 96, 108)),
            *[(t, 11, (120, 126, 138)) for t in layouts],
        ])
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path, "PNG", optimize=True)
    return out_path


def hero_products() -> list[DemoProduct]:
    """Photos x logos for the product-and-brand sheet: a lifestyle photo (the coffee cup bundled in
    scikit-image's wheel), a studio packshot on white, a transparent PNG; with a dark, a light, a
    gold and an opaque (boxed, JPEG-on-white style) logo drawn in code; no brand colours, so the
    logo sets the accent."""
    from skimage import data  # bundled sample photos (BSD-3 / public domain; see README)

    lifestyle = Image.fromarray(data.coffee())
    boxed = Image.new("RGB", (260, 110), (255, 255, 255))
    boxed.paste(demo_logo("BX", (20, 50, 120)), (10, 7), demo_logo("BX", (20, 50, 120)))
    rows = [("coffee earth minimal", "Stoneware espresso cup", lifestyle, demo_logo("KW", (24, 24, 28)), "dark logo"),
            ("fresh summer coral beach", "Linen summer dress", packshot_dress(), demo_logo("LM", (245, 245, 240)),
             "light logo"),
            ("red festive gold bokeh", "Vitamin C serum", packshot_bottle_rgba(), demo_logo("AU", (201, 162, 39)),
             "gold logo"),
            ("ocean mint stripes", "Ceramic travel mug", packshot_mug(), boxed, "boxed logo")]
    return [DemoProduct(prompt, CreativeContent(headline=title, subline="Free shipping, free returns.", price=29.0,
                                                currency="USD", brand_name=note, logo=logo, product_image=photo))
            for prompt, title, photo, logo, note in rows]


def render_heroes(visual_fn: Callable[[str, int], "np.ndarray | Image.Image"], out_path: str | Path) -> Path:
    """Every named size for each of ``hero_products``, variant 0 and 1 alternating by size, each
    creative scaled to fit a 180-px cell and captioned with its layout and product share."""
    products = hero_products()
    cell, g, cap = 180, 12, 30
    sizes = list(NAMED_SIZES.items())
    sheet = Image.new("RGB", (g + len(sizes) * (cell + g), 46 + len(products) * (cell + cap + g) + g),
                      (236, 238, 242))
    _draw_caption(sheet, (g, 8), [("adloom: the product and the brand lead (every named size)", 18, (30, 34, 44))])
    for r, prod in enumerate(products):
        visual = visual_fn(prod.prompt, r)
        y = 46 + r * (cell + cap + g)
        for i, (name, (w, h)) in enumerate(sizes):
            out = compose_creative(visual, prod.content, w, h, variant=i % 2)
            k = min(cell / w, cell / h)
            img = out.image.resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.LANCZOS)
            x = g + i * (cell + g)
            sheet.paste(img, (x, y))
            share = out.checks.get("product_share") or 0.0
            _draw_caption(sheet, (x, y + cell - 4), [(f"{name} {out.layout.split('/')[1]}", 10, (60, 66, 78)),
                                                     (f"product {share:.0%} · {prod.content.brand_name}", 10,
                                                      (110, 116, 128))])
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path, "PNG", optimize=True)
    return out_path


def model_visual_fn(checkpoint: str | None = None):
    """``visual_fn`` backed by the trained generator: encode the prompt, one forward pass per seed."""
    bundle, encoder = load_checkpoint(checkpoint or DEFAULT_CHECKPOINT), TextEncoder()

    def visual(prompt: str, seed: int = 0) -> np.ndarray:
        c = encoder.encode([prompt])  # (1, 384)
        return bundle.generator.generate(c, [seed])[0]  # a scene (ROWS, P)

    return visual


def main(argv: list[str] | None = None) -> None:
    """``python -m service.tools.gallery [--model [--checkpoint PREFIX]] [OUT.png]``: without
    --model the scenes come from the corpus recipes, with it from the trained generator, as served."""
    ap = argparse.ArgumentParser(prog="python -m service.tools.gallery")
    ap.add_argument("out", nargs="?", default="docs/gallery.png")
    ap.add_argument("--model", action="store_true", help="visuals from the trained generator")
    ap.add_argument("--checkpoint", default=None, help="checkpoint prefix (default: the shipped adloom-base)")
    ap.add_argument("--heroes", default=None, metavar="OUT2.png",
                    help="also render the photos-and-logos sheet (every named size) there")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    visual_fn = model_visual_fn(args.checkpoint) if args.model else demo_visual
    print(render_gallery(visual_fn, args.out))
    if args.heroes:
        print(render_heroes(visual_fn, args.heroes))


if __name__ == "__main__":
    main()
