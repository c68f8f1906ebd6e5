#!/usr/bin/env bash
# Read-only means read-only (issue 10.1): a query without --write reads the
# warehouse and nothing else. Every way out (COPY TO, EXPORT, ATTACH, file
# readers, settings) fails with a clear error and exit 1, and the warehouse
# opens afterwards with its data. --write writes the warehouse and may use
# files, but never overwrites the warehouse file itself.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
export HOME=$TRASH/home
mkdir -p "$HOME"
dango query --write "CREATE TABLE main.keep AS SELECT 1 AS id, 'precious' AS v" >/dev/null
printf "a,b\n1,2\n" >data/in.csv
sum_before=$(md5sum data/warehouse.duckdb)

# refused: the statement, and the words the error must hold
refuse() {
    test_expect_code 1 dango query "$1" >out 2>err &&
    test_grep "$2" err &&
    test_grep "(a read-only query reads the warehouse and nothing else: pass --write to read or write other files)\|(settings cannot be changed in a read-only query)" err &&
    ! test -s out
}

intact() {
    test "$(md5sum data/warehouse.duckdb)" = "$sum_before" &&
    q "SELECT id, v FROM main.keep" >out && echo "1,precious" >expect && test_cmp expect out
}

test_expect_success 'COPY TO the warehouse file itself is refused, the warehouse intact' '
    test_expect_code 1 dango query "COPY (SELECT 1) TO '"'"'data/warehouse.duckdb'"'"'" 2>err &&
    test_grep "refusing to run COPY with the warehouse file .warehouse.duckdb. in it" err &&
    ln -s warehouse.duckdb data/alias.db &&
    # DuckDB 1.5 writes over an existing file through a temporary one beside it, and names that
    refuse "COPY (SELECT 1) TO '"'"'data/alias.db'"'"'" "Permission Error: Cannot access file \"data/tmp_alias.db\" - file system operations are disabled by configuration" &&
    refuse "COPY (SELECT 1) TO '"'"'$PWD/data/alias.db'"'"' (FORMAT csv)" "disabled by configuration" &&
    intact
'

test_expect_success 'COPY TO any other path is refused and writes nothing' '
    refuse "COPY main.keep TO '"'"'out.csv'"'"'" "Cannot access file \"out.csv\"" &&
    refuse "COPY (SELECT 1) TO '"'"'$TRASH/elsewhere.parquet'"'"' (FORMAT parquet)" "disabled by configuration" &&
    ! test -e out.csv && ! test -e "$TRASH/elsewhere.parquet" && intact
'

test_expect_success 'EXPORT DATABASE is refused and writes nothing' '
    refuse "EXPORT DATABASE '"'"'exp'"'"'" "disabled by configuration" &&
    ! test -e exp && intact
'

test_expect_success 'ATTACH (READ_WRITE) and writes into it are refused' '
    refuse "ATTACH '"'"'$TRASH/other.duckdb'"'"' AS o (READ_WRITE)" "Cannot access file" &&
    refuse "ATTACH '"'"'$TRASH/other.duckdb'"'"' AS o (READ_WRITE); CREATE TABLE o.t AS SELECT 1 AS x" "Cannot access file" &&
    ! test -e "$TRASH/other.duckdb" && intact
'

test_expect_success 'file readers are refused: read_text, glob, read_csv (system files and project files)' '
    refuse "SELECT * FROM read_text('"'"'/etc/shadow'"'"')" "Cannot access file \"/etc/shadow\"" &&
    refuse "SELECT * FROM glob('"'"'/etc/*'"'"')" "Cannot access file \"/etc/\*\"" &&
    refuse "SELECT * FROM read_csv('"'"'/etc/passwd'"'"')" "Cannot access file \"/etc/passwd\"" &&
    refuse "SELECT * FROM '"'"'data/in.csv'"'"'" "disabled by configuration" &&
    refuse "SELECT * FROM read_blob('"'"'data/in.csv'"'"')" "disabled by configuration" &&
    intact
'

test_expect_success 'SET and RESET cannot turn external access back on (the configuration is locked)' '
    refuse "SET enable_external_access = true" "Cannot change configuration option \"enable_external_access\" - the configuration has been locked" &&
    refuse "RESET enable_external_access" "the configuration has been locked" &&
    refuse "SET lock_configuration = false" "the configuration has been locked" &&
    refuse "SET GLOBAL enable_external_access = true" "the configuration has been locked" &&
    refuse "PRAGMA enable_external_access = true" "the configuration has been locked" &&
    refuse "SET allowed_directories = ['"'"'/'"'"']" "the configuration has been locked" &&
    test_expect_code 1 dango query "SET enable_external_access = true; SELECT * FROM read_text('"'"'/etc/hostname'"'"')" 2>err &&
    test_grep "the configuration has been locked" err && intact
'

test_expect_success 'persistent secrets cannot be written to the home folder' '
    test_expect_code 1 dango query "CREATE PERSISTENT SECRET s (TYPE http, BEARER_TOKEN '"'"'x'"'"')" 2>err &&
    test_grep "Persistent secrets are disabled" err &&
    ! test -e "$HOME/.duckdb" && intact
'

test_expect_success 'the prompt and standard input are locked down too' '
    run_on_tty "COPY main.keep TO '"'"'tty.csv'"'"';\nSELECT v FROM main.keep;\n.quit\n" dango query >out &&
    test_grep "disabled by configuration" out && test_grep "│ precious │" out && ! test -e tty.csv &&
    echo "COPY main.keep TO '"'"'stdin.csv'"'"'" | test_expect_code 1 dango query 2>err &&
    test_grep "disabled by configuration" err && ! test -e stdin.csv && intact
'

test_expect_success 'reading the warehouse still works read-only (tables, views, catalog)' '
    dango query --csv "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '"'"'keep'"'"'; SELECT v FROM main.keep" >out &&
    printf "n\n1\nv\nprecious\n" >expect && test_cmp expect out
'

test_expect_success '--write may read and write files: COPY TO, COPY FROM, read_csv, ATTACH' '
    dango query --write "COPY main.keep TO '"'"'keep.csv'"'"'" &&
    printf "id,v\n1,precious\n" >expect && test_cmp expect keep.csv &&
    dango query --write "CREATE TABLE main.loaded AS SELECT * FROM read_csv('"'"'data/in.csv'"'"');
        COPY main.loaded FROM '"'"'data/in.csv'"'"'" >/dev/null &&
    q "SELECT count(*) FROM main.loaded" >out && echo 2 >expect && test_cmp expect out &&
    dango query --write "ATTACH '"'"'$TRASH/side.duckdb'"'"' AS side; CREATE TABLE side.t AS SELECT 5 AS x; DETACH side" >/dev/null &&
    test -s "$TRASH/side.duckdb"
'

test_expect_success '--write never overwrites the warehouse file itself' '
    test_expect_code 1 dango query --write "COPY (SELECT 1) TO '"'"'data/warehouse.duckdb'"'"'" 2>err &&
    test_grep "refusing to run COPY with the warehouse file .warehouse.duckdb. in it" err &&
    test_expect_code 1 dango query --write "EXPORT DATABASE '"'"'data/warehouse.duckdb.wal'"'"'" 2>err &&
    test_grep "refusing to run EXPORT with the warehouse file" err && ! test -e data/warehouse.duckdb.wal &&
    q "SELECT v FROM main.keep" >out && echo precious >expect && test_cmp expect out
'

test_expect_success 'dango help query says what read-only and --write allow' '
    dango help query >out &&
    test_grep "the query reads the warehouse and" out && test_grep "COPY ... TO/FROM files, read_csv, ATTACH and SET" out &&
    test_grep "warehouse file itself is refused" out
'

test_done
