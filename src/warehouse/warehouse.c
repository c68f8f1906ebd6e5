#include "warehouse/warehouse.h"
#include "warehouse/row_id.h"
#include "warehouse/spool.h"
#include "warehouse/pg_query.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/ui.h"
#include "core/xalloc.h"

#include <duckdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB(wh) ((duckdb_database *)(wh)->db)
#define CON(wh) ((duckdb_connection *)(wh)->con)

static int is_lock_conflict(const char *msg)
{
	return msg && (strstr(msg, "Could not set lock on file") || strstr(msg, "Conflicting lock"));
}

int warehouse_open(struct warehouse *wh, const char *path, enum wh_mode mode, struct strbuf *err)
{
	duckdb_config config = NULL;
	char *open_err = NULL;
	int ret = WH_ERROR;

	memset(wh, 0, sizeof(*wh));
	wh->db = xcalloc(1, sizeof(duckdb_database));
	wh->con = xcalloc(1, sizeof(duckdb_connection));
	wh->path = xstrdup(path);
	wh->mode = mode;
	if (duckdb_create_config(&config) == DuckDBError) {
		strbuf_addstr(err, "cannot create a DuckDB configuration");
		goto out;
	}
	duckdb_set_config(config, "access_mode", mode == WH_READ_ONLY ? "READ_ONLY" : "READ_WRITE");
	/* extensions cannot be downloaded here; never try */
	duckdb_set_config(config, "autoinstall_known_extensions", "false");
	duckdb_set_config(config, "autoload_known_extensions", "false");
	/* DuckDB 1.5 keeps up to 5 finished row groups per thread in memory before
	 * writing them; one is 1.4's behaviour, and a CSV load peaks 60% lower */
	if (duckdb_set_config(config, "write_buffer_row_group_count", "1") == DuckDBError) {
		strbuf_addf(err, "cannot open warehouse '%s': DuckDB %s has no setting write_buffer_row_group_count",
			    path, duckdb_library_version());
		goto out;
	}
	if (duckdb_open_ext(path, DB(wh), config, &open_err) == DuckDBError) {
		if (is_lock_conflict(open_err)) {
			ret = WH_LOCKED;
			strbuf_addf(err, "the warehouse '%s' is open in another process", path);
			const char *pid = open_err ? strstr(open_err, "(PID ") : NULL;
			if (pid) {
				strbuf_addf(err, " (pid %ld)", strtol(pid + 5, NULL, 10));
			}
		} else {
			strbuf_addf(err, "cannot open warehouse '%s': %s", path, open_err ? open_err : "unknown error");
		}
		goto out;
	}
	if (duckdb_connect(*DB(wh), CON(wh)) == DuckDBError) {
		strbuf_addf(err, "cannot connect to warehouse '%s'", path);
		goto out;
	}
	/* the _dlt_id of the rows a load writes (warehouse/row_id.h) */
	if (mode != WH_READ_ONLY && row_id_register(CON(wh)) < 0) {
		strbuf_addf(err, "cannot open warehouse '%s': cannot register __dango_row_id()", path);
		goto out;
	}
	/* the REST, command and IMAP sources' spool files (warehouse/spool.h) */
	if (mode != WH_READ_ONLY && spool_register(CON(wh)) < 0) {
		strbuf_addf(err, "cannot open warehouse '%s': cannot register __dango_spool()", path);
		goto out;
	}
	ret = 0;
out:
	if (open_err)
		duckdb_free(open_err);
	if (config)
		duckdb_destroy_config(&config);
	if (ret < 0)
		warehouse_close(wh);
	return ret;
}

int warehouse_open_wait(struct warehouse *wh, const char *path, enum wh_mode mode, int wait_seconds,
			void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err)
{
	struct timespec start, now;
	int told = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct strbuf e = STRBUF_INIT;
		int r = warehouse_open(wh, path, mode, &e);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r != WH_LOCKED || now.tv_sec - start.tv_sec >= wait_seconds) {
			strbuf_addbuf(err, &e);
			strbuf_release(&e);
			return r;
		}
		if (!told && on_wait) {
			on_wait(e.buf, data);
			told = 1;
		}
		strbuf_release(&e);
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void warehouse_close(struct warehouse *wh)
{
	if (wh->pg) {
		pg_query_close(wh);
		return;
	}
	if (wh->con) {
		duckdb_disconnect(CON(wh));
		free(wh->con);
	}
	if (wh->db) {
		duckdb_close(DB(wh));
		free(wh->db);
	}
	free(wh->path);
	memset(wh, 0, sizeof(*wh));
}

/* DuckDB's parser errors carry the "LINE n: ... ^" excerpt twice; every
 * message goes through here, so that each excerpt is shown once. */
static void add_db_message(struct strbuf *err, const char *msg)
{
	size_t start = err->len;
	const char *p = msg;
	strbuf_addstr(err, "");
	while (*p) {
		const char *line = strstr(p, "LINE ");
		while (line && line != msg && line[-1] != '\n')
			line = strstr(line + 1, "LINE ");
		if (!line) {
			strbuf_addstr(err, p);
			break;
		}
		/* the excerpt: its line and the caret line below it */
		const char *end = strchr(line, '\n');
		end = end ? strchr(end + 1, '\n') : NULL;
		end = end ? end + 1 : line + strlen(line);
		size_t n = (size_t)(end - line);
		strbuf_add(err, p, (size_t)(line - p));
		char *block = xstrndup(line, n);
		int seen = strstr(err->buf + start, block) != NULL;
		free(block);
		if (seen)
			strbuf_rtrim(err);
		else
			strbuf_add(err, line, n);
		p = end;
	}
	strbuf_rtrim(err);
}

static void log_sql(const struct timespec *t0, const char *sql, int failed)
{
	struct timespec t1;
	if (ui.level < UI_DEBUG)
		return;
	/* RUNTIME__LOG_LEVEL=DEBUG: every statement with its time */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
	ui_debug("sql %.1f ms%s: %.300s", ms, failed ? " (failed)" : "", sql);
}

/* The session's TimeZone (TIMESTAMPTZ values show in it); the caller frees it. */
static char *session_time_zone(struct warehouse *wh)
{
	duckdb_result res;
	struct wh_result r;
	struct strbuf ignored = STRBUF_INIT;
	char *tz = NULL;
	if (duckdb_query(*CON(wh), "SELECT current_setting('TimeZone')", &res) == DuckDBError) {
		duckdb_destroy_result(&res);
		return NULL;
	}
	if (wh_result_take(&r, &res, 0, NULL, &ignored) == 0) {
		if (r.rows && r.cols)
			tz = wh_result_str(&r, 0, 0);
		wh_result_free(&r);
	}
	strbuf_release(&ignored);
	return tz;
}

/* Hand a finished duckdb_result (which failed or not) over to r. */
static int take_result(struct warehouse *wh, duckdb_result *res, duckdb_state st, struct wh_result *r,
		       struct strbuf *err)
{
	if (st == DuckDBError) {
		const char *msg = duckdb_result_error(res);
		add_db_message(err, msg ? msg : "query failed");
		duckdb_destroy_result(res);
		return WH_ERROR;
	}
	if (wh_result_take(r, res, 0, NULL, err) < 0)
		return WH_ERROR;
	if (wh_result_needs_time_zone(r)) {
		char *tz = session_time_zone(wh);
		wh_result_set_time_zone(r, tz);
		free(tz);
	}
	return 0;
}

int warehouse_query(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err)
{
	if (wh->pg)
		return pg_query_run(wh, sql, r, err);
	struct timespec t0;
	duckdb_result res;
	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	duckdb_state st = duckdb_query(*CON(wh), sql, &res);
	log_sql(&t0, sql, st == DuckDBError);
	return take_result(wh, &res, st, r, err);
}

int warehouse_query_stream(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err)
{
	if (wh->pg)
		return pg_query_stream(wh, sql, r, err);
	duckdb_prepared_statement stmt = NULL;
	duckdb_pending_result pending = NULL;
	duckdb_result res;
	int ret = WH_ERROR;
	/* duckdb_pending_prepared_streaming is marked deprecated, but DuckDB's (1.4, 1.5)
	 * C API has no other way to stream (besides Arrow); the deprecated
	 * duckdb_value_* readers are never used (result.c reads chunks). The time
	 * zone is asked first: nothing else may run on the connection while it
	 * streams. */
	char *tz = session_time_zone(wh);
	memset(r, 0, sizeof(*r));
	if (duckdb_prepare(*CON(wh), sql, &stmt) == DuckDBError) {
		const char *msg = duckdb_prepare_error(stmt);
		add_db_message(err, msg ? msg : "query failed");
		goto out;
	}
	if (duckdb_pending_prepared_streaming(stmt, &pending) == DuckDBError) {
		const char *msg = duckdb_pending_error(pending);
		add_db_message(err, msg ? msg : "query failed");
		goto out;
	}
	if (duckdb_execute_pending(pending, &res) == DuckDBError) {
		const char *msg = duckdb_result_error(&res);
		add_db_message(err, msg ? msg : "query failed");
		duckdb_destroy_result(&res);
		goto out;
	}
	ret = wh_result_take(r, &res, 1, tz, err) < 0 ? WH_ERROR : 0;
out:
	if (pending)
		duckdb_destroy_pending(&pending);
	if (stmt)
		duckdb_destroy_prepare(&stmt);
	free(tz);
	return ret;
}

/* DuckDB lets COPY ... TO and EXPORT DATABASE overwrite the open database's
 * own file (or turn its WAL's path into a folder, which EXPORT does while it
 * is only being prepared), which destroys the warehouse. The C API does not
 * say where a statement writes, so SQL that holds COPY or EXPORT and names
 * the file is refused before anything runs: a by-name check, which a symlink
 * of another name would pass. */
static int writes_warehouse_file(struct warehouse *wh, const char *sql, struct strbuf *err)
{
	const char *base = wh->path ? strrchr(wh->path, '/') : NULL;
	base = base ? base + 1 : wh->path;
	if (!base || !*base || !strstr(sql, base))
		return 0;
	const char *what = strcasestr(sql, "copy") ? "COPY" : strcasestr(sql, "export") ? "EXPORT" : NULL;
	if (!what)
		return 0;
	strbuf_addf(err, "refusing to run %s with the warehouse file '%s' in it: it would overwrite the warehouse",
		    what, base);
	return 1;
}

int warehouse_query_each(struct warehouse *wh, const char *sql, int (*each)(struct wh_result *r, void *data),
			 void *data, struct strbuf *err)
{
	if (wh->pg)
		return pg_query_each(wh, sql, each, data, err);
	duckdb_extracted_statements stmts = NULL;
	int ret = 0;
	if (writes_warehouse_file(wh, sql, err))
		return WH_ERROR;
	idx_t n = duckdb_extract_statements(*CON(wh), sql, &stmts);
	if (!n) {
		const char *msg = duckdb_extract_statements_error(stmts);
		if (msg && *msg) {
			add_db_message(err, msg);
			ret = WH_ERROR;
		}
		goto out;
	}
	for (idx_t i = 0; i < n && !ret; i++) {
		duckdb_prepared_statement stmt = NULL;
		duckdb_result res;
		struct wh_result r;
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (duckdb_prepare_extracted_statement(*CON(wh), stmts, i, &stmt) == DuckDBError) {
			const char *msg = duckdb_prepare_error(stmt);
			add_db_message(err, msg ? msg : "query failed");
			duckdb_destroy_prepare(&stmt);
			ret = WH_ERROR;
			break;
		}
		duckdb_state st = duckdb_execute_prepared(stmt, &res);
		duckdb_destroy_prepare(&stmt);
		log_sql(&t0, sql, st == DuckDBError);
		if (take_result(wh, &res, st, &r, err) < 0) {
			ret = WH_ERROR;
			break;
		}
		ret = each(&r, data);
		wh_result_free(&r);
	}
out:
	duckdb_destroy_extracted(&stmts);
	return ret;
}

int warehouse_lock_down(struct warehouse *wh, struct strbuf *err)
{
	if (wh->pg) /* the read-only transaction is the fence there (pg_query.c) */
		return 0;
	/* order matters: the lock comes last, and nothing can change after it */
	static const char *const steps[] = {
		"SET allow_persistent_secrets = false",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct strbuf e = STRBUF_INIT;
		if (warehouse_exec(wh, steps[i], &e) < 0) {
			strbuf_addf(err, "cannot restrict the warehouse connection (%s): %s", steps[i], e.buf);
			strbuf_release(&e);
			return WH_ERROR;
		}
		strbuf_release(&e);
	}
	return 0;
}

int warehouse_exec(struct warehouse *wh, const char *sql, struct strbuf *err)
{
	struct wh_result r;
	int ret = warehouse_query(wh, sql, &r, err);
	if (!ret)
		wh_result_free(&r);
	return ret;
}

int warehouse_execf(struct warehouse *wh, struct strbuf *err, const char *fmt, ...)
{
	struct strbuf sql = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sql, fmt, ap);
	va_end(ap);
	int ret = warehouse_exec(wh, sql.buf, err);
	strbuf_release(&sql);
	return ret;
}

int warehouse_query_int(struct warehouse *wh, const char *sql, int64_t *out, struct strbuf *err)
{
	struct wh_result r;
	*out = 0;
	if (warehouse_query(wh, sql, &r, err) < 0)
		return WH_ERROR;
	if (r.rows && r.cols)
		*out = wh_result_int(&r, 0, 0);
	wh_result_free(&r);
	return 0;
}

int warehouse_describe(struct warehouse *wh, const char *what, struct strvec *names, struct strvec *types,
		       struct strbuf *err)
{
	if (wh->pg)
		return pg_query_describe(wh, what, names, types, err);
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	strbuf_addf(&sql, "DESCRIBE %s", what);
	int ret = warehouse_query(wh, sql.buf, &r, err);
	strbuf_release(&sql);
	if (ret < 0)
		return WH_ERROR;
	for (size_t i = 0; i < r.rows; i++) {
		char *name = wh_result_str(&r, i, 0), *type = wh_result_str(&r, i, 1);
		strvec_push(names, name ? name : "");
		strvec_push(types, type ? type : "");
		free(name);
		free(type);
	}
	wh_result_free(&r);
	return 0;
}

int warehouse_begin(struct warehouse *wh, struct strbuf *err)
{
	return warehouse_exec(wh, "BEGIN TRANSACTION", err);
}

int warehouse_commit(struct warehouse *wh, struct strbuf *err)
{
	return warehouse_exec(wh, "COMMIT", err);
}

void warehouse_rollback(struct warehouse *wh)
{
	struct strbuf ignored = STRBUF_INIT;
	warehouse_exec(wh, "ROLLBACK", &ignored);
	strbuf_release(&ignored);
}

double warehouse_progress(struct warehouse *wh)
{
	if (!wh->con || wh->pg)
		return -1;
	duckdb_query_progress_type p = duckdb_query_progress(*CON(wh));
	return p.percentage;
}

void warehouse_track_progress(struct warehouse *wh)
{
	if (wh->pg)
		return;
	struct strbuf ignored = STRBUF_INIT;
	warehouse_exec(wh, "SET enable_progress_bar = true; SET enable_progress_bar_print = false; "
			   "SET progress_bar_time = 0", &ignored);
	strbuf_release(&ignored);
}

int64_t warehouse_count_rows(struct warehouse *wh, const char *schema, const char *table)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	int64_t n = 0;
	strbuf_addstr(&sql, "SELECT count(*) FROM ");
	strbuf_add_sql_ident(&sql, schema);
	strbuf_addch(&sql, '.');
	strbuf_add_sql_ident(&sql, table);
	warehouse_query_int(wh, sql.buf, &n, &err);
	strbuf_release(&sql);
	strbuf_release(&err);
	return n;
}

/* Does SELECT <what> FROM schema.table bind? The binder finds a relation
 * by name, whatever the number of relations; information_schema.tables
 * lists every relation of every schema first, and with a lookup or eight
 * per source, `sync --dry-run` over 1,000 sources took minutes. */
static int binds(struct warehouse *wh, const char *what, const char *schema, const char *table)
{
	struct strbuf sql = STRBUF_INIT;
	duckdb_prepared_statement st = NULL;
	strbuf_addf(&sql, "SELECT %s FROM ", what);
	strbuf_add_sql_ident(&sql, schema);
	strbuf_addch(&sql, '.');
	strbuf_add_sql_ident(&sql, table);
	strbuf_addstr(&sql, " LIMIT 0");
	int ok = duckdb_prepare(*CON(wh), sql.buf, &st) == DuckDBSuccess;
	duckdb_destroy_prepare(&st);
	strbuf_release(&sql);
	return ok;
}

/* PostgreSQL's catalog answers by index: information_schema there. */
static int pg_catalog_has(struct warehouse *wh, const char *schema, const char *table, const char *column)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	int64_t n = 0;
	strbuf_addf(&sql, "SELECT count(*) FROM information_schema.%s WHERE table_schema = ", column ? "columns" : "tables");
	strbuf_add_sql_str(&sql, schema);
	strbuf_addstr(&sql, " AND table_name = ");
	strbuf_add_sql_str(&sql, table);
	if (column) {
		strbuf_addstr(&sql, " AND column_name = ");
		strbuf_add_sql_str(&sql, column);
	}
	warehouse_query_int(wh, sql.buf, &n, &err);
	strbuf_release(&sql);
	strbuf_release(&err);
	return n > 0;
}

int warehouse_has_table(struct warehouse *wh, const char *schema, const char *table)
{
	if (wh->pg)
		return pg_catalog_has(wh, schema, table, NULL);
	return binds(wh, "1", schema, table);
}

int warehouse_has_column(struct warehouse *wh, const char *schema, const char *table, const char *column)
{
	if (wh->pg)
		return pg_catalog_has(wh, schema, table, column);
	struct strbuf col = STRBUF_INIT;
	strbuf_add_sql_ident(&col, column);
	int ok = binds(wh, col.buf, schema, table);
	strbuf_release(&col);
	return ok;
}

const char *warehouse_library_version(void)
{
	return duckdb_library_version();
}

int warehouse_connect_extra(struct warehouse *wh, struct warehouse *out, struct strbuf *err)
{
	if (wh->pg) {
		memset(out, 0, sizeof(*out));
		strbuf_addstr(err, "a postgres warehouse has no extra connections here");
		return WH_ERROR;
	}
	memset(out, 0, sizeof(*out));
	out->con = xcalloc(1, sizeof(duckdb_connection));
	if (duckdb_connect(*DB(wh), CON(out)) == DuckDBError) {
		strbuf_addf(err, "cannot open another connection to '%s'", wh->path);
		free(out->con);
		out->con = NULL;
		return WH_ERROR;
	}
	out->path = xstrdup(wh->path);
	out->mode = wh->mode;
	return 0;
}
