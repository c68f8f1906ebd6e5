#!/usr/bin/env bash
# --selector NAME with selectors.yml, as dbt documents it: a definition as a
# CLI string, method/value with parents/children/depths, union,
# intersection, exclude, the key-value shorthand, selector: reuse,
# indirect_selection, and `default: true` when nothing else is selected.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models/marts
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: s.duckdb\n' >profiles.yml
echo "{{ config(tags=['nightly']) }} select 1 as id" >p/models/base.sql
echo "{{ config(tags=['finance', 'nightly']) }} select 2 as id" >p/models/fin.sql
echo "{{ config(tags=['finance']) }} select 3 as id" >p/models/fin2.sql
echo "{{ config(tags=['nightly']) }} select 4 as id" >p/models/skip_me.sql
echo "select * from {{ ref('fin') }} union all select * from {{ ref('base') }}" >p/models/marts/top.sql
echo "select * from {{ ref('top') }}" >p/models/marts/after_top.sql
cat >p/models/schema.yml <<\EOF
models:
  - name: base
    columns:
      - name: id
        tests: [not_null]
EOF
cat >p/selectors.yml <<\EOF
selectors:
  - name: finance_only
    description: the finance models
    definition: 'tag:finance'
  - name: nightly
    default: true
    definition:
      union:
        - method: tag
          value: nightly
        - method: path
          value: models/marts
          children: true
        - exclude:
            - method: fqn
              value: skip_me
  - name: both
    definition:
      intersection:
        - 'tag:finance'
        - method: tag
          value: nightly
  - name: parents_of_top
    definition:
      method: fqn
      value: after_top
      parents: true
      parents_depth: 1
  - name: shorthand
    definition:
      tag: finance
  - name: no_tests
    definition:
      method: fqn
      value: base
      indirect_selection: empty
  - name: reuse
    definition:
      union:
        - method: selector
          value: finance_only
        - method: fqn
          value: top
  - name: comma_is_intersection
    definition: 'tag:finance,tag:nightly +after_top,tag:nightly'
EOF
ls_sel() { dango ls --project-dir p --profiles-dir . --output name "$@" | sort; }

test_expect_success 'a string definition is CLI syntax' '
    ls_sel --selector finance_only >actual &&
    printf "fin\nfin2\n" >expect && test_cmp expect actual &&
    ls_sel --selector comma_is_intersection >actual &&
    printf "base\nfin\nnot_null_base_id\n" >expect && test_cmp expect actual
'

test_expect_success 'the default selector applies when nothing is selected: union with exclude' '
    ls_sel >actual &&
    printf "after_top\nbase\nfin\nnot_null_base_id\ntop\n" >expect && test_cmp expect actual &&
    ls_sel -s fin2 >actual && echo fin2 >expect && test_cmp expect actual
'

test_expect_success 'intersection, parents with a depth, the shorthand, selector reuse' '
    ls_sel --selector both >actual && echo fin >expect && test_cmp expect actual &&
    ls_sel --selector parents_of_top >actual &&
    printf "after_top\ntop\n" >expect && test_cmp expect actual &&
    ls_sel --selector shorthand >actual && printf "fin\nfin2\n" >expect && test_cmp expect actual &&
    ls_sel --selector reuse >actual && printf "fin\nfin2\ntop\n" >expect && test_cmp expect actual
'

test_expect_success 'indirect_selection: eager takes the tests along, empty does not' '
    printf "selectors:\n  - name: eager_base\n    definition: {method: fqn, value: base}\n" >>p/selectors.yml &&
    sed -i "0,/^selectors:/!{/^selectors:/d}" p/selectors.yml &&
    ls_sel --selector eager_base >actual && printf "base\nnot_null_base_id\n" >expect && test_cmp expect actual &&
    ls_sel --selector no_tests >actual && echo base >expect && test_cmp expect actual
'

test_expect_success 'run --selector builds the selection and records it in run_results.json' '
    dango run --project-dir p --profiles-dir . --selector finance_only >out &&
    test_grep "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2" out &&
    jq -r ".args.selector" p/target/run_results.json >actual && echo finance_only >expect && test_cmp expect actual &&
    dango build --project-dir p --profiles-dir . >out &&
    test_grep "Using default selector nightly" out &&
    test_grep "Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5" out
'

test_expect_success 'an unknown selector, or --selector with --select, is an error' '
    test_expect_code 2 dango run --project-dir p --profiles-dir . --selector nosuch 2>err &&
    test_grep "no selector of that name in selectors.yml" err &&
    test_expect_code 2 dango run --project-dir p --profiles-dir . --selector both -s fin 2>err &&
    test_grep "selector cannot be used with --select" err
'

test_done
