#!/usr/bin/env bash
# DuckDB's "LINE n: ... ^" excerpt is shown once, in query and run errors.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

test_expect_success 'dango query: a syntax error shows its excerpt once' '
    test_expect_code 1 dango query "SELEC 1" >out 2>err &&
    cat >expect <<-\EOF &&
	error: Parser Error: syntax error at or near "SELEC"

	LINE 1: SELEC 1
	        ^
	EOF
    test_cmp expect err
'

test_expect_success 'dango query: a binder error is shown whole, once' '
    test_expect_code 1 dango query "SELECT nosuch FROM (SELECT 1 AS a)" >out 2>err &&
    test "$(grep -c "^LINE 1:" err)" = 1 && test_grep "Referenced column \"nosuch\" not found" err &&
    test_grep "^ *\^$" err
'

test_expect_success 'dango run: a model with a syntax error shows its excerpt once' '
    echo "selec 1 as x" >dbt/models/marts/bad.sql &&
    test_expect_code 1 dango run >out 2>&1 &&
    test "$(grep -c "LINE [0-9]*:" out)" = 1 &&
    test_grep "syntax error at or near" out
'

test_done
