"""The HTTP contract of ``POST /creative`` (README, "The API in brief"), as pydantic models.

Every limit a caller can hit is declared here, so a bad request is refused with a 422 that names
the field before any work starts. Images stay base64 strings here: decoding them is work with its
own status codes (400 undecodable, 413 too large), done by the pipeline.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Literal

from babel.numbers import list_currencies
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

from service.compose.sizes import NAMED_SIZES, parse_size
from service.compose.fonts import FontFamily
from service.formats import ENCODE_FORMATS
from service.vocabulary import FeedbackEventName

MAX_SEED = 2**31 - 1
MAX_SIZES = 16  # every named size (11) in one request, and room for custom ones
MAX_VARIANTS = 4
MAX_INTERESTS = 10
# A base64 image field may not be longer than this many characters (~48 MB decoded); the real,
# configurable limits are ADLOOM_MAX_BODY_BYTES (413 before parsing) and ADLOOM_MAX_IMAGE_BYTES.
MAX_IMAGE_CHARS = 64 * 1024 * 1024

HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# BCP-47-ish: a 2-3 letter language, then subtags (script, region, variant) of 2-8 alphanumerics.
LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")

ImageFormat = Literal[ENCODE_FORMATS]  # type: ignore[valid-type]  # ("png", "webp", "jpeg")

Text = Annotated[str, StringConstraints(strip_whitespace=True)]


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


class _Strict(BaseModel):
    # Unknown fields are refused: a typo ("varients") should be a 422, not silently ignored.
    # strict: the JSON types are the ones the OpenAPI schema documents. Lax mode took
    # "price": false as 0.0, "variants": true as 1 and "return_layers": "yes" as true (found by
    # schemathesis, tests/reliability/test_fuzz.py); ints are still fine for float fields.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @model_validator(mode="wrap")
    @classmethod
    def _lengths_as_sent(cls, data, handler):
        """maxLength holds for the text as sent, as the OpenAPI schema says: whitespace is stripped
        before pydantic's length check, so a 201-character title with a leading newline passed
        (found by schemathesis). Checked here, the error still names the field."""
        if isinstance(data, dict):
            errors = []
            for key, limit in _text_limits(cls):
                value = data.get(key)
                if isinstance(value, str) and len(value) > limit:
                    errors.append(InitErrorDetails(type="string_too_long", loc=(key,), input=value,
                                                   ctx={"max_length": limit}))
            if errors:
                raise ValidationError.from_exception_data(cls.__name__, errors)
        return handler(data)


@lru_cache(maxsize=None)
def _text_limits(model: type[BaseModel]) -> tuple[tuple[str, int], ...]:
    """A model's (field as sent, maxLength) pairs, read once per class (not on every request)."""
    out = []
    for name, field in model.model_fields.items():
        limit = next((m.max_length for m in field.metadata if getattr(m, "max_length", None)), None)
        if limit is not None:
            out.append((field.alias or name, limit))
    return tuple(out)


class Product(_Strict):
    title: str = Field(..., min_length=1, max_length=200, description="Product name; the main input of the generator.",
                       examples=["Linen summer dress"])
    description: str | None = Field(None, max_length=1000,
                                    description="Longer product text; shapes the visual a little.",
                                    examples=["Breathable linen, relaxed fit, three colours."])
    category: str | None = Field(None, max_length=100, description="Product category, e.g. apparel.",
                                 examples=["apparel"])
    price: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False,
                                description="Current price, shown on the creative.", examples=[39.9])
    original_price: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False,
                                         description="Price before the discount; shown struck through.",
                                         examples=[59.9])
    currency: str | None = Field(None, description="ISO 4217 code for the prices.", examples=["USD"])
    image: str | None = Field(None, max_length=MAX_IMAGE_CHARS,
                              description="Product photo: base64 PNG/JPEG/WebP (a data: URL is fine).")

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.upper()
        if not re.fullmatch(r"[A-Z]{3}", v) or v not in _currencies():
            raise ValueError(f"{v!r} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
        return v


class CopyText(_Strict):
    # default=: the keyword (not Field's first argument) is what type checkers read as a default.
    headline: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="Main line of the creative; default: the product title.",
                                 examples=["Summer in linen"])
    subline: str | None = Field(default=None, max_length=500, description="Second line under the headline.",
                                examples=["Light, breathable, made to last"])
    cta: str | None = Field(default=None, min_length=1, max_length=40,
                            description="Call-to-action button text; default: the locale's (\"Shop now\", "
                                        "\"Jetzt kaufen\", \"立即购买\", ...).", examples=["Shop now"])
    generate: bool = Field(default=False,
                           description="Write candidate headline, subline and CTA from the locale's phrase "
                                       "bank (ranked for the audience) for the copy fields left unset; with "
                                       "optimize, candidates also draw on it when no copy is set.")


class Brand(_Strict):
    name: str | None = Field(default=None, max_length=100, description="Brand name, shown when there is no logo.",
                             examples=["Acme"])
    logo: str | None = Field(default=None, max_length=MAX_IMAGE_CHARS,
                             description="Brand logo: base64 PNG/JPEG/WebP (a transparent PNG reads best; "
                                         "SVG is refused with a 400 naming brand.logo). Without brand colors "
                                         "its own dominant colour sets the accent and the CTA.")
    colors: list[str] = Field(default_factory=list, max_length=6,
                              description="Brand colours as #RRGGBB, most important first.",
                              examples=[["#0A2540", "#FFB000"]])
    font: FontFamily = Field(default="sans", description="Font family of the copy.")

    @field_validator("colors")
    @classmethod
    def _colours(cls, v: list[str]) -> list[str]:
        for i, c in enumerate(v):
            if not isinstance(c, str) or not HEX_COLOUR.match(c):
                raise ValueError(f"colors[{i}] = {c!r} is not a #RRGGBB colour")
        return [c.upper() for c in v]


class Audience(_Strict):
    interests: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=MAX_INTERESTS,
        description="What the audience cares about; steers the visual (never logged or stored in clear).",
        examples=[["beach holidays", "yoga"]])
    locale: str = Field(default="en-US", max_length=35, description="BCP 47 locale for prices and text.",
                        examples=["en-US"])

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if not LOCALE.match(v):
            raise ValueError(f"{v!r} is not a BCP 47 locale such as en-US, de-DE or zh-Hant-TW")
        return v.replace("_", "-")


class CreativeRequest(_Strict):
    """Everything one ad needs; all but product.title is optional."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, strict=True, populate_by_name=True,
        json_schema_extra={"examples": [{
            "product": {"title": "Linen summer dress", "price": 39.9, "original_price": 59.9, "currency": "USD"},
            "copy": {"headline": "Summer in linen", "cta": "Shop now"},
            "brand": {"name": "Acme", "colors": ["#0A2540", "#FFB000"]},
            "audience": {"interests": ["beach holidays", "yoga"], "locale": "en-US"},
            "style": "fresh summer, minimal",
            "sizes": ["medium_rectangle"], "variants": 2, "seed": 42, "format": "png",
        }]})

    product: Product
    copy_: CopyText = Field(default_factory=CopyText, alias="copy", description="Ad copy; defaults from the product.")
    brand: Brand = Field(default_factory=Brand)
    audience: Audience = Field(default_factory=Audience)
    style: str | None = Field(None, max_length=300,
                              description="Art direction, e.g. 'navy blue background'; "
                                          "it outweighs product and audience.",
                              examples=["fresh summer, minimal"])
    sizes: list[str] = Field(["medium_rectangle"], min_length=1, max_length=MAX_SIZES,
                             description=f"Named sizes ({', '.join(NAMED_SIZES)}) or WIDTHxHEIGHT, 32..2048 per side.",
                             examples=[["medium_rectangle", "1080x1080"]])
    variants: int = Field(1, ge=1, le=MAX_VARIANTS, description="Creatives per size; variant v uses seed + v.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED,
                             description="Makes the result reproducible; picked and reported when absent.")
    format: ImageFormat = Field("png", description="Image format of the creatives.")
    return_layers: bool = Field(False, description="Also return the background, the placed text elements "
                                  "and the background scene alone (layers.scene: JSON, SVG, PNG).")
    campaign: str | None = Field(None, min_length=1, max_length=200,
                                 description="Groups click feedback (POST /feedback, GET /performance); default: "
                                             "derived from the product title (the response names it).")
    optimize: bool = Field(False, description="Make ADLOOM_OPTIMIZE_CANDIDATES candidates per variant (layout "
                                              "families, seeds, copy) and pick by Thompson sampling on the "
                                              "campaign's click feedback; each creative reports its propensity.")

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, v: list[str]) -> list[str]:
        out = []
        for i, spec in enumerate(v):
            try:
                out.append(parse_size(spec).name)
            except ValueError as e:
                raise ValueError(f"sizes[{i}]: {e}") from None
        if len(set(out)) != len(out):
            raise ValueError("sizes must not repeat")
        return out

    @field_validator("style")
    @classmethod
    def _blank_style(cls, v: str | None) -> str | None:
        return v or None


# ---------------------------------------------------------------------------------------- response

class Scores(BaseModel):
    overall: float = Field(..., description="0.3·alignment + 0.15·realism + 0.25·legibility + 0.3·composition.")
    alignment: float = Field(..., description="Critic cosine of visual and conditioning, mapped to 0..1.")
    realism: float = Field(..., description="Critic realism, 0..1.")
    legibility: float = Field(..., description="0.5·contrast margin (1:1 -> 0, 7:1 -> 1) + 0.25·(calm ground "
                                                "under the text) + 0.25·(text size for the canvas), 0..1.")
    composition: float = Field(..., description="Weighted design metrics (occlusion, alignment, overlap, spacing, "
                                                 "utilisation, balance, hierarchy, underlay; see `design`), "
                                                 "x0.7 when copy was cut off, 0..1.")


class Design(BaseModel):
    """The measured design metrics behind legibility and composition (docs: service/compose/design.py)."""

    occlusion: float = Field(..., description="Mean saliency of the visual under copy and product (lower is better).")
    unreadability: float = Field(..., description="Mean luminance gradient under text not on a button (lower is "
                                                   "better; calm < 0.01).")
    underlay: float = Field(..., description="How fully underlays (panels, cards, scrims) hold text, 0..1.")
    alignment: float = Field(..., description="Mean distance to the nearest shared left/centre/right edge, "
                                               "as a share of the width (lower is better).")
    overlap: float = Field(..., description="Mean pairwise intersection over the smaller box (lower is better).")
    spacing: float = Field(..., description="Median air around text elements, in their own em.")
    utilisation: float = Field(..., description="Share of the canvas the copy and product cover.")
    balance: float = Field(..., description="1 - distance of the elements' centroid from the centre.")
    text_size: float = Field(..., description="Headline px over the canvas's short side (banners: height).")
    hierarchy: float = Field(..., description="Share of headline > price > subline > CTA size orders kept.")


class Checks(BaseModel):
    min_contrast_ratio: float | None = Field(
        ..., description="Lowest WCAG contrast ratio of any text element; null when it could not be measured "
                         "(the legibility score is then 0).")
    text_truncated: bool = Field(..., description="Some copy had to be shortened to fit.")
    overlaps: int = Field(..., description="Number of overlapping element pairs.")
    product_share: float | None = Field(
        None, description="Share of the canvas the product image's box covers; null without a product image.")
    logo_note: str | None = Field(
        None, description="Why a logo that was sent is not drawn at this size (a wordmark in a 320x50 banner "
                          "would leave the headline no room); null when it is drawn or none was sent.")
    product_note: str | None = Field(
        None, description="Why the product is drawn smaller than its floor (25 % of the canvas, 60 % of a thin "
                          "banner's height) at this size: a small image is never enlarged more than 2.2x, and a "
                          "product's shape may not fit; null when it reaches the floor or there is no product.")


class Element(BaseModel):
    type: str = Field(..., description="headline, subline, price, original_price, discount (the badge), cta "
                                       "(the button), brand, logo, product; decor: scene, panel, scrim, underlay.")
    text: str | None = None
    box: list[int] = Field(..., description="[x, y, width, height] in pixels.")
    font: str | None = None
    size_px: int | None = None
    color: str | None = None


class SceneLayer(BaseModel):
    json_: dict = Field(..., alias="json", description="The generated scene, editable: ground gradient, "
                        "layers (kind, placement, colour, opacity, softness) and the keep-out boxes used.")
    svg: str = Field(..., description="The scene as SVG at the creative's size, one <g> per layer.")
    png: str = Field(..., description="Base64 PNG of the scene alone at the creative's size.")


class Layers(BaseModel):
    background: str = Field(..., description="Base64 PNG of the creative without text.")
    svg: str = Field(..., description="The whole creative as SVG: each line of copy a <text> in its font family, "
                                      "size and colour over the embedded background; opens in a browser.")
    elements: list[Element] = Field(..., description="Every element with its box: copy, product and logo, then "
                                                     "the decor (scene, panel, scrim, underlay).")
    scene: SceneLayer | None = Field(None, description="The background scene alone (JSON, SVG, PNG).")


class Candidate(BaseModel):
    arm: dict[str, str]
    propensity: float


class Creative(BaseModel):
    size: str
    width: int
    height: int
    variant: int
    seed: int
    format: ImageFormat
    image: str = Field(..., description="Base64 image bytes.")
    layout: str | None = Field(None, description="The layout: aspect class / family (open, editorial, "
                                                  "spotlight, split, card, hero, poster), e.g. square/open.")
    scores: Scores
    design: Design
    checks: Checks
    creative_id: str = Field(..., description="Opaque id for POST /feedback; the same for the same request content, "
                                              "size, variant and models.")
    arm: dict[str, str] = Field(..., description="The design attributes feedback is learned over: layout (family), "
                                                 "scene (main motif), palette (brand, photo or scene), copy "
                                                 "(caller, default or a phrase-bank id), cta (its wording).")
    propensity: float = Field(..., description="Probability with which this creative was chosen among its "
                                               "candidates (1.0 without optimize): log it for IPW/DR evaluation.")
    candidates: list[Candidate] | None = Field(None, description="With optimize: every candidate this creative was "
                                                                 "chosen from (arm, propensity), for off-policy "
                                                                 "evaluation of other policies.")
    layers: Layers | None = None


class ModelIds(BaseModel):
    text_encoder: str
    generator: str
    device: str


class CacheStats(BaseModel):
    hits: int
    misses: int


class UnderstoodColour(BaseModel):
    text: str = Field(..., description="The phrase as read (after Unicode NFKC normalisation).")
    hex: str = Field(..., description="The exact colour it resolved to, #RRGGBB.")
    role: Literal["ground", "motif", "accent"] = Field(..., description="What the scene does with it.")
    source: str = Field(..., description="The field it came from: style, brand, title, description, category, "
                                         "interests.")
    confidence: float = Field(..., ge=0, le=1, description="Exact hex/brand 1.0; names and modifiers less.")


class ExcludedColour(BaseModel):
    text: str
    hex: str
    source: str


class Understood(BaseModel):
    """What adloom read in the request before any embedding, so a caller can fix a word."""

    language: str = Field(..., description="The language the product text was read as (ISO 639-1; 'und' when "
                                           "unknown). adloom reads en, zh, ja, ko, de, fr, es, it, pt and ar.")
    terms: list[str] = Field(..., description="What non-English text was read as, in English (the generator "
                                              "is conditioned on that reading); empty for English text.")
    colors: list[UnderstoodColour] = Field(..., description="The colours the scene uses, each in the role it "
                                                            "took: the ground, the motifs, then the accent.")
    excluded: list[ExcludedColour] = Field(..., description="Colours the style asked to avoid (\"no red\").")
    warnings: list[str] = Field(..., description="Unreadable colours (\"#12345G\"), clamped rgb() values, colours "
                                                 "that found no slot, ...")
    parser: str = Field(..., description="The colour parser's version.")


class CreativeResponse(BaseModel):
    id: str = Field(..., description="Request id (also in the X-Request-Id header and the logs).")
    campaign: str = Field(..., description="The campaign feedback on these creatives counts towards.")
    model: ModelIds
    seed: int = Field(..., description="Seed of variant 0 (given or picked).")
    understood: Understood
    creatives: list[Creative] = Field(..., description="Per size in request order, best first within a size.")
    timings_ms: dict[str, float]
    cache: CacheStats


class ErrorResponse(BaseModel):
    detail: str | list = Field(..., description="What went wrong; for 422 a list naming each field.")
    request_id: str | None = None


# ---------------------------------------------------------------------------------------- feedback

MAX_FEEDBACK_EVENTS = 10_000


class FeedbackEvent(_Strict):
    creative_id: str = Field(..., min_length=1, max_length=100, description="From a /creative response.")
    event: FeedbackEventName
    count: int = Field(1, ge=1, le=1_000_000, description="How many of this event (aggregated reporting).")


class FeedbackRequest(_Strict):
    """A batch of events; the idempotency key makes a retried batch count once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True, json_schema_extra={
        "examples": [{"idempotency_key": "2026-12-03T10:00:00Z-batch-17",
                      "events": [{"creative_id": "cr_0123456789abcdef01234567", "event": "impression", "count": 100},
                                 {"creative_id": "cr_0123456789abcdef01234567", "event": "click", "count": 3}]}]})

    idempotency_key: str = Field(..., min_length=1, max_length=200,
                                 description="Unique per batch; a replay (retry) with the same key counts once.")
    events: list[FeedbackEvent] = Field(..., min_length=1, max_length=MAX_FEEDBACK_EVENTS)


class FeedbackCounts(BaseModel):
    impression: int
    click: int
    conversion: int


class FeedbackResponse(BaseModel):
    accepted: int = Field(..., description="Events counted by this call (0 for a replayed key).")
    counts: FeedbackCounts
    duplicate: bool = Field(..., description="The idempotency key was seen before: nothing was counted again.")
    buffered: bool = Field(..., description="The feedback Redis is down: the batch waits in memory and is "
                                            "counted (once) when it is back.")


class RateRow(BaseModel):
    impressions: int
    clicks: int
    conversions: int
    ctr: float
    ctr_low: float = Field(..., description="95 % Wilson interval, low end.")
    ctr_high: float = Field(..., description="95 % Wilson interval, high end.")


class ArmRow(RateRow):
    arm: dict
    arm_key: str
    p_best: float = Field(..., description="Posterior probability (Beta(1+clicks, 1+misses)) that this arm has "
                                           "the highest CTR of the campaign's arms.")


class AttributeRow(RateRow):
    value: str


class PerformanceTotals(BaseModel):
    impressions: int
    clicks: int
    conversions: int


class PerformanceResponse(BaseModel):
    campaign: str
    totals: PerformanceTotals
    arms: list[ArmRow] = Field(..., description="Best first (by p_best).")
    attributes: dict[str, list[AttributeRow]] = Field(..., description="Per attribute (layout, scene, palette, "
                                                                       "copy, cta): each value's rates.")
