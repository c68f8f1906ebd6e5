#!/usr/bin/env bash
# MySQL/MariaDB through url_env: a mysql:// URL from the environment, its
# parts percent-decoded, errors that name host:port/database and never the
# password.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

mariadb_start || { echo "not ok - MariaDB could not start"; exit 1; }

# a password with the characters a URL must escape
my_do "CREATE USER odd@'%' IDENTIFIED BY 'p@ss:w/rd'; CREATE USER odd@localhost IDENTIFIED BY 'p@ss:w/rd';
       GRANT ALL ON shop.* TO odd@'%'; GRANT ALL ON shop.* TO odd@localhost;"
MYDB=shop my_do <<'SQL'
CREATE TABLE orders (order_id int PRIMARY KEY, amount decimal(8,2), updated_at datetime);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00'), (2, 20, '2024-01-02 10:00:00');
SQL

dango init p >/dev/null </dev/null
cd p
cat >.dango/sources.yml <<'EOF'
version: "1.0"
sources:
  - name: shop
    type: mysql
    mysql:
      url_env: SHOP_URL
      streams:
        shop.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
EOF
url="mysql://odd:p%40ss%3Aw%2Frd@127.0.0.1:$MYPORT/shop"

test_expect_success 'source test connects with the URL and names host:port/database' '
    echo "SHOP_URL=$url" >.env &&
    dango source test shop >out 2>&1 &&
    test_grep "✓ connected to 127.0.0.1:$MYPORT/shop" out &&
    test_grep "✓ shop.orders: 2 rows, incremental on updated_at, primary key order_id" out &&
    ! grep -q "p@ss" out && ! grep -q "p%40ss" out
'

test_expect_success 'sync reads through the URL; no part of the password is printed, not even in DEBUG logs' '
    RUNTIME__LOG_LEVEL=DEBUG dango sync shop >out 2>&1 &&
    ! grep -q "p@ss" out && ! grep -q "p%40ss" out && ! grep -q "w/rd" out &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,10.00\n2,20.00\n" >expect && test_cmp expect v
'

test_expect_success 'a wrong password in the URL: host:port/database named, exit 1, data as before' '
    echo "SHOP_URL=mysql://odd:nope-77@127.0.0.1:$MYPORT/shop" >.env &&
    MYDB=shop my_do "UPDATE orders SET amount = 11, updated_at = now() WHERE order_id = 1" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "cannot connect to 127.0.0.1:$MYPORT/shop: Access denied for user" err &&
    ! grep -q nope-77 out err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v && test_cmp expect v
'

test_expect_success 'keys of the block take precedence over the parts of the URL' '
    echo "SHOP_URL=mysql://odd:p%40ss%3Aw%2Frd@127.0.0.1:1/nodb" >.env &&
    sed -i "s/url_env: SHOP_URL/url_env: SHOP_URL\n      port: $MYPORT\n      database: shop/" .dango/sources.yml &&
    dango sync shop >out 2>err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,11.00\n2,20.00\n" >expect && test_cmp expect v
'

test_expect_success 'a URL that is not mysql://, a bad port or parameter: said, exit 1, no secret' '
    echo "SHOP_URL=postgresql://odd:secret-9@127.0.0.1:5432/shop" >.env &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "url_env: the URL must start with mysql://" err && ! grep -q secret-9 out err &&
    echo "SHOP_URL=mysql://odd:secret-9@127.0.0.1:port/shop" >.env &&
    test_expect_code 1 dango source test shop >out 2>&1 &&
    test_grep "the URL.s port is not a number" out && ! grep -q secret-9 out &&
    echo "SHOP_URL=mysql://odd:secret-9@127.0.0.1/shop?charset=latin1" >.env &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "the URL parameter .charset. is not supported" err && ! grep -q secret-9 out err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v && test_cmp expect v
'

test_done
