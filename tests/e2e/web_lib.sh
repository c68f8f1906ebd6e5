# Helpers for the tests of `dango web` (t90xx): a real server on a free
# loopback port, a browser-like session (cookie + CSRF token) for curl.

# start_web NAME [ARGS...]: start `dango web --port 0 ARGS` in the current
# project; sets WEB_URL (no trailing slash) and WEB_PID; output in NAME.out.
start_web() {
    local name=$1
    shift
    dango web --port 0 "$@" >"$TRASH/$name.out" 2>&1 &
    WEB_PID=$!
    wait_for_grep "Dango web on" "$TRASH/$name.out" 30 || return 1
    WEB_URL=$(sed -n 's/^Dango web on \(http[^ ]*\)\/ .*/\1/p' "$TRASH/$name.out")
    [ -n "$WEB_URL" ]
}

stop_web() {
    kill -TERM "$WEB_PID" 2>/dev/null
    wait "$WEB_PID"
}

# A session as the page has it: the cookie in $TRASH/jar, the CSRF token in
# $TRASH/csrf.
web_session() {
    curl -sf -c "$TRASH/jar" -b "$TRASH/jar" "$WEB_URL/api/session" | jq -r .csrf >"$TRASH/csrf"
    test -s "$TRASH/csrf"
}

# web_get PATH: the body; exits non-zero on an HTTP error.
web_get() {
    curl -sf "$WEB_URL$1"
}

# web_post PATH JSON: prints the body, then the status on its own line.
web_post() {
    curl -s -b "$TRASH/jar" -H "Origin: $WEB_URL" -H "X-CSRF-Token: $(cat "$TRASH/csrf")" \
        -H 'Content-Type: application/json' -X POST -d "$2" -w '\n%{http_code}\n' "$WEB_URL$1"
}

# wait_run ID: poll GET /api/runs/ID until it ends (up to 120 s); the
# final document in ./run.json, every phase seen in ./phases.
wait_run() {
    local i=0
    : >phases
    while :; do
        curl -sf "$WEB_URL/api/runs/$1" >run.json || return 1
        jq -r .phase run.json >>phases
        [ "$(jq -r .status run.json)" != running ] && return 0
        i=$((i + 1))
        [ $i -ge 1200 ] && { echo "wait_run: $1 still running" >&2; return 1; }
        sleep 0.1
    done
}
