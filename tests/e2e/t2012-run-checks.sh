#!/usr/bin/env bash
# dango run says what it did not do: a model that refs itself is a cycle at
# load, unknown keys are warned about with file:line, a selection that
# matches nothing is named, --fail-fast reports what it skipped; it honours
# defaults.threads and lists only its own options
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null && cd p
echo "select 1 as x" >dbt/models/marts/a.sql
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'a model that refs itself is a cycle, reported at load' '
    echo "select * from {{ ref(\"selfy\") }}" >dbt/models/marts/selfy.sql &&
    test_expect_code 1 dango run >out 2>err &&
    test_grep "^error: found a cycle: model.p.selfy --> model.p.selfy (models/marts/selfy.sql refs itself)$" err &&
    ! grep -q "START" out &&
    rm dbt/models/marts/selfy.sql
'

test_expect_success 'unknown keys in dbt_project.yml and schema.yml are warned about, with file:line' '
    cp dbt/dbt_project.yml project.bak &&
    echo "modles: {}" >>dbt/dbt_project.yml &&
    line=$(wc -l <dbt/dbt_project.yml) &&
    printf "version: 2\nmodels:\n  - name: a\n    colums:\n      - name: x\n    columns:\n      - name: x\n        tset: [unique]\nsorces: []\n" \
        >dbt/models/marts/s.yml &&
    dango run >out 2>err && norm <err >actual &&
    test_grep "^\[WARNING\]: dbt_project.yml:$line:1: unknown key .modles. in dbt_project.yml, ignored (did you mean .models.?)$" actual &&
    test_grep "^\[WARNING\]: models/marts/s.yml:4:5: unknown key .colums. in model .a., ignored (did you mean .columns.?)$" actual &&
    test_grep "^\[WARNING\]: models/marts/s.yml:8:9: unknown key .tset. in a column of model .a., ignored (did you mean .tests.?)$" actual &&
    test_grep "^\[WARNING\]: models/marts/s.yml:9:1: unknown key .sorces. in a properties file, ignored (did you mean .sources.?)$" actual &&
    test_grep "OK created sql table model marts.a " out &&
    cp project.bak dbt/dbt_project.yml && rm dbt/models/marts/s.yml
'

test_expect_success 'a selection that matches no node is named, as dbt does' '
    dango run -s nosuchmodel >out 2>err && norm <err >actual &&
    test_grep "^\[WARNING\]: The selection criterion .nosuchmodel. does not match any enabled nodes$" actual &&
    test_grep "Nothing to do" out &&
    dango run -s "nonexistent+" a >out 2>err && norm <err >actual &&
    test_grep "^\[WARNING\]: The selection criterion .nonexistent+. does not match any enabled nodes$" actual &&
    ! grep -q "criterion .a." actual &&
    test_grep "OK created sql table model marts.a " out
'

test_expect_success '--fail-fast reports the nodes it did not run as SKIP' '
    echo "select x from no_such_table" >dbt/models/marts/b_bad.sql &&
    for m in c d e; do echo "select 1 as x" >dbt/models/marts/$m.sql; done &&
    test_expect_code 1 dango run --fail-fast --threads 1 >out 2>err && norm <out >actual &&
    test_grep "^2 of 5 ERROR creating sql table model marts.b_bad " actual &&
    test_grep "^3 of 5 SKIP relation marts.c " actual &&
    test_grep "^5 of 5 SKIP relation marts.e " actual &&
    test_grep "^Done. PASS=1 WARN=0 ERROR=1 SKIP=3 TOTAL=5$" actual &&
    rm dbt/models/marts/b_bad.sql dbt/models/marts/[cde].sql
'

test_expect_success 'project.yml defaults.threads sets the concurrency; --threads wins' '
    sed -i "s/^  threads: 4 /  threads: 3 /" .dango/project.yml && grep -q "threads: 3" .dango/project.yml &&
    dango run >out && test_grep "Concurrency: 3 threads" out &&
    dango run --threads 2 >out && test_grep "Concurrency: 2 threads" out
'

test_expect_success 'dango run --help lists no ls-only options; dango ls --help has them' '
    dango run --help >out && ! grep -q -e "--resource-type" -e "--output" out && grep -q -e "--threads" out &&
    dango ls --help >out && grep -q -e "--resource-type" out && grep -q -e "--output" out &&
    ! grep -q -e "--fail-fast" out &&
    test_expect_code 2 dango run --output json 2>err
'

test_done
