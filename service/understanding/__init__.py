"""Colour understanding for ad requests ("Colours as asked").

    >>> from service.understanding import understand_colours
    >>> u = understand_colours("golden bokeh lights on black")
    >>> u.palette.ground.hex, [c.hex for c in u.palette.motifs]
    ('#000000', ['#FFD700'])

The README (section "Colours: what adloom understands") has the grammar, the name lists and their licences.
"""
from service.understanding.parser import ColourParser, Limits, understand_colours
from service.understanding.schema import Colour, ColourUnderstanding, Ignored, Palette, Role, Source
from service.understanding.science import delta_e

__all__ = ["ColourParser", "Colour", "ColourUnderstanding", "Ignored", "Limits", "Palette", "Role", "Source",
           "delta_e", "understand_colours"]
