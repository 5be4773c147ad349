# One entry point for readers, contributors and CI. Every target creates the virtual
# environment first if it is missing or older than the pinned requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Kernels come from this environment only, whatever else the machine has installed.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYTHONHASHSEED := 0
# Single-threaded BLAS makes printed round-off identical from run to run, so strict nbval
# compares like with like; the chapters are small enough not to miss the second core.
DETERMINISTIC := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))

.PHONY: help install test unit notebooks build book pdf execute lab bench experiments mutation clean

help:
	@echo "make book     set up .venv, build the HTML book into _build/html"
	@echo "make test     set up .venv, run unit tests, strict nbval, hygiene checks and the -W build"
	@echo "make pdf      build the whole book as one PDF through LaTeX (needs TeX) and print its path"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make execute  re-execute every chapter in a fresh kernel and save the outputs (and the indexes)"
	@echo "make bench    run the speed benchmarks (ratios against baselines measured in the same run)"
	@echo "make experiments  re-run chapter 9's race (about 15 minutes) and rewrite book/data/race.json"
	@echo "make mutation mutation-test natgrad with mutmut (long: see tests/MUTATION.md); not part of make test"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Development tools (mutmut) on top of the book's pins.
DEV_STAMP := $(VENV)/.installed-dev
$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

unit: $(STAMP)
	$(BIN)/python -m pytest tests

notebooks: $(STAMP)
	$(DETERMINISTIC) $(BIN)/python -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg book

build: $(STAMP)
	$(DETERMINISTIC) $(BIN)/jupyter-book build . --all -W -n --keep-going

# The book must build with no warning first (the site and browser checks read _build/html),
# then the PDF (skipped with a message where TeX is missing, except in CI; tests/test_pdf.py
# checks it); then unit tests, notebook hygiene, site checks and strict nbval run as one
# pytest session, so its closing line counts every test.
test: $(STAMP)
	$(DETERMINISTIC) $(BIN)/jupyter-book build . --all -W -n --keep-going
	$(DETERMINISTIC) $(BIN)/python scripts/build_pdf.py --optional
	$(DETERMINISTIC) $(BIN)/python -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg tests book

book: build
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# LaTeX build (-W), then xelatex through latexmk; copies the PDF into _build/html if built.
pdf: $(STAMP)
	$(DETERMINISTIC) $(BIN)/python scripts/build_pdf.py

execute: $(STAMP)
	$(DETERMINISTIC) $(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)
	$(BIN)/python scripts/exercise_index.py
	$(BIN)/python scripts/reading_time.py

lab: $(STAMP)
	$(BIN)/jupyter lab book

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Chapter 9's race: every method tuned on the same budget, the winners on five fresh seeds.
# Single-threaded BLAS (reproducible to the last digit, which tests/test_experiments.py
# checks) and low priority on a shared machine; progress on stderr.
experiments: $(STAMP)
	$(DETERMINISTIC) nice -n 10 $(BIN)/python experiments/race.py

# Mutation testing of every natgrad module against the unit tests ([tool.mutmut] in
# pyproject.toml), from scratch, one worker, at low priority; then the per-module score,
# with the equivalent mutants listed in tests/MUTATION.md set aside. Fails below 97 %.
mutation: $(DEV_STAMP)
	rm -rf mutants
	start=$$(date +%s); $(DETERMINISTIC) nice -n 10 $(BIN)/mutmut run --max-children 1 && \
		echo "mutmut run took $$(( $$(date +%s) - start )) s"
	$(BIN)/python tests/mutation_report.py

clean:
	rm -rf _build .pytest_cache .hypothesis build *.egg-info mutants
