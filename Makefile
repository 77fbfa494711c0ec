# serviceusage — the commands a newcomer needs. `make run` and `make test` work on a fresh
# Debian machine: missing system libraries are installed (as root) or named (otherwise).

CARGO ?= cargo
# Where the MySQL/MariaDB tests find a server (each test creates and drops its own database).
SERVICEUSAGE_TEST_MYSQL_URL ?= mysql://root@127.0.0.1:3306
export SERVICEUSAGE_TEST_MYSQL_URL

.PHONY: run test lint fmt build deps check-deps clean help bench bench-renewal bench-renewal-charged bench-api release-bin test-crash fuzz-api

help:
	@echo "make run    build and start the service on the embedded SQLite default, with the demo users"
	@echo "make test   unit, integration (SQLite + MariaDB when reachable) and black-box tests"
	@echo "make lint   rustfmt check, clippy -D warnings, rustdoc -D warnings, dependency rule"
	@echo "make fmt    format the code"
	@echo "make fuzz-api  Schemathesis against the binary's OpenAPI document (about 4 minutes)"
	@echo "make test-crash  SIGKILLs MariaDB mid-renewal and under creating clients (not in make test)"
	@echo "make bench  every benchmark (bench-renewal, bench-renewal-charged, bench-api)"
	@echo "make bench-renewal [N=100000]  renewal throughput on MariaDB vs the raw-SQL ceiling"
	@echo "make bench-renewal-charged [N=100000]  renewal through a fake charge service (5 ms)"
	@echo "make bench-api [QUICK=1]  the HTTP API under load on MariaDB and SQLite (~15 min; QUICK=1 ~3 min)"

# The demo's users and money (config/demo.toml) are layered over config/default.toml here
# only; files of your own in SERVICEUSAGE_CONFIG come after it.
run: deps
	$(CARGO) build --bin serviceusage
	SERVICEUSAGE_CONFIG=config/demo.toml$(if $(SERVICEUSAGE_CONFIG),:$(SERVICEUSAGE_CONFIG)) \
		./target/debug/serviceusage serve

build: deps
	$(CARGO) build --workspace --all-targets

test: deps
	@scripts/test.sh

# The docs must build without a warning (a broken link fails), the domain's as docs.rs
# shows them (with its `testing` fixtures).
lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -p serviceusage-domain --no-deps --features testing
	@scripts/check-dependency-rule.sh

fmt:
	$(CARGO) fmt --all

deps:
	@scripts/install-deps.sh

# Schemathesis (installed into target/fuzz-venv) against the real binary on a fresh SQLite
# database: every operation, every check, as a member and as an admin, about 4 minutes.
fuzz-api: deps
	$(CARGO) build --bin serviceusage
	@scripts/fuzz-api.sh

# Kills and restarts the MariaDB at 127.0.0.1:3306 mid-renewal and under creating clients
# (the `mysql_crash_` tests, one at a time, showing what each saw): never alongside other
# tests.
test-crash: deps
	$(CARGO) build -p api --bin serviceusage
	SERVICEUSAGE_TEST_KILL_MARIADB=1 $(CARGO) test -p blackbox-tests --test api -- \
		--ignored --test-threads=1 --nocapture mysql_crash_

# Due orders the renewal benchmarks seed (not part of `make test`).
N ?= 100000
# Where cargo puts the release binary (CARGO_TARGET_DIR is honoured, relative or not).
RELEASE_BIN = $(abspath $(or $(CARGO_TARGET_DIR),target))/release/serviceusage

bench: bench-renewal bench-renewal-charged bench-api

release-bin: deps
	$(CARGO) build --release -p api --bin serviceusage

# Orders the local ledger keeps: the service next to the raw-SQL ceiling of its statements.
bench-renewal: release-bin
	SERVICEUSAGE_BIN=$(RELEASE_BIN) SERVICEUSAGE_BENCH_ORDERS=$(N) \
		$(CARGO) bench -p blackbox-tests --bench renewal

# Orders a charge service keeps: recording and settling through a fake answering in 5 ms.
bench-renewal-charged: release-bin
	SERVICEUSAGE_BIN=$(RELEASE_BIN) SERVICEUSAGE_BENCH_ORDERS=$(N) \
		$(CARGO) bench -p blackbox-tests --bench renewal_charged

# The API under load (tests/benches/api.rs). QUICK=1: 1 s warm-up, 3 s measured, a big
# project of 20,000 orders, for a smoke run; the SERVICEUSAGE_BENCH_* variables it sets may
# also be given one by one (see docs/benchmarks.md).
ifeq ($(QUICK),1)
bench-api: export SERVICEUSAGE_BENCH_WARMUP ?= 1
bench-api: export SERVICEUSAGE_BENCH_SECONDS ?= 3
bench-api: export SERVICEUSAGE_BENCH_BIG ?= 20000
endif
bench-api: release-bin
	SERVICEUSAGE_BIN=$(RELEASE_BIN) $(CARGO) bench -p blackbox-tests --bench api

clean:
	$(CARGO) clean
