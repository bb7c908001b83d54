"""The phrase bank's data (service/compose/phrases/<lang>.json) is package data: the wheel carries
every file, and the copy bank reads them through importlib.resources, so the bank loads from the
installed package, even from the wheel itself on sys.path (a zip: no file paths to open there)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from service.compose import copybank

ROOT = Path(__file__).resolve().parents[2]
PHRASE_FILES = sorted((ROOT / "service" / "compose" / "phrases").glob("*.json"))


def _bank_texts(bank) -> dict:
    return {lang: {role: [[p.id, p.template, sorted(p.needs)] for p in pats] for role, pats in roles.items()}
            for lang, roles in bank.items()}


def test_one_file_per_bank_language():
    assert [p.stem for p in PHRASE_FILES] == sorted(copybank.LANGUAGES)
    for path in PHRASE_FILES:
        assert copybank.load_phrases(path.stem) == json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built (as `pip install .` builds it) from a copy of its sources."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "service", src / "service", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return next((tmp / "dist").glob("adloom-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_every_phrase_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert PHRASE_FILES
    for path in PHRASE_FILES:
        assert f"service/compose/phrases/{path.name}" in names, f"{path.name} is not package data"


@pytest.mark.slow
def test_the_bank_loads_from_the_wheel_through_importlib_resources(wheel):
    probe = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from service.compose import copybank;"
        "assert copybank.__file__.startswith(sys.argv[1]), copybank.__file__;"
        "print(json.dumps({l: {r: [[p.id, p.template, sorted(p.needs)] for p in ps] for r, ps in rs.items()}"
        " for l, rs in copybank.BANK.items()}))"
    )
    r = subprocess.run([sys.executable, "-I", "-c", probe, str(wheel)], cwd=wheel.parent, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout) == _bank_texts(copybank.BANK)
