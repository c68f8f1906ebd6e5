/* The scheduler: fires the schedules of .dango/schedules.yml on Dango's
 * clock (core/clock.h) and runs their jobs (job.h) as child processes,
 * several at once; the warehouse lock serializes the writers among them.
 *
 * `dango scheduler` drives it from its main thread; `dango web` may run it
 * on a thread of its own. The API:
 *
 *   scheduler_open()    load the project and schedules, take the scheduler
 *                       lock (.dango/state/scheduler.lock: one scheduler a
 *                       project), close history rows left "running" by a
 *                       scheduler that died (or watch their jobs if they
 *                       still run), and run or record the fires missed
 *                       while no scheduler ran (misfire_grace_time)
 *   scheduler_run()     the loop; returns once stopped and its jobs ended
 *   scheduler_stop()    first call: start no new job, return when the
 *                       running ones end; force (or a second call): kill
 *                       the running jobs' process groups, recording them
 *                       failed. Async-signal-safe (it sets flags).
 *   scheduler_reload()  re-read schedules.yml and sources.yml at the next
 *                       tick (also done when either file changes); a
 *                       broken file keeps the schedules loaded before and
 *                       logs why. Async-signal-safe.
 *   scheduler_run_now() fire a schedule now (trigger "manual"), as the web
 *                       page's button does; thread-safe.
 *   scheduler_list()    each schedule with its next fire time and last
 *                       result, as JSON (the caller's); thread-safe.
 *   scheduler_close()   release everything, the lock too.
 *
 * Each fire is a history row (history.h); a fire of a schedule whose
 * previous run still runs is recorded as skipped, never queued. A failed
 * or timed-out run is retried after backoff_seconds (doubling) up to
 * retries.max times; notifications (notify.h) follow the final outcome.
 * Log lines go to the log callback, by default stdout and
 * .dango/logs/scheduler.log. */
#ifndef DANGO_SCHEDULE_SCHEDULER_H
#define DANGO_SCHEDULE_SCHEDULER_H
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>
struct strbuf;
struct schedule_list;

struct scheduler_opts {
	const char *root;   /* the project folder (holding .dango/) */
	const char *exe;    /* the dango binary; NULL: this process's own */
	/* each log line (no newline); NULL: stdout and .dango/logs/scheduler.log */
	void (*log)(void *data, const char *line);
	void *log_data;
	/* `dango schedule run NAME`: run this one schedule now, in the
	 * foreground (its output copied to stdout), through the same fire,
	 * retry and notification code, then return from scheduler_run. No
	 * scheduler lock is taken and nothing else fires. */
	const char *only;
};

struct scheduler;

/* 0, or -1 with a message (another scheduler runs, a broken schedules.yml). */
int scheduler_open(struct scheduler **s, const struct scheduler_opts *o, struct strbuf *err);
/* 0 when every job ended by itself, 1 when a forced stop killed one. */
int scheduler_run(struct scheduler *s);
void scheduler_stop(struct scheduler *s, int force);
void scheduler_reload(struct scheduler *s);
int scheduler_run_now(struct scheduler *s, const char *name, struct strbuf *err);
json_t *scheduler_list(struct scheduler *s);
void scheduler_close(struct scheduler *s);
/* The final outcome of the last run that ended ("success", "failed",
 * "timeout"; NULL if none) and its error (borrowed, may be ""). */
const char *scheduler_outcome(struct scheduler *s, const char **error);

/* What `dango schedule list` shows, without a running scheduler: each
 * schedule of list with its next fire after `now` and its last result from
 * the history (db may be NULL). A JSON array (the caller's). */
json_t *schedule_overview(const struct schedule_list *list, sqlite3 *db, int64_t now);
/* "2026-03-28 13:00 CET" for t in zone (NULL: the machine's), into buf (48 bytes). */
char *schedule_format_time(char *buf, int64_t t, const char *zone);

#endif
