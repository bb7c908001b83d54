"""Fonts: discovery, face stacks with per-character fallback (Latin/CJK/RTL/emoji), text preparation.

Fonts are found by a ``FontFinder``: in ``service/compose/fonts/`` (drop files there to bundle
them), then in the usual system font directories (Debian's fonts-noto-core, fonts-noto-cjk,
fonts-dejavu-core), then through ``fc-match``. ``FONTS`` is the finder the service uses; a test
(or a caller with its own fonts) passes another to ``primary_face`` / ``font_stack``.
Each family is a stack: the family's own face first, then Noto CJK (regional variant picked from
locale and script), Arabic, Hebrew, Thai, Devanagari and DejaVu for symbols; colour emoji come
from Noto Color Emoji (bitmaps scaled to the text, drawn in their own colours). A character no
face covers is dropped rather than drawn as tofu (``runs``, ``renderable``).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import struct
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from fontTools.ttLib import TTCollection, TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont, features

FontFamily = Literal["sans", "serif", "display", "mono"]  # the one list of families (schemas.Brand.font uses it)
FONT_FAMILIES: tuple[str, ...] = get_args(FontFamily)
WEIGHTS = ("regular", "bold")

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

# What reading a corrupt, truncated or unreadable font file raises. fontTools: TTLibError for a bad
# header or table, struct.error for truncated data, KeyError for a missing table,
# AssertionError/IndexError/ValueError for inconsistent table data; OSError from the OS.
_PARSE_ERRORS: tuple[type[Exception], ...] = (
    OSError, EOFError, struct.error, TTLibError, KeyError, IndexError, ValueError, AssertionError)

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


@functools.lru_cache(maxsize=32)
def fc_match(pattern: str) -> tuple[str, int] | None:
    """(path, face index) fontconfig's ``fc-match`` picks for a pattern; None without fontconfig."""
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


class FontFinder:
    """Where font files come from: file name -> path, from ``files`` first, then every font file
    under ``dirs`` (walked once, on first use; the first directory holding a name wins); a family
    none of them has is asked of ``fc-match`` when ``use_fc_match``."""

    def __init__(self, dirs: Iterable[str | os.PathLike[str]] = (BUNDLED_FONT_DIR, *SYSTEM_FONT_DIRS),
                 files: Mapping[str, str] | None = None, use_fc_match: bool = True):
        self.dirs = tuple(str(d) for d in dirs)
        self.files = dict(files or {})
        self.use_fc_match = use_fc_match

    @functools.cached_property
    def index(self) -> dict[str, str]:
        """file name -> path for ``files`` and every font file under the directories."""
        found: dict[str, str] = dict(self.files)
        for root in self.dirs:
            if not os.path.isdir(root):
                continue
            for dirpath, _dirs, files in os.walk(root):
                for f in files:
                    if f.lower().endswith((".ttf", ".otf", ".ttc")):
                        found.setdefault(f, os.path.join(dirpath, f))
        return found

    def find(self, names: Iterable[str]) -> list[str]:
        """Paths of the candidate file names that are installed, in preference order."""
        idx = self.index
        return [idx[n] for n in names if n in idx]

    def fc_match(self, pattern: str) -> tuple[str, int] | None:
        return fc_match(pattern) if self.use_fc_match else None


FONTS = FontFinder()  # the service's fonts: bundled, then the system directories, then fc-match


def _warn_unparsable(path: str, err: Exception, fallback: str) -> None:
    log.warning("font file %s could not be parsed (%s: %s); %s", path, type(err).__name__, err, fallback)


def _load_face(path: str, index: int = 0, rtl: bool = False, color: bool = False) -> Face | None:
    """The face at index in the file, or None (with a warning) when FreeType cannot open it."""
    try:  # FreeTypeFont, not truetype(): that would quietly load a file of the same name from another directory
        name = ImageFont.FreeTypeFont(path, EMOJI_STRIKE if color else 12, index=index).getname()[0] or ""
    except OSError as e:  # what Pillow raises for a file it cannot read or parse
        _warn_unparsable(path, e, "this face is skipped")
        return None
    return Face(path, index, name + (" Bold" if "bold" in os.path.basename(path).lower() else ""), rtl, color)


def _first_face(fonts: FontFinder, names: Iterable[str], region: str | None = None, rtl: bool = False) -> Face | None:
    """The first installed candidate that opens; in a .ttc, the face for ``region`` (else its first)."""
    for path in fonts.find(names):
        index = ttc_regions(path).get(region, 0) if region and path.endswith(".ttc") else 0
        face = _load_face(path, index, rtl)
        if face is not None:
            return face
    return None


@functools.lru_cache(maxsize=16)
def primary_face(family: str, weight: str, fonts: FontFinder = FONTS) -> Face:
    """The family's own face; FontNotFoundError naming the packages to install if there is none.

    A candidate file that does not open is skipped with a warning, so the next one (or fc-match's) is used.
    """
    check_family(family)
    face = _first_face(fonts, _FAMILY_FILES[(family, weight)])
    if face is None:
        hit = fonts.fc_match(f"{_FC_PATTERNS[family]}:{'bold' if weight == 'bold' else 'regular'}")
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
def ttc_regions(path: str) -> dict[str, int]:
    """Region tag (JP/KR/SC/TC/HK) -> index inside a Noto CJK collection, read from its names.

    A collection that fails to parse gives the regions read until then (a warning names the file);
    callers use the collection's first face for the others.
    """
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
    except _PARSE_ERRORS as e:
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
def font_stack(family: str, weight: str, region: str = "SC", fonts: FontFinder = FONTS) -> tuple[Face, ...]:
    """Primary face then fallbacks, in the order characters are looked up."""
    faces = [primary_face(family, weight, fonts)]
    cjk = _first_face(fonts, _CJK_FILES[("serif" if family == "serif" else "sans", weight)], region=region)
    if cjk is not None:
        faces.append(cjk)
    emoji = next((f for f in (_load_face(p, color=True) for p in fonts.find(_EMOJI_FILES)) if f), None)
    if emoji is not None:  # before the monochrome symbol faces, so emoji come in colour
        faces.append(emoji)
    for script, (bold, regular) in _SCRIPT_FILES.items():
        rtl = script in _RTL_SCRIPTS
        face = (_first_face(fonts, bold if weight == "bold" else regular, rtl=rtl)
                or _first_face(fonts, regular, rtl=rtl))
        if face is not None and all(f.path != face.path for f in faces):
            faces.append(face)
    return tuple(faces)


@functools.lru_cache(maxsize=64)
def cmap(face: Face) -> frozenset[int]:
    """Code points a face has glyphs for (its best cmap).

    A file whose cmap cannot be read maps nothing (a warning names it): its characters are set in the
    stack's other faces, or dropped when none has them.
    """
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        return frozenset((font.getBestCmap() or {}).keys())
    except _PARSE_ERRORS as e:
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
        img = Image.new("RGBA", (int(right - left), int(bottom - top)), (0, 0, 0, 0))
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

INVISIBLE_KEEP = {"\u200c", "\u200d"}  # ZWNJ/ZWJ shape Arabic and Indic text


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
        elif cat == "Cc" or (cat == "Cf" and ch not in INVISIBLE_KEEP) or cat == "Cs":
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


Run = tuple[int, str]  # (index into the face stack, text)


def runs(text: str, stack: tuple[Face, ...]) -> list[Run]:
    """Split text into same-face runs; characters no face covers are dropped (no tofu)."""
    result: list[Run] = []
    buf: list[str] = []
    cur_face = -1
    maps = None
    primary = cmap(stack[0])
    emoji = next((i for i, f in enumerate(stack) if f.color), -1)
    for k, ch in enumerate(text):
        cp = ord(ch)
        if ch == " " and cur_face == emoji >= 0:
            fi = 0  # a space after an emoji takes the text's width, not the (wider) emoji font's
        elif ch == " " or unicodedata.category(ch) in ("Mn", "Me") or ch in INVISIBLE_KEEP:
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
