"""Copy fitting: a stack's copy in its box at the largest type that fits.

``fit_stack`` finds the largest type that fits (one scale parameter drives every role, with
per-role min/max and a fixed hierarchy headline > price > subline > CTA), then degrades in this
order before giving up: shorten the subline at a sentence/clause boundary, drop it, move the
original price to its own line, drop the badge, drop the original price, allow more headline
lines, drop the brand, go below the role minimums to a legibility floor; only then is the
headline cut with an ellipsis (reported as truncated). Each role is set as an item (items.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .items import (
    FLOOR_PX, LAST_RESORT_PX, LEADING, LOGO_MAX_WIDTH, Copy, Item, Placed, PriceMode, cta_item, logo_item,
    logo_min_height, price_item, text_item, text_item_from_lines,
)
from .linebreak import Breaks
from .logo import logo_ink_share
from .plan import Plan, Rect, Stack, align_offset
from .product import ProductAsset

# role: (min as a fraction of the plan's type_px, max fraction, absolute minimum px)
ROLE_RANGE = {
    "headline": (0.45, 1.0, 12),
    "price": (0.42, 0.80, 11),
    "subline": (0.32, 0.50, 10),
    "cta": (0.32, 0.46, 11),
    "brand": (0.34, 0.46, 10),
}
# Hierarchy: a role is at most these fractions of the larger roles' sizes (headline > price > subline,
# and the CTA label never outshouts the price); applied in this order.
HIERARCHY = {
    "price": {"headline": 0.85},
    "subline": {"price": 0.8, "headline": 0.62},
    "cta": {"price": 0.9, "headline": 0.72},
    "brand": {"headline": 0.6},
}
GAP_ABOVE = {"headline": 0.1, "subline": 0.35, "price": 0.35, "cta": 0.9}  # space above an item, in its px
BRAND_CLEAR_SPACE = 0.55  # space under the brand/logo, as a share of its height
LAST_RESORT_LINE = 1.4    # a headline shrunk to the room left: its line box is taken as this many px tall
HEADLINE_CLEAR_SPACE = 0.15  # under a last-resort headline, as a share of its height


@dataclass
class _Cfg:
    subline: str
    price_mode: PriceMode = "row"
    headline_lines: int = 3
    brand: bool = True
    floor: bool = False
    breaks: Breaks = "none"      # over-long words: none -> hyphenate (dictionary) -> any (last resort)
    drop: tuple[str, ...] = ()
    logo_min_h: float | None = None  # the logo is never set lower than this (items.logo_min_height)


def _sizes(plan_px: float, t: float, floor: bool, caps: dict[str, float], min_headline: float = 0.0) -> dict[str, int]:
    s = {}
    for role, (lo, hi, absmin) in ROLE_RANGE.items():
        lo_px = FLOOR_PX[role] if floor else max(absmin, lo * plan_px)
        if role == "headline":
            lo_px = max(lo_px, min_headline)
        hi_px = max(lo_px, hi * plan_px, absmin)
        s[role] = lo_px + (hi_px - lo_px) * t
    for role, cap in caps.items():
        s[role] = min(s[role], cap)
    for role, limits in HIERARCHY.items():
        s[role] = min(s[role], *(s[larger] * share for larger, share in limits.items()))
    return {r: max(int(v), FLOOR_PX[r]) for r, v in s.items()}


def _present(role: str, copy: Copy, cfg: _Cfg) -> bool:
    """Whether the role has something to show under this configuration."""
    if role == "brand":
        return cfg.brand and bool(copy.brand or copy.logo_aspect)
    if role == "subline":
        return bool(cfg.subline)
    return bool(getattr(copy, role))  # headline, price, cta


def _role_item(role: str, stack: Stack, copy: Copy, cfg: _Cfg, px: int, allow_truncate: bool) -> Item | None:
    """The item for one role at px, or None when it does not fit the stack's width/lines."""
    width = stack.rect.w
    gap = px * GAP_ABOVE.get(role, 0.0)
    if role == "brand" and copy.logo_aspect:
        # Alone in its stack (a brand row, a banner's brand cell) the logo may take the stack's whole
        # width and no more than its height; beside copy at most LOGO_MAX_WIDTH of the width.
        alone = all(r == "brand" for r in stack.roles)
        return logo_item(copy.logo_aspect, px, width, 0.0, min_h=cfg.logo_min_h,
                         max_h=stack.rect.h if alone else None, max_share=1.0 if alone else LOGO_MAX_WIDTH)
    if role == "brand":
        return text_item("brand", copy.bold, copy.brand, px, width, 1, 0.0)
    if role == "headline":
        return text_item("headline", copy.bold, copy.headline, px, width, cfg.headline_lines, gap, cfg.breaks,
                          copy.lang)
    if role == "subline":
        return text_item("subline", copy.regular, cfg.subline, px, width, stack.max_subline_lines, gap, cfg.breaks,
                          copy.lang)
    if role == "price":
        return price_item(copy, px, width, cfg.price_mode, gap)
    return cta_item(copy, px, width, gap, allow_truncate, 2 if cfg.floor else 1)


def _items(stack: Stack, copy: Copy, cfg: _Cfg, sizes: dict[str, int],
           lenient: list[str] | None = None) -> list[Item] | None:
    """The stack's items at these sizes, or None when something does not fit its width/lines.

    With ``lenient`` (a list), items that do not fit are skipped and their roles appended to it.
    """
    items: list[Item] = []
    for role in stack.roles:
        if role in cfg.drop or not _present(role, copy, cfg):
            continue
        item = _role_item(role, stack, copy, cfg, sizes[role], allow_truncate=lenient is not None)
        if item is None:
            if lenient is None:
                return None
            lenient.append(role)
            continue
        items.append(item)
    if items:
        items[0].gap = 0.0
        if len(items) > 1 and items[0].role in ("brand", "logo"):
            items[1].gap = max(items[1].gap, items[0].h * BRAND_CLEAR_SPACE)
    return items


def _height(items: list[Item]) -> float:
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


def fit_stack(stack: Stack, copy: Copy, type_px: float, caps: dict[str, float] | None = None,
              min_headline: float = 0.0, *, logo_min_h: float | None = None) -> Fit:
    """Place the stack's copy in its rect at the largest sizes that fit (module doc for the rules);
    the headline never below ``min_headline`` px (stories), a logo never below ``logo_min_h`` px
    (it is dropped, like a brand name, when the stack cannot hold it; None: the canvas is not
    known, the logo is sized as before the least sizes)."""
    caps = caps or {}
    for cfg in _ladder(stack, copy):
        cfg = replace(cfg, logo_min_h=logo_min_h)
        items = _search(stack, copy, cfg, type_px, caps, min_headline)
        if items is not None:
            placed = _place(stack, items)
            return Fit(placed, any(p.truncated for p in placed), [])
    items, dropped = _last_resort(stack, copy, type_px, caps, min_headline)
    placed = _place(stack, items)
    return Fit(placed, True, dropped)


def _search(stack, copy, cfg, type_px, caps, min_headline=0.0) -> list[Item] | None:
    def attempt(t):
        items = _items(stack, copy, cfg, _sizes(type_px, t, cfg.floor, caps, min_headline))
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


def _last_resort(stack: Stack, copy: Copy, type_px: float, caps,
                 min_headline: float = 0.0) -> tuple[list[Item], list[str]]:
    """Floors, no subline/brand/badge; the headline takes the height left, ellipsized.

    If not even one headline line fits, the price and then the CTA give up their room.
    """
    sizes = _sizes(type_px, 0.0, True, caps, min_headline)
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
            px = max(LAST_RESORT_PX, int(min(sizes["headline"], max(room, 8.0) / LAST_RESORT_LINE)))
            line = copy.bold.ellipsize(copy.headline, px, stack.rect.w)
            head = text_item_from_lines("headline", copy.bold, [line], px, 0.0, truncated=True)
        if others:
            others[0].gap = max(others[0].gap, head.h * HEADLINE_CLEAR_SPACE)
        return [head] + others, list(drop) + failed
    return [], list(required)


def _truncated_headline(copy: Copy, px: int, width: float, room: float) -> Item | None:
    st = copy.bold
    asc, desc = st.metrics(copy.headline, px)
    pitch = px * LEADING["headline"]
    n = int((room - asc - desc) // pitch) + 1 if room >= asc + desc else 0
    if n < 1:
        return None
    lines = st.wrap(copy.headline, px, width)
    assert lines is not None, 'breaks="any" always wraps'
    if len(lines) <= n:
        return text_item_from_lines("headline", st, lines, px, 0.0)
    rest = " ".join(lines[n - 1:])
    kept = lines[: n - 1] + [st.ellipsize(rest, px, width)]
    return text_item_from_lines("headline", st, kept, px, 0.0, truncated=True)


def _place(stack: Stack, items: list[Item]) -> list[Placed]:
    r = stack.rect
    total = _height(items)
    y = r.y + align_offset(stack.valign, r.h, total)
    y = max(r.y, y) if total <= r.h else r.y
    out: list[Placed] = []
    for it in items:
        y += it.gap
        out.extend(it.place(r.x, y, r.w, stack.halign))
        y += it.h
    return out


# --------------------------------------------------------------------------- a plan's stacks


def fit_plan(plan: Plan, copy: Copy, canvas: tuple[int, int] | None = None, *,
             logo: ProductAsset | None = None) -> list[Fit]:
    """Fit the stack holding the headline first; the others are capped to keep the hierarchy.
    ``canvas`` (w, h): the logo is held to its least size there (items.logo_min_height), its ink
    (``logo``, the prepared asset: a tile's margin does not count) when it is given."""
    order = sorted(range(len(plan.stacks)), key=lambda i: "headline" not in plan.stacks[i].roles)
    fits: dict[int, Fit] = {}
    caps: dict[str, float] = {}
    logo_min_h = None
    if canvas is not None and copy.logo_aspect:
        logo_min_h = logo_min_height(copy.logo_aspect, *canvas) / logo_ink_share(logo)
    for i in order:
        fit = fit_stack(plan.stacks[i], copy, plan.type_px, caps, plan.min_headline_px, logo_min_h=logo_min_h)
        fits[i] = fit
        head = next((p for p in fit.placed if p.role == "headline"), None)
        if head is not None and not caps:
            hp = head.px
            caps = {"headline": hp, "price": hp * 0.85, "subline": hp * 0.62, "cta": hp * 0.72, "brand": hp * 0.6}
    return [fits[i] for i in range(len(plan.stacks))]


def floating_product_rect(plan: Plan, placed: list[Placed]) -> Rect:
    """Banner hero: centre the product in the free space between the copy and the CTA."""
    r = plan.product
    if r is None:
        raise ValueError("the plan has no product rectangle")
    copy_right = max((p.box.right for p in placed if p.role not in ("cta", "brand", "logo")), default=r.x)
    cta_left = min((p.box.x for p in placed if p.role == "cta"), default=r.right)
    gap = plan.pad
    left, right = max(r.x - r.w, copy_right + gap), cta_left - gap
    width = min(right - left, r.w * 1.6)
    if width < r.w * 0.5:
        return r
    return Rect(left + align_offset("center", right - left, width), r.y, width, r.h)
