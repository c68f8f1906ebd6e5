/* SQLite files through libsqlite3, opened read-only. A column's DuckDB type
 * follows its declared type (SQLite's affinity rules, plus the common names
 * BOOLEAN, DATE, DATETIME/TIMESTAMP, DECIMAL(p,s) and JSON); since SQLite
 * lets any value into any column, a value that does not fit marks the
 * column as a misfit and the spool file loads it as VARCHAR rather than
 * failing the load. */
#include "sources/db/db.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum lite_kind { LK_INT, LK_REAL, LK_TEXT, LK_BLOB, LK_BOOL, LK_DATE, LK_TIMESTAMP, LK_DECIMAL, LK_ANY };

static void lite_ident(struct strbuf *sb, const char *name)
{
	strbuf_add_sql_ident(sb, name);
}

static void lite_literal(void *conn, struct strbuf *sb, const char *value)
{
	/* a stored integer compares as a number, not as text */
	int64_t n;
	if (parse_int64(value, &n) == 0)
		strbuf_addstr(sb, value);
	else
		strbuf_add_sql_str(sb, value);
}

static void lite_max_text(struct strbuf *sb, const char *expr)
{
	strbuf_addf(sb, "max(%s)", expr);
}

static void lite_shift_days(struct strbuf *sb, const char *lit, int days)
{
	strbuf_addf(sb, "datetime(%s, '%+d days')", lit, days);
}

static void lite_where(const struct db_conf *c, struct strbuf *sb)
{
	strbuf_addstr(sb, c->path);
}

static int lite_connect(const struct db_conf *c, void **out, struct strbuf *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		strbuf_addstr(err, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, (c->timeout > 0 ? c->timeout : 30) * 1000);
	/* a file that is no database fails here, not at the first stream */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		strbuf_addstr(err, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

static void lite_disconnect(void *conn)
{
	sqlite3_close(conn);
}

static int lite_query_row(void *conn, const char *sql, char **vals, int n, struct strbuf *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		return -1;
	}
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		sqlite3_finalize(st);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const unsigned char *v = rc == SQLITE_ROW && i < sqlite3_column_count(st) ? sqlite3_column_text(st, i) : NULL;
		vals[i] = v ? xstrdup((const char *)v) : NULL;
	}
	sqlite3_finalize(st);
	return 0;
}

static int lite_tables(void *conn, const char *schema, struct strvec *out, struct strbuf *err)
{
	sqlite3_stmt *st;
	const char *sql = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' "
			  "ESCAPE '\\' ORDER BY name";
	if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		strvec_push(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static int lite_primary_key(void *conn, const struct db_stream *s, struct strvec *out, struct strbuf *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(conn, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", -1, &st, NULL) !=
	    SQLITE_OK) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		return -1;
	}
	sqlite3_bind_text(st, 1, s->table, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		strvec_push(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static int contains(const char *upper, const char *word)
{
	return strstr(upper, word) != NULL;
}

/* The DuckDB type for a declared type, by SQLite's affinity rules (section
 * 3.1 of its datatype document) with the usual names recognised first. */
static enum lite_kind lite_kind(const char *decl, char **duck)
{
	char up[128];
	size_t i;
	for (i = 0; decl && decl[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)decl[i]);
	up[i] = '\0';
	if (!i) {
		*duck = xstrdup("VARCHAR");
		return LK_ANY;
	}
	if (!strcmp(up, "BOOLEAN") || !strcmp(up, "BOOL")) {
		*duck = xstrdup("BOOLEAN");
		return LK_BOOL;
	}
	if (!strcmp(up, "DATE")) {
		*duck = xstrdup("DATE");
		return LK_DATE;
	}
	if (contains(up, "DATETIME") || contains(up, "TIMESTAMP")) {
		*duck = xstrdup("TIMESTAMP");
		return LK_TIMESTAMP;
	}
	if (!strcmp(up, "JSON")) {
		*duck = xstrdup("JSON");
		return LK_TEXT;
	}
	int p, s;
	if ((sscanf(up, "DECIMAL(%d,%d)", &p, &s) == 2 || sscanf(up, "NUMERIC(%d,%d)", &p, &s) == 2) && p >= 1 &&
	    p <= 38 && s >= 0 && s <= p) {
		*duck = xasprintf("DECIMAL(%d,%d)", p, s);
		return LK_DECIMAL;
	}
	if (contains(up, "INT")) {
		*duck = xstrdup("BIGINT");
		return LK_INT;
	}
	if (contains(up, "CHAR") || contains(up, "CLOB") || contains(up, "TEXT")) {
		*duck = xstrdup("VARCHAR");
		return LK_TEXT;
	}
	if (contains(up, "BLOB")) {
		*duck = xstrdup("BLOB");
		return LK_BLOB;
	}
	/* REAL, and NUMERIC affinity (any number) */
	*duck = xstrdup("DOUBLE");
	return LK_REAL;
}

static int lite_columns(void *conn, const char *from, struct db_cols *out, struct strvec *warnings, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *st;
	strbuf_addf(&sql, "SELECT * FROM %s LIMIT 0", from);
	int rc = sqlite3_prepare_v2(conn, sql.buf, -1, &st, NULL);
	strbuf_release(&sql);
	if (rc != SQLITE_OK) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		return -1;
	}
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		char *duck;
		enum lite_kind k = lite_kind(sqlite3_column_decltype(st, i), &duck);
		db_cols_add(out, sqlite3_column_name(st, i), duck, NULL, k == LK_BLOB ? "unhex(%s)" : NULL);
		out->v[out->nr - 1].kind = k;
		out->v[out->nr - 1].temporal = k == LK_DATE || k == LK_TIMESTAMP;
		free(duck);
	}
	sqlite3_finalize(st);
	return 0;
}

static int is_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Text DuckDB reads as a date: YYYY-MM-DD, then for timestamps an optional
 * [T ]HH:MM[:SS[.fff]]. */
static int fits_date(const char *s, size_t len, int timestamp)
{
	if (len < 10 || !is_digits(s, 4) || s[4] != '-' || !is_digits(s + 5, 2) || s[7] != '-' || !is_digits(s + 8, 2))
		return 0;
	if (len == 10)
		return 1;
	if (!timestamp || (s[10] != ' ' && s[10] != 'T') || len < 16 || !is_digits(s + 11, 2) || s[13] != ':' ||
	    !is_digits(s + 14, 2))
		return 0;
	for (size_t i = 16; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return 0;
	return 1;
}

static void write_value(sqlite3_stmt *st, int i, struct db_col *c, struct db_spool *sp)
{
	int t = sqlite3_column_type(st, i);
	char num[64];
	if (t == SQLITE_NULL) {
		db_spool_field_null(sp);
		return;
	}
	if (c->kind == LK_BLOB && !c->misfit) {
		if (t == SQLITE_BLOB) {
			db_spool_field_hex(sp, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
			return;
		}
		c->misfit = 1;
	}
	if (t == SQLITE_BLOB) {
		/* bytes in a column of another type: their hex text */
		if (!c->misfit && c->kind != LK_ANY)
			c->misfit = 1;
		db_spool_field_hex(sp, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
		return;
	}
	if (t == SQLITE_INTEGER) {
		int n = snprintf(num, sizeof(num), "%lld", (long long)sqlite3_column_int64(st, i));
		if (c->kind == LK_BOOL && strcmp(num, "0") && strcmp(num, "1"))
			c->misfit = 1;
		else if (c->kind == LK_DATE || c->kind == LK_TIMESTAMP)
			c->misfit = 1;
		db_spool_field_raw(sp, num, (size_t)n);
		return;
	}
	if (t == SQLITE_FLOAT) {
		int n = snprintf(num, sizeof(num), "%.17g", sqlite3_column_double(st, i));
		if (c->kind == LK_INT || c->kind == LK_BOOL || c->kind == LK_DATE || c->kind == LK_TIMESTAMP)
			c->misfit = 1;
		db_spool_field_text(sp, num, (size_t)n);
		return;
	}
	const char *s = (const char *)sqlite3_column_text(st, i);
	size_t len = (size_t)sqlite3_column_bytes(st, i);
	if (!c->misfit) {
		int64_t iv;
		char *end;
		switch (c->kind) {
		case LK_INT:
			c->misfit = parse_int64(s, &iv) < 0;
			break;
		case LK_REAL:
		case LK_DECIMAL:
			strtod(s, &end);
			c->misfit = !len || *end;
			break;
		case LK_BOOL:
			c->misfit = strcasecmp(s, "true") && strcasecmp(s, "false") && strcmp(s, "0") && strcmp(s, "1");
			break;
		case LK_DATE:
		case LK_TIMESTAMP:
			c->misfit = !fits_date(s, len, c->kind == LK_TIMESTAMP);
			break;
		default:
			break;
		}
	}
	db_spool_field_text(sp, s, len);
}

static int lite_copy(void *conn, const char *select_sql, struct db_cols *cols, struct db_spool *sp, struct strbuf *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(conn, select_sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		return -1;
	}
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < cols->nr; i++)
			write_value(st, (int)i, &cols->v[i], sp);
		if (db_spool_row_end(sp, err) < 0) {
			ret = -1;
			break;
		}
	}
	if (!ret && rc != SQLITE_DONE) {
		strbuf_addstr(err, sqlite3_errmsg(conn));
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

const struct db_family db_sqlite = {
	.type = "sqlite",
	.default_schema = NULL,
	.connect = lite_connect,
	.disconnect = lite_disconnect,
	.ident = lite_ident,
	.literal = lite_literal,
	.max_text = lite_max_text,
	.shift_days = lite_shift_days,
	.tables = lite_tables,
	.columns = lite_columns,
	.primary_key = lite_primary_key,
	.query_row = lite_query_row,
	.copy = lite_copy,
	.where = lite_where,
};
