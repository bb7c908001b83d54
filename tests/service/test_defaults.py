"""One copy of every default: the cache's, the feedback's and the job store's defaults are the Settings'."""
from __future__ import annotations

import inspect

from service import __version__
from service.cache import EmbeddingCache
from service.feedback import Feedback
from service.feedback.stores import MemoryStore, RedisStore
from service.jobs.store import RedisJobStore
from service.formats import ENCODE_FORMATS, MEDIA_TYPES
from service.schemas import CreativeRequest
from tests.conftest import hermetic_settings


def test_the_cache_defaults_are_the_settings_defaults():
    s = hermetic_settings()
    c = EmbeddingCache("enc@1")
    assert c.ttl_s == s.cache_ttl_s and c.local_capacity == s.cache_lru_size  # in-process backend
    assert EmbeddingCache("enc@1", redis_url="redis://127.0.0.1:1/0").local_capacity == s.cache_l1_size  # L1
    assert (c.redis_timeout_s, c.backoff_s, c.max_backoff_s) == (s.redis_timeout_s, s.redis_backoff_s,
                                                                   s.redis_max_backoff_s)
    tuned = EmbeddingCache.from_settings("enc@1", hermetic_settings(redis_timeout_s=0.7, redis_backoff_s=3.0))
    assert (tuned.redis_timeout_s, tuned.backoff_s) == (0.7, 3.0)


def test_the_feedback_and_job_store_defaults_are_the_settings_defaults():
    s = hermetic_settings()
    assert Feedback(MemoryStore()).buffer_events == s.feedback_buffer_events
    assert inspect.signature(RedisStore).parameters["timeout_s"].default == s.feedback_redis_timeout_s
    assert inspect.signature(RedisJobStore).parameters["stream"].default is inspect.Parameter.empty  # no copy
    url = "redis://127.0.0.1:1/0"  # never connected to
    assert RedisJobStore.from_settings(hermetic_settings(jobs_redis_url=url)).stream == s.jobs_stream
    assert RedisJobStore.from_settings(hermetic_settings(jobs_redis_url=url, jobs_stream="s:1")).stream == "s:1"
    tuned = Feedback.from_settings(hermetic_settings(feedback_buffer_events=7))
    assert tuned.buffer_events == 7 and isinstance(tuned.store, MemoryStore)


def test_one_list_of_output_formats_and_one_version():
    assert set(ENCODE_FORMATS) == set(MEDIA_TYPES) == {"png", "webp", "jpeg"}
    fmt = CreativeRequest.model_json_schema()["properties"]["format"]
    assert set(fmt.get("enum") or fmt["anyOf"][0]["enum"]) == set(ENCODE_FORMATS)
    assert __version__ and __version__[0].isdigit()
