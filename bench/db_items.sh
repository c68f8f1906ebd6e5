# The table the database benchmarks read (bench/db_source.sh,
# bench/db_resync_pair.sh), in the PostgreSQL of pg_start (db_lib.sh):
# ROWS rows of bigint, int, numeric, text, two timestamptz and jsonb, with
# the update_key indexed as an application database would have it.
pg_items_table() { # rows
    psql_do <<SQL
CREATE TABLE items (id bigint PRIMARY KEY, qty int, amount numeric(12,2), name text,
  created_at timestamptz, updated_at timestamptz, payload jsonb);
INSERT INTO items SELECT g, g % 1000, (g % 100000) / 100.0, 'item number ' || g,
  timestamptz '2024-01-01' + g * interval '1 second', timestamptz '2024-01-01' + g * interval '1 second',
  jsonb_build_object('k', g % 7, 'tag', 't' || (g % 13))
  FROM generate_series(1, $1) g;
CREATE INDEX ON items (updated_at);
ANALYZE items;
SQL
}
