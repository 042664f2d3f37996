# voicebot: the two commands of README.md are `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup run test check bench lint lock clean

setup:                       ## install system and Python packages, migrate and seed the database
	scripts/setup.sh

run: setup                   ## the line: a SIP worker and the web console (browser phone); `voicebot chat` for text
	$(BIN)/voicebot up

test: setup                  ## lint, then the whole test suite
	$(BIN)/ruff check voicebot tests bench
	$(BIN)/pytest

check:                       ## lint, types, and the fast tier: every test that needs no model, server, browser or real time
	$(BIN)/ruff check voicebot tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -m "not (slow or sip or browser or cluster or postgres)"

bench:                       ## print NLU and speech figures (ARGS=--train also times NLU training from scratch)
	$(BIN)/python bench/nlu_bench.py $(ARGS)
	$(BIN)/python bench/speech_bench.py

lint:
	$(BIN)/ruff check voicebot tests bench

lock:                        ## re-freeze the resolved Python packages into requirements/lock.txt
	( echo "# Resolved set of every Python package in .venv (pip freeze), used as constraints by scripts/setup.sh."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^voicebot' ) > requirements/lock.txt

clean:
	rm -rf var .pytest_cache .ruff_cache
