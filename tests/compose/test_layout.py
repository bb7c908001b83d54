import pytest

from service.compose.families import FULL_BLEED, LAYOUTS, is_story, make_plan
from service.compose.fitting import fit_stack, shorten_options
from service.compose.items import Copy, join_lines
from service.compose.plan import Rect, Stack, align_offset
from service.compose.sizes import NAMED_SIZES, aspect_class
from service.compose.textsetter import setter


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


@pytest.mark.parametrize("size", list(NAMED_SIZES.values()) + [(32, 32), (2048, 32), (500, 700), (720, 1280)])
@pytest.mark.parametrize("variant", range(8))
@pytest.mark.parametrize("photo", [False, True])
def test_plans_stay_on_canvas_and_keep_copy_off_the_product(size, variant, photo):
    w, h = size
    plan = make_plan(aspect_class(w, h), w, h, variant, _measure, photo=photo)
    for st in plan.stacks:
        r = st.rect
        assert r.x >= 0 and r.y >= 0 and r.right <= w + 0.01 and r.bottom <= h + 0.01
        if plan.product is not None:
            assert not _intersects(r, plan.product), (plan.name, st.roles)
    for a in plan.stacks:
        for b in plan.stacks:
            if a is not b:
                assert not _intersects(a.rect, b.rect)


def test_variants_pick_families_by_content_and_mirror():
    scene = [make_plan("square", 300, 250, v, _measure).name for v in range(12)]
    assert scene[:4] == ["square/open", "square/editorial", "square/spotlight", "square/card"]
    assert len(set(scene[:6])) == 6 and all(n.endswith("-mirrored") for n in scene[6:])
    photo = [make_plan("square", 300, 250, v, _measure, photo=True).family for v in range(3)]
    assert photo == ["split", "editorial", "open"]  # a photo gets room of its own first
    long = [make_plan("portrait", 1080, 1350, v, _measure, long_headline=True).family for v in range(6)]
    assert long[-1] == "spotlight"
    assert make_plan("banner", 728, 90, 0, _measure).name == "banner/open"


def test_full_bleed_families_paint_only_the_scene():
    for aspect, (w, h) in (("square", (1080, 1080)), ("landscape", (1200, 628)), ("portrait", (1080, 1350))):
        names = {n for n, _ in LAYOUTS[aspect]}
        assert {"open", "editorial", "spotlight"} <= names
        for v in range(3):
            plan = make_plan(aspect, w, h, v, _measure)
            assert plan.family in FULL_BLEED and [d.kind for d in plan.decor] == ["visual"], plan.name


@pytest.mark.parametrize("size", [(1080, 1920), (720, 1280), (1080, 2200)])
@pytest.mark.parametrize("variant", range(6))
@pytest.mark.parametrize("photo", [False, True])
def test_story_copy_stays_clear_of_the_platform_ui(size, variant, photo):
    w, h = size
    assert is_story(w, h)
    plan = make_plan(aspect_class(w, h), w, h, variant, _measure, photo=photo)
    for st in plan.stacks:
        assert st.rect.y >= 0.14 * h - 0.01 and st.rect.bottom <= 0.80 * h + 0.01, (plan.name, st.roles)
    assert plan.min_headline_px >= 48 * w / 1080 - 0.01


def test_skyscrapers_are_not_stories():
    assert not is_story(160, 600) and not is_story(300, 600) and not is_story(1080, 1350)


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
