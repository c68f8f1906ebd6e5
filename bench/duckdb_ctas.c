/* The reference for the load benchmarks: DuckDB's own CREATE TABLE AS
 * SELECT * FROM <reader> on a fresh database file, through the C API.
 *   duckdb_ctas DB "read_csv('big.csv')"          (bench/sync.sh)
 *   duckdb_ctas DB "read_json('r.ndjson', ...)"   (bench/rest_api.sh)
 *   duckdb_ctas DB RELATION "SET ..."             settings first (the ones
 *                                                 Dango loads with)
 * The relation may call ref_row_id(): a UUID per row made as cheaply as
 * Dango's own _dlt_id (a fixed high half, a row number in the low half),
 * so that a reference can do the same work as a Dango load, column for
 * column (bench/sync.sh's "same columns" line). */
#include <duckdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_row;

static void row_ids(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
	(void)info;
	idx_t n = duckdb_data_chunk_get_size(input);
	duckdb_hugeint *out = duckdb_vector_get_data(output);
	uint64_t first = __atomic_fetch_add(&next_row, n, __ATOMIC_RELAXED);
	for (idx_t i = 0; i < n; i++) {
		out[i].upper = (int64_t)(UINT64_C(0x8badf00d12348000) ^ (UINT64_C(1) << 63));
		out[i].lower = (UINT64_C(1) << 63) | (first + i);
	}
}

static int register_row_id(duckdb_connection con)
{
	duckdb_scalar_function f = duckdb_create_scalar_function();
	duckdb_logical_type uuid = duckdb_create_logical_type(DUCKDB_TYPE_UUID);
	duckdb_scalar_function_set_name(f, "ref_row_id");
	duckdb_scalar_function_set_return_type(f, uuid);
	duckdb_scalar_function_set_volatile(f);
	duckdb_scalar_function_set_function(f, row_ids);
	int ok = duckdb_register_scalar_function(con, f) == DuckDBSuccess;
	duckdb_destroy_logical_type(&uuid);
	duckdb_destroy_scalar_function(&f);
	return ok ? 0 : -1;
}

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
	if (duckdb_open(argv[1], &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess ||
	    register_row_id(con) < 0)
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
