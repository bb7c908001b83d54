"""The gallery tool (service/tools/gallery.py) and its demo content (service/tools/demo.py)."""
import numpy as np
from PIL import Image

from models.scene import format as SF
from service.compose import compose_creative
from service.tools.demo import demo_busy_product, demo_products, demo_visual
from service.tools.gallery import model_visual_fn, render_gallery


def test_demo_visual_is_a_deterministic_scene():
    a, b = demo_visual("fresh summer coral", 3), demo_visual("fresh summer coral", 3)
    assert a.shape == (SF.ROWS, SF.P) and np.array_equal(a, b)
    assert not np.array_equal(a, demo_visual("night blue", 3))
    assert SF.kind_of(demo_visual("pink polka dots", 1)[1]) == "dots"


def test_render_gallery_with_any_visual_fn(tmp_path):
    calls = []

    def visual_fn(prompt: str, seed: int) -> Image.Image:
        calls.append((prompt, seed))
        return Image.new("RGB", (64, 64), (40 + 30 * seed, 90, 160))

    out = render_gallery(visual_fn, tmp_path / "sheet.png", products=demo_products()[:2])
    img = Image.open(out)
    assert img.width == 24 + 300 + 24 + 728 + 24 and img.height == 56 + 2 * (600 + 24) + 24
    assert [s for _, s in calls] == [0, 1]


def test_busy_photo_product_renders_as_card():
    out = compose_creative(demo_visual("tech", 1), demo_busy_product(), 300, 250)
    assert any(e["type"] == "product" for e in out.elements) and out.checks["overlaps"] == 0


def test_model_visuals_come_from_the_trained_generator():
    visual = model_visual_fn()
    a, b = visual("coral summer waves", 2), visual("coral summer waves", 2)
    assert a.shape == (SF.ROWS, SF.P) and np.array_equal(a, b)
    assert not np.array_equal(a, visual("coral summer waves", 3))
    assert not np.array_equal(a, visual("dark navy tech grid", 2))
