#!/usr/bin/env bash
# docs/screenshots/*.png: each page of `dango web` on a small project built
# from the sample data (two CSV sources, a failing one, an API source with a
# secret, staging -> intermediate -> marts models), in headless Chromium.
# Needs DANGO_TEST_DEPS=1 ./scripts/install-deps.sh (chromium, playwright-core).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dango="$root/dango"
out="$root/docs/screenshots"
tmp=$(mktemp -d)
trap 'kill $web 2>/dev/null || true; rm -rf "$tmp"' EXIT
cd "$tmp"
"$dango" init shop --skip-wizard >/dev/null </dev/null
cd shop
cp "$root"/examples/sample_data/*.csv data/
"$dango" source add csv --name orders --path data/orders.csv --description "Shop orders (sample data)" >/dev/null
"$dango" source add csv --name customers --path data/customers.csv --description "Shop customers (sample data)" >/dev/null
cat >>.dango/sources.yml <<'YML'
  - name: refunds
    type: csv
    description: Refunds export (the file is not there yet)
    csv:
      path: data/refunds.csv
  - name: stripe_payments
    type: stripe
    enabled: false
    lookback_days: 3
    stripe:
      stripe_secret_key_env: STRIPE_API_KEY
      endpoints: [charges, customers]
      start_date: "2024-06-01"
YML
"$dango" sync orders customers >/dev/null
"$dango" sync refunds >/dev/null 2>&1 || true
"$dango" generate >/dev/null 2>&1 || true
mkdir -p dbt/models/intermediate dbt/models/marts
cat >dbt/models/intermediate/int_orders_enriched.sql <<'SQL'
select o.*, c.country from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c using (customer_id)
SQL
cat >dbt/models/marts/revenue_by_country.sql <<'SQL'
{{ config(materialized='table') }}
select country, status, count(*) as orders, round(sum(amount), 2) as revenue
from {{ ref('int_orders_enriched') }} group by all
SQL
cat >dbt/models/marts/customer_ltv.sql <<'SQL'
{{ config(materialized='table') }}
select customer_id, country, sum(amount) as lifetime_value from {{ ref('int_orders_enriched') }} group by all
SQL
"$dango" run >/dev/null
# governance: a CRM export whose columns changed (breaking and additive drift)
printf "id,score,region\n1,10,EU\n2,20,US\n" >data/crm_contacts.csv
"$dango" source add csv --name crm_contacts --path data/crm_contacts.csv --description "CRM contacts export" >/dev/null
"$dango" sync crm_contacts >/dev/null
printf "id,score,segment\n3,high,smb\n" >data/crm_contacts.csv
"$dango" sync crm_contacts --full-refresh --yes --allow-schema-changes >/dev/null 2>&1
# an OAuth token that cannot renew itself and expires in 5 days, one that renews
mkdir -p .dango/oauth && chmod 700 .dango/oauth
printf '{"provider": "facebook_ads", "account": "ads@shop.example", "access_token": "not-shown", "expires_at": "%s", "sources": ["fb_ads"]}\n' \
    "$(date -u -d "+5 days +6 hours" +%Y-%m-%dT%H:%M:%SZ)" >.dango/oauth/facebook_ads.json
printf '{"provider": "google", "account": "analytics@shop.example", "access_token": "not-shown", "refresh_token": "not-shown", "expires_at": "%s"}\n' \
    "$(date -u -d "+40 minutes" +%Y-%m-%dT%H:%M:%SZ)" >.dango/oauth/google_analytics.json
chmod 600 .dango/oauth/*.json
# schedules: the scheduler runs inside dango web
cat >.dango/schedules.yml <<'YML'
version: "1.0"
schedules:
  - name: nightly_all
    type: sync
    cron: daily
    timezone: Europe/Berlin
  - name: orders_hourly
    type: sync_only
    cron: "15 * * * *"
    sources: [orders]
  - name: marts_rebuild
    type: dbt
    cron: "0 7 * * 1-5"
    select: marts
  - name: export_report
    type: script
    cron: "0 8 * * 1"
    command: "echo weekly report sent"
    enabled: false
YML
STRIPE_API_KEY=sk_test_do_not_show_1234567890 "$dango" web --port 0 >web.out 2>&1 &
web=$!
for _ in $(seq 100); do grep -q "Dango web on" web.out && break; sleep 0.1; done
url=$(sed -n 's/^Dango web on \(http[^ ]*\)\/ .*/\1/p' web.out)
mkdir -p "$out"
export NODE_PATH="$root/tests/browser/node_modules"
shot() { DANGO_WEB_URL=$url SHOT_FULL=${3:-0} node "$root/tests/browser/shot.mjs" "$1" "$out/$2.png"; echo "  $2.png"; }
# a Sync Now through the API, as the page does, so that the run page has a log
csrf=$(curl -s -c jar -b jar "$url/api/session" | jq -r .csrf)
run_id=$(curl -s -b jar -H "Origin: $url" -H "X-CSRF-Token: $csrf" -X POST -d '{}' "$url/api/sources/orders/sync" | jq -r .run_id)
while [ "$(curl -s "$url/api/runs/$run_id" | jq -r .status)" = running ]; do sleep 0.2; done
# run two schedules now, as the Run now button does, so that they show a result
for sc in orders_hourly export_report; do
    curl -s -b jar -H "Origin: $url" -H "X-CSRF-Token: $csrf" -X POST -d '{}' "$url/api/schedules/$sc/run" >/dev/null
done
for _ in $(seq 300); do
    [ "$(curl -s "$url/api/schedules" | jq '[.schedules[] | select(.last_run.status == "completed")] | length')" = 2 ] && break
    sleep 0.2
done
shot /sources sources
shot /sources/orders source
shot /runs runs
shot "/runs/$run_id" run
shot /models models
shot /models/revenue_by_country model 1
shot /lineage lineage
shot /schedules schedules
shot /governance governance
shot / overview
DANGO_WEB_URL=$url node "$root/tests/browser/shot-query.mjs" "$out/query.png"; echo "  query.png"
