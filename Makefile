# Two commands on a fresh machine:
#   make app    install what the app needs into .venv and open it with an example project
#   make test   install the app and its test tools into .venv and run the whole suite
#   make torch  add torch to .venv, so the PyTorch export's tests run instead of skipping
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

# The CPU build CI uses (.ci/run); torch is an optional extra, never a base dependency.
TORCH ?= torch==2.13.0

.PHONY: app test bench torch

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

torch: $(STAMP)
	$(VENV)/bin/pip install --quiet '$(TORCH)'

app: $(STAMP)
	$(VENV)/bin/playground

test: $(STAMP)
	QT_QPA_PLATFORM=$${QT_QPA_PLATFORM:-offscreen} $(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python bench/engine.py
	$(VENV)/bin/python bench/ui.py
