"""Colour literals: ``#RGB``, ``#RGBA``, ``#RRGGBB``, ``#RRGGBBAA`` and ``rgb()``/``rgba()``.

Each parser returns a :class:`Literal` (a colour, or why the text is not one) and never raises.
Number syntax is checked character by character: no regular expressions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
HEX_LENGTHS = (3, 4, 6, 8)


@dataclass(frozen=True)
class Literal:
    """A parsed literal: ``hex`` is ``#RRGGBB`` (upper case) or empty when ``error`` says why not."""

    hex: str = ""
    error: str = ""
    notes: tuple[str, ...] = field(default=())  # e.g. 'alpha "ff" dropped', 'red 300 clamped to 255'

    @property
    def ok(self) -> bool:
        return bool(self.hex)


def looks_like_hex(body: str) -> bool:
    """Whether ``#body`` is meant as a hex colour (else it is a hashtag such as ``#summer``)."""
    if not body.isascii() or not 3 <= len(body) <= 8:
        return False
    digits = sum(c.isdigit() for c in body)
    hexish = sum(c in HEX_DIGITS for c in body)
    return hexish == len(body) or (digits > 0 and hexish >= len(body) - 2)


def parse_hex(body: str) -> Literal:
    """Parse the digits after ``#``; the caller has checked :func:`looks_like_hex`."""
    bad = next((c for c in body if c not in HEX_DIGITS), "")
    if bad:
        return Literal(error=f'bad hex digit "{bad}"')
    if len(body) not in HEX_LENGTHS:
        return Literal(error=f"{len(body)} hex digits; expected 3, 4, 6 or 8")
    if len(body) <= 4:
        body = "".join(c * 2 for c in body)
    notes: tuple[str, ...] = ()
    if len(body) == 8:
        notes = (f'alpha "{body[6:]}" dropped',)
    return Literal(hex="#" + body[:6].upper(), notes=notes)


def _number(text: str) -> float | None:
    """A plain decimal number (sign, digits, one dot); None for anything else (no nan/inf/exponents)."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or body.count(".") > 1 or not all(c.isdigit() or c == "." for c in body) or body == ".":
        return None
    return float(text)


def _split_args(inner: str) -> list[str]:
    """``"10, 37, 64"``, ``"10 37 64"`` and ``"10 37 64 / 50%"`` -> ``["10", "37", "64", "/", "50%"]``."""
    parts: list[str] = []
    for chunk in inner.replace(",", " ").replace("/", " / ").split():
        parts.append(chunk)
    return parts


def _channel(name: str, arg: str, notes: list[str]) -> int | str:
    """One channel as 0..255 (clamped, with a note) or the error text."""
    pct = arg.endswith("%")
    value = _number(arg[:-1] if pct else arg)
    if value is None:
        return f'unreadable value "{arg}"'
    scaled = value * 255.0 / 100.0 if pct else value
    clamped = min(255.0, max(0.0, scaled))
    if clamped != scaled:
        notes.append(f"{name} {arg} clamped to {int(round(clamped))}")
    return int(round(clamped))


def parse_rgb(inner: str) -> Literal:
    """Parse what is between the parentheses of ``rgb(...)``/``rgba(...)``; alpha is read and dropped."""
    args = _split_args(inner)
    alpha: list[str] = []
    if "/" in args:
        cut = args.index("/")
        args, alpha = args[:cut], args[cut + 1:]
    elif len(args) == 4:
        args, alpha = args[:3], args[3:]
    if len(args) != 3 or len(alpha) > 1:
        return Literal(error=f"expected 3 channels, got {len(args)}")
    notes: list[str] = []
    channels: list[int] = []
    for name, arg in zip(("red", "green", "blue"), args):
        got = _channel(name, arg, notes)
        if isinstance(got, str):
            return Literal(error=got)
        channels.append(got)
    if alpha:
        if _number(alpha[0].rstrip("%")) is None:
            return Literal(error=f'unreadable alpha "{alpha[0]}"')
        notes.append(f'alpha "{alpha[0]}" dropped')
    return Literal(hex="#" + "".join(f"{c:02X}" for c in channels), notes=tuple(notes))


def parse_hex_colour(text: str) -> Literal:
    """A whole hex colour string as given by a caller (brand colours): ``#0A2540``, ``0a2540``, ``#fff``."""
    body = text.strip()
    body = body[1:] if body.startswith("#") else body
    if not body:
        return Literal(error="empty")
    return parse_hex(body)
