#!/usr/bin/env bash
# The command line: help, version, unknown commands and options, exit codes.
. "$(dirname "$0")/lib.sh"

test_expect_success '--version names Dango and DuckDB' '
    dango --version >out &&
    grep -E "^dango [0-9]+\.[0-9]+\.[0-9]+ \(DuckDB v1\.5\.6\)$" out
'

test_expect_success '--help lists the commands and exit codes' '
    dango --help >out &&
    test_grep "^  init " out && test_grep "^  source " out && test_grep "^  query " out &&
    test_grep "Exit codes: 0 success, 1 the command failed, 2 usage error" out
'

test_expect_success 'no command prints help and exits 2' '
    test_expect_code 2 dango >out &&
    test_grep "usage: dango" out
'

test_expect_success 'dango help CMD equals dango CMD --help' '
    dango help query >a && dango query --help >b && test_cmp a b &&
    test_grep "^usage: dango query" a &&
    dango help source add >c && test_grep "^usage: dango source add" c
'

test_expect_success 'an unknown command suggests the closest' '
    test_expect_code 2 dango qeury 2>err &&
    test_grep "error: unknown command '"'"'qeury'"'"' (did you mean '"'"'query'"'"'?)" err
'

test_expect_success 'an unknown option suggests the closest, exit 2' '
    test_expect_code 2 dango query --jsno 2>err &&
    test_grep "unknown option '"'"'--jsno'"'"' (did you mean '"'"'--json'"'"'?)" err &&
    test_grep "usage: dango query" err
'

test_expect_success 'an unknown subcommand suggests the closest' '
    test_expect_code 2 dango source lst 2>err &&
    test_grep "unknown subcommand '"'"'source lst'"'"' (did you mean '"'"'list'"'"'?)" err
'

test_expect_success 'an option missing its value is a usage error' '
    test_expect_code 2 dango query --wait 2>err &&
    test_grep "option '"'"'--wait'"'"' needs a value" err &&
    test_expect_code 2 dango query --wait=abc 2>err &&
    test_grep "expects a whole number" err
'

test_expect_success 'outside a project: a clear error naming the fix' '
    mkdir empty && cd empty &&
    test_expect_code 1 dango source list 2>err &&
    test_grep "not in a Dango project" err && test_grep "dango init" err
'

test_expect_success 'the project is found from a subfolder, and by --project-dir' '
    dango init proj >/dev/null &&
    mkdir -p proj/dbt/models/deep && (cd proj/dbt/models/deep && dango source list >out && test_grep "No sources configured" out) &&
    dango --project-dir proj source list >out && test_grep "No sources configured" out &&
    dango source list --project-dir=proj >out && test_grep "No sources configured" out &&
    test_expect_code 1 dango --project-dir nowhere source list 2>err &&
    test_grep "'"'"'nowhere'"'"' is not a Dango project" err
'

test_expect_success 'no colour codes when not on a terminal, or with --no-color' '
    cd proj && printf "x\n1\n" >data/x.csv &&
    env -u NO_COLOR dango source add csv --name x --path data/x.csv >out 2>&1 &&
    ! grep -q "$(printf "\033")" out &&
    env -u NO_COLOR script -qec "dango source list" /dev/null >tty &&
    grep -q "$(printf "\033")\[32m" tty &&
    env -u NO_COLOR script -qec "dango --no-color source list" /dev/null >tty2 &&
    ! grep -q "$(printf "\033")" tty2 &&
    NO_COLOR=1 script -qec "dango source list" /dev/null >tty3 &&
    ! grep -q "$(printf "\033")" tty3
'

test_expect_success '--quiet hushes progress but not errors' '
    cd proj && dango -q source add csv --name y --path data/x.csv >out 2>&1 &&
    test ! -s out &&
    test_expect_code 1 dango -q source test nope 2>err && test_grep "no source named" err
'

test_expect_success 'RUNTIME__LOG_LEVEL=DEBUG and --verbose are accepted' '
    cd proj && RUNTIME__LOG_LEVEL=DEBUG dango source list >out && test_grep "x (csv)" out &&
    dango -v source list >out && test_grep "Settings:" out
'

test_expect_success 'make install puts dango and its DuckDB library under PREFIX' '
    # a make of its own: not the flags of a make that runs the tests (make asan)
    env -u BUILD -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OPT -u LDFLAGS -u CFLAGS \
        make -s -C "$SRC_DIR" install PREFIX="$TRASH/inst" >/dev/null &&
    test -x "$TRASH/inst/bin/dango" && test -f "$TRASH/inst/lib/dango/libduckdb.so" &&
    (cd / && env -u LD_LIBRARY_PATH "$TRASH/inst/bin/dango" --version) >v &&
    test_grep "^dango [0-9.]* (DuckDB v1.5.6)$" v
'

test_done
