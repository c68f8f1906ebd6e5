#!/usr/bin/env bash
# selectors.yml is rendered as Jinja before it is read, as dbt renders it
# (env_var, var, target; a rendered `default:` is a boolean), and refs from
# tests and exposures obey access as dbt's process_refs checks them: a
# generic test takes the group of the model it is on, a singular test its
# own group, an exposure has none.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models/finance p/tests
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
models:
  p:
    finance:
      +group: finance
      +access: private
EOF
cat >profiles.yml <<\EOF
p:
  target: dev
  outputs:
    dev: {type: duckdb, path: s.duckdb}
    prod: {type: duckdb, path: s.duckdb}
EOF
echo "{{ config(tags=['nightly']) }} select 1 as id" >p/models/base.sql
echo "{{ config(tags=['finance']) }} select 2 as id" >p/models/fin.sql
echo "{{ config(tags=['other']) }} select 3 as id" >p/models/other.sql
echo "select 1 as id" >p/models/finance/fin_private.sql
cat >p/models/schema.yml <<\EOF
groups:
  - name: finance
    owner: {email: fin@example.com}
  - name: marketing
    owner: {email: mkt@example.com}
models:
  - name: fin_private
    columns:
      - name: id
        tests: [not_null]
EOF
cat >p/selectors.yml <<\EOF
selectors:
  - name: by_env
    default: "{{ target.name == 'dev' }}"
    definition:
      method: tag
      value: "{{ env_var('SEL_TAG', 'nightly') }}"
  - name: by_var
    definition: "tag:{{ var('tag', 'finance') }}"
EOF
ls_names() { dango ls --project-dir p --profiles-dir . --resource-type model --output name "$@" | sort; }

test_expect_success 'a selector value from env_var, with its default' '
    ls_names --selector by_env >actual && echo base >expect && test_cmp expect actual &&
    SEL_TAG=other ls_names --selector by_env >actual && echo other >expect && test_cmp expect actual
'

test_expect_success 'a definition string from var(), --vars over its default' '
    ls_names --selector by_var >actual && echo fin >expect && test_cmp expect actual &&
    ls_names --selector by_var --vars "{tag: other}" >actual && echo other >expect && test_cmp expect actual
'

test_expect_success 'default: rendered from target.name is true for dev only' '
    dango run --project-dir p --profiles-dir . >out &&
    test_grep "Using default selector by_env" out &&
    test_grep "OK created sql view model main.base" out &&
    ! grep -q "main.fin\b" out &&
    dango run --project-dir p --profiles-dir . --target prod >out &&
    ! grep -q "Using default selector" out &&
    test_grep "OK created sql view model main.fin " out
'

test_expect_success 'Jinja that does not render is an error naming selectors.yml' '
    cp p/selectors.yml sel.bak &&
    printf "  - name: bad\n    definition: \"{{ no_such_macro() }}\"\n" >>p/selectors.yml &&
    test_expect_code 2 dango run --project-dir p --profiles-dir . --selector by_var >out 2>err &&
    test_grep "selectors.yml:10:.*Could not render {{ no_such_macro() }}" err &&
    cp sel.bak p/selectors.yml
'

test_expect_success 'a generic test on a private model is in its group: allowed' '
    dango build --project-dir p --profiles-dir . -s fin_private >out &&
    test_grep "PASS not_null_fin_private_id" out
'

test_expect_success 'a relationships test on a model of another group to a private model is dbt'"'"'s error' '
    cp p/models/schema.yml schema.bak &&
    cat >>p/models/schema.yml <<-\EOF &&
	  - name: other
	    group: marketing
	    columns:
	      - name: id
	        tests:
	          - relationships: {to: ref("fin_private"), field: id}
	EOF
    test_expect_code 1 dango ls --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Node test.p.relationships_other_id__id__ref_fin_private_.* attempted to reference node model.p.fin_private, which is not allowed because the referenced node is private to the .finance. group." err &&
    sed -i "s/group: marketing/group: finance/" p/models/schema.yml &&
    dango ls --project-dir p --profiles-dir . >/dev/null &&
    cp schema.bak p/models/schema.yml
'

test_expect_success 'a singular test refs a private model only from its group' '
    echo "select * from {{ ref(\"fin_private\") }} where id is null" >p/tests/no_null.sql &&
    test_expect_code 1 dango ls --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Node test.p.no_null attempted to reference node model.p.fin_private, which is not allowed because the referenced node is private to the .finance. group." err &&
    echo "{{ config(group=\"finance\") }} select * from {{ ref(\"fin_private\") }} where id is null" >p/tests/no_null.sql &&
    dango build --project-dir p --profiles-dir . -s no_null >out &&
    test_grep "PASS no_null" out &&
    rm p/tests/no_null.sql
'

test_expect_success 'an exposure has no group: a private model is out of its reach, as in dbt' '
    cat >p/models/exp.yml <<-\EOF &&
	exposures:
	  - name: dash
	    type: dashboard
	    owner: {email: a@example.com}
	    depends_on: [ref("fin_private")]
	EOF
    test_expect_code 1 dango ls --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Node exposure.p.dash attempted to reference node model.p.fin_private, which is not allowed because the referenced node is private to the .finance. group." err &&
    sed -i "s/fin_private/fin/" p/models/exp.yml &&
    dango ls --project-dir p --profiles-dir . --output name -s exposure:dash >actual &&
    echo dash >expect && test_cmp expect actual
'

test_done
