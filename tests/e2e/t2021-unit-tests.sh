#!/usr/bin/env bash
# dbt unit tests: dict, csv and sql givens, fixture files, expect compared
# on the columns it names, overrides of macros (is_incremental), vars and
# env_vars, ephemeral parents, `this`; run by dango test and by dango build
# before the model (a failing one skips it), test_type:unit, and the
# differing rows printed as dbt prints them
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds p/tests/fixtures
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: u.duckdb\n' >profiles.yml
printf 'id,email,amount\n1,a@x.com,10\n2,bad,20\n' >p/seeds/raw_customers.csv
echo "select id, email, amount from {{ ref('raw_customers') }}" >p/models/stg.sql
cat >p/models/eph.sql <<\EOF
{{ config(materialized='ephemeral') }}
select id, amount * 2 as doubled from {{ ref('stg') }}
EOF
cat >p/models/dim.sql <<\EOF
select s.id, s.email, regexp_matches(s.email, '^[^@]+@[^@]+$') as is_valid, e.doubled,
  '{{ var("tier", "std") }}' as tier, '{{ env_var("DIM_REGION", "none") }}' as region
from {{ ref('stg') }} s join {{ ref('eph') }} e on s.id = e.id
EOF
cat >p/models/inc.sql <<\EOF
{{ config(materialized='incremental', unique_key='id') }}
select id, amount from {{ ref('stg') }}
{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
EOF
printf 'id,doubled\n1,5\n2,6\n' >p/tests/fixtures/eph_rows.csv
cat >p/models/schema.yml <<\EOF
unit_tests:
  - name: test_valid_email
    model: dim
    given:
      - input: ref('stg')
        rows:
          - {id: 1, email: a@b.com}
          - {id: 2, email: nope}
      - input: ref('eph')
        format: sql
        rows: select 1 as id, 5 as doubled union all select 2, 6
    expect:
      rows:
        - {id: 1, is_valid: true, doubled: 5}
        - {id: 2, is_valid: false, doubled: 6}
  - name: test_overrides
    model: dim
    overrides:
      vars: {tier: gold}
      env_vars: {DIM_REGION: eu}
    given:
      - input: ref('stg')
        format: csv
        rows: |
          id,email
          1,a@b.com
          2,x@y.org
      - input: ref('eph')
        format: csv
        fixture: eph_rows
    expect:
      format: csv
      rows: |
        id,tier,region,doubled
        1,gold,eu,5
        2,gold,eu,6
  - name: test_incremental
    model: inc
    overrides:
      macros: {is_incremental: true}
    given:
      - input: ref('stg')
        rows: [{id: 1, amount: 1}, {id: 5, amount: 5}, {id: 7, amount: 7}]
      - input: this
        rows: [{id: 5, amount: 50}]
    expect:
      rows: [{id: 7, amount: 7}]
EOF

test_expect_success 'dango build runs the unit tests before their model, and they pass' '
    dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Found 4 models, 0 tests, 3 unit tests, 1 seed" out &&
    test_grep "START unit_test dim::test_valid_email" out &&
    test_grep "PASS dim::test_valid_email " out &&
    test_grep "PASS dim::test_overrides " out &&
    test_grep "PASS inc::test_incremental " out &&
    test_grep "Done. PASS=7 WARN=0 ERROR=0 SKIP=0 TOTAL=7" out &&
    ut=$(grep -n "PASS dim::test_overrides" out | cut -d: -f1) &&
    dim=$(grep -n "OK created sql view model main.dim" out | cut -d: -f1) &&
    test "$ut" -lt "$dim"
'

test_expect_success 'a unit test that must fail fails, prints the differing rows, and skips its model in build' '
    sed -i "s/^      rows: \[{id: 7, amount: 7}\]\$/      rows: [{id: 7, amount: 8}]/" p/models/schema.yml &&
    grep -q "amount: 8" p/models/schema.yml &&
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "FAIL 2 inc::test_incremental " out &&
    test_grep "SKIP relation main.inc " out &&
    test_grep "OK created sql view model main.dim" out &&
    sed -n "/Failure in unit_test test_incremental/,/^.*Done/p" out | cut -c11- >actual &&
    cat >expect <<-\EOF &&
	Failure in unit_test test_incremental (models/schema.yml)
	  actual differs from expected:
	  
	  @@,id,amount
	  +++,7,7
	  ---,7,8
	
	Done. PASS=5 WARN=0 ERROR=1 SKIP=1 TOTAL=7
	EOF
    test_cmp expect actual
'

test_expect_success 'dango test runs unit tests; --select test_type:unit and by model' '
    test_expect_code 1 dango test --project-dir p --profiles-dir . --select test_type:unit >out &&
    test_grep "PASS dim::test_valid_email" out && test_grep "FAIL 2 inc::test_incremental" out &&
    test_grep "Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3" out &&
    dango test --project-dir p --profiles-dir . --select dim >out &&
    test_grep "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2" out &&
    dango ls --project-dir p --profiles-dir . --select test_type:unit --output name >actual &&
    printf "test_incremental\ntest_overrides\ntest_valid_email\n" >expect && sort actual | test_cmp expect -
'

test_expect_success 'a parent without a given input, a wrong column or model: errors naming the test' '
    cat >p/models/more.yml <<-\EOF &&
	unit_tests:
	  - name: test_missing
	    model: dim
	    given:
	      - input: ref("eph")
	        rows: [{id: 1, doubled: 2}]
	    expect:
	      rows: [{id: 1}]
	  - name: test_badcol
	    model: dim
	    given:
	      - input: ref("stg")
	        rows: [{id: 1, email: a}]
	      - input: ref("eph")
	        format: sql
	        rows: select 1 as id, 2 as doubled
	    expect:
	      rows: [{id: 1, nosuch: 3}]
	  - name: test_nomodel
	    model: nosuch
	    given: []
	    expect:
	      rows: []
	EOF
    test_expect_code 1 dango test --project-dir p --profiles-dir . --select test_missing test_badcol test_nomodel >out 2>err &&
    test_grep "model .dim. depends on stg, which has no given input in unit test .test_missing." out &&
    test_grep "expect: column .nosuch. is not a column of model .dim. (it has: id, email, is_valid, doubled, tier, region)" out &&
    test_grep "unit test .test_nomodel. tests model .nosuch., which was not found" out &&
    rm p/models/more.yml
'

test_done
