#!/usr/bin/env bash
# A command that fails commits nothing: a tap dying half-way (non-zero
# exit), a line that is not JSON or not UTF-8, a RECORD before its SCHEMA, an unknown
# message; each error names the line. The program's stderr is in the sync's
# output, prefixed with the source.
. "$(dirname "$0")/lib.sh"
TAPS="$SRC_DIR/tests/fixtures/taps"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<EOF2
version: "1.0"
sources:
  - name: shop
    type: command
    command:
      run: [$TAPS/tap_shop.py]
      config: {users: 3}
EOF2

snapshot() {
    for t in users users__tags orders orders__items events _dango_state _dlt_loads; do
        dango query --csv "SELECT * FROM raw_shop.$t ORDER BY ALL" || return 1
    done
}

test_expect_success 'a first sync' '
    dango sync shop >out && snapshot >before
'

test_expect_success 'a tap failing half-way: exit 1, its stderr shown, nothing committed' '
    sed -i "s/users: 3/users: 9, fail_after: 4/" .dango/sources.yml &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "\[shop\] tap_shop: the API went away after 4 records" out &&
    test_grep "source '"'"'shop'"'"': '"'"'.*tap_shop.py'"'"' exited with status 3: tap_shop: the API went away after 4 records" err &&
    test_grep "Nothing was changed for shop" out &&
    snapshot >after && test_cmp before after
'

test_expect_success 'a line that is not JSON fails with its line number and text; nothing committed' '
    sed -i "s/fail_after: 4/bad_line: 2/" .dango/sources.yml &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "source '"'"'shop'"'"': line 4 of the program'"'"'s output: invalid JSON at byte 0: unexpected character; the line reads: this is not JSON" err &&
    snapshot >after && test_cmp before after
'

test_expect_success 'a line that is not UTF-8 fails with its line number and byte, before anything loads' '
    mkdir -p bin &&
    printf "#!/bin/sh\nprintf '"'"'{\"id\": 1, \"v\": \"ok\"}\\n{\"id\": 2, \"v\": \"caf\\351\"}\\n'"'"'\n" >bin/latin1 &&
    chmod +x bin/latin1 &&
    bin/latin1 | od -c | grep -q "351" &&
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: latin1
	    type: command
	    command: {run: [bin/latin1]}
	EOF2
    test_expect_code 1 dango sync latin1 >out 2>err &&
    test_grep "source '"'"'latin1'"'"': line 2 of the program'"'"'s output: not valid UTF-8 (byte 19)" err &&
    test_grep ! "spool file" err &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_latin1'"'"' AND table_name = '"'"'latin1'"'"'" >n &&
    echo 0 >expect && test_cmp expect n
'

test_expect_success 'a RECORD before its SCHEMA fails with the line number' '
    sed -i "s/bad_line: 2/record_first: true/" .dango/sources.yml &&
    test_expect_code 1 dango sync shop >out 2>err &&
    test_grep "line 1 of the program'"'"'s output: RECORD for stream '"'"'users'"'"' before its SCHEMA" err &&
    snapshot >after && test_cmp before after
'

test_expect_success 'an unknown message type, a missing stream name: the line says which' '
    mkdir -p bin &&
    printf "#!/bin/sh\necho \"{\\\\\"type\\\\\": \\\\\"BATCH\\\\\", \\\\\"stream\\\\\": \\\\\"s\\\\\"}\"\n" >bin/batch && chmod +x bin/batch &&
    printf "#!/bin/sh\necho \"{\\\\\"type\\\\\": \\\\\"SCHEMA\\\\\", \\\\\"schema\\\\\": {}}\"\n" >bin/nostream && chmod +x bin/nostream &&
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: batch
	    type: command
	    command: {run: [bin/batch], format: singer}
	  - name: nostream
	    type: command
	    command: {run: [bin/nostream]}
	EOF2
    test_expect_code 1 dango sync batch >out 2>err &&
    test_grep "line 1 of the program'"'"'s output: unsupported Singer message type '"'"'BATCH'"'"'" err &&
    test_expect_code 1 dango sync nostream >out 2>err &&
    test_grep "line 1 of the program'"'"'s output: SCHEMA without a \"stream\" name" err
'

test_expect_success 'a program that cannot be started: exit 127 named; nothing committed' '
    cat >>.dango/sources.yml <<-\EOF2 &&
	  - name: ghost
	    type: command
	    command: {run: [bin/no-such-tap]}
	EOF2
    test_expect_code 1 dango sync ghost >out 2>err &&
    test_grep "source '"'"'ghost'"'"': '"'"'bin/no-such-tap'"'"' exited with status 127 (command not found or not executable)" err &&
    test_expect_code 1 dango source test ghost >out 2>&1 &&
    test_grep "program '"'"'bin/no-such-tap'"'"' not found" out
'

test_expect_success 'a failed sync is in the history with its error' '
    q "SELECT status, error FROM _dango.sync_history WHERE source = '"'"'ghost'"'"'" >h &&
    test_grep "^failed,.*exited with status 127" h
'

test_done
