"""Copy items: each role set at a given size as a block that knows its height and width and how
to place itself (a wrapped text block, the price row with its strike-through and badge, the CTA
button, the logo); ``Copy`` is what is set, ``Placed`` what placing gives, ``line_origins`` where
each line of a placed text starts. Copy fitting (fitting.py) chooses the sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from .linebreak import Breaks, is_cjk
from .plan import HAlign, Rect, align_offset
from .sizes import aspect_class
from .textsetter import TextSetter

# How much of the price row is kept: all in one row, original price and badge on a second row,
# no badge, no original price (the fitting ladder's steps, in this order).
PriceMode = Literal["row", "stack", "nobadge", "noorig"]

FLOOR_PX = {"headline": 10, "price": 10, "subline": 9, "cta": 9, "brand": 8}  # no role is set smaller
LEADING = {"headline": 1.12, "subline": 1.25, "cta": 1.1, "brand": 1.1}
LOGO_HEIGHT = 2.0         # a square logo is this many brand px tall (other shapes: the same area) ...
LOGO_MAX_WIDTH = 0.7      # ... and at most this share of a stack it shares with copy wide
# The least size of a logo, whatever the type came to (logo_min_height): LOGO_MIN_SHARE of the
# canvas's short side tall. A wordmark (wider than WORDMARK_ASPECT) is sized by its width: its least
# width grows with the square root of its aspect from that of a WORDMARK_ASPECT logo at the least
# height (a 5:1 wordmark 1.41x as wide, 0.71x as tall), so a long name is not drawn as tall as a
# mark and half the canvas wide; never under WORDMARK_MIN_PX tall. Banners: LOGO_BANNER_MIN_PX high
# from SMALL_BANNER_H px tall, LOGO_SMALL_BANNER_MIN_PX below (a 320x50 leaves a logo out rather
# than draw it smaller: logo.banner_logo_width).
LOGO_MIN_SHARE = 0.07
WORDMARK_ASPECT = 2.5
WORDMARK_MIN_PX = 14
LOGO_BANNER_MIN_PX, LOGO_SMALL_BANNER_MIN_PX, SMALL_BANNER_H = 24, 18, 90
BUTTON_PAD_X, BUTTON_PAD_Y = 1.0, 0.225  # CTA button padding on each side, in label px
BADGE_PAD_X, BADGE_PAD_Y = 0.45, 0.05    # discount badge padding on each side, in badge px
BADGE_CENTRE = 0.72       # the badge is centred this share of its ascent above the price baseline
ORIGINAL_PRICE_SCALE = 0.62  # original price size as a share of the price's
DISCOUNT_SCALE = 0.52        # discount badge text size as a share of the price's
PRICE_PART_GAP = 0.4      # between price, original price and badge, in price px
PRICE_ROW_GAP = 0.15      # between the rows of a stacked price, in price px
SECOND_ROW_BASELINE = 0.78  # baseline of a stacked price's second row, as a share of that row's height
LAST_RESORT_PX = 6        # a label or headline shrunk to the room left is never smaller than this


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
    align: HAlign = "left"
    pitch: float = 0.0
    text_box: Rect | None = None  # where the lines go (inside a button/badge), default = box
    truncated: bool = False


STRIKE_RAISE, STRIKE_WIDTH = 0.33, 0.08  # the original price's strike-through: above the baseline, thickness (px)


def line_origins(p: Placed, ox: float = 0.0, oy: float = 0.0) -> list[tuple[float, float, str, float]]:
    """Where each line of a placed text element starts: [(x, baseline, line, width)] relative to
    (ox, oy); the lines' block is centred vertically in the text box. The one
    place the compositor (glyph masks) and layers.svg (``<text>``) both take positions from."""
    st, tb = p.setter, p.text_box or p.box
    assert st is not None, "only text elements have lines"
    asc, desc = st.metrics(" ".join(p.lines), p.px)
    block = (len(p.lines) - 1) * p.pitch + asc + desc
    top = (tb.y - oy) + max(0.0, align_offset("middle", tb.h, block))
    out = []
    for i, line in enumerate(p.lines):
        lw = st.width(line, p.px)
        out.append(((tb.x - ox) + align_offset(p.align, tb.w, lw), top + asc + i * p.pitch, line, lw))
    return out


@dataclass
class Item:
    """One role at one size: its height and width, the gap above it, and how to place it."""

    role: str
    h: float
    w: float
    gap: float
    place: Callable[[float, float, float, HAlign], list[Placed]]


def button_size(setter: TextSetter, lines: list[str], px: int) -> tuple[float, float]:
    """(w, h) of a CTA button holding these label lines."""
    asc, desc = setter.metrics(" ".join(lines), px)
    label_w = max((setter.width(l, px) for l in lines), default=0.0)
    label_h = (len(lines) - 1) * px * LEADING["cta"] + asc + desc
    return label_w + 2 * BUTTON_PAD_X * px, label_h + 2 * BUTTON_PAD_Y * px


def badge_size(setter: TextSetter, text: str, px: int) -> tuple[float, float]:
    asc, desc = setter.metrics(text, px)
    return setter.width(text, px) + 2 * BADGE_PAD_X * px, asc + desc + 2 * BADGE_PAD_Y * px


def text_item(role: str, setter: TextSetter, text: str, px: int, width: float, max_lines: int, gap: float,
              breaks: Breaks = "none", lang: str = "en_US") -> Item | None:
    lines = setter.wrap(text, px, width, breaks, lang)
    if not lines or len(lines) > max_lines:
        return None
    return text_item_from_lines(role, setter, lines, px, gap, text=text, width=width, breaks=breaks, lang=lang)


def text_item_from_lines(role: str, setter: TextSetter, lines: list[str], px: int, gap: float,
                         truncated: bool = False, text: str | None = None, width: float = 0.0,
                         breaks: Breaks = "any", lang: str = "en_US") -> Item:
    asc, desc = setter.metrics(" ".join(lines), px)
    pitch = px * LEADING.get(role, 1.15)
    h = (len(lines) - 1) * pitch + asc + desc
    w = max(setter.width(l, px) for l in lines)

    def place(x, y, avail, align):
        final = lines
        if text is not None and len(lines) > 1:  # even out the lines only once the size is settled
            final = setter.wrap_balanced(text, px, width, breaks, lang) or lines
        fw = max(setter.width(l, px) for l in final)
        ox = x + align_offset(align, avail, fw)
        shown = text if text is not None and not truncated else join_lines(final)
        return [Placed(role, shown, Rect(ox, y, fw, h), px=px, lines=final, setter=setter, align=align, pitch=pitch,
                       truncated=truncated)]

    return Item(role, h, w, gap, place)


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


_PricePart = tuple[str, str, TextSetter, int]  # (role, text, setter, px)


def _price_rows(copy: Copy, px: int, mode: PriceMode) -> list[list[_PricePart]]:
    """Price, original price and badge as the mode keeps them: in one row, or the price on a row of its own."""
    parts = [("price", copy.price, copy.bold, px)]
    if copy.original_price and mode in ("row", "stack", "nobadge"):
        orig_px = max(FLOOR_PX["price"], int(px * ORIGINAL_PRICE_SCALE))
        parts.append(("original_price", copy.original_price, copy.regular, orig_px))
    if copy.discount and mode in ("row", "stack"):
        parts.append(("discount", copy.discount, copy.bold, max(FLOOR_PX["price"], int(px * DISCOUNT_SCALE))))
    return [parts] if mode != "stack" or len(parts) == 1 else [parts[:1], parts[1:]]


def _price_part_size(role: str, text: str, st: TextSetter, px: int) -> tuple[float, float]:
    if role == "discount":
        return badge_size(st, text, px)
    asc, desc = st.metrics(text, px)
    return st.width(text, px), asc + desc


def _place_price_part(part: _PricePart, x: float, base: float, row_y: float, row_h: float,
                      dw: float, dh: float) -> Placed:
    """One part on the shared baseline; the badge is centred on it, kept inside its row."""
    role, text, st, p = part
    asc = st.metrics(text, p)[0]
    if role != "discount":
        return Placed(role, text, Rect(x, base - asc, dw, dh), px=p, lines=[text], setter=st, align="left", pitch=p)
    top = base - asc * BADGE_CENTRE - dh / 2 + p * 0.05
    top = min(max(top, row_y), row_y + row_h - dh)
    tb = Rect(x + BADGE_PAD_X * p, top + BADGE_PAD_Y * p, dw - 2 * BADGE_PAD_X * p, dh - 2 * BADGE_PAD_Y * p)
    return Placed(role, text, Rect(x, top, dw, dh), px=p, lines=[text], setter=st, align="center", pitch=p,
                  text_box=tb)


def price_item(copy: Copy, px: int, width: float, mode: PriceMode, gap: float) -> Item | None:
    rows = _price_rows(copy, px, mode)
    sep = px * PRICE_PART_GAP
    row_dims = []
    for row in rows:
        dims = [_price_part_size(*part) for part in row]
        rw = sum(d[0] for d in dims) + sep * (len(dims) - 1)
        if rw > width:
            return None
        row_dims.append((dims, rw, max(d[1] for d in dims)))
    row_gap = px * PRICE_ROW_GAP
    total_h = sum(r[2] for r in row_dims) + row_gap * (len(rows) - 1)
    total_w = max(r[1] for r in row_dims)
    price_asc = copy.bold.metrics(copy.price, px)[0]

    def place(x, y, avail, align):
        out: list[Placed] = []
        yy = y
        for row, (dims, rw, rh) in zip(rows, row_dims):
            xx = x + align_offset(align, avail, rw)
            # Share one baseline: the big price's; smaller parts sit on it (badge centred on it).
            base = yy + (price_asc if row is rows[0] else rh * SECOND_ROW_BASELINE)
            for part, (dw, dh) in zip(row, dims):
                out.append(_place_price_part(part, xx, base, yy, rh, dw, dh))
                xx += dw + sep
            yy += rh + row_gap
        return out

    return Item("price", total_h, total_w, gap, place)


def cta_item(copy: Copy, px: int, width: float, gap: float, allow_truncate: bool, max_lines: int = 1) -> Item | None:
    """The CTA button; its label takes one line (two only once sizes are at their floor)."""
    st = copy.bold
    inner = width - 2 * BUTTON_PAD_X * px
    if inner <= px:
        return None
    # A button label breaks only between words (never inside one, never hyphenated: "ซื้อเ-ลย",
    # "立即购/买" read as mistakes); a label that cannot is set on one line, ellipsized if it must.
    lines = st.wrap(copy.cta, px, inner, breaks="none")
    if lines is None or (len(lines) > 1 and not any(c.isspace() for c in copy.cta)):
        full = st.width(copy.cta, px)
        if full > inner:
            if not allow_truncate:
                return None
            px = max(LAST_RESORT_PX, int(px * inner / full))  # last resort: a smaller label, whole
            inner = width - 2 * BUTTON_PAD_X * px
        lines = [copy.cta if st.width(copy.cta, px) <= inner else st.ellipsize(copy.cta, px, inner)]
    truncated = len(lines) == 1 and lines[0] != copy.cta
    if len(lines) > max_lines and not allow_truncate:
        return None
    if len(lines) > 2:
        if not allow_truncate:
            return None
        lines = [lines[0], st.ellipsize(" ".join(lines[1:]), px, inner)]
        truncated = True
    bw, bh = button_size(st, lines, px)

    def place(x, y, avail, align):
        box = Rect(x + align_offset(align, avail, bw), y, bw, bh)
        return [Placed("cta", join_lines(lines), box, px=px, lines=lines, setter=st, align="center",
                       pitch=px * LEADING["cta"], text_box=box.inset(BUTTON_PAD_X * px, BUTTON_PAD_Y * px),
                       truncated=truncated)]

    return Item("cta", bh, bw, gap, place)


def logo_min_height(aspect: float, width: int, height: int, banner: bool | None = None) -> float:
    """The least height of a logo of this aspect (w / h) on a width x height canvas (the rules
    at LOGO_MIN_SHARE); ``banner`` defaults to the canvas's aspect class."""
    if banner is None:
        banner = aspect_class(width, height) == "banner"
    if banner:
        return float(LOGO_BANNER_MIN_PX if height >= SMALL_BANNER_H else LOGO_SMALL_BANNER_MIN_PX)
    least = LOGO_MIN_SHARE * min(width, height)
    if aspect > WORDMARK_ASPECT:
        return max(least * (WORDMARK_ASPECT / aspect) ** 0.5, WORDMARK_MIN_PX)
    return least


def logo_size(aspect: float, px: float, max_w: float, *, min_h: float = 0.0,
              max_h: float | None = None, by_area: bool = True) -> tuple[float, float]:
    """(w, h) of a logo set beside brand type of ``px``: a square logo LOGO_HEIGHT px tall and any
    other shape the same area (a wide wordmark is sized by its width, not stretched to a mark's
    height; ``by_area=False``: every shape LOGO_HEIGHT px tall, the sizing before the least sizes),
    at least ``min_h`` tall, at most ``max_w`` wide and ``max_h`` tall (the limits win)."""
    aspect = max(aspect, 1e-3)
    side = px * LOGO_HEIGHT
    h = max(side / aspect ** 0.5 if by_area else side, min_h)
    if max_h is not None:
        h = min(h, max_h)
    w = h * aspect
    if w > max_w:
        w = max_w
        h = w / aspect
    return w, h


def logo_item(aspect: float, px: int, width: float, gap: float, *, min_h: float | None = None,
              max_h: float | None = None, max_share: float = LOGO_MAX_WIDTH) -> Item:
    """The logo as an item: ``logo_size`` at most ``max_share`` of the stack's ``width`` wide, at
    least ``min_h`` tall (items.logo_min_height for the canvas; None: the canvas is not known, and
    the logo is sized as before the least sizes, every shape LOGO_HEIGHT brand px tall)."""
    w, h = logo_size(aspect, px, width * max_share, min_h=min_h or 0.0, max_h=max_h, by_area=min_h is not None)

    def place(x, y, avail, align):
        return [Placed("logo", None, Rect(x + align_offset(align, avail, w), y, w, h))]

    return Item("logo", h, w, gap, place)
