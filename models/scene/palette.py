"""A scene's palette: the colours a caller named (a ground, up to two motifs), as the generator's
second input, as labels read back from a scene, and as the one correction of a generated scene's
parameters that puts it exactly on the named colours.

The generator is trained with the palette present, partial and absent (models/train.py), so it
already lands near the named colours; ``apply_palette`` then moves the scene's *parameters* (the
ground's three stops, the layers' colours) onto them, so the JSON, the SVG and every raster agree.

Vector layout (``PALETTE_DIM`` = 21): three slots — ground, motif 1, motif 2 — of
``[present, L*/100, a*/128, b*/128, R, G, B]`` (the colour in CIELAB, where distances mean what
they look like, and in the scene's own sRGB 0..1, which the generator writes); an absent slot is
all zeros.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from skimage import color as skcolor

from models.scene import format as SF

SLOTS = 3  # ground, motif 1, motif 2
SLOT_DIM = 7  # present, L*, a*, b*, R, G, B
PALETTE_DIM = SLOT_DIM * SLOTS
# How much of the generated gradient's own variation a named ground keeps (in CIELAB): a gentle
# gradient, every pixel of it still reading as the named colour.
GROUND_SPREAD = 0.25
VIGNETTE_WITH_GROUND = 0.25  # a named ground is not darkened away at the edges
MIN_LAYER_CONTRAST_DE = 12.0  # a layer this close to a named ground is moved away in lightness
# A layer in a named motif colour is painted opaque (at 0.95, 5 % of the ground under it showed
# through: in scene_eval the served motif's pixels sat a median CIEDE2000 2.57 from the hex asked
# for, 0.16 opaque) ...
MOTIF_MIN_ALPHA = 1.0
MOTIF_MAX_SOFT = 0.35  # ... and at most this soft: a named colour is seen, not a tint blurred into the ground
EXCLUDED_DE = 20.0  # a colour this close to one the caller excluded ("no red") turns its hue away

Rgb = Sequence[float] | np.ndarray  # sRGB 0..1 (3,)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0..1 (..., 3) -> CIELAB (..., 3), D65."""
    return np.asarray(skcolor.rgb2lab(np.clip(np.asarray(rgb, np.float64), 0, 1)), np.float64)


def to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (..., 3) -> sRGB 0..1 (..., 3), clipped into the gamut."""
    return np.clip(np.asarray(skcolor.lab2rgb(np.asarray(lab, np.float64)), np.float64), 0, 1)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CIEDE2000 between sRGB 0..1 colours (..., 3)."""
    return np.asarray(skcolor.deltaE_ciede2000(to_lab(a), to_lab(b)), np.float64)


def hex_to_rgb(h: str) -> tuple[float, float, float]:
    h = h.lstrip("#")
    return int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255


def palette_vector(ground: Rgb | None = None, motifs: Sequence[Rgb] = ()) -> np.ndarray:
    """The generator's palette input (PALETTE_DIM,) float32; None / no motifs: absent slots."""
    v = np.zeros(PALETTE_DIM, np.float32)
    for slot, rgb in enumerate([ground, *list(motifs)[:SLOTS - 1]]):
        if rgb is None:
            continue
        v[SLOT_DIM * slot:SLOT_DIM * (slot + 1)] = _slot(np.asarray(rgb, np.float64))
    return v


def _slot(rgb: np.ndarray) -> np.ndarray:
    lab = to_lab(rgb)
    return np.array([1.0, lab[0] / 100, lab[1] / 128, lab[2] / 128, *np.clip(rgb, 0, 1)], np.float32)


def ground_colour(scene: np.ndarray) -> np.ndarray:
    """The ground's colour: the mean of its three stops in CIELAB, as sRGB 0..1 (3,)."""
    stops = np.stack([scene[0, SF.C0], scene[0, SF.C1], scene[0, SF.C2]]).astype(np.float64)
    return to_rgb(to_lab(stops).mean(0))


def layer_weights(scene: np.ndarray) -> np.ndarray:
    """How prominent each layer slot is (opacity x size; 0 for an unused slot): (K,)."""
    layers = scene[1:]
    w = layers[:, SF.ALPHA] * (0.2 + layers[:, SF.SIZE])
    return np.where(layers[:, SF.ALPHA] >= SF.ALPHA_MIN, w, 0.0)


def motif_colours(scene: np.ndarray, n: int = SLOTS - 1, min_de: float = 10.0) -> list[np.ndarray]:
    """The colours of the most prominent layers, distinct by ``min_de``, at most ``n`` (labels)."""
    w = layer_weights(scene)
    out: list[np.ndarray] = []
    for i in np.argsort(-w, kind="stable"):
        if w[i] <= 0 or len(out) == n:
            break
        rgb = scene[1 + i, SF.COLOR].astype(np.float64)
        if all(float(delta_e(rgb, o)) >= min_de for o in out):
            out.append(rgb)
    return out


def scene_palette(scene: np.ndarray) -> np.ndarray:
    """A scene's own palette vector (every slot present that the scene has): a training label."""
    return palette_vector(ground_colour(scene), motif_colours(scene))


def apply_palette(scene: np.ndarray, ground: Rgb | None = None, motifs: Sequence[Rgb] = (),
                  accent: Rgb | None = None, excluded: Sequence[Rgb] = ()) -> np.ndarray:
    """The scene with its parameters moved onto the named colours -> a new (ROWS, P) float32 array.

    - ground: the three stops keep ``GROUND_SPREAD`` of their spread around the named colour (CIELAB);
      the vignette is capped so the edges still read as it;
    - motifs: the used layers, most prominent first, take the motif colours in turn (opaque,
      ``MOTIF_MIN_ALPHA``, at most ``MOTIF_MAX_SOFT`` soft); with more motif colours than
      layers and no ground named, the last motif colour becomes the ground (two-colour stripes on
      one stripes layer); an accent colours the most prominent layer when no motif is named, else
      the least prominent layer the motifs leave over (named colours at full strength);
    - with a ground and no motif, a layer too close to the ground steps away from it in lightness;
    - a stop or layer within ``EXCLUDED_DE`` of an excluded colour turns its hue by 180 degrees.
    """
    return SF.sanitize(_moved(scene, ground, motifs, accent, excluded))


def apply_palettes(scenes: Sequence[np.ndarray], palettes: Sequence["NamedPalette | None"]) -> list[np.ndarray]:
    """``apply_palette`` over a batch: each scene with a palette is moved onto it, the scene of a
    ``None`` palette is returned as it is. One ``sanitize`` for all the moved scenes (it works
    field by field, so a scene's bytes are those of ``apply_palette`` on it alone)."""
    out = list(scenes)
    named = [(i, p) for i, p in enumerate(palettes) if p is not None]
    if named:
        moved = SF.sanitize(np.stack([_moved(out[i], *p.parts) for i, p in named]))
        for (i, _), scene in zip(named, moved):
            out[i] = scene
    return out


def _moved(scene: np.ndarray, ground: Rgb | None, motifs: Sequence[Rgb], accent: Rgb | None,
           excluded: Sequence[Rgb]) -> np.ndarray:
    """``apply_palette`` before its ``sanitize``: a new (ROWS, P) float32 array."""
    s = np.array(scene, np.float32, copy=True)
    w = layer_weights(s)
    order = [int(i) for i in np.argsort(-w, kind="stable") if w[i] > 0]
    colours = [np.asarray(m, np.float64) for m in motifs]
    if ground is None and order and len(colours) > len(order):
        # more motif colours than layers and no ground named ("cobalt and white stripes" on one
        # stripes layer): the last motif colour is what lies between the others
        ground, colours = colours[-1], colours[:-1]
    g = None if ground is None else np.asarray(ground, np.float64)
    if g is not None:
        if order and len(colours) > len(order):
            # more motif colours than layers on a named ground ("purple and yellow stripes on
            # white"): each colour left over gets a companion of the most prominent layer
            order = order + _companions(s, order[0], len(colours) - len(order))
        _set_ground(s, g)
        # a motif colour that would vanish into the named ground (a dark brand blue on navy) is
        # left out, unless nothing else is left
        colours = [m for m in colours if float(delta_e(m, g)) >= MIN_LAYER_CONTRAST_DE] or colours
    if accent is not None and order and (not colours or len(order) > len(colours)):
        # the accent takes the most prominent layer when no motif is named, else the least
        # prominent one the motifs leave over ("navy and white stripes, salmon accents")
        slot = order[0] if not colours else order[-1]
        _paint_named(s, slot, np.asarray(accent, np.float64))
        order = [i for i in order if i != slot]
    if colours:
        for rank, i in enumerate(order):
            _paint_named(s, i, colours[rank % len(colours)])
    elif g is not None:
        _separate_from_ground(s, order, g)
    if excluded:
        _avoid(s, [np.asarray(e, np.float64) for e in excluded], named_ground=g is not None,
               named_layers=bool(colours))
    return s


SCATTERED = frozenset({"bokeh", "confetti", "snow", "marble"})  # pieces placed by SEED
BANDED = frozenset({"stripes", "dots", "ring", "wave", "line", "rays"})  # E1 sets the band/dot/stroke width
COMPANION_WIDTH = 0.4  # a banded companion's E1 (width) as a share of its layer's: a band inside the band
COMPANION_SIZE = 0.8  # a shape's third, fourth ... companion: this much of the size of the one before


def _companions(s: np.ndarray, layer: int, n: int) -> list[int]:
    """Up to ``n`` copies of layer slot ``layer`` in free slots painted after it, each a second
    pattern of the same kind that the first does not hide and that keeps its relation to it at
    every canvas size: scattered pieces elsewhere (another SEED), a thinner band, dot or stroke
    inside the first (same centre, period and angle), a shape's twin across the canvas. Returns the
    new layer indices (0-based, as ``layer``)."""
    free = [i for i in range(layer + 1, SF.ROWS - 1) if s[1 + i, SF.ALPHA] < SF.ALPHA_MIN][:n]
    kind = SF.KINDS[int(np.argmax(s[1 + layer, :SF.N_KINDS]))]
    out = []
    for k, i in enumerate(free, start=1):
        row = s[1 + layer].copy()
        if kind in SCATTERED:
            row[SF.SEED] = (float(row[SF.SEED]) + k / (len(free) + 1)) % 1.0
        elif kind in BANDED:
            row[SF.E1] = float(row[SF.E1]) * COMPANION_WIDTH ** k
        else:  # a shape: its twin across the canvas (point-reflected through the centre, or beside it)
            x, y = float(row[SF.X]), float(row[SF.Y])
            if abs(x - 0.5) < 0.15 and abs(y - 0.5) < 0.15:
                x, y = x + (0.3 if x < 0.5 else -0.3) * k, y
            else:
                x, y = 1.0 - x, 1.0 - y
            row[SF.X], row[SF.Y] = x, y
            row[SF.SIZE] = float(row[SF.SIZE]) * COMPANION_SIZE ** (k - 1)
        s[1 + i] = row
        out.append(i)
    return out


def _paint_named(s: np.ndarray, layer: int, rgb: np.ndarray) -> None:
    """Layer slot ``layer`` in a colour the caller named: at (nearly) full strength, not as a faint
    tint blurred into the ground."""
    s[1 + layer, SF.COLOR] = rgb
    s[1 + layer, SF.ALPHA] = max(float(s[1 + layer, SF.ALPHA]), MOTIF_MIN_ALPHA)
    s[1 + layer, SF.SOFT] = min(float(s[1 + layer, SF.SOFT]), MOTIF_MAX_SOFT)


def _set_ground(s: np.ndarray, ground: np.ndarray) -> None:
    stops = np.stack([s[0, SF.C0], s[0, SF.C1], s[0, SF.C2]]).astype(np.float64)
    lab = to_lab(stops)
    target = to_lab(ground)
    for spread in (GROUND_SPREAD, GROUND_SPREAD / 2, GROUND_SPREAD / 4, 0.0):
        # the gentlest gradient whose stops all lie inside sRGB: a clipped stop would pull the
        # ground's mean off the named colour
        want = target + spread * (lab - lab.mean(0))
        moved = to_rgb(want)
        if np.abs(to_lab(moved) - want).max() < 1.0:
            break
    s[0, SF.C0], s[0, SF.C1], s[0, SF.C2] = moved[0], moved[1], moved[2]
    s[0, SF.VIGNETTE] = min(float(s[0, SF.VIGNETTE]), VIGNETTE_WITH_GROUND)


def _separate_from_ground(s: np.ndarray, order: list[int], ground: np.ndarray) -> None:
    if not order:
        return
    g = to_lab(ground)
    rows = [1 + i for i in order]
    labs = to_lab(s[rows][:, SF.COLOR].astype(np.float64))  # (n, 3): one conversion for every layer
    close = np.asarray(skcolor.deltaE_ciede2000(labs, np.broadcast_to(g, labs.shape))) < MIN_LAYER_CONTRAST_DE
    if not close.any():
        return
    labs[close, 0] = g[0] + 25 if g[0] < 55 else g[0] - 25  # lighter on a dark ground, darker on a light one
    moved = to_rgb(labs[close])
    for row, rgb in zip(np.array(rows)[close], moved):
        s[row, SF.COLOR] = rgb


def _avoid(s: np.ndarray, excluded: list[np.ndarray], *, named_ground: bool, named_layers: bool) -> None:
    """Turn the hue of any unnamed colour that lands near an excluded one."""
    def turn(rgb: np.ndarray) -> np.ndarray:
        if all(float(delta_e(rgb, e)) >= EXCLUDED_DE for e in excluded):
            return rgb
        lab = to_lab(rgb)
        lab[1:] = -lab[1:]
        return to_rgb(lab)

    if not named_ground:
        for sl in (SF.C0, SF.C1, SF.C2):
            s[0, sl] = turn(s[0, sl].astype(np.float64))
    if not named_layers:
        for i in range(1, SF.ROWS):
            if s[i, SF.ALPHA] >= SF.ALPHA_MIN:
                s[i, SF.COLOR] = turn(s[i, SF.COLOR].astype(np.float64))


def palette_labels(scenes: np.ndarray) -> np.ndarray:
    """Every scene's own palette vector (N, PALETTE_DIM): ground and up to two distinct motif
    colours, as the training labels (the generator learns to put a named colour where it goes)."""
    out = np.zeros((len(scenes), PALETTE_DIM), np.float32)
    for i, scene in enumerate(scenes):
        out[i] = palette_vector(ground_colour(scene), motif_colours(scene))
    return out


def mask_palettes(labels: np.ndarray, rng: np.random.Generator, absent: float = 0.25,
                  keep: float = 0.6) -> np.ndarray:
    """Training palettes: with probability ``absent`` no colour named at all, otherwise each slot
    kept with probability ``keep`` (a second motif only with the first): present, partial, absent."""
    n = len(labels)
    slots = rng.random((n, SLOTS)) < keep
    slots[:, 2] &= slots[:, 1]
    slots[rng.random(n) < absent] = False
    return labels * np.repeat(slots, SLOT_DIM, axis=1).astype(np.float32)


@dataclass(frozen=True)
class NamedPalette:
    """The colours a caller named for one scene (sRGB 0..1): what the generator is given as its
    palette input, and what its scene is then put on (``apply``)."""

    ground: tuple[float, float, float] | None = None
    motifs: tuple[tuple[float, float, float], ...] = ()
    accent: tuple[float, float, float] | None = None
    excluded: tuple[tuple[float, float, float], ...] = ()

    @property
    def vector(self) -> np.ndarray:
        """The generator's palette input (PALETTE_DIM,) (a new array; computed once per palette)."""
        return _named_vector(self.ground, self.motifs).copy()

    @property
    def parts(self) -> tuple:
        """(ground, motifs, accent, excluded): ``apply_palette``'s colour arguments."""
        return self.ground, self.motifs, self.accent, self.excluded

    def apply(self, scene: np.ndarray) -> np.ndarray:
        """The scene's one correction onto these colours (``apply_palette``)."""
        return apply_palette(scene, *self.parts)


@lru_cache(maxsize=1024)
def _named_vector(ground: tuple[float, float, float] | None,
                  motifs: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    # the same few palettes come back request after request (styles repeat): one CIELAB conversion
    # per palette, not one per generated item
    v = palette_vector(ground, motifs)
    v.setflags(write=False)
    return v
