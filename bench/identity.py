"""Pictures unchanged by speed work: this tree against another checkout, on a fixed set of requests.

    git worktree add /tmp/main27 3010607
    python -m bench.identity /tmp/main27            # 102 requests x 3 variants, both trees
    python -m bench.identity /tmp/main27 --json out.json

Each request is one copy (8 languages and scripts: Latin, German compounds, Japanese, Chinese,
Korean, Arabic right to left), one scene (``random_scene``, fixed seed), one named size (all 11 in
turn) and three variants; a third of them carry a product photo (a cut-out packshot or a photo on
a busy ground), a third a logo (tests/compose/logo_material.py). Both trees compose every creative
with ``compose_creative`` in a process of their own (this interpreter, cwd the tree), and write
PNGs, the layout and the layout scores. Compared per creative: the layout (family), the pixels
(mean absolute difference in /255 and PSNR); per request: the ranking of its variants by the sum
of the layout scores. Bounds (issue 27): the same layout, the same ranking and pixels within
mean |diff| <= 3/255 and PSNR >= 30 dB (the rasterizer agreement of tests/models/test_scene.py),
each in >= 95 % (creatives, requests, creatives). The creatives outside the pixel bounds are
listed: a scene a level different can flip a discrete choice (a text colour, an underlay) in
a borderline case, and one such flip is a whole text element's pixels.

``--env NAME=VALUE`` runs this tree a second time with that environment (a cache switched off,
say) and requires those pictures byte-identical to the first run's. Exit status 0 when every
bound holds.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent

HEADLINES = {
    "en-US": ["Linen summer dress", "Big savings on everything you love this season", "New: wireless headphones"],
    "de-DE": ["Kabellose Kopfhörer mit Geräuschunterdrückung", "Sommerkleid aus Leinen", "Jetzt neu"],
    "fr-FR": ["Robe d'été en lin", "Des écouteurs sans fil pour toute la journée", "Nouveauté"],
    "es-ES": ["Vestido de verano de lino", "Auriculares inalámbricos con cancelación de ruido", "Novedad"],
    "ja-JP": ["夏のワンピース 特別セール", "ワイヤレスイヤホン", "新登場"],
    "zh-CN": ["夏季亚麻连衣裙", "无线降噪耳机 全天舒适", "新品上市"],
    "ko-KR": ["여름 린넨 원피스", "무선 노이즈 캔슬링 헤드폰", "신제품"],
    "ar-SA": ["فستان صيفي من الكتان", "سماعات لاسلكية بإلغاء الضوضاء", "جديد"],
}
SUBLINES = [None, "Soft, light, made to last.", "Free delivery, 30 days to return."]
N_REQUESTS = 102
VARIANTS = 3
MEAN_DIFF_MAX = 3.0  # /255
PSNR_MIN = 30.0  # dB
AGREE_MIN = 0.95


def cases() -> list[dict]:
    """The fixed requests (plain data: both trees build the same content from them)."""
    from_sizes = ["medium_rectangle", "large_rectangle", "leaderboard", "billboard", "wide_skyscraper", "half_page",
                  "mobile_banner", "square", "portrait", "landscape", "story"]
    locales = list(HEADLINES)
    out = []
    for i in range(N_REQUESTS):
        loc = locales[i % len(locales)]
        out.append({
            "id": i, "locale": loc, "headline": HEADLINES[loc][(i // len(locales)) % 3],
            "subline": SUBLINES[i % 3], "price": round(9.99 + 7.5 * i, 2),
            "original_price": round((9.99 + 7.5 * i) * 1.4, 2) if i % 2 else None,
            "currency": ["USD", "EUR", "JPY", "GBP"][i % 4], "brand": "Acme" if i % 4 else None,
            "font": ["sans", "serif"][(i // 5) % 2], "size": from_sizes[i % len(from_sizes)],
            "product": [None, "packshot", "photo"][(i // 2) % 3], "logo": [None, "dark_wordmark", "orange_mark",
                                                                             "two_tone"][(i // 3) % 4],
            "scene_seed": 1000 + i,
        })
    return out


# Run in each tree (cwd = the tree): compose every case, write <id>_<variant>.png and meta.json.
_PROGRAM = r"""
import hashlib, json, sys
sys.path.insert(0, '.')
import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from models.scene import format as scene_format
from service.compose import CreativeContent, compose_creative, parse_size
from tests.compose.conftest import packshot
from tests.compose.logo_material import logos

cases, out_dir, variants = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
LOGOS = logos()

def photo(seed):
    rng = np.random.default_rng(seed)
    base = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(base).resize((640, 480), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(6))
    d = ImageDraw.Draw(img)
    d.ellipse((230, 120, 430, 360), fill=(200, 40, 60))
    d.rectangle((300, 330, 360, 420), fill=(100, 20, 30))
    return img

meta = {}
for c in cases:
    product = {"packshot": packshot()[0], "photo": photo(c["id"]), None: None}[c["product"]]
    content = CreativeContent(headline=c["headline"], subline=c["subline"], price=c["price"],
                              original_price=c["original_price"], currency=c["currency"], locale=c["locale"],
                              brand_name=c["brand"], font=c["font"], product_image=product,
                              logo=LOGOS[c["logo"]] if c["logo"] else None)
    scene = scene_format.random_scene(np.random.default_rng(c["scene_seed"]))
    sz = parse_size(c["size"])
    for v in range(variants):
        r = compose_creative(scene, content, sz.width, sz.height, variant=v)
        r.image.save(f"{out_dir}/{c['id']}_{v}.png", compress_level=1)
        meta[f"{c['id']}_{v}"] = {"layout": r.layout, "scores": dict(r.scores),
                                  "md5": hashlib.md5(r.image.tobytes()).hexdigest()}
json.dump(meta, open(f"{out_dir}/meta.json", "w"))
print("DONE", len(meta))
"""


def run_program(program: str, args: list[str], tree: Path, out_dir: Path, env: dict[str, str] | None = None) -> dict:
    """``program`` (``python -c``) run in ``tree`` with this interpreter, ``env`` on top: it writes
    ``out_dir``/meta.json and prints DONE. Returns the meta (bench.precision runs its own program)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-c", program, *args], cwd=tree, capture_output=True, text=True,
                          timeout=3600, env={**os.environ, "PYTHONPATH": str(tree), **(env or {})})
    if proc.returncode != 0 or "DONE" not in proc.stdout:
        raise RuntimeError(f"{tree} {env or ''}: failed\n{proc.stderr[-3000:]}")
    meta: dict = json.loads((out_dir / "meta.json").read_text())
    return meta


def run_tree(tree: Path, case_file: Path, out_dir: Path, env: dict[str, str] | None = None) -> dict:
    return run_program(_PROGRAM, [str(case_file), str(out_dir), str(VARIANTS)], tree, out_dir, env)


def pixel_diff(a_path: Path, b_path: Path) -> tuple[float, float]:
    """(mean |a - b| in /255, PSNR in dB; inf when identical)."""
    a = np.asarray(Image.open(a_path).convert("RGB"), np.int16)
    b = np.asarray(Image.open(b_path).convert("RGB"), np.int16)
    if a.shape != b.shape:
        return float("inf"), 0.0
    d = np.abs(a - b)
    mse = float((d.astype(np.float64) ** 2).mean())
    return float(d.mean()), float("inf") if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))


def _ranking(meta: dict, cid: int) -> list[int]:
    keys = [f"{cid}_{v}" for v in range(VARIANTS)]
    return sorted(range(VARIANTS), key=lambda v: -sum(meta[keys[v]]["scores"].values()))


def compare(this: dict, other: dict, this_dir: Path, other_dir: Path, ids: list[int]) -> dict:
    diffs = {k: pixel_diff(this_dir / f"{k}.png", other_dir / f"{k}.png") for k in this}
    worst_mean = max(diffs, key=lambda k: diffs[k][0])
    same_layout = sum(this[k]["layout"] == other[k]["layout"] for k in this)
    same_rank = sum(_ranking(this, i) == _ranking(other, i) for i in ids)
    return {
        "creatives": len(this), "requests": len(ids),
        "byte_identical": sum(this[k]["md5"] == other[k]["md5"] for k in this),
        "same_layout": round(same_layout / len(this), 4), "same_ranking": round(same_rank / len(ids), 4),
        "worst_mean_diff": {"case": worst_mean, "per_255": round(diffs[worst_mean][0], 4),
                            "psnr_db": round(diffs[worst_mean][1], 2)},
        **pixel_summary(diffs),
    }


def pixel_summary(diffs: dict[str, tuple[float, float]]) -> dict:
    """Per creative (mean |diff| /255, PSNR) -> the worst PSNR, the share within the bounds, and
    the creatives outside them."""
    worst = min(diffs, key=lambda k: diffs[k][1])
    return {"worst_psnr": {"case": worst, "psnr_db": round(diffs[worst][1], 2), "per_255": round(diffs[worst][0], 4)},
            "within_bounds": round(sum(within(*d) for d in diffs.values()) / len(diffs), 4),
            "outside_bounds": {k: [round(m, 3), round(p, 2)] for k, (m, p) in sorted(diffs.items())
                               if not within(m, p)}}


def within(mean_diff: float, psnr: float) -> bool:
    return mean_diff <= MEAN_DIFF_MAX and psnr >= PSNR_MIN


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.identity", description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="also run this tree with this environment; its pictures must be byte-identical")
    ap.add_argument("--json", type=Path, help="write the report here too")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adloom-identity-") as tmp:
        root = Path(tmp)
        case_list = cases()
        case_file = root / "cases.json"
        case_file.write_text(json.dumps(case_list))
        ids = [c["id"] for c in case_list]
        this = run_tree(REPO, case_file, root / "this")
        other = run_tree(args.other.resolve(), case_file, root / "other")
        report = compare(this, other, root / "this", root / "other", ids)
        ok = all(report[k] >= AGREE_MIN for k in ("same_layout", "same_ranking", "within_bounds"))
        if args.env:
            env = dict(e.split("=", 1) for e in args.env)
            switched = run_tree(REPO, case_file, root / "switched", env)
            same = sum(this[k]["md5"] == switched[k]["md5"] for k in this)
            report["switched"] = {"env": env, "byte_identical": f"{same}/{len(this)}"}
            ok = ok and same == len(this)
        report["ok"] = ok
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
