/* One run (one attempt) of a schedule: its steps are child processes of the
 * dango binary (spec 003's subprocess model), run one after another, each
 * in its own process group, with stdout and stderr appended to the run's
 * log (.dango/logs/schedules/NAME/STAMP-ID.log):
 *
 *   sync       dango sync SOURCES... (one call per source with tables:
 *              dango sync S --select T1,T2), then dango run --select
 *              source:S+ ... (the models downstream of what was loaded;
 *              dango run skips what governance blocks)
 *   sync_only  the syncs only
 *   dbt        dango run|build|test [--select SEL]
 *   script     /bin/sh -c COMMAND in the project folder
 *
 * Writers pass --wait (the schedule's lock_wait, else the project's
 * defaults.lock_wait, 300 s) so they wait for the single-writer lock.
 * A sync step writes its own status file (ingest/status.h); the job adds
 * the dbt_started phase and the final one to it. Other jobs get a status
 * file of their own, with the child's pid, so that a reader can tell a
 * job whose process died. Every attempt is a row of the history
 * (history.h), written when it starts and when it ends.
 *
 * A job is driven by polling (job_poll), so that a scheduler can run
 * several at once in one thread, and the foreground `dango schedule run`
 * the same way. Strings given to job_init are copied. */
#ifndef DANGO_SCHEDULE_JOB_H
#define DANGO_SCHEDULE_JOB_H
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>
#include "core/proc.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "project/schedules.h"

struct job_ctx {
	const char *root;          /* the project folder */
	const char *state_dir;     /* root/.dango/state */
	const char *exe;           /* the dango binary */
	int lock_wait;             /* the project's defaults.lock_wait */
	sqlite3 *db;               /* the history */
	int tee;                   /* also copy the children's output to our stdout */
};

struct job {
	/* what to run (copied from the schedule at fire time) */
	char *name;
	enum schedule_type type;
	struct strvec sources;
	int64_t timeout_minutes, retries_max, backoff_seconds;
	unsigned notify_on;
	struct strvec *steps;      /* argv of each step */
	int *step_dbt;             /* the step runs dbt */
	size_t nsteps, cur;
	/* this attempt */
	char *trigger;
	int64_t scheduled_for, started_at, finished_at;
	int attempt;
	int64_t row_id;
	struct proc proc;
	int running;
	char *log_path, *status_path;
	int own_status;            /* the status file is the job's own (not a sync's) */
	int64_t rows, models;
	const char *status;        /* running, success, failed, timeout */
	struct strbuf error;
	/* a run found running after a restart: watched by pid, not waited for */
	int adopted;
	long long pid_start;
	/* after a failure: the next attempt's time (0: none) */
	int64_t retry_at;
};

/* Prepare a run of s. */
void job_init(struct job *j, const struct schedule *s, const char *trigger, int64_t scheduled_for, int attempt);
/* The same schedule's next attempt (retries): a fresh job from j's spec. */
void job_init_retry(struct job *next, const struct job *j, int64_t retry_time);
void job_release(struct job *j);

/* Record the start in the history and start the first step. -1 (with err,
 * and the run recorded as failed) when nothing could be started. */
int job_start(struct job *j, const struct job_ctx *c, struct strbuf *err);
/* Advance: reap a finished step, start the next, enforce the timeout.
 * 1 when the run is over (j->status final and recorded), else 0. */
int job_poll(struct job *j, const struct job_ctx *c, int64_t now);
/* Kill the running step's process group and record the run as failed
 * with `why`. */
void job_kill(struct job *j, const struct job_ctx *c, const char *why);

/* Take over a history row found "running" (a scheduler that died): 0 when
 * its process still runs (poll it like any job), 1 when it is gone (the
 * row has been closed from its status file). */
int job_adopt(struct job *j, const struct job_ctx *c, json_t *row, enum schedule_type type);

/* Is a process with this pid and start time still there? */
int job_process_alive(long pid, long long start);
long long job_process_start(long pid);

#endif
