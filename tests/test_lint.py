"""`make lint` in the test run: ruff over the code with the rules in pyproject.toml."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        if os.environ.get("CI"):
            pytest.fail("ruff is missing: it comes with the test extra (pip install -e '.[test]')")
        pytest.skip("ruff not installed")
    out = subprocess.run([ruff, "check", "--no-cache", "models", "service", "bench", "tests"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
