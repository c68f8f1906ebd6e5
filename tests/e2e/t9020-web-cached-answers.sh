#!/usr/bin/env bash
# dango web keeps answers (the Sources list, the catalog, the overview, the
# parsed sources.yml) until one of their inputs changes: each change shows
# at once. The model page's columns come from catalog.json (dango docs
# generate) when the warehouse snapshot lacks the relation. A source's row
# shows the rows it has loaded while the sync goes on (issue 15: "rows so
# far").
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/web_lib.sh"

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s (a function, so
# that each try asks again)
wait_until() {
    local n=$(( $1 * 10 ))
    shift
    while ! "$@"; do
        n=$((n - 1))
        [ $n -le 0 ] && { echo "wait_until: gave up on: $*" >&2; return 1; }
        sleep 0.1
    done
}
src() { web_get /api/sources | jq -c ".sources[] | select(.name == \"$1\") | $2"; }

test_expect_success 'setup: a synced source, its model, dango docs generate' '
    dango init shop >/dev/null && cd shop &&
    printf "id,day,amount\n1,2024-01-01,9.50\n2,2024-01-02,12.00\n" >data/sales.csv &&
    printf "version: \"1.0\"\nsources:\n  - name: sales\n    type: csv\n    description: Sales export\n    csv:\n      path: data/sales.csv\n" \
        >.dango/sources.yml &&
    dango sync sales >/dev/null && dango generate >/dev/null && dango run >/dev/null &&
    dango docs generate >/dev/null && test -f dbt/target/catalog.json
'
cd shop || exit 1

cols() { web_get /api/models/stg_sales | jq -c "[.columns_from, [.columns[] | [.name, .type]]]"; }

start_web web1
test_expect_success 'model columns: the snapshot'"'"'s while it has the relation' '
    web_get /api/models/stg_sales >m.json &&
    jq -e ".columns_from == \"warehouse\" and .catalog_json_generated_at != null" m.json &&
    jq -c "[.columns[] | [.name, .type]][0:3]" m.json >actual &&
    echo "[[\"id\",\"BIGINT\"],[\"day\",\"DATE\"],[\"amount\",\"DOUBLE\"]]" >expect &&
    test_cmp expect actual
'

test_expect_success 'an edit of sources.yml shows at once, even one of the same size' '
    src sales .description >actual && echo "\"Sales export\"" >expect && test_cmp expect actual &&
    sed "s/Sales export/Sales EXPORT/" .dango/sources.yml >new.yml && cat new.yml >.dango/sources.yml &&
    src sales .description >actual && echo "\"Sales EXPORT\"" >expect && test_cmp expect actual &&
    web_get /api/sources/sales | jq -r .description >actual && echo "Sales EXPORT" >expect && test_cmp expect actual
'

test_expect_success 'a new schedules.yml shows at once in Sources and the overview' '
    web_get /api/overview | jq -c "[.schedules, .next_runs]" >actual && echo "[0,[]]" >expect && test_cmp expect actual &&
    src sales .schedule >actual && echo null >expect && test_cmp expect actual &&
    printf "version: \"1.0\"\nschedules:\n  - name: nightly\n    type: sync_only\n    cron: \"0 3 1 1 *\"\n    sources: [sales]\n" \
        >.dango/schedules.yml &&
    web_get /api/overview | jq -c "[.schedules, [.next_runs[].schedule]]" >actual &&
    echo "[1,[\"nightly\"]]" >expect && test_cmp expect actual &&
    src sales .schedule | grep "^\"nightly (next 20[0-9][0-9]-01-01 03:00 " &&
    web_get /api/schedules | jq -c "[.schedules[].name]" >actual && echo "[\"nightly\"]" >expect && test_cmp expect actual
'

test_expect_success 'a sync changes Sources and the catalog: the new snapshot is in both answers' '
    web_session &&
    web_get /api/catalog | jq -c "[.schemas[] | select(.name == \"raw_sales\") | .tables[] | select(.name == \"sales\") | .rows]" >actual &&
    echo "[2]" >expect && test_cmp expect actual &&
    printf "3,2024-01-03,1.25\n" >>data/sales.csv &&
    web_post /api/sources/sales/sync "{}" >post.out && test "$(tail -1 post.out)" = 202 &&
    wait_run "$(head -1 post.out | jq -r .run_id)" && jq -e ".status == \"completed\"" run.json &&
    web_get /api/catalog | jq -c "[.schemas[] | select(.name == \"raw_sales\") | .tables[] | select(.name == \"sales\") | .rows]" >actual &&
    echo "[3]" >expect && test_cmp expect actual &&
    src sales "[.status, .rows]" >actual && echo "[\"synced\",3]" >expect && test_cmp expect actual
'
stop_web

test_expect_success 'setup: the model'"'"'s view dropped (catalog.json still has it)' '
    dango query --write "DROP VIEW staging.stg_sales" >/dev/null
'
start_web web2
test_expect_success 'model columns: from catalog.json when the snapshot lacks the relation' '
    web_get /api/models/stg_sales >m.json &&
    uid=$(jq -r .unique_id m.json) &&
    jq -c --arg u "$uid" "[\"catalog.json\", [.nodes[\$u].columns | to_entries | sort_by(.value.index)[] | [.value.name, .value.type]]]" \
        dbt/target/catalog.json >expect &&
    cols >actual && test_cmp expect actual &&
    grep -q "\"amount\",\"DOUBLE\"" actual &&
    jq -r .metadata.generated_at dbt/target/catalog.json >expect &&
    jq -r .catalog_json_generated_at m.json >actual && test_cmp expect actual
'
stop_web

rm -f dbt/target/catalog.json
start_web web3
test_expect_success 'model columns: the documented ones without catalog.json' '
    web_get /api/models/stg_sales | jq -c "[.columns_from, .catalog_json_generated_at, ([.columns[].type] | unique)]" >actual &&
    echo "[\"manifest\",null,[null]]" >expect && test_cmp expect actual
'
stop_web

test_expect_success 'setup: the model again, and a command source that waits for a file' '
    dango run >/dev/null &&
    cat >slow.sh <<-\EOF &&
	i=0
	while [ ! -f release ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
	echo "{\"id\": 1}"
	EOF
    cat >>.dango/sources.yml <<-YML &&
	  - name: slow
	    type: command
	    command:
	      run: [sh, slow.sh]
	      format: ndjson
	      timeout_minutes: 2
	YML
    touch release && sh slow.sh >out && rm release && jq -e ".id == 1" out
'

so_far() { test "$(src sales "[.status, .source_status, .rows_so_far]")" = "$1"; }
# its rows come with the snapshot taken once the CLI's sync has left the warehouse
slow_is() { test "$(src slow "[.status, .rows]")" = "$1"; }
start_web web4
test_expect_success 'a source loaded while the sync goes on shows its rows; then the sync ends' '
    printf "4,2024-01-04,2.50\n" >>data/sales.csv &&
    { dango sync sales slow >sync.out 2>&1 & } &&
    wait_until 60 so_far "[\"running\",\"completed\",4]" &&
    src slow "[.status, .source_status, .rows_so_far]" >actual &&
    echo "[\"running\",\"running\",0]" >expect && test_cmp expect actual &&
    touch release &&
    wait_until 120 so_far "[\"synced\",null,null]" &&
    wait_until 60 slow_is "[\"synced\",1]"
'
touch release
stop_web

test_done
