/* The history of every fire of every schedule, in the ops-db
 * (state/opsdb.h), outside the warehouse: readable while a job holds the
 * warehouse lock. Tables (module "schedule"):
 *
 *   schedule_runs     one row per fire or attempt: schedule, trigger
 *                     (schedule | misfire | retry | manual), scheduled_for,
 *                     started_at, finished_at (epoch seconds on Dango's
 *                     clock), status (running | success | failed | skipped |
 *                     missed | timeout), attempt, rows_loaded, models_run,
 *                     error, log_path, status_path, the job's pid and its
 *                     start time (so a restarted scheduler can tell whether
 *                     it still runs), the scheduler's pid.
 *   schedule_sources  the last successful sync of each source by a schedule
 *                     (for stale notifications).
 *   schedule_notices  the stale notices sent, so that each is sent once.
 *
 * Rows older than the retention (90 days by default) are pruned. */
#ifndef DANGO_SCHEDULE_HISTORY_H
#define DANGO_SCHEDULE_HISTORY_H
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>
struct strbuf;

struct run_row {
	int64_t id;
	const char *schedule;
	const char *trigger;
	int64_t scheduled_for;   /* 0: none (a manual run) */
	int64_t started_at, finished_at;
	const char *status;
	int attempt;
	int64_t rows_loaded, models_run;  /* -1: not known */
	const char *error, *log_path, *status_path;
	int64_t pid, pid_start;
};

int history_open(const char *state_dir, sqlite3 **db, struct strbuf *err);
/* Open read-only; 1 (and *db NULL) when there is no history yet. */
int history_open_readonly(const char *state_dir, sqlite3 **db, struct strbuf *err);
/* Insert r; its id goes to r->id. */
int history_insert(sqlite3 *db, struct run_row *r, struct strbuf *err);
/* Update status, finished_at, rows, models, error, log/status paths, pid of row r->id. */
int history_update(sqlite3 *db, const struct run_row *r, struct strbuf *err);
/* The latest scheduled_for of a schedule's fires (any status), 0 if none. */
int64_t history_last_scheduled(sqlite3 *db, const char *schedule);
/* Rows, newest first, as JSON objects (the caller's); schedule NULL: all. */
json_t *history_list(sqlite3 *db, const char *schedule, int limit);
/* The newest row of a schedule that is not skipped or missed, or NULL. */
json_t *history_last(sqlite3 *db, const char *schedule);
/* The row with this id, or NULL. */
json_t *history_get(sqlite3 *db, int64_t id);
/* Rows still "running" (to reconcile after a crash). */
json_t *history_running(sqlite3 *db);
int history_prune(sqlite3 *db, int64_t before, struct strbuf *err);

void history_source_success(sqlite3 *db, const char *source, int64_t when);
/* Last success of a source, 0 if none. */
int64_t history_source_last_success(sqlite3 *db, const char *source);
/* The stale notice of (schedule, source): the time it was sent, 0 if none. */
int64_t history_notice_get(sqlite3 *db, const char *schedule, const char *source);
void history_notice_set(sqlite3 *db, const char *schedule, const char *source, int64_t when);

#endif
