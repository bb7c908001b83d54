"""The frozen multilingual evaluation set: recall (CIEDE2000 by role) and distractor precision per language,
and the English set unchanged by the other languages."""
import hashlib
from collections import Counter

import pytest

from service.understanding.evaluate import PROMPTS, evaluate, load_prompts
from service.understanding.evaluate_i18n import PROMPTS_I18N, ROLES, by_language
from service.understanding.i18n import LANGS

FROZEN_SHA256 = "ce590f571a5f54944e2aa8d92510523e0407aa9d461921c333abd7cf1438bea0"


def test_the_set_is_frozen_and_complete():
    assert hashlib.sha256(PROMPTS_I18N.read_bytes()).hexdigest() == FROZEN_SHA256, \
        "eval/prompts_i18n.jsonl changed: the set is frozen; add a new file instead of editing it"
    prompts = load_prompts(PROMPTS_I18N)
    english = {p["id"]: p for p in load_prompts(PROMPTS)}
    kinds = Counter((p["lang"], p["kind"]) for p in prompts)
    for lang in LANGS:
        translated = [p for p in prompts if p["lang"] == lang and p["id"] in english]
        assert len(translated) == 60, lang
        assert all(p["expect"] == english[p["id"]]["expect"] for p in translated), lang  # the English expectations
        assert kinds[(lang, "distractor")] >= 8 and kinds[(lang, "product")] == 3, lang


@pytest.fixture(scope="module")
def scores():
    return by_language()


@pytest.mark.parametrize("lang", LANGS)
def test_recall_by_role(scores, lang):
    s = scores[lang]
    for role in ROLES:
        assert s.median(role) <= 5.0, (lang, role, s.report.fails)
    assert s.hit_rate() >= 0.85, s.report.fails


@pytest.mark.parametrize("lang", LANGS)
def test_distractor_precision(scores, lang):
    r = scores[lang].report
    assert r.distractors >= 8 and r.precision >= 0.95, r.fails


@pytest.mark.parametrize("lang", LANGS)
def test_negations(scores, lang):
    r = scores[lang].report
    assert r.negations >= 7 and r.negations_ok >= r.negations - 1, r.fails


def test_english_table_unchanged():
    """Every English expectation exact (ΔE00 0) and no distractor coloured, as before the other languages."""
    r = evaluate()
    assert all(max(v) == 0.0 for v in r.errors.values()), r.fails
    assert r.precision == 1.0 and r.negations_ok == r.negations, r.fails
