#!/usr/bin/env bash
# dango init: the project layout, the warehouse, the dbt project.
. "$(dirname "$0")/lib.sh"

test_expect_success 'init NAME creates the whole layout' '
    dango init shop </dev/null >out &&
    test_grep "Created Dango project '"'"'shop'"'"'" out &&
    for f in .dango/project.yml .dango/sources.yml .dango/profiles.yml .env .gitignore README.md \
             data/warehouse.duckdb dbt/dbt_project.yml dbt/macros/generate_schema_name.sql; do
        test -f shop/$f || { echo "missing $f"; exit 1; }
    done &&
    for d in .dango/state .dango/logs data/uploads dbt/models/staging dbt/models/intermediate \
             dbt/models/marts dbt/seeds dbt/tests dbt/snapshots dbt/analyses; do
        test -d shop/$d || { echo "missing $d"; exit 1; }
    done
'

test_expect_success 'the warehouse holds the four layers' '
    cd shop &&
    q "SELECT string_agg(schema_name, '"'"'|'"'"' ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name IN ('"'"'raw'"'"','"'"'staging'"'"','"'"'intermediate'"'"','"'"'marts'"'"')" >out &&
    echo "intermediate|marts|raw|staging" >expect && test_cmp expect out
'

test_expect_success 'the warehouse file is a plain DuckDB database (magic bytes)' '
    dd if=shop/data/warehouse.duckdb bs=1 skip=8 count=4 2>/dev/null >magic &&
    printf DUCK >expect && test_cmp expect magic
'

test_expect_success 'sources.yml starts with a version and an empty list' '
    grep -v "^#" shop/.dango/sources.yml >out &&
    printf "version: \"1.0\"\nsources: []\n" >expect && test_cmp expect out
'

test_expect_success 'project.yml holds the defaults' '
    test_grep "^name: shop$" shop/.dango/project.yml &&
    test_grep "warehouse: data/warehouse.duckdb" shop/.dango/project.yml &&
    test_grep "port: 8800" shop/.dango/project.yml &&
    test_grep "workers: 4" shop/.dango/project.yml &&
    test_grep "threads: 4" shop/.dango/project.yml &&
    test_grep "lock_wait: 300" shop/.dango/project.yml
'

test_expect_success 'dbt_project.yml: staging as views, marts as tables, profile dango' '
    f=shop/dbt/dbt_project.yml &&
    test_grep "^profile: '"'"'dango'"'"'" $f &&
    test_grep "^name: '"'"'shop'"'"'" $f &&
    sed -n "/staging:/,/schema/p" $f | test_grep "+materialized: view" /dev/stdin &&
    sed -n "/marts:/,/schema/p" $f | test_grep "+materialized: table" /dev/stdin
'

test_expect_success 'profiles.yml points dbt-duckdb at the warehouse' '
    f=shop/.dango/profiles.yml &&
    test_grep "^dango:" $f && test_grep "type: duckdb" $f &&
    test_grep "path: data/warehouse.duckdb" $f && test_grep "threads: 4" $f
'

test_expect_success 'generate_schema_name gives clean schema names' '
    test_grep "macro generate_schema_name(custom_schema_name, node)" shop/dbt/macros/generate_schema_name.sql &&
    test_grep "custom_schema_name | trim" shop/dbt/macros/generate_schema_name.sql
'

test_expect_success '.gitignore keeps data and secrets out of git' '
    test_grep "^.env$" shop/.gitignore && test_grep "^data/warehouse.duckdb$" shop/.gitignore &&
    test_grep "^dbt/target/$" shop/.gitignore
'

test_expect_success 'an existing project is refused without --force' '
    test_expect_code 1 dango init shop 2>err &&
    test_grep "already a Dango project" err && test_grep "(use --force" err
'

test_expect_success '--force rewrites generated files but keeps sources, .env and data' '
    cd shop &&
    printf "a\n1\n" >data/a.csv && dango source add csv --name a --path data/a.csv --no-test >/dev/null &&
    echo "SECRET=1" >>.env && echo "junk" >.dango/profiles.yml &&
    dango query --write "CREATE TABLE raw.keepme AS SELECT 42 AS x" >/dev/null &&
    cd .. && dango init shop --force >/dev/null &&
    test_grep "name: a" shop/.dango/sources.yml &&
    test_grep "SECRET=1" shop/.env &&
    test_grep "type: duckdb" shop/.dango/profiles.yml &&
    (cd shop && q "SELECT x FROM raw.keepme" >out && echo 42 >expect && test_cmp expect out)
'

test_expect_success 'init without a name uses the current folder' '
    mkdir here && cd here && dango init --skip-wizard >out </dev/null &&
    test -f .dango/project.yml && test_grep "^name: here$" .dango/project.yml
'

test_expect_success 'a project name with a dash gives a valid dbt project name' '
    dango init my-shop >/dev/null && test_grep "^name: '"'"'my_shop'"'"'" my-shop/dbt/dbt_project.yml
'


test_expect_success 'on a terminal the wizard asks for the name' '
    mkdir wiz && cd wiz &&
    run_on_tty "analytics\nn\n" dango init >out &&
    test_grep "Project name" out &&
    test_grep "^name: analytics$" .dango/project.yml
'

test_done
