#!/usr/bin/env bash
# dango init takes a path, as git init does: parents are made, the project
# is named after the last component.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a relative path a/b: parents made, project named b' '
    dango init a/b >out </dev/null &&
    test -f a/b/.dango/project.yml && test -f a/b/data/warehouse.duckdb &&
    test_grep "Created Dango project '"'"'b'"'"' in $TRASH/a/b" out &&
    test_grep "^  cd a/b$" out &&
    test_grep "^name: b$" a/b/.dango/project.yml &&
    test_grep "^name: '"'"'b'"'"'$" a/b/dbt/dbt_project.yml &&
    (cd a/b && dango validate >/dev/null)
'

test_expect_success 'an absolute path, with a trailing slash' '
    dango init "$TRASH/abs/deep/shop-eu/" >out </dev/null &&
    test -f abs/deep/shop-eu/.dango/sources.yml &&
    test_grep "Created Dango project '"'"'shop-eu'"'"' in $TRASH/abs/deep/shop-eu$" out &&
    test_grep "^name: '"'"'shop_eu'"'"'$" abs/deep/shop-eu/dbt/dbt_project.yml
'

test_expect_success 'a path that is an existing project is refused, and .. is resolved' '
    mkdir -p x &&
    test_expect_code 1 dango init x/../a/b 2>err </dev/null &&
    test_grep "'"'"'$TRASH/a/b'"'"' is already a Dango project" err
'

test_expect_success 'a path under a file cannot be made: a clear error, exit 1' '
    echo > plainfile &&
    test_expect_code 1 dango init plainfile/p 2>err </dev/null &&
    test_grep "cannot create '"'"'$TRASH/plainfile/p'"'"'" err
'

test_done
