# Tandem's build. `make run` starts the all-in-one dev server; `make test`
# runs every test. Both install the pinned tools they need into .tools/bin.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
TOOLS        := $(CURDIR)/.tools/bin
export PATH  := $(TOOLS):$(PATH)
MODULE       := github.com/tandem-oss/tandem
GO_TEST_FLAGS ?= -count=1 -timeout 20m

# Pinned tool versions (the module proxy's @latest is not reliable).
BUF_VERSION                  := v1.75.0
PROTOC_GEN_GO_VERSION        := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION   := v1.6.2
GRPC_GATEWAY_VERSION         := v2.32.0
GRPCURL_VERSION              := v1.9.4
STATICCHECK_VERSION          := v0.8.2
HELM_VERSION                 := v3.22.0
KO_VERSION                   := v0.19.1
GHZ_VERSION                  := v0.121.0
# helm's release build stamps its version and the Kubernetes version it
# renders and lints for (Capabilities.KubeVersion, deprecated APIs); a plain
# `go install` would leave v1.20.
HELM_K8S_MINOR               := 37
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR)

SERVICES     := gateway participant matching scheduling evaluation
# Where `make images` and `make images-ko` tag and push the images.
IMAGE_REPO   ?= ghcr.io/tandem-oss/tandem
IMAGE_TAG    ?= dev

.PHONY: run test tools gen check-gen lint vet fmt build ci clean chart-check images-check images images-ko bench-matching e2e reliability

## run: start Tandem (all services, embedded NATS and SQLite) on 127.0.0.1
run:
	go run ./cmd/tandem dev $(ARGS)

## test: run every test of every module (server-backed suites skip with a
## message when a server is missing, and fail under CI=true)
test: $(TOOLS)/helm
	@.ci/servers || echo "NOTE: the suites that need an unreachable server will SKIP (under CI=true they FAIL)"
	go test $(GO_TEST_FLAGS) $(MODULE)/...

## build: build the CLI and the five service binaries into bin/
build:
	mkdir -p bin
	go build -o bin/tandem ./cmd/tandem
	for s in participant matching scheduling evaluation gateway; do go build -o bin/$$s ./services/$$s; done

## e2e: the end-to-end suite alone (test/e2e, short sizes, as in `make
## test`): the five service binaries as separate processes against the
## machine's PostgreSQL, Redis and NATS; the journey, the analytics consumer
## and the fault tests, each printing its FIGURE lines
e2e:
	@.ci/servers || echo "NOTE: the e2e suite needs PostgreSQL, Redis and NATS on 127.0.0.1 (it SKIPs without them; under CI=true it FAILs)"
	go test $(GO_TEST_FLAGS) -v $(MODULE)/test/e2e/...

## reliability: the full end-to-end battery (docs/reliability.md): 10,000
## enrolments per kill test, a one-minute Redis outage and load figures with
## ghz; prints every FIGURE
reliability: $(TOOLS)/ghz
	@.ci/servers
	TANDEM_E2E_FULL=1 TANDEM_GHZ=$(TOOLS)/ghz go test -count=1 -timeout 60m -v $(MODULE)/test/e2e/...

## chart-check: the offline Kubernetes checks (test/chart): helm lint
## --strict and helm template of charts/tandem with default and production
## values, strict decoding against the API types, Pod Security "restricted",
## probes, limits, PDBs, default-deny NetworkPolicy, the values schema, the
## kustomize overlays, and that every check fails on a broken copy; plus
## images-check
chart-check: $(TOOLS)/helm
	go test $(GO_TEST_FLAGS) $(MODULE)/test/chart/...

## images-check: what can be verified of the images without a Docker engine:
## .ko.yaml and build/*Dockerfile, and every binary built with the images'
## flags (CGO_ENABLED=0) is a static ELF executable
images-check:
	go test $(GO_TEST_FLAGS) -run 'TestKoConfig|TestDockerfiles|TestImageBinariesAreStatic|TestDynamicLinkingIsDetected' $(MODULE)/test/chart/...

## images: build the service and CLI images with Docker (needs a Docker
## engine with BuildKit; not run in CI): IMAGE_REPO=… IMAGE_TAG=… make images
images:
	for s in $(SERVICES); do docker build -f build/Dockerfile --build-arg SERVICE=$$s -t $(IMAGE_REPO)/$$s:$(IMAGE_TAG) .; done
	docker build -f build/cli.Dockerfile -t $(IMAGE_REPO)/tandem:$(IMAGE_TAG) .

## images-ko: build and push multi-arch images with ko (.ko.yaml; needs
## registry access, no Docker engine): IMAGE_REPO=… IMAGE_TAG=… make images-ko
images-ko: $(TOOLS)/ko
	KO_DOCKER_REPO=$(IMAGE_REPO) ko build -B --tags $(IMAGE_TAG) $(addprefix ./services/,$(SERVICES)) ./cmd/tandem

## bench-matching: the matching solver against scipy's linear_sum_assignment
## on the same seeded matrices (uniform and scored), 10,000 mentees × 5,000
## mentors of capacity 2 and 1,000 × 1,000 of capacity 1; needs Debian's
## python3-scipy for /usr/bin/python3 (docs/benchmarks.md has the figures)
bench-matching:
	@/usr/bin/python3 -c 'import scipy' 2>/dev/null || { echo "sudo apt-get install python3-scipy"; exit 1; }
	mkdir -p bin
	go build -o bin/tandem ./cmd/tandem
	bin/tandem bench assign --kind all --mentees 10000 --mentors 5000 --capacity 2
	bin/tandem bench assign --kind all --mentees 1000 --mentors 1000 --capacity 1

$(TOOLS)/buf:
	GOBIN=$(TOOLS) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
$(TOOLS)/protoc-gen-grpc-gateway:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/protoc-gen-openapiv2:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/grpcurl:
	GOBIN=$(TOOLS) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
$(TOOLS)/helm:
	GOBIN=$(TOOLS) go install -trimpath -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
$(TOOLS)/ko:
	GOBIN=$(TOOLS) go install github.com/google/ko@$(KO_VERSION)
$(TOOLS)/ghz:
	GOBIN=$(TOOLS) go install github.com/bojand/ghz/cmd/ghz@$(GHZ_VERSION)

GEN_TOOLS := $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc $(TOOLS)/protoc-gen-grpc-gateway $(TOOLS)/protoc-gen-openapiv2

## tools: install every pinned tool
tools: $(GEN_TOOLS) $(TOOLS)/grpcurl $(TOOLS)/staticcheck $(TOOLS)/helm

## gen: regenerate gen/go and gen/openapi from proto/
gen: $(GEN_TOOLS)
	find gen/go/tandem -name '*.go' -delete
	rm -f gen/openapi/*.json
	buf generate

## check-gen: fail when the committed generated code differs from proto/
check-gen: gen
	@if [ -n "$$(git status --porcelain -- gen)" ]; then \
		echo "generated code is out of date; run 'make gen' and commit:"; git status --porcelain -- gen; git diff --stat -- gen; exit 1; fi
	@echo "generated code is up to date"

## lint: buf format and lint, gofmt, go vet, staticcheck
lint: $(TOOLS)/buf $(TOOLS)/staticcheck
	buf format proto --diff --exit-code
	buf lint
	@unformatted=$$(gofmt -l cmd pkg services test 2>/dev/null || true); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet $(MODULE)/...
	staticcheck $(MODULE)/...

## fmt: format Go and proto sources
fmt: $(TOOLS)/buf
	gofmt -w cmd pkg services test
	buf format -w

## ci: everything CI checks (CI=true makes missing servers fail, not skip)
ci: lint check-gen
	CI=true $(MAKE) test

clean:
	rm -rf bin .tools
