/* The warehouse interface on PostgreSQL (see pg_query.h).
 *
 * User SQL is split into statements here and each one is sent with
 * PQexecParams, which the server accepts for one statement only: a statement
 * the splitter got wrong fails instead of smuggling a second one in. In a
 * read-only session the statements run inside BEGIN READ ONLY, after a first
 * SELECT has taken the transaction's snapshot (from then on PostgreSQL
 * refuses SET TRANSACTION READ WRITE); a statement that ends the transaction
 * (COMMIT, ROLLBACK) stops the run before anything else executes. */
#include "warehouse/pg_query.h"
#include "warehouse/pg_result.h"
#include "warehouse/pg_warehouse.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <libpq-fe.h>
#include <string.h>
#include <strings.h>

#define CONN(wh) ((PGconn *)(wh)->pg)

/* --- splitting ------------------------------------------------------------------------ */

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* past a '...' literal at p; E'...' (escape) strings take backslashes */
static const char *skip_string(const char *sql, const char *p)
{
	int esc = p > sql && (p[-1] == 'E' || p[-1] == 'e') && (p - 1 == sql || !ident_char(p[-2]));
	for (p++; *p; p++) {
		if (esc && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '\'') {
			if (p[1] != '\'')
				return p + 1;
			p++;
		}
	}
	return p;
}

static const char *skip_quoted_ident(const char *p)
{
	for (p++; *p; p++)
		if (*p == '"') {
			if (p[1] != '"')
				return p + 1;
			p++;
		}
	return p;
}

static const char *skip_block_comment(const char *p)
{
	int depth = 0;
	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			depth++;
			p += 2;
		} else if (p[0] == '*' && p[1] == '/') {
			p += 2;
			if (!--depth)
				return p;
		} else {
			p++;
		}
	}
	return p;
}

/* $$...$$ or $tag$...$tag$; NULL if p does not open one ($1 is a parameter) */
static const char *skip_dollar(const char *sql, const char *p)
{
	if (p > sql && ident_char(p[-1]))
		return NULL;
	const char *q = p + 1;
	if (isdigit((unsigned char)*q))
		return NULL;
	while (ident_char(*q))
		q++;
	if (*q != '$')
		return NULL;
	size_t taglen = (size_t)(q - p) + 1;
	const char *end;
	for (end = q + 1; *end; end++)
		if (*end == '$' && !strncmp(end, p, taglen))
			return end + taglen;
	return end;
}

static void push_statement(struct strvec *out, const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, s, n);
	strbuf_trim(&sb);
	if (sb.len)
		strvec_push(out, sb.buf);
	strbuf_release(&sb);
}

void pg_split_statements(const char *sql, struct strvec *out)
{
	const char *start = sql, *p = sql;
	while (*p) {
		const char *next = NULL;
		if (*p == '\'')
			next = skip_string(sql, p);
		else if (*p == '"')
			next = skip_quoted_ident(p);
		else if (p[0] == '-' && p[1] == '-')
			next = p + strcspn(p, "\n");
		else if (p[0] == '/' && p[1] == '*')
			next = skip_block_comment(p);
		else if (*p == '$')
			next = skip_dollar(sql, p);
		if (next) {
			p = next;
			continue;
		}
		if (*p == ';') {
			push_statement(out, start, (size_t)(p - start));
			start = p + 1;
		}
		p++;
	}
	push_statement(out, start, (size_t)(p - start));
}

/* --- the connection ------------------------------------------------------------------- */

static void add_result_error(struct strbuf *err, PGconn *c, PGresult *res)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	if (primary)
		strbuf_addstr(err, primary);
	else
		pg_warehouse_error(c, err);
	if (hint)
		strbuf_addf(err, " (%s)", hint);
}

static int exec_simple(PGconn *c, const char *sql, struct strbuf *err)
{
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		add_result_error(err, c, res);
	PQclear(res);
	return ok ? 0 : WH_ERROR;
}

int pg_query_open(struct warehouse *wh, const struct project *p, enum wh_mode mode, int timeout_s,
		  struct strbuf *err)
{
	PGconn *c;
	struct strbuf where = STRBUF_INIT;
	memset(wh, 0, sizeof(*wh));
	if (pg_warehouse_connect(p, mode == WH_READ_ONLY ? timeout_s : 0, &c, err) < 0)
		return WH_ERROR;
	/* every statement of a reader, its own SQL or ours, is read-only */
	if (mode == WH_READ_ONLY && exec_simple(c, "SET default_transaction_read_only = on", err) < 0) {
		pg_warehouse_disconnect(c);
		return WH_ERROR;
	}
	strbuf_addstr(&where, "postgres ");
	pg_warehouse_describe(p, &where);
	wh->path = strbuf_detach(&where, NULL);
	wh->pg = c;
	wh->mode = mode;
	wh->pg_timeout = mode == WH_READ_ONLY ? timeout_s : 0;
	return 0;
}

void pg_query_close(struct warehouse *wh)
{
	pg_warehouse_disconnect(CONN(wh));
	free(wh->path);
	memset(wh, 0, sizeof(*wh));
}

/* A finished PGresult into r (rows or a status), or its error into err. */
static int take(struct warehouse *wh, PGresult *res, struct wh_result *r, struct strbuf *err)
{
	ExecStatusType st = PQresultStatus(res);
	memset(r, 0, sizeof(*r));
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY) {
		add_result_error(err, CONN(wh), res);
		PQclear(res);
		return WH_ERROR;
	}
	wh_pg_result_take(r, res, CONN(wh));
	return 0;
}

int pg_query_run(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err)
{
	ui_debug("sql (postgres): %.300s", sql);
	return take(wh, PQexec(CONN(wh), sql), r, err);
}

static int begin_read_only(PGconn *c, struct strbuf *err)
{
	if (exec_simple(c, "BEGIN READ ONLY", err) < 0)
		return WH_ERROR;
	/* the snapshot taken by a first query makes the transaction's mode final */
	return exec_simple(c, "SELECT 1", err);
}

static void end_read_only(PGconn *c)
{
	struct strbuf ignored = STRBUF_INIT;
	if (PQtransactionStatus(c) != PQTRANS_IDLE)
		exec_simple(c, "ROLLBACK", &ignored);
	strbuf_release(&ignored);
}

int pg_query_one(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err)
{
	int ro = wh->mode == WH_READ_ONLY;
	memset(r, 0, sizeof(*r));
	if (ro && begin_read_only(CONN(wh), err) < 0)
		return WH_ERROR;
	ui_debug("sql (postgres): %.300s", sql);
	/* one statement only: the server refuses a second one */
	int ret = take(wh, PQexecParams(CONN(wh), sql, 0, NULL, NULL, NULL, NULL, 0), r, err);
	if (!ret && ro && PQtransactionStatus(CONN(wh)) != PQTRANS_INTRANS) {
		wh_result_free(r);
		strbuf_addstr(err, "a read-only query runs in one read-only transaction, which it cannot end");
		ret = WH_ERROR;
	}
	if (ro)
		end_read_only(CONN(wh));
	return ret;
}

int pg_query_stream(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err)
{
	PGconn *c = CONN(wh);
	memset(r, 0, sizeof(*r));
	if (wh->mode == WH_READ_ONLY && begin_read_only(c, err) < 0)
		return WH_ERROR;
	ui_debug("sql (postgres, streamed): %.300s", sql);
	/* one statement only (the extended protocol), its rows one by one */
	if (!PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0) || !PQsetSingleRowMode(c)) {
		pg_warehouse_error(c, err);
		end_read_only(c);
		return WH_ERROR;
	}
	PGresult *first = PQgetResult(c);
	ExecStatusType st = PQresultStatus(first);
	if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		add_result_error(err, c, first);
		PQclear(first);
		for (PGresult *rest; (rest = PQgetResult(c));)
			PQclear(rest);
		end_read_only(c);
		return WH_ERROR;
	}
	if (st == PGRES_COMMAND_OK) {
		/* no rows: the statement is over, and it may have ended the transaction */
		for (PGresult *rest; (rest = PQgetResult(c));)
			PQclear(rest);
		if (wh->mode == WH_READ_ONLY && PQtransactionStatus(c) != PQTRANS_INTRANS) {
			PQclear(first);
			strbuf_addstr(err, "a read-only query runs in one read-only transaction, which it cannot end");
			end_read_only(c);
			return WH_ERROR;
		}
	}
	wh_pg_result_take(r, first, c);
	wh_pg_result_stream(r, c);
	return 0;
}

int pg_query_each(struct warehouse *wh, const char *sql, int (*each)(struct wh_result *r, void *data), void *data,
		  struct strbuf *err)
{
	struct strvec stmts = STRVEC_INIT;
	int ro = wh->mode == WH_READ_ONLY, ret = 0;
	pg_split_statements(sql, &stmts);
	if (ro && stmts.nr && begin_read_only(CONN(wh), err) < 0) {
		strvec_clear(&stmts);
		return WH_ERROR;
	}
	for (size_t i = 0; i < stmts.nr && !ret; i++) {
		struct wh_result r;
		ui_debug("sql (postgres): %.300s", stmts.v[i]);
		PGresult *res = PQexecParams(CONN(wh), stmts.v[i], 0, NULL, NULL, NULL, NULL, 0);
		if (take(wh, res, &r, err) < 0) {
			ret = WH_ERROR;
			break;
		}
		if (ro && PQtransactionStatus(CONN(wh)) != PQTRANS_INTRANS) {
			wh_result_free(&r);
			strbuf_addstr(err, "a read-only query runs in one read-only transaction, which it cannot end "
					   "(COMMIT, ROLLBACK): the statements after it were not run");
			ret = WH_ERROR;
			break;
		}
		ret = each(&r, data);
		wh_result_free(&r);
	}
	if (ro && stmts.nr)
		end_read_only(CONN(wh));
	strvec_clear(&stmts);
	return ret;
}

int pg_query_describe(struct warehouse *wh, const char *what, struct strvec *names, struct strvec *types,
		      struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	while (isspace((unsigned char)*what))
		what++;
	if (!strncasecmp(what, "select", 6) || !strncasecmp(what, "with", 4))
		strbuf_addf(&sql, "SELECT * FROM (%s) AS dango_describe LIMIT 0", what);
	else
		strbuf_addf(&sql, "SELECT * FROM %s AS dango_describe LIMIT 0", what);
	int ret = pg_query_run(wh, sql.buf, &r, err);
	strbuf_release(&sql);
	if (ret < 0)
		return WH_ERROR;
	for (size_t c = 0; c < r.cols; c++) {
		strvec_push(names, wh_result_name(&r, c));
		strvec_push(types, wh_result_type_name(&r, c));
	}
	wh_result_free(&r);
	return 0;
}
