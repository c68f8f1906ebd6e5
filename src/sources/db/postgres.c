/* PostgreSQL through libpq. Rows move by COPY (query) TO STDOUT in CSV,
 * each CopyData message one line of the spool. The session runs in UTC with
 * ISO dates, so values come out in forms DuckDB's casts read; the few types
 * DuckDB cannot read as PostgreSQL prints them are rendered on the server
 * (bytea as hex, money as numeric, arrays as JSON lists of their elements'
 * text) and converted back by the spool's DuckDB expression. */
#include "sources/db/db.h"
#include "warehouse/pg_warehouse.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

static void pg_ident(struct strbuf *sb, const char *name)
{
	strbuf_add_sql_ident(sb, name);
}

static void pg_literal(void *conn, struct strbuf *sb, const char *value)
{
	/* standard_conforming_strings is on (the default since 9.1): '' doubles a quote */
	strbuf_add_sql_str(sb, value);
}

static void pg_max_text(struct strbuf *sb, const char *expr)
{
	strbuf_addf(sb, "max(%s)::text", expr);
}

static void pg_shift_days(struct strbuf *sb, const char *lit, int days)
{
	strbuf_addf(sb, "(CAST(%s AS timestamptz) + interval '%d days')", lit, days);
}

static void pg_where(const struct db_conf *c, struct strbuf *sb)
{
	const char *host = c->host, *db = c->database;
	int port = c->port;
	PQconninfoOption *opts = NULL;
	if (c->url && (opts = PQconninfoParse(c->url, NULL))) {
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			if (!o->val || !*o->val)
				continue;
			if (!strcmp(o->keyword, "host") && !host)
				host = o->val;
			else if (!strcmp(o->keyword, "port") && !port)
				port = atoi(o->val);
			else if (!strcmp(o->keyword, "dbname") && !db)
				db = o->val;
		}
	}
	strbuf_addf(sb, "%s:%d/%s", host ? host : "localhost", port ? port : 5432, db ? db : "(default database)");
	if (opts)
		PQconninfoFree(opts);
}

static int kv(const char **keys, const char **vals, int n, const char *k, const char *v)
{
	if (!v)
		return n;
	keys[n] = k;
	vals[n] = v;
	return n + 1;
}

static int pg_connect(const struct db_conf *c, void **out, struct strbuf *err)
{
	const char *keys[12], *vals[12];
	int n = 0;
	char port[16], ctimeout[16];
	struct strbuf options = STRBUF_INIT;
	if (c->url) {
		keys[n] = "dbname";
		vals[n++] = c->url;
	}
#define KV(k, v) n = kv(keys, vals, n, k, v)
	KV("host", c->host);
	if (c->port) {
		snprintf(port, sizeof(port), "%d", c->port);
		KV("port", port);
	}
	if (!c->url || c->database)
		KV("dbname", c->database);
	KV("user", c->user);
	KV("password", c->password);
	KV("sslmode", c->sslmode);
	snprintf(ctimeout, sizeof(ctimeout), "%d", c->connect_timeout);
	KV("connect_timeout", ctimeout);
	KV("application_name", "dango");
	strbuf_addstr(&options, "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c client_encoding=UTF8");
	if (c->timeout > 0)
		strbuf_addf(&options, " -c statement_timeout=%ds", c->timeout);
	KV("options", options.buf);
#undef KV
	keys[n] = NULL;
	vals[n] = NULL;
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	strbuf_release(&options);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		pg_warehouse_add_message(err, conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return -1;
	}
	*out = conn;
	return 0;
}

static void pg_disconnect(void *conn)
{
	PQfinish(conn);
}

static int pg_query_row(void *conn, const char *sql, char **vals, int n, struct strbuf *err)
{
	PGresult *r = PQexec(conn, sql);
	int ret = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
		goto out;
	}
	for (int i = 0; i < n; i++)
		vals[i] = PQntuples(r) && i < PQnfields(r) && !PQgetisnull(r, 0, i) ? xstrdup(PQgetvalue(r, 0, i)) : NULL;
	ret = 0;
out:
	PQclear(r);
	return ret;
}

static int pg_tables(void *conn, const char *schema, struct strvec *out, struct strbuf *err)
{
	const char *params[1] = { schema };
	PGresult *r = PQexecParams(conn,
				   "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
				   "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
				   "ORDER BY 1",
				   1, NULL, params, NULL, NULL, 0);
	int ret = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
	} else {
		for (int i = 0; i < PQntuples(r); i++)
			strvec_push(out, PQgetvalue(r, i, 0));
		ret = 0;
	}
	PQclear(r);
	return ret;
}

static int pg_schemas(void *conn, struct strvec *out, struct strbuf *err)
{
	PGresult *r = PQexec(conn, "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' "
				   "AND nspname <> 'information_schema' ORDER BY nspname <> 'public', 1");
	int ret = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
	} else {
		for (int i = 0; i < PQntuples(r); i++)
			strvec_push(out, PQgetvalue(r, i, 0));
		ret = 0;
	}
	PQclear(r);
	return ret;
}

static int pg_primary_key(void *conn, const struct db_stream *s, struct strvec *out, struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT;
	if (s->schema) {
		strbuf_add_sql_ident(&rel, s->schema);
		strbuf_addch(&rel, '.');
	}
	strbuf_add_sql_ident(&rel, s->table);
	const char *params[1] = { rel.buf };
	PGresult *r = PQexecParams(conn,
				   "SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
				   "ON true JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
				   "WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.ord",
				   1, NULL, params, NULL, NULL, 0);
	int ret = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
	} else {
		for (int i = 0; i < PQntuples(r); i++)
			strvec_push(out, PQgetvalue(r, i, 0));
		ret = 0;
	}
	PQclear(r);
	strbuf_release(&rel);
	return ret;
}

/* How one PostgreSQL type loads. */
struct pg_type {
	char *duck;
	const char *src;      /* server-side rendering, %s the column; NULL: as is */
	const char *duck_fmt; /* DuckDB expression over the text; NULL: read as duck */
	int temporal;
	int plain;            /* read as printed: can be an array element */
};

static int pg_scalar(unsigned oid, int typmod, struct pg_type *t, const char *col, struct strvec *warnings)
{
	const char *d = NULL;
	t->plain = 1;
	switch (oid) {
	case 16: d = "BOOLEAN"; break;
	case 20: d = "BIGINT"; break;
	case 21: d = "SMALLINT"; break;
	case 23: d = "INTEGER"; break;
	case 26: d = "BIGINT"; break;  /* oid: unsigned 32 bits */
	case 700: d = "FLOAT"; break;
	case 701: d = "DOUBLE"; break;
	case 1082: d = "DATE"; t->temporal = 1; break;
	case 1083: d = "TIME"; break;
	case 1266: d = "TIME WITH TIME ZONE"; break;
	case 1114: d = "TIMESTAMP"; t->temporal = 1; break;
	case 1184: d = "TIMESTAMP WITH TIME ZONE"; t->temporal = 1; break;
	case 1186: d = "INTERVAL"; break;
	case 2950: d = "UUID"; break;
	case 114: case 3802: d = "JSON"; break;
	/* text, and the types DuckDB has no match for: kept as their text */
	case 25: case 1043: case 1042: case 19: case 18: case 142: case 869: case 650: case 829: case 774:
	case 1560: case 1562: case 2249: case 705:
		d = "VARCHAR";
		break;
	case 17:
		d = "BLOB";
		t->src = "encode(%s, 'hex')";
		t->duck_fmt = "unhex(%s)";
		t->plain = 0;
		break;
	case 790:
		/* money: numeric with the locale's two decimals */
		d = "DECIMAL(19,2)";
		t->src = "%s::numeric";
		t->plain = 0;
		break;
	case 1700: {
		int p = -1, s = 0;
		if (typmod >= 4) {
			p = ((typmod - 4) >> 16) & 0xffff;
			s = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
		}
		if (p >= 1 && p <= 38 && s >= 0 && s <= p) {
			t->duck = xasprintf("DECIMAL(%d,%d)", p, s);
			return 0;
		}
		d = "DOUBLE";
		if (p < 0)
			strvec_pushf(warnings, "column %s: numeric without a precision is loaded as DOUBLE (declare numeric(p,s), p <= 38, to keep it exact)", col);
		else
			strvec_pushf(warnings, "column %s: numeric(%d,%d) does not fit DuckDB's DECIMAL (at most 38 digits); loaded as DOUBLE", col, p, s);
		break;
	}
	default:
		return -1;
	}
	t->duck = xstrdup(d);
	return 0;
}

/* Resolve a type by its oid: built-in scalars directly, domains to their
 * base, enums to text, arrays to a LIST of their element. */
static int pg_map(PGconn *conn, unsigned oid, int typmod, int depth, struct pg_type *t, const char *col,
		  struct strvec *warnings, struct strbuf *err)
{
	memset(t, 0, sizeof(*t));
	if (pg_scalar(oid, typmod, t, col, warnings) == 0)
		return 0;
	char q[160];
	snprintf(q, sizeof(q), "SELECT typtype, typelem, typbasetype, typtypmod, typcategory FROM pg_type WHERE oid = %u", oid);
	PGresult *r = PQexec(conn, q);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	char typtype = PQgetvalue(r, 0, 0)[0], cat = PQgetvalue(r, 0, 4)[0];
	unsigned elem = (unsigned)strtoul(PQgetvalue(r, 0, 1), NULL, 10), base = (unsigned)strtoul(PQgetvalue(r, 0, 2), NULL, 10);
	int basemod = atoi(PQgetvalue(r, 0, 3));
	PQclear(r);
	if (typtype == 'd' && depth < 8)
		return pg_map(conn, base, basemod >= 0 ? basemod : typmod, depth + 1, t, col, warnings, err);
	if (typtype == 'e') {
		t->duck = xstrdup("VARCHAR");
		t->plain = 1;
		return 0;
	}
	if (cat == 'A' && elem && depth < 8) {
		struct pg_type et;
		if (pg_map(conn, elem, typmod, depth + 1, &et, col, warnings, err) < 0)
			return -1;
		if (et.plain && !strstr(et.duck, "[]")) {
			/* one-dimensional arrays: a JSON list of the elements' text */
			t->duck = xasprintf("%s[]", et.duck);
			t->src = "to_json(%s::text[])";
			t->duck_fmt = NULL;
			free(et.duck);
			return 1; /* the caller builds the cast with the type */
		}
		free(et.duck);
	}
	t->duck = xstrdup("VARCHAR");
	t->src = "%s::text";
	return 0;
}

static int pg_columns(void *conn, const char *from, struct db_cols *out, struct strvec *warnings, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "SELECT * FROM %s LIMIT 0", from);
	PGresult *r = PQexec(conn, sql.buf);
	strbuf_release(&sql);
	int ret = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
		goto out;
	}
	for (int i = 0; i < PQnfields(r); i++) {
		struct pg_type t;
		int k = pg_map(conn, PQftype(r, i), PQfmod(r, i), 0, &t, PQfname(r, i), warnings, err);
		if (k < 0)
			goto out;
		char *duck_expr = k == 1 ? xasprintf("CAST(CAST(%%s AS JSON) AS %s)", t.duck) : NULL;
		db_cols_add(out, PQfname(r, i), t.duck, t.src, k == 1 ? duck_expr : t.duck_fmt);
		out->v[out->nr - 1].temporal = t.temporal;
		free(duck_expr);
		free(t.duck);
	}
	ret = 0;
out:
	PQclear(r);
	return ret;
}

static int pg_copy(void *conn, const char *select_sql, struct db_cols *cols, struct db_spool *sp, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	int ret = -1, n;
	char *buf;
	strbuf_addf(&sql, "COPY (%s) TO STDOUT (FORMAT csv)", select_sql);
	PGresult *r = PQexec(conn, sql.buf);
	strbuf_release(&sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	int stopped = 0;
	while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
		if (!stopped) {
			db_spool_write_line(sp, buf, (size_t)n);
			if (db_spool_row_end(sp, err) < 0) {
				/* stop the server's side; the rest is drained below */
				PGcancel *c = PQgetCancel(conn);
				char e[256];
				if (c) {
					PQcancel(c, e, sizeof(e));
					PQfreeCancel(c);
				}
				stopped = 1;
			}
		}
		PQfreemem(buf);
	}
	if (n == -2) {
		pg_warehouse_add_message(err, PQerrorMessage(conn));
		return -1;
	}
	ret = stopped ? -1 : 0;
	while ((r = PQgetResult(conn))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !stopped) {
			pg_warehouse_add_message(err, PQerrorMessage(conn));
			ret = -1;
		}
		PQclear(r);
	}
	return ret;
}

const struct db_family db_postgres = {
	.type = "postgres",
	.default_schema = "public",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.ident = pg_ident,
	.literal = pg_literal,
	.max_text = pg_max_text,
	.shift_days = pg_shift_days,
	.tables = pg_tables,
	.columns = pg_columns,
	.primary_key = pg_primary_key,
	.query_row = pg_query_row,
	.copy = pg_copy,
	.where = pg_where,
	.schemas = pg_schemas,
};
