"""What a creative says: ``CreativeContent`` (the caller's copy, prices, brand and images) and
how it becomes the ``Copy`` the layout sets (cleaned, localised, cut to the glyphs the fonts
have), with what the layout asks of it before fitting (widths, direction, headline length).
"""

from __future__ import annotations

import collections
import math
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import TypeGuard

from PIL import Image

from .families import LONG_HEADLINE_COLUMNS
from .fonts import cjk_region, clean_text, is_rtl, renderable, runs
from .images import image_key
from .items import Copy, button_size
from .linebreak import hyphen_lang
from .locale_text import default_cta
from .price import discount_percent, format_discount, format_price
from .logo import prepare_logo
from .product import ProductAsset
from .textsetter import TextSetter, setter


@dataclass
class CreativeContent:
    headline: str
    subline: str | None = None
    cta: str | None = None  # None: the locale's default (locale_text.default_cta)
    price: float | None = None
    original_price: float | None = None
    currency: str | None = None
    locale: str = "en-US"
    brand_name: str | None = None
    brand_colors: list[str] = field(default_factory=list)
    logo: Image.Image | None = None
    font: str = "sans"
    product_image: Image.Image | None = None


# One request's creatives (11 sizes x variants) share their content: its Copy (cleaned text,
# prices formatted by Babel, glyph coverage) is made once per worker and content, not per
# creative. A Copy is never changed after it is made, so sharing it gives the same pictures
# (tests/compose/test_share.py); ADLOOM_SHARE_COPY=0 makes it per creative again.
SHARE_COPY = os.environ.get("ADLOOM_SHARE_COPY", "1") != "0"
_COPIES: collections.OrderedDict[tuple, tuple[weakref.ref | None, tuple[Copy, ProductAsset | None]]] = (
    collections.OrderedDict())
_COPIES_MAX = 64
_copies_lock = threading.Lock()


def _copy_key(c: CreativeContent) -> tuple:
    """What ``make_copy`` reads of the content: the logo by what it is where the service decoded it
    (``images.image_key``: the same logo in a later request or another job's copy of it), else by
    identity, checked through a weak reference (a new image at a dead one's address is not taken
    for it)."""
    logo = None if c.logo is None else image_key(c.logo) or id(c.logo)
    return (c.headline, c.subline, c.cta, c.price, c.original_price, c.currency, c.locale, c.brand_name, c.font,
            logo)


def make_copy(c: CreativeContent) -> tuple[Copy, ProductAsset | None]:
    """The content as the layout sets it (module doc), and the prepared logo (None without one);
    shared between the creatives of one content (``SHARE_COPY``)."""
    if not SHARE_COPY:
        return _make_copy(c)
    key = _copy_key(c)
    with _copies_lock:
        hit = _COPIES.get(key)
        if hit is not None and (hit[0] is None or hit[0]() is c.logo):
            _COPIES.move_to_end(key)
            return hit[1]
    made = _make_copy(c)
    with _copies_lock:
        # only a logo keyed by identity needs its object checked on a hit
        _COPIES[key] = (weakref.ref(c.logo) if isinstance(key[-1], int) else None, made)
        while len(_COPIES) > _COPIES_MAX:
            _COPIES.popitem(last=False)
    return made


def _make_copy(c: CreativeContent) -> tuple[Copy, ProductAsset | None]:
    cta = c.cta if c.cta is not None else default_cta(c.locale)
    raw = " ".join(filter(None, [c.headline, c.subline, cta, c.brand_name]))
    region = cjk_region(c.locale, raw)
    bold, regular = setter(c.font, "bold", region), setter(c.font, "regular", region)
    price = orig = disc = ""
    if _valid_amount(c.price):
        price = _keep_covered(format_price(c.price, c.currency, c.locale), bold)
        original = c.original_price if _valid_amount(c.original_price) else None
        pct = discount_percent(c.price, original)
        if pct is not None and original is not None:
            orig = _keep_covered(format_price(original, c.currency, c.locale), regular)
            disc = _keep_covered(format_discount(pct, c.locale), bold)
    logo = prepare_logo(c.logo) if c.logo is not None else None
    copy = Copy(
        headline=renderable(clean_text(c.headline), bold.stack),
        subline=renderable(clean_text(c.subline), regular.stack),
        cta=renderable(clean_text(cta), bold.stack),
        price=price,
        original_price=orig,
        discount=disc,
        brand=renderable(clean_text(c.brand_name), bold.stack),
        logo_aspect=(logo.image.width / max(1, logo.image.height)) if logo else 0.0,
        bold=bold,
        regular=regular,
        lang=hyphen_lang(c.locale),
    )
    return copy, logo


def _valid_amount(v: object) -> TypeGuard[float]:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0


def _keep_covered(text: str, st: TextSetter) -> str:
    """Drop glyph-less characters but keep Babel's no-break spaces (a price must not wrap)."""
    return "".join(t for _, t in runs(text, st.stack)).strip()


def measure_role(copy: Copy, role: str, px: float) -> float:
    """Width a role needs at px; used by banner plans to size their cells."""
    px = max(8, int(px))
    if role == "cta":
        return button_size(copy.bold, [copy.cta], px)[0] if copy.cta else 0.0
    if role == "headline":
        return copy.bold.width(copy.headline, px) if copy.headline else 0.0
    if role == "brand":
        if copy.logo_aspect:
            return px * 2.0 * copy.logo_aspect
        return copy.bold.width(copy.brand, px) if copy.brand else 0.0
    if role == "logo":  # the logo's width at px high (0 without a logo)
        return px * copy.logo_aspect
    return 0.0


RTL_LANGUAGES = frozenset({"ar", "he", "iw", "fa", "ur", "ps", "yi"})


def right_to_left(content: CreativeContent, copy: Copy) -> bool:
    """Right-to-left copy: the headline's first strong character, or an RTL locale without copy in another script."""
    if copy.headline:
        return is_rtl(copy.headline)
    return (content.locale or "").replace("_", "-").split("-")[0].lower() in RTL_LANGUAGES


def long_headline(copy: Copy, w: int, h: int, aspect: str) -> bool:
    """A headline over LONG_HEADLINE_COLUMNS widths of the canvas at full type size."""
    if aspect == "banner" or not copy.headline:
        return False
    px = 0.1 * min(w, h)
    return copy.bold.width(copy.headline, max(8, int(px))) > LONG_HEADLINE_COLUMNS * (w - 2 * px)
