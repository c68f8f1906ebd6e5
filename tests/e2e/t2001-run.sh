#!/usr/bin/env bash
# dango run / ls / compile on a Dango project: output, warehouse, selection, artifacts
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
dango query --write "CREATE SCHEMA raw_shop; CREATE TABLE raw_shop.orders AS
  SELECT * FROM (VALUES (1, 10, 'paid', 1), (2, 20, 'paid', 2), (3, 5, 'refunded', 1)) t(id, amount, status, customer_id);
  CREATE TABLE raw_shop.customers AS SELECT * FROM (VALUES (1, 'Ann'), (2, 'Bo')) t(id, name)" >/dev/null
mkdir -p dbt/models/staging dbt/models/marts/finance dbt/models/marts/marketing
cat >dbt/models/staging/sources.yml <<'EOF'
version: 2
sources:
  - name: shop
    schema: raw_shop
    tables:
      - name: orders
        loaded_at_field: _loaded
      - name: customers
EOF
cat >dbt/models/staging/stg_orders.sql <<'EOF'
select id, amount, status, customer_id from {{ source('shop', 'orders') }}
EOF
cat >dbt/models/staging/stg_customers.sql <<'EOF'
select id as customer_id, name from {{ source('shop', 'customers') }}
EOF
cat >dbt/models/marts/finance/revenue.sql <<'EOF'
{{ config(tags=['finance', 'daily']) }}
select sum(amount) as revenue from {{ ref('stg_orders') }} where status = 'paid'
EOF
cat >dbt/models/marts/marketing/customer_orders.sql <<'EOF'
{{ config(materialized='view', tags=['daily']) }}
select c.name, count(*) as orders
from {{ ref('stg_customers') }} c join {{ ref('stg_orders') }} o using (customer_id)
group by c.name
EOF
cat >dbt/models/marts/dashboard.sql <<'EOF'
select (select revenue from {{ ref('revenue') }}) as revenue, count(*) as customers from {{ ref('customer_orders') }}
EOF

norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //; s/ in [0-9]+\.[0-9]+s\]/ in Xs]/; s/in [0-9]+\.[0-9]+s\.$/in Xs./'; }

test_expect_success 'dango run builds every model and prints dbt-style lines' '
    dango run --threads 1 >out &&
    norm <out >actual &&
    cat >expect <<-\EOF &&
	Running with dango=0.1.0
	Found 5 models, 0 tests, 2 sources, 1 macro
	Concurrency: 1 thread
	
	1 of 5 START sql view model staging.stg_orders ................................. [RUN]
	1 of 5 OK created sql view model staging.stg_orders ............................ [SUCCESS in Xs]
	2 of 5 START sql view model staging.stg_customers .............................. [RUN]
	2 of 5 OK created sql view model staging.stg_customers ......................... [SUCCESS in Xs]
	3 of 5 START sql table model marts.revenue ..................................... [RUN]
	3 of 5 OK created sql table model marts.revenue ................................ [SUCCESS in Xs]
	4 of 5 START sql view model marts.customer_orders .............................. [RUN]
	4 of 5 OK created sql view model marts.customer_orders ......................... [SUCCESS in Xs]
	5 of 5 START sql table model marts.dashboard ................................... [RUN]
	5 of 5 OK created sql table model marts.dashboard .............................. [SUCCESS in Xs]
	
	Finished running 3 views, 2 tables in Xs.
	
	Completed successfully
	
	Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5
	EOF
    test_cmp expect actual
'

test_expect_success 'the warehouse holds the views and tables' '
    q "SELECT revenue, customers FROM marts.dashboard" >out && echo 30,2 >expect && test_cmp expect out &&
    q "SELECT table_schema || '"'"'.'"'"' || table_name || '"'"' '"'"' || table_type FROM information_schema.tables
       WHERE table_schema IN ('"'"'staging'"'"', '"'"'marts'"'"') ORDER BY 1" >out &&
    cat >expect <<-\EOF &&
	marts.customer_orders VIEW
	marts.dashboard BASE TABLE
	marts.revenue BASE TABLE
	staging.stg_customers VIEW
	staging.stg_orders VIEW
	EOF
    test_cmp expect out
'

test_expect_success 'a rebuilt table replaces the old one' '
    dango query --write "INSERT INTO raw_shop.orders VALUES (4, 100, '"'"'paid'"'"', 2)" >/dev/null &&
    dango run -s revenue >/dev/null && q "SELECT revenue FROM marts.revenue" >out && echo 130 >expect && test_cmp expect out
'

ls_sel() { dango ls --output name "$@" | sort | tr "\n" " "; }

test_expect_success 'graph operators select ancestors and descendants' '
    test "$(ls_sel -s revenue)" = "revenue " &&
    test "$(ls_sel -s +revenue)" = "revenue shop.orders stg_orders " &&
    test "$(ls_sel -s stg_orders+)" = "customer_orders dashboard revenue stg_orders " &&
    test "$(ls_sel -s stg_orders+1)" = "customer_orders revenue stg_orders " &&
    test "$(ls_sel -s 1+customer_orders)" = "customer_orders stg_customers stg_orders " &&
    test "$(ls_sel -s +revenue+ --resource-type model)" = "dashboard revenue stg_orders " &&
    test "$(ls_sel -s @stg_customers --resource-type model)" = "customer_orders dashboard revenue stg_customers stg_orders " &&
    test "$(ls_sel -s 99999999999999999999+revenue)" = "revenue shop.orders stg_orders " &&
    test "$(ls_sel -s stg_orders+99999999999999999999)" = "customer_orders dashboard revenue stg_orders "
'

test_expect_success 'fqn globs, paths, tags, config, sources, unions and excludes' '
    test "$(ls_sel -s marts.*)" = "customer_orders dashboard revenue " &&
    test "$(ls_sel -s marts.finance.*)" = "revenue " &&
    test "$(ls_sel -s marts.finance.*,marts.marketing.*)" = "customer_orders revenue " &&
    test "$(ls_sel -s "marts.finance.* marts.marketing.*")" = "customer_orders revenue " &&
    test "$(ls_sel -s marts.finance.* -s marts.marketing.*)" = "customer_orders revenue " &&
    test "$(ls_sel -s path:models/marts/marketing)" = "customer_orders " &&
    test "$(ls_sel -s tag:daily)" = "customer_orders revenue " &&
    test "$(ls_sel -s config.materialized:table)" = "dashboard revenue " &&
    test "$(ls_sel -s source:shop+ --resource-type model)" = "customer_orders dashboard revenue stg_customers stg_orders " &&
    test "$(ls_sel -s source:shop.customers+ --resource-type model)" = "customer_orders dashboard stg_customers " &&
    test "$(ls_sel -s marts.* --exclude marts.finance.*)" = "customer_orders dashboard " &&
    test "$(ls_sel --exclude tag:daily --resource-type model)" = "dashboard stg_customers stg_orders " &&
    test "$(ls_sel -s resource_type:source)" = "shop.customers shop.orders "
'

test_expect_success 'ls prints selectors by default' '
    dango ls -s +revenue >out &&
    printf "source:p.staging.shop.orders\np.staging.stg_orders\np.marts.finance.revenue\n" >expect && test_cmp expect out
'

test_expect_success 'a bad selector method is a usage error' '
    test_expect_code 2 dango ls -s tags:daily 2>err &&
    test_grep "unknown method '"'"'tags'"'"' (did you mean '"'"'tag'"'"'?)" err
'

test_expect_success 'run --select runs only the selection' '
    dango run -s tag:finance >out && norm <out >actual &&
    test_grep "^Found 5 models" actual &&
    test_grep "^1 of 1 OK created sql table model marts.revenue" actual &&
    test_grep "^Done. PASS=1 WARN=0 ERROR=0 SKIP=0 TOTAL=1$" actual
'

test_expect_success 'nothing selected is not an error' '
    dango run -s nothing_here >out && test_grep "Nothing to do" out
'

test_expect_success 'compile writes target/compiled with refs resolved' '
    dango compile >out && test_grep "Compiled 5 nodes" out &&
    cat dbt/target/compiled/p/models/marts/dashboard.sql >sql &&
    test_grep "from \"warehouse\".\"marts\".\"customer_orders\"" sql &&
    test_grep "(select revenue from \"warehouse\".\"marts\".\"revenue\")" sql
'

test_expect_success 'manifest.json and run_results.json have dbt'"'"'s shape' '
    dango run --threads 3 >/dev/null &&
    jq -r ".nodes[\"model.p.dashboard\"].depends_on.nodes | sort | join(\",\")" dbt/target/manifest.json >out &&
    echo "model.p.customer_orders,model.p.revenue" >expect && test_cmp expect out &&
    jq -r ".nodes[\"model.p.revenue\"] | [.config.materialized, .schema, .alias, (.config.tags|join(\"+\")), .original_file_path] | join(\" \")" \
        dbt/target/manifest.json >out &&
    echo "table marts revenue finance+daily models/marts/finance/revenue.sql" >expect && test_cmp expect out &&
    jq -r ".nodes[\"model.p.revenue\"].compiled_code" dbt/target/manifest.json | grep -q "\"staging\".\"stg_orders\"" &&
    jq -r ".sources[\"source.p.shop.orders\"].loaded_at_field" dbt/target/manifest.json >out && echo _loaded >expect && test_cmp expect out &&
    jq -r ".results[] | .unique_id + \" \" + .status + \" \" + .adapter_response.code" dbt/target/run_results.json | sort >out &&
    cat >expect <<-\EOF &&
	model.p.customer_orders success OK
	model.p.dashboard success OK
	model.p.revenue success OK
	model.p.stg_customers success OK
	model.p.stg_orders success OK
	EOF
    test_cmp expect out &&
    jq -e ".results[0].execution_time >= 0 and (.results[0].timing | length) == 1" dbt/target/run_results.json >/dev/null &&
    test -f dbt/target/run/p/models/marts/dashboard.sql
'

test_expect_success 'parallel runs respect dependencies' '
    dango run --threads 4 >out && norm <out >actual &&
    n_dash=$(grep -n "START sql table model marts.dashboard" actual | cut -d: -f1) &&
    n_rev=$(grep -n "OK created sql table model marts.revenue" actual | cut -d: -f1) &&
    n_co=$(grep -n "OK created sql view model marts.customer_orders" actual | cut -d: -f1) &&
    test "$n_dash" -gt "$n_rev" && test "$n_dash" -gt "$n_co" &&
    test_grep "Concurrency: 4 threads" actual
'

test_expect_success 'run --help lists the flags' '
    dango run --help >out && test_grep -- "--full-refresh" out && test_grep -- "--fail-fast" out &&
    test_grep -- "--skip-source" out
'

test_done
