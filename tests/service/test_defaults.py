"""One copy of every default: the cache's own defaults are the Settings' defaults."""
from __future__ import annotations

from service import __version__
from service.cache import EmbeddingCache
from service.formats import ENCODE_FORMATS, MEDIA_TYPES
from service.schemas import CreativeRequest
from tests.conftest import hermetic_settings


def test_the_cache_defaults_are_the_settings_defaults():
    s = hermetic_settings()
    c = EmbeddingCache("enc@1")
    assert c.ttl_s == s.cache_ttl_s and c._local.max_size == s.cache_lru_size  # in-process backend
    assert EmbeddingCache("enc@1", redis_url="redis://127.0.0.1:1/0")._local.max_size == s.cache_l1_size  # L1
    assert (c.redis_timeout_s, c.backoff_s, c.max_backoff_s) == (s.redis_timeout_s, s.redis_backoff_s,
                                                                   s.redis_max_backoff_s)
    tuned = EmbeddingCache.from_settings("enc@1", hermetic_settings(redis_timeout_s=0.7, redis_backoff_s=3.0))
    assert (tuned.redis_timeout_s, tuned.backoff_s) == (0.7, 3.0)


def test_one_list_of_output_formats_and_one_version():
    assert set(ENCODE_FORMATS) == set(MEDIA_TYPES) == {"png", "webp", "jpeg"}
    fmt = CreativeRequest.model_json_schema()["properties"]["format"]
    assert set(fmt.get("enum") or fmt["anyOf"][0]["enum"]) == set(ENCODE_FORMATS)
    assert __version__ and __version__[0].isdigit()
