#!/usr/bin/env bash
# MySQL/MariaDB sources against a real MariaDB server: every column type,
# zero dates, incremental merge and append, wildcards, connection errors.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

mariadb_start || { echo "not ok - MariaDB could not start"; exit 1; }

MYDB=shop my_do <<'SQL'
SET sql_mode = '';
CREATE TABLE alltypes (
  id int PRIMARY KEY AUTO_INCREMENT, flag tinyint(1), ti tinyint, tu tinyint unsigned, si smallint,
  su smallint unsigned, mi mediumint, i int, iu int unsigned, bi bigint, bu bigint unsigned,
  dc decimal(10,2), f float, d double, dt date, dtm datetime(3), ts timestamp NULL, tm time, yr year,
  c char(3), vc varchar(20), tx text, j json, bl blob, vb varbinary(4), en enum('a','b'),
  st set('x','y'), bt bit(1), b8 bit(8));
INSERT INTO alltypes (flag,ti,tu,si,su,mi,i,iu,bi,bu,dc,f,d,dt,dtm,ts,tm,yr,c,vc,tx,j,bl,vb,en,st,bt,b8) VALUES
 (1,-128,255,-32768,65535,-8388608,-2147483648,4294967295,-9223372036854775808,18446744073709551615,
  12345678.90,1.5,3.141592653589793,'2024-02-29','2024-01-01 10:00:00.123','2024-01-01 10:00:00',
  '23:59:59',2024,'ab','x,y','a "quoted"
line','{"a": [1, 2]}',x'00ff10',x'0a0b','b','x,y',b'1',b'10000001'),
 (0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'0000-00-00','0000-00-00 00:00:00',
  NULL,NULL,NULL,NULL,'',NULL,NULL,NULL,NULL,NULL,NULL,b'0',NULL);
CREATE TABLE orders (order_id int PRIMARY KEY, amount decimal(8,2), updated_at datetime);
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:00:00'), (2, 20, '2024-01-02 10:00:00');
CREATE TABLE events (id bigint, kind varchar(10));
INSERT INTO events VALUES (1, 'a'), (2, 'b');
SQL

dango init p >/dev/null </dev/null
cd p
echo "SHOP_PW=$DB_PW" >>.env
write_sources() {
    cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: shop
    type: mysql
    mysql:
      host: 127.0.0.1
      port: $MYPORT
      database: shop
      user: dango
      password_env: SHOP_PW
$1
EOF
}
write_sources '      streams:
        shop.orders: {mode: incremental, primary_key: order_id, update_key: updated_at}
        shop.events: {mode: incremental, update_key: id}
        shop.*: {}'

test_expect_success 'source test connects and lists each stream' '
    dango source test shop >out 2>&1 &&
    test_grep "✓ connected to 127.0.0.1:$MYPORT/shop" out &&
    test_grep "✓ shop.orders: 2 rows, incremental on updated_at, primary key order_id" out &&
    test_grep "✓ shop.alltypes: 2 rows, full-refresh, primary key id" out
'

test_expect_success 'the first sync loads every stream; zero dates are counted' '
    dango sync shop >out 2>err &&
    test_grep "shop.alltypes: 2 zero dates (.0000-00-00.) loaded as NULL" err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,10.00\n2,20.00\n" >expect && test_cmp expect v
'

test_expect_success 'every column type keeps its meaning' '
    q "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '"'raw_shop'"'
       AND table_name = '"'alltypes'"' AND column_name NOT LIKE '"'_dlt%'"' ORDER BY ordinal_position" >types &&
    cat >expect <<-EOF &&
	id,INTEGER
	flag,BOOLEAN
	ti,TINYINT
	tu,SMALLINT
	si,SMALLINT
	su,INTEGER
	mi,INTEGER
	i,INTEGER
	iu,BIGINT
	bi,BIGINT
	bu,HUGEINT
	dc,"DECIMAL(10,2)"
	f,FLOAT
	d,DOUBLE
	dt,DATE
	dtm,TIMESTAMP
	ts,TIMESTAMP WITH TIME ZONE
	tm,TIME
	yr,SMALLINT
	c,VARCHAR
	vc,VARCHAR
	tx,VARCHAR
	j,JSON
	bl,BLOB
	vb,BLOB
	en,VARCHAR
	st,VARCHAR
	bt,BOOLEAN
	b8,UBIGINT
	EOF
    test_cmp expect types &&
    dango query --csv "SELECT COLUMNS(* EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at))::VARCHAR
                       FROM raw_shop.alltypes ORDER BY id" >vals &&
    cat >expect <<-\EOF &&
	id,flag,ti,tu,si,su,mi,i,iu,bi,bu,dc,f,d,dt,dtm,ts,tm,yr,c,vc,tx,j,bl,vb,en,st,bt,b8
	1,true,-128,255,-32768,65535,-8388608,-2147483648,4294967295,-9223372036854775808,18446744073709551615,12345678.90,1.5,3.141592653589793,2024-02-29,2024-01-01 10:00:00.123,2024-01-01 10:00:00+00,23:59:59,2024,ab,"x,y","a ""quoted""
	line","{""a"": [1, 2]}",\x00\xFF\x10,\x0A\x0B,b,"x,y",true,129
	2,false,,,,,,,,,,,,,,,,,,,,,,,,,,false,
	EOF
    test_cmp expect vals
'

test_expect_success 'a TIMESTAMP is the same instant whatever the local time zone' '
    TZ=Asia/Tokyo dango sync shop --select alltypes >out 2>err &&
    q "SELECT epoch(ts)::BIGINT FROM raw_shop.alltypes WHERE id = 1" >v && echo 1704103200 >expect && test_cmp expect v
'

test_expect_success 'incremental merge on the key, append past the last id' '
    MYDB=shop my_do "UPDATE orders SET amount = 11, updated_at = '"'2024-01-03 00:00:00'"' WHERE order_id = 1;
                     INSERT INTO orders VALUES (3, 30, '"'2024-01-03 00:00:00'"');
                     INSERT INTO events VALUES (3, '"'c'"');" &&
    dango sync shop >out 2>err &&
    q "SELECT order_id, amount FROM raw_shop.orders ORDER BY 1" >v &&
    printf "1,11.00\n2,20.00\n3,30.00\n" >expect && test_cmp expect v &&
    q "SELECT id FROM raw_shop.events ORDER BY 1" >v && printf "1\n2\n3\n" >expect && test_cmp expect v
'

test_expect_success 'streams read in parallel (--workers) commit together' '
    dango sync shop --full-refresh --yes --workers 3 >out 2>err &&
    q "SELECT (SELECT count(*) FROM raw_shop.orders), (SELECT count(*) FROM raw_shop.events), (SELECT count(*) FROM raw_shop.alltypes)" >v &&
    echo "3,3,2" >expect && test_cmp expect v
'

test_expect_success 'wrong password, refused port, missing table: clear errors, exit 1' '
    echo "SHOP_PW=bad-pass-42" >.env &&
    test_expect_code 1 dango source test shop >out 2>&1 &&
    test_grep "cannot connect to 127.0.0.1:$MYPORT/shop: Access denied for user" out && ! grep -q bad-pass-42 out &&
    echo "SHOP_PW=$DB_PW" >.env &&
    sed -i "s/port: $MYPORT/port: 1/" .dango/sources.yml &&
    test_expect_code 1 dango sync shop >out 2>err && test_grep "cannot connect to 127.0.0.1:1/shop" err &&
    write_sources "      streams:
        shop.nope: {}" &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "source '"'shop'"', stream '"'shop.nope'"': Table '"'shop.nope'"' doesn.t exist" err &&
    q "SELECT count(*) FROM raw_shop.orders" >v && echo 3 >expect && test_cmp expect v
'

test_done
