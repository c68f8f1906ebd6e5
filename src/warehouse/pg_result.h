/* PostgreSQL results behind the result API (result.h), so that dango query,
 * the web API and every reader print a PostgreSQL warehouse's rows exactly as
 * they print DuckDB's: the same type names in table headers (int32,
 * decimal(10,2), varchar, timestamp with time zone, int64[] ...) and the same
 * text and JSON for each value (booleans true/false, arrays [1, 2], bytea as
 * DuckDB shows a BLOB, doubles in their shortest round-trip form).
 *
 * A PostgreSQL result is materialized (libpq holds its rows), or streamed a
 * row at a time (libpq's single-row mode, for the web's queries). The
 * accessors of result.c hand over here when r->pg is set; nothing else calls
 * these, except pg_query.c, which makes them (wh_pg_result_take).
 *
 * The wh_text_ helpers are result.c's renderings, shared so that both
 * warehouses quote and format alike. */
#ifndef DANGO_PG_RESULT_H
#define DANGO_PG_RESULT_H
#include "warehouse/result.h"
struct strbuf;

/* Take over res (a PGresult of PGRES_TUPLES_OK or PGRES_COMMAND_OK); conn
 * (a PGconn, may be NULL) answers the names of types not known here. */
void wh_pg_result_take(struct wh_result *r, void *res, void *conn);
/* Make r streamed: res was the first result of a query in single-row mode
 * on conn; wh_pg_next reads the rest, one row a chunk. Freeing r stops the
 * query if it is not read to its end, and rolls back its transaction. */
void wh_pg_result_stream(struct wh_result *r, void *conn);
int wh_pg_next(struct wh_result *r, struct strbuf *err);
void wh_pg_result_free(struct wh_result *r);

const char *wh_pg_name(struct wh_result *r, size_t col);
enum wh_type wh_pg_type(struct wh_result *r, size_t col);
const char *wh_pg_type_name(struct wh_result *r, size_t col);
int wh_pg_is_numeric(struct wh_result *r, size_t col);
int wh_pg_is_status(struct wh_result *r);
int wh_pg_is_null(struct wh_result *r, size_t row, size_t col);
void wh_pg_add_text(struct wh_result *r, size_t row, size_t col, struct strbuf *sb);
void wh_pg_add_json(struct wh_result *r, size_t row, size_t col, struct strbuf *sb);
int wh_pg_get_int(struct wh_result *r, size_t row, size_t col, int64_t *out, int saturate);
double wh_pg_double(struct wh_result *r, size_t row, size_t col);

void wh_text_add_double(struct strbuf *sb, double d, int is_float);
void wh_text_add_blob(struct strbuf *sb, const unsigned char *p, size_t n);
void wh_text_add_quoted_maybe(struct strbuf *sb, const char *s, size_t n, int always);
void wh_text_add_json_str_n(struct strbuf *sb, const char *s, size_t n);

#endif
