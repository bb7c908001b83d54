"""The bandit simulation drives the real app: a few rounds end to end (numbers are bench/'s)."""
from __future__ import annotations

from bench.bandit import obd_ctrs, regret_png, simulate


def test_obd_click_rates_come_from_the_wheel():
    ctrs = obd_ctrs()
    assert len(ctrs) == 80 and 0 < ctrs.mean() < 0.02 and ctrs.max() > ctrs.mean()


async def test_a_short_simulation_runs_through_the_api(client, tmp_path):
    res = await simulate(client, impressions=500, m=4, campaign="sim-test")
    assert res["rounds"] == 5 and res["impressions"] == 500
    assert res["performance_arms"] >= 1 and 0 <= res["ctr"]["adloom"] <= 1
    curves = res.pop("_curves")
    assert all(len(c) == 6 for c in curves.values())
    regret_png(curves, tmp_path / "r.png", "test")
    assert (tmp_path / "r.png").stat().st_size > 1000
