"""Cut a product out of a photo whose background is not plain: OpenCV's GrabCut, gated by a
measured confidence, with a matted edge.

The flood fill (cutout.flood_cutout_alpha) takes plain and studio backgrounds. A photo whose border
is not one colour (a gradient backdrop, a textured wall, a table) is tried here, once per asset:

1. **Seeds** (the saliency ``product.subject_box`` uses, per pixel). On a copy at most SEG_SIDE px
   long, a band along the border (BAND of each side) is background for certain. The band's colours
   are clustered (k-means, 8 CIELAB centres, fixed seed); a pixel at least SEED_DE from every
   centre (or SEED_SHARE of the 99th percentile of that distance, where that is more) starts as
   "probably foreground", every other pixel as "probably background". A lit centre of a studio
   backdrop or a vignette then starts as background, which a rectangle initialisation would
   have called foreground. A photo whose object is cut by its frame is refused below.
   No cut is tried (GrabCut would not change the verdict, and it is most of the cost) where the
   largest connected part of the seeds holds under SEED_MAIN of them (a lifestyle scene: seeds
   everywhere), where they cover under SEED_SHARE_MIN of the photo, or where holes in them take
   over twice HOLES_MAX of the object they outline (a cup's coffee has the wooden table's colour).
2. **GrabCut**, ITERATIONS rounds (colour mixture models of foreground and background, then a
   minimum cut with an edge-aware smoothness term), on the seeds' box grown by CROP_MARGIN of
   its sides (its own border band background): GrabCut's cost grows with the pixels it sees.
3. **Clean-up.** Along the cut's rim (RIM px), pixels within KEEP_DE of a border colour are
   dropped (GrabCut's smoothness pulls patches of a textured ground in beside the object), then a
   1-px opening; the largest connected part and the parts of at least a tenth of its size are
   kept; enclosed holes under HOLE_SHARE of the object are filled.
4. **Confidence** (``Segmentation`` keeps every figure, the report and the tests read them). The
   cut is used only when all hold:
   - ``share``: the object covers SHARE_MIN..SHARE_MAX of the photo (not a speck, not everything);
   - ``touch``: at most TOUCH_MAX of the ring just inside the seed band is object (an object that
     runs into the frame would be cut off, and a full-bleed crop shows it better);
   - ``support``: along at least SUPPORT_MIN of the object's contour the colour changes across it
     by at least EDGE_DE (CIEDE-like Euclidean Lab distance between the pixels 2 px inside and 2 px
     outside): the cut follows an edge a viewer sees, not a guess through a flat region;
   - ``parts``: the largest connected part holds at least MAIN_SHARE of what GrabCut called
     foreground (a product is one object; a face, a badge and a strap found apart are not);
   - holes larger than HOLE_SHARE left inside the object take at most HOLES_MAX of it (a cup's
     coffee taken for the wooden table around it is a failed cut, not a product with a hole).
5. **Matting.** The mask is enlarged to the working image and its edge matted by a guided filter
   on the photo's luminance (He et al.; radius GUIDE_RADIUS mask pixels, eps GUIDE_EPS) within one
   mask pixel of the contour, so the edge follows the photo's own edge instead of the
   low-resolution mask's staircase. Within RIM mask pixels of the contour, patches of
   full-resolution pixels within KEEP_DE of a border colour or of the nearest pixel outside the
   object are cleared (ground the enlarged mask spilt over). The edge pixels then take the colour
   of the nearest solid product pixel (``cutout.decontaminated``), so no fringe of the old
   ground is left. A slit the small mask closed deep inside (a tail against a leg) stays closed.

Cost (one core of the 2-core VM, photos up to 900 px): 20-45 ms for a photo refused before
GrabCut, 70-140 ms for one cut out; paid once per photo in each compose worker that draws it
(``product.prepare_product`` caches the asset). Per creative: bench/RESULTS.md (issue 26).

The thresholds were set on the tests' synthetic products (skimage's horse and drawn bottles on
gradient, brick, gravel and grass grounds: all cut, IoU >= 0.93) and the lifestyle photos in
scikit-image's wheel (coffee, chelsea, astronaut, rocket: all refused), not on one example.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage import color as skcolor

from .cutout import border_colours

SEG_SIDE = 320      # GrabCut runs on a copy this long
BAND = 0.04         # the border band seeded as background, a share of each side (>= 3 px)
ITERATIONS = 4
SEED_DE = 15.0      # a pixel this far (CIELAB) from every border colour seeds the object ...
SEED_SHARE = 0.3    # ... or this share of the 99th percentile of that distance, where more
SEED_SHARE_MIN = 0.025  # seeds (holes filled) covering less than this: no cut is tried
SEED_MAIN = 0.5     # the largest seed part must hold this share of the seeds, or no cut is tried
CROP_MARGIN = 0.25  # GrabCut runs on the seeds' box grown by this share of its sides
KEEP_DE = 8.0       # a pixel this close to a border colour is ground ...
RIM = 6             # ... within this many px of the cut's edge (the object's inside may share a ground colour)
HOLES_MAX = 0.05    # holes left inside the object, a share of its filled area
SHARE_MIN, SHARE_MAX = 0.04, 0.70  # the confidence (module doc, step 4)
TOUCH_MAX = 0.12
EDGE_DE = 10.0
SUPPORT_MIN = 0.85
MAIN_SHARE = 0.80
HOLE_SHARE = 0.003  # enclosed holes under this share of the object are noise and filled
GUIDE_RADIUS = 2   # in mask pixels
GUIDE_EPS = 1e-4


@dataclass(frozen=True)
class Segmentation:
    alpha: np.ndarray | None   # float32 (H, W) 0..1 at the input's size, None when refused
    share: float
    touch: float
    support: float
    parts: float
    reason: str | None         # why it was refused, None when used

    @property
    def used(self) -> bool:
        return self.alpha is not None


def _small(rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    k = min(1.0, SEG_SIDE / max(h, w))
    if k >= 1.0:
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    return cv2.resize(np.ascontiguousarray(rgb, dtype=np.uint8), (max(8, round(w * k)), max(8, round(h * k))),
                      interpolation=cv2.INTER_AREA)


def _clean(fg: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(the kept parts with their small holes filled, the largest part's share of ``fg``, the
    share of the filled object its remaining holes take)."""
    labels, n = ndimage.label(fg)
    if n == 0:
        return fg, 0.0, 0.0
    sizes = ndimage.sum_labels(fg, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= 0.1 * sizes.max()) + 1
    out = np.isin(labels, keep)
    parts = float(sizes.max() / max(1, fg.sum()))
    holes = ndimage.binary_fill_holes(out) & ~out
    if holes.any():
        hl, hn = ndimage.label(holes)
        hs = ndimage.sum_labels(holes, hl, index=np.arange(1, hn + 1))
        out |= np.isin(hl, np.flatnonzero(hs < HOLE_SHARE * out.sum()) + 1)
    filled = ndimage.binary_fill_holes(out)
    return out, parts, float((filled & ~out).sum() / max(1, filled.sum()))


def _support(lab: np.ndarray, fg: np.ndarray) -> float:
    """Share of the contour where the colour 2 px inside differs from 2 px outside by EDGE_DE."""
    contour = fg & ~ndimage.binary_erosion(fg)
    deep = ndimage.binary_erosion(fg, iterations=2)     # 2 px inside
    out = ~ndimage.binary_dilation(fg, iterations=2)    # 2 px outside
    if not contour.any() or not deep.any() or not out.any():
        return 0.0
    # for each pixel, the index of the nearest pixel of ``deep`` (of ``out``)
    _, (iy, ix) = ndimage.distance_transform_edt(~deep, return_indices=True)
    _, (oy, ox) = ndimage.distance_transform_edt(~out, return_indices=True)
    cy, cx = np.nonzero(contour)
    a = lab[iy[cy, cx], ix[cy, cx]]
    b = lab[oy[cy, cx], ox[cy, cx]]
    de = np.sqrt(((a - b) ** 2).sum(1))
    return float((de >= EDGE_DE).mean())


def _guided(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    import cv2

    def box(x):
        return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)

    mi, mp = box(guide), box(src)
    cov = box(guide * src) - mi * mp
    var = box(guide * guide) - mi * mi
    a = cov / (var + eps)
    b = mp - a * mi
    return box(a) * guide + box(b)


def segment(rgb: np.ndarray) -> Segmentation:
    """The object of a photo (uint8 (H, W, 3)) on a background that is not plain; module doc."""
    import cv2

    cv2.setNumThreads(1)  # a compose worker holds one core
    h0, w0 = rgb.shape[:2]
    small = _small(rgb)
    h, w = small.shape[:2]
    band = max(3, round(BAND * min(h, w)))
    if h < 4 * band or w < 4 * band:
        return Segmentation(None, 0.0, 0.0, 0.0, 0.0, "too small to segment")
    lab = skcolor.rgb2lab(small.astype(np.float32) / 255.0).astype(np.float32)
    centres, _ = border_colours(lab, band)
    centres = centres[np.isfinite(centres).all(1)]
    if not len(centres):
        centres = np.concatenate([lab[:band].reshape(-1, 3), lab[-band:].reshape(-1, 3),
                                  lab[:, :band].reshape(-1, 3), lab[:, -band:].reshape(-1, 3)]).mean(0, keepdims=True)
    dist = np.full((h, w), np.inf, np.float32)
    for c in centres.astype(np.float32):
        np.minimum(dist, np.sqrt(((lab - c) ** 2).sum(-1)), out=dist)
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    mask[dist >= max(SEED_DE, SEED_SHARE * float(np.percentile(dist, 99)))] = cv2.GC_PR_FGD
    mask[:band], mask[-band:], mask[:, :band], mask[:, -band:] = (cv2.GC_BGD,) * 4
    seeds = ndimage.binary_opening(mask == cv2.GC_PR_FGD)
    labels, n = ndimage.label(seeds)
    if n == 0:
        return Segmentation(None, 0.0, 0.0, 0.0, 0.0, "nothing stands out from the border's colours")
    sizes = ndimage.sum_labels(seeds, labels, index=np.arange(1, n + 1))
    if sizes.max() < SEED_MAIN * sizes.sum():  # GrabCut would not change that: skip its cost
        return Segmentation(None, float(seeds.mean()), 0.0, 0.0, float(sizes.max() / sizes.sum()),
                            f"no one object stands out (the largest seed holds {sizes.max() / sizes.sum():.2f})")
    kept = np.isin(labels, np.flatnonzero(sizes >= 0.1 * sizes.max()) + 1)
    filled = ndimage.binary_fill_holes(kept)
    seed_holes = float((filled & ~kept).sum() / max(1, filled.sum()))
    if filled.mean() < SEED_SHARE_MIN:  # GrabCut grows a seed little: a speck stays under SHARE_MIN
        return Segmentation(None, float(filled.mean()), 0.0, 0.0, float(sizes.max() / sizes.sum()),
                            f"the object's seeds cover only {filled.mean():.3f} of the photo")
    if seed_holes > 2 * HOLES_MAX:  # the ground's colour inside the object: GrabCut keeps such holes
        return Segmentation(None, float(filled.mean()), 0.0, 0.0, float(sizes.max() / sizes.sum()),
                            f"the ground's colours fill {seed_holes:.2f} of the object")
    # GrabCut on the seeds' box with a margin (its own border band background), not the whole photo
    ys, xs = np.nonzero(kept)
    my = max(band + 4, round(CROP_MARGIN * (ys.max() - ys.min() + 1)))
    mx = max(band + 4, round(CROP_MARGIN * (xs.max() - xs.min() + 1)))
    y0, y1 = max(0, ys.min() - my), min(h, ys.max() + 1 + my)
    x0, x1 = max(0, xs.min() - mx), min(w, xs.max() + 1 + mx)
    sub = mask[y0:y1, x0:x1].copy()
    sub[:band], sub[-band:], sub[:, :band], sub[:, -band:] = (cv2.GC_BGD,) * 4
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    no_rect = (0, 0, 0, 0)  # (seeded by the mask)
    cv2.grabCut(np.ascontiguousarray(small[y0:y1, x0:x1]), sub, no_rect, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    raw = np.zeros((h, w), bool)
    raw[y0:y1, x0:x1] = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
    # what GrabCut's smoothness pulled in that has a border colour is background (a textured
    # ground's patches beside the object); holes this opens inside the object are filled below
    rim = raw & ~ndimage.binary_erosion(raw, iterations=RIM)
    raw &= ~(rim & (dist < KEEP_DE))
    raw = ndimage.binary_opening(raw)
    fg, parts, holes = _clean(raw)
    share = float(fg.mean())
    ring = np.zeros_like(fg)  # the 2 px just inside the seed band
    ring[band:h - band, band:w - band] = True
    ring[band + 2:h - band - 2, band + 2:w - band - 2] = False
    touch = float(fg[ring].mean())
    support = _support(lab, fg) if 0 < share < 1 else 0.0
    reason = None
    if not SHARE_MIN <= share <= SHARE_MAX:
        reason = f"object share {share:.2f} outside {SHARE_MIN}..{SHARE_MAX}"
    elif touch > TOUCH_MAX:
        reason = f"the object runs into the frame ({touch:.2f} of the inner ring)"
    elif holes > HOLES_MAX:
        reason = f"the cut leaves holes of {holes:.2f} of the object inside it"
    elif parts < MAIN_SHARE:
        reason = f"scattered foreground (the largest part holds {parts:.2f} of it)"
    elif support < SUPPORT_MIN:
        reason = f"the cut follows a visible edge along {support:.2f} of the contour only"
    if reason is not None:
        return Segmentation(None, share, touch, support, parts, reason)
    big = cv2.resize(fg.astype(np.float32), (w0, h0), interpolation=cv2.INTER_LINEAR)
    lum = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    up = max(h0, w0) / max(h, w)  # the working image's pixels per mask pixel
    r = max(1, round(GUIDE_RADIUS * up / 2))
    alpha = np.clip(_guided(lum, big, r, GUIDE_EPS), 0.0, 1.0)
    # away from the contour the mask decides: the filter mats a band of one mask pixel each side
    core = cv2.resize(ndimage.binary_erosion(fg).astype(np.uint8), (w0, h0),
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    outside = cv2.resize((~ndimage.binary_dilation(fg)).astype(np.uint8), (w0, h0),
                         interpolation=cv2.INTER_NEAREST).astype(bool)
    alpha[core], alpha[outside] = 1.0, 0.0
    # at full resolution, what has a ground colour near the contour is ground: slits between a
    # tail and a leg that the small mask closed, the ground's pixels the enlarged mask spilt over
    rim = cv2.resize((fg & ~ndimage.binary_erosion(fg, iterations=RIM)).astype(np.uint8), (w0, h0),
                     interpolation=cv2.INTER_NEAREST).astype(bool) & (alpha > 0)
    ry, rx = np.nonzero(rim)
    if ry.size and outside.any():
        # the ground's colour here: the nearest pixel outside the object (a vignette's lit centre
        # is no border colour), and the border colours themselves
        _, (oy, ox) = ndimage.distance_transform_edt(~outside, return_indices=True)
        lab_px = skcolor.rgb2lab(np.stack([rgb[ry, rx], rgb[oy[ry, rx], ox[ry, rx]]]).astype(np.float32) / 255.0)
        px, local = lab_px[0].astype(np.float32), lab_px[1].astype(np.float32)
        near = np.minimum(np.sqrt(((px[:, None, :] - centres.astype(np.float32)[None]) ** 2).sum(-1)).min(1),
                          np.sqrt(((px - local) ** 2).sum(-1)))
        ground = np.zeros((h0, w0), bool)
        ground[ry[near < KEEP_DE], rx[near < KEEP_DE]] = True
        alpha[ndimage.binary_opening(ground)] = 0.0  # whole patches, not single noisy pixels
    alpha[alpha < 0.04] = 0.0
    return Segmentation(alpha.astype(np.float32), share, touch, support, parts, None)
