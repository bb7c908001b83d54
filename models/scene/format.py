"""The scene format: an ad background as a fixed-size tensor of layer parameters.

One scene is a float tensor ``(R, P)`` with ``R = 1 + K`` rows (a batch is ``(B, R, P)``):

- row 0, the *ground*: a linear gradient with three stops (colours ``C0 C1 C2`` in sRGB 0..1,
  the angle as ``(cos, sin)``, where the middle stop sits), plus the global grain and vignette;
- rows 1..K, the *layer slots*, painted in order over the ground: a one-hot (or logits) over
  ``KINDS`` and 14 parameters — centre ``X Y`` (fractions of the canvas width and height),
  ``SIZE`` (a fraction of the canvas's *short* side), rotation ``(ROT_C, ROT_S)``, ``ASPECT``
  (0..1 -> 1/4..4), two kind-specific shape parameters ``E1 E2`` (0..1), colour ``R G B``
  (sRGB 0..1), ``ALPHA`` (opacity; 0 = slot unused), ``SOFT`` (blur, 0..1 -> 0..6 % of the
  short side) and ``SEED`` (0..1: where a scatter kind's pieces fall).

Positions are canvas-relative and sizes short-side-relative, so one scene re-flows from 728×90
to 1080×1920 without stretching a shape: a disc stays round, stripes keep their width.

``keep_out`` boxes (fractions of the canvas: x0, y0, x1, y1) are where copy and product go:
``apply_keep_out`` moves motifs out of them for one canvas size, and every rasterizer paints a
soft *veil* of the ground gradient over them, so the area under the copy is calm.

The JSON form (``to_json``/``from_json``) names kinds and writes colours as hex; it is what
``layers.scene.json`` returns and what a designer would edit.
"""
from __future__ import annotations

import math

import numpy as np

KINDS: tuple[str, ...] = (
    "disc",          # soft disc / glassy blob
    "bokeh",         # scatter of soft discs over the canvas
    "ring",          # circle outline
    "rounded_rect",  # rounded rectangle (card, pill)
    "stripes",       # parallel bands across the canvas
    "wave",          # a thick sine band across the canvas
    "line",          # a straight stroke with round caps
    "polygon",       # regular 3..8-gon, optionally rounded
    "star",          # 4..8-point star / sparkle
    "leaf",          # leaf / petal (two arcs)
    "confetti",      # scatter of small rotated rectangles
    "dots",          # dot grid (polka pattern tile)
    "rays",          # ray burst from a centre
    "marble",        # three wandering thin veins
    "snow",          # scatter of small discs (snow, sparkle dust)
)
N_KINDS = len(KINDS)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
# Kinds drawn across the whole canvas: keep-out fades them (the veil) instead of moving them.
SPANNING = frozenset({"bokeh", "stripes", "wave", "confetti", "dots", "rays", "marble", "snow"})

K = 16  # layer slots
ROWS = 1 + K
FIELDS = ("X", "Y", "SIZE", "ROT_C", "ROT_S", "ASPECT", "E1", "E2", "R", "G", "B", "ALPHA", "SOFT", "SEED")
(X, Y, SIZE, ROT_C, ROT_S, ASPECT, E1, E2, R, G, B, ALPHA, SOFT, SEED) = range(N_KINDS, N_KINDS + len(FIELDS))
COLOR = slice(R, B + 1)
P = N_KINDS + len(FIELDS)  # 29 parameters per row
# ground row (row 0)
C0, C1, C2 = slice(0, 3), slice(3, 6), slice(6, 9)
ANG_C, ANG_S, MID, GRAIN, VIGNETTE = 9, 10, 11, 12, 13

SOFT_MAX = 0.06       # SOFT = 1 -> a blur sigma of 6 % of the short side
GRAIN_MAX = 0.12      # GRAIN = 1 -> the grain tile at 12 % opacity
VEIL_OPACITY = 0.86   # how much of the ground covers a keep-out box
VEIL_FEATHER = 0.035  # the veil's soft edge, a fraction of the short side
ALPHA_MIN = 1 / 255   # a slot below this opacity is unused

# valid ranges of each layer field (sanitize clamps to them)
LIMITS = {X: (-0.25, 1.25), Y: (-0.25, 1.25), SIZE: (0.01, 1.6), ROT_C: (-1, 1), ROT_S: (-1, 1),
          ASPECT: (0, 1), E1: (0, 1), E2: (0, 1), R: (0, 1), G: (0, 1), B: (0, 1), ALPHA: (0, 1),
          SOFT: (0, 1), SEED: (0, 1)}


def empty_scene() -> np.ndarray:
    """A scene with a mid-grey ground and no layers: (ROWS, P) float32."""
    s = np.zeros((ROWS, P), np.float32)
    s[0, C0] = s[0, C1] = s[0, C2] = 0.5
    s[0, ANG_C], s[0, MID] = 1.0, 0.5
    return s


def kind_of(row: np.ndarray) -> str:
    return KINDS[int(np.argmax(row[:N_KINDS]))]


def sanitize(scene: np.ndarray) -> np.ndarray:
    """Clamp every field to its range, turn kind logits into a one-hot, normalise rotations:
    what a generator's raw output becomes before any rasterizer sees it. (ROWS, P) or (B, ROWS, P)."""
    s = np.array(scene, np.float32, copy=True)
    if s.shape[-2:] != (ROWS, P):
        raise ValueError(f"a scene is ({ROWS}, {P}); got {s.shape}")
    g = s[..., 0, :]
    g[..., :9] = np.clip(g[..., :9], 0, 1)
    g[..., MID] = np.clip(g[..., MID], 0.05, 0.95)
    g[..., GRAIN] = np.clip(g[..., GRAIN], 0, 1)
    g[..., VIGNETTE] = np.clip(g[..., VIGNETTE], 0, 1)
    n = np.hypot(g[..., ANG_C], g[..., ANG_S])
    g[..., ANG_C] = np.where(n > 1e-6, g[..., ANG_C] / np.maximum(n, 1e-6), 1.0)
    g[..., ANG_S] = np.where(n > 1e-6, g[..., ANG_S] / np.maximum(n, 1e-6), 0.0)
    g[..., 14:] = 0
    L = s[..., 1:, :]
    onehot = np.eye(N_KINDS, dtype=np.float32)[np.argmax(L[..., :N_KINDS], axis=-1)]
    L[..., :N_KINDS] = onehot
    for f, (lo, hi) in LIMITS.items():
        L[..., f] = np.clip(L[..., f], lo, hi)
    n = np.hypot(L[..., ROT_C], L[..., ROT_S])
    L[..., ROT_C] = np.where(n > 1e-6, L[..., ROT_C] / np.maximum(n, 1e-6), 1.0)
    L[..., ROT_S] = np.where(n > 1e-6, L[..., ROT_S] / np.maximum(n, 1e-6), 0.0)
    L[..., ALPHA] = np.where(L[..., ALPHA] < ALPHA_MIN, 0.0, L[..., ALPHA])
    return s


# ------------------------------------------------------------------------------------- JSON

def _hex(rgb) -> str:
    r, g, b = (int(round(float(np.clip(v, 0, 1)) * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _unhex(h: str) -> list[float]:
    h = h.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour {h!r} is not #rrggbb")
    return [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]


def to_json(scene: np.ndarray, keep_out: list | None = None) -> dict:
    """One scene -> its JSON form (kinds by name, colours as hex, unused slots left out)."""
    s = sanitize(scene)
    g = s[0]
    angle = math.degrees(math.atan2(float(g[ANG_S]), float(g[ANG_C])))
    layers = []
    for row in s[1:]:
        if row[ALPHA] < ALPHA_MIN:
            continue
        layers.append({
            "kind": kind_of(row), "x": _r(row[X]), "y": _r(row[Y]), "size": _r(row[SIZE]),
            "rotation_deg": round(math.degrees(math.atan2(float(row[ROT_S]), float(row[ROT_C]))), 2),
            "aspect": _r(row[ASPECT]), "e1": _r(row[E1]), "e2": _r(row[E2]), "color": _hex(row[COLOR]),
            "opacity": _r(row[ALPHA]), "softness": _r(row[SOFT]), "seed": _r(row[SEED])})
    out = {"format": "adloom.scene", "version": 1,
           "ground": {"type": "linear", "angle_deg": round(angle, 2),
                      "stops": [{"offset": 0.0, "color": _hex(g[C0])}, {"offset": _r(g[MID]), "color": _hex(g[C1])},
                                {"offset": 1.0, "color": _hex(g[C2])}]},
           "grain": _r(g[GRAIN]), "vignette": _r(g[VIGNETTE]), "layers": layers}
    if keep_out:
        out["keep_out"] = [[_r(v) for v in box] for box in keep_out]
    return out


def _r(v) -> float:
    return round(float(v), 4)


def from_json(doc: dict) -> tuple[np.ndarray, list]:
    """The JSON form -> (scene (ROWS, P), keep_out boxes). ValueError names what is wrong."""
    s = empty_scene()
    try:
        ground = doc["ground"]
        stops = ground["stops"]
        if len(stops) != 3:
            raise ValueError("ground.stops must have 3 stops")
        s[0, C0], s[0, C1], s[0, C2] = (_unhex(st["color"]) for st in stops)
        s[0, MID] = float(stops[1]["offset"])
        a = math.radians(float(ground.get("angle_deg", 0)))
        s[0, ANG_C], s[0, ANG_S] = math.cos(a), math.sin(a)
        s[0, GRAIN], s[0, VIGNETTE] = float(doc.get("grain", 0)), float(doc.get("vignette", 0))
        layers = doc.get("layers", [])
        if len(layers) > K:
            raise ValueError(f"at most {K} layers; got {len(layers)}")
        for i, L in enumerate(layers, 1):
            if L["kind"] not in KIND_INDEX:
                raise ValueError(f"layers[{i - 1}].kind {L['kind']!r} is not one of {', '.join(KINDS)}")
            s[i, KIND_INDEX[L["kind"]]] = 1
            a = math.radians(float(L.get("rotation_deg", 0)))
            s[i, X], s[i, Y], s[i, SIZE] = float(L["x"]), float(L["y"]), float(L["size"])
            s[i, ROT_C], s[i, ROT_S] = math.cos(a), math.sin(a)
            s[i, ASPECT], s[i, E1], s[i, E2] = (float(L.get(f, 0.5)) for f in ("aspect", "e1", "e2"))
            s[i, COLOR] = _unhex(L["color"])
            s[i, ALPHA] = float(L["opacity"])
            s[i, SOFT], s[i, SEED] = float(L.get("softness", 0)), float(L.get("seed", 0))
    except (KeyError, TypeError) as e:
        raise ValueError(f"not an adloom scene: {e!r}") from e
    return sanitize(s), [list(map(float, b)) for b in doc.get("keep_out", [])]


# --------------------------------------------------------------------------------- keep-out

def motif_radius(row: np.ndarray, short: float) -> float:
    """Half the extent of a motif layer in pixels (for moving it out of a keep-out box)."""
    s = float(row[SIZE]) * short
    if kind_of(row) == "line":
        return 0.5 * s * 4 ** (2 * float(row[ASPECT]) - 1)
    if kind_of(row) == "rounded_rect":
        a = 4 ** (2 * float(row[ASPECT]) - 1)
        return 0.5 * s * math.hypot(math.sqrt(a), 1 / math.sqrt(a)) / math.sqrt(2)
    return 0.5 * s


def apply_keep_out(scene: np.ndarray, boxes: list, width: int, height: int) -> np.ndarray:
    """Move each motif whose extent overlaps a keep-out box to the nearest place clear of all of
    them (on the canvas, at ``width`` x ``height``); a motif with nowhere to go is faded. Canvas-
    spanning kinds stay (the veil calms them). Returns a new sanitized scene."""
    s = sanitize(scene)
    if not boxes:
        return s
    W, H = float(width), float(height)
    short = min(W, H)
    px = [(b[0] * W, b[1] * H, b[2] * W, b[3] * H) for b in boxes]
    for row in s[1:]:
        if row[ALPHA] < ALPHA_MIN or kind_of(row) in SPANNING:
            continue
        r = motif_radius(row, short) * 0.8  # a motif may tuck a little under a box's feathered edge
        cx, cy = float(row[X]) * W, float(row[Y]) * H
        if not any(_overlaps(cx, cy, r, b) for b in px):
            continue
        best = None
        for b in px:  # candidate spots: just outside each side of each box
            for nx, ny in ((b[0] - r - 1, cy), (b[2] + r + 1, cy), (cx, b[1] - r - 1), (cx, b[3] + r + 1)):
                nx, ny = min(max(nx, 0.0), W), min(max(ny, 0.0), H)
                if any(_overlaps(nx, ny, r, o) for o in px):
                    continue
                d = math.hypot(nx - cx, ny - cy)
                if best is None or d < best[0]:
                    best = (d, nx, ny)
        if best is None:
            row[ALPHA] *= 0.3
        else:
            row[X], row[Y] = best[1] / W, best[2] / H
    return s


def _overlaps(cx: float, cy: float, r: float, box) -> bool:
    dx = max(box[0] - cx, 0.0, cx - box[2])
    dy = max(box[1] - cy, 0.0, cy - box[3])
    return dx * dx + dy * dy < r * r


# ----------------------------------------------------------------------------- random scenes

def random_scene(rng: np.random.Generator, n_layers: int | None = None) -> np.ndarray:
    """A random valid scene over the whole vocabulary (tests, rasterizer agreement, the bench)."""
    s = empty_scene()
    s[0, :9] = rng.random(9)
    a = rng.uniform(0, 2 * math.pi)
    s[0, ANG_C], s[0, ANG_S], s[0, MID] = math.cos(a), math.sin(a), rng.uniform(0.2, 0.8)
    s[0, GRAIN], s[0, VIGNETTE] = rng.uniform(0, 0.6), rng.uniform(0, 0.7)
    n = int(rng.integers(3, K + 1)) if n_layers is None else n_layers
    for i in range(1, n + 1):
        s[i, int(rng.integers(N_KINDS))] = 1
        s[i, X], s[i, Y] = rng.uniform(-0.1, 1.1, 2)
        s[i, SIZE] = rng.uniform(0.04, 0.6)
        a = rng.uniform(0, 2 * math.pi)
        s[i, ROT_C], s[i, ROT_S] = math.cos(a), math.sin(a)
        s[i, ASPECT], s[i, E1], s[i, E2] = rng.random(3)
        s[i, COLOR] = rng.random(3)
        s[i, ALPHA] = rng.uniform(0.15, 1.0)
        s[i, SOFT] = rng.uniform(0, 1) if rng.random() < 0.5 else 0.0
        s[i, SEED] = rng.random()
    return sanitize(s)
