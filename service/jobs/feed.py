"""Feeds: JSON, NDJSON or CSV bodies -> rows (row number, /creative body or the reason it is bad).

NDJSON and CSV are read line by line as the body streams in, so a 100,000-row feed is never held
in memory whole (a JSON body is one document and is parsed whole: it is bounded by
``ADLOOM_MAX_BODY_BYTES``; use NDJSON or CSV for big feeds).

CSV columns (header row; names are case-insensitive; an empty cell leaves the field unset; lists
are separated by ``;``):

=================  =============================================
``title``          product.title (required)
``description``    product.description
``category``       product.category
``price``          product.price
``original_price`` product.original_price
``currency``       product.currency
``image``          product.image (base64 PNG/JPEG/WebP)
``image_url``      product.image_url: fetched when the row runs (public http(s) hosts only)
``headline``       copy.headline
``subline``        copy.subline
``cta``            copy.cta
``brand``          brand.name
``brand_colors``   brand.colors (``#0A2540;#FFB000``)
``interests``      audience.interests (``yoga;hiking``)
``locale``         audience.locale
``style``          style
``sizes``          sizes (``medium_rectangle;1080x1080``)
``variants``       variants
``seed``           seed
``campaign``       campaign
=================  =============================================
"""
from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import AsyncIterator

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("product", "title"), "description": ("product", "description"),
    "category": ("product", "category"), "price": ("product", "price"),
    "original_price": ("product", "original_price"), "currency": ("product", "currency"),
    "image": ("product", "image"), "image_url": ("product", "image_url"),
    "headline": ("copy", "headline"), "subline": ("copy", "subline"),
    "cta": ("copy", "cta"), "brand": ("brand", "name"), "brand_colors": ("brand", "colors"),
    "interests": ("audience", "interests"), "locale": ("audience", "locale"), "style": ("style",),
    "sizes": ("sizes",), "variants": ("variants",), "seed": ("seed",), "campaign": ("campaign",),
}
_LISTS = {"brand_colors", "interests", "sizes"}
_NUMBERS = {"price": float, "original_price": float, "variants": int, "seed": int}

Row = tuple[int, dict | None, str | None]  # (row number from 1, body, or None and why it is bad)


class FeedError(ValueError):
    """The feed as a whole cannot be read (unknown CSV column, not a JSON object...): a 422."""


def merge(defaults: dict, row: dict) -> dict:
    """``row`` over ``defaults``, objects merged key by key (a row's product keeps the defaults' brand)."""
    out = dict(defaults)
    for k, v in row.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def csv_header(names: list[str]) -> list[str]:
    """The CSV header, checked: every column must be a known one (a typo would silently drop data)."""
    cols = [n.strip().lower() for n in names]
    unknown = [n for n in cols if n not in CSV_COLUMNS]
    if unknown:
        raise FeedError(f"unknown CSV column(s) {unknown}; known: {sorted(CSV_COLUMNS)}")
    if "title" not in cols:
        raise FeedError("the CSV header needs a 'title' column")
    return cols


def csv_row(header: list[str], values: list[str]) -> dict:
    """One CSV record -> a /creative body (ValueError names the column that is wrong)."""
    if len(values) != len(header):
        raise ValueError(f"{len(values)} cells for {len(header)} columns")
    body: dict = {}
    for name, raw in zip(header, values):
        raw = raw.strip()
        if not raw:
            continue
        if name in _LISTS:
            value: object = [v.strip() for v in raw.split(";") if v.strip()]
        elif name in _NUMBERS:
            try:
                value = _NUMBERS[name](raw)
            except ValueError:
                raise ValueError(f"column {name!r}: {raw[:40]!r} is not a number") from None
        else:
            value = raw
        *parents, leaf = CSV_COLUMNS[name]
        node = body
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return body


MAX_LINE = 16 * 1024 * 1024  # one row (a base64 photo included) may not be longer than this


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """UTF-8 text lines (with their newline) of a byte stream, as they arrive."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    async for chunk in chunks:
        pending += decoder.decode(chunk)
        if len(pending) > MAX_LINE and "\n" not in pending:
            raise FeedError(f"a line is longer than {MAX_LINE} bytes")
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


async def ndjson_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[Row]:
    """One JSON object a line; blank lines are skipped and not numbered."""
    n = 0
    async for line in _lines(chunks):
        if not line.strip():
            continue
        n += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield n, None, f"not JSON: {e.msg} at column {e.colno}"
            continue
        yield (n, obj, None) if isinstance(obj, dict) else (n, None, "a row must be a JSON object")


async def csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[Row]:
    """CSV with a header row (see the module docstring); quoted cells may span lines."""
    header: list[str] | None = None
    n = 0
    buffer = ""
    async for line in _lines(chunks):
        buffer += line
        if buffer.count('"') % 2:  # inside a quoted cell: the record goes on on the next line
            continue
        record, buffer = buffer, ""
        if not record.strip():
            continue
        values = next(csv.reader(io.StringIO(record)), [])
        if header is None:
            header = csv_header(values)
            continue
        n += 1
        try:
            yield n, csv_row(header, values), None
        except ValueError as e:
            yield n, None, str(e)
    if buffer.strip():
        n += 1
        yield n, None, "unterminated quoted cell"
    if header is None:
        raise FeedError("the CSV body is empty (a header row is required)")


async def json_rows(rows: list) -> AsyncIterator[Row]:
    for n, obj in enumerate(rows, 1):
        yield (n, obj, None) if isinstance(obj, dict) else (n, None, "a row must be a JSON object")
