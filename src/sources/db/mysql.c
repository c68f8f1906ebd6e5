/* MySQL and MariaDB through libmariadb. Rows stream with mysql_use_result
 * (never the whole result in memory) in the text protocol; the session runs
 * in UTC so TIMESTAMP values are points in time. Types come from the result
 * metadata: tinyint(1) is BOOLEAN, unsigned integers widen to the next
 * signed type, binary strings are BLOBs, JSON (MySQL's type, or MariaDB's
 * json format attribute) is JSON; zero dates become NULL, counted. */
#include "sources/db/db.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum my_kind { MK_PLAIN, MK_TEXT, MK_BLOB, MK_DATE, MK_TSTZ, MK_BIT, MK_BOOL };

static void my_ident(struct strbuf *sb, const char *name)
{
	strbuf_addch(sb, '`');
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			strbuf_addch(sb, '`');
		strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '`');
}

static void my_literal(void *conn, struct strbuf *sb, const char *value)
{
	size_t len = strlen(value);
	char *buf = xmalloc(len * 2 + 1);
	mysql_real_escape_string(conn, buf, value, (unsigned long)len);
	strbuf_addf(sb, "'%s'", buf);
	free(buf);
}

static void my_max_text(struct strbuf *sb, const char *expr)
{
	strbuf_addf(sb, "max(%s)", expr);
}

static void my_shift_days(struct strbuf *sb, const char *lit, int days)
{
	strbuf_addf(sb, "(CAST(%s AS DATETIME(6)) + INTERVAL %d DAY)", lit, days);
}

/* A connection URL (url_env): mysql://user:password@host:port/database
 * ?ssl-mode=..., parts percent-decoded. The keys of the block (host, port,
 * database, user, password_env) take precedence over its parts. */
struct my_url {
	char *user, *password, *host, *database;
	int port;
	int ssl;               /* 0: as the library does, 1: required, 2: and the server's certificate verified */
};

static void my_url_release(struct my_url *u)
{
	free(u->user);
	if (u->password)
		memset(u->password, 0, strlen(u->password));
	free(u->password);
	free(u->host);
	free(u->database);
	memset(u, 0, sizeof(*u));
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The part [s, e) percent-decoded; NULL when it is malformed. */
static char *url_part(const char *s, const char *e)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = s; p < e; p++) {
		if (*p == '%') {
			int h = p + 2 < e ? hexval(p[1]) : -1, l = h >= 0 ? hexval(p[2]) : -1;
			if (l < 0 || (h == 0 && l == 0)) {
				strbuf_release(&sb);
				return NULL;
			}
			strbuf_addch(&sb, (char)(h * 16 + l));
			p += 2;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* ?ssl-mode=required&...: the one parameter there is a use for here. */
static int url_params(const char *q, struct my_url *u, struct strbuf *err)
{
	while (*q && *q != '#') {
		size_t n = strcspn(q, "&#");
		const char *eq = memchr(q, '=', n);
		size_t kl = eq ? (size_t)(eq - q) : n;
		char *v = eq ? xstrndup(eq + 1, n - kl - 1) : xstrdup("");
		int bad = 0;
		if ((kl == 8 && !strncasecmp(q, "ssl-mode", 8)) || (kl == 7 && !strncasecmp(q, "sslmode", 7))) {
			if (!strcasecmp(v, "disabled") || !strcasecmp(v, "disable") || !strcasecmp(v, "preferred") ||
			    !strcasecmp(v, "prefer"))
				u->ssl = 0;
			else if (!strcasecmp(v, "required") || !strcasecmp(v, "require"))
				u->ssl = 1;
			else if (!strcasecmp(v, "verify_ca") || !strcasecmp(v, "verify_identity") ||
				 !strcasecmp(v, "verify-ca") || !strcasecmp(v, "verify-full"))
				u->ssl = 2;
			else {
				strbuf_addf(err, "url_env: ssl-mode '%s' is not one of disabled, preferred, required, "
					    "verify_ca, verify_identity", v);
				bad = 1;
			}
		} else if (kl) {
			strbuf_addf(err, "url_env: the URL parameter '%.*s' is not supported (only ssl-mode is)", (int)kl, q);
			bad = 1;
		}
		free(v);
		if (bad)
			return -1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* Errors name the part that is wrong, never the URL (it holds the password). */
static int my_parse_url(const char *url, struct my_url *u, struct strbuf *err)
{
	const char *p;
	memset(u, 0, sizeof(*u));
	if (starts_with(url, "mysql://"))
		p = url + 8;
	else if (starts_with(url, "mariadb://"))
		p = url + 10;
	else {
		strbuf_addstr(err, "url_env: the URL must start with mysql:// (mysql://user:password@host:3306/database)");
		return -1;
	}
	const char *auth_end = p + strcspn(p, "/?#");
	const char *at = NULL;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		u->user = url_part(p, colon ? colon : at);
		if (colon)
			u->password = url_part(colon + 1, at);
		if (!u->user || (colon && !u->password)) {
			strbuf_addstr(err, "url_env: a bad %-escape in the URL's user or password");
			goto fail;
		}
		p = at + 1;
	}
	const char *host_end = auth_end, *port = NULL;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(auth_end - p));
		if (!close) {
			strbuf_addstr(err, "url_env: an IPv6 host in the URL lacks its ']'");
			goto fail;
		}
		u->host = xstrndup(p + 1, (size_t)(close - p - 1));
		port = close[1] == ':' ? close + 2 : NULL;
	} else {
		const char *colon = memchr(p, ':', (size_t)(auth_end - p));
		if (colon) {
			host_end = colon;
			port = colon + 1;
		}
		if (host_end > p && !(u->host = url_part(p, host_end))) {
			strbuf_addstr(err, "url_env: a bad %-escape in the URL's host");
			goto fail;
		}
	}
	if (port) {
		char *end;
		long n = strtol(port, &end, 10);
		if (end == port || end != auth_end || n < 1 || n > 65535) {
			strbuf_addstr(err, "url_env: the URL's port is not a number from 1 to 65535");
			goto fail;
		}
		u->port = (int)n;
	}
	p = auth_end;
	if (*p == '/') {
		const char *e = p + 1 + strcspn(p + 1, "?#");
		if (e > p + 1 && !(u->database = url_part(p + 1, e))) {
			strbuf_addstr(err, "url_env: a bad %-escape in the URL's database");
			goto fail;
		}
		p = e;
	}
	if (*p == '?' && url_params(p + 1, u, err) < 0)
		goto fail;
	return 0;
fail:
	my_url_release(u);
	return -1;
}

static void my_where(const struct db_conf *c, struct strbuf *sb)
{
	struct my_url u = { 0 };
	struct strbuf ignored = STRBUF_INIT;
	if (c->url && my_parse_url(c->url, &u, &ignored) < 0)
		memset(&u, 0, sizeof(u));
	strbuf_release(&ignored);
	const char *host = c->host ? c->host : u.host ? u.host : "localhost";
	const char *db = c->database ? c->database : u.database ? u.database : "(no database)";
	strbuf_addf(sb, "%s:%d/%s", host, c->port ? c->port : u.port ? u.port : 3306, db);
	my_url_release(&u);
}

static int my_connect(const struct db_conf *c, void **out, struct strbuf *err)
{
	unsigned int ct = (unsigned)c->connect_timeout, rt = (unsigned)(c->timeout > 0 ? c->timeout : 0);
	struct my_url u = { 0 };
	if (c->url && my_parse_url(c->url, &u, err) < 0)
		return -1;
	MYSQL *m = mysql_init(NULL);
	if (!m) {
		my_url_release(&u);
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	if (rt)
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	if (u.ssl) {
		my_bool yes = 1;
		mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &yes);
		if (u.ssl == 2)
			mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
	}
	/* a host of "localhost" would mean the unix socket: the TCP port is what the config names */
	const char *host = c->host ? c->host : u.host ? u.host : "127.0.0.1";
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	const char *user = c->user ? c->user : u.user, *pw = c->password ? c->password : u.password;
	const char *db = c->database ? c->database : u.database;
	unsigned port = (unsigned)(c->port ? c->port : u.port ? u.port : 3306);
	MYSQL *ok = mysql_real_connect(m, host, user, pw, db, port, NULL, 0);
	my_url_release(&u);
	if (!ok) {
		strbuf_addstr(err, mysql_error(m));
		mysql_close(m);
		return -1;
	}
	if (rt) {
		char q[96];
		snprintf(q, sizeof(q), "SET SESSION max_statement_time = %u", rt);
		mysql_query(m, q); /* MariaDB's name; MySQL's differs and the read timeout still holds */
	}
	*out = m;
	return 0;
}

static void my_disconnect(void *conn)
{
	mysql_close(conn);
}

static int my_query_row(void *conn, const char *sql, char **vals, int n, struct strbuf *err)
{
	if (mysql_query(conn, sql)) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_RES *r = mysql_store_result(conn);
	if (!r) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_ROW row = mysql_fetch_row(r);
	for (int i = 0; i < n; i++)
		vals[i] = row && (unsigned)i < mysql_num_fields(r) && row[i] ? xstrdup(row[i]) : NULL;
	mysql_free_result(r);
	return 0;
}

static int my_list(void *conn, const char *sql, struct strvec *out, struct strbuf *err)
{
	if (mysql_query(conn, sql)) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_RES *r = mysql_store_result(conn);
	if (!r) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(r)))
		if (row[0])
			strvec_push(out, row[0]);
	mysql_free_result(r);
	return 0;
}

static int my_tables(void *conn, const char *schema, struct strvec *out, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addstr(&sql, "SELECT table_name FROM information_schema.tables WHERE table_schema = ");
	if (schema)
		my_literal(conn, &sql, schema);
	else
		strbuf_addstr(&sql, "DATABASE()");
	strbuf_addstr(&sql, " ORDER BY 1");
	int ret = my_list(conn, sql.buf, out, err);
	strbuf_release(&sql);
	return ret;
}

static int my_primary_key(void *conn, const struct db_stream *s, struct strvec *out, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addstr(&sql, "SELECT column_name FROM information_schema.key_column_usage WHERE constraint_name = 'PRIMARY' "
			    "AND table_schema = ");
	if (s->schema)
		my_literal(conn, &sql, s->schema);
	else
		strbuf_addstr(&sql, "DATABASE()");
	strbuf_addstr(&sql, " AND table_name = ");
	my_literal(conn, &sql, s->table);
	strbuf_addstr(&sql, " ORDER BY ordinal_position");
	int ret = my_list(conn, sql.buf, out, err);
	strbuf_release(&sql);
	return ret;
}

static int is_json(const MYSQL_FIELD *f)
{
	MARIADB_CONST_STRING attr = { 0 };
	if (f->type == MYSQL_TYPE_JSON)
		return 1;
	return mariadb_field_attr(&attr, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 && attr.length == 4 &&
	       !strncmp(attr.str, "json", 4);
}

static void map_field(const MYSQL_FIELD *f, struct db_cols *out, struct strvec *warnings)
{
	int uns = (f->flags & UNSIGNED_FLAG) != 0;
	const char *d = "VARCHAR", *expr = NULL;
	char *owned = NULL;
	int kind = MK_PLAIN, temporal = 0;
	switch (f->type) {
	case MYSQL_TYPE_TINY:
		if (f->length == 1 && !uns) {
			d = "BOOLEAN";
			kind = MK_BOOL;
		} else {
			d = uns ? "SMALLINT" : "TINYINT";
		}
		break;
	case MYSQL_TYPE_SHORT: d = uns ? "INTEGER" : "SMALLINT"; break;
	case MYSQL_TYPE_INT24: d = "INTEGER"; break;
	case MYSQL_TYPE_LONG: d = uns ? "BIGINT" : "INTEGER"; break;
	case MYSQL_TYPE_LONGLONG: d = uns ? "HUGEINT" : "BIGINT"; break;
	case MYSQL_TYPE_FLOAT: d = "FLOAT"; break;
	case MYSQL_TYPE_DOUBLE: d = "DOUBLE"; break;
	case MYSQL_TYPE_YEAR: d = "SMALLINT"; break;
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL: {
		int s = (int)f->decimals, p = (int)f->length - (s > 0) - (uns ? 0 : 1);
		if (p >= 1 && p <= 38 && s <= p) {
			d = owned = xasprintf("DECIMAL(%d,%d)", p, s);
		} else {
			d = "DOUBLE";
			strvec_pushf(warnings, "column %s: decimal(%d,%d) does not fit DuckDB's DECIMAL (at most 38 digits); loaded as DOUBLE",
				     f->name, p, s);
		}
		break;
	}
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_NEWDATE:
		d = "DATE";
		kind = MK_DATE;
		temporal = 1;
		break;
	case MYSQL_TYPE_DATETIME:
		d = "TIMESTAMP";
		kind = MK_DATE;
		temporal = 1;
		break;
	case MYSQL_TYPE_TIMESTAMP:
		d = "TIMESTAMP WITH TIME ZONE";
		kind = MK_TSTZ;
		temporal = 1;
		break;
	case MYSQL_TYPE_TIME: d = "TIME"; break;
	case MYSQL_TYPE_BIT:
		if (f->length == 1) {
			d = "BOOLEAN";
		} else {
			d = "UBIGINT";
		}
		kind = MK_BIT;
		break;
	case MYSQL_TYPE_JSON:
		d = "JSON";
		kind = MK_TEXT;
		break;
	case MYSQL_TYPE_GEOMETRY:
		d = "BLOB";
		kind = MK_BLOB;
		expr = "unhex(%s)";
		break;
	default:
		/* strings, blobs, enum, set: binary ones (charset 63) are bytes */
		if (f->charsetnr == 63 && !(f->flags & (ENUM_FLAG | SET_FLAG))) {
			d = "BLOB";
			kind = MK_BLOB;
			expr = "unhex(%s)";
		} else {
			d = is_json(f) ? "JSON" : "VARCHAR";
			kind = MK_TEXT;
		}
		break;
	}
	db_cols_add(out, f->name, d, NULL, expr);
	out->v[out->nr - 1].kind = kind;
	out->v[out->nr - 1].temporal = temporal;
	free(owned);
}

static int my_columns(void *conn, const char *from, struct db_cols *out, struct strvec *warnings, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "SELECT * FROM %s LIMIT 0", from);
	int rc = mysql_query(conn, sql.buf);
	strbuf_release(&sql);
	if (rc) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_RES *r = mysql_store_result(conn);
	if (!r) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_FIELD *fields = mysql_fetch_fields(r);
	for (unsigned i = 0; i < mysql_num_fields(r); i++)
		map_field(&fields[i], out, warnings);
	mysql_free_result(r);
	return 0;
}

static int zero_date(const char *s)
{
	return !strncmp(s, "0000-00-00", 10) || (strlen(s) >= 10 && (!strncmp(s + 5, "00", 2) || !strncmp(s + 8, "00", 2)));
}

static int my_copy(void *conn, const char *select_sql, struct db_cols *cols, struct db_spool *sp, struct strbuf *err)
{
	if (mysql_real_query(conn, select_sql, (unsigned long)strlen(select_sql))) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_RES *r = mysql_use_result(conn);
	if (!r) {
		strbuf_addstr(err, mysql_error(conn));
		return -1;
	}
	MYSQL_ROW row;
	int ret = 0;
	while ((row = mysql_fetch_row(r))) {
		unsigned long *len = mysql_fetch_lengths(r);
		for (size_t i = 0; i < cols->nr; i++) {
			const char *v = row[i];
			if (!v) {
				db_spool_field_null(sp);
				continue;
			}
			switch (cols->v[i].kind) {
			case MK_TEXT:
				db_spool_field_text(sp, v, len[i]);
				break;
			case MK_BLOB:
				db_spool_field_hex(sp, (const unsigned char *)v, len[i]);
				break;
			case MK_DATE:
			case MK_TSTZ:
				if (zero_date(v)) {
					db_spool_note_zero_date(sp);
					db_spool_field_null(sp);
				} else if (cols->v[i].kind == MK_TSTZ) {
					/* the session's UTC, said, so that DuckDB's own time zone does not apply */
					char ts[64];
					int m = snprintf(ts, sizeof(ts), "%.*s+00", (int)len[i], v);
					db_spool_field_raw(sp, ts, (size_t)m);
				} else {
					db_spool_field_raw(sp, v, len[i]);
				}
				break;
			case MK_BIT: {
				/* BIT values come as big-endian bytes */
				unsigned long long n = 0;
				char num[32];
				for (unsigned long k = 0; k < len[i]; k++)
					n = (n << 8) | (unsigned char)v[k];
				int m = cols->v[i].duck[0] == 'B' ? snprintf(num, sizeof(num), "%s", n ? "true" : "false")
								   : snprintf(num, sizeof(num), "%llu", n);
				db_spool_field_raw(sp, num, (size_t)m);
				break;
			}
			default:
				db_spool_field_raw(sp, v, len[i]);
			}
		}
		if (db_spool_row_end(sp, err) < 0) {
			ret = -1;
			break;
		}
	}
	if (!ret && mysql_errno(conn)) {
		strbuf_addstr(err, mysql_error(conn));
		ret = -1;
	}
	mysql_free_result(r);
	return ret;
}

const struct db_family db_mysql = {
	.type = "mysql",
	.default_schema = NULL,
	.connect = my_connect,
	.disconnect = my_disconnect,
	.ident = my_ident,
	.literal = my_literal,
	.max_text = my_max_text,
	.shift_days = my_shift_days,
	.tables = my_tables,
	.columns = my_columns,
	.primary_key = my_primary_key,
	.query_row = my_query_row,
	.copy = my_copy,
	.where = my_where,
};
