#!/usr/bin/env bash
# A string that looks like a timestamp becomes a TIMESTAMPTZ column only if
# DuckDB's cast takes it: a minute with a zone, a 30th of February, a leap
# second or a lower-case z stay text, value for value as sent, instead of
# failing the whole sync at the load (REST, command and Singer records all
# go through this inference).
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >records.ndjson <<\END
{"id": 1, "ok": "2024-01-02T03:04:05Z", "minute_z": "2024-01-02T03:04Z", "feb30": "2024-02-30T00:00:00Z", "leap": "2024-01-02T03:04:60Z", "lower_z": "2024-01-02T03:04:05z", "mixed": "2024-02-29T10:00:00+02:00", "minute": "2024-01-02T03:04"}
{"id": 2, "ok": "2024-06-30T23:59:59.5+05:30", "minute_z": "2024-01-02T03:04+02:00", "feb30": "2024-04-31T00:00:00Z", "leap": "2024-01-02T03:04:05Z", "lower_z": "2024-01-02T03:04:05Z", "mixed": "2023-02-29T10:00:00Z", "minute": "2024-01-02 03:05"}
END
cat >.dango/sources.yml <<END
version: "1.0"
sources:
  - name: feed
    type: command
    command:
      run: [cat, $PWD/records.ndjson]
END

cat >expect.types <<\END
column_name,column_type
id,BIGINT
ok,TIMESTAMP WITH TIME ZONE
minute_z,VARCHAR
feb30,VARCHAR
leap,VARCHAR
lower_z,VARCHAR
mixed,VARCHAR
minute,TIMESTAMP WITH TIME ZONE
END
cat >expect.rows <<\END
id,ok,minute_z,feb30,leap,lower_z,mixed,minute
1,2024-01-02 03:04:05+00,2024-01-02T03:04Z,2024-02-30T00:00:00Z,2024-01-02T03:04:60Z,2024-01-02T03:04:05z,2024-02-29T10:00:00+02:00,2024-01-02 03:04:00+00
2,2024-06-30 18:29:59.5+00,2024-01-02T03:04+02:00,2024-04-31T00:00:00Z,2024-01-02T03:04:05Z,2024-01-02T03:04:05Z,2023-02-29T10:00:00Z,2024-01-02 03:05:00+00
END

test_expect_success 'timestamps DuckDB cannot cast load as text, the rest as TIMESTAMPTZ' '
    dango sync feed >out 2>err &&
    dango query --csv "SELECT column_name, column_type FROM (DESCRIBE raw_feed.feed) WHERE column_name NOT LIKE '"'"'_dlt%'"'"'" >types &&
    test_cmp expect.types types &&
    dango query --csv "SELECT * EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at) FROM raw_feed.feed ORDER BY id" >rows &&
    test_cmp expect.rows rows
'

test_done
