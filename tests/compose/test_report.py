import numpy as np
import pytest

from service.compose.report import (
    count_overlaps, mean_under_glyphs, safe_margin, text_contrast,
)


def test_mean_under_glyphs_is_coverage_weighted():
    base = np.zeros((10, 10, 3), np.uint8)
    base[:, 5:] = 255
    mask = np.zeros((10, 10), np.uint8)
    mask[:, 5:] = 255  # glyphs only over the white half
    assert mean_under_glyphs(base, mask, 0, 0) == pytest.approx([255, 255, 255])
    mask[:, :5] = 255
    assert mean_under_glyphs(base, mask, 0, 0) == pytest.approx([127.5] * 3)
    assert mean_under_glyphs(base, np.zeros((4, 4), np.uint8), 0, 0) is None
    assert mean_under_glyphs(base, mask, 50, 50) is None  # entirely off-canvas


def test_text_contrast_uses_wcag():
    base = np.full((8, 8, 3), 255, np.uint8)
    assert text_contrast((0, 0, 0), base, np.full((8, 8), 255, np.uint8), 0, 0) == pytest.approx(21.0)


def test_overlaps_count_pairs_and_safe_margin():
    w, h = 300, 250
    m = safe_margin(w, h)
    assert m == 5
    apart = [[10, 10, 50, 20], [10, 40, 50, 20], [100, 100, 40, 40]]
    assert count_overlaps(apart, w, h) == 0
    assert count_overlaps(apart + [[20, 20, 10, 30]], w, h) == 2       # hits two boxes
    assert count_overlaps([[2, 10, 20, 20]], w, h) == 1                 # inside the safe margin
    assert count_overlaps([[10, 10, 20, 20], [30, 10, 20, 20]], w, h) == 0  # touching is fine
    assert count_overlaps([[10, 10, 0, 0], [10, 10, 5, 5]], w, h) == 0  # empty boxes ignored
    assert count_overlaps([[0, 0, 30, h]], w, h, bleed=[[0, 0, 30, h]]) == 0  # a photo bleeding to the edge


def test_a_missing_contrast_measurement_is_reported_as_missing_and_scores_zero():
    from service.compose.design import measure, saliency
    from service.compose.report import min_contrast_ratio

    assert min_contrast_ratio([7.2, 4.81]) == 4.81
    assert min_contrast_ratio([7.2, None]) is None  # one unmeasured element: unknown, not 7.2
    assert min_contrast_ratio([]) is None  # no text element measured at all: not 21:1
    assert min_contrast_ratio([float("nan")]) is None
    bg = np.full((40, 60, 3), 128, np.uint8)
    from PIL import Image
    head = [{"type": "headline", "box": [5, 5, 50, 20], "size_px": 16, "color": "#FFFFFF"}]
    for missing in (None, float("nan")):
        _, unknown = measure(head, saliency(Image.fromarray(bg)), bg, [], missing, False, False)
        _, known = measure(head, saliency(Image.fromarray(bg)), bg, [], 4.5, False, False)
        assert unknown["legibility"] < known["legibility"] - 0.15  # unmeasured contrast counts as none
