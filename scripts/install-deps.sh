#!/usr/bin/env bash
# Makes sure the system libraries the build links against are present: the MySQL client
# library (diesel's `mysql` backend) and pkg-config. SQLite is compiled in (bundled).
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust with rustup (https://rustup.rs), then re-run." >&2
  exit 1
fi

have_mysqlclient() {
  command -v pkg-config >/dev/null 2>&1 &&
    { pkg-config --exists mysqlclient 2>/dev/null || pkg-config --exists libmariadb 2>/dev/null; }
}

have_mysqlclient && exit 0

packages="pkg-config default-libmysqlclient-dev"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo ">> installing $packages (needed to build the MySQL backend)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $packages >/dev/null
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo ">> installing $packages with sudo (needed to build the MySQL backend)"
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
else
  echo "The MySQL client library is missing. Install it, then re-run:" >&2
  echo "  Debian/Ubuntu: apt-get install $packages" >&2
  echo "  Fedora:        dnf install pkgconf mariadb-connector-c-devel" >&2
  echo "  macOS:         brew install pkg-config mysql-client" >&2
  exit 1
fi
have_mysqlclient || { echo "pkg-config still finds no mysqlclient/libmariadb" >&2; exit 1; }
