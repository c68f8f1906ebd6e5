/* A fresh table's rows sent to the PostgreSQL warehouse while DuckDB reads
 * them (issue 19), instead of landing whole in the stage first.
 *
 * When the engine loads a batch that starts a table over (a new table, a
 * full refresh, replace) and is the only batch of its resource in the sync
 * (one file), it hands the batch's SELECT here: the rows are streamed
 * from DuckDB's result chunks into a binary COPY into <table>__dango_new,
 * created on the server in the transaction this opens (the one the publish
 * then ends with the swap, the state, _dlt_loads and the file metadata).
 * The stage keeps the table empty (its columns and the bookkeeping). A
 * failed or killed sync rolls that transaction back: the server is as it
 * was. Any other batch, or a column without a binary encoding, goes
 * through the stage as before. */
#ifndef DANGO_INGEST_LOAD_PG_STREAM_H
#define DANGO_INGEST_LOAD_PG_STREAM_H
#include <stddef.h>
#include <stdint.h>

struct pg_load;
struct pg_conn;
struct strbuf;
struct strvec;
struct sync_batch;
struct sync_job;
struct warehouse;

/* The rows of `SELECT select FROM b->relation` (every column of the stage
 * table schema.table, but those with a column default) streamed to the
 * server: 1 (*rows set), 0 when the batch is not one to stream (nothing
 * done: load it into the stage), -1 with err (DuckDB's message as the
 * stage's INSERT would give it, or the server's). */
int pg_stream_batch(struct pg_load *pl, struct warehouse *stage, struct sync_job *job, const struct sync_batch *b,
		    const char *schema, const char *table, const char *select, int64_t *rows, struct strbuf *err);
/* The load failed: the streamed tables go (ROLLBACK). pl may be NULL. */
void pg_stream_rollback(struct pg_load *pl);

/* For the publish: is the transaction open; the rows streamed into
 * table (0 if none); forget all after the COMMIT or ROLLBACK. */
int pg_stream_in_tx(const struct pg_load *pl);
int64_t pg_stream_rows(const struct pg_load *pl, const char *table);
void pg_stream_reset(struct pg_load *pl);
/* Was table streamed: 1 (*rows set), 0 if not; -1 with err if the stage's
 * table no longer is what was streamed (ncols columns, staged rows in all,
 * stage and stream): the publish then fails rather than lose rows. */
int pg_stream_taken(struct pg_load *pl, const char *table, size_t ncols, int64_t staged, int64_t *rows,
		    struct strbuf *err);
/* Before the COMMIT: every streamed table was taken (0), or -1 with err
 * (a <table>__dango_new must never be committed beside the tables). */
int pg_stream_check_taken(const struct pg_load *pl, struct strbuf *err);

/* From load_pg.c. */
/* COPY target FROM STDIN in binary with the rows of `select` (run on the
 * stage, streamed): 0, -1 with err, or 1 when a column of the result has no
 * binary encoding (nothing was sent). DuckDB's error reading the rows is
 * given as it is (plain_read_error: as the stage's INSERT gives it, for the
 * engine's file:line) or named after the target. */
int pg_load_copy_binary(struct pg_load *pl, const char *select, const char *target, int freeze, int plain_read_error,
			int64_t *rows, struct strbuf *err);
void pg_load_column_defs(struct strbuf *sb, const struct strvec *names, const struct strvec *types);
int pg_load_exec(struct pg_conn *c, const char *sql, struct strbuf *err);

#endif
