#!/usr/bin/env bash
# Singer discovery: dango source test (and the wizard) run --discover and
# list the streams; select: writes a catalog with only those streams,
# passed as --catalog FILE (or --properties FILE for old taps). A program
# without discovery is said so; a stream that does not exist is an error.
. "$(dirname "$0")/lib.sh"
TAPS="$SRC_DIR/tests/fixtures/taps"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<EOF2
version: "1.0"
sources:
  - name: shop
    type: command
    command:
      run: [$TAPS/tap_shop.py]
      config: {users: 2}
      select: [orders, events]
  - name: plain
    type: command
    command:
      run: "echo '{\"a\": 1}'"
EOF2

test_expect_success 'dango source test runs discovery and lists the streams and the selection' '
    dango source test shop >out 2>&1 &&
    test_grep "✓ --discover lists 3 streams: users, orders, events" out &&
    test_grep "✓ selected: orders, events" out &&
    test_grep "Source '"'"'shop'"'"' is ready to sync" out
'

test_expect_success 'a program without discovery: said so, still ready' '
    dango source test plain >out 2>&1 &&
    test_grep "? the program does not support discovery" out &&
    test_grep "ready to sync" out
'

test_expect_success 'select: the tap gets a catalog of only the selected streams (--catalog)' '
    dango sync shop >out 2>err &&
    test_grep "\[shop\] selected: orders,events (from --catalog, 2 streams in it)" out &&
    strip_clock <out | grep "^Loaded" >loaded &&
    printf "Loaded 2 rows into raw_shop.orders\nLoaded 2 rows into raw_shop.events\nLoaded 4 rows into raw_shop.orders__items\n" >expect &&
    test_cmp expect loaded
'

test_expect_success 'catalog_flag: properties passes it as --properties' '
    sed -i "s/select: \[orders, events\]/select: [users]\n      catalog_flag: properties/" .dango/sources.yml &&
    dango sync shop >out 2>err &&
    test_grep "\[shop\] selected: users (from --properties, 1 streams in it)" out &&
    test_grep "Loaded 2 rows into raw_shop.users$" out
'

test_expect_success 'a selected stream the catalog lacks: did-you-mean, in test and sync' '
    sed -i "s/select: \[users\]/select: [userz]/" .dango/sources.yml &&
    test_expect_code 1 dango source test shop >out 2>&1 &&
    test_grep "select '"'"'userz'"'"': the program'"'"'s catalog has no such stream (did you mean '"'"'users'"'"'?) (streams: users, orders, events)" out &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "select '"'"'userz'"'"': the program'"'"'s catalog has no such stream" err
'

test_expect_success 'select on a program without discovery is an error' '
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: nodisc
	    type: command
	    command:
	      run: "exit 2"
	      select: [a]
	EOF2
    test_expect_code 1 dango sync nodisc >out 2>err &&
    test_grep "source '"'"'nodisc'"'"': '"'"'select'"'"' needs the program'"'"'s catalog, but --discover failed: '"'"'exit 2'"'"' exited with status 2" err
'

test_expect_success '--select of a stream the program never wrote fails, committing nothing' '
    test_expect_code 1 dango sync plain --select nope >out 2>err &&
    test_grep "select '"'"'nope'"'"'" err
'

test_expect_success 'dango source add command --help lists the keys' '
    dango source add command --help >help &&
    for k in run format env config timeout_minutes working_dir table_key primary_key write_disposition select catalog_flag discover; do
        grep -q "^  $k (" help || { echo "no $k"; exit 1; }
    done &&
    test_grep "^  format (text) one of: auto singer ndjson" help &&
    test_grep "dango source add command --name crm" help
'

test_expect_success 'source add command with --set: tested (discovery) and saved' '
    dango source add command --name shop3 --set "run=[$TAPS/tap_shop.py]" --set format=singer --set "select=[orders]" >out &&
    test_grep "✓ --discover lists 3 streams" out &&
    test_grep "Source added to .dango/sources.yml" out &&
    dango sync shop3 >out && test_grep "Loaded 2 rows into raw_shop3.orders$" out &&
    test_expect_code 1 dango source add command --name shop4 --set "run=[$TAPS/tap_shop.py]" --set "select=[nope]" >out 2>&1 &&
    test_grep "not added: the connection test failed" out &&
    test_grep ! "name: shop4" .dango/sources.yml
'

test_expect_success 'the wizard asks for the program and format, lists the streams, checks the choice' '
    run_on_tty "command\nshop2\n$TAPS/tap_shop.py\nsinger\nuserz\nusers,orders\n" dango source add >out &&
    test_grep "Streams: users, orders, events" out &&
    test_grep "The program has no stream '"'"'userz'"'"'." out &&
    test_grep "Source added to .dango/sources.yml" out &&
    sed -n "/name: shop2/,\$p" .dango/sources.yml >entry &&
    test_grep "      format: singer" entry &&
    test_grep "      select: \[users, orders\]" entry &&
    dango sync shop2 >out && test_grep "Loaded 3 rows into raw_shop2.users$" out && test_grep ! "raw_shop2.events" out
'

test_done
