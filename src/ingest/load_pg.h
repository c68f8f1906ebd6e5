/* Loading into a PostgreSQL warehouse (project.yml warehouse: {type: postgres}).
 *
 * The sync engine stays as it is for DuckDB and runs against a staging
 * DuckDB in memory: this module first copies each source's schema there
 * from PostgreSQL (the bookkeeping tables with their rows, the data tables
 * empty, with their columns), so that the engine reads the state and checks
 * schemas as it would in a DuckDB warehouse. After the engine has loaded a
 * source into the stage, pg_load_publish sends what the stage holds to
 * PostgreSQL in ONE transaction: rows with COPY FROM STDIN (CSV written by
 * DuckDB into a pipe), full refresh and replace as a new table swapped in,
 * merge through a temporary table (DELETE ... USING, INSERT), and the state,
 * _dlt_loads and file metadata beside them. A killed sync leaves PostgreSQL
 * as it was. A one-file batch that starts a table over skips the stage:
 * its rows stream to the server while DuckDB reads them, in the same
 * transaction, opened at that batch (load_pg_stream.h).
 *
 * Types (pg_types.h): each DuckDB type has its PostgreSQL one. Where
 * that does not say the DuckDB type (UTINYINT and SMALLINT are both
 * smallint, STRUCT and MAP are jsonb, TIMESTAMP_S is timestamp), the
 * column's comment on the server does ("dango: DuckDB type UTINYINT"), so
 * that the stage of the next sync has the types of the last: a re-sync of
 * an unchanged source is no schema change. A type the engine changes
 * (--allow-schema-changes) is altered on the server too.
 *
 * Each source is guarded by a session advisory lock on the server (keyed on
 * its schema name), not by the project's file lock: syncs of different
 * sources run at once; a second sync of the same source waits or fails.
 */
#ifndef DANGO_INGEST_LOAD_PG_H
#define DANGO_INGEST_LOAD_PG_H
#include "ingest/pg_types.h" /* pg_load_pg_type, pg_load_duck_type */
#include "warehouse/warehouse.h"

struct project;
struct sync_job;
struct strbuf;
struct pg_conn;
struct pg_stream;

struct pg_load {
	struct pg_conn *conn;     /* holds the advisory locks */
	struct warehouse stage;   /* in-memory DuckDB the engine loads into */
	const struct project *project;
	char *tmp_dir;            /* pipes for COPY */
	int stage_open;
	struct pg_stream *stream; /* tables sent while the engine read them (load_pg_stream.h) */
};

/* Connect, take the advisory lock of every source (in name order, waiting
 * up to wait_seconds; on_wait told once), open the stage and copy each
 * source's schema into it. 0; -1 with err; -2 when a lock was not had in
 * time (err names the source). */
int pg_load_open(struct pg_load *pl, const struct project *p, const char *const *sources, size_t nr,
		 int wait_seconds, void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err);
/* Send the stage's rows of job's source to PostgreSQL in one transaction.
 * 0, or -1 with err (rolled back: PostgreSQL is as it was). */
int pg_load_publish(struct pg_load *pl, struct sync_job *job, struct strbuf *err);
/* The advisory lock a sync of source takes, on connection c (a session
 * lock, held until c closes), for other writers of the source's tables
 * (dango state set/reset): as pg_load_open, 0, -1 or -2 with err. */
int pg_load_lock_source(struct pg_conn *c, const struct project *p, const char *source, int wait_seconds,
			void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err);
/* Close the stage and the connection (which releases the locks). */
void pg_load_close(struct pg_load *pl);

#endif
