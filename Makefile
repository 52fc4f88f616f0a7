# Berth: `make run` and `make test` work on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
APT_PACKAGES := runc conmon nftables tini busybox-static libseccomp-dev golang-github-containers-common containernetworking-plugins iptables iproute2 xz-utils bzip2 ca-certificates
TEST_PACKAGES := docker.io skopeo docker-registry apache2-utils git openssl
HOST ?= unix:///run/berth/berth.sock
BERTH := bin/berth -H $(HOST)

.PHONY: setup deps test-deps npm build run stop test test-unit bench clean

setup: deps npm build

# Installs the Debian packages Berth needs, only when one is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The reference engine and tools the test suite compares against. docker.io's
# service must not start: policy-rc.d tells the package scripts to leave it alone.
test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; rc=$$?; \
	  rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

npm: node_modules/.installed

build: npm
	npm run build --silent

# Starts berthd with its defaults (unless one already answers), makes the
# offline base images, and runs a container.
run: setup
	@if ! $(BERTH) version >/dev/null 2>&1; then \
	  mkdir -p /var/log; \
	  nohup bin/berthd --pidfile /run/berth/berthd.pid >/var/log/berthd.log 2>&1 & \
	  for i in $$(seq 1 50); do $(BERTH) version >/dev/null 2>&1 && break; sleep 0.2; done; \
	  echo "berthd started (log: /var/log/berthd.log)"; \
	fi
	$(BERTH) bootstrap
	$(BERTH) run --rm hello-world

stop:
	@if [ -f /run/berth/berthd.pid ]; then kill -TERM "$$(cat /run/berth/berthd.pid)" 2>/dev/null || true; fi

test: setup test-deps
	npm test --silent

bench: setup test-deps
	node dist/bench/images.js
	node dist/bench/containers.js
	node dist/bench/registry.js
	node dist/bench/pull.js
	node dist/bench/network.js
	node dist/bench/build.js

clean:
	rm -rf dist native/build
