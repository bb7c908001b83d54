"""service/cli.py: `adloom` help, generate (real models, no server), serve's fail-fast, delegation."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from service import cli
from tests.conftest import CHECKPOINT


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "service.cli", "--help"], capture_output=True, text=True, check=True)
    for word in ("serve", "generate", "train", "bench", "ADLOOM_"):
        assert word in out.stdout


def test_generate_help_documents_its_flags(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["generate", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--title", "--size", "--out", "--price", "--style", "--interests", "--variants", "--seed"):
        assert flag in out


def test_generate_writes_pngs_and_a_report(tmp_path, capsys):
    out = tmp_path / "ads"
    code = cli.main(["generate", "--title", "Linen summer dress", "--price", "39.9", "--currency", "USD",
                     "--style", "navy blue background", "--interests", "yoga, beach", "--size", "medium_rectangle",
                     "--size", "320x50", "--variants", "2", "--seed", "5", "--out", str(out),
                     "--device", "cpu", "--checkpoint", str(CHECKPOINT)])
    assert code == 0
    files = sorted(p.name for p in out.glob("*.png"))
    assert files == ["320x50-v0.png", "320x50-v1.png", "medium_rectangle-v0.png", "medium_rectangle-v1.png"]
    assert Image.open(out / "medium_rectangle-v0.png").size == (300, 250)
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 5 and len(report["creatives"]) == 4
    assert {"overall", "alignment", "realism"} <= set(report["creatives"][0]["scores"])
    # the same front door as the service: ids and arms for click feedback, and the campaign
    assert report["campaign"] and all(c["creative_id"] and c["arm"]["layout"] for c in report["creatives"])
    assert "seed 5" in capsys.readouterr().out


def test_generate_rejects_bad_input_naming_the_field(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["generate", "--title", "x", "--size", "huge", "--out", str(tmp_path)])
    assert e.value.code == 2 and "sizes" in capsys.readouterr().err


def test_serve_fails_fast_on_bad_settings(monkeypatch, capsys):
    monkeypatch.setenv("ADLOOM_MAX_QUEUE", "0")
    monkeypatch.setenv("ADLOOM_CHECKPOINT", str(CHECKPOINT))
    with pytest.raises(SystemExit) as e:
        cli.main(["serve", "--port", "1"])
    assert e.value.code == 2 and "ADLOOM_MAX_QUEUE" in capsys.readouterr().err


def test_train_and_bench_delegate_their_arguments(monkeypatch):
    seen = {}
    import models.train

    monkeypatch.setattr(models.train, "main", lambda argv: seen.setdefault("train", argv))
    assert cli.main(["train", "--steps", "10", "--out", "x"]) == 0
    assert seen["train"] == ["--steps", "10", "--out", "x"]

    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(subprocess, "call", lambda argv: seen.setdefault("bench", argv) and 0)
    assert cli.main(["bench", "--concurrency", "8"]) == 0
    assert seen["bench"][1:] == ["-m", "bench", "--concurrency", "8"]
