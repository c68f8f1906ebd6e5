#!/usr/bin/env bash
# Inputs that must not crash or corrupt a sync (issue 10 #5, #9, #14, #15):
# deep JSON files, columns named like the engine's own (CSV and API), NUL
# bytes in CSV fields, and paths that leave the project.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1
dango init p >/dev/null </dev/null
cd p

test_expect_success 'a JSON file nested 20,000 deep is refused naming the file, no crash' '
    awk "BEGIN { for (i = 0; i < 20000; i++) printf \"[\"; for (i = 0; i < 20000; i++) printf \"]\"; print \"\" }" >data/deep.json &&
    dango source add local_files --name deep --path data/deep.json >/dev/null &&
    test_must_fail dango sync deep >out 2>err &&
    test_grep "^data/deep.json:1: JSON nested deeper than 512 levels; refusing to read it" err
'

test_expect_success 'deep NDJSON is refused on its line; brackets inside strings do not count' '
    { echo "{\"a\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}"; awk "BEGIN { for (i = 0; i < 600; i++) printf \"{\\\"a\\\":\"; printf 1; for (i = 0; i < 600; i++) printf \"}\"; print \"\" }"; } >data/deep.ndjson &&
    dango source add local_files --name deepnd --path data/deep.ndjson >/dev/null &&
    test_must_fail dango sync deepnd >out 2>err && test_grep "^data/deep.ndjson:2: JSON nested deeper than 512 levels" err &&
    awk "BEGIN { for (i = 0; i < 100; i++) printf \"{\\\"a\\\":\"; printf 1; for (i = 0; i < 100; i++) printf \"}\"; print \"\" }" >data/ok.json &&
    dango source add local_files --name okjson --path data/ok.json >/dev/null && dango sync okjson >out && test_grep "Loaded 1 row into" out
'

test_expect_success 'CSV columns named like the engine columns are renamed, with a warning' '
    printf "id,_dlt_load_id,_dlt_id,_dango_filename,v\n1,L1,abc,f.csv,x\n" >data/exp.csv &&
    dango source add csv --name exp --path data/exp.csv >/dev/null &&
    dango sync exp >out 2>err &&
    test_grep "data/exp.csv: column ._dlt_load_id. has a name Dango gives its own columns; loaded as .source_dlt_load_id." err &&
    test_grep "data/exp.csv: column ._dlt_id. has a name Dango gives its own columns; loaded as .source_dlt_id." err &&
    q "SELECT id || '"'"' '"'"' || source_dlt_load_id || '"'"' '"'"' || source_dlt_id || '"'"' '"'"' || source_dango_filename || '"'"' '"'"' || v || '"'"' '"'"' || (_dlt_load_id <> '"'"'L1'"'"') || '"'"' '"'"' || _dango_filename FROM raw_exp.exp" >v &&
    echo "1 L1 abc f.csv x true data/exp.csv" >expect && test_cmp expect v
'

test_expect_success 'API fields named like the engine columns are renamed, with a warning' '
    printf "  - name: eng\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - {name: recs, path: /engine_names}\n" "$API" >>.dango/sources.yml &&
    dango sync eng >out 2>err &&
    test_grep "field ._dlt_load_id. of recs is loaded as column .source_dlt_load_id." err &&
    test_grep "field ._dlt_id. of recs is loaded as column .source_dlt_id." err &&
    q "SELECT id || '"'"' '"'"' || source_dlt_load_id || '"'"' '"'"' || source_dlt_id || '"'"' '"'"' || source_dango_deleted || '"'"' '"'"' || (_dlt_load_id <> '"'"'L1'"'"') FROM raw_eng.recs" >v &&
    echo "1 L1 abc no true" >expect && test_cmp expect v
'

test_expect_success 'a NUL byte inside a CSV field is refused naming file:line' '
    printf "id,v\n1,ok\n2,a\0b\n" >data/nul.csv &&
    dango source add csv --name nul --path data/nul.csv >/dev/null &&
    test_must_fail dango sync nul >out 2>err &&
    test_grep "^data/nul.csv:3: a NUL byte inside the data (byte 14)" err &&
    test_must_fail dango query "SELECT count(*) FROM raw_nul.nul"
'

test_expect_success 'a path out of the project: source test and the sync log show where it resolves' '
    mkdir ../outside && printf "id\n1\n" >../outside/ext.csv &&
    dango source add csv --name ext --path ../outside/ext.csv >/dev/null 2>&1 || printf "  - name: ext\n    type: csv\n    csv:\n      path: ../outside/ext.csv\n" >>.dango/sources.yml &&
    dango source test ext >out 2>&1 && test_grep "(it is $TRASH/outside/ext.csv, outside the project)" out &&
    dango sync ext >out && test_grep "../outside/ext.csv resolves to $TRASH/outside/ext.csv, outside the project" out
'

test_expect_success 'a symlink out of the project is shown resolved too' '
    ln -s "$TRASH/outside/ext.csv" data/link.csv &&
    dango source add csv --name link --path data/link.csv >/dev/null &&
    dango source test link >out 2>&1 && test_grep "(it is $TRASH/outside/ext.csv, outside the project)" out &&
    dango sync link >out && test_grep "data/link.csv resolves to $TRASH/outside/ext.csv, outside the project" out &&
    printf "id\n1\n" >data/inside.csv && dango source add csv --name inside --path data/inside.csv >/dev/null &&
    dango source test inside >out 2>&1 && test_grep ! "outside the project" out &&
    dango sync inside >out && test_grep ! "outside the project" out
'

test_expect_success 'a folder source says which of its files resolve out of the project, and only those' '
    mkdir -p data/mixed ../outside/dir && printf "id\n2\n" >data/mixed/a.csv &&
    printf "id\n3\n" >../outside/b.csv && ln -s "$TRASH/outside/b.csv" data/mixed/b.csv &&
    printf "id\n4\n" >../outside/dir/c.csv && ln -s "$TRASH/outside/dir" data/linked &&
    dango source add local_files --name mixed --directory data/mixed --set "file_pattern=*.csv" --no-test >/dev/null &&
    dango source add local_files --name linked --directory data/linked --set "file_pattern=*.csv" --no-test >/dev/null &&
    dango sync mixed linked >out &&
    grep -o "data/.*outside the project" out | sed "s|$TRASH|TRASH|g" | sort >actual &&
    cat >expect <<-EOF &&
	data/linked/c.csv resolves to TRASH/outside/dir/c.csv, outside the project
	data/mixed/b.csv resolves to TRASH/outside/b.csv, outside the project
	EOF
    test_cmp expect actual
'

test_done
