#!/usr/bin/env bash
# dango sync on rest_api sources against a local fake API: every paginator,
# every auth type, nested data into child tables, parent-child resources,
# merge, incremental cursors and date ranges.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n' >.dango/sources.yml

# The engine names columns dlt's way; these helpers accept a__b/_x as
# spelled either way, so that they test the data rather than the spelling.
cols() { q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'raw_$1' AND table_name = '$2' AND column_name NOT IN ('_dlt_load_id', '_dlt_extracted_at')" | tr -d '"' | sed -E 's/__/_/g; s/(^|,)_/\1/g'; }

add_source() {
    # add_source NAME <<YAML (the rest_api block, indented by 6)
    { cat .dango/sources.yml; printf '  - name: %s\n    type: rest_api\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2";
      printf '    rest_api:\n      base_url: %s\n' "$API"; cat; } >s.tmp && mv s.tmp .dango/sources.yml
}

test_expect_success 'every paginator reads all 25 records, each page once' '
    add_source pg <<YAML &&
      endpoints:
        - {name: offset_total, path: /offset, paginator: {type: offset, limit: 10, total_path: total}}
        - {name: offset_more, path: /offset_more, paginator: {type: offset, limit: 10, has_more_path: has_more}}
        - {name: pages, path: /page, data_selector: results.items, paginator: {type: page_number, page_param: page, limit: 10, limit_param: per_page}}
        - {name: cursors, path: /cursor, paginator: {type: cursor, cursor_path: meta.next_cursor, cursor_param: cursor, limit: 10}}
        - {name: next_link, path: /next, paginator: {type: json_link, next_url_path: next}}
        - {name: links_next, path: /links}
        - {name: odata, path: /odata}
        - {name: header, path: /header}
        - {name: single, path: /single, paginator: {type: single_page}}
YAML
    m=$(mark) &&
    dango sync pg >out &&
    for t in offset_total offset_more pages cursors next_link links_next odata header single; do
        test_grep "Loaded 25 rows into raw_pg.$t$" out || exit 1
        q "SELECT count(DISTINCT id) || '"'"' '"'"'|| min(id) || '"'"' '"'"' || max(id) FROM raw_pg.$t" >n && echo "25 1 25" >expect && test_cmp expect n || exit 1
    done &&
    # sorted: the pages a total makes known are fetched at once, in any order
    log_since $m | cut -d" " -f2 | sort >reqs &&
    sort >expect <<-\EOF &&
	/offset?limit=10&offset=0
	/offset?limit=10&offset=10
	/offset?limit=10&offset=20
	/offset_more?limit=10&offset=0
	/offset_more?limit=10&offset=10
	/offset_more?limit=10&offset=20
	/page?page=1&per_page=10
	/page?page=2&per_page=10
	/page?page=3&per_page=10
	/page?page=4&per_page=10
	/cursor?limit=10
	/cursor?limit=10&cursor=c10
	/cursor?limit=10&cursor=c20
	/next
	/next?page=2
	/next?page=3
	/links
	/links?page=2
	/links?page=3
	/odata
	/odata?page=2
	/odata?page=3
	/header
	/header?page=2
	/header?page=3
	/single
	EOF
    test_cmp expect reqs
'

test_expect_success 'types are inferred; a field on one page only is a column' '
    q "SELECT typeof(id) || '"'"' '"'"' || typeof(amount) || '"'"' '"'"' || typeof(active) || '"'"' '"'"' || typeof(updated_at) || '"'"' '"'"' || typeof(name) FROM raw_pg.cursors LIMIT 1" >t &&
    echo "BIGINT DOUBLE BOOLEAN TIMESTAMP WITH TIME ZONE VARCHAR" >expect && test_cmp expect t &&
    q "SELECT id || '"'"':'"'"' || note FROM raw_pg.cursors WHERE note IS NOT NULL" >n && echo "23:late field" >expect && test_cmp expect n &&
    q "SELECT updated_at::VARCHAR FROM raw_pg.cursors WHERE id = 2" >u && echo "2024-06-01 02:00:00+00" >expect && test_cmp expect u
'

test_expect_success 'a repeated cursor stops paging with a warning' '
    add_source rep <<YAML &&
      endpoints:
        - {name: rep, path: /repeat, paginator: {type: cursor, cursor_path: next_cursor}}
YAML
    m=$(mark) &&
    dango sync rep >out 2>err &&
    cat out err >all && test_grep "repeated a page link or cursor" all &&
    log_since $m | wc -l >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'max_pages caps the pages read' '
    add_source capped <<YAML &&
      max_pages: 2
      endpoints:
        - {name: capped, path: /header}
YAML
    dango sync capped >out && test_grep "Loaded 20 rows into raw_capped.capped" out && test_grep "stopped after 2 pages" out
'

test_expect_success 'every auth type sends its credentials on every page' '
    cat >.env <<-\EOF &&
	TOK=secret-token
	KEY=k-123
	QKEY=k/123+
	USR=alice
	PW=wonderland
	CID=cid
	CSEC=csecret
	CUSTOM=custom-value
	EOF
    for a in "bearer|auth_token_env: TOK" "apikey_header|api_key_env: KEY" "apikey_query|api_key_env: QKEY, api_key_location: query" \
             "basic|username_env: USR, password_env: PW" "oauth|client_id_env: CID, client_secret_env: CSEC, token_url: $API/oauth/token" \
             "custom|header_name: X-Custom-Auth, header_value_env: CUSTOM"; do
        name=${a%%|*} keys=${a#*|}
        case $name in bearer) t=bearer;; apikey*) t=api_key;; basic) t=basic;; oauth) t=oauth2_client_credentials;; custom) t=custom_header;; esac
        { printf "      auth_type: %s\n" "$t"; echo "$keys" | sed "s/, /\n/g" | sed "s/^/      /";
          printf "      endpoints:\n        - {name: rows, path: /auth/%s, paginator: {type: offset, limit: 3}}\n" "$name"; } |
            add_source "auth_$name" || exit 1
        dango sync "auth_$name" >out 2>&1 || { cat out; exit 1; }
        test_grep "Loaded 3 rows into raw_auth_$name.rows" out || exit 1
    done &&
    grep -c "/auth/bearer.*auth=Bearer secret-token" "$TRASH/api.log" >n && echo 2 >expect && test_cmp expect n &&
    grep -c "/auth/apikey_header.*key=k-123" "$TRASH/api.log" >n && test_cmp expect n &&
    grep -c "/auth/apikey_query?.*api_key=k/123+" "$TRASH/api.log" >n && test_cmp expect n &&
    grep -c "/auth/basic.*auth=Basic YWxpY2U6d29uZGVybGFuZA==" "$TRASH/api.log" >n && test_cmp expect n &&
    grep -c "/auth/oauth.*auth=Bearer oauth-tok-1" "$TRASH/api.log" >n && test_cmp expect n &&
    grep -c "POST /oauth/token" "$TRASH/api.log" >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'nested objects flatten, lists become child tables linked by _dlt_id' '
    add_source nest <<YAML &&
      endpoints:
        - {name: orders, path: /nested, primary_key: id}
YAML
    dango sync nest >out &&
    test_grep "Loaded 2 rows into raw_nest.orders$" out && test_grep "Loaded 3 rows into raw_nest.orders__tags$" out &&
    test_grep "Loaded 2 rows into raw_nest.orders__lines$" out && test_grep "Loaded 2 rows into raw_nest.orders__lines__parts$" out &&
    cols nest orders >c && echo "dlt_id,id,customer_name,customer_address_city,created,price,ok,camel_case" >expect && test_cmp expect c &&
    cols nest orders__tags >c && echo "dlt_id,dlt_parent_id,dlt_list_idx,value" >expect && test_cmp expect c &&
    q "SELECT o.id || '"'"':'"'"' || t.value FROM raw_nest.orders o JOIN raw_nest.orders__tags t ON t._dlt_parent_id = o._dlt_id ORDER BY 1" >v &&
    printf "1:a\n1:b\n2:c\n" >expect && test_cmp expect v &&
    q "SELECT COLUMNS('"'"'list_idx'"'"') FROM raw_nest.orders__tags ORDER BY value" >v && printf "0\n1\n0\n" >expect && test_cmp expect v &&
    q "SELECT l.sku || '"'"':'"'"' || p.p FROM raw_nest.orders__lines l JOIN raw_nest.orders__lines__parts p ON p._dlt_parent_id = l._dlt_id ORDER BY 1" >v &&
    printf "x:1\nx:2\n" >expect && test_cmp expect v &&
    q "SELECT COLUMNS('"'"'customer_+name'"'"') FROM raw_nest.orders ORDER BY id" >v && printf "Ann\nBø\n" >expect && test_cmp expect v &&
    q "SELECT created::VARCHAR FROM raw_nest.orders ORDER BY id" >v && printf "2024-06-01 10:00:00+00\n2024-06-02 09:30:00+00\n" >expect && test_cmp expect v
'

test_expect_success 'max_table_nesting keeps deeper data as JSON' '
    add_source flat <<YAML &&
      endpoints:
        - {name: orders, path: /nested, max_table_nesting: 0}
YAML
    dango sync flat >out && test_grep ! "orders__" out &&
    q "SELECT typeof(customer) || '"'"' '"'"' || (tags->>0) FROM raw_flat.orders WHERE id = 1" >v && echo "JSON a" >expect && test_cmp expect v
'

test_expect_success 'a child resource is fetched for each parent row, with parent fields' '
    add_source par <<YAML &&
      endpoints:
        - {name: issues, path: /issues, primary_key: id}
        - {name: comments, path: "/issues/{resources.issues.number}/comments", include_from_parent: [id]}
YAML
    m=$(mark) &&
    dango sync par >out && test_grep "Loaded 6 rows into raw_par.comments" out &&
    log_since $m | cut -d" " -f2 >reqs && printf "/issues\n/issues/1/comments\n/issues/2/comments\n/issues/3/comments\n" >expect && test_cmp expect reqs &&
    q "SELECT COLUMNS('"'"'_?issues_id'"'"') || '"'"':'"'"' || body FROM raw_par.comments ORDER BY id" >v &&
    printf "101:comment 1 on 1\n102:comment 1 on 2\n102:comment 2 on 2\n103:comment 1 on 3\n103:comment 2 on 3\n103:comment 3 on 3\n" >expect && test_cmp expect v &&
    dango sync par --select comments >out && test_grep "Loaded 6 rows into raw_par.comments" out && test_grep ! "raw_par.issues" out
'

test_expect_success 'incremental: the first sync starts at initial_value, the next only asks for new data' '
    add_source inc <<YAML &&
      endpoints:
        - name: items
          path: /incremental
          primary_key: id
          write_disposition: merge
          paginator: {type: page_number, page_param: page}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T10:00:00Z"}
YAML
    m=$(mark) &&
    dango sync inc >out && test_grep "Fetching items (incremental from 2024-06-01T10:00:00Z)" out &&
    test_grep "Loaded 16 rows into raw_inc.items" out &&
    log_since $m | cut -d" " -f2 >reqs && head -1 reqs >r1 && echo "/incremental?updated_since=2024-06-01T10:00:00Z&page=1" >expect && test_cmp expect r1 &&
    q "SELECT state->>'"'"'cursor'"'"' FROM raw_inc._dango_state WHERE resource = '"'"'items'"'"'" >c && echo "2024-06-02T01:00:00Z" >expect && test_cmp expect c &&
    curl -s -X POST "$API/_control/add?what=items&n=3" >/dev/null && curl -s -X POST "$API/_control/touch?what=items&id=12" >/dev/null &&
    m=$(mark) &&
    dango sync inc >out && test_grep "Fetching items (incremental from 2024-06-02T01:00:00Z)" out &&
    log_since $m | cut -d" " -f2 | head -1 >r2 && echo "/incremental?updated_since=2024-06-02T01:00:00Z&page=1" >expect && test_cmp expect r2 &&
    test_grep "Loaded 5 rows into raw_inc.items" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT id) FROM raw_inc.items" >n && echo "19 19" >expect && test_cmp expect n &&
    q "SELECT name FROM raw_inc.items WHERE id = 12" >v && echo "item-12-v2" >expect && test_cmp expect v
'

test_expect_success 'merge keeps one row per key over re-reads; append keeps every read' '
    add_source mrg <<YAML &&
      endpoints:
        - {name: m, path: /single, primary_key: id, write_disposition: merge}
        - {name: a, path: /single, write_disposition: append}
        - {name: r, path: /single, write_disposition: replace}
YAML
    dango sync mrg >/dev/null && dango sync mrg >out && test_grep "replace: every sync reloads r" out &&
    q "SELECT (SELECT count(*) FROM raw_mrg.m) || '"'"' '"'"' || (SELECT count(*) FROM raw_mrg.a) || '"'"' '"'"' || (SELECT count(*) FROM raw_mrg.r)" >n &&
    echo "28 56 28" >expect && test_cmp expect n
'

test_expect_success 'the cursor advances only when the load commits' '
    add_source cm <<YAML &&
      endpoints:
        - name: items
          path: /incremental
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-02T00:00:00Z"}
        - {name: bad, path: /malformed}
YAML
    m=$(mark) &&
    test_must_fail dango sync cm >out 2>err &&
    test_must_fail dango sync cm >out 2>err &&
    log_since $m | grep "/incremental" | cut -d" " -f2 | sort -u >reqs &&
    echo "/incremental?updated_since=2024-06-02T00:00:00Z&page=1" >expect && head -1 reqs >r && test_cmp expect r &&
    test_must_fail dango query "SELECT count(*) FROM raw_cm.items"
'

test_expect_success '--since/--until map onto the incremental params; lookback widens; gap fill is noted' '
    add_source dr "    lookback_days: 1" <<YAML &&
      endpoints:
        - name: items
          path: /incremental
          primary_key: id
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, end_param: updated_until, initial_value: "2024-06-01T20:00:00Z"}
YAML
    m=$(mark) && dango sync dr >out &&
    log_since $m | cut -d" " -f2 | head -1 >r && echo "/incremental?updated_since=2024-06-01T20:00:00Z&page=1" >expect && test_cmp expect r &&
    m=$(mark) && dango sync dr >out &&
    log_since $m | cut -d" " -f2 | head -1 >r && echo "/incremental?updated_since=2024-08-22T20:00:00Z&page=1" >expect && test_cmp expect r &&
    m=$(mark) && dango sync dr --since 2024-06-01 --until 2024-06-01 >out &&
    test_grep "gap fill: --since 2024-06-01 is earlier than the earliest items loaded" out &&
    log_since $m | cut -d" " -f2 | head -1 >r && echo "/incremental?updated_since=2024-06-01&updated_until=2024-06-01T23:59:59Z&page=1" >expect && test_cmp expect r &&
    q "SELECT state->>'"'"'cursor'"'"' FROM raw_dr._dango_state" >c && echo "2024-08-23T20:00:00Z" >expect && test_cmp expect c
'

test_expect_success '--limit stops fetching early' '
    m=$(mark) && dango sync pg --select offset_total --limit 12 >out &&
    test_grep "Loaded 12 rows" out && log_since $m | wc -l >n && echo 2 >expect && test_cmp expect n
'

test_done
