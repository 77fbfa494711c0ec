#!/usr/bin/env bash
# Proves the hexagonal dependency rule instead of trusting review: the domain crate must not
# pull in a database, web, HTTP-client, runtime, configuration or metrics crate (the adapters
# and the api emit metrics; the domain reports what happened in its return values).
set -euo pipefail
cd "$(dirname "$0")/.."

forbidden='^(diesel|diesel_migrations|actix-web|actix-rt|reqwest|hyper|tokio|r2d2|config|mysqlclient-sys|libsqlite3-sys|metrics|metrics-exporter-prometheus)$'
# Its own line, so a failing `cargo tree` (a renamed package) fails the check, not passes it.
tree=$(cargo tree -p serviceusage-domain -e normal --prefix none --format '{p}')
found=$(printf '%s\n' "$tree" | awk '{print $1}' | grep -Ex "$forbidden" | sort -u || true)
if [ -n "$found" ]; then
  echo "!! crates/domain depends on: $found (the domain must stay free of IO and framework crates)" >&2
  exit 1
fi
echo ">> dependency rule holds: domain depends on no IO or framework crate"
