#!/usr/bin/env bash
# Adding and removing sources and schedules edits the YAML lists as text:
# a list written in flow style ([...]) is refused and the file left as it
# was (adding to one used to rewrite it, dropping every source it held);
# removing the last item leaves an empty list, comments kept.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p || exit 1
printf 'id\n1\n' >data/a.csv && cp data/a.csv data/b.csv

test_expect_success 'source add to a flow-style list: refused, the file unchanged' '
    cat >.dango/sources.yml <<-\EOF &&
	version: "1.0"
	sources: [{name: a, type: csv, csv: {path: data/a.csv}}]
	EOF
    cp .dango/sources.yml before &&
    test_expect_code 1 dango source add csv --name b --path data/b.csv >out 2>err &&
    echo "error: .dango/sources.yml: cannot add to a '"'sources'"' list written in flow style ([...]); edit it by hand" >expect &&
    test_cmp expect err &&
    test_cmp before .dango/sources.yml &&
    dango source list >out && test_grep "^● a (csv)" out
'

test_expect_success 'source remove from a flow-style list: refused, the file unchanged' '
    test_expect_code 1 dango source remove a --yes >out 2>err &&
    echo "error: cannot remove '"'a'"': .dango/sources.yml: the '"'sources'"' list is written in flow style ([...]); edit it by hand" >expect &&
    test_cmp expect err &&
    test_cmp before .dango/sources.yml
'

test_expect_success 'block style: add after the last entry, remove the last one leaves an empty list' '
    cat >.dango/sources.yml <<-\EOF &&
	# hand written
	version: "1.0"
	sources:
	  # the first
	  - name: a
	    type: csv
	    csv: {path: data/a.csv}
	# the end
	EOF
    dango source add csv --name b --path data/b.csv >/dev/null &&
    dango source remove a --yes >/dev/null &&
    cat >expect <<-\EOF &&
	# hand written
	version: "1.0"
	sources:
	  # the first
	  - name: b
	    type: csv
	    enabled: true
	    csv:
	      path: data/b.csv
	# the end
	EOF
    test_cmp expect .dango/sources.yml &&
    dango source remove b --yes >/dev/null &&
    cat >expect <<-\EOF &&
	# hand written
	version: "1.0"
	sources: []
	  # the first
	# the end
	EOF
    test_cmp expect .dango/sources.yml &&
    dango source list >out &&
    echo "No sources configured. Add one with '"'dango source add'"'." >expect && test_cmp expect out
'

test_expect_success 'schedule add to a flow-style list: refused, the file unchanged' '
    dango source add csv --name a --path data/a.csv >/dev/null &&
    cat >.dango/schedules.yml <<-\EOF &&
	version: "1.0"
	schedules: [{name: n, type: sync, cron: daily}]
	EOF
    cp .dango/schedules.yml before &&
    test_must_fail dango schedule add --name m --cron @hourly --sources a >out 2>err &&
    test_grep "cannot add to a '"'schedules'"' list written in flow style" err &&
    test_cmp before .dango/schedules.yml
'

test_expect_success 'schedule remove of the last one leaves an empty list' '
    cat >.dango/schedules.yml <<-\EOF &&
	version: "1.0"
	schedules:
	  - name: n
	    type: sync
	    cron: daily
	EOF
    dango schedule remove n >/dev/null &&
    printf "version: \"1.0\"\nschedules: []\n" >expect && test_cmp expect .dango/schedules.yml &&
    dango schedule add --name m --cron @hourly --sources a >/dev/null &&
    dango schedule list --json | jq -r ".[].name" >out && echo m >expect && test_cmp expect out
'
test_done
