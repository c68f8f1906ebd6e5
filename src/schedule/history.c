#include "schedule/history.h"
#include "state/opsdb.h"

#include "core/strbuf.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS schedule_runs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, schedule TEXT NOT NULL, trigger TEXT NOT NULL,"
	" scheduled_for INTEGER, started_at INTEGER, finished_at INTEGER, status TEXT NOT NULL,"
	" attempt INTEGER NOT NULL DEFAULT 1, rows_loaded INTEGER, models_run INTEGER, error TEXT,"
	" log_path TEXT, status_path TEXT, pid INTEGER, pid_start INTEGER, scheduler_pid INTEGER);"
	"CREATE INDEX IF NOT EXISTS schedule_runs_by_name ON schedule_runs(schedule, id);"
	"CREATE TABLE IF NOT EXISTS schedule_sources (source TEXT PRIMARY KEY, last_success INTEGER);"
	"CREATE TABLE IF NOT EXISTS schedule_notices (schedule TEXT, source TEXT, sent_at INTEGER,"
	" PRIMARY KEY (schedule, source));";

int history_open(const char *state_dir, sqlite3 **db, struct strbuf *err)
{
	if (opsdb_open(state_dir, db, err) < 0)
		return -1;
	if (opsdb_ensure(*db, "schedule", schema, err) < 0) {
		opsdb_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

int history_open_readonly(const char *state_dir, sqlite3 **db, struct strbuf *err)
{
	if (opsdb_open_readonly(state_dir, db, err) < 0)
		return err->len ? -1 : 1;
	sqlite3_stmt *st;
	/* an ops-db made by another module before any schedule ran */
	if (sqlite3_prepare_v2(*db, "SELECT 1 FROM schedule_runs LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		opsdb_close(*db);
		*db = NULL;
		return 1;
	}
	sqlite3_finalize(st);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_opt(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct strbuf *err)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		strbuf_addf(err, "schedule history: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int history_insert(sqlite3 *db, struct run_row *r, struct strbuf *err)
{
	sqlite3_stmt *st;
	const char *sql = "INSERT INTO schedule_runs (schedule, trigger, scheduled_for, started_at, finished_at, status,"
			  " attempt, rows_loaded, models_run, error, log_path, status_path, pid, pid_start, scheduler_pid)"
			  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addf(err, "schedule history: %s", sqlite3_errmsg(db));
		return -1;
	}
	bind_text(st, 1, r->schedule);
	bind_text(st, 2, r->trigger);
	bind_opt(st, 3, r->scheduled_for, 0);
	bind_opt(st, 4, r->started_at, 0);
	bind_opt(st, 5, r->finished_at, 0);
	bind_text(st, 6, r->status);
	sqlite3_bind_int(st, 7, r->attempt ? r->attempt : 1);
	bind_opt(st, 8, r->rows_loaded, -1);
	bind_opt(st, 9, r->models_run, -1);
	bind_text(st, 10, r->error);
	bind_text(st, 11, r->log_path);
	bind_text(st, 12, r->status_path);
	bind_opt(st, 13, r->pid, 0);
	bind_opt(st, 14, r->pid_start, 0);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)getpid());
	if (step_done(db, st, err) < 0)
		return -1;
	r->id = sqlite3_last_insert_rowid(db);
	return 0;
}

int history_update(sqlite3 *db, const struct run_row *r, struct strbuf *err)
{
	sqlite3_stmt *st;
	const char *sql = "UPDATE schedule_runs SET status = ?, finished_at = ?, rows_loaded = ?, models_run = ?,"
			  " error = ?, log_path = ?, status_path = ?, pid = ?, pid_start = ?, scheduler_pid = ?"
			  " WHERE id = ?";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addf(err, "schedule history: %s", sqlite3_errmsg(db));
		return -1;
	}
	bind_text(st, 1, r->status);
	bind_opt(st, 2, r->finished_at, 0);
	bind_opt(st, 3, r->rows_loaded, -1);
	bind_opt(st, 4, r->models_run, -1);
	bind_text(st, 5, r->error);
	bind_text(st, 6, r->log_path);
	bind_text(st, 7, r->status_path);
	bind_opt(st, 8, r->pid, 0);
	bind_opt(st, 9, r->pid_start, 0);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)getpid());
	sqlite3_bind_int64(st, 11, r->id);
	return step_done(db, st, err);
}

int64_t history_last_scheduled(sqlite3 *db, const char *schedule)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(scheduled_for) FROM schedule_runs WHERE schedule = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	bind_text(st, 1, schedule);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(st);
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i)));
			break;
		case SQLITE_NULL:
			json_object_set_new(o, name, json_null());
			break;
		default:
			json_object_set_new(o, name, json_string((const char *)sqlite3_column_text(st, i)));
		}
	}
	return o;
}

static json_t *query_rows(sqlite3 *db, const char *sql, const char *arg, int limit)
{
	sqlite3_stmt *st;
	json_t *rows = json_array();
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return rows;
	int i = 1;
	if (arg)
		bind_text(st, i++, arg);
	if (limit >= 0)
		sqlite3_bind_int(st, i, limit);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(rows, row_json(st));
	sqlite3_finalize(st);
	return rows;
}

#define COLUMNS                                                                                        \
	"id, schedule, trigger, scheduled_for, started_at, finished_at, status, attempt, rows_loaded," \
	" models_run, error, log_path, status_path, pid, pid_start, scheduler_pid"

json_t *history_list(sqlite3 *db, const char *schedule, int limit)
{
	if (schedule)
		return query_rows(db, "SELECT " COLUMNS " FROM schedule_runs WHERE schedule = ? ORDER BY id DESC LIMIT ?",
				  schedule, limit);
	return query_rows(db, "SELECT " COLUMNS " FROM schedule_runs ORDER BY id DESC LIMIT ?", NULL, limit);
}

json_t *history_last(sqlite3 *db, const char *schedule)
{
	json_t *rows = query_rows(db,
				  "SELECT " COLUMNS " FROM schedule_runs WHERE schedule = ?"
				  " AND status NOT IN ('skipped', 'missed') ORDER BY id DESC LIMIT ?",
				  schedule, 1);
	json_t *r = json_array_size(rows) ? json_incref(json_array_get(rows, 0)) : NULL;
	json_decref(rows);
	return r;
}

json_t *history_get(sqlite3 *db, int64_t id)
{
	char key[32];
	snprintf(key, sizeof(key), "%lld", (long long)id);
	/* the text key takes the INTEGER affinity of id in the comparison */
	json_t *rows = query_rows(db, "SELECT " COLUMNS " FROM schedule_runs WHERE id = ? LIMIT ?", key, 1);
	json_t *r = json_array_size(rows) ? json_incref(json_array_get(rows, 0)) : NULL;
	json_decref(rows);
	return r;
}

json_t *history_running(sqlite3 *db)
{
	return query_rows(db, "SELECT " COLUMNS " FROM schedule_runs WHERE status = 'running' ORDER BY id", NULL, -1);
}

int history_prune(sqlite3 *db, int64_t before, struct strbuf *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "DELETE FROM schedule_runs WHERE status != 'running' AND coalesce(finished_at,"
				   " started_at, scheduled_for) < ?", -1, &st, NULL) != SQLITE_OK) {
		strbuf_addf(err, "schedule history: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, before);
	return step_done(db, st, err);
}

void history_source_success(sqlite3 *db, const char *source, int64_t when)
{
	sqlite3_stmt *st;
	struct strbuf err = STRBUF_INIT;
	if (sqlite3_prepare_v2(db, "INSERT INTO schedule_sources (source, last_success) VALUES (?, ?)"
				   " ON CONFLICT(source) DO UPDATE SET last_success = excluded.last_success", -1, &st,
			       NULL) == SQLITE_OK) {
		bind_text(st, 1, source);
		sqlite3_bind_int64(st, 2, when);
		step_done(db, st, &err);
	}
	strbuf_release(&err);
}

static int64_t one_int(sqlite3 *db, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	bind_text(st, 1, a);
	if (b)
		bind_text(st, 2, b);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int64_t history_source_last_success(sqlite3 *db, const char *source)
{
	return one_int(db, "SELECT last_success FROM schedule_sources WHERE source = ?", source, NULL);
}

int64_t history_notice_get(sqlite3 *db, const char *schedule, const char *source)
{
	return one_int(db, "SELECT sent_at FROM schedule_notices WHERE schedule = ? AND source = ?", schedule, source);
}

void history_notice_set(sqlite3 *db, const char *schedule, const char *source, int64_t when)
{
	sqlite3_stmt *st;
	struct strbuf err = STRBUF_INIT;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO schedule_notices (schedule, source, sent_at) VALUES (?, ?, ?)",
			       -1, &st, NULL) == SQLITE_OK) {
		bind_text(st, 1, schedule);
		bind_text(st, 2, source);
		sqlite3_bind_int64(st, 3, when);
		step_done(db, st, &err);
	}
	strbuf_release(&err);
}
