# End-to-end test library, in the style of git's test-lib.sh.
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'what it checks' '
#       dango init p && test -f p/.dango/project.yml
#   '
#   test_done
#
# Each script runs in a fresh temporary folder ($TRASH) with `dango` on PATH
# (the binary under test: $DANGO). A test body runs in a subshell with -e;
# it passes when it exits 0.
set -u
TEST_NAME=$(basename "$0" .sh)
TESTS_DIR=$(cd "$(dirname "$0")/.." && pwd)
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
: "${DANGO:=$SRC_DIR/dango}"
# programs the tests start, built from tests/fixtures/*.c (an HTTP API server, ...)
FIXTURES="$SRC_DIR/${BUILD:-build}/fixtures"
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/dango-$TEST_NAME.XXXXXX")
mkdir -p "$TRASH/bin"
ln -s "$DANGO" "$TRASH/bin/dango"
export PATH="$TRASH/bin:$PATH"
export NO_COLOR=1 TZ=UTC LC_ALL=C.UTF-8
unset RUNTIME__LOG_LEVEL EDITOR VISUAL
cd "$TRASH" || exit 1
test_count=0
test_failed=0
trap 'test_cleanup' EXIT

test_cleanup() {
    # stop what a test left running, then remove the folder
    local pids
    pids=$(jobs -p)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    cd /
    [ -n "${KEEP_TRASH:-}" ] || rm -rf "$TRASH"
}

test_expect_success() {
    local desc=$1 body=$2
    test_count=$((test_count + 1))
    if (set -e; eval "$body") >"$TRASH/.out" 2>&1; then
        echo "ok $test_count - $desc"
    else
        test_failed=$((test_failed + 1))
        echo "not ok $test_count - $desc"
        sed 's/^/#   /' "$TRASH/.out" | tail -40
        echo "#   in:"
        echo "$body" | sed 's/^/#   /'
    fi
}

test_done() {
    echo "# $TEST_NAME: $((test_count - test_failed)) passed, $test_failed failed"
    [ "$test_failed" -eq 0 ]
    exit $?
}

# Run a command that must fail (exit 1..125; a crash or signal is no pass).
test_must_fail() {
    "$@"
    local rc=$?
    if [ $rc -eq 0 ]; then
        echo "test_must_fail: command succeeded: $*" >&2
        return 1
    elif [ $rc -gt 125 ]; then
        echo "test_must_fail: command died (exit $rc): $*" >&2
        return 1
    fi
    return 0
}

# Run a command and check its exit code.
test_expect_code() {
    local want=$1
    shift
    "$@"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        echo "test_expect_code: want exit $want, got $rc: $*" >&2
        return 1
    fi
    return 0
}

test_cmp() {
    diff -u "$1" "$2"
}

# grep that shows the file when the pattern is missing.
test_grep() {
    local neg=
    if [ "$1" = "!" ]; then neg=1; shift; fi
    if [ "$1" = "--" ]; then shift; fi
    if [ -n "$neg" ]; then
        if grep -q -e "$1" "$2"; then
            echo "test_grep: unexpected '$1' in $2:" >&2; cat "$2" >&2; return 1
        fi
    elif ! grep -q -e "$1" "$2"; then
        echo "test_grep: no '$1' in $2:" >&2; cat "$2" >&2; return 1
    fi
    return 0
}

# Drop the [HH:MM:SS] clock from progress lines.
strip_clock() {
    sed -E 's/^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] //'
}

# A value from the warehouse: q "SELECT count(*) FROM t" prints 42.
q() {
    dango query --csv "$1" | tail -n +2
}

# Wait until a file exists (up to $2 seconds, default 10).
wait_for_file() {
    local i=0 limit=$(( ${2:-10} * 10 ))
    while [ ! -e "$1" ]; do
        i=$((i + 1))
        [ $i -ge $limit ] && { echo "wait_for_file: no $1" >&2; return 1; }
        sleep 0.1
    done
}

# Wait until a file holds a line matching a pattern (up to $3 seconds,
# default 30); fails (rather than looping on) when it never does.
wait_for_grep() {
    local i=0 limit=$(( ${3:-30} * 10 ))
    while ! grep -q -e "$1" "$2" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge $limit ]; then
            echo "wait_for_grep: no '$1' in $2 after ${3:-30}s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Start the fake HTTP API (tests/fixtures/api_server.c) on a free port of
# 127.0.0.1: sets API to its base URL. Its request log is $TRASH/api.log:
# m=$(mark) before a command, then log_since $m for the requests it made.
start_fake_api() {
    "$FIXTURES/api_server" "$TRASH/port" "$TRASH/api.log" &
    wait_for_file "$TRASH/port" || return 1
    API=http://127.0.0.1:$(cat "$TRASH/port")
}
mark() { wc -l <"$TRASH/api.log"; }
log_since() { tail -n +$(( $1 + 1 )) "$TRASH/api.log"; }

# Run a command on a pseudo-terminal, feeding it the given input.
run_on_tty() {
    local input=$1
    shift
    printf '%b' "$input" | script -qec "$*" /dev/null
}
