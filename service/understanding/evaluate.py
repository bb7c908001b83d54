"""The frozen evaluation set (``eval/prompts.jsonl``): recall as CIEDE2000 and distractor precision.

    python -m service.understanding.evaluate          # the table
    python -m service.understanding.evaluate --fails  # and every prompt that missed

Each prompt has the text fields and a list of expectations ``{"role", "hex", "kind"}``: role ``ground``
is compared with the palette's ground, ``motif`` with the nearest palette motif, ``any`` with the nearest
palette colour, ``excluded`` must be among the excluded colours and absent from the palette. A missing
colour scores ``MISS`` (100). Distractor prompts expect no colour at all; precision is the share of them
whose palette is empty.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from service.understanding.parser import ColourParser
from service.understanding.schema import ColourUnderstanding
from service.understanding.science import delta_e

PROMPTS = Path(__file__).resolve().parent / "eval" / "prompts.jsonl"
MISS = 100.0
HIT = 5.0  # a colour within this CIEDE2000 counts as found (for the hit rate only)


@dataclass
class Report:
    # CIEDE2000 per expectation, by the expected colour's kind ("name", "hex", "product"), and also by the
    # prompt's kind ("prompts:rgb") and the expected role ("role:ground")
    errors: dict[str, list[float]] = field(default_factory=dict)
    distractors: int = 0
    clean_distractors: int = 0
    negations: int = 0
    negations_ok: int = 0
    fails: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.clean_distractors / max(1, self.distractors)

    def stats(self, kind: str) -> dict[str, float]:
        e = np.array(self.errors.get(kind, [MISS]))
        return {"n": float(len(e)), "median": float(np.median(e)), "p90": float(np.percentile(e, 90)),
                "hit_rate": float((e <= HIT).mean())}


def load_prompts(path: Path = PROMPTS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _understand(parser: ColourParser, p: dict[str, Any]) -> ColourUnderstanding:
    return parser.parse(p.get("style", ""), title=p.get("title", ""), description=p.get("description", ""),
                        category=p.get("category", ""), interests=p.get("interests", []))


def _error(u: ColourUnderstanding, exp: dict[str, Any]) -> float:
    pal = u.palette
    pool = {"ground": [pal.ground] if pal.ground else [], "motif": list(pal.motifs), "any": pal.colours()}
    got = [c.hex for c in pool[exp["role"]]]
    return min((delta_e(h, exp["hex"]) for h in got), default=MISS)


def _negation_ok(u: ColourUnderstanding, exp: dict[str, Any]) -> bool:
    named = any(delta_e(c.hex, exp["hex"]) <= HIT for c in u.excluded)
    used = any(delta_e(c.hex, exp["hex"]) <= HIT for c in u.palette.colours())
    return named and not used


def evaluate(parser: ColourParser | None = None, prompts: list[dict[str, Any]] | None = None) -> Report:
    parser = parser or ColourParser()
    report = Report()
    for p in prompts if prompts is not None else load_prompts():
        u = _understand(parser, p)
        if p["kind"] == "distractor":
            report.distractors += 1
            clean = not u.palette.colours()
            report.clean_distractors += clean
            if not clean:
                report.fails.append(f"{p['id']}: distractor gave {[(c.text, c.source) for c in u.colors]}")
        for exp in p["expect"]:
            if exp["role"] == "excluded":
                ok = _negation_ok(u, exp)
                report.negations += 1
                report.negations_ok += ok
                if not ok:
                    report.fails.append(f"{p['id']}: {exp['from']} not excluded")
                continue
            err = _error(u, exp)
            for key in (exp["kind"], f"prompts:{p['kind']}", f"role:{exp['role']}"):
                report.errors.setdefault(key, []).append(err)
            if err > HIT:
                report.fails.append(f"{p['id']}: {exp['role']} {exp['from']} {exp['hex']} -> "
                                    f"{u.palette.hexes()} dE={err:.1f}")
    return report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="colour understanding on the frozen evaluation set")
    ap.add_argument("--fails", action="store_true", help="list the prompts that missed")
    args = ap.parse_args(argv)
    r = evaluate()
    print("kind                 n   median     p90  hit(<=5)")
    for kind in sorted(r.errors, key=lambda k: (":" in k, k)):
        s = r.stats(kind)
        print(f"{kind:18s} {int(s['n']):3d}  {s['median']:7.2f} {s['p90']:7.2f}    {s['hit_rate']:.3f}")
    print(f"distractor precision {r.clean_distractors}/{r.distractors} = {r.precision:.3f}")
    print(f"negations excluded {r.negations_ok}/{r.negations}")
    if args.fails:
        print("\n".join(r.fails))


if __name__ == "__main__":
    main()
