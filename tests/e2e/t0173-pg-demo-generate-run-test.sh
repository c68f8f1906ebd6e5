#!/usr/bin/env bash
# The demo project (scripts/demo.sh, examples/sample_data) on a postgres
# warehouse (#19): .dango/profiles.yml follows project.yml (a dbt-postgres
# target, the password as env_var, never the secret), dango generate writes
# staging models from the raw tables in PostgreSQL, dango run and dango test
# build and test them there, and the mart's rows read back are those of the
# same project on DuckDB. The raw tables are made with psql as dango sync
# makes them (sync into PostgreSQL is another part of #19).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
SAMPLE="$TESTS_DIR/../examples/sample_data"

mart() {
    mkdir -p "$1/dbt/models/marts" &&
    cp "$TESTS_DIR/../examples/marts/revenue_by_country.sql" "$1/dbt/models/marts/"
}

# the raw tables and load of dango sync, made with psql
cat >raw.sql <<EOF
CREATE SCHEMA raw_orders; CREATE SCHEMA raw_customers;
CREATE TABLE raw_orders.orders (order_id bigint, customer_id bigint, status text, amount double precision,
  currency text, ordered_at timestamp, note text, _dlt_load_id text, _dlt_id uuid DEFAULT gen_random_uuid(),
  _dlt_extracted_at timestamptz, _dango_filename text, _dango_file_mtime timestamp,
  _dango_loaded_at timestamptz, _dango_deleted boolean);
CREATE TABLE raw_customers.customers (customer_id bigint, name text, email text, country text,
  signed_up_at timestamp, _dlt_load_id text, _dlt_id uuid DEFAULT gen_random_uuid(),
  _dlt_extracted_at timestamptz, _dango_filename text, _dango_file_mtime timestamp,
  _dango_loaded_at timestamptz, _dango_deleted boolean);
\copy raw_orders.orders (order_id, customer_id, status, amount, currency, ordered_at, note) FROM '$SAMPLE/orders.csv' CSV HEADER
\copy raw_customers.customers (customer_id, name, email, country, signed_up_at) FROM '$SAMPLE/customers.csv' CSV HEADER
UPDATE raw_orders.orders SET _dlt_load_id = '1700000000.1', _dlt_extracted_at = now(), _dango_filename = 'orders.csv',
  _dango_file_mtime = now(), _dango_loaded_at = now(), _dango_deleted = false;
UPDATE raw_customers.customers SET _dlt_load_id = '1700000000.1', _dlt_extracted_at = now(),
  _dango_filename = 'customers.csv', _dango_file_mtime = now(), _dango_loaded_at = now(), _dango_deleted = false;
CREATE TABLE raw_orders._dlt_loads (load_id text, schema_name text, status bigint, inserted_at timestamptz,
  schema_version_hash text);
INSERT INTO raw_orders._dlt_loads VALUES ('1700000000.1', 'orders', 0,
  '2024-05-06 07:08:09.5+00', NULL);
EOF

test_expect_success 'setup: the demo on DuckDB (the reference)' '
    dango init duck --skip-wizard >/dev/null </dev/null &&
    cp "$SAMPLE"/*.csv duck/data/ &&
    (cd duck && dango source add csv --name orders --path data/orders.csv >/dev/null &&
     dango source add csv --name customers --path data/customers.csv >/dev/null &&
     dango sync >/dev/null 2>&1) && mart duck &&
    (cd duck && dango run >/dev/null && dango test >/dev/null)
'

test_expect_success 'setup: the demo project on PostgreSQL, its raw tables made as dango sync makes them' '
    dango init p --skip-wizard >/dev/null </dev/null &&
    cp "$SAMPLE"/*.csv p/data/ &&
    (cd p && dango source add csv --name orders --path data/orders.csv >/dev/null &&
     dango source add csv --name customers --path data/customers.csv >/dev/null) &&
    sed -i "/^  warehouse:/d" p/.dango/project.yml &&
    cat >>p/.dango/project.yml <<-EOF &&
	warehouse:
	  type: postgres
	  host: 127.0.0.1
	  port: $PGPORT
	  database: wh
	  user: dango
	  password_env: WH_PASSWORD
	EOF
    echo "WH_PASSWORD=$DB_PW" >>p/.env &&
    rm p/data/warehouse.duckdb &&
    PGDB=wh psql_do <raw.sql
'

test_expect_success 'dango generate writes the postgres profile (no secret) and staging models from PostgreSQL' '
    (cd p && dango generate) >out 2>err &&
    test_grep "Wrote .dango/profiles.yml: a postgres target" out &&
    cat >expect <<-EOF &&
	dango:
	  target: dev
	  outputs:
	    dev:
	      type: postgres
	      host: "127.0.0.1"
	      port: "$PGPORT"
	      user: "dango"
	      password: "{{ env_var('"'"'WH_PASSWORD'"'"') }}"
	      dbname: "wh"
	      schema: public
	      threads: 4
	EOF
    grep -v "^#" p/.dango/profiles.yml >actual &&
    test_cmp expect actual &&
    ! grep -q "$DB_PW" p/.dango/profiles.yml &&
    for f in stg_orders.sql stg_customers.sql _stg_orders__schema.yml _stg_customers__sources.yml; do
        sed 1d duck/dbt/models/staging/$f | grep -v description: >expect &&
        sed 1d p/dbt/models/staging/$f | grep -v description: >actual &&
        test_cmp expect actual || return 1
    done &&
    ! test -e p/data/warehouse.duckdb
'

test_expect_success 'dango run and dango test build and test the models in PostgreSQL' '
    mart p &&
    (cd p && dango run) >out 2>err &&
    test_grep "Completed successfully" out &&
    test_grep "PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3" out &&
    (cd p && dango test) >out 2>err &&
    test_grep "PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4" out &&
    PGDB=wh psql_do "SELECT count(*) FROM marts.revenue_by_country" | grep -q "[1-9]" &&
    ! test -e p/data/warehouse.duckdb
'

test_expect_success 'the mart and the staging rows read back are those of the DuckDB project' '
    q="SELECT country, status, orders, CAST(revenue AS DECIMAL(12,2)) AS revenue
       FROM marts.revenue_by_country ORDER BY 1, 2" &&
    (cd duck && dango query --csv "$q") >expect &&
    (cd p && dango query --csv "$q") >actual &&
    [ $(wc -l <expect) -gt 5 ] && test_cmp expect actual &&
    q="SELECT order_id, customer_id, status, amount, currency, ordered_at, note FROM staging.stg_orders ORDER BY 1" &&
    (cd duck && dango query --csv "$q") >expect &&
    (cd p && dango query --csv "$q") >actual &&
    [ $(wc -l <expect) -eq 501 ] && test_cmp expect actual
'

test_expect_success 'a wrong password in .env fails the run, naming the server, never the password' '
    (cd p && WH_PASSWORD=nottheone9 test_must_fail dango run) >out 2>err &&
    cat out err >all &&
    test_grep "127.0.0.1" all &&
    ! grep -q nottheone9 all
'

test_expect_success 'breaking schema drift of a source holds its models back on PostgreSQL too' '
    sqlite3 p/.dango/state/dango.sqlite "CREATE TABLE IF NOT EXISTS drift_events (id INTEGER PRIMARY KEY,
        source TEXT NOT NULL, table_name TEXT NOT NULL, column_name TEXT NOT NULL, kind TEXT NOT NULL,
        old_type TEXT, new_type TEXT, breaking INTEGER NOT NULL, load_id TEXT, first_seen TEXT NOT NULL,
        last_load_id TEXT, last_seen TEXT, status TEXT NOT NULL DEFAULT '"'"'open'"'"', accepted_by TEXT, accepted_at TEXT);
      INSERT INTO drift_events (source, table_name, column_name, kind, old_type, new_type, breaking,
        first_seen, status) VALUES ('"'"'orders'"'"', '"'"'orders'"'"', '"'"'note'"'"', '"'"'removed'"'"', '"'"'text'"'"', NULL, 1,
        '"'"'2024-01-01T00:00:00Z'"'"', '"'"'open'"'"')" &&
    (cd p && dango run) >out 2>err &&
    test_grep "SKIP relation staging.stg_orders" out &&
    test_grep "SKIP relation marts.revenue_by_country" out &&
    test_grep "OK created sql view model staging.stg_customers" out
'

test_done
