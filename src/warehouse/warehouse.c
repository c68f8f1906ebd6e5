#include "warehouse/warehouse.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/xalloc.h"

#include <duckdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB(wh) ((duckdb_database *)(wh)->db)
#define CON(wh) ((duckdb_connection *)(wh)->con)
#define RES(r) ((duckdb_result *)(r)->res)

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

int warehouse_query(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err)
{
	struct timespec t0, t1;
	r->res = xcalloc(1, sizeof(duckdb_result));
	r->rows = r->cols = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	duckdb_state st = duckdb_query(*CON(wh), sql, RES(r));
	if (ui.level >= UI_DEBUG) {
		/* RUNTIME__LOG_LEVEL=DEBUG: every statement with its time */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		ui_debug("sql %.1f ms%s: %.300s", ms, st == DuckDBError ? " (failed)" : "", sql);
	}
	if (st == DuckDBError) {
		const char *msg = duckdb_result_error(RES(r));
		add_db_message(err, msg ? msg : "query failed");
		wh_result_free(r);
		return WH_ERROR;
	}
	r->rows = (size_t)duckdb_row_count(RES(r));
	r->cols = (size_t)duckdb_column_count(RES(r));
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

void wh_result_free(struct wh_result *r)
{
	if (r->res) {
		duckdb_destroy_result(RES(r));
		free(r->res);
	}
	r->res = NULL;
}

const char *wh_result_name(struct wh_result *r, size_t col)
{
	return duckdb_column_name(RES(r), col);
}

enum wh_type wh_result_type(struct wh_result *r, size_t col)
{
	switch (duckdb_column_type(RES(r), col)) {
	case DUCKDB_TYPE_BOOLEAN:
		return WH_T_BOOL;
	case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
	case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
	case DUCKDB_TYPE_UHUGEINT:
		return WH_T_INT;
	case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_DECIMAL:
		return WH_T_FLOAT;
	case DUCKDB_TYPE_VARCHAR:
		return WH_T_TEXT;
	case DUCKDB_TYPE_SQLNULL:
		return WH_T_NULL;
	default:
		return WH_T_OTHER;
	}
}

const char *wh_result_type_name(struct wh_result *r, size_t col)
{
	static const struct { duckdb_type t; const char *name; } names[] = {
		{ DUCKDB_TYPE_BOOLEAN, "boolean" }, { DUCKDB_TYPE_TINYINT, "int8" },
		{ DUCKDB_TYPE_SMALLINT, "int16" }, { DUCKDB_TYPE_INTEGER, "int32" },
		{ DUCKDB_TYPE_BIGINT, "int64" }, { DUCKDB_TYPE_UTINYINT, "uint8" },
		{ DUCKDB_TYPE_USMALLINT, "uint16" }, { DUCKDB_TYPE_UINTEGER, "uint32" },
		{ DUCKDB_TYPE_UBIGINT, "uint64" }, { DUCKDB_TYPE_FLOAT, "float" },
		{ DUCKDB_TYPE_DOUBLE, "double" }, { DUCKDB_TYPE_TIMESTAMP, "timestamp" },
		{ DUCKDB_TYPE_DATE, "date" }, { DUCKDB_TYPE_TIME, "time" },
		{ DUCKDB_TYPE_INTERVAL, "interval" }, { DUCKDB_TYPE_HUGEINT, "int128" },
		{ DUCKDB_TYPE_UHUGEINT, "uint128" }, { DUCKDB_TYPE_VARCHAR, "varchar" },
		{ DUCKDB_TYPE_BLOB, "blob" }, { DUCKDB_TYPE_DECIMAL, "decimal" },
		{ DUCKDB_TYPE_TIMESTAMP_S, "timestamp_s" }, { DUCKDB_TYPE_TIMESTAMP_MS, "timestamp_ms" },
		{ DUCKDB_TYPE_TIMESTAMP_NS, "timestamp_ns" }, { DUCKDB_TYPE_ENUM, "enum" },
		{ DUCKDB_TYPE_LIST, "list" }, { DUCKDB_TYPE_STRUCT, "struct" }, { DUCKDB_TYPE_MAP, "map" },
		{ DUCKDB_TYPE_UUID, "uuid" }, { DUCKDB_TYPE_UNION, "union" }, { DUCKDB_TYPE_BIT, "bit" },
		{ DUCKDB_TYPE_TIME_TZ, "time with time zone" },
		{ DUCKDB_TYPE_TIMESTAMP_TZ, "timestamp with time zone" }, { DUCKDB_TYPE_ARRAY, "array" },
		{ DUCKDB_TYPE_SQLNULL, "\"null\"" },
	};
	duckdb_type t = duckdb_column_type(RES(r), col);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].name;
	return "?";
}

int wh_result_is_null(struct wh_result *r, size_t row, size_t col)
{
	return duckdb_value_is_null(RES(r), col, row);
}

char *wh_result_str(struct wh_result *r, size_t row, size_t col)
{
	if (duckdb_value_is_null(RES(r), col, row))
		return NULL;
	char *v = duckdb_value_varchar(RES(r), col, row);
	char *copy = xstrdup(v ? v : "");
	if (v)
		duckdb_free(v);
	return copy;
}

int64_t wh_result_int(struct wh_result *r, size_t row, size_t col)
{
	return duckdb_value_int64(RES(r), col, row);
}

double warehouse_progress(struct warehouse *wh)
{
	if (!wh->con)
		return -1;
	duckdb_query_progress_type p = duckdb_query_progress(*CON(wh));
	return p.percentage;
}

void warehouse_track_progress(struct warehouse *wh)
{
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

int warehouse_has_table(struct warehouse *wh, const char *schema, const char *table)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	int64_t n = 0;
	strbuf_addstr(&sql, "SELECT count(*) FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, schema);
	strbuf_addstr(&sql, " AND table_name = ");
	strbuf_add_sql_str(&sql, table);
	warehouse_query_int(wh, sql.buf, &n, &err);
	strbuf_release(&sql);
	strbuf_release(&err);
	return n > 0;
}

const char *warehouse_library_version(void)
{
	return duckdb_library_version();
}

int warehouse_connect_extra(struct warehouse *wh, struct warehouse *out, struct strbuf *err)
{
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
