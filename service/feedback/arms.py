"""What a creative is, for click feedback: its arm (the design attributes the bandit compares)
and the digest of the request content that goes into every creative id."""
from __future__ import annotations

import hashlib

import numpy as np

from models.scene import format as scene_format
from service.compose.locale_text import default_cta
from service.copy_choice import CopyChoice
from service.results import Rendered
from service.schemas import CreativeRequest


def request_digest(req: CreativeRequest) -> str:
    """The request's content (presentation fields aside) as a hash: part of every creative id."""
    doc = req.model_dump_json(by_alias=True, exclude={"format", "return_layers", "optimize", "seed"})
    return hashlib.sha256(doc.encode()).hexdigest()


def main_motif(scene: np.ndarray | None) -> str:
    """The scene's most prominent layer kind (opacity x size), or "plain"."""
    if scene is None or not isinstance(scene, np.ndarray) or scene.shape != (scene_format.ROWS, scene_format.P):
        return "plain"
    # what sanitize would make of the two fields read (opacity, size) and of the kind, without
    # sanitizing the other 27 (a served request's CPU: sanitize was 7 % of the event loop's time)
    layers = np.asarray(scene[1:], np.float32)
    alpha = np.clip(layers[:, scene_format.ALPHA], *scene_format.LIMITS[scene_format.ALPHA])
    alpha = np.where(alpha < scene_format.ALPHA_MIN, np.float32(0.0), alpha)
    size = np.clip(layers[:, scene_format.SIZE], *scene_format.LIMITS[scene_format.SIZE])
    weight = alpha * (0.2 + size)
    weight[alpha < scene_format.ALPHA_MIN] = 0
    if not weight.any():
        return "plain"
    row = layers[int(np.argmax(weight))]
    return scene_format.KINDS[int(np.argmax(row[:scene_format.N_KINDS]))]


def family_of(layout: str | None) -> str:
    """"square/open-mirrored" -> "open"."""
    if not layout:
        return "unknown"
    return layout.split("/", 1)[-1].removesuffix("-mirrored")


def arm_of(req: CreativeRequest, r: Rendered, scene, copy: CopyChoice, has_photo: bool) -> dict:
    """The creative's design attributes. A caller's own CTA is named by a hash: the counters keep
    no caller text (the service's own wordings — the locale's default, even when the caller sends
    it, and the phrase-bank CTAs — are kept as they read)."""
    palette = "brand" if req.brand.colors else ("photo" if has_photo else "scene")
    if req.copy_.cta and req.copy_.cta != default_cta(req.audience.locale):
        cta = "caller:" + hashlib.sha256(req.copy_.cta.encode()).hexdigest()[:8]
    else:
        cta = copy.cta or default_cta(req.audience.locale)
    return {"layout": family_of(r.layout), "scene": main_motif(scene), "palette": palette, "copy": copy.label,
            "cta": cta}


