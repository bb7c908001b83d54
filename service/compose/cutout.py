"""The pixels of a cut-out: a plain background removed by a flood fill from the border (with a
matted edge and the background colour unmixed from edge pixels, so no white halo is left), the
colours of a photo's border, and the finishing shared with segment.py (edge colours from the
nearest solid product pixel, the crop to what is opaque). product.py decides which photo gets
which; segment.py cuts the busy ones."""
from __future__ import annotations

import warnings

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.cluster.vq import kmeans2

BORDER_TOLERANCE = 30       # max per-channel difference still counted as background
UNIFORM_BORDER_SHARE = 0.80  # share of border pixels that must match the background colour
BORDER_PRODUCT_MAX = 0.08  # at most this share of the frame may stay product after the fill
HOLE_TOLERANCE = 5          # enclosed regions this close to the background colour are holes...
HOLE_MIN_SHARE = 0.005      # ...when they cover at least 0.5% of the image (not a logo dot)


def border_colours(lab: np.ndarray, band: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(centres, labels): ``k`` colours clustered from a ``band``-px border of a CIELAB image
    (k-means++, fixed seed; labels in the order top, bottom, left, right rows of the band). A plain
    border leaves clusters empty or undefined: fewer colours, not a fault."""
    border = np.concatenate([lab[:band].reshape(-1, 3), lab[-band:].reshape(-1, 3),
                             lab[:, :band].reshape(-1, 3), lab[:, -band:].reshape(-1, 3)]).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # one colour only: k-means++ divides by zero
        return kmeans2(border, k, seed=0, minit="++")


def _border_pixels(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]], axis=0)


def background_color(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """(median border colour, share of border pixels within tolerance of it)."""
    border = _border_pixels(rgb)
    bg = np.median(border, axis=0)
    share = float((np.abs(border - bg).max(axis=1) <= BORDER_TOLERANCE).mean())
    return bg, share


def flood_cutout_alpha(rgb: np.ndarray) -> np.ndarray | None:
    """Alpha 0..1 removing the border-connected plain background; None when it is not plain."""
    h, w, _ = rgb.shape
    if h < 8 or w < 8:
        return None
    bg, share = background_color(rgb)
    if share < UNIFORM_BORDER_SHARE:
        return None
    dist = np.abs(rgb - bg).max(axis=2).astype(np.float32)  # (H, W) Chebyshev distance to bg
    candidate = dist <= BORDER_TOLERANCE
    labels, _n = ndimage.label(candidate)
    border_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    border_labels = border_labels[border_labels > 0]
    background = np.isin(labels, border_labels)
    product_share = 1.0 - background.mean()
    if product_share < 0.02 or product_share > 0.98:
        return None  # nothing left, or nothing removed: not a packshot
    if (~_border_pixels(background[..., None])[:, 0]).mean() > BORDER_PRODUCT_MAX:
        return None  # a textured ground (bricks between their mortar) left along the frame: not plain
    # Enclosed holes (the inside of a mug handle) cannot be reached from the border; remove the
    # sizeable ones that match the background almost exactly.
    holes = (dist <= HOLE_TOLERANCE) & ~background
    if holes.any():
        hl, hn = ndimage.label(holes)
        sizes = ndimage.sum_labels(holes, hl, index=np.arange(1, hn + 1))
        big = np.flatnonzero(sizes >= HOLE_MIN_SHARE * h * w) + 1
        background |= np.isin(hl, big)
    return _edge_alpha(rgb, bg, ~background)


def _edge_alpha(rgb: np.ndarray, bg: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Alpha with a matted edge: 1 inside, 0 outside, and across a 2-px band around the edge the
    share of the nearest solid product colour in each pixel (projection onto fg - bg)."""
    interior = ndimage.binary_erosion(product, iterations=2)
    if not interior.any():
        return product.astype(np.float32)
    band = ndimage.binary_dilation(product, iterations=2) & ~interior
    _, (iy, ix) = ndimage.distance_transform_edt(~interior, return_indices=True)
    by, bx = np.nonzero(band)
    fg = rgb[iy[by, bx], ix[by, bx]].astype(np.float32) - bg       # (N, 3) solid colour - background
    px = rgb[by, bx].astype(np.float32) - bg                        # (N, 3) pixel - background
    a = (fg * px).sum(1) / np.maximum((fg * fg).sum(1), 1.0)
    a = np.clip(a, 0.0, 1.0)
    a[a < 0.04] = 0.0  # compression noise in the background is not product
    alpha = interior.astype(np.float32)
    alpha[by, bx] = a
    return alpha


def unmix_edges(rgb: np.ndarray, alpha: np.ndarray) -> Image.Image:
    """Edge pixels are product blended with background: solve for the product colour."""
    bg, _ = background_color(rgb)
    a = alpha[..., None]
    color = rgb.astype(np.float32)
    partial = (alpha > 0.02) & (alpha < 0.98)
    unmixed = (color - (1.0 - a) * bg) / np.maximum(a, 0.02)
    color[partial] = unmixed[partial]
    rgba = np.dstack([np.clip(color, 0, 255), alpha * 255.0]).round().astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def decontaminated(rgb: np.ndarray, alpha: np.ndarray) -> Image.Image:
    """RGBA whose partly transparent edge pixels take the colour of the nearest solid product
    pixel: on a busy ground there is no one background colour to unmix, and the ground's colour
    left in the edge would show as a dark or bright fringe on the scene."""
    solid = alpha >= 0.98
    color = rgb.copy()
    edge = (alpha > 0.0) & ~solid
    if solid.any() and edge.any():
        _, (iy, ix) = ndimage.distance_transform_edt(~solid, return_indices=True)
        ey, ex = np.nonzero(edge)
        color[ey, ex] = rgb[iy[ey, ex], ix[ey, ex]]
    return Image.fromarray(np.dstack([color, (alpha * 255.0).round().astype(np.uint8)]), "RGBA")


def crop_to_alpha(img: Image.Image) -> Image.Image:
    a = img.getchannel("A").point(lambda v: 255 if v > 10 else 0)
    box = a.getbbox()
    return img.crop(box) if box else img
