# Thin front to scripts/: every target is one script call. `make` alone prints help.
# Compose is v2 (`docker compose`; scripts/prerequisites.sh installs it), and the images
# are official or built offline (OFFLINE=1/0 forces; see scripts/stack-env.sh).

.DEFAULT_GOAL := help
SHELL := bash

# Every target is a command, none is a file. Targets run one after another,
# even under -j: `test` is test-static, then test-e2e.
.PHONY: help start-project stop-project reload-gateway redeploy experiment-report test test-static test-e2e \
	test-browser test-resilience bench-resilience nix-static logs status certs credentials train \
	bench bench-reference images-offline nginx-test test-loopback clean-mode
.NOTPARALLEL:

help: ## show this help
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

start-project: ## certs + credentials if missing, model, images, start, wait healthy, print URLs
	scripts/start-project.sh

stop-project: ## stop and remove the containers (volumes are kept)
	scripts/compose.sh down --remove-orphans

reload-gateway: ## apply new gateway parameters live, e.g. AB_V2_PERCENT=30 make reload-gateway
	scripts/reload-gateway.sh

redeploy: ## replace the API replicas with new containers (current image and config), no request lost
	scripts/redeploy.sh

experiment-report: ## the A/B readout from Prometheus, v2 against v1 (ARGS="--window 24h --json")
	cargo run --release -q -p experiment-report -- $(ARGS)

test: test-static test-e2e ## the static checks, then the e2e suite on real services

test-static: ## fmt, clippy, cargo test, nginx -t, promtool, shellcheck + ruff, .env.example
	scripts/test-static.sh

test-e2e: ## the e2e suite on the loopback harness, then on the stack with the browser test (started if not running)
	scripts/test-e2e.sh

test-browser: ## the landing page in headless Chromium (starts the stack if it is not running)
	scripts/on-stack.sh scripts/browser-test.sh

test-resilience: ## slow suite: failover, rolling restart, rollout, reload, reconciliation, hostile input, TLS, secrets
	tests/resilience/on-stack.sh python3 tests/resilience/run.py

bench-resilience: ## gateway benchmark through TLS + auth; figures into tests/resilience/RESULTS.md
	tests/resilience/on-stack.sh python3 tests/resilience/bench.py

nix-static: ## the Nix checks that need no nixpkgs (parse, nixpkgs-fmt, deadnix, flake.lock)
	nix/check-static.sh

logs: ## follow the logs of every service
	scripts/compose.sh logs -f --tail=100

status: ## containers and their health
	scripts/compose.sh ps

certs: ## generate the self-signed TLS certificate in secrets/ if missing
	scripts/certs.sh secrets

credentials: ## generate the basic-auth credentials in secrets/ if missing
	scripts/credentials.sh secrets

train: ## train the champion into model/ and the challenger into model/challenger/
	scripts/train.sh

bench: ## replica benchmark (scripts/bench/replica.sh)
	scripts/bench/replica.sh

bench-reference: ## one Rust replica against the Python reference (1 and N uvicorn workers), same run (bench/compare.sh)
	bench/compare.sh

images-offline: ## build the offline images (no registry needed)
	scripts/offline-images.sh

nginx-test: ## nginx -t of the gateway config with the host nginx
	scripts/nginx-test.sh

test-loopback: ## the e2e suite on the whole topology as host processes on loopback (no containers)
	python3 tests/harness/loopback.py

clean-mode: ## forget the official/offline decision (build/stack-mode)
	rm -f build/stack-mode
