"""Scale-out on one machine: two adloom replicas, one Redis, a round-robin proxy in front.

The same product sent twice through the proxy lands on replica A, then on replica B; B must
serve every text from the shared cache that A filled (hits, no misses), and both replicas'
/metrics must show those cross-replica hits. Redis runs with the compose file's flags.
"""
from __future__ import annotations

import re

import httpx
import redis

from .conftest import unique_product


def cache_counts(metrics_text: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r'^adloom_embedding_cache_total\{result="(\w+)"\} (\S+)$', metrics_text, re.M)}


def post_via_proxy(cluster, body: dict) -> tuple[int, dict]:
    """One request on its own connection, so the proxy moves to the next replica."""
    before = len(cluster.proxy.picks)
    with httpx.Client(timeout=120, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        r = client.post(cluster.proxy.url + "/creative", json=body, headers={"Connection": "close"})
    assert r.status_code == 200, r.text[:500]
    picks = cluster.proxy.picks[before:]
    assert len(picks) == 1, picks
    return picks[0], r.json()


def counts(cluster) -> list[dict[str, float]]:
    return [cache_counts(r.metrics()) for r in cluster.replicas]


def delta(after: dict, before: dict) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in ("hit", "miss", "error")}


def test_redis_has_the_compose_limits(adloom_cluster):
    client = redis.Redis.from_url(adloom_cluster.redis_url)
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    assert int(client.config_get("maxmemory")["maxmemory"]) == 256 * 1024 * 1024
    assert client.config_get("save")["save"] == ""


def test_cross_replica_cache_hits(adloom_cluster):
    cluster = adloom_cluster
    a, b = cluster.replicas
    # Align the rotation so the next connection goes to replica A.
    while len(cluster.proxy.picks) % 2:
        post_via_proxy(cluster, unique_product("align"))

    first, second = unique_product("one"), unique_product("two")

    # 1. product one -> A: every text is new, A encodes it and fills Redis.
    c0 = counts(cluster)
    who, body = post_via_proxy(cluster, first)
    c1 = counts(cluster)
    assert who == 0
    texts = body["cache"]["misses"]
    assert texts >= 2 and body["cache"]["hits"] == 0, body["cache"]
    assert delta(c1[0], c0[0])["miss"] == texts and delta(c1[1], c0[1]) == {"hit": 0, "miss": 0, "error": 0}
    keys = redis.Redis.from_url(cluster.redis_url).keys("adloom:emb:*")
    assert len(keys) >= texts, "A's embeddings are in the shared Redis"

    # 2. product one again -> B: B never saw these texts, yet every one is a hit (from Redis).
    who, body = post_via_proxy(cluster, first)
    c2 = counts(cluster)
    assert who == 1
    assert body["cache"] == {"hits": texts, "misses": 0}, body["cache"]
    assert delta(c2[1], c1[1]) == {"hit": texts, "miss": 0, "error": 0}

    # 3. and the other way round: product two first on B (after one request on A to rotate).
    post_via_proxy(cluster, first)  # -> A (its own L1/Redis hits; not counted below)
    c3 = counts(cluster)
    who, body = post_via_proxy(cluster, second)  # -> B: new texts
    assert who == 1 and body["cache"]["hits"] == 0
    texts_two = body["cache"]["misses"]
    c4 = counts(cluster)
    who, body = post_via_proxy(cluster, second)  # -> A: hits for texts only B encoded
    c5 = counts(cluster)
    assert who == 0
    assert body["cache"] == {"hits": texts_two, "misses": 0}, body["cache"]
    assert delta(c4[1], c3[1])["miss"] == texts_two
    assert delta(c5[0], c4[0]) == {"hit": texts_two, "miss": 0, "error": 0}

    # Both replicas' /metrics show hits and no cache errors.
    for replica, final in zip((a, b), counts(cluster)):
        assert final["hit"] > 0 and final.get("error", 0) == 0, (replica.url, final)
