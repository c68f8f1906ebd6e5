/* The views that depend on a table of a PostgreSQL warehouse, set aside
 * while the table is swapped for a new one (a full refresh, write
 * disposition replace) and rebuilt on the new table, in the same
 * transaction.
 *
 * PostgreSQL binds a view to the table's identity, not to its name: the old
 * table cannot be dropped while a view reads it (and, renamed to a backup,
 * it would take its views along). So before the swap every view and
 * materialized view that reads the table, directly or through other views
 * (pg_depend through pg_rewrite, recursively), is locked, its definition
 * and what hangs on it are saved as SQL (pg_get_viewdef with the names
 * schema-qualified, options, owner, comments, column defaults, grants,
 * INSTEAD OF triggers, rules, a materialized view's indexes), and the views
 * are dropped, deepest first. After the swap they are created again in
 * dependency order. A view that no longer fits the new columns fails the
 * statement: the caller rolls the whole transaction back, so nothing is
 * lost, and the error names the view and the source.
 *
 * What is not carried over: security labels, publications, a view's
 * dependents that are not views (a function with a SQL-standard body that
 * reads it: the drop then fails with PostgreSQL's message). A view written
 * with SELECT * keeps the columns it had (PostgreSQL stores the expanded
 * list), where DuckDB would pick up new ones.
 *
 * Strings in struct pg_dependents are owned by it (pg_dependents_release). */
#ifndef DANGO_INGEST_PG_DEPENDENTS_H
#define DANGO_INGEST_PG_DEPENDENTS_H
#include "core/strvec.h"
#include <stddef.h>

struct pg_conn; /* libpq's PGconn */
struct strbuf;

struct pg_dependents {
	struct strvec views; /* "schema"."view" of each saved statement, parallel to sql */
	struct strvec sql;   /* the statements that rebuild them, in order */
	char *table;         /* "schema"."table" they were read from */
	size_t nr;           /* views set aside */
};
#define PG_DEPENDENTS_INIT { STRVEC_INIT, STRVEC_INIT, NULL, 0 }

/* Inside the caller's transaction: lock, save and drop the views that
 * depend on schema.table (none: d->nr == 0, nothing done). 0, or -1 with
 * err (the transaction must then be rolled back). */
int pg_dependents_detach(struct pg_conn *c, const char *schema, const char *table, struct pg_dependents *d,
			 struct strbuf *err);

/* Create them again, on the relation now named as the table. source names
 * the sync's source in the message of a view that no longer fits. 0, or -1
 * with err (roll back). */
int pg_dependents_restore(struct pg_conn *c, struct pg_dependents *d, const char *source, struct strbuf *err);

void pg_dependents_release(struct pg_dependents *d);

#endif
