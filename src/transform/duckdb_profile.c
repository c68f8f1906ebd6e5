/* dbt-duckdb's profile features: `extensions:`, `settings:`, `attach:` and
 * `external_root:` of a target, read with the profile and applied to every
 * connection Dango opens on the warehouse for a dbt command.
 *
 * Nothing can be downloaded here, so an extension (or an attachment type
 * that needs one, such as sqlite) works only when it is built into Dango's
 * DuckDB; otherwise the command stops with an error naming profiles.yml. */
#include "transform/dbt.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* a path relative to base; URLs and :memory: as they are */
static char *resolve(const char *path, const char *base)
{
	if (path[0] == '/' || strchr(path, ':'))
		return xstrdup(path);
	struct strbuf abs = STRBUF_INIT, joined = STRBUF_INIT;
	if (base) {
		fs_path_join(&joined, base, path);
		fs_absolute(&abs, joined.buf);
	} else {
		fs_absolute(&abs, path);
	}
	strbuf_release(&joined);
	return strbuf_detach(&abs, NULL);
}

static const char *dstr(struct jval d, const char *key)
{
	const struct jval *v = d.type == JVAL_DICT ? jval_dict_get(d, key) : NULL;
	return v && v->type == JVAL_STR ? jval_str_cstr(*v) : NULL;
}

static int dtrue(struct jval d, const char *key)
{
	const struct jval *v = d.type == JVAL_DICT ? jval_dict_get(d, key) : NULL;
	return v && jval_truthy(*v);
}

/* dbt-duckdb's Attachment.to_sql */
static int attach_sql(struct jval a, const char *base, const char *where, struct jval list, struct strbuf *err)
{
	const char *path = dstr(a, "path"), *type = dstr(a, "type"), *alias = dstr(a, "alias");
	const char *secret = dstr(a, "secret");
	const struct jval *o = a.type == JVAL_DICT ? jval_dict_get(a, "options") : NULL;
	struct jval opts_d = o && o->type == JVAL_DICT ? *o : jval_none();
	if (!path) {
		strbuf_addf(err, "%s: an entry of 'attach' has no 'path'", where);
		return -1;
	}
	if (!type)
		type = dstr(opts_d, "type");
	struct strbuf sql = STRBUF_INIT, opts = STRBUF_INIT;
	char *abs = resolve(path, base);
	strbuf_addstr(&sql, "ATTACH IF NOT EXISTS ");
	strbuf_add_sql_str(&sql, abs);
	free(abs);
	if (alias) {
		strbuf_addstr(&sql, " AS ");
		strbuf_add_sql_ident(&sql, alias);
	}
	if (type)
		strbuf_addf(&opts, "TYPE %s", type);
	if (secret)
		strbuf_addf(&opts, "%sSECRET %s", opts.len ? ", " : "", secret);
	if (dtrue(a, "read_only") || dtrue(opts_d, "read_only"))
		strbuf_addf(&opts, "%sREAD_ONLY", opts.len ? ", " : "");
	const struct jval *k, *v;
	for (size_t i = 0; opts_d.type == JVAL_DICT && jval_dict_entry(opts_d, i, &k, &v); i++) {
		const char *key = jval_str_cstr(*k);
		if (!key || !strcmp(key, "type") || !strcmp(key, "read_only") || !strcmp(key, "secret") ||
		    v->type == JVAL_NONE || (v->type == JVAL_BOOL && !v->u.b))
			continue;
		strbuf_addf(&opts, "%s", opts.len ? ", " : "");
		for (const char *c = key; *c; c++)
			strbuf_addch(&opts, (char)toupper((unsigned char)*c));
		if (v->type == JVAL_BOOL)
			continue;
		strbuf_addch(&opts, ' ');
		if (v->type == JVAL_STR)
			strbuf_add_sql_str(&opts, jval_str_cstr(*v));
		else
			jval_write_str(&opts, *v);
	}
	if (opts.len)
		strbuf_addf(&sql, " (%s)", opts.buf);
	struct jval e = jval_dict_new();
	jval_dict_set(e, "sql", jval_str(sql.buf));
	jval_dict_set(e, "path", jval_str(path));
	jval_dict_set(e, "type", jval_str(type ? type : "duckdb"));
	jval_list_append(list, e);
	strbuf_release(&opts);
	strbuf_release(&sql);
	return 0;
}

int dbt_duckdb_profile_load(struct dbt_project *p, const struct ynode *target, const char *base, const char *where,
			    struct strbuf *err)
{
	struct jval t = dbt_yaml_value(target);
	struct jval d = jval_dict_new(), exts = jval_list_new(), sets = jval_list_new(), atts = jval_list_new();
	int r = 0;
	const struct jval *e = jval_dict_get(t, "extensions");
	for (size_t i = 0; r == 0 && e && e->type == JVAL_LIST && i < jval_len(*e); i++) {
		const struct jval *x = jval_list_at(*e, i);
		const char *name = x->type == JVAL_DICT ? dstr(*x, "name") : jval_str_cstr(*x);
		if (!name) {
			strbuf_addf(err, "%s: an entry of 'extensions' is not an extension name", where);
			r = -1;
		} else {
			jval_list_append(exts, jval_str(name));
		}
	}
	const struct jval *s = jval_dict_get(t, "settings");
	const struct jval *k, *v;
	for (size_t i = 0; r == 0 && s && s->type == JVAL_DICT && jval_dict_entry(*s, i, &k, &v); i++) {
		struct jval pair = jval_list_new();
		char *val = v->type == JVAL_BOOL ? xstrdup(v->u.b ? "true" : "false") : jval_to_cstr(*v);
		jval_list_append(pair, jval_ref(*k));
		jval_list_append(pair, jval_str(val));
		free(val);
		jval_list_append(sets, pair);
	}
	const struct jval *a = jval_dict_get(t, "attach");
	for (size_t i = 0; r == 0 && a && a->type == JVAL_LIST && i < jval_len(*a); i++)
		r = attach_sql(*jval_list_at(*a, i), base, where, atts, err);
	const char *root = dstr(t, "external_root");
	if (root) {
		char *abs = resolve(root, base);
		jval_dict_set(d, "external_root", jval_str(abs));
		free(abs);
	}
	jval_dict_set(d, "extensions", exts);
	jval_dict_set(d, "settings", sets);
	jval_dict_set(d, "attach", atts);
	jval_dict_set(d, "where", jval_str(where));
	jval_unref(t);
	jval_unref(p->target.duckdb);
	p->target.duckdb = d;
	return r;
}

/* installed-and-usable here: statically linked into our DuckDB, or loaded */
static int builtin(struct warehouse *wh, const char *name)
{
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	int64_t n = 0;
	strbuf_addstr(&sql, "SELECT count(*) FROM duckdb_extensions() WHERE (extension_name = ");
	strbuf_add_sql_str(&sql, name);
	strbuf_addstr(&sql, " OR list_contains(aliases, ");
	strbuf_add_sql_str(&sql, name);
	strbuf_addstr(&sql, ")) AND (loaded OR install_mode = 'STATICALLY_LINKED')");
	if (warehouse_query_int(wh, sql.buf, &n, &e) < 0)
		n = 0;
	strbuf_release(&sql);
	strbuf_release(&e);
	return n > 0;
}

static void builtin_list(struct warehouse *wh, struct strbuf *out)
{
	struct wh_result r;
	struct strbuf e = STRBUF_INIT;
	if (warehouse_query(wh, "SELECT extension_name FROM duckdb_extensions() WHERE install_mode = "
				"'STATICALLY_LINKED' ORDER BY 1", &r, &e) == 0) {
		for (size_t i = 0; i < r.rows; i++) {
			char *s = wh_result_str(&r, i, 0);
			strbuf_addf(out, "%s%s", i ? ", " : "", s ? s : "");
			free(s);
		}
		wh_result_free(&r);
	}
	strbuf_release(&e);
}

/* the extension an attachment type needs */
static const char *type_extension(const char *type)
{
	if (!strcasecmp(type, "sqlite"))
		return "sqlite_scanner";
	if (!strcasecmp(type, "postgres"))
		return "postgres_scanner";
	if (!strcasecmp(type, "mysql"))
		return "mysql_scanner";
	return type;
}

int dbt_duckdb_connection_setup(struct dbt_project *p, struct warehouse *wh, struct strbuf *err)
{
	struct jval d = p->target.duckdb;
	if (d.type != JVAL_DICT)
		return 0;
	const char *where = dstr(d, "where");
	const struct jval *sets = jval_dict_get(d, "settings");
	for (size_t i = 0; sets && i < jval_len(*sets); i++) {
		const struct jval *pair = jval_list_at(*sets, i);
		const char *key = jval_str_cstr(*jval_list_at(*pair, 0)), *val = jval_str_cstr(*jval_list_at(*pair, 1));
		struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
		/* as dbt-duckdb: a string, which DuckDB casts to the setting's type */
		strbuf_addf(&sql, "SET %s = ", key);
		strbuf_add_sql_str(&sql, val);
		int r = warehouse_exec(wh, sql.buf, &e);
		if (r < 0)
			strbuf_addf(err, "%s: setting '%s' of 'settings': %s", where, key, e.buf);
		strbuf_release(&sql);
		strbuf_release(&e);
		if (r < 0)
			return -1;
	}
	return 0;
}

int dbt_duckdb_setup(struct dbt_project *p, struct warehouse *wh, struct strbuf *err)
{
	struct jval d = p->target.duckdb;
	if (d.type != JVAL_DICT)
		return 0;
	const char *where = dstr(d, "where");
	const struct jval *exts = jval_dict_get(d, "extensions");
	for (size_t i = 0; exts && i < jval_len(*exts); i++) {
		const char *name = jval_str_cstr(*jval_list_at(*exts, i));
		if (!builtin(wh, name)) {
			struct strbuf have = STRBUF_INIT;
			builtin_list(wh, &have);
			strbuf_addf(err, "%s: extension '%s' of 'extensions' is not built into Dango's DuckDB, and "
					 "extensions cannot be downloaded (built in: %s)", where, name, have.buf);
			strbuf_release(&have);
			return -1;
		}
		struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
		strbuf_addf(&sql, "LOAD %s", name);
		int r = warehouse_exec(wh, sql.buf, &e);
		if (r < 0)
			strbuf_addf(err, "%s: extension '%s': %s", where, name, e.buf);
		strbuf_release(&sql);
		strbuf_release(&e);
		if (r < 0)
			return -1;
	}
	if (dbt_duckdb_connection_setup(p, wh, err) < 0)
		return -1;
	const struct jval *atts = jval_dict_get(d, "attach");
	for (size_t i = 0; atts && i < jval_len(*atts); i++) {
		struct jval a = *jval_list_at(*atts, i);
		const char *type = dstr(a, "type"), *path = dstr(a, "path");
		if (strcasecmp(type, "duckdb") && !builtin(wh, type_extension(type))) {
			strbuf_addf(err, "%s: attach '%s' has type '%s', which needs DuckDB's %s extension: it is not "
					 "built into Dango's DuckDB, and extensions cannot be downloaded", where, path, type,
				    type_extension(type));
			/* Dango's own database sources read these natively
			 * (docs/database-sources.md) into the warehouse */
			if (!strcasecmp(type, "sqlite") || !strcasecmp(type, "postgres") || !strcasecmp(type, "mysql"))
				strbuf_addf(err, "; load its tables with a Dango source of type %s instead (a dbt source "
						 "then reads them from the warehouse)", !strcasecmp(type, "mysql") ? "mysql" :
						 !strcasecmp(type, "sqlite") ? "sqlite" : "postgres");
			return -1;
		}
		struct strbuf e = STRBUF_INIT;
		int r = warehouse_exec(wh, dstr(a, "sql"), &e);
		if (r < 0)
			strbuf_addf(err, "%s: attach '%s': %s", where, path, e.buf);
		strbuf_release(&e);
		if (r < 0)
			return -1;
	}
	return 0;
}

const char *dbt_duckdb_external_root(const struct dbt_project *p)
{
	return dstr(p->target.duckdb, "external_root");
}
