# Helpers for the catalogue's preset tests (t3020-t3049): one imitation of a
# provider's API (tests/fixtures/provider_api.py) per test script.
#   start_provider NAME   starts it; $PAPI is its base URL, $PLOG its log
#   pmark / plog_since N  the log lines after mark N (METHOD /path?query auth=... body=...)
#   padd N                N newer records; plimit N: the next N requests get the provider's 429
start_provider() {
    command -v python3 >/dev/null || { echo "python3 is needed for the provider imitations" >&2; return 1; }
    python3 "$SRC_DIR/tests/fixtures/provider_api.py" "$1" "$TRASH/$1.port" "$TRASH/$1.log" &
    wait_for_file "$TRASH/$1.port" || return 1
    PAPI=http://127.0.0.1:$(cat "$TRASH/$1.port")
    PLOG=$TRASH/$1.log
    touch "$PLOG"
}
pmark() { wc -l <"$PLOG"; }
plog_since() { tail -n +$(( $1 + 1 )) "$PLOG"; }
padd() { curl -s -X POST "$PAPI/_control/add?n=$1" >/dev/null; }
plimit() { curl -s -X POST "$PAPI/_control/ratelimit?n=${1:-1}" >/dev/null; }

# A project p with .dango/sources.yml holding the given source entry (YAML
# lines, indented as under `sources:`) and .env with the given lines.
new_project() {
    dango init p >/dev/null </dev/null && cd p &&
    printf 'version: "1.0"\nsources:\n' >.dango/sources.yml &&
    printf '%s\n' "$@" >.env
}
