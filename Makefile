# AgnusAI control plane. `make dev` runs everything locally; `make test` runs every check.
.PHONY: dev stop test build bench lint-infra emulator migrate clean help

help:
	@echo "make dev        emulator + resources + every HTTP route on http://127.0.0.1:3000 (Ctrl-C stops)"
	@echo "make test       fmt, clippy, cfn-lint, unit, black-box and smoke tests"
	@echo "make stop       stop a running 'make dev' and the emulator"
	@echo "make build      release bootstraps for Lambda (arm64) in target/lambda/<fn>/bootstrap"
	@echo "make lint-infra cfn-lint + checkov on infra/"
	@echo "make bench      criterion benchmarks, Node peer baseline, cold starts (BENCHMARKS.md)"
	@echo "make emulator   start only the AWS emulator (moto) on 127.0.0.1:4566 and provision it"
	@echo "make migrate DATABASE_URL=postgres://… [DRY_RUN=1]  upgrade a single-tenant install into the running make dev"

dev:
	@scripts/dev.sh

stop:
	@scripts/stop.sh

test:
	@scripts/test.sh

build:
	@scripts/build.sh

lint-infra:
	@scripts/lint-infra.sh

bench:
	@scripts/bench.sh

emulator:
	@localstack/start.sh
	@. localstack/config.sh && "$$AGNUS_VENV/bin/python" localstack/provision.py

migrate:
	@scripts/migrate.sh

clean: stop
	rm -rf .local
