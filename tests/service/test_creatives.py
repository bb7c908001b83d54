"""CreativeService, the front door every caller uses: seed, best-first order, ids, arms, campaign."""
from __future__ import annotations

import pytest

from service.creatives import CreativeService
from service.feedback import Feedback
from service.seeds import SEED_SPAN, random_seed, stable_seed
from tests.service.test_pipeline import req


@pytest.fixture
async def creatives(make_pipeline):
    p = make_pipeline()
    await p.start()
    feedback = Feedback.from_settings(p.settings)
    await feedback.start()
    yield CreativeService(p, feedback)
    await feedback.stop()
    await p.stop()


async def test_best_first_within_each_size_in_request_order(creatives):
    r = await creatives.create(req(sizes=["728x90", "300x250"], variants=3))
    assert [c.size for c in r.creatives] == ["728x90"] * 3 + ["300x250"] * 3
    for size in ("728x90", "300x250"):
        overall = [c.scores["overall"] for c in r.creatives if c.size == size]
        assert overall == sorted(overall, reverse=True)
    assert r.best.scores["overall"] == max(c.scores["overall"] for c in r.creatives)


async def test_a_missing_seed_is_picked_and_gives_the_same_bytes_again(creatives):
    picked = await creatives.create(req(seed=None))
    assert 0 <= picked.seed < SEED_SPAN
    again = await creatives.create(req(seed=picked.seed))
    assert picked.creatives[0].image == again.creatives[0].image


async def test_every_creative_has_an_id_an_arm_and_its_campaign(creatives):
    r = await creatives.create(req(sizes=["300x250", "320x50"], variants=2, campaign="spring"))
    assert r.campaign == "spring"
    ids = {c.creative_id for c in r.creatives}
    assert len(ids) == 4 and all(ids)
    assert all(c.arm["layout"] and c.propensity == 1.0 for c in r.creatives)
    other = await creatives.create(req(sizes=["300x250", "320x50"], variants=2, campaign="spring", seed=8))
    assert ids.isdisjoint(c.creative_id for c in other.creatives)


def test_seeds_come_from_one_range():
    assert all(0 <= random_seed() < SEED_SPAN for _ in range(100))
    assert stable_seed("job_a", 3) == stable_seed("job_a", 3) != stable_seed("job_a", 4)
    assert 0 <= stable_seed("job_a", 3) < SEED_SPAN
