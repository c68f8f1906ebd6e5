#!/usr/bin/env bash
# make demo: a project in ./demo from the bundled sample data, and the main
# job on it. Grows with the product: sync, generate and run join as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dango="$root/dango"
rm -rf demo
"$dango" init demo --skip-wizard </dev/null
cd demo
cp "$root"/examples/sample_data/*.csv data/
"$dango" source add csv --name orders --path data/orders.csv --description "Shop orders (sample data)"
"$dango" source add csv --name customers --path data/customers.csv --description "Shop customers (sample data)"
"$dango" validate
"$dango" sync                      # also writes staging models for the new tables
mkdir -p dbt/models/marts
cp "$root"/examples/marts/revenue_by_country.sql dbt/models/marts/
"$dango" run
"$dango" test
"$dango" source list
"$dango" query "SELECT country, sum(revenue) AS revenue FROM marts.revenue_by_country WHERE status = 'paid' GROUP BY 1 ORDER BY 2 DESC"
"$dango" db status
echo
echo "The demo project is in ./demo: cd demo && ../dango --help"
