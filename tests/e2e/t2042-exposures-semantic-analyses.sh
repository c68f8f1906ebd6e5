#!/usr/bin/env bash
# Exposures, metrics, semantic models and saved queries are parsed into the
# manifest (their own keys, depends_on, parent and child maps), listed by
# ls --resource-type, selectable (exposure:, metric:, +exposure:x builds what
# the exposure needs), never run. Analyses compile to target/compiled/ and
# are never run.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models/marts p/seeds p/analyses
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n' >profiles.yml
printf 'id,amount\n1,10\n2,20\n' >p/seeds/raw_orders.csv
echo "select * from {{ ref('raw_orders') }}" >p/models/marts/orders.sql
echo "select 1 as id" >p/models/marts/customers.sql
echo "select 1 as unrelated" >p/models/other.sql
echo "select count(*) as n from {{ ref('orders') }}" >p/analyses/order_count.sql
cat >p/models/marts/semantic.yml <<\EOF
semantic_models:
  - name: orders_sm
    model: ref('orders')
    defaults: {agg_time_dimension: ordered_at}
    entities: [{name: order, type: primary, expr: id}]
    measures:
      - {name: order_total, agg: sum, expr: amount}
      - {name: order_rows, agg: count, expr: id}
metrics:
  - name: order_total
    label: Order total
    type: simple
    type_params: {measure: order_total}
  - name: order_count
    label: Orders
    type: simple
    type_params:
      measure: {name: order_rows}
  - name: avg_order
    label: Average order
    type: ratio
    type_params: {numerator: order_total, denominator: {name: order_count}}
saved_queries:
  - name: weekly_totals
    query_params:
      metrics: [order_total]
      group_by: ["TimeDimension('order__ordered_at', 'week')"]
exposures:
  - name: revenue_dashboard
    label: Revenue
    type: dashboard
    maturity: high
    url: https://bi.example.com/revenue
    description: The board's dashboard
    depends_on:
      - ref('orders')
      - ref('customers')
      - metric('avg_order')
    owner:
      name: Ann
      email: ann@example.com
EOF

test_expect_success 'parse puts each kind under its own manifest key, with dbt depends_on' '
    dango parse --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Found 3 models, 0 tests, 1 seed, 1 analysis, 1 exposure, 3 metrics, 1 semantic model, 1 saved query" out &&
    jq -r ".exposures, .metrics, .semantic_models, .saved_queries | keys[]" p/target/manifest.json >actual &&
    cat >expect <<-\EOF &&
	exposure.p.revenue_dashboard
	metric.p.avg_order
	metric.p.order_count
	metric.p.order_total
	semantic_model.p.orders_sm
	saved_query.p.weekly_totals
	EOF
    test_cmp expect actual &&
    jq -c ".exposures[\"exposure.p.revenue_dashboard\"] | [.type, .owner.email, .url, .maturity, (.depends_on.nodes | sort), .metrics]" p/target/manifest.json >actual &&
    echo "[\"dashboard\",\"ann@example.com\",\"https://bi.example.com/revenue\",\"high\",[\"metric.p.avg_order\",\"model.p.customers\",\"model.p.orders\"],[[\"avg_order\"]]]" >expect &&
    test_cmp expect actual &&
    jq -c "[.metrics[\"metric.p.avg_order\"].depends_on.nodes, .metrics[\"metric.p.order_count\"].depends_on.nodes, .semantic_models[\"semantic_model.p.orders_sm\"].depends_on.nodes, .saved_queries[\"saved_query.p.weekly_totals\"].depends_on.nodes]" p/target/manifest.json >actual &&
    echo "[[\"metric.p.order_total\",\"metric.p.order_count\"],[\"semantic_model.p.orders_sm\"],[\"model.p.orders\"],[\"metric.p.order_total\"]]" >expect &&
    test_cmp expect actual &&
    jq -c ".child_map[\"model.p.orders\"] | sort" p/target/manifest.json >actual &&
    echo "[\"analysis.p.order_count\",\"exposure.p.revenue_dashboard\",\"semantic_model.p.orders_sm\"]" >expect &&
    test_cmp expect actual
'

test_expect_success 'ls --resource-type lists each kind as dbt prints it' '
    for t in exposure metric semantic_model saved_query analysis; do
        dango ls --project-dir p --profiles-dir . --resource-type $t || return 1
    done >actual &&
    cat >expect <<-\EOF &&
	exposure:p.marts.revenue_dashboard
	metric:p.marts.order_total
	metric:p.marts.order_count
	metric:p.marts.avg_order
	semantic_model:p.marts.orders_sm
	saved_query:p.marts.weekly_totals
	p.analysis.order_count
	EOF
    test_cmp expect actual
'

test_expect_success 'exposure: and metric: select; +exposure:x is it and everything upstream' '
    dango ls --project-dir p --profiles-dir . -s exposure:revenue_dashboard >actual &&
    echo "exposure:p.marts.revenue_dashboard" >expect && test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . -s +exposure:revenue_dashboard | sort >actual &&
    cat >expect <<-\EOF &&
	exposure:p.marts.revenue_dashboard
	metric:p.marts.avg_order
	metric:p.marts.order_count
	metric:p.marts.order_total
	p.marts.customers
	p.marts.orders
	p.raw_orders
	semantic_model:p.marts.orders_sm
	EOF
    test_cmp expect actual &&
    dango ls --project-dir p --profiles-dir . -s metric:order_total+ --resource-type saved_query >actual &&
    echo "saved_query:p.marts.weekly_totals" >expect && test_cmp expect actual
'

test_expect_success 'build +exposure:x builds what the exposure needs, and runs none of these kinds' '
    dango build --project-dir p --profiles-dir . -s +exposure:revenue_dashboard >out 2>err &&
    test_grep "Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3" out &&
    test_grep "OK created sql view model main.orders" out &&
    test_grep "OK created sql view model main.customers" out &&
    ! grep "START.*\(other\|exposure\|metric\|analysis\|order_count\)" out
'

test_expect_success 'compile renders analyses into target/compiled/, run never runs them' '
    dango compile --project-dir p --profiles-dir . >out 2>err &&
    printf "select count(*) as n from \"e\".\"main\".\"orders\"" >expect &&
    test_cmp expect p/target/compiled/p/analyses/order_count.sql &&
    dango run --project-dir p --profiles-dir . >out 2>err &&
    ! test_grep order_count out &&
    dango show --project-dir p --profiles-dir . --inline "select count(*) as n from information_schema.tables where table_name = '"'"'order_count'"'"'" >out &&
    test_grep "| 0 |" out
'

test_expect_success 'the graph context has them under graph.exposures and graph.metrics, not graph.nodes' '
    dango show --project-dir p --profiles-dir . --inline "select '"'"'{% for k in graph.exposures %}{{ k }}{% endfor %}'"'"' as e, '"'"'{{ graph.metrics | length }}'"'"' as m, '"'"'{% for k in graph.nodes if k.startswith(\"exposure\") %}{{ k }}{% endfor %}'"'"' as x" >out &&
    test_grep "| exposure.p.revenue_dashboard | 3 | *|" out
'

test_expect_success 'a metric of a measure no semantic model defines is an error naming both' '
    cp p/models/marts/semantic.yml saved.yml &&
    sed -i "s/measure: order_total}/measure: nosuch}/" p/models/marts/semantic.yml &&
    test_expect_code 1 dango parse --project-dir p --profiles-dir . 2>err &&
    test_grep "metric .order_total. (models/marts/semantic.yml) depends on a measure named .nosuch. which was not found" err &&
    cp saved.yml p/models/marts/semantic.yml
'

test_expect_success 'an exposure without a valid type or an owner is an error with file:line' '
    sed -i "s/type: dashboard/type: poster/" p/models/marts/semantic.yml &&
    test_expect_code 1 dango parse --project-dir p --profiles-dir . 2>err &&
    test_grep "models/marts/semantic.yml:29:5: exposure .revenue_dashboard. needs a type: dashboard, notebook, analysis, ml or application" err
'

test_done
