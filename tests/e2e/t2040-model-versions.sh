#!/usr/bin/env bash
# Model versions as dbt documents them: each version is a node built from
# <model>_v<v>.sql (or defined_in) as the relation <model>_v<v>; ref('m') is
# the latest_version, ref('m', v=1) / version= one version; no unversioned
# relation is made (dbt leaves that to a post-hook); version: selection.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: v.duckdb\n' >profiles.yml
echo "select 1 as id, 'ann' as name" >p/models/dim_customers_v1.sql
echo "select 2 as id, 'Ann Lee' as full_name" >p/models/dim_customers_v2.sql
echo "select 3 as id, 'Ann Lee' as full_name, 'x' as extra" >p/models/dim_customers_next.sql
echo "select * from {{ ref('dim_customers') }}" >p/models/downstream.sql
echo "select * from {{ ref('dim_customers', v=1) }}" >p/models/old_consumer.sql
echo "select * from {{ ref('dim_customers', version=3) }}" >p/models/next_consumer.sql
cat >p/models/schema.yml <<\EOF
models:
  - name: dim_customers
    latest_version: 2
    config:
      materialized: table
    columns:
      - name: id
        tests: [not_null]
      - name: name
    versions:
      - v: 1
        config:
          materialized: view
      - v: 2
        columns:
          - include: all
            exclude: [name]
          - name: full_name
      - v: 3
        defined_in: dim_customers_next
EOF
dango init peek >/dev/null
# the views name their database (three-part relations): attach the file under its own name
sq() { (cd peek && dango query --write --csv "attach '../v.duckdb' as v (read_only); use v; $1"); }

test_expect_success 'each version builds as <model>_v<v>, with its own config; no unversioned relation' '
    dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK created sql view model main.dim_customers_v1" out &&
    test_grep "OK created sql table model main.dim_customers_v2" out &&
    test_grep "OK created sql table model main.dim_customers_v3" out &&
    test_grep "PASS not_null_dim_customers_v2_id" out &&
    sq "select table_name, table_type from information_schema.tables where table_name like '"'"'dim_customers%'"'"' order by 1" >actual &&
    printf "table_name,table_type\ndim_customers_v1,VIEW\ndim_customers_v2,BASE TABLE\ndim_customers_v3,BASE TABLE\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'ref(m) is the latest version, ref(m, v=1) and ref(m, version=3) pinned ones' '
    sq "select (select id from main.downstream), (select id from main.old_consumer), (select id from main.next_consumer)" >actual &&
    tail -n 1 actual >row && echo "2,1,3" >expect && test_cmp expect row &&
    test_grep "\"main\".\"dim_customers_v2\"" p/target/compiled/p/models/downstream.sql
'

test_expect_success 'the manifest has dbt version fields, refs with versions, the version columns' '
    jq -c "[.nodes[\"model.p.dim_customers.v2\"] | .name, .version, .latest_version, .alias, (.columns | keys)]" p/target/manifest.json >actual &&
    echo "[\"dim_customers\",2,2,\"dim_customers_v2\",[\"full_name\",\"id\"]]" >expect && test_cmp expect actual &&
    jq -c ".nodes[\"model.p.old_consumer\"].refs" p/target/manifest.json >actual &&
    echo "[{\"name\":\"dim_customers\",\"package\":null,\"version\":1}]" >expect && test_cmp expect actual &&
    jq -c ".nodes[\"model.p.dim_customers.v1\"].fqn" p/target/manifest.json >actual &&
    echo "[\"p\",\"dim_customers\",\"v1\"]" >expect && test_cmp expect actual
'

test_expect_success 'selection: the name selects every version, name.v1 one, version:latest|prerelease|old|none' '
    dango ls --project-dir p --profiles-dir . --resource-type model -s dim_customers | sort >actual &&
    printf "p.dim_customers.v1\np.dim_customers.v2\np.dim_customers.v3\n" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . -s dim_customers.v1 --resource-type model >actual &&
    echo "p.dim_customers.v1" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . --resource-type model -s version:latest >actual &&
    echo "p.dim_customers.v2" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . --resource-type model -s version:prerelease >actual &&
    echo "p.dim_customers.v3" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . --resource-type model -s version:old --output name >actual &&
    echo "dim_customers.v1" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . --resource-type model -s version:none | sort >actual &&
    printf "p.downstream\np.next_consumer\np.old_consumer\n" >expect && test_cmp expect actual
'

test_expect_success 'a unit test runs on every version, or those of versions: include/exclude' '
    cat >p/models/unit.yml <<-\EOF &&
	unit_tests:
	  - name: t_ids
	    model: dim_customers
	    given: []
	    expect: {rows: [{id: 1}]}
	  - name: t_only_one
	    model: dim_customers
	    versions: {include: [1]}
	    given: []
	    expect: {rows: [{id: 1}]}
	  - name: t_not_one
	    model: dim_customers
	    versions: {exclude: [1, 3]}
	    given: []
	    expect: {rows: [{id: 2}]}
	EOF
    test_expect_code 1 dango test --project-dir p --profiles-dir . -s test_type:unit >out 2>err &&
    grep -o "\(PASS\|FAIL\)[ 0-9]* dim_customers::t_[a-z_]*v[0-9]" out | sed "s/FAIL [0-9]*/FAIL/" | sort >actual &&
    cat >expect <<-\EOF &&
	FAIL dim_customers::t_ids_v2
	FAIL dim_customers::t_ids_v3
	PASS dim_customers::t_ids_v1
	PASS dim_customers::t_not_one_v2
	PASS dim_customers::t_only_one_v1
	EOF
    test_cmp expect actual &&
    jq -r ".nodes | keys[] | select(startswith(\"unit_test\"))" p/target/manifest.json | sort >actual &&
    printf "unit_test.p.dim_customers.t_ids_v1\nunit_test.p.dim_customers.t_ids_v2\nunit_test.p.dim_customers.t_ids_v3\nunit_test.p.dim_customers.t_not_one_v2\nunit_test.p.dim_customers.t_only_one_v1\n" >expect &&
    test_cmp expect actual &&
    rm p/models/unit.yml
'

test_expect_success 'a ref to a version that does not exist is an error naming it' '
    echo "select * from {{ ref(\"dim_customers\", v=9) }}" >p/models/bad.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . 2>err &&
    test_grep "model .bad. (models/bad.sql) depends on a node named .dim_customers. with version .9. which was not found" err &&
    rm p/models/bad.sql
'

test_expect_success 'without latest_version the greatest version is the latest, numbers compared as numbers' '
    sed -i "/latest_version: 2/d" p/models/schema.yml &&
    sed -i "s/- v: 3/- v: 10/" p/models/schema.yml && rm p/models/next_consumer.sql &&
    dango ls --project-dir p --profiles-dir . --resource-type model -s version:latest >actual &&
    echo "p.dim_customers.v10" >expect && test_cmp expect actual
'

test_done
