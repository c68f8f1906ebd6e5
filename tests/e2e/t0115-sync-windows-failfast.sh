#!/usr/bin/env bash
# Nothing succeeds silently (issue 9 §4): an empty or inverted date window
# is warned about; --fail-fast counts the sources it did not attempt.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1
dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n  - name: inc\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - name: items\n          path: /incremental\n          paginator: {type: page_number, page_param: page}\n          incremental: {cursor_path: updated_at, param: updated_since, end_param: updated_until, initial_value: "2024-06-01T10:00:00Z"}\n' "$API" >.dango/sources.yml

test_expect_success '--until before the cursor warns that the window is empty' '
    dango sync inc >/dev/null &&
    dango sync inc --until 2024-01-01 >out 2>err &&
    test_grep "items: the date window is empty: it starts at 2024-06-02 (the cursor of the last sync) and --until is 2024-01-01, so nothing is fetched; give --since to load an earlier range" err
'

test_expect_success 'an --until on or after the cursor does not warn' '
    dango sync inc --until 2024-06-02 >out 2>err && test_grep ! "window is empty" err &&
    dango sync inc --until 2025-01-01 >out 2>err && test_grep ! "window is empty" err
'

test_expect_success '--until before the initial value of a first sync warns too' '
    printf "  - name: inc2\n    type: rest_api\n    rest_api:\n      base_url: %s\n      endpoints:\n        - name: items\n          path: /incremental\n          incremental: {cursor_path: updated_at, param: updated_since, initial_value: \"2024-06-01T10:00:00Z\"}\n" "$API" >>.dango/sources.yml &&
    dango sync inc2 --until 2024-05-01 >out 2>err &&
    test_grep "items: the date window is empty: it starts at 2024-06-01 (the initial value) and --until is 2024-05-01" err
'

test_expect_success '--fail-fast counts and records the sources it did not attempt' '
    printf "id\n1\n" >data/a.csv &&
    for n in fa fb fc; do dango source add csv --name $n --path data/a.csv >/dev/null || exit 1; done &&
    rm data/a.csv &&
    test_expect_code 1 dango sync fa fb fc --fail-fast >out 2>err &&
    test_grep "Stopped after the first failure (--fail-fast): 2 not run" out &&
    test_grep "^Success: 0/3 sources$" out && test_grep "^Failed: 1/3 sources$" out && test_grep "^Not run: 2/3 sources$" out &&
    f=$(ls -t .dango/state/sync_status_*.json | head -1) && tr -d " \n" <$f >flat &&
    test_grep "\"fb\":{\"status\":\"not_run\",\"rows\":0,\"error\":\"notattempted:--fail-faststoppedatthefirstfailure\"}" flat
'

test_done
