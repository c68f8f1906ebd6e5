#!/usr/bin/env bash
# a plain dbt-duckdb project (no .dango/): --project-dir, --profiles-dir, --target, dbt's default schema names
. "$(dirname "$0")/lib.sh"

cp -r "$TESTS_DIR/fixtures/dbt/jaffle" jaffle
rm -rf jaffle/target jaffle/*.duckdb

norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //; s/ in [0-9]+\.[0-9]+s\]/ in Xs]/; s/in [0-9]+\.[0-9]+s\.$/in Xs./'; }
dq() { echo "$2" | duckdb_q "$1"; }

test_expect_success 'dango build runs a plain dbt project by --project-dir and --profiles-dir' '
    dango --project-dir jaffle build --profiles-dir jaffle >out && norm <out >actual &&
    test_grep "^Found 3 models, 4 tests, 2 seeds, 2 macros$" actual &&
    test_grep "^Concurrency: 2 threads$" actual &&
    test_grep "OK loaded seed file main_raw.raw_customers .* \[INSERT 3 in Xs\]" actual &&
    test_grep "OK created sql view model main.stg_orders" actual &&
    test_grep "OK created sql table model main_marts.customers" actual &&
    test_grep "PASS is_positive_or_zero_customers_total" actual &&
    test_grep "PASS relationships_stg_orders_custo_[0-9a-f]* " actual &&
    test_grep "^Done. PASS=9 WARN=0 ERROR=0 SKIP=0 TOTAL=9$" actual &&
    test -f jaffle.duckdb && test -f jaffle/target/manifest.json && test -f jaffle/target/dbt.lock
'

test_expect_success 'a relationships test depends on the model it points to' '
    jq -r ".nodes | to_entries[] | select(.key | startswith(\"test.jaffle.relationships\")) | .value.depends_on.nodes | join(\",\")" \
        jaffle/target/manifest.json >deps &&
    echo "model.jaffle.stg_orders,model.jaffle.stg_customers" >expect && test_cmp expect deps
'

test_expect_success 'the tables are where dbt-duckdb puts them' '
    mkdir -p dp && cat >dp/dbt_project.yml <<-\EOF &&
	name: dp
	profile: dp
	models:
	  dp:
	    +materialized: view
	EOF
    mkdir -p dp/models && echo "select first_name, total from main_marts.customers order by 1" >dp/models/peek.sql &&
    printf "dp:\n  outputs:\n    dev:\n      type: duckdb\n      path: jaffle.duckdb\n  target: dev\n" >dp/profiles.yml &&
    DBT_PROFILES_DIR=dp dango --project-dir dp run >/dev/null &&
    dango --project-dir dp ls >out && echo dp.peek >expect && test_cmp expect out &&
    printf "dp:\n  outputs:\n    dev:\n      type: duckdb\n      path: jaffle.duckdb\n      threads: 1\n  target: dev\n" >dp/profiles.yml &&
    dango --project-dir dp run --threads 1 >/dev/null
'

test_expect_success 'the description comes from a docs block, the var from the project' '
    jq -r ".nodes[\"model.jaffle.customers\"].description" jaffle/target/manifest.json >out &&
    echo "One row per customer, with their orders." >expect && test_cmp expect out &&
    jq -r ".nodes[\"model.jaffle.customers\"].config.tags[0]" jaffle/target/manifest.json >out && echo nightly >expect && test_cmp expect out
'

test_expect_success '--target picks another output; env_var in profiles.yml' '
    dango --project-dir jaffle seed --profiles-dir jaffle --target other >out &&
    test_grep "OK loaded seed file alt_raw.raw_orders" out && test -f other.duckdb &&
    JAFFLE_DB=env.duckdb dango --project-dir jaffle seed --profiles-dir jaffle -s raw_orders >/dev/null && test -f env.duckdb
'

test_expect_success 'a profile that is not duckdb or postgres is refused' '
    printf "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n" >pg.yml && mkdir -p pgdir && mv pg.yml pgdir/profiles.yml &&
    test_expect_code 1 dango --project-dir jaffle run --profiles-dir pgdir 2>err &&
    test_grep "has type .snowflake.: only .duckdb. and .postgres. are supported" err &&
    printf "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n" >pgdir/profiles.yml &&
    test_expect_code 1 dango --project-dir jaffle run --profiles-dir pgdir 2>err &&
    test_grep "target .dev. of type postgres needs a dbname (or database)" err
'

test_expect_success 'dango run from inside the dbt project folder finds it' '
    (cd jaffle && dango ls --output name -s marts --resource-type model) >out && echo customers >expect && test_cmp expect out
'

test_done
