#!/usr/bin/env bash
# File sources see every change (issue 9 §5): same-size rewrites within
# the same timestamp, file names with glob characters, a changed
# table_name, a value that no longer fits its column's type, and the
# accepted schema as the baseline after --allow-schema-changes.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p

test_expect_success 'a same-size rewrite that keeps the mtime is seen (ctime, hash)' '
    printf "id,v\n1,a\n" >data/same.csv &&
    dango source add csv --name same --path data/same.csv >/dev/null &&
    dango sync same >/dev/null &&
    touch -r data/same.csv ref &&
    printf "id,v\n1,b\n" >data/same.csv && touch -r ref data/same.csv &&
    test "$(stat -c %s%Y data/same.csv)" = "$(stat -c %s%Y ref)" || test "$(stat -c %Y data/same.csv)" = "$(stat -c %Y ref)" &&
    dango sync same >out && test_grep "Reading data/same.csv (updated)" out &&
    q "SELECT v FROM raw_same.same" >v && echo b >expect && test_cmp expect v
'

test_expect_success 'an unchanged file is still skipped' '
    dango sync same >out && test_grep "1 file unchanged, skipped" out
'

test_expect_success 'file names with glob characters are read literally' '
    mkdir g &&
    printf "n\n1\n" >"g/x*.csv" && printf "n\n2\n" >g/xa.csv &&
    printf "n\n3\n" >"g/y[1].csv" && printf "n\n4\n" >g/y1.csv && printf "n\n5\n" >"g/z?.csv" && printf "n\n6\n" >g/zz.csv &&
    dango source add local_files --name glob --directory g --set "file_pattern=*.csv" >/dev/null &&
    dango sync glob >out && test_grep "Loaded 6 rows into raw_glob.glob" out &&
    q "SELECT string_agg(_dango_filename || '"'"'='"'"'|| n, '"'"' '"'"' ORDER BY n) FROM raw_glob.glob" >v &&
    echo "g/x*.csv=1 g/xa.csv=2 g/y[1].csv=3 g/y1.csv=4 g/z?.csv=5 g/zz.csv=6" >expect && test_cmp expect v
'

test_expect_success 'a single file named with a glob character is read literally' '
    dango source add csv --name star --path "g/x*.csv" >/dev/null &&
    dango sync star >out && q "SELECT string_agg(n::VARCHAR, '"'"','"'"') FROM raw_star.star" >v && echo 1 >expect && test_cmp expect v
'

test_expect_success 'a changed table_name loads the file into the new table and says so' '
    printf "id\n1\n2\n" >data/tn.csv &&
    dango source add csv --name tn --path data/tn.csv --set table_name=first >/dev/null &&
    dango sync tn >out && test_grep "Loaded 2 rows into raw_tn.first" out &&
    sed -i "s/table_name: first/table_name: second/" .dango/sources.yml && grep -q "table_name: second" .dango/sources.yml &&
    dango sync tn >out &&
    test_grep ! "unchanged, skipped" out &&
    test_grep "data/tn.csv: table_name is now .second.: loading it into raw_tn.second (raw_tn.first keeps the rows loaded before)" out &&
    test_grep "Loaded 2 rows into raw_tn.second" out &&
    q "SELECT count(*) FROM raw_tn.second" >n && echo 2 >expect && test_cmp expect n &&
    dango sync tn >out && test_grep "1 file unchanged, skipped" out
'

test_expect_success 'a value that no longer fits its column is a schema change, refused' '
    mkdir fit && printf "id,v\n1,a\n" >fit/a.csv &&
    dango source add local_files --name fit --directory fit --set "file_pattern=*.csv" >/dev/null &&
    dango sync fit >/dev/null &&
    printf "id,v\nx1,b\n" >fit/b.csv &&
    test_must_fail dango sync fit >out 2>err &&
    test_grep "fit/b.csv: column .id. no longer fits its type in raw_fit.fit: it was BIGINT, the file now needs VARCHAR (a value .x1.); refusing the schema change (re-run with --allow-schema-changes" err &&
    q "SELECT typeof(min(id)) || '"'"' '"'"' || count(*) FROM raw_fit.fit" >t && echo "BIGINT 1" >expect && test_cmp expect t
'

test_expect_success 'values that fit the column are loaded into its type' '
    printf "id,v\n\"2\",c\n" >fit/c.csv && printf "id,v\n,d\n" >fit/d.csv &&
    mv fit/b.csv b.csv.aside && dango sync fit >out &&
    q "SELECT typeof(min(id)) || '"'"' '"'"' || count(*) FROM raw_fit.fit" >t && echo "BIGINT 3" >expect && test_cmp expect t &&
    mv b.csv.aside fit/b.csv
'

test_expect_success 'with --allow-schema-changes the column widens and the change is recorded' '
    dango sync fit --allow-schema-changes >out &&
    test_grep "fit/b.csv: schema change of raw_fit.fit accepted (--allow-schema-changes): id BIGINT -> VARCHAR" out &&
    q "SELECT string_agg(coalesce(id, '"'"'-'"'"'), '"'"' '"'"' ORDER BY v) FROM raw_fit.fit" >v && echo "1 x1 2 -" >expect && test_cmp expect v &&
    q "SELECT column_name || '"'"' '"'"' || change || '"'"' '"'"' || old_type || '"'"' '"'"' || new_type || '"'"' '"'"' || file FROM raw_fit._dango_schema_changes" >r &&
    echo "id type BIGINT VARCHAR fit/b.csv" >expect && test_cmp expect r
'

test_expect_success 'a column added with --allow-schema-changes is the new baseline: old files sync without the flag' '
    mkdir base && printf "id,v\n1,a\n" >base/a.csv &&
    dango source add local_files --name base --directory base --set "file_pattern=*.csv" >/dev/null &&
    dango sync base >/dev/null &&
    printf "id,v,extra\n2,b,x\n" >base/b.csv &&
    test_must_fail dango sync base >out 2>err && test_grep "new: extra" err &&
    dango sync base --allow-schema-changes >out &&
    printf "id,v\n1,a\n3,c\n" >base/a.csv &&
    dango sync base >out 2>err && test_grep "Loaded 2 rows into raw_base.base" out &&
    printf "id,v\n4,d\n" >base/c.csv && dango sync base >out 2>err &&
    q "SELECT string_agg(id || '"'"':'"'"' || coalesce(extra, '"'"'NULL'"'"'), '"'"' '"'"' ORDER BY id) FROM raw_base.base" >v &&
    echo "1:NULL 2:x 3:NULL 4:NULL" >expect && test_cmp expect v
'

test_expect_success 'a column that was there from the start is still required' '
    printf "id\n5\n" >base/d.csv &&
    test_must_fail dango sync base >out 2>err && test_grep "base/d.csv: columns differ from raw_base.base; missing: v" err &&
    rm base/d.csv
'

test_done
