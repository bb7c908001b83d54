"""Composition and image encoding of one creative (CPU work, run in the compose pool).

``build_content`` turns a request (and its decoded images) into what the compositor lays out;
``render_creative`` composes one size × variant around a generated scene (rendered at that
size) and encodes it, with ``layers`` also the whole creative as SVG (``layers.svg``: live text
over the embedded background) and the scene alone at that size as JSON, SVG and PNG
(``layers.scene``); ``render_jobs`` does several of them in one call per compose worker.
"""
from __future__ import annotations

import base64
import time
from collections.abc import Callable

import numpy as np

from models.scene import format as scene_format
from models.scene.raster_skia import cached_thumbnail, remember_thumbnail
from models.scene.raster_skia import render_image as render_scene_image
from models.scene.svg import to_svg
from service.compose import CreativeContent, compose_creative, encode_image, parse_size, warm_up
from service.compose.paint import is_scene
from service.compose.svg_export import creative_svg
from service.results import Rendered, checks_of
from service.schemas import CreativeRequest


def build_content(req: CreativeRequest, images: dict) -> CreativeContent:
    """The request's copy, price, brand and images, as the compositor takes them."""
    p, copy = req.product, req.copy_
    return CreativeContent(
        headline=copy.headline or p.title, subline=copy.subline, cta=copy.cta, price=p.price,
        original_price=p.original_price, currency=p.currency, locale=req.audience.locale,
        brand_name=req.brand.name, brand_colors=list(req.brand.colors), logo=images.get("logo"),
        font=req.brand.font, product_image=images.get("product"))


def render_creative(visual: np.ndarray, content: CreativeContent, size: str, variant: int, seed: int, fmt: str,
                    layers: bool, b64: bool, png_level: int) -> tuple[Rendered, float, float]:
    """Compose one creative and encode it -> (Rendered, compose seconds, image-encode seconds).

    ``b64`` also base64-encodes the image here, off the event loop (for a JSON answer). The
    caller records the timings (this may run in a compose worker process, whose metrics nobody
    scrapes)."""
    sz = parse_size(size)
    t = time.perf_counter()
    out = compose_creative(visual, content, sz.width, sz.height, variant=variant)
    t1 = time.perf_counter()
    data = encode_image(out.image, fmt, compress_level=png_level)
    background = encode_image(out.background, "png", compress_level=png_level) if layers else None
    scene = scene_layer(visual, sz.width, sz.height, out.keep_out, png_level) if layers and is_scene(visual) else None
    svg = creative_svg(sz.width, sz.height, background, out.svg_runs) if background is not None else None
    t2 = time.perf_counter()
    return Rendered(size=sz.name, width=sz.width, height=sz.height, variant=variant, seed=seed,
                    format=fmt, image=data, layout=out.layout, checks=checks_of(out.checks),
                    layout_scores=dict(out.scores), background=background, scene=scene, svg=svg,
                    design=dict(out.design),
                    elements=list(out.elements) if layers else None,
                    image_b64=base64.b64encode(data) if b64 else None), t1 - t, t2 - t1


Job = tuple[np.ndarray, np.ndarray | None, str, int, int]  # (scene, its thumbnail if known, size, variant, seed)


def job(scene: np.ndarray, size: str, variant: int, seed: int) -> Job:
    """A compose job; it carries the scene's thumbnail when this process has it, so a compose
    worker process does not render it again for the palette."""
    return scene, cached_thumbnail(scene) if is_scene(scene) else None, size, variant, seed


JOB_FIXED_S = 0.008  # a creative's compose + encode seconds that do not grow with its size
JOB_S_PER_MPX = 0.022  # ... and those that do, per megapixel


def job_cost(j: Job) -> float:
    """A compose job's estimated CPU cost, for splitting one request's jobs over the workers:
    linear in the canvas's pixels plus a fixed part (fitted to CPU time per creative across the
    named sizes, compose + PNG, in a process that keeps freed memory as the compose workers do:
    about 8 ms plus 22 ms per megapixel on the 2-core box of bench/RESULTS.md, from 6.1 ms at
    320x50 to 49.8 ms at 1080x1920; it was 50 ms per megapixel before the speed work of issue 27,
    which left a story's share of a request overestimated by half), in estimated seconds of one
    core: the compose pool also orders requests by it."""
    sz = parse_size(j[2])
    return JOB_FIXED_S + sz.width * sz.height / 1e6 * JOB_S_PER_MPX


def render_jobs(jobs: list[Job], render: Callable[..., tuple[Rendered, float, float]], content: CreativeContent,
                fmt: str, layers: bool, b64: bool, png_level: int) -> list[tuple[Rendered, float, float]]:
    """Several creatives of one request, in order: one call per compose worker and request, so
    the content (and its decoded images) crosses to a worker process once, not per creative."""
    out = []
    for visual, thumb, size, variant, seed in jobs:
        if thumb is not None:
            remember_thumbnail(visual, thumb)
        out.append(render(visual, content, size, variant, seed, fmt, layers, b64, png_level))
    return out


def scene_layer(scene: np.ndarray, w: int, h: int, keep_out: list, png_level: int) -> dict:
    """The scene alone at the creative's size, with the keep-out the composition used:
    {"json": the editable scene, "svg": one <g> per layer, "png": base64 of its rendering}."""
    moved = scene_format.apply_keep_out(scene, keep_out, w, h)
    png = encode_image(render_scene_image(moved, w, h, keep_out=keep_out), "png", compress_level=png_level)
    return {"json": scene_format.to_json(moved, keep_out=keep_out), "svg": to_svg(moved, w, h, keep_out),
            "png": base64.b64encode(png).decode("ascii")}


def warm_compose(png_level: int) -> None:
    """Fonts, glyph maps, hyphenation dictionaries, one creative per aspect class (the
    compositor's warm_up), then one creative through render + encode."""
    warm_up()
    content = CreativeContent(headline="Warm-up", subline="adloom", price=1.0, currency="USD")
    render_creative(scene_format.random_scene(np.random.default_rng(0)), content, "300x250", 0, 0, "png", True,
                    False, png_level)
