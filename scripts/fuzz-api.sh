#!/usr/bin/env bash
# `make fuzz-api`: Schemathesis against the real binary, driven by the service's own
# OpenAPI document. A fresh SQLite database and the demo configuration; every operation,
# every check (no 5xx, responses and status codes and content types as documented, bad
# input rejected, good input accepted, auth not ignored), the stateful phase following the
# document's links (create → get, cancel, usages); once as a project member, once as an
# admin. Bounded: FUZZ_SECONDS per caller (default 110), so the whole run stays under five
# minutes. A failure prints the curl that reproduces it.
#
# FUZZ_SEED fixes the generator's seed (default 1, so CI runs are repeatable); set it empty
# for a fresh seed each run when hunting.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="${FUZZ_VENV:-target/fuzz-venv}"
seconds="${FUZZ_SECONDS:-110}"
seed="${FUZZ_SEED-1}"
bin="${SERVICEUSAGE_BIN:-target/debug/serviceusage}"

# Hypothesis trips over a CPython 3.11 bug ("AST constructor recursion depth mismatch") while
# describing its strategies: prefer a newer Python where the machine has one. A candidate must
# run, not merely be on the PATH: pyenv's shims exist for every installed version but fail for
# those that are not selected.
python=
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[23]*/bin/python3 python3.13 python3.12 python3; do
  if "$candidate" -c 'import venv' >/dev/null 2>&1; then
    python=$candidate
    break
  fi
done
[ -n "$python" ] || { echo "!! no working python3 found for Schemathesis" >&2; exit 1; }

if [ ! -x "$venv/bin/schemathesis" ] ||
  [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo ">> installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

[ -n "${SERVICEUSAGE_BIN:-}" ] || cargo build -q --bin serviceusage

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The demo configuration (config/demo.toml) on a fresh database, with money enough for every create the
# fuzzer makes.
cat >"$work/fuzz.toml" <<EOF
[server]
bind = "127.0.0.1:0"

[database]
url = "sqlite://$work/fuzz.db"

[renewal]
enabled = false

[[ledger.opening_balances]]
project = "demo"
amount = "100000000.00"
EOF

SERVICEUSAGE_CONFIG="config/demo.toml:$work/fuzz.toml" "$bin" serve >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^serviceusage listening on //p' "$work/stdout" | head -n1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "!! the service did not start:" >&2
  cat "$work/stderr" >&2
  exit 1
fi
echo ">> fuzzing $url (schemathesis $SCHEMATHESIS_VERSION, ${seconds}s per caller, seed ${seed:-random})"

status=0
for caller in demo-token admin-token; do
  echo ">> as the bearer of $caller"
  args=(--config-file tests/fuzz/schemathesis.toml run "$url/openapi.json" --url "$url"
    --checks all
    --phases examples,coverage,fuzzing,stateful
    --max-time "$seconds"
    --workers 2
    --request-timeout 10
    --suppress-health-check too_slow,filter_too_much
    --header "Authorization: Bearer $caller")
  [ -n "$seed" ] && args+=(--seed "$seed")
  "$venv/bin/schemathesis" "${args[@]}" || status=$?
done

if grep -q "panicked" "$work/stderr"; then
  echo "!! the service panicked while fuzzed:" >&2
  grep -B2 -A5 "panicked" "$work/stderr" >&2
  status=1
fi
exit "$status"
