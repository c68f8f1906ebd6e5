#!/usr/bin/env bash
# failures: SQL error, Jinja error, missing ref, cycle, unsupported features, fail-fast, skip-source, lock
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
mkdir -p dbt/models/marts
cat >dbt/models/marts/good.sql <<'EOF'
select 1 as id
EOF
cat >dbt/models/marts/bad_sql.sql <<'EOF'
select * from main.no_such_table
EOF
cat >dbt/models/marts/after_bad.sql <<'EOF'
select * from {{ ref('bad_sql') }}
EOF
cat >dbt/models/marts/after_after.sql <<'EOF'
select * from {{ ref('after_bad') }}
EOF
dango query --write "CREATE TABLE marts.bad_sql AS SELECT 42 AS kept" >/dev/null

norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //; s/ in [0-9]+\.[0-9]+s\]/ in Xs]/; s/in [0-9]+\.[0-9]+s\.$/in Xs./'; }

test_expect_success 'a SQL error names the model and file, skips dependents, keeps the old table' '
    test_expect_code 1 dango run --threads 1 >out && norm <out >actual &&
    test_grep "ERROR creating sql table model marts.bad_sql .* \[ERROR in Xs\]$" actual &&
    test_grep "SKIP relation marts.after_bad .* \[SKIP\]$" actual &&
    test_grep "SKIP relation marts.after_after .* \[SKIP\]$" actual &&
    test_grep "OK created sql table model marts.good" actual &&
    test_grep "^Completed with 1 error and 0 warnings:" actual &&
    test_grep "^Runtime Error in model bad_sql (models/marts/bad_sql.sql)$" actual &&
    test_grep "^  Catalog Error: Table with name no_such_table does not exist" actual &&
    test_grep "^Done. PASS=1 WARN=0 ERROR=1 SKIP=2 TOTAL=4$" actual &&
    q "SELECT kept FROM marts.bad_sql" >out && echo 42 >expect && test_cmp expect out &&
    jq -r "[.results[] | .status] | sort | join(\",\")" dbt/target/run_results.json >out &&
    echo "error,skipped,skipped,success" >expect && test_cmp expect out
'

test_expect_success '--fail-fast stops at the first failure' '
    test_expect_code 1 dango run --threads 1 --fail-fast -s bad_sql+ good >out &&
    test_grep "ERROR creating sql table model marts.bad_sql" out &&
    ! grep -q "START sql table model marts.after_bad" out
'

test_expect_success 'a Jinja error is reported with file, line and column' '
    rm dbt/models/marts/bad_sql.sql dbt/models/marts/after_*.sql &&
    printf "select 1 as a,\n  {{ undefined_thing() }} as b\n" >dbt/models/marts/bad_jinja.sql &&
    test_expect_code 1 dango run >out &&
    test_grep "ERROR creating sql table model marts.bad_jinja" out &&
    test_grep "Compilation Error in model bad_jinja (models/marts/bad_jinja.sql)" out &&
    test_grep "models/marts/bad_jinja.sql:2:6: '"'"'undefined_thing'"'"' is undefined" out &&
    printf "select {%% if %%} 1\n" >dbt/models/marts/bad_jinja.sql &&
    test_expect_code 1 dango run 2>err >out &&
    test_grep "Compilation Error in model bad_jinja (models/marts/bad_jinja.sql)" out &&
    test_grep "  models/marts/bad_jinja.sql:1:" out && test_grep "OK created sql table model marts.good " out
'

test_expect_success 'a missing ref is an error before anything runs' '
    printf "select * from {{ ref(\"goood\") }}\n" >dbt/models/marts/bad_jinja.sql &&
    test_expect_code 1 dango run 2>err >out &&
    echo "error: model '"'"'bad_jinja'"'"' (models/marts/bad_jinja.sql) depends on a node named '"'"'goood'"'"' which was not found (did you mean '"'"'good'"'"'?)" >expect &&
    test_cmp expect err && ! grep -q START out
'

test_expect_success 'a cycle is named' '
    printf "select * from {{ ref(\"cyc_b\") }}\n" >dbt/models/marts/bad_jinja.sql &&
    printf "select * from {{ ref(\"bad_jinja\") }}\n" >dbt/models/marts/cyc_b.sql &&
    test_expect_code 1 dango run 2>err &&
    test_grep "found a cycle: model.p.cyc_b --> model.p.bad_jinja --> model.p.cyc_b" err &&
    rm dbt/models/marts/bad_jinja.sql dbt/models/marts/cyc_b.sql
'

test_expect_success 'a required var missing, and raise_compiler_error' '
    printf "select {{ var(\"nope\") }} as x\n" >dbt/models/marts/v.sql &&
    test_expect_code 1 dango run -s v >out 2>err &&
    test_grep "  models/marts/v.sql:1:11: required var '"'"'nope'"'"' not found" out &&
    printf "{{ exceptions.raise_compiler_error(\"custom stop\") }}\n" >dbt/models/marts/v.sql &&
    test_expect_code 1 dango run -s v >out 2>err && test_grep "v.sql:1:4: Compilation Error: custom stop" out &&
    rm dbt/models/marts/v.sql
'

test_expect_success 'unsupported features fail their own nodes, named; the rest runs' '
    printf "def model(dbt, session):\n    return None\n" >dbt/models/marts/py.py &&
    printf "select * from {{ ref(\"py\") }}\n" >dbt/models/marts/after_py.sql &&
    test_expect_code 1 dango run >out 2>err &&
    test_grep "ERROR creating sql table model marts.py " out &&
    test_grep "Compilation Error in model py (models/marts/py.py)" out &&
    test_grep "Python models are not supported by Dango; write the model in SQL" out &&
    test_grep "SKIP relation marts.after_py " out &&
    test_grep "OK created sql table model marts.good " out &&
    rm dbt/models/marts/py.py dbt/models/marts/after_py.sql &&
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n" >dbt/packages.yml &&
    test_expect_code 1 dango run 2>err &&
    test_grep "packages.yml:2:5: package .dbt_utils. is not installed in .*dbt_packages: run \`dango deps\`" err &&
    rm dbt/packages.yml &&
    printf "{{ config(materialized=\"snapshotty\") }}select 1\n" >dbt/models/marts/m.sql &&
    test_expect_code 1 dango run >out 2>err &&
    test_grep "materialization '"'"'snapshotty'"'"' is not supported by Dango" out &&
    test_grep "OK created sql table model marts.good " out &&
    rm dbt/models/marts/m.sql &&
    mkdir -p dbt/snapshots && printf "{%% snapshot snap %%}\nselect 1 as id\n{%% endsnapshot %%}\n" >dbt/snapshots/s.sql &&
    printf "select * from {{ ref(\"snap\") }}\n" >dbt/models/marts/after_snap.sql &&
    test_expect_code 1 dango build >out 2>err &&
    test_grep "snapshot .snap. needs a .strategy. in its config" out &&
    test_grep "SKIP relation marts.after_snap " out &&
    test_grep "OK created sql table model marts.good " out &&
    rm -r dbt/snapshots dbt/models/marts/after_snap.sql
'

test_expect_success 'a model whose parse-time render fails fails alone' '
    printf "select {{ no_such_macro() }} as x\n" >dbt/models/marts/broken.sql &&
    test_expect_code 1 dango run >out 2>err &&
    test_grep "Compilation Error in model broken (models/marts/broken.sql)" out &&
    test_grep "models/marts/broken.sql:1:" out &&
    test_grep "OK created sql table model marts.good " out &&
    rm dbt/models/marts/broken.sql
'

test_expect_success '--skip-source skips everything downstream of a source' '
    dango query --write "CREATE SCHEMA raw_s; CREATE TABLE raw_s.t AS SELECT 1 AS x; CREATE TABLE raw_s.u AS SELECT 2 AS x" >/dev/null &&
    printf "version: 2\nsources:\n  - name: s\n    schema: raw_s\n    tables: [{name: t}, {name: u}]\n" >dbt/models/marts/src.yml &&
    printf "select * from {{ source(\"s\", \"t\") }}\n" >dbt/models/marts/from_t.sql &&
    printf "select * from {{ ref(\"from_t\") }}\n" >dbt/models/marts/from_from_t.sql &&
    printf "select * from {{ source(\"s\", \"u\") }}\n" >dbt/models/marts/from_u.sql &&
    dango run --skip-source s.t >out &&
    test_grep "SKIP relation marts.from_t " out && test_grep "SKIP relation marts.from_from_t " out &&
    test_grep "OK created sql table model marts.from_u" out &&
    test_grep "SKIP=2" out
'

test_expect_success 'options: bad threads, stray arguments, the lock' '
    test_expect_code 2 dango run --threads -1 2>err &&
    test_expect_code 2 dango run good 2>err && test_grep "use --select" err &&
    test_expect_code 2 dango run --bogus 2>err &&
    rm -f held && (flock .dango/state/dbt.lock sh -c "touch held; sleep 3" &) && wait_for_file held &&
    test_expect_code 3 dango run --wait 0 >out 2>err && test_grep "lock" err
'

test_expect_success 'outside any project the error says what to do' '
    (cd "$TRASH" && mkdir -p empty && cd empty && test_expect_code 1 dango run 2>err && test_grep "not in a Dango project" err)
'

test_done
