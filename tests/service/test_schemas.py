"""service/schemas.py: every caller-facing limit is a 422-style error naming its field."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.compose.sizes import NAMED_SIZES
from service.schemas import CreativeRequest

BASE = {"product": {"title": "Linen summer dress"}}


def _with(path: str, value) -> dict:
    body = {"product": {"title": "Linen summer dress"}}
    node = body
    *parents, leaf = path.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    return body


def _error_locs(body: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as e:
        CreativeRequest.model_validate(body)
    return [tuple(err["loc"]) for err in e.value.errors()]


def test_minimal_request_gets_documented_defaults():
    req = CreativeRequest.model_validate(BASE)
    assert req.sizes == ["medium_rectangle"] and req.variants == 1 and req.format == "png"
    assert req.seed is None and req.style is None and req.copy_.cta is None  # locale default when composed
    assert req.audience.locale == "en-US" and req.brand.font == "sans"


def test_full_contract_example_validates_and_normalises():
    req = CreativeRequest.model_validate({
        "product": {"title": " Linen summer dress ", "description": "...", "category": "apparel", "price": 39.9,
                    "original_price": 59.9, "currency": "usd"},
        "copy": {"headline": "Summer", "subline": "Light", "cta": "Shop now"},
        "brand": {"name": "Acme", "colors": ["#0a2540", "#FFB000"], "font": "serif"},
        "audience": {"interests": ["beach holidays", "yoga"], "locale": "de_DE"},
        "style": "fresh summer, minimal", "sizes": ["medium_rectangle", "1080X1080"], "variants": 3,
        "seed": 42, "format": "webp", "return_layers": True})
    assert req.product.title == "Linen summer dress"
    assert req.product.currency == "USD" and req.brand.colors == ["#0A2540", "#FFB000"]
    assert req.audience.locale == "de-DE" and req.sizes == ["medium_rectangle", "1080x1080"]


@pytest.mark.parametrize("path,value,loc", [
    ("product.title", "x" * 201, ("product", "title")),
    ("product.title", "", ("product", "title")),
    ("product.description", "x" * 1001, ("product", "description")),
    ("product.price", -1, ("product", "price")),
    ("product.price", float("nan"), ("product", "price")),
    ("product.currency", "XYZ", ("product", "currency")),
    ("product.currency", "US", ("product", "currency")),
    ("copy.headline", "x" * 201, ("copy", "headline")),
    ("copy.subline", "x" * 501, ("copy", "subline")),
    ("copy.cta", "x" * 41, ("copy", "cta")),
    ("brand.colors", ["navy"], ("brand", "colors")),
    ("brand.colors", ["#12345"], ("brand", "colors")),
    ("brand.font", "comic", ("brand", "font")),
    ("audience.interests", ["x"] * 11, ("audience", "interests")),
    ("audience.interests", ["x" * 101], ("audience", "interests", 0)),
    ("audience.locale", "english please", ("audience", "locale")),
    ("style", "x" * 301, ("style",)),
    ("sizes", [], ("sizes",)),
    ("sizes", [f"{300 + i}x250" for i in range(17)], ("sizes",)),
    ("sizes", ["300x250", "300x250"], ("sizes",)),
    ("sizes", ["10x10"], ("sizes",)),
    ("sizes", ["banner please"], ("sizes",)),
    ("variants", 0, ("variants",)),
    ("variants", 5, ("variants",)),
    ("seed", -1, ("seed",)),
    ("seed", 2**31, ("seed",)),
    ("format", "gif", ("format",)),
    ("varients", 2, ("varients",)),            # a typo is refused, not ignored
    ("product.colour", "red", ("product", "colour")),
])
def test_each_limit_names_its_field(path, value, loc):
    assert loc in _error_locs(_with(path, value))


def test_missing_title_is_named():
    assert ("product", "title") in _error_locs({"product": {}})
    assert ("product",) in _error_locs({})


def test_size_error_explains_the_allowed_forms():
    with pytest.raises(ValidationError) as e:
        CreativeRequest.model_validate(_with("sizes", ["huge"]))
    msg = e.value.errors()[0]["msg"]
    assert "sizes[0]" in msg and "medium_rectangle" in msg and "WIDTHxHEIGHT" in msg


def test_limits_at_the_boundary_are_accepted():
    CreativeRequest.model_validate({
        "product": {"title": "x" * 200, "description": "d" * 1000},
        "copy": {"headline": "h" * 200, "subline": "s" * 500, "cta": "c" * 40},
        "audience": {"interests": ["i" * 100] * 10}, "style": "s" * 300,
        "sizes": [f"{300 + i}x250" for i in range(16)], "variants": 4, "seed": 2**31 - 1})


def test_every_named_size_fits_in_one_request():
    req = CreativeRequest.model_validate({"product": {"title": "x"}, "sizes": list(NAMED_SIZES)})
    assert len(req.sizes) == len(NAMED_SIZES) == 11


def test_openapi_schema_documents_fields_and_examples():
    schema = CreativeRequest.model_json_schema(by_alias=True)
    assert "copy" in schema["properties"] and "copy_" not in schema["properties"]
    assert schema["properties"]["style"]["description"]
    assert schema["examples"][0]["product"]["title"]


@pytest.mark.parametrize("path,limit", [("product.title", 200), ("product.category", 100), ("copy.headline", 200)])
def test_max_length_holds_for_the_text_as_sent_not_after_stripping(path, limit):
    """The schema's maxLength is on the raw text: a leading newline does not buy a character
    (schemathesis sent a 201-character title starting with "\\r" and got a 200)."""
    assert _error_locs(_with(path, "\r" + "x" * limit)) == [tuple(path.split("."))]
    req = CreativeRequest.model_validate(_with(path, " " + "x" * (limit - 1)))  # at the limit: stripped, kept
    node = req.model_dump(by_alias=True)
    for p in path.split("."):
        node = node[p]
    assert node == "x" * (limit - 1)
