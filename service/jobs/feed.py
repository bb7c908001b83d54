"""Feeds: JSON, NDJSON or CSV bodies -> rows (row number, /creative body or the reason it is bad).

Every format is read as the body streams in, so a 100,000-row feed is never held in memory whole:
NDJSON and CSV line by line, a JSON job (``{"defaults", "rows", "webhook"}``) event by event with
ijson (``JsonFeed``: a body up to ``ADLOOM_MAX_BODY_BYTES`` is read whole first, so its keys may
come in any order; past that the rows stream and ``defaults`` must come before ``rows``).

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

import ijson

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


def check_webhook(url: object) -> str | None:
    """A webhook must be an http(s) URL (or absent): the URL (or None), ValueError otherwise."""
    if url is None:
        return None
    if not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise ValueError("webhook must be an http(s) URL")
    return url


class _Reader:
    """An async file-like view of a byte stream for ijson, counting what it has handed out."""

    def __init__(self, chunks: AsyncIterator[bytes]):
        self._it = chunks.__aiter__()
        self._pending = b""
        self.consumed = 0

    async def read(self, n: int = -1) -> bytes:
        while not self._pending:
            try:
                self._pending = await self._it.__anext__()
            except StopAsyncIteration:
                return b""
        out, self._pending = (self._pending, b"") if n < 0 else (self._pending[:n], self._pending[n:])
        self.consumed += len(out)
        return out


class JsonFeed:
    """A JSON job ``{"defaults": {...}, "rows": [...], "webhook": "..."}`` read as it streams in.

    A body of up to ``buffer_bytes`` is read whole first, so its keys may come in any order (as
    any JSON object's). Past that the rows stream: ``defaults`` must then come before ``rows``
    (a ``defaults`` after the rows of such a body is refused, not silently ignored); ``webhook``
    may come anywhere. A top-level list is a list of rows. Each row is bounded by ``MAX_LINE``
    bytes, as an NDJSON line is.
    """

    def __init__(self, chunks: AsyncIterator[bytes], buffer_bytes: int, defaults: dict | None = None):
        """``defaults``: already read (a file's first pass); a ``defaults`` key is then skipped."""
        self._reader = _Reader(chunks)
        self._events = ijson.parse_async(self._reader, use_float=True).__aiter__()
        self.buffer_bytes = buffer_bytes
        self.defaults: dict | None = defaults
        self._defaults_known = defaults is not None
        self.webhook: str | None = None
        self._headed = False
        self._buffered: list[Row] = []
        self._n = 0
        self._state = "top"  # top -> rows (streaming the rows array) -> after -> end
        self._list = False  # the document is a bare list of rows

    async def _next(self) -> tuple[str, str, object]:
        try:
            return await self._events.__anext__()
        except StopAsyncIteration:
            raise FeedError("the JSON body ended early") from None
        except ijson.JSONError as e:
            raise self._error(e) from None

    def _error(self, e: Exception) -> FeedError:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "premature EOF" in first or "Incomplete JSON" in first:
            return FeedError("the JSON body ended early")
        return FeedError(f"not JSON: {first} (near byte {self._reader.consumed})")

    async def _value(self, event: str, value: object) -> object:
        """The whole value that starts with (event, value), bounded by MAX_LINE bytes."""
        if event not in ("start_map", "start_array"):
            return value
        start, depth = self._reader.consumed, 1
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        while depth:
            _, event, value = await self._next()
            builder.event(event, value)
            depth += event in ("start_map", "start_array")
            depth -= event in ("end_map", "end_array")
            if self._reader.consumed - start > MAX_LINE:
                raise FeedError(f"a value in the JSON body is longer than {MAX_LINE} bytes")
        return builder.value

    async def _row(self) -> Row | None:
        """The next row of the rows array, or None at its end."""
        _, event, value = await self._next()
        if event == "end_array":
            return None
        obj = await self._value(event, value)
        self._n += 1
        return (self._n, obj, None) if isinstance(obj, dict) else (self._n, None, "a row must be a JSON object")

    async def _key(self, key: object, streaming: bool) -> None:
        _, event, value = await self._next()
        if key == "rows":
            if event != "start_array":
                raise FeedError("rows: must be a list of rows")
            self._state = "rows"
            return
        obj = await self._value(event, value)
        if key == "defaults" and self._defaults_known:
            return
        if key == "defaults":
            if streaming:
                raise FeedError(f"defaults after rows: in a JSON body over {self.buffer_bytes} bytes the "
                                "defaults must come before the rows (or send NDJSON/CSV with ?defaults=)")
            if not isinstance(obj, dict):
                raise FeedError("defaults: must be a JSON object")
            self.defaults = obj
        elif key == "webhook":
            try:
                self.webhook = check_webhook(obj)
            except ValueError as e:
                raise FeedError(f"webhook: {e}") from None
        # other keys are ignored, as on /creative

    async def _after_rows(self, streaming: bool) -> None:
        """The keys after the rows array, to the end of the document."""
        self._state = "after"
        while not self._list:
            _, event, value = await self._next()
            if event == "end_map":
                break
            await self._key(value, streaming)
            if self._state == "rows":
                raise FeedError("rows: given twice")
        try:
            await self._events.__anext__()
        except StopAsyncIteration:
            pass
        except ijson.JSONError as e:
            raise self._error(e) from None
        else:
            raise FeedError("not JSON: data after the document")
        self._state = "end"

    async def head(self) -> None:
        """Read up to the rows (and, for a body of up to ``buffer_bytes``, to its end)."""
        self._headed = True
        _, event, _ = await self._next()
        if event == "start_array":
            self._list, self._state = True, "rows"
        elif event != "start_map":
            raise FeedError("a JSON job must be an object with rows (or a list of rows)")
        while self._state == "top":
            _, event, value = await self._next()
            if event == "end_map":
                raise FeedError("rows: field required")
            await self._key(value, streaming=False)
        while self._reader.consumed <= self.buffer_bytes:
            row = await self._row()
            if row is None:
                await self._after_rows(streaming=False)
                break
            self._buffered.append(row)
        if self._state == "end" and not self._buffered:
            raise FeedError("rows: at least one row is required")

    async def rows(self) -> AsyncIterator[Row]:
        """Every row, then the keys after them (``head`` first, if it was not called)."""
        if not self._headed:
            await self.head()
        for row in self._buffered:
            yield row
        self._buffered = []
        if self._state == "rows":
            while (streamed := await self._row()) is not None:
                yield streamed
            await self._after_rows(streaming=True)
        if not self._n:
            raise FeedError("rows: at least one row is required")
