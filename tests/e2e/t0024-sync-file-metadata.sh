#!/usr/bin/env bash
# raw_<source>._dango_file_metadata holds one row per file of a sync, every
# column as a user reads it back: the path as given (quotes, a backslash,
# non-ASCII letters), size, mtime, content hash, rows, status, load id,
# load time, nanosecond times and table; written in one statement for all
# the files of a load (issue 18), re-written when a file changes; and each
# row of the files, read by one read_csv over the list, names its own file.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
mkdir -p data/odd
printf 'id,v\n1,a\n' >"data/odd/it's.csv"
printf 'id,v\n2,b\n3,c\n' >'data/odd/say "hi".csv'
printf 'id,v\n4,d\n' >'data/odd/back\slash.csv'
printf 'id,v\n5,e\n6,f\n7,g\n' >'data/odd/café-日本.csv'
touch -d '2024-05-06 07:08:09 UTC' data/odd/*.csv

cat >expect.first <<\END
path,size,mtime,length(content_hash),rows,status,table_name,same_load,same_time,ns_agrees,has_ctime
data/odd/back\slash.csv,9,2024-05-06 07:08:09,16,1,new,odd,true,true,true,true
data/odd/café-日本.csv,17,2024-05-06 07:08:09,16,3,new,odd,true,true,true,true
data/odd/it's.csv,9,2024-05-06 07:08:09,16,1,new,odd,true,true,true,true
"data/odd/say ""hi"".csv",13,2024-05-06 07:08:09,16,2,new,odd,true,true,true,true
END
cat >expect.second <<\END
path,size,mtime,rows,status
data/odd/back\slash.csv,9,2024-05-06 07:08:09,1,unchanged
data/odd/café-日本.csv,17,2024-05-06 07:08:09,3,unchanged
data/odd/it's.csv,13,2024-05-07 00:00:00,2,updated
"data/odd/say ""hi"".csv",13,2024-05-06 07:08:09,2,unchanged
END

cat >expect.rows <<\END
id,_dango_filename,_dango_file_mtime
1,data/odd/it's.csv,2024-05-06 07:08:09
2,"data/odd/say ""hi"".csv",2024-05-06 07:08:09
3,"data/odd/say ""hi"".csv",2024-05-06 07:08:09
4,data/odd/back\slash.csv,2024-05-06 07:08:09
5,data/odd/café-日本.csv,2024-05-06 07:08:09
6,data/odd/café-日本.csv,2024-05-06 07:08:09
7,data/odd/café-日本.csv,2024-05-06 07:08:09
END

meta() {
    dango query --csv "SELECT path, size, mtime, length(content_hash), rows, status, table_name,
        load_id = (SELECT max(_dlt_load_id) FROM raw_odd.odd) AS same_load,
        loaded_at = (SELECT max(_dlt_extracted_at) FROM raw_odd.odd) AS same_time,
        mtime_ns // 1000000000 = epoch(mtime) AS ns_agrees, ctime_ns > 0 AS has_ctime
        FROM raw_odd._dango_file_metadata ORDER BY path COLLATE C"
}
hashes() {
    dango query --csv "SELECT path, content_hash FROM raw_odd._dango_file_metadata ORDER BY path COLLATE C"
}
change_one() {
    printf 'id,v\n1,a\n8,h\n' >"data/odd/it's.csv" && touch -d '2024-05-07 00:00:00 UTC' "data/odd/it's.csv"
}

test_expect_success 'every file of a first sync has its row, every column as written' '
    dango source add local_files --name odd --directory data/odd --set "file_pattern=*.csv" --no-test >/dev/null &&
    dango sync odd >out 2>err &&
    meta >actual &&
    test_cmp expect.first actual &&
    dango query --csv "SELECT id, _dango_filename, _dango_file_mtime FROM raw_odd.odd ORDER BY id" >rows &&
    test_cmp expect.rows rows
'

test_expect_success 'a re-sync re-writes every row: the changed file updated with its new hash, the others unchanged' '
    hashes >before &&
    change_one &&
    dango sync odd >out 2>err &&
    dango query --csv "SELECT path, size, mtime, rows, status FROM raw_odd._dango_file_metadata ORDER BY path COLLATE C" >actual &&
    test_cmp expect.second actual &&
    hashes >after &&
    test $(diff before after | grep -c "^>") = 1
'

test_done
