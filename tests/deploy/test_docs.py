"""docs/DEPLOY.md stays true to the files it describes."""
from __future__ import annotations

import re

from .conftest import ROOT, load_yaml

DOC = ROOT / "docs/DEPLOY.md"


def test_every_path_it_names_exists():
    text = DOC.read_text()
    paths = set(re.findall(r"`((?:deploy|tests/deploy|docs)/[\w./{},-]+)`", text))
    assert paths
    for path in paths:
        for expanded in _braces(path):
            assert (ROOT / expanded.rstrip("/")).exists(), f"docs/DEPLOY.md names {expanded}, which does not exist"


def _braces(path: str) -> list[str]:
    m = re.search(r"\{([^}]*)\}", path)
    if not m:
        return [path]
    return [x for alt in m.group(1).split(",") for x in _braces(path[: m.start()] + alt + path[m.end():])]


def test_images_and_timings_match_the_files():
    text = DOC.read_text()
    compose = load_yaml("docker-compose.yml")
    for name in ("redis", "prometheus", "grafana"):
        assert f"`{compose['services'][name]['image']}`" in text, f"{name} image version out of date in the doc"
    deployment = load_yaml("deploy/k8s/base/deployment.yaml")
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert f"terminationGracePeriodSeconds: {grace}" in text
    assert f"stop_grace_period: {compose['x-adloom']['stop_grace_period']}" in text
