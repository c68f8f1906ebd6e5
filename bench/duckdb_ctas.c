/* The reference for the load benchmarks: DuckDB's own CREATE TABLE AS
 * SELECT * FROM <reader> on a fresh database file, through the C API.
 *   duckdb_ctas DB "read_csv('big.csv')"          (bench/sync.sh)
 *   duckdb_ctas DB "read_json('r.ndjson', ...)"   (bench/rest_api.sh)
 *   duckdb_ctas DB RELATION "SET ..."             settings first (the ones
 *                                                 Dango loads with), and
 *                                                 Dango's malloc settings
 * The relation may call __dango_row_id(), Dango's own _dlt_id function
 * (src/warehouse/row_id.c, linked in by bench/lib.sh's build_ctas), so that
 * a reference can do the same work as a Dango load, column for column
 * (bench/sync.sh's "same columns" line). */
#include "core/util.h"
#include "warehouse/row_id.h"

#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	char *sql;
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s DB RELATION [SETTINGS]\n", argv[0]);
		return 2;
	}
	if (argc == 4)
		malloc_keep_freed();
	if (duckdb_open(argv[1], &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess ||
	    row_id_register(&con) < 0)
		return 1;
	if (argc == 4) {
		if (duckdb_query(con, argv[3], &res) != DuckDBSuccess) {
			fprintf(stderr, "%s\n", duckdb_result_error(&res));
			return 1;
		}
		duckdb_destroy_result(&res);
	}
	/* a relation may list 1,000 files: sized to it */
	sql = malloc(strlen(argv[2]) + 64);
	if (!sql)
		return 1;
	sprintf(sql, "CREATE TABLE t AS SELECT * FROM %s", argv[2]);
	if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
		fprintf(stderr, "%s\n", duckdb_result_error(&res));
		return 1;
	}
	printf("%lld rows\n", (long long)duckdb_value_int64(&res, 0, 0));
	duckdb_destroy_result(&res);
	free(sql);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return 0;
}
