/* __dango_row_id(): the _dlt_id of a loaded row, cheap to make and to store.
 *
 * A random UUID per row (gen_random_uuid) cannot be compressed: at 5M rows
 * it more than doubles the warehouse file (24 -> 57 MB for 2M rows) and
 * its write time. This id is a UUID (version 8, RFC 9562 variant) whose
 * first 64 bits are random, drawn once per opened warehouse, and whose last
 * 62 bits count the rows made through it: unique within the process (one
 * counter, taken a chunk of rows at a time), across processes and loads by
 * the random half, and almost constant from row to row, so that DuckDB
 * stores it in a few bits. */
#ifndef DANGO_ROW_ID_H
#define DANGO_ROW_ID_H

/* Registers __dango_row_id() on a DuckDB connection (a duckdb_connection *);
 * 0, or -1 when DuckDB refused it. */
int row_id_register(void *con);

#endif
