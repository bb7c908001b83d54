"""What an event counts towards: campaign and segment names, creative ids, arm keys, and the
Redis hashes (and fields) each event increments.

Every counter lives in a Redis hash under ``adloom:fb`` (the in-process store uses the same names):

- ``adloom:fb:c:<campaign>:tot``           event -> n                the campaign's totals
- ``adloom:fb:c:<campaign>:arm``           "armkey|event" -> n       per arm
- ``adloom:fb:c:<campaign>:s:<segment>:arm`` "armkey|event" -> n     per segment x arm
- ``adloom:fb:c:<campaign>:attr``          "attr=value|event" -> n   per attribute value
- ``adloom:fb:c:<campaign>:arms``          armkey -> arm JSON        the arms' definitions
- ``adloom:fb:g:tot``, ``adloom:fb:g:attr`` the same totals and attribute counts over all campaigns
- ``adloom:fb:id:<creative_id>``           CreativeInfo JSON         what a creative id counts towards
- ``adloom:fb:idem:<key>``                 a batch's idempotency key (claimed once)

``<campaign>`` and ``<key>`` are hashes (``_key``): caller text is never a key.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from service.cache import normalise_text

PREFIX = "adloom:fb"


def campaign_of(campaign: str | None, title: str) -> str:
    """The campaign name events group under: the caller's, else one derived from the product title."""
    if campaign:
        return campaign
    return "title-" + hashlib.sha256(normalise_text(title).encode()).hexdigest()[:12]


def segment_of(interests: list[str]) -> str:
    """A hash of the normalised, sorted interests ("all" without any): the interests themselves
    are personal data and never stored."""
    if not interests:
        return "all"
    joined = "\n".join(sorted({normalise_text(i).casefold() for i in interests}))  # "Yoga" = "yoga"
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def arm_key(arm: dict) -> str:
    return hashlib.sha256(json.dumps(arm, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def creative_id(request_digest: str, size: str, variant: int, seed: int, models: dict) -> str:
    """Opaque and stable: the same request content, size, variant (seed) and models -> the same id."""
    doc = json.dumps([request_digest, size, variant, seed, sorted(models.items())], separators=(",", ":"))
    return "cr_" + hashlib.sha256(doc.encode()).hexdigest()[:24]


# ------------------------------------------------------------------------------ key names

def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def campaign_key(campaign: str) -> str:
    """The prefix of a campaign's hashes."""
    return f"{PREFIX}:c:{_key(campaign)}"


def totals_key(campaign: str) -> str:
    """The Redis hash of a campaign's event totals (impression, click, conversion -> count)."""
    return f"{campaign_key(campaign)}:tot"


def arm_defs_key(campaign: str) -> str:
    """The Redis hash of a campaign's arms: arm key -> arm (JSON)."""
    return f"{campaign_key(campaign)}:arms"


def id_key(cid: str) -> str:
    """The Redis string holding a creative id's CreativeInfo."""
    return f"{PREFIX}:id:{cid}"


def idempotency_key(idem: str) -> str:
    """The Redis key a batch's idempotency key is claimed under."""
    return f"{PREFIX}:idem:{_key(idem)}"


def stat_keys(campaign: str, segment: str | None) -> list[str]:
    """The hashes one choice or report reads, in the order of ``Stats``' fields."""
    c = campaign_key(campaign)
    return [f"{c}:tot", f"{c}:arm", f"{c}:s:{segment or '-'}:arm", f"{c}:attr", f"{PREFIX}:g:attr",
            f"{PREFIX}:g:tot", f"{c}:arms"]


# ------------------------------------------------------------------------------ what is counted

@dataclass(frozen=True)
class CreativeInfo:
    """What an event on a creative counts towards."""

    campaign: str
    segment: str
    arm: dict

    def to_json(self) -> str:
        return json.dumps({"c": self.campaign, "s": self.segment, "a": self.arm}, ensure_ascii=False,
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> "CreativeInfo":
        d = json.loads(raw)
        return cls(d["c"], d["s"], d["a"])


def increments(info: CreativeInfo, event: str, n: int) -> list[tuple[str, str, int]]:
    """(hash, field, +n) for one event on a creative: totals, arm, segment x arm, attributes, global."""
    c = campaign_key(info.campaign)
    ak = arm_key(info.arm)
    out = [(f"{c}:tot", event, n), (f"{c}:arm", f"{ak}|{event}", n),
           (f"{c}:s:{info.segment}:arm", f"{ak}|{event}", n), (f"{PREFIX}:g:tot", event, n)]
    for attr, value in sorted(info.arm.items()):
        field = f"{attr}={value}|{event}"
        out += [(f"{c}:attr", field, n), (f"{PREFIX}:g:attr", field, n)]
    return out
