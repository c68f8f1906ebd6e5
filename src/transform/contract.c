/* dbt's model contracts (contract: {enforced: true}), for both targets:
 * the model's columns checked against its YAML before it is built, and
 * the column definitions (types, constraints) its table is created with.
 * The database names both sides' types (the contract's through CAST(NULL
 * AS type)), so "int" and "integer" agree as they do for dbt. */
#include "transform/materialize.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "transform/jinja/value.h"

#include <string.h>
#include <strings.h>

int dbt_contract_enforced(const struct dbt_node *n)
{
	const struct jval *c = jval_dict_get(n->config, "contract");
	const struct jval *e = c && c->type == JVAL_DICT ? jval_dict_get(*c, "enforced") : NULL;
	return e && e->type == JVAL_BOOL && e->u.b;
}

static void constraint_sql(struct strbuf *sb, const struct jval *list, int model_level)
{
	for (size_t i = 0; list && list->type == JVAL_LIST && i < jval_len(*list); i++) {
		const struct jval *c = jval_list_at(*list, i);
		const struct jval *t = c->type == JVAL_DICT ? jval_dict_get(*c, "type") : NULL;
		const char *type = t ? jval_str_cstr(*t) : NULL;
		const struct jval *ex = c->type == JVAL_DICT ? jval_dict_get(*c, "expression") : NULL;
		const struct jval *cols = c->type == JVAL_DICT ? jval_dict_get(*c, "columns") : NULL;
		if (!type)
			continue;
		struct strbuf cl = STRBUF_INIT;
		for (size_t k = 0; cols && cols->type == JVAL_LIST && k < jval_len(*cols); k++) {
			if (k)
				strbuf_addstr(&cl, ", ");
			strbuf_add_sql_ident(&cl, jval_str_cstr(*jval_list_at(*cols, k)));
		}
		const char *sep = model_level ? ", " : " ";
		if (!strcmp(type, "not_null") && !model_level)
			strbuf_addf(sb, "%sNOT NULL", sep);
		else if (!strcmp(type, "primary_key"))
			strbuf_addf(sb, model_level ? "%sPRIMARY KEY (%s)" : "%sPRIMARY KEY", sep, cl.buf);
		else if (!strcmp(type, "unique"))
			strbuf_addf(sb, model_level ? "%sUNIQUE (%s)" : "%sUNIQUE", sep, cl.buf);
		else if (!strcmp(type, "check") && ex && jval_str_cstr(*ex))
			strbuf_addf(sb, "%sCHECK (%s)", sep, jval_str_cstr(*ex));
		else if (!strcmp(type, "foreign_key") && ex && jval_str_cstr(*ex))
			strbuf_addf(sb, model_level ? "%sFOREIGN KEY (%s) REFERENCES %s" : "%sREFERENCES %s", sep,
				    model_level ? cl.buf : jval_str_cstr(*ex), jval_str_cstr(*ex));
		strbuf_release(&cl);
	}
}

static void row_of(struct strbuf *sb, const char *a, const char *b, const char *c, const char *d)
{
	strbuf_addf(sb, "\n| %-20s | %-20s | %-20s | %-21s |", a, b, c, d);
}

int dbt_contract_check(const struct dbt_node *n, const char *body, dbt_describe_fn describe, void *ctx,
		       struct strbuf *ddl, struct strbuf *collist, struct strbuf *err)
{
	struct cols def = { STRVEC_INIT, STRVEC_INIT }, want = { STRVEC_INIT, STRVEC_INIT };
	struct strbuf probe = STRBUF_INIT, bad = STRBUF_INIT;
	int r = -1;
	strbuf_addf(&probe, "SELECT * FROM (\n%s\n) AS model_subq LIMIT 0", body);
	if (describe(ctx, probe.buf, &def.names, &def.types, err) < 0)
		goto out;
	/* the contract's types as the database names them (int is INTEGER) */
	strbuf_reset(&probe);
	strbuf_addstr(&probe, "SELECT ");
	const struct jval *k, *v;
	size_t nc = 0;
	for (size_t i = 0; jval_dict_entry(n->columns, i, &k, &v); i++) {
		const struct jval *dt = jval_dict_get(*v, "data_type");
		if (!dt || !jval_str_cstr(*dt)) {
			strbuf_addf(err, "Contracted models require data_type to be defined for each column. Please "
					    "ensure that the column name and data_type are defined within the YAML "
					    "configuration for the '%s' column.", jval_str_cstr(*k));
			goto out;
		}
		strbuf_addf(&probe, "%sCAST(NULL AS %s) AS ", nc++ ? ", " : "", jval_str_cstr(*dt));
		strbuf_add_sql_ident(&probe, jval_str_cstr(*k));
	}
	if (!nc) {
		strbuf_addf(err, "%s: model '%s' has an enforced contract but no columns in its YAML", n->file, n->name);
		goto out;
	}
	if (describe(ctx, probe.buf, &want.names, &want.types, err) < 0)
		goto out;
	for (size_t i = 0; i < def.names.nr; i++) {
		long j = mat_col_index(&want, def.names.v[i]);
		if (j < 0)
			row_of(&bad, def.names.v[i], def.types.v[i], "", "missing in contract");
		else if (strcasecmp(want.types.v[j], def.types.v[i]))
			row_of(&bad, def.names.v[i], def.types.v[i], want.types.v[j], "data type mismatch");
	}
	for (size_t j = 0; j < want.names.nr; j++)
		if (mat_col_index(&def, want.names.v[j]) < 0)
			row_of(&bad, want.names.v[j], "", want.types.v[j], "missing in definition");
	if (bad.len) {
		strbuf_addstr(err, "This model has an enforced contract that failed.\nPlease ensure the name, "
				      "data_type, and number of columns in your contract match the columns in your "
				      "model's definition.\n");
		row_of(err, "column_name", "definition_type", "contract_type", "mismatch_reason");
		row_of(err, "--------------------", "--------------------", "--------------------",
		       "---------------------");
		strbuf_addbuf(err, &bad);
		goto out;
	}
	size_t i = 0;
	for (size_t e = 0; jval_dict_entry(n->columns, e, &k, &v); e++, i++) {
		if (i) {
			strbuf_addstr(ddl, ", ");
			strbuf_addstr(collist, ", ");
		}
		strbuf_add_sql_ident(ddl, jval_str_cstr(*k));
		strbuf_add_sql_ident(collist, jval_str_cstr(*k));
		strbuf_addf(ddl, " %s", want.types.v[i]);
		constraint_sql(ddl, jval_dict_get(*v, "constraints"), 0);
	}
	constraint_sql(ddl, jval_dict_get(n->config, "__constraints"), 1);
	r = 0;
out:
	strvec_clear(&def.names);
	strvec_clear(&def.types);
	strvec_clear(&want.names);
	strvec_clear(&want.types);
	strbuf_release(&probe);
	strbuf_release(&bad);
	return r;
}
