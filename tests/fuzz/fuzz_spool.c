/* libFuzzer target: __dango_spool(), the reader of the normalizer's spool
 * files (src/warehouse/spool.c), over any bytes as a file, with columns of
 * every kind it emits. A damaged file must be an error, never a crash. */
#include "warehouse/spool.h"

#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static duckdb_database db;
static duckdb_connection con;
static char path[64], sql[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(path, sizeof(path), "/tmp/dango-fuzz-spool.%d", (int)getpid());
	if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess ||
	    spool_register(&con) < 0)
		abort();
	/* the id columns and five of a table's own, one of each kind, twice
	 * over the same file (the parallel read) */
	snprintf(sql, sizeof(sql),
		 "SELECT * FROM __dango_spool(['%s', '%s'], ['id', 'parent', 'idx', 'b', 'n', 'd', 't', 'j'], "
		 "[0, 1, 2, 3, 4, 5, 6, 7], ['text', 'text', 'bigint', 'bool', 'bigint', 'double', 'text', 'json'])",
		 path, path);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	duckdb_result r;
	duckdb_query(con, sql, &r);
	duckdb_destroy_result(&r);
	unlink(path);
	return 0;
}
