"""The frozen multilingual evaluation set (``eval/prompts_i18n.jsonl``), per language.

    python -m service.understanding.evaluate_i18n          # the table
    python -m service.understanding.evaluate_i18n --fails  # and every prompt that missed

The set holds, for each of zh, ja, ko, de, fr, es, it, pt and ar: 60 prompts of the English set
(``eval/prompts.jsonl``, same ``id``, with ``lang``) translated with the English expectations (the English
expected hex, so a translation that names a neighbouring colour, "bleu marine" for "navy", costs its
ΔE00), 10 distractors (idioms and brand-like words) expecting no colour, and 3 product titles expecting the
colour among the palette. It was written before the tables were tuned; scoring is
``evaluate.evaluate`` per language (recall: CIEDE2000 of the parsed ground/motif/any; precision: the share
of distractors whose palette is empty).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.understanding.evaluate import MISS, Report, evaluate, load_prompts
from service.understanding.i18n import LANGS
from service.understanding.parser import ColourParser

PROMPTS_I18N = Path(__file__).resolve().parent / "eval" / "prompts_i18n.jsonl"
ROLES = ("ground", "motif", "any")


@dataclass
class LanguageScore:
    lang: str
    report: Report

    def median(self, role: str = "") -> float:
        """Median CIEDE2000 over the expectations of ``role`` ("" for all of them)."""
        keys = [f"role:{role}"] if role else [f"role:{r}" for r in ROLES]
        errors = [e for k in keys for e in self.report.errors.get(k, [])]
        return float(np.median(errors)) if errors else MISS

    def hit_rate(self) -> float:
        errors = [e for r in ROLES for e in self.report.errors.get(f"role:{r}", [])]
        return float((np.array(errors) <= 5.0).mean()) if errors else 0.0


def by_language(prompts: list[dict[str, Any]] | None = None,
                parser: ColourParser | None = None) -> dict[str, LanguageScore]:
    prompts = prompts if prompts is not None else load_prompts(PROMPTS_I18N)
    parser = parser or ColourParser()
    return {lang: LanguageScore(lang, evaluate(parser, [p for p in prompts if p["lang"] == lang])) for lang in LANGS}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="colour understanding on the frozen multilingual set")
    ap.add_argument("--fails", action="store_true", help="list the prompts that missed")
    args = ap.parse_args(argv)
    scores = by_language()
    print("lang   n  median  ground   motif     any  hit(<=5)  distractors  negations")
    for lang, s in scores.items():
        r = s.report
        n = sum(len(r.errors.get(f"role:{x}", [])) for x in ROLES)
        print(f"{lang:4s} {n:3d} {s.median():7.2f} {s.median('ground'):7.2f} {s.median('motif'):7.2f} "
              f"{s.median('any'):7.2f}     {s.hit_rate():.3f}  {r.clean_distractors:2d}/{r.distractors:2d} "
              f"{r.precision:.2f}  {r.negations_ok:2d}/{r.negations:2d}")
    if args.fails:
        for lang, s in scores.items():
            print("\n".join(f"{lang} {f}" for f in s.report.fails))


if __name__ == "__main__":
    main()
