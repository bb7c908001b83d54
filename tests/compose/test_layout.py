import pytest

from service.compose.layout import (
    LAYOUTS, Copy, Rect, Stack, align_offset, fit_stack, join_lines, make_plan, shorten_options,
)
from service.compose.sizes import NAMED_SIZES, aspect_class
from service.compose.typography import setter


SUBLINE = "Breezy, breathable linen. Free returns within 30 days."


def _copy(headline="Linen summer dress", subline=SUBLINE, **kw) -> Copy:
    base = dict(headline=headline, subline=subline, cta="Shop now", price="$39.90", original_price="$59.90",
                discount="-33%", brand="Acme", logo_aspect=0.0, bold=setter("sans", "bold"),
                regular=setter("sans", "regular"))
    base.update(kw)
    return Copy(**base)


def _measure(role, px):
    return {"cta": px * 6, "brand": px * 3}.get(role, 0.0)


def _intersects(a: Rect, b: Rect) -> bool:
    return min(a.right, b.right) > max(a.x, b.x) and min(a.bottom, b.bottom) > max(a.y, b.y)


def test_three_families_per_aspect():
    for aspect in ("square", "landscape", "portrait", "banner"):
        assert len({name for name, _ in LAYOUTS[aspect]}) >= 3


@pytest.mark.parametrize("size", list(NAMED_SIZES.values()) + [(32, 32), (2048, 32), (500, 700)])
@pytest.mark.parametrize("variant", range(6))
def test_plans_stay_on_canvas_and_keep_copy_off_the_product(size, variant):
    w, h = size
    plan = make_plan(aspect_class(w, h), w, h, variant, _measure)
    for st in plan.stacks:
        r = st.rect
        assert r.x >= 0 and r.y >= 0 and r.right <= w + 0.01 and r.bottom <= h + 0.01
        if plan.product is not None:
            assert not _intersects(r, plan.product), (plan.name, st.roles)
    for a in plan.stacks:
        for b in plan.stacks:
            if a is not b:
                assert not _intersects(a.rect, b.rect)


def test_variants_pick_families_and_mirror():
    names = [make_plan("square", 300, 250, v, _measure).name for v in range(6)]
    assert names[:3] == ["square/split", "square/hero", "square/card"]
    assert all(n.endswith("-mirrored") for n in names[3:])
    assert make_plan("banner", 728, 90, 0, _measure).name.startswith("banner/")


def test_fit_uses_the_largest_size_and_keeps_the_hierarchy():
    stack = Stack(Rect(0, 0, 260, 220), ("brand", "headline", "subline", "price", "cta"))
    fit = fit_stack(stack, _copy(), 30)
    by = {p.role: p for p in fit.placed}
    assert not fit.truncated
    assert set(by) >= {"brand", "headline", "subline", "price", "original_price", "discount", "cta"}
    assert by["headline"].px > by["price"].px > by["subline"].px
    assert by["cta"].px <= by["price"].px
    bottom = max(p.box.bottom for p in fit.placed)
    assert bottom <= 220
    bigger = fit_stack(Stack(Rect(0, 0, 400, 400), stack.roles), _copy(), 30)
    assert {p.role: p for p in bigger.placed}["headline"].px >= by["headline"].px


def test_subline_is_shortened_before_anything_is_cut():
    long_sub = "Soft organic cotton. " + "Made to last for years, " * 20
    stack = Stack(Rect(0, 0, 200, 150), ("headline", "subline", "price", "cta"))
    fit = fit_stack(stack, _copy(subline=long_sub), 26)
    assert not fit.truncated
    sub = [p for p in fit.placed if p.role == "subline"]
    assert not sub or sub[0].text in shorten_options(long_sub)


def test_truncation_only_when_impossible():
    title = "An extraordinarily long product title " * 5
    fits = fit_stack(Stack(Rect(0, 0, 280, 200), ("headline", "price", "cta")), _copy(headline=title.strip()[:180]), 26)
    assert not fits.truncated
    tiny = fit_stack(Stack(Rect(0, 0, 60, 30), ("headline", "price", "cta")), _copy(headline=title.strip()), 26)
    assert tiny.truncated
    head = [p for p in tiny.placed if p.role == "headline"]
    assert head and head[0].text.endswith("…")


def test_shorten_options_and_join_lines():
    assert shorten_options("Hand-glazed stoneware, made in Portugal. Dishwasher safe.") == [
        "Hand-glazed stoneware, made in Portugal. Dishwasher safe.", "Hand-glazed stoneware, made in Portugal.",
        "Hand-glazed stoneware"]
    opts = shorten_options("Breezy, breathable linen. Free returns within 30 days.")
    assert opts[0].startswith("Breezy") and opts[1] == "Breezy, breathable linen."
    assert join_lines(["Geräusch-", "unterdrückung"]) == "Geräuschunterdrückung"
    assert join_lines(["一件时尚的", "红色连衣裙"]) == "一件时尚的红色连衣裙"
    assert join_lines(["Linen", "dress"]) == "Linen dress"


def test_align_offset_puts_a_length_at_the_start_centre_or_end():
    assert [align_offset(a, 100, 30) for a in ("left", "center", "right")] == [0.0, 35.0, 70.0]
    assert [align_offset(a, 100, 30) for a in ("top", "middle", "bottom")] == [0.0, 35.0, 70.0]
    assert align_offset("center", 20, 30) == -5.0  # too long: it overhangs both sides equally
