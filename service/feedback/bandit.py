"""The maths: each candidate's CTR as a Beta posterior backed off in three levels (``posterior``),
Thompson-sampling choice with its propensities (``thompson``), and ``report`` (GET /performance).

Choice: one draw per candidate, the highest wins; the chance each candidate had of winning (its
propensity) is estimated from ``PROPENSITY_DRAWS`` further draws, so a caller's logs allow IPW/DR
evaluation.
"""
from __future__ import annotations

import math

import numpy as np

from service.feedback.ids import arm_key
from service.feedback.stores import Stats

PRIOR_STRENGTH = 50.0           # pseudo-impressions a prior mean is worth
MAX_PRIOR_STRENGTH = 2000.0     # what the campaign's evidence may weigh in a segment's prior
BASE_RATE = 0.01                # CTR assumed before any feedback at all
PROPENSITY_DRAWS = 4000         # posterior draws behind a propensity, and behind p_best in a report


def _rate(counts: dict, prefix: str) -> tuple[int, int]:
    return counts.get(f"{prefix}|click", 0), counts.get(f"{prefix}|impression", 0)


def posterior(st: Stats, arm: dict) -> tuple[float, float]:
    """Beta(a, b) of an arm's CTR in the segment, backed off level by level (m = PRIOR_STRENGTH):

    base   = global clicks / impressions (BASE_RATE before any)
    attr_v = (C_camp(v) + m * (C_glob(v) + m*base)/(I_glob(v) + m)) / (I_camp(v) + m)  per attribute value
    prior  = mean of attr_v over the arm's attributes
    camp   = (C_arm - C_seg + m*prior) / (I_arm - I_seg + m)   the campaign's evidence outside the segment
    a, b   = k*camp + C_seg, k*(1-camp) + I_seg - C_seg,       k = min(m + I_arm - I_seg, MAX_PRIOR_STRENGTH)
    """
    m = PRIOR_STRENGTH
    gi = st.global_totals.get("impression", 0)
    base = (st.global_totals.get("click", 0) + m * BASE_RATE) / (gi + m)
    means = []
    for attr, value in arm.items():
        f = f"{attr}={value}"
        cg, ig = _rate(st.global_attrs, f)
        glob = (cg + m * base) / (ig + m)
        cc, ic = _rate(st.attrs, f)
        means.append((cc + m * glob) / (ic + m))
    prior = float(np.mean(means)) if means else base
    ak = arm_key(arm)
    ca, ia = _rate(st.arms, ak)
    cs, is_ = _rate(st.segment, ak)
    out_c, out_i = max(0, ca - cs), max(0, ia - is_)
    camp = (out_c + m * prior) / (out_i + m)
    k = min(m + out_i, MAX_PRIOR_STRENGTH)
    return k * camp + cs, k * (1 - camp) + max(0, is_ - cs)


# ------------------------------------------------------------------------------ choice

def certain(n: int) -> list[float]:
    """The propensities of a choice made without sampling: candidate 0 of n, with certainty."""
    return [1.0] + [0.0] * (n - 1)


def thompson(st: Stats, groups: list[list[dict]], seed: int) -> list[tuple[int, list[float]]]:
    """Per group of candidate arms: (chosen index, every candidate's propensity), seeded."""
    rng = np.random.default_rng(seed)
    out = []
    for arms in groups:
        ab = np.array([posterior(st, arm) for arm in arms])  # (m, 2)
        draw = rng.beta(ab[:, 0], ab[:, 1])
        chosen = int(np.argmax(draw))
        more = rng.beta(ab[:, 0], ab[:, 1], size=(PROPENSITY_DRAWS, len(arms)))
        wins = np.bincount(np.argmax(more, axis=1), minlength=len(arms)) / PROPENSITY_DRAWS
        # never 0 for the chosen one (it was drawn): the estimate's floor is one draw in PROPENSITY_DRAWS
        props = [round(float(max(w, 1.0 / PROPENSITY_DRAWS) if i == chosen else w), 4) for i, w in enumerate(wins)]
        out.append((chosen, props))
    return out


# ------------------------------------------------------------------------------ reports

def wilson(clicks: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a rate."""
    if n <= 0:
        return 0.0, 1.0
    p = clicks / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def _rates(counts: dict, prefix: str) -> dict:
    """Impressions, clicks, conversions, CTR and its 95 % interval of one arm or attribute value."""
    c, i = _rate(counts, prefix)
    lo, hi = wilson(c, i)
    return {"impressions": i, "clicks": c, "conversions": counts.get(f"{prefix}|conversion", 0),
            "ctr": round(c / i, 6) if i else 0.0, "ctr_low": round(lo, 6), "ctr_high": round(hi, 6)}


def report(campaign: str, st: Stats, draws: int = PROPENSITY_DRAWS) -> dict:
    """GET /performance: totals, per arm (CTR, 95 % interval, probability of being best), per attribute."""
    totals = {"impressions": st.totals.get("impression", 0), "clicks": st.totals.get("click", 0),
              "conversions": st.totals.get("conversion", 0)}
    keys = sorted({f.split("|")[0] for f in st.arms} | set(st.arm_defs))
    rows = [{"arm": st.arm_defs.get(ak, {"key": ak}), "arm_key": ak, **_rates(st.arms, ak)} for ak in keys]
    if rows:
        rng = np.random.default_rng(0)
        a = np.array([1 + r["clicks"] for r in rows], float)
        b = np.array([1 + max(0, r["impressions"] - r["clicks"]) for r in rows], float)
        best = np.argmax(rng.beta(a, b, size=(draws, len(rows))), axis=1)
        for j, r in enumerate(rows):
            r["p_best"] = round(float(np.mean(best == j)), 4)
    rows.sort(key=lambda r: (-r["p_best"], -r["impressions"]))
    attrs: dict[str, list] = {}
    for f in sorted({f.split("|")[0] for f in st.attrs}):
        attr, value = f.split("=", 1)
        attrs.setdefault(attr, []).append({"value": value, **_rates(st.attrs, f)})
    return {"campaign": campaign, "totals": totals, "arms": rows, "attributes": attrs}
