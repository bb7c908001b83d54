"""Builds the data files in ``data/`` once, at development time (not at run time, not in CI).

    python -m service.understanding.build_data --cnl /tmp/color-name-list/package/dist/colornames.json

Sources (see ``data/LICENSES.md``):

* CSS Color Module Level 4 named colours (148) and the XKCD colour survey (949 names, CC0), both read from
  matplotlib's ``matplotlib._color_data`` (matplotlib is needed for this script only);
* ``color-name-list`` (MIT; ``npm pack color-name-list``): its ``dist/colornames.json``.

Outputs: ``css4.tsv`` (key, hex, the concatenated CSS spelling), ``xkcd.tsv``, ``colornames.tsv.gz`` (only
names that CSS4/XKCD do not already define) and ``modifiers.json``: modifier models LEARNED from the XKCD
survey's pairs ("light X" vs "X"), see :func:`learn_tone`, :func:`learn_blend` and the README section.
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from service.understanding.science import delta_e_lab, hexes_to_lab
from service.understanding.tokens import name_key

DATA = Path(__file__).resolve().parent / "data"
# Candidate tone modifiers; a modifier is kept when the survey has at least MIN_PAIRS "m X" / "X" pairs.
TONE = ["light", "dark", "pale", "bright", "deep", "very light", "very dark", "very pale", "dusty", "dull",
        "pastel", "faded", "neon", "muted", "soft", "vivid", "vibrant", "electric", "hot", "baby", "dirty",
        "dusky", "warm", "cool", "medium", "darkish", "lightish", "muddy", "burnt", "strong"]
# "-ish"/"-y" hue words and the hue each one pulls towards.
HUE = {"greenish": "green", "greeny": "green", "bluish": "blue", "blueish": "blue", "bluey": "blue",
       "reddish": "red", "reddy": "red", "pinkish": "pink", "pinky": "pink", "purplish": "purple",
       "purpleish": "purple", "purpley": "purple", "purply": "purple", "yellowish": "yellow",
       "yellowy": "yellow", "brownish": "brown", "browny": "brown", "greyish": "grey", "grayish": "grey",
       "orangish": "orange", "orangeish": "orange", "orangey": "orange", "tealish": "teal"}
BASIC = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey", "gray"]
MIN_PAIRS = 3
RIDGE_L = 3 * 20.0 ** 2  # prior: the L* slope is 1, worth 3 pairs spread 20 L* units
RIDGE_AB = 3 * 30.0 ** 2  # prior: the chroma scale is 1, worth 3 pairs spread 30 units
# CSS names are written without spaces ("darkslateblue"); these words split them ("dark slate blue").
CSS_WORDS = set("""dark light medium pale deep dim hot alice antique blanched almond blue violet cadet cornflower
dodger floral forest ghost green yellow indian lavender blush lawn lemon chiffon goldenrod sea sky slate steel
spring aquamarine orchid purple turquoise red midnight mint cream misty rose navajo white old lace olive drab
orange papaya whip peach puff lime powder rebecca rosy brown royal saddle sandy smoke burly wood gray grey cyan
magenta khaki salmon pink coral""".split())


def split_css(name: str) -> str:
    """Most-words segmentation of a CSS name over CSS_WORDS; the name itself when none exists."""
    best: dict[int, list[str]] = {0: []}
    for i in range(1, len(name) + 1):
        options = [best[j] + [name[j:i]] for j in range(i) if j in best and name[j:i] in CSS_WORDS]
        if options:
            best[i] = max(options, key=len)
    return " ".join(best.get(len(name), [name]))


def read_sources(cnl_json: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(css4, xkcd, cnl): key -> ``#RRGGBB``; each later list only holds keys the earlier ones lack."""
    cd: Any = importlib.import_module("matplotlib._color_data")
    css = {split_css(k): str(v).upper() for k, v in cd.CSS4_COLORS.items()}
    xkcd: dict[str, str] = {}
    for raw, v in cd.XKCD_COLORS.items():
        key = name_key(str(raw)[len("xkcd:"):])
        if key and key not in css and key.replace(" ", "") not in cd.CSS4_COLORS:
            xkcd.setdefault(key, str(v).upper())
    cnl: dict[str, str] = {}
    for row in json.loads(cnl_json.read_text(encoding="utf-8")):
        key = name_key(row["name"])
        if key and len(key.split()) <= 6 and key not in css and key not in xkcd:
            if key.replace(" ", "") not in cd.CSS4_COLORS:
                cnl.setdefault(key, str(row["hex"]).upper())
    return css, xkcd, cnl


def survey_lab() -> dict[str, np.ndarray]:
    """The whole XKCD survey (not filtered against CSS) as key -> Lab, the learning set."""
    cd: Any = importlib.import_module("matplotlib._color_data")
    keys, hexes = [], []
    for raw, v in cd.XKCD_COLORS.items():
        key = name_key(str(raw)[len("xkcd:"):])
        if key:
            keys.append(key)
            hexes.append(str(v))
    labs = hexes_to_lab(hexes)
    return {k: labs[i] for i, k in enumerate(keys)}


def _fit_affine(x: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """L' = s*L + t (slope ridged to 1); (a', b') = k*(a, b) + (ta, tb) (scale ridged to 1)."""
    xm, ym = x.mean(axis=0), y.mean(axis=0)
    dx, dy = x - xm, y - ym
    s = float((dx[:, 0] @ dy[:, 0] + RIDGE_L) / (dx[:, 0] @ dx[:, 0] + RIDGE_L))
    k = float(((dx[:, 1:] * dy[:, 1:]).sum() + RIDGE_AB) / ((dx[:, 1:] ** 2).sum() + RIDGE_AB))
    return {"L": [s, float(ym[0] - s * xm[0])],
            "ab": [k, float(ym[1] - k * xm[1]), float(ym[2] - k * xm[2])]}


def apply_tone(model: dict[str, Any], lab: np.ndarray) -> np.ndarray:
    """Apply one learned tone model (see the README section) to a Lab colour."""
    if model["model"] == "offset":
        return lab + np.array(model["mean"])
    s, t = model["L"]
    k, ta, tb = model["ab"]
    return np.array([s * lab[0] + t, k * lab[1] + ta, k * lab[2] + tb])


def _loo(x: np.ndarray, y: np.ndarray, kind: str) -> float:
    """Median CIEDE2000 error predicting each pair from a model fitted on the others."""
    errs = []
    for i in range(len(x)):
        rest = np.arange(len(x)) != i
        model: dict[str, Any] = {"model": kind, "mean": (y[rest] - x[rest]).mean(axis=0).tolist()}
        model.update(_fit_affine(x[rest], y[rest]))
        p = apply_tone(model, x[i])
        errs.append(delta_e_lab((p[0], p[1], p[2]), (y[i][0], y[i][1], y[i][2])))
    return float(np.median(errs))


def learn_tone(lab: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per modifier m: pairs ("m X", "X") in the survey; the mean Lab offset and a ridged affine model; the
    one with the lower leave-one-out CIEDE2000 median is used."""
    out: dict[str, dict[str, Any]] = {}
    for mod in TONE:
        bases = [k[len(mod) + 1:] for k in lab if k.startswith(mod + " ") and k[len(mod) + 1:] in lab]
        if len(bases) < MIN_PAIRS:
            continue
        x = np.array([lab[b] for b in bases])
        y = np.array([lab[f"{mod} {b}"] for b in bases])
        entry: dict[str, Any] = {"n": len(bases), "mean": [round(float(v), 3) for v in (y - x).mean(axis=0)]}
        entry.update({k: [round(v, 4) for v in vs] for k, vs in _fit_affine(x, y).items()})
        entry["loo_offset"] = round(_loo(x, y, "offset"), 3)
        entry["loo_affine"] = round(_loo(x, y, "affine"), 3)
        entry["model"] = "affine" if entry["loo_affine"] < entry["loo_offset"] else "offset"
        out[mod] = entry
    return out


def _blend_t(x: np.ndarray, y: np.ndarray, h: np.ndarray) -> float:
    v, d = h - x, y - x
    return float((v * d).sum() / max((v * v).sum(), 1e-9))


def _blend(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Pooled t in Lab(result) = Lab(base) + t * (Lab(pull) - Lab(base)); leave-one-out median error."""
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    h = np.array([p[2] for p in pairs])
    errs = []
    for i in range(len(pairs)):
        rest = np.arange(len(pairs)) != i
        t = _blend_t(x[rest], y[rest], h[rest])
        p = x[i] + t * (h[i] - x[i])
        errs.append(delta_e_lab((p[0], p[1], p[2]), (y[i][0], y[i][1], y[i][2])))
    return {"t": round(_blend_t(x, y, h), 4), "n": len(pairs), "loo": round(float(np.median(errs)), 3)}


def learn_blend(lab: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hue, compound): "greenish X" pulls X towards green; "A B" (A a non-basic name, B a basic colour,
    e.g. "wine red") pulls B towards A. Both as one pooled blend factor t learned from the survey."""
    hue_pairs = []
    for k in lab:
        first, _, rest = k.partition(" ")
        if first in HUE and rest in lab and HUE[first] in lab:
            hue_pairs.append((lab[rest], lab[k], lab[HUE[first]]))
    comp_pairs = []
    skip = set(TONE) | set(HUE) | set(BASIC) | {"very", "ugly", "off"}
    for k in lab:
        parts = k.split(" ")
        if len(parts) == 2 and parts[1] in BASIC and parts[0] not in skip and parts[0] in lab:
            comp_pairs.append((lab[parts[1]], lab[k], lab[parts[0]]))
    hue = _blend(hue_pairs)
    hue["words"] = HUE
    return hue, _blend(comp_pairs)


def write_tsv(path: Path, rows: dict[str, str], extra: dict[str, str] | None = None) -> None:
    lines = [f"{k}\t{v}" + (f"\t{extra[k]}" if extra else "") for k, v in sorted(rows.items())]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    else:
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cnl", type=Path, required=True, help="color-name-list's dist/colornames.json")
    args = ap.parse_args(argv)
    css, xkcd, cnl = read_sources(args.cnl)
    DATA.mkdir(exist_ok=True)
    write_tsv(DATA / "css4.tsv", css, {k: k.replace(" ", "") for k in css})
    write_tsv(DATA / "xkcd.tsv", xkcd)
    write_tsv(DATA / "colornames.tsv.gz", cnl)
    lab = survey_lab()
    hue, compound = learn_blend(lab)
    models = {"source": "XKCD colour survey (CC0), pairs of names; see build_data.py",
              "tone": learn_tone(lab), "hue": hue, "compound": compound}
    (DATA / "modifiers.json").write_text(json.dumps(models, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"css4 {len(css)}, xkcd {len(xkcd)} (after CSS), color-name-list {len(cnl)} (after both)")


if __name__ == "__main__":
    main()
