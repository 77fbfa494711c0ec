#!/usr/bin/env bash
# Runs the whole test suite. The MySQL/MariaDB tests need a server at
# $SERVICEUSAGE_TEST_MYSQL_URL; without one they are skipped and listed loudly at the end,
# unless SERVICEUSAGE_REQUIRE_MYSQL=1 (CI), which turns an unreachable server into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${SERVICEUSAGE_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
hostport="${url#mysql://}"
hostport="${hostport#*@}"
hostport="${hostport%%/*}"
host="${hostport%%:*}"
port="${hostport##*:}"
[ "$port" = "$host" ] && port=3306

if timeout 3 bash -c "</dev/tcp/$host/$port" 2>/dev/null; then
  mysql_up=1
  echo ">> MariaDB/MySQL reachable at $host:$port: the MySQL tests will run"
else
  mysql_up=0
  if [ "${SERVICEUSAGE_REQUIRE_MYSQL:-0}" = "1" ]; then
    echo "!! SERVICEUSAGE_REQUIRE_MYSQL=1 but nothing listens at $host:$port ($url)" >&2
    exit 1
  fi
fi

# The black-box tests start the real binary: build it first.
cargo build --bin serviceusage
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace 2>&1 | tee "$log" || status=$?
read -r passed failed < <(awk '/^test result:/ {
    for (i = 1; i < NF; i++) {
      if ($(i + 1) ~ /^passed/) p += $i
      if ($(i + 1) ~ /^failed/) f += $i
    }
  } END { print p + 0, f + 0 }' "$log")

if [ "$mysql_up" = "0" ]; then
  skipped=$(cargo test --workspace -q -- --list 2>/dev/null | grep -E '(^|::)mysql_[A-Za-z0-9_]*: test' | sed 's/: test$//' || true)
  count=$(printf '%s\n' "$skipped" | grep -c . || true)
  echo
  echo "######################################################################"
  echo "## WARNING: MariaDB/MySQL was NOT reachable at $host:$port"
  echo "## $count MySQL tests were SKIPPED (they passed without checking anything):"
  printf '%s\n' "$skipped" | sed 's/^/##   /'
  echo "## Start MariaDB (or set SERVICEUSAGE_TEST_MYSQL_URL) and re-run make test."
  echo "######################################################################"
fi

# One closing line for the whole run (cargo's own last line is a doc-test run of one crate).
if [ "$mysql_up" = "0" ]; then
  echo "tests: $((passed - count)) passed, ${failed} failed, ${count} skipped"
else
  echo "tests: ${passed} passed, ${failed} failed"
fi
exit "$status"
