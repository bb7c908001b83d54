"""The colours a request's images bring to its scene: the logo's and a cut-out product's.

Precedence for the scene's palette (service/understanding/request.py puts these in their place):
style colours > brand colours > logo > product image > product text > the learned palette. So:

- the logo's dominant saturated colour is the scene's **accent** (a touch of the brand in the scene;
  the brand elements, panel, CTA and accent, take it in ``palette.build_palette``), only when the
  caller gave no brand colours (those lead);
- a product that is cut out (a transparent PNG, a packshot on a plain background) gives its dominant
  saturated colour as a **motif**, so the scene is drawn toward the product's colours; a photo with
  its own background gives nothing (its background, not the product, would dominate the count).

Greys, near-black and near-white give nothing: they say nothing about a brand. The work is the
images' own (prepared once per image object and cached, see product.py and logo.py); it runs where
the images are decoded, off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .logo import logo_colours, prepare_logo
from .palette import to_hex
from .product import prepare_product


@dataclass(frozen=True)
class SceneColour:
    text: str    # what the response's ``understood`` shows as the colour's text
    hex: str
    role: str    # "accent" (logo) or "motif" (product)
    source: str  # "logo" or "photo"


def scene_colours(product: Image.Image | None, logo: Image.Image | None,
                  brand_colours: bool) -> list[SceneColour]:
    """The images' colours for the scene, in precedence order (module doc)."""
    out: list[SceneColour] = []
    if logo is not None and not brand_colours:
        vivid = logo_colours(prepare_logo(logo)).vivid
        if vivid:
            out.append(SceneColour("logo", to_hex(vivid[0]), "accent", "logo"))
    if product is not None:
        # not segmented here (the serving process would pay for GrabCut on every new photo): a
        # photo's colours reach the palette in composition (paint.photo_colours)
        asset = prepare_product(product, cut_busy=False)
        if asset.kind != "card":
            vivid = logo_colours(asset).vivid
            if vivid:
                out.append(SceneColour("product image", to_hex(vivid[0]), "motif", "photo"))
    return out
