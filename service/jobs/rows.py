"""One catalog row: its request (the row over the job's defaults, a seed from the job and row),
its rendering through the CreativeService, its files and manifest part; retried while the
service is busy. Used alike by the job runner, ``adloom batch`` and the Ray actors."""
from __future__ import annotations

import asyncio
import base64
import json
from typing import Callable

from pydantic import ValidationError

from service.errors import BatcherClosedError, DeadlineExceededError, QueueFullError
from service.compose.images import ImageInputError
from service.creatives import CreativeService
from service.jobs.feed import merge
from service.jobs.fetch import FetchError, fetch_image
from service.jobs.output import Output
from service.middleware.errors import validation_text
from service.results import StageError
from service.schemas import CreativeRequest
from service.seeds import stable_seed

# Worth trying again later: the service is busy or shutting down, the row itself is fine.
TRANSIENT = (QueueFullError, DeadlineExceededError, BatcherClosedError)
RETRY_FIRST_S, RETRY_MAX_S = 0.05, 2.0


def row_seed(job: str, row: int) -> int:
    """A row without a seed gets one from its job and number: a re-run gives the same bytes."""
    return stable_seed(job, row)


def row_request(job: str, row: int, body: dict, defaults: dict) -> CreativeRequest:
    """The row over the job's defaults, as a /creative request (ValidationError when it is bad).
    A ``product.image_url`` is checked as a URL here and fetched by ``render_row``."""
    merged = merge(defaults, body)
    product = merged.get("product")
    if isinstance(product, dict) and "image_url" in product:
        product = dict(product)
        url = product.pop("image_url")
        merged["product"] = product
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("product.image_url: must be an http(s) URL")
    merged.setdefault("seed", stable_seed(job, row))
    merged.pop("return_layers", None)  # a catalog row writes images, not layers
    return CreativeRequest.model_validate(merged)



def validation_detail(e: ValidationError) -> str:
    return validation_text(e.errors())



def file_name(row: int, size: str, variant: int, fmt: str) -> str:
    return f"{row:06d}-{size}-v{variant}.{fmt}"



async def render_row(creatives: CreativeService, output: Output, job: str, row: int, body: dict,
                     defaults: dict) -> str | None:
    """Render one row and write its files and manifest lines -> None, or why the row failed.
    Raises a TRANSIENT error (queue full, deadline, shutting down) for a row worth retrying."""
    try:
        req = row_request(job, row, body, defaults)
    except ValidationError as e:
        return validation_detail(e)
    except ValueError as e:
        return str(e)
    url = (body.get("product") or {}).get("image_url") if isinstance(body.get("product"), dict) else None
    if url:
        try:
            data = await fetch_image(url, creatives.settings.max_image_bytes, creatives.settings.job_fetch_private)
        except FetchError as e:
            return f"product.image_url: {e}"
        req = req.model_copy(update={"product": req.product.model_copy(
            update={"image": base64.b64encode(data).decode("ascii")})})
    try:
        result = await creatives.create(req, encode_base64=False)
    except ImageInputError as e:
        return f"product.image: {e.detail}"
    except StageError as e:
        return f"rendering failed in stage {e.stage}"
    lines = []
    for c in result.creatives:
        name = file_name(row, c.size, c.variant, c.format)
        await asyncio.to_thread(output.write, job, name, c.image)
        lines.append({"row": row, "size": c.size, "width": c.width, "height": c.height, "variant": c.variant,
                      "seed": c.seed, "path": name, "format": c.format, "layout": c.layout, "scores": c.scores,
                      "creative_id": c.creative_id, "campaign": result.campaign,
                      "understood": result.understood})
    data = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
    await asyncio.to_thread(output.write, job, f"rows/{row:09d}.jsonl", data)
    return None


async def render_when_free(creatives: CreativeService, output: Output, job: str, row: int, body: dict,
                           defaults: dict, *, busy: Callable[[], bool] | None = None,
                           attempts: int | None = None) -> str | None:
    """``render_row``, tried again with exponential back-off while the service answers busy
    (at most ``attempts`` times; None: until it renders). ``busy()`` true holds the row back
    before each try (job rows yield to online traffic)."""
    delay = RETRY_FIRST_S
    tries = 0
    while attempts is None or tries < attempts:
        tries += 1
        while busy is not None and busy():
            await asyncio.sleep(0.02)
        try:
            return await render_row(creatives, output, job, row, body, defaults)
        except TRANSIENT:
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX_S, delay * 2)
    return "the service stayed overloaded; row not rendered"
