/* Models and lineage from dbt's artifacts (target/manifest.json and
 * run_results.json, as `dango run` writes them), re-read when they change.
 * run_results.json holds only the last invocation (a `dango run -s x` has
 * x alone), so each result seen is kept in the ops-db table
 * web_model_results: a model's status is its last result, whichever run it
 * came from. Row counts come from the catalog snapshot. */
#include "web/internal.h"
#include "core/fs.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "state/opsdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS web_model_results (unique_id TEXT PRIMARY KEY, result TEXT NOT NULL);";

static double mtime_of(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return 0;
	return (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
}

/* Merge run_results.json into web_model_results and return every result
 * kept, by unique_id. */
static json_t *merge_results(struct web *w, json_t *rr)
{
	struct strbuf err = STRBUF_INIT;
	json_t *all = json_object();
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *when = json_string_value(json_object_get(json_object_get(rr, "metadata"), "generated_at"));
	size_t i;
	json_t *res;
	if (opsdb_open(w->p->state_dir, &db, &err) < 0 || opsdb_ensure(db, "web", schema_sql, &err) < 0) {
		opsdb_close(db);
		strbuf_release(&err);
		json_array_foreach(json_object_get(rr, "results"), i, res)
			json_object_set(all, json_string_value(json_object_get(res, "unique_id")), res);
		return all;
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO web_model_results VALUES (?, ?)", -1, &st, NULL) == SQLITE_OK) {
		json_array_foreach(json_object_get(rr, "results"), i, res) {
			const char *uid = json_string_value(json_object_get(res, "unique_id"));
			if (!uid)
				continue;
			/* keep what the page shows, not the compiled SQL */
			json_t *keep = json_pack("{s:O, s:O, s:O, s:O, s:O, s:s}", "status", json_object_get(res, "status"),
						 "message", json_object_get(res, "message") ? json_object_get(res, "message") : json_null(),
						 "execution_time", json_object_get(res, "execution_time") ? json_object_get(res, "execution_time") : json_null(),
						 "failures", json_object_get(res, "failures") ? json_object_get(res, "failures") : json_null(),
						 "adapter_response", json_object_get(res, "adapter_response") ? json_object_get(res, "adapter_response") : json_null(),
						 "completed_at", when ? when : "");
			if (!keep)
				continue;
			char *text = json_dumps(keep, JSON_COMPACT);
			sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, text, -1, free);
			sqlite3_step(st);
			sqlite3_reset(st);
			json_decref(keep);
		}
		sqlite3_finalize(st);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "SELECT unique_id, result FROM web_model_results", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_error_t je;
			json_t *r = json_loads((const char *)sqlite3_column_text(st, 1), 0, &je);
			if (r)
				json_object_set_new(all, (const char *)sqlite3_column_text(st, 0), r);
		}
		sqlite3_finalize(st);
	}
	opsdb_close(db);
	strbuf_release(&err);
	return all;
}

/* New references to the manifest and the results by unique_id, re-read
 * when the files changed. *manifest is NULL when there is none yet. */
static void artifacts(struct web *w, json_t **manifest, json_t **results)
{
	struct strbuf mp = STRBUF_INIT, rp = STRBUF_INIT;
	strbuf_addf(&mp, "%s/target/manifest.json", w->p->dbt_dir);
	strbuf_addf(&rp, "%s/target/run_results.json", w->p->dbt_dir);
	double mt = mtime_of(mp.buf), rt = mtime_of(rp.buf);
	pthread_mutex_lock(&w->art_lock);
	if (mt != w->manifest_mtime) {
		json_error_t je;
		json_t *m = mt ? json_load_file(mp.buf, 0, &je) : NULL;
		if (m || !mt) { /* a file caught mid-write: keep the last good one */
			json_decref(w->manifest);
			w->manifest = m;
			w->manifest_mtime = mt;
		}
	}
	if (rt != w->results_mtime || !w->run_results) {
		json_error_t je;
		json_t *rr = rt ? json_load_file(rp.buf, 0, &je) : NULL;
		if (rr || !rt) {
			json_decref(w->run_results);
			w->run_results = merge_results(w, rr ? rr : json_object());
			w->results_mtime = rt;
		}
		json_decref(rr);
	}
	*manifest = json_incref(w->manifest);
	*results = json_incref(w->run_results);
	pthread_mutex_unlock(&w->art_lock);
	strbuf_release(&mp);
	strbuf_release(&rp);
}

/* target/catalog.json, re-read when it changed; a new reference or NULL. */
static json_t *dbt_catalog(struct web *w)
{
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/target/catalog.json", w->p->dbt_dir);
	double mt = mtime_of(path.buf);
	pthread_mutex_lock(&w->art_lock);
	if (mt != w->dbt_catalog_mtime) {
		json_error_t je;
		json_t *c = mt ? json_load_file(path.buf, 0, &je) : NULL;
		if (c || !mt) { /* caught mid-write: keep the last good one */
			json_decref(w->dbt_catalog);
			w->dbt_catalog = c;
			w->dbt_catalog_mtime = mt;
		}
	}
	json_t *out = json_incref(w->dbt_catalog);
	pthread_mutex_unlock(&w->art_lock);
	strbuf_release(&path);
	return out;
}

static int by_index(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "index"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "index"));
	return x < y ? -1 : x > y;
}

/* A relation's columns in catalog.json, in their order, as a new array of
 * its column objects (borrowed members), or NULL. */
static json_t *catalog_columns(json_t *entry)
{
	json_t *cols = json_object_get(entry, "columns"), *c;
	const char *k;
	size_t n = json_object_size(cols), i = 0;
	if (!n)
		return NULL;
	json_t **v = xcalloc(n, sizeof(*v)), *out = json_array();
	json_object_foreach(cols, k, c)
		v[i++] = c;
	qsort(v, n, sizeof(*v), by_index);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

/* A column's description: the documented one (schema.yml), else the
 * comment catalog.json read from the warehouse. */
static const char *column_doc(json_t *doc, json_t *cat_cols, const char *name)
{
	const char *d = json_string_value(json_object_get(json_object_get(doc, name), "description"));
	if (d && *d)
		return d;
	const char *c = json_string_value(json_object_get(json_object_get(cat_cols, name), "comment"));
	return c ? c : "";
}

static int buildable(json_t *node)
{
	const char *t = json_string_value(json_object_get(node, "resource_type"));
	return t && (!strcmp(t, "model") || !strcmp(t, "seed") || !strcmp(t, "snapshot"));
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* staging / intermediate / marts (or the model's first folder) */
static const char *layer_of(json_t *node)
{
	const char *rt = str(node, "resource_type");
	if (!strcmp(rt, "source"))
		return "source";
	if (!strcmp(rt, "seed"))
		return "seed";
	json_t *fqn = json_object_get(node, "fqn");
	for (size_t i = 1; i + 1 < json_array_size(fqn); i++) {
		const char *f = json_string_value(json_array_get(fqn, i));
		if (f && (!strcmp(f, "staging") || !strcmp(f, "intermediate") || !strcmp(f, "marts")))
			return f;
	}
	const char *schema = str(node, "schema");
	if (!strcmp(schema, "staging") || !strcmp(schema, "intermediate") || !strcmp(schema, "marts"))
		return schema;
	return "other";
}

static json_t *model_json(struct web *w, json_t *node, json_t *results, json_t *cat)
{
	const char *uid = str(node, "unique_id"), *name = str(node, "name");
	const char *alias = json_object_get(node, "alias") ? str(node, "alias") : name;
	json_t *cfg = json_object_get(node, "config"), *res = json_object_get(results, uid);
	const char *mat = json_string_value(json_object_get(cfg, "materialized"));
	char run_id[64];
	const char *active = web_run_active(w, "run", name, run_id, sizeof(run_id));
	if (!active) {
		char plus[256];
		snprintf(plus, sizeof(plus), "%s+", name);
		active = web_run_active(w, "run", plus, run_id, sizeof(run_id));
	}
	long long rows = web_catalog_rows(cat, str(node, "schema"), alias);
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "unique_id", json_string(uid));
	json_object_set_new(o, "resource_type", json_string(str(node, "resource_type")));
	json_object_set_new(o, "schema", json_string(str(node, "schema")));
	json_object_set_new(o, "relation", json_string(alias));
	json_object_set_new(o, "layer", json_string(layer_of(node)));
	json_object_set_new(o, "materialized",
			    json_string(mat ? mat : !strcmp(str(node, "resource_type"), "seed") ? "seed" : "view"));
	json_object_set_new(o, "path", json_string(str(node, "original_file_path")));
	json_object_set_new(o, "description", json_string(str(node, "description")));
	json_object_set_new(o, "rows", rows >= 0 ? json_integer(rows) : json_null());
	json_object_set_new(o, "status", json_string(active ? "running" : res ? str(res, "status") : "never"));
	json_object_set_new(o, "last_run", res && *str(res, "completed_at") ? json_string(str(res, "completed_at"))
								  : json_null());
	json_object_set_new(o, "message", res && json_object_get(res, "message")
					      ? json_incref(json_object_get(res, "message"))
					      : json_null());
	json_object_set_new(o, "execution_time", res && json_object_get(res, "execution_time")
						     ? json_incref(json_object_get(res, "execution_time"))
						     : json_null());
	json_object_set_new(o, "run_id", active ? json_string(active) : json_null());
	return o;
}

/* The cached text of *text when key still matches, else NULL (under art_lock). */
static char *cached(struct web *w, char **text, char *stored_key, const char *key)
{
	char *out = NULL;
	pthread_mutex_lock(&w->art_lock);
	if (*text && !strcmp(stored_key, key))
		out = xstrdup(*text);
	pthread_mutex_unlock(&w->art_lock);
	return out;
}

static void store(struct web *w, char **text, char *stored_key, const char *key, const char *value)
{
	pthread_mutex_lock(&w->art_lock);
	free(*text);
	*text = xstrdup(value);
	snprintf(stored_key, 128, "%s", key);
	pthread_mutex_unlock(&w->art_lock);
}

static void cache_key(struct web *w, char *key, size_t n)
{
	pthread_mutex_lock(&w->art_lock);
	double mt = w->manifest_mtime, rt = w->results_mtime;
	pthread_mutex_unlock(&w->art_lock);
	snprintf(key, n, "%.6f/%.6f/%.6f/%ld", mt, rt, web_catalog_taken_at(w), web_runs_generation(w));
}

static void no_manifest(struct web_response *rs, const char *what)
{
	web_json(rs, 200, json_pack("{s:[], s:n, s:s}", what, "generated_at", "hint",
				    "no dbt/target/manifest.json yet: run 'dango run' (or 'dango compile') once"));
}

static void get_models(struct web *w, struct web_response *rs)
{
	json_t *m, *results;
	char key[128];
	artifacts(w, &m, &results);
	if (!m) {
		no_manifest(rs, "models");
		json_decref(results);
		return;
	}
	json_t *cat = web_catalog_get(w);
	cache_key(w, key, sizeof(key));
	char *list = cached(w, &w->models_text, w->models_key, key);
	if (!list) {
		json_t *arr = json_array();
		const char *k;
		json_t *node;
		json_object_foreach(json_object_get(m, "nodes"), k, node)
			if (buildable(node))
				json_array_append_new(arr, model_json(w, node, results, cat));
		list = json_dumps(arr, JSON_COMPACT);
		store(w, &w->models_text, w->models_key, key, list);
		json_decref(arr);
	}
	json_t *meta = json_pack("{s:O, s:O, s:O}", "generated_at",
				 json_object_get(json_object_get(m, "metadata"), "generated_at"), "catalog_age_seconds",
				 json_object_get(cat, "age_seconds"), "busy", json_object_get(cat, "busy"));
	char *tail = json_dumps(meta, JSON_COMPACT);
	/* {"models": [...], <meta without its opening brace> */
	rs->status = 200;
	rs->content_type = "application/json; charset=utf-8";
	strbuf_reset(&rs->body);
	strbuf_addstr(&rs->body, "{\"models\":");
	strbuf_addstr(&rs->body, list);
	strbuf_addch(&rs->body, ',');
	strbuf_addstr(&rs->body, tail + 1);
	strbuf_addch(&rs->body, '\n');
	free(tail);
	free(list);
	json_decref(meta);
	json_decref(cat);
	json_decref(m);
	json_decref(results);
}

static json_t *find_node(json_t *m, const char *name)
{
	const char *k;
	json_t *node;
	json_object_foreach(json_object_get(m, "nodes"), k, node)
		if (buildable(node) && (!strcmp(str(node, "name"), name) || !strcmp(k, name)))
			return node;
	return NULL;
}

static json_t *any_node(json_t *m, const char *uid)
{
	json_t *n = json_object_get(json_object_get(m, "nodes"), uid);
	return n ? n : json_object_get(json_object_get(m, "sources"), uid);
}

static json_t *neighbours(json_t *m, json_t *uids, json_t *results)
{
	json_t *out = json_array();
	size_t i;
	json_t *u;
	json_array_foreach(uids, i, u) {
		json_t *n = any_node(m, json_string_value(u));
		if (!n || !strcmp(str(n, "resource_type"), "test"))
			continue;
		json_t *res = json_object_get(results, json_string_value(u));
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "unique_id", json_string_value(u), "name",
						     str(n, "name"), "resource_type", str(n, "resource_type"), "status",
						     res ? str(res, "status") : "never"));
	}
	return out;
}

static void get_model(struct web *w, const char *name, struct web_response *rs)
{
	json_t *m, *results;
	artifacts(w, &m, &results);
	json_t *node = m ? find_node(m, name) : NULL;
	if (!node) {
		web_error(rs, 404, "no model named '%s' in dbt/target/manifest.json", name);
		goto out;
	}
	json_t *cat = web_catalog_get(w);
	json_t *o = model_json(w, node, results, cat);
	const char *uid = str(node, "unique_id");
	/* columns: the snapshot's (the newest), else those catalog.json
	 * recorded (dango docs generate; a relation the snapshot lacks),
	 * else the documented ones (manifest) without types */
	json_t *cols = json_array(), *dcat = dbt_catalog(w);
	json_t *centry = json_object_get(json_object_get(dcat, "nodes"), uid);
	json_t *ccols = json_object_get(centry, "columns");
	char key[1024];
	snprintf(key, sizeof(key), "%s.%s", str(node, "schema"), json_string_value(json_object_get(o, "relation")));
	json_t *tab = json_object_get(json_object_get(cat, "index"), key), *doc = json_object_get(node, "columns");
	json_t *from_cat = tab ? NULL : catalog_columns(centry);
	const char *source = tab ? "warehouse" : from_cat ? "catalog.json" : "manifest";
	size_t i;
	json_t *c;
	json_array_foreach(tab ? json_object_get(tab, "columns") : from_cat, i, c)
		json_array_append_new(cols, json_pack("{s:s, s:s, s:s}", "name", str(c, "name"), "type", str(c, "type"),
						      "description", column_doc(doc, ccols, str(c, "name"))));
	if (!tab && !from_cat) {
		const char *k;
		json_object_foreach(doc, k, c)
			json_array_append_new(cols, json_pack("{s:s, s:n, s:s}", "name", k, "type", "description",
							      str(c, "description")));
	}
	json_decref(from_cat);
	json_object_set_new(o, "columns_from", json_string(source));
	json_t *gen = json_object_get(json_object_get(dcat, "metadata"), "generated_at");
	json_object_set_new(o, "catalog_json_generated_at", centry && gen ? json_incref(gen) : json_null());
	json_decref(dcat);
	json_object_set_new(o, "columns", cols);
	/* tests attached to it, with their last results */
	json_t *tests = json_array();
	const char *k;
	json_t *t;
	json_object_foreach(json_object_get(m, "nodes"), k, t) {
		if (strcmp(str(t, "resource_type"), "test") || strcmp(str(t, "attached_node"), uid))
			continue;
		json_t *res = json_object_get(results, k);
		json_array_append_new(tests, json_pack("{s:s, s:s, s:O, s:s, s:O}", "unique_id", k, "name", str(t, "name"),
						       "column", json_object_get(t, "column_name") ? json_object_get(t, "column_name") : json_null(),
						       "status", res ? str(res, "status") : "never",
						       "failures", res && json_object_get(res, "failures") ? json_object_get(res, "failures") : json_null()));
	}
	json_object_set_new(o, "tests", tests);
	json_object_set_new(o, "raw_code", json_string(str(node, "raw_code")));
	json_object_set_new(o, "compiled_code", json_object_get(node, "compiled_code")
							? json_incref(json_object_get(node, "compiled_code"))
							: json_null());
	json_object_set_new(o, "upstream", neighbours(m, json_object_get(json_object_get(node, "depends_on"), "nodes"),
						     results));
	json_object_set_new(o, "downstream", neighbours(m, json_object_get(json_object_get(m, "child_map"), uid),
						       results));
	web_json(rs, 200, o);
	json_decref(cat);
out:
	json_decref(m);
	json_decref(results);
}

static void post_run(struct web *w, const struct web_request *rq, const char *name, struct web_response *rs)
{
	json_t *m, *results, *body = NULL;
	struct strbuf err = STRBUF_INIT;
	json_error_t je;
	artifacts(w, &m, &results);
	if (rq->body_len) {
		body = json_loadb(rq->body, rq->body_len, 0, &je);
		if (!json_is_object(body)) {
			web_error(rs, 400, "the body must be a JSON object: {\"downstream\": true}");
			goto out;
		}
		const char *k;
		json_t *v;
		json_object_foreach(body, k, v)
			if (strcmp(k, "downstream") || !json_is_boolean(v)) {
				web_error(rs, 400, "the body takes one key, 'downstream' (a boolean)");
				goto out;
			}
	}
	json_t *node = m ? find_node(m, name) : NULL;
	if (!node) {
		web_error(rs, 404, "no model named '%s' in dbt/target/manifest.json", name);
		goto out;
	}
	char sel[300], active[64];
	int down = json_is_true(json_object_get(body, "downstream"));
	snprintf(sel, sizeof(sel), "%s%s", str(node, "name"), down ? "+" : "");
	if (web_run_active(w, "run", sel, active, sizeof(active))) {
		web_json(rs, 409, json_pack("{s:s, s:s, s:i}", "error", "this run started here still runs", "run_id",
					    active, "status", 409));
		goto out;
	}
	char wait[32];
	snprintf(wait, sizeof(wait), "--wait=%d", WEB_LOCK_WAIT);
	const char *argv[] = { "run", "--select", sel, wait, NULL };
	char *id = web_run_start(w, "run", sel, argv, &err);
	if (!id) {
		web_error(rs, 500, "cannot start the run: %s", err.buf);
	} else {
		char url[128];
		snprintf(url, sizeof(url), "/api/runs/%s", id);
		web_json(rs, 202, json_pack("{s:s, s:s, s:s, s:s}", "run_id", id, "status", "running", "select", sel,
					    "url", url));
	}
	free(id);
out:
	json_decref(body);
	json_decref(m);
	json_decref(results);
	strbuf_release(&err);
}

static json_t *lineage_node(struct web *w, json_t *n, json_t *results, json_t *cat)
{
	const char *uid = str(n, "unique_id");
	json_t *res = json_object_get(results, uid);
	const char *status = res ? str(res, "status") : "never";
	const char *label = str(n, "name");
	char buf[300];
	if (!strcmp(str(n, "resource_type"), "source")) {
		snprintf(buf, sizeof(buf), "%s.%s", str(n, "source_name"), str(n, "name"));
		label = buf;
		status = "source";
		long long rows = web_catalog_rows(cat, str(n, "schema"), str(n, "identifier"));
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", uid, "name", label, "resource_type", "source",
				 "layer", "source", "status", status, "rows", rows >= 0 ? json_integer(rows) : json_null());
	}
	char run_id[64];
	if (web_run_active(w, "run", label, run_id, sizeof(run_id)))
		status = "running";
	const char *alias = json_object_get(n, "alias") ? str(n, "alias") : label;
	long long rows = web_catalog_rows(cat, str(n, "schema"), alias);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", uid, "name", label, "resource_type",
			      str(n, "resource_type"), "layer", layer_of(n), "status", status);
	json_object_set_new(o, "rows", rows >= 0 ? json_integer(rows) : json_null());
	json_object_set_new(o, "materialized", json_incref(json_object_get(json_object_get(n, "config"), "materialized")));
	return o;
}

static void get_lineage(struct web *w, struct web_response *rs)
{
	json_t *m, *results;
	char key[128];
	artifacts(w, &m, &results);
	if (!m) {
		web_json(rs, 200, json_pack("{s:[], s:[], s:s}", "nodes", "edges", "hint",
					    "no dbt/target/manifest.json yet: run 'dango run' (or 'dango compile') once"));
		json_decref(results);
		return;
	}
	cache_key(w, key, sizeof(key));
	char *text = cached(w, &w->lineage_text, w->lineage_key, key);
	if (!text) {
		json_t *cat = web_catalog_get(w), *nodes = json_array(), *edges = json_array();
		const char *k;
		json_t *n;
		json_object_foreach(json_object_get(m, "sources"), k, n)
			json_array_append_new(nodes, lineage_node(w, n, results, cat));
		json_object_foreach(json_object_get(m, "nodes"), k, n) {
			if (!buildable(n))
				continue;
			json_array_append_new(nodes, lineage_node(w, n, results, cat));
			size_t i;
			json_t *p;
			json_array_foreach(json_object_get(json_object_get(n, "depends_on"), "nodes"), i, p) {
				json_t *pn = any_node(m, json_string_value(p));
				if (pn && (buildable(pn) || !strcmp(str(pn, "resource_type"), "source")))
					json_array_append_new(edges, json_pack("{s:O, s:s}", "from", p, "to", k));
			}
		}
		json_t *doc = json_pack("{s:o, s:o}", "nodes", nodes, "edges", edges);
		text = json_dumps(doc, JSON_COMPACT);
		store(w, &w->lineage_text, w->lineage_key, key, text);
		json_decref(doc);
		json_decref(cat);
	}
	rs->status = 200;
	rs->content_type = "application/json; charset=utf-8";
	strbuf_reset(&rs->body);
	strbuf_addstr(&rs->body, text);
	strbuf_addch(&rs->body, '\n');
	free(text);
	json_decref(m);
	json_decref(results);
}

int web_models_route(struct web *w, const struct web_request *rq, struct web_response *rs,
		     const char *const *parts, size_t n)
{
	int get = strcmp(rq->method, "POST") != 0;
	if (!strcmp(parts[0], "lineage") && n == 1)
		get ? get_lineage(w, rs) : web_error(rs, 405, "use GET");
	else if (n == 1)
		get ? get_models(w, rs) : web_error(rs, 405, "use GET");
	else if (n == 2)
		get ? get_model(w, parts[1], rs) : web_error(rs, 405, "use GET");
	else if (n == 3 && !strcmp(parts[2], "run"))
		get ? web_error(rs, 405, "start a run with POST") : post_run(w, rq, parts[1], rs);
	else
		return -1;
	return 0;
}
