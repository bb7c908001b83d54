"""Colours as asked, through the HTTP API: what the response says it understood, and the scene it
returns (its JSON parameters and its pixels) on the named colours."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from models.scene.format import from_json
from models.scene.palette import delta_e, ground_colour, hex_to_rgb
from service.understanding.scene_eval import ground_error
from tests.conftest import product_request


def _rgb(h: str) -> np.ndarray:
    return np.array(hex_to_rgb(h))


async def _post(client, style: str | None = None, sizes=("medium_rectangle",), **extra) -> dict:
    body = product_request(sizes=list(sizes), return_layers=True, **extra)
    if style is not None:
        body["style"] = style
    r = await client.post("/creative", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _ground_de(creative: dict, target: str) -> float:
    """CIEDE2000 of the scene's ground (its JSON: the stops' mean in CIELAB) from ``target``; the
    stops themselves keep a gentle gradient around it, which the pixel check below bounds."""
    scene, _ = from_json(creative["layers"]["scene"]["json"])
    return float(delta_e(ground_colour(scene), _rgb(target)))


def _motif_hexes(creative: dict) -> set[str]:
    return {layer["color"].upper() for layer in creative["layers"]["scene"]["json"]["layers"]}


def _ground_pixels_de(creative: dict, target: str) -> float:
    """Median CIEDE2000 from ``target`` of the returned scene's pixels that no layer covers."""
    scene, _ = from_json(creative["layers"]["scene"]["json"])
    err = ground_error(scene, target)
    assert err is not None, "the layers cover the whole canvas"
    return err


def _png(creative: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(creative["layers"]["scene"]["png"]))).convert("RGB"))


@pytest.mark.parametrize("style,ground", [
    ("navy blue background, minimal", "#001146"),  # XKCD "navy blue"
    ("navy background", "#000080"),  # CSS navy
    ("#1B4F72 background", "#1B4F72"),
    ("background: rgb(27, 79, 114)", "#1B4F72"),
    ("on a ＃0A2540 backdrop", "#0A2540"),  # full-width hash
])
async def test_a_named_or_hex_ground_is_the_scene_ground(client, style, ground):
    j = await _post(client, style, sizes=("medium_rectangle", "leaderboard"))
    colours = j["understood"]["colors"]
    assert [(c["hex"], c["role"], c["source"]) for c in colours] == [(ground, "ground", "style")]
    for c in j["creatives"]:
        assert _ground_de(c, ground) < 3
        assert _ground_pixels_de(c, ground) < 4


async def test_roles_x_on_y_and_stripes(client):
    j = await _post(client, "golden bokeh lights on black")
    roles = {c["role"]: c["hex"] for c in j["understood"]["colors"]}
    assert roles == {"motif": "#FFD700", "ground": "#000000"}
    c = j["creatives"][0]
    assert _ground_de(c, "#000000") < 3 and _motif_hexes(c) == {"#FFD700"}

    j = await _post(client, "bold diagonal stripes in cobalt blue and white")
    motifs = [c["hex"] for c in j["understood"]["colors"] if c["role"] == "motif"]
    assert len(motifs) == 2 and "#FFFFFF" in motifs
    assert _motif_hexes(j["creatives"][0]) <= set(motifs)


async def test_modified_names_move_the_right_way(client):
    light = (await _post(client, "light blue background"))["understood"]["colors"][0]["hex"]
    dark = (await _post(client, "dark blue background"))["understood"]["colors"][0]["hex"]
    from skimage.color import rgb2lab

    assert rgb2lab(_rgb(light))[0] > rgb2lab(_rgb("#0000FF"))[0] > rgb2lab(_rgb(dark))[0]


@pytest.mark.parametrize("title", ["Linen summer dress", "Black Friday deals on Bluetooth speakers",
                                   "Red wine glasses, set of 4", "Redmi Note 13 phone case"])
async def test_product_text_that_only_sounds_like_colours_names_none(client, title):
    j = await _post(client, None, product={"title": title, "price": 10})
    assert j["understood"]["colors"] == []


async def test_negation_and_an_unreadable_hex_are_reported_not_failed(client):
    j = await _post(client, "anything but pink, #12345G background")
    u = j["understood"]
    assert u["colors"] == [] and u["excluded"] and any("#12345G" in w for w in u["warnings"])

    j = await _post(client, "rgb(300, -5, 20) background")
    assert j["understood"]["colors"][0]["hex"] == "#FF0014"
    assert any("clamp" in w for w in j["understood"]["warnings"])


async def test_brand_colours_keep_their_422(client):
    r = await client.post("/creative", json=product_request(brand={"colors": ["#12345G"]}))
    assert r.status_code == 422 and "brand" in str(r.json()["detail"])


async def test_a_long_run_of_colour_words_is_a_clear_answer(client):
    style = ("red green blue navy teal gold " * 12)[:300]
    j = await _post(client, style)
    assert len(j["understood"]["colors"]) <= 5  # one ground, three motifs, one accent at most
    assert j["creatives"][0]["image"]


async def test_no_colour_named_leaves_the_learned_palette(client):
    plain = await _post(client, "fresh summer, minimal")
    assert plain["understood"]["colors"] == []
