#!/usr/bin/env bash
# New small CSV files of one source that share a header are read by one
# read_csv over their list (issue 18): every row must still name its own
# file and mtime, each file keep its metadata, a bad row be named by
# file:line with nothing committed, and anything a group cannot read as its
# files would alone (types that differ, a schema change) be loaded file by
# file as before.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

# file i holds i % 3 + 1 rows: ids i*10, i*10+1, ...; v is "f<i>"
make_files() { # dir from to
    for i in $(seq "$2" "$3"); do
        { echo "id,v,amount"; for k in $(seq 0 $((i % 3))); do echo "$((i * 10 + k)),f$i,$i.5"; done; } >"$1/f$i.csv"
    done
}
expect_rows() { # dir from to -> "file:ids:v" lines, sorted like ORDER BY 1
    for i in $(seq "$2" "$3"); do
        ids=""; for k in $(seq 0 $((i % 3))); do ids="$ids${ids:+/}$((i * 10 + k))"; done
        echo "$1/f$i.csv:$ids:f$i"
    done | LC_ALL=C sort
}
per_file() { # table -> what each file holds, by the rows' own _dango_filename
    q "SELECT _dango_filename || ':' || string_agg(id::VARCHAR, '/' ORDER BY id) || ':' || string_agg(DISTINCT v, ',')
       FROM $1 GROUP BY _dango_filename ORDER BY 1 COLLATE C"
}

test_expect_success 'a folder of 600 new files: each row is attributed to its own file' '
    mkdir -p data/many && make_files data/many 1 600 &&
    touch -d "2024-03-04 05:06:07 UTC" data/many/f17.csv && touch -d "2023-01-02 03:04:05 UTC" data/many/f599.csv &&
    dango source add local_files --name many --directory data/many --set "file_pattern=*.csv" >/dev/null &&
    dango sync many >o && strip_clock <o >out &&
    test_grep "^Reading data/many/f1.csv (new)$" out && test_grep "^Reading data/many/f600.csv (new)$" out &&
    test $(grep -c "^Reading data/many/" out) = 600 &&
    per_file raw_many.many >got && expect_rows data/many 1 600 >expect && test_cmp expect got &&
    q "SELECT count(*) FROM raw_many.many" >n && echo 1200 >expect && test_cmp expect n &&
    q "SELECT DISTINCT _dango_filename || '"'"' '"'"' || _dango_file_mtime FROM raw_many.many WHERE _dango_filename IN ('"'"'data/many/f17.csv'"'"', '"'"'data/many/f599.csv'"'"') ORDER BY 1" >m &&
    printf "data/many/f17.csv 2024-03-04 05:06:07\ndata/many/f599.csv 2023-01-02 03:04:05\n" >expect && test_cmp expect m
'

test_expect_success 'the grouped load keeps every column and metadata column as a single file gets them' '
    q "SELECT column_name || '"'"' '"'"' || data_type FROM information_schema.columns WHERE table_schema = '"'"'raw_many'"'"' AND table_name = '"'"'many'"'"' ORDER BY ordinal_position" >cols &&
    cat >expect <<-\EOF &&
	id BIGINT
	v VARCHAR
	amount DOUBLE
	_dlt_load_id VARCHAR
	_dlt_id UUID
	_dlt_extracted_at TIMESTAMP WITH TIME ZONE
	_dango_filename VARCHAR
	_dango_file_mtime TIMESTAMP
	_dango_loaded_at TIMESTAMP WITH TIME ZONE
	_dango_deleted BOOLEAN
	EOF
    test_cmp expect cols &&
    q "SELECT count(DISTINCT _dlt_id) || '"'"' '"'"' || count(DISTINCT _dlt_load_id) || '"'"' '"'"' || bool_or(_dango_deleted) || '"'"' '"'"' || bool_and(amount = id // 10 + 0.5) FROM raw_many.many" >m &&
    echo "1200 1 false true" >expect && test_cmp expect m
'

test_expect_success 'each file keeps its own metadata row: rows, size, status' '
    q "SELECT path || '"'"' '"'"' || rows || '"'"' '"'"' || size || '"'"' '"'"' || status FROM raw_many._dango_file_metadata ORDER BY path COLLATE C" >f &&
    for i in $(seq 1 600); do echo "data/many/f$i.csv $((i % 3 + 1)) $(stat -c %s data/many/f$i.csv) new"; done | LC_ALL=C sort >expect &&
    test_cmp expect f
'

test_expect_success 'the next sync skips them all, loads the new ones, soft-deletes a removed one' '
    make_files data/many 601 650 && rm data/many/f3.csv &&
    dango sync many >out && test_grep "599 files unchanged, skipped" out && test_grep "Loaded 101 rows" out &&
    ! grep -q "Reading data/many/f1.csv" out &&
    per_file "raw_many.many WHERE id >= 6010" >got && expect_rows data/many 601 650 >expect && test_cmp expect got &&
    q "SELECT _dango_filename || '"'"' '"'"' || bool_and(_dango_deleted) || '"'"' '"'"' || count(*) FROM raw_many.many WHERE _dango_deleted OR _dango_filename = '"'"'data/many/f4.csv'"'"' GROUP BY _dango_filename ORDER BY 1" >d &&
    printf "data/many/f3.csv true 1\ndata/many/f4.csv false 2\n" >expect && test_cmp expect d &&
    # a file whose mtime is too close to the last sync is hashed again and
    # recorded "unchanged" rather than "new": count both as kept
    q "SELECT k || '"'"' '"'"' || count(*) FROM (SELECT CASE WHEN status = '"'"'deleted'"'"' THEN status ELSE '"'"'kept'"'"' END AS k FROM raw_many._dango_file_metadata) GROUP BY k ORDER BY 1" >s &&
    printf "deleted 1\nkept 649\n" >expect && test_cmp expect s
'

test_expect_success 'a bad row in the 500th file is named by file:line and nothing is committed' '
    mkdir -p data/bad && make_files data/bad 1 600 &&
    printf "id,v,amount\n5000,f500,1.5\n5001,f500,2.5,extra\n" >data/bad/f500.csv &&
    dango source add local_files --name bad --directory data/bad --set "file_pattern=*.csv" >/dev/null &&
    test_expect_code 1 dango sync bad >o 2>err && strip_clock <o >out &&
    test_grep "^data/bad/f500.csv:3: Expected Number of Columns: 3 Found: 4$" err &&
    test_grep "the line reads: 5001,f500,2.5,extra" err &&
    test_grep "Nothing was changed for bad" out &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_bad'"'"' AND table_name IN ('"'"'bad'"'"', '"'"'_dango_file_metadata'"'"')" >n &&
    echo 0 >expect && test_cmp expect n &&
    test $(grep -c "^Reading data/bad/f1.csv (new)$" out) = 1
'

test_expect_success 'once fixed, the same folder loads whole' '
    printf "id,v,amount\n5000,f500,1.5\n5001,f500,2.5\n" >data/bad/f500.csv &&
    dango sync bad >out &&
    q "SELECT count(*) || '"'"' '"'"' || count(DISTINCT _dango_filename) FROM raw_bad.bad" >n && echo "1199 600" >expect && test_cmp expect n &&
    q "SELECT rows FROM raw_bad._dango_file_metadata WHERE path = '"'"'data/bad/f500.csv'"'"'" >r && echo 2 >expect && test_cmp expect r
'

test_expect_success 'files whose types differ are refused as file by file: the first one that does not fit is named' '
    mkdir -p data/mix && make_files data/mix 1 5 &&
    printf "id,v,amount\nx7,f3,1.5\n" >data/mix/f3.csv &&
    dango source add local_files --name mix --directory data/mix --set "file_pattern=*.csv" >/dev/null &&
    test_expect_code 1 dango sync mix >out 2>err &&
    test_grep "^data/mix/f3.csv: column .id. no longer fits its type in raw_mix.mix: it was BIGINT, the file now needs VARCHAR (a value .x7.)" err &&
    test_must_fail dango query "SELECT count(*) FROM raw_mix.mix"
'

test_expect_success 'a wider type in a later file is loaded as file by file loads it: into the first file'"'"'s table, cast' '
    mkdir -p data/wide && printf "id,v\n1,a\n" >data/wide/a.csv && printf "id,v\n2.0,b\n" >data/wide/b.csv &&
    printf "id,v\n3,c\n" >data/wide/c.csv &&
    dango source add local_files --name wide --directory data/wide --set "file_pattern=*.csv" >/dev/null &&
    dango sync wide >out &&
    q "SELECT min(typeof(id)) || '"'"' '"'"' || string_agg(id::VARCHAR || _dango_filename, '"'"'/'"'"' ORDER BY id) FROM raw_wide.wide" >v &&
    echo "BIGINT 1data/wide/a.csv/2data/wide/b.csv/3data/wide/c.csv" >expect && test_cmp expect v
'

test_expect_success 'two headers in one folder, --allow-schema-changes: the change is recorded against its first file' '
    mkdir -p data/two && printf "id,v\n1,a\n" >data/two/a1.csv && printf "id,v\n2,b\n" >data/two/a2.csv &&
    printf "id,v,w\n3,c,x\n" >data/two/b1.csv && printf "id,v,w\n4,d,y\n" >data/two/b2.csv &&
    dango source add local_files --name two --directory data/two --set "file_pattern=*.csv" >/dev/null &&
    dango sync two --allow-schema-changes >out 2>err &&
    q "SELECT column_name || '"'"' '"'"' || file FROM raw_two._dango_schema_changes" >c && echo "w data/two/b1.csv" >expect && test_cmp expect c &&
    q "SELECT id || '"'"' '"'"' || v || '"'"' '"'"' || coalesce(w, '"'"'-'"'"') || '"'"' '"'"' || _dango_filename FROM raw_two.two ORDER BY id" >v &&
    printf "1 a - data/two/a1.csv\n2 b - data/two/a2.csv\n3 c x data/two/b1.csv\n4 d y data/two/b2.csv\n" >expect && test_cmp expect v
'

test_expect_success 'a full refresh reloads a grouped folder with the same attribution' '
    dango sync many --full-refresh --yes >out &&
    per_file raw_many.many >got && { expect_rows data/many 1 2; expect_rows data/many 4 650; } | LC_ALL=C sort >expect && test_cmp expect got &&
    q "SELECT count(*) FROM raw_many._dango_file_metadata WHERE status = '"'"'new'"'"'" >n && echo 649 >expect && test_cmp expect n
'

test_done
