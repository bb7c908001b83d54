"""The demo page at ``GET /`` in real headless Chromium against a real ``adloom serve``.

A marketer's path: fill the form (title, price, a product photo, two sizes), press Generate,
see every creative decoded at its exact pixel size with its scores and quality report, download
them one by one or all at once. Then the unhappy paths: an empty title and a currency the service
refuses each show a readable message on the page, next to the field, instead of nothing.

The shipped checkpoint may be an under-trained placeholder: nothing here looks at image content,
only at sizes and structure. The screenshot in ``docs/demo.png`` comes from the first case.
"""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "demo.png"
GENERATE_TIMEOUT_MS = 75_000  # two sizes x two variants on a busy 2-core CPU box, with margin

WANTED = {"medium_rectangle": (300, 250), "landscape": (1200, 628)}
VARIANTS = 2


def product_photo(path: Path) -> Path:
    """A small product shot: a bag-like shape on white, as a marketer's PNG export would be."""
    img = Image.new("RGB", (240, 240), "white")

    d = ImageDraw.Draw(img)
    d.rounded_rectangle((50, 80, 190, 210), radius=18, fill=(196, 120, 64))
    d.arc((85, 30, 155, 110), 180, 360, fill=(120, 70, 30), width=10)
    img.save(path, "PNG")
    return path


def wait_settled(page, timeout_ms: int = GENERATE_TIMEOUT_MS) -> str:
    """Wait until the page says done or error (body[data-state]); returns the state."""
    page.wait_for_function("['done', 'error'].includes(document.body.dataset.state)", timeout=timeout_ms)
    return page.evaluate("document.body.dataset.state")


def test_generate_creatives_in_chromium(page, tmp_path):
    photo = product_photo(tmp_path / "bag.png")
    assert page.title().startswith("adloom")

    page.fill("#title", "Leather weekend bag")
    page.fill("#description", "Full-grain leather, fits a 15-inch laptop.")
    page.fill("#price", "129.00")
    page.fill("#original_price", "159.00")
    page.fill("#currency", "EUR")
    page.fill("#style", "navy blue background with gold confetti, #12345G")
    page.set_input_files("#image", str(photo))
    page.wait_for_selector("#image-preview:not([hidden])")  # the photo preview shows up
    for box in page.locator("input[name=size]").all():
        box.uncheck()
    for size in WANTED:
        page.check(f"input[name=size][value={size}]")
    page.fill("#variants", str(VARIANTS))
    page.fill("#seed", "42")
    assert "2 sizes × 2 variants = 4 creatives" in page.inner_text("#status")

    t0 = time.monotonic()
    with page.expect_response("**/creative", timeout=GENERATE_TIMEOUT_MS) as response_info:
        page.click("#generate")
    response = response_info.value
    assert response.status == 200, response.text()[:500]
    sent = response.request.post_data_json
    assert sent["sizes"] == list(WANTED) and sent["variants"] == VARIANTS and sent["seed"] == 42
    assert sent["product"]["title"] == "Leather weekend bag" and sent["product"]["price"] == 129.0
    assert sent["product"]["currency"] == "EUR" and len(sent["product"]["image"]) > 100  # the photo went along
    assert sent["brand"]["colors"] == ["#0A2540", "#FFB000"]
    assert wait_settled(page) == "done", page.inner_text("#error")
    print(f"generate + render: {time.monotonic() - t0:.1f} s")

    # Every creative decoded, at exactly its size (natural size, not the scaled display size).
    imgs = page.evaluate("""() => Array.from(document.querySelectorAll('#gallery .card img')).map((img) => {
        const card = img.closest('.card');
        return {size: card.dataset.size, w: Number(card.dataset.width), h: Number(card.dataset.height),
                complete: img.complete, nw: img.naturalWidth, nh: img.naturalHeight,
                shown: img.getBoundingClientRect().width};
    })""")
    assert len(imgs) == len(WANTED) * VARIANTS, imgs
    for i in imgs:
        assert i["complete"] and (i["nw"], i["nh"]) == WANTED[i["size"]] == (i["w"], i["h"]), i
        assert i["shown"] > 50, i  # actually laid out on the page
    assert sorted({i["size"] for i in imgs}) == sorted(WANTED)

    # Scores and a readable quality report on every card.
    cards = page.locator("#gallery .card")
    for k in range(cards.count()):
        card = cards.nth(k)
        overall = card.locator(".overall").inner_text()
        assert overall.isdigit() and 0 <= int(overall) <= 100, overall
        values = card.locator(".scores [data-score]").all_inner_texts()
        assert len(values) == 4 and all(v.isdigit() for v in values), values
        body = card.locator(".card-body").inner_text()
        for word in ("Alignment", "Realism", "Legibility", "Composition", "Quality report", "Text contrast"):
            assert word in body, (word, body)
        assert card.locator(".report li").count() == 3
    assert page.locator(".badge", has_text="Best").count() == len(WANTED)  # one best per size
    summary = page.inner_text("#summary")
    assert "4 creatives" in summary and "seed 42" in summary, summary
    # What adloom read: the named colours with their roles, and the unreadable hex as a warning.
    understood = page.inner_text("#understood")
    assert "navy blue → ground" in understood and "gold → motif" in understood, understood
    assert "#12345G" in understood, understood

    # Download buttons: one per creative, and "Download all" gives a zip with every image + report.
    links = page.evaluate("""() => Array.from(document.querySelectorAll('#gallery .card a[download]'))
        .map((a) => ({href: a.href, name: a.getAttribute('download'), text: a.textContent}))""")
    assert len(links) == len(imgs), links
    for link in links:
        assert link["href"].startswith("blob:") and link["name"].endswith(".png") and "Download" in link["text"], link
    assert len({link["name"] for link in links}) == len(links)
    with page.expect_download() as download_info:
        page.locator(".card a[download]").first.click()
    single = download_info.value
    single_path = tmp_path / single.suggested_filename
    single.save_as(single_path)
    with Image.open(single_path) as im:
        assert im.size == WANTED["medium_rectangle"] and im.format == "PNG"

    with page.expect_download() as download_info:
        page.click("#download-all")
    bundle = download_info.value
    assert bundle.suggested_filename.endswith(".zip")
    zip_path = tmp_path / "all.zip"
    bundle.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as z:
        assert z.testzip() is None
        names = z.namelist()
        assert sorted(names) == sorted([link["name"] for link in links] + ["quality-report.csv"])
        for link in links:
            with Image.open(io.BytesIO(z.read(link["name"]))) as im:
                size = next(s for s in WANTED if f"-{s}-" in link["name"])
                assert im.size == WANTED[size]
        csv = z.read("quality-report.csv").decode().splitlines()
        assert csv[0].startswith("file,size,width,height") and len(csv) == 1 + len(links)

    assert page.errors == [], page.errors

    # The picture for the README: the whole page, form and results.
    # A viewport as tall as the page, so the sticky Generate bar sits where it ends up, not mid-form.
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.documentElement.scrollHeight")})
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True, animations="disabled")
    with Image.open(SCREENSHOT) as shot:
        assert shot.width == 1280 and 900 <= shot.height <= 4000, shot.size


def test_bad_input_shows_a_readable_error(page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.url.endswith("/creative") else None)

    # Empty title: caught in the page, next to the field, before anything is sent.
    page.fill("#title", "   ")
    page.click("#generate")
    assert wait_settled(page, 10_000) == "error"
    error = page.locator("#error")
    assert error.is_visible()
    assert "Product title is required" in error.inner_text()
    assert page.get_attribute("#title", "aria-invalid") == "true"
    assert "Product title is required" in page.inner_text("#title-error")  # under the field itself
    assert "Product title is required" in page.inner_text("#status")       # and next to the button
    assert page.evaluate("document.activeElement.id") == "title"
    assert requests == []
    page.fill("#title", "Linen summer dress")  # typing clears the field's error mark
    assert page.get_attribute("#title", "aria-invalid") is None
    assert page.locator("#title-error").count() == 0

    # A value only the service can judge: its 422 becomes a sentence naming the field.
    page.fill("#currency", "XYZ")
    page.evaluate("document.body.dataset.state = 'idle'")
    with page.expect_response("**/creative") as response_info:
        page.click("#generate")
    assert response_info.value.status == 422
    assert wait_settled(page, 30_000) == "error"
    text = page.locator("#error").inner_text()
    assert "Currency" in text and "ISO 4217" in text and "XYZ" in text, text
    assert "loc" not in text and "[object" not in text and "HTTP 422" not in text, text
    assert page.get_attribute("#currency", "aria-invalid") == "true"
    assert "ISO 4217" in page.inner_text("#currency-error")
    assert page.locator("#gallery .card").count() == 0

    # No size at all: a message, not a silent no-op.
    page.fill("#currency", "USD")
    for box in page.locator("input[name=size]").all():
        box.uncheck()
    page.evaluate("document.body.dataset.state = 'idle'")
    page.click("#generate")
    assert wait_settled(page, 10_000) == "error"
    assert "Pick at least one size" in page.locator("#error").inner_text()

    # The only console errors are Chromium's own notes about the refused request.
    assert all("status of 422" in e for e in page.errors), page.errors
