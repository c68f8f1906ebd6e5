/* The `adapter` object's methods beyond quote/type (context.c), and the
 * agate-like tables that run_query() and load_result() return.
 *
 * adapter.dispatch follows packages.c's search order. Introspection reads
 * DuckDB's catalog (information_schema) on the node's connection; DDL
 * (drop_relation, create_schema, ...) runs there too and keeps the
 * project's relation cache (dbt_catalog_*) up to date. At parse time
 * (execute false) introspection returns nothing, as dbt's does. */
#include "transform/runtime.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "transform/pg.h"
#include "warehouse/warehouse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int dbt_target_is_postgres(const struct dbt_project *p)
{
	return p->target.type && !strcmp(p->target.type, "postgres");
}

const char *dbt_adapter_type(const struct dbt_project *p)
{
	return dbt_target_is_postgres(p) ? "postgres" : "duckdb";
}

/* --- agate-like tables ------------------------------------------------------------ */
struct table {
	struct jval names; /* tuple of str */
	struct jval rows;  /* list of Row objects */
	struct jval columns; /* list of Column objects, made lazily */
};

struct row {
	struct jval names; /* shared with the table */
	struct jval values;
};

struct acol {
	struct jval name;
	struct jval values; /* tuple */
};

static struct jval list_of(struct jval v)
{
	return jval_ref(v);
}

static int acol_values(struct jinja_call *c, struct jval *ret)
{
	struct acol *a = jinja_call_data(c);
	*ret = jval_ref(a->values);
	return 0;
}

static int acol_getattr(void *data, const char *name, struct jval *out)
{
	struct acol *a = data;
	if (!strcmp(name, "name"))
		*out = jval_ref(a->name);
	else if (!strcmp(name, "values") || !strcmp(name, "values_distinct"))
		*out = jval_native(name, acol_values, a, NULL);
	else
		return 1;
	return 0;
}

static struct jval acol_list(void *data)
{
	return list_of(((struct acol *)data)->values);
}

static void acol_free(void *data)
{
	struct acol *a = data;
	jval_unref(a->name);
	jval_unref(a->values);
	free(a);
}

static void acol_str(void *data, struct strbuf *out)
{
	jval_write_str(out, ((struct acol *)data)->values);
}

static const struct jinja_object_ops acol_ops = { "Column", acol_getattr, acol_str, NULL, acol_free, acol_list, 0 };

static long name_index(struct jval names, const char *name)
{
	for (size_t i = 0; i < jval_len(names); i++) {
		const char *s = jval_str_cstr(*jval_list_at(names, i));
		if (s && !strcmp(s, name))
			return (long)i;
	}
	return -1;
}

static int row_method(struct jinja_call *c, struct jval *ret)
{
	struct row *r = jinja_call_data(c);
	const char *w = jinja_call_name(c);
	if (!strcmp(w, "values")) {
		*ret = jval_ref(r->values);
	} else if (!strcmp(w, "keys")) {
		*ret = jval_ref(r->names);
	} else if (!strcmp(w, "get")) {
		const struct jval *k = jinja_call_param(c, 0, "key"), *d = jinja_call_param(c, 1, "default");
		long i = k && jval_str_cstr(*k) ? name_index(r->names, jval_str_cstr(*k)) : -1;
		*ret = i >= 0 ? jval_ref(*jval_list_at(r->values, (size_t)i)) : d ? jval_ref(*d) : jval_none();
	} else {
		struct jval d = jval_dict_new();
		for (size_t i = 0; i < jval_len(r->names) && i < jval_len(r->values); i++)
			jval_dict_setv(d, jval_ref(*jval_list_at(r->names, i)), jval_ref(*jval_list_at(r->values, i)));
		if (!strcmp(w, "items")) {
			struct jval items = jval_list_new();
			const struct jval *k, *v;
			for (size_t i = 0; jval_dict_entry(d, i, &k, &v); i++) {
				struct jval t = jval_tuple_new();
				jval_list_append(t, jval_ref(*k));
				jval_list_append(t, jval_ref(*v));
				jval_list_append(items, t);
			}
			jval_unref(d);
			*ret = items;
		} else {
			*ret = d;
		}
	}
	return 0;
}

static int row_getattr(void *data, const char *name, struct jval *out)
{
	struct row *r = data;
	long i = name_index(r->names, name);
	if (i >= 0 && (size_t)i < jval_len(r->values)) {
		*out = jval_ref(*jval_list_at(r->values, (size_t)i));
		return 0;
	}
	if (!strcmp(name, "values") || !strcmp(name, "keys") || !strcmp(name, "items") || !strcmp(name, "dict") ||
	    !strcmp(name, "get")) {
		*out = jval_native(name, row_method, r, NULL);
		return 0;
	}
	return 1;
}

static struct jval row_list(void *data)
{
	return list_of(((struct row *)data)->values);
}

static void row_free(void *data)
{
	struct row *r = data;
	jval_unref(r->names);
	jval_unref(r->values);
	free(r);
}

static void row_str(void *data, struct strbuf *out)
{
	struct row *r = data;
	strbuf_addstr(out, "<agate.Row: ");
	jval_write_repr(out, r->values);
	strbuf_addch(out, '>');
}

static const struct jinja_object_ops row_ops = { "Row", row_getattr, row_str, NULL, row_free, row_list, 0 };

/* table.columns: a sequence of columns that also answers by name */
struct cols {
	struct jval names, columns;
};

static int cols_method(struct jinja_call *c, struct jval *ret)
{
	struct cols *t = jinja_call_data(c);
	const char *w = jinja_call_name(c);
	if (!strcmp(w, "keys")) {
		*ret = jval_ref(t->names);
		return 0;
	}
	if (!strcmp(w, "values")) {
		*ret = jval_ref(t->columns);
		return 0;
	}
	*ret = jval_list_new();
	for (size_t i = 0; i < jval_len(t->names) && i < jval_len(t->columns); i++) {
		struct jval tu = jval_tuple_new();
		jval_list_append(tu, jval_ref(*jval_list_at(t->names, i)));
		jval_list_append(tu, jval_ref(*jval_list_at(t->columns, i)));
		jval_list_append(*ret, tu);
	}
	return 0;
}

static int cols_getattr(void *data, const char *name, struct jval *out)
{
	struct cols *t = data;
	long i = name_index(t->names, name);
	if (i < 0 && (!strcmp(name, "keys") || !strcmp(name, "values") || !strcmp(name, "items"))) {
		*out = jval_native(name, cols_method, t, NULL);
		return 0;
	}
	if (i < 0)
		return 1;
	*out = jval_ref(*jval_list_at(t->columns, (size_t)i));
	return 0;
}

static struct jval cols_list(void *data)
{
	return list_of(((struct cols *)data)->columns);
}

static void cols_free(void *data)
{
	struct cols *t = data;
	jval_unref(t->names);
	jval_unref(t->columns);
	free(t);
}

static const struct jinja_object_ops cols_ops = { "MappedSequence", cols_getattr, NULL, NULL, cols_free, cols_list, 0 };

static int table_print(struct jinja_call *c, struct jval *ret)
{
	*ret = jval_str("");
	return 0;
}

static int table_getattr(void *data, const char *name, struct jval *out);

static struct jval table_list(void *data)
{
	return list_of(((struct table *)data)->rows);
}

static void table_free(void *data)
{
	struct table *t = data;
	jval_unref(t->names);
	jval_unref(t->rows);
	jval_unref(t->columns);
	free(t);
}

static void table_str(void *data, struct strbuf *out)
{
	struct table *t = data;
	strbuf_addf(out, "<agate.Table: %zu rows>", jval_len(t->rows));
}

static const struct jinja_object_ops table_ops = { "Table", table_getattr, table_str, NULL, table_free, table_list, 0 };

static int table_getattr(void *data, const char *name, struct jval *out)
{
	struct table *t = data;
	if (!strcmp(name, "rows"))
		*out = jval_ref(t->rows);
	else if (!strcmp(name, "columns")) {
		struct cols *cs = xcalloc(1, sizeof(*cs));
		cs->names = jval_ref(t->names);
		cs->columns = jval_ref(t->columns);
		*out = jval_object(&cols_ops, cs);
	} else if (!strcmp(name, "column_names") || !strcmp(name, "keys"))
		*out = jval_ref(t->names);
	else if (!strcmp(name, "print_table") || !strcmp(name, "print_json"))
		*out = jval_native(name, table_print, NULL, NULL);
	else
		return 1;
	return 0;
}

struct jval dbt_table_new(struct jval names, struct jval rows)
{
	struct table *t = xcalloc(1, sizeof(*t));
	struct jval tn = jval_tuple_new();
	for (size_t i = 0; i < jval_len(names); i++)
		jval_list_append(tn, jval_ref(*jval_list_at(names, i)));
	jval_unref(names);
	t->names = tn;
	t->rows = jval_list_new();
	t->columns = jval_list_new();
	size_t nc = jval_len(tn);
	struct jval *colvals = xcalloc(nc ? nc : 1, sizeof(*colvals));
	for (size_t c = 0; c < nc; c++)
		colvals[c] = jval_tuple_new();
	for (size_t i = 0; i < jval_len(rows); i++) {
		const struct jval *src = jval_list_at(rows, i);
		struct row *r = xcalloc(1, sizeof(*r));
		r->names = jval_ref(tn);
		struct jval vals = jval_tuple_new();
		for (size_t c = 0; c < jval_len(*src); c++) {
			jval_list_append(vals, jval_ref(*jval_list_at(*src, c)));
			if (c < nc)
				jval_list_append(colvals[c], jval_ref(*jval_list_at(*src, c)));
		}
		r->values = vals;
		jval_list_append(t->rows, jval_object(&row_ops, r));
	}
	for (size_t c = 0; c < nc; c++) {
		struct acol *a = xcalloc(1, sizeof(*a));
		a->name = jval_ref(*jval_list_at(tn, c));
		a->values = colvals[c];
		jval_list_append(t->columns, jval_object(&acol_ops, a));
	}
	free(colvals);
	jval_unref(rows);
	return jval_object(&table_ops, t);
}

/* --- adapter methods ----------------------------------------------------------------- */
static void rt_free(void *data)
{
	free(data);
}

static struct dbt_rt *RT(struct jinja_call *c)
{
	return jinja_call_data(c);
}

static char *arg_str(struct jinja_call *c, size_t pos, const char *name)
{
	const struct jval *v = jinja_call_param(c, pos, name);
	return v && v->type != JVAL_NONE && v->type != JVAL_UNDEFINED ? jval_to_cstr(*v) : NULL;
}

static int a_dispatch(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	char *name = arg_str(c, 0, "macro_name"), *ns = arg_str(c, 1, "macro_namespace");
	const struct jval *pkgs = jinja_call_kwarg(c, "packages");
	if (!name) {
		free(ns);
		return jinja_call_error(c, "adapter.dispatch() takes a macro name");
	}
	if (strchr(name, '.')) {
		free(ns);
		int r = jinja_call_error(c, "in adapter.dispatch('%s'): the macro name must not contain a dot; "
					    "pass the package as macro_namespace", name);
		free(name);
		return r;
	}
	const struct jval *m = NULL;
	if (pkgs && pkgs->type == JVAL_LIST) {
		for (size_t i = 0; !m && i < jval_len(*pkgs); i++) {
			const char *pk = jval_str_cstr(*jval_list_at(*pkgs, i));
			m = pk ? dbt_dispatch_find(rt->p, name, pk) : NULL;
		}
	} else {
		m = dbt_dispatch_find(rt->p, name, ns);
	}
	int r = 0;
	if (m)
		*ret = jval_ref(*m);
	else
		r = jinja_call_error(c, "In dispatch: No macro named '%s' found within namespace: '%s'\n"
					"    Searched for: '%s__%s', 'default__%s'",
				     name, ns ? ns : rt->p->name,
				     dbt_adapter_type(rt->p),
				     name, name);
	free(name);
	free(ns);
	return r;
}

static int ddl(struct dbt_rt *rt, struct jinja_call *c, const char *sql)
{
	struct strbuf err = STRBUF_INIT;
	int r = 0;
	if (rt->execute && rt->wh && warehouse_exec(rt->wh, sql, &err) < 0)
		r = jinja_call_error(c, "%s", err.buf);
	else if (rt->execute && !rt->wh && dbt_pg_live(rt->p) && dbt_pg_exec(rt->p, sql, &err) < 0)
		r = jinja_call_error(c, "%s", err.buf);
	strbuf_release(&err);
	return r;
}

static int a_drop_relation(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *v = jinja_call_param(c, 0, "relation");
	struct dbt_relation *r = v ? dbt_as_relation(*v) : NULL;
	*ret = jval_str("");
	if (!r)
		return jinja_call_error(c, "adapter.drop_relation() takes a relation");
	if (!rt->execute)
		return 0;
	const char *kind = r->type && !strcmp(r->type, "view") ? "VIEW" : "TABLE";
	if (!r->type && (rt->wh || dbt_pg_live(rt->p))) {
		const char *k = dbt_catalog_get(rt->p, rt->wh, r->schema ? r->schema : rt->p->target.schema,
						r->identifier);
		if (!k)
			return 0;
		kind = !strcmp(k, "view") ? "VIEW" : "TABLE";
	}
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "DROP %s IF EXISTS ", kind);
	dbt_relation_render(r, &sql);
	strbuf_addstr(&sql, " CASCADE");
	int rc = ddl(rt, c, sql.buf);
	if (!rc)
		dbt_catalog_set(rt->p, r->schema ? r->schema : rt->p->target.schema, r->identifier, NULL);
	strbuf_release(&sql);
	return rc;
}

static int a_schema(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *v = jinja_call_param(c, 0, "relation");
	struct dbt_relation *r = v ? dbt_as_relation(*v) : NULL;
	*ret = jval_str("");
	if (!r || !r->schema)
		return jinja_call_error(c, "adapter.%s() takes a relation with a schema", jinja_call_name(c));
	struct strbuf sql = STRBUF_INIT;
	int create = !strcmp(jinja_call_name(c), "create_schema");
	strbuf_addstr(&sql, create ? "CREATE SCHEMA IF NOT EXISTS " : "DROP SCHEMA IF EXISTS ");
	strbuf_add_sql_ident(&sql, r->schema);
	if (!create)
		strbuf_addstr(&sql, " CASCADE");
	int rc = ddl(rt, c, sql.buf);
	strbuf_release(&sql);
	return rc;
}

static int a_rename_relation(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *f = jinja_call_param(c, 0, "from_relation"), *t = jinja_call_param(c, 1, "to_relation");
	struct dbt_relation *from = f ? dbt_as_relation(*f) : NULL, *to = t ? dbt_as_relation(*t) : NULL;
	*ret = jval_str("");
	if (!from || !to)
		return jinja_call_error(c, "adapter.rename_relation() takes two relations");
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "ALTER %s ", from->type && !strcmp(from->type, "view") ? "VIEW" : "TABLE");
	dbt_relation_render(from, &sql);
	strbuf_addstr(&sql, " RENAME TO ");
	strbuf_add_sql_ident(&sql, to->identifier);
	int rc = ddl(rt, c, sql.buf);
	if (!rc && rt->execute) {
		const char *schema = from->schema ? from->schema : rt->p->target.schema;
		dbt_catalog_set(rt->p, schema, from->identifier, NULL);
		dbt_catalog_set(rt->p, schema, to->identifier,
				from->type && !strcmp(from->type, "view") ? "view" : "table");
	}
	strbuf_release(&sql);
	return rc;
}

/* columns of a relation as api.Column values */
static int columns_of(struct dbt_rt *rt, const struct dbt_relation *r, struct jval *out, struct strbuf *err)
{
	*out = jval_list_new();
	if (rt->execute && !rt->wh && dbt_pg_live(rt->p))
		return dbt_pg_columns(rt->p, r->schema ? r->schema : rt->p->target.schema,
				      r->identifier ? r->identifier : "", *out, err);
	if (!rt->execute || !rt->wh)
		return 0;
	struct strbuf sql = STRBUF_INIT;
	struct wh_result res;
	strbuf_addstr(&sql, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ");
	strbuf_add_sql_str(&sql, r->schema ? r->schema : rt->p->target.schema);
	strbuf_addstr(&sql, " AND table_name = ");
	strbuf_add_sql_str(&sql, r->identifier ? r->identifier : "");
	if (r->database && r->show_db) {
		strbuf_addstr(&sql, " AND table_catalog = ");
		strbuf_add_sql_str(&sql, r->database);
	}
	strbuf_addstr(&sql, " ORDER BY ordinal_position");
	int rc = warehouse_query(rt->wh, sql.buf, &res, err);
	if (rc == 0) {
		for (size_t i = 0; i < res.rows; i++) {
			char *name = wh_result_str(&res, i, 0), *type = wh_result_str(&res, i, 1);
			jval_list_append(*out, dbt_column_new(name, type));
			free(name);
			free(type);
		}
		wh_result_free(&res);
	}
	strbuf_release(&sql);
	return rc;
}

static int a_get_columns(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *v = jinja_call_param(c, 0, "relation");
	struct dbt_relation *r = v ? dbt_as_relation(*v) : NULL;
	if (!r)
		return jinja_call_error(c, "adapter.get_columns_in_relation() takes a relation");
	struct strbuf err = STRBUF_INIT;
	int rc = columns_of(rt, r, ret, &err);
	if (rc < 0)
		jinja_call_error(c, "%s", err.buf);
	strbuf_release(&err);
	return rc;
}

static int a_get_missing_columns(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *f = jinja_call_param(c, 0, "from_relation"), *t = jinja_call_param(c, 1, "to_relation");
	struct dbt_relation *from = f ? dbt_as_relation(*f) : NULL, *to = t ? dbt_as_relation(*t) : NULL;
	if (!from || !to)
		return jinja_call_error(c, "adapter.get_missing_columns() takes two relations");
	struct jval a, b;
	struct strbuf err = STRBUF_INIT;
	columns_of(rt, from, &a, &err);
	columns_of(rt, to, &b, &err);
	strbuf_release(&err);
	*ret = jval_list_new();
	for (size_t i = 0; i < jval_len(a); i++) {
		const char *na = dbt_column_name(*jval_list_at(a, i));
		int found = 0;
		for (size_t j = 0; j < jval_len(b) && !found; j++)
			found = !strcasecmp(na, dbt_column_name(*jval_list_at(b, j)));
		if (!found)
			jval_list_append(*ret, jval_ref(*jval_list_at(a, i)));
	}
	jval_unref(a);
	jval_unref(b);
	return 0;
}

static int a_get_relation(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	char *db = arg_str(c, 0, "database"), *schema = arg_str(c, 1, "schema"), *ident = arg_str(c, 2, "identifier");
	*ret = jval_none();
	if (!schema || !ident) {
		free(db);
		free(schema);
		free(ident);
		return jinja_call_error(c, "adapter.get_relation() takes database, schema and identifier");
	}
	if (rt->execute && (rt->wh || dbt_pg_live(rt->p))) {
		const char *kind = dbt_catalog_get(rt->p, rt->wh, schema, ident);
		if (kind) {
			*ret = dbt_relation_new(db ? db : rt->p->target.database, schema, ident, kind, 1);
		}
	}
	free(db);
	free(schema);
	free(ident);
	return 0;
}

static int a_load_relation(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *v = jinja_call_param(c, 0, "relation");
	struct dbt_relation *r = v ? dbt_as_relation(*v) : NULL;
	*ret = jval_none();
	if (!r)
		return jinja_call_error(c, "adapter.load_relation() takes a relation");
	if (r->type && !strcmp(r->type, "cte")) {
		*ret = jval_ref(*v);
		return 0;
	}
	if (rt->execute && (rt->wh || dbt_pg_live(rt->p))) {
		const char *kind = dbt_catalog_get(rt->p, rt->wh, r->schema ? r->schema : rt->p->target.schema,
						   r->identifier);
		if (kind)
			*ret = dbt_relation_new(r->database ? r->database : rt->p->target.database, r->schema,
						r->identifier, kind, 1);
	}
	return 0;
}

static int a_already_exists(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	char *schema = arg_str(c, 0, "schema"), *name = arg_str(c, 1, "name");
	*ret = jval_bool(rt->execute && (rt->wh || dbt_pg_live(rt->p)) && schema && name &&
			 dbt_catalog_get(rt->p, rt->wh, schema, name));
	free(schema);
	free(name);
	return 0;
}

static int a_list_relations(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	const struct jval *v = jinja_call_param(c, 0, "schema_relation");
	struct dbt_relation *r = v ? dbt_as_relation(*v) : NULL;
	*ret = jval_list_new();
	if (r && rt->execute && !rt->wh && dbt_pg_live(rt->p)) {
		struct strbuf err = STRBUF_INIT;
		int rc = dbt_pg_relations(rt->p, r->database ? r->database : rt->p->target.database,
					  r->schema ? r->schema : rt->p->target.schema, *ret, &err);
		if (rc < 0)
			jinja_call_error(c, "%s", err.buf);
		strbuf_release(&err);
		return rc;
	}
	if (!r || !rt->execute || !rt->wh)
		return 0;
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	struct wh_result res;
	strbuf_addstr(&sql, "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, r->schema ? r->schema : rt->p->target.schema);
	strbuf_addstr(&sql, " ORDER BY table_name");
	if (warehouse_query(rt->wh, sql.buf, &res, &err) == 0) {
		for (size_t i = 0; i < res.rows; i++) {
			char *name = wh_result_str(&res, i, 0), *type = wh_result_str(&res, i, 1);
			jval_list_append(*ret, dbt_relation_new(r->database ? r->database : rt->p->target.database,
								r->schema, name,
								type && !strcmp(type, "VIEW") ? "view" : "table", 1));
			free(name);
			free(type);
		}
		wh_result_free(&res);
	}
	strbuf_release(&sql);
	strbuf_release(&err);
	return 0;
}

static int a_type(struct jinja_call *c, struct jval *ret)
{
	struct dbt_rt *rt = RT(c);
	*ret = jval_str(rt->p->target.type ? rt->p->target.type : "duckdb");
	return 0;
}

static int a_noop(struct jinja_call *c, struct jval *ret)
{
	*ret = jval_str("");
	return 0;
}

void dbt_adapter_extend(struct jval adapter, const struct dbt_rt *rt0)
{
	static const struct {
		const char *name;
		jinja_fn fn;
	} fns[] = {
		{ "dispatch", a_dispatch },
		{ "drop_relation", a_drop_relation },
		{ "create_schema", a_schema },
		{ "drop_schema", a_schema },
		{ "rename_relation", a_rename_relation },
		{ "get_columns_in_relation", a_get_columns },
		{ "get_missing_columns", a_get_missing_columns },
		{ "get_relation", a_get_relation },
		{ "load_relation", a_load_relation },
		{ "already_exists", a_already_exists },
		{ "list_relations_without_caching", a_list_relations },
		{ "expand_target_column_types", a_noop },
		{ "commit", a_noop },
		{ "type", a_type }, /* adapter.type() is a method in dbt */
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct dbt_rt *rt = xcalloc(1, sizeof(*rt));
		*rt = *rt0;
		jval_dict_set(adapter, fns[i].name, jval_native(fns[i].name, fns[i].fn, rt, rt_free));
	}
}

void dbt_context_node_extras(struct jval ctx, const struct dbt_rt *rt0)
{
	struct dbt_rt *rt = xcalloc(1, sizeof(*rt));
	*rt = *rt0;
	jval_dict_set(ctx, "load_relation", jval_native("load_relation", a_load_relation, rt, rt_free));
}
