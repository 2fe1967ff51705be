# Worktogether: `make run` starts a server on 127.0.0.1:8080 with its data in
# ./data; `make test` runs every test (the browser test inside a private
# network namespace, so nothing leaves the machine).
GO        ?= go
ARGS      ?=
PKGS       = $(shell $(GO) list ./... | grep -v /e2e)
ARTIFACTS ?= $(CURDIR)/artifacts

.PHONY: run build test check unit e2e bench clean

run:
	$(GO) run ./cmd/worktogether -addr 127.0.0.1:8080 -data ./data -demo $(ARGS)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o worktogether ./cmd/worktogether

test: check unit e2e

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 $(PKGS)

# Built outside the namespace (it may fetch modules), run inside it.
# axe-core (npm) checks accessibility in the browser test; it is installed
# under .e2e/ once.
AXE = .e2e/node_modules/axe-core/axe.min.js

e2e:
	$(GO) test -c -race -o .e2e/e2e.test ./e2e
	@test -f $(AXE) || npm install --prefix .e2e --no-audit --no-fund --no-save axe-core@~4.14.0 >/dev/null 2>&1 || echo "axe-core not installed: accessibility not checked"
	mkdir -p $(ARTIFACTS)
	WT_AXE=$(CURDIR)/$(AXE) WT_ARTIFACTS=$(ARTIFACTS) unshare -n sh -c 'ip link set lo up && exec ./.e2e/e2e.test -test.v -test.count=1 -test.timeout=300s'

# Not part of `make test`: a few minutes of load on this machine, inside a
# private network namespace. Prints one table; record it in docs/performance.md.
bench:
	mkdir -p .bench
	CGO_ENABLED=0 $(GO) build -o .bench/worktogether ./cmd/worktogether
	CGO_ENABLED=0 $(GO) build -o .bench/wtload ./cmd/wtload
	$(GO) test -c -o .bench/sfu.test ./sfu
	unshare -n sh cmd/wtload/bench.sh .bench/worktogether .bench/wtload $(CURDIR)/.bench/sfu.test

clean:
	rm -rf .e2e .bench artifacts worktogether
