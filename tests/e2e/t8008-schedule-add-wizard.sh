#!/usr/bin/env bash
# `dango schedule add` on a terminal: the wizard's questions, what it
# writes to .dango/schedules.yml, and a bad answer refused with nothing written.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n' >data/shop.csv
dango source add csv --name shop_db --path data/shop.csv >/dev/null

test_expect_success 'the wizard adds a sync schedule for the sources it is given' '
    run_on_tty "orders_noon\nsync\n0 12,18 * * *\nshop_db\nEurope/Berlin\n" dango schedule add >out 2>&1 &&
    test_grep "Name (lowercase snake_case)" out &&
    test_grep "Schedule .orders_noon. added to .dango/schedules.yml" out &&
    dango schedule list >list &&
    test_grep "orders_noon" list && test_grep "shop_db" list &&
    DANGO_NOW=2026-03-28T09:00:00Z dango schedule next orders_noon --count 2 >next &&
    test_grep "2026-03-28 12:00 CET" next && test_grep "2026-03-28 18:00 CET" next
'

test_expect_success 'a bad cron from the wizard is refused and nothing is written' '
    cp .dango/schedules.yml before &&
    test_expect_code 1 run_on_tty "bad_one\nsync\n0 25 * * *\n\n\n" dango schedule add >out 2>&1 &&
    test_grep "bad cron .0 25 \* \* \*. in schedule .bad_one.: field .hour. (0-23): value 25 is out of range" out &&
    test_cmp before .dango/schedules.yml
'

test_done
