/* The JSON API (docs/api.md): health, sources and their syncs, runs, the
 * catalog snapshot and read-only queries; models and lineage are in
 * models.c. Reads never open the warehouse: they come from sources.yml, the
 * status files, the runs table and the catalog snapshot, so the page works
 * while a writer holds the warehouse. Only POST /api/query opens it (read-
 * only, locked down as `dango query` does), and says so when it is busy. */
#include "web/internal.h"
#include "core/fs.h"
#include "core/strvec.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/status.h"
#include "ingest/sync.h"
#include "project/project.h"
#include "project/sources.h"
#include "version.h"
#include "warehouse/lock.h"
#include "warehouse/pg_query.h"
#include "warehouse/pg_warehouse.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUERY_DEFAULT_LIMIT 1000
#define QUERY_MAX_LIMIT 10000

/* Names in paths: what sources.yml, dbt and run ids allow, nothing else. */
static int valid_name(const char *s)
{
	/* never an option: "--dry-run" must not become a flag of the child */
	if (!*s || strlen(s) > 200 || *s == '-' || *s == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

json_t *web_parse_body(const struct web_request *rq, struct web_response *rs)
{
	json_error_t je;
	if (!rq->body_len)
		return json_object();
	json_t *doc = json_loadb(rq->body, rq->body_len, 0, &je);
	if (!doc || !json_is_object(doc)) {
		web_error(rs, 400, "the body must be a JSON object%s%s", doc ? "" : ": ", doc ? "" : je.text);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* Keys of a body other than the allowed ones are an error, not ignored. */
int web_check_keys(json_t *body, const char *const *allowed, struct web_response *rs)
{
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			web_error(rs, 400, "unknown key '%s' in the body", k);
			return -1;
		}
	}
	return 0;
}

/* sources.yml as parsed for the last request, unless it changed since. */
static const struct source_list *load_sources(struct web *w, struct web_sources **ref, struct web_response *rs)
{
	struct strbuf err = STRBUF_INIT;
	const struct source_list *list = web_sources_get(w, ref, &err);
	if (!list)
		web_error(rs, 500, "%s", err.buf);
	strbuf_release(&err);
	return list;
}

static const char *mode_of(const struct source *s, char *buf, size_t n)
{
	const char *t = s->type_name;
	if (s->lookback_days > 0)
		snprintf(buf, n, "Incremental (%lldd lookback)", (long long)s->lookback_days);
	else if (!strcmp(t, "csv") || !strcmp(t, "local_files") || !strcmp(t, "json") || !strcmp(t, "parquet"))
		snprintf(buf, n, "Incremental (file tracking)");
	else if (!strcmp(t, "postgres") || !strcmp(t, "mysql") || !strcmp(t, "sqlite"))
		snprintf(buf, n, "Replication (per stream)");
	else
		snprintf(buf, n, "Incremental");
	return buf;
}

/* The newest status file that synced this source, its entry and the doc. */
static json_t *last_status(json_t *statuses, const char *name, json_t **entry)
{
	size_t i;
	json_t *doc;
	json_array_foreach(statuses, i, doc) {
		json_t *e = json_object_get(json_object_get(doc, "progress"), name);
		if (e) {
			*entry = e;
			return doc;
		}
	}
	*entry = NULL;
	return NULL;
}

/* One source's row of the Sources table. */
static json_t *source_json(struct web *w, const struct source *s, json_t *cat, json_t *statuses, json_t *schedules,
			   int with_columns)
{
	char mode[64], sch[300], run_id[64];
	json_t *o = json_object(), *tables = json_array(), *entry;
	json_int_t total = 0;
	snprintf(sch, sizeof(sch), "raw_%s", s->name);
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "type", json_string(s->type_name));
	json_object_set_new(o, "mode", json_string(mode_of(s, mode, sizeof(mode))));
	json_object_set_new(o, "enabled", json_boolean(s->enabled));
	json_object_set_new(o, "description", s->description ? json_string(s->description) : json_null());
	json_object_set_new(o, "schema", json_string(sch));
	/* its tables in the snapshot, without the bookkeeping ones */
	size_t i;
	json_t *schema, *last_load = NULL;
	json_array_foreach(json_object_get(cat, "schemas"), i, schema) {
		if (strcmp(json_string_value(json_object_get(schema, "name")), sch))
			continue;
		last_load = json_object_get(schema, "last_load");
		size_t j;
		json_t *t;
		json_array_foreach(json_object_get(schema, "tables"), j, t) {
			const char *tn = json_string_value(json_object_get(t, "name"));
			if (sync_is_meta_name(tn))
				continue;
			json_t *rows = json_object_get(t, "rows");
			total += json_integer_value(rows);
			json_t *row = json_pack("{s:s, s:O}", "name", tn, "rows", rows ? rows : json_null());
			if (json_object_get(t, "rows_estimated")) /* a postgres warehouse's large table */
				json_object_set(row, "rows_estimated", json_true());
			if (with_columns)
				json_object_set(row, "columns", json_object_get(t, "columns"));
			json_array_append_new(tables, row);
		}
	}
	json_object_set_new(o, "tables", tables);
	json_object_set_new(o, "rows", json_integer(total));
	json_t *doc = last_status(statuses, s->name, &entry);
	const char *st = entry ? json_string_value(json_object_get(entry, "status")) : NULL;
	const char *phase = doc ? json_string_value(json_object_get(doc, "phase")) : NULL;
	int running = doc && phase && strcmp(phase, "completed") && strcmp(phase, "failed");
	const char *active = web_run_active(w, "sync", s->name, run_id, sizeof(run_id));
	const char *status = active || running ? "running"
			     : !st		   ? (last_load && !json_is_null(last_load) ? "synced" : "never")
			     : !strcmp(st, "completed") ? "synced"
			     : !strcmp(st, "failed")    ? "failed"
			     : !strcmp(st, "not_run")   ? "failed"
							: "synced";
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "phase", running ? json_string(phase) : active ? json_string("starting") : json_null());
	/* live progress: what this source has loaded so far in the sync that runs */
	json_t *so_far = running ? json_object_get(entry, "rows") : NULL;
	json_object_set_new(o, "rows_so_far", json_is_integer(so_far) ? json_incref(so_far) : json_null());
	json_object_set_new(o, "source_status", running && st ? json_string(st) : json_null());
	json_object_set_new(o, "run_id", active ? json_string(active) : json_null());
	json_object_set_new(o, "error", entry && json_object_get(entry, "error") && !running
						? json_incref(json_object_get(entry, "error"))
						: json_null());
	json_t *finished = doc ? json_object_get(doc, "finished_at") : NULL;
	json_object_set_new(o, "last_sync", finished && st && !strcmp(st, "completed") ? web_local_to_utc(finished)
					    : last_load ? json_incref(last_load)
							: json_null());
	json_object_set_new(o, "last_attempt", finished ? web_local_to_utc(finished) : json_null());
	char *sched = web_schedules_of_source(schedules, s->name, s->enabled);
	json_object_set_new(o, "schedule", sched ? json_string(sched) : json_null());
	free(sched);
	return o;
}

/* GET /api/sources: the list is kept as text while sources.yml, the
 * snapshot, the status files, the runs and the schedules stay as they were
 * (never while a sync runs: its phase moves). */
static void get_sources(struct web *w, struct web_response *rs)
{
	struct strbuf key = STRBUF_INIT;
	struct web_sources *ref = NULL;
	int live;
	web_key_file(&key, w->p->sources_path);
	strbuf_addf(&key, "%.6f/%ld/%ld/", web_catalog_taken_at(w), web_sync_statuses_gen(w, &live),
		    web_runs_generation(w));
	strbuf_addf(&key, "%ld", web_schedules_brief_gen(w));
	char *text = live ? NULL : web_cache_get(w, &w->sources_text, key.buf);
	if (!text) {
		const struct source_list *list = load_sources(w, &ref, rs);
		if (!list)
			goto out;
		json_t *cat = web_catalog_get(w), *arr = json_array(), *schedules = web_schedules_brief(w);
		json_t *statuses = web_sync_statuses(w);
		for (size_t i = 0; i < list->nr; i++)
			json_array_append_new(arr, source_json(w, &list->items[i], cat, statuses, schedules, 0));
		json_t *doc = json_pack("{s:o}", "sources", arr);
		text = json_dumps(doc, JSON_COMPACT);
		if (!live)
			web_cache_put(w, &w->sources_text, key.buf, text);
		json_decref(doc);
		json_decref(schedules);
		json_decref(statuses);
		json_decref(cat);
	}
	json_t *meta = web_catalog_meta(w);
	web_json_text(rs, text, json_pack("{s:O, s:O, s:O}", "catalog_taken_at", json_object_get(meta, "taken_at"),
					  "catalog_age_seconds", json_object_get(meta, "age_seconds"), "busy",
					  json_object_get(meta, "busy")));
	json_decref(meta);
	free(text);
out:
	if (ref)
		web_sources_put(w, ref);
	strbuf_release(&key);
}

static int secret_key(const char *k)
{
	static const char *const words[] = { "password", "passwd", "secret", "token", "api_key", "apikey",
					     "private_key", "credentials", "client_secret", "dsn", NULL };
	char low[128];
	size_t i;
	for (i = 0; k[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[i] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

/* A YAML node as JSON with secrets masked: *_env keys show the variable's
 * name and whether it is set, never its value; keys that look like secrets
 * written inline show "********". */
static json_t *masked(const struct web *w, const struct ynode *n)
{
	if (!n)
		return json_null();
	if (n->kind == Y_SCALAR)
		return json_string(n->str ? n->str : "");
	if (n->kind == Y_SEQ) {
		json_t *a = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(a, masked(w, n->items[i]));
		return a;
	}
	json_t *o = json_object();
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->pairs[i].key->str;
		const struct ynode *v = n->pairs[i].value;
		if (ends_with(k, "_env") && v->kind == Y_SCALAR)
			json_object_set_new(o, k, json_pack("{s:s, s:b}", "env", v->str, "set",
							    env_lookup(&w->p->env, v->str, NULL) != NULL));
		else if (secret_key(k) && v->kind == Y_SCALAR)
			json_object_set_new(o, k, json_string("********"));
		else
			json_object_set_new(o, k, masked(w, v));
	}
	return o;
}

json_t *web_masked_config(const struct web *w, const void *source)
{
	const struct source *s = source;
	return masked(w, s->node);
}

static void get_source(struct web *w, const char *name, struct web_response *rs)
{
	struct web_sources *ref;
	const struct source_list *list = load_sources(w, &ref, rs);
	if (!list)
		return;
	const struct source *s = sources_find(list, name);
	if (!s) {
		web_error(rs, 404, "no source named '%s' in .dango/sources.yml", name);
	} else {
		json_t *cat = web_catalog_get(w), *schedules = web_schedules_brief(w);
		json_t *statuses = web_sync_statuses(w);
		json_t *o = source_json(w, s, cat, statuses, schedules, 1);
		json_decref(schedules);
		json_decref(statuses);
		json_object_set_new(o, "config", web_masked_config(w, s));
		json_object_set_new(o, "history", web_runs_list(w, "sync", name, 50));
		json_object_set(o, "catalog_taken_at", json_object_get(cat, "taken_at"));
		json_object_set(o, "catalog_age_seconds", json_object_get(cat, "age_seconds"));
		json_object_set(o, "busy", json_object_get(cat, "busy"));
		web_json(rs, 200, o);
		json_decref(cat);
	}
	web_sources_put(w, ref);
}

/* POST /api/sources/{name}/sync {"full_refresh": bool, "select": [...]} */
static void post_sync(struct web *w, const struct web_request *rq, const char *name, struct web_response *rs)
{
	static const char *const keys[] = { "full_refresh", "select", NULL };
	struct web_sources *ref = NULL;
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	char active[64];
	json_t *body = web_parse_body(rq, rs);
	if (!body)
		return;
	const struct source_list *list = web_check_keys(body, keys, rs) < 0 ? NULL : load_sources(w, &ref, rs);
	if (!list) {
		json_decref(body);
		return;
	}
	json_t *fr = json_object_get(body, "full_refresh"), *sel = json_object_get(body, "select");
	if (!sources_find(list, name)) {
		web_error(rs, 404, "no source named '%s' in .dango/sources.yml", name);
		goto out;
	}
	if ((fr && !json_is_boolean(fr)) || (sel && !json_is_array(sel))) {
		web_error(rs, 400, "'full_refresh' is a boolean and 'select' a list of table names");
		goto out;
	}
	if (web_run_active(w, "sync", name, active, sizeof(active))) {
		web_json(rs, 409, json_pack("{s:s, s:s, s:i}", "error", "a sync of this source started here still runs",
					    "run_id", active, "status", 409));
		goto out;
	}
	strvec_push(&argv, "sync");
	strvec_push(&argv, name);
	strvec_pushf(&argv, "--wait=%d", WEB_LOCK_WAIT);
	if (json_is_true(fr)) {
		/* the page asked the user before sending this */
		strvec_push(&argv, "--full-refresh");
		strvec_push(&argv, "--yes");
	}
	size_t i;
	json_t *v;
	json_array_foreach(sel, i, v) {
		if (!json_is_string(v) || !valid_name(json_string_value(v))) {
			web_error(rs, 400, "'select' holds table names (letters, digits, '_', '-', '.')");
			goto out;
		}
		strvec_pushf(&argv, "--select=%s", json_string_value(v));
	}
	char *id = web_run_start(w, "sync", name, (const char *const *)argv.v, &err);
	if (!id) {
		web_error(rs, 500, "cannot start the sync: %s", err.buf);
	} else {
		char url[128];
		snprintf(url, sizeof(url), "/api/runs/%s", id);
		web_json(rs, 202, json_pack("{s:s, s:s, s:s}", "run_id", id, "status", "running", "url", url));
	}
	free(id);
out:
	json_decref(body);
	web_sources_put(w, ref);
	strvec_clear(&argv);
	strbuf_release(&err);
}

static void get_health(struct web *w, struct web_response *rs)
{
	json_t *cat = web_catalog_meta(w);
	struct strbuf rel = STRBUF_INIT;
	int pg = pg_warehouse_enabled(w->p);
	if (pg) {
		strbuf_addstr(&rel, "postgres ");
		pg_warehouse_describe(w->p, &rel);
	} else {
		project_relpath(&rel, w->p, w->p->warehouse_path);
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i}", "status", "ok", "version", DANGO_VERSION, "project",
			      w->p->name ? w->p->name : "", "host", w->cfg->host, "port", w->cfg->port);
	json_object_set_new(o, "warehouse",
			    json_pack("{s:s, s:s, s:b, s:O, s:O}", "type", pg ? "postgres" : "duckdb", "path", rel.buf,
				      "exists", pg || fs_exists(w->p->warehouse_path), "busy", json_object_get(cat, "busy"),
				      "writer", json_object_get(cat, "writer")));
	json_object_set_new(o, "catalog", json_pack("{s:O, s:O}", "taken_at", json_object_get(cat, "taken_at"),
						    "age_seconds", json_object_get(cat, "age_seconds")));
	json_object_set_new(o, "auth", json_string(w->cfg->token ? "token" : "loopback"));
	json_object_set_new(o, "scheduler", json_pack("{s:b, s:s?}", "running", w->sched != NULL, "note",
						      w->sched ? NULL : w->sched_note));
	web_json(rs, 200, o);
	json_decref(cat);
	strbuf_release(&rel);
}

static void get_catalog(struct web *w, struct web_response *rs)
{
	char *text = web_catalog_text(w);
	web_json_text(rs, text, web_catalog_meta(w));
	free(text);
}

static void get_runs(struct web *w, const struct web_request *rq, struct web_response *rs)
{
	const char *kind = web_arg(rq, "kind"), *target = web_arg(rq, "target"), *lim = web_arg(rq, "limit");
	int64_t limit = 200;
	if (lim && (parse_int64(lim, &limit) < 0 || limit < 1 || limit > 1000)) {
		web_error(rs, 400, "'limit' is a number from 1 to 1000");
		return;
	}
	if (kind && strcmp(kind, "sync") && strcmp(kind, "run") && strcmp(kind, "schedule")) {
		web_error(rs, 400, "'kind' is 'sync', 'run' or 'schedule'");
		return;
	}
	/* kept while the runs, the history (ops-db) and the status files are
	 * as they were and nothing runs (a running job's duration moves) */
	struct strbuf key = STRBUF_INIT;
	int live;
	web_key_opsdb(w, &key);
	strbuf_addf(&key, "%ld/%ld/%lld/%s/", web_runs_generation(w), web_sync_statuses_gen(w, &live), (long long)limit,
		    kind ? kind : "");
	strbuf_addstr(&key, target ? target : "");
	char *text = live ? NULL : web_cache_get(w, &w->runs_text, key.buf);
	if (!text) {
		json_t *runs = web_runs_list(w, kind, target, (size_t)limit), *r;
		size_t i;
		json_array_foreach(runs, i, r)
			if (!strcmp(json_string_value(json_object_get(r, "status")) ? json_string_value(json_object_get(r, "status")) : "",
				    "running"))
				live = 1;
		json_t *doc = json_pack("{s:o}", "runs", runs);
		text = json_dumps(doc, JSON_COMPACT);
		if (!live)
			web_cache_put(w, &w->runs_text, key.buf, text);
		json_decref(doc);
	}
	web_json_text(rs, text, NULL);
	free(text);
	strbuf_release(&key);
}

static int cmp_by_key(const void *a, const void *b, void *key)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, key));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, key));
	return strcmp(x ? x : "", y ? y : "");
}

/* Sort an array of objects by a string member, ascending. */
static void sort_by_string(json_t *arr, const char *key)
{
	size_t n = json_array_size(arr);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort_r(v, n, sizeof(*v), cmp_by_key, (void *)key);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static int any_running(json_t *arr)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
		if (json_is_true(json_object_get(o, "running")) ||
		    !strcmp(json_string_value(json_object_get(o, "status")) ? json_string_value(json_object_get(o, "status")) : "",
			    "running"))
			return 1;
	return 0;
}

/* GET /api/overview: what the Overview page shows besides the lists: the
 * next and last scheduled runs, open drift, and rows loaded per day. Built
 * from schedules.yml, the ops-db (history, drift) and the status files:
 * kept as text while none of them changes, the day is the same, no next
 * run has passed and nothing scheduled runs. */
static void get_overview(struct web *w, struct web_response *rs)
{
	struct strbuf key = STRBUF_INIT;
	char *path = xasprintf("%s/schedules.yml", w->p->dango_dir);
	int live;
	long long until;
	web_key_file(&key, path);
	free(path);
	web_key_opsdb(w, &key);
	strbuf_addf(&key, "%ld/%ld/%d", web_sync_statuses_gen(w, &live), (long)(time(NULL) / 86400), w->sched != NULL);
	char *text = live ? NULL : web_cache_get(w, &w->overview_text, key.buf);
	if (text) {
		web_json_text(rs, text, NULL);
		free(text);
		strbuf_release(&key);
		return;
	}
	json_t *schedules = web_schedules_list_until(w, &until), *next = json_array(), *s;
	size_t i;
	json_array_foreach(schedules, i, s) {
		if (json_is_string(json_object_get(s, "next_run")))
			json_array_append_new(next, json_pack("{s:O, s:O, s:O, s:O}", "schedule", json_object_get(s, "name"),
							      "next_run", json_object_get(s, "next_run"), "next_run_local",
							      json_object_get(s, "next_run_local"), "selection",
							      json_object_get(s, "selection")));
	}
	sort_by_string(next, "next_run");
	json_t *last = web_schedule_runs(w, 5, NULL);
	int running = any_running(schedules) || any_running(last);
	json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "next_runs", next, "last_scheduled", last,
			      "drift", web_drift_summary(w), "rows_per_day", web_rows_per_day(w, 14));
	json_object_set_new(o, "scheduler", json_pack("{s:b, s:s?}", "running", w->sched != NULL, "note",
						      w->sched ? NULL : w->sched_note));
	json_object_set_new(o, "schedules", json_integer((json_int_t)json_array_size(schedules)));
	json_decref(schedules);
	text = json_dumps(o, JSON_COMPACT);
	if (!live && !running)
		web_cache_put_until(w, &w->overview_text, key.buf, text, until);
	web_json_text(rs, text, NULL);
	free(text);
	json_decref(o);
	strbuf_release(&key);
}

/* ---- POST /api/query ---------------------------------------------------------- */

static void query_error(struct web_response *rs, int status, const char *msg)
{
	web_json(rs, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

static int stream_rows(struct wh_result *r, struct strbuf *out, size_t limit, size_t *nrows, int *truncated,
		       struct strbuf *err)
{
	strbuf_addstr(out, "{\"columns\":[");
	for (size_t c = 0; c < r->cols; c++) {
		strbuf_addstr(out, c ? ",{\"name\":" : "{\"name\":");
		strbuf_add_json_str(out, wh_result_name(r, c));
		strbuf_addstr(out, ",\"type\":");
		strbuf_add_json_str(out, wh_result_type_name(r, c));
		strbuf_addf(out, ",\"numeric\":%s}", wh_result_is_numeric(r, c) ? "true" : "false");
	}
	strbuf_addstr(out, "],\"rows\":[");
	*nrows = 0;
	*truncated = 0;
	for (;;) {
		int more = wh_result_next(r, err);
		if (more < 0)
			return -1;
		if (!more)
			break;
		for (size_t i = 0; i < r->rows; i++) {
			if (*nrows == limit) {
				*truncated = 1;
				return 0;
			}
			strbuf_addstr(out, (*nrows)++ ? ",[" : "[");
			for (size_t c = 0; c < r->cols; c++) {
				if (c)
					strbuf_addch(out, ',');
				wh_result_add_json(r, i, c, out);
			}
			strbuf_addch(out, ']');
		}
	}
	return 0;
}

static void post_query(struct web *w, const struct web_request *rq, struct web_response *rs)
{
	static const char *const keys[] = { "sql", "limit", NULL };
	struct warehouse wh;
	struct wh_result r;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	json_t *body = web_parse_body(rq, rs);
	if (!body)
		return;
	if (web_check_keys(body, keys, rs) < 0)
		goto out;
	const char *sql = json_string_value(json_object_get(body, "sql"));
	json_t *lim = json_object_get(body, "limit");
	json_int_t limit = lim ? json_integer_value(lim) : QUERY_DEFAULT_LIMIT;
	if (!sql || !*sql) {
		query_error(rs, 400, "'sql' (a string) is required");
		goto out;
	}
	if (lim && (!json_is_integer(lim) || limit < 1 || limit > QUERY_MAX_LIMIT)) {
		web_error(rs, 400, "'limit' is a number from 1 to %d", QUERY_MAX_LIMIT);
		goto out;
	}
	int o;
	if (pg_warehouse_enabled(w->p)) {
		/* a read-only transaction with the statement timeout; never waits for a writer */
		o = pg_query_open(&wh, w->p, WH_READ_ONLY, w->p->pg.statement_timeout, &err);
	} else if (!fs_exists(w->p->warehouse_path)) {
		query_error(rs, 409, "the warehouse does not exist yet: sync a source first");
		goto out;
	} else {
		o = warehouse_open(&wh, w->p->warehouse_path, WH_READ_ONLY, &err);
	}
	if (o == WH_LOCKED) {
		struct lock_holder h;
		struct strbuf msg = STRBUF_INIT;
		memset(&h, 0, sizeof(h));
		strbuf_addstr(&msg, "the warehouse is being written");
		if (lock_probe(w->p->state_dir, &h) == 1) {
			strbuf_addstr(&msg, " (");
			lock_describe(&msg, &h);
			strbuf_addch(&msg, ')');
		}
		strbuf_addstr(&msg, ": DuckDB lets no reader in until it finishes; run the query again then");
		web_json(rs, 409, json_pack("{s:s, s:b, s:i}", "error", msg.buf, "busy", 1, "status", 409));
		strbuf_release(&msg);
		goto out;
	}
	if (o < 0) {
		query_error(rs, 500, err.buf);
		goto out;
	}
	/* as `dango query` without --write: the warehouse and nothing else */
	if (warehouse_lock_down(&wh, &err) < 0) {
		query_error(rs, 500, err.buf);
		warehouse_close(&wh);
		goto out;
	}
	double t0 = web_now();
	size_t nrows = 0;
	int truncated = 0;
	if (warehouse_query_stream(&wh, sql, &r, &err) < 0 ||
	    (stream_rows(&r, &out, (size_t)limit, &nrows, &truncated, &err) < 0 && (wh_result_free(&r), 1))) {
		if (strstr(err.buf, "read-only"))
			strbuf_addstr(&err, "\n(queries from the page are read-only)");
		else if (wh.pg && strstr(err.buf, "multiple commands"))
			strbuf_addstr(&err, "\n(a query from the page is one statement)");
		else if (wh.pg && strstr(err.buf, "statement timeout"))
			strbuf_addf(&err, "\n(a query from the page stops after %d seconds: warehouse.statement_timeout "
				    "in project.yml)", wh.pg_timeout);
		else if (strstr(err.buf, "disabled by configuration"))
			strbuf_addstr(&err, "\n(a query from the page reads the warehouse and nothing else)");
		query_error(rs, 400, err.buf);
		warehouse_close(&wh);
		goto out;
	}
	wh_result_free(&r);
	warehouse_close(&wh);
	strbuf_addf(&out, "],\"row_count\":%zu,\"truncated\":%s,\"limit\":%lld,\"seconds\":%.3f}\n", nrows,
		    truncated ? "true" : "false", (long long)limit, web_now() - t0);
	rs->status = 200;
	rs->content_type = "application/json; charset=utf-8";
	strbuf_reset(&rs->body);
	strbuf_addbuf(&rs->body, &out);
out:
	json_decref(body);
	strbuf_release(&err);
	strbuf_release(&out);
}

/* ---- dispatch ------------------------------------------------------------------ */

#define MAX_PARTS 8

int web_api(struct web *w, const struct web_request *rq, struct web_response *rs)
{
	char buf[1024];
	const char *parts[MAX_PARTS];
	size_t n = 0;
	int get = strcmp(rq->method, "POST") != 0;
	if (strlen(rq->path) >= sizeof(buf))
		return -1;
	strcpy(buf, rq->path + 5); /* after "/api/" */
	for (char *p = buf, *slash; p && *p && n < MAX_PARTS; p = slash) {
		slash = strchr(p, '/');
		if (slash)
			*slash++ = '\0';
		parts[n++] = p;
	}
	if (n == 0)
		return -1;
	for (size_t i = 1; i < n; i++)
		if (!valid_name(parts[i])) {
			web_error(rs, 400, "bad name '%s' in the path", parts[i]);
			return 0;
		}
	const char *first = parts[0];
	if (!strcmp(first, "models") || !strcmp(first, "lineage"))
		return web_models_route(w, rq, rs, parts, n);
	if (!strcmp(first, "schedules"))
		return web_schedules_route(w, rq, rs, parts, n);
	if (!strcmp(first, "drift") || !strcmp(first, "oauth"))
		return web_governance_route(w, rq, rs, parts, n);
	if (n == 1 && !strcmp(first, "overview") && get) {
		get_overview(w, rs);
		return 0;
	}
	if (n == 1 && !strcmp(first, "health") && get)
		get_health(w, rs);
	else if (n == 1 && !strcmp(first, "sources") && get)
		get_sources(w, rs);
	else if (n == 2 && !strcmp(first, "sources") && get)
		get_source(w, parts[1], rs);
	else if (n == 3 && !strcmp(first, "sources") && !strcmp(parts[2], "sync"))
		get ? web_error(rs, 405, "start a sync with POST") : post_sync(w, rq, parts[1], rs);
	else if (n == 1 && !strcmp(first, "runs") && get)
		get_runs(w, rq, rs);
	else if (n == 2 && !strcmp(first, "runs") && get) {
		json_t *o = web_run_get(w, parts[1]);
		if (!o)
			o = web_schedule_run_get(w, parts[1]);
		if (o)
			web_json(rs, 200, o);
		else
			web_error(rs, 404, "no run '%s'", parts[1]);
	} else if (n == 1 && !strcmp(first, "catalog") && get)
		get_catalog(w, rs);
	else if (n == 1 && !strcmp(first, "query"))
		get ? web_error(rs, 405, "send the query with POST") : post_query(w, rq, rs);
	else if (!get && (!strcmp(first, "health") || !strcmp(first, "sources") || !strcmp(first, "runs") ||
			  !strcmp(first, "catalog")))
		web_error(rs, 405, "%s %s is not allowed", rq->method, rq->path);
	else
		return -1;
	return 0;
}
