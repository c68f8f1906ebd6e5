/* PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT binary)),
 * written straight from the data chunks of a streamed DuckDB result.
 *
 * The server then parses no text: a uuid travels as its 16 bytes, a
 * timestamp as its 8, a number in its binary form. Binary COPY is strict:
 * each field must be the binary form of the target column's own type, so
 * the encoder only applies where the target's columns are the types
 * pg_load_pg_type gives for the result's columns (a table the load
 * created), and it refuses a result with a column it has no encoding for
 * (lists, structs, ENUM, BIT, TIME WITH TIME ZONE, nanosecond times...): the
 * caller sends that one as CSV.
 *
 * Encodings (PostgreSQL's *_send functions): integers big-endian (DuckDB's
 * unsigned and 8-bit types widened as pg_load_pg_type widens them), floats
 * as their IEEE bits, DECIMAL / HUGEINT / UBIGINT as numeric (base-10000
 * digits), dates as days and timestamps as microseconds since 2000-01-01
 * (DuckDB's infinities to PostgreSQL's), uuid as 16 bytes, JSON as jsonb
 * (version 1 and its text), VARCHAR and BLOB as their bytes, INTERVAL as
 * (microseconds, days, months). */
#ifndef DANGO_PG_COPY_BINARY_H
#define DANGO_PG_COPY_BINARY_H
#include <stddef.h>

struct strbuf;
struct wh_result;

struct pgbin {
	size_t ncols;
	struct pgbin_col *cols;
};

/* Prepare for the columns of r, a streamed DuckDB result: 0, or -1 with why
 * naming the first column without an encoding. pgbin_release after. */
int pgbin_init(struct pgbin *e, struct wh_result *r, struct strbuf *why);
void pgbin_release(struct pgbin *e);

/* The format's header (before the first row) and trailer (after the last). */
void pgbin_add_header(struct strbuf *sb);
void pgbin_add_trailer(struct strbuf *sb);
/* The rows of r's current chunk (after wh_result_next returned 1). */
void pgbin_add_chunk(struct pgbin *e, struct wh_result *r, struct strbuf *sb);

#endif
