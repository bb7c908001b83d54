"""``python -m bench.precision``: its fixed requests are valid and cover what it claims, and its
comparison counts layouts, rankings and pixels as bench.identity does."""
from pathlib import Path

import numpy as np
from PIL import Image

from bench import precision
from bench.identity import N_REQUESTS, VARIANTS
from service.compose.sizes import NAMED_SIZES
from service.schemas import CreativeRequest


def test_the_requests_are_valid_and_cover_sizes_languages_and_colours():
    bodies = precision.bodies()
    reqs = [CreativeRequest.model_validate(b) for b in bodies]
    assert len(reqs) == N_REQUESTS and all(r.variants == VARIANTS and r.seed is not None for r in reqs)
    assert {r.sizes[0] for r in reqs} == set(NAMED_SIZES)
    assert len({r.audience.locale for r in reqs}) == 8
    assert sum(any(c in r.product.title for c in precision.COLOURED) for r in reqs) >= N_REQUESTS // 3
    assert bodies == precision.bodies()  # fixed: both runs send the same requests


def _png(path: Path, value: int) -> None:
    Image.fromarray(np.full((20, 30, 3), value, np.uint8)).save(path)


def test_compare_counts_layouts_rankings_and_pixels(tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir()
    b_dir.mkdir()
    a = {"encoder": "e", "requests": {"0": [0, 1], "1": [1, 0]}}
    b = {"encoder": "e+bf16", "requests": {"0": [0, 1], "1": [0, 1]}}  # request 1's ranking flipped
    for key, va, vb, la, lb in (("0_0", 100, 100, "split", "split"), ("0_1", 100, 101, "split", "split"),
                                ("1_0", 0, 200, "hero", "hero"), ("1_1", 50, 50, "hero", "band")):
        _png(a_dir / f"{key}.png", va)
        _png(b_dir / f"{key}.png", vb)
        a[key] = {"layout": la, "md5": str(va)}
        b[key] = {"layout": lb, "md5": str(vb)}
    r = precision.compare(a, b, a_dir, b_dir)
    assert r["creatives"] == 4 and r["requests"] == 2 and r["byte_identical"] == 2
    assert r["same_layout"] == 0.75 and r["same_ranking"] == 0.5
    assert r["within_bounds"] == 0.75 and list(r["outside_bounds"]) == ["1_0"]
    assert r["worst_psnr"]["case"] == "1_0"
