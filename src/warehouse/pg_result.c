/* PostgreSQL values rendered as the DuckDB path renders them (see pg_result.h).
 *
 * libpq gives every value as PostgreSQL's text output (the connection sets
 * DateStyle ISO, TimeZone UTC and IntervalStyle postgres, see
 * pg_warehouse.c). Most of it is already DuckDB's text (integers, numeric,
 * dates, timestamps, uuid, json); what differs is rewritten here: booleans
 * (t/f), floats (Infinity, NaN), bytea (hex), BC dates, interval months
 * (mons), and arrays, which are parsed from PostgreSQL's {a,"b c",NULL} into
 * DuckDB's list text [a, b c, NULL] and into JSON arrays. */
#include "warehouse/pg_result.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <libpq-fe.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a value needs to be shown as DuckDB shows it. */
enum pg_kind { K_TEXT, K_BOOL, K_INT, K_NUMERIC, K_FLOAT4, K_FLOAT8, K_JSON, K_BYTEA, K_DATE, K_INTERVAL,
	       K_ARRAY };

struct pg_col {
	enum pg_kind kind, elem;  /* elem: the kind of an array's elements */
	char *display;            /* the type's name in DuckDB's words */
};

struct wh_pg_result {
	PGresult *res;          /* streamed: the current row's */
	struct pg_col *cols;
	int status_only;
	PGconn *conn;           /* streamed (single-row mode): where the next rows come from */
	int first_pending, done;
};

#define PGR(r) ((struct wh_pg_result *)(r)->pg)

/* Types by oid (src/include/catalog/pg_type.dat): kind and DuckDB name. */
static const struct known_type {
	unsigned oid;
	enum pg_kind kind;
	const char *name;
} known[] = {
	{ 16, K_BOOL, "boolean" },       { 17, K_BYTEA, "blob" },        { 18, K_TEXT, "varchar" },
	{ 19, K_TEXT, "varchar" },       { 20, K_INT, "int64" },         { 21, K_INT, "int16" },
	{ 23, K_INT, "int32" },          { 25, K_TEXT, "varchar" },      { 26, K_INT, "uint32" },
	{ 114, K_JSON, "json" },         { 700, K_FLOAT4, "float" },     { 701, K_FLOAT8, "double" },
	{ 1042, K_TEXT, "varchar" },     { 1043, K_TEXT, "varchar" },    { 1082, K_DATE, "date" },
	{ 1083, K_TEXT, "time" },        { 1114, K_DATE, "timestamp" },  { 1184, K_DATE, "timestamp with time zone" },
	{ 1186, K_INTERVAL, "interval" }, { 1266, K_TEXT, "time with time zone" }, { 1700, K_NUMERIC, NULL },
	{ 2950, K_TEXT, "uuid" },        { 3802, K_JSON, "json" },       { 705, K_TEXT, "varchar" },
};

static const struct known_type *known_of(unsigned oid)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].oid == oid)
			return &known[i];
	return NULL;
}

/* numeric's typmod holds precision and scale; -1 is an unconstrained numeric */
static char *numeric_name(int typmod)
{
	char buf[48];
	if (typmod < 4)
		return xstrdup("numeric");
	snprintf(buf, sizeof(buf), "decimal(%d,%d)", ((typmod - 4) >> 16) & 0xffff, (typmod - 4) & 0xffff);
	return xstrdup(buf);
}

/* The catalog's word for a type this table does not know: its element type
 * if it is an array, else format_type's name. */
static void ask_catalog(PGconn *conn, unsigned oid, int typmod, unsigned *elem, char **name)
{
	char o[16], m[16];
	const char *vals[2] = { o, m };
	*elem = 0;
	*name = NULL;
	if (!conn)
		return;
	snprintf(o, sizeof(o), "%u", oid);
	snprintf(m, sizeof(m), "%d", typmod);
	PGresult *res = PQexecParams(conn,
				     "select case when typcategory = 'A' then typelem else 0 end, "
				     "format_type(oid, $2::int) from pg_type where oid = $1::oid",
				     2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*elem = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
		*name = xstrdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
}

static void col_read(struct pg_col *c, PGconn *conn, unsigned oid, int typmod)
{
	const struct known_type *k = known_of(oid);
	if (k) {
		c->kind = k->kind;
		c->display = k->kind == K_NUMERIC ? numeric_name(typmod) : xstrdup(k->name);
		return;
	}
	unsigned elem;
	char *name;
	ask_catalog(conn, oid, typmod, &elem, &name);
	const struct known_type *e = elem ? known_of(elem) : NULL;
	if (elem) {
		struct strbuf sb = STRBUF_INIT;
		c->kind = K_ARRAY;
		c->elem = e ? e->kind : K_TEXT;
		if (e && e->kind == K_NUMERIC) {
			char *n = numeric_name(typmod);
			strbuf_addf(&sb, "%s[]", n);
			free(n);
		} else {
			strbuf_addf(&sb, "%s[]", e ? e->name : name ? strtok(name, "[") : "varchar");
		}
		c->display = strbuf_detach(&sb, NULL);
	} else {
		c->kind = K_TEXT;
		c->display = xstrdup(name ? name : "varchar");
	}
	free(name);
}

static const char *array_start(const char *s);

/* PostgreSQL's array types have no dimensions (int4[] holds {{1,2},{3,4}}
 * too); DuckDB's do (INTEGER[][]): the first value tells how deep. */
static void array_depth(struct wh_pg_result *pr, struct wh_result *r, size_t c)
{
	for (size_t row = 0; row < r->rows; row++) {
		if (PQgetisnull(pr->res, (int)row, (int)c))
			continue;
		const char *v = array_start(PQgetvalue(pr->res, (int)row, (int)c));
		size_t depth = strspn(v, "{");
		if (depth > 1) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_addstr(&sb, pr->cols[c].display);
			for (size_t k = 1; k < depth; k++)
				strbuf_addstr(&sb, "[]");
			free(pr->cols[c].display);
			pr->cols[c].display = strbuf_detach(&sb, NULL);
		}
		return;
	}
}

void wh_pg_result_take(struct wh_result *r, void *res, void *conn)
{
	struct wh_pg_result *pr = xcalloc(1, sizeof(*pr));
	pr->res = res;
	ExecStatusType st = PQresultStatus(res);
	pr->status_only = st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE;
	memset(r, 0, sizeof(*r));
	r->pg = pr;
	r->cols = pr->status_only ? 0 : (size_t)PQnfields(res);
	r->rows = pr->status_only ? 0 : (size_t)PQntuples(res);
	pr->cols = xcalloc(r->cols ? r->cols : 1, sizeof(*pr->cols));
	for (size_t c = 0; c < r->cols; c++) {
		col_read(&pr->cols[c], conn, (unsigned)PQftype(res, (int)c), PQfmod(res, (int)c));
		if (pr->cols[c].kind == K_ARRAY)
			array_depth(pr, r, c);
	}
}

void wh_pg_result_stream(struct wh_result *r, void *conn)
{
	struct wh_pg_result *pr = PGR(r);
	pr->conn = conn;
	pr->first_pending = 1;
	pr->done = pr->status_only || PQresultStatus(pr->res) == PGRES_TUPLES_OK;
	r->rows = 0;
}

/* Read what is left of the query and end its read-only transaction, so
 * that the connection can run the next one. */
static void finish_stream(struct wh_pg_result *pr)
{
	PGresult *res;
	if (!pr->done) {
		/* the reader stopped early (a row limit): the server stops too */
		PGcancel *cancel = PQgetCancel(pr->conn);
		char buf[256];
		if (cancel) {
			PQcancel(cancel, buf, sizeof(buf));
			PQfreeCancel(cancel);
		}
	}
	while ((res = PQgetResult(pr->conn)))
		PQclear(res);
	pr->done = 1;
	if (PQtransactionStatus(pr->conn) != PQTRANS_IDLE)
		PQclear(PQexec(pr->conn, "ROLLBACK"));
}

int wh_pg_next(struct wh_result *r, struct strbuf *err)
{
	struct wh_pg_result *pr = PGR(r);
	if (!pr->conn)
		return 0;
	if (pr->first_pending) {
		pr->first_pending = 0;
		r->rows = pr->status_only ? 0 : (size_t)PQntuples(pr->res);
		if (r->rows)
			return 1;
	}
	r->rows = 0;
	if (pr->done)
		return 0;
	PGresult *next = PQgetResult(pr->conn);
	ExecStatusType st = PQresultStatus(next);
	if (next && st == PGRES_SINGLE_TUPLE) {
		PQclear(pr->res);
		pr->res = next;
		r->rows = 1;
		return 1;
	}
	pr->done = 1;
	int failed = next && st != PGRES_TUPLES_OK;
	if (failed) {
		const char *m = PQresultErrorField(next, PG_DIAG_MESSAGE_PRIMARY);
		strbuf_addstr(err, m ? m : "the query failed");
	}
	PQclear(next);
	finish_stream(pr);
	return failed ? -1 : 0;
}

void wh_pg_result_free(struct wh_result *r)
{
	struct wh_pg_result *pr = PGR(r);
	if (pr->conn)
		finish_stream(pr);
	for (size_t c = 0; c < r->cols; c++)
		free(pr->cols[c].display);
	free(pr->cols);
	PQclear(pr->res);
	free(pr);
	memset(r, 0, sizeof(*r));
}

const char *wh_pg_name(struct wh_result *r, size_t col)
{
	return col < r->cols ? PQfname(PGR(r)->res, (int)col) : "";
}

enum wh_type wh_pg_type(struct wh_result *r, size_t col)
{
	if (col >= r->cols)
		return WH_T_NULL;
	switch (PGR(r)->cols[col].kind) {
	case K_BOOL: return WH_T_BOOL;
	case K_INT: return WH_T_INT;
	case K_NUMERIC: case K_FLOAT4: case K_FLOAT8: return WH_T_FLOAT;
	case K_TEXT: return WH_T_TEXT;
	default: return WH_T_OTHER;
	}
}

const char *wh_pg_type_name(struct wh_result *r, size_t col)
{
	return col < r->cols ? PGR(r)->cols[col].display : "?";
}

int wh_pg_is_numeric(struct wh_result *r, size_t col)
{
	enum wh_type t = wh_pg_type(r, col);
	return t == WH_T_INT || t == WH_T_FLOAT;
}

int wh_pg_is_status(struct wh_result *r)
{
	return PGR(r)->status_only;
}

int wh_pg_is_null(struct wh_result *r, size_t row, size_t col)
{
	return row >= r->rows || col >= r->cols || PQgetisnull(PGR(r)->res, (int)row, (int)col);
}

/* --- scalars -------------------------------------------------------------------------- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* bytea_output hex: \x0a1b... */
static void add_bytea(struct strbuf *sb, const char *s)
{
	struct strbuf bytes = STRBUF_INIT;
	if (s[0] == '\\' && s[1] == 'x') {
		for (s += 2; s[0] && s[1]; s += 2)
			strbuf_addch(&bytes, (char)(hexval(s[0]) << 4 | hexval(s[1])));
	} else {
		strbuf_addstr(&bytes, s);
	}
	wh_text_add_blob(sb, (const unsigned char *)bytes.buf, bytes.len);
	strbuf_release(&bytes);
}

static void add_float(struct strbuf *sb, const char *s, int is_float)
{
	if (!strcmp(s, "NaN"))
		strbuf_addstr(sb, "nan");
	else if (!strcmp(s, "Infinity"))
		strbuf_addstr(sb, "inf");
	else if (!strcmp(s, "-Infinity"))
		strbuf_addstr(sb, "-inf");
	else
		wh_text_add_double(sb, strtod(s, NULL), is_float);
}

/* PostgreSQL's "1 year 2 mons -1 days +04:05:06" is DuckDB's "1 year 2 months
 * -1 day 04:05:06": months spelled out, a unit singular after 1 or -1, no '+'. */
static void add_interval(struct strbuf *sb, const char *s)
{
	static const char *const units[][3] = {
		{ "year", "year", "years" }, { "years", "year", "years" }, { "mon", "month", "months" },
		{ "mons", "month", "months" }, { "day", "day", "days" },   { "days", "day", "days" },
	};
	const char *prev = NULL;
	size_t prevlen = 0;
	while (*s) {
		/* mixed signs: PostgreSQL's "+2 days" and "+04:05:06" have no '+' in DuckDB */
		if (*s == '+')
			s++;
		size_t n = strcspn(s, " ");
		const char *word = NULL;
		for (size_t u = 0; u < sizeof(units) / sizeof(units[0]) && prev; u++)
			if (strlen(units[u][0]) == n && !strncmp(s, units[u][0], n)) {
				int one = (prevlen == 1 && *prev == '1') || (prevlen == 2 && !strncmp(prev, "-1", 2));
				word = units[u][one ? 1 : 2];
			}
		if (word)
			strbuf_addstr(sb, word);
		else
			strbuf_add(sb, s, n);
		prev = s;
		prevlen = n;
		s += n;
		while (*s == ' ')
			strbuf_addch(sb, *s++);
	}
}

static void add_scalar_text(struct strbuf *sb, enum pg_kind kind, const char *s)
{
	size_t n = strlen(s);
	switch (kind) {
	case K_BOOL: strbuf_addstr(sb, *s == 't' ? "true" : "false"); break;
	case K_FLOAT4: add_float(sb, s, 1); break;
	case K_FLOAT8: add_float(sb, s, 0); break;
	case K_BYTEA: add_bytea(sb, s); break;
	case K_INTERVAL: add_interval(sb, s); break;
	case K_DATE:
		/* PostgreSQL's "0044-03-15 BC" is DuckDB's "0044-03-15 (BC)" */
		if (n > 3 && !strcmp(s + n - 3, " BC")) {
			strbuf_add(sb, s, n - 3);
			strbuf_addstr(sb, " (BC)");
			break;
		}
		strbuf_addstr(sb, s);
		break;
	default: strbuf_addstr(sb, s);
	}
}

static void add_scalar_json(struct strbuf *sb, enum pg_kind kind, const char *s)
{
	struct strbuf text = STRBUF_INIT;
	switch (kind) {
	case K_BOOL: strbuf_addstr(sb, *s == 't' ? "true" : "false"); break;
	case K_INT: strbuf_addstr(sb, s); break;
	case K_JSON: strbuf_addstr(sb, s); break;
	case K_NUMERIC:
		/* JSON has no NaN or Infinity: those go as strings, as DuckDB's doubles do */
		if (strchr("0123456789-", *s) && strcmp(s, "-Infinity"))
			strbuf_addstr(sb, s);
		else
			strbuf_add_json_str(sb, s);
		break;
	case K_FLOAT4:
	case K_FLOAT8: {
		add_float(&text, s, kind == K_FLOAT4);
		double x = strtod(text.buf, NULL);
		if (isfinite(x) && strcmp(text.buf, "nan"))
			strbuf_addbuf(sb, &text);
		else
			strbuf_add_json_str(sb, text.buf);
		break;
	}
	default:
		add_scalar_text(&text, kind, s);
		wh_text_add_json_str_n(sb, text.buf, text.len);
	}
	strbuf_release(&text);
}

/* --- arrays --------------------------------------------------------------------------- */

/* One element of an array literal: NULL (*null), a nested array (*nested,
 * left at its '{'), or a scalar unquoted into sb. Returns the position after it. */
static const char *array_item(const char *p, struct strbuf *sb, int *null, int *nested)
{
	*null = *nested = 0;
	strbuf_reset(sb);
	if (*p == '{') {
		*nested = 1;
		return p;
	}
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			strbuf_addch(sb, *p);
		}
		return *p ? p + 1 : p;
	}
	const char *start = p;
	while (*p && *p != ',' && *p != '}')
		p++;
	strbuf_add(sb, start, (size_t)(p - start));
	strbuf_trim(sb);
	*null = !strcmp(sb->buf, "NULL");
	return p;
}

/* Render the array at p ('{'), as text or as JSON; returns the position after its '}'. */
static const char *add_array(struct strbuf *sb, const char *p, enum pg_kind elem, int json)
{
	struct strbuf item = STRBUF_INIT, one = STRBUF_INIT;
	int first = 1;
	strbuf_addch(sb, '[');
	if (*p == '{')
		p++;
	while (*p && *p != '}') {
		int null, nested;
		strbuf_addstr(sb, first ? "" : ", ");
		first = 0;
		p = array_item(p, &item, &null, &nested);
		if (nested) {
			p = add_array(sb, p, elem, json);
		} else if (null) {
			strbuf_addstr(sb, json ? "null" : "NULL");
		} else if (json) {
			add_scalar_json(sb, elem, item.buf);
		} else if (elem == K_JSON) {
			strbuf_addbuf(sb, &item);
		} else {
			strbuf_reset(&one);
			add_scalar_text(&one, elem, item.buf);
			wh_text_add_quoted_maybe(sb, one.buf, one.len, 0);
		}
		if (*p == ',')
			p++;
	}
	strbuf_addch(sb, ']');
	strbuf_release(&item);
	strbuf_release(&one);
	return *p ? p + 1 : p;
}

/* "[1:3]={1,2,3}": an array whose bounds are not the default */
static const char *array_start(const char *s)
{
	if (*s == '[') {
		const char *eq = strchr(s, '=');
		if (eq)
			return eq + 1;
	}
	return s;
}

/* --- cells ---------------------------------------------------------------------------- */

void wh_pg_add_text(struct wh_result *r, size_t row, size_t col, struct strbuf *sb)
{
	if (wh_pg_is_null(r, row, col)) {
		strbuf_addstr(sb, "NULL");
		return;
	}
	const struct pg_col *c = &PGR(r)->cols[col];
	const char *s = PQgetvalue(PGR(r)->res, (int)row, (int)col);
	if (c->kind == K_ARRAY)
		add_array(sb, array_start(s), c->elem, 0);
	else
		add_scalar_text(sb, c->kind, s);
}

void wh_pg_add_json(struct wh_result *r, size_t row, size_t col, struct strbuf *sb)
{
	if (wh_pg_is_null(r, row, col)) {
		strbuf_addstr(sb, "null");
		return;
	}
	const struct pg_col *c = &PGR(r)->cols[col];
	const char *s = PQgetvalue(PGR(r)->res, (int)row, (int)col);
	if (c->kind == K_ARRAY)
		add_array(sb, array_start(s), c->elem, 1);
	else
		add_scalar_json(sb, c->kind, s);
}

int wh_pg_get_int(struct wh_result *r, size_t row, size_t col, int64_t *out, int saturate)
{
	*out = 0;
	if (wh_pg_is_null(r, row, col))
		return -1;
	const char *s = PQgetvalue(PGR(r)->res, (int)row, (int)col);
	switch (PGR(r)->cols[col].kind) {
	case K_BOOL:
		*out = *s == 't';
		return 0;
	case K_INT:
	case K_NUMERIC: {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (errno == ERANGE) {
			if (saturate)
				*out = x;
			return -1;
		}
		*out = x;
		/* a numeric's fraction is truncated, as DuckDB's decimals are */
		return *end && *end != '.' ? -1 : 0;
	}
	default:
		return -1;
	}
}

double wh_pg_double(struct wh_result *r, size_t row, size_t col)
{
	if (wh_pg_is_null(r, row, col))
		return NAN;
	enum wh_type t = wh_pg_type(r, col);
	if (t != WH_T_INT && t != WH_T_FLOAT && t != WH_T_BOOL)
		return NAN;
	const char *s = PQgetvalue(PGR(r)->res, (int)row, (int)col);
	if (t == WH_T_BOOL)
		return *s == 't';
	return strtod(s, NULL);
}
