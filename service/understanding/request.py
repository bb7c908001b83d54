"""What adloom read in a /creative request, before any embedding: its language, the English
reading of its words (what the English text encoder is given), and its colours (with them, the
palette the scene is put on), as the response's ``understood`` field reports them."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Protocol, Sequence, cast

from models.scene.palette import NamedPalette, hex_to_rgb
from service.schemas import CreativeRequest
from service.understanding.language import SUPPORTED, Detection, detect, locale_language, request_language
from service.understanding.parser import ColourParser
from service.understanding.palette import resolve_palette
from service.understanding.schema import Colour, ColourUnderstanding, Role, Source
from service.understanding.localise import default_localiser
from service.understanding.terms import Reading, lexicon, read

# In every response's and job manifest's ``understood``: bump when the same words are read
# differently. (The embedding cache is keyed by the text actually embedded — the caller's own, or
# its English reading — so a new reading is a new key by itself.)
PARSER_VERSION = "colours-2+terms-2+images-1"

_PARSER = ColourParser()
_detect = lru_cache(maxsize=8192)(detect)  # interests and styles repeat across requests
_read = lru_cache(maxsize=8192)(read)


@dataclass(frozen=True)
class Understood:
    """The request's language and colours as read, the English reading of each non-English text,
    and the palette its scenes are generated for and put on (None when it names no colour)."""

    colours: ColourUnderstanding
    palette: NamedPalette | None
    language: Detection = Detection("en", 1.0, "default")
    readings: dict[str, Reading] = field(default_factory=dict)  # original text -> its English reading
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, colours: ColourUnderstanding, **kw) -> "Understood":
        pal = colours.palette
        named = NamedPalette(ground=hex_to_rgb(pal.ground.hex) if pal.ground else None,
                             motifs=tuple(hex_to_rgb(m.hex) for m in pal.motifs),
                             accent=hex_to_rgb(pal.accent.hex) if pal.accent else None,
                             excluded=tuple(hex_to_rgb(h) for h in pal.excluded))
        return cls(colours, named if named != NamedPalette() else None, **kw)

    def english(self, text: str) -> str:
        """What the text encoder is given for ``text``: its English reading, or the text itself
        (English, unsupported, or nothing in it the glossary knows)."""
        reading = self.readings.get(text)
        return reading.english if reading is not None and reading.english else text

    def report(self) -> dict:
        """The response's ``understood``: the language, what the words were read as, the colours
        the scene uses in the role each took, the ones excluded, and warnings."""
        c = self.colours
        terms = list(dict.fromkeys(t for r in self.readings.values() for t in r.terms))
        return {"language": self.language.language,
                "terms": terms,
                "colors": [{"text": x.text, "hex": x.hex, "role": x.role, "source": x.source,
                            "confidence": round(x.confidence, 3)} for x in c.palette.colours()],
                "excluded": [{"text": x.text, "hex": x.hex, "source": x.source} for x in c.excluded],
                "warnings": [*self.warnings, *c.warnings], "parser": PARSER_VERSION}


def understand(req: CreativeRequest, images: Sequence[ImageColour] = ()) -> Understood:
    """Read the request's language, words and colours (a fraction of a millisecond once warm).
    ``images``: the colours the request's images bring to the scene (service/compose/brandkit.py),
    placed after the style's and the brand's colours and before the product text's."""
    p = req.product
    locale = req.audience.locale
    texts = [t for t in (p.title, p.description, p.category, *req.audience.interests, req.style) if t]
    given = "locale" in req.audience.model_fields_set
    if given and locale_language(locale) == "en" and all(t.isascii() for t in texts):
        # The caller's locale says English and no character says otherwise: read as English without
        # running the detector (half a millisecond a request on the event loop: English keeps its
        # speed). Without a locale, or with another, the script and the detector decide.
        language = Detection("en", 1.0, "locale")
    else:
        language = request_language(p.title, p.description, p.category, req.audience.interests, req.style,
                                    locale)
    readings: dict[str, Reading] = {}
    warnings: list[str] = []
    if language.language != "en":  # an English request is embedded exactly as written
        for text in texts:
            lang = _detect(text, language.language if language.supported else locale_language(locale))
            if lang.language in SUPPORTED and lang.language != "en":
                reading = _read(text, lang.language)
                if usable(lang, reading):
                    readings[text] = reading
        if not language.supported:
            warnings.append(f"language '{language.language}' is not one adloom reads (it reads "
                            f"{', '.join(SUPPORTED)}): its words and colour names were not understood, so the "
                            "model chose the palette")
    colours = _PARSER.parse(req.style or "", title=p.title, description=p.description or "",
                            category=p.category or "", interests=list(req.audience.interests),
                            brand_colours=list(req.brand.colors))
    if images:
        colours = with_image_colours(colours, images)
    return Understood.of(colours, language=language, readings=readings, warnings=tuple(warnings))


class ImageColour(Protocol):
    """A colour an image brought (service/compose/brandkit.SceneColour)."""

    @property
    def text(self) -> str: ...
    @property
    def hex(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def source(self) -> str: ...


def with_image_colours(colours: ColourUnderstanding, images: Sequence[ImageColour]) -> ColourUnderstanding:
    """The colours with the images' inserted in precedence order (style > brand > logo > product
    image > product text) and the palette's slots filled again; images only fill slots the
    caller's words left free."""
    extra = [Colour(text=c.text, hex=c.hex, role=cast(Role, c.role), source=cast(Source, c.source), confidence=1.0,
                    origin="image") for c in images]
    head = [c for c in colours.colors if c.source in ("style", "brand")]
    tail = [c for c in colours.colors if c.source not in ("style", "brand")]
    ordered = head + extra + tail
    palette, palette_warnings = resolve_palette(ordered, colours.excluded)
    warnings = [w for w in colours.warnings if not w.startswith("palette:")] + palette_warnings
    return replace(colours, colors=ordered, palette=palette, warnings=warnings)


def usable(lang: Detection, reading: Reading) -> bool:
    """Whether a text's English reading may stand in for it. Script-detected text (CJK, Arabic) is
    noise to the English encoder as written, so any reading is better; a Latin-script text needs
    half its words read when a detector named its language, and every word when only the locale
    did (an English product name in a German shop, "Zephyr Secret Product", stays as written)."""
    if not reading.terms:  # nothing in it the glossary knows (a brand, a code): keep the text
        return False
    if lang.by == "script":
        return True
    if lang.by == "detector":
        return len(reading.terms) >= len(reading.unknown)
    return not reading.unknown


def warm_up() -> None:
    """Load now, not in a request, what reading words loads once per process: the language
    detector's model, the glossary of every language, the colour names and the tables of the other
    languages (about a second and ~80 MB; a server is ready only after it)."""
    detect("Leichte Sommerkleider für den Strand")  # Latin script with no hint: the detector's model loads
    for lang in SUPPORTED:
        lexicon(lang)
    default_localiser()
    _PARSER.parse("navy blue background", title="红色连衣裙 vestido rojo")
