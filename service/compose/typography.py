"""Fonts and text: discovery, per-character fallback (Latin/CJK/RTL), wrapping, fitting, drawing.

Fonts are found in ``service/compose/fonts/`` (drop files there to bundle them), then in the
usual system font directories (Debian's fonts-noto-core, fonts-noto-cjk, fonts-dejavu-core),
then through ``fc-match``. Each family is a stack: the family's own face first, then Noto CJK
(regional variant picked from locale and script), Arabic, Hebrew, Thai, Devanagari and DejaVu
for symbols; colour emoji come from Noto Color Emoji (bitmaps scaled to the text, drawn in their
own colours). A character no face covers is dropped rather than drawn as tofu.

Widths for wrapping are measured once at a reference size and scaled; each finished line is
then measured exactly, so the fit never overflows its box.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import struct
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from PIL import Image, ImageDraw, ImageFont, features

FontFamily = Literal["sans", "serif", "display", "mono"]  # the one list of families (schemas.Brand.font uses it)
FONT_FAMILIES: tuple[str, ...] = get_args(FontFamily)
WEIGHTS = ("regular", "bold")
ELLIPSIS = "…"
Breaks = Literal["none", "hyphenate", "any"]  # what wrapping does with a word wider than the line (TextSetter.wrap)
_REF_PX = 100
_CACHE_LIMIT = 50_000

BUNDLED_FONT_DIR = Path(__file__).with_name("fonts")
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    os.path.expanduser("~/.fonts"),
    os.path.expanduser("~/.local/share/fonts"),
)

# File names in preference order, per family and weight; fc-match patterns as a last resort.
_FAMILY_FILES = {
    ("sans", "bold"): ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
    ("sans", "regular"): ("NotoSans-Regular.ttf", "DejaVuSans.ttf"),
    ("serif", "bold"): ("NotoSerif-Bold.ttf", "DejaVuSerif-Bold.ttf"),
    ("serif", "regular"): ("NotoSerif-Regular.ttf", "DejaVuSerif.ttf"),
    ("display", "bold"): ("NotoSansDisplay-Bold.ttf", "NotoSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf"),
    ("display", "regular"): ("NotoSansDisplay-Regular.ttf", "NotoSans-Regular.ttf", "DejaVuSansCondensed.ttf"),
    ("mono", "bold"): ("DejaVuSansMono-Bold.ttf", "NotoSansMono-Bold.ttf"),
    ("mono", "regular"): ("DejaVuSansMono.ttf", "NotoSansMono-Regular.ttf"),
}
_FC_PATTERNS = {"sans": "sans-serif", "serif": "serif", "display": "sans-serif", "mono": "monospace"}
_CJK_FILES = {
    ("sans", "bold"): ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansCJK-Regular.ttc"),
    ("sans", "regular"): ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf"),
    ("serif", "bold"): ("NotoSerifCJK-Bold.ttc", "NotoSansCJK-Bold.ttc"),
    ("serif", "regular"): ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc"),
}
_SCRIPT_FILES = {  # (bold, regular) candidates for the non-CJK fallbacks
    "arabic": (("NotoSansArabic-Bold.ttf", "NotoKufiArabic-Bold.ttf"),
               ("NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf")),
    "hebrew": (("NotoSansHebrew-Bold.ttf",), ("NotoSansHebrew-Regular.ttf",)),
    "thai": (("NotoSansThai-Bold.ttf",), ("NotoSansThai-Regular.ttf",)),
    "devanagari": (("NotoSansDevanagari-Bold.ttf",), ("NotoSansDevanagari-Regular.ttf",)),
    "symbols": (("DejaVuSans-Bold.ttf",), ("DejaVuSans.ttf",)),
    "symbols2": (("NotoSansSymbols2-Regular.ttf",), ("NotoSansSymbols2-Regular.ttf",)),
}
_RTL_SCRIPTS = ("arabic", "hebrew")
# Colour emoji (Debian fonts-noto-color-emoji): CBDT bitmaps at one strike size, scaled to the text.
_EMOJI_FILES = ("NotoColorEmoji.ttf",)
EMOJI_STRIKE = 109   # the font's only bitmap size (px per em)
EMOJI_SCALE = 0.9    # an emoji's em relative to the text's px (its bitmaps are 1.25 em wide)

log = logging.getLogger("adloom.fonts")


class FontNotFoundError(RuntimeError):
    """No usable font file could be found for a family."""


@dataclass(frozen=True)
class Face:
    path: str
    index: int
    name: str  # human-readable, reported in the element list
    rtl: bool = False
    color: bool = False  # a colour-bitmap face (emoji): drawn in its own colours, at any size by scaling


# --------------------------------------------------------------------------- font discovery


@functools.lru_cache(maxsize=1)
def _font_index() -> dict[str, str]:
    """file name -> path for every font file under the bundled and system directories."""
    found: dict[str, str] = {}
    for root in (str(BUNDLED_FONT_DIR), *SYSTEM_FONT_DIRS):
        if not os.path.isdir(root):
            continue
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                if f.lower().endswith((".ttf", ".otf", ".ttc")):
                    found.setdefault(f, os.path.join(dirpath, f))
    return found


def _find_files(names) -> list[str]:
    """Paths of the candidate file names that are installed, in preference order."""
    idx = _font_index()
    return [idx[n] for n in names if n in idx]


@functools.lru_cache(maxsize=32)
def _fc_match(pattern: str) -> tuple[str, int] | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\t%{index}", pattern], capture_output=True, text=True, timeout=5
        ).stdout
        path, _, index = out.partition("\t")
        return (path, int(index or 0)) if path and os.path.isfile(path) else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _parse_errors() -> tuple[type[Exception], ...]:
    """What reading a corrupt, truncated or unreadable font file raises.

    fontTools: TTLibError for a bad header or table, struct.error for truncated data, KeyError for a
    missing table, AssertionError/IndexError/ValueError for inconsistent table data; OSError from the OS.
    """
    from fontTools.ttLib import TTLibError

    return (OSError, EOFError, struct.error, TTLibError, KeyError, IndexError, ValueError, AssertionError)


def _warn_unparsable(path: str, err: Exception, fallback: str) -> None:
    log.warning("font file %s could not be parsed (%s: %s); %s", path, type(err).__name__, err, fallback)


def _load_face(path: str, index: int = 0, rtl: bool = False, color: bool = False) -> Face | None:
    """The face at index in the file, or None (with a warning) when FreeType cannot open it."""
    try:  # FreeTypeFont, not truetype(): that would quietly load a file of the same name from another directory
        name = ImageFont.FreeTypeFont(path, EMOJI_STRIKE if color else 12, index=index).getname()[0]
    except OSError as e:  # what Pillow raises for a file it cannot read or parse
        _warn_unparsable(path, e, "this face is skipped")
        return None
    return Face(path, index, name + (" Bold" if "bold" in os.path.basename(path).lower() else ""), rtl, color)


def _first_face(names, region: str | None = None, rtl: bool = False) -> Face | None:
    """The first installed candidate that opens; in a .ttc, the face for ``region`` (else its first)."""
    for path in _find_files(names):
        index = _ttc_regions(path).get(region, 0) if region and path.endswith(".ttc") else 0
        face = _load_face(path, index, rtl)
        if face is not None:
            return face
    return None


@functools.lru_cache(maxsize=16)
def primary_face(family: str, weight: str) -> Face:
    """The family's own face; FontNotFoundError naming the packages to install if there is none.

    A candidate file that does not open is skipped with a warning, so the next one (or fc-match's) is used.
    """
    check_family(family)
    face = _first_face(_FAMILY_FILES[(family, weight)])
    if face is None:
        hit = _fc_match(f"{_FC_PATTERNS[family]}:{'bold' if weight == 'bold' else 'regular'}")
        face = _load_face(*hit) if hit is not None else None
    if face is None:
        raise FontNotFoundError(
            f"no usable font found for family {family!r} ({weight}): install fonts-noto-core or "
            f"fonts-dejavu-core, or put .ttf files in {BUNDLED_FONT_DIR}"
        )
    return face


def check_family(family: str) -> None:
    if family not in FONT_FAMILIES:
        raise ValueError(f"unknown font {family!r}; choose one of {', '.join(FONT_FAMILIES)}")


@functools.lru_cache(maxsize=8)
def _ttc_regions(path: str) -> dict[str, int]:
    """Region tag (JP/KR/SC/TC/HK) -> index inside a Noto CJK collection, read from its names.

    A collection that fails to parse gives the regions read until then (a warning names the file);
    callers use the collection's first face for the others.
    """
    from fontTools.ttLib import TTCollection

    regions: dict[str, int] = {}
    try:
        coll = TTCollection(path, lazy=True)
        for i, font in enumerate(coll.fonts):
            name = font["name"].getDebugName(1) or ""
            if "Mono" in name:
                continue
            for tag in ("JP", "KR", "SC", "TC", "HK"):
                if name.endswith(" " + tag):
                    regions.setdefault(tag, i)
    except _parse_errors() as e:
        _warn_unparsable(path, e, f"using its first face for the regions it did not name (found: {sorted(regions)})")
    return regions


def cjk_region(locale: str, text: str = "") -> str:
    """Which regional CJK glyph set fits: Japanese kana -> JP, Hangul -> KR, else by locale."""
    if any("\u3040" <= c <= "\u30ff" for c in text):
        return "JP"
    if any("\uac00" <= c <= "\ud7af" or "\u1100" <= c <= "\u11ff" for c in text):
        return "KR"
    loc = (locale or "").replace("_", "-").lower()
    if loc.startswith("ja"):
        return "JP"
    if loc.startswith("ko"):
        return "KR"
    if loc.startswith("zh"):
        if "hk" in loc or "mo" in loc:
            return "HK"
        if "tw" in loc or "hant" in loc:
            return "TC"
    return "SC"


@functools.lru_cache(maxsize=64)
def font_stack(family: str, weight: str, region: str = "SC") -> tuple[Face, ...]:
    """Primary face then fallbacks, in the order characters are looked up."""
    faces = [primary_face(family, weight)]
    cjk = _first_face(_CJK_FILES[("serif" if family == "serif" else "sans", weight)], region=region)
    if cjk is not None:
        faces.append(cjk)
    emoji = next((f for f in (_load_face(p, color=True) for p in _find_files(_EMOJI_FILES)) if f), None)
    if emoji is not None:  # before the monochrome symbol faces, so emoji come in colour
        faces.append(emoji)
    for script, (bold, regular) in _SCRIPT_FILES.items():
        rtl = script in _RTL_SCRIPTS
        face = _first_face(bold if weight == "bold" else regular, rtl=rtl) or _first_face(regular, rtl=rtl)
        if face is not None and all(f.path != face.path for f in faces):
            faces.append(face)
    return tuple(faces)


@functools.lru_cache(maxsize=64)
def cmap(face: Face) -> frozenset[int]:
    """Code points a face has glyphs for (its best cmap).

    A file whose cmap cannot be read maps nothing (a warning names it): its characters are set in the
    stack's other faces, or dropped when none has them.
    """
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        return frozenset((font.getBestCmap() or {}).keys())
    except _parse_errors() as e:
        _warn_unparsable(face.path, e, f"no characters are set in {face.name!r}; the fallback faces take them")
        return frozenset()


_LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@functools.lru_cache(maxsize=1024)
def font(face: Face, px: int) -> "ImageFont.FreeTypeFont | ColorFont":
    """A sized font object; cached because loading costs more than drawing a short line."""
    if face.color:
        return ColorFont(face, px)
    return ImageFont.truetype(face.path, max(1, int(px)), index=face.index, layout_engine=_LAYOUT)


class ColorFont:
    """A colour-bitmap face (emoji) at any px: laid out at its strike size, scaled by ``k``."""

    def __init__(self, face: Face, px: int):
        self.base = _strike(face)
        self.k = EMOJI_SCALE * max(1, int(px)) / EMOJI_STRIKE

    def getlength(self, text: str) -> float:
        return self.base.getlength(text) * self.k

    def getmetrics(self) -> tuple[int, int]:
        asc, desc = self.base.getmetrics()
        return round(asc * self.k), round(desc * self.k)

    def image(self, text: str) -> tuple[Image.Image, tuple[int, int]]:
        """The run in its own colours (RGBA, scaled) and its offset from the baseline origin."""
        left, top, right, bottom = self.base.getbbox(text, anchor="ls")
        if right <= left or bottom <= top:
            return Image.new("RGBA", (1, 1)), (0, 0)
        img = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
        ImageDraw.Draw(img).text((-left, -top), text, font=self.base, embedded_color=True, anchor="ls")
        w, h = max(1, round(img.width * self.k)), max(1, round(img.height * self.k))
        return img.resize((w, h), Image.Resampling.LANCZOS), (round(left * self.k), round(top * self.k))

    def getmask2(self, text: str, mode: str = "L", anchor: str = "ls"):
        """Coverage (the bitmaps' alpha), for callers that draw one ink (a silhouette)."""
        img, off = self.image(text)
        return img.getchannel("A").im, off


@functools.lru_cache(maxsize=4)
def _strike(face: Face) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, EMOJI_STRIKE, index=face.index, layout_engine=_LAYOUT)


# --------------------------------------------------------------------------- text preparation

_INVISIBLE_KEEP = {"\u200c", "\u200d"}  # ZWNJ/ZWJ shape Arabic and Indic text


def clean_text(text: str | None) -> str:
    """NFC, whitespace collapsed, control characters removed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif cat == "Cc" or (cat == "Cf" and ch not in _INVISIBLE_KEEP) or cat == "Cs":
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


Run = tuple[int, str]  # (index into the face stack, text)


def runs(text: str, stack: tuple[Face, ...]) -> list[Run]:
    """Split text into same-face runs; characters no face covers are dropped (no tofu)."""
    result: list[Run] = []
    cur_face, buf = -1, []
    maps = None
    primary = cmap(stack[0])
    emoji = next((i for i, f in enumerate(stack) if f.color), -1)
    for k, ch in enumerate(text):
        cp = ord(ch)
        if ch == " " and cur_face == emoji >= 0:
            fi = 0  # a space after an emoji takes the text's width, not the (wider) emoji font's
        elif ch == " " or unicodedata.category(ch) in ("Mn", "Me") or ch in _INVISIBLE_KEEP:
            fi = cur_face if cur_face >= 0 else 0  # spaces and marks stay with their neighbour
        elif emoji >= 0 and text[k + 1:k + 2] == "\ufe0f" and cp in cmap(stack[emoji]):
            fi = emoji  # VS16 asks for the emoji presentation (U+2600 U+FE0F is a colour sun)
        elif cp in primary:
            fi = 0
        else:
            if maps is None:
                maps = [cmap(f) for f in stack]
            fi = next((i for i, m in enumerate(maps) if cp in m), -1)
            if fi < 0:
                continue
        if fi != cur_face and buf:
            result.append((cur_face, "".join(buf)))
            buf = []
        cur_face = fi
        buf.append(ch)
    if buf:
        result.append((cur_face, "".join(buf)))
    return result


def renderable(text: str, stack: tuple[Face, ...]) -> str:
    """The text as it will be drawn: uncovered characters removed, spaces re-collapsed."""
    return " ".join("".join(t for _, t in runs(text, stack)).split())


def is_rtl(text: str) -> bool:
    """Paragraph direction by the first strong character (Unicode bidi rule P2, simplified)."""
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in ("R", "AL"):
            return True
        if bidi == "L":
            return False
    return False


# --------------------------------------------------------------------------- line breaking


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3000 <= cp <= 0x30FF
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    )


def _is_katakana(ch: str) -> bool:
    return "\u30a0" <= ch <= "\u30ff" or ch == "ー"


# Kinsoku: no line may start with a closing mark or end with an opening one.
_NO_BREAK_BEFORE = set("、。，．・：；？！）」』】〕〉》”’ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ%％),.!?:;…")
_NO_BREAK_AFTER = set("（「『【〔〈《“‘([")


def segments(text: str) -> list[str]:
    """Unbreakable pieces with their trailing spaces: words for Latin, characters for CJK."""
    return list(_segments(text))


@functools.lru_cache(maxsize=4096)
def _segments(text: str) -> tuple[str, ...]:
    segs: list[str] = []
    cur = ""
    for ch in text:
        if ch == " ":
            cur += ch
            continue
        if cur:
            prev = cur[-1]
            brk = (
                prev == " "
                or ((is_cjk(ch) or is_cjk(prev)) and ch not in _NO_BREAK_BEFORE and prev not in _NO_BREAK_AFTER
                    and not (_is_katakana(ch) and _is_katakana(prev)))  # katakana loanwords stay whole
                or (prev in "-/" and len(cur) > 3 and ch.isalnum())
            )
            if brk:
                segs.append(cur)
                cur = ""
        cur += ch
    if cur:
        segs.append(cur)
    return tuple(segs)


def _split_chars(seg: str) -> list[str]:
    """Grapheme-ish pieces of an over-long word (combining marks stay on their base)."""
    out: list[str] = []
    for ch in seg:
        if out and (unicodedata.category(ch) in ("Mn", "Me") or ch in _INVISIBLE_KEEP or ch == " "):
            out[-1] += ch
        else:
            out.append(ch)
    return out


@functools.lru_cache(maxsize=16)
def _hyphenator(lang: str):
    import pyphen

    code = pyphen.language_fallback(lang.replace("-", "_")) or "en_US"
    return pyphen.Pyphen(lang=code)


def hyphen_lang(locale: str | None) -> str:
    """BCP-47 locale -> the Pyphen dictionary to hyphenate with (en_US when there is none)."""
    import pyphen

    return pyphen.language_fallback((locale or "").replace("-", "_")) or "en_US"


@functools.lru_cache(maxsize=4096)
def _hyphen_points(lang: str, word: str) -> tuple[int, ...]:
    return tuple(_hyphenator(lang).positions(word))


def _hyphen_split(word: str, lang: str, measure, max_w: float) -> tuple[str, str] | None:
    """Split at the last dictionary hyphenation point whose head (plus '-') fits max_w."""
    core = word.rstrip()
    if len(core) < 5 or is_cjk(core[0]):
        return None
    for pos in reversed(_hyphen_points(lang, core)):
        head = core[:pos] + "-"
        if measure(head) <= max_w:
            return head, word[pos:]
    return None


def _wrap(text: str, max_w: float, measure, breaks: Breaks, lang: str) -> list[str] | None:
    lines: list[str] = []
    line = ""
    pieces = segments(text)
    i = 0
    split_once = set()
    while i < len(pieces):
        seg = pieces[i]
        cand = line + seg
        if measure(cand.rstrip()) <= max_w:
            line = cand
            i += 1
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = ""
            continue
        # A single piece wider than the line.
        if breaks == "none":
            return None
        if breaks == "hyphenate" and not is_cjk(seg[0]):  # CJK may break anywhere: fall through
            split = None if i in split_once else _hyphen_split(seg, lang, measure, max_w)
            if split is None:
                return None
            lines.append(split[0])
            pieces[i] = split[1]
            split_once.add(i)
            continue
        chars = _split_chars(seg)
        if len(chars) <= 1:
            lines.append(seg.rstrip())
            i += 1
            continue
        hyphen = "" if is_cjk(chars[0][0]) else "-"
        k = 1
        while k < len(chars) - 1 and measure("".join(chars[: k + 1]).rstrip() + hyphen) <= max_w:
            k += 1
        lines.append("".join(chars[:k]).rstrip() + hyphen)
        pieces[i] = "".join(chars[k:])
    if line.strip():
        lines.append(line.rstrip())
    return lines


class TextSetter:
    """Measures, wraps and draws text for one face stack; cheap to create, caches per instance."""

    def __init__(self, stack: tuple[Face, ...]):
        self.stack = stack
        self._ref: dict[str, float] = {}
        self._runs: dict[str, list[Run]] = {}

    def runs(self, text: str) -> list[Run]:
        r = self._runs.get(text)
        if r is None:
            if len(self._runs) > _CACHE_LIMIT:  # caller text is unbounded: keep memory flat
                self._runs.clear()
            r = self._runs[text] = runs(text, self.stack)
        return r

    def ref_width(self, text: str) -> float:
        w = self._ref.get(text)
        if w is None:
            if len(self._ref) > _CACHE_LIMIT:
                self._ref.clear()
            w = self._ref[text] = sum(font(self.stack[fi], _REF_PX).getlength(t) for fi, t in self.runs(text))
        return w

    def width(self, text: str, px: int) -> float:
        """Advance width of one line at px.

        Scaled from one measurement at a reference size: Pillow lays text out with unhinted
        advances, so widths scale linearly (measured error < 0.2%; the factor covers it).
        """
        return self.ref_width(text) * px * (1.002 / _REF_PX)

    def metrics(self, text: str, px: int) -> tuple[int, int]:
        """(ascent, descent) in px over the faces the text uses (hhea metrics, room for accents)."""
        faces = {fi for fi, _ in self.runs(text)} or {0}
        asc = max(font(self.stack[fi], px).getmetrics()[0] for fi in faces)
        desc = max(font(self.stack[fi], px).getmetrics()[1] for fi in faces)
        return asc, desc

    def wrap(self, text: str, px: int, max_w: float, breaks: Breaks = "any", lang: str = "en_US") -> list[str] | None:
        """Greedy wrap into lines no wider than max_w.

        A word wider than the line is handled by ``breaks``: "none" fails (returns None),
        "hyphenate" splits it once at a dictionary hyphenation point (Pyphen, ``lang``) or fails,
        "any" splits it between characters (with a hyphen unless CJK).
        """
        return _wrap(text, max_w, lambda s: self.width(s, px), breaks, lang)

    def wrap_balanced(self, text: str, px: int, max_w: float, breaks: Breaks = "any",
                      lang: str = "en_US") -> list[str] | None:
        """Same line count as ``wrap`` but lines of even length (no lonely last word)."""
        lines = self.wrap(text, px, max_w, breaks, lang)
        if not lines or len(lines) < 2:
            return lines
        n, lo, hi, best = len(lines), max_w * 0.4, max_w, lines
        for _ in range(6):
            mid = (lo + hi) / 2
            got = self.wrap(text, px, mid, breaks, lang)
            if got is not None and len(got) <= n:
                hi, best = mid, got
            else:
                lo = mid
        return best

    def ellipsize(self, text: str, px: int, max_w: float) -> str:
        """The longest prefix of text that fits with an ellipsis appended."""
        pieces = segments(text)
        while pieces:
            cand = "".join(pieces).rstrip().rstrip(",;:-–—") + ELLIPSIS
            if self.width(cand, px) <= max_w:
                return cand
            if len(pieces) == 1:
                pieces = _split_chars(pieces[0])[:-1]
                pieces = ["".join(pieces)] if len(pieces) > 1 else pieces
                if not pieces or not pieces[0]:
                    break
            else:
                pieces.pop()
        return ELLIPSIS

    def draw_line(self, draw: ImageDraw.ImageDraw, x: float, baseline: float, text: str, px: int, fill=255,
                  color_runs: list | None = None) -> None:
        """Draw one line starting at x on the baseline; RTL paragraphs lay their runs right to left.

        Colour (emoji) runs go to ``color_runs`` as (RGBA image, x, y) to be pasted in their own
        colours over the finished text; without that list they are drawn as a silhouette in ``fill``."""
        line_runs = self.runs(text)
        if is_rtl(text):
            line_runs = list(reversed(line_runs))
        ink = fill if isinstance(fill, int) else draw._getink(fill)[0]  # colour -> the image's ink value
        for fi, t in line_runs:
            face = self.stack[fi]
            if t.strip() and face.color and color_runs is not None:
                img, (ox, oy) = _color_run(face, px, t)
                color_runs.append((img, int(round(x)) + ox, int(round(baseline)) + oy))
            elif t.strip():
                bitmap, (ox, oy) = _run_bitmap(face, px, t)
                draw.draw.draw_bitmap((int(round(x)) + ox, int(round(baseline)) + oy), bitmap, ink)
            x += _run_advance(face, px, t)


@functools.lru_cache(maxsize=4096)
def _run_bitmap(face: Face, px: int, text: str):
    """Rasterised run (coverage bitmap, offset from the baseline origin); cached because the same
    headline/price/CTA is drawn again for every variant and size of a request."""
    return font(face, px).getmask2(text, "L", anchor="ls")


@functools.lru_cache(maxsize=512)
def _color_run(face: Face, px: int, text: str):
    return font(face, px).image(text)


@functools.lru_cache(maxsize=8192)
def _run_advance(face: Face, px: int, text: str) -> float:
    return font(face, px).getlength(text)


@functools.lru_cache(maxsize=64)
def setter(family: str, weight: str, region: str = "SC") -> TextSetter:
    """Shared TextSetter per stack so width caches survive across creatives."""
    return TextSetter(font_stack(family, weight, region))

