# Leadbot. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := $(PY) -m rasa

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.venv/.installed: requirements.lock scripts/setup-venv.sh
	@bash scripts/setup-venv.sh

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility audit in tests/browser will be skipped"; fi

setup: .venv/.installed node_modules/.installed ## make .venv (Python 3.10) with the pinned dependencies, and axe-core (npm) for the browser tests

train: setup ## train the model, only if data, domain or config changed
	@$(PY) -m bot model ensure

db: setup ## create or migrate the database (DATABASE_URL)
	@$(PY) -m bot db upgrade

run: setup ## set up on first use, then start the Rasa server, the action server and the web process (:8080)
	@$(PY) -m bot serve

run-prod: setup train ## the production layout on this machine's PostgreSQL, Redis and RabbitMQ: 2 Rasa replicas and 2 action servers behind HAProxy, web, 2 workers
	@bash scripts/ensure-haproxy.sh
	@$(PY) -m bot serve --production --no-train

validate: setup ## check training data, domain and stories (rasa data validate)
	@$(PY) scripts/validate_data.py

lint: setup ## ruff
	@$(PY) -m ruff check bot actions rasa_ext tests scripts

nlu-eval: train nlu-cv ## NLU evaluation: nlu-cv, then the held-out phrasings; reports in reports/nlu/
	@$(PY) scripts/nlu_eval.py

nlu-cv: setup ## 5-fold stratified cross-validation of config.yml over data/nlu (~6 min); report in reports/nlu/cross-validation.md
	@$(PY) scripts/nlu_cv.py

stories: train ## rasa test stories (tests/test_stories.yml); fails on any wrong prediction
	@$(PY) scripts/test_stories.py

simulate: train ## 320 generated whole conversations against a fresh stack; report in reports/conversations.md
	@$(PY) -m tests.conversations.simulate --count 320 --report reports/conversations.md

bench: train ## latency, throughput, capacity against bare Rasa in the same run; bench/results.json, plots in reports/
	@$(PY) scripts/bench.py --train

drills: train ## the production layout under load and faults (kill -9, restarts, outages); reports/drills.md
	@bash scripts/ensure-haproxy.sh
	@$(PY) scripts/drills.py

profile: train ## py-spy on the Rasa and action servers during a loaded qualification; reports/profile.json
	@$(PY) scripts/profile.py

bench-worker: setup ## outbox deliveries per second to a local SMTP server; bench/worker_results.json
	@$(PY) scripts/bench_worker.py

lock: ## re-resolve requirements.in into requirements.lock
	@.venv/bin/uv pip compile --quiet --python-version 3.10 requirements.in -o requirements.lock

test: setup train lint validate ## run every test: pytest (unit, actions, end-to-end), stories, NLU eval
	@$(PY) -m pytest
	@$(PY) scripts/test_stories.py
	@$(PY) scripts/nlu_eval.py

.PHONY: help setup train db run run-prod validate lint nlu-eval nlu-cv stories simulate bench profile drills bench-worker lock test
