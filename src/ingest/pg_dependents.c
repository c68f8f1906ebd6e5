/* Views on a table set aside and rebuilt around its swap: see pg_dependents.h. */
#include "ingest/pg_dependents.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "warehouse/pg_warehouse.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* The views (v) and materialized views (m) that read $1.$2, through other
 * views too, each with its longest distance from the table: a view is
 * created after every view it reads, since those are nearer. A view's own
 * _RETURN rule depends on the view itself; that edge is left out. */
static const char deps_cte[] =
	"WITH RECURSIVE base AS (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE n.nspname = $1 AND c.relname = $2), "
	"deps(oid, depth) AS (SELECT r.ev_class, 1 FROM base JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass "
	"AND d.refobjid = base.oid AND d.classid = 'pg_rewrite'::regclass JOIN pg_rewrite r ON r.oid = d.objid "
	"WHERE r.ev_class <> base.oid "
	"UNION SELECT r.ev_class, deps.depth + 1 FROM deps JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass "
	"AND d.refobjid = deps.oid AND d.classid = 'pg_rewrite'::regclass JOIN pg_rewrite r ON r.oid = d.objid "
	"WHERE r.ev_class <> deps.oid AND deps.depth < 64), "
	"views AS (SELECT c.oid, max(deps.depth) AS depth, c.relkind, c.relowner, c.reloptions, c.relacl, "
	"c.relispopulated, format('%I.%I', n.nspname, c.relname) AS qname, "
	"CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END AS what "
	"FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relkind IN ('v', 'm') "
	"GROUP BY c.oid, c.relkind, c.relowner, c.reloptions, c.relacl, c.relispopulated, n.nspname, c.relname) ";

/* Every statement that makes each view again, in the order to run them:
 * the view, its comments, column defaults, indexes, triggers, rules,
 * grants, and its owner last (so that we own it while building it). */
static const char rebuild_select[] =
	"SELECT depth, qname, 0 AS ord, format('CREATE %s %s%s AS %s%s', what, qname, "
	"CASE WHEN reloptions IS NULL THEN '' ELSE ' WITH (' || array_to_string(reloptions, ', ') || ')' END, "
	"rtrim(rtrim(pg_get_viewdef(oid)), ';'), "
	"CASE WHEN relkind <> 'm' THEN '' WHEN relispopulated THEN ' WITH DATA' ELSE ' WITH NO DATA' END) FROM views "
	"UNION ALL SELECT depth, qname, 1, format('COMMENT ON %s %s IS %L', what, qname, ds.description) "
	"FROM views JOIN pg_description ds ON ds.objoid = views.oid AND ds.classoid = 'pg_class'::regclass "
	"AND ds.objsubid = 0 "
	"UNION ALL SELECT depth, qname, 2, format('COMMENT ON COLUMN %s.%I IS %L', qname, a.attname, ds.description) "
	"FROM views JOIN pg_description ds ON ds.objoid = views.oid AND ds.classoid = 'pg_class'::regclass "
	"AND ds.objsubid > 0 JOIN pg_attribute a ON a.attrelid = views.oid AND a.attnum = ds.objsubid "
	"UNION ALL SELECT depth, qname, 3, format('ALTER VIEW %s ALTER COLUMN %I SET DEFAULT %s', qname, a.attname, "
	"pg_get_expr(ad.adbin, ad.adrelid)) FROM views JOIN pg_attrdef ad ON ad.adrelid = views.oid "
	"JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum "
	"UNION ALL SELECT depth, qname, 4, pg_get_indexdef(i.indexrelid) FROM views JOIN pg_index i "
	"ON i.indrelid = views.oid "
	"UNION ALL SELECT depth, qname, 5, pg_get_triggerdef(t.oid) FROM views JOIN pg_trigger t "
	"ON t.tgrelid = views.oid AND NOT t.tgisinternal "
	"UNION ALL SELECT depth, qname, 6, pg_get_ruledef(r.oid) FROM views JOIN pg_rewrite r "
	"ON r.ev_class = views.oid AND r.rulename <> '_RETURN' "
	"UNION ALL SELECT depth, qname, 7, format('GRANT %s ON %s TO %s%s', g.privilege_type, qname, "
	"CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END, "
	"CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) "
	"FROM views, aclexplode(views.relacl) g WHERE g.grantee <> views.relowner "
	"UNION ALL SELECT depth, qname, 8, format('GRANT %s (%I) ON %s TO %s%s', g.privilege_type, a.attname, qname, "
	"CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END, "
	"CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) "
	"FROM views JOIN pg_attribute a ON a.attrelid = views.oid AND a.attacl IS NOT NULL, aclexplode(a.attacl) g "
	"WHERE g.grantee <> views.relowner "
	"UNION ALL SELECT depth, qname, 9, format('ALTER %s %s OWNER TO %I', what, qname, pg_get_userbyid(relowner)) "
	"FROM views WHERE pg_get_userbyid(relowner) <> current_user "
	"ORDER BY 1, 2, 3";

static int result_ok(PGconn *c, PGresult *r, const char *what, struct strbuf *err)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	const char *m = PQresultErrorMessage(r);
	strbuf_addf(err, "postgres warehouse: %s: ", what);
	if (m && *m)
		pg_warehouse_add_message(err, m);
	else
		pg_warehouse_error(c, err);
	return -1;
}

/* The rows of sql (parameters schema, table), or NULL with err. */
static PGresult *query2(PGconn *c, const char *sql, const char *schema, const char *table, const char *what,
			struct strbuf *err)
{
	const char *params[2] = { schema, table };
	PGresult *r = PQexecParams(c, sql, 2, NULL, params, NULL, NULL, 0);
	if (result_ok(c, r, what, err) < 0) {
		PQclear(r);
		return NULL;
	}
	return r;
}

static int exec1(PGconn *c, const char *sql, const char *what, struct strbuf *err)
{
	PGresult *r = PQexec(c, sql);
	int ret = result_ok(c, r, what, err);
	PQclear(r);
	return ret;
}

/* The definitions are read, and run again, with only pg_catalog on the
 * search path: pg_get_viewdef and its kin then qualify every name outside
 * it, so the text means the same whatever the session's path. The
 * session's own path comes back after (local to the transaction either way). */
static int catalog_path(PGconn *c, char **saved, struct strbuf *err)
{
	PGresult *r = PQexec(c, "SELECT current_setting('search_path'), set_config('search_path', 'pg_catalog', true)");
	if (result_ok(c, r, "reading the search path", err) < 0) {
		PQclear(r);
		return -1;
	}
	*saved = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static void restore_path(PGconn *c, char *saved)
{
	const char *params[1] = { saved };
	if (!saved)
		return;
	PQclear(PQexecParams(c, "SELECT set_config('search_path', $1, true)", 1, NULL, params, NULL, NULL, 0));
	free(saved);
}

int pg_dependents_detach(struct pg_conn *c, const char *schema, const char *table, struct pg_dependents *d,
			 struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, what = STRBUF_INIT, t = STRBUF_INIT;
	PGresult *r = NULL;
	char *path = NULL;
	int ret = -1;
	strbuf_add_sql_ident(&t, schema);
	strbuf_addch(&t, '.');
	strbuf_add_sql_ident(&t, table);
	d->table = xasprintf("%s.%s", schema, table);
	strbuf_addf(&what, "setting aside the views on %s", d->table);
	/* first the names, to lock the views before the table, deepest first:
	 * the order a reader of a view takes its locks in, so that a query
	 * starting meanwhile waits rather than deadlocks */
	strbuf_addf(&sql, "%sSELECT qname, relkind FROM views ORDER BY depth DESC, qname", deps_cte);
	if (!(r = query2(c, sql.buf, schema, table, what.buf, err)))
		goto out;
	strbuf_reset(&sql);
	int nr = PQntuples(r);
	for (int i = 0; i < nr; i++) /* LOCK refuses materialized views: their DROP locks them */
		if (!strcmp(PQgetvalue(r, i, 1), "v"))
			strbuf_addf(&sql, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE; ", PQgetvalue(r, i, 0));
	PQclear(r);
	r = NULL;
	if (!nr) { /* no view reads it */
		ret = 0;
		goto out;
	}
	strbuf_addf(&sql, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", t.buf);
	if (exec1(c, sql.buf, what.buf, err) < 0)
		goto out;
	/* with the locks held no view can come or go: read them for good */
	if (catalog_path(c, &path, err) < 0)
		goto out;
	strbuf_reset(&sql);
	strbuf_addf(&sql, "%s%s", deps_cte, rebuild_select);
	r = query2(c, sql.buf, schema, table, what.buf, err);
	restore_path(c, path);
	if (!r)
		goto out;
	/* dropped deepest first: each one's readers are gone before it */
	strbuf_reset(&sql);
	for (int i = PQntuples(r) - 1; i >= 0; i--) {
		if (strcmp(PQgetvalue(r, i, 2), "0")) /* not the view's CREATE */
			continue;
		const char *kind = !strncmp(PQgetvalue(r, i, 3), "CREATE MATERIALIZED ", 20) ? "MATERIALIZED VIEW" : "VIEW";
		strbuf_addf(&sql, "DROP %s %s; ", kind, PQgetvalue(r, i, 1));
		d->nr++;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		strvec_push(&d->views, PQgetvalue(r, i, 1));
		strvec_push(&d->sql, PQgetvalue(r, i, 3));
	}
	ret = sql.len ? exec1(c, sql.buf, what.buf, err) : 0;
out:
	PQclear(r);
	strbuf_release(&sql);
	strbuf_release(&what);
	strbuf_release(&t);
	return ret;
}

int pg_dependents_restore(struct pg_conn *c, struct pg_dependents *d, const char *source, struct strbuf *err)
{
	char *path = NULL;
	int ret = 0;
	if (!d->sql.nr)
		return 0;
	if (catalog_path(c, &path, err) < 0)
		return -1;
	for (size_t i = 0; i < d->sql.nr && !ret; i++) {
		PGresult *r = PQexec(c, d->sql.v[i]);
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			/* the primary message alone: its LINE and caret point into SQL the user never wrote */
			const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			strbuf_addf(err, "the view %s, which reads %s, no longer fits the table this sync of source '%s' "
				    "built: ", d->views.v[i], d->table, source);
			if (m && *m)
				strbuf_addstr(err, m);
			else
				pg_warehouse_error(c, err);
			strbuf_addstr(err, "; the sync was rolled back (the table and its views are as they were): "
					   "change or drop the view, then sync again");
			ret = -1;
		}
		PQclear(r);
	}
	/* after a failure the transaction is aborted and the path goes with it */
	if (!ret)
		restore_path(c, path);
	else
		free(path);
	return ret;
}

void pg_dependents_release(struct pg_dependents *d)
{
	strvec_clear(&d->views);
	strvec_clear(&d->sql);
	free(d->table);
	d->table = NULL;
	d->nr = 0;
}
