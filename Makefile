# adloom — the two commands: `make serve` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
# Where torch comes from. Empty: the configured pip index (here it serves the CPU wheel). On a host
# whose index would give the CUDA build, use: make TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
# What `make serve` itself needs from Debian: the libraries skia-python links (it draws on the CPU).
RUNTIME_PACKAGES ?= libegl1 libgl1
# Debian packages the service and tests need (fonts for typography, tesseract for OCR tests, Chromium for
# the demo page and the SVG-export check); gimp-data's palettes and gradients feed the training corpus.
APT_PACKAGES ?= fonts-dejavu-core fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji tesseract-ocr redis-server prometheus docker-compose chromium gimp-data $(RUNTIME_PACKAGES)

.PHONY: venv sysdeps runtime-deps serve typecheck test bench train eval lint soak clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==$(TORCH_VERSION) $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(BIN)/pip install -q -e '.[test]'
	# fpng (fast PNG) is a C++ build: without a compiler the service falls back to Pillow's zlib.
	$(BIN)/pip install -q -e '.[fast]' || echo "fpng-py could not be built; PNGs are encoded by Pillow"
	touch $@

venv: $(BIN)/.installed

sysdeps runtime-deps: PKGS = $(if $(filter runtime-deps,$@),$(RUNTIME_PACKAGES),$(APT_PACKAGES))
sysdeps runtime-deps:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

serve: venv runtime-deps
	$(BIN)/adloom serve --host 0.0.0.0 --port 8000

# The type check runs first: CI enforces it as it enforces the tests.
typecheck: venv
	$(BIN)/mypy

test: venv sysdeps typecheck
	@redis-cli -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --port 6379 --save "" --appendonly no
	$(BIN)/python -m pytest -q -ra

# The bench extra adds Ray Serve, the peer it compares with (falls back to a naive FastAPI peer if Ray cannot start).
bench: venv
	$(BIN)/pip install -q -e '.[bench]' || echo "bench: could not install the bench extra (Ray Serve); the peer falls back to naive FastAPI"
	$(BIN)/python -m bench
	$(BIN)/python -m bench bandit --impressions 100000 --out bench
	$(BIN)/python -m bench jobs

# The theme judge (frozen, corpus renders only) first when it is missing, then the scene generator
# and critic (about 35 minutes on a 2-core CPU; CUDA when present).
train: venv sysdeps
	@[ -f models/checkpoints/theme-judge.safetensors ] || $(BIN)/python -m models.judge
	$(BIN)/python -m models.train --data synthetic --out models/checkpoints/adloom-base

# 10 minutes of steady load on a real server + Redis (not in CI); ADLOOM_SOAK_S=120 shortens it.
soak: venv
	$(BIN)/python -m tests.reliability.soak

# The model alone (models.evaluate), then colours through the whole path: parser, generator with its
# palette input, the scene's correction, the serving rasterizer (service.understanding.scene_eval).
eval: venv
	$(BIN)/python -m models.evaluate models/checkpoints/adloom-base
	$(BIN)/python -m service.understanding.scene_eval

lint: venv typecheck
	$(BIN)/ruff check models service bench tests
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) .pytest_cache
