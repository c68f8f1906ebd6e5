/* Materializations on DuckDB, one function each, all behind
 * dbt_execute_node():
 *
 *   view         CREATE OR REPLACE VIEW in a transaction (dropping a table
 *                of the same name first)
 *   table        CREATE TABLE <alias>__dbt_tmp, then in ONE transaction drop
 *                the old relation and rename the new one in: readers see the
 *                old table or the new, and a failed build leaves the old
 *   incremental  a temp table of the new rows, schema changes by
 *                on_schema_change, then append / delete+insert / merge in one
 *                transaction; the first run and --full-refresh build a table
 *   seed         read_csv into a table, swapped in like a table
 *   test         count the rows of the test query against warn_if/error_if
 *
 * Ephemeral models are never executed: context.c inlines them as CTEs. */
#include "transform/dbt.h"
#include "transform/materialize.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

const char *dbt_status_name(enum dbt_status s)
{
	static const char *const names[] = { "success", "error", "skipped", "pass", "fail", "warn" };
	return names[s];
}

void dbt_result_release(struct dbt_result *r)
{
	free(r->message);
	free(r->run_sql);
	free(r->code);
	r->message = r->run_sql = r->code = NULL;
	strvec_clear(&r->batch_successful);
	strvec_clear(&r->batch_failed);
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int mat_exec(struct mctx *m, const char *sql)
{
	if (m->run.len)
		strbuf_addstr(&m->run, ";\n");
	strbuf_addstr(&m->run, sql);
	return warehouse_exec(m->wh, sql, m->err);
}

int mat_exec_rows(struct mctx *m, const char *sql, int64_t *rows)
{
	struct wh_result r;
	if (m->run.len)
		strbuf_addstr(&m->run, ";\n");
	strbuf_addstr(&m->run, sql);
	if (warehouse_query(m->wh, sql, &r, m->err) < 0)
		return -1;
	if (rows && r.rows && r.cols)
		*rows = wh_result_int(&r, 0, 0);
	wh_result_free(&r);
	return 0;
}

int dbt_catalog_load(struct dbt_project *p, struct warehouse *wh, struct strbuf *err)
{
	struct wh_result r;
	if (warehouse_query(wh, "SELECT schema_name, table_name, 'table' FROM duckdb_tables() WHERE NOT temporary "
				"UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() "
				"WHERE NOT internal AND NOT temporary", &r, err) < 0)
		return -1;
	pthread_mutex_lock(&p->catalog_lock);
	for (size_t i = 0; i < r.rows; i++) {
		char *s = wh_result_str(&r, i, 0), *n = wh_result_str(&r, i, 1), *k = wh_result_str(&r, i, 2);
		char *key = xasprintf("%s.%s", s ? s : "", n ? n : "");
		jval_dict_set(p->catalog, key, jval_str(k ? k : "table"));
		free(key);
		free(s);
		free(n);
		free(k);
	}
	p->have_catalog = 1;
	pthread_mutex_unlock(&p->catalog_lock);
	wh_result_free(&r);
	return 0;
}

void dbt_catalog_set(struct dbt_project *p, const char *schema, const char *name, const char *kind)
{
	char *key = xasprintf("%s.%s", schema, name);
	pthread_mutex_lock(&p->catalog_lock);
	if (kind)
		jval_dict_set(p->catalog, key, jval_str(kind));
	else {
		struct jval k = jval_str(key);
		jval_dict_del(p->catalog, k, NULL);
		jval_unref(k);
	}
	pthread_mutex_unlock(&p->catalog_lock);
	free(key);
}

static const char *existing_sql(struct warehouse *wh, const char *schema, const char *name)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	struct wh_result r;
	const char *kind = NULL;
	strbuf_addstr(&sql, "SELECT table_type FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, schema);
	strbuf_addstr(&sql, " AND table_name = ");
	strbuf_add_sql_str(&sql, name);
	if (wh && warehouse_query(wh, sql.buf, &r, &err) == 0) {
		if (r.rows) {
			char *t = wh_result_str(&r, 0, 0);
			kind = t && !strcmp(t, "VIEW") ? "view" : "table";
			free(t);
		}
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	strbuf_release(&err);
	return kind;
}

const char *dbt_catalog_get(struct dbt_project *p, struct warehouse *wh, const char *schema, const char *name)
{
	if (!p->have_catalog)
		return existing_sql(wh, schema, name);
	char *key = xasprintf("%s.%s", schema, name);
	const char *kind = NULL;
	pthread_mutex_lock(&p->catalog_lock);
	const struct jval *v = jval_dict_get(p->catalog, key);
	if (v)
		kind = !strcmp(jval_str_cstr(*v), "view") ? "view" : "table";
	pthread_mutex_unlock(&p->catalog_lock);
	free(key);
	return kind;
}

const char *mat_existing(struct mctx *m)
{
	return dbt_catalog_get(m->p, m->wh, m->n->schema, m->n->alias);
}

/* The SQL without trailing semicolons and blanks, so that it can be wrapped. */
void mat_clean_sql(struct strbuf *sb, const char *sql)
{
	strbuf_addstr(sb, sql);
	while (sb->len && (isspace((unsigned char)sb->buf[sb->len - 1]) || sb->buf[sb->len - 1] == ';'))
		strbuf_setlen(sb, sb->len - 1);
}

void mat_rel_sql(struct strbuf *sb, const struct dbt_node *n, const char *suffix)
{
	if (n->database) {
		strbuf_add_sql_ident(sb, n->database);
		strbuf_addch(sb, '.');
	}
	strbuf_add_sql_ident(sb, n->schema);
	strbuf_addch(sb, '.');
	struct strbuf name = STRBUF_INIT;
	strbuf_addf(&name, "%s%s", n->alias, suffix);
	strbuf_add_sql_ident(sb, name.buf);
	strbuf_release(&name);
}

static int hooks(struct mctx *m, const char *key)
{
	const struct jval *h = jval_dict_get(m->n->config, key);
	if (!h)
		return 0;
	size_t cnt = h->type == JVAL_LIST ? jval_len(*h) : 1;
	for (size_t i = 0; i < cnt; i++) {
		const struct jval *v = h->type == JVAL_LIST ? jval_list_at(*h, i) : h;
		const char *src = NULL;
		if (v->type == JVAL_DICT) {
			const struct jval *s = jval_dict_get(*v, "sql");
			src = s ? jval_str_cstr(*s) : NULL;
		} else {
			src = jval_str_cstr(*v);
		}
		if (!src || !*src)
			continue;
		struct strbuf sql = STRBUF_INIT;
		int r;
		if (strstr(src, "{{") || strstr(src, "{%"))
			r = dbt_render_string(m->p, m->n, m->wh, 1, m->n->file, src, &sql, m->err);
		else
			r = (strbuf_addstr(&sql, src), 0);
		strbuf_trim(&sql);
		if (r == 0 && sql.len)
			r = mat_exec(m, sql.buf);
		strbuf_release(&sql);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Swap tmp (already built) in place of the relation, in one transaction. */
/* A table is built under a temporary name, then dropped-and-renamed into
 * place in one transaction: readers never see it missing or half built,
 * and a failure leaves the previous table. Both steps go to DuckDB in one
 * call (a call per statement costs about as much as a small model). */
int mat_build_table(struct mctx *m, const char *body)
{
	struct strbuf sql = STRBUF_INIT, tmp = STRBUF_INIT, rel = STRBUF_INIT, alias = STRBUF_INIT;
	const char *old = mat_existing(m);
	mat_rel_sql(&tmp, m->n, "__dbt_tmp");
	mat_rel_sql(&rel, m->n, "");
	strbuf_add_sql_ident(&alias, m->n->alias);
	/* OR REPLACE: a leftover of a crashed run goes */
	if (m->contract_ddl)
		/* an enforced contract: the declared columns, types and
		 * constraints, then the rows, as dbt-duckdb builds it */
		strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s (%s);\nINSERT INTO %s (%s)\nSELECT %s FROM (\n%s\n) AS model_subq;\n"
				  "BEGIN TRANSACTION;\n",
			    tmp.buf, m->contract_ddl, tmp.buf, m->contract_cols, m->contract_cols, body);
	else
		strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s AS (\n%s\n);\nBEGIN TRANSACTION;\n", tmp.buf, body);
	if (old)
		strbuf_addf(&sql, "DROP %s IF EXISTS %s;\n", !strcmp(old, "view") ? "VIEW" : "TABLE", rel.buf);
	strbuf_addf(&sql, "ALTER TABLE %s RENAME TO %s;\nCOMMIT", tmp.buf, alias.buf);
	int r = mat_exec(m, sql.buf);
	if (r < 0) {
		struct strbuf ignored = STRBUF_INIT;
		warehouse_rollback(m->wh);
		strbuf_reset(&sql);
		strbuf_addf(&sql, "DROP TABLE IF EXISTS %s", tmp.buf);
		warehouse_exec(m->wh, sql.buf, &ignored);
		strbuf_release(&ignored);
	} else {
		dbt_catalog_set(m->p, m->n->schema, m->n->alias, "table");
	}
	strbuf_release(&sql);
	strbuf_release(&tmp);
	strbuf_release(&rel);
	strbuf_release(&alias);
	return r;
}

static int build_view(struct mctx *m, const char *body)
{
	struct strbuf sql = STRBUF_INIT, rel = STRBUF_INIT;
	const char *old = mat_existing(m);
	mat_rel_sql(&rel, m->n, "");
	strbuf_addstr(&sql, "BEGIN TRANSACTION;\n");
	if (old && !strcmp(old, "table"))
		strbuf_addf(&sql, "DROP TABLE IF EXISTS %s;\n", rel.buf);
	strbuf_addf(&sql, "CREATE OR REPLACE VIEW %s AS (\n%s\n);\nCOMMIT", rel.buf, body);
	int r = mat_exec(m, sql.buf);
	if (r < 0)
		warehouse_rollback(m->wh);
	else
		dbt_catalog_set(m->p, m->n->schema, m->n->alias, "view");
	strbuf_release(&sql);
	strbuf_release(&rel);
	return r;
}

int mat_describe(struct mctx *m, const char *rel, struct cols *c)
{
	return warehouse_describe(m->wh, rel, &c->names, &c->types, m->err);
}

long mat_col_index(const struct cols *c, const char *name)
{
	for (size_t i = 0; i < c->names.nr; i++)
		if (!strcasecmp(c->names.v[i], name))
			return (long)i;
	return -1;
}

static void unique_keys(const struct dbt_node *n, struct strvec *keys)
{
	const struct jval *k = jval_dict_get(n->config, "unique_key");
	if (!k)
		return;
	if (k->type == JVAL_LIST) {
		for (size_t i = 0; i < jval_len(*k); i++) {
			const char *s = jval_str_cstr(*jval_list_at(*k, i));
			if (s)
				strvec_push(keys, s);
		}
	} else if (jval_str_cstr(*k)) {
		/* "a, b" is a list too */
		char *copy = xstrdup(jval_str_cstr(*k)), *save, *part;
		for (part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
			struct strbuf t = STRBUF_INIT;
			strbuf_addstr(&t, part);
			strbuf_trim(&t);
			if (t.len)
				strvec_push(keys, t.buf);
			strbuf_release(&t);
		}
		free(copy);
	}
}

static int build_incremental(struct mctx *m, const char *body)
{
	struct dbt_node *n = m->n;
	const char *old = mat_existing(m);
	const struct jval *fr = jval_dict_get(n->config, "full_refresh");
	int full = fr && fr->type == JVAL_BOOL ? fr->u.b : m->p->full_refresh;
	const char *st0 = dbt_config_str(n, "incremental_strategy");
	if (st0 && strcmp(st0, "append") && strcmp(st0, "delete+insert") && strcmp(st0, "merge")) {
		/* refused on the first build too: it would otherwise build once
		 * and fail on the next run */
		strbuf_addf(m->err, "invalid incremental_strategy '%s': Dango supports append, delete+insert, merge and "
				    "microbatch", st0);
		return -1;
	}
	if (!old || full || !strcmp(old, "view"))
		return mat_build_table(m, body);

	const char *strategy = dbt_config_str(n, "incremental_strategy");
	const char *osc = dbt_config_str(n, "on_schema_change");
	struct strvec keys = STRVEC_INIT;
	unique_keys(n, &keys);
	if (!strategy)
		strategy = keys.nr ? "delete+insert" : "append";
	if (!osc)
		osc = "ignore";
	if (strcmp(strategy, "append") && strcmp(strategy, "delete+insert") && strcmp(strategy, "merge")) {
		strbuf_addf(m->err, "invalid incremental_strategy '%s': Dango supports append, delete+insert and merge",
			    strategy);
		strvec_clear(&keys);
		return -1;
	}
	if (strcmp(osc, "ignore") && strcmp(osc, "append_new_columns") && strcmp(osc, "sync_all_columns") &&
	    strcmp(osc, "fail")) {
		strbuf_addf(m->err, "invalid on_schema_change '%s': use ignore, append_new_columns, sync_all_columns or fail",
			    osc);
		strvec_clear(&keys);
		return -1;
	}
	if (strcmp(strategy, "append") && !keys.nr) {
		strbuf_addf(m->err, "incremental_strategy '%s' needs a unique_key", strategy);
		strvec_clear(&keys);
		return -1;
	}
	struct strbuf sql = STRBUF_INIT, tmp = STRBUF_INIT, rel = STRBUF_INIT;
	struct cols src = { STRVEC_INIT, STRVEC_INIT }, dst = { STRVEC_INIT, STRVEC_INIT };
	int r = -1;
	strbuf_addstr(&tmp, "temp.main.");
	{
		struct strbuf name = STRBUF_INIT;
		strbuf_addf(&name, "%s__dbt_tmp", n->alias);
		strbuf_add_sql_ident(&tmp, name.buf);
		strbuf_release(&name);
	}
	mat_rel_sql(&rel, n, "");
	strbuf_addf(&sql, "CREATE OR REPLACE TEMP TABLE %s AS (\n%s\n)", tmp.buf + 10, body);
	if (mat_exec(m, sql.buf) < 0)
		goto out;
	if (mat_describe(m, tmp.buf, &src) < 0 || mat_describe(m, rel.buf, &dst) < 0)
		goto drop;
	struct strbuf changes = STRBUF_INIT, diff = STRBUF_INIT;
	for (size_t i = 0; i < src.names.nr; i++) {
		long j = mat_col_index(&dst, src.names.v[i]);
		if (j < 0) {
			strbuf_addf(&diff, "\n  new column: %s %s", src.names.v[i], src.types.v[i]);
			if (!strcmp(osc, "append_new_columns") || !strcmp(osc, "sync_all_columns")) {
				strbuf_addf(&changes, "ALTER TABLE %s ADD COLUMN ", rel.buf);
				strbuf_add_sql_ident(&changes, src.names.v[i]);
				strbuf_addf(&changes, " %s;\n", src.types.v[i]);
			}
		} else if (strcasecmp(dst.types.v[j], src.types.v[i])) {
			strbuf_addf(&diff, "\n  changed type: %s %s -> %s", src.names.v[i], dst.types.v[j], src.types.v[i]);
			if (!strcmp(osc, "sync_all_columns")) {
				strbuf_addf(&changes, "ALTER TABLE %s ALTER COLUMN ", rel.buf);
				strbuf_add_sql_ident(&changes, src.names.v[i]);
				strbuf_addf(&changes, " TYPE %s;\n", src.types.v[i]);
			}
		}
	}
	for (size_t j = 0; j < dst.names.nr; j++) {
		if (mat_col_index(&src, dst.names.v[j]) >= 0)
			continue;
		strbuf_addf(&diff, "\n  removed column: %s", dst.names.v[j]);
		if (!strcmp(osc, "sync_all_columns")) {
			strbuf_addf(&changes, "ALTER TABLE %s DROP COLUMN ", rel.buf);
			strbuf_add_sql_ident(&changes, dst.names.v[j]);
			strbuf_addstr(&changes, ";\n");
		}
	}
	if (diff.len && !strcmp(osc, "fail")) {
		strbuf_addf(m->err,
			    "The source and target schemas on this incremental model are out of sync!%s\n"
			    "Set on_schema_change to append_new_columns or sync_all_columns, or rebuild with --full-refresh.",
			    diff.buf);
		strbuf_release(&changes);
		strbuf_release(&diff);
		goto drop;
	}
	strbuf_release(&diff);
	/* the columns both have, after the changes */
	struct strbuf collist = STRBUF_INIT, sets = STRBUF_INIT, svals = STRBUF_INIT, on = STRBUF_INIT;
	int sync = !strcmp(osc, "append_new_columns") || !strcmp(osc, "sync_all_columns");
	for (size_t i = 0; i < src.names.nr; i++) {
		if (!sync && mat_col_index(&dst, src.names.v[i]) < 0)
			continue;
		struct strbuf q = STRBUF_INIT;
		strbuf_add_sql_ident(&q, src.names.v[i]);
		if (collist.len) {
			strbuf_addstr(&collist, ", ");
			strbuf_addstr(&svals, ", ");
		}
		strbuf_addbuf(&collist, &q);
		strbuf_addf(&svals, "s.%s", q.buf);
		if (sets.len)
			strbuf_addstr(&sets, ", ");
		strbuf_addf(&sets, "%s = s.%s", q.buf, q.buf);
		strbuf_release(&q);
	}
	for (size_t k = 0; k < keys.nr; k++) {
		struct strbuf q = STRBUF_INIT;
		strbuf_add_sql_ident(&q, keys.v[k]);
		strbuf_addf(&on, "%st.%s = s.%s", k ? " AND " : "", q.buf, q.buf);
		strbuf_release(&q);
	}
	strbuf_reset(&sql);
	strbuf_addf(&sql, "BEGIN TRANSACTION;\n%s", changes.buf);
	strbuf_release(&changes);
	if (!strcmp(strategy, "delete+insert"))
		strbuf_addf(&sql, "DELETE FROM %s AS t USING %s AS s WHERE %s;\n", rel.buf, tmp.buf, on.buf);
	if (!strcmp(strategy, "merge"))
		strbuf_addf(&sql,
			    "MERGE INTO %s AS t USING %s AS s ON (%s)\nWHEN MATCHED THEN UPDATE SET %s\n"
			    "WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
			    rel.buf, tmp.buf, on.buf, sets.buf, collist.buf, svals.buf);
	else
		strbuf_addf(&sql, "INSERT INTO %s (%s) SELECT %s FROM %s", rel.buf, collist.buf, collist.buf, tmp.buf);
	strbuf_release(&collist);
	strbuf_release(&sets);
	strbuf_release(&svals);
	strbuf_release(&on);
	if (mat_exec_rows(m, sql.buf, &m->rows) < 0 || mat_exec(m, "COMMIT") < 0) {
		warehouse_rollback(m->wh);
		goto drop;
	}
	r = 0;
drop:
	{
		struct strbuf ignored = STRBUF_INIT, d = STRBUF_INIT;
		strbuf_addf(&d, "DROP TABLE IF EXISTS %s", tmp.buf);
		warehouse_exec(m->wh, d.buf, &ignored);
		strbuf_release(&ignored);
		strbuf_release(&d);
	}
out:
	strvec_clear(&src.names);
	strvec_clear(&src.types);
	strvec_clear(&dst.names);
	strvec_clear(&dst.types);
	strvec_clear(&keys);
	strbuf_release(&sql);
	strbuf_release(&tmp);
	strbuf_release(&rel);
	return r;
}

static int build_seed(struct mctx *m)
{
	struct dbt_node *n = m->n;
	struct strbuf src = STRBUF_INIT, sql = STRBUF_INIT;
	const char *delim = dbt_config_str(n, "delimiter");
	const struct jval *types = jval_dict_get(n->config, "column_types");
	strbuf_addstr(&src, "read_csv(");
	strbuf_add_sql_str(&src, n->abs_file);
	strbuf_addstr(&src, ", header = true, auto_detect = true, delim = ");
	strbuf_add_sql_str(&src, delim ? delim : ",");
	if (types && types->type == JVAL_DICT && jval_len(*types)) {
		strbuf_addstr(&src, ", types = {");
		const struct jval *k, *v;
		for (size_t i = 0; jval_dict_entry(*types, i, &k, &v); i++) {
			char *t = jval_to_cstr(*v);
			strbuf_addf(&src, "%s", i ? ", " : "");
			strbuf_add_sql_str(&src, jval_str_cstr(*k));
			strbuf_addstr(&src, ": ");
			strbuf_add_sql_str(&src, t);
			free(t);
		}
		strbuf_addch(&src, '}');
	}
	strbuf_addch(&src, ')');
	/* dbt reads seeds with agate: whole numbers become integer, others double */
	struct cols c = { STRVEC_INIT, STRVEC_INIT };
	struct strbuf select = STRBUF_INIT;
	int r = -1;
	struct strbuf probe = STRBUF_INIT;
	strbuf_addf(&probe, "(SELECT * FROM %s)", src.buf);
	if (mat_describe(m, probe.buf, &c) < 0)
		goto out;
	int casts = 0;
	for (size_t i = 0; i < c.names.nr; i++) {
		struct strbuf q = STRBUF_INIT;
		strbuf_add_sql_ident(&q, c.names.v[i]);
		int given = types && types->type == JVAL_DICT && jval_dict_get(*types, c.names.v[i]);
		const char *t = c.types.v[i];
		const char *to = NULL;
		if (!given && (!strcmp(t, "BIGINT") || !strcmp(t, "HUGEINT") || !strcmp(t, "SMALLINT") ||
			       !strcmp(t, "TINYINT")))
			to = "INTEGER";
		else if (!given && (starts_with(t, "DECIMAL") || !strcmp(t, "FLOAT")))
			to = "DOUBLE";
		strbuf_addf(&select, "%s", i ? ", " : "");
		if (to) {
			strbuf_addf(&select, "CAST(%s AS %s) AS %s", q.buf, to, q.buf);
			casts = 1;
		} else {
			strbuf_addbuf(&select, &q);
		}
		strbuf_release(&q);
	}
	strbuf_addf(&sql, "SELECT %s FROM %s", casts ? select.buf : "*", src.buf);
	r = mat_build_table(m, sql.buf);
	if (r < 0 && casts) {
		/* a number too big for an integer: keep DuckDB's own types */
		strbuf_reset(m->err);
		strbuf_reset(&sql);
		strbuf_addf(&sql, "SELECT * FROM %s", src.buf);
		r = mat_build_table(m, sql.buf);
	}
	if (r == 0) {
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "SELECT count(*) FROM ");
		mat_rel_sql(&sql, n, "");
		warehouse_query_int(m->wh, sql.buf, &m->rows, m->err);
	}
out:
	strvec_clear(&c.names);
	strvec_clear(&c.types);
	strbuf_release(&select);
	strbuf_release(&probe);
	strbuf_release(&src);
	strbuf_release(&sql);
	return r;
}

/* "!= 0", ">10", ">= 5": a condition on the failure count */
static void cond_sql(struct strbuf *sb, const char *cond, const char *dflt)
{
	strbuf_addstr(sb, cond && *cond ? cond : dflt);
}

static void run_test(struct mctx *m, const char *body, struct dbt_result *res)
{
	struct dbt_node *n = m->n;
	struct strbuf sql = STRBUF_INIT;
	const char *sev = dbt_config_str(n, "severity");
	int warn_only = sev && !strcasecmp(sev, "warn");
	const char *warn_if = dbt_config_str(n, "warn_if"), *error_if = dbt_config_str(n, "error_if");
	const char *fail_calc = dbt_config_str(n, "fail_calc");
	const struct jval *limit = jval_dict_get(n->config, "limit");
	strbuf_addf(&sql, "select\n    %s as failures,\n    (%s) ", fail_calc ? fail_calc : "count(*)",
		    fail_calc ? fail_calc : "count(*)");
	cond_sql(&sql, warn_if, "!= 0");
	strbuf_addf(&sql, " as should_warn,\n    (%s) ", fail_calc ? fail_calc : "count(*)");
	cond_sql(&sql, error_if, "!= 0");
	strbuf_addf(&sql, " as should_error\nfrom (\n%s\n", body);
	if (limit && limit->type == JVAL_INT)
		strbuf_addf(&sql, "limit %lld\n", (long long)limit->u.i);
	strbuf_addstr(&sql, ") dbt_internal_test");
	struct wh_result r;
	strbuf_addstr(&m->run, sql.buf);
	if (warehouse_query(m->wh, sql.buf, &r, m->err) < 0) {
		res->status = DBT_ERROR;
		strbuf_release(&sql);
		return;
	}
	int64_t failures = r.rows ? wh_result_int(&r, 0, 0) : 0;
	char *w = r.rows ? wh_result_str(&r, 0, 1) : NULL, *e = r.rows ? wh_result_str(&r, 0, 2) : NULL;
	int should_warn = w && !strcmp(w, "true"), should_error = e && !strcmp(e, "true");
	free(w);
	free(e);
	wh_result_free(&r);
	res->rows = failures;
	if (!warn_only && should_error) {
		res->status = DBT_FAIL;
		res->message = xasprintf("Got %lld result%s, configured to fail if %s", (long long)failures,
					 failures == 1 ? "" : "s", error_if ? error_if : "!= 0");
	} else if (should_warn) {
		res->status = DBT_WARN;
		res->message = xasprintf("Got %lld result%s, configured to warn if %s", (long long)failures,
					 failures == 1 ? "" : "s", warn_if ? warn_if : "!= 0");
	} else {
		res->status = DBT_PASS;
	}
	strbuf_release(&sql);
}

/* --- contracts ------------------------------------------------------------------ */
static int duck_describe(void *ctx, const char *query, struct strvec *names, struct strvec *types,
			 struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT;
	strbuf_addf(&rel, "(%s)", query);
	int r = warehouse_describe(ctx, rel.buf, names, types, err);
	strbuf_release(&rel);
	return r;
}

/* --- persist_docs: descriptions as COMMENT ON ------------------------------------------ */
static int persist_flag(const struct dbt_node *n, const char *key)
{
	const struct jval *pd = jval_dict_get(n->config, "persist_docs");
	const struct jval *v = pd && pd->type == JVAL_DICT ? jval_dict_get(*pd, key) : NULL;
	return v && v->type == JVAL_BOOL && v->u.b;
}

static int persist_docs(struct mctx *m)
{
	struct dbt_node *n = m->n;
	int rel = persist_flag(n, "relation"), cols = persist_flag(n, "columns");
	if (!rel && !cols)
		return 0;
	struct strbuf sql = STRBUF_INIT, name = STRBUF_INIT;
	const char *kind = mat_existing(m);
	int view = kind && !strcmp(kind, "view");
	int r = 0;
	dbt_node_relation_sql(&name, n);
	if (rel && n->description && *n->description) {
		strbuf_addf(&sql, "COMMENT ON %s %s IS ", view ? "VIEW" : "TABLE", name.buf);
		strbuf_add_sql_str(&sql, n->description);
		r = mat_exec(m, sql.buf);
	}
	struct cols have = { STRVEC_INIT, STRVEC_INIT };
	if (r == 0 && cols && jval_len(n->columns) && mat_describe(m, name.buf, &have) == 0) {
		const struct jval *k, *v;
		for (size_t i = 0; r == 0 && jval_dict_entry(n->columns, i, &k, &v); i++) {
			const struct jval *d = jval_dict_get(*v, "description");
			const char *desc = d ? jval_str_cstr(*d) : NULL;
			if (!desc || !*desc || mat_col_index(&have, jval_str_cstr(*k)) < 0)
				continue;
			strbuf_reset(&sql);
			strbuf_addf(&sql, "COMMENT ON COLUMN %s.", name.buf);
			strbuf_add_sql_ident(&sql, jval_str_cstr(*k));
			strbuf_addstr(&sql, " IS ");
			strbuf_add_sql_str(&sql, desc);
			r = mat_exec(m, sql.buf);
		}
	} else if (r == 0 && cols && jval_len(n->columns)) {
		r = -1;
	}
	strvec_clear(&have.names);
	strvec_clear(&have.types);
	strbuf_release(&sql);
	strbuf_release(&name);
	return r;
}

/* --- store_failures: the failing rows in <schema>_dbt_test__audit ------------------------- */
static int store_failures(struct mctx *m, const char *body)
{
	struct dbt_node *n = m->n;
	const struct jval *sf = jval_dict_get(n->config, "store_failures");
	const char *as = dbt_config_str(n, "store_failures_as");
	if (!as && !(sf && sf->type == JVAL_BOOL && sf->u.b))
		return 0;
	if (as && !strcmp(as, "ephemeral"))
		return 0;
	if (as && strcmp(as, "table") && strcmp(as, "view")) {
		strbuf_addf(m->err, "store_failures_as must be table, view or ephemeral, not '%s'", as);
		return -1;
	}
	struct strbuf sql = STRBUF_INIT, schema = STRBUF_INIT;
	const char *custom = dbt_config_str(n, "schema");
	if (custom)
		strbuf_addstr(&schema, n->schema);
	else
		strbuf_addf(&schema, "%s_dbt_test__audit", m->p->target.schema);
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
	strbuf_add_sql_ident(&sql, schema.buf);
	int r = mat_exec(m, sql.buf);
	if (r == 0) {
		strbuf_reset(&sql);
		int view = as && !strcmp(as, "view");
		const char *old = dbt_catalog_get(m->p, m->wh, schema.buf, n->alias);
		if (old)
			strbuf_addf(&sql, "DROP %s IF EXISTS ", !strcmp(old, "view") ? "VIEW" : "TABLE");
		if (old) {
			strbuf_add_sql_ident(&sql, schema.buf);
			strbuf_addch(&sql, '.');
			strbuf_add_sql_ident(&sql, n->alias);
			strbuf_addstr(&sql, ";\n");
		}
		strbuf_addf(&sql, "CREATE %s ", view ? "VIEW" : "TABLE");
		strbuf_add_sql_ident(&sql, schema.buf);
		strbuf_addch(&sql, '.');
		strbuf_add_sql_ident(&sql, n->alias);
		strbuf_addf(&sql, " AS (\n%s\n)", body);
		r = mat_exec(m, sql.buf);
		if (r == 0)
			dbt_catalog_set(m->p, schema.buf, n->alias, view ? "view" : "table");
	}
	strbuf_release(&sql);
	strbuf_release(&schema);
	return r;
}

static int is_microbatch(const struct dbt_node *n)
{
	const char *st = dbt_config_str(n, "incremental_strategy");
	return n->kind == NODE_MODEL && n->mat == MAT_INCREMENTAL && st && !strcmp(st, "microbatch");
}

void dbt_execute_node(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct dbt_result *res)
{
	struct strbuf err = STRBUF_INIT, body = STRBUF_INIT;
	struct mctx m = { p, n, wh, &err, STRBUF_INIT, 0, NULL, NULL };
	int r = 0;
	res->started_at = now_s();
	res->status = DBT_SUCCESS;
	if (n->kind == NODE_SEED) {
		r = hooks(&m, "pre-hook");
		if (r == 0)
			r = build_seed(&m);
		if (r == 0)
			r = persist_docs(&m);
		if (r == 0)
			r = hooks(&m, "post-hook");
		res->code = xstrdup("INSERT");
		res->rows = m.rows;
		goto done;
	}
	free(n->compiled_sql);
	n->compiled_sql = NULL;
	if (n->load_error) {
		strbuf_addstr(&err, n->load_error);
		r = -1;
		goto done;
	}
	if (n->kind == NODE_TEST && n->unit_model >= 0) {
		dbt_unit_run(p, n, wh, res, &m.run, &err);
		res->code = xstrdup("SELECT");
		goto done_test;
	}
	if (is_microbatch(n)) {
		/* compiled batch by batch: model.batch exists only then */
		r = hooks(&m, "pre-hook");
		if (r == 0) {
			dbt_microbatch_build(&m, res);
			r = res->status == DBT_SUCCESS ? 0 : -1;
		}
		/* dbt runs the post-hooks with the last batch, even after a failed one */
		if ((r == 0 || res->batches_ok) && hooks(&m, "post-hook") < 0)
			r = -1;
		res->code = xstrdup("OK");
		res->rows = m.rows;
		goto done;
	}
	n->compiled_sql = dbt_compile_node(p, n, wh, &err);
	if (!n->compiled_sql) {
		r = -1;
		goto done;
	}
	mat_clean_sql(&body, n->compiled_sql);
	if (n->kind == NODE_TEST) {
		if (store_failures(&m, body.buf) < 0) {
			res->status = DBT_ERROR;
			goto done_test;
		}
		run_test(&m, body.buf, res);
		res->code = xstrdup("SELECT");
		goto done_test;
	}
	struct strbuf ddl = STRBUF_INIT, ccols = STRBUF_INIT;
	if (n->kind == NODE_MODEL && dbt_contract_enforced(n)) {
		if (dbt_contract_check(n, body.buf, duck_describe, wh, &ddl, &ccols, &err) < 0) {
			strbuf_release(&ddl);
			strbuf_release(&ccols);
			r = -1;
			goto done;
		}
		if (n->mat == MAT_TABLE || n->mat == MAT_INCREMENTAL) {
			m.contract_ddl = ddl.buf;
			m.contract_cols = ccols.buf;
		}
	}
	/* a custom materialization runs its hooks itself (run_hooks) */
	r = n->mat == MAT_CUSTOM ? 0 : hooks(&m, "pre-hook");
	if (r == 0) {
		switch (n->mat) {
		case MAT_VIEW:
			r = build_view(&m, body.buf);
			break;
		case MAT_TABLE:
			r = mat_build_table(&m, body.buf);
			break;
		case MAT_INCREMENTAL:
			r = build_incremental(&m, body.buf);
			break;
		case MAT_CUSTOM:
			r = dbt_custom_build(&m, body.buf);
			break;
		case MAT_EXTERNAL:
			r = dbt_build_external(&m, body.buf);
			break;
		case MAT_SNAPSHOT:
			r = dbt_snapshot_build(p, n, wh, body.buf, &m.run, &m.rows, &err);
			break;
		default:
			break;
		}
	}
	if (r == 0)
		r = persist_docs(&m);
	if (r == 0 && n->mat != MAT_CUSTOM)
		r = hooks(&m, "post-hook");
	strbuf_release(&ddl);
	strbuf_release(&ccols);
	res->code = xstrdup("OK");
	res->rows = m.rows;
done:
	if (r < 0) {
		res->status = DBT_ERROR;
	}
done_test:
	if (res->status == DBT_ERROR) {
		strbuf_trim(&err);
		free(res->message);
		res->message = strbuf_detach(&err, NULL);
	}
	res->run_sql = strbuf_detach(&m.run, NULL);
	res->completed_at = now_s();
	res->seconds = res->completed_at - res->started_at;
	strbuf_release(&err);
	strbuf_release(&body);
}
