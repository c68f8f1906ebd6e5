#include "warehouse/pg_warehouse.h"
#include "project/project.h"
#include "core/strbuf.h"
#include "core/util.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

int pg_warehouse_enabled(const struct project *p)
{
	return p->warehouse_type == WAREHOUSE_POSTGRES;
}

static const char *lookup(const struct project *p, const char *var)
{
	return var ? env_lookup(&p->env, var, NULL) : NULL;
}

void pg_warehouse_add_message(struct strbuf *err, const char *msg)
{
	struct strbuf m = STRBUF_INIT;
	strbuf_addstr(&m, msg && *msg ? msg : "unknown error");
	strbuf_trim(&m);
	const char *s = m.buf;
	if (starts_with(s, "ERROR:  "))
		s += 8;
	strbuf_addstr(err, s);
	strbuf_release(&m);
}

void pg_warehouse_error(struct pg_conn *c, struct strbuf *err)
{
	pg_warehouse_add_message(err, c ? PQerrorMessage(c) : "out of memory");
}

/* The part of the URL (or the configured keys) that names the server. */
void pg_warehouse_describe(const struct project *p, struct strbuf *sb)
{
	const char *host = p->pg.host, *db = p->pg.database, *port = NULL;
	char portbuf[16];
	PQconninfoOption *opts = NULL;
	const char *url = lookup(p, p->pg.url_env);
	if (url && (opts = PQconninfoParse(url, NULL))) {
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			if (!o->val || !*o->val)
				continue;
			if (!strcmp(o->keyword, "host") && !host)
				host = o->val;
			else if (!strcmp(o->keyword, "port"))
				port = o->val;
			else if (!strcmp(o->keyword, "dbname") && !db)
				db = o->val;
		}
	}
	if (p->pg.port) {
		snprintf(portbuf, sizeof(portbuf), "%d", p->pg.port);
		port = portbuf;
	}
	strbuf_addf(sb, "%s:%s/%s", host ? host : "localhost", port ? port : "5432", db ? db : "?");
	PQconninfoFree(opts);
}

static int add_kv(const char **keys, const char **vals, int n, const char *k, const char *v)
{
	if (v) {
		keys[n] = k;
		vals[n++] = v;
	}
	return n;
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pg_warehouse_connect(const struct project *p, int statement_timeout_s, struct pg_conn **out,
			 struct strbuf *err)
{
	const char *keys[12], *vals[12];
	int n = 0;
	char port[16];
	struct strbuf options = STRBUF_INIT, where = STRBUF_INIT;
	const char *url = lookup(p, p->pg.url_env);
	const char *password = lookup(p, p->pg.password_env);
	*out = NULL;
	pg_warehouse_describe(p, &where);
	if (p->pg.url_env && !url) {
		strbuf_addf(err, "postgres warehouse: the variable %s (warehouse.url_env in project.yml) is not set",
			    p->pg.url_env);
		goto fail;
	}
	if (p->pg.password_env && !password) {
		strbuf_addf(err, "postgres warehouse %s: the variable %s (warehouse.password_env) is not set", where.buf,
			    p->pg.password_env);
		goto fail;
	}
#define KV(k, v) n = add_kv(keys, vals, n, k, v)
	KV("dbname", url); /* expanded: a URL's parts, overridden by what follows */
	KV("host", p->pg.host);
	snprintf(port, sizeof(port), "%d", p->pg.port);
	KV("port", p->pg.port ? port : NULL);
	KV("dbname", p->pg.database);
	KV("user", p->pg.user);
	KV("password", password);
	KV("sslmode", p->pg.sslmode);
	KV("connect_timeout", "10");
	KV("application_name", "dango");
	strbuf_addstr(&options, "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c client_encoding=UTF8");
	if (statement_timeout_s > 0)
		strbuf_addf(&options, " -c statement_timeout=%ds", statement_timeout_s);
	KV("options", options.buf);
#undef KV
	keys[n] = vals[n] = NULL;
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		strbuf_addf(err, "postgres warehouse %s: ", where.buf);
		pg_warehouse_error(c, err);
		PQfinish(c);
		goto fail;
	}
	/* libpq prints NOTICEs to stderr by default: they are not ours to show */
	PQsetNoticeProcessor(c, ignore_notice, NULL);
	*out = c;
	strbuf_release(&options);
	strbuf_release(&where);
	return 0;
fail:
	strbuf_release(&options);
	strbuf_release(&where);
	return -1;
}

void pg_warehouse_disconnect(struct pg_conn *c)
{
	PQfinish(c);
}
