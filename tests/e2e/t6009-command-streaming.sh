#!/usr/bin/env bash
# A command's output is streamed: spool files are loaded as they fill
# (several parts for a large output), the rows all arrive once; stderr
# interleaved with a large stdout never blocks the program; a last line
# without a newline still counts.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
mkdir -p bin
cat >bin/big <<'EOF2' && chmod +x bin/big
#!/usr/bin/env python3
import sys
pad = "x" * 100
for i in range(1, 400001):
    sys.stdout.write('{"id": %d, "pad": "%s"}\n' % (i, pad))
    if i % 50000 == 0:
        sys.stderr.write("wrote %d\n" % i)
        sys.stderr.write("e" * 70000 + "\n")
EOF2
printf '#!/bin/sh\nprintf "{\\"a\\": 1}\\n{\\"a\\": 2}"\n' >bin/nonl && chmod +x bin/nonl
cat >.dango/sources.yml <<'EOF2'
version: "1.0"
sources:
  - name: big
    type: command
    command: {run: [bin/big], format: ndjson}
  - name: nonl
    type: command
    command: {run: [bin/nonl]}
EOF2

test_expect_success 'a large output loads in several spool parts, every row once' '
    dango sync big >out 2>err &&
    test_grep "Reading big (part 1)" out &&
    test_grep "Reading big (part 2)" out &&
    test_grep "\[big\] wrote 400000" out &&
    q "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM raw_big.big" >n &&
    echo "400000,400000,1,400000" >expect && test_cmp expect n
'

test_expect_success 'a last line without a newline is read' '
    dango sync nonl >out &&
    dango query --csv "SELECT a FROM raw_nonl.nonl ORDER BY a" >rows && printf "a\n1\n2\n" >expect && test_cmp expect rows
'

test_done
