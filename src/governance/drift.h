/* Schema drift governance: each raw table's columns and types against a
 * baseline, after every successful sync.
 *
 * Everything lives in the ops-db (.dango/state/dango.sqlite, see
 * state/opsdb.h), not in the warehouse, so that the web page and the
 * scheduler read it while a sync holds DuckDB:
 *
 *   drift_tables     one row per (source, table) with a baseline: when and
 *                    how it was set (first sync, or an accept and by whom)
 *   drift_baselines  the baseline's columns and types
 *   drift_observed   the columns and types the last sync that loaded the
 *                    table saw (what `accept` makes the new baseline)
 *   drift_events     column_added (additive, never blocks), column_removed
 *                    and type_changed (breaking): first seen (load id,
 *                    time), last seen, status open | accepted (by, at)
 *
 * The first sync of a table sets its baseline silently. An open event of
 * the same (table, column, kind) is updated rather than repeated, so a
 * schema that stays changed is one event however many syncs see it.
 *
 * Observed columns are the columns the sync's batches carried (what the
 * source delivered), with the type the raw table has after the load: the
 * loader never drops a column a source stopped sending (old rows keep
 * it), so the table alone would never show a removal.
 *
 * Strings in the structs below are owned by them; `const char *`
 * arguments are borrowed. Functions return 0, or -1 with err set. */
#ifndef DANGO_GOVERNANCE_DRIFT_H
#define DANGO_GOVERNANCE_DRIFT_H
#include <stddef.h>
#include <sqlite3.h>

struct strbuf;
struct strvec;

struct drift_column {
	char *table, *column, *type;
};

/* Columns in order of (table, position). */
struct drift_schema {
	struct drift_column *v;
	size_t nr, alloc;
};
#define DRIFT_SCHEMA_INIT { NULL, 0, 0 }

void drift_schema_add(struct drift_schema *s, const char *table, const char *column, const char *type);
void drift_schema_release(struct drift_schema *s);

struct drift_event {
	long long id;
	char *source, *table, *column;
	char *kind;              /* column_added | column_removed | type_changed */
	char *old_type, *new_type; /* NULL where there is none */
	char *load_id, *first_seen;      /* the load that first saw it, and when (ISO 8601 UTC) */
	char *last_load_id, *last_seen;
	char *status;            /* open | accepted */
	char *accepted_by, *accepted_at;
	int breaking;
};

struct drift_events {
	struct drift_event *v;
	size_t nr, alloc;
};
#define DRIFT_EVENTS_INIT { NULL, 0, 0 }

void drift_events_release(struct drift_events *e);

/* Compare what a sync of `source` (load load_id, at time `at`, ISO 8601)
 * saw with the baselines and record it (one SQLite transaction). Tables
 * without a baseline get one. Events the sync found (new or still open)
 * are appended to found, when given. */
int drift_record_sync(sqlite3 *db, const char *source, const char *load_id, const char *at,
		      const struct drift_schema *observed, struct drift_events *found, struct strbuf *err);

/* The module's tables (CREATE IF NOT EXISTS), on a read-write handle. */
int drift_ensure(sqlite3 *db, struct strbuf *err);

/* Read events: of one source (NULL: all), open ones only unless all.
 * Ordered by source, table, column. A missing ops-db or drift tables
 * read as no events. */
int drift_read_events(sqlite3 *db, const char *source, int all, struct drift_events *out, struct strbuf *err);

/* Baseline (observed = 0) or last observed (1) schema of a source. */
int drift_read_schema(sqlite3 *db, const char *source, int observed, struct drift_schema *out, struct strbuf *err);

/* How and when each table's baseline was set: "table\tset_at\tset_by". */
int drift_read_tables(sqlite3 *db, const char *source, struct strvec *out, struct strbuf *err);

/* Accept: the last observed schema of the source's tables (or of `table`
 * alone) becomes their baseline, and their open events are marked
 * accepted by who at `at`. *nr gets the number of events accepted.
 * -1 when the source (or table) has no recorded schema. */
int drift_accept(sqlite3 *db, const char *source, const char *table, const char *who, const char *at, int *nr,
		 struct strbuf *err);

/* "orders.amount BIGINT -> VARCHAR, orders.currency removed": the
 * breaking events of `source` among ev, in the order given. */
void drift_describe_breaking(struct strbuf *sb, const struct drift_events *ev, const char *source);

#endif
