#!/usr/bin/env bash
# The wizard of database sources on a pseudo-terminal: it connects, lists
# the tables of every schema with their catalog keys, proposes update keys,
# checks each answer; and the scripted form with --set.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
mariadb_start || { echo "not ok - MariaDB could not start"; exit 1; }

psql_do <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
CREATE TABLE orders (order_id int PRIMARY KEY, amount numeric(8,2), updated_at timestamptz);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00+00'), (2, 20, '2024-01-02 10:00:00+00');
CREATE SCHEMA other;
CREATE TABLE other.logs (id bigint, line text, modified timestamp);
INSERT INTO other.logs VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00');
SQL
MYDB=shop my_do <<'SQL'
CREATE TABLE orders (order_id int PRIMARY KEY, amount decimal(8,2), updated_at datetime);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00'), (2, 20, '2024-01-02 10:00:00');
CREATE TABLE tags (name varchar(10));
INSERT INTO tags VALUES ('x');
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env

test_expect_success 'postgres: lists every schema with keys, proposes update keys, writes the streams' '
    run_on_tty "postgres\nshop\n127.0.0.1\n$PGPORT\npostgres\ndango\nSHOP_PW\n1,orders,3\n\n\n\n\n\n\n\n" \
        dango source add >out &&
    test_grep "✓ connected to 127.0.0.1:$PGPORT/postgres" out &&
    test_grep "  1. public.customers (primary key id)" out &&
    test_grep "  2. public.orders (primary key order_id; update key updated_at)" out &&
    test_grep "  3. other.logs (update key modified)" out &&
    test_grep "public.orders: update key (a column that grows with each change) \[updated_at\]" out &&
    test_grep "Source added to .dango/sources.yml" out &&
    grep "streams:" .dango/sources.yml | sed "s/^ *//" >streams &&
    echo "streams: {public.customers: {}, public.orders: {mode: incremental, primary_key: [order_id], update_key: updated_at}, other.logs: {mode: incremental, update_key: modified}}" >expect &&
    test_cmp expect streams &&
    ! grep -q "$DB_PW" out && ! grep -q "password:" .dango/sources.yml &&
    dango sync shop >out 2>err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v && printf "1,10.00\n2,20.00\n" >expect &&
    test_cmp expect v &&
    q "SELECT id, line FROM raw_shop.logs ORDER BY 1" >v && printf "1,a\n2,b\n" >expect && test_cmp expect v &&
    q "SELECT state->>'"'value'"' FROM raw_shop._dango_state WHERE resource = '"'logs'"'" >v &&
    echo "2024-01-02 00:00:00" >expect && test_cmp expect v
'

test_expect_success 'postgres: "dango source add postgres" asks again for a table or column that does not exist' '
    run_on_tty "pg2\n127.0.0.1\n$PGPORT\npostgres\ndango\nSHOP_PW\nnope\norders\nsometimes\nincremental\nupdatd_at\nupdated_at\nname\n\n" \
        dango source add postgres >out &&
    test_grep "There is no table .nope.; give numbers from 1 to 3 or names from the list" out &&
    test_grep "'"'sometimes'"' is not a mode" out &&
    test_grep "public.orders has no column .updatd_at.; did you mean .updated_at.?" out &&
    test_grep "public.orders has no column .name." out &&
    grep "streams:" .dango/sources.yml | tail -1 | sed "s/^ *//" >streams &&
    echo "streams: {public.orders: {mode: incremental, primary_key: [order_id], update_key: updated_at}}" >expect &&
    test_cmp expect streams
'

test_expect_success 'postgres: a wrong password is said (without it), then the tables are asked by name' '
    echo "BAD_PW=nottheone" >>.env &&
    run_on_tty "pg3\n127.0.0.1\n$PGPORT\npostgres\ndango\nBAD_PW\npublic.customers\n" dango source add postgres >out &&
    test_grep "✗ source .pg3.: cannot connect to 127.0.0.1:$PGPORT/postgres: .*password authentication failed" out &&
    test_grep "The tables cannot be listed; name them instead" out &&
    ! grep -q nottheone out &&
    test_grep "source .pg3. added to .dango/sources.yml, but its connection test failed" out
'

test_expect_success 'postgres: the scripted form with --set tests and adds the source' '
    dango source add postgres --name pg4 --set host=127.0.0.1 --set port=$PGPORT --set database=postgres \
        --set user=dango --set password_env=SHOP_PW \
        --set "streams={public.orders: {mode: incremental, primary_key: [order_id], update_key: updated_at}}" >out &&
    test_grep "✓ public.orders: 2 rows, incremental on updated_at, primary key order_id" out &&
    dango sync pg4 >out 2>err &&
    q "SELECT count(*) FROM raw_pg4.orders" >v && echo 2 >expect && test_cmp expect v
'

test_expect_success 'postgres: the scripted form adds nothing when its test fails' '
    test_expect_code 1 dango source add postgres --name pg5 --set host=127.0.0.1 --set port=$PGPORT \
        --set database=nosuchdb --set user=dango --set password_env=SHOP_PW --set "streams={public.x: {}}" >out 2>&1 &&
    test_grep "cannot connect to 127.0.0.1:$PGPORT/nosuchdb" out &&
    ! grep -q pg5 .dango/sources.yml
'

test_expect_success 'mysql: the database'"'"'s tables, keys and proposed update key' '
    run_on_tty "my\n127.0.0.1\n$MYPORT\nshop\ndango\nSHOP_PW\nall\n\n\n\n\n" dango source add mysql >out &&
    test_grep "✓ connected to 127.0.0.1:$MYPORT/shop" out &&
    test_grep "  1. shop.orders (primary key order_id; update key updated_at)" out &&
    tr -d "\r" <out | grep -q "^  2. shop.tags$" &&
    test_grep "✓ shop.orders: 2 rows, incremental on updated_at, primary key order_id" out &&
    dango sync my >out 2>err &&
    q "SELECT name FROM raw_my.tags" >v && echo x >expect && test_cmp expect v
'

test_expect_success 'sqlite: a declared DATETIME column is proposed as the update key' '
    sqlite3 data/app.db "CREATE TABLE items (id INTEGER PRIMARY KEY, modified_at DATETIME);
                         INSERT INTO items VALUES (1, '"'2024-01-01 00:00:00'"');" &&
    run_on_tty "lite\ndata/app.db\n1\n\n\n\n" dango source add sqlite >out &&
    test_grep "  1. items (primary key id; update key modified_at)" out &&
    grep "streams:" .dango/sources.yml | tail -1 | sed "s/^ *//" >streams &&
    echo "streams: {items: {mode: incremental, primary_key: [id], update_key: modified_at}}" >expect &&
    test_cmp expect streams &&
    dango sync lite >out 2>err &&
    q "SELECT id FROM raw_lite.items" >v && echo 1 >expect && test_cmp expect v
'

test_expect_success 'without a terminal a type still needs --name' '
    test_expect_code 2 dango source add postgres </dev/null 2>err &&
    test_grep "name is required with a type" err
'

test_done
