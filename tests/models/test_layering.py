"""The package layering the code relies on: models/scene (the scene format, its decoding,
geometry, rasterizers) depends on nothing above it, and models/ never imports the service."""
from __future__ import annotations

import ast
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_models_scene_imports_nothing_above_it():
    for f in sorted((MODELS / "scene").glob("*.py")):
        above = {m for m in _imports(f) if m.startswith("models") and not m.startswith("models.scene")}
        assert not above, f"{f.name} imports {sorted(above)}"


def test_models_never_import_the_service():
    for f in sorted(MODELS.rglob("*.py")):
        service = {m for m in _imports(f) if m == "service" or m.startswith("service.")}
        assert not service, f"{f.relative_to(MODELS)} imports {sorted(service)}"
