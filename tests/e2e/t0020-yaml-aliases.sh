#!/usr/bin/env bash
# YAML aliases (issue 10, item 3): a recursive alias, an alias bomb and deep
# nesting are refused by the one YAML loader with file:line:col, in
# sources.yml, --vars and dbt_project.yml; ordinary aliases still work.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf "id,v\n1,a\n" >data/s.csv
cp .dango/sources.yml sources.orig
cp dbt/dbt_project.yml dbt_project.orig
echo "select 1 as x" >dbt/models/m.sql

test_expect_success 'a recursive alias in sources.yml: validate, source list and sync fail with its place' '
    cat >.dango/sources.yml <<-\EOF &&
	version: "1.0"
	sources:
	  - name: api
	    type: rest_api
	    rest_api:
	      base_url: https://example.com
	      headers: &h {x: *h}
	      endpoints:
	        - name: users
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "✗ .dango/sources.yml:7:23: recursive alias '"'"'\*h'"'"': it is inside its own anchor '"'"'&h'"'"' (line 7)" out &&
    test_must_fail dango source list --verbose >out 2>&1 &&
    test_grep "sources.yml:7:23: recursive alias" out &&
    test_must_fail dango sync >out 2>&1 &&
    test_grep "sources.yml:7:23: recursive alias" out
'

test_expect_success 'an alias bomb (billion laughs) is refused at once, not expanded' '
    {
        echo "version: \"1.0\""
        echo "a0: &a0 [x, x, x, x, x, x, x, x, x]"
        for i in 1 2 3 4 5 6 7 8 9; do
            printf "a$i: &a$i [*a$((i - 1))"
            for k in 2 3 4 5 6 7 8 9; do printf ", *a$((i - 1))"; done
            echo "]"
        done
        echo "sources:"
        echo "  - name: s"
        echo "    type: csv"
        echo "    csv: {path: *a9}"
    } >.dango/sources.yml &&
    test $(wc -c <.dango/sources.yml) -lt 800 &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "✗ .dango/sources.yml:7:10: aliases expand to more than 100000 nodes (at '"'"'\*a4'"'"')" out &&
    test_must_fail dango sync >out 2>&1 &&
    test_grep "aliases expand to more than 100000 nodes" out
'

test_expect_success 'nesting deeper than 256 levels is refused' '
    { printf "version: \"1.0\"\nx: "; for i in $(seq 300); do printf "["; done; for i in $(seq 300); do printf "]"; done; echo; } >.dango/sources.yml &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "sources.yml:2:259: nested deeper than 256 levels" out
'

test_expect_success 'ordinary aliases still work' '
    cat >.dango/sources.yml <<-\EOF &&
	version: "1.0"
	sources:
	  - name: s
	    type: csv
	    csv: &c {path: data/s.csv}
	  - name: t
	    type: csv
	    csv: *c
	EOF
    dango validate >out 2>&1 &&
    test_grep "sources.yml (2 sources)" out &&
    dango sync >out 2>&1 &&
    test "$(q "SELECT id, v FROM raw_t.t")" = "1,a"
'

test_expect_success 'a recursive alias in --vars fails dango run with a message' '
    cp sources.orig .dango/sources.yml &&
    test_must_fail dango run --vars "{a: &a [*a]}" >out 2>&1 &&
    test_grep "cannot parse --vars as JSON or YAML: --vars:1:9: recursive alias '"'"'\*a'"'"'" out &&
    dango run --vars "{a: &a [1], b: *a}" >out 2>&1
'

test_expect_success 'a recursive alias in dbt_project.yml vars fails dango run with its place' '
    cp dbt_project.orig dbt/dbt_project.yml &&
    printf "vars:\n  v: &v\n    - *v\n" >>dbt/dbt_project.yml &&
    test_must_fail dango run >out 2>&1 &&
    test_grep "dbt_project.yml:[0-9]*:7: recursive alias '"'"'\*v'"'"'" out &&
    cp dbt_project.orig dbt/dbt_project.yml
'

test_done
