# AgnusAI control plane. `make dev` runs everything locally; `make test` runs every check.
.PHONY: dev stop test test-localstack test-llm build bench lint-infra emulator clean help deploy destroy deploy-check migrate

help:
	@echo "make dev        emulator + resources + every HTTP route on http://127.0.0.1:3000 (Ctrl-C stops)"
	@echo "make test       fmt, structure check, clippy, cfn-lint, unit, black-box and smoke tests"
	@echo "make test-localstack  intake, pipeline, review and mail black-box suites against LocalStack (host process, no Docker)"
	@echo "make test-llm   a pull request reviewed end to end by a real local model (llama-server + SmolLM2-135M; builds it once, ~10 min)"
	@echo "make stop       stop a running 'make dev' and the emulator"
	@echo "make build      release bootstraps for Lambda (arm64) in target/lambda/<fn>/bootstrap"
	@echo "make lint-infra cfn-lint + checkov on infra/"
	@echo "make bench      criterion benchmarks, Node peer baseline, cold starts (BENCHMARKS.md)"
	@echo "make emulator   start only the AWS emulator (moto; AGNUS_EMULATOR=localstack: LocalStack) on 127.0.0.1:4566 and provision it"
	@echo "make deploy     build + deploy to AWS with SAM (first run asks, then repeats from samconfig.toml; GUIDED=1 asks again)"
	@echo "make destroy    delete the deployed stack, keeping table, KMS key and bucket (DELETE_DATA=1 removes them)"
	@echo "make deploy-check URL=https://…  post-deploy smoke test: signup -> org -> signed delivery -> 202 -> job"
	@echo "make migrate DATABASE_URL=postgres://… [DRY_RUN=1]  upgrade a single-tenant install into the running make dev"

dev:
	@scripts/dev.sh

stop:
	@scripts/stop.sh

test:
	@scripts/test.sh

test-localstack:
	@scripts/test-localstack.sh

test-llm:
	@scripts/llm-test.sh

build:
	@scripts/build.sh

# cfn-lint + checkov, then `sam validate --lint` (the SAM CLI is ~2 min to install on first
# use, so `make test` runs only the first two).
lint-infra:
	@scripts/lint-infra.sh
	@scripts/sam.sh validate --lint --template infra/template.yaml --region us-east-1

deploy:
	@scripts/deploy.sh

destroy:
	@scripts/destroy.sh

deploy-check:
	@test -n "$(URL)" || { echo "usage: make deploy-check URL=https://<api-id>.execute-api.<region>.amazonaws.com" >&2; exit 2; }
	@python3 scripts/deploy_check.py "$(URL)"

bench:
	@scripts/bench.sh

emulator:
	@localstack/venv.sh
	@localstack/start.sh
	@. localstack/config.sh && "$$AGNUS_VENV/bin/python" localstack/provision.py

migrate:
	@scripts/migrate.sh

clean: stop
	rm -rf .local
