#!/usr/bin/env bash
# _dlt_id of loaded rows (warehouse/row_id.h): a UUID (version 8, RFC 9562
# variant) unique across the files of one load, across loads and across
# grouped small files; a first load leaves no column defaults behind.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

test_expect_success 'one load: a big file and a group of small ones get distinct UUIDs' '
    mkdir -p data/in &&
    dango query --write "COPY (SELECT i AS id, '"'"'row '"'"' || i AS v FROM range(60000) t(i)) TO '"'"'data/in/big.csv'"'"' (HEADER)" >/dev/null &&
    for i in 1 2 3; do printf "id,v\n%d,s%d\n%d,t%d\n" $i $i $((i + 100)) $i >data/in/s$i.csv; done &&
    dango source add local_files --name fs --directory data/in --set "file_pattern=*.csv" >/dev/null &&
    dango sync fs >out && test_grep "Loaded 60,006 rows into raw_fs.fs" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT _dlt_id) || '"'"' '"'"' || count(DISTINCT _dango_filename) FROM raw_fs.fs" >n &&
    echo "60006 60006 4" >expect && test_cmp expect n &&
    q "SELECT DISTINCT uuid_extract_version(_dlt_id) || '"'"' '"'"' || (substr(_dlt_id::VARCHAR, 20, 1) IN ('"'"'8'"'"', '"'"'9'"'"', '"'"'a'"'"', '"'"'b'"'"')) FROM raw_fs.fs" >v &&
    echo "8 true" >expect && test_cmp expect v &&
    q "SELECT id || '"'"' '"'"' || v || '"'"' '"'"' || _dango_filename FROM raw_fs.fs WHERE id IN (0, 59999) OR v IN ('"'"'s2'"'"', '"'"'t2'"'"') ORDER BY id, v" >rows &&
    printf "0 row 0 data/in/big.csv\n2 s2 data/in/s2.csv\n102 t2 data/in/s2.csv\n59999 row 59999 data/in/big.csv\n" >expect &&
    test_cmp expect rows
'

test_expect_success 'the first load leaves no column defaults on the table' '
    q "SELECT count(*) FROM duckdb_columns() WHERE schema_name = '"'"'raw_fs'"'"' AND table_name = '"'"'fs'"'"' AND column_default IS NOT NULL" >d &&
    echo 0 >expect && test_cmp expect d &&
    q "SELECT string_agg(column_name || '"'"' '"'"' || data_type, '"'"'; '"'"' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '"'"'raw_fs'"'"' AND table_name = '"'"'fs'"'"'" >c &&
    echo "id BIGINT; v VARCHAR; _dlt_load_id VARCHAR; _dlt_id UUID; _dlt_extracted_at TIMESTAMP WITH TIME ZONE; _dango_filename VARCHAR; _dango_file_mtime TIMESTAMP; _dango_loaded_at TIMESTAMP WITH TIME ZONE; _dango_deleted BOOLEAN" >expect &&
    test_cmp expect c
'

test_expect_success 'a second load appends rows whose ids differ from the first load'"'"'s' '
    printf "id,v\n7,new\n8,newer\n" >data/in/s9.csv &&
    dango sync fs >out && test_grep "Loaded 2 rows into raw_fs.fs" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT _dlt_id) || '"'"' '"'"' || count(DISTINCT _dlt_load_id) FROM raw_fs.fs" >n &&
    echo "60008 60008 2" >expect && test_cmp expect n &&
    q "SELECT count(DISTINCT left(_dlt_id::VARCHAR, 18)) || '"'"' '"'"' || count(DISTINCT _dlt_load_id) FROM raw_fs.fs" >p &&
    echo "2 2" >expect && test_cmp expect p &&
    q "SELECT count(*) FROM duckdb_columns() WHERE schema_name = '"'"'raw_fs'"'"' AND table_name = '"'"'fs'"'"' AND column_default IS NOT NULL" >d &&
    echo 0 >expect && test_cmp expect d
'

test_expect_success 'a full refresh makes the table again with new ids' '
    q "SELECT min(_dlt_id) FROM raw_fs.fs" >before &&
    dango sync fs --full-refresh --yes >out && test_grep "60,008 rows" out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT _dlt_id) FROM raw_fs.fs" >n &&
    echo "60008 60008" >expect && test_cmp expect n &&
    q "SELECT min(_dlt_id) FROM raw_fs.fs" >after && ! test_cmp before after
'

test_done
