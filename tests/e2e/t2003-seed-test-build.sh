#!/usr/bin/env bash
# dango seed, dango test (generic, singular, severity, where, warn_if/error_if), dango build
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
mkdir -p dbt/seeds dbt/models/staging dbt/models/marts dbt/tests
printf 'id,name,score,joined\n1,Ann,1.5,2024-01-02\n2,Bo,2,2024-02-03\n3,Cy,,2024-03-04\n' >dbt/seeds/people.csv
printf 'code;label\nA;alpha\nB;beta\n' >dbt/seeds/codes.csv
cat >>dbt/dbt_project.yml <<'EOF'
seeds:
  p:
    codes:
      +delimiter: ";"
      +column_types: {code: varchar(4)}
EOF
cat >dbt/models/staging/stg_people.sql <<'EOF'
select id, name, score, case when id = 3 then 'x' else 'active' end as status from {{ ref('people') }}
EOF
cat >dbt/models/marts/people_stats.sql <<'EOF'
select count(*) as n from {{ ref('stg_people') }}
EOF
cat >dbt/models/staging/schema.yml <<'EOF'
version: 2
models:
  - name: stg_people
    description: People
    columns:
      - name: id
        tests: [unique, not_null]
      - name: score
        tests:
          - not_null:
              config: {severity: warn}
      - name: status
        data_tests:
          - accepted_values:
              values: ['active']
              config: {where: "id < 3"}
      - name: name
        tests:
          - relationships:
              to: ref('people')
              field: name
EOF
cat >dbt/tests/no_big_ids.sql <<'EOF'
select * from {{ ref('stg_people') }} where id > 100
EOF

norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //; s/ in [0-9]+\.[0-9]+s\]/ in Xs]/; s/in [0-9]+\.[0-9]+s\.$/in Xs./'; }

test_expect_success 'dango seed loads the CSV files with dbt types' '
    dango seed >out && norm <out >actual &&
    test_grep "OK loaded seed file main.people .* \[INSERT 3 in Xs\]" actual &&
    test_grep "OK loaded seed file main.codes .* \[INSERT 2 in Xs\]" actual &&
    test_grep "Finished running 2 seeds in" actual &&
    q "SELECT column_name || '"'"' '"'"' || data_type FROM information_schema.columns WHERE table_name = '"'"'people'"'"' ORDER BY ordinal_position" >out &&
    printf "id INTEGER\nname VARCHAR\nscore DOUBLE\njoined DATE\n" >expect && test_cmp expect out &&
    q "SELECT string_agg(code || label, '"'"' '"'"' ORDER BY code) FROM main.codes" >out && echo "Aalpha Bbeta" >expect && test_cmp expect out
'

test_expect_success 'dango test: pass, warn and singular tests, with the counts' '
    dango run >/dev/null &&
    dango test --threads 1 >out && norm <out >actual &&
    test_grep "PASS unique_stg_people_id " actual &&
    test_grep "PASS not_null_stg_people_id " actual &&
    test_grep "WARN 1 not_null_stg_people_score .* \[WARN 1 in Xs\]" actual &&
    test_grep "PASS accepted_values_stg_people_status__active " actual &&
    test_grep "PASS relationships_stg_people_name__name__ref_people_ " actual &&
    test_grep "PASS no_big_ids " actual &&
    test_grep "^Completed with 1 warning:" actual &&
    test_grep "^Warning in test not_null_stg_people_score (models/staging/schema.yml)" actual &&
    test_grep "^  Got 1 result, configured to warn if != 0" actual &&
    test_grep "^Done. PASS=5 WARN=1 ERROR=0 SKIP=0 TOTAL=6$" actual
'

test_expect_success 'a failing test prints its failing rows and exits 1' '
    cat >dbt/tests/two_rows.sql <<-\EOF &&
	select * from {{ ref("stg_people") }} where id <= 2
	EOF
    test_expect_code 1 dango test -s two_rows >out && norm <out >actual &&
    test_grep "^1 of 1 FAIL 2 two_rows .* \[FAIL 2 in Xs\]$" actual &&
    test_grep "^Completed with 1 error and 0 warnings:" actual &&
    test_grep "^Failure in test two_rows (tests/two_rows.sql)" actual &&
    test_grep "^  Got 2 results, configured to fail if != 0" actual &&
    jq -r ".results[0] | .status + \" \" + (.failures|tostring)" dbt/target/run_results.json >out &&
    echo "fail 2" >expect && test_cmp expect out
'

test_expect_success 'error_if and warn_if thresholds' '
    cat >dbt/tests/two_rows.sql <<-\EOF &&
	{{ config(error_if=">5", warn_if=">1") }}
	select * from {{ ref("stg_people") }} where id <= 2
	EOF
    dango test -s two_rows >out && test_grep "WARN 2 two_rows" out && test_grep "configured to warn if >1" out
'

test_expect_success 'test selection follows the models (indirect selection) and test_type' '
    dango ls --resource-type test -s stg_people --output name | sort >out &&
    cat >expect <<-\EOF &&
	accepted_values_stg_people_status__active
	no_big_ids
	not_null_stg_people_id
	not_null_stg_people_score
	relationships_stg_people_name__name__ref_people_
	two_rows
	unique_stg_people_id
	EOF
    test_cmp expect out &&
    dango ls -s test_type:singular --output name | sort >out && printf "no_big_ids\ntwo_rows\n" >expect && test_cmp expect out
'

test_expect_success 'dango build: seeds, models and tests in order; a failing test skips its dependents' '
    rm dbt/tests/two_rows.sql &&
    cat >>dbt/models/staging/schema.yml <<-\EOF &&
	  - name: people_stats
	    columns:
	      - name: n
	        tests:
	          - accepted_values: {values: [99], quote: false}
	EOF
    cat >dbt/models/marts/after_stats.sql <<-\EOF &&
	select * from {{ ref("people_stats") }}
	EOF
    cat >dbt/models/marts/other.sql <<-\EOF &&
	select 1 as one
	EOF
    test_expect_code 1 dango build --threads 1 >out && norm <out >actual &&
    test_grep "OK loaded seed file main.people" actual &&
    test_grep "FAIL 1 accepted_values_people_stats_n__False__99" actual &&
    test_grep "SKIP relation marts.after_stats .* \[SKIP\]$" actual &&
    test_grep "OK created sql table model marts.other" actual &&
    test_grep "^Done. PASS=10 WARN=1 ERROR=1 SKIP=1 TOTAL=13$" actual &&
    seed_line=$(grep -n "OK loaded seed file main.people" actual | cut -d: -f1) &&
    stg_line=$(grep -n "START sql view model staging.stg_people" actual | cut -d: -f1) &&
    test "$seed_line" -lt "$stg_line"
'

test_done
