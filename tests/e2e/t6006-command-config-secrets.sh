#!/usr/bin/env bash
# A command's config goes to a 0600 JSON file passed as --config FILE (and
# removed after); env passes settings, and secrets by name (*_env); the
# program runs in working_dir; secrets never appear in the output, the
# error, the history or the status files.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
printf 'CRM_SECRET=s3cr3t-Value-9876\nCRM_KEY=k3y-Value-5432\n' >.env
mkdir -p extract && cat >extract/envtap <<'EOF2' && chmod +x extract/envtap
#!/bin/sh
[ "$1" = --config ] || { echo "no --config" >&2; exit 9; }
echo "cwd=$(basename "$(pwd)") mode=$(stat -c %a "$2") region=$REGION source=$DANGO_SOURCE" >&2
echo "token=$CRM_TOKEN" >&2
cp "$2" ../config.seen && echo "$2" >../config.path
echo "{\"id\": 1}"
if [ -e ../fail ]; then echo "giving up with $CRM_TOKEN" >&2; exit 2; fi
EOF2
cat >.dango/sources.yml <<'EOF2'
version: "1.0"
sources:
  - name: crm
    type: command
    command:
      run: [./envtap]
      working_dir: extract
      env: {REGION: eu, CRM_TOKEN_env: CRM_SECRET}
      config: {region: eu, start_date: "2024-01-01", limit: 5, api_key_env: CRM_KEY}
EOF2

test_expect_success 'config in a 0600 file (a secret key resolved), env by name, working_dir' '
    dango sync crm >out 2>err &&
    test_grep "\[crm\] cwd=extract mode=600 region=eu source=crm" out &&
    test_grep "\[crm\] token=\*\*\*$" out &&
    cat >expect <<-\EOF2 &&
	{"region":"eu","start_date":"2024-01-01","limit":5,"api_key":"k3y-Value-5432"}
	EOF2
    test_cmp expect config.seen &&
    test ! -e "$(cat config.path)" &&
    q "SELECT id FROM raw_crm.crm" >n && echo 1 >expect && test_cmp expect n
'

test_expect_success 'a shell string gets the same arguments' '
    sed -i "s|run: \[./envtap\]|run: \"./envtap\"|" .dango/sources.yml &&
    dango sync crm >out 2>err &&
    test_grep "\[crm\] cwd=extract mode=600" out
'

test_expect_success 'a failure that prints the secret: masked in the error, history and status files' '
    touch fail &&
    test_expect_code 1 dango sync crm >out 2>err &&
    test_grep "exited with status 2: giving up with \*\*\*" err &&
    rm fail &&
    dango query --csv "SELECT * FROM _dango.sync_history" >history &&
    test_grep "giving up with \*\*\*" history &&
    dango source list --verbose >list &&
    cat out err history list .dango/state/*.json >all &&
    test_grep ! "s3cr3t-Value-9876" all &&
    test_grep ! "k3y-Value-5432" all
'

test_expect_success 'a secret variable that is not set fails naming it, before the program runs' '
    sed -i "s/CRM_TOKEN_env: CRM_SECRET/CRM_TOKEN_env: NOT_SET_ANYWHERE/" .dango/sources.yml &&
    test_expect_code 1 dango sync crm >out 2>err &&
    test_grep "the environment variable NOT_SET_ANYWHERE is not set (CRM_TOKEN_env)" err &&
    test_grep ! "\[crm\]" out &&
    test_expect_code 1 dango source test crm >out 2>&1 &&
    test_grep "NOT_SET_ANYWHERE is not set" out
'

test_expect_success 'a working_dir that is not a folder is an error naming it' '
    sed -i "s/CRM_TOKEN_env: NOT_SET_ANYWHERE/CRM_TOKEN_env: CRM_SECRET/; s/working_dir: extract/working_dir: nowhere/" .dango/sources.yml &&
    test_expect_code 1 dango sync crm >out 2>err &&
    test_grep "source '"'"'crm'"'"': working_dir '"'"'nowhere'"'"' is not a folder" err
'

test_done
