/* The files of the dbt-postgres target (pg_target.c, pg_adapter.c,
 * pg_seed.c); not an API for the rest of the program.
 *
 * While dbt_pg_run() runs, p->other_conn is its libpq connection (a
 * PGconn); these functions run on it. Values returned as struct jval are
 * new references (the caller's). */
#ifndef DANGO_TRANSFORM_PG_H
#define DANGO_TRANSFORM_PG_H
#include "transform/dbt.h"

#include <stdint.h>

struct strbuf;

/* --- pg_adapter.c: the adapter object on the live connection ------------------- */
/* Is p's target postgres with its connection open (dbt_pg_run running)? */
int dbt_pg_live(const struct dbt_project *p);
/* Run sql (one statement or several) on the connection; -1 with err. */
int dbt_pg_exec(struct dbt_project *p, const char *sql, struct strbuf *err);
/* The same, *rows getting the rows the statement affected. */
int dbt_pg_exec_count(struct dbt_project *p, const char *sql, int64_t *rows, struct strbuf *err);
/* Take (lock) or release the session advisory lock serializing the builds
 * of schema.name, the key of the built-in materializations' transaction
 * lock (pg_target.c). Outside a transaction: a failed one refuses it. */
int dbt_pg_lock_relation(struct dbt_project *p, const char *schema, const char *name, int lock, struct strbuf *err);
/* The first column of the first row as an integer (0 if none). */
int dbt_pg_query_int(struct dbt_project *p, const char *sql, int64_t *out, struct strbuf *err);
/* Append schema.name's columns to the list out, as api.Column values
 * whose data_type is dbt-postgres' (character varying(10), numeric(28,6),
 * text, integer, ...); none if it does not exist. */
int dbt_pg_columns(struct dbt_project *p, const char *schema, const char *name, struct jval out, struct strbuf *err);
/* Append the relations of schema to the list out (api.Relation values
 * with type table, view or materialized_view), by name. */
int dbt_pg_relations(struct dbt_project *p, const char *database, const char *schema, struct jval out,
		     struct strbuf *err);
/* 'r' table, 'v' view, 0 none: what schema.name is now on the libpq
 * connection c (a PGconn), read from pg_class. */
struct pg_conn;
char dbt_pg_relkind(struct pg_conn *c, const char *schema, const char *name);
/* create schema if not exists on c, in a transaction of its own: a run
 * (or a worker of this run) that loses the race to create it finds it
 * there, which is all it asked for. */
int dbt_pg_ensure_schema(struct pg_conn *c, const char *schema, struct strbuf *err);
/* "table", "view" or NULL: the same on the run's connection, also written
 * into the project's catalog. */
const char *dbt_pg_refresh_kind(struct dbt_project *p, const char *schema, const char *name);

/* The columns of a query and their types as the server names them
 * (format_type: integer, numeric(10,2), character varying(5), ...). */
int dbt_pg_describe(struct dbt_project *p, const char *query, struct strvec *names, struct strvec *types,
		    struct strbuf *err);
/* A unit test's comparison query (unit.c): *rows differing rows, and if
 * any, msg gets them as unit.c prints a diff. */
int dbt_pg_unit_diff(struct dbt_project *p, const char *sql, int64_t *rows, struct strbuf *msg, struct strbuf *err);

/* A batch of microbatch model m->n (microbatch.c) on the calling
 * thread's connection: the first (incremental 0) builds the table as a
 * table model is built, the others merge their rows on the unique_key, as
 * dbt-postgres' microbatch does, each in its own transaction; *rows gets
 * the rows of the batch's range [start, end) of event_time now in the
 * table. -1 with m->err. */
struct mctx;
int dbt_pg_build_batch(struct mctx *m, const char *body, int incremental, const char *event_time, const char *start,
		       const char *end, int64_t *rows);
/* A batch of the concurrent ones (microbatch.c's run_concurrently), on this
 * thread's connection (dbt_other_conn_for_thread): its rows into a
 * temporary table at once, then wait_turn(data) (the batches before it are
 * merged), then merged, in its own transaction. -1 with m->err. */
int dbt_pg_build_batch_concurrent(struct mctx *m, const char *body, const char *event_time, const char *start,
				  const char *end, int64_t *rows, void (*wait_turn)(void *data), void *data);
/* A connection of the run's target for a worker of its own (a PGconn),
 * closed with dbt_pg_close_extra; NULL with err. */
void *dbt_pg_connect_extra(const struct dbt_project *p, struct strbuf *err);
void dbt_pg_close_extra(void *conn);

/* --- pg_extras.c: persist_docs, store_failures ------------------------------- */
/* The descriptions of model or seed n as comments on its relation and its
 * columns (those it has), as persist_docs asks. -1 with err. */
int dbt_pg_persist_docs(struct dbt_project *p, struct dbt_node *n, struct strbuf *err);
/* With store_failures (or store_failures_as table/view), test n's failing
 * rows (body: its compiled query) into <target schema>_dbt_test__audit
 * (or its schema config's schema), replacing what was there. */
int dbt_pg_store_failures(struct dbt_project *p, struct dbt_node *n, const char *body, struct strbuf *err);

/* --- pg_seed.c: seeds ----------------------------------------------------------- */
/* Load seed n's CSV into its table: the file read and typed by duck (an
 * in-memory DuckDB the caller opened, used by one seed after another),
 * as dbt-postgres types seeds (integer, bigint when too
 * big, float8 for decimals, boolean, date, timestamp without time zone,
 * text; column_types as given), sent with COPY ... FROM STDIN. The caller
 * holds the transaction. An existing table is truncated and reloaded
 * (dropped and created again with full_refresh), as dbt-postgres does;
 * *rows gets the rows loaded. -1 with err. */
struct warehouse;
int dbt_pg_seed_load(struct dbt_project *p, struct warehouse *duck, struct dbt_node *n, int full_refresh,
		     int64_t *rows, struct strbuf *err);

#endif
