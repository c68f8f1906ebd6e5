/* persist_docs and store_failures on a postgres target: the descriptions
 * of a model or seed as the comments of its relation and columns, and a
 * test's failing rows kept in <schema>_dbt_test__audit, as dbt-postgres
 * does. Both run in the caller's transaction on the target's connection. */
#include "transform/pg.h"
#include "core/strbuf.h"
#include "core/strvec.h"

#include <string.h>
#include <strings.h>

static int persist_flag(const struct dbt_node *n, const char *key)
{
	const struct jval *pd = jval_dict_get(n->config, "persist_docs");
	const struct jval *v = pd && pd->type == JVAL_DICT ? jval_dict_get(*pd, key) : NULL;
	return v && jval_truthy(*v);
}

static void rel_sql(struct strbuf *sb, const char *schema, const char *name)
{
	strbuf_add_sql_ident(sb, schema);
	strbuf_addch(sb, '.');
	strbuf_add_sql_ident(sb, name);
}

int dbt_pg_persist_docs(struct dbt_project *p, struct dbt_node *n, struct strbuf *err)
{
	int rel = persist_flag(n, "relation"), cols = persist_flag(n, "columns");
	if (!rel && !cols)
		return 0;
	const char *name = n->alias ? n->alias : n->name;
	const char *kind = dbt_pg_refresh_kind(p, n->schema, name);
	struct strbuf sql = STRBUF_INIT;
	int r = 0;
	if (!kind)
		goto out; /* a post-hook's business, or nothing was built */
	if (rel && n->description && *n->description) {
		strbuf_addf(&sql, "comment on %s ", !strcmp(kind, "view") ? "view" : "table");
		rel_sql(&sql, n->schema, name);
		strbuf_addstr(&sql, " is ");
		strbuf_add_sql_str(&sql, n->description);
		r = dbt_pg_exec(p, sql.buf, err);
	}
	if (r == 0 && cols && jval_len(n->columns)) {
		struct strvec have = STRVEC_INIT, types = STRVEC_INIT;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "select * from ");
		rel_sql(&sql, n->schema, name);
		r = dbt_pg_describe(p, sql.buf, &have, &types, err);
		const struct jval *k, *v;
		for (size_t i = 0; r == 0 && jval_dict_entry(n->columns, i, &k, &v); i++) {
			const struct jval *d = v->type == JVAL_DICT ? jval_dict_get(*v, "description") : NULL;
			const char *desc = d ? jval_str_cstr(*d) : NULL, *col = jval_str_cstr(*k);
			int found = 0;
			for (size_t j = 0; col && j < have.nr && !found; j++)
				found = !strcasecmp(have.v[j], col);
			if (!desc || !*desc || !found)
				continue; /* dbt comments only the columns the relation has */
			strbuf_reset(&sql);
			strbuf_addstr(&sql, "comment on column ");
			rel_sql(&sql, n->schema, name);
			strbuf_addch(&sql, '.');
			strbuf_add_sql_ident(&sql, col);
			strbuf_addstr(&sql, " is ");
			strbuf_add_sql_str(&sql, desc);
			r = dbt_pg_exec(p, sql.buf, err);
		}
		strvec_clear(&have);
		strvec_clear(&types);
	}
out:
	strbuf_release(&sql);
	return r;
}

int dbt_pg_store_failures(struct dbt_project *p, struct dbt_node *n, const char *body, struct strbuf *err)
{
	const struct jval *sf = jval_dict_get(n->config, "store_failures");
	const char *as = dbt_config_str(n, "store_failures_as");
	if ((!as && !(sf && sf->type == JVAL_BOOL && sf->u.b)) || (as && !strcmp(as, "ephemeral")))
		return 0;
	if (as && strcmp(as, "table") && strcmp(as, "view")) {
		strbuf_addf(err, "store_failures_as must be table, view or ephemeral, not '%s'", as);
		return -1;
	}
	int view = as && !strcmp(as, "view");
	const char *name = n->alias ? n->alias : n->name;
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT;
	if (dbt_config_str(n, "schema"))
		strbuf_addstr(&schema, n->schema);
	else
		strbuf_addf(&schema, "%s_dbt_test__audit", p->target.schema);
	/* tests of one run may store their failures at once (--threads) */
	if (dbt_pg_ensure_schema(dbt_other_conn(p), schema.buf, err) < 0) {
		strbuf_release(&schema);
		return -1;
	}
	const char *old = dbt_pg_refresh_kind(p, schema.buf, name);
	if (old) {
		strbuf_addf(&sql, "drop %s if exists ", old);
		rel_sql(&sql, schema.buf, name);
		strbuf_addstr(&sql, " cascade; ");
	}
	strbuf_addf(&sql, "create %s ", view ? "view" : "table");
	rel_sql(&sql, schema.buf, name);
	strbuf_addf(&sql, " as (\n%s\n)", body);
	int r = dbt_pg_exec(p, sql.buf, err);
	if (r == 0)
		dbt_catalog_set(p, schema.buf, name, view ? "view" : "table");
	strbuf_release(&schema);
	strbuf_release(&sql);
	return r;
}
