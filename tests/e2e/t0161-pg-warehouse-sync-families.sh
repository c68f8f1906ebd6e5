#!/usr/bin/env bash
# dango sync into a PostgreSQL warehouse (#19, loading), the other source
# families: a PostgreSQL database source (every common type through
# DuckDB and back: numeric, uuid, jsonb, arrays, timestamptz, bytea,
# interval) with an incremental merge on its primary key, and a command
# source (NDJSON) merging by primary key with a child table; the rows
# read back with psql.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start
psql_do "CREATE DATABASE shop"
PGDB=shop psql_do <<'SQL'
CREATE TABLE alltypes (id int PRIMARY KEY, n numeric(12,3), d double precision, t text, b boolean,
  dt date, tm time, ts timestamp, tstz timestamptz, iv interval, u uuid, jb jsonb, by bytea,
  ia integer[], ta text[]);
INSERT INTO alltypes VALUES
 (1, 123456789.123, 3.141592653589793, 'a "quoted", line
two', true, '2024-02-29', '23:59:59.5', '2024-01-01 10:00:00.123456', '2024-01-01 10:00:00+02',
  '1 year 2 mons 3 days 04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": [1, 2], "s": "x\\y"}',
  '\x00ff10', '{1,2,NULL}', '{"a b","c,d",NULL,"x\"y"}'),
 (2, NULL, NULL, '', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL);
CREATE TABLE orders (order_id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00+00'), (2, 20, '2024-01-02 10:00:00+00');
SQL

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
echo "SHOP_PW=$DB_PW" >>.env
mkdir -p bin
cat >bin/feed <<\EOF
#!/bin/sh
cat data/feed.ndjson
EOF
chmod +x bin/feed
cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: postgres
    postgres:
      host: 127.0.0.1
      port: $PGPORT
      database: shop
      user: dango
      password_env: SHOP_PW
      streams:
        public.alltypes: {mode: full-refresh}
        public.orders: {mode: incremental, primary_key: [order_id], update_key: updated_at}
  - name: feed
    type: command
    command:
      run: [bin/feed]
      format: ndjson
      primary_key: [id]
      write_disposition: merge
EOF
cat >data/feed.ndjson <<\EOF
{"id": 1, "name": "one", "tags": ["a", "b"]}
{"id": 2, "name": "two", "tags": []}
EOF

test_expect_success 'a database source syncs into the postgres warehouse' '
    dango sync shop >out 2>err &&
    test_grep "Loaded 2 rows into raw_shop.alltypes" out &&
    test_grep "Loaded 2 rows into raw_shop.orders" out
'

test_expect_success 'every type keeps its meaning on the way through DuckDB and back' '
    whq "SELECT column_name, format_type(a.atttypid, a.atttypmod) FROM information_schema.columns c
         JOIN pg_attribute a ON a.attrelid = '"'"'raw_shop.alltypes'"'"'::regclass AND a.attname = c.column_name
         WHERE table_schema = '"'"'raw_shop'"'"' AND table_name = '"'"'alltypes'"'"' AND column_name NOT LIKE '"'"'\_dlt%'"'"'
         ORDER BY ordinal_position" >types &&
    cat >expect <<-\EOF &&
	column_name|format_type
	id|integer
	n|numeric(12,3)
	d|double precision
	t|text
	b|boolean
	dt|date
	tm|time without time zone
	ts|timestamp without time zone
	tstz|timestamp with time zone
	iv|interval
	u|uuid
	jb|jsonb
	by|bytea
	ia|integer[]
	ta|text[]
	(15 rows)
	EOF
    test_cmp expect types &&
    PGDB=shop psql_do "COPY (SELECT * FROM alltypes ORDER BY id) TO STDOUT" >source.rows &&
    PGDB=wh psql_do "COPY (SELECT id, n, d, t, b, dt, tm, ts, tstz, iv, u, jb, by, ia, ta FROM raw_shop.alltypes ORDER BY id) TO STDOUT" >wh.rows &&
    test_cmp source.rows wh.rows &&
    whq "SELECT t = '"'"''"'"', ia = '"'"'{}'"'"', ta IS NULL FROM raw_shop.alltypes WHERE id = 2" >e &&
    printf "?column?|?column?|?column?\nt|t|t\n(1 row)\n" >expect && test_cmp expect e
'

test_expect_success 'an incremental merge replaces changed rows by primary key' '
    PGDB=shop psql_do "UPDATE orders SET amount = 25, updated_at = '"'"'2024-01-03 10:00:00+00'"'"' WHERE order_id = 2;
                      INSERT INTO orders VALUES (3, 30, '"'"'2024-01-04 10:00:00+00'"'"')" &&
    dango sync shop >out 2>err &&
    whq "SELECT order_id, amount, updated_at FROM raw_shop.orders ORDER BY order_id" >got &&
    cat >expect <<-\EOF &&
	order_id|amount|updated_at
	1|10.00|2024-01-01 10:00:00+00
	2|25.00|2024-01-03 10:00:00+00
	3|30.00|2024-01-04 10:00:00+00
	(3 rows)
	EOF
    test_cmp expect got &&
    whq "SELECT state FROM raw_shop._dango_state" >st && cat st >&2 && grep -q "2024-01-04" st
'

test_expect_success 'a command source (NDJSON) merges by primary key, with its child table' '
    dango sync feed >out 2>err &&
    test_grep "Loaded 2 rows into raw_feed.feed" out &&
    printf "{\"id\": 2, \"name\": \"TWO\", \"tags\": [\"z\"]}\n{\"id\": 3, \"name\": \"three\", \"tags\": []}\n" >data/feed.ndjson &&
    dango sync feed >out 2>err &&
    whq "SELECT id, name FROM raw_feed.feed ORDER BY id" >got &&
    printf "id|name\n1|one\n2|TWO\n3|three\n(3 rows)\n" >expect && test_cmp expect got &&
    whq "SELECT f.id, l.value FROM raw_feed.feed f JOIN raw_feed.feed__tags l ON l._dlt_parent_id = f._dlt_id ORDER BY 1, l._dlt_list_idx" >tags &&
    printf "id|value\n1|a\n1|b\n2|z\n(3 rows)\n" >expect && test_cmp expect tags
'

test_done
