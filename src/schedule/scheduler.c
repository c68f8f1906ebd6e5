/* The loop ticks at most every half second of real time (a fiftieth when
 * the clock runs fast): it reaps and advances jobs, starts pending retries,
 * fires what is due, checks staleness once a minute, and watches the two
 * files for changes. All state is touched under one mutex, released while
 * sleeping, so that another thread may list schedules or ask for a run. */
#include "schedule/scheduler.h"
#include "ingest/status.h"
#include "schedule/cron.h"
#include "schedule/history.h"
#include "schedule/job.h"
#include "schedule/notify.h"
#include "schedule/tz.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/schedules.h"
#include "project/sources.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct entry {
	const struct schedule *s;   /* in the current list */
	struct tz tz;
	int64_t next;               /* 0: never (disabled) */
};

struct file_sig {
	long long mtime_ns, size, ino;
};

struct scheduler {
	struct project p;
	struct scheduler_opts o;
	char *exe, *schedules_path, *log_path;
	struct source_list sources;
	struct schedule_list list;
	struct entry *entries;
	size_t nentries;
	struct job **jobs;
	size_t njobs;
	struct job_ctx ctx;
	sqlite3 *db;
	struct notify_config notify;
	int lock_fd;
	struct file_sig sig_schedules, sig_sources;
	int64_t started, last_stale_check, last_prune;
	volatile sig_atomic_t stop_requested, force_requested, reload_requested;
	int stopping, killed;
	pthread_mutex_t mu;
	struct strvec run_now;      /* names asked for by scheduler_run_now */
	char *outcome;              /* the last final status, and its error */
	struct strbuf outcome_error;
};

/* ---- logging ------------------------------------------------------------------------- */

char *schedule_format_time(char *buf, int64_t t, const char *zone)
{
	struct tz tz;
	struct strbuf err = STRBUF_INIT;
	struct tz_civil c;
	if (tz_load(&tz, zone, &err) < 0)
		tz_load(&tz, "UTC", &err);
	tz_to_civil(&tz, t, &c);
	snprintf(buf, 48, "%04d-%02d-%02d %02d:%02d %s", c.year, c.month, c.day, c.hour, c.minute, c.abbr);
	tz_release(&tz);
	strbuf_release(&err);
	return buf;
}

static void slog(struct scheduler *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(struct scheduler *s, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT, msg = STRBUF_INIT;
	char when[48];
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	struct tz tz;
	struct tz_civil c;
	struct strbuf err = STRBUF_INIT;
	tz_load(&tz, NULL, &err);
	tz_to_civil(&tz, clock_now_sec(), &c);
	snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d:%02d %s", c.year, c.month, c.day, c.hour, c.minute,
		 c.second, c.abbr);
	tz_release(&tz);
	strbuf_release(&err);
	strbuf_addf(&line, "[%s] %s", when, msg.buf);
	if (s->o.log) {
		s->o.log(s->o.log_data, line.buf);
	} else {
		printf("%s\n", line.buf);
		fflush(stdout);
		FILE *fp = fopen(s->log_path, "a");
		if (fp) {
			fprintf(fp, "%s\n", line.buf);
			fclose(fp);
		}
	}
	strbuf_release(&line);
	strbuf_release(&msg);
}

/* ---- files ------------------------------------------------------------------------------ */

static void file_sig(const char *path, struct file_sig *sig)
{
	struct stat st;
	memset(sig, 0, sizeof(*sig));
	if (stat(path, &st) == 0) {
		sig->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		sig->size = (long long)st.st_size;
		sig->ino = (long long)st.st_ino;
	}
}

static int sig_changed(const struct file_sig *a, const struct file_sig *b)
{
	return a->mtime_ns != b->mtime_ns || a->size != b->size || a->ino != b->ino;
}

static int take_lock(struct scheduler *s, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, info = STRBUF_INIT;
	fs_mkdir_p(s->p.state_dir, 0755);
	strbuf_addf(&path, "%s/scheduler.lock", s->p.state_dir);
	strbuf_addf(&info, "%s/scheduler.json", s->p.state_dir);
	s->lock_fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int ret = -1;
	if (s->lock_fd < 0) {
		strbuf_addf(err, "cannot open '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		json_error_t je;
		json_t *who = json_load_file(info.buf, 0, &je);
		strbuf_addf(err, "a scheduler is already running for this project");
		if (who)
			strbuf_addf(err, " (pid %lld, since %s)", (long long)json_integer_value(json_object_get(who, "pid")),
				    json_string_value(json_object_get(who, "started_at")) ?: "?");
		strbuf_addstr(err, "; stop it first (one scheduler a project)");
		json_decref(who);
		close(s->lock_fd);
		s->lock_fd = -1;
		goto out;
	}
	char when[32];
	json_t *me = json_pack("{s:I, s:s}", "pid", (json_int_t)getpid(), "started_at",
			       clock_format_utc(when, clock_now_sec()));
	char *text = json_dumps(me, JSON_INDENT(2));
	fs_write_atomic(info.buf, text, strlen(text));
	free(text);
	json_decref(me);
	ret = 0;
out:
	strbuf_release(&path);
	strbuf_release(&info);
	return ret;
}

/* ---- schedules ------------------------------------------------------------------------------ */

static void entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tz_release(&e[i].tz);
	free(e);
}

static struct entry *entry_find(struct scheduler *s, const char *name)
{
	for (size_t i = 0; i < s->nentries; i++)
		if (!strcmp(s->entries[i].s->name, name))
			return &s->entries[i];
	return NULL;
}

/* Entries for list; `old` (may be NULL) gives the next fire of schedules
 * whose timing did not change. */
static struct entry *build_entries(struct scheduler *s, const struct schedule_list *list, int64_t now,
				   size_t *n)
{
	struct entry *e = xcalloc(list->nr ? list->nr : 1, sizeof(*e));
	struct strbuf err = STRBUF_INIT;
	for (size_t i = 0; i < list->nr; i++) {
		const struct schedule *sc = &list->items[i];
		e[i].s = sc;
		if (tz_load(&e[i].tz, sc->timezone, &err) < 0)
			tz_load(&e[i].tz, "UTC", &err);
		strbuf_reset(&err);
		struct entry *before = s->entries ? entry_find(s, sc->name) : NULL;
		if (before && before->next && sc->enabled && !strcmp(before->s->cron.fields, sc->cron.fields) &&
		    !strcmp(before->s->timezone ? before->s->timezone : "", sc->timezone ? sc->timezone : "")) {
			e[i].next = before->next;
		} else if (sc->enabled) {
			int64_t t;
			e[i].next = cron_next(&sc->cron, &e[i].tz, now - 1, &t) == 0 ? t : 0;
		}
	}
	strbuf_release(&err);
	*n = list->nr;
	return e;
}

static int load_config(struct scheduler *s, struct source_list *sources, struct schedule_list *list,
		       struct strbuf *err)
{
	if (sources_load(sources, s->p.sources_path, ".dango/sources.yml", err) < 0)
		return -1;
	if (schedules_load(list, s->schedules_path, ".dango/schedules.yml", sources, err) < 0) {
		sources_release(sources);
		return -1;
	}
	return 0;
}

static void do_reload(struct scheduler *s, int64_t now)
{
	struct source_list sources;
	struct schedule_list list;
	struct strbuf err = STRBUF_INIT;
	file_sig(s->schedules_path, &s->sig_schedules);
	file_sig(s->p.sources_path, &s->sig_sources);
	if (load_config(s, &sources, &list, &err) < 0) {
		slog(s, "reload failed; keeping the %zu schedule%s loaded before:", s->list.nr, s->list.nr == 1 ? "" : "s");
		for (char *line = err.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			slog(s, "  %s", line);
		}
		strbuf_release(&err);
		return;
	}
	size_t n;
	struct entry *e = build_entries(s, &list, now, &n);
	entries_free(s->entries, s->nentries);
	schedules_release(&s->list);
	sources_release(&s->sources);
	s->list = list;
	s->sources = sources;
	/* entries point into list->items: fix them to the moved copy */
	for (size_t i = 0; i < n; i++)
		e[i].s = &s->list.items[i];
	s->entries = e;
	s->nentries = n;
	notify_config_release(&s->notify);
	notify_config_load(&s->notify, s->p.root);
	slog(s, "reloaded .dango/schedules.yml: %zu schedule%s", n, n == 1 ? "" : "s");
	strbuf_release(&err);
}

/* ---- jobs ------------------------------------------------------------------------------------- */

static struct job *job_of(struct scheduler *s, const char *name)
{
	for (size_t i = 0; i < s->njobs; i++)
		if (!strcmp(s->jobs[i]->name, name))
			return s->jobs[i];
	return NULL;
}

static void jobs_add(struct scheduler *s, struct job *j)
{
	s->jobs = xrealloc(s->jobs, (s->njobs + 1) * sizeof(*s->jobs));
	s->jobs[s->njobs++] = j;
}

static void jobs_remove(struct scheduler *s, size_t i)
{
	job_release(s->jobs[i]);
	free(s->jobs[i]);
	memmove(&s->jobs[i], &s->jobs[i + 1], (s->njobs - i - 1) * sizeof(*s->jobs));
	s->njobs--;
}

static void record_simple(struct scheduler *s, const char *name, const char *trigger, int64_t when,
			  const char *status, const char *why)
{
	struct run_row r = { 0 };
	struct strbuf err = STRBUF_INIT;
	int64_t now = clock_now_sec();
	r.schedule = name;
	r.trigger = trigger;
	r.scheduled_for = when;
	r.started_at = now;
	r.finished_at = now;
	r.status = status;
	r.attempt = 1;
	r.rows_loaded = r.models_run = -1;
	r.error = why;
	if (history_insert(s->db, &r, &err) < 0)
		slog(s, "%s", err.buf);
	strbuf_release(&err);
}

static void notify(struct scheduler *s, const char *event, const struct job *j, const char *text)
{
	if (!s->notify.url_env)
		return;
	char when[32];
	json_t *info = json_pack("{s:s, s:s, s:s, s:s}", "text", text, "project", s->p.name, "schedule", j->name,
				 "status", j->status);
	json_object_set_new(info, "attempt", json_integer(j->attempt));
	json_object_set_new(info, "trigger", json_string(j->trigger));
	json_object_set_new(info, "scheduled_for",
			    j->scheduled_for ? json_string(clock_format_utc(when, j->scheduled_for)) : json_null());
	json_object_set_new(info, "started_at", json_string(clock_format_utc(when, j->started_at)));
	json_object_set_new(info, "finished_at", json_string(clock_format_utc(when, j->finished_at)));
	json_object_set_new(info, "rows_loaded", j->rows >= 0 ? json_integer(j->rows) : json_null());
	json_object_set_new(info, "models_run", j->models >= 0 ? json_integer(j->models) : json_null());
	json_object_set_new(info, "error", j->error.len ? json_string(j->error.buf) : json_null());
	json_object_set_new(info, "log_path", j->log_path ? json_string(j->log_path) : json_null());
	struct strbuf err = STRBUF_INIT;
	if (notify_send(&s->notify, &s->p.env, event, info, &err) < 0)
		slog(s, "%s", err.buf);
	else
		slog(s, "notified %s of %s (%s)", s->notify.url_env, j->name, event);
	strbuf_release(&err);
	json_decref(info);
}

static void fire(struct scheduler *s, struct entry *e, int64_t when, const char *trigger)
{
	char at[48];
	struct job *busy = job_of(s, e->s->name);
	if (busy) {
		struct strbuf why = STRBUF_INIT;
		if (busy->row_id)
			strbuf_addf(&why, "previous run still running since %s",
				    schedule_format_time(at, busy->started_at, e->s->timezone));
		else
			strbuf_addstr(&why, "a retry of the previous run is pending");
		record_simple(s, e->s->name, trigger, when, "skipped", why.buf);
		slog(s, "%s: fire of %s skipped: %s", e->s->name, schedule_format_time(at, when, e->s->timezone), why.buf);
		strbuf_release(&why);
		return;
	}
	struct job *j = xcalloc(1, sizeof(*j));
	struct strbuf err = STRBUF_INIT;
	job_init(j, e->s, trigger, when, 1);
	if (job_start(j, &s->ctx, &err) < 0) {
		slog(s, "%s: could not start: %s", j->name, err.buf);
		job_release(j);
		free(j);
	} else {
		slog(s, "%s: started (%s%s%s, pid %d), log %s", j->name, trigger, when ? " for " : "",
		     when ? schedule_format_time(at, when, e->s->timezone) : "", (int)j->proc.pid, j->log_path);
		jobs_add(s, j);
	}
	strbuf_release(&err);
}

/* A run ended: retry, or tell the outcome. 1 when a retry took its place. */
static int job_done(struct scheduler *s, size_t i, int64_t now)
{
	struct job *j = s->jobs[i];
	struct strbuf text = STRBUF_INIT;
	char num[32] = "";
	free(s->outcome);
	s->outcome = xstrdup(j->status);
	strbuf_reset(&s->outcome_error);
	strbuf_addbuf(&s->outcome_error, &j->error);
	if (!strcmp(j->status, "success")) {
		if (j->rows >= 0)
			snprintf(num, sizeof(num), ", %lld rows", (long long)j->rows);
		char models[32] = "";
		if (j->models >= 0)
			snprintf(models, sizeof(models), ", %lld models", (long long)j->models);
		slog(s, "%s: succeeded%s%s", j->name, num, models);
		if (j->notify_on & NOTIFY_SUCCESS) {
			strbuf_addf(&text, "✅ Dango schedule '%s' succeeded", j->name);
			if (j->rows >= 0)
				strbuf_addf(&text, ": %lld rows loaded", (long long)j->rows);
			if (j->models >= 0)
				strbuf_addf(&text, "%s%lld models run", j->rows >= 0 ? ", " : ": ", (long long)j->models);
			notify(s, "success", j, text.buf);
		}
		strbuf_release(&text);
		return 0;
	}
	slog(s, "%s: %s (attempt %d/%lld): %s", j->name, j->status, j->attempt, (long long)j->retries_max + 1,
	     j->error.buf);
	if (j->attempt <= j->retries_max && !s->stopping && !j->adopted) {
		int64_t wait = j->backoff_seconds;
		for (int k = 1; k < j->attempt && wait < 86400; k++)
			wait *= 2;
		struct job *next = xcalloc(1, sizeof(*next));
		job_init_retry(next, j, now + wait);
		slog(s, "%s: retrying in %lld s (attempt %d/%lld)", j->name, (long long)wait, next->attempt,
		     (long long)j->retries_max + 1);
		job_release(j);
		free(j);
		s->jobs[i] = next;
		strbuf_release(&text);
		return 1;
	}
	if (j->notify_on & NOTIFY_FAILURE) {
		strbuf_addf(&text, "❌ Dango schedule '%s' %s (attempt %d of %lld): %s", j->name,
			    !strcmp(j->status, "timeout") ? "timed out" : "failed", j->attempt, (long long)j->retries_max + 1,
			    j->error.buf);
		notify(s, "failure", j, text.buf);
	}
	strbuf_release(&text);
	return 0;
}

static void poll_jobs(struct scheduler *s, int64_t now)
{
	for (size_t i = 0; i < s->njobs;) {
		struct job *j = s->jobs[i];
		if (!j->row_id && j->retry_at) {
			/* a pending retry */
			if (s->stopping) {
				slog(s, "%s: retry dropped: the scheduler is stopping", j->name);
				jobs_remove(s, i);
				continue;
			}
			if (now >= j->retry_at) {
				struct strbuf err = STRBUF_INIT;
				if (job_start(j, &s->ctx, &err) < 0) {
					slog(s, "%s: retry could not start: %s", j->name, err.buf);
					strbuf_release(&err);
					if (!job_done(s, i, now))
						jobs_remove(s, i);
					continue;
				}
				slog(s, "%s: started (retry, attempt %d, pid %d)", j->name, j->attempt, (int)j->proc.pid);
				strbuf_release(&err);
			}
			i++;
			continue;
		}
		if (job_poll(j, &s->ctx, now)) {
			if (!job_done(s, i, now))
				jobs_remove(s, i);
			else
				i++;
			continue;
		}
		i++;
	}
}

/* ---- staleness ------------------------------------------------------------------------------------ */

/* The newest successful sync of src among the status files, so that a
 * `dango sync` by hand or from the web page counts too; epoch seconds or 0.
 * The files write local time without an offset. */
static int64_t status_files_last_success(const char *state_dir, const char *src)
{
	json_t *docs = NULL, *doc;
	struct strbuf err = STRBUF_INIT;
	int64_t best = 0;
	size_t i;
	if (sync_status_list(state_dir, &docs, &err) < 0) {
		strbuf_release(&err);
		return 0;
	}
	json_array_foreach(docs, i, doc) {
		json_t *entry = json_object_get(json_object_get(doc, "progress"), src);
		const char *state = json_string_value(json_object_get(entry, "status"));
		const char *when = json_string_value(json_object_get(doc, "finished_at"));
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		if (!state || strcmp(state, "completed") || !when || !strptime(when, "%Y-%m-%dT%H:%M:%S", &tm))
			continue;
		tm.tm_isdst = -1;
		int64_t t = (int64_t)mktime(&tm);
		if (t > best)
			best = t;
	}
	json_decref(docs);
	strbuf_release(&err);
	return best;
}

static void check_stale(struct scheduler *s, int64_t now)
{
	for (size_t i = 0; i < s->nentries; i++) {
		const struct schedule *sc = s->entries[i].s;
		if (!sc->enabled || !(sc->notify_on & NOTIFY_STALE) ||
		    (sc->type != SCHED_SYNC && sc->type != SCHED_SYNC_ONLY))
			continue;
		double hours = sc->stale_after_hours > 0 ? sc->stale_after_hours : s->notify.stale_after_hours;
		for (size_t k = 0; k < sc->sources.nr; k++) {
			char *src = xstrndup(sc->sources.v[k], strcspn(sc->sources.v[k], "."));
			int64_t last = history_source_last_success(s->db, src);
			int64_t by_hand = status_files_last_success(s->p.state_dir, src);
			if (by_hand > last && by_hand <= now) /* a faked clock (DANGO_NOW) may lie behind real time */
				last = by_hand;
			int64_t base = last ? last : s->started;
			if (now - base > (int64_t)(hours * 3600) && history_notice_get(s->db, sc->name, src) < base) {
				struct strbuf text = STRBUF_INIT;
				char at[48];
				if (last)
					strbuf_addf(&text, "⚠️ Dango source '%s' is stale: last synced successfully %s (over %g h ago; schedule '%s')",
						    src, schedule_format_time(at, last, sc->timezone), hours, sc->name);
				else
					strbuf_addf(&text, "⚠️ Dango source '%s' is stale: not synced successfully in %g h (schedule '%s')",
						    src, hours, sc->name);
				slog(s, "%s", text.buf);
				struct job fake;
				memset(&fake, 0, sizeof(fake));
				strbuf_init(&fake.error, 0);
				fake.name = (char *)sc->name;
				fake.status = "stale";
				fake.trigger = (char *)"stale";
				fake.started_at = fake.finished_at = now;
				fake.rows = fake.models = -1;
				notify(s, "stale", &fake, text.buf);
				history_notice_set(s->db, sc->name, src, now);
				strbuf_release(&text);
			}
			free(src);
		}
	}
}

/* ---- start-up ------------------------------------------------------------------------------------- */

static void reconcile(struct scheduler *s)
{
	json_t *rows = history_running(s->db);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		long owner = (long)json_integer_value(json_object_get(row, "scheduler_pid"));
		const char *name = json_string_value(json_object_get(row, "schedule"));
		/* a foreground `dango schedule run` still going owns its row */
		if (owner && owner != getpid() && job_process_alive(owner, 0))
			continue;
		const struct schedule *sc = schedules_find(&s->list, name);
		struct job *j = xcalloc(1, sizeof(*j));
		if (job_adopt(j, &s->ctx, row, sc ? sc->type : SCHED_SYNC_ONLY) == 0) {
			slog(s, "%s: run %lld (pid %d) still runs from before the restart; watching it", j->name,
			     (long long)j->row_id, (int)j->proc.pid);
			jobs_add(s, j);
		} else {
			slog(s, "%s: run %lld was left running by a stopped scheduler; recorded %s: %s", j->name,
			     (long long)j->row_id, j->status, j->error.buf);
			job_release(j);
			free(j);
		}
	}
	json_decref(rows);
}

#define MAX_MISSED_ROWS 100

static void misfires(struct scheduler *s, int64_t now)
{
	for (size_t i = 0; i < s->nentries; i++) {
		struct entry *e = &s->entries[i];
		if (!e->s->enabled)
			continue;
		int64_t last = history_last_scheduled(s->db, e->s->name), t = last, f;
		if (!last)
			continue;
		int64_t ring[MAX_MISSED_ROWS];
		size_t count = 0;
		while (cron_next(&e->s->cron, &e->tz, t, &f) == 0 && f <= now) {
			ring[count % MAX_MISSED_ROWS] = f;
			count++;
			t = f;
		}
		e->next = cron_next(&e->s->cron, &e->tz, t > now ? t : now, &f) == 0 ? f : 0;
		if (!count)
			continue;
		int64_t latest = ring[(count - 1) % MAX_MISSED_ROWS];
		int run_latest = now - latest <= e->s->misfire_grace;
		size_t first = count > MAX_MISSED_ROWS ? count - MAX_MISSED_ROWS : 0;
		for (size_t k = first; k < count - (run_latest ? 1 : 0); k++) {
			char why[160];
			if (run_latest)
				snprintf(why, sizeof(why), "missed while no scheduler ran; only the latest missed run (within misfire_grace_time) ran");
			else
				snprintf(why, sizeof(why), "missed while no scheduler ran; more than misfire_grace_time (%lld s) late",
					 (long long)e->s->misfire_grace);
			record_simple(s, e->s->name, "schedule", ring[k % MAX_MISSED_ROWS], "missed", why);
		}
		slog(s, "%s: %zu fire%s missed while no scheduler ran%s", e->s->name, count, count == 1 ? "" : "s",
		     run_latest ? "; running the latest now (within misfire_grace_time)" : "; recorded as missed");
		if (run_latest)
			fire(s, e, latest, now - latest <= 1 ? "schedule" : "misfire");
	}
}

/* One schedule now, in the foreground: refused while a run of it goes on. */
static int open_foreground(struct scheduler *s, struct scheduler **out, struct strbuf *err)
{
	struct entry *e = entry_find(s, s->o.only);
	if (!e) {
		strbuf_addf(err, "no schedule named '%s' in .dango/schedules.yml", s->o.only);
		goto fail;
	}
	json_t *rows = history_running(s->db);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (strcmp(json_string_value(json_object_get(row, "schedule")), s->o.only))
			continue;
		long pid = (long)json_integer_value(json_object_get(row, "pid"));
		if (job_process_alive(pid, json_integer_value(json_object_get(row, "pid_start")))) {
			char at[48];
			strbuf_addf(err, "schedule '%s' is running now (since %s, pid %ld); not starting another run",
				    s->o.only, schedule_format_time(at, json_integer_value(json_object_get(row, "started_at")),
								    e->s->timezone), pid);
			json_decref(rows);
			goto fail;
		}
	}
	json_decref(rows);
	s->ctx.tee = 1;
	fire(s, e, 0, "manual");
	if (!s->njobs) {
		strbuf_addf(err, "schedule '%s' could not be started", s->o.only);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	scheduler_close(s);
	return -1;
}

int scheduler_open(struct scheduler **out, const struct scheduler_opts *o, struct strbuf *err)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));
	/* "now" as early as can be: a fast test clock runs on during start-up,
	 * and a fire due meanwhile must not be passed over */
	int64_t now = clock_now_sec();
	s->lock_fd = -1;
	s->o = *o;
	pthread_mutex_init(&s->mu, NULL);
	*out = NULL;
	if (project_load(&s->p, o->root, err) < 0) {
		free(s);
		return -1;
	}
	if (o->exe) {
		s->exe = xstrdup(o->exe);
	} else {
		char buf[4096];
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		s->exe = xstrdup(n > 0 ? buf : "dango");
	}
	s->schedules_path = xasprintf("%s/schedules.yml", s->p.dango_dir);
	struct strbuf logs = STRBUF_INIT;
	strbuf_addf(&logs, "%s/logs", s->p.dango_dir);
	fs_mkdir_p(logs.buf, 0755);
	s->log_path = xasprintf("%s/scheduler.log", logs.buf);
	strbuf_release(&logs);
	strbuf_init(&s->outcome_error, 0);
	if (!o->only && take_lock(s, err) < 0)
		goto fail;
	file_sig(s->schedules_path, &s->sig_schedules);
	file_sig(s->p.sources_path, &s->sig_sources);
	if (load_config(s, &s->sources, &s->list, err) < 0)
		goto fail;
	if (history_open(s->p.state_dir, &s->db, err) < 0)
		goto fail;
	notify_config_load(&s->notify, s->p.root);
	s->ctx.root = s->p.root;
	s->ctx.state_dir = s->p.state_dir;
	s->ctx.exe = s->exe;
	s->ctx.lock_wait = s->p.lock_wait;
	s->ctx.db = s->db;
	s->started = now;
	s->last_stale_check = now;
	s->entries = build_entries(s, &s->list, now, &s->nentries);
	if (o->only)
		return open_foreground(s, out, err);
	slog(s, "scheduler started for project '%s' (pid %d): %zu schedule%s", s->p.name, (int)getpid(), s->nentries,
	     s->nentries == 1 ? "" : "s");
	reconcile(s);
	misfires(s, now);
	struct strbuf perr = STRBUF_INIT;
	history_prune(s->db, now - s->list.history_days * 86400, &perr);
	strbuf_release(&perr);
	s->last_prune = now;
	*out = s;
	return 0;
fail:
	scheduler_close(s);
	return -1;
}

/* ---- the loop ----------------------------------------------------------------------------------- */

static void watch_files(struct scheduler *s, int64_t now)
{
	struct file_sig a, b;
	file_sig(s->schedules_path, &a);
	file_sig(s->p.sources_path, &b);
	if (sig_changed(&a, &s->sig_schedules) || sig_changed(&b, &s->sig_sources)) {
		slog(s, "%s changed; reloading", sig_changed(&a, &s->sig_schedules) ? ".dango/schedules.yml"
										       : ".dango/sources.yml");
		do_reload(s, now);
	}
}

static void take_requests(struct scheduler *s, int64_t now)
{
	if (s->force_requested && !s->killed) {
		s->killed = 1;
		s->stopping = 1;
		for (size_t i = 0; i < s->njobs; i++) {
			struct job *j = s->jobs[i];
			if (!j->row_id)
				continue;
			slog(s, "%s: killing the job's process group (second stop signal)", j->name);
			job_kill(j, &s->ctx, "killed: the scheduler was stopped with a second signal");
		}
	}
	if (s->stop_requested && !s->stopping) {
		s->stopping = 1;
		size_t running = 0;
		for (size_t i = 0; i < s->njobs; i++)
			running += s->jobs[i]->row_id != 0;
		if (running)
			slog(s, "stopping after the %zu running job%s (signal again to kill %s)", running,
			     running == 1 ? "" : "s", running == 1 ? "it" : "them");
		else
			slog(s, "stopping");
	}
	if (s->reload_requested) {
		s->reload_requested = 0;
		slog(s, "reload requested");
		do_reload(s, now);
	}
	while (s->run_now.nr && !s->stopping) {
		char *name = s->run_now.v[--s->run_now.nr];
		s->run_now.v[s->run_now.nr] = NULL;
		struct entry *e = entry_find(s, name);
		if (e)
			fire(s, e, 0, "manual");
		free(name);
	}
}

static int64_t fire_due(struct scheduler *s, int64_t now)
{
	int64_t soonest = now + 60;
	for (size_t i = 0; i < s->nentries && !s->stopping; i++) {
		struct entry *e = &s->entries[i];
		if (!e->s->enabled || !e->next)
			continue;
		while (e->next && e->next <= now && !s->stopping) {
			int64_t when = e->next, nx;
			e->next = cron_next(&e->s->cron, &e->tz, when, &nx) == 0 ? nx : 0;
			fire(s, e, when, "schedule");
		}
		if (e->next && e->next < soonest)
			soonest = e->next;
	}
	for (size_t i = 0; i < s->njobs; i++)
		if (!s->jobs[i]->row_id && s->jobs[i]->retry_at < soonest)
			soonest = s->jobs[i]->retry_at;
	return soonest;
}

static int busy(struct scheduler *s)
{
	for (size_t i = 0; i < s->njobs; i++)
		if (s->jobs[i]->row_id)
			return 1;
	return 0;
}

int scheduler_run(struct scheduler *s)
{
	for (;;) {
		pthread_mutex_lock(&s->mu);
		int64_t now = clock_now_sec();
		take_requests(s, now);
		if (!s->o.only)
			watch_files(s, now);
		poll_jobs(s, now);
		int64_t soonest = s->o.only ? now + 60 : fire_due(s, now);
		if (s->o.only && !s->njobs)
			s->stopping = 1;
		if (!s->o.only && !s->stopping && now - s->last_stale_check >= 60) {
			s->last_stale_check = now;
			check_stale(s, now);
		}
		if (now - s->last_prune >= 86400) {
			struct strbuf err = STRBUF_INIT;
			s->last_prune = now;
			history_prune(s->db, now - s->list.history_days * 86400, &err);
			strbuf_release(&err);
		}
		int done = s->stopping && !busy(s) && (!s->o.only || !s->njobs || s->killed);
		int running = busy(s);
		pthread_mutex_unlock(&s->mu);
		if (done)
			break;
		/* sleep until the next event on Dango's clock, but wake often
		 * enough to reap jobs and see signals and file changes */
		double real = clock_real_seconds((double)soonest - clock_now());
		double cap = running ? 0.1 : 0.5;
		if (clock_real_seconds(60) < 1)
			cap = 0.02; /* a fast clock: a tick must not skip fires */
		if (real > cap)
			real = cap;
		if (real < 0.01)
			real = 0.01;
		struct timespec ts = { (time_t)real, (long)((real - (double)(time_t)real) * 1e9) };
		nanosleep(&ts, NULL);
	}
	if (!s->o.only)
		slog(s, "scheduler stopped");
	return s->killed ? 1 : 0;
}

void scheduler_stop(struct scheduler *s, int force)
{
	if (force || s->stop_requested)
		s->force_requested = 1;
	s->stop_requested = 1;
}

void scheduler_reload(struct scheduler *s)
{
	s->reload_requested = 1;
}

int scheduler_run_now(struct scheduler *s, const char *name, struct strbuf *err)
{
	int ret = 0;
	pthread_mutex_lock(&s->mu);
	struct entry *e = entry_find(s, name);
	if (!e) {
		strbuf_addf(err, "no schedule named '%s'", name);
		ret = -1;
	} else if (s->stopping) {
		strbuf_addstr(err, "the scheduler is stopping");
		ret = -1;
	} else {
		strvec_push(&s->run_now, name);
	}
	pthread_mutex_unlock(&s->mu);
	return ret;
}

json_t *scheduler_list(struct scheduler *s)
{
	pthread_mutex_lock(&s->mu);
	json_t *arr = schedule_overview(&s->list, s->db, clock_now_sec());
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		struct entry *e = entry_find(s, name);
		if (e)
			json_object_set_new(o, "next_run", e->next ? json_integer(e->next) : json_null());
		struct job *j = job_of(s, name);
		json_object_set_new(o, "running", json_boolean(j && j->row_id));
		if (j && j->row_id)
			json_object_set_new(o, "running_since", json_integer(j->started_at));
		if (j && !j->row_id)
			json_object_set_new(o, "retry_at", json_integer(j->retry_at));
	}
	pthread_mutex_unlock(&s->mu);
	return arr;
}

void scheduler_close(struct scheduler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->njobs; i++) {
		job_release(s->jobs[i]);
		free(s->jobs[i]);
	}
	free(s->jobs);
	entries_free(s->entries, s->nentries);
	schedules_release(&s->list);
	sources_release(&s->sources);
	notify_config_release(&s->notify);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0) {
		struct strbuf info = STRBUF_INIT;
		strbuf_addf(&info, "%s/scheduler.json", s->p.state_dir);
		unlink(info.buf);
		strbuf_release(&info);
		flock(s->lock_fd, LOCK_UN);
		close(s->lock_fd);
	}
	strvec_clear(&s->run_now);
	free(s->outcome);
	strbuf_release(&s->outcome_error);
	project_release(&s->p);
	free(s->exe);
	free(s->schedules_path);
	free(s->log_path);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- the overview ------------------------------------------------------------------------------- */

json_t *schedule_overview(const struct schedule_list *list, sqlite3 *db, int64_t now)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < list->nr; i++) {
		const struct schedule *sc = &list->items[i];
		struct strbuf sel = STRBUF_INIT, err = STRBUF_INIT;
		struct tz tz;
		schedule_describe_selection(&sel, sc);
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", sc->name, "type", schedule_type_name(sc->type),
				      "selection", sel.buf, "cron", sc->cron_text, "enabled", sc->enabled);
		json_object_set_new(o, "fields", json_string(sc->cron.fields));
		json_object_set_new(o, "preset", sc->cron.preset ? json_string(sc->cron.preset) : json_null());
		json_object_set_new(o, "timezone", sc->timezone ? json_string(sc->timezone) : json_null());
		int64_t next = 0;
		if (sc->enabled && tz_load(&tz, sc->timezone, &err) == 0) {
			if (cron_next(&sc->cron, &tz, now - 1, &next) < 0)
				next = 0;
			tz_release(&tz);
		}
		json_object_set_new(o, "next_run", next ? json_integer(next) : json_null());
		json_t *last = db ? history_last(db, sc->name) : NULL;
		json_object_set_new(o, "last_run", last ? last : json_null());
		json_array_append_new(arr, o);
		strbuf_release(&sel);
		strbuf_release(&err);
	}
	return arr;
}

const char *scheduler_outcome(struct scheduler *s, const char **error)
{
	if (error)
		*error = s->outcome_error.buf;
	return s->outcome;
}
