# mcpmesh developer commands. `make help` lists them.
SHELL := /bin/bash
# The Go toolchain every build and test uses (go.mod names it too): Go 1.26 releases reach
# known standard-library vulnerabilities that 1.27.3 fixes (make vulncheck).
export GOTOOLCHAIN := go1.27.3
.DEFAULT_GOAL := help

# Every Go module of the workspace, in dependency order.
MODULES := gen sdk/provider services/kit services/registry services/everything services/federation \
	services/session services/transport services/health services/gateway tools cmd/mcpmesh examples deploy
BUF := node_modules/@bufbuild/buf-linux-x64/bin/buf
# The test service of the gRPC source: its descriptor set, with comments, is built from
# these sources by make generate.
SHOP_PROTO := services/federation/internal/grpcsource/testdata/proto
GOLANGCI_LINT_VERSION := v2.15.0
GOBIN_DIR := $(CURDIR)/bin
GOLANGCI_LINT := $(GOBIN_DIR)/golangci-lint
# Fuzz time per target: short in make test, longer in make fuzz.
FUZZTIME ?= 5s
# make bench: concurrent sessions and seconds per measured run.
BENCH_C ?= 1000
BENCH_D ?= 10s
# make bench: servers on CPU 0, the generator on CPU 1, as the targets are set
# (BENCH_PIN= runs unpinned, e.g. on one CPU).
BENCH_PIN ?= -pin

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The TypeScript SDK clients (v1 and v2) and Node 22 of the interop tests (cmd/mcpmesh/e2e/interop_ts_test.go, oauthmtls_test.go).
INTEROP_CLIENT := tools/interop/node_modules/.package-lock.json

.PHONY: tools
tools: $(BUF) $(GOLANGCI_LINT) $(INTEROP_CLIENT) ## Install the pinned buf (npm), golangci-lint and the interop test's TypeScript SDK; the protoc plugins build on first use (tools/go.mod).

$(BUF): package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $(BUF)

$(INTEROP_CLIENT): tools/interop/package.json tools/interop/package-lock.json
	cd tools/interop && npm ci --no-audit --no-fund --loglevel=error
	@touch $(INTEROP_CLIENT)

.PHONY: generate
generate: $(BUF) ## Regenerate gen/ from proto/ (byte for byte reproducible).
	rm -rf gen/mcpmesh gen/openapi/*.swagger.json
	$(BUF) generate
	$(BUF) build $(SHOP_PROTO) -o services/federation/internal/grpcsource/shoptest/shop.binpb
	cd gen && GOWORK=off go mod tidy

# The build stamp (see VERSIONING.md). Taken from git, so it works where VCS stamping is
# off (GOFLAGS=-buildvcs=false): the nearest v* tag (v1.2.3, v1.2.3-4-gabcdef012345),
# else v0.0.0-dev+<commit>; "-dirty" when the work tree has changes. The date is the
# commit's, in UTC, never the time of the build.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty --abbrev=12 2>/dev/null || echo "v0.0.0-dev+$$(git describe --always --dirty --abbrev=12 2>/dev/null)")
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
COMMIT_DATE ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
# Reproducible: no cgo, no local paths (-trimpath), no build id, no VCS stamp from the
# toolchain (the ldflags carry it), so the same commit gives the same bytes anywhere.
GO_BUILD := CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags '-buildid= -X main.buildVersion=$(VERSION) -X main.commit=$(COMMIT) -X main.commitDate=$(COMMIT_DATE)'

.PHONY: build
build: ## Build bin/mcpmesh, stamped with version, commit and commit date, reproducibly.
	$(GO_BUILD) -o bin/mcpmesh ./cmd/mcpmesh

.PHONY: reproducible
reproducible: ## Build HEAD twice (two fresh clones, two folders, two times, a cold build cache) and compare the sha256.
	tools/release/reproducible.sh

# make image: the release image without a container engine (deploy/cmd/mkimage), from
# the same runtime configuration as deploy/Dockerfile.
# VERSION, COMMIT and COMMIT_DATE: the build stamp above.
IMAGE ?= mcpmesh:$(VERSION)

.PHONY: image
image: ## Build the image without Docker: deploy/.build/oci (OCI layout) and deploy/.build/mcpmesh.tar (docker load).
	mkdir -p deploy/.build
	cd cmd/mcpmesh && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.buildVersion=$(VERSION) -X main.commit=$(COMMIT) -X main.commitDate=$(COMMIT_DATE)" -o ../../deploy/.build/mcpmesh .
	cd deploy && GOWORK=off go run ./cmd/mkimage -binary .build/mcpmesh -dockerfile Dockerfile -version $(VERSION) \
		-name $(IMAGE) -oci-layout .build/oci -tarball .build/mcpmesh.tar

.PHONY: manifests
manifests: ## Render deploy/kubernetes/mcpmesh.yaml from the Helm chart (deploy/kubernetes/values.yaml).
	cd deploy && GOWORK=off go run ./cmd/manifests

# Release tools pinned in tools/release/go.mod (a module of its own, outside go.work:
# GoReleaser and cosign bring some 450 modules that would otherwise lift the versions the
# server is built with in workspace mode).
RELEASE_TOOLS := $(GOBIN_DIR)/goreleaser $(GOBIN_DIR)/cosign $(GOBIN_DIR)/actionlint

.PHONY: release-tools
release-tools: $(RELEASE_TOOLS) ## Build GoReleaser, cosign and actionlint (tools/release/go.mod) into bin/.

$(RELEASE_TOOLS) &: tools/release/go.mod tools/release/go.sum
	cd tools/release && GOWORK=off GOBIN=$(GOBIN_DIR) go install tool
	@touch $(RELEASE_TOOLS)

.PHONY: release-snapshot
release-snapshot: $(RELEASE_TOOLS) ## GoReleaser snapshot into dist/ (archives, linux images, checksums, SBOMs, signed with COSIGN_KEY or a throwaway key); nothing is published.
	PATH="$(GOBIN_DIR):$$PATH" tools/release/snapshot.sh

.PHONY: release-lint
release-lint: ## Lint the workflows with actionlint, check their pins, the release notes and the Alertmanager example (no release tools needed; CI runs it).
	cd tools/release && GOWORK=off go test -count=1 -run 'TestWorkflows|TestDependabot|TestReleaseNotes|TestAlertmanager' ./...

.PHONY: release-test
release-test: $(RELEASE_TOOLS) ## Run the release snapshot and check it: checksums, SBOMs against go version -m, the signature, the images; lint the workflows.
	cd tools/release && PATH="$(GOBIN_DIR):$$PATH" GOWORK=off go test -count=1 -timeout=30m ./...

.PHONY: run
run: build ## Start the whole mesh in one process on 127.0.0.1:8080 (more flags: make run ARGS='-gateway.listen=127.0.0.1:8081 -grpc.listen=127.0.0.1:9091').
	./bin/mcpmesh -target=all $(ARGS)

.PHONY: test
test: ## Run every module's tests (each with GOWORK=off), a short fuzz of each fuzz target, and govulncheck offline.
	@set -e; for m in $(MODULES); do \
		echo "== go test $$m"; \
		(cd $$m && GOWORK=off go test -count=1 -timeout=15m ./...); \
	done
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)
	@$(MAKE) --no-print-directory vulncheck

# govulncheck and the vulnerability database are pinned in tools/vulncheck/go.mod (a
# module of its own, outside go.work: golang.org/x/vulndb brings many modules). The
# database is built offline from vulndb's OSV entries into .cache/vulndb; set
# VULNCHECK_DB=https://vuln.go.dev for the live one. Source mode over cmd/mcpmesh covers
# every package the binary ships (it imports every service); govulncheck fails on any
# vulnerability the code can reach. It is built by the same Go as the code it checks.
VULNDB_DIR := $(CURDIR)/.cache/vulndb
VULNCHECK_DB ?= file://$(VULNDB_DIR)
VULNCHECK_MODULES := cmd/mcpmesh
GOVULNCHECK := $(GOBIN_DIR)/govulncheck

.PHONY: vulncheck
vulncheck: ## Fail on any known vulnerability the shipped code reaches (offline database from the pinned vulndb).
	cd tools/vulncheck && GOWORK=off go build -o $(GOVULNCHECK) golang.org/x/vuln/cmd/govulncheck
	@if [[ "$(VULNCHECK_DB)" == "file://$(VULNDB_DIR)" ]]; then cd tools/vulncheck && GOWORK=off go run ./builddb -out $(VULNDB_DIR); fi
	@set -e; for m in $(VULNCHECK_MODULES); do \
		echo "== govulncheck $$m ($(VULNCHECK_DB))"; \
		(cd $$m && GOWORK=off $(GOVULNCHECK) -db $(VULNCHECK_DB) ./...); \
	done

# A fuzz run is tried up to three times: the Go fuzzing coordinator sometimes ends a
# time-bounded run with a bare "context deadline exceeded" while shutting its workers
# down. A real crasher is written to testdata/fuzz first, so every retry replays it and
# fails again.
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 5s; try FUZZTIME=2m).
	@set -e; for m in $(MODULES); do \
		(cd $$m && GOWORK=off go test -list='^Fuzz' ./... 2>/dev/null | grep -E '^(Fuzz|ok)' | \
		awk '/^Fuzz/ {f[n++]=$$1} /^ok/ {for (i=0;i<n;i++) print $$2, f[i]; n=0}') | \
		while read -r pkg target; do \
			echo "== fuzz $$pkg $$target ($(FUZZTIME))"; \
			(cd $$m && for attempt in 1 2 3; do \
				GOWORK=off go test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg && exit 0; \
				[ $$attempt = 3 ] && exit 1; \
				echo "== fuzz $$target failed; running it again (a crasher found is saved under testdata/fuzz and fails again)"; \
			done); \
		done; \
	done

CONFORMANCE_SUITE := tools/conformance/node_modules/.package-lock.json

.PHONY: conformance
conformance: build go-sdk-everything $(CONFORMANCE_SUITE) ## Run the official MCP conformance suites (0.1.16 and 0.2.0-alpha.12) against six processes, -target=all, two replicas on PostgreSQL, and the Go SDK's fixtures server behind the federation (HTTP stateful, HTTP stateless, stdio) against the same server directly in the mode each mirrors.
	tools/conformance/run.sh

# The official Go SDK's conformance fixtures server, at the version tools/go.mod pins
# (GOWORK=off: the workspace could lift it), upstream of the federated conformance layouts.
.PHONY: go-sdk-everything
go-sdk-everything: ## Build bin/go-sdk-everything, the Go SDK's conformance everything-server.
	cd tools && GOWORK=off go build -o $(GOBIN_DIR)/go-sdk-everything github.com/modelcontextprotocol/go-sdk/conformance/everything-server

$(CONFORMANCE_SUITE): tools/conformance/package.json tools/conformance/package-lock.json
	cd tools/conformance && npm ci --no-audit --no-fund --loglevel=error
	@touch $(CONFORMANCE_SUITE)

.PHONY: lint
lint: $(BUF) $(GOLANGCI_LINT) ## buf lint and format check, go vet, golangci-lint.
	$(BUF) lint
	$(BUF) format --exit-code -d
	@# --allow-parallel-runners: another checkout linting on the same machine waits for
	@# golangci-lint's lock instead of failing this run.
	@set -e; for m in $(filter-out gen,$(MODULES)); do \
		echo "== vet/lint $$m"; \
		(cd $$m && GOWORK=off go vet ./... && GOWORK=off $(GOLANGCI_LINT) run --allow-parallel-runners --config $(CURDIR)/.golangci.yml ./...); \
	done

$(GOLANGCI_LINT):
	GOBIN=$(GOBIN_DIR) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: breaking
breaking: $(BUF) ## Check proto changes against the main branch (skipped without a local main).
	@if git rev-parse --verify -q main >/dev/null; then \
		$(BUF) breaking --against '.git#branch=main'; \
	else echo "no local main branch: skipping buf breaking"; fi

.PHONY: check-generated
check-generated: generate ## Fail when gen/ differs from what make generate produces.
	git add -N gen && git diff --exit-code -- gen

.PHONY: bench
bench: build bin/mcpmesh-bench ## Measure throughput, latency and memory against a bare net/http ceiling; then the PostgreSQL-backed layouts (throwaway cluster).
	./bin/mcpmesh-bench -c $(BENCH_C) -d $(BENCH_D) $(BENCH_PIN) -binary ./bin/mcpmesh
	@# PostgreSQL-backed layouts: fewer sessions and a shorter window keep make bench within
	@# about 3 minutes on 2 cores; all runs again at the same load, for the store's cost.
	@# A throwaway cluster from the local PostgreSQL binaries unless BENCH_DATABASE_URL is set.
	./bin/mcpmesh-bench -c $${BENCH_PG_C:-200} -d $${BENCH_PG_D:-5s} -layouts ceiling,all,all-pg,replicas-pg \
		-idle-sessions 0 -get-streams 0 -binary ./bin/mcpmesh -database-url "$${BENCH_DATABASE_URL:-}"

.PHONY: perfguard
perfguard: ## Count the instructions of one tools/call through -target=all under callgrind; fail above the baseline (tools/perfguard/baseline.txt) + 10%.
	tools/perfguard/perfguard.sh

.PHONY: perfguard-auth
perfguard-auth: ## Count the instructions of one tools/call with and without an API key: what authentication adds.
	tools/perfguard/perfguard.sh -auth

.PHONY: perfguard-six perfguard-all
perfguard-six: build bin/mcpmesh-bench ## Count the instructions of one tools/call across the six processes of the six layout under load (BINARIES to compare builds).
	tools/perfguard/layout.sh six $(BINARIES)

perfguard-all: build bin/mcpmesh-bench ## Count the instructions of one tools/call in -target=all under load (BINARIES to compare builds).
	tools/perfguard/layout.sh all $(BINARIES)

.PHONY: perfguard-update
perfguard-update: ## Write the instruction count of one tools/call as the new perfguard baseline.
	tools/perfguard/perfguard.sh -update

# The load generator is test tooling: it lives in the tools module, not in the server.
.PHONY: bin/mcpmesh-bench
bin/mcpmesh-bench:
	go build -o bin/mcpmesh-bench ./tools/cmd/mcpmesh-bench

# make dr-drill: sessions the disaster-recovery drill creates through the API.
DR_SESSIONS ?= 10000

.PHONY: dr-drill
dr-drill: ## Disaster-recovery drill: fill a throwaway PostgreSQL through the API, pg_dump -Fc, drop, pg_restore, check; prints dump/restore times.
	cd cmd/mcpmesh && MCPMESH_CI=1 MCPMESH_DR_SESSIONS=$(DR_SESSIONS) GOWORK=off \
		go test -count=1 -timeout=10m -run '^TestDisasterRecoveryDrill$$' -v ./e2e/

.PHONY: print-modules
print-modules: ## Print the Go modules of the workspace (for scripts).
	@echo $(MODULES)

.PHONY: tidy
tidy: ## go mod tidy in every module.
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off go mod tidy); done
