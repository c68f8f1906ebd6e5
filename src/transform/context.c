/* The dbt Jinja context: what a model, macro, hook or test sees.
 *
 * Node-independent names (var, env_var, log, print, target, modules,
 * exceptions, doc, flags) are env globals set up once. Node-bound ones (ref,
 * source, config, this, is_incremental, run_query, statement, load_result,
 * adapter, model, execute) are natives made for each render with its
 * struct rstate as data, so renders on different threads share nothing
 * mutable. The same functions serve the parse (execute=False: record refs,
 * sources and config) and the compile (execute=True: resolve relations,
 * inline ephemeral models as CTEs, query the warehouse). */
#include "transform/dbt.h"
#include "transform/runtime.h"
#include "transform/pymodules.h"
#include "transform/jinja/internal.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

void dbt_config_merge_dict(struct jval cfg, struct jval add);

struct rstate {
	struct dbt_project *p;
	struct dbt_node *n;   /* NULL for descriptions */
	struct warehouse *wh;
	int execute;
	struct strbuf *ctes;  /* compile: "__dbt__cte__x as (...)" joined by ",\n" */
	struct strvec *cte_done;
	struct jval results;  /* statement results by name */
	int incremental;      /* -1: not known yet */
	const struct dbt_unit *unit; /* a unit test's fixtures and overrides, or NULL */
	struct jval extra;           /* dict of more names (hooks' results, schemas), or undefined */
	struct strbuf *log;          /* a materialization's statements, for target/run, or NULL */
};

/* --- relations (relation.c) ----------------------------------------------------- */
static struct jval relation_new(const char *database, const char *schema, const char *identifier, const char *type)
{
	return dbt_relation_new(database, schema, identifier, type, database != NULL);
}

/* --- helpers ------------------------------------------------------------------- */
static struct rstate *ST(struct jinja_call *c)
{
	return jinja_call_data(c);
}

static const char *str_arg(struct jinja_call *c, size_t pos, const char *name)
{
	const struct jval *v = jinja_call_param(c, pos, name);
	return v ? jval_str_cstr(*v) : NULL;
}

/* A query's rows as a list of lists of typed values. */
static struct jval rows_of(struct wh_result *r)
{
	struct jval rows = jval_list_new();
	for (size_t i = 0; i < r->rows; i++) {
		struct jval row = jval_list_new();
		for (size_t c = 0; c < r->cols; c++) {
			if (wh_result_is_null(r, i, c)) {
				jval_list_append(row, jval_none());
				continue;
			}
			char *s = wh_result_str(r, i, c);
			switch (wh_result_type(r, c)) {
			case WH_T_BOOL:
				jval_list_append(row, jval_bool(!strcmp(s, "true")));
				break;
			case WH_T_INT: {
				int64_t n;
				/* a HUGEINT beyond int64 stays exact as text */
				jval_list_append(row, wh_result_get_int(r, i, c, &n) == 0 ? jval_int(n) : jval_str(s));
				break;
			}
			case WH_T_FLOAT:
				jval_list_append(row, jval_float(strtod(s, NULL)));
				break;
			default: {
				/* dates, times and timestamps as Python's, as agate gives them */
				struct jval d = dbt_datetime_from_sql(s, wh_result_type_name(r, c));
				jval_list_append(row, d.type != JVAL_UNDEFINED ? d : jval_str(s));
			}
			}
			free(s);
		}
		jval_list_append(rows, row);
	}
	return rows;
}

/* The rows with their column names, as an agate-like table. */
static struct jval table_of(struct wh_result *r)
{
	struct jval names = jval_list_new();
	for (size_t c = 0; c < r->cols; c++) {
		const char *n = wh_result_name(r, c);
		jval_list_append(names, jval_str(n ? n : ""));
	}
	return dbt_table_new(names, rows_of(r));
}

/* --- node-bound natives --------------------------------------------------------- */
static struct jval node_relation(struct dbt_project *p, struct dbt_node *t)
{
	/* dbt-duckdb: a source with an external_location renders as it */
	const char *ext = t->kind == NODE_SOURCE ? dbt_config_str(t, "__external_location") : NULL;
	if (ext)
		return relation_new(NULL, NULL, ext, "cte");
	const char *type = t->kind == NODE_SOURCE ? "table"
			   : t->mat == MAT_VIEW	 ? "view"
						 : "table";
	/* three parts, "db"."schema"."name", as dbt-duckdb renders refs and sources */
	return dbt_relation_new(t->database ? t->database : p->target.database, t->schema ? t->schema : p->target.schema,
				t->alias ? t->alias : t->name, type, 1);
}

static int compile_into(struct rstate *st, struct dbt_node *n, struct strbuf *out, struct strbuf *err);

/* --empty: a ref or source reads no rows, as dbt renders it then */
static struct jval read_relation(struct dbt_project *p, struct dbt_node *t, const struct dbt_node *reader)
{
	struct jval rel = node_relation(p, t), filtered;
	/* a microbatch model's batch reads the batch of what has an event_time */
	if (!p->empty && dbt_microbatch_filter(reader, t, rel,
						 dbt_target_is_postgres(p), &filtered)) {
		jval_unref(rel);
		return filtered;
	}
	if (!p->empty)
		return rel;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "(select * from ");
	jval_write_str(&sb, rel);
	strbuf_addf(&sb, " where false limit 0) _dbt_limit_subq_%s", t->alias ? t->alias : t->name);
	jval_unref(rel);
	struct jval out = relation_new(NULL, NULL, sb.buf, "cte");
	strbuf_release(&sb);
	return out;
}

/* An ephemeral model as a CTE of the node being compiled (once). */
static int ephemeral_relation(struct rstate *st, struct dbt_node *t, struct jval *ret, struct strbuf *err)
{
	struct strbuf cte = STRBUF_INIT;
	strbuf_addf(&cte, "__dbt__cte__%s", t->name);
	if (!strvec_has(st->cte_done, cte.buf)) {
		struct strbuf sql = STRBUF_INIT;
		strvec_push(st->cte_done, cte.buf);
		if (compile_into(st, t, &sql, err) < 0) {
			strbuf_release(&sql);
			strbuf_release(&cte);
			return -1;
		}
		if (st->ctes->len)
			strbuf_addstr(st->ctes, ",\n");
		strbuf_addf(st->ctes, "%s as (\n%s\n)", cte.buf, sql.buf);
		strbuf_release(&sql);
	}
	*ret = relation_new(NULL, NULL, cte.buf, "cte");
	strbuf_release(&cte);
	return 0;
}

/* A unit test's given input for key ("name", "source:s.t", "this") as a
 * CTE of the node being compiled; 0 if the test gives none. */
static int fixture_relation(struct rstate *st, const char *key, struct jval *ret)
{
	if (!st->unit || !st->ctes)
		return 0;
	const struct jval *sql = jval_dict_get(st->unit->fixtures, key);
	if (!sql)
		return 0;
	struct strbuf cte = STRBUF_INIT;
	strbuf_addstr(&cte, "__dbt__cte__");
	for (const char *k = key; *k; k++)
		strbuf_addch(&cte, isalnum((unsigned char)*k) ? *k : '_');
	if (!strvec_has(st->cte_done, cte.buf)) {
		strvec_push(st->cte_done, cte.buf);
		if (st->ctes->len)
			strbuf_addstr(st->ctes, ",\n");
		strbuf_addf(st->ctes, "%s as (\n%s\n)", cte.buf, jval_str_cstr(*sql));
	}
	*ret = relation_new(NULL, NULL, cte.buf, "cte");
	strbuf_release(&cte);
	return 1;
}

static int ref_named(struct jinja_call *c, struct rstate *st, const char *pkg, const char *name, struct jval *ret);

static int n_ref(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	size_t argc = jinja_call_argc(c);
	const char *name = NULL, *pkg = NULL;
	if (argc == 1)
		name = jval_str_cstr(*jinja_call_arg(c, 0));
	else if (argc == 2) {
		pkg = jval_str_cstr(*jinja_call_arg(c, 0));
		name = jval_str_cstr(*jinja_call_arg(c, 1));
	}
	if (!name)
		return jinja_call_error(c, "ref() takes a model name, or a package and a model name");
	/* ref('m', v=2) or version=2: that version of m */
	char *vkey = NULL;
	const struct jval *ver = jinja_call_kwarg(c, "v");
	if (!ver)
		ver = jinja_call_kwarg(c, "version");
	if (ver && ver->type != JVAL_NONE) {
		char *v = jval_to_cstr(*ver);
		vkey = dbt_version_key(name, v);
		free(v);
		name = vkey;
	}
	int r = ref_named(c, st, pkg, name, ret);
	free(vkey);
	return r;
}

static int ref_named(struct jinja_call *c, struct rstate *st, const char *pkg, const char *name, struct jval *ret)
{
	if (pkg && strcmp(pkg, st->p->name) && !strvec_has(&st->p->packages, pkg))
		return jinja_call_error(c, "ref('%s', '%s'): no package named '%s' is installed", pkg, name, pkg);
	struct dbt_node *t = NULL;
	if (pkg) {
		/* ref('package', 'name'): that package's node */
		char *key = xasprintf("%s.%s", pkg, name);
		t = dbt_project_find(st->p, key);
		free(key);
	}
	if (!t)
		t = dbt_project_find(st->p, name);
	if (!st->execute) {
		if (st->n && pkg)
			strvec_pushf(&st->n->refs, "%s.%s", pkg, name);
		else if (st->n)
			strvec_push(&st->n->refs, name);
		*ret = t ? node_relation(st->p, t) : relation_new(NULL, st->p->target.schema, name, NULL);
		return 0;
	}
	if (st->unit && fixture_relation(st, name, ret))
		return 0;
	if (!t || t->kind == NODE_SOURCE)
		return jinja_call_error(c, "'%s' depends on a node named '%s' which was not found",
					st->n ? st->n->name : "?", name);
	if (t->kind == NODE_MODEL && t->mat == MAT_EPHEMERAL) {
		struct strbuf err = STRBUF_INIT;
		int r = ephemeral_relation(st, t, ret, &err);
		if (r < 0)
			jinja_call_error(c, "%s", err.buf);
		strbuf_release(&err);
		return r;
	}
	*ret = read_relation(st->p, t, st->n);
	return 0;
}

static int n_source(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *src = str_arg(c, 0, "source_name"), *tbl = str_arg(c, 1, "table_name");
	if (!src || !tbl)
		return jinja_call_error(c, "source() takes a source name and a table name");
	struct strbuf key = STRBUF_INIT;
	strbuf_addf(&key, "source:%s.%s", src, tbl);
	struct dbt_node *t = dbt_project_find(st->p, key.buf);
	strbuf_release(&key);
	if (!st->execute) {
		if (st->n)
			strvec_pushf(&st->n->sources, "%s.%s", src, tbl);
		*ret = t ? node_relation(st->p, t) : relation_new(NULL, src, tbl, NULL);
		return 0;
	}
	if (st->unit) {
		struct strbuf fk = STRBUF_INIT;
		strbuf_addf(&fk, "source:%s.%s", src, tbl);
		int had = fixture_relation(st, fk.buf, ret);
		strbuf_release(&fk);
		if (had)
			return 0;
	}
	if (!t)
		return jinja_call_error(c, "'%s' depends on a source named '%s.%s' which was not found",
					st->n ? st->n->name : "?", src, tbl);
	*ret = read_relation(st->p, t, st->n);
	return 0;
}

static int config_call(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	if (!st->execute && st->n) {
		if (jinja_call_argc(c) == 1 && jinja_call_arg(c, 0)->type == JVAL_DICT)
			dbt_config_merge_dict(st->n->config, *jinja_call_arg(c, 0));
		struct jval kw = jval_dict_new();
		for (size_t i = 0; i < jinja_call_kwargc(c); i++)
			jval_dict_set(kw, jinja_call_kwname(c, i), jval_ref(*jinja_call_kwval(c, i)));
		dbt_config_merge_dict(st->n->config, kw);
		jval_unref(kw);
	}
	*ret = jval_str("");
	return 0;
}

static int config_get(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *key = str_arg(c, 0, "name");
	const struct jval *dflt = jinja_call_param(c, 1, "default");
	if (!key)
		return jinja_call_error(c, "config.get() takes a name");
	const struct jval *v = st->n ? jval_dict_get(st->n->config, key) : NULL;
	if (!v && !strcmp(key, "pre_hook"))
		v = jval_dict_get(st->n->config, "pre-hook");
	if (!v && !strcmp(key, "post_hook"))
		v = jval_dict_get(st->n->config, "post-hook");
	if (v && v->type != JVAL_NONE)
		*ret = jval_ref(*v);
	else if (!strcmp(jinja_call_name(c), "require") && st->execute)
		return jinja_call_error(c, "missing required config '%s'", key);
	else
		*ret = dflt ? jval_ref(*dflt) : jval_none();
	return 0;
}

static int config_getattr(void *data, const char *name, struct jval *out)
{
	if (!strcmp(name, "get") || !strcmp(name, "require")) {
		*out = jval_native(name, config_get, data, NULL);
		return 0;
	}
	return 1;
}

static const struct jinja_object_ops config_ops = { "config", config_getattr, NULL, config_call, NULL, NULL, 0 };

static int n_is_incremental(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	if (st->incremental < 0 && st->n && st->n->in_batch)
		st->incremental = st->n->batch_incremental; /* dbt: every batch after the first */
	if (st->incremental < 0) {
		st->incremental = 0;
		struct dbt_node *n = st->n;
		/* a postgres target has no DuckDB connection, but a catalog */
		if (st->execute && n && n->mat == MAT_INCREMENTAL && (st->wh || st->p->have_catalog)) {
			const struct jval *fr = jval_dict_get(n->config, "full_refresh");
			int full = fr && fr->type == JVAL_BOOL ? fr->u.b : st->p->full_refresh;
			const char *kind = dbt_catalog_get(st->p, st->wh, n->schema, n->alias);
			if (!full && kind && !strcmp(kind, "table"))
				st->incremental = 1;
		}
	}
	*ret = jval_bool(st->incremental);
	return 0;
}

static int n_run_query(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *sql = str_arg(c, 0, "sql");
	if (!sql)
		return jinja_call_error(c, "run_query() takes a SQL string");
	if (!st->execute) {
		/* dbt's run_query at parse time is None.table: an undefined that
		 * a lenient parse prints, tests and iterates quietly */
		*ret = jval_undefined();
		return 0;
	}
	if (!st->wh && st->p->other_query) {
		struct jval names, rows;
		struct strbuf err = STRBUF_INIT;
		if (st->p->other_query(dbt_other_conn(st->p), sql, &names, &rows, &err) < 0) {
			jinja_call_error(c, "run_query(): %s", err.buf);
			strbuf_release(&err);
			return -1;
		}
		strbuf_release(&err);
		*ret = dbt_table_new(names, rows);
		return 0;
	}
	if (!st->wh)
		return jinja_call_error(c, "run_query(): no connection to the warehouse");
	struct wh_result r;
	struct strbuf err = STRBUF_INIT;
	if (warehouse_query(st->wh, sql, &r, &err) < 0) {
		jinja_call_error(c, "run_query(): %s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	*ret = table_of(&r);
	wh_result_free(&r);
	strbuf_release(&err);
	return 0;
}

static int n_statement(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *name = str_arg(c, 0, "name");
	const struct jval *fetch = jinja_call_kwarg(c, "fetch_result");
	const struct jval *caller = jinja_call_kwarg(c, "caller");
	*ret = jval_str("");
	if (!caller)
		return 0;
	struct jval body = { 0 };
	if (jinja_call_invoke(c, *caller, 0, NULL, 0, NULL, NULL, &body) < 0)
		return -1;
	char *sql = jval_to_cstr(body);
	jval_unref(body);
	if (st->execute && !st->wh && st->p->other_query) {
		struct jval names, rows;
		struct strbuf err = STRBUF_INIT;
		int rc = st->p->other_query(dbt_other_conn(st->p), sql, &names, &rows, &err);
		if (rc < 0) {
			jinja_call_error(c, "statement '%s': %s", name ? name : "", err.buf);
			strbuf_release(&err);
			free(sql);
			return -1;
		}
		strbuf_release(&err);
		if (name) {
			struct jval res = jval_dict_new(), resp = jval_dict_new();
			int fetch_it = fetch && jval_truthy(*fetch);
			jval_dict_set(resp, "code", jval_str("OK"));
			jval_dict_set(resp, "rows_affected", jval_int((int64_t)jval_len(rows)));
			jval_dict_set(res, "response", resp);
			jval_dict_set(res, "data", fetch_it ? jval_ref(rows) : jval_list_new());
			jval_dict_set(res, "table", fetch_it ? dbt_table_new(jval_ref(names), jval_ref(rows)) : jval_none());
			jval_dict_set(st->results, name, res);
		}
		jval_unref(names);
		jval_unref(rows);
		free(sql);
		return 0;
	}
	if (st->execute && st->wh) {
		struct wh_result r;
		struct strbuf err = STRBUF_INIT;
		if (warehouse_query(st->wh, sql, &r, &err) < 0) {
			jinja_call_error(c, "statement '%s': %s", name ? name : "", err.buf);
			strbuf_release(&err);
			free(sql);
			return -1;
		}
		strbuf_release(&err);
		if (st->log) {
			strbuf_addf(st->log, "%s%s", st->log->len ? ";\n" : "", sql);
			while (st->log->len && strchr("\n ;", st->log->buf[st->log->len - 1]))
				strbuf_setlen(st->log, st->log->len - 1);
		}
		if (name) {
			struct jval res = jval_dict_new();
			struct jval rows = fetch && jval_truthy(*fetch) ? rows_of(&r) : jval_list_new();
			struct jval table = fetch && jval_truthy(*fetch) ? table_of(&r) : jval_none();
			struct jval resp = jval_dict_new();
			jval_dict_set(resp, "code", jval_str("OK"));
			/* DuckDB answers an INSERT, UPDATE or DELETE with its count */
			int64_t affected = (int64_t)r.rows;
			if (r.rows == 1 && r.cols == 1 && wh_result_name(&r, 0) && !strcmp(wh_result_name(&r, 0), "Count"))
				affected = wh_result_int(&r, 0, 0);
			jval_dict_set(resp, "rows_affected", jval_int(affected));
			jval_dict_set(res, "response", resp);
			jval_dict_set(res, "table", table);
			jval_dict_set(res, "data", rows);
			jval_dict_set(st->results, name, res);
		}
		wh_result_free(&r);
	}
	free(sql);
	return 0;
}

static int n_load_result(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *name = str_arg(c, 0, "name");
	const struct jval *v = name ? jval_dict_get(st->results, name) : NULL;
	*ret = v ? jval_ref(*v) : jval_none();
	return 0;
}

static int a_quote(struct jinja_call *c, struct jval *ret)
{
	const char *s = str_arg(c, 0, "identifier");
	if (!s)
		return jinja_call_error(c, "adapter.quote() takes a string");
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_sql_ident(&sb, s);
	*ret = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 0;
}

static struct jval make_adapter(struct rstate *st)
{
	struct jval d = jval_dict_new();
	jval_dict_set(d, "quote", jval_native("quote", a_quote, st, NULL));
	struct dbt_rt rt = { st->p, st->n, st->wh, st->execute };
	dbt_adapter_extend(d, &rt);
	return jval_object_dict(d);
}

static int var_lookup(struct dbt_project *p, struct jinja_call *c, struct jval *ret);
static int g_env_var(struct jinja_call *c, struct jval *ret);

/* A unit test's overrides: a macro gives its value, var() and env_var()
 * look in the test's vars and env_vars first. */
static int n_unit_macro(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const struct jval *v = jval_dict_get(st->unit->macros, jinja_call_name(c));
	*ret = v ? jval_ref(*v) : jval_none();
	return 0;
}

static int n_unit_var(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *name = str_arg(c, 0, "name");
	const struct jval *v = name ? jval_dict_get(st->unit->vars, name) : NULL;
	if (v) {
		*ret = jval_ref(*v);
		return 0;
	}
	/* the data of this native is the render state, not the project */
	return var_lookup(st->p, c, ret);
}

static int n_unit_env_var(struct jinja_call *c, struct jval *ret)
{
	struct rstate *st = ST(c);
	const char *name = str_arg(c, 0, "var");
	const struct jval *v = name ? jval_dict_get(st->unit->env_vars, name) : NULL;
	if (v) {
		if (v->type == JVAL_STR) {
			*ret = jval_ref(*v);
		} else {
			char *t = jval_to_cstr(*v);
			*ret = jval_str(t);
			free(t);
		}
		return 0;
	}
	return g_env_var(c, ret);
}

static void unit_overrides(struct rstate *st, struct jval ctx)
{
	const struct jval *k, *v;
	for (size_t i = 0; jval_dict_entry(st->unit->macros, i, &k, &v); i++)
		jval_dict_set(ctx, jval_str_cstr(*k), jval_native(jval_str_cstr(*k), n_unit_macro, st, NULL));
	jval_dict_set(ctx, "var", jval_native("var", n_unit_var, st, NULL));
	jval_dict_set(ctx, "env_var", jval_native("env_var", n_unit_env_var, st, NULL));
	struct jval thisrel;
	if (fixture_relation(st, "this", &thisrel))
		jval_dict_set(ctx, "this", thisrel);
}

static struct jval make_context(struct rstate *st)
{
	struct jval ctx = jval_dict_new();
	jval_dict_set(ctx, "ref", jval_native("ref", n_ref, st, NULL));
	jval_dict_set(ctx, "source", jval_native("source", n_source, st, NULL));
	jval_dict_set(ctx, "config", jval_object(&config_ops, st));
	jval_dict_set(ctx, "is_incremental", jval_native("is_incremental", n_is_incremental, st, NULL));
	jval_dict_set(ctx, "run_query", jval_native("run_query", n_run_query, st, NULL));
	jval_dict_set(ctx, "statement", jval_native("statement", n_statement, st, NULL));
	jval_dict_set(ctx, "load_result", jval_native("load_result", n_load_result, st, NULL));
	jval_dict_set(ctx, "adapter", make_adapter(st));
	{
		/* builtins: dbt's own ref, source and config, for a project
		 * macro that wraps them */
		struct jval b = jval_dict_new();
		jval_dict_set(b, "ref", jval_native("ref", n_ref, st, NULL));
		jval_dict_set(b, "source", jval_native("source", n_source, st, NULL));
		jval_dict_set(b, "config", jval_object(&config_ops, st));
		jval_dict_set(ctx, "builtins", jval_object_dict(b));
	}
	{
		struct dbt_rt rt = { st->p, st->n, st->wh, st->execute };
		dbt_context_node_extras(ctx, &rt);
	}
	jval_dict_set(ctx, "execute", jval_bool(st->execute));
	struct dbt_node *n = st->n;
	if (n && n->package_name) {
		/* a package's node sees its package's macros by bare name */
		const struct jval *ns = jval_dict_get(st->p->namespaces, n->package_name);
		const struct jval *k, *v;
		for (size_t i = 0; ns && jval_dict_entry(*ns, i, &k, &v); i++)
			jval_dict_setv(ctx, jval_ref(*k), jval_ref(*v));
	}
	if (n && (n->kind == NODE_MODEL || n->kind == NODE_SEED || n->kind == NODE_SNAPSHOT)) {
		jval_dict_set(ctx, "this", node_relation(st->p, n));
		struct jval m = jval_dict_new();
		jval_dict_set(m, "name", jval_str(n->name));
		jval_dict_set(m, "unique_id", jval_str(n->unique_id));
		jval_dict_set(m, "resource_type", jval_str(dbt_node_kind_name(n->kind)));
		jval_dict_set(m, "language", jval_str("sql"));
		jval_dict_set(m, "config", jval_ref(n->config));
		jval_dict_set(m, "path", jval_str(n->path));
		jval_dict_set(m, "original_file_path", jval_str(n->file));
		jval_dict_set(m, "schema", n->schema ? jval_str(n->schema) : jval_none());
		jval_dict_set(m, "alias", n->alias ? jval_str(n->alias) : jval_none());
		jval_dict_set(m, "description", jval_str(n->description ? n->description : ""));
		jval_dict_set(m, "columns", jval_ref(n->columns));
		if (n->in_batch) {
			struct jval b = jval_dict_new();
			jval_dict_set(b, "id", jval_str(n->batch_id));
			jval_dict_set(b, "event_time_start", jval_str(n->batch_start));
			jval_dict_set(b, "event_time_end", jval_str(n->batch_end));
			jval_dict_set(m, "batch", jval_object_dict(b));
		} else {
			jval_dict_set(m, "batch", jval_none());
		}
		jval_dict_set(ctx, "model", jval_object_dict(m));
	}
	if (st->unit)
		unit_overrides(st, ctx);
	if (st->extra.type == JVAL_DICT) {
		const struct jval *k, *v;
		for (size_t i = 0; jval_dict_entry(st->extra, i, &k, &v); i++)
			jval_dict_setv(ctx, jval_ref(*k), jval_ref(*v));
	}
	return ctx;
}

/* --- project-wide natives ----------------------------------------------------------- */
static int var_lookup(struct dbt_project *p, struct jinja_call *c, struct jval *ret);

static int g_var(struct jinja_call *c, struct jval *ret)
{
	return var_lookup(jinja_call_data(c), c, ret);
}

static int var_lookup(struct dbt_project *p, struct jinja_call *c, struct jval *ret)
{
	const char *name = str_arg(c, 0, "name");
	const struct jval *dflt = jinja_call_param(c, 1, "default");
	if (!name)
		return jinja_call_error(c, "var() takes a variable name");
	const struct jval *v = jval_dict_get(p->vars, name);
	/* a package's own default (its dbt_project.yml vars) comes after the root's */
	const struct jval *pk, *pv;
	for (size_t i = 0; !v && p->pkg_vars.type == JVAL_DICT && jval_dict_entry(p->pkg_vars, i, &pk, &pv); i++)
		v = jval_dict_get(*pv, name);
	if (v)
		*ret = jval_ref(*v);
	else if (dflt)
		*ret = jval_ref(*dflt);
	else
		return jinja_call_error(c, "required var '%s' not found in config (set it under vars: in "
					   "dbt_project.yml or pass --vars)", name);
	return 0;
}

/* dbt's secret variables: readable only where dbt reads them, so that
 * their values never reach compiled SQL, target/ or the logs. */
#define SECRET_ENV_PREFIX "DBT_ENV_SECRET_"

static int secrets_allowed_in(const char *file)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return !strcmp(base, "profiles.yml") || !strcmp(base, "packages.yml");
}

void dbt_mask_secrets(struct strbuf *sb)
{
	extern char **environ;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, SECRET_ENV_PREFIX, strlen(SECRET_ENV_PREFIX)))
			continue;
		const char *v = strchr(*e, '=');
		if (!v || !v[1])
			continue;
		v++;
		size_t n = strlen(v);
		char *hit;
		size_t from = 0;
		while (from < sb->len && (hit = memmem(sb->buf + from, sb->len - from, v, n))) {
			size_t at = (size_t)(hit - sb->buf);
			strbuf_remove(sb, at, n);
			strbuf_insert(sb, at, "*****", 5);
			from = at + 5;
		}
	}
}

static int g_env_var(struct jinja_call *c, struct jval *ret)
{
	const char *name = str_arg(c, 0, "var");
	const struct jval *dflt = jinja_call_param(c, 1, "default");
	if (!name)
		return jinja_call_error(c, "env_var() takes a variable name");
	if (!strncmp(name, SECRET_ENV_PREFIX, strlen(SECRET_ENV_PREFIX)) && !secrets_allowed_in(jinja_call_file(c)))
		return jinja_call_error(c, "secret env var '%s' is allowed only in profiles.yml and packages.yml, "
					   "not in %s", name, jinja_call_file(c));
	const char *v = getenv(name);
	if (v)
		*ret = jval_str(v);
	else if (dflt)
		*ret = jval_ref(*dflt);
	else
		return jinja_call_error(c, "Env var required but not provided: '%s'", name);
	return 0;
}

static int g_log(struct jinja_call *c, struct jval *ret)
{
	struct dbt_project *p = jinja_call_data(c);
	const struct jval *msg = jinja_call_param(c, 0, "msg");
	const struct jval *info = jinja_call_param(c, 1, "info");
	char *s = msg ? jval_to_cstr(*msg) : xstrdup("");
	int print = !strcmp(jinja_call_name(c), "print");
	dbt_log(p, print || (info && jval_truthy(*info)) ? 1 : 0, "%s", s);
	free(s);
	*ret = jval_str("");
	return 0;
}

static int g_raise(struct jinja_call *c, struct jval *ret)
{
	const struct jval *msg = jinja_call_param(c, 0, "msg");
	char *s = msg ? jval_to_cstr(*msg) : xstrdup("");
	jinja_call_error(c, "Compilation Error: %s", s);
	free(s);
	return -1;
}

static int g_warn(struct jinja_call *c, struct jval *ret)
{
	struct dbt_project *p = jinja_call_data(c);
	const struct jval *msg = jinja_call_param(c, 0, "msg");
	char *s = msg ? jval_to_cstr(*msg) : xstrdup("");
	dbt_log(p, 2, "%s", s);
	free(s);
	*ret = jval_str("");
	return 0;
}

static int g_doc(struct jinja_call *c, struct jval *ret)
{
	struct dbt_project *p = jinja_call_data(c);
	const char *name = str_arg(c, jinja_call_argc(c) == 2 ? 1 : 0, "name");
	const struct jval *v = name ? jval_dict_get(p->docs, name) : NULL;
	if (!v)
		return jinja_call_error(c, "documentation for '%s' not found", name ? name : "");
	*ret = jval_ref(*v);
	return 0;
}

void dbt_modules_extend(struct jval mods);

static struct jval make_modules(void)
{
	struct jval mods = jval_dict_new();
	dbt_pymodules_add(mods);
	dbt_modules_extend(mods);
	return jval_object_dict(mods);
}

void dbt_context_setup(struct dbt_project *p)
{
	struct jinja_env *env = &p->env;
	jinja_env_set_global(env, "var", jval_native("var", g_var, p, NULL));
	jinja_env_set_global(env, "env_var", jval_native("env_var", g_env_var, p, NULL));
	jinja_env_set_global(env, "log", jval_native("log", g_log, p, NULL));
	jinja_env_set_global(env, "print", jval_native("print", g_log, p, NULL));
	jinja_env_set_global(env, "doc", jval_native("doc", g_doc, p, NULL));
	struct jval ex = jval_dict_new();
	jval_dict_set(ex, "raise_compiler_error", jval_native("raise_compiler_error", g_raise, p, NULL));
	jval_dict_set(ex, "warn", jval_native("warn", g_warn, p, NULL));
	jinja_env_set_global(env, "exceptions", jval_object_dict(ex));
	jinja_env_set_global(env, "modules", make_modules());
	struct jval t = jval_dict_new();
	struct dbt_target *tg = &p->target;
	jval_dict_set(t, "name", jval_str(tg->name ? tg->name : "dev"));
	jval_dict_set(t, "target_name", jval_str(tg->name ? tg->name : "dev"));
	jval_dict_set(t, "profile_name", jval_str(p->profile_name ? p->profile_name : ""));
	jval_dict_set(t, "schema", jval_str(tg->schema ? tg->schema : "main"));
	jval_dict_set(t, "type", jval_str(tg->type ? tg->type : "duckdb"));
	jval_dict_set(t, "threads", jval_int(tg->threads ? tg->threads : 4));
	jval_dict_set(t, "path", jval_str(tg->path ? tg->path : ""));
	jval_dict_set(t, "database", jval_str(tg->database ? tg->database : ""));
	jinja_env_set_global(env, "target", jval_object_dict(t));
	struct jval flags = jval_dict_new();
	jval_dict_set(flags, "FULL_REFRESH", jval_bool(p->full_refresh));
	jval_dict_set(flags, "WHICH", jval_str("run"));
	jval_dict_set(flags, "STORE_FAILURES", jval_bool(0));
	jval_dict_set(flags, "WARN_ERROR", jval_bool(0));
	jval_dict_set(flags, "DEBUG", jval_bool(0));
	jval_dict_set(flags, "FAIL_FAST", jval_bool(0));
	jval_dict_set(flags, "USE_COLORS", jval_bool(0));
	jval_dict_set(flags, "LOG_FORMAT", jval_str("default"));
	jinja_env_set_global(env, "flags", jval_object_dict(flags));
	jinja_env_set_global(env, "project_name", jval_str(p->name ? p->name : ""));
	jinja_env_set_global(env, "schema", jval_str(tg->schema ? tg->schema : "main"));
	jinja_env_set_global(env, "database", jval_str(tg->database ? tg->database : ""));
	dbt_context_setup_more(p);
	/* dbt's own macros and the project's are globals too, the project's
	 * winning; each package (and dbt, and the project) is a namespace */
	const struct jval *k, *v;
	if (p->internal.type == JVAL_DICT)
		for (size_t i = 0; jval_dict_entry(p->internal, i, &k, &v); i++)
			jinja_env_set_global(env, jval_str_cstr(*k), jval_ref(*v));
	for (size_t i = 0; jval_dict_entry(p->macros, i, &k, &v); i++)
		jinja_env_set_global(env, jval_str_cstr(*k), jval_ref(*v));
	if (p->namespaces.type == JVAL_DICT)
		for (size_t i = 0; jval_dict_entry(p->namespaces, i, &k, &v); i++)
			jinja_env_set_global(env, jval_str_cstr(*k), jval_object_dict(jval_ref(*v)));
}

/* --- rendering ------------------------------------------------------------------------ */
static void rstate_init(struct rstate *st, struct dbt_project *p, struct dbt_node *n, struct warehouse *wh,
			int execute)
{
	memset(st, 0, sizeof(*st));
	st->p = p;
	st->n = n;
	st->wh = wh;
	st->execute = execute;
	st->results = jval_dict_new();
	st->incremental = -1;
}

static int render_with(struct rstate *st, struct jinja_template *t, struct strbuf *out, struct strbuf *err)
{
	struct jval ctx = make_context(st);
	/* dbt parses with a lenient undefined: a name that only exists at run
	 * time (or a typo) fails when the model is compiled, not at parse */
	/* dbt's Jinja prints an undefined as "" at run time too (packages
	 * print variables set only in one branch); calling one still fails */
	struct jinja_env env = st->p->env;
	env.lenient_undefined = 1;
	int r = jinja_render(&env, t, ctx, out, err);
	jval_unref(ctx);
	return r;
}

int dbt_render_extra(struct dbt_project *p, struct warehouse *wh, const char *what, const char *src,
		     struct jval extra, struct strbuf *out, struct strbuf *err)
{
	struct rstate st;
	struct strbuf ctes = STRBUF_INIT;
	struct strvec done = STRVEC_INIT;
	rstate_init(&st, p, NULL, wh, 1);
	st.ctes = &ctes;
	st.cte_done = &done;
	st.extra = extra;
	int r = -1;
	struct jinja_template *t = jinja_template_parse(&p->env, what, src, strlen(src), err);
	if (t) {
		r = render_with(&st, t, out, err);
		jinja_template_unref(t);
	}
	jval_unref(st.results);
	strbuf_release(&ctes);
	strvec_clear(&done);
	return r;
}

int dbt_render_string(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, int execute,
		      const char *what, const char *src, struct strbuf *out, struct strbuf *err)
{
	struct rstate st;
	struct strbuf ctes = STRBUF_INIT;
	struct strvec done = STRVEC_INIT;
	rstate_init(&st, p, n, wh, execute);
	st.ctes = &ctes;
	st.cte_done = &done;
	int r = -1;
	struct jinja_template *t = jinja_template_parse(&p->env, what, src, strlen(src), err);
	if (t) {
		r = render_with(&st, t, out, err);
		jinja_template_unref(t);
	}
	jval_unref(st.results);
	strbuf_release(&ctes);
	strvec_clear(&done);
	return r;
}

/* An argument of a generic test: ref(...) and source(...) are expressions. */
static int is_expr_arg(struct jval v)
{
	const char *s = jval_str_cstr(v);
	if (!s)
		return 0;
	while (isspace((unsigned char)*s))
		s++;
	return starts_with(s, "ref(") || starts_with(s, "source(") || starts_with(s, "ref (");
}

static int eval_test_arg(struct rstate *st, struct jval v, struct strbuf *out, struct strbuf *err)
{
	struct strbuf src = STRBUF_INIT;
	strbuf_addf(&src, "{{ %s }}", jval_str_cstr(v));
	struct jinja_template *t = jinja_template_parse(&st->p->env, st->n->file, src.buf, src.len, err);
	int r = -1;
	if (t) {
		r = render_with(st, t, out, err);
		jinja_template_unref(t);
	}
	strbuf_release(&src);
	return r;
}

/* dbt's add_rendered_test_kwargs: a string argument that looks like a
 * call of env_var/ref/var/source/doc is an expression; any string with
 * {{ }} or {% %} is rendered, natively (a lone expression keeps its type:
 * `ref('x')` is a Relation); lists and dicts are mapped deeply. */
static int looks_like_func(const char *s)
{
	static const char *const fns[] = { "env_var", "ref", "var", "source", "doc", NULL };
	while (isspace((unsigned char)*s))
		s++;
	for (const char *const *f = fns; *f; f++) {
		size_t n = strlen(*f);
		if (strncmp(s, *f, n))
			continue;
		const char *q = s + n;
		while (isspace((unsigned char)*q))
			q++;
		if (*q != '(')
			continue;
		const char *end = s + strlen(s);
		while (end > q && isspace((unsigned char)end[-1]))
			end--;
		return end > q + 1 && end[-1] == ')';
	}
	return 0;
}

/* The value of the lone expression in "{{ expr }}", or -1 if src is not one. */
static int native_value(struct rstate *st, const char *src, struct jval *out, struct strbuf *err)
{
	const char *a = src;
	while (isspace((unsigned char)*a))
		a++;
	size_t len = strlen(a);
	while (len && isspace((unsigned char)a[len - 1]))
		len--;
	if (len < 4 || strncmp(a, "{{", 2) || strncmp(a + len - 2, "}}", 2) || memmem(a + 2, len - 4, "{{", 2) ||
	    memmem(a + 2, len - 4, "}}", 2) || memmem(a + 2, len - 4, "{%", 2))
		return 1;
	struct strbuf m = STRBUF_INIT;
	strbuf_addstr(&m, "{% macro __dango_arg() %}{{ return(");
	strbuf_add(&m, a + 2, len - 4);
	strbuf_addstr(&m, ") }}{% endmacro %}");
	const char *file = st->n && st->n->file ? st->n->file : "test argument";
	struct jinja_template *t = jinja_template_parse(&st->p->env, file, m.buf, m.len, err);
	strbuf_release(&m);
	if (!t)
		return -1;
	struct jval d = jval_dict_new();
	jinja_template_macros(t, d);
	struct jval ctx = make_context(st);
	struct jinja_env env = st->p->env;
	env.lenient_undefined = 1;
	int r = jinja_invoke(&env, ctx, *jval_dict_get(d, "__dango_arg"), 0, NULL, 0, NULL, NULL, out, err);
	jval_unref(ctx);
	jval_unref(d);
	jinja_template_unref(t);
	return r;
}

static int render_test_arg(struct rstate *st, struct jval v, struct jval *out, struct strbuf *err)
{
	if (v.type == JVAL_LIST) {
		*out = jval_list_new();
		for (size_t i = 0; i < jval_len(v); i++) {
			struct jval it;
			if (render_test_arg(st, *jval_list_at(v, i), &it, err) < 0)
				return -1;
			jval_list_append(*out, it);
		}
		return 0;
	}
	if (v.type == JVAL_DICT) {
		*out = jval_dict_new();
		const struct jval *k, *val;
		for (size_t i = 0; jval_dict_entry(v, i, &k, &val); i++) {
			struct jval it;
			if (render_test_arg(st, *val, &it, err) < 0)
				return -1;
			jval_dict_setv(*out, jval_ref(*k), it);
		}
		return 0;
	}
	const char *s = jval_str_cstr(v);
	if (!s || (!looks_like_func(s) && !strstr(s, "{{") && !strstr(s, "{%"))) {
		*out = jval_ref(v);
		return 0;
	}
	struct strbuf src = STRBUF_INIT;
	if (looks_like_func(s))
		strbuf_addf(&src, "{{ %s }}", s);
	else
		strbuf_addstr(&src, s);
	int r = native_value(st, src.buf, out, err);
	if (r > 0) {
		struct strbuf o = STRBUF_INIT;
		struct jinja_template *t = jinja_template_parse(&st->p->env, st->n ? st->n->file : "test argument",
								src.buf, src.len, err);
		r = t ? render_with(st, t, &o, err) : -1;
		if (t)
			jinja_template_unref(t);
		*out = r < 0 ? jval_none() : jval_str_from_buf(&o);
		strbuf_release(&o);
	}
	strbuf_release(&src);
	return r < 0 ? -1 : 0;
}

/* "dbt_utils.equality" -> the macro test_equality in dbt_utils; a bare
 * name is searched in the root project, the packages, then dbt. */
static const struct jval *test_macro(struct dbt_project *p, const char *test_name)
{
	const char *dot = strchr(test_name, '.');
	char *pkg = dot ? xstrndup(test_name, (size_t)(dot - test_name)) : NULL;
	char *mname = xasprintf("test_%s", dot ? dot + 1 : test_name);
	const struct jval *m = dbt_find_macro(p, pkg, mname);
	free(pkg);
	free(mname);
	return m;
}

/* Call a generic test's macro with its arguments rendered; the test
 * model is `model` (a relation, or the where subquery). */
static int invoke_test_macro(struct rstate *st, struct dbt_node *n, const struct jval *macro, struct jval model,
			     struct strbuf *out, struct strbuf *err)
{
	size_t nk = jval_len(n->test_kwargs) + 1, i = 0;
	const char **names = xcalloc(nk, sizeof(*names));
	struct jval *vals = xcalloc(nk, sizeof(*vals));
	names[i] = "model";
	vals[i++] = jval_ref(model);
	const struct jval *k, *v;
	int r = 0;
	for (size_t j = 0; r == 0 && jval_dict_entry(n->test_kwargs, j, &k, &v); j++) {
		names[i] = jval_str_cstr(*k);
		if (!strcmp(names[i], "column_name"))
			vals[i++] = jval_ref(*v);
		else
			r = render_test_arg(st, *v, &vals[i++], err);
	}
	struct jval ret = { 0 };
	if (r == 0) {
		struct jval ctx = make_context(st);
		struct jinja_env env = st->p->env;
		env.lenient_undefined = 1;
		r = jinja_invoke(&env, ctx, *macro, 0, NULL, i, names, vals, &ret, err);
		jval_unref(ctx);
		if (r == 0)
			jval_write_str(out, ret);
		jval_unref(ret);
	}
	for (size_t j = 0; j < i; j++)
		jval_unref(vals[j]);
	free(names);
	free(vals);
	return r;
}

int dbt_parse_node(struct dbt_project *p, struct dbt_node *n, struct strbuf *err)
{
	struct rstate st;
	struct strbuf out = STRBUF_INIT, ctes = STRBUF_INIT;
	struct strvec done = STRVEC_INIT;
	int r = 0;
	rstate_init(&st, p, n, NULL, 0);
	st.ctes = &ctes;
	st.cte_done = &done;
	if (n->raw_sql) {
		if (!n->tmpl)
			n->tmpl = jinja_template_parse(&p->env, n->file, n->raw_sql, strlen(n->raw_sql), err);
		r = n->tmpl ? render_with(&st, n->tmpl, &out, err) : -1;
	} else if (n->test_name) {
		const struct jval *k, *v;
		for (size_t i = 0; r == 0 && jval_dict_entry(n->test_kwargs, i, &k, &v); i++)
			if (is_expr_arg(*v)) {
				strbuf_reset(&out);
				r = eval_test_arg(&st, *v, &out, err);
			}
		/* the macro's config() (fail_calc, severity...) is read at parse
		 * time, as dbt does; the YAML's config wins over it. A macro that
		 * fails to parse-render fails at run time instead. */
		const struct jval *macro = test_macro(p, n->test_name);
		if (r == 0 && macro) {
			struct jval yaml_cfg = jval_dict_new();
			dbt_config_merge_dict(yaml_cfg, n->config);
			struct strbuf e = STRBUF_INIT;
			strbuf_reset(&out);
			struct jval model = n->attached >= 0 ? node_relation(p, p->nodes[n->attached]) : jval_none();
			invoke_test_macro(&st, n, macro, model, &out, &e);
			jval_unref(model);
			strbuf_release(&e);
			const struct jval *ck, *cv;
			for (size_t i = 0; jval_dict_entry(yaml_cfg, i, &ck, &cv); i++)
				jval_dict_setv(n->config, jval_ref(*ck), jval_ref(*cv));
			jval_unref(yaml_cfg);
		}
	}
	jval_unref(st.results);
	strbuf_release(&out);
	strbuf_release(&ctes);
	strvec_clear(&done);
	return r;
}

/* "with a as (...)" at the start of sql, past comments: where its first CTE starts */
static long with_clause_end(const char *sql)
{
	const char *s = sql;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (s[0] == '-' && s[1] == '-') {
			s = strchr(s, '\n');
			if (!s)
				return -1;
			continue;
		}
		if (s[0] == '/' && s[1] == '*') {
			s = strstr(s + 2, "*/");
			if (!s)
				return -1;
			s += 2;
			continue;
		}
		break;
	}
	if (!strncasecmp(s, "with", 4) && isspace((unsigned char)s[4])) {
		s += 4;
		while (isspace((unsigned char)*s))
			s++;
		if (!strncasecmp(s, "recursive", 9) && isspace((unsigned char)s[9]))
			return -1;
		return (long)(s - sql);
	}
	return -1;
}

static void generic_test_sql(struct rstate *st, struct dbt_node *n, const char *model, struct strbuf *out,
			     int *handled, struct strbuf *err)
{
	const char *col = n->column_name;
	struct strbuf qcol = STRBUF_INIT;
	if (col)
		strbuf_addstr(&qcol, col); /* dbt passes column names as written */
	*handled = 1;
	if (!strcmp(n->test_name, "not_null")) {
		strbuf_addf(out, "\n\n\n\nselect %s\nfrom %s\nwhere %s is null\n\n\n", qcol.buf, model, qcol.buf);
	} else if (!strcmp(n->test_name, "unique")) {
		strbuf_addf(out,
			    "\n\nselect\n    %s as unique_field,\n    count(*) as n_records\n\nfrom %s\nwhere %s is not null\n"
			    "group by %s\nhaving count(*) > 1\n\n\n",
			    qcol.buf, model, qcol.buf, qcol.buf);
	} else if (!strcmp(n->test_name, "accepted_values")) {
		const struct jval *vals = jval_dict_get(n->test_kwargs, "values");
		const struct jval *quote = jval_dict_get(n->test_kwargs, "quote");
		int q = !quote || jval_truthy(*quote);
		strbuf_addf(out,
			    "\n\nwith all_values as (\n\n    select\n        %s as value_field,\n        count(*) as n_records\n\n"
			    "    from %s\n    group by %s\n\n)\n\nselect *\nfrom all_values\nwhere value_field not in (\n    ",
			    qcol.buf, model, qcol.buf);
		for (size_t i = 0; vals && vals->type == JVAL_LIST && i < jval_len(*vals); i++) {
			char *s = jval_to_cstr(*jval_list_at(*vals, i));
			if (i)
				strbuf_addstr(out, ",");
			if (q)
				strbuf_add_sql_str(out, s);
			else
				strbuf_addstr(out, s);
			free(s);
		}
		strbuf_addstr(out, "\n)\n\n\n");
	} else if (!strcmp(n->test_name, "relationships")) {
		const struct jval *to = jval_dict_get(n->test_kwargs, "to");
		const struct jval *field = jval_dict_get(n->test_kwargs, "field");
		struct strbuf rel = STRBUF_INIT;
		if (!to || !field || !jval_str_cstr(*field)) {
			strbuf_addf(err, "%s: test relationships on '%s' needs 'to' and 'field'", n->file, n->name);
			*handled = -1;
		} else if (is_expr_arg(*to) ? eval_test_arg(st, *to, &rel, err) < 0 : (strbuf_addstr(&rel, jval_str_cstr(*to)), 0)) {
			*handled = -1;
		} else {
			strbuf_addf(out,
				    "\n\nwith child as (\n    select %s as from_field\n    from %s\n    where %s is not null\n),\n\n"
				    "parent as (\n    select %s as to_field\n    from %s\n)\n\nselect\n    from_field\n\nfrom child\n"
				    "left join parent\n    on child.from_field = parent.to_field\n\nwhere parent.to_field is null\n\n\n",
				    qcol.buf, model, qcol.buf, jval_str_cstr(*field), rel.buf);
		}
		strbuf_release(&rel);
	} else {
		*handled = 0;
	}
	strbuf_release(&qcol);
}

static int compile_into(struct rstate *parent, struct dbt_node *n, struct strbuf *out, struct strbuf *err)
{
	struct rstate st;
	rstate_init(&st, parent->p, n, parent->wh, 1);
	st.ctes = parent->ctes;
	st.cte_done = parent->cte_done;
	st.unit = parent->unit;
	int r = -1;
	if (n->tmpl) {
		r = render_with(&st, n->tmpl, out, err);
	} else if (n->test_name) {
		struct dbt_node *t = n->attached >= 0 ? parent->p->nodes[n->attached] : NULL;
		struct strbuf model = STRBUF_INIT;
		struct jval relv = jval_none();
		if (t && t->kind == NODE_MODEL && t->mat == MAT_EPHEMERAL) {
			if (ephemeral_relation(parent, t, &relv, err) < 0) {
				strbuf_release(&model);
				jval_unref(st.results);
				return -1;
			}
		} else if (t) {
			relv = node_relation(st.p, t);
		}
		jval_write_str(&model, relv);
		const char *where = dbt_config_str(n, "where");
		if (where) {
			struct strbuf w = STRBUF_INIT;
			strbuf_addf(&w, "(select * from %s where %s) dbt_subquery", model.buf, where);
			strbuf_reset(&model);
			strbuf_addbuf(&model, &w);
			strbuf_release(&w);
		}
		const struct jval *macro = test_macro(st.p, n->test_name);
		int handled = 0;
		if (!macro && !strchr(n->test_name, '.'))
			generic_test_sql(&st, n, model.buf, out, &handled, err);
		if (handled < 0) {
			r = -1;
		} else if (handled) {
			r = 0;
		} else if (!macro) {
			strbuf_addf(err, "%s: test '%s' is not defined (no generic test and no macro 'test_%s')", n->file,
				    n->test_name, strchr(n->test_name, '.') ? strchr(n->test_name, '.') + 1 : n->test_name);
		} else {
			/* a generic test macro: {% test name(model, column_name, ...) %} */
			struct jval mv = where ? jval_str(model.buf) : jval_ref(relv);
			r = invoke_test_macro(&st, n, macro, mv, out, err);
			jval_unref(mv);
		}
		strbuf_release(&model);
		jval_unref(relv);
	} else {
		strbuf_addf(err, "%s has no SQL to compile", n->unique_id);
	}
	jval_unref(st.results);
	return r;
}

char *dbt_compile_node(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct strbuf *err)
{
	return dbt_compile_unit(p, n, wh, NULL, err);
}

char *dbt_compile_unit(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, const struct dbt_unit *unit,
		       struct strbuf *err)
{
	struct rstate root;
	struct strbuf out = STRBUF_INIT, ctes = STRBUF_INIT;
	struct strvec done = STRVEC_INIT;
	rstate_init(&root, p, n, wh, 1);
	root.unit = unit;
	root.ctes = &ctes;
	root.cte_done = &done;
	int r = compile_into(&root, n, &out, err);
	jval_unref(root.results);
	if (r < 0) {
		strbuf_release(&out);
		strbuf_release(&ctes);
		strvec_clear(&done);
		return NULL;
	}
	if (ctes.len) {
		long at = with_clause_end(out.buf);
		struct strbuf final = STRBUF_INIT;
		if (at >= 0) {
			strbuf_add(&final, out.buf, (size_t)at);
			strbuf_addbuf(&final, &ctes);
			strbuf_addstr(&final, ",\n");
			strbuf_addstr(&final, out.buf + at);
		} else {
			strbuf_addstr(&final, "with ");
			strbuf_addbuf(&final, &ctes);
			strbuf_addstr(&final, "\n");
			strbuf_addbuf(&final, &out);
		}
		strbuf_release(&out);
		out = final;
	}
	strbuf_release(&ctes);
	strvec_clear(&done);
	return strbuf_detach(&out, NULL);
}

/* A {% materialization %} macro in n's context (custom.c), with the
 * names of extra (sql, pre_hooks, ...) on top; *ret gets what it returns. */
int dbt_invoke_in_node(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct jval macro,
		       struct jval extra, struct strbuf *log, struct jval *ret, struct strbuf *err)
{
	struct rstate st;
	struct strbuf ctes = STRBUF_INIT;
	struct strvec done = STRVEC_INIT;
	rstate_init(&st, p, n, wh, 1);
	st.ctes = &ctes;
	st.cte_done = &done;
	st.extra = extra;
	st.log = log;
	struct jval ctx = make_context(&st);
	struct jinja_env env = p->env;
	env.lenient_undefined = 1;
	int r = jinja_invoke(&env, ctx, macro, 0, NULL, 0, NULL, NULL, ret, err);
	jval_unref(ctx);
	jval_unref(st.results);
	strbuf_release(&ctes);
	strvec_clear(&done);
	return r;
}
