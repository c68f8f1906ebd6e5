#!/usr/bin/env bash
# The sync lines the spec shows: Overriding default when --since replaces
# a start, the gap-fill notice, the replace-mode note, Dropping raw_x.y of
# a full refresh.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'id,v\n1,a\n2,b\n' >data/f.csv
cat >.dango/sources.yml <<EOF2
version: "1.0"
sources:
  - name: f
    type: csv
    csv:
      path: data/f.csv
  - name: rep
    type: csv
    csv:
      path: data/f.csv
      write_disposition: replace
  - name: dr
    type: rest_api
    rest_api:
      base_url: $API
      endpoints:
        - name: items
          path: /incremental
          primary_key: id
          paginator: {type: page_number}
          incremental: {cursor_path: updated_at, param: updated_since, initial_value: "2024-06-01T20:00:00Z"}
EOF2

test_expect_success 'a full refresh names the tables it replaces, then starts fresh' '
    dango sync f >/dev/null &&
    dango sync f --full-refresh -y >out &&
    strip_clock <out >o &&
    test_grep "^Dropping raw_f.f (replaced by the fresh table once it is loaded)$" o &&
    sed -n "/^Dropping raw_f.f/,\$p" o | sed -n 2p >next && echo "Starting fresh sync..." >expect && test_cmp expect next
'

test_expect_success 'a source in replace mode says so' '
    dango sync rep >out && test_grep "replace: every sync reloads rep" out
'

test_expect_success '--since over a default start says what it overrides' '
    dango sync dr >/dev/null &&
    dango sync dr --since 2024-06-01 >out &&
    strip_clock <out >o &&
    test_grep "^Fetching items (incremental from 2024-06-01)$" o &&
    sed -n "/^Fetching items (incremental from 2024-06-01)$/{n;p}" o >next &&
    test_grep "^Overriding default: 2024-0[0-9]-[0-9]*T" next
'

test_expect_success '--since before the earliest data loaded is noted as a gap fill' '
    test_grep "gap fill: --since 2024-06-01 is earlier than the earliest items loaded" out
'

test_expect_success 'no override line when --since is the default itself, or absent' '
    dango sync dr >out && test_grep ! "Overriding default" out
'

test_done
