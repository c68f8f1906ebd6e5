#!/usr/bin/env bash
# dango source test says "ready to sync" only for what it really tested
# and what dango sync can load.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
mkdir -p bin && printf '#!/bin/sh\necho "{\\"id\\": 1}"\n' >bin/tap && chmod +x bin/tap
printf 'not a program\n' >bin/notexec
cat >.dango/sources.yml <<'EOF2'
version: "1.0"
sources:
  - name: missing
    type: command
    command:
      run: [/nonexistent/tap-nothing, --config, x.json]
  - name: bare
    type: command
    command:
      run: tap-no-such-program --about
  - name: local
    type: command
    command:
      run: [bin/tap]
  - name: noexec
    type: command
    command:
      run: bin/notexec
  - name: pg
    type: postgres
    postgres:
      host: 127.0.0.1
      port: 1
      database: x
      user: u
      streams: {public.t: {}}
EOF2

test_expect_success 'a command whose program does not exist is not ready' '
    test_expect_code 1 dango source test missing >out 2>&1 &&
    test_grep "✗ program '"'"'/nonexistent/tap-nothing'"'"' not found" out &&
    test_grep ! "ready to sync" out &&
    test_expect_code 1 dango source test bare >out 2>&1 &&
    test_grep "✗ program '"'"'tap-no-such-program'"'"' not found on PATH" out &&
    test_expect_code 1 dango source test noexec >out 2>&1 &&
    test_grep "is not an executable program" out
'

test_expect_success 'a command that exists is found and tried for discovery; it can sync: ready' '
    dango source test local >out 2>&1 &&
    test_grep "✓ program '"'"'bin/tap'"'"' exists and is executable" out &&
    test_grep "? the program does not support discovery (--discover printed no catalog" out &&
    test_grep "Source '"'"'local'"'"' is ready to sync" out
'

test_expect_success 'postgres: the test really connects, and a refused port is not ready' '
    test_expect_code 1 dango source test pg >out 2>&1 &&
    test_grep "127.0.0.1:1" out &&
    test_grep ! "ready to sync" out
'

test_expect_success 'validate does not call a command whose program is missing ready' '
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep ! "source '"'"'missing'"'"': ready" out &&
    test_grep ! "cannot sync sources of type '"'"'command'"'"'" out
'

test_done
