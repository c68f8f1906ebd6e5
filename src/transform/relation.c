/* dbt's Relation and Column values, and the `api` global that makes them.
 *
 * A Relation prints as dbt-duckdb renders it: "database"."schema"."identifier"
 * for refs, sources, this and what the adapter returns (the database is
 * the DuckDB file's stem, the name DuckDB attaches it under), two parts for
 * api.Relation.create() without a database, or the bare CTE name of an
 * ephemeral model. It is a Mapping to Jinja (`is
 * mapping`, .get('metadata')), as dbt_utils checks. Methods return new
 * relations; values never change once made. */
#include "transform/runtime.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "transform/jinja/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int rel_getattr(void *data, const char *name, struct jval *out);
static void rel_str(void *data, struct strbuf *out);
static void rel_free(void *data);
static const struct jinja_object_ops relation_ops = { "Relation", rel_getattr, rel_str, NULL, rel_free, NULL, 1 };

static struct dbt_relation *rel_copy(const struct dbt_relation *r)
{
	struct dbt_relation *c = xcalloc(1, sizeof(*c));
	*c = *r;
	c->database = r->database ? xstrdup(r->database) : NULL;
	c->schema = r->schema ? xstrdup(r->schema) : NULL;
	c->identifier = r->identifier ? xstrdup(r->identifier) : NULL;
	c->type = r->type ? xstrdup(r->type) : NULL;
	c->filtered = r->filtered ? xstrdup(r->filtered) : NULL;
	return c;
}

struct jval dbt_relation_new(const char *database, const char *schema, const char *identifier,
			     const char *type, int show_db)
{
	struct dbt_relation *r = xcalloc(1, sizeof(*r));
	r->database = database ? xstrdup(database) : NULL;
	r->schema = schema ? xstrdup(schema) : NULL;
	r->identifier = identifier ? xstrdup(identifier) : NULL;
	r->type = type ? xstrdup(type) : NULL;
	r->show_db = show_db && database;
	r->inc_db = r->inc_schema = r->inc_ident = 1;
	r->q_db = r->q_schema = r->q_ident = 1;
	return jval_object(&relation_ops, r);
}

struct dbt_relation *dbt_as_relation(struct jval v)
{
	return v.type == JVAL_OBJECT && v.u.o->ops == &relation_ops ? v.u.o->data : NULL;
}

static void part(struct strbuf *out, const char *s, int quote)
{
	if (out->len)
		strbuf_addch(out, '.');
	if (quote)
		strbuf_add_sql_ident(out, s);
	else
		strbuf_addstr(out, s);
}

void dbt_relation_render(const struct dbt_relation *r, struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	if (r->type && !strcmp(r->type, "cte")) {
		strbuf_addstr(out, r->identifier ? r->identifier : "");
		return;
	}
	if (r->show_db && r->inc_db && r->database)
		part(&sb, r->database, r->q_db);
	if (r->inc_schema && r->schema && *r->schema)
		part(&sb, r->schema, r->q_schema);
	if (r->inc_ident && r->identifier)
		part(&sb, r->identifier, r->q_ident);
	strbuf_addbuf(out, &sb);
	strbuf_release(&sb);
}

static void rel_str(void *data, struct strbuf *out)
{
	const struct dbt_relation *r = data;
	if (r->filtered) {
		strbuf_addstr(out, r->filtered);
		return;
	}
	dbt_relation_render(data, out);
}

static void rel_free(void *data)
{
	struct dbt_relation *r = data;
	free(r->database);
	free(r->schema);
	free(r->identifier);
	free(r->type);
	free(r->filtered);
	free(r);
}

static int m_render(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	dbt_relation_render(jinja_call_data(c), &sb);
	*ret = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 0;
}

static int m_include(struct jinja_call *c, struct jval *ret)
{
	struct dbt_relation *r = rel_copy(jinja_call_data(c));
	int quote = !strcmp(jinja_call_name(c), "quote");
	const char *const names[] = { "database", "schema", "identifier" };
	int *fl[3];
	if (quote) {
		fl[0] = &r->q_db;
		fl[1] = &r->q_schema;
		fl[2] = &r->q_ident;
	} else {
		fl[0] = &r->inc_db;
		fl[1] = &r->inc_schema;
		fl[2] = &r->inc_ident;
	}
	for (size_t i = 0; i < 3; i++) {
		const struct jval *a = jinja_call_param(c, i, names[i]);
		if (a && a->type != JVAL_NONE)
			*fl[i] = jval_truthy(*a);
	}
	if (!quote && r->inc_db && r->database && !r->show_db && jinja_call_param(c, 0, "database") &&
	    jval_truthy(*jinja_call_param(c, 0, "database")))
		r->show_db = 1;
	*ret = jval_object(&relation_ops, r);
	return 0;
}

static void set_str(char **dst, const struct jval *v)
{
	if (!v)
		return;
	free(*dst);
	*dst = v->type == JVAL_NONE ? NULL : jval_to_cstr(*v);
}

static int m_incorporate(struct jinja_call *c, struct jval *ret)
{
	struct dbt_relation *r = rel_copy(jinja_call_data(c));
	const struct jval *path = jinja_call_kwarg(c, "path");
	if (path && path->type == JVAL_DICT) {
		set_str(&r->database, jval_dict_get(*path, "database"));
		set_str(&r->schema, jval_dict_get(*path, "schema"));
		set_str(&r->identifier, jval_dict_get(*path, "identifier"));
	}
	set_str(&r->type, jinja_call_kwarg(c, "type"));
	if (!strcmp(jinja_call_name(c), "replace_path")) {
		set_str(&r->database, jinja_call_kwarg(c, "database"));
		set_str(&r->schema, jinja_call_kwarg(c, "schema"));
		set_str(&r->identifier, jinja_call_kwarg(c, "identifier"));
	}
	*ret = jval_object(&relation_ops, r);
	return 0;
}

static int m_without_identifier(struct jinja_call *c, struct jval *ret)
{
	struct dbt_relation *r = rel_copy(jinja_call_data(c));
	r->inc_ident = 0;
	*ret = jval_object(&relation_ops, r);
	return 0;
}

static int m_get(struct jinja_call *c, struct jval *ret)
{
	const struct jval *k = jinja_call_param(c, 0, "key");
	const struct jval *d = jinja_call_param(c, 1, "default");
	const char *key = k ? jval_str_cstr(*k) : NULL;
	if (key && !strcmp(key, "metadata")) {
		struct jval m = jval_dict_new();
		jval_dict_set(m, "type", jval_str("DuckDBRelation"));
		*ret = m;
		return 0;
	}
	if (key && !rel_getattr(jinja_call_data(c), key, ret))
		return 0;
	*ret = d ? jval_ref(*d) : jval_none();
	return 0;
}

static struct jval opt_str(const char *s)
{
	return s ? jval_str(s) : jval_none();
}

static int rel_getattr(void *data, const char *name, struct jval *out)
{
	struct dbt_relation *r = data;
	if (!strcmp(name, "database"))
		*out = opt_str(r->database);
	else if (!strcmp(name, "schema"))
		*out = opt_str(r->schema);
	else if (!strcmp(name, "identifier") || !strcmp(name, "name") || !strcmp(name, "table"))
		*out = opt_str(r->identifier);
	else if (!strcmp(name, "type"))
		*out = opt_str(r->type);
	else if (!strcmp(name, "is_table"))
		*out = jval_bool(r->type && !strcmp(r->type, "table"));
	else if (!strcmp(name, "is_view"))
		*out = jval_bool(r->type && !strcmp(r->type, "view"));
	else if (!strcmp(name, "is_cte"))
		*out = jval_bool(r->type && !strcmp(r->type, "cte"));
	else if (!strcmp(name, "is_materialized_view"))
		*out = jval_bool(0);
	else if (!strcmp(name, "render"))
		*out = jval_native("render", m_render, r, NULL);
	else if (!strcmp(name, "include") || !strcmp(name, "quote"))
		*out = jval_native(name, m_include, r, NULL);
	else if (!strcmp(name, "incorporate") || !strcmp(name, "replace_path"))
		*out = jval_native(name, m_incorporate, r, NULL);
	else if (!strcmp(name, "without_identifier"))
		*out = jval_native(name, m_without_identifier, r, NULL);
	else if (!strcmp(name, "get"))
		*out = jval_native(name, m_get, r, NULL);
	else if (!strcmp(name, "path")) {
		struct jval d = jval_dict_new();
		jval_dict_set(d, "database", opt_str(r->database));
		jval_dict_set(d, "schema", opt_str(r->schema));
		jval_dict_set(d, "identifier", opt_str(r->identifier));
		*out = d;
	} else if (!strcmp(name, "quote_policy") || !strcmp(name, "include_policy")) {
		int q = !strcmp(name, "quote_policy");
		struct jval d = jval_dict_new();
		jval_dict_set(d, "database", jval_bool(q ? r->q_db : r->inc_db));
		jval_dict_set(d, "schema", jval_bool(q ? r->q_schema : r->inc_schema));
		jval_dict_set(d, "identifier", jval_bool(q ? r->q_ident : r->inc_ident));
		*out = d;
	} else if (!strcmp(name, "metadata")) {
		struct jval m = jval_dict_new();
		jval_dict_set(m, "type", jval_str("DuckDBRelation"));
		*out = m;
	} else
		return 1;
	return 0;
}

/* --- api.Column ------------------------------------------------------------------------ */
struct column {
	char *name, *dtype;
};

static int col_getattr(void *data, const char *name, struct jval *out);

static void col_str(void *data, struct strbuf *out)
{
	struct column *c = data;
	strbuf_addf(out, "<Column %s (%s)>", c->name, c->dtype);
}

static void col_free(void *data)
{
	struct column *c = data;
	free(c->name);
	free(c->dtype);
	free(c);
}

static const struct jinja_object_ops column_ops = { "Column", col_getattr, col_str, NULL, col_free, NULL, 0 };

struct jval dbt_column_new(const char *name, const char *dtype)
{
	struct column *c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name ? name : "");
	c->dtype = xstrdup(dtype ? dtype : "");
	return jval_object(&column_ops, c);
}

const char *dbt_column_name(struct jval v)
{
	if (v.type != JVAL_OBJECT || v.u.o->ops != &column_ops)
		return "";
	return ((struct column *)v.u.o->data)->name;
}

static int type_is(const char *t, const char *const *names)
{
	for (; *names; names++) {
		size_t n = strlen(*names);
		if (!strncasecmp(t, *names, n) && (!t[n] || t[n] == '(' || t[n] == ' '))
			return 1;
	}
	return 0;
}

static const char *const STRING_T[] = { "varchar", "text", "string", "character varying", "char", "bpchar", NULL };
static const char *const INT_T[] = { "integer", "bigint", "smallint", "tinyint", "hugeint", "int", "int4", "int8",
				     "int2", "ubigint", "uinteger", "usmallint", "utinyint", "uhugeint", "serial",
				     "bigserial", NULL };
static const char *const FLOAT_T[] = { "float", "double", "real", "float4", "float8", "double precision", NULL };
static const char *const NUMERIC_T[] = { "numeric", "decimal", NULL };

static int col_pred(struct jinja_call *c, struct jval *ret)
{
	struct column *col = jinja_call_data(c);
	const char *w = jinja_call_name(c);
	int r = 0;
	if (!strcmp(w, "is_string"))
		r = type_is(col->dtype, STRING_T);
	else if (!strcmp(w, "is_integer"))
		r = type_is(col->dtype, INT_T);
	else if (!strcmp(w, "is_float"))
		r = type_is(col->dtype, FLOAT_T);
	else if (!strcmp(w, "is_numeric"))
		r = type_is(col->dtype, NUMERIC_T);
	else if (!strcmp(w, "is_number"))
		r = type_is(col->dtype, INT_T) || type_is(col->dtype, FLOAT_T) || type_is(col->dtype, NUMERIC_T);
	*ret = jval_bool(r);
	return 0;
}

/* "VARCHAR(12)" -> 12; "DECIMAL(18,3)" -> 18 and 3 */
static int type_args(const char *t, long *a, long *b)
{
	const char *p = strchr(t, '(');
	*a = *b = -1;
	if (!p)
		return 0;
	char *end;
	*a = strtol(p + 1, &end, 10);
	if (*end == ',')
		*b = strtol(end + 1, NULL, 10);
	return 1;
}

static int col_string_size(struct jinja_call *c, struct jval *ret)
{
	struct column *col = jinja_call_data(c);
	long a, b;
	if (!type_is(col->dtype, STRING_T))
		return jinja_call_error(c, "Called string_size() on non-string field!");
	*ret = type_args(col->dtype, &a, &b) && a > 0 ? jval_int(a) : jval_int(256);
	return 0;
}

static int col_getattr(void *data, const char *name, struct jval *out)
{
	struct column *c = data;
	long a, b;
	if (!strcmp(name, "name") || !strcmp(name, "column"))
		*out = jval_str(c->name);
	else if (!strcmp(name, "quoted")) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_add_sql_ident(&sb, c->name);
		*out = jval_str_from_buf(&sb);
		strbuf_release(&sb);
	} else if (!strcmp(name, "data_type") || !strcmp(name, "dtype"))
		*out = jval_str(c->dtype);
	else if (!strcmp(name, "is_string") || !strcmp(name, "is_number") || !strcmp(name, "is_numeric") ||
		 !strcmp(name, "is_integer") || !strcmp(name, "is_float"))
		*out = jval_native(name, col_pred, c, NULL);
	else if (!strcmp(name, "string_size"))
		*out = jval_native(name, col_string_size, c, NULL);
	else if (!strcmp(name, "char_size"))
		*out = type_is(c->dtype, STRING_T) && type_args(c->dtype, &a, &b) ? jval_int(a) : jval_none();
	else if (!strcmp(name, "numeric_precision"))
		*out = type_args(c->dtype, &a, &b) && b >= 0 ? jval_int(a) : jval_none();
	else if (!strcmp(name, "numeric_scale"))
		*out = type_args(c->dtype, &a, &b) && b >= 0 ? jval_int(b) : jval_none();
	else
		return 1;
	return 0;
}

/* --- api ------------------------------------------------------------------------------ */
static int api_rel_create(struct jinja_call *c, struct jval *ret)
{
	struct dbt_project *p = jinja_call_data(c);
	const struct jval *db = jinja_call_param(c, 0, "database"), *schema = jinja_call_param(c, 1, "schema"),
			  *ident = jinja_call_param(c, 2, "identifier"), *type = jinja_call_param(c, 3, "type");
	char *d = db && db->type != JVAL_NONE ? jval_to_cstr(*db) : xstrdup(p->target.database ? p->target.database : "");
	char *s = schema && schema->type != JVAL_NONE ? jval_to_cstr(*schema) : NULL;
	char *i = ident && ident->type != JVAL_NONE ? jval_to_cstr(*ident) : NULL;
	char *t = type && type->type != JVAL_NONE ? jval_to_cstr(*type) : NULL;
	int show = db && db->type != JVAL_NONE && *d;
	*ret = dbt_relation_new(*d ? d : NULL, s, i, t, show);
	free(d);
	free(s);
	free(i);
	free(t);
	return 0;
}

static int api_ephemeral_prefix(struct jinja_call *c, struct jval *ret)
{
	const struct jval *n = jinja_call_param(c, 0, "name");
	char *s = n ? jval_to_cstr(*n) : xstrdup("");
	char *full = xasprintf("__dbt__cte__%s", s);
	*ret = jval_str(full);
	free(full);
	free(s);
	return 0;
}

/* Column.translate_type: dbt's base TYPE_LABELS */
static const char *translate(const char *t)
{
	static const char *const map[][2] = { { "STRING", "TEXT" },   { "TIMESTAMP", "TIMESTAMP" },
					      { "FLOAT", "FLOAT" },   { "INTEGER", "INT" },
					      { "BOOLEAN", "BOOLEAN" } };
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(t, map[i][0]))
			return map[i][1];
	return t;
}

static int api_col(struct jinja_call *c, struct jval *ret)
{
	const char *w = jinja_call_name(c);
	if (!strcmp(w, "translate_type")) {
		const struct jval *t = jinja_call_param(c, 0, "dtype");
		char *s = t ? jval_to_cstr(*t) : xstrdup("");
		*ret = jval_str(translate(s));
		free(s);
	} else if (!strcmp(w, "numeric_type")) {
		const struct jval *t = jinja_call_param(c, 0, "dtype"), *pr = jinja_call_param(c, 1, "precision"),
				  *sc = jinja_call_param(c, 2, "scale");
		char *s = t ? jval_to_cstr(*t) : xstrdup("numeric");
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, s);
		if (pr && sc && pr->type != JVAL_NONE && sc->type != JVAL_NONE) {
			char *a = jval_to_cstr(*pr), *b = jval_to_cstr(*sc);
			strbuf_addf(&sb, "(%s,%s)", a, b);
			free(a);
			free(b);
		}
		*ret = jval_str_from_buf(&sb);
		strbuf_release(&sb);
		free(s);
	} else if (!strcmp(w, "string_type")) {
		const struct jval *n = jinja_call_param(c, 0, "size");
		char *s = n ? jval_to_cstr(*n) : xstrdup("256");
		char *t = xasprintf("character varying(%s)", s);
		*ret = jval_str(t);
		free(t);
		free(s);
	} else {
		const struct jval *n = jinja_call_param(c, 0, "name"), *t = jinja_call_param(c, 1, "data_type");
		char *a = n ? jval_to_cstr(*n) : xstrdup(""), *b = t ? jval_to_cstr(*t) : xstrdup("");
		*ret = dbt_column_new(a, b);
		free(a);
		free(b);
	}
	return 0;
}

struct jval dbt_api_object(struct dbt_project *p)
{
	struct jval rel = jval_dict_new();
	jval_dict_set(rel, "create", jval_native("create", api_rel_create, p, NULL));
	jval_dict_set(rel, "add_ephemeral_prefix", jval_native("add_ephemeral_prefix", api_ephemeral_prefix, p, NULL));
	struct jval col = jval_dict_new();
	static const char *const fns[] = { "translate_type", "numeric_type", "string_type", "create", NULL };
	for (const char *const *f = fns; *f; f++)
		jval_dict_set(col, *f, jval_native(*f, api_col, p, NULL));
	struct jval api = jval_dict_new();
	jval_dict_set(api, "Relation", jval_object_dict(rel));
	jval_dict_set(api, "Column", jval_object_dict(col));
	return jval_object_dict(api);
}
