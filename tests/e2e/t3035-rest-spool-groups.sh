#!/usr/bin/env bash
# rest_api spool files load two at a time (one read_json over a list of
# files, which DuckDB parses in parallel): every record arrives once with
# every column as the API gave it, a merge keeps the last record of a key
# in page order across the files of a batch, and a record longer than
# read_json's default bound (a 70 MB line) loads under the load's memory
# limit.
. "$(dirname "$0")/lib.sh"

# 200,000 records of /bench: two spool files (122,880 rows, a row group of
# DuckDB's, and the rest), one batch
"$FIXTURES/api_server" "$TRASH/port" "$TRASH/api.log" 200000 &
wait_for_file "$TRASH/port" || exit 1
API=http://127.0.0.1:$(cat "$TRASH/port")

dango init p >/dev/null </dev/null
cd p
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: all
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: records
          path: /bench
          params: {per_page: 2000}
          paginator: {type: json_link, next_url_path: next}
  - name: last
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: records
          path: /bench
          params: {per_page: 2000}
          paginator: {type: json_link, next_url_path: next}
          primary_key: country
          write_disposition: merge
  - name: long
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - {name: items, path: /long, params: {mb: 70}}
YAML

test_expect_success 'two spool files load as one batch, every record and column as the API gave it' '
    dango sync all >out 2>&1 &&
    test_grep "Reading records (parts 1-2)" out &&
    test_grep ! "part 3" out &&
    test_grep "Loaded 200,000 rows into raw_all.records" out &&
    # the server makes record i from i alone: check every row and column
    dango query --csv "SELECT count(*), count(DISTINCT id), min(id), max(id),
        count(*) FILTER (WHERE name <> '\''customer '\'' || id OR email <> '\''user'\'' || id || '\''@example.com'\''
            OR amount <> (id % 10000) + (id % 100) / 100.0 OR active <> (id % 3 <> 0)
            OR country <> [\$\$US\$\$, \$\$DE\$\$, \$\$FR\$\$, \$\$JP\$\$][id % 4 + 1]
            OR created_at <> to_timestamp(1700000000 + id * 37) OR score <> id * 7 % 1000) AS wrong
        FROM raw_all.records" >actual &&
    printf "count_star()|count(DISTINCT id)|min(id)|max(id)|wrong\n200000|200000|1|200000|0\n" | tr "|" , >expect &&
    test_cmp expect actual &&
    dango query --csv "SELECT * EXCLUDE (_dlt_load_id, _dlt_id, _dlt_extracted_at) FROM raw_all.records
        WHERE id IN (1, 99999, 100001, 200000) ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	id,name,email,amount,active,country,created_at,score
	1,customer 1,user1@example.com,1.01,true,DE,2023-11-14 22:13:57+00,7
	99999,customer 99999,user99999@example.com,9999.99,false,JP,2023-12-27 17:59:23+00,993
	100001,customer 100001,user100001@example.com,1.01,true,DE,2023-12-27 18:00:37+00,7
	200000,customer 200000,user200000@example.com,0.0,true,US,2024-02-08 13:46:40+00,0
	EOF
    test_cmp expect actual
'

# (the first sync creates the table from its first batch as it comes; the
# second merges every batch into it)
test_expect_success 'a merge keeps the last record of each key in page order, across the files of a batch' '
    dango sync last >out 2>&1 &&
    dango sync last >out 2>&1 &&
    test_grep "Reading records (parts 1-2)" out &&
    test_grep ! "part 3" out &&
    dango query --csv "SELECT country, id FROM raw_last.records ORDER BY country" >actual &&
    printf "country,id\nDE,199997\nFR,199998\nJP,199999\nUS,200000\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'a record longer than read_json'\''s default bound loads under the memory limit' '
    dango sync long >out 2>&1 &&
    test_grep "Loaded 2 rows into raw_long.items" out &&
    dango query --csv "SELECT id, length(pad) AS n, pad = repeat('\''x'\'', 73400320) AS same FROM raw_long.items ORDER BY id" >actual &&
    printf "id,n,same\n1,73400320,true\n2,1,false\n" >expect &&
    test_cmp expect actual
'

test_done
