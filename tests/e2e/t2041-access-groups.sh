#!/usr/bin/env bash
# Groups and access as dbt documents them: a private model may be ref'd only
# from its group (else dbt's DbtReferenceError naming both nodes), protected
# and public from anywhere in the project; a group must be defined;
# access: and group: as config (properties, dbt_project.yml, config()) and
# as the older top-level keys; group: and access: selection; the manifest.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models/finance
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
models:
  p:
    finance:
      +group: finance
      +access: private
EOF
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: a.duckdb\n' >profiles.yml
echo "select 1 as id" >p/models/finance/fin_private.sql
echo "select * from {{ ref('fin_private') }}" >p/models/finance/fin_helper.sql
echo "{{ config(access='public') }} select * from {{ ref('fin_helper') }}" >p/models/finance/fin_public.sql
echo "select * from {{ ref('fin_public') }}" >p/models/mkt.sql
echo "select 1 as x" >p/models/plain.sql
cat >p/models/schema.yml <<\EOF
groups:
  - name: finance
    owner: {name: Finance team, email: fin@example.com}
  - name: marketing
    owner: {email: mkt@example.com}
models:
  - name: mkt
    group: marketing
  - name: plain
    config:
      access: public
EOF

test_expect_success 'refs inside the group and to public models build' '
    dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Found 5 models, 0 tests, 2 groups" out &&
    test_grep "OK created sql view model main.mkt" out
'

test_expect_success 'the manifest has the groups and each model access and group' '
    jq -c "[.groups | keys[], (.[\"group.p.finance\"].owner.name)]" p/target/manifest.json >actual &&
    echo "[\"group.p.finance\",\"group.p.marketing\",\"Finance team\"]" >expect && test_cmp expect actual &&
    jq -r ".nodes | to_entries[] | \"\(.key) \(.value.access) \(.value.group)\"" p/target/manifest.json | sort >actual &&
    cat >expect <<-\EOF &&
	model.p.fin_helper private finance
	model.p.fin_private private finance
	model.p.fin_public public finance
	model.p.mkt protected marketing
	model.p.plain public null
	EOF
    test_cmp expect actual
'

test_expect_success 'group: and access: select' '
    dango ls --project-dir p --profiles-dir . -s group:finance | sort >actual &&
    printf "p.finance.fin_helper\np.finance.fin_private\np.finance.fin_public\n" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . -s access:public --output name | sort >actual &&
    printf "fin_public\nplain\n" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . -s access:protected --output name >actual &&
    echo mkt >expect && test_cmp expect actual
'

test_expect_success 'a ref to a private model from another group is dbt'"'"'s error, naming both nodes' '
    echo "select * from {{ ref(\"fin_private\") }}" >p/models/mkt.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Node model.p.mkt attempted to reference node model.p.fin_private, which is not allowed because the referenced node is private to the .finance. group." err &&
    ! test_grep "OK created" out
'

test_expect_success 'so is a ref to it from a model in no group' '
    echo "select * from {{ ref(\"fin_helper\") }}" >p/models/plain.sql &&
    echo "select 1 as id" >p/models/mkt.sql &&
    test_expect_code 1 dango ls --project-dir p --profiles-dir . 2>err &&
    test_grep "Node model.p.plain attempted to reference node model.p.fin_helper, which is not allowed because the referenced node is private to the .finance. group." err &&
    echo "select 1 as x" >p/models/plain.sql
'

test_expect_success 'an undefined group, or a private model in no group, is an error' '
    sed -i "s/group: marketing/group: nosuch/" p/models/schema.yml &&
    test_expect_code 1 dango ls --project-dir p --profiles-dir . 2>err &&
    test_grep "model.p.mkt (models/mkt.sql): Invalid group .nosuch., expected one of \[.finance., .marketing.\]" err &&
    sed -i "s/group: nosuch/access: private/" p/models/schema.yml &&
    test_expect_code 1 dango ls --project-dir p --profiles-dir . 2>err &&
    test_grep "model.p.mkt (models/mkt.sql): a model with access .private. must be in a group" err
'

test_done
