#!/usr/bin/env bash
# PostgreSQL sources against a real server: every column type, the stream
# modes, state, wildcards, and the checks of `dango source test`.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }

psql_do <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE alltypes (
  id serial PRIMARY KEY, si smallint, i integer, bi bigint, n numeric(12,3), nu numeric, r real,
  d double precision, t text, vc varchar(10), c char(3), b boolean, dt date, tm time, tmtz timetz,
  ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb, by bytea, ia integer[],
  ta text[], na numeric(5,2)[], e mood, pi posint, ip inet, ci cidr, mac macaddr, m money);
INSERT INTO alltypes (si,i,bi,n,nu,r,d,t,vc,c,b,dt,tm,tmtz,ts,tstz,iv,u,j,jb,by,ia,ta,na,e,pi,ip,ci,mac,m) VALUES
 (-32768, 2147483647, -9223372036854775808, 123456789.123, 1.5, 1.25, 3.141592653589793,
  'a "quoted", line
two', 'x', 'ab', true, '2024-02-29', '23:59:59.5', '10:00:00+02', '2024-01-01 10:00:00.123456',
  '2024-01-01 10:00:00+02', '1 year 2 mons 3 days 04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": 1}', '{"b": [1, 2]}', '\x00ff10', '{1,2,NULL}', '{"a b","c,d",NULL,"x\"y"}', '{1.50,2.25}',
  'happy', 7, '192.168.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', '12.34'),
 (NULL,NULL,NULL,NULL,NULL,NULL,NULL,'',NULL,NULL,false,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,
  NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
CREATE TABLE orders (order_id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00+00'), (2, 20, '2024-01-02 10:00:00+00'),
  (3, 30, NULL);
CREATE TABLE events (id bigint, kind text);
INSERT INTO events SELECT g, CASE WHEN g % 2 = 0 THEN 'debug' ELSE 'click' END FROM generate_series(1, 6) g;
CREATE TABLE big_blobs (id int, data bytea);
CREATE SCHEMA other;
CREATE TABLE other.orders (x int);
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
write_sources() { # streams (YAML, indented 6)
    cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: postgres
    postgres:
      host: 127.0.0.1
      port: $PGPORT
      database: postgres
      user: dango
      password_env: SHOP_PW
$1
EOF
}
write_sources '      defaults: {mode: full-refresh}
      streams:
        public.customers: {}
        public.orders: {mode: incremental, primary_key: [order_id], update_key: updated_at}
        public.events:
          mode: incremental
          update_key: id
          sql: "select * from public.events where kind <> '"'debug'"'"
        public.*: {mode: full-refresh}
        public.big_blobs: {disabled: true}'

test_expect_success 'source test connects and checks every stream' '
    dango source test shop >out 2>&1 &&
    test_grep "✓ connected to 127.0.0.1:$PGPORT/postgres" out &&
    test_grep "✓ public.orders: 3 rows, incremental on updated_at, primary key order_id" out &&
    test_grep "✓ public.alltypes: 2 rows, full-refresh, primary key id" out &&
    ! grep -q big_blobs out && ! grep -q "$DB_PW" out
'

test_expect_success 'the first sync loads every stream; rows with a NULL update key are reported, not loaded' '
    dango sync shop >out 2>err &&
    test_grep "public.orders: 1 row has NULL updated_at and is never picked up incrementally" err &&
    q "SELECT name FROM raw_shop.customers ORDER BY id" >v && printf "ann\nbob\n" >expect && test_cmp expect v &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,10.00\n2,20.00\n" >expect && test_cmp expect v &&
    q "SELECT id, kind FROM raw_shop.events ORDER BY 1" >v &&
    printf "1,click\n3,click\n5,click\n" >expect && test_cmp expect v &&
    test_must_fail dango query "SELECT 1 FROM raw_shop.big_blobs" 2>/dev/null &&
    test_must_fail dango query "SELECT 1 FROM raw_shop.other_orders" 2>/dev/null
'

test_expect_success 'every column type keeps its meaning' '
    q "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '"'raw_shop'"'
       AND table_name = '"'alltypes'"' AND column_name NOT LIKE '"'_dlt%'"' ORDER BY ordinal_position" >types &&
    cat >expect <<-EOF &&
	id,INTEGER
	si,SMALLINT
	i,INTEGER
	bi,BIGINT
	n,"DECIMAL(12,3)"
	nu,DOUBLE
	r,FLOAT
	d,DOUBLE
	t,VARCHAR
	vc,VARCHAR
	c,VARCHAR
	b,BOOLEAN
	dt,DATE
	tm,TIME
	tmtz,TIME WITH TIME ZONE
	ts,TIMESTAMP
	tstz,TIMESTAMP WITH TIME ZONE
	iv,INTERVAL
	u,UUID
	j,JSON
	jb,JSON
	by,BLOB
	ia,INTEGER[]
	ta,VARCHAR[]
	na,"DECIMAL(5,2)[]"
	e,VARCHAR
	pi,INTEGER
	ip,VARCHAR
	ci,VARCHAR
	mac,VARCHAR
	m,"DECIMAL(19,2)"
	EOF
    test_cmp expect types &&
    dango query --csv "SELECT COLUMNS(* EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at))::VARCHAR
                       FROM raw_shop.alltypes ORDER BY id" >vals &&
    cat >expect <<-\EOF &&
	id,si,i,bi,n,nu,r,d,t,vc,c,b,dt,tm,tmtz,ts,tstz,iv,u,j,jb,by,ia,ta,na,e,pi,ip,ci,mac,m
	1,-32768,2147483647,-9223372036854775808,123456789.123,1.5,1.25,3.141592653589793,"a ""quoted"", line
	two",x,ab ,true,2024-02-29,23:59:59.5,10:00:00+02,2024-01-01 10:00:00.123456,2024-01-01 08:00:00+00,1 year 2 months 3 days 04:05:06,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"{""a"": 1}","{""b"": [1, 2]}",\x00\xFF\x10,"[1, 2, NULL]","[a b, \x27c,d\x27, NULL, \x27x""y\x27]","[1.50, 2.25]",happy,7,192.168.0.1,10.0.0.0/8,08:00:2b:01:02:03,12.34
	2,,,,,,,,,,,false,,,,,,,,,,,,,,,,,,,
	EOF
    sed "s/\\\\x27/'"'"'/g" expect >expect2 &&
    test_cmp expect2 vals
'

test_expect_success 'incremental: only changed rows, merged on the primary key; a row updated twice counts once' '
    psql_do "UPDATE orders SET amount = 11, updated_at = '"'2024-01-03 00:00:00+00'"' WHERE order_id = 1;
             UPDATE orders SET amount = 12, updated_at = '"'2024-01-04 00:00:00+00'"' WHERE order_id = 1;
             INSERT INTO orders VALUES (4, 40, '"'2024-01-05 00:00:00+00'"');
             DELETE FROM orders WHERE order_id = 2;
             INSERT INTO events VALUES (7, '"'click'"'), (8, '"'debug'"');" &&
    dango sync shop >out 2>err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,12.00\n2,20.00\n4,40.00\n" >expect && test_cmp expect v &&
    q "SELECT id FROM raw_shop.events ORDER BY 1" >v && printf "1\n3\n5\n7\n" >expect && test_cmp expect v &&
    q "SELECT state->>'"'value'"' FROM raw_shop._dango_state WHERE resource = '"'orders'"'" >v &&
    echo "2024-01-05 00:00:00+00" >expect && test_cmp expect v
'

test_expect_success 'rows sharing the last update_key value are not lost (>=, merged)' '
    psql_do "INSERT INTO orders VALUES (5, 50, '"'2024-01-05 00:00:00+00'"')" &&
    dango sync shop >out 2>err &&
    q "SELECT count(*), sum(amount) FROM raw_shop.orders" >v && echo "4,122.00" >expect && test_cmp expect v
'

test_expect_success 'deletes are not seen by incremental; a full refresh picks them up' '
    q "SELECT count(*) FROM raw_shop.orders WHERE order_id = 2" >v && echo 1 >expect && test_cmp expect v &&
    dango sync shop --full-refresh --yes >out 2>err &&
    q "SELECT order_id FROM raw_shop.orders ORDER BY 1" >v && printf "1\n4\n5\n" >expect && test_cmp expect v
'

test_expect_success '--limit loads a sample and does not move the state' '
    q "SELECT state->>'"'value'"' FROM raw_shop._dango_state WHERE resource = '"'orders'"'" >before &&
    psql_do "INSERT INTO orders VALUES (6, 60, '"'2024-02-01 00:00:00+00'"'), (7, 70, '"'2024-02-02 00:00:00+00'"')" &&
    dango sync shop --limit 1 >out 2>err &&
    q "SELECT state->>'"'value'"' FROM raw_shop._dango_state WHERE resource = '"'orders'"'" >after &&
    test_cmp before after &&
    dango sync shop >out 2>err &&
    q "SELECT count(*) FROM raw_shop.orders WHERE order_id IN (6, 7)" >v && echo 2 >expect && test_cmp expect v
'

test_expect_success 'dry run: mode, stored value and estimate per stream' '
    psql_do "INSERT INTO orders VALUES (8, 80, '"'2024-03-01 00:00:00+00'"')" &&
    dango sync shop --dry-run >out 2>err &&
    test_grep "public.orders -> orders: incremental on updated_at, stored value 2024-02-02 00:00:00+00, ~2 rows" out &&
    test_grep "public.customers -> customers: full-refresh, ~2 rows" out &&
    q "SELECT count(*) FROM raw_shop.orders WHERE order_id = 8" >v && echo 0 >expect && test_cmp expect v
'

test_expect_success '--since/--until bound a timestamp update key' '
    dango sync shop --full-refresh --yes --since 2024-01-04 --until 2024-01-05 >out 2>err &&
    q "SELECT order_id FROM raw_shop.orders ORDER BY 1" >v && printf "1\n4\n5\n" >expect && test_cmp expect v &&
    test_grep "events: --since/--until apply to date or timestamp update keys" err
'

test_expect_success 'full refresh guard rail: a table now empty is refused' '
    dango sync shop --full-refresh --yes >out 2>err &&
    psql_do "DELETE FROM customers" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "full refresh of raw_shop.customers loaded 0 rows over 2 existing rows; refusing" err &&
    q "SELECT count(*) FROM raw_shop.customers" >v && echo 2 >expect && test_cmp expect v &&
    psql_do "INSERT INTO customers VALUES (1, '"'ann'"'), (2, '"'bob'"')"
'

test_expect_success 'truncate reloads into the existing table; views on it keep working' '
    write_sources "      streams:
        public.customers: {mode: truncate, select: [id, name]}" &&
    dango query --write "CREATE VIEW raw_shop.cust_names AS SELECT name FROM raw_shop.customers" >/dev/null &&
    psql_do "UPDATE customers SET name = '"'carl'"' WHERE id = 2" &&
    dango sync shop >out 2>err &&
    q "SELECT name FROM raw_shop.cust_names ORDER BY 1" >v && printf "ann\ncarl\n" >expect && test_cmp expect v
'

test_expect_success 'select keeps or drops columns; object names the table' '
    write_sources "      streams:
        public.orders: {select: [-updated_at], object: orders_slim}" &&
    dango sync shop >out 2>err &&
    dango query --csv "SELECT * EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at) FROM raw_shop.orders_slim WHERE order_id = 1" >v &&
    printf "order_id,amount\n1,12.00\n" >expect && test_cmp expect v
'

test_expect_success 'the primary keys the catalog declares go to dango generate' '
    q "SELECT primary_key FROM raw_shop._dango_resources WHERE resource = '"'orders_slim'"'" >v &&
    echo "\"[\"\"order_id\"\"]\"" >expect && test_cmp expect v
'

test_expect_success 'dango generate deduplicates on the primary key the catalog declares' '
    dango generate >out 2>&1 &&
    grep -A1 "PARTITION BY" dbt/models/staging/stg_shop_customers.sql >v &&
    test_grep "PARTITION BY id$" v
'

test_expect_success 'lookback_days moves the start of an incremental read back' '
    write_sources "      streams:
        public.orders: {mode: incremental, primary_key: [order_id], update_key: updated_at}" &&
    dango sync shop --full-refresh --yes >out 2>err &&
    psql_do "UPDATE orders SET amount = 99 WHERE order_id = 5" &&
    dango sync shop >out 2>err &&
    q "SELECT amount FROM raw_shop.orders WHERE order_id = 5" >v && echo 50.00 >expect && test_cmp expect v &&
    sed -i "s/^    type: postgres/    type: postgres\n    lookback_days: 60/" .dango/sources.yml &&
    dango sync shop >out 2>err &&
    q "SELECT amount FROM raw_shop.orders WHERE order_id = 5" >v && echo 99.00 >expect && test_cmp expect v
'

test_expect_success 'a missing table, column or bad query names the source and stream, exit 1' '
    write_sources "      streams:
        public.nope: {}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "source '"'shop'"', stream '"'public.nope'"': relation \"public.nope\" does not exist" err &&
    write_sources "      streams:
        public.orders: {mode: incremental, update_key: changed_at}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "stream '"'public.orders'"': update_key '"'changed_at'"' is not a column (columns: order_id, amount, updated_at)" err &&
    write_sources "      streams:
        public.orders: {sql: \"selec * from orders\"}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "stream '"'public.orders'"': syntax error at or near" err &&
    write_sources "      streams:
        nope.*: {}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "source '"'shop'"', stream '"'nope.\*'"': no table matches (is there a schema '"'nope'"'?)" err
'

test_expect_success 'connection refused, wrong password, wrong database: clear errors, no secret' '
    write_sources "      streams:
        public.orders: {}" &&
    sed -i "s/port: $PGPORT/port: 1/" .dango/sources.yml &&
    test_expect_code 1 dango source test shop >out 2>&1 &&
    test_grep "cannot connect to 127.0.0.1:1/postgres" out &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "cannot connect to 127.0.0.1:1/postgres" err &&
    sed -i "s/port: 1$/port: $PGPORT/" .dango/sources.yml &&
    echo "SHOP_PW=wrong-pass-123" >.env &&
    test_expect_code 1 dango source test shop >out 2>&1 &&
    test_grep "password authentication failed for user \"dango\"" out && ! grep -q wrong-pass-123 out &&
    echo "SHOP_PW=$DB_PW" >.env &&
    sed -i "s/database: postgres/database: nodb/" .dango/sources.yml &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "cannot connect to 127.0.0.1:$PGPORT/nodb: .*database \"nodb\" does not exist" err &&
    RUNTIME__LOG_LEVEL=DEBUG dango sync shop >out 2>&1; ! grep -q "$DB_PW" out
'

test_expect_success 'url_env: a connection URL from the environment' '
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: shop
	    type: postgres
	    postgres:
	      url_env: SHOP_URL
	      streams:
	        public.customers: {}
	EOF
    echo "SHOP_URL=postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/postgres" >.env &&
    dango sync shop >out 2>err && ! grep -q "$DB_PW" out err &&
    q "SELECT count(*) FROM raw_shop.customers" >v && echo 2 >expect && test_cmp expect v
'

test_expect_success 'the wizard (on a terminal) connects for real and tests the tables' '
    echo "SHOP_PW=$DB_PW" >.env &&
    run_on_tty "postgres\npg2\n127.0.0.1\n$PGPORT\npostgres\ndango\nSHOP_PW\npublic.customers\n\n" dango source add >out &&
    test_grep "✓ connected to 127.0.0.1:$PGPORT/postgres" out &&
    test_grep "✓ public.customers: 2 rows, full-refresh, primary key id" out &&
    dango sync pg2 >out 2>err &&
    q "SELECT count(*) FROM raw_pg2.customers" >v && echo 2 >expect && test_cmp expect v
'

test_expect_success 'config errors name file:line and suggest the key' '
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: shop
	    type: postgres
	    postgres:
	      hots: 127.0.0.1
	      streams:
	        public.orders: {mode: incremental, primary_keys: [order_id]}
	        public.x: {mode: snapshot}
	EOF
    test_expect_code 1 dango validate >out 2>&1;
    test_grep "sources.yml:6:7: unknown key '"'hots'"'.*(did you mean '"'host'"'?)" out &&
    test_grep "sources.yml:8:.*unknown key '"'primary_keys'"'.*(did you mean '"'primary_key'"'?)" out &&
    test_grep "sources.yml:8:.*mode incremental needs an update_key" out &&
    test_grep "sources.yml:9:.*snapshot" out
'

test_done
