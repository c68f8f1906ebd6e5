#!/usr/bin/env bash
# dango freshness: dbt's `source freshness` (loaded_at_field, warn_after,
# error_after, filter; target/sources.json), "now" being DANGO_NOW
. "$(dirname "$0")/lib.sh"

export DANGO_CLOCK_SPEED=0
mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: f.duckdb\n' >profiles.yml
printf 'id,loaded_at,kind\n1,2024-01-01 00:00:00,a\n2,2024-01-01 10:00:00,b\n' >p/seeds/raw_events.csv
cat >p/models/src.yml <<\EOF
sources:
  - name: raw
    schema: main
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 6, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: raw_events
      - name: a_events
        identifier: raw_events
        freshness:
          warn_after: {count: 1, period: hour}
          filter: "kind = 'a'"
      - name: nofresh
        identifier: raw_events
        freshness: null
EOF

test_expect_success 'fresh, warn: each source table against its criteria' '
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    DANGO_NOW=2024-01-01T12:00:00Z dango freshness --project-dir p --profiles-dir . >out 2>err &&
    test_grep "1 of 2 PASS freshness of raw.raw_events " out &&
    test_grep "2 of 2 WARN freshness of raw.a_events .*\[WARN in" out &&
    test_grep "Done. PASS=1 WARN=1 ERROR=0 SKIP=0 TOTAL=2" out &&
    ! grep -q nofresh out &&
    jq -c ".results[] | [.unique_id, .status, .max_loaded_at, .max_loaded_at_time_ago_in_s, .criteria.warn_after.count, .criteria.filter]" \
        p/target/sources.json >actual &&
    cat >expect <<-\EOF &&
	["source.p.raw.raw_events","pass","2024-01-01 10:00:00",7200,6,null]
	["source.p.raw.a_events","warn","2024-01-01 00:00:00",43200,1,"kind = '"'"'a'"'"'"]
	EOF
    test_cmp expect actual
'

test_expect_success 'past error_after a source is stale: ERROR STALE and exit 1; --select narrows' '
    DANGO_NOW=2024-01-03T00:00:00Z test_expect_code 1 dango freshness --project-dir p --profiles-dir . --select source:raw.raw_events >out 2>err &&
    test_grep "1 of 1 ERROR STALE freshness of raw.raw_events .*\[ERROR STALE in" out &&
    test_grep "Done. PASS=0 WARN=0 ERROR=1 SKIP=0 TOTAL=1" out &&
    jq -r ".results[0].status" p/target/sources.json >actual && echo error >expect && test_cmp expect actual
'

test_expect_success 'a table that cannot be read is an error naming it' '
    printf "sources:\n  - name: gone\n    loaded_at_field: x\n    freshness: {warn_after: {count: 1, period: day}}\n    tables: [{name: nothere}]\n" >p/models/gone.yml &&
    test_expect_code 1 dango freshness --project-dir p --profiles-dir . --select source:gone >out 2>err &&
    test_grep "1 of 1 ERROR freshness of gone.nothere" out &&
    test_grep "nothere" err &&
    rm p/models/gone.yml
'

test_done
