#!/usr/bin/env bash
# timeout_minutes stops the program's whole process group (children too)
# and fails the sync with nothing committed; --limit stops the program
# once it has written enough records, and that is no failure.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
mkdir -p bin
cat >bin/hang <<'EOF2' && chmod +x bin/hang
#!/bin/sh
echo '{"id": 1}'
sleep 300 &
echo $! >child.pid
echo $$ >parent.pid
echo "waiting" >&2
wait
EOF2
cat >bin/endless <<'EOF2' && chmod +x bin/endless
#!/bin/sh
i=0
while :; do i=$((i + 1)); echo "{\"n\": $i}"; done
EOF2
cat >bin/leaves <<'EOF2' && chmod +x bin/leaves
#!/bin/sh
echo '{"id": 1}'
sleep 300 &
echo $! >left.pid
exit 0
EOF2
cat >.dango/sources.yml <<'EOF2'
version: "1.0"
sources:
  - name: hang
    type: command
    command: {run: [bin/hang], timeout_minutes: 0.05}
  - name: endless
    type: command
    command: {run: [bin/endless]}
  - name: leaves
    type: command
    command: {run: [bin/leaves]}
EOF2

# running, and not a zombie left for a parent that is gone to reap
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }

test_expect_success 'timeout_minutes: the program and its children are stopped, the sync fails' '
    test_expect_code 1 dango sync hang >out 2>err &&
    test_grep "\[hang\] waiting" out &&
    test_grep "source '"'"'hang'"'"': '"'"'bin/hang'"'"' timed out after 0.05 minutes (timeout_minutes); it was stopped" err &&
    ! alive "$(cat parent.pid)" &&
    ! alive "$(cat child.pid)" &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"'"'raw_hang'"'"' AND table_name = '"'"'hang'"'"'" >n &&
    echo 0 >expect && test_cmp expect n
'

test_expect_success '--limit stops an endless program after that many records' '
    dango sync endless --limit 5 >out 2>err &&
    test_grep "the program was stopped after 5 records" out &&
    dango query --csv "SELECT n FROM raw_endless.endless ORDER BY n" >rows &&
    printf "n\n1\n2\n3\n4\n5\n" >expect && test_cmp expect rows
'

test_expect_success 'a program that exits leaving a child on its pipes: the sync ends, the child is stopped' '
    dango sync leaves >out 2>err &&
    test_grep "Loaded 1 row into raw_leaves.leaves" out &&
    ! alive "$(cat left.pid)"
'

test_done
