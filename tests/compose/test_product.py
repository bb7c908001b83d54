import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from service.compose.cutout import flood_cutout_alpha
from service.compose.product import (
    MAX_UPSCALE, object_window, photo_placement, place_product, prepare_product, rounded_mask, subject_box,
)

from .conftest import packshot


def _jpeg(img: Image.Image, q=85) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


@pytest.mark.parametrize("jpeg", [False, True])
def test_white_background_is_removed_and_product_kept(jpeg):
    img, truth = packshot((40, 110, 200))
    if jpeg:
        img = _jpeg(img)  # compression noise and ringing around the edge
    alpha = flood_cutout_alpha(np.asarray(img, dtype=np.int16))
    assert alpha is not None
    kept = alpha > 0.5
    truth_img = Image.fromarray(truth.astype(np.uint8) * 255)
    inner = np.asarray(truth_img.filter(ImageFilter.MinFilter(5))) > 0   # 2 px inside the edge
    outer = np.asarray(truth_img.filter(ImageFilter.MaxFilter(7))) == 0  # 3 px outside it
    assert alpha[inner].min() > 0.95                 # the product is fully kept...
    assert alpha[outer].max() < 0.05                 # ...the white is fully gone
    iou = (kept & truth).sum() / (kept | truth).sum()
    assert iou > 0.98


def test_cutout_asset_has_no_white_halo():
    img, truth = packshot((200, 30, 40))
    asset = prepare_product(_jpeg(img))
    assert asset.kind == "cutout"
    rgba = np.asarray(asset.image, dtype=np.int16)
    a = rgba[..., 3]
    edge = (a > 60) & (a < 250)
    assert edge.any()
    # Edge pixels were un-mixed from the white: they stay red-ish rather than pink/white.
    assert (rgba[..., 1][edge] < 150).mean() > 0.9
    h, w = truth.shape
    # cropped to the product
    assert abs(asset.image.width - (0.5 * w)) <= 8 and abs(asset.image.height - (0.65 * h)) <= 8


def test_enclosed_background_hole_is_removed():
    img = Image.new("RGB", (300, 300), "white")
    d = ImageDraw.Draw(img)
    d.ellipse((60, 60, 240, 240), fill=(30, 120, 60))
    d.ellipse((120, 120, 180, 180), fill="white")  # a handle's hole
    alpha = flood_cutout_alpha(np.asarray(img, dtype=np.int16))
    assert alpha[150, 150] < 0.05 and alpha[80, 150] > 0.95


def test_alpha_is_used_when_present():
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle((20, 30, 79, 69), fill=(250, 250, 250, 255))  # white product on transparency
    asset = prepare_product(img)
    assert asset.kind == "alpha" and asset.image.size == (60, 40)


def test_busy_photo_becomes_a_card():
    rng = np.random.default_rng(1)
    photo = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    assert prepare_product(photo).kind == "card"
    assert prepare_product(Image.new("RGB", (50, 50), "white")).kind == "card"  # nothing to cut out


def test_prepare_is_cached_per_image_object():
    img = packshot()[0]
    assert prepare_product(img) is prepare_product(img)
    assert prepare_product(img.copy()) is not prepare_product(img)


def test_place_product_contains_and_shadows():
    canvas = Image.new("RGB", (300, 250), (240, 240, 240))
    asset = prepare_product(packshot()[0])
    x, y, w, h = place_product(canvas, asset, (20, 20, 120, 200)).box
    assert 20 <= x and x + w <= 140 and 20 <= y and y + h <= 220
    assert w >= 119 or h >= 199  # contained: one side touches the box
    below = np.asarray(canvas.crop((x, y + h, x + w, min(250, y + h + 6))), dtype=int)
    assert below.mean() < 240  # a soft shadow under the product


def test_rounded_mask_is_antialiased():
    m = np.asarray(rounded_mask(40, 20, 10))
    assert m[10, 20] == 255 and m[0, 0] == 0
    assert ((m > 0) & (m < 255)).any()


def test_a_cut_out_stands_on_a_podium_shadow():
    from PIL import Image

    from service.compose.product import ProductAsset, place_product

    canvas = Image.new("RGB", (400, 300), (230, 230, 230))
    img = Image.new("RGBA", (100, 120), (0, 0, 0, 0))
    img.paste((200, 40, 40, 255), (20, 10, 80, 110))  # an opaque product standing on its foot at y=110
    asset = ProductAsset(image=img, kind="alpha")
    x, y, w, h = place_product(canvas, asset, (150, 60, 100, 120), shadow_color=(20, 20, 30)).box
    px = np.asarray(canvas).astype(int)
    foot_y = y + int(110 * h / 120)
    under = px[foot_y + 2:foot_y + 6, x + w // 2 - 10:x + w // 2 + 10].mean()
    beside = px[foot_y + 2:foot_y + 6, 20:40].mean()
    assert under < beside - 15  # darker where the product meets the ground
    assert px[foot_y + 2, x - 25:x - 20].mean() > under  # and it fades out sideways


def test_the_palette_answers_a_product_photo():
    from PIL import Image

    from service.compose.palette import build_palette, to_hls

    grey_scene = Image.new("RGB", (64, 64), (120, 120, 125))
    photo = Image.new("RGB", (48, 48), (240, 240, 240))
    photo.paste((200, 30, 40), (10, 10, 38, 38))  # a red product on a white sweep
    plain, answered = build_palette(grey_scene), build_palette(grey_scene, photo=photo)
    h, _, s = to_hls(answered.accent)
    assert s > 0.4 and (h < 0.06 or h > 0.94)  # the button takes the product's red
    assert answered.accent != plain.accent


@pytest.mark.parametrize("rect", [(10, 20, 200, 150), (30, 10, 120, 300), (5, 5, 60, 60)])
def test_a_photo_fills_its_product_area_with_rounded_corners_and_a_shadow(rect):
    photo = _lifestyle(400, 300, 0.5)
    asset = prepare_product(photo)
    ground = (20, 30, 60)
    canvas = Image.new("RGB", (260, 340), ground)
    pl = place_product(canvas, asset, rect)
    x, y, w, h = pl.box
    rx, ry, rw, rh = rect
    assert rx <= x and ry <= y and x + w <= rx + rw and y + h <= ry + rh  # inside its rect
    assert w >= rw - 1 or h >= rh - 1  # as large as the rect allows along one side at least
    arr = np.asarray(canvas).astype(int)
    assert (arr[y, x] == ground).all() or np.abs(arr[y, x] - ground).sum() < 60  # a rounded corner
    assert (np.abs(arr[y + h // 2, x + 2:x + w - 2] - ground).sum(1) > 30).all()  # the photo across its middle


def _lifestyle(w: int, h: int, cx: float, rng_seed: int = 5) -> Image.Image:
    """A wide shot: a soft wooden-table gradient with fine grain, and a cup at ``cx`` (0..1)."""
    rng = np.random.default_rng(rng_seed)
    y = np.linspace(0, 1, h)[:, None, None]
    base = (np.array([150, 100, 60]) * (1 - 0.4 * y)) + rng.normal(0, 3, (h, w, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for gx in range(0, w, 37):  # the table's planks
        d.line([(gx, h * 0.63), (gx + 60, h)], fill=(110, 70, 40), width=2)
    img = img.filter(ImageFilter.GaussianBlur(1))
    d = ImageDraw.Draw(img)
    r = h * 0.22
    x0 = cx * w
    d.ellipse((x0 - r, h * 0.35, x0 + r, h * 0.35 + 2 * r), fill=(240, 240, 235))
    d.ellipse((x0 - r * 0.8, h * 0.37, x0 + r * 0.8, h * 0.47), fill=(60, 35, 20))
    return img


@pytest.mark.parametrize("cx", [0.3, 0.5, 0.68])
def test_a_photo_fills_a_visual_area_cropped_around_its_product(cx):
    photo = _lifestyle(800, 600, cx)
    asset = prepare_product(photo)
    assert asset.kind == "card"
    cup = (cx * 800 - 0.22 * 600, cx * 800 + 0.22 * 600)
    x0, y0, x1, y1 = subject_box(asset)
    assert x0 <= cup[0] + 10 and cup[1] - 10 <= x1  # the object found (the cup's rim and saucer)
    # a portrait visual area (a split's column): the crop keeps the cup whole, not pushed to an edge
    x, y, w, h = object_window(asset, 300, 500)
    assert (y, h) == (0, 600) and abs(w / h - 0.6) < 0.01
    assert x <= cup[0] and cup[1] <= x + w
    canvas = Image.new("RGB", (500, 500), (20, 30, 60))
    pl = place_product(canvas, asset, (0, 0, 300, 500), bleed=True)
    assert list(pl.box) == [0, 0, 300, 500] and pl.fills  # the whole visual area, edge to edge
    arr = np.asarray(canvas)
    assert (arr[:, :300] != (20, 30, 60)).any(2).all()  # nothing of the ground left in it
    assert (arr[:, 300:] == (20, 30, 60)).all()  # and nothing outside it


def test_a_photo_that_a_crop_would_cut_is_contained_whole():
    two = _lifestyle(800, 600, 0.15)
    ImageDraw.Draw(two).ellipse((560, 210, 780, 470), fill=(240, 240, 235))  # a second object far right
    asset = prepare_product(two)
    x0, y0, x1, y1 = subject_box(asset)
    assert x0 < 100 and x1 > 690  # both objects are the subject (the second one up to its bright middle)
    assert object_window(asset, 300, 500) is None  # no portrait window holds both
    canvas = Image.new("RGB", (500, 500), (20, 30, 60))
    pl = place_product(canvas, asset, (0, 0, 300, 500), bleed=True)
    x, y, w, h = pl.box
    assert not pl.fills and w == 300 and h < 500  # as wide as the area, shown whole
    assert pl.window is not None and pl.window[0] <= x0 and pl.window[0] + pl.window[2] >= x1


def test_a_small_photo_is_not_blown_up_and_the_placement_says_why():
    small = _lifestyle(120, 90, 0.5)
    asset = prepare_product(small)
    pl = photo_placement(asset, (0, 0, 1000, 800))
    assert pl.box[2] <= MAX_UPSCALE * 120 + 1 and "120x90" in pl.note and "enlarge" in pl.note


def test_a_decoded_photo_is_cut_out_once_per_process_even_as_a_new_copy_per_job():
    """A compose worker process receives a new copy of the decoded photo with every job (pickled);
    the asset (cut-out, object box, resized copies) is found again by the digest the decoder put in
    the image's info, and the creative is the same byte for byte as one composed from a cold cache."""
    import pickle

    from models.scene import format as scene_format
    from service.compose import CreativeContent, compose_creative
    from service.compose import product as product_mod
    from service.compose.images import DIGEST_KEY, decode_image
    from skimage import data as skdata

    buf = io.BytesIO()
    Image.fromarray(skdata.coffee()).save(buf, "JPEG", quality=90)
    raw = buf.getvalue()
    first, again = decode_image(raw, max_bytes=10 ** 7), decode_image(raw, max_bytes=10 ** 7)
    assert first is not again and first.info[DIGEST_KEY] == again.info[DIGEST_KEY]
    other = decode_image(_jpeg_bytes(packshot()[0]), max_bytes=10 ** 7)
    assert other.info[DIGEST_KEY] != first.info[DIGEST_KEY]

    product_mod._by_digest.clear()
    asset = prepare_product(first)
    box = subject_box(asset)
    assert prepare_product(again) is asset and prepare_product(pickle.loads(pickle.dumps(first))) is asset
    assert prepare_product(other) is not asset and subject_box(prepare_product(again)) == box

    def creative(img):
        content = CreativeContent(headline="Morning coffee", price=4.5, currency="USD", product_image=img)
        scene = scene_format.random_scene(np.random.default_rng(3))
        return compose_creative(scene, content, 1080, 1080).image.tobytes()

    warm = creative(pickle.loads(pickle.dumps(first)))
    product_mod._by_digest.clear()
    assert creative(pickle.loads(pickle.dumps(again))) == warm


def _jpeg_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.parametrize("palette_colour", [(28, 30, 36), (120, 110, 100), (240, 238, 235)])
def test_a_scrim_over_a_photo_takes_the_photos_shade_at_the_palette_colours_luminance(palette_colour):
    from service.compose.paint import photo_tint
    from service.compose.palette import relative_luminance

    rng = np.random.default_rng(2)
    photo = np.zeros((200, 300, 3), np.uint8)
    photo[:] = (30, 60, 140)                     # navy shadows ...
    photo[:, 150:] = (200, 215, 240)             # ... and a pale sky
    photo = np.clip(photo + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
    tint = photo_tint(Image.fromarray(photo), (0, 0, 300, 200), palette_colour)
    assert relative_luminance(tint) == pytest.approx(relative_luminance(palette_colour), rel=0.03, abs=0.002)
    assert tint[2] > tint[0]  # the photo's blue, not the palette's grey
