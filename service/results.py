"""What a request produces: one ``Rendered`` per size × variant, and the ``Result`` of a request.

``Rendered.json_parts`` is the creative's object of the JSON answer (service/schemas.py's
``Creative``, whose fields it writes); ``StageError`` is a server fault in one stage.
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field

import numpy as np

# overall = weighted mean of the four 0..1 scores. Alignment (the visual shows what was asked for)
# and composition (the measured design metrics) lead; legibility next, because unreadable copy
# sells nothing; realism, the critic's judgement of the scene alone, counts least.
OVERALL_WEIGHTS = {"alignment": 0.3, "realism": 0.15, "legibility": 0.25, "composition": 0.3}


def overall_score(s: dict[str, float], scene_share: float = 1.0) -> float:
    """The weighted mean; ``scene_share``: the share of the canvas where the generated scene shows.
    The critic has seen scenes only, so realism counts for that share of its weight (a product
    photo covering half the canvas halves it) and the other scores share the rest in proportion."""
    k = min(1.0, max(0.0, scene_share))
    weights = dict(OVERALL_WEIGHTS, realism=OVERALL_WEIGHTS["realism"] * k)
    total = sum(weights.values())
    return round(sum(w * s[name] for name, w in weights.items()) / total, 4)


def creative_scores(realism: float, cosine: float, layout_scores: dict, scene_share: float = 1.0) -> dict[str, float]:
    """The critic's (realism, alignment cosine) and the compositor's scores -> the response's scores
    (``scene_share``: see ``overall_score``)."""
    scores = {"alignment": round(min(1.0, max(0.0, (cosine + 1) / 2)), 4),
              "realism": round(realism, 4),
              "legibility": round(float(layout_scores.get("legibility", 0.0)), 4),
              "composition": round(float(layout_scores.get("composition", 0.0)), 4)}
    return {"overall": overall_score(scores, scene_share), **scores}


def checks_of(c: dict) -> dict:
    """The compositor's checks -> the response's ``checks``."""
    ratio = c.get("min_contrast_ratio")
    # None (not measured) stays None: a missing measurement is reported as missing, never as 21:1.
    return {"min_contrast_ratio": round(float(ratio), 2) if ratio is not None and math.isfinite(ratio) else None,
            "text_truncated": bool(c.get("text_truncated", False)), "overlaps": int(c.get("overlaps", 0)),
            "product_share": c.get("product_share"), "product_note": c.get("product_note"),
            "logo_note": c.get("logo_note")}


@dataclass
class Rendered:
    size: str
    width: int
    height: int
    variant: int
    seed: int
    format: str
    image: bytes
    layout: str | None
    checks: dict
    layout_scores: dict
    background: bytes | None = None
    elements: list | None = None
    scene: dict | None = None  # layers.scene: {"json", "svg", "png"}
    svg: str | None = None  # layers.svg: the whole creative, copy as <text>
    design: dict = field(default_factory=dict)  # the design metrics behind legibility and composition
    scores: dict = field(default_factory=dict)
    image_b64: bytes | None = None  # filled in the compose pool for JSON answers (ASCII)
    creative_id: str = ""  # set by service/creatives.py once the request's content is known
    arm: dict = field(default_factory=dict)
    propensity: float = 1.0
    candidates: list | None = None  # optimize: every candidate's arm and propensity

    def json_parts(self) -> list[bytes]:
        """This creative as a JSON object, in pieces to be written one after another. The base64
        image (megabytes) is spliced in as bytes rather than passed through a JSON encoder:
        base64 needs no escaping, and encoding it would hold the event loop (and the GIL) for
        milliseconds per creative; nor is it copied into one string with the rest."""
        meta = {"size": self.size, "width": self.width, "height": self.height, "variant": self.variant,
                "seed": self.seed, "format": self.format,
                "layout": self.layout, "scores": self.scores, "design": self.design, "checks": self.checks,
                "creative_id": self.creative_id, "arm": self.arm, "propensity": self.propensity}
        if self.candidates is not None:
            meta["candidates"] = self.candidates
        if self.background is not None:
            layers: dict[str, object] = {"background": base64.b64encode(self.background).decode("ascii"),
                                         "elements": self.elements or []}
            if self.svg is not None:
                layers["svg"] = self.svg
            if self.scene is not None:
                layers["scene"] = self.scene
            meta["layers"] = layers
        head = json.dumps(meta, separators=(",", ":")).encode()
        return [head[:-1], b',"image":"', self.image_b64 or base64.b64encode(self.image), b'"}']


@dataclass
class Result:
    seed: int
    creatives: list[Rendered]  # the pipeline: per size and variant; CreativeService: best first within a size
    timings_ms: dict[str, float]
    cache_hits: int
    cache_misses: int
    visuals: list[np.ndarray] = field(default_factory=list)  # the generated scene (ROWS, P) per variant
    conditioning: np.ndarray | None = None  # c (D,)
    campaign: str = ""  # the feedback campaign its creatives are counted in (CreativeService)
    understood: dict | None = None  # what was read in the request (service/understanding/request.py)

    @property
    def best(self) -> Rendered:
        """The best creative of all; the first of equals in request order."""
        return max(self.creatives, key=lambda r: r.scores["overall"])


def best_first(creatives: list[Rendered], sizes: list[str]) -> list[Rendered]:
    """Per size in request order, best overall score first, then by variant."""
    order = {s: i for i, s in enumerate(sizes)}
    return sorted(creatives, key=lambda r: (order[r.size], -r.scores["overall"], r.variant))


class StageError(RuntimeError):
    """A stage raised while computing this request's items: a server fault (HTTP 500).

    ``str()`` names the stage only. The original exception is the ``__cause__``: it goes to the
    log with its traceback, never to the caller, because its text may quote the input. For a
    batched stage the batcher has already bisected the failed batch, so the fault is this
    request's own: it failed alone on a retry, and its batch-mates were computed without it
    (``batched``; False when it was alone in its batch in the first place).
    """

    def __init__(self, stage: str, batched: bool):
        self.stage = stage
        self.batched = batched  # it shared a batch that failed, and was retried apart from it
        super().__init__(f"the {stage} stage failed for this request")

    def detail(self, request_id: str | None) -> str:
        """The caller's error message: the stage and the request id, nothing from the exception."""
        isolated = ("; it was isolated from its batch, whose other items were computed without it"
                    if self.batched else "")
        return (f"the {self.stage} stage failed for this request{isolated} "
                f"(request id {request_id}; a server fault, logged under that id)")
