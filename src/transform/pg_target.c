/* A dbt-postgres target: `dango run` of a plain dbt project whose profile
 * is `type: postgres` (issue #19's first step, in the dbt layer only).
 *
 * The profile gives libpq's parameters (host, port, user, password,
 * dbname or database, sslmode, connect_timeout) and the schema (default
 * public). Models are compiled as for DuckDB, with no DuckDB connection:
 * dispatch tries postgres__ before default__ (packages.c), target.type and
 * adapter.type() say postgres, relations are "dbname"."schema"."name".
 * Each model then runs on one libpq connection the way dbt-postgres builds
 * it: a view is `create or replace view`; a table is built under
 * <name>__dbt_tmp and swapped in with renames, the old one kept as
 * <name>__dbt_backup until the end, in one transaction, so a failing model
 * leaves the previous table as it was. Ephemeral models are inlined.
 * An incremental model is a table on its first run (and with
 * --full-refresh); then its rows go into a temporary table and are added
 * as dbt-postgres does: `append`, `delete+insert` on the unique_key (the
 * default when there is one) or `merge`, in one transaction, into the
 * columns the table has. is_incremental() sees the relations that exist
 * (the project's catalog is filled from pg_class).
 * Seeds are loaded with COPY (pg_seed.c) in the same kind of transaction,
 * with their hooks; the adapter's introspection and DDL run on this
 * connection (pg_adapter.c).
 * run_query and statement blocks run on the same connection, their values
 * typed as on DuckDB. pre-hook/post-hook run in the model's transaction; on-run-start and
 * on-run-end around the nodes (on-run-end with `results`, as on DuckDB).
 * Tests (generic and singular; `dango test`, and `dango build` in graph
 * order) count their rows with fail_calc against warn_if/error_if and
 * severity, as on DuckDB; unit tests through unit.c and snapshots through
 * snapshot.c, whose statements come to this connection (snapshots in
 * the node's transaction).
 * A failing node's dependents are skipped, as on DuckDB. */
#include "transform/dbt.h"
#include "core/pool.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "transform/materialize.h"
#include "transform/pg.h"
#include "transform/pymodules.h"
#include "transform/runtime.h"
#include "warehouse/warehouse.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

static const char *ystr_of(const struct ynode *map, const char *key)
{
	const struct ynode *v = ymap_get(map, key);
	return v && v->kind == Y_SCALAR && !ynode_is_null(v) ? v->str : NULL;
}

int dbt_pg_target_load(struct dbt_project *p, const struct ynode *out, const char *file, const char *tname,
		       struct strbuf *err)
{
	static const char *const keys[] = { "host", "port", "user", "password", "sslmode", "connect_timeout",
					    "sslrootcert", "application_name" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = ystr_of(out, keys[i]);
		if (v) {
			strvec_push(&p->target.pg_params, keys[i]);
			strvec_push(&p->target.pg_params, v);
		}
	}
	const char *db = ystr_of(out, "dbname");
	if (!db)
		db = ystr_of(out, "database");
	if (!db) {
		strbuf_addf(err, "%s: target '%s' of type postgres needs a dbname (or database)", file, tname);
		return -1;
	}
	strvec_push(&p->target.pg_params, "dbname");
	strvec_push(&p->target.pg_params, db);
	p->target.database = xstrdup(db);
	const char *schema = ystr_of(out, "schema");
	p->target.schema = xstrdup(schema ? schema : "public");
	int64_t th = 0;
	p->target.threads = ynode_int(ymap_get(out, "threads"), &th) == 0 && th > 0 ? (int)th : 4;
	return 0;
}

/* The server's notices ("schema ... already exists, skipping") are not
 * the run's output: dbt-postgres does not print them either. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *pg_connect(const struct dbt_project *p, struct strbuf *err)
{
	size_t n = p->target.pg_params.nr / 2;
	const char **k = xcalloc(n + 1, sizeof(*k)), **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		k[i] = p->target.pg_params.v[2 * i];
		v[i] = p->target.pg_params.v[2 * i + 1];
	}
	PGconn *c = PQconnectdbParams(k, v, 0);
	free(k);
	free(v);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		/* libpq's message names the host and port, never the password */
		strbuf_addf(err, "cannot connect to PostgreSQL: %s", c ? PQerrorMessage(c) : "out of memory");
		strbuf_rtrim(err);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	return c;
}

/* A cell as Python's agate value: numbers, booleans, dates and
 * timestamps typed by the column's type (pg_type OIDs), else text. */
static struct jval pg_value(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return jval_none();
	const char *s = PQgetvalue(r, row, col);
	switch (PQftype(r, col)) {
	case 16: /* bool */
		return jval_bool(s[0] == 't');
	case 20: case 21: case 23: /* int8, int2, int4 */
		return jval_int(strtoll(s, NULL, 10));
	case 700: case 701: case 1700: /* float4, float8, numeric */
		return jval_float(strtod(s, NULL));
	case 1082: case 1083: case 1114: case 1184: { /* date, time, timestamp, timestamptz */
		const char *type = PQftype(r, col) == 1082 ? "date" : PQftype(r, col) == 1083 ? "time" : "timestamp";
		struct jval v = dbt_datetime_from_sql(s, type);
		return v.type != JVAL_UNDEFINED ? v : jval_str(s);
	}
	default:
		return jval_str(s);
	}
}

static int pg_query(void *conn, const char *sql, struct jval *names, struct jval *rows, struct strbuf *err)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
		strbuf_rtrim(err);
		PQclear(r);
		return -1;
	}
	*names = jval_list_new();
	*rows = jval_list_new();
	for (int c = 0; c < PQnfields(r); c++)
		jval_list_append(*names, jval_str(PQfname(r, c)));
	for (int i = 0; i < PQntuples(r); i++) {
		struct jval row = jval_list_new();
		for (int c = 0; c < PQnfields(r); c++)
			jval_list_append(row, pg_value(r, i, c));
		jval_list_append(*rows, row);
	}
	PQclear(r);
	return 0;
}

static int pg_exec(PGconn *c, const char *sql, struct strbuf *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok) {
		strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
		strbuf_rtrim(err);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

/* A statement of the materialization: run, and kept (when run is not
 * NULL) for target/run/, as dbt writes the statements it ran there. */
static int run_exec(PGconn *c, const char *sql, struct strbuf *run, struct strbuf *err)
{
	if (run)
		strbuf_addf(run, "%s%s;\n", run->len ? "\n" : "", sql);
	return pg_exec(c, sql, err);
}

static void qname(struct strbuf *sb, const char *schema, const char *name, const char *suffix)
{
	struct strbuf n = STRBUF_INIT;
	strbuf_addf(&n, "%s%s", name, suffix);
	strbuf_add_sql_ident(sb, schema);
	strbuf_addch(sb, '.');
	strbuf_add_sql_ident(sb, n.buf);
	strbuf_release(&n);
}

/* The relations of the database into the project's catalog, so that
 * is_incremental() and the catalog lookups know what exists. */
static int load_catalog(struct dbt_project *p, PGconn *c, struct strbuf *err)
{
	PGresult *r = PQexec(c, "select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on "
				"n.oid = c.relnamespace where c.relkind in ('r', 'p', 'v', 'm') and n.nspname not in "
				"('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
		strbuf_rtrim(err);
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++)
		dbt_catalog_set(p, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
				strchr("vm", PQgetvalue(r, i, 2)[0]) ? "view" : "table");
	p->have_catalog = 1;
	PQclear(r);
	return 0;
}

/* The columns of schema.name, in order. */
static int table_columns(PGconn *c, const char *schema, const char *name, struct strvec *out, struct strbuf *err)
{
	const char *params[2] = { schema, name };
	PGresult *r = PQexecParams(c,
				   "select column_name from information_schema.columns where table_schema = $1 and "
				   "table_name = $2 order by ordinal_position",
				   2, NULL, params, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok) {
		strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
		strbuf_rtrim(err);
	}
	for (int i = 0; ok && i < PQntuples(r); i++)
		strvec_push(out, PQgetvalue(r, i, 0));
	PQclear(r);
	return ok ? 0 : -1;
}

/* A config that is a column name or a list of them, into out. */
static void config_names(const struct dbt_node *n, const char *key, struct strvec *out)
{
	const struct jval *v = jval_dict_get(n->config, key);
	if (v && v->type == JVAL_STR)
		strvec_push(out, jval_str_cstr(*v));
	for (size_t i = 0; v && v->type == JVAL_LIST && i < jval_len(*v); i++) {
		const char *k = jval_str_cstr(*jval_list_at(*v, i));
		if (k)
			strvec_push(out, k);
	}
}

static int has_name_ci(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcasecmp(sv->v[i], s))
			return 1;
	return 0;
}

/* incremental_predicates: more conditions on the rows the step touches */
static void predicates(const struct dbt_node *n, struct strbuf *q)
{
	struct strvec preds = STRVEC_INIT;
	config_names(n, "incremental_predicates", &preds);
	for (size_t i = 0; i < preds.nr; i++)
		strbuf_addf(q, " and (%s)", preds.v[i]);
	strvec_clear(&preds);
}

/* dbt's merge: the unique_key matches (none: nothing does) update the
 * merge_update_columns (or all but merge_exclude_columns), the others are
 * inserted. PostgreSQL 15 and later have MERGE. */
static void merge_sql(const struct dbt_node *n, const char *schema, const char *name, const char *tmp,
		      const struct strvec *cols, const char *collist, struct strbuf *q)
{
	struct strvec keys = STRVEC_INIT, upd = STRVEC_INIT, excl = STRVEC_INIT;
	config_names(n, "unique_key", &keys);
	config_names(n, "merge_update_columns", &upd);
	config_names(n, "merge_exclude_columns", &excl);
	strbuf_addstr(q, "merge into ");
	qname(q, schema, name, "");
	strbuf_addstr(q, " as DBT_INTERNAL_DEST using ");
	strbuf_add_sql_ident(q, tmp);
	strbuf_addstr(q, " as DBT_INTERNAL_SOURCE on (");
	if (!keys.nr)
		strbuf_addstr(q, "false");
	for (size_t i = 0; i < keys.nr; i++)
		strbuf_addf(q, "%sDBT_INTERNAL_SOURCE.%s = DBT_INTERNAL_DEST.%s", i ? " and " : "", keys.v[i],
			    keys.v[i]);
	predicates(n, q);
	strbuf_addstr(q, ")");
	int first = 1;
	for (size_t i = 0; keys.nr && i < cols->nr; i++) {
		if ((upd.nr && !has_name_ci(&upd, cols->v[i])) || has_name_ci(&excl, cols->v[i]))
			continue;
		strbuf_addstr(q, first ? " when matched then update set " : ", ");
		first = 0;
		strbuf_add_sql_ident(q, cols->v[i]);
		strbuf_addstr(q, " = DBT_INTERNAL_SOURCE.");
		strbuf_add_sql_ident(q, cols->v[i]);
	}
	strbuf_addf(q, " when not matched then insert (%s) values (", collist);
	for (size_t i = 0; i < cols->nr; i++) {
		strbuf_addstr(q, i ? ", DBT_INTERNAL_SOURCE." : "DBT_INTERNAL_SOURCE.");
		strbuf_add_sql_ident(q, cols->v[i]);
	}
	strbuf_addstr(q, ")");
	strvec_clear(&keys);
	strvec_clear(&upd);
	strvec_clear(&excl);
}

/* The temporary table a batch's or incremental model's rows go to first. */
static int create_tmp(PGconn *c, const char *name, const char *sql, struct strbuf *run, struct strbuf *err)
{
	struct strbuf q = STRBUF_INIT, tmp = STRBUF_INIT;
	strbuf_addstr(&q, "create temporary table ");
	strbuf_addf(&tmp, "%s__dbt_tmp", name);
	strbuf_add_sql_ident(&q, tmp.buf);
	strbuf_addf(&q, " as (\n%s\n)", sql);
	int ret = run_exec(c, q.buf, run, err);
	strbuf_release(&q);
	strbuf_release(&tmp);
	return ret;
}

/* The incremental step: the new rows into a temporary table, then append,
 * delete+insert on the unique_key or merge, into the table's columns.
 * sql NULL: its temporary table is there already (create_tmp). */
static int incremental_sql(PGconn *c, const struct dbt_node *n, const char *schema, const char *name,
			   const char *sql, struct strbuf *q, struct strbuf *run, struct strbuf *err)
{
	const struct jval *uk = jval_dict_get(n->config, "unique_key");
	const char *strategy = dbt_config_str(n, "incremental_strategy");
	int has_key = uk && (uk->type == JVAL_STR || (uk->type == JVAL_LIST && jval_len(*uk)));
	if (!strategy)
		strategy = has_key ? "delete+insert" : "append";
	if (!strcmp(strategy, "microbatch")) /* a batch after the first: dbt-postgres merges it */
		strategy = "merge";
	if (strcmp(strategy, "append") && strcmp(strategy, "delete+insert") && strcmp(strategy, "merge")) {
		strbuf_addf(err, "%s: incremental_strategy '%s' is not supported on a postgres target by Dango yet "
				 "(append, delete+insert, merge)", n->file, strategy);
		return -1;
	}
	if (!strcmp(strategy, "delete+insert") && !has_key) {
		strbuf_addf(err, "%s: the delete+insert strategy needs a unique_key", n->file);
		return -1;
	}
	struct strbuf tmp = STRBUF_INIT, cols = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	strbuf_addf(&tmp, "%s__dbt_tmp", name);
	int ret = sql ? create_tmp(c, name, sql, run, err) : 0;
	if (!ret)
		ret = table_columns(c, schema, name, &names, err);
	for (size_t i = 0; i < names.nr; i++) {
		if (i)
			strbuf_addstr(&cols, ", ");
		strbuf_add_sql_ident(&cols, names.v[i]);
	}
	strbuf_reset(q);
	if (!ret && !strcmp(strategy, "delete+insert")) {
		strbuf_addstr(q, "delete from ");
		qname(q, schema, name, "");
		if (uk->type == JVAL_STR) {
			strbuf_addf(q, " where (%s) in (select (%s) from ", jval_str_cstr(*uk), jval_str_cstr(*uk));
			strbuf_add_sql_ident(q, tmp.buf);
			strbuf_addstr(q, ")");
		} else {
			strbuf_addstr(q, " as dbt_target using ");
			strbuf_add_sql_ident(q, tmp.buf);
			strbuf_addstr(q, " as dbt_new where ");
			for (size_t i = 0; i < jval_len(*uk); i++) {
				const char *k = jval_str_cstr(*jval_list_at(*uk, i));
				strbuf_addf(q, "%sdbt_target.%s = dbt_new.%s", i ? " and " : "", k ? k : "", k ? k : "");
			}
		}
		predicates(n, q);
		strbuf_addstr(q, "; ");
	}
	if (!ret && !strcmp(strategy, "merge")) {
		merge_sql(n, schema, name, tmp.buf, &names, cols.buf, q);
		strbuf_addstr(q, "; drop table ");
		strbuf_add_sql_ident(q, tmp.buf);
		ret = run_exec(c, q->buf, run, err);
	} else if (!ret) {
		strbuf_addstr(q, "insert into ");
		qname(q, schema, name, "");
		strbuf_addf(q, " (%s) (select %s from ", cols.buf, cols.buf);
		strbuf_add_sql_ident(q, tmp.buf);
		strbuf_addstr(q, "); drop table ");
		strbuf_add_sql_ident(q, tmp.buf);
		ret = run_exec(c, q->buf, run, err);
	}
	strbuf_release(&tmp);
	strbuf_release(&cols);
	strvec_clear(&names);
	return ret;
}

/* pre-hook / post-hook of a model: rendered in its context, run in its
 * transaction (dbt-postgres runs them inside it by default). */
static int model_hooks(struct dbt_project *p, PGconn *c, struct dbt_node *n, const char *key, struct strbuf *err)
{
	const struct jval *h = jval_dict_get(n->config, key);
	size_t cnt = !h ? 0 : h->type == JVAL_LIST ? jval_len(*h) : 1;
	for (size_t i = 0; i < cnt; i++) {
		const struct jval *v = h->type == JVAL_LIST ? jval_list_at(*h, i) : h;
		const struct jval *s = v->type == JVAL_DICT ? jval_dict_get(*v, "sql") : v;
		const char *src = s ? jval_str_cstr(*s) : NULL;
		if (!src || !*src)
			continue;
		struct strbuf sql = STRBUF_INIT;
		int r = dbt_render_string(p, n, NULL, 1, n->file, src, &sql, err);
		strbuf_trim(&sql);
		if (r == 0 && sql.len)
			r = pg_exec(c, sql.buf, err);
		strbuf_release(&sql);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* on-run-start / on-run-end: rendered outside any node and run in order;
 * on-run-end sees the results of the nodes that ran. */
static int project_hooks(struct dbt_project *p, PGconn *c, int end, const struct dbt_result *results,
			 void (*line)(const char *), struct strbuf *err)
{
	const struct strvec *hooks = end ? &p->on_run_end : &p->on_run_start;
	const char *kind = end ? "on-run-end" : "on-run-start";
	struct jval extra = end ? dbt_hook_extra(p, results) : jval_dict_new();
	int ret = 0;
	for (size_t i = 0; i < hooks->nr && !ret; i++) {
		struct strbuf sql = STRBUF_INIT, msg = STRBUF_INIT;
		ret = dbt_render_extra(p, NULL, kind, hooks->v[i], extra, &sql, err);
		strbuf_trim(&sql);
		if (!ret && sql.len)
			ret = pg_exec(c, sql.buf, err);
		strbuf_addf(&msg, "%zu of %zu %s hook: %s.%s.%zu", i + 1, hooks->nr, ret ? "ERROR" : "OK",
			    i < (end ? p->hook_owner_end.nr : p->hook_owner_start.nr)
				    ? (end ? p->hook_owner_end.v[i] : p->hook_owner_start.v[i])
				    : p->name,
			    kind, i);
		line(msg.buf);
		strbuf_release(&sql);
		strbuf_release(&msg);
	}
	jval_unref(extra);
	return ret;
}

/* One model or seed, in one transaction. */
/* The node's relation is built by one run at a time: two dango runs (or a
 * run and a sync's staging step) on one warehouse may go on side by side,
 * and PostgreSQL's own locks would let their __dbt_tmp tables collide.
 * A transaction-level advisory lock on the relation's name serializes
 * them; it goes with the commit or rollback. */
static void relation_lock_sql(struct strbuf *q, const char *fn, const char *schema, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	strbuf_addf(&key, "dango:relation:%s.%s", schema, name);
	strbuf_addf(q, "select %s(hashtextextended(", fn);
	strbuf_add_sql_str(q, key.buf);
	strbuf_addstr(q, ", 0))");
	strbuf_release(&key);
}

static int lock_relation(PGconn *c, const char *schema, const char *name, struct strbuf *err)
{
	struct strbuf q = STRBUF_INIT;
	relation_lock_sql(&q, "pg_advisory_xact_lock", schema, name);
	int r = pg_exec(c, q.buf, err);
	strbuf_release(&q);
	return r;
}

/* The same lock held by the session, for a custom materialization: its
 * macro may commit (adapter.commit()) and go on in a new transaction. A
 * session lock and a transaction lock on one key exclude each other. */
int dbt_pg_lock_relation(struct dbt_project *p, const char *schema, const char *name, int lock, struct strbuf *err)
{
	struct strbuf q = STRBUF_INIT;
	relation_lock_sql(&q, lock ? "pg_advisory_lock" : "pg_advisory_unlock", schema, name);
	int r = dbt_pg_exec(p, q.buf, err);
	strbuf_release(&q);
	return r;
}

/* create schema if not exists, in its own transaction before the node's
 * (as dbt creates schemas before the nodes run): two runs creating one new
 * schema at once collide on the catalog's unique index, and the one that
 * loses finds the schema there, which is all it asked for. */
int dbt_pg_ensure_schema(struct pg_conn *conn, const char *schema, struct strbuf *err)
{
	PGconn *c = (PGconn *)conn;
	struct strbuf q = STRBUF_INIT;
	strbuf_addstr(&q, "create schema if not exists ");
	strbuf_add_sql_ident(&q, schema);
	PGresult *r = PQexec(c, q.buf);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || (state && (!strcmp(state, "23505") || !strcmp(state, "42P06")));
	if (!ok) {
		strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
		strbuf_rtrim(err);
	}
	PQclear(r);
	strbuf_release(&q);
	return ok ? 0 : -1;
}

static int pg_describe(void *p, const char *query, struct strvec *names, struct strvec *types, struct strbuf *err)
{
	return dbt_pg_describe(p, query, names, types, err);
}

static int is_microbatch(const struct dbt_node *n)
{
	const char *st = dbt_config_str(n, "incremental_strategy");
	return n->kind == NODE_MODEL && n->mat == MAT_INCREMENTAL && st && !strcmp(st, "microbatch");
}

static int build_model(struct dbt_project *p, PGconn *c, struct dbt_node *n, int full_refresh, const char *sql,
		       struct warehouse *duck, int64_t *rows, struct strbuf *run, struct strbuf *err)
{
	const char *schema = n->schema, *name = n->alias ? n->alias : n->name;
	struct strbuf q = STRBUF_INIT, ident = STRBUF_INIT, ddl = STRBUF_INIT, ccols = STRBUF_INIT;
	int ret = -1;
	int contract = n->kind == NODE_MODEL && dbt_contract_enforced(n);
	if (dbt_pg_ensure_schema((struct pg_conn *)c, schema, err) < 0 || pg_exec(c, "begin", err) < 0)
		goto out;
	/* a microbatch model's hooks run once, around all its batches */
	int mb = is_microbatch(n);
	if (lock_relation(c, schema, name, err) < 0 || (!mb && model_hooks(p, c, n, "pre-hook", err) < 0))
		goto rollback;
	/* an enforced contract: checked before anything is built, as dbt does */
	if (contract && dbt_contract_check(n, sql, pg_describe, p, &ddl, &ccols, err) < 0)
		goto rollback;
	char had = dbt_pg_relkind(c, schema, name);
	strbuf_reset(&q);
	const struct jval *fr = jval_dict_get(n->config, "full_refresh");
	int full = fr && fr->type == JVAL_BOOL ? fr->u.b : full_refresh;
	if (n->kind == NODE_SEED) {
		if (dbt_pg_seed_load(p, duck, n, full, rows, err) < 0)
			goto rollback;
	} else if (n->kind == NODE_SNAPSHOT) {
		/* snapshot.c's statements, in this transaction */
		struct strbuf body = STRBUF_INIT, log = STRBUF_INIT;
		strbuf_addstr(&body, sql);
		while (body.len && (strchr(" \t\n\r;", body.buf[body.len - 1])))
			strbuf_setlen(&body, body.len - 1);
		int sr = dbt_snapshot_build(p, n, NULL, body.buf, &log, rows, err);
		strbuf_release(&body);
		strbuf_release(&log);
		if (sr < 0)
			goto rollback;
	} else if (n->mat == MAT_INCREMENTAL && had == 'r' && !full) {
		if (incremental_sql(c, n, schema, name, sql, &q, run, err) < 0)
			goto rollback;
	} else if (n->mat == MAT_VIEW) {
		/* a table of that name goes first: views replace only views */
		if (had == 'r') {
			strbuf_addstr(&q, "drop table ");
			qname(&q, schema, name, "");
			strbuf_addstr(&q, " cascade");
			if (run_exec(c, q.buf, run, err) < 0)
				goto rollback;
			strbuf_reset(&q);
		}
		strbuf_addstr(&q, "create or replace view ");
		qname(&q, schema, name, "");
		strbuf_addf(&q, " as (\n%s\n)", sql);
		if (run_exec(c, q.buf, run, err) < 0)
			goto rollback;
	} else {
		strbuf_addstr(&q, "drop table if exists ");
		qname(&q, schema, name, "__dbt_tmp");
		strbuf_addstr(&q, " cascade; drop table if exists ");
		qname(&q, schema, name, "__dbt_backup");
		strbuf_addstr(&q, " cascade; create table ");
		qname(&q, schema, name, "__dbt_tmp");
		if (contract) {
			/* the declared columns, types and constraints, then the
			 * rows, as dbt-postgres builds a contracted table */
			strbuf_addf(&q, " (%s); insert into ", ddl.buf);
			qname(&q, schema, name, "__dbt_tmp");
			strbuf_addf(&q, " (%s) (select %s from (\n%s\n) as model_subq)", ccols.buf, ccols.buf, sql);
		} else {
			strbuf_addf(&q, " as (\n%s\n)", sql);
		}
		if (run_exec(c, q.buf, run, err) < 0)
			goto rollback;
		strbuf_reset(&q);
		if (had) {
			strbuf_addf(&q, "alter %s ", had == 'v' ? "view" : "table");
			qname(&q, schema, name, "");
			strbuf_addstr(&q, " rename to ");
			strbuf_addf(&ident, "%s__dbt_backup", name);
			strbuf_add_sql_ident(&q, ident.buf);
			strbuf_addstr(&q, "; ");
		}
		strbuf_addstr(&q, "alter table ");
		qname(&q, schema, name, "__dbt_tmp");
		strbuf_addstr(&q, " rename to ");
		strbuf_add_sql_ident(&q, name);
		if (had) {
			strbuf_addf(&q, "; drop %s ", had == 'v' ? "view" : "table");
			qname(&q, schema, name, "__dbt_backup");
			strbuf_addstr(&q, " cascade");
		}
		if (run_exec(c, q.buf, run, err) < 0)
			goto rollback;
	}
	if (dbt_pg_persist_docs(p, n, err) < 0 || (!mb && model_hooks(p, c, n, "post-hook", err) < 0))
		goto rollback;
	if (pg_exec(c, "commit", err) < 0)
		goto out;
	ret = 0;
	goto out;
rollback:
	{
		struct strbuf ignore = STRBUF_INIT;
		pg_exec(c, "rollback", &ignore);
		strbuf_release(&ignore);
	}
out:
	strbuf_release(&q);
	strbuf_release(&ident);
	strbuf_release(&ddl);
	strbuf_release(&ccols);
	return ret;
}

/* The rows of the model's table in a batch's window [start, end). */
static int batch_rows(struct mctx *m, const char *event_time, const char *start, const char *end, int64_t *rows)
{
	struct dbt_node *n = m->n;
	struct strbuf q = STRBUF_INIT;
	strbuf_addstr(&q, "select count(*) from ");
	qname(&q, n->schema, n->alias ? n->alias : n->name, "");
	strbuf_addf(&q, " where %s >= '%s' and %s < '%s'", event_time, start, event_time, end);
	int r = dbt_pg_query_int(m->p, q.buf, rows, m->err);
	strbuf_release(&q);
	return r;
}

int dbt_pg_build_batch(struct mctx *m, const char *body, int incremental, const char *event_time, const char *start,
		       const char *end, int64_t *rows)
{
	struct dbt_project *p = m->p;
	struct dbt_node *n = m->n;
	PGconn *c = dbt_other_conn(p);
	int64_t ignored = 0;
	if (build_model(p, c, n, !incremental, body, NULL, &ignored, &m->run, m->err) < 0)
		return -1;
	int r = batch_rows(m, event_time, start, end, rows);
	if (r == 0)
		dbt_catalog_set(p, n->schema, n->alias ? n->alias : n->name, "table");
	return r;
}

/* A batch built at once with others of its model (microbatch.c), on this
 * thread's own connection, in a transaction of its own: its rows go to a
 * temporary table while the other batches compute theirs; then, its turn
 * come (wait_turn: the batches before it have committed), it is merged
 * under the relation's lock as build_model merges a batch. Merged in
 * order, the table ends as a serial run leaves it, whatever keys the
 * batches share. -1 with m->err. */
int dbt_pg_build_batch_concurrent(struct mctx *m, const char *body, const char *event_time, const char *start,
				  const char *end, int64_t *rows, void (*wait_turn)(void *data), void *data)
{
	struct dbt_project *p = m->p;
	struct dbt_node *n = m->n;
	PGconn *c = dbt_other_conn(p);
	const char *name = n->alias ? n->alias : n->name;
	struct strbuf q = STRBUF_INIT;
	int ret = -1;
	*rows = 0;
	if (pg_exec(c, "begin", m->err) < 0)
		goto out;
	int built = create_tmp(c, name, body, &m->run, m->err);
	wait_turn(data);
	if (built < 0 || lock_relation(c, n->schema, name, m->err) < 0 ||
	    incremental_sql(c, n, n->schema, name, NULL, &q, &m->run, m->err) < 0) {
		struct strbuf ignore = STRBUF_INIT;
		pg_exec(c, "rollback", &ignore);
		strbuf_release(&ignore);
		goto out;
	}
	if (pg_exec(c, "commit", m->err) < 0)
		goto out;
	ret = batch_rows(m, event_time, start, end, rows);
out:
	strbuf_release(&q);
	return ret;
}

void *dbt_pg_connect_extra(const struct dbt_project *p, struct strbuf *err)
{
	return pg_connect(p, err);
}

void dbt_pg_close_extra(void *conn)
{
	PQfinish(conn);
}

/* A microbatch model: its hooks once, its batches by microbatch.c (each
 * compiled with model.batch and built by dbt_pg_build_batch). */
static int build_microbatch(struct dbt_project *p, PGconn *c, struct dbt_node *n, struct dbt_result *rs,
			    int64_t *rows, struct strbuf *run, struct strbuf *err)
{
	struct mctx m = { p, n, NULL, err, STRBUF_INIT, 0, NULL, NULL };
	int r = dbt_pg_ensure_schema((struct pg_conn *)c, n->schema, err) < 0 ? -1 : model_hooks(p, c, n, "pre-hook", err);
	if (r == 0) {
		dbt_microbatch_build(&m, rs);
		r = rs->status == DBT_SUCCESS ? 0 : -1;
	}
	/* dbt runs the post-hooks with the last batch, even after a failed one */
	if ((r == 0 || rs->batches_ok) && model_hooks(p, c, n, "post-hook", err) < 0)
		r = -1;
	*rows = m.rows;
	strbuf_addbuf(run, &m.run);
	strbuf_release(&m.run);
	return r;
}

/* The failure count of a test query, and whether it warns or errors, as
 * materialize.c's run_test: 0 pass, 1 warn, 2 fail, -1 error. */
static int run_test(PGconn *c, const struct dbt_node *n, const char *body, long long *failures, struct strbuf *err)
{
	const char *sev = dbt_config_str(n, "severity");
	const char *warn_if = dbt_config_str(n, "warn_if"), *error_if = dbt_config_str(n, "error_if");
	const char *fc = dbt_config_str(n, "fail_calc");
	const struct jval *limit = jval_dict_get(n->config, "limit");
	struct strbuf q = STRBUF_INIT, b = STRBUF_INIT;
	strbuf_addstr(&b, body);
	strbuf_rtrim(&b);
	while (b.len && b.buf[b.len - 1] == ';')
		strbuf_setlen(&b, b.len - 1);
	if (!fc)
		fc = "count(*)";
	strbuf_addf(&q, "select %s as failures, (%s) %s as should_warn, (%s) %s as should_error from (\n%s\n", fc, fc,
		    warn_if && *warn_if ? warn_if : "!= 0", fc, error_if && *error_if ? error_if : "!= 0", b.buf);
	if (limit && limit->type == JVAL_INT)
		strbuf_addf(&q, "limit %lld\n", (long long)limit->u.i);
	strbuf_addstr(&q, ") dbt_internal_test");
	PGresult *r = PQexec(c, q.buf);
	int ret = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
		strbuf_rtrim(err);
	} else if (PQntuples(r) > 0) {
		*failures = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		int w = PQgetvalue(r, 0, 1)[0] == 't', e = PQgetvalue(r, 0, 2)[0] == 't';
		ret = e && !(sev && !strcasecmp(sev, "warn")) ? 2 : w ? 1 : 0;
		if (ret)
			strbuf_addf(err, "Got %lld result%s, configured to %s if %s", *failures, *failures == 1 ? "" : "s",
				    ret == 2 ? "fail" : "warn",
				    ret == 2 ? (error_if ? error_if : "!= 0") : (warn_if ? warn_if : "!= 0"));
	} else {
		*failures = 0;
		ret = 0;
	}
	PQclear(r);
	strbuf_release(&q);
	strbuf_release(&b);
	return ret;
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void dotted(void (*line)(const char *), const char *left, const char *right)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, left);
	strbuf_addch(&sb, ' ');
	while (sb.len < 80)
		strbuf_addch(&sb, '.');
	strbuf_addf(&sb, " %s", right);
	line(sb.buf);
	strbuf_release(&sb);
}

static int runs(const struct dbt_node *n)
{
	return n->selected && n->kind != NODE_SOURCE && !(n->kind == NODE_MODEL && n->mat == MAT_EPHEMERAL);
}

/* dbt's words for the node in its lines; buf holds a custom one */
static const char *kind_words(const struct dbt_node *n, char *buf, size_t len)
{
	if (n->kind == NODE_MODEL && n->mat == MAT_CUSTOM) {
		const char *m = dbt_config_str(n, "materialized");
		snprintf(buf, len, "%s model", m ? m : "custom");
		return buf;
	}
	return n->kind == NODE_SEED ? "seed" : n->kind == NODE_SNAPSHOT ? "snapshot"
	       : n->mat == MAT_VIEW	 ? "view model"
	       : n->mat == MAT_TABLE	 ? "table model"
					 : "incremental model";
}

/* A test, with dbt's line: 0 pass, 1 warn, 2 fail, 3 error. */
static int test_node(struct dbt_project *p, PGconn *c, struct dbt_node *n, struct strbuf *msg, long long *nfail,
		     struct strbuf *e)
{
	long long failures = 0;
	char *sql = NULL;
	int r = -1;
	struct strbuf label = STRBUF_INIT;
	if (n->unit_model >= 0) /* as dbt names a unit test: model::test */
		strbuf_addf(&label, "%s::", n->fqn.nr >= 2 ? n->fqn.v[n->fqn.nr - 2] : "");
	strbuf_addstr(&label, n->name);
	if (n->load_error)
		strbuf_addstr(e, n->load_error);
	else if (n->unit_model >= 0) {
		/* unit.c, with this connection for its queries */
		struct dbt_result res = { 0 };
		struct strbuf log = STRBUF_INIT;
		dbt_unit_run(p, n, NULL, &res, &log, e);
		r = res.status == DBT_PASS ? 0 : res.status == DBT_FAIL ? 2 : -1;
		if (r == 2 && res.message)
			strbuf_addstr(e, res.message);
		failures = res.rows;
		dbt_result_release(&res);
		strbuf_release(&log);
	} else if ((sql = dbt_compile_node(p, n, NULL, e))) {
		size_t l = strlen(sql);
		while (l && strchr(" \t\r\n;", sql[l - 1]))
			sql[--l] = '\0';
		free(n->compiled_sql); /* for target/compiled/ */
		n->compiled_sql = xstrdup(sql);
		if (dbt_pg_store_failures(p, n, sql, e) == 0)
			r = run_test(c, n, sql, &failures, e);
	}
	free(sql);
	if (r == 0)
		strbuf_addf(msg, "PASS %s", label.buf);
	else if (r > 0)
		strbuf_addf(msg, "%s %lld %s", r == 1 ? "WARN" : "FAIL", failures, label.buf);
	else
		strbuf_addf(msg, "ERROR %s", label.buf);
	strbuf_release(&label);
	*nfail = failures;
	return r < 0 ? 3 : r;
}

int dbt_pg_open(struct dbt_project *p, struct strbuf *err)
{
	PGconn *c = pg_connect(p, err);
	if (!c)
		return -1;
	if (load_catalog(p, c, err) < 0) {
		PQfinish(c);
		return -1;
	}
	p->other_query = pg_query;
	p->other_conn = c;
	return 0;
}

void dbt_pg_close(struct dbt_project *p)
{
	if (p->other_conn)
		PQfinish(p->other_conn);
	p->other_query = NULL;
	p->other_conn = NULL;
}

int dbt_pg_run_operation(struct dbt_project *p, const char *macro, struct jval args, struct strbuf *err)
{
	if (dbt_pg_open(p, err) < 0)
		return -1;
	int r = pg_exec(p->other_conn, "begin", err);
	if (r == 0)
		r = dbt_run_operation(p, NULL, macro, args, err);
	if (r == 0)
		r = pg_exec(p->other_conn, "commit", err);
	if (r < 0) {
		struct strbuf ignore = STRBUF_INIT;
		pg_exec(p->other_conn, "rollback", &ignore);
		strbuf_release(&ignore);
	}
	dbt_pg_close(p);
	return r;
}

/* --- the run: a worker pool, each worker on its own connection --------------- */

struct pg_worker {
	PGconn *c;
	struct warehouse duck; /* seeds are read by an in-memory DuckDB, opened once */
	int have_duck;
};

struct pg_task {
	struct dbt_project *p;
	struct dbt_node *n;
	struct dbt_result *rs;
	struct pg_worker *workers;
	/* the worker's answer: dbt's line (left and right of the dots), 0
	 * pass, 1 warn, 2 error or failure, and the summary's paragraph */
	struct strbuf left, right, failure;
	int outcome;
};

static void pg_task_test(struct pg_task *t, PGconn *c)
{
	struct dbt_project *p = t->p;
	struct dbt_node *n = t->n;
	struct dbt_result *rs = t->rs;
	struct strbuf e = STRBUF_INIT;
	long long nfail = 0;
	double t0 = rs->started_at;
	int tr = test_node(p, c, n, &t->left, &nfail, &e);
	static const enum dbt_status st[] = { DBT_PASS, DBT_WARN, DBT_FAIL, DBT_ERROR };
	static const char *const tags[] = { "PASS", "WARN", "FAIL", "ERROR" };
	rs->status = st[tr];
	rs->rows = nfail;
	rs->message = e.len ? xstrdup(e.buf) : NULL;
	rs->code = xstrdup("SELECT");
	rs->completed_at = now_s();
	rs->seconds = rs->completed_at - t0;
	strbuf_addf(&t->right, "[%s in %.2fs]", tags[tr], rs->seconds);
	t->outcome = tr == 0 ? 0 : tr == 1 ? 1 : 2;
	if (t->outcome == 2)
		strbuf_addf(&t->failure, "\n%s in test %s (%s)\n  %s\n", tr == 2 ? "Failure" : "Error", n->name,
			    n->file ? n->file : "", e.buf);
	strbuf_release(&e);
}

static void pg_task_run(void *data, size_t worker)
{
	struct pg_task *t = data;
	struct dbt_project *p = t->p;
	struct dbt_node *n = t->n;
	struct dbt_result *rs = t->rs;
	struct pg_worker *w = &t->workers[worker];
	PGconn *c = w->c;
	dbt_other_conn_for_thread(c);
	rs->started_at = now_s();
	if (n->kind == NODE_TEST) {
		pg_task_test(t, c);
		dbt_other_conn_for_thread(NULL);
		return;
	}
	char words[128];
	const char *what = kind_words(n, words, sizeof(words));
	struct strbuf e = STRBUF_INIT, run = STRBUF_INIT;
	char *sql = NULL;
	int r = -1, compiled = 0;
	int64_t rows = 0;
	if (n->load_error)
		strbuf_addstr(&e, n->load_error);
	else if (n->kind == NODE_SEED) {
		compiled = 1;
		if (!w->have_duck && warehouse_open(&w->duck, ":memory:", WH_READ_WRITE, &e) == 0)
			w->have_duck = 1;
		if (w->have_duck)
			r = build_model(p, c, n, p->full_refresh, NULL, &w->duck, &rows, NULL, &e);
	} else if (n->kind == NODE_MODEL && n->mat == MAT_CUSTOM) {
		/* a {% materialization %} macro (custom.c), on this connection */
		if ((sql = dbt_compile_node(p, n, NULL, &e))) {
			compiled = 1;
			free(n->compiled_sql);
			n->compiled_sql = xstrdup(sql);
			struct mctx m = { p, n, NULL, &e, STRBUF_INIT, 0, NULL, NULL };
			struct strbuf body = STRBUF_INIT;
			mat_clean_sql(&body, sql);
			if (dbt_pg_ensure_schema((struct pg_conn *)c, n->schema, &e) == 0)
				r = dbt_custom_build(&m, body.buf);
			strbuf_addbuf(&run, &m.run);
			strbuf_release(&m.run);
			strbuf_release(&body);
		}
	} else if (n->kind != NODE_SNAPSHOT &&
		   (n->kind != NODE_MODEL || (n->mat != MAT_VIEW && n->mat != MAT_TABLE && n->mat != MAT_INCREMENTAL)))
		strbuf_addf(&e, "%s: %ss are not supported on a postgres target by Dango yet", n->file, what);
	else if (is_microbatch(n)) {
		/* compiled batch by batch: model.batch exists only then */
		compiled = 1;
		r = build_microbatch(p, c, n, rs, &rows, &run, &e);
	} else if ((sql = dbt_compile_node(p, n, NULL, &e))) {
		compiled = 1;
		free(n->compiled_sql); /* for the artifacts */
		n->compiled_sql = xstrdup(sql);
		r = build_model(p, c, n, p->full_refresh, sql, NULL, &rows, &run, &e);
	}
	free(sql);
	/* what is there now (a post-hook may have dropped it) */
	dbt_pg_refresh_kind(p, n->schema, n->alias ? n->alias : n->name);
	dbt_other_conn_for_thread(NULL);
	const char *rel = n->alias ? n->alias : n->name;
	rs->status = r == 0 ? DBT_SUCCESS : DBT_ERROR;
	rs->rows = rows;
	rs->message = r == 0 ? NULL : xstrdup(e.buf);
	rs->run_sql = run.len ? strbuf_detach(&run, NULL) : NULL;
	rs->code = xstrdup(n->kind == NODE_SEED || n->kind == NODE_SNAPSHOT ? "INSERT"
			   : n->mat == MAT_VIEW			  ? "CREATE VIEW"
								  : "SELECT");
	rs->completed_at = now_s();
	rs->seconds = rs->completed_at - rs->started_at;
	if (r == 0) {
		if (n->kind == NODE_SEED)
			strbuf_addf(&t->left, "OK loaded seed file %s.%s", n->schema, rel);
		else if (n->kind == NODE_SNAPSHOT)
			strbuf_addf(&t->left, "OK snapshotted %s.%s", n->schema, rel);
		else
			strbuf_addf(&t->left, "OK created sql %s %s.%s", what, n->schema, rel);
		if (n->kind == NODE_SEED)
			strbuf_addf(&t->right, "[INSERT %lld in %.2fs]", (long long)rows, rs->seconds);
		else if (n->kind == NODE_SNAPSHOT)
			strbuf_addf(&t->right, "[INSERT 0 %lld in %.2fs]", (long long)rows, rs->seconds);
		else
			strbuf_addf(&t->right, "[%s in %.2fs]", n->mat == MAT_VIEW ? "CREATE VIEW" : "SELECT", rs->seconds);
		t->outcome = 0;
	} else {
		if (n->kind == NODE_SEED)
			strbuf_addf(&t->left, "ERROR loading seed file %s.%s", n->schema, rel);
		else if (n->kind == NODE_SNAPSHOT)
			strbuf_addf(&t->left, "ERROR creating snapshot %s.%s", n->schema, rel);
		else
			strbuf_addf(&t->left, "ERROR creating sql %s %s.%s", what, n->schema, rel);
		strbuf_addstr(&t->right, "[ERROR]");
		strbuf_addf(&t->failure, "\n%s Error in %s %s (%s)\n  %s\n", compiled ? "Database" : "Compilation",
			    dbt_node_kind_name(n->kind), n->name, n->file, e.buf);
		t->outcome = 2;
	}
	strbuf_release(&e);
	strbuf_release(&run);
}

static void close_workers(struct pg_worker *w, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		if (w[i].have_duck)
			warehouse_close(&w[i].duck);
		PQfinish(w[i].c);
	}
	free(w);
}

int dbt_pg_run(struct dbt_project *p, void (*line)(const char *), const struct strvec *preskip_ids, int threads,
	       struct dbt_result **results, struct strbuf *err)
{
	if (results)
		*results = NULL;
	size_t total = 0;
	for (size_t i = 0; i < p->nr; i++)
		total += runs(p->nodes[i]);
	size_t nthreads = threads > 0 ? (size_t)threads : 1;
	if (nthreads > total)
		nthreads = total ? total : 1;
	struct pg_worker *workers = xcalloc(nthreads, sizeof(*workers));
	for (size_t i = 0; i < nthreads; i++)
		if (!(workers[i].c = pg_connect(p, err))) {
			close_workers(workers, i);
			return -1;
		}
	p->run_threads = threads > 0 ? threads : 1; /* microbatch.c's concurrent batches */
	PGconn *c = workers[0].c; /* the run's hooks, and the catalog */
	if (load_catalog(p, c, err) < 0) {
		close_workers(workers, nthreads);
		return -1;
	}
	p->other_query = pg_query;
	p->other_conn = c;
	/* the graph's order ranks what is ready: one thread builds in it */
	size_t *order = dbt_graph_order(p), *rank = xcalloc(p->nr + 1, sizeof(*rank));
	for (size_t k = 0; k < p->nr; k++)
		rank[order[k]] = k;
	size_t done = 0, npass = 0, nerr = 0, nskip = 0, nwarn = 0;
	unsigned char *failed = xcalloc(p->nr + 1, 1), *ready = xcalloc(p->nr + 1, 1);
	size_t *pending = xcalloc(p->nr + 1, sizeof(*pending));
	/* held back (breaking schema drift): skipped, and so is what reads them */
	for (size_t i = 0; preskip_ids && i < p->nr; i++)
		if (strvec_has(preskip_ids, p->nodes[i]->unique_id))
			failed[i] = 2;
	/* for on-run-end's results */
	struct dbt_result *res = xcalloc(p->nr + 1, sizeof(*res));
	struct pg_task *tasks = xcalloc(p->nr + 1, sizeof(*tasks));
	struct strbuf errors = STRBUF_INIT, msg = STRBUF_INIT;
	double t0 = now_s();
	line("");
	if (project_hooks(p, c, 0, NULL, line, err) < 0) {
		/* a failing on-run-start stops the run, as in dbt */
		strbuf_release(&errors);
		strbuf_release(&msg);
		free(res);
		free(tasks);
		free(failed);
		free(ready);
		free(pending);
		free(order);
		free(rank);
		p->other_query = NULL;
		p->other_conn = NULL;
		close_workers(workers, nthreads);
		return -1;
	}
	size_t nready = 0, low = 0, running = 0;
	for (size_t i = 0; i < p->nr; i++) {
		pending[i] = p->nodes[i]->nparents;
		if (!pending[i])
			ready[i] = 1, nready++;
	}
	struct pool pool;
	struct pg_task *inline_done = NULL;
	if (nthreads > 1)
		pool_init(&pool, nthreads, pg_task_run);
	for (;;) {
		/* hand out the ready nodes, first in the graph's order, no more
		 * than there are workers */
		while (nready && running < nthreads) {
			while (low < p->nr && !ready[order[low]])
				low++;
			if (low == p->nr)
				break;
			size_t i = order[low];
			ready[i] = 0;
			nready--;
			struct dbt_node *n = p->nodes[i];
			for (size_t j = 0; j < n->nparents; j++)
				if (failed[n->parents[j]])
					failed[i] = 2; /* skipped: a parent failed or was skipped */
			int now = !runs(n) || failed[i];
			if (runs(n)) {
				done++;
				res[i].ran = 1;
				res[i].order = done;
			}
			if (runs(n) && failed[i]) {
				strbuf_reset(&msg);
				strbuf_addf(&msg, "%zu of %zu ", done, total);
				if (n->kind == NODE_TEST)
					strbuf_addf(&msg, "SKIP test %s", n->name);
				else
					strbuf_addf(&msg, "SKIP relation %s.%s", n->schema, n->alias ? n->alias : n->name);
				dotted(line, msg.buf, "[SKIP]");
				res[i].status = DBT_SKIPPED;
				nskip++;
			}
			if (now) {
				/* passes through: its children may be ready */
				for (size_t k = 0; k < n->nchildren; k++)
					if (--pending[n->children[k]] == 0) {
						ready[n->children[k]] = 1, nready++;
						if (rank[n->children[k]] < low)
							low = rank[n->children[k]];
					}
				continue;
			}
			struct pg_task *t = &tasks[i];
			*t = (struct pg_task){ p, n, &res[i], workers, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, 0 };
			if (nthreads > 1) {
				pool_submit(&pool, t);
			} else {
				/* one thread: here, with no handoff */
				pg_task_run(t, 0);
				inline_done = t;
			}
			running++;
		}
		struct pg_task *t = nthreads > 1 ? pool_wait(&pool) : inline_done;
		inline_done = NULL;
		if (!t)
			break;
		running--;
		struct dbt_node *n = t->n;
		strbuf_reset(&msg);
		strbuf_addf(&msg, "%zu of %zu %s", res[n->index].order, total, t->left.buf);
		dotted(line, msg.buf, t->right.buf);
		if (t->outcome == 0)
			npass++;
		else if (t->outcome == 1)
			nwarn++;
		else {
			strbuf_addbuf(&errors, &t->failure);
			failed[n->index] = 1;
			nerr++;
		}
		/* target/compiled/ and target/run/, as during a DuckDB run */
		struct strbuf ignore = STRBUF_INIT;
		if (n->compiled_sql)
			dbt_write_compiled(p, n, "compiled", n->compiled_sql, &ignore);
		if (res[n->index].run_sql)
			dbt_write_compiled(p, n, "run", res[n->index].run_sql, &ignore);
		strbuf_release(&ignore);
		strbuf_release(&t->left);
		strbuf_release(&t->right);
		strbuf_release(&t->failure);
		for (size_t k = 0; k < n->nchildren; k++)
			if (--pending[n->children[k]] == 0) {
				ready[n->children[k]] = 1, nready++;
				if (rank[n->children[k]] < low)
					low = rank[n->children[k]];
			}
	}
	if (nthreads > 1)
		pool_release(&pool);
	if (project_hooks(p, c, 1, res, line, err) < 0) {
		strbuf_addf(&errors, "\non-run-end hook failed: %s\n", err->buf);
		strbuf_reset(err);
		nerr++;
	}
	line("");
	strbuf_reset(&msg);
	strbuf_addf(&msg, "Finished running %zu node%s on PostgreSQL in %.2fs.", total, total == 1 ? "" : "s",
		    now_s() - t0);
	line(msg.buf);
	line("");
	if (nerr) {
		strbuf_reset(&msg);
		strbuf_addf(&msg, "Completed with %zu error%s and %zu warning%s:", nerr, nerr == 1 ? "" : "s", nwarn,
			    nwarn == 1 ? "" : "s");
		line(msg.buf);
		for (char *s = errors.buf, *e; s && *s; s = e ? e + 1 : NULL) {
			e = strchr(s, '\n');
			if (e)
				*e = '\0';
			line(s);
		}
	} else {
		line("Completed successfully");
	}
	line("");
	strbuf_reset(&msg);
	strbuf_addf(&msg, "Done. PASS=%zu WARN=%zu ERROR=%zu SKIP=%zu TOTAL=%zu", npass, nwarn, nerr, nskip, total);
	line(msg.buf);
	strbuf_release(&errors);
	strbuf_release(&msg);
	if (results) {
		*results = res;
	} else {
		for (size_t i = 0; i < p->nr; i++)
			dbt_result_release(&res[i]);
		free(res);
	}
	free(tasks);
	free(failed);
	free(ready);
	free(pending);
	free(order);
	free(rank);
	p->other_query = NULL;
	p->other_conn = NULL;
	close_workers(workers, nthreads);
	return (int)nerr;
}
