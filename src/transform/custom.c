/* Custom materializations: `{% materialization name, default %}` (or
 * adapter='duckdb') in the project or a package, run as dbt runs them.
 *
 * Which one a model gets is dbt's choice: the root project's definition
 * of a name wins over Dango's own (view, table, incremental, ...), then a
 * package's for a name Dango does not have; the duckdb one before the
 * default one. A package cannot override a built-in materialization
 * (dbt 1.8's require_explicit_package_overrides_for_builtin_materializations). */
#include "transform/dbt.h"
#include "transform/materialize.h"
#include "transform/pg.h"
#include "transform/runtime.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the macro materializing `name`: the root project's first when own */
static const struct jval *find_mat(const struct dbt_project *p, const char *name, int root_only)
{
	const char *adapters[] = { dbt_adapter_type(p), "default", NULL };
	for (const char *const *a = adapters; *a; a++) {
		char key[256];
		snprintf(key, sizeof(key), "materialization_%s_%s", name, *a);
		const struct jval *m = root_only ? jval_dict_get(p->macros, key) : dbt_find_macro(p, NULL, key);
		if (m)
			return m;
	}
	return NULL;
}

enum materialized dbt_mat_resolve(struct dbt_project *p, const char *name, enum materialized builtin)
{
	if (!name)
		return builtin;
	if (find_mat(p, name, 1))
		return MAT_CUSTOM;
	if (builtin != MAT_NONE)
		return builtin;
	if (!strcmp(name, "external"))
		return MAT_EXTERNAL;
	if (find_mat(p, name, 0))
		return MAT_CUSTOM;
	return MAT_NONE;
}

/* config pre-hook / post-hook as dbt's Hook objects: {sql, transaction,
 * index}, the SQL rendered in the node's context */
static int hook_list(struct mctx *m, const char *key, struct jval *out)
{
	const struct jval *h = jval_dict_get(m->n->config, key);
	*out = jval_list_new();
	size_t cnt = !h ? 0 : h->type == JVAL_LIST ? jval_len(*h) : 1;
	for (size_t i = 0; i < cnt; i++) {
		const struct jval *v = h->type == JVAL_LIST ? jval_list_at(*h, i) : h;
		const char *src = NULL;
		int txn = 1;
		if (v->type == JVAL_DICT) {
			const struct jval *sv = jval_dict_get(*v, "sql"), *tv = jval_dict_get(*v, "transaction");
			src = sv ? jval_str_cstr(*sv) : NULL;
			txn = !tv || jval_truthy(*tv);
		} else {
			src = jval_str_cstr(*v);
		}
		if (!src)
			continue;
		struct strbuf sql = STRBUF_INIT;
		if (dbt_render_string(m->p, m->n, m->wh, 1, m->n->file, src, &sql, m->err) < 0) {
			strbuf_release(&sql);
			return -1;
		}
		struct jval d = jval_dict_new();
		jval_dict_set(d, "sql", jval_str(sql.buf));
		jval_dict_set(d, "transaction", jval_bool(txn));
		jval_dict_set(d, "index", jval_int((int64_t)i + 1));
		jval_list_append(*out, d);
		strbuf_release(&sql);
	}
	return 0;
}

/* what is now in the warehouse under schema.name, into the catalog cache */
static void sync_catalog(struct mctx *m, const char *schema, const char *name)
{
	if (!m->wh) { /* a postgres target: pg_class, into the catalog */
		dbt_pg_refresh_kind(m->p, schema, name);
		return;
	}
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	struct wh_result r;
	strbuf_addstr(&sql, "SELECT table_type FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, schema);
	strbuf_addstr(&sql, " AND table_name = ");
	strbuf_add_sql_str(&sql, name);
	if (warehouse_query(m->wh, sql.buf, &r, &e) == 0) {
		char *t = r.rows ? wh_result_str(&r, 0, 0) : NULL;
		dbt_catalog_set(m->p, schema, name, !t ? NULL : !strcmp(t, "VIEW") ? "view" : "table");
		free(t);
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	strbuf_release(&e);
}

/* dbt's contract: return({'relations': [relation, ...]}) */
static int check_return(struct mctx *m, const char *name, struct jval ret)
{
	if (ret.type != JVAL_DICT) {
		if (ret.type == JVAL_STR || ret.type == JVAL_UNDEFINED || ret.type == JVAL_NONE)
			strbuf_addf(m->err, "The materialization (\"%s\") did not explicitly return a list of relations to "
					    "add to the cache.", name);
		else
			strbuf_addstr(m->err, "Invalid return value from materialization, expected a dict with key "
					      "\"relations\"");
		return -1;
	}
	const struct jval *rels = jval_dict_get(ret, "relations");
	if (!rels) {
		strbuf_addstr(m->err, "Invalid return value from materialization, \"relations\" not found");
		return -1;
	}
	if (rels->type != JVAL_LIST) {
		strbuf_addstr(m->err, "Invalid return value from materialization, \"relations\" not a list");
		return -1;
	}
	for (size_t i = 0; i < jval_len(*rels); i++) {
		struct dbt_relation *r = dbt_as_relation(*jval_list_at(*rels, i));
		if (!r) {
			struct strbuf v = STRBUF_INIT;
			jval_write_str(&v, *jval_list_at(*rels, i));
			strbuf_addf(m->err, "Invalid return value from materialization, \"relations\" contains non-Relation: %s",
				    v.buf);
			strbuf_release(&v);
			return -1;
		}
		if (r->schema && r->identifier)
			sync_catalog(m, r->schema, r->identifier);
	}
	return 0;
}

int dbt_custom_build(struct mctx *m, const char *body)
{
	struct dbt_node *n = m->n;
	const char *name = dbt_config_str(n, "materialized"), *rel = n->alias ? n->alias : n->name;
	const struct jval *macro = name ? find_mat(m->p, name, 1) : NULL;
	if (!macro && name)
		macro = find_mat(m->p, name, 0);
	if (!macro) {
		strbuf_addf(m->err, "no materialization '%s' for %s", name ? name : "?", dbt_adapter_type(m->p));
		return -1;
	}
	struct jval extra = jval_dict_new(), pre, post, ret = { 0 };
	int r = -1, locked = 0;
	int hr = hook_list(m, "pre-hook", &pre);
	jval_dict_set(extra, "pre_hooks", pre);
	if (hr == 0) {
		hr = hook_list(m, "post-hook", &post);
		jval_dict_set(extra, "post_hooks", post);
	}
	if (hr < 0)
		goto out;
	jval_dict_set(extra, "sql", jval_str(body));
	jval_dict_set(extra, "compiled_code", jval_str(body));
	/* on postgres one build of the relation at a time, as the built-in
	 * materializations (pg_target.c): a second run waits here */
	if (!m->wh && dbt_pg_lock_relation(m->p, n->schema, rel, 1, m->err) < 0)
		goto out;
	locked = !m->wh;
	/* one transaction, as dbt-duckdb's connection begins one and the
	 * materialization commits it: a failure leaves the warehouse as it was */
	if (m->wh ? mat_exec(m, "BEGIN TRANSACTION") < 0 : dbt_pg_exec(m->p, "begin", m->err) < 0)
		goto out;
	r = dbt_invoke_in_node(m->p, n, m->wh, *macro, extra, &m->run, &ret, m->err);
	if (r == 0)
		r = check_return(m, name, ret);
	if (r == 0) {
		struct strbuf e = STRBUF_INIT;
		/* the macro may have committed itself */
		if ((m->wh ? warehouse_commit(m->wh, &e) : dbt_pg_exec(m->p, "commit", &e)) < 0 &&
		    !strstr(e.buf, "no transaction")) {
			strbuf_addbuf(m->err, &e);
			r = -1;
		}
		strbuf_release(&e);
	}
	if (r < 0 && m->wh) {
		warehouse_rollback(m->wh);
	} else if (r < 0) {
		struct strbuf ignore = STRBUF_INIT;
		dbt_pg_exec(m->p, "rollback", &ignore);
		strbuf_release(&ignore);
	}
	/* what the materialization made or dropped under the usual names */
	static const char *const suffixes[] = { "", "__dbt_tmp", "__dbt_backup", NULL };
	for (const char *const *sfx = suffixes; *sfx; sfx++) {
		char *nm = xasprintf("%s%s", n->alias, *sfx);
		sync_catalog(m, n->schema, nm);
		free(nm);
	}
out:
	if (locked) { /* after the commit or rollback: the next build sees ours */
		struct strbuf e = STRBUF_INIT;
		if (dbt_pg_lock_relation(m->p, n->schema, rel, 0, &e) < 0 && r == 0) {
			strbuf_addbuf(m->err, &e);
			r = -1;
		}
		strbuf_release(&e);
	}
	jval_unref(ret);
	jval_unref(extra);
	return r;
}
