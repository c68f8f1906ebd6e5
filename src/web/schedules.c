/* Schedules in the web server: the scheduler (schedule/scheduler.h) runs on
 * a thread of its own (one worker of core/pool.h), so that its loop never
 * waits on an HTTP request nor the other way round; the routes under
 * /api/schedules read it through its thread-safe calls.
 *
 * Without an in-process scheduler (--no-scheduler, or another `dango
 * scheduler` holds the project's scheduler lock) the list comes from
 * schedules.yml and the history, and "run now" starts `dango schedule run
 * NAME` as a job of the page: the same fire, retry and history code, in
 * the foreground of a subprocess.
 *
 * The scheduler's history rows are runs of kind "schedule" ("sched-ID") in
 * GET /api/runs, with the log each job wrote. */
#include "web/internal.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/pool.h"
#include "core/strvec.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/schedules.h"
#include "project/sources.h"
#include "schedule/history.h"
#include "schedule/scheduler.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the scheduler's thread ---------------------------------------------------- */

static void run_scheduler(void *task, size_t worker)
{
	struct web *w = task;
	(void)worker;
	scheduler_run(w->sched);
	pthread_mutex_lock(&w->sched_lock);
	w->sched_done = 1;
	pthread_mutex_unlock(&w->sched_lock);
}

void web_scheduler_start(struct web *w)
{
	struct strbuf err = STRBUF_INIT;
	struct scheduler_opts o = { w->p->root, w->self_exe, NULL, NULL, NULL };
	if (w->cfg->no_scheduler) {
		w->sched_note = xstrdup("not running: dango web was started with --no-scheduler");
		return;
	}
	if (scheduler_open(&w->sched, &o, &err) < 0) {
		w->sched = NULL;
		w->sched_note = xasprintf("not running in this server: %s", err.buf);
		fprintf(stderr, "warning: the scheduler does not run in this server: %s\n", err.buf);
	} else {
		w->sched_pool = xcalloc(1, sizeof(*w->sched_pool));
		pool_init(w->sched_pool, 1, run_scheduler);
		pool_submit(w->sched_pool, w);
	}
	strbuf_release(&err);
}

void web_scheduler_stop(struct web *w, int force)
{
	if (w->sched)
		scheduler_stop(w->sched, force);
}

int web_scheduler_done(struct web *w)
{
	if (!w->sched)
		return 1;
	pthread_mutex_lock(&w->sched_lock);
	int done = w->sched_done;
	pthread_mutex_unlock(&w->sched_lock);
	return done;
}

void web_scheduler_release(struct web *w)
{
	if (w->sched_pool) {
		pool_wait(w->sched_pool);
		pool_release(w->sched_pool);
		free(w->sched_pool);
		w->sched_pool = NULL;
	}
	scheduler_close(w->sched);
	w->sched = NULL;
	free(w->sched_note);
	w->sched_note = NULL;
}

/* ---- history rows as runs --------------------------------------------------------- */

static void set_epoch(json_t *o, const char *key, json_t *v)
{
	char buf[40];
	json_int_t t = json_integer_value(v);
	if (t <= 0) {
		json_object_set_new(o, key, json_null());
		return;
	}
	web_iso(buf, sizeof(buf), (double)t);
	json_object_set_new(o, key, json_string(buf));
}

static const char *run_status(const char *s)
{
	if (!s)
		return "failed";
	if (!strcmp(s, "success"))
		return "completed";
	if (!strcmp(s, "timeout"))
		return "failed";
	return s; /* running, failed, skipped, missed */
}

static json_t *known_count(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_incref(v) : json_null();
}

/* A history row (history.h) in the shape of GET /api/runs. */
static json_t *row_as_run(json_t *row)
{
	char id[48];
	json_t *o = json_object();
	const char *st = json_string_value(json_object_get(row, "status"));
	snprintf(id, sizeof(id), "sched-%lld", (long long)json_integer_value(json_object_get(row, "id")));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "kind", json_string("schedule"));
	json_object_set(o, "target", json_object_get(row, "schedule"));
	json_object_set_new(o, "origin", json_string("scheduler"));
	json_object_set(o, "trigger", json_object_get(row, "trigger"));
	json_object_set(o, "attempt", json_object_get(row, "attempt"));
	json_object_set_new(o, "status", json_string(run_status(st)));
	json_object_set_new(o, "phase", json_string(run_status(st)));
	json_object_set_new(o, "schedule_status", json_string(st ? st : "failed"));
	json_t *start = json_object_get(row, "started_at"), *end = json_object_get(row, "finished_at");
	set_epoch(o, "scheduled_for", json_object_get(row, "scheduled_for"));
	set_epoch(o, "started_at", json_integer_value(start) > 0 ? start : json_object_get(row, "scheduled_for"));
	set_epoch(o, "finished_at", end);
	if (json_integer_value(start) > 0 && json_integer_value(end) >= json_integer_value(start))
		json_object_set_new(o, "duration_seconds",
				    json_real((double)(json_integer_value(end) - json_integer_value(start))));
	else if (json_integer_value(start) > 0 && st && !strcmp(st, "running"))
		json_object_set_new(o, "duration_seconds",
				    json_real((double)(clock_now_sec() - json_integer_value(start))));
	else
		json_object_set_new(o, "duration_seconds", json_null());
	json_object_set_new(o, "rows", known_count(json_object_get(row, "rows_loaded")));
	json_object_set_new(o, "models", known_count(json_object_get(row, "models_run")));
	const char *e = json_string_value(json_object_get(row, "error"));
	json_object_set_new(o, "error", e && *e ? json_string(e) : json_null());
	return o;
}

/* "sync_status_ID.json" -> ID, into ids (a set). */
static void note_status_id(json_t *ids, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path;
	if (!base || strncmp(base, "sync_status_", 12) || !ends_with(base, ".json"))
		return;
	char *id = xstrndup(base + 12, strlen(base) - 12 - 5);
	json_object_set_new(ids, id, json_true());
	free(id);
}

static sqlite3 *history_db(struct web *w)
{
	sqlite3 *db = NULL;
	struct strbuf err = STRBUF_INIT;
	if (history_open_readonly(w->p->state_dir, &db, &err) != 0)
		db = NULL;
	strbuf_release(&err);
	return db;
}

json_t *web_schedule_runs(struct web *w, size_t limit, json_t *status_ids)
{
	json_t *out = json_array();
	sqlite3 *db = history_db(w);
	if (!db)
		return out;
	json_t *rows = history_list(db, NULL, (int)limit);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		json_array_append_new(out, row_as_run(row));
		if (status_ids)
			note_status_id(status_ids, json_string_value(json_object_get(row, "status_path")));
	}
	json_decref(rows);
	sqlite3_close(db);
	return out;
}

json_t *web_schedule_run_get(struct web *w, const char *id)
{
	int64_t n;
	if (strncmp(id, "sched-", 6) || parse_int64(id + 6, &n) < 0)
		return NULL;
	sqlite3 *db = history_db(w);
	if (!db)
		return NULL;
	json_t *row = history_get(db, n), *o = NULL;
	if (row) {
		o = row_as_run(row);
		web_add_log(o, json_string_value(json_object_get(row, "log_path")));
		json_decref(row);
	}
	sqlite3_close(db);
	return o;
}

/* ---- the list ------------------------------------------------------------------------ */

static char *schedules_path(struct web *w)
{
	return xasprintf("%s/schedules.yml", w->p->dango_dir);
}

static int load_schedules(struct web *w, struct schedule_list *list, struct strbuf *err)
{
	char *path = schedules_path(w);
	int ret = schedules_load(list, path, ".dango/schedules.yml", NULL, err);
	free(path);
	return ret;
}

/* Times as the page shows them: ISO UTC, and the schedule's own zone. */
static void decorate(json_t *o)
{
	char local[48];
	json_t *next = json_object_get(o, "next_run");
	const char *zone = json_string_value(json_object_get(o, "timezone"));
	if (json_is_integer(next) && json_integer_value(next) > 0) {
		json_object_set_new(o, "next_run_local",
				    json_string(schedule_format_time(local, json_integer_value(next), zone)));
		set_epoch(o, "next_run", next);
	} else {
		json_object_set_new(o, "next_run_local", json_null());
		json_object_set_new(o, "next_run", json_null());
	}
	json_t *last = json_object_get(o, "last_run");
	if (json_is_object(last)) {
		json_t *run = row_as_run(last);
		if (!json_object_get(o, "running"))
			json_object_set_new(o, "running",
					    json_boolean(!strcmp(json_string_value(json_object_get(run, "status")), "running")));
		json_object_set_new(o, "last_run", run);
	} else if (!json_object_get(o, "running")) {
		json_object_set_new(o, "running", json_false());
	}
	json_t *retry = json_object_get(o, "retry_at");
	if (retry)
		set_epoch(o, "retry_at", retry);
	json_t *since = json_object_get(o, "running_since");
	if (since)
		set_epoch(o, "running_since", since);
}

static json_t *find_entry(json_t *arr, const char *name);

/* schedules.yml is the truth for what is configured (an edit shows at
 * once); the running scheduler for what runs (running, retries, its next
 * fire once it has reloaded the edit). */
static long long earliest_next(json_t *arr);

json_t *web_schedules_list(struct web *w)
{
	long long until;
	return web_schedules_list_until(w, &until);
}

json_t *web_schedules_list_until(struct web *w, long long *until)
{
	struct schedule_list list;
	struct strbuf err = STRBUF_INIT;
	json_t *arr;
	if (load_schedules(w, &list, &err) < 0) {
		strbuf_release(&err);
		arr = w->sched ? scheduler_list(w->sched) : json_array();
	} else {
		sqlite3 *db = history_db(w);
		arr = schedule_overview(&list, db, clock_now_sec());
		if (db)
			sqlite3_close(db);
		schedules_release(&list);
		strbuf_release(&err);
		if (w->sched) {
			json_t *live = scheduler_list(w->sched), *o;
			size_t i;
			json_array_foreach(arr, i, o) {
				json_t *l = find_entry(live, json_string_value(json_object_get(o, "name")));
				if (!l)
					continue;
				static const char *const keys[] = { "running", "running_since", "retry_at", NULL };
				for (size_t k = 0; keys[k]; k++)
					if (json_object_get(l, keys[k]))
						json_object_set(o, keys[k], json_object_get(l, keys[k]));
				if (json_equal(json_object_get(l, "enabled"), json_object_get(o, "enabled")))
					json_object_set(o, "next_run", json_object_get(l, "next_run"));
			}
			json_decref(live);
		}
	}
	*until = earliest_next(arr);
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
		decorate(o);
	return arr;
}

/* The earliest next run of a list (epoch seconds, before decorate), or
 * LLONG_MAX when none is due: the list stands until then. */
static long long earliest_next(json_t *arr)
{
	long long first = LLONG_MAX;
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		json_t *next = json_object_get(o, "next_run");
		if (json_is_integer(next) && json_integer_value(next) > 0 && json_integer_value(next) < first)
			first = json_integer_value(next);
	}
	return first;
}

/* Kept while schedules.yml is unchanged and no next run has passed (the
 * Sources table asks it on every poll). The answer is shared: read it,
 * never change it. */
json_t *web_schedules_brief(struct web *w)
{
	struct schedule_list list;
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT;
	char *path = schedules_path(w);
	long long now = (long long)clock_now_sec();
	json_t *arr = NULL, *o;
	web_key_file(&key, path);
	pthread_mutex_lock(&w->cache_lock);
	if (w->sched_brief && !strcmp(w->sched_brief_key, key.buf) && now < w->sched_brief_until)
		arr = json_incref(w->sched_brief);
	pthread_mutex_unlock(&w->cache_lock);
	if (arr)
		goto out;
	if (schedules_load(&list, path, ".dango/schedules.yml", NULL, &err) == 0) {
		arr = schedule_overview(&list, NULL, clock_now_sec());
		schedules_release(&list);
	} else {
		arr = json_array();
	}
	long long until = earliest_next(arr);
	size_t i;
	json_array_foreach(arr, i, o)
		decorate(o);
	pthread_mutex_lock(&w->cache_lock);
	json_decref(w->sched_brief);
	free(w->sched_brief_key);
	w->sched_brief = json_incref(arr);
	w->sched_brief_key = strbuf_detach(&key, NULL);
	w->sched_brief_until = until;
	w->sched_brief_gen++;
	pthread_mutex_unlock(&w->cache_lock);
out:
	free(path);
	strbuf_release(&err);
	strbuf_release(&key);
	return arr;
}

long web_schedules_brief_gen(struct web *w)
{
	json_decref(web_schedules_brief(w));
	pthread_mutex_lock(&w->cache_lock);
	long gen = w->sched_brief_gen;
	pthread_mutex_unlock(&w->cache_lock);
	return gen;
}

char *web_schedules_of_source(json_t *schedules, const char *source, int enabled)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *o;
	json_array_foreach(schedules, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *sel = json_string_value(json_object_get(o, "selection"));
		if (!type || (strcmp(type, "sync") && strcmp(type, "sync_only")) || !sel ||
		    !json_is_true(json_object_get(o, "enabled")))
			continue;
		/* "all sources", or "a, b.t, c" as schedule_describe_selection writes it */
		int hit = enabled && !strcmp(sel, "all sources"); /* all enabled ones */
		size_t n = strlen(source);
		for (const char *p = sel; !hit && *p;) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			hit = (len == n || (len > n && p[n] == '.')) && !strncmp(p, source, n);
			p = end ? end + 2 : p + len;
		}
		if (hit) {
			const char *local = json_string_value(json_object_get(o, "next_run_local"));
			strbuf_addf(&sb, "%s%s", sb.len ? "; " : "", json_string_value(json_object_get(o, "name")));
			if (local)
				strbuf_addf(&sb, " (next %s)", local);
		}
	}
	return sb.len ? strbuf_detach(&sb, NULL) : (strbuf_release(&sb), NULL);
}

static json_t *scheduler_state(struct web *w)
{
	return json_pack("{s:b, s:s?}", "running", w->sched != NULL, "note", w->sched ? NULL : w->sched_note);
}

static json_t *find_entry(json_t *arr, const char *name)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "name")), name))
			return o;
	return NULL;
}

static void get_schedules(struct web *w, struct web_response *rs)
{
	struct schedule_list list;
	struct strbuf err = STRBUF_INIT;
	/* a broken file is an answer, not an empty list */
	if (load_schedules(w, &list, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		strbuf_release(&err);
		return;
	}
	schedules_release(&list);
	strbuf_release(&err);
	web_json(rs, 200, json_pack("{s:o, s:o}", "schedules", web_schedules_list(w), "scheduler", scheduler_state(w)));
}

static void get_schedule(struct web *w, const char *name, struct web_response *rs)
{
	json_t *arr = web_schedules_list(w), *o = find_entry(arr, name);
	if (!o) {
		web_error(rs, 404, "no schedule named '%s' in .dango/schedules.yml", name);
		json_decref(arr);
		return;
	}
	json_t *history = json_array();
	sqlite3 *db = history_db(w);
	if (db) {
		json_t *rows = history_list(db, name, 50), *row;
		size_t i;
		json_array_foreach(rows, i, row)
			json_array_append_new(history, row_as_run(row));
		json_decref(rows);
		sqlite3_close(db);
	}
	json_object_set_new(o, "history", history);
	json_object_set_new(o, "scheduler", scheduler_state(w));
	web_json(rs, 200, json_incref(o));
	json_decref(arr);
}

/* POST /api/schedules/{name}/run */
static void post_run(struct web *w, const char *name, struct web_response *rs)
{
	struct schedule_list list;
	struct strbuf err = STRBUF_INIT;
	char active[64];
	if (load_schedules(w, &list, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		strbuf_release(&err);
		return;
	}
	if (!schedules_find(&list, name)) {
		web_error(rs, 404, "no schedule named '%s' in .dango/schedules.yml", name);
	} else if (w->sched) {
		if (scheduler_run_now(w->sched, name, &err) < 0)
			web_error(rs, strstr(err.buf, "no schedule") ? 404 : 409, "%s", err.buf);
		else
			web_json(rs, 202, json_pack("{s:s, s:s, s:s+}", "schedule", name, "status", "queued", "url",
						    "/api/schedules/", name));
	} else if (web_run_active(w, "schedule", name, active, sizeof(active))) {
		web_json(rs, 409, json_pack("{s:s, s:s, s:i}", "error", "a run of this schedule started here still runs",
					    "run_id", active, "status", 409));
	} else {
		/* no scheduler here: the same job in the foreground of a child */
		const char *argv[] = { "schedule", "run", name, NULL };
		char *id = web_run_start(w, "schedule", name, argv, &err);
		if (!id)
			web_error(rs, 500, "cannot start the schedule: %s", err.buf);
		else
			web_json(rs, 202, json_pack("{s:s, s:s, s:s, s:s+}", "schedule", name, "status", "running",
						    "run_id", id, "url", "/api/schedules/", name));
		free(id);
	}
	schedules_release(&list);
	strbuf_release(&err);
}

/* POST /api/schedules/{name}/enable and /disable: schedules.yml is edited
 * in place (comments kept) as `dango schedule enable|disable` does. */
static void post_enable(struct web *w, const char *name, int enable, struct web_response *rs)
{
	struct schedule_list list;
	struct source_list sources;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	char *path = schedules_path(w);
	int have_sources = 0;
	pthread_mutex_lock(&w->sched_lock);
	if (sources_load(&sources, w->p->sources_path, ".dango/sources.yml", &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		goto out;
	}
	have_sources = 1;
	if (schedules_load(&list, path, ".dango/schedules.yml", &sources, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		goto out;
	}
	if (!schedules_find(&list, name))
		web_error(rs, 404, "no schedule named '%s' in .dango/schedules.yml", name);
	else if (schedules_text_enable(&list, name, enable, &text, &err) < 0 ||
		 schedules_save(path, ".dango/schedules.yml", text.buf, &sources, &err) < 0)
		web_error(rs, 500, "%s", err.buf);
	schedules_release(&list);
out:
	pthread_mutex_unlock(&w->sched_lock);
	if (have_sources)
		sources_release(&sources);
	if (!rs->status) {
		if (w->sched)
			scheduler_reload(w->sched);
		/* the list from the file (the scheduler reloads at its next tick) */
		struct schedule_list now;
		struct strbuf e2 = STRBUF_INIT;
		json_t *o = NULL;
		if (load_schedules(w, &now, &e2) == 0) {
			sqlite3 *db = history_db(w);
			json_t *arr = schedule_overview(&now, db, clock_now_sec());
			if (db)
				sqlite3_close(db);
			o = find_entry(arr, name);
			if (o) {
				json_incref(o);
				decorate(o);
			}
			json_decref(arr);
			schedules_release(&now);
		}
		web_json(rs, 200, o ? o : json_pack("{s:s, s:b}", "name", name, "enabled", enable));
		strbuf_release(&e2);
	}
	free(path);
	strbuf_release(&err);
	strbuf_release(&text);
}

int web_schedules_route(struct web *w, const struct web_request *rq, struct web_response *rs,
			const char *const *parts, size_t n)
{
	int get = strcmp(rq->method, "POST") != 0;
	if (n == 1)
		get ? get_schedules(w, rs) : web_error(rs, 405, "read the schedules with GET");
	else if (n == 2)
		get ? get_schedule(w, parts[1], rs) : web_error(rs, 405, "read a schedule with GET");
	else if (n == 3 && (!strcmp(parts[2], "run") || !strcmp(parts[2], "enable") || !strcmp(parts[2], "disable"))) {
		if (get)
			web_error(rs, 405, "use POST to %s a schedule", parts[2]);
		else if (!strcmp(parts[2], "run"))
			post_run(w, parts[1], rs);
		else
			post_enable(w, parts[1], !strcmp(parts[2], "enable"), rs);
	} else
		return -1;
	return 0;
}
