/* Jobs the page starts: each is `dango sync ...` or `dango run ...` as a
 * subprocess (src/core/proc.h) in its own process group, its output in
 * .dango/state/web_logs/<id>.log. The server's monitor loop reaps them.
 * Their records live in the ops-db table web_runs, so the history outlives
 * the server; a sync's live phase and rows come from its status file
 * (src/ingest/status.h), found by the child's pid. Syncs started elsewhere
 * (the CLI, the scheduler) appear through their status files alone. */
#include "web/internal.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/proc.h"
#include "core/xalloc.h"
#include "ingest/status.h"
#include "project/project.h"
#include "state/opsdb.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define KEEP_RUNS 1000

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS web_runs ("
	" id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,"
	" argv TEXT NOT NULL, pid INTEGER, started_at REAL NOT NULL, finished_at REAL,"
	" status TEXT NOT NULL, exit_code INTEGER, error TEXT, log_path TEXT, status_id TEXT);";

struct web_run {
	char *id, *kind, *target, *argv_json, *log_path, *status_id, *error;
	long seq;
	struct proc proc;
	int running;
	int ended;        /* reaped, not yet reported: the catalog is refreshed first */
	json_t *final;    /* an ended sync's status file, read once */
	char status[16];  /* running | completed | failed */
	int exit_code;    /* -1 while running or unknown */
	double started, finished;
};

static void run_free(struct web_run *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->kind);
	free(r->target);
	free(r->argv_json);
	free(r->log_path);
	free(r->status_id);
	free(r->error);
	json_decref(r->final);
	free(r);
}

static sqlite3 *db_open(struct web *w, struct strbuf *err)
{
	sqlite3 *db;
	if (opsdb_open(w->p->state_dir, &db, err) < 0)
		return NULL;
	if (opsdb_ensure(db, "web", schema_sql, err) < 0) {
		opsdb_close(db);
		return NULL;
	}
	return db;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Write the run's record (insert or replace). */
static void save(struct web *w, const struct web_run *r)
{
	struct strbuf err = STRBUF_INIT;
	sqlite3 *db = db_open(w, &err);
	sqlite3_stmt *st;
	if (db && sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO web_runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
				     NULL) == SQLITE_OK) {
		bind_text(st, 1, r->id);
		sqlite3_bind_int64(st, 2, r->seq);
		bind_text(st, 3, r->kind);
		bind_text(st, 4, r->target);
		bind_text(st, 5, r->argv_json);
		sqlite3_bind_int64(st, 6, r->proc.pid);
		sqlite3_bind_double(st, 7, r->started);
		if (r->finished > 0)
			sqlite3_bind_double(st, 8, r->finished);
		else
			sqlite3_bind_null(st, 8);
		bind_text(st, 9, r->status);
		if (r->exit_code >= 0)
			sqlite3_bind_int(st, 10, r->exit_code);
		else
			sqlite3_bind_null(st, 10);
		bind_text(st, 11, r->error);
		bind_text(st, 12, r->log_path);
		bind_text(st, 13, r->status_id);
		sqlite3_step(st);
		sqlite3_finalize(st);
		sqlite3_exec(db, "DELETE FROM web_runs WHERE seq <= (SELECT max(seq) FROM web_runs) - 1000", NULL, NULL,
			     NULL);
	}
	opsdb_close(db);
	strbuf_release(&err);
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static void push(struct web *w, struct web_run *r)
{
	if (w->nr_runs == w->alloc_runs) {
		w->alloc_runs = w->alloc_runs ? 2 * w->alloc_runs : 64;
		w->runs = xrealloc(w->runs, w->alloc_runs * sizeof(*w->runs));
	}
	w->runs[w->nr_runs++] = r;
}

int web_runs_init(struct web *w, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	sqlite3 *db;
	sqlite3_stmt *st;
	fs_path_join(&path, w->p->state_dir, "web_logs");
	w->log_dir = strbuf_detach(&path, NULL);
	if (fs_mkdir_p(w->log_dir, 0700) < 0) {
		strbuf_addf(err, "cannot create '%s': %s", w->log_dir, strerror(errno));
		return -1;
	}
	if (!(db = db_open(w, err)))
		return -1;
	w->next_run = 1;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, seq, kind, target, argv, pid, started_at, finished_at, status, exit_code, "
			       "error, log_path, status_id FROM web_runs ORDER BY seq",
			       -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct web_run *r = xcalloc(1, sizeof(*r));
			r->id = col_text(st, 0);
			r->seq = (long)sqlite3_column_int64(st, 1);
			r->kind = col_text(st, 2);
			r->target = col_text(st, 3);
			r->argv_json = col_text(st, 4);
			r->proc.pid = (pid_t)sqlite3_column_int64(st, 5);
			r->proc.stdout_fd = r->proc.stderr_fd = -1;
			r->started = sqlite3_column_double(st, 6);
			r->finished = sqlite3_column_double(st, 7);
			snprintf(r->status, sizeof(r->status), "%s", (const char *)sqlite3_column_text(st, 8));
			r->exit_code = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 9);
			r->error = col_text(st, 10);
			r->log_path = col_text(st, 11);
			r->status_id = col_text(st, 12);
			if (!strcmp(r->status, "running")) {
				/* an earlier server stopped (or died) while this ran */
				snprintf(r->status, sizeof(r->status), "failed");
				free(r->error);
				r->error = xstrdup("the web server stopped while this job ran");
				r->finished = r->started;
				save(w, r);
			}
			if (r->seq >= w->next_run)
				w->next_run = r->seq + 1;
			push(w, r);
		}
		sqlite3_finalize(st);
	}
	opsdb_close(db);
	return 0;
}

void web_runs_release(struct web *w)
{
	for (size_t i = 0; i < w->nr_runs; i++)
		run_free(w->runs[i]);
	free(w->runs);
	free(w->log_dir);
	w->runs = NULL;
	w->nr_runs = w->alloc_runs = 0;
}

char *web_run_start(struct web *w, const char *kind, const char *target, const char *const *argv, struct strbuf *err)
{
	size_t n = 0;
	while (argv[n])
		n++;
	const char **full = xcalloc(n + 4, sizeof(*full));
	full[0] = w->self_exe;
	full[1] = "--project-dir";
	full[2] = w->p->root;
	for (size_t i = 0; i < n; i++)
		full[3 + i] = argv[i];
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(argv[i]));

	struct web_run *r = xcalloc(1, sizeof(*r));
	pthread_mutex_lock(&w->runs_lock);
	r->seq = w->next_run++;
	r->id = xasprintf("run-%ld", r->seq);
	r->kind = xstrdup(kind);
	r->target = xstrdup(target);
	r->argv_json = json_dumps(a, JSON_COMPACT);
	r->log_path = xasprintf("%s/%s.log", w->log_dir, r->id);
	r->exit_code = -1;
	r->started = web_now();
	snprintf(r->status, sizeof(r->status), "running");
	const char *env_add[] = { "NO_COLOR=1", NULL };
	struct proc_opts o = { .argv = full, .cwd = w->p->root, .env_add = env_add, .out = PROC_FILE,
			       .err = PROC_FILE, .out_path = r->log_path, .err_path = r->log_path, .stdin_null = 1 };
	int ok = proc_spawn(&r->proc, &o, err) == 0;
	char *id = NULL;
	if (ok) {
		r->running = 1;
		w->runs_gen++;
		push(w, r);
		save(w, r);
		id = xstrdup(r->id);
	}
	pthread_mutex_unlock(&w->runs_lock);
	if (!ok)
		run_free(r);
	json_decref(a);
	free(full);
	return id;
}

/* The status file of a sync run: named ..._<pid>.json, written after the
 * run started. */
static void find_status(struct web *w, struct web_run *r)
{
	if (r->status_id || strcmp(r->kind, "sync") || r->proc.pid <= 0)
		return;
	DIR *d = opendir(w->p->state_dir);
	struct dirent *e;
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "_%ld.json", (long)r->proc.pid);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(suffix);
		if (strncmp(e->d_name, "sync_status_", 12) || len <= 12 + sl || strcmp(e->d_name + len - sl, suffix))
			continue;
		struct strbuf p = STRBUF_INIT, er = STRBUF_INIT;
		json_t *doc;
		fs_path_join(&p, w->p->state_dir, e->d_name);
		if (sync_status_read(p.buf, &doc, &er) == 0) {
			/* a reused pid's older file started before this run */
			struct stat sb;
			if (stat(p.buf, &sb) == 0 && (double)sb.st_mtime >= r->started - 1) {
				free(r->status_id);
				r->status_id = xstrndup(e->d_name + 12, len - 12 - 5);
			}
			json_decref(doc);
		}
		strbuf_release(&p);
		strbuf_release(&er);
	}
	if (d)
		closedir(d);
}

static json_t *read_status(struct web *w, const char *status_id)
{
	struct strbuf p = STRBUF_INIT, er = STRBUF_INIT;
	json_t *doc = NULL;
	strbuf_addf(&p, "%s/sync_status_%s.json", w->p->state_dir, status_id);
	if (sync_status_read(p.buf, &doc, &er) < 0)
		doc = NULL;
	strbuf_release(&p);
	strbuf_release(&er);
	return doc;
}

/* A sync's error: the status file's, with each failed source's message. */
static char *status_error(json_t *st)
{
	struct strbuf sb = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(st, "progress"), k, v) {
		const char *e = json_string_value(json_object_get(v, "error"));
		if (e)
			strbuf_addf(&sb, "%s%s: %s", sb.len ? "\n" : "", k, e);
	}
	const char *top = json_string_value(json_object_get(st, "error"));
	if (!sb.len && top)
		strbuf_addstr(&sb, top);
	return sb.len ? strbuf_detach(&sb, NULL) : (strbuf_release(&sb), NULL);
}

/* The last lines of a log that say what went wrong ("error:" lines, or the
 * last few lines). */
static char *log_error(const char *path)
{
	struct strbuf log = STRBUF_INIT, out = STRBUF_INIT;
	if (strbuf_read_file(&log, path) < 0) {
		strbuf_release(&log);
		return NULL;
	}
	for (char *line = log.buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strstr(line, "error:") || strstr(line, "Error") || strstr(line, "✗"))
			strbuf_addf(&out, "%s%s", out.len ? "\n" : "", line);
	}
	if (!out.len) {
		size_t start = log.len > 400 ? log.len - 400 : 0;
		for (size_t i = start; i < log.len; i++)
			strbuf_addch(&out, log.buf[i] ? log.buf[i] : '\n');
		strbuf_trim(&out);
	}
	strbuf_release(&log);
	return out.len ? strbuf_detach(&out, NULL) : (strbuf_release(&out), NULL);
}

/* Record how a run ended (under runs_lock). */
static void finish(struct web *w, struct web_run *r)
{
	int st = r->proc.status;
	r->running = 0;
	r->finished = web_now();
	r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	snprintf(r->status, sizeof(r->status), "%s", r->exit_code == 0 ? "completed" : "failed");
	find_status(w, r);
	if (r->exit_code) {
		json_t *sdoc = r->status_id ? read_status(w, r->status_id) : NULL;
		free(r->error);
		r->error = sdoc ? status_error(sdoc) : NULL;
		if (!r->error)
			r->error = log_error(r->log_path);
		if (!r->error) {
			struct strbuf sb = STRBUF_INIT;
			proc_describe_status(&sb, st);
			r->error = strbuf_detach(&sb, NULL);
		}
		json_decref(sdoc);
	}
	save(w, r);
}

int web_runs_reap(struct web *w)
{
	int ended = 0;
	pthread_mutex_lock(&w->runs_lock);
	for (size_t i = 0; i < w->nr_runs; i++) {
		struct web_run *r = w->runs[i];
		if (!r->running || r->ended)
			continue;
		find_status(w, r);
		if (proc_wait(&r->proc, 0))
			ended = r->ended = 1;
	}
	pthread_mutex_unlock(&w->runs_lock);
	if (!ended)
		return 0;
	/* the snapshot first, so that a run reported as done shows its rows */
	web_catalog_tick(w, 1);
	pthread_mutex_lock(&w->runs_lock);
	for (size_t i = 0; i < w->nr_runs; i++)
		if (w->runs[i]->running && w->runs[i]->ended)
			finish(w, w->runs[i]);
	w->runs_gen++;
	pthread_mutex_unlock(&w->runs_lock);
	return 1;
}

void web_runs_stop_all(struct web *w)
{
	pthread_mutex_lock(&w->runs_lock);
	for (size_t i = 0; i < w->nr_runs; i++) {
		struct web_run *r = w->runs[i];
		if (!r->running)
			continue;
		if (!r->ended)
			proc_terminate(&r->proc, 10);
		r->running = 0;
		r->finished = web_now();
		r->exit_code = 128 + SIGTERM;
		snprintf(r->status, sizeof(r->status), "failed");
		free(r->error);
		r->error = xstrdup("stopped with the web server");
		save(w, r);
	}
	pthread_mutex_unlock(&w->runs_lock);
}

long web_runs_generation(struct web *w)
{
	pthread_mutex_lock(&w->runs_lock);
	long g = w->runs_gen;
	pthread_mutex_unlock(&w->runs_lock);
	return g;
}

const char *web_run_active(struct web *w, const char *kind, const char *target, char *buf, size_t n)
{
	const char *found = NULL;
	pthread_mutex_lock(&w->runs_lock);
	for (size_t i = w->nr_runs; i-- > 0 && !found;) {
		struct web_run *r = w->runs[i];
		if (r->running && !strcmp(r->kind, kind) && !strcmp(r->target, target)) {
			snprintf(buf, n, "%s", r->id);
			found = buf;
		}
	}
	pthread_mutex_unlock(&w->runs_lock);
	return found;
}

static void set_time(json_t *o, const char *key, double t)
{
	char buf[40];
	if (t <= 0) {
		json_object_set_new(o, key, json_null());
		return;
	}
	web_iso(buf, sizeof(buf), t);
	json_object_set_new(o, key, json_string(buf));
}

/* A run as JSON (under runs_lock). */
static json_t *run_json(struct web *w, struct web_run *r)
{
	json_t *o = json_object(), *sdoc = NULL;
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "target", json_string(r->target));
	json_object_set_new(o, "origin", json_string("web"));
	json_error_t je;
	json_object_set_new(o, "args", r->argv_json ? json_loads(r->argv_json, 0, &je) : json_array());
	json_object_set_new(o, "status", json_string(r->status));
	set_time(o, "started_at", r->started);
	set_time(o, "finished_at", r->finished);
	double end = r->finished > 0 ? r->finished : web_now();
	json_object_set_new(o, "duration_seconds", json_real(end - r->started));
	json_object_set_new(o, "exit_code", r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
	const char *phase = r->running ? (strcmp(r->kind, "sync") ? "running" : "starting") : r->status;
	json_int_t rows = 0;
	if (r->status_id && !r->running && !r->final)
		r->final = read_status(w, r->status_id);
	sdoc = r->running || !r->status_id ? (r->status_id ? read_status(w, r->status_id) : NULL) : json_incref(r->final);
	if (sdoc) {
		/* the sync's own view: lock_waiting, data_load, dbt_started ... */
		const char *sp = json_string_value(json_object_get(sdoc, "phase"));
		if (sp && (r->running || strcmp(sp, "failed") || !strcmp(r->status, "failed")))
			phase = sp;
		if (!r->running)
			phase = r->status; /* the process is the authority once it ended */
		rows = json_integer_value(json_object_get(sdoc, "rows"));
		json_object_set(o, "progress", json_object_get(sdoc, "progress"));
		json_object_set(o, "phases", json_object_get(sdoc, "phases"));
		json_object_set_new(o, "status_id", json_string(r->status_id));
	}
	json_object_set_new(o, "phase", json_string(phase));
	json_object_set_new(o, "rows", json_integer(rows));
	json_object_set_new(o, "error", r->error ? json_string(r->error) : json_null());
	json_decref(sdoc);
	return o;
}

/* A sync started elsewhere, from its status file. */
static json_t *status_run_json(json_t *sdoc)
{
	json_t *o = json_object();
	const char *phase = json_string_value(json_object_get(sdoc, "phase"));
	json_t *sources = json_object_get(sdoc, "sources");
	struct strbuf target = STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach(sources, i, v)
		strbuf_addf(&target, "%s%s", i ? "," : "", json_string_value(v));
	json_object_set_new(o, "id", json_string(json_string_value(json_object_get(sdoc, "id"))));
	json_object_set_new(o, "kind", json_string("sync"));
	json_object_set_new(o, "target", json_string(target.buf));
	json_object_set_new(o, "origin", json_string("cli"));
	json_object_set_new(o, "status",
			    json_string(!phase ? "failed" : !strcmp(phase, "completed") || !strcmp(phase, "failed") ? phase
												      : "running"));
	json_object_set_new(o, "phase", json_string(phase ? phase : "failed"));
	json_t *start = web_local_to_utc(json_object_get(sdoc, "started_at"));
	json_t *end = web_local_to_utc(json_object_get(sdoc, "finished_at"));
	json_object_set_new(o, "started_at", start);
	json_object_set_new(o, "finished_at", end);
	time_t t0, t1;
	if (json_is_string(start) && clock_parse_iso8601(json_string_value(start), &t0) == 0 &&
	    json_is_string(end) && clock_parse_iso8601(json_string_value(end), &t1) == 0)
		json_object_set_new(o, "duration_seconds", json_real((double)(t1 - t0)));
	else
		json_object_set_new(o, "duration_seconds", json_null());
	json_object_set_new(o, "rows", json_integer(json_integer_value(json_object_get(sdoc, "rows"))));
	json_object_set(o, "progress", json_object_get(sdoc, "progress"));
	char *err = status_error(sdoc);
	json_object_set_new(o, "error", err ? json_string(err) : json_null());
	free(err);
	strbuf_release(&target);
	return o;
}

static int matches(json_t *run, const char *kind, const char *target)
{
	if (kind && strcmp(kind, json_string_value(json_object_get(run, "kind"))))
		return 0;
	if (!target)
		return 1;
	/* a sync of several sources counts for each */
	const char *t = json_string_value(json_object_get(run, "target"));
	size_t n = strlen(target);
	for (const char *p = t; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && !strncmp(p, target, n))
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "started_at"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "started_at"));
	return -strcmp(x ? x : "", y ? y : "");
}

/* out sorted newest first (ISO times compare as text), cut to limit. */
static void sort_runs(json_t *out, size_t limit)
{
	size_t n = json_array_size(out);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(out, i));
	/* stable enough: equal times keep no particular order */
	qsort(v, n, sizeof(*v), newest_first);
	json_array_clear(out);
	for (size_t i = 0; i < n; i++) {
		if (i < limit)
			json_array_append(out, v[i]);
		json_decref(v[i]);
	}
	free(v);
}

json_t *web_runs_list(struct web *w, const char *kind, const char *target, size_t limit)
{
	json_t *out = json_array(), *statuses = NULL, *sched_ids = json_object();
	struct strbuf err = STRBUF_INIT;
	/* the scheduler's runs, and the status files their syncs wrote */
	json_t *sched = web_schedule_runs(w, limit, sched_ids), *so;
	size_t si;
	json_array_foreach(sched, si, so)
		if (matches(so, kind, target))
			json_array_append(out, so);
	json_decref(sched);
	pthread_mutex_lock(&w->runs_lock);
	for (size_t i = w->nr_runs; i-- > 0 && json_array_size(out) < 2 * limit;) {
		/* `dango schedule run` started here: its history row stands for it */
		if (!strcmp(w->runs[i]->kind, "schedule"))
			continue;
		json_t *o = run_json(w, w->runs[i]);
		if (matches(o, kind, target))
			json_array_append(out, o);
		json_decref(o);
	}
	/* syncs that no web run started */
	if ((!kind || !strcmp(kind, "sync")) && (statuses = web_sync_statuses(w))) {
		size_t i;
		json_t *sdoc;
		json_array_foreach(statuses, i, sdoc) {
			const char *sid = json_string_value(json_object_get(sdoc, "id"));
			/* a scheduled sync: its history row stands for it in the
			 * list of everything; a source's history shows the sync */
			int scheduled = sid && json_object_get(sched_ids, sid);
			int ours = scheduled && !kind;
			for (size_t k = 0; k < w->nr_runs && !ours; k++)
				ours = w->runs[k]->status_id && sid && !strcmp(w->runs[k]->status_id, sid);
			if (ours)
				continue;
			json_t *o = status_run_json(sdoc);
			if (scheduled)
				json_object_set_new(o, "origin", json_string("scheduler"));
			if (matches(o, kind, target))
				json_array_append(out, o);
			json_decref(o);
		}
	}
	pthread_mutex_unlock(&w->runs_lock);
	sort_runs(out, limit);
	json_decref(sched_ids);
	json_decref(statuses);
	strbuf_release(&err);
	return out;
}

void web_add_log(json_t *o, const char *path)
{
	struct strbuf log = STRBUF_INIT;
	if (path && strbuf_read_file(&log, path) == 0) {
		size_t start = log.len > WEB_LOG_TAIL ? log.len - WEB_LOG_TAIL : 0;
		json_t *text = json_stringn(log.buf + start, log.len - start);
		if (!text) {
			/* not UTF-8 (or cut inside a character): keep the ASCII */
			for (size_t i = start; i < log.len; i++)
				if ((unsigned char)log.buf[i] >= 0x80 || !log.buf[i])
					log.buf[i] = '?';
			text = json_stringn(log.buf + start, log.len - start);
		}
		json_object_set_new(o, "log", text ? text : json_string(""));
		json_object_set_new(o, "log_truncated", json_boolean(start > 0));
	} else {
		json_object_set_new(o, "log", json_string(""));
	}
	strbuf_release(&log);
}

json_t *web_run_get(struct web *w, const char *id)
{
	json_t *o = NULL;
	pthread_mutex_lock(&w->runs_lock);
	for (size_t i = 0; i < w->nr_runs && !o; i++)
		if (!strcmp(w->runs[i]->id, id)) {
			find_status(w, w->runs[i]);
			o = run_json(w, w->runs[i]);
			web_add_log(o, w->runs[i]->log_path);
		}
	pthread_mutex_unlock(&w->runs_lock);
	if (!o) {
		json_t *sdoc = read_status(w, id);
		if (sdoc) {
			o = status_run_json(sdoc);
			json_object_set_new(o, "log", json_string(""));
			json_decref(sdoc);
		}
	}
	return o;
}

json_t *web_rows_per_day(struct web *w, int days)
{
	json_t *out = json_array(), *statuses = NULL, *doc;
	struct strbuf err = STRBUF_INIT;
	/* status files hold wall-clock times, not Dango's clock */
	time_t now = time(NULL), first = now - (time_t)(days - 1) * 86400;
	char day[16];
	json_int_t *rows = xcalloc((size_t)days, sizeof(*rows));
	first -= first % 86400;
	if ((statuses = web_sync_statuses(w))) {
		size_t i;
		json_array_foreach(statuses, i, doc) {
			json_t *end = web_local_to_utc(json_object_get(doc, "finished_at"));
			time_t t;
			if (json_is_string(end) && clock_parse_iso8601(json_string_value(end), &t) == 0 && t >= first &&
			    t < first + (time_t)days * 86400)
				rows[(t - first) / 86400] += json_integer_value(json_object_get(doc, "rows"));
			json_decref(end);
		}
	}
	for (int d = 0; d < days; d++) {
		time_t t = first + (time_t)d * 86400;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		json_array_append_new(out, json_pack("{s:s, s:I}", "day", day, "rows", rows[d]));
	}
	free(rows);
	json_decref(statuses);
	strbuf_release(&err);
	return out;
}

static int all_final(json_t *docs)
{
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d) {
		const char *ph = json_string_value(json_object_get(d, "phase"));
		if (!ph || (strcmp(ph, "completed") && strcmp(ph, "failed")))
			return 0;
	}
	return 1;
}

/* Reading and parsing every status file (a hundred sources: a hundred
 * files) for each poll of the page cost more than the rest of the answer.
 * A status file is replaced by a rename, which changes the folder's mtime;
 * while every file has ended and the folder is unchanged, the parsed list
 * stands. A file still running is read again each time: its writer may
 * have died, which sync_status_read notices. */
json_t *web_sync_statuses(struct web *w)
{
	struct stat sb;
	struct strbuf err = STRBUF_INIT;
	json_t *docs = NULL;
	int have = stat(w->p->state_dir, &sb) == 0;
	pthread_mutex_lock(&w->status_lock);
	if (have && w->statuses && w->statuses_final && sb.st_mtim.tv_sec == w->statuses_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == w->statuses_mtime.tv_nsec)
		docs = json_incref(w->statuses);
	pthread_mutex_unlock(&w->status_lock);
	if (docs)
		return docs;
	if (sync_status_list(w->p->state_dir, &docs, &err) < 0) {
		json_decref(docs);
		docs = json_array();
	}
	strbuf_release(&err);
	pthread_mutex_lock(&w->status_lock);
	json_decref(w->statuses);
	w->statuses = json_incref(docs);
	w->statuses_final = have && all_final(docs);
	w->statuses_gen++;
	if (have)
		w->statuses_mtime = sb.st_mtim;
	pthread_mutex_unlock(&w->status_lock);
	return docs;
}

long web_sync_statuses_gen(struct web *w, int *live)
{
	json_decref(web_sync_statuses(w));
	pthread_mutex_lock(&w->status_lock);
	long gen = w->statuses_gen;
	*live = !w->statuses_final;
	pthread_mutex_unlock(&w->status_lock);
	return gen;
}
