#!/usr/bin/env bash
# Installs what Dango needs to build and test, and nothing else:
#  - Debian -dev packages (apt-get), only those missing;
#  - libduckdb.so and duckdb.h from the npm registry, pinned and checked,
#    unpacked into third_party/duckdb/ (git-ignored);
#  - the web page's layout library (dagre) from the npm registry, pinned and
#    checked, into third_party/web/ (git-ignored).
# Idempotent: quiet and fast when everything is already there.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
quiet=${QUIET:-}

# --- Debian packages --------------------------------------------------------
pkgs=(gcc make pkg-config libc6-dev
      libyaml-dev libjansson-dev libcurl4-openssl-dev libedit-dev
      libmicrohttpd-dev libcmocka-dev libpq-dev libmariadb-dev libsqlite3-dev util-linux)
# npm may come from Node's own packages rather than Debian's: ask for it only if absent.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# tests read JSON artifacts with jq; benchmarks time with GNU time and bc
[ "${DANGO_TEST_DEPS:-}" = 1 ] && pkgs+=(jq)
# database sources are tested against real servers the tests start
[ "${DANGO_TEST_DEPS:-}" = 1 ] && pkgs+=(postgresql postgresql-client mariadb-server mariadb-client sqlite3)
# the email source is tested against a real IMAP server (Dovecot) the tests start
[ "${DANGO_TEST_DEPS:-}" = 1 ] && pkgs+=(dovecot-imapd)
# the catalogue's provider imitations (tests/fixtures/provider_api.py): Python's standard library
[ "${DANGO_TEST_DEPS:-}" = 1 ] && ! command -v python3 >/dev/null 2>&1 && pkgs+=(python3)
[ "${DANGO_BENCH_DEPS:-}" = 1 ] && pkgs+=(jq time bc)
# command sources are tested (and benchmarked) with small Singer taps in Python's standard library
[ "${DANGO_TEST_DEPS:-}${DANGO_BENCH_DEPS:-}" != "" ] && pkgs+=(python3)
# the web page's browser tests (tests/browser/) and benchmark drive Debian's Chromium
[ "${DANGO_TEST_DEPS:-}" = 1 ] || [ "${DANGO_BENCH_DEPS:-}" = 1 ] && pkgs+=(chromium)
# `make fuzz`: clang and its libFuzzer/sanitizer runtimes
[ "${DANGO_FUZZ_DEPS:-}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- playwright-core from the npm registry (browser tests) ------------------
# Pinned by version and the sha256 of its tarball; it has no dependencies.
# Unpacked into tests/browser/node_modules/ (git-ignored); it drives
# /usr/bin/chromium and never downloads a browser of its own.
PW_VERSION=1.65.1
PW_SHA256=6f5a60be62a4fddfbe7d10c448d8fbd54547da3358f2f8a04211440471ee863e
pw_dest="$here/tests/browser/node_modules/playwright-core"
if { [ "${DANGO_TEST_DEPS:-}" = 1 ] || [ "${DANGO_BENCH_DEPS:-}" = 1 ]; } \
   && [ "$(cat "$pw_dest/.dango-version" 2>/dev/null)" != "$PW_VERSION" ]; then
    echo "install-deps: fetching playwright-core $PW_VERSION from the npm registry"
    pw_tmp=$(mktemp -d)
    (cd "$pw_tmp" && npm pack --silent "playwright-core@$PW_VERSION" >/dev/null 2>&1) || {
        echo "install-deps: npm pack playwright-core@$PW_VERSION failed" >&2; rm -rf "$pw_tmp"; exit 1; }
    if ! echo "$PW_SHA256  $pw_tmp/playwright-core-$PW_VERSION.tgz" | sha256sum -c --status; then
        echo "install-deps: checksum mismatch for playwright-core-$PW_VERSION.tgz (expected sha256 $PW_SHA256)" >&2
        rm -rf "$pw_tmp"; exit 1
    fi
    rm -rf "$pw_dest"
    mkdir -p "$pw_dest"
    tar -xzf "$pw_tmp/playwright-core-$PW_VERSION.tgz" -C "$pw_dest" --strip-components=1
    echo "$PW_VERSION" >"$pw_dest/.dango-version"
    rm -rf "$pw_tmp"
fi

# --- dagre from the npm registry (the lineage page's layout) -----------------
# Its self-contained browser build (graphlib included) and its licence are
# embedded into the binary with the page's own files (Makefile: WEB_LIBS).
DAGRE_VERSION=3.1.3
DAGRE_SHA256=12441833c8af49e5a241d94bfd53159875965876b3f4f3214abafe1ed6a9ee4c
web_dest="$here/third_party/web"
if [ "$(cat "$web_dest/.dagre-version" 2>/dev/null)" != "$DAGRE_VERSION" ] \
   || [ ! -f "$web_dest/dagre.min.js" ] || [ ! -f "$web_dest/dagre.min.js.LEGAL.txt" ]; then
    echo "install-deps: fetching dagre $DAGRE_VERSION from the npm registry"
    web_tmp=$(mktemp -d)
    (cd "$web_tmp" && npm pack --silent "@dagrejs/dagre@$DAGRE_VERSION" >/dev/null 2>&1) || {
        echo "install-deps: npm pack @dagrejs/dagre@$DAGRE_VERSION failed" >&2; rm -rf "$web_tmp"; exit 1; }
    if ! echo "$DAGRE_SHA256  $web_tmp/dagrejs-dagre-$DAGRE_VERSION.tgz" | sha256sum -c --status; then
        echo "install-deps: checksum mismatch for dagrejs-dagre-$DAGRE_VERSION.tgz (expected sha256 $DAGRE_SHA256)" >&2
        rm -rf "$web_tmp"; exit 1
    fi
    mkdir -p "$web_dest"
    tar -xzf "$web_tmp/dagrejs-dagre-$DAGRE_VERSION.tgz" -C "$web_dest" --strip-components=2 \
        package/dist/dagre.min.js package/dist/dagre.min.js.LEGAL.txt
    echo "$DAGRE_VERSION" >"$web_dest/.dagre-version"
    rm -rf "$web_tmp"
fi

# --- DuckDB from the npm registry --------------------------------------------
# libduckdb.so comes from the platform package of DuckDB's node bindings, the
# header from the source tarball of the `duckdb` package. Both are pinned by
# version and by the sha256 of the tarball.
# The header is 1.4.4's: no npm package ships duckdb.h for 1.5 (`duckdb` stops
# at 1.4.4; @duckdb/node-bindings 1.5.x ships only duckdb.js/duckdb.d.ts).
# That is safe because DuckDB's C API only grows: every function Dango calls
# is exported by 1.5.6's libduckdb.so with the same signature, and the enums
# and structs it uses kept their values and layout (1.5 appends the types
# GEOMETRY and VARIANT, which Dango reports as unsupported).
DUCKDB_VERSION=1.5.6
LIB_PKG="@duckdb/node-bindings-linux-x64@${DUCKDB_VERSION}-r.1"
LIB_TGZ="duckdb-node-bindings-linux-x64-${DUCKDB_VERSION}-r.1.tgz"
LIB_SHA256=1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff
HDR_VERSION=1.4.4
HDR_PKG="duckdb@${HDR_VERSION}"
HDR_TGZ="duckdb-${HDR_VERSION}.tgz"
HDR_SHA256=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

dest="$here/third_party/duckdb"
stamp="$dest/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DUCKDB_VERSION" ] \
   && [ -f "$dest/lib/libduckdb.so" ] && [ -f "$dest/include/duckdb.h" ]; then
    touch "$stamp" # newer than this script: make need not run it again
    exit 0
fi

echo "install-deps: fetching DuckDB $DUCKDB_VERSION from the npm registry"
cache="$here/third_party/.cache"
mkdir -p "$cache" "$dest/lib" "$dest/include"
fetch() { # package tarball sha256
    if [ ! -f "$cache/$2" ] || ! echo "$3  $cache/$2" | sha256sum -c --status; then
        rm -f "$cache/$2"
        (cd "$cache" && npm pack --silent "$1" >/dev/null 2>&1) || {
            echo "install-deps: npm pack $1 failed" >&2; exit 1; }
    fi
    if ! echo "$3  $cache/$2" | sha256sum -c --status; then
        echo "install-deps: checksum mismatch for $2 (expected sha256 $3)" >&2
        rm -f "$cache/$2"; exit 1
    fi
}
fetch "$LIB_PKG" "$LIB_TGZ" "$LIB_SHA256"
fetch "$HDR_PKG" "$HDR_TGZ" "$HDR_SHA256"
tar -xzf "$cache/$LIB_TGZ" -C "$dest/lib" --strip-components=1 package/libduckdb.so
tar -xzf "$cache/$HDR_TGZ" -C "$dest/include" --strip-components=5 package/src/duckdb/src/include/duckdb.h
echo "$DUCKDB_VERSION" > "$stamp"
rm -rf "$cache"
