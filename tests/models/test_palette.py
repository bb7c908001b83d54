"""models/scene/palette.py: the batch correction is the per-scene one byte for byte, the palette
vector is computed once per palette and handed out as a fresh array, and a named motif is painted
opaque, so its covered pixels are the named colour."""
from __future__ import annotations

import numpy as np

from models.scene import format as SF
from models.scene.palette import (MOTIF_MIN_ALPHA, NamedPalette, apply_palette, apply_palettes, delta_e,
                                  palette_vector)
from models.scene.raster_skia import render


def _scenes(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.random((n, SF.ROWS, SF.P)).astype(np.float32)
    raw[:, 1:, SF.ALPHA] = np.where(rng.random((n, SF.ROWS - 1)) < 0.5, 0.0, raw[:, 1:, SF.ALPHA])
    return SF.sanitize(raw)


def _palettes(n: int, seed: int = 1) -> list[NamedPalette | None]:
    rng = np.random.default_rng(seed)

    def rgb() -> tuple[float, float, float]:
        r, g, b = (float(x) for x in rng.random(3))
        return r, g, b

    kinds = [lambda: None, lambda: NamedPalette(ground=rgb()),
             lambda: NamedPalette(ground=rgb(), motifs=(rgb(), rgb())),
             lambda: NamedPalette(motifs=(rgb(), rgb(), rgb())),
             lambda: NamedPalette(accent=rgb(), excluded=(rgb(),)),
             lambda: NamedPalette(ground=(0.0, 0.07, 0.27), excluded=(rgb(),))]
    return [kinds[i % len(kinds)]() for i in range(n)]


def test_apply_palettes_is_apply_palette_on_each_scene_byte_for_byte():
    scenes, palettes = _scenes(36), _palettes(36)
    batch = apply_palettes(list(scenes), palettes)
    for scene, p, got in zip(scenes, palettes, batch):
        want = scene if p is None else apply_palette(scene, p.ground, p.motifs, p.accent, p.excluded)
        assert got.dtype == np.float32 and got.tobytes() == want.tobytes()
        assert p is None or got.tobytes() == p.apply(scene).tobytes()
    assert apply_palettes([], []) == []


def test_palette_vector_once_per_palette_and_a_fresh_array_each_time():
    p = NamedPalette(ground=(0.1, 0.2, 0.3), motifs=((1.0, 0.84, 0.0),))
    a, b = p.vector, NamedPalette(ground=(0.1, 0.2, 0.3), motifs=((1.0, 0.84, 0.0),)).vector
    assert a.tobytes() == palette_vector((0.1, 0.2, 0.3), [(1.0, 0.84, 0.0)]).tobytes() == b.tobytes()
    a[:] = 0  # the caller's own copy: the next one is untouched
    assert p.vector.tobytes() == b.tobytes()


def test_a_named_motif_is_painted_opaque_on_its_colour():
    """A layer in a named motif colour is drawn opaque: its covered pixels are the named colour, not
    a 95 % blend with the ground under it (the colour evaluation's motif error, 2.6 -> 0.2 for hex)."""
    assert MOTIF_MIN_ALPHA == 1.0
    scene = SF.empty_scene()
    scene[0, SF.C0] = scene[0, SF.C1] = scene[0, SF.C2] = (0.02, 0.14, 0.26)
    scene[1, :SF.N_KINDS] = 0
    scene[1, SF.KIND_INDEX["disc"]] = 1  # one disc in the middle
    scene[1, SF.X], scene[1, SF.Y], scene[1, SF.SIZE] = 0.5, 0.5, 0.6
    scene[1, SF.ROT_C], scene[1, SF.ASPECT] = 1.0, 1.0
    scene[1, SF.COLOR] = (0.5, 0.5, 0.5)
    scene[1, SF.ALPHA], scene[1, SF.SOFT] = 0.6, 0.0
    gold = (1.0, 215 / 255, 0.0)
    out = NamedPalette(motifs=(gold,)).apply(SF.sanitize(scene))
    assert out[1, SF.ALPHA] == 1.0 and out[1, SF.SOFT] <= 0.35
    px = render(out, 300, 250).astype(np.float64) / 255
    assert float(delta_e(px[125, 150], np.array(gold))) < 1.0


def _discs(sizes: list[float]) -> np.ndarray:
    scene = SF.empty_scene()
    for row, size in enumerate(sizes, start=1):
        scene[row, :SF.N_KINDS] = 0
        scene[row, SF.KIND_INDEX["disc"]] = 1
        scene[row, SF.X], scene[row, SF.Y], scene[row, SF.SIZE] = 0.2 + 0.3 * (row - 1), 0.5, size
        scene[row, SF.ROT_C], scene[row, SF.ASPECT] = 1.0, 1.0
        scene[row, SF.COLOR] = (0.5, 0.5, 0.5)
        scene[row, SF.ALPHA], scene[row, SF.SOFT] = 0.3, 0.8  # a faint, blurred tint
    return SF.sanitize(scene)


def test_an_accent_is_painted_at_full_strength_alone_or_beside_the_motifs():
    """A colour named as an accent ('salmon accents', a title's 'yellow rain boots') is seen: alone
    it takes the most prominent layer, beside named motifs the least prominent one they leave."""
    salmon, navy, white = (250 / 255, 128 / 255, 114 / 255), (0.0, 0.0, 0.5), (1.0, 1.0, 1.0)
    alone = NamedPalette(accent=salmon).apply(_discs([0.3, 0.2]))
    assert np.allclose(alone[1, SF.COLOR], salmon) and alone[1, SF.ALPHA] == 1.0 and alone[1, SF.SOFT] <= 0.35
    beside = NamedPalette(motifs=(navy, white), accent=salmon).apply(_discs([0.3, 0.25, 0.2]))
    assert np.allclose(beside[3, SF.COLOR], salmon) and beside[3, SF.ALPHA] == 1.0  # the smallest layer
    assert [tuple(np.round(beside[r, SF.COLOR], 3)) for r in (1, 2)] == [tuple(np.round(navy, 3)),
                                                                         tuple(np.round(white, 3))]
    # as many layers as motifs: the motifs keep every layer
    full = NamedPalette(motifs=(navy, white), accent=salmon).apply(_discs([0.3, 0.25]))
    assert not any(np.allclose(full[r, SF.COLOR], salmon) for r in (1, 2))


def _one_layer(kind: str, x: float = 0.3, y: float = 0.3) -> np.ndarray:
    scene = SF.empty_scene()
    scene[1, :SF.N_KINDS] = 0
    scene[1, SF.KIND_INDEX[kind]] = 1
    scene[1, SF.X], scene[1, SF.Y], scene[1, SF.SIZE] = x, y, 0.3
    scene[1, SF.ROT_C], scene[1, SF.ROT_S], scene[1, SF.ASPECT] = 0.7, 0.7, 0.5
    scene[1, SF.E1], scene[1, SF.E2], scene[1, SF.SEED] = 0.8, 0.5, 0.2
    scene[1, SF.COLOR], scene[1, SF.ALPHA], scene[1, SF.SOFT] = (0.5, 0.5, 0.5), 0.8, 0.1
    return SF.sanitize(scene)


def test_two_motif_colours_on_one_layer_and_a_named_ground_both_show():
    """'purple and yellow stripes on white': the scene has one stripes layer, so the second colour gets a
    companion layer painted after it (a thinner band in the same bands: same centre, period and
    angle at every size); scattered pieces get a companion elsewhere, a shape its twin across."""
    purple, yellow, white = (0.49, 0.24, 0.6), (0.96, 0.82, 0.25), (0.98, 0.99, 0.99)
    p = NamedPalette(ground=white, motifs=(purple, yellow))
    stripes = p.apply(_one_layer("stripes"))
    used = [r for r in range(1, SF.ROWS) if stripes[r, SF.ALPHA] >= SF.ALPHA_MIN]
    assert len(used) == 2 and used[0] == 1
    first, second = stripes[used[0]], stripes[used[1]]
    same = [SF.X, SF.Y, SF.SIZE, SF.ROT_C, SF.ROT_S]
    assert np.allclose(first[same], second[same]) and second[SF.E1] < first[SF.E1]
    assert np.allclose(first[SF.COLOR], purple) and np.allclose(second[SF.COLOR], yellow)
    for w, h in ((300, 250), (1080, 1920), (728, 90)):  # both colours drawn at every size
        px = render(stripes, w, h).reshape(-1, 3).astype(np.float64) / 255
        for colour in (purple, yellow):
            assert (delta_e(px, np.broadcast_to(np.array(colour), px.shape)) < 5).mean() > 0.05, (w, h, colour)
    confetti = p.apply(_one_layer("confetti"))
    seeds = [float(confetti[r, SF.SEED]) for r in range(1, SF.ROWS) if confetti[r, SF.ALPHA] >= SF.ALPHA_MIN]
    assert len(seeds) == 2 and seeds[0] != seeds[1]
    disc = p.apply(_one_layer("disc", 0.2, 0.3))
    twin = [r for r in range(2, SF.ROWS) if disc[r, SF.ALPHA] >= SF.ALPHA_MIN]
    assert len(twin) == 1 and np.allclose(disc[twin[0], [SF.X, SF.Y]], (0.8, 0.7))
    # without a named ground the last colour still lies between the stripes, and no layer is added
    bare = NamedPalette(motifs=(purple, yellow)).apply(_one_layer("stripes"))
    assert sum(bare[r, SF.ALPHA] >= SF.ALPHA_MIN for r in range(1, SF.ROWS)) == 1
