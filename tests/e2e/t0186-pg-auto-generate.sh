#!/usr/bin/env bash
# auto_generate on a postgres warehouse (#19): dango sync writes the staging
# models of new raw tables from the tables on the server, the same files a
# DuckDB project's sync writes for the same data (the column notes name
# the server's types), and dango run builds them there.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start

mkproject() {
    dango init "$1" --skip-wizard >/dev/null </dev/null &&
    (cd "$1" &&
     sed -i '/^auto_generate/d' .dango/project.yml && echo "auto_generate: true" >>.dango/project.yml &&
     printf 'id,name\n1,Ann\n2,Bo\n' >data/people.csv &&
     dango source add csv --name people --path data/people.csv >/dev/null)
}
mkproject duck && mkproject pgp && (cd pgp && pg_warehouse_use && echo "auto_generate: true" >>.dango/project.yml)

test_expect_success 'the first sync writes the staging model, as on DuckDB' '
    (cd duck && dango sync people >../duck.out) &&
    (cd pgp && dango sync people >../pg.out 2>../pg.err) &&
    test_grep ! "auto_generate" pg.err &&
    test_grep "^✓ Generated stg_people.sql" pg.out &&
    grep "Generated" duck.out >expect && grep "Generated" pg.out >got && test_cmp expect got &&
    (cd duck && find dbt/models/staging -type f | sort) >expect &&
    (cd pgp && find dbt/models/staging -type f | sort) >got && test_cmp expect got &&
    test_cmp duck/dbt/models/staging/stg_people.sql pgp/dbt/models/staging/stg_people.sql &&
    # the column notes name the server'"'"'s types, as dango generate does there
    test_grep "description: text" pgp/dbt/models/staging/_stg_people__schema.yml
'

test_expect_success 'dango run builds it on the server; a second sync generates nothing' '
    (cd pgp && dango run >../run.out 2>&1) &&
    whq "SELECT id, name FROM staging.stg_people ORDER BY id" >got &&
    printf "id|name\n1|Ann\n2|Bo\n(2 rows)\n" >expect && test_cmp expect got &&
    (cd pgp && dango sync people >../pg2.out) && test_grep ! "Generated" pg2.out
'

test_done
