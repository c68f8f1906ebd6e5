/* The adapter's introspection and DDL on a postgres target's connection
 * (adapter.c asks here when there is no DuckDB warehouse): columns as
 * dbt-postgres describes them, the relations of a schema, and statements
 * such as adapter.drop_relation's, run in the node's transaction. */
#include "transform/pg.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "transform/runtime.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* With --threads, each worker runs its nodes on a connection of its own:
 * while it does, its thread's connection stands in for p->other_conn. */
static _Thread_local void *thread_conn;

void *dbt_other_conn(const struct dbt_project *p)
{
	return thread_conn ? thread_conn : p->other_conn;
}

void dbt_other_conn_for_thread(void *conn)
{
	thread_conn = conn;
}

int dbt_pg_live(const struct dbt_project *p)
{
	return dbt_target_is_postgres(p) && p->other_conn;
}

static int failed(PGresult *r, struct strbuf *err)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
	strbuf_rtrim(err);
	return -1;
}

int dbt_pg_exec(struct dbt_project *p, const char *sql, struct strbuf *err)
{
	PGresult *r = PQexec(dbt_other_conn(p), sql);
	int ret = failed(r, err);
	PQclear(r);
	return ret;
}

/* dbt-postgres' Column.data_type: text and unsized varchar as they are,
 * other strings as character varying(n), numeric with its precision */
static void data_type(struct strbuf *sb, const PGresult *r, int i)
{
	const char *t = PQgetvalue(r, i, 1);
	int has_size = !PQgetisnull(r, i, 2), has_ps = !PQgetisnull(r, i, 3) && !PQgetisnull(r, i, 4);
	if (!strcmp(t, "text") || (!strcmp(t, "character varying") && !has_size))
		strbuf_addstr(sb, t);
	else if (!strcmp(t, "character varying") || !strcmp(t, "character"))
		strbuf_addf(sb, "character varying(%s)", has_size ? PQgetvalue(r, i, 2) : "256");
	else if (!strcmp(t, "numeric") && has_ps)
		strbuf_addf(sb, "numeric(%s,%s)", PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	else
		strbuf_addstr(sb, t);
}

int dbt_pg_columns(struct dbt_project *p, const char *schema, const char *name, struct jval out, struct strbuf *err)
{
	const char *params[2] = { schema, name };
	PGresult *r = PQexecParams(dbt_other_conn(p),
				   "select column_name, data_type, character_maximum_length, numeric_precision, "
				   "numeric_scale from information_schema.columns where table_schema = $1 and "
				   "table_name = $2 order by ordinal_position",
				   2, NULL, params, NULL, NULL, 0);
	int ret = failed(r, err);
	for (int i = 0; !ret && i < PQntuples(r); i++) {
		struct strbuf t = STRBUF_INIT;
		data_type(&t, r, i);
		jval_list_append(out, dbt_column_new(PQgetvalue(r, i, 0), t.buf));
		strbuf_release(&t);
	}
	PQclear(r);
	return ret;
}

int dbt_pg_relations(struct dbt_project *p, const char *database, const char *schema, struct jval out,
		     struct strbuf *err)
{
	const char *params[1] = { schema };
	PGresult *r = PQexecParams(dbt_other_conn(p),
				   "select c.relname, case c.relkind when 'v' then 'view' when 'm' then "
				   "'materialized_view' else 'table' end from pg_class c join pg_namespace n on n.oid = "
				   "c.relnamespace where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm') order by 1",
				   1, NULL, params, NULL, NULL, 0);
	int ret = failed(r, err);
	for (int i = 0; !ret && i < PQntuples(r); i++)
		jval_list_append(out, dbt_relation_new(database, schema, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), 1));
	PQclear(r);
	return ret;
}

char dbt_pg_relkind(PGconn *c, const char *schema, const char *name)
{
	const char *params[2] = { schema, name };
	PGresult *r = PQexecParams(c,
				   "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
				   "where n.nspname = $1 and c.relname = $2",
				   2, NULL, params, NULL, NULL, 0);
	char k = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		k = PQgetvalue(r, 0, 0)[0];
	PQclear(r);
	return k == 'r' || k == 'p' ? 'r' : k == 'v' || k == 'm' ? 'v' : 0;
}

const char *dbt_pg_refresh_kind(struct dbt_project *p, const char *schema, const char *name)
{
	char k = dbt_pg_relkind(dbt_other_conn(p), schema, name);
	const char *kind = k == 'r' ? "table" : k == 'v' ? "view" : NULL;
	dbt_catalog_set(p, schema, name, kind);
	return kind;
}

int dbt_pg_describe(struct dbt_project *p, const char *query, struct strvec *names, struct strvec *types,
		    struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "select * from (\n%s\n) dbt_describe limit 0", query);
	PGresult *r = PQexec(dbt_other_conn(p), sql.buf);
	int ret = failed(r, err);
	int n = ret ? 0 : PQnfields(r);
	/* the types' names as the server writes them, with their modifiers */
	strbuf_reset(&sql);
	strbuf_addstr(&sql, "select ");
	for (int i = 0; i < n; i++)
		strbuf_addf(&sql, "%sformat_type(%u, %d)", i ? ", " : "", (unsigned)PQftype(r, i), PQfmod(r, i));
	PGresult *t = n ? PQexec(dbt_other_conn(p), sql.buf) : NULL;
	if (n && (ret = failed(t, err)) == 0 && PQntuples(t) == 1)
		for (int i = 0; i < n; i++) {
			strvec_push(names, PQfname(r, i));
			strvec_push(types, PQgetvalue(t, 0, i));
		}
	PQclear(t);
	PQclear(r);
	strbuf_release(&sql);
	return ret;
}

int dbt_pg_unit_diff(struct dbt_project *p, const char *sql, int64_t *rows, struct strbuf *msg, struct strbuf *err)
{
	PGresult *r = PQexec(dbt_other_conn(p), sql);
	int ret = failed(r, err);
	*rows = ret ? 0 : PQntuples(r);
	if (*rows) {
		strbuf_addstr(msg, "actual differs from expected:\n\n@@");
		for (int c = 1; c < PQnfields(r); c++)
			strbuf_addf(msg, ",%s", PQfname(r, c));
		for (int i = 0; i < PQntuples(r); i++) {
			strbuf_addch(msg, '\n');
			for (int c = 0; c < PQnfields(r); c++)
				strbuf_addf(msg, "%s%s", c ? "," : "", PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c));
		}
	}
	PQclear(r);
	return ret;
}

int dbt_pg_exec_count(struct dbt_project *p, const char *sql, int64_t *rows, struct strbuf *err)
{
	PGresult *r = PQexec(dbt_other_conn(p), sql);
	int ret = failed(r, err);
	if (!ret)
		*rows = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return ret;
}

int dbt_pg_query_int(struct dbt_project *p, const char *sql, int64_t *out, struct strbuf *err)
{
	PGresult *r = PQexec(dbt_other_conn(p), sql);
	int ret = failed(r, err);
	*out = !ret && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
										       : 0;
	PQclear(r);
	return ret;
}
