/* Query results, read through DuckDB's data-chunk/vector API: the one place
 * where values come out of the warehouse (dango query, run_query in models,
 * introspection, the web API).
 *
 * A result is either materialized (warehouse_query: every chunk is kept, and
 * cells are read by (row, col)) or streamed (warehouse_query_stream: one chunk
 * at a time; wh_result_next loads the next one, and (row, col) index the
 * current chunk). The accessors are the same for both.
 *
 * Every DuckDB type has a text rendering, the one the duckdb CLI shows (it is
 * DuckDB's CAST(x AS VARCHAR)): numbers, decimals and 128-bit integers exactly,
 * doubles in their shortest round-trip form, dates with "(BC)", TIMESTAMPTZ in
 * the session's time zone, and nested values (LIST, ARRAY, STRUCT, MAP, UNION)
 * with DuckDB's quoting of their strings. The JSON rendering gives JSON types:
 * numbers as numbers (HUGEINT and DECIMAL digit for digit), lists and arrays
 * as arrays, structs and maps as objects, NULL as null, JSON values as they
 * are, everything else (BLOB, dates, UUIDs, ...) as a string of its text.
 *
 * Ownership: names and type names are borrowed from the result; a returned
 * char * is the caller's to free. */
#ifndef DANGO_RESULT_H
#define DANGO_RESULT_H
#include <stddef.h>
#include <stdint.h>
struct strbuf;

enum wh_type { WH_T_NULL, WH_T_BOOL, WH_T_INT, WH_T_FLOAT, WH_T_TEXT, WH_T_OTHER };

struct wh_result {
	void *impl;         /* struct wh_result_impl (result.c) */
	void *pg;           /* or a PostgreSQL result: struct wh_pg_result (pg_result.c) */
	size_t rows, cols;  /* streamed: the rows of the current chunk */
};

/* For warehouse.c: take over a duckdb_result (*res is the caller's
 * duckdb_result, copied and owned by r from now on). Materialized unless
 * streaming; time_zone is the session's TimeZone, for TIMESTAMPTZ values
 * (NULL: UTC). Returns < 0 with err set if reading the result failed. */
int wh_result_take(struct wh_result *r, void *res, int streaming, const char *time_zone, struct strbuf *err);
/* Does any column hold TIMESTAMPTZ values (at any depth)? */
int wh_result_needs_time_zone(struct wh_result *r);
void wh_result_set_time_zone(struct wh_result *r, const char *time_zone);

/* Streamed results: load the next chunk. 1 if it has rows, 0 at the end,
 * < 0 on error (a materialized result: 0). */
int wh_result_next(struct wh_result *r, struct strbuf *err);

void wh_result_free(struct wh_result *r);

const char *wh_result_name(struct wh_result *r, size_t col);
enum wh_type wh_result_type(struct wh_result *r, size_t col);
/* The column's type as the duckdb CLI's box header shows it ("int64",
 * "decimal(5,2)", "varchar[]", "struct(a int32)"). */
const char *wh_result_type_name(struct wh_result *r, size_t col);
/* Numbers (integers, floats, decimals): right-aligned in tables. */
int wh_result_is_numeric(struct wh_result *r, size_t col);

/* Is this a statement's status rather than rows: the "Count" of an INSERT,
 * UPDATE, DELETE or CREATE TABLE AS, the "Success" of BEGIN, SET, CHECKPOINT
 * (the duckdb CLI prints neither)? */
int wh_result_is_status(struct wh_result *r);

int wh_result_is_null(struct wh_result *r, size_t row, size_t col);
/* The cell as text, or NULL for SQL NULL; the caller frees it. */
char *wh_result_str(struct wh_result *r, size_t row, size_t col);
/* Append the cell's text ("NULL" for SQL NULL) or its JSON. */
void wh_result_add_text(struct wh_result *r, size_t row, size_t col, struct strbuf *sb);
void wh_result_add_json(struct wh_result *r, size_t row, size_t col, struct strbuf *sb);
/* Integers, booleans and decimals (truncated) as int64; 0 for NULL and
 * other types; saturated if out of range. */
int64_t wh_result_int(struct wh_result *r, size_t row, size_t col);
/* The same, but < 0 when the value is not an integer that fits in int64. */
int wh_result_get_int(struct wh_result *r, size_t row, size_t col, int64_t *out);
/* Numbers as double (NAN for NULL and other types). */
double wh_result_double(struct wh_result *r, size_t row, size_t col);

/* For pg_copy_binary.c only: the duckdb_result (duckdb_result *) of a
 * DuckDB result, and a streamed result's current duckdb_data_chunk (NULL
 * before the first wh_result_next or after the last). */
void *wh_result_duck_result(struct wh_result *r);
void *wh_result_duck_chunk(struct wh_result *r);

#endif
