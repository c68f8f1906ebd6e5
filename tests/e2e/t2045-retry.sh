#!/usr/bin/env bash
# dango retry, as dbt retry: the last command (from run_results.json's args)
# again, with its selection, flags and vars, on exactly the nodes that
# errored, failed or were skipped.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: r.duckdb\n' >profiles.yml
echo "select 1 as id" >p/models/a.sql
echo "select nosuch, {{ var('x') }} as x from {{ ref('a') }}" >p/models/b.sql
echo "select * from {{ ref('b') }}" >p/models/c.sql
echo "select 2 as id" >p/models/d.sql
echo "select 3 as id" >p/models/unselected.sql
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'without a previous run, retry says so' '
    test_expect_code 1 dango retry --project-dir p --profiles-dir . 2>err &&
    test_grep "Could not find previous run in .*/p/target. target directory" err
'

test_expect_success 'a run with an error and a skip' '
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s a b c d --vars "{x: 7}" >out &&
    test_grep "ERROR creating sql view model main.b" out &&
    test_grep "SKIP relation main.c" out &&
    test_grep "Done. PASS=2 WARN=0 ERROR=1 SKIP=1 TOTAL=4" out &&
    jq -c ".args | [.which, .select, .vars]" p/target/run_results.json >actual &&
    echo "[\"run\",[\"a\",\"b\",\"c\",\"d\"],\"{x: 7}\"]" >expect && test_cmp expect actual
'

test_expect_success 'retry runs only what errored or was skipped, with the same vars' '
    echo "select id, {{ var(\"x\") }} as x from {{ ref(\"a\") }}" >p/models/b.sql &&
    dango retry --project-dir p --profiles-dir . >out 2>err && norm <out >actual &&
    test_grep "^1 of 2 OK created sql view model main.b" actual &&
    test_grep "^2 of 2 OK created sql view model main.c" actual &&
    test_grep "^Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2" actual &&
    dango show --project-dir p --profiles-dir . --inline "select x from {{ ref(\"c\") }}" >out &&
    test_grep "| 7 |" out &&
    jq -r ".args.which" p/target/run_results.json >actual && echo run >expect && test_cmp expect actual
'

test_expect_success 'after a clean run there is nothing to retry' '
    dango retry --project-dir p --profiles-dir . >out &&
    test_grep "Nothing to do" out
'

test_expect_success 'dango test: retry re-runs the failing test alone, as dango test, with its vars' '
    mkdir -p p/tests &&
    echo "select * from {{ ref(\"d\") }} where id <> {{ var(\"want\") }}" >p/tests/d_is_wanted.sql &&
    echo "select * from {{ ref(\"a\") }} where id <> 1" >p/tests/a_is_one.sql &&
    test_expect_code 1 dango test --project-dir p --profiles-dir . --vars "{want: 3}" >out &&
    test_grep "FAIL 1 d_is_wanted" out && test_grep "PASS a_is_one" out &&
    test_expect_code 1 dango retry --project-dir p --profiles-dir . >out && norm <out >actual &&
    test_grep "^1 of 1 FAIL 1 d_is_wanted" actual &&
    test_grep "^Done. PASS=0 WARN=0 ERROR=1 SKIP=0 TOTAL=1" actual &&
    echo "select * from {{ ref(\"d\") }} where id + 1 <> {{ var(\"want\") }}" >p/tests/d_is_wanted.sql &&
    dango retry --project-dir p --profiles-dir . >out && norm <out >actual &&
    test_grep "^1 of 1 PASS d_is_wanted" actual &&
    ! test_grep "a_is_one" actual
'

test_done
