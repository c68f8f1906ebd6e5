/* The warehouse interface (warehouse.h) on a PostgreSQL warehouse: readers
 * and writers open it with pg_query_open, and warehouse.c hands every call on
 * a struct warehouse whose pg is set over to the functions below.
 *
 * A read-only warehouse runs every statement in a read-only transaction
 * (default_transaction_read_only, and BEGIN READ ONLY around user SQL) with a
 * statement timeout; PostgreSQL itself refuses writes ("cannot execute INSERT
 * in a read-only transaction"). Readers take no lock: PostgreSQL's MVCC lets
 * them read while a sync or dbt writes. */
#ifndef DANGO_PG_QUERY_H
#define DANGO_PG_QUERY_H
#include "warehouse/warehouse.h"
struct project;

/* Connect wh to p's PostgreSQL warehouse; timeout_s > 0 bounds each
 * statement of a read-only session (0: none). -1 with err. */
int pg_query_open(struct warehouse *wh, const struct project *p, enum wh_mode mode, int timeout_s,
		  struct strbuf *err);

void pg_query_close(struct warehouse *wh);
int pg_query_run(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err);
/* One statement (user SQL: the web's queries), in a read-only transaction
 * when wh is read-only; a second statement is refused by the server. */
int pg_query_one(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err);
/* The same, its rows streamed (wh_result_next), for the web's queries. */
int pg_query_stream(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err);
int pg_query_each(struct warehouse *wh, const char *sql, int (*each)(struct wh_result *r, void *data), void *data,
		  struct strbuf *err);
int pg_query_describe(struct warehouse *wh, const char *what, struct strvec *names, struct strvec *types,
		      struct strbuf *err);

/* The statements of sql, split at the semicolons outside quotes ('', "",
 * $tag$ $tag$), comments and parentheses; blank ones are left out. For tests. */
void pg_split_statements(const char *sql, struct strvec *out);

#endif
