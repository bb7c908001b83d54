"""What adloom read in a /creative request, before any embedding: its colours (and, with them,
the palette the scene is put on), as the response's ``understood`` field reports them."""
from __future__ import annotations

from dataclasses import dataclass

from models.scene.palette import NamedPalette, hex_to_rgb
from service.schemas import CreativeRequest
from service.understanding.parser import ColourParser
from service.understanding.schema import ColourUnderstanding

# In every response's and job manifest's ``understood``: bump when the parser reads the same words
# differently. (The embedding cache holds embeddings of the caller's raw texts, which the parser
# does not rewrite, so its keys need no parser version.)
PARSER_VERSION = "colours-1"

_PARSER = ColourParser()


@dataclass(frozen=True)
class Understood:
    """The request's colours as read, and the palette its scenes are generated for and put on
    (None when it names no colour: the generator picks a palette itself)."""

    colours: ColourUnderstanding
    palette: NamedPalette | None

    @classmethod
    def of(cls, colours: ColourUnderstanding) -> "Understood":
        pal = colours.palette
        named = NamedPalette(ground=hex_to_rgb(pal.ground.hex) if pal.ground else None,
                             motifs=tuple(hex_to_rgb(m.hex) for m in pal.motifs),
                             accent=hex_to_rgb(pal.accent.hex) if pal.accent else None,
                             excluded=tuple(hex_to_rgb(h) for h in pal.excluded))
        return cls(colours, named if named != NamedPalette() else None)

    def report(self) -> dict:
        """The response's ``understood``: the colours the scene uses, in the role each took (text,
        hex, role, source, confidence), the ones excluded, and warnings (what found no slot too)."""
        c = self.colours
        return {"colors": [{"text": x.text, "hex": x.hex, "role": x.role, "source": x.source,
                            "confidence": round(x.confidence, 3)} for x in c.palette.colours()],
                "excluded": [{"text": x.text, "hex": x.hex, "source": x.source} for x in c.excluded],
                "warnings": list(c.warnings), "parser": PARSER_VERSION}


def understand(req: CreativeRequest) -> Understood:
    """Read the request's style, product text, interests and brand colours (about 0.1 ms)."""
    p = req.product
    return Understood.of(_PARSER.parse(req.style or "", title=p.title, description=p.description or "",
                                       category=p.category or "", interests=list(req.audience.interests),
                                       brand_colours=list(req.brand.colors)))
