"""Layout families per aspect class, and fitting a stack of copy into its box.

A layout is a ``Plan``: background decor (the visual, solid panels, gradient scrims), a product
rectangle and one or more text ``Stack``s. Plans are computed from the canvas size, never by
scaling another size, so 728x90 flows left to right while 300x600 stacks top to bottom.

``fit_stack`` finds the largest type that fits (one scale parameter drives every role, with
per-role min/max and a fixed hierarchy headline > price > subline > CTA), then degrades in this
order before giving up: shorten the subline at a sentence/clause boundary, drop it, move the
original price to its own line, drop the badge, drop the original price, allow more headline
lines, drop the brand, go below the role minimums to a legibility floor; only then is the
headline cut with an ellipsis (reported as truncated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

from .typography import TextSetter, is_cjk

# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inset(self, dx: float, dy: float | None = None) -> "Rect":
        dy = dx if dy is None else dy
        return Rect(self.x + dx, self.y + dy, max(0.0, self.w - 2 * dx), max(0.0, self.h - 2 * dy))

    def box(self) -> list[int]:
        """Integer [x, y, w, h] that contains this rectangle."""
        x0, y0 = int(self.x), int(self.y)
        return [x0, y0, int(-(-self.right // 1)) - x0, int(-(-self.bottom // 1)) - y0]


@dataclass
class Decor:
    kind: str                  # "visual" | "panel" | "scrim"
    rect: Rect
    color: str = "panel"       # Palette attribute
    opacity: float = 1.0
    radius: float = 0.0
    side: str = "bottom"       # scrim: the side where it is densest


@dataclass
class Stack:
    rect: Rect
    roles: tuple[str, ...]
    halign: str = "left"
    valign: str = "middle"
    max_headline_lines: int = 3
    max_subline_lines: int = 2


@dataclass
class Plan:
    name: str
    aspect: str
    type_px: float             # the headline's maximum size; every role scales from it
    decor: list[Decor]
    product: Rect | None
    stacks: list[Stack]
    pad: int
    float_product: bool = False  # banner hero: product centred between copy and CTA after fitting


# --------------------------------------------------------------------------- layout families


def _pad(w: int, h: int) -> int:
    return round(min(max(min(w, h) * 0.065, 6), 72))


def _split_square(w, h, mirror, measure) -> Plan:
    p, share = _pad(w, h), (0.44 if w / h < 1.4 else 0.47)
    if measure("headline", 0.105 * min(w, h)) > 3.0 * (w * (1 - share) - 2 * p):
        share -= 0.08  # a long headline gets a wider copy column rather than a smaller size
    mw = round(w * share)
    media = Rect(w - mw if mirror else 0, 0, mw, h)
    panel = Rect(0 if mirror else mw, 0, w - mw, h)
    return Plan("split", "", 0.105 * min(w, h), [Decor("visual", media), Decor("panel", panel)],
                media.inset(p), [Stack(panel.inset(p), ("brand", "headline", "subline", "price", "cta"))], p)


def _hero_square(w, h, mirror, measure) -> Plan:
    p = _pad(w, h)
    brand_h = max(12.0, h * 0.085)
    top = Rect(p, p, w - 2 * p, brand_h)
    product = Rect(p, p + brand_h + p * 0.4, w - 2 * p, h * 0.53 - brand_h - p * 1.4)
    top_y = max(h * 0.55, p + brand_h + 1)  # tiny canvases: the brand row must not reach the copy
    copy = Rect(p, top_y, w - 2 * p, max(1.0, h - p - top_y))
    decor = [Decor("visual", Rect(0, 0, w, h)), Decor("scrim", Rect(0, h * 0.36, w, h * 0.64), "panel_dark", 0.92)]
    stacks = [Stack(top, ("brand",), "right" if mirror else "left", "top"),
              Stack(copy, ("headline", "subline", "price", "cta"), "center", "bottom", 2, 1)]
    return Plan("hero", "", 0.1 * min(w, h), decor, product, stacks, p)


def _card_side(w, h, mirror, measure, share: float = 0.58) -> Plan:
    p = _pad(w, h)
    cw = w * share - p
    card = Rect(w - p - cw if mirror else p, p, cw, h - 2 * p)
    product = Rect(p if mirror else card.right + p * 0.7, p, w - cw - p * 2.7, h - 2 * p)
    decor = [Decor("visual", Rect(0, 0, w, h)),
             Decor("panel", card, "panel_light", 0.96, radius=min(w, h) * 0.035)]
    stacks = [Stack(card.inset(p * 0.9), ("brand", "headline", "subline", "price", "cta"))]
    return Plan("card", "", 0.1 * min(w, h), decor, product, stacks, p)


def _hero_landscape(w, h, mirror, measure) -> Plan:
    p = _pad(w, h)
    tw = w * 0.5
    text = Rect(w - p - tw if mirror else p, p, tw, h - 2 * p)
    product = Rect(p if mirror else w * 0.56, p, w * 0.44 - p, h - 2 * p)
    decor = [Decor("visual", Rect(0, 0, w, h)),
             Decor("scrim", Rect(w * 0.32 if mirror else 0, 0, w * 0.68, h), "panel_dark", 0.9, side="right" if mirror else "left")]
    return Plan("hero", "", 0.105 * h, decor, product,
                [Stack(text, ("brand", "headline", "subline", "price", "cta"), "left")], p)


def _split_portrait(w, h, mirror, measure) -> Plan:
    p = _pad(w, h)
    mh = round(h * 0.48)
    media = Rect(0, h - mh if mirror else 0, w, mh)
    panel = Rect(0, 0 if mirror else mh, w, h - mh)
    return Plan("split", "", 0.1 * w, [Decor("visual", media), Decor("panel", panel)], media.inset(p),
                [Stack(panel.inset(p), ("brand", "headline", "subline", "price", "cta"), "center", "middle", 4, 3)], p)


def _hero_portrait(w, h, mirror, measure) -> Plan:
    p = _pad(w, h)
    brand_h = max(14.0, w * 0.09)
    product = Rect(p, p + brand_h + p * 0.5, w - 2 * p, h * 0.5 - brand_h - p * 1.5)
    decor = [Decor("visual", Rect(0, 0, w, h)), Decor("scrim", Rect(0, h * 0.42, w, h * 0.58), "panel_dark", 0.92)]
    stacks = [Stack(Rect(p, p, w - 2 * p, brand_h), ("brand",), "center", "top"),
              Stack(Rect(p, max(h * 0.53, p + brand_h + 1), w - 2 * p, max(1.0, h - p - max(h * 0.53, p + brand_h + 1))),
                    ("headline", "subline", "price", "cta"), "center", "bottom", 4, 3)]
    return Plan("hero", "", 0.1 * w, decor, product, stacks, p)


def _poster_portrait(w, h, mirror, measure) -> Plan:
    p = _pad(w, h)
    band = Rect(0, h * 0.62 if mirror else 0, w, h * 0.38)
    product = Rect(p, p if mirror else band.bottom + p, w - 2 * p, h * 0.38 - p)
    bottom = Rect(p, h * 0.40 if mirror else h * 0.78, w - 2 * p, h * 0.20 - p)
    decor = [Decor("visual", Rect(0, 0, w, h)), Decor("panel", band),
             Decor("scrim", Rect(0, h * 0.30 if mirror else h * 0.70, w, h * 0.32 if mirror else h * 0.30), "panel_dark", 0.9,
                   side="bottom")]
    stacks = [Stack(band.inset(p), ("brand", "headline", "subline"), "center", "middle", 4, 3),
              Stack(bottom, ("price", "cta"), "center", "middle")]
    return Plan("poster", "", 0.1 * w, decor, product, stacks, p)


def _banner_cells(w, h, measure, left: float, right: float, brand: bool) -> tuple[list[Stack], float, float]:
    """Brand | copy | CTA cells between x=left and x=right; returns stacks and the copy extent."""
    py, gap = _banner_pads(w, h)
    b = _banner_type(w, h)
    cta_w = min(measure("cta", b * 0.5), w * 0.26)
    brand_w = min(measure("brand", b * 0.45), w * 0.16) if brand and w >= 500 else 0.0
    stacks = []
    x = left
    if brand_w:
        stacks.append(Stack(Rect(x, py, brand_w, h - 2 * py), ("brand",), "left", "middle"))
        x += brand_w + gap
    copy = Rect(x, py, max(1.0, right - cta_w - gap - x), h - 2 * py)
    lines = 3 if h >= 200 else 2
    stacks.append(Stack(copy, ("headline", "subline", "price"), "left", "middle", lines, 1 if h < 200 else 2))
    if cta_w:
        stacks.append(Stack(Rect(right - cta_w, py, cta_w, h - 2 * py), ("cta",), "center", "middle"))
    return stacks, copy.x, copy.right


def _banner_pads(w, h) -> tuple[int, int]:
    return round(min(max(h * 0.12, 4), 28)), round(min(max(h * 0.22, 8), 40))


def _banner_type(w, h) -> float:
    return min(0.36 * h, 0.055 * w)


def _split_banner(w, h, mirror, measure) -> Plan:
    py, gap = _banner_pads(w, h)
    mw = round(min(h * 1.5, w * 0.28))
    media = Rect(w - mw if mirror else 0, 0, mw, h)
    panel = Rect(0 if mirror else mw, 0, w - mw, h)
    stacks, _, _ = _banner_cells(w, h, measure, panel.x + gap, panel.right - gap, True)
    return Plan("split", "", _banner_type(w, h), [Decor("visual", media), Decor("panel", panel)],
                media.inset(py), stacks, py)


def _hero_banner(w, h, mirror, measure) -> Plan:
    py, gap = _banner_pads(w, h)
    pw = round(min(h * 1.3, w * 0.22))
    decor = [Decor("visual", Rect(0, 0, w, h)), Decor("scrim", Rect(0, 0, w * 0.75, h), "panel_dark", 0.9, side="left")]
    stacks, _, copy_right = _banner_cells(w, h, measure, gap, w - gap - pw - gap, True)
    # The product sits between the copy and the CTA, so the eye runs headline -> product -> button.
    product = Rect(copy_right + gap, py, pw, h - 2 * py)
    if stacks[-1].roles == ("cta",):
        cta = stacks[-1]
        stacks[-1] = replace(cta, rect=Rect(product.right + gap, cta.rect.y, cta.rect.w, cta.rect.h))
    return Plan("hero", "", _banner_type(w, h), decor, product, stacks, py, float_product=True)


def _card_banner(w, h, mirror, measure) -> Plan:
    py, gap = _banner_pads(w, h)
    pw = round(min(h * 1.4, w * 0.24))
    card = Rect(pw + gap * 0.5, py * 0.6, w - pw - gap * 0.5 - py * 0.6, h - 1.2 * py)
    decor = [Decor("visual", Rect(0, 0, w, h)), Decor("panel", card, "panel_light", 0.96, radius=min(h * 0.12, 18))]
    stacks, _, _ = _banner_cells(w, h, measure, card.x + gap * 0.8, card.right - gap * 0.8, True)
    return Plan("card", "", _banner_type(w, h), decor, Rect(py, py, pw - py, h - 2 * py), stacks, py)


LayoutFn = Callable[..., Plan]
LAYOUTS: dict[str, tuple[tuple[str, LayoutFn], ...]] = {
    "square": (("split", _split_square), ("hero", _hero_square), ("card", _card_side)),
    "landscape": (("split", _split_square), ("hero", _hero_landscape), ("card", lambda *a: _card_side(*a, share=0.5))),
    "portrait": (("split", _split_portrait), ("hero", _hero_portrait), ("poster", _poster_portrait)),
    "banner": (("split", _split_banner), ("hero", _hero_banner), ("card", _card_banner)),
}


def make_plan(aspect: str, width: int, height: int, variant: int, measure: Callable[[str, float], float]) -> Plan:
    """The plan for a variant: family = variant mod 3; the next three variants mirror it."""
    families = LAYOUTS[aspect]
    name, fn = families[variant % len(families)]
    mirror = (variant // len(families)) % 2 == 1
    plan = fn(width, height, mirror, measure)
    plan.name = f"{aspect}/{name}" + ("-mirrored" if mirror else "")
    plan.aspect = aspect
    if min(width, height) >= 600:  # big canvases have room for a fuller description
        for st in plan.stacks:
            st.max_subline_lines += 1
    return plan


# --------------------------------------------------------------------------- fitting copy

# role: (min as a fraction of the plan's type_px, max fraction, absolute minimum px)
ROLE_RANGE = {
    "headline": (0.45, 1.0, 12),
    "price": (0.42, 0.80, 11),
    "subline": (0.32, 0.50, 10),
    "cta": (0.32, 0.46, 11),
    "brand": (0.34, 0.46, 10),
}
FLOOR_PX = {"headline": 10, "price": 10, "subline": 9, "cta": 9, "brand": 8}
LEADING = {"headline": 1.12, "subline": 1.25, "cta": 1.1, "brand": 1.1}


@dataclass
class Copy:
    """The texts to set, already cleaned and formatted; empty string = absent."""

    headline: str
    subline: str
    cta: str
    price: str
    original_price: str
    discount: str
    brand: str
    logo_aspect: float  # width / height of the logo, 0 without a logo
    bold: TextSetter
    regular: TextSetter
    lang: str = "en_US"  # hyphenation dictionary

    def setter(self, role: str) -> TextSetter:
        return self.regular if role in ("subline", "original_price") else self.bold


@dataclass
class Placed:
    role: str
    text: str | None
    box: Rect
    px: int = 0
    lines: list[str] = field(default_factory=list)
    setter: TextSetter | None = None
    align: str = "left"
    pitch: float = 0.0
    text_box: Rect | None = None  # where the lines go (inside a button/badge), default = box
    truncated: bool = False


@dataclass
class _Cfg:
    subline: str
    price_mode: str = "row"      # row | stack | nobadge | noorig
    headline_lines: int = 3
    brand: bool = True
    floor: bool = False
    breaks: str = "none"         # over-long words: none -> hyphenate (dictionary) -> any (last resort)
    drop: tuple[str, ...] = ()


@dataclass
class _Item:
    role: str
    h: float
    w: float
    gap: float
    place: Callable[[float, float, float, str], list[Placed]]


def button_size(setter: TextSetter, lines: list[str], px: int) -> tuple[float, float]:
    """(w, h) of a CTA button holding these label lines."""
    asc, desc = setter.metrics(" ".join(lines), px)
    label_w = max((setter.width(l, px) for l in lines), default=0.0)
    label_h = (len(lines) - 1) * px * LEADING["cta"] + asc + desc
    return label_w + 2.0 * px, label_h + 0.45 * px


def badge_size(setter: TextSetter, text: str, px: int) -> tuple[float, float]:
    asc, desc = setter.metrics(text, px)
    return setter.width(text, px) + 0.9 * px, asc + desc + 0.1 * px


def _sizes(plan_px: float, t: float, floor: bool, caps: dict[str, float]) -> dict[str, int]:
    s = {}
    for role, (lo, hi, absmin) in ROLE_RANGE.items():
        lo_px = FLOOR_PX[role] if floor else max(absmin, lo * plan_px)
        hi_px = max(lo_px, hi * plan_px, absmin)
        s[role] = lo_px + (hi_px - lo_px) * t
    for role, cap in caps.items():
        s[role] = min(s[role], cap)
    # Hierarchy: headline > price > subline, and the CTA label never outshouts the price.
    s["price"] = min(s["price"], s["headline"] * 0.85)
    s["subline"] = min(s["subline"], s["price"] * 0.8, s["headline"] * 0.62)
    s["cta"] = min(s["cta"], s["price"] * 0.9, s["headline"] * 0.72)
    s["brand"] = min(s["brand"], s["headline"] * 0.6)
    return {r: max(int(v), FLOOR_PX[r]) for r, v in s.items()}


def _text_item(role: str, setter: TextSetter, text: str, px: int, width: float, max_lines: int, gap: float,
               breaks: str = "none", lang: str = "en_US") -> _Item | None:
    lines = setter.wrap(text, px, width, breaks, lang)
    if not lines or len(lines) > max_lines:
        return None
    return _text_item_from_lines(role, setter, lines, px, gap, text=text, width=width, breaks=breaks, lang=lang)


def _text_item_from_lines(role, setter, lines, px, gap, truncated=False, text=None, width=0.0, breaks="any", lang="en_US") -> _Item:
    asc, desc = setter.metrics(" ".join(lines), px)
    pitch = px * LEADING.get(role, 1.15)
    h = (len(lines) - 1) * pitch + asc + desc
    w = max(setter.width(l, px) for l in lines)

    def place(x, y, avail, align):
        final = lines
        if text is not None and len(lines) > 1:  # even out the lines only once the size is settled
            final = setter.wrap_balanced(text, px, width, breaks, lang) or lines
        fw = max(setter.width(l, px) for l in final)
        ox = x + {"left": 0, "center": (avail - fw) / 2, "right": avail - fw}[align]
        shown = text if text is not None and not truncated else join_lines(final)
        return [Placed(role, shown, Rect(ox, y, fw, h), px, final, setter, align, pitch, truncated=truncated)]

    return _Item(role, h, w, gap, place)


def join_lines(lines: list[str]) -> str:
    """Lines back to running text: no space at CJK line ends, hyphens of split words removed."""
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out.endswith("-") and out[-2:-1].isalpha() and line[:1].isalpha():
            out = out[:-1] + line
        elif is_cjk(out[-1]) or is_cjk(line[0]):
            out += line
        else:
            out += " " + line
    return out


def _price_item(copy: Copy, px: int, width: float, mode: str, gap: float) -> _Item | None:
    bold, reg = copy.bold, copy.regular
    parts = [("price", copy.price, bold, px)]
    if copy.original_price and mode in ("row", "stack", "nobadge"):
        parts.append(("original_price", copy.original_price, reg, max(FLOOR_PX["price"], int(px * 0.62))))
    if copy.discount and mode in ("row", "stack"):
        parts.append(("discount", copy.discount, bold, max(FLOOR_PX["price"], int(px * 0.52))))
    rows = [parts] if mode != "stack" or len(parts) == 1 else [parts[:1], parts[1:]]
    sep = px * 0.4
    row_dims = []
    for row in rows:
        dims = []
        for role, text, st, p in row:
            if role == "discount":
                dims.append(badge_size(st, text, p))
            else:
                asc, desc = st.metrics(text, p)
                dims.append((st.width(text, p), asc + desc))
        rw = sum(d[0] for d in dims) + sep * (len(dims) - 1)
        if rw > width:
            return None
        row_dims.append((dims, rw, max(d[1] for d in dims)))
    row_gap = px * 0.15
    total_h = sum(r[2] for r in row_dims) + row_gap * (len(rows) - 1)
    total_w = max(r[1] for r in row_dims)
    price_asc = bold.metrics(copy.price, px)[0]

    def place(x, y, avail, align):
        out: list[Placed] = []
        yy = y
        for row, (dims, rw, rh) in zip(rows, row_dims):
            xx = x + {"left": 0, "center": (avail - rw) / 2, "right": avail - rw}[align]
            # Share one baseline: the big price's; smaller parts sit on it (badge centred on it).
            base = yy + (price_asc if row is rows[0] else rh * 0.78)
            for (role, text, st, p), (dw, dh) in zip(row, dims):
                if role == "discount":
                    asc_p = st.metrics(text, p)[0]
                    top = base - asc_p * 0.72 - dh / 2 + p * 0.05
                    top = min(max(top, yy), yy + rh - dh)
                    tb = Rect(xx + 0.45 * p, top + 0.05 * p, dw - 0.9 * p, dh - 0.1 * p)
                    out.append(Placed(role, text, Rect(xx, top, dw, dh), p, [text], st, "center", p, text_box=tb))
                else:
                    asc_p = st.metrics(text, p)[0]
                    out.append(Placed(role, text, Rect(xx, base - asc_p, dw, dh), p, [text], st, "left", p))
                xx += dw + sep
            yy += rh + row_gap
        return out

    return _Item("price", total_h, total_w, gap, place)


def _cta_item(copy: Copy, px: int, width: float, gap: float, allow_truncate: bool, max_lines: int = 1) -> _Item | None:
    """The CTA button; its label takes one line (two only once sizes are at their floor)."""
    st = copy.bold
    inner = width - 2.0 * px
    if inner <= px:
        return None
    lines = st.wrap(copy.cta, px, inner)
    truncated = False
    if len(lines) > max_lines and not allow_truncate:
        return None
    if len(lines) > 2:
        if not allow_truncate:
            return None
        lines = [lines[0], st.ellipsize(" ".join(lines[1:]), px, inner)]
        truncated = True
    bw, bh = button_size(st, lines, px)

    def place(x, y, avail, align):
        ox = x + {"left": 0, "center": (avail - bw) / 2, "right": avail - bw}[align]
        box = Rect(ox, y, bw, bh)
        return [Placed("cta", " ".join(lines), box, px, lines, st, "center", px * LEADING["cta"],
                       text_box=box.inset(px, 0.225 * px), truncated=truncated)]

    return _Item("cta", bh, bw, gap, place)


def _logo_item(aspect: float, px: int, width: float, gap: float) -> _Item:
    h = px * 2.0
    w = h * aspect
    if w > width * 0.7:
        w = width * 0.7
        h = w / aspect

    def place(x, y, avail, align):
        ox = x + {"left": 0, "center": (avail - w) / 2, "right": avail - w}[align]
        return [Placed("logo", None, Rect(ox, y, w, h))]

    return _Item("logo", h, w, gap, place)


def _items(stack: Stack, copy: Copy, cfg: _Cfg, sizes: dict[str, int], lenient: list[str] | None = None) -> list[_Item] | None:
    """The stack's items at these sizes, or None when something does not fit its width/lines.

    With ``lenient`` (a list), items that do not fit are skipped and their roles appended to it.
    """
    width = stack.rect.w
    allow_truncate = lenient is not None
    items: list[_Item] = []
    for role in stack.roles:
        if role in cfg.drop:
            continue
        px = sizes[role]
        item: _Item | None
        if role == "brand":
            if not cfg.brand or not (copy.brand or copy.logo_aspect):
                continue
            if copy.logo_aspect:
                item = _logo_item(copy.logo_aspect, px, width, 0.0)
            else:
                item = _text_item("brand", copy.bold, copy.brand, px, width, 1, 0.0)
        elif role == "headline":
            if not copy.headline:
                continue
            item = _text_item("headline", copy.bold, copy.headline, px, width, cfg.headline_lines, px * 0.1, cfg.breaks, copy.lang)
        elif role == "subline":
            if not cfg.subline:
                continue
            item = _text_item("subline", copy.regular, cfg.subline, px, width, stack.max_subline_lines, px * 0.35, cfg.breaks, copy.lang)
        elif role == "price":
            if not copy.price:
                continue
            item = _price_item(copy, px, width, cfg.price_mode, px * 0.35)
        else:  # cta
            if not copy.cta:
                continue
            item = _cta_item(copy, px, width, px * 0.9, allow_truncate, 2 if cfg.floor else 1)
        if item is None:
            if lenient is None:
                return None
            lenient.append(role)
            continue
        items.append(item)
    if items:
        items[0].gap = 0.0
        if len(items) > 1 and items[0].role in ("brand", "logo"):
            items[1].gap = max(items[1].gap, items[0].h * 0.55)  # clear space under the brand
    return items


def _height(items: list[_Item]) -> float:
    return sum(i.h + i.gap for i in items)


def shorten_options(text: str) -> list[str]:
    """The subline, then its first sentence, then its first clause (each only if shorter)."""
    out = [text] if text else []
    m = re.match(r"^(.+?[.!?。！？])(\s|$)", text)
    if m and len(m.group(1)) < len(text):
        out.append(m.group(1))
    m = re.match(r"^(.{12,}?)(?:[,;:，、；]| [-–—] )", out[-1] if out else "")
    if m and len(m.group(1)) < len(out[-1]):
        out.append(m.group(1).rstrip())
    return out


def _ladder(stack: Stack, copy: Copy) -> list[_Cfg]:
    """Configurations from richest to most degraded (see module doc)."""
    subs = shorten_options(copy.subline) if "subline" in stack.roles else []
    hl = stack.max_headline_lines
    cfgs = [_Cfg(s, headline_lines=hl) for s in subs] or [_Cfg("", headline_lines=hl)]
    base = _Cfg("", headline_lines=hl)
    if "price" in stack.roles and copy.original_price:
        for mode in ("stack", "nobadge", "noorig"):
            cfgs.append(base := replace(base, price_mode=mode))
    cfgs.append(base := replace(base, headline_lines=99))
    if "brand" in stack.roles and (copy.brand or copy.logo_aspect) and len(stack.roles) > 1:
        cfgs.append(base := replace(base, brand=False))
    cfgs.append(base := replace(base, floor=True))
    # Each step first without splitting words, then with dictionary hyphenation of over-long ones.
    cfgs = [c for cfg in cfgs for c in (cfg, replace(cfg, breaks="hyphenate"))]
    cfgs.append(replace(base, breaks="any"))
    return cfgs


@dataclass
class Fit:
    placed: list[Placed]
    truncated: bool          # an ellipsis was used or a required element (headline/price/CTA) dropped
    dropped: list[str]


def fit_stack(stack: Stack, copy: Copy, type_px: float, caps: dict[str, float] | None = None) -> Fit:
    """Place the stack's copy in its rect at the largest sizes that fit (module doc for the rules)."""
    caps = caps or {}
    for cfg in _ladder(stack, copy):
        items = _search(stack, copy, cfg, type_px, caps)
        if items is not None:
            placed = _place(stack, items)
            return Fit(placed, any(p.truncated for p in placed), [])
    items, dropped = _last_resort(stack, copy, type_px, caps)
    placed = _place(stack, items)
    return Fit(placed, True, dropped)


def _search(stack, copy, cfg, type_px, caps) -> list[_Item] | None:
    def attempt(t):
        items = _items(stack, copy, cfg, _sizes(type_px, t, cfg.floor, caps))
        return items if items is not None and _height(items) <= stack.rect.h else None

    best = attempt(0.0)
    if best is None:
        return None
    top = attempt(1.0)
    if top is not None:
        return top
    lo, hi = 0.0, 1.0
    for _ in range(7):  # ~1% of the size range: finer steps are invisible
        mid = (lo + hi) / 2
        got = attempt(mid)
        if got is not None:
            lo, best = mid, got
        else:
            hi = mid
    return best


def _last_resort(stack: Stack, copy: Copy, type_px: float, caps) -> tuple[list[_Item], list[str]]:
    """Floors, no subline/brand/badge; the headline takes the height left, ellipsized.

    If not even one headline line fits, the price and then the CTA give up their room.
    """
    sizes = _sizes(type_px, 0.0, True, caps)
    required = [r for r in ("price", "cta") if r in stack.roles and getattr(copy, r)]
    has_headline = bool(copy.headline) and "headline" in stack.roles
    for k in range(len(required) + 1):
        drop = tuple(required[:k])
        failed: list[str] = []
        cfg = _Cfg("", price_mode="noorig", brand=False, floor=True, drop=drop + ("headline",))
        others = _items(stack, copy, cfg, sizes, lenient=failed) or []
        room = stack.rect.h - _height(others)
        last = k == len(required)
        if not has_headline:
            if room >= 0 or last:
                return others, list(drop) + failed
            continue
        head = _truncated_headline(copy, sizes["headline"], stack.rect.w, room)
        if head is None and not last:
            continue
        if head is None:  # not even one line: shrink one line to the room there is
            px = max(6, int(min(sizes["headline"], max(room, 8.0) / 1.4)))
            line = copy.bold.ellipsize(copy.headline, px, stack.rect.w)
            head = _text_item_from_lines("headline", copy.bold, [line], px, 0.0, truncated=True)
        if others:
            others[0].gap = max(others[0].gap, head.h * 0.15)
        return [head] + others, list(drop) + failed
    return [], list(required)


def _truncated_headline(copy: Copy, px: int, width: float, room: float) -> _Item | None:
    st = copy.bold
    asc, desc = st.metrics(copy.headline, px)
    pitch = px * LEADING["headline"]
    n = int((room - asc - desc) // pitch) + 1 if room >= asc + desc else 0
    if n < 1:
        return None
    lines = st.wrap(copy.headline, px, width)
    if len(lines) <= n:
        return _text_item_from_lines("headline", st, lines, px, 0.0)
    rest = " ".join(lines[n - 1:])
    kept = lines[: n - 1] + [st.ellipsize(rest, px, width)]
    return _text_item_from_lines("headline", st, kept, px, 0.0, truncated=True)


def _place(stack: Stack, items: list[_Item]) -> list[Placed]:
    r = stack.rect
    total = _height(items)
    y = r.y + {"top": 0.0, "middle": (r.h - total) / 2, "bottom": r.h - total}[stack.valign]
    y = max(r.y, y) if total <= r.h else r.y
    out: list[Placed] = []
    for it in items:
        y += it.gap
        out.extend(it.place(r.x, y, r.w, stack.halign))
        y += it.h
    return out
