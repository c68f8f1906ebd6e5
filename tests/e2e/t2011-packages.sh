#!/usr/bin/env bash
# dbt packages: dango deps (local and git), macros in their namespace,
# adapter.dispatch with the root project's dispatch: order, package vars and
# generic tests, dbt's own cross-database macros
. "$(dirname "$0")/lib.sh"

mkdir -p mypkg/macros root/models
cat >mypkg/dbt_project.yml <<\EOF
name: mypkg
version: '1.0'
macro-paths: ["macros"]
vars:
  greeting: hello from mypkg
EOF
cat >mypkg/macros/m.sql <<\EOF
{% macro shout(x) %}upper({{ x }}){% endmacro %}
{% macro helper() %}{{ return(inner()) }}{% endmacro %}
{% macro inner() %}'inner of mypkg'{% endmacro %}
{% macro greet() %}{{ return(adapter.dispatch('greet', 'mypkg')()) }}{% endmacro %}
{% macro default__greet() %}'mypkg default'{% endmacro %}
{% macro plain() %}{{ return(adapter.dispatch('plain', 'mypkg')()) }}{% endmacro %}
{% macro default__plain() %}'mypkg plain'{% endmacro %}
{% test is_even(model, column_name) %}
{{ config(severity = 'warn') }}
select * from {{ model }} where {{ column_name }} % 2 = 1
{% endtest %}
EOF
cat >root/dbt_project.yml <<\EOF
name: root
profile: root
dispatch:
  - macro_namespace: mypkg
    search_order: ['root', 'mypkg']
EOF
cat >root/packages.yml <<\EOF
packages:
  - local: ../mypkg
EOF
mkdir -p root/macros && cat >root/macros/over.sql <<\EOF
{% macro default__greet() %}'root override'{% endmacro %}
EOF
cat >root/models/m.sql <<\EOF
select {{ mypkg.shout("'a'") }} as shouted, {{ mypkg.helper() }} as helper,
       {{ mypkg.greet() }} as greet, {{ mypkg.plain() }} as plain,
       '{{ var("greeting") }}' as greeting,
       {{ dbt.dateadd('day', 1, "date '2024-01-31'") }}::date as next_day,
       cast(42 as {{ dbt.type_string() }}) as s, {{ dbt.concat(["'x'", "'y'"]) }} as xy,
       2 as n, 3 as odd
EOF
cat >root/models/schema.yml <<\EOF
version: 2
models:
  - name: m
    columns:
      - name: n
        data_tests:
          - mypkg.is_even
      - name: odd
        data_tests:
          - mypkg.is_even
EOF
printf 'root:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: r.duckdb\n' >profiles.yml

norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'a package listed but not installed: the error names dango deps' '
    test_expect_code 1 dango build --project-dir root --profiles-dir . >out 2>err &&
    test_grep "packages.yml:2:5: package .mypkg. is not installed in .*dbt_packages: run \`dango deps\`" err
'

test_expect_success 'dango deps links a local package into dbt_packages/' '
    dango deps --project-dir root >out && norm <out >actual &&
    test_grep "^Installed mypkg (../mypkg)$" actual &&
    test -L root/dbt_packages/mypkg && test -f root/dbt_packages/mypkg/macros/m.sql
'

test_expect_success 'package macros, dispatch order, package vars and dbt macros render' '
    dango build --project-dir root --profiles-dir . >out 2>err && norm <out >actual &&
    test_grep "OK created sql view model main.m" actual &&
    test_grep "PASS mypkg_is_even_m_n" actual &&
    test_grep "WARN 1 mypkg_is_even_m_odd" actual &&
    dango init peek >/dev/null && cp r.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select * exclude (n, odd) from main.m") >out &&
    cat >expect <<-\EOF &&
	shouted,helper,greet,plain,greeting,next_day,s,xy
	A,inner of mypkg,root override,mypkg plain,hello from mypkg,2024-02-01,42,xy
	EOF
    test_cmp expect out
'

test_expect_success 'the compiled SQL is what dbt-duckdb writes' '
    test_grep "date_add(date .2024-01-31., interval (1) day)::date as next_day" root/target/compiled/root/models/m.sql &&
    test_grep "cast(42 as TEXT) as s, .x. || .y. as xy" root/target/compiled/root/models/m.sql
'

test_expect_success 'a dispatch that finds nothing names what it searched' '
    echo "select {{ adapter.dispatch(\"nothing\", \"mypkg\")() }} as x" >root/models/bad.sql &&
    test_expect_code 1 dango run --project-dir root --profiles-dir . -s bad >out 2>err &&
    test_grep "No macro named .nothing. found within namespace: .mypkg." out &&
    test_grep "Searched for: .duckdb__nothing., .default__nothing." out &&
    rm root/models/bad.sql
'

test_expect_success 'two macros of one name in a package are an error' '
    echo "{% macro shout(x) %}{{ x }}{% endmacro %}" >mypkg/macros/dup.sql &&
    test_expect_code 1 dango build --project-dir root --profiles-dir . >out 2>err &&
    test_grep "dbt_packages/mypkg/macros/m.sql: dbt found two macros named .shout. in the same namespace" err &&
    rm mypkg/macros/dup.sql
'

test_expect_success 'a package macro file that does not parse is left out with a warning' '
    echo "{% macro broken( %}" >mypkg/macros/zz.sql &&
    dango run --project-dir root --profiles-dir . -s m >out 2>err &&
    test_grep "\[WARNING\]: dbt_packages/mypkg/macros/zz.sql:1:19: unexpected .}., expected .). (the macros of this file are left out)" err &&
    test_grep "OK created sql view model main.m " out &&
    rm mypkg/macros/zz.sql
'

test_expect_success 'two macros of one name in the root project are an error too' '
    echo "{% macro default__greet() %}1{% endmacro %}" >root/macros/again.sql &&
    test_expect_code 1 dango build --project-dir root --profiles-dir . >out 2>err &&
    test_grep "macros/over.sql: dbt found two macros named .default__greet. in the project" err &&
    rm root/macros/again.sql
'

test_expect_success 'dango deps installs a git package at a revision, from a subdirectory' '
    mkdir -p repo/sub/macros && cp mypkg/macros/m.sql repo/sub/macros/ &&
    printf "name: gitpkg\nversion: 1.0\n" >repo/sub/dbt_project.yml &&
    (cd repo && git init -q && git add . && git -c user.email=t@t -c user.name=t commit -qm one && git tag v1 &&
     echo "{% macro later() %}1{% endmacro %}" >sub/macros/later.sql && git add . &&
     git -c user.email=t@t -c user.name=t commit -qm two) &&
    cat >root/packages.yml <<-EOF &&
	packages:
	  - local: ../mypkg
	  - git: "file://$TRASH/repo"
	    revision: v1
	    subdirectory: sub
	EOF
    dango deps --project-dir root >out && norm <out >actual &&
    test_grep "^Installed gitpkg (file://.*/repo)$" actual &&
    test -f root/dbt_packages/gitpkg/macros/m.sql && test ! -e root/dbt_packages/gitpkg/macros/later.sql &&
    dango run --project-dir root --profiles-dir . >/dev/null
'

test_expect_success 'a package brings models and seeds, built with its own config' '
    printf "packages:\n  - local: ../mypkg\n" >root/packages.yml &&
    mkdir -p mypkg/models mypkg/seeds &&
    printf "models:\n  mypkg:\n    +materialized: table\n" >>mypkg/dbt_project.yml &&
    echo "select {{ inner() }} as who, '"'"'{{ var(\"greeting\") }}'"'"' as g, * from {{ ref(\"pkg_seed\") }}" \
        >mypkg/models/pkg_model.sql &&
    printf "id,name\n1,one\n2,two\n" >mypkg/seeds/pkg_seed.csv &&
    printf "version: 2\nmodels:\n  - name: pkg_model\n    columns:\n      - name: id\n        data_tests: [unique]\n" \
        >mypkg/models/schema.yml &&
    echo "select count(*) as n from {{ ref(\"mypkg\", \"pkg_model\") }}" >root/models/uses_pkg.sql &&
    dango build --project-dir root --profiles-dir . >out 2>err && norm <out >actual &&
    test_grep "OK loaded seed file main.pkg_seed " actual &&
    test_grep "OK created sql table model main.pkg_model " actual &&
    test_grep "PASS unique_pkg_model_id " actual &&
    test_grep "OK created sql view model main.uses_pkg " actual &&
    (cd peek && cp ../r.duckdb data/warehouse.duckdb && dango query --csv "select * from main.pkg_model order by id") >out &&
    printf "who,g,id,name\ninner of mypkg,hello from mypkg,1,one\ninner of mypkg,hello from mypkg,2,two\n" >expect &&
    test_cmp expect out
'

test_expect_success 'a hub that cannot be reached is an error naming the package and the URL' '
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n" >root/packages.yml &&
    DBT_PACKAGE_HUB_URL=http://127.0.0.1:9/ test_expect_code 1 dango deps --project-dir root >out 2>err &&
    test_grep "packages.yml:2:5: cannot read package .dbt-labs/dbt_utils. from the package hub (http://127.0.0.1:9/api/v1/dbt-labs/dbt_utils.json): " err
'

test_done
