# Two commands do everything on a fresh Debian machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser library's type check and lint (package.json, package-lock.json).
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test lint unit integration browser rootfs image bench-exchange screenshots
ROOTFS := build/rootfs-arm64
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

$(STAMP): pyproject.toml deploy/apt-packages.txt
	sh deploy/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json $(STAMP)
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

demo: setup
	$(BIN)/intercom demo

lint: setup
	$(BIN)/ruff check intercom tests
	$(BIN)/mypy
	node_modules/.bin/tsc -p .
	node_modules/.bin/eslint intercom/web
	$(BIN)/lint-imports --no-cache

unit: setup
	scripts/in-loopback-netns $(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: setup
	scripts/in-loopback-netns $(BIN)/pytest tests/integration $(PYTEST_ARGS)

# The appliance's arm64 root file system, from Debian's archive and PyPI (downloads, so it is
# built before the tests, outside their loopback-only namespace).
rootfs: setup
	$(SUDO) env PYTHON=$(BIN)/python deploy/image/build-rootfs.sh $(ROOTFS)

# An SD-card image (Debian kernel and Pi 4 firmware included).
image: setup
	$(SUDO) env PYTHON=$(BIN)/python deploy/image/build-rootfs.sh build/rootfs-boot --bootable
	$(SUDO) deploy/image/assemble-image.sh build/rootfs-boot build/intercom.img

test: lint rootfs
	scripts/in-loopback-netns $(BIN)/pytest $(PYTEST_ARGS)

browser: setup
	scripts/in-loopback-netns $(BIN)/pytest tests/browser $(PYTEST_ARGS)

# The pictures of the web app in docs/screenshots (Chromium against the demo's parts).
screenshots: setup
	scripts/in-loopback-netns $(BIN)/python scripts/screenshots.py docs/screenshots

bench-exchange: setup
	scripts/in-loopback-netns $(BIN)/intercom bench exchange
