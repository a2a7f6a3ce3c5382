# Two commands do all setup on a fresh machine:  `make run`  and  `make test`.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
HOME_DIR ?= $(CURDIR)/.litassist
# A CPU build of torch lies in /opt/wheels on our machines; elsewhere pip/uv pick the platform's build.
FIND_LINKS := $(shell test -d /opt/wheels && echo --find-links /opt/wheels)
TORCH := torch==2.13.0
QUESTION ?= How does HER2 affect CXCR4?
FOLLOW_UP ?= And what happens to its degradation?
PORT ?= 7860

.PHONY: setup run ask test screenshot clean

$(VENV)/.installed: pyproject.toml
	@command -v uv >/dev/null || python3 -m pip install -q uv
	@test -x $(PY) || uv venv -q $(VENV) -p python3
	# torch is pinned in the same command, so no resolver step can pull a CUDA build.
	uv pip install -q --python $(PY) $(FIND_LINKS) $(TORCH) -e ".[dev,llm]"
	@touch $@

setup: $(VENV)/.installed

run: setup  ## index the bundled example corpus and serve the UI on http://127.0.0.1:7860
	$(VENV)/bin/litassist --home $(HOME_DIR) ingest examples/corpus
	$(VENV)/bin/litassist --home $(HOME_DIR) serve --port $(PORT)

ask: setup  ## the same corpus, one answer on the command line
	$(VENV)/bin/litassist --home $(HOME_DIR) ingest examples/corpus
	$(VENV)/bin/litassist --home $(HOME_DIR) ask "$(QUESTION)"

test: setup  ## the whole test suite, offline
	$(PY) -m pytest -q

screenshot: setup  ## regenerate docs/screenshot.png (needs Debian chromium at /usr/bin/chromium)
	PYTHONPATH=$(CURDIR) $(PY) tests/ui_screenshot.py --home $(HOME_DIR) --question "$(QUESTION)" --follow-up "$(FOLLOW_UP)" --out docs/screenshot.png

clean:
	rm -rf $(HOME_DIR) .pytest_cache
