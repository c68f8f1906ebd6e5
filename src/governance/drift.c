#include "governance/drift.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "state/opsdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS drift_tables (source TEXT NOT NULL, table_name TEXT NOT NULL, "
	"set_at TEXT NOT NULL, set_by TEXT NOT NULL, load_id TEXT, PRIMARY KEY (source, table_name));"
	"CREATE TABLE IF NOT EXISTS drift_baselines (source TEXT NOT NULL, table_name TEXT NOT NULL, "
	"column_name TEXT NOT NULL, data_type TEXT NOT NULL, position INTEGER NOT NULL, "
	"PRIMARY KEY (source, table_name, column_name));"
	"CREATE TABLE IF NOT EXISTS drift_observed (source TEXT NOT NULL, table_name TEXT NOT NULL, "
	"column_name TEXT NOT NULL, data_type TEXT NOT NULL, position INTEGER NOT NULL, load_id TEXT, seen_at TEXT, "
	"PRIMARY KEY (source, table_name, column_name));"
	"CREATE TABLE IF NOT EXISTS drift_events (id INTEGER PRIMARY KEY, source TEXT NOT NULL, "
	"table_name TEXT NOT NULL, column_name TEXT NOT NULL, kind TEXT NOT NULL, old_type TEXT, new_type TEXT, "
	"breaking INTEGER NOT NULL, load_id TEXT, first_seen TEXT NOT NULL, last_load_id TEXT, last_seen TEXT, "
	"status TEXT NOT NULL DEFAULT 'open', accepted_by TEXT, accepted_at TEXT);"
	"CREATE INDEX IF NOT EXISTS drift_events_open ON drift_events (source, status);";

int drift_ensure(sqlite3 *db, struct strbuf *err)
{
	return opsdb_ensure(db, "drift", schema_sql, err);
}

void drift_schema_add(struct drift_schema *s, const char *table, const char *column, const char *type)
{
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	s->v[s->nr].table = xstrdup(table);
	s->v[s->nr].column = xstrdup(column);
	s->v[s->nr].type = xstrdup(type ? type : "");
	s->nr++;
}

void drift_schema_release(struct drift_schema *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->v[i].table);
		free(s->v[i].column);
		free(s->v[i].type);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void event_release(struct drift_event *e)
{
	free(e->source);
	free(e->table);
	free(e->column);
	free(e->kind);
	free(e->old_type);
	free(e->new_type);
	free(e->load_id);
	free(e->first_seen);
	free(e->last_load_id);
	free(e->last_seen);
	free(e->status);
	free(e->accepted_by);
	free(e->accepted_at);
}

void drift_events_release(struct drift_events *e)
{
	for (size_t i = 0; i < e->nr; i++)
		event_release(&e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* ---- SQLite helpers ------------------------------------------------------------ */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct strbuf *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		strbuf_addf(err, "operational metadata: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void bind_texts(sqlite3_stmt *st, int n, const char *const *v)
{
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT);
}

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* Run a statement without results; text parameters in v. */
static int run(sqlite3 *db, const char *sql, int n, const char *const *v, struct strbuf *err)
{
	sqlite3_stmt *st;
	if (prepare(db, sql, &st, err) < 0)
		return -1;
	bind_texts(st, n, v);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		strbuf_addf(err, "operational metadata: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Does the drift schema exist (a read-only handle cannot create it)? */
static int have_tables(sqlite3 *db)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'drift_events'", -1,
			       &st, NULL) != SQLITE_OK)
		return 0;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* ---- reading --------------------------------------------------------------------- */

static int read_schema(sqlite3 *db, const char *source, const char *table, int observed, struct drift_schema *out,
		       struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *st;
	int ret = -1, rc;
	strbuf_addf(&sql, "SELECT table_name, column_name, data_type FROM %s WHERE source = ?1%s "
		    "ORDER BY table_name, position",
		    observed ? "drift_observed" : "drift_baselines", table ? " AND table_name = ?2" : "");
	if (prepare(db, sql.buf, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
	if (table)
		sqlite3_bind_text(st, 2, table, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		drift_schema_add(out, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
				 (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		strbuf_addf(err, "operational metadata: %s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&sql);
	return ret;
}

int drift_read_schema(sqlite3 *db, const char *source, int observed, struct drift_schema *out, struct strbuf *err)
{
	if (!have_tables(db))
		return 0;
	return read_schema(db, source, NULL, observed, out, err);
}

int drift_read_tables(sqlite3 *db, const char *source, struct strvec *out, struct strbuf *err)
{
	sqlite3_stmt *st;
	int rc;
	if (!have_tables(db))
		return 0;
	if (prepare(db, "SELECT table_name, set_at, set_by FROM drift_tables WHERE source = ?1 ORDER BY table_name", &st,
		    err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strvec_pushf(out, "%s\t%s\t%s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			     sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		strbuf_addf(err, "operational metadata: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

#define EVENT_COLS                                                                                              \
	"id, source, table_name, column_name, kind, old_type, new_type, load_id, first_seen, last_load_id, "      \
	"last_seen, status, accepted_by, accepted_at, breaking"

static void event_from_row(struct drift_event *e, sqlite3_stmt *st)
{
	e->id = sqlite3_column_int64(st, 0);
	e->source = col_str(st, 1);
	e->table = col_str(st, 2);
	e->column = col_str(st, 3);
	e->kind = col_str(st, 4);
	e->old_type = col_str(st, 5);
	e->new_type = col_str(st, 6);
	e->load_id = col_str(st, 7);
	e->first_seen = col_str(st, 8);
	e->last_load_id = col_str(st, 9);
	e->last_seen = col_str(st, 10);
	e->status = col_str(st, 11);
	e->accepted_by = col_str(st, 12);
	e->accepted_at = col_str(st, 13);
	e->breaking = sqlite3_column_int(st, 14);
}

static int read_events_where(sqlite3 *db, const char *where, int n, const char *const *v, struct drift_events *out,
			     struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *st;
	int rc, ret = -1;
	strbuf_addf(&sql, "SELECT " EVENT_COLS " FROM drift_events WHERE %s ORDER BY source, table_name, column_name, id",
		    where);
	if (prepare(db, sql.buf, &st, err) < 0)
		goto out;
	bind_texts(st, n, v);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		memset(&out->v[out->nr], 0, sizeof(out->v[0]));
		event_from_row(&out->v[out->nr++], st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		strbuf_addf(err, "operational metadata: %s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&sql);
	return ret;
}

int drift_read_events(sqlite3 *db, const char *source, int all, struct drift_events *out, struct strbuf *err)
{
	struct strbuf where = STRBUF_INIT;
	const char *v[1] = { source };
	if (!have_tables(db))
		return 0;
	strbuf_addstr(&where, source ? "source = ?1" : "1");
	if (!all)
		strbuf_addstr(&where, " AND status = 'open'");
	int ret = read_events_where(db, where.buf, source ? 1 : 0, v, out, err);
	strbuf_release(&where);
	return ret;
}

/* ---- recording a sync ------------------------------------------------------------ */

static const struct drift_column *find_col(const struct drift_schema *s, size_t from, size_t to, const char *column)
{
	for (size_t i = from; i < to; i++)
		if (!strcmp(s->v[i].column, column))
			return &s->v[i];
	return NULL;
}

/* Record one change: a new open event, or the open event of the same
 * (table, column, kind) brought up to date. */
static int note_event(sqlite3 *db, const char *source, const char *table, const char *column, const char *kind,
		      const char *old_type, const char *new_type, const char *load_id, const char *at,
		      struct drift_events *found, struct strbuf *err)
{
	const char *key[4] = { source, table, column, kind };
	struct drift_events have = DRIFT_EVENTS_INIT;
	int breaking = strcmp(kind, "column_added") != 0, ret = -1;
	if (read_events_where(db, "source = ?1 AND table_name = ?2 AND column_name = ?3 AND kind = ?4 AND status = 'open'",
			      4, key, &have, err) < 0)
		goto out;
	if (have.nr) {
		char id[32];
		snprintf(id, sizeof(id), "%lld", have.v[0].id);
		const char *v[4] = { new_type, load_id, at, id };
		if (run(db, "UPDATE drift_events SET new_type = ?1, last_load_id = ?2, last_seen = ?3 WHERE id = ?4", 4, v,
			err) < 0)
			goto out;
	} else {
		const char *v[9] = { source, table, column, kind, old_type, new_type, breaking ? "1" : "0", load_id, at };
		if (run(db, "INSERT INTO drift_events (source, table_name, column_name, kind, old_type, new_type, breaking, "
			    "load_id, first_seen, last_load_id, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?9)",
			9, v, err) < 0)
			goto out;
	}
	if (found) {
		drift_events_release(&have);
		if (read_events_where(db, "source = ?1 AND table_name = ?2 AND column_name = ?3 AND kind = ?4 AND status = 'open'",
				      4, key, found, err) < 0)
			goto out;
	}
	ret = 0;
out:
	drift_events_release(&have);
	return ret;
}

/* Replace the stored columns of one table (baseline or observed). */
static int store_columns(sqlite3 *db, const char *which, const char *source, const struct drift_schema *s,
			 size_t from, size_t to, const char *load_id, const char *at, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	const char *del[2] = { source, s->v[from].table };
	int ret = -1;
	strbuf_addf(&sql, "DELETE FROM %s WHERE source = ?1 AND table_name = ?2", which);
	if (run(db, sql.buf, 2, del, err) < 0)
		goto out;
	for (size_t i = from; i < to; i++) {
		char pos[24];
		snprintf(pos, sizeof(pos), "%zu", i - from + 1);
		strbuf_reset(&sql);
		if (!strcmp(which, "drift_observed")) {
			const char *v[7] = { source, s->v[i].table, s->v[i].column, s->v[i].type, pos, load_id, at };
			strbuf_addstr(&sql, "INSERT INTO drift_observed VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
			if (run(db, sql.buf, 7, v, err) < 0)
				goto out;
		} else {
			const char *v[5] = { source, s->v[i].table, s->v[i].column, s->v[i].type, pos };
			strbuf_addstr(&sql, "INSERT INTO drift_baselines VALUES (?1, ?2, ?3, ?4, ?5)");
			if (run(db, sql.buf, 5, v, err) < 0)
				goto out;
		}
	}
	ret = 0;
out:
	strbuf_release(&sql);
	return ret;
}

static int table_has_baseline(sqlite3 *db, const char *source, const char *table, int *has, struct strbuf *err)
{
	sqlite3_stmt *st;
	if (prepare(db, "SELECT 1 FROM drift_tables WHERE source = ?1 AND table_name = ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, table, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		strbuf_addf(err, "operational metadata: %s", sqlite3_errmsg(db));
		return -1;
	}
	*has = rc == SQLITE_ROW;
	return 0;
}

/* One table's observed columns, s->v[from..to), against its baseline. */
static int record_table(sqlite3 *db, const char *source, const struct drift_schema *obs, size_t from, size_t to,
			const char *load_id, const char *at, struct drift_events *found, struct strbuf *err)
{
	const char *table = obs->v[from].table;
	struct drift_schema base = DRIFT_SCHEMA_INIT;
	int has, ret = -1;
	if (table_has_baseline(db, source, table, &has, err) < 0)
		goto out;
	if (!has) {
		/* the first sync of a table: its schema is the baseline, silently */
		const char *v[4] = { source, table, at, load_id };
		if (run(db, "INSERT INTO drift_tables VALUES (?1, ?2, ?3, 'first sync', ?4)", 4, v, err) < 0 ||
		    store_columns(db, "drift_baselines", source, obs, from, to, NULL, NULL, err) < 0)
			goto out;
	} else {
		if (read_schema(db, source, table, 0, &base, err) < 0)
			goto out;
		for (size_t i = from; i < to; i++) {
			const struct drift_column *o = &obs->v[i], *b = find_col(&base, 0, base.nr, o->column);
			if (!b) {
				if (note_event(db, source, table, o->column, "column_added", NULL, o->type, load_id, at, found,
					       err) < 0)
					goto out;
			} else if (strcmp(b->type, o->type)) {
				if (note_event(db, source, table, o->column, "type_changed", b->type, o->type, load_id, at,
					       found, err) < 0)
					goto out;
			}
		}
		for (size_t i = 0; i < base.nr; i++) {
			const struct drift_column *b = &base.v[i];
			if (!find_col(obs, from, to, b->column) &&
			    note_event(db, source, table, b->column, "column_removed", b->type, NULL, load_id, at, found,
				       err) < 0)
				goto out;
		}
	}
	if (store_columns(db, "drift_observed", source, obs, from, to, load_id, at, err) < 0)
		goto out;
	ret = 0;
out:
	drift_schema_release(&base);
	return ret;
}

int drift_record_sync(sqlite3 *db, const char *source, const char *load_id, const char *at,
		      const struct drift_schema *observed, struct drift_events *found, struct strbuf *err)
{
	if (drift_ensure(db, err) < 0)
		return -1;
	if (opsdb_exec(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	/* observed is grouped by table (the hook builds it so) */
	for (size_t from = 0, to; from < observed->nr; from = to) {
		for (to = from + 1; to < observed->nr && !strcmp(observed->v[to].table, observed->v[from].table); to++)
			;
		if (record_table(db, source, observed, from, to, load_id, at, found, err) < 0) {
			opsdb_exec(db, "ROLLBACK", err);
			return -1;
		}
	}
	return opsdb_exec(db, "COMMIT", err);
}

/* ---- accepting -------------------------------------------------------------------- */

int drift_accept(sqlite3 *db, const char *source, const char *table, const char *who, const char *at, int *nr,
		 struct strbuf *err)
{
	struct strvec tables = STRVEC_INIT;
	struct drift_schema obs = DRIFT_SCHEMA_INIT;
	int ret = -1, began = 0;
	*nr = 0;
	if (drift_ensure(db, err) < 0)
		goto out;
	if (drift_read_tables(db, source, &tables, err) < 0)
		goto out;
	if (!tables.nr) {
		strbuf_addf(err, "no schema recorded for source '%s' (it has not been synced since governance began)",
			    source);
		goto out;
	}
	if (table) {
		int has = 0;
		for (size_t i = 0; i < tables.nr && !has; i++)
			has = !strncmp(tables.v[i], table, strlen(table)) && tables.v[i][strlen(table)] == '\t';
		if (!has) {
			strbuf_addf(err, "source '%s' has no table '%s' with a recorded schema", source, table);
			goto out;
		}
	}
	if (opsdb_exec(db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	began = 1;
	if (read_schema(db, source, table, 1, &obs, err) < 0)
		goto out;
	struct strbuf by = STRBUF_INIT;
	strbuf_addf(&by, "accepted by %s", who);
	for (size_t from = 0, to; from < obs.nr; from = to) {
		for (to = from + 1; to < obs.nr && !strcmp(obs.v[to].table, obs.v[from].table); to++)
			;
		const char *v[4] = { by.buf, at, source, obs.v[from].table };
		if (store_columns(db, "drift_baselines", source, &obs, from, to, NULL, NULL, err) < 0 ||
		    run(db, "UPDATE drift_tables SET set_by = ?1, set_at = ?2, load_id = NULL WHERE source = ?3 AND table_name = ?4",
			4, v, err) < 0) {
			strbuf_release(&by);
			goto out;
		}
	}
	strbuf_release(&by);
	const char *v[4] = { who, at, source, table };
	if (run(db, table ? "UPDATE drift_events SET status = 'accepted', accepted_by = ?1, accepted_at = ?2 "
			    "WHERE source = ?3 AND table_name = ?4 AND status = 'open'"
			  : "UPDATE drift_events SET status = 'accepted', accepted_by = ?1, accepted_at = ?2 "
			    "WHERE source = ?3 AND status = 'open'",
		table ? 4 : 3, v, err) < 0)
		goto out;
	*nr = sqlite3_changes(db);
	if (opsdb_exec(db, "COMMIT", err) < 0)
		goto out;
	began = 0;
	ret = 0;
out:
	if (began)
		opsdb_exec(db, "ROLLBACK", err);
	strvec_clear(&tables);
	drift_schema_release(&obs);
	return ret;
}

void drift_describe_breaking(struct strbuf *sb, const struct drift_events *ev, const char *source)
{
	int first = 1;
	for (size_t i = 0; i < ev->nr; i++) {
		const struct drift_event *e = &ev->v[i];
		if (!e->breaking || strcmp(e->status, "open") || (source && strcmp(e->source, source)))
			continue;
		strbuf_addf(sb, "%s%s.%s ", first ? "" : ", ", e->table, e->column);
		if (!strcmp(e->kind, "type_changed"))
			strbuf_addf(sb, "%s -> %s", e->old_type, e->new_type);
		else
			strbuf_addstr(sb, "removed");
		first = 0;
	}
}
