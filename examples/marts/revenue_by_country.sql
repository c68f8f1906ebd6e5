-- The demo's mart (scripts/demo.sh). Portable SQL: it builds the same rows
-- on a DuckDB and on a PostgreSQL warehouse (t0173).
select c.country, o.status, count(*) as orders,
       cast(sum(o.amount) as numeric(18, 2)) as revenue
from {{ ref('stg_orders') }} o
join {{ ref('stg_customers') }} c using (customer_id)
group by c.country, o.status
