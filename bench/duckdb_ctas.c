/* The reference for the load benchmarks: DuckDB's own CREATE TABLE AS
 * SELECT * FROM <reader> on a fresh database file, through the C API.
 *   duckdb_ctas DB "read_csv('big.csv')"          (bench/sync.sh)
 *   duckdb_ctas DB "read_json('r.ndjson', ...)"   (bench/rest_api.sh) */
#include <duckdb.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	char sql[4096];
	if (argc != 3) {
		fprintf(stderr, "usage: %s DB RELATION\n", argv[0]);
		return 2;
	}
	if (duckdb_open(argv[1], &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		return 1;
	snprintf(sql, sizeof(sql), "CREATE TABLE t AS SELECT * FROM %s", argv[2]);
	if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
		fprintf(stderr, "%s\n", duckdb_result_error(&res));
		return 1;
	}
	printf("%lld rows\n", (long long)duckdb_value_int64(&res, 0, 0));
	duckdb_destroy_result(&res);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return 0;
}
