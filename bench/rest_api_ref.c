/* The reference for bench/rest_api.sh: DuckDB's own CREATE TABLE AS SELECT *
 * FROM read_json(...) over the same records saved to one NDJSON file, on a
 * fresh database file, through the C API. */
#include <duckdb.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	char sql[4096];
	if (argc != 3) {
		fprintf(stderr, "usage: %s DB NDJSON\n", argv[0]);
		return 2;
	}
	if (duckdb_open(argv[1], &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		return 1;
	snprintf(sql, sizeof(sql), "CREATE TABLE t AS SELECT * FROM read_json('%s', format='newline_delimited')", argv[2]);
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
