# Developer and CI entry points.  See docs/testing.md.
#   make test                         everything CI runs (bootstrap, API check, sanity, units, integration on 1.6 and 2.x)
#   make sanity | make units          one stage (after bootstrap and a fresh copy of the collection)
#   make integration CONTAINERD=2 [TARGETS="name ..."]
#   make demo                         playbooks/demo.yml against a private containerd 1.6
#   make bench [CONTAINERD=2] [BENCH="info lifecycle cp"]   benchmarks (docs/performance.md)
#   make clean                        remove .tmp/ (collection copy, containerd 2.x cache) and test output

SHELL := /bin/bash
CONTAINERD ?= 1.6
TARGETS ?=
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: test bootstrap api sanity units integration demo bench clean distclean

test:
	scripts/run-tests

bootstrap:
	scripts/bootstrap

api: bootstrap
	python tools/api/gen_api.py --check

sanity:
	scripts/run-tests bootstrap copy sanity

units:
	scripts/run-tests bootstrap copy units

integration:
	TARGETS="$(TARGETS)" scripts/run-tests bootstrap copy integration-$(CONTAINERD)

demo: bootstrap
	ANSIBLE_LOCALHOST_WARNING=false scripts/with-containerd 1.6 -- \
		ansible-playbook -i localhost, -e ansible_python_interpreter=$(CURDIR)/.venv/bin/python playbooks/demo.yml

# Benchmarks against shelling out to ctr, in the same run (docs/performance.md records the figures).
bench: bootstrap
	scripts/with-containerd $(CONTAINERD) -- python scripts/bench.py --json .tmp/bench-$(CONTAINERD).json $(BENCH)

clean:
	rm -rf .tmp tests/output

distclean: clean
	rm -rf .venv
