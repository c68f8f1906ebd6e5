#!/usr/bin/env bash
# Schema drift of a database source, end to end (issue 13 §1): a column
# whose type changes from BIGINT to VARCHAR and a removed column are
# caught by the sync, reported, skip exactly the models downstream of the
# source in dango run / build, and are released by accept.
. "$(dirname "$0")/lib.sh"

# "now" stands still at these times (DANGO_CLOCK_SPEED=0)
export DANGO_CLOCK_SPEED=0
T1=2026-03-28T10:00:00Z T2=2026-03-28T12:00:00Z T3=2026-03-28T14:00:00Z

dango init p >/dev/null </dev/null
cd p
sqlite3 data/shop.db <<'SQL'
CREATE TABLE orders (id INTEGER PRIMARY KEY, amount BIGINT, currency TEXT);
INSERT INTO orders VALUES (1, 10, 'EUR'), (2, 20, 'USD');
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO customers VALUES (1, 'Ada');
SQL
printf "id,city\n1,Oslo\n" >data/stores.csv
cat >.dango/sources.yml <<'EOF'
version: "1.0"
sources:
  - name: shop_db
    type: sqlite
    sqlite:
      path: data/shop.db
      streams:
        "*": {}
  - name: stores
    type: csv
    csv:
      path: data/stores.csv
EOF
last_load() { q "SELECT load_id FROM raw_shop_db._dlt_loads ORDER BY inserted_at DESC LIMIT 1"; }

test_expect_success 'the first sync sets the baseline silently' '
    DANGO_NOW=$T1 dango sync >out 2>err &&
    test_grep ! -i drift out && test_grep ! -i drift err &&
    dango governance baseline shop_db >out &&
    cat >expect <<-EOF &&
	Baseline schema of shop_db:
	  customers (set $T1, first sync)
	    id    BIGINT
	    name  VARCHAR
	  orders (set $T1, first sync)
	    id        BIGINT
	    amount    BIGINT
	    currency  VARCHAR
	EOF
    test_cmp expect out &&
    dango governance drift-report >out && echo "No open schema drift: every raw table matches its baseline." >expect &&
    test_cmp expect out
'

test_expect_success 'marts over both sources and one over neither run' '
    cat >dbt/models/marts/fct_orders.sql <<-\EOF &&
	select id, amount, currency from {{ ref('"'stg_shop_db_orders'"') }}
	EOF
    cat >dbt/models/marts/revenue.sql <<-\EOF &&
	select currency, sum(amount) as revenue from {{ ref('"'fct_orders'"') }} group by 1
	EOF
    cat >dbt/models/marts/store_cities.sql <<-\EOF &&
	select city from {{ ref('"'stg_stores'"') }}
	EOF
    echo "select 1 as one" >dbt/models/marts/calendar.sql &&
    dango run >out 2>&1 &&
    test_grep "Done. PASS=7 WARN=0 ERROR=0 SKIP=0 TOTAL=7" out
'

test_expect_success 'a type change and a removed column are breaking drift; the sync still succeeds' '
    sqlite3 data/shop.db "DROP TABLE orders; CREATE TABLE orders (id INTEGER PRIMARY KEY, amount TEXT);
                          INSERT INTO orders VALUES (1, '"'10.50 EUR'"'), (2, '"'20'"');" &&
    DANGO_NOW=$T2 dango sync >out 2>err &&
    cat >expect <<-\EOF &&
	⚠ breaking schema drift in raw_shop_db: orders.amount BIGINT -> VARCHAR, orders.currency removed. dbt models downstream of shop_db are skipped until it is accepted. Review: dango governance drift-report shop_db. Accept: dango governance accept shop_db
	EOF
    test_cmp expect err &&
    test_grep "Success: 2/2 sources" out
'

test_expect_success 'drift-report says what changed, since when, what depends on it and how to resolve it; exit 1' '
    LOAD=$(last_load) &&
    test_expect_code 1 dango governance drift-report shop_db >out &&
    cat >expect <<-EOF &&
	shop_db: 2 breaking changes open
	  breaking  orders.amount    type changed BIGINT -> VARCHAR  since $T2 (load $LOAD)
	  breaking  orders.currency  removed (was VARCHAR)           since $T2 (load $LOAD)
	  dbt models depending on it (4, skipped by dango run until accepted): fct_orders, revenue, stg_shop_db_customers, stg_shop_db_orders
	  To resolve: update the models for the new schema, then accept it and rebuild:
	    dango governance accept shop_db
	    dango run --select source:shop_db+
	EOF
    test_cmp expect out &&
    test_expect_code 1 dango governance drift-report >all &&
    test_cmp expect all &&
    dango governance drift-report stores >out &&
    echo "No open schema drift for stores: its raw tables match their baseline." >expect && test_cmp expect out &&
    test_expect_code 2 dango governance drift-report nosuch 2>err &&
    test_grep "no source named .nosuch." err
'

test_expect_success 'drift-report --json' '
    LOAD=$(last_load) &&
    test_expect_code 1 dango governance drift-report --json >out &&
    jq -c . out >got &&
    cat >expect <<-EOF &&
	{"breaking":true,"sources":[{"source":"shop_db","breaking":true,"events":[{"table":"orders","column":"amount","change":"type_changed","old_type":"BIGINT","new_type":"VARCHAR","breaking":true,"status":"open","first_seen":"$T2","first_load_id":"$LOAD","last_seen":"$T2","last_load_id":"$LOAD","accepted_by":null,"accepted_at":null},{"table":"orders","column":"currency","change":"column_removed","old_type":"VARCHAR","new_type":null,"breaking":true,"status":"open","first_seen":"$T2","first_load_id":"$LOAD","last_seen":"$T2","last_load_id":"$LOAD","accepted_by":null,"accepted_at":null}],"downstream_models":["fct_orders","revenue","stg_shop_db_customers","stg_shop_db_orders"],"resolve":["dango governance accept shop_db","dango run --select source:shop_db+"]}]}
	EOF
    test_cmp expect got
'

test_expect_success 'dango run skips exactly the models downstream of shop_db, once per source, SKIP in run_results.json' '
    dango run >out 2>err &&
    sed -E "s/^[0-9:]{8}  //" out >run &&
    cat >expect <<-\EOF &&
	skipping 4 models downstream of shop_db: breaking schema drift (orders.amount BIGINT -> VARCHAR, orders.currency removed). Review: dango governance drift-report shop_db. Accept: dango governance accept shop_db
	EOF
    grep "^skipping" run >got && test_cmp expect got &&
    grep -E "SKIP relation|OK created" run | sed -E "s/^[0-9]+ of [0-9]+ //; s/ \.+ .*//" | sort >got &&
    cat >expect <<-\EOF &&
	OK created sql table model marts.calendar
	OK created sql table model marts.store_cities
	OK created sql view model staging.stg_stores
	SKIP relation marts.fct_orders
	SKIP relation marts.revenue
	SKIP relation staging.stg_shop_db_customers
	SKIP relation staging.stg_shop_db_orders
	EOF
    test_cmp expect got &&
    test_grep "Done. PASS=3 WARN=0 ERROR=0 SKIP=4 TOTAL=7" run &&
    jq -r ".results[] | [.unique_id, .status, .message] | @tsv" dbt/target/run_results.json | sort >got &&
    R="downstream of shop_db: breaking schema drift (orders.amount BIGINT -> VARCHAR, orders.currency removed). Review: dango governance drift-report shop_db. Accept: dango governance accept shop_db" &&
    printf "%s\t%s\t%s\n" model.p.calendar success OK model.p.fct_orders skipped "$R" model.p.revenue skipped "$R" \
        model.p.stg_shop_db_customers skipped "$R" model.p.stg_shop_db_orders skipped "$R" \
        model.p.stg_stores success OK model.p.store_cities success OK | sort >expect &&
    test_cmp expect got
'

test_expect_success 'dango build skips the tests downstream too; a selection without them prints nothing' '
    dango build >out 2>&1 &&
    test_grep "skipping 4 models downstream of shop_db" out &&
    test_grep ! "PASS not_null_stg_shop_db" out &&
    dango run --select calendar >out 2>&1 &&
    test_grep ! skipping out && test_grep "Done. PASS=1 WARN=0 ERROR=0 SKIP=0 TOTAL=1" out
'

test_expect_success 'the same drift seen again is the same events (first seen kept)' '
    LOAD1=$(last_load) &&
    DANGO_NOW=$T3 dango sync shop_db >out 2>err &&
    test_grep "breaking schema drift in raw_shop_db: orders.amount BIGINT -> VARCHAR, orders.currency removed" err &&
    LOAD2=$(last_load) && test "$LOAD1" != "$LOAD2" &&
    test_expect_code 1 dango governance drift-report shop_db --json >out &&
    jq -r ".sources[].events[] | [.column, .first_seen, .first_load_id, .last_seen, .last_load_id] | @tsv" out >got &&
    printf "amount\t$T2\t$LOAD1\t$T3\t$LOAD2\ncurrency\t$T2\t$LOAD1\t$T3\t$LOAD2\n" >expect &&
    test_cmp expect got
'

test_expect_success 'dango validate warns about open breaking drift (exit 0)' '
    dango validate >out 2>err &&
    test_grep "⚠ source .shop_db.: breaking schema drift (orders.amount BIGINT -> VARCHAR, orders.currency removed); dango run skips the models downstream. Review: dango governance drift-report shop_db. Accept: dango governance accept shop_db" err &&
    test_grep "All checks passed." out
'

test_expect_success '--ignore-drift runs the downstream models anyway, and says so' '
    test_must_fail dango run --ignore-drift >out 2>&1 &&
    test_grep "ignore-drift: running 4 models downstream of shop_db despite breaking schema drift (orders.amount BIGINT -> VARCHAR, orders.currency removed)" out &&
    test_grep ! "^[0-9:]*  skipping" out &&
    test_grep "ERROR creating sql view model staging.stg_shop_db_orders" out
'

test_expect_success 'accept records who and when, and releases the models' '
    test_expect_code 1 dango governance drift-report >/dev/null &&
    DANGO_NOW=$T3 USER=alice dango governance accept shop_db >out &&
    cat >expect <<-\EOF &&
	✓ Accepted 2 schema changes of shop_db: orders.amount BIGINT -> VARCHAR, orders.currency removed (by alice): the current schema is the baseline
	Models downstream of shop_db run again with the next '"'"'dango run'"'"'.
	EOF
    test_cmp expect out &&
    dango governance drift-report >out && echo "No open schema drift: every raw table matches its baseline." >expect &&
    test_cmp expect out &&
    LOAD=$(dango governance drift-report --all --json | jq -r ".sources[0].events[0].first_load_id") &&
    dango governance drift-report --all >out &&
    cat >expect <<-EOF &&
	shop_db: 0 breaking changes open
	  accepted  orders.amount    type changed BIGINT -> VARCHAR  since $T2 (load $LOAD)
	            accepted by alice at $T3
	  accepted  orders.currency  removed (was VARCHAR)           since $T2 (load $LOAD)
	            accepted by alice at $T3
	EOF
    test_cmp expect out &&
    dango governance baseline shop_db >out &&
    cat >expect <<-EOF &&
	Baseline schema of shop_db:
	  customers (set $T3, accepted by alice)
	    id    BIGINT
	    name  VARCHAR
	  orders (set $T3, accepted by alice)
	    id      BIGINT
	    amount  VARCHAR
	EOF
    test_cmp expect out &&
    # the user updates the models for the new schema
    sed -i "/^    currency,$/d" dbt/models/staging/stg_shop_db_orders.sql &&
    echo "select id, amount from {{ ref('"'stg_shop_db_orders'"') }}" >dbt/models/marts/fct_orders.sql &&
    echo "select count(*) as n from {{ ref('"'fct_orders'"') }}" >dbt/models/marts/revenue.sql &&
    dango run >out 2>&1 &&
    test_grep ! skipping out && test_grep "Done. PASS=7 WARN=0 ERROR=0 SKIP=0 TOTAL=7" out &&
    q "SELECT amount FROM marts.fct_orders ORDER BY id" >got && printf "10.50 EUR\n20\n" >expect && test_cmp expect got
'

test_expect_success 'accept --table leaves the other tables of the source open' '
    sqlite3 data/shop.db "ALTER TABLE customers DROP COLUMN name; DROP TABLE orders; CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL);
                          INSERT INTO orders VALUES (1, 1.5);" &&
    dango sync shop_db >out 2>err &&
    test_grep "breaking schema drift in raw_shop_db: customers.name removed, orders.amount VARCHAR -> DOUBLE" err &&
    USER=bob dango governance accept shop_db --table customers >out &&
    test_grep "Accepted 1 schema change of shop_db.customers: customers.name removed (by bob)" out &&
    test_expect_code 1 dango governance drift-report shop_db >out &&
    test_grep "shop_db: 1 breaking change open" out &&
    test_grep "orders.amount  type changed VARCHAR -> DOUBLE" out &&
    test_grep ! "customers.name" out &&
    test_must_fail dango governance accept shop_db --table nosuch 2>err &&
    test_grep "source .shop_db. has no table .nosuch. with a recorded schema" err
'

test_expect_success 'usage errors' '
    test_expect_code 2 dango governance &&
    test_expect_code 2 dango governance accept 2>err && test_grep "accept needs a source" err &&
    test_expect_code 2 dango governance drift-reprot 2>err && test_grep "did you mean .drift-report." err &&
    test_expect_code 2 dango governance accept nosuch 2>err && test_grep "no source named .nosuch." err
'

test_done
