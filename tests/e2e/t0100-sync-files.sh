#!/usr/bin/env bash
# dango sync on file sources: incremental by file, updates, deletions,
# schema changes, formats and options.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
rows() { q "SELECT count(*) FROM $1"; }

test_expect_success 'a csv source loads into raw_<name>.<name> with dlt columns' '
    printf "id,name,amount,created_at\n1,Ann,1.5,2024-01-01 10:00:00\n2,\"Bo, Jr.\",2.25,2024-01-02 11:00:00\n" >data/sales.csv &&
    dango source add csv --name sales --path data/sales.csv >/dev/null &&
    dango sync sales >out &&
    strip_clock <out >o &&
    test_grep "^Starting sync for sales$" o &&
    test_grep "^Reading data/sales.csv (new)$" o &&
    test_grep "^Loaded 2 rows into raw_sales.sales$" o &&
    test_grep "^✓ Sync complete (2 rows in [0-9.]*s)$" o &&
    test_grep "^✓ All syncs complete!$" o &&
    test_grep "^Total rows: 2$" o && test_grep "^Success: 1/1 sources$" o && test_grep "^Failed: 0/1 sources$" o &&
    q "SELECT name FROM raw_sales.sales WHERE id = 2" >v && echo "\"Bo, Jr.\"" >expect && test_cmp expect v &&
    q "SELECT typeof(amount) || '"'"' '"'"'|| typeof(created_at) || '"'"' '"'"' || typeof(_dlt_id) || '"'"' '"'"' || typeof(_dlt_extracted_at) FROM raw_sales.sales LIMIT 1" >t &&
    echo "DOUBLE TIMESTAMP UUID TIMESTAMP WITH TIME ZONE" >expect && test_cmp expect t &&
    q "SELECT count(DISTINCT _dlt_id) || '"'"' '"'"' || count(DISTINCT _dlt_load_id) || '"'"' '"'"' || min(_dango_filename) || '"'"' '"'"' || bool_or(_dango_deleted) FROM raw_sales.sales" >m &&
    echo "2 1 data/sales.csv false" >expect && test_cmp expect m
'

test_expect_success '_dlt_loads and the file metadata describe the load' '
    q "SELECT schema_name || '"'"' '"'"' || status FROM raw_sales._dlt_loads" >l && echo "sales 0" >expect && test_cmp expect l &&
    q "SELECT l.load_id = s.load_id FROM raw_sales._dlt_loads l, (SELECT DISTINCT _dlt_load_id AS load_id FROM raw_sales.sales) s" >same &&
    echo true >expect && test_cmp expect same &&
    q "SELECT path || '"'"' '"'"' || rows || '"'"' '"'"' || status || '"'"' '"'"' || size FROM raw_sales._dango_file_metadata" >f &&
    echo "data/sales.csv 2 new $(stat -c %s data/sales.csv)" >expect && test_cmp expect f
'

test_expect_success 'an unchanged file is skipped, and a touched one is not re-read' '
    dango sync sales >out && test_grep "1 file unchanged, skipped" out && test_grep "Loaded 0 rows" out &&
    touch -d "2030-01-01" data/sales.csv && dango sync sales >out && test_grep "1 file unchanged, skipped" out &&
    rows raw_sales.sales >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'a changed file replaces its rows rather than adding' '
    printf "id,name,amount,created_at\n1,Ann,9.5,2024-01-01 10:00:00\n2,Bo,2.25,2024-01-02 11:00:00\n3,Cy,3,2024-01-03 12:00:00\n" >data/sales.csv &&
    dango sync sales >out && test_grep "Reading data/sales.csv (updated)" out && test_grep "Loaded 3 rows" out &&
    rows raw_sales.sales >n && echo 3 >expect && test_cmp expect n &&
    q "SELECT amount FROM raw_sales.sales WHERE id = 1" >a && echo 9.5 >expect && test_cmp expect a
'

test_expect_success 'a folder source: new, updated, unchanged and deleted files' '
    mkdir -p data/in &&
    printf "id,v\n1,a\n2,b\n" >data/in/a.csv && printf "id,v\n3,c\n" >data/in/b.csv && printf "x\n" >data/in/notes.txt &&
    dango source add local_files --name inbox --directory data/in --set "file_pattern=*.csv" >/dev/null &&
    dango sync inbox >out && test_grep "Loaded 3 rows into raw_inbox.inbox" out &&
    printf "id,v\n4,d\n5,e\n6,f\n" >data/in/c.csv && printf "id,v\n3,C\n33,CC\n" >data/in/b.csv && rm data/in/a.csv &&
    dango sync inbox >out &&
    test_grep "Reading data/in/b.csv (updated)" out && test_grep "Reading data/in/c.csv (new)" out &&
    ! grep -q "a.csv" out &&
    q "SELECT _dango_filename || '"'"':'"'"' || count(*) || '"'"':'"'"' || bool_and(_dango_deleted) FROM raw_inbox.inbox GROUP BY _dango_filename ORDER BY 1" >g &&
    printf "data/in/a.csv:2:true\ndata/in/b.csv:2:false\ndata/in/c.csv:3:false\n" >expect && test_cmp expect g &&
    q "SELECT path || '"'"' '"'"' || status FROM raw_inbox._dango_file_metadata ORDER BY 1" >f &&
    printf "data/in/a.csv deleted\ndata/in/b.csv updated\ndata/in/c.csv new\n" >expect && test_cmp expect f
'

test_expect_success 'a file that comes back after deletion is loaded again' '
    printf "id,v\n1,a\n2,b\n" >data/in/a.csv &&
    dango sync inbox >out && test_grep "Reading data/in/a.csv (new)" out &&
    q "SELECT count(*) FILTER (WHERE NOT _dango_deleted) || '"'"' '"'"' || count(*) FROM raw_inbox.inbox" >n &&
    echo "7 9" >expect && test_cmp expect n
'

test_expect_success 'changed columns are refused, naming the file and the columns' '
    printf "id,v,extra\n7,g,x\n" >data/in/d.csv && printf "id\n8\n" >data/in/e.csv &&
    test_expect_code 1 dango sync inbox >out 2>err &&
    test_grep "✗ Sync failed for inbox" out &&
    test_grep "^data/in/d.csv: columns differ from raw_inbox.inbox; new: extra (re-run with --allow-schema-changes" err &&
    test_grep "Nothing was changed for inbox" out &&
    rows raw_inbox.inbox >n && echo 9 >expect && test_cmp expect n
'

test_expect_success '--allow-schema-changes adds columns and leaves missing ones NULL' '
    dango sync inbox --allow-schema-changes >out &&
    q "SELECT id || '"'"':'"'"' || coalesce(v, '"'"'NULL'"'"') || '"'"':'"'"' || coalesce(extra, '"'"'NULL'"'"') FROM raw_inbox.inbox WHERE id IN (1, 7, 8) AND NOT _dango_deleted ORDER BY id" >g &&
    printf "1:a:NULL\n7:g:x\n8:NULL:NULL\n" >expect && test_cmp expect g
'

test_expect_success 'widening a type is a schema change: integers to doubles to text with --allow-schema-changes' '
    printf "id,n\n1,5\n" >data/w1.csv &&
    dango source add local_files --name wide --directory data --set "file_pattern=w*.csv" >/dev/null &&
    dango sync wide >/dev/null &&
    printf "id,n\n2,5.5\n" >data/w2.csv && test_must_fail dango sync wide >/dev/null 2>err &&
    test_grep "data/w2.csv: column .n. no longer fits its type in raw_wide.wide: it was BIGINT, the file now needs DOUBLE (a value .5.5.)" err &&
    dango sync wide --allow-schema-changes >/dev/null &&
    q "SELECT typeof(n) FROM raw_wide.wide LIMIT 1" >t && echo DOUBLE >expect && test_cmp expect t &&
    printf "id,n\n3,many\n" >data/w3.csv && dango sync wide --allow-schema-changes >/dev/null &&
    q "SELECT string_agg(n, '"'"'|'"'"' ORDER BY id) FROM raw_wide.wide" >v && echo "5.0|5.5|many" >expect && test_cmp expect v
'

test_expect_success 'column names are normalized as dlt does' '
    printf "Order ID,Customer Name,totalAmount,1st\n1,A,2,x\n" >data/names.csv &&
    dango source add csv --name names --path data/names.csv >/dev/null && dango sync names >/dev/null &&
    q "SELECT string_agg(column_name, '"'"','"'"' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '"'"'raw_names'"'"' AND table_name = '"'"'names'"'"' AND NOT regexp_matches(column_name, '"'"'^_(dlt|dango)_'"'"')" >c &&
    echo "\"order_id,customer_name,total_amount,_1st\"" >expect && test_cmp expect c
'

test_expect_success 'TSV, JSON, NDJSON and Parquet files' '
    mkdir -p data/fmt &&
    printf "id\tv\n1\ta\n" >data/fmt/a.tsv &&
    printf "[{\"id\": 2, \"v\": \"b\"}]" >data/fmt/b.json &&
    printf "{\"id\": 3, \"v\": \"c\"}\n{\"id\": 4, \"v\": \"d\"}\n" >data/fmt/c.ndjson &&
    dango query --write "COPY (SELECT 5 AS id, '"'"'e'"'"' AS v) TO '"'"'data/fmt/d.parquet'"'"' (FORMAT parquet)" >/dev/null &&
    dango source add local_files --name fmt --directory data/fmt >/dev/null &&
    dango sync fmt >out &&
    q "SELECT string_agg(id || v, '"'"','"'"' ORDER BY id) FROM raw_fmt.fmt" >v && echo "\"1a,2b,3c,4d,5e\"" >expect && test_cmp expect v
'

test_expect_success 'CSV options: delimiter, skip rows, null strings, column types, table name' '
    printf "exported by tool\nid;code;when\n1;007;n/a\n2;010;2024-05-01\n" >data/opts.csv &&
    dango source add csv --name opts --path data/opts.csv --set "delimiter=;" --set skip_rows=1 \
        --set "null_strings=[n/a]" --set "column_types={code: VARCHAR}" --set table_name=codes >/dev/null &&
    dango sync opts >out && test_grep "Loaded 2 rows into raw_opts.codes" out &&
    q "SELECT code || '"'"' '"'"' || coalesce(CAST(\"when\" AS VARCHAR), '"'"'NULL'"'"') FROM raw_opts.codes ORDER BY id" >v &&
    printf "007 NULL\n010 2024-05-01\n" >expect && test_cmp expect v
'

test_expect_success 'merge by primary key keeps the newest row of each key' '
    mkdir -p data/m &&
    printf "id,status\n1,new\n2,new\n" >data/m/day1.csv &&
    dango source add local_files --name m --directory data/m --set primary_key=id --set write_disposition=merge >/dev/null &&
    dango sync m >/dev/null &&
    printf "id,status\n2,paid\n3,new\n3,paid\n" >data/m/day2.csv && dango sync m >/dev/null &&
    q "SELECT string_agg(id || '"'"'='"'"' || status, '"'"' '"'"' ORDER BY id) FROM raw_m.m" >v &&
    echo "1=new 2=paid 3=paid" >expect && test_cmp expect v
'

test_expect_success 'replace reloads the whole table on every sync and says so' '
    printf "id\n1\n2\n" >data/r.csv &&
    dango source add csv --name r --path data/r.csv --set write_disposition=replace >/dev/null &&
    dango sync r >/dev/null && dango sync r >out &&
    test_grep "replace: every sync reloads r" out && test_grep "Loaded 2 rows" out &&
    rows raw_r.r >n && echo 2 >expect && test_cmp expect n
'

test_expect_success '--limit caps the rows of a source' '
    printf "id\n" >data/big.csv && seq 1 500 >>data/big.csv &&
    dango source add csv --name big --path data/big.csv >/dev/null &&
    dango sync big --limit 100 >out && test_grep "Loaded 100 rows" out &&
    rows raw_big.big >n && echo 100 >expect && test_cmp expect n
'

test_expect_success '--select syncs only the named resources' '
    printf "id\n9\n" >data/sel.csv &&
    dango source add csv --name sel --path data/sel.csv >/dev/null &&
    test_expect_code 2 dango sync sel --select other >out 2>err && test_grep "no such resource" err &&
    test_expect_code 1 dango query "SELECT * FROM raw_sel.sel" 2>/dev/null &&
    dango sync sel --select sel >out && rows raw_sel.sel >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'sync history is recorded, and source list shows it' '
    q "SELECT count(*) FROM _dango.sync_history WHERE source = '"'"'sales'"'"' AND status = '"'"'success'"'"'" >n &&
    test "$(cat n)" -ge 3 &&
    q "SELECT count(*) FROM _dango.sync_history WHERE source = '"'"'inbox'"'"' AND status = '"'"'failed'"'"' AND error LIKE '"'"'%columns differ%'"'"'" >f &&
    echo 1 >expect && test_cmp expect f &&
    dango source list >out && sed -n "/● sales (csv)/,/^[●○]/p" out >block &&
    test_grep "Last synced: 20[0-9-]* [0-9:]*" block && test_grep "Tables: sales (3 rows)" block
'

test_expect_success 'the status file follows the phases to completed' '
    ls .dango/state/sync_status_*.json >files && test -s files &&
    f=$(ls -t .dango/state/sync_status_*.json | head -1) &&
    test_grep "\"phase\": \"completed\"" $f && test_grep "\"pid\": [0-9]" $f &&
    test_grep "\"updated_at\"" $f && test_grep "\"sources\"" $f && test_grep "\"rows\"" $f &&
    tr -d " \n" <$f >flat && test_grep "\"phases\":\[\"starting\",\"lock_waiting\",\"data_load\",\"dbt_started\",\"completed\"\]" flat
'

test_expect_success 'db status hides the metadata tables unless --all' '
    dango db status >out && test_grep "│ raw_sales  *│ sales  *│ table │" out &&
    ! grep -q "_dlt_loads" out && test_grep "metadata tables not shown: --all lists them" out &&
    dango db status --all >all && test_grep "│ raw_sales  *│ _dlt_loads  *│ table │" all &&
    test_grep "│ _dango  *│ sync_history" all
'

test_done
