"""Colours and words through the whole path: the request's reading (language, English reading,
colours) -> the generator (with its palette input) -> the scene's one correction -> the serving
rasterizer, on the frozen prompt sets (``eval/prompts.jsonl``, English, and
``eval/prompts_i18n.jsonl``, the same prompts in nine languages).

    python -m service.understanding.scene_eval [--checkpoint PREFIX] [--out FILE]

Per expected colour, measured on pixels (300x250, skia), CIEDE2000:
- ground: the median over the pixels no layer covers (the scene rendered with and without its
  layers agree there);
- motif: for each used layer, the median colour of the pixels it changes most (its top quarter by
  change); the layer nearest the expected colour is the motif's;
- any (a colour named in a product title): the nearer of the two.
Both before the correction (the generator alone, given the palette) and after it (as served).
Role prompts ("X on Y", "X and Y stripes", "Y background with X") count as hits when the ground is
within 8 of Y and the motif within 10 of X. Distractor precision: a distractor must name no colour.
In the other languages, also: theme agreement — the frozen theme judge (models/judge.py) names the
same theme for the translated prompt's scene as for the English prompt's, on prompts whose English
text names a judged theme. ``make eval`` runs it; models/ never imports this (it lives in service/).
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.data.vocabulary import THEMES
from models.judge import ThemeJudge, load_judge
from models.scene import format as SF
from models.scene.palette import PALETTE_DIM, delta_e, hex_to_rgb
from models.scene.raster_skia import render
from service.config import load_settings
from service.engine import TorchEngine
from service.engine.conditioning import conditioning_texts, mix_conditioning
from service.schemas import CreativeRequest
from service.understanding.evaluate import load_prompts
from service.understanding.evaluate_i18n import PROMPTS_I18N
from service.understanding.request import Understood, understand

LOCALES = {"en": "en-US", "zh": "zh-CN", "ja": "ja-JP", "ko": "ko-KR", "de": "de-DE", "fr": "fr-FR",
           "es": "es-ES", "it": "it-IT", "pt": "pt-BR", "ar": "ar-SA"}
W, H = 300, 250
ROLE_GROUND_DE, ROLE_MOTIF_DE = 8.0, 10.0
PRESENT_DE = 10.0  # a title's colour counts as present in the scene within this CIEDE2000


def _pixels(scene: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the scene, its ground alone) rendered, sRGB 0..1 (H, W, 3)."""
    ground = scene.copy()
    ground[1:, SF.ALPHA] = 0
    return render(scene, W, H).astype(np.float64) / 255, render(ground, W, H).astype(np.float64) / 255


def ground_error(scene: np.ndarray, target: str) -> float | None:
    full, ground = _pixels(scene)
    bare = np.abs(full - ground).max(-1) < 2 / 255
    if bare.sum() < 50:  # the layers cover (almost) everything: no ground to measure
        return None
    return float(np.median(delta_e(full[bare], np.array(hex_to_rgb(target))[None])))


def motif_error(scene: np.ndarray, target: str) -> float | None:
    _, ground = _pixels(scene)
    goal = np.array(hex_to_rgb(target))
    best = None
    for i in range(1, SF.ROWS):
        if scene[i, SF.ALPHA] < SF.ALPHA_MIN:
            continue
        alone = scene.copy()
        alone[1:, SF.ALPHA] = 0
        alone[i, SF.ALPHA] = scene[i, SF.ALPHA]
        px = render(alone, W, H).astype(np.float64) / 255
        change = np.abs(px - ground).max(-1)
        if change.max() < 4 / 255:
            continue
        covered = change >= np.quantile(change[change > 2 / 255], 0.75)
        err = float(delta_e(np.median(px[covered], 0), goal))
        best = err if best is None else min(best, err)
    return best


def request_of(row: dict) -> CreativeRequest:
    """A prompt as a /creative request (a prompt without a title gets the neutral word "product")."""
    return CreativeRequest.model_validate({
        "product": {"title": row["title"] or "product", "description": row["description"] or None,
                    "category": row["category"] or None},
        "audience": {"interests": row["interests"], "locale": LOCALES.get(row.get("lang", "en"), "en-US")},
        "style": row["style"] or None, "sizes": ["300x250"]})


@dataclass
class Scenes:
    engine: TorchEngine
    seed: int = 11

    def of(self, req: CreativeRequest, n: int) -> tuple[np.ndarray, np.ndarray, Understood]:
        """(the generator's scene, the served scene, the reading) for request ``req``, seed + n."""
        und = understand(req)
        texts = conditioning_texts(req, und.english)
        vecs = self.engine.encode([t for ts in texts.values() for t in ts])
        by_role, i = {}, 0
        for role, ts in texts.items():
            by_role[role], i = vecs[i:i + len(ts)], i + len(ts)
        c = mix_conditioning(by_role)
        named = und.palette
        vector = torch.from_numpy(np.stack([named.vector if named else np.zeros(PALETTE_DIM, np.float32)] * 2))
        with torch.inference_mode():  # the generator alone (as the engine runs it), then the correction
            pre = self.engine.bundle.generator.generate(torch.from_numpy(np.stack([c, c])), [self.seed + n] * 2,
                                                        vector)[0]
        return pre, (named.apply(pre) if named else pre), und


@dataclass
class Tally:
    errors: dict[str, list[float]] = field(default_factory=dict)
    roles_hit: int = 0
    roles_total: int = 0
    distractors: int = 0
    clean: int = 0
    present: int = 0
    titled: int = 0
    agree: int = 0
    judged: int = 0

    def add(self, key: str, value: float) -> None:
        self.errors.setdefault(key, []).append(value)

    def table(self) -> dict:
        out: dict = {k: {"n": len(v), "median": round(float(np.median(v)), 2),
                         "p90": round(float(np.percentile(v, 90)), 2)} for k, v in sorted(self.errors.items())}
        out["roles_within_bounds"] = round(self.roles_hit / self.roles_total, 3) if self.roles_total else None
        out["distractor_precision"] = round(self.clean / self.distractors, 3) if self.distractors else None
        out["title_colour_present"] = round(self.present / self.titled, 3) if self.titled else None
        out["theme_agreement_with_english"] = round(self.agree / self.judged, 3) if self.judged else None
        out["theme_prompts_judged"] = self.judged
        out["title_prompts"] = self.titled
        return out


def _measure(tally: Tally, row: dict, pre: np.ndarray, post: np.ndarray) -> None:
    found: dict[str, list[float]] = {}
    for exp in row["expect"]:
        role = exp["role"]
        if role == "any":  # a colour named in a product title: anywhere in the scene
            errs = [e for e in (ground_error(post, exp["hex"]), motif_error(post, exp["hex"])) if e is not None]
            tally.titled += 1
            tally.present += bool(errs) and min(errs) <= PRESENT_DE
            continue
        if role not in ("ground", "motif"):
            continue
        for stage, scene in (("generator", pre), ("served", post)):
            e = ground_error(scene, exp["hex"]) if role == "ground" else motif_error(scene, exp["hex"])
            if e is not None:
                tally.add(f"{stage}:{role}:{exp['kind']}", e)
                if stage == "served":
                    found.setdefault(role, []).append(e)
    if {"ground", "motif"} <= found.keys():
        tally.roles_total += 1
        tally.roles_hit += max(found["ground"]) <= ROLE_GROUND_DE and max(found["motif"]) <= ROLE_MOTIF_DE


def _names_theme(text: str) -> bool:
    low = text.lower()
    return any(w in low for words in THEMES.values() for w in words)


def _theme(judge: ThemeJudge, scene: np.ndarray) -> str:
    return judge.classify(render(scene, 64, 64)[None])[0]


def evaluate(checkpoint: str | None = None, limit: int | None = None) -> dict:
    settings = load_settings(**({"checkpoint": checkpoint} if checkpoint else {}))
    scenes = Scenes(TorchEngine.load(settings))
    judge, _ = load_judge()
    english = load_prompts()[:limit]
    by_id = {row["id"]: row for row in english}
    translated = load_prompts(PROMPTS_I18N)
    t0 = time.time()
    tallies: dict[str, Tally] = {}
    english_theme: dict[str, str] = {}
    for n, row in enumerate(english + translated):
        lang = row.get("lang", "en")
        tally = tallies.setdefault(lang, Tally())
        pre, post, und = scenes.of(request_of(row), n if lang == "en" else list(by_id).index(row["id"])
                                   if row["id"] in by_id else n)
        if row["kind"] == "distractor":
            tally.distractors += 1
            tally.clean += not und.colours.palette.colours()
            continue
        _measure(tally, row, pre, post)
        source = by_id.get(row["id"])
        if source is not None and _names_theme(" ".join([source["style"], source["title"]])):
            if lang == "en":
                english_theme[row["id"]] = _theme(judge, post)
            elif row["id"] in english_theme:
                tally.judged += 1
                tally.agree += _theme(judge, post) == english_theme[row["id"]]
    return {"checkpoint": scenes.engine.ids["generator"], "prompts": len(english) + len(translated),
            "by_language": {lang: t.table() for lang, t in tallies.items()}, "seconds": round(time.time() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m service.understanding.scene_eval", description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--limit", type=int, default=None, help="English prompts to take (all by default)")
    ap.add_argument("--out", type=Path, default=Path("models/checkpoints/adloom-base.colours.json"))
    args = ap.parse_args(argv)
    report = evaluate(args.checkpoint, args.limit)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
