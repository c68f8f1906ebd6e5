#!/usr/bin/env bash
# dango show --select MODEL / --inline SQL --limit N: the first rows, as dbt show
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: s.duckdb\n' >profiles.yml
printf 'id,name\n1,ann\n2,bob\n3,cy\n' >p/seeds/people.csv
echo "select id, upper(name) as name from {{ ref('people') }} order by id" >p/models/m.sql
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'show --select compiles the model and prints its first rows' '
    dango build --project-dir p --profiles-dir . >/dev/null &&
    dango show --select m --limit 2 --project-dir p --profiles-dir . >out && norm <out | tail -n +2 >actual &&
    cat >expect <<-\EOF &&
	Previewing node '"'"'m'"'"':
	| id | name |
	| -- | ---- |
	| 1  | ANN  |
	| 2  | BOB  |
	EOF
    test_cmp expect actual
'

test_expect_success 'show --limit -1 prints every row, as dbt show; -2 is refused' '
    dango show --select m --limit -1 --project-dir p --profiles-dir . >out && norm <out | tail -n +5 >actual &&
    printf "| 1  | ANN  |\n| 2  | BOB  |\n| 3  | CY   |\n" >expect && test_cmp expect actual &&
    test_expect_code 2 dango show --select m --limit -2 --project-dir p --profiles-dir . 2>err &&
    test_grep "option .--limit. expects a whole number (-1: all), not .-2." err
'

test_expect_success 'show --inline renders refs and limits the rows; bad use is an error' '
    dango show --inline "select count(*) as n from {{ ref(\"people\") }}" --project-dir p --profiles-dir . >out &&
    norm <out | tail -n +2 >actual &&
    printf "Previewing inline node:\n| n |\n| - |\n| 3 |\n" >expect && test_cmp expect actual &&
    test_expect_code 2 dango show --project-dir p --profiles-dir . 2>err &&
    test_grep "show takes one of --select MODEL and --inline SQL" err &&
    test_expect_code 1 dango show --select nosuch --project-dir p --profiles-dir . 2>err &&
    test_grep "no model named .nosuch." err
'

test_done
