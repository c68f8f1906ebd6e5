/* The catalog snapshot: schemas, tables, columns and row counts of the
 * warehouse, taken whenever the warehouse is free after a write (a job of
 * the page ended, or the file changed under another writer), and kept in
 * the ops-db table web_catalog so that the page has it while a writer holds
 * the warehouse (DuckDB lets no reader in then) and after a restart. Every
 * answer says how old it is and whether a writer holds the warehouse. */
#include "web/internal.h"
#include "core/fs.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "state/opsdb.h"
#include "warehouse/lock.h"
#include "warehouse/pg_query.h"
#include "warehouse/pg_warehouse.h"
#include "warehouse/warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS web_catalog (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" taken_at REAL NOT NULL, wh_mtime REAL NOT NULL, doc TEXT NOT NULL);";

#define COUNT_BATCH 200

static double file_mtime(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return 0;
	return (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
}

/* A postgres warehouse has no file to watch: its snapshot is taken after
 * the page's own jobs and at least this often (seconds). */
#define PG_REFRESH_EVERY 60

/* The warehouse file and its WAL: either changes on a write. */
static double warehouse_mtime(const struct project *p)
{
	if (pg_warehouse_enabled(p))
		return 0;
	char wal[4096];
	snprintf(wal, sizeof(wal), "%s.wal", p->warehouse_path);
	double a = file_mtime(p->warehouse_path), b = file_mtime(wal);
	return a > b ? a : b;
}

static void persist(struct web *w, json_t *doc, double taken_at, double mtime)
{
	struct strbuf err = STRBUF_INIT;
	sqlite3 *db;
	sqlite3_stmt *st;
	if (opsdb_open(w->p->state_dir, &db, &err) < 0)
		goto out;
	if (opsdb_ensure(db, "web", schema_sql, &err) == 0 &&
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO web_catalog VALUES (1, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK) {
		char *text = json_dumps(doc, JSON_COMPACT);
		sqlite3_bind_double(st, 1, taken_at);
		sqlite3_bind_double(st, 2, mtime);
		sqlite3_bind_text(st, 3, text, -1, free);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	opsdb_close(db);
out:
	strbuf_release(&err);
}

static void load_persisted(struct web *w)
{
	struct strbuf err = STRBUF_INIT;
	sqlite3 *db;
	sqlite3_stmt *st;
	if (opsdb_open(w->p->state_dir, &db, &err) < 0)
		goto out;
	if (opsdb_ensure(db, "web", schema_sql, &err) == 0 &&
	    sqlite3_prepare_v2(db, "SELECT taken_at, wh_mtime, doc FROM web_catalog WHERE id = 1", -1, &st, NULL) ==
		    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_error_t je;
			json_t *doc = json_loads((const char *)sqlite3_column_text(st, 2), 0, &je);
			if (doc) {
				w->catalog.doc = doc;
				w->catalog.taken_at = sqlite3_column_double(st, 0);
				w->catalog.wh_mtime = sqlite3_column_double(st, 1);
			}
		}
		sqlite3_finalize(st);
	}
	opsdb_close(db);
out:
	strbuf_release(&err);
}

static json_t *empty_doc(void)
{
	return json_pack("{s:[], s:{}, s:I}", "schemas", "index", "size_bytes", (json_int_t)0);
}

void web_catalog_init(struct web *w)
{
	pthread_mutex_init(&w->catalog.lock, NULL);
	load_persisted(w);
	if (!w->catalog.doc)
		w->catalog.doc = empty_doc();
}

void web_catalog_release(struct web *w)
{
	json_decref(w->catalog.doc);
	w->catalog.doc = NULL;
	pthread_mutex_destroy(&w->catalog.lock);
}

static json_t *schema_entry(json_t *schemas, json_t *by_name, const char *name)
{
	json_t *s = json_object_get(by_name, name);
	if (!s) {
		s = json_pack("{s:s, s:[]}", "name", name, "tables");
		json_array_append_new(schemas, s);
		json_object_set(by_name, name, s);
	}
	return s;
}

/* Tables and views with their columns. */
static int read_tables(struct warehouse *wh, json_t *doc, struct strbuf *err)
{
	struct wh_result r;
	json_t *schemas = json_object_get(doc, "schemas"), *index = json_object_get(doc, "index");
	json_t *by_name = json_object();
	int ret = -1;
	if (warehouse_query(wh,
			    "SELECT table_schema, table_name, table_type FROM information_schema.tables "
			    "WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', 'pg_catalog') "
			    "ORDER BY 1, 2",
			    &r, err) < 0)
		goto out;
	for (size_t i = 0; i < r.rows; i++) {
		char *s = wh_result_str(&r, i, 0), *t = wh_result_str(&r, i, 1), *type = wh_result_str(&r, i, 2);
		char key[1024];
		json_t *tab = json_pack("{s:s, s:s, s:n, s:[]}", "name", t, "type",
					type && !strcmp(type, "VIEW") ? "view" : "table", "rows", "columns");
		json_array_append(json_object_get(schema_entry(schemas, by_name, s), "tables"), tab);
		snprintf(key, sizeof(key), "%s.%s", s, t);
		json_object_set_new(index, key, tab);
		free(s);
		free(t);
		free(type);
	}
	wh_result_free(&r);
	if (warehouse_query(wh,
			    "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
			    "WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', 'pg_catalog') "
			    "ORDER BY table_schema, table_name, ordinal_position",
			    &r, err) < 0)
		goto out;
	for (size_t i = 0; i < r.rows; i++) {
		char *s = wh_result_str(&r, i, 0), *t = wh_result_str(&r, i, 1);
		char *c = wh_result_str(&r, i, 2), *type = wh_result_str(&r, i, 3);
		char key[1024];
		snprintf(key, sizeof(key), "%s.%s", s, t);
		json_t *tab = json_object_get(index, key);
		if (tab)
			json_array_append_new(json_object_get(tab, "columns"),
					      json_pack("{s:s, s:s}", "name", c, "type", type ? type : ""));
		free(s);
		free(t);
		free(c);
		free(type);
	}
	wh_result_free(&r);
	ret = 0;
out:
	json_decref(by_name);
	return ret;
}

static void count_batch(struct warehouse *wh, json_t *index, const char **keys, size_t n)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	struct wh_result r;
	for (size_t i = 0; i < n; i++) {
		json_t *tab = json_object_get(index, keys[i]);
		const char *dot = strchr(keys[i], '.');
		char *schema = xstrndup(keys[i], (size_t)(dot - keys[i]));
		if (i)
			strbuf_addstr(&sql, " UNION ALL ");
		strbuf_addf(&sql, "SELECT %zu AS k, count(*) AS n FROM ", i);
		strbuf_add_sql_ident(&sql, schema);
		strbuf_addch(&sql, '.');
		strbuf_add_sql_ident(&sql, json_string_value(json_object_get(tab, "name")));
		free(schema);
	}
	if (n && warehouse_query(wh, sql.buf, &r, &err) == 0) {
		for (size_t i = 0; i < r.rows; i++) {
			int64_t k = wh_result_int(&r, i, 0);
			if (k >= 0 && (size_t)k < n)
				json_object_set_new(json_object_get(index, keys[k]), "rows",
						    json_integer(wh_result_int(&r, i, 1)));
		}
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	strbuf_release(&err);
}

/* PostgreSQL's count(*) reads the whole table, and the snapshot is taken
 * every minute: a table the planner's statistics (pg_class.reltuples, kept
 * by ANALYZE and autovacuum) put at PG_EXACT_BELOW rows or more gets that
 * estimate, marked rows_estimated (the page writes "~"); smaller ones, and
 * tables never analyzed (reltuples -1), are counted. */
#define PG_EXACT_BELOW 100000

static void pg_estimates(struct warehouse *wh, json_t *index)
{
	struct strbuf err = STRBUF_INIT;
	struct wh_result r;
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT n.nspname, c.relname, c.reltuples::bigint FROM pg_class c JOIN pg_namespace n "
		 "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND c.reltuples >= %d",
		 PG_EXACT_BELOW);
	if (warehouse_query(wh, sql, &r, &err) == 0) {
		for (size_t i = 0; i < r.rows; i++) {
			char *s = wh_result_str(&r, i, 0), *t = wh_result_str(&r, i, 1), key[1024];
			snprintf(key, sizeof(key), "%s.%s", s ? s : "", t ? t : "");
			json_t *tab = json_object_get(index, key);
			if (tab && !strcmp(json_string_value(json_object_get(tab, "type")), "table")) {
				json_object_set_new(tab, "rows", json_integer(wh_result_int(&r, i, 2)));
				json_object_set_new(tab, "rows_estimated", json_true());
			}
			free(s);
			free(t);
		}
		wh_result_free(&r);
	}
	strbuf_release(&err);
}

/* Row counts of base tables (views would run their query: left null). */
static void count_rows(struct warehouse *wh, json_t *doc)
{
	json_t *index = json_object_get(doc, "index");
	const char *keys[COUNT_BATCH];
	size_t n = 0;
	const char *k;
	json_t *tab;
	if (wh->pg)
		pg_estimates(wh, index);
	json_object_foreach(index, k, tab) {
		if (strcmp(json_string_value(json_object_get(tab, "type")), "table") ||
		    json_object_get(tab, "rows_estimated"))
			continue;
		keys[n++] = k;
		if (n == COUNT_BATCH) {
			count_batch(wh, index, keys, n);
			n = 0;
		}
	}
	count_batch(wh, index, keys, n);
}

/* The last successful load of each raw schema (_dlt_loads). */
static void last_loads(struct warehouse *wh, json_t *doc)
{
	json_t *schemas = json_object_get(doc, "schemas"), *index = json_object_get(doc, "index");
	size_t i;
	json_t *s;
	json_array_foreach(schemas, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		char key[1024];
		snprintf(key, sizeof(key), "%s._dlt_loads", name);
		if (!json_object_get(index, key))
			continue;
		struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
		struct wh_result r;
		strbuf_addstr(&sql, wh->pg ? "SELECT extract(epoch FROM max(inserted_at)) FROM "
					  : "SELECT epoch(max(inserted_at)) FROM ");
		strbuf_add_sql_ident(&sql, name);
		strbuf_addstr(&sql, "._dlt_loads WHERE status = 0");
		if (warehouse_query(wh, sql.buf, &r, &err) == 0) {
			double t = r.rows && !wh_result_is_null(&r, 0, 0) ? wh_result_double(&r, 0, 0) : 0;
			char when[40];
			web_iso(when, sizeof(when), t);
			json_object_set_new(s, "last_load", t > 0 ? json_string(when) : json_null());
			wh_result_free(&r);
		}
		strbuf_release(&sql);
		strbuf_release(&err);
	}
}

/* The snapshot of a postgres warehouse into doc; 0, or -1 (err). */
static int pg_snapshot(const struct project *p, json_t *doc, struct strbuf *err)
{
	struct warehouse wh;
	int64_t size = 0;
	if (pg_query_open(&wh, p, WH_READ_ONLY, p->pg.statement_timeout, err) < 0)
		return -1;
	int ret = read_tables(&wh, doc, err);
	if (ret == 0) {
		count_rows(&wh, doc);
		last_loads(&wh, doc);
		if (warehouse_query_int(&wh, "SELECT pg_database_size(current_database())", &size, err) == 0)
			json_object_set_new(doc, "size_bytes", json_integer((json_int_t)size));
	}
	warehouse_close(&wh);
	return ret;
}

/* Take a snapshot now. 0, 1 when the warehouse is busy, -1 on error. */
static int refresh(struct web *w)
{
	const struct project *p = w->p;
	struct lock_holder holder;
	struct warehouse wh;
	struct strbuf err = STRBUF_INIT;
	double mtime = warehouse_mtime(p), now = web_now();
	json_t *doc = empty_doc();
	int ret = 0;
	if (pg_warehouse_enabled(p)) {
		/* PostgreSQL lets readers in while a writer works: no waiting for the lock */
		ret = pg_snapshot(p, doc, &err);
		if (ret < 0)
			goto out;
	} else if (lock_probe(p->state_dir, &holder) == 1) {
		ret = 1;
		goto out;
	} else if (fs_exists(p->warehouse_path)) {
		int r = warehouse_open(&wh, p->warehouse_path, WH_READ_ONLY, &err);
		if (r == WH_LOCKED) {
			ret = 1;
			goto out;
		}
		if (r < 0) {
			ret = -1;
			goto out;
		}
		if (read_tables(&wh, doc, &err) == 0) {
			count_rows(&wh, doc);
			last_loads(&wh, doc);
		} else {
			ret = -1;
		}
		warehouse_close(&wh);
		if (ret < 0)
			goto out;
		struct stat sb;
		if (stat(p->warehouse_path, &sb) == 0)
			json_object_set_new(doc, "size_bytes", json_integer((json_int_t)sb.st_size));
	}
	persist(w, doc, now, mtime);
	pthread_mutex_lock(&w->catalog.lock);
	json_decref(w->catalog.doc);
	w->catalog.doc = doc;
	doc = NULL;
	w->catalog.taken_at = now;
	w->catalog.wh_mtime = mtime;
	w->catalog.dirty = 0;
	pthread_mutex_unlock(&w->catalog.lock);
out:
	json_decref(doc);
	strbuf_release(&err);
	return ret;
}

void web_catalog_tick(struct web *w, int force)
{
	pthread_mutex_lock(&w->catalog.lock);
	int due = force || w->catalog.dirty || !w->catalog.taken_at || warehouse_mtime(w->p) != w->catalog.wh_mtime ||
		  (pg_warehouse_enabled(w->p) && web_now() - w->catalog.taken_at >= PG_REFRESH_EVERY);
	pthread_mutex_unlock(&w->catalog.lock);
	if (!due)
		return;
	if (refresh(w) != 0) {
		pthread_mutex_lock(&w->catalog.lock);
		w->catalog.dirty = 1;
		pthread_mutex_unlock(&w->catalog.lock);
	}
}

json_t *web_catalog_meta(struct web *w)
{
	struct lock_holder holder;
	memset(&holder, 0, sizeof(holder));
	int writing = lock_probe(w->p->state_dir, &holder) == 1;
	/* busy: readers wait (DuckDB); PostgreSQL reads on while one writes */
	int busy = writing && !pg_warehouse_enabled(w->p);
	double taken = web_catalog_taken_at(w);
	json_t *o = json_object();
	char when[40];
	if (taken > 0) {
		web_iso(when, sizeof(when), taken);
		json_object_set_new(o, "taken_at", json_string(when));
		json_object_set_new(o, "age_seconds", json_real(web_now() - taken));
	} else {
		json_object_set_new(o, "taken_at", json_null());
		json_object_set_new(o, "age_seconds", json_null());
	}
	json_object_set_new(o, "busy", json_boolean(busy));
	if (writing) {
		struct strbuf sb = STRBUF_INIT;
		lock_describe(&sb, &holder);
		json_object_set_new(o, "writer", json_string(sb.buf));
		strbuf_release(&sb);
	} else {
		json_object_set_new(o, "writer", json_null());
	}
	return o;
}

json_t *web_catalog_get(struct web *w)
{
	json_t *meta = web_catalog_meta(w);
	pthread_mutex_lock(&w->catalog.lock);
	json_t *doc = json_copy(w->catalog.doc); /* shallow: the top level is ours */
	pthread_mutex_unlock(&w->catalog.lock);
	json_object_update(doc, meta);
	json_decref(meta);
	return doc;
}

/* The snapshot as GET /api/catalog sends it (without the index), kept as
 * text until the next snapshot: 1,000 relations make a 360 KB document. */
char *web_catalog_text(struct web *w)
{
	char key[64];
	snprintf(key, sizeof(key), "%.6f", web_catalog_taken_at(w));
	char *text = web_cache_get(w, &w->catalog_text, key);
	if (text)
		return text;
	pthread_mutex_lock(&w->catalog.lock);
	json_t *doc = json_copy(w->catalog.doc);
	snprintf(key, sizeof(key), "%.6f", w->catalog.taken_at);
	pthread_mutex_unlock(&w->catalog.lock);
	json_object_del(doc, "index");
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	web_cache_put(w, &w->catalog_text, key, text);
	return text;
}

double web_catalog_taken_at(struct web *w)
{
	pthread_mutex_lock(&w->catalog.lock);
	double t = w->catalog.taken_at;
	pthread_mutex_unlock(&w->catalog.lock);
	return t;
}

long long web_catalog_rows(json_t *cat, const char *schema, const char *table)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s.%s", schema, table);
	json_t *tab = json_object_get(json_object_get(cat, "index"), key);
	json_t *rows = tab ? json_object_get(tab, "rows") : NULL;
	return rows && json_is_integer(rows) ? (long long)json_integer_value(rows) : -1;
}
