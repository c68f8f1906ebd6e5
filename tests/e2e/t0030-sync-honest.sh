#!/usr/bin/env bash
# dango sync says what it did not do: a source that fails, a --select
# or source name that matches nothing; counts read well; each source's
# lines stand under its own header, in order.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n' >data/one.csv
cat >.dango/sources.yml <<EOF2
version: "1.0"
sources:
  - name: one
    type: csv
    csv:
      path: data/one.csv
  - name: pg
    type: command
    command:
      run: [bin/tap]
EOF2

test_expect_success 'a source that cannot run is an error naming it (exit 1); the others still sync' '
    test_expect_code 1 dango sync >out 2>err &&
    test_grep "source '"'"'pg'"'"': '"'"'bin/tap'"'"' exited with status 127 (command not found or not executable)" err &&
    test_grep "Loaded 1 row into raw_one.one$" out &&
    test_grep "Failed: 1/2 sources" out &&
    test_grep ! "All syncs complete" out &&
    test_expect_code 1 dango sync pg >out 2>err &&
    test_grep "source '"'"'pg'"'"'" err &&
    dango sync --dry-run >out 2>err &&
    test_grep "would run bin/tap (Singer or NDJSON)" out
'

test_expect_success 'counts are singular for one: 1 row, not 1 rows' '
    printf "id,v\n1,a\n" >data/one.csv && touch -d "2001-01-01" data/one.csv &&
    dango sync one --full-refresh -y >out &&
    test_grep "Loaded 1 row into raw_one.one$" out &&
    test_grep "Sync complete (1 row in" out &&
    test_grep "Success: 1/1 sources$" out &&
    dango db status >out &&
    test_grep "^1 table or view, 1 row in tables (" out &&
    dango source list >out && test_grep "Tables: one (1 row)$" out
'

test_expect_success '--select of a resource the source lacks: did-you-mean, exit 2, nothing synced' '
    q "SELECT count(*) FROM raw_one._dlt_loads" >before &&
    test_expect_code 2 dango sync one --select onee >out 2>err &&
    test_grep "select '"'"'onee'"'"': no such resource in source '"'"'one'"'"' (did you mean '"'"'one'"'"'?)" err &&
    test_grep "Resources: one" err &&
    test_grep ! "Sync complete" out &&
    q "SELECT count(*) FROM raw_one._dlt_loads" >after && test_cmp before after &&
    dango sync one --select one >out && test_grep "Sync complete" out
'

test_expect_success 'an unknown source name: did-you-mean, exit 2' '
    test_expect_code 2 dango sync onr >out 2>err &&
    test_grep "no source named '"'"'onr'"'"' in .dango/sources.yml (did you mean '"'"'one'"'"'?)" err &&
    test_expect_code 2 dango sync --source nosuchsource 2>err &&
    test_grep "no source named '"'"'nosuchsource'"'"'" err
'

test_expect_success 'with --workers 1 every line of a source comes under its header, clocks in order' '
    cat >.dango/sources.yml <<-EOF2 &&
	version: "1.0"
	sources:
	  - name: a
	    type: rest_api
	    rest_api:
	      base_url: $API
	      endpoints: [{name: ia, path: /offset, paginator: {type: offset, limit: 10, total_path: total}}]
	  - name: b
	    type: rest_api
	    rest_api:
	      base_url: $API
	      endpoints: [{name: ib, path: /page, data_selector: results.items, paginator: {type: page_number, page_param: page, limit: 10, limit_param: per_page}}]
	EOF2
    dango sync --workers 1 >out &&
    grep -E "Syncing|Connecting|Fetch|Loaded|Sync complete" out | strip_clock | sed "s/^Connecting to .*/Connecting to API/" >lines &&
    cat >expect <<-\EOF2 &&
	Syncing a (1/2)
	Connecting to API
	Fetching ia
	Fetched 25 ia
	Loaded 25 rows into raw_a.ia
	✓ Sync complete (25 rows in
	Syncing b (2/2)
	Connecting to API
	Fetching ib
	Fetched 25 ib
	Loaded 25 rows into raw_b.ib
	✓ Sync complete (25 rows in
	EOF2
    sed -E "s/(Sync complete \(25 rows in).*/\1/" lines >actual && test_cmp expect actual &&
    grep -oE "^\[[0-9:]{8}\]" out >clocks && sort -c clocks
'

test_expect_success 'with several workers a source read ahead of its turn names itself; clocks in order' '
    # a waits 3 s for its API: b is read meanwhile, and says so as it happens
    sed -i "s|path: /offset, paginator: {type: offset, limit: 10, total_path: total}|path: /slow|" .dango/sources.yml &&
    dango sync --workers 4 >out &&
    strip_clock <out >plain &&
    sed -n "/^Syncing a (1\/2)/,/^Syncing b (2\/2)/p" plain >first &&
    sed -n "/^Syncing b (2\/2)/,\$p" plain >second &&
    { grep "Fetch.* ib$" first || true; } >b_early &&
    { grep -v "^b: " b_early || true; } >unprefixed && test ! -s unprefixed &&
    { grep "^b: " second || true; } >late_prefixed && test ! -s late_prefixed &&
    { grep "^a: " plain || true; } >a_prefixed && test ! -s a_prefixed &&
    test "$(grep -c "Fetched 25 ib$" plain)" = 1 &&
    grep -oE "^\[[0-9:]{8}\]" out >clocks && sort -c clocks
'

test_expect_success 'the usage line names every option sync has' '
    dango sync --help >help &&
    sed -n "1,/^\$/p" help >usage &&
    sed -n "/^Options:/,\$p" help | grep -oE -- "--[a-z-]+" | grep -v -- "--help" | sort -u >opts &&
    test $(wc -l <opts) -ge 14 &&
    while read -r o; do grep -qE -- "(\[|\| )$o( |\]|\|)" usage || { echo "usage lacks $o"; exit 1; }; done <opts
'

test_done
