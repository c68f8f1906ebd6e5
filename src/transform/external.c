/* dbt-duckdb's external files, both ways:
 *
 *   sources  a source table with `external_location` in its meta or
 *            config (the table's over the source's) reads that location:
 *            the template is formatted with the table's name, identifier,
 *            schema, database and meta keys (`formatter`: newstyle {name},
 *            oldstyle %(name)s or template $name), and a plain path is
 *            quoted, so that DuckDB reads the file by its extension
 *            (read_csv / read_parquet / read_json);
 *   models   `materialized: external` builds the rows into a temporary
 *            table, COPYs it to `location` (default: the profile's
 *            external_root, else the target folder, <alias>.<format>) as
 *            parquet, csv or json, and makes the model a view over the
 *            file, as dbt-duckdb's external materialization does. */
#include "transform/dbt.h"
#include "transform/materialize.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* --- sources ------------------------------------------------------------------ */
static int lookup(struct jval vars, const char *key, size_t len, struct strbuf *out)
{
	char *k = xstrndup(key, len);
	const struct jval *v = jval_dict_get(vars, k);
	free(k);
	if (!v)
		return -1;
	if (v->type != JVAL_NONE)
		jval_write_str(out, *v);
	else
		strbuf_addstr(out, "None");
	return 0;
}

/* Python's str.format_map, % with a dict, and string.Template, for the
 * names dbt-duckdb gives them. */
static int format_location(const char *tmpl, const char *formatter, struct jval vars, struct strbuf *out,
			   struct strbuf *err)
{
	int newstyle = !strcmp(formatter, "newstyle"), oldstyle = !strcmp(formatter, "oldstyle");
	if (!newstyle && !oldstyle && strcmp(formatter, "template")) {
		strbuf_addf(err, "Formatter %s not recognized. Must be one of 'newstyle', 'oldstyle', or 'template'.",
			    formatter);
		return -1;
	}
	for (const char *c = tmpl; *c; c++) {
		const char *name = NULL, *end = NULL;
		if (newstyle && (c[0] == '{' || c[0] == '}') && c[1] == c[0]) {
			strbuf_addch(out, *c++);
			continue;
		}
		if (oldstyle && c[0] == '%' && c[1] == '%') {
			strbuf_addch(out, *c++);
			continue;
		}
		if (!oldstyle && !newstyle && c[0] == '$' && c[1] == '$') {
			strbuf_addch(out, *c++);
			continue;
		}
		if (newstyle && *c == '{') {
			name = c + 1;
			end = strchr(name, '}');
			if (!end) {
				strbuf_addf(err, "external_location '%s': a '{' without its '}'", tmpl);
				return -1;
			}
			c = end;
		} else if (oldstyle && c[0] == '%' && c[1] == '(') {
			name = c + 2;
			end = strchr(name, ')');
			if (!end || end[1] != 's') {
				strbuf_addf(err, "external_location '%s': use %%(name)s", tmpl);
				return -1;
			}
			c = end + 1;
		} else if (!newstyle && !oldstyle && *c == '$') {
			if (c[1] == '{') {
				name = c + 2;
				end = strchr(name, '}');
				c = end ? end : c;
			} else {
				name = end = c + 1;
				while (*end == '_' || (*end >= 'a' && *end <= 'z') || (*end >= 'A' && *end <= 'Z') ||
				       (*end >= '0' && *end <= '9'))
					end++;
				c = end - 1;
			}
			if (!end || end == name) {
				strbuf_addf(err, "external_location '%s': a '$' without a name", tmpl);
				return -1;
			}
		} else {
			strbuf_addch(out, *c);
			continue;
		}
		if (lookup(vars, name, (size_t)(end - name), out) < 0) {
			strbuf_addf(err, "external_location '%s': the source has no attribute '%.*s' (it has name, "
					 "identifier, schema, database, tags and its meta keys)", tmpl, (int)(end - name), name);
			return -1;
		}
	}
	return 0;
}

static void merge_into(struct jval dst, const struct jval *src)
{
	const struct jval *k, *v;
	for (size_t i = 0; src && src->type == JVAL_DICT && jval_dict_entry(*src, i, &k, &v); i++)
		jval_dict_setv(dst, jval_ref(*k), jval_ref(*v));
}

int dbt_source_external(struct dbt_project *p, struct dbt_node *n, struct jval source, struct jval table,
			struct strbuf *err)
{
	struct jval meta = jval_dict_new(), cfg = jval_dict_new();
	merge_into(meta, jval_dict_get(source, "meta"));
	merge_into(meta, jval_dict_get(table, "meta"));
	merge_into(cfg, jval_dict_get(source, "config"));
	merge_into(cfg, jval_dict_get(table, "config"));
	/* config (event_time, ...) is the node's; dbt-duckdb reads the
	 * config's extra keys with the meta */
	merge_into(n->config, &cfg);
	struct jval vars = jval_dict_new();
	jval_dict_set(vars, "name", jval_str(n->name));
	jval_dict_set(vars, "identifier", jval_str(n->identifier));
	jval_dict_set(vars, "schema", jval_str(n->schema));
	jval_dict_set(vars, "database", n->database ? jval_str(n->database) : jval_none());
	const struct jval *tags = jval_dict_get(table, "tags");
	jval_dict_set(vars, "tags", tags ? jval_ref(*tags) : jval_list_new());
	merge_into(vars, &meta);
	merge_into(vars, &cfg);
	int r = 0;
	const struct jval *loc = jval_dict_get(vars, "external_location");
	if (loc && loc->type == JVAL_STR) {
		const struct jval *fv = jval_dict_get(vars, "formatter");
		const char *formatter = fv && fv->type == JVAL_STR ? jval_str_cstr(*fv) : "newstyle";
		struct strbuf out = STRBUF_INIT, e = STRBUF_INIT;
		if (format_location(jval_str_cstr(*loc), formatter, vars, &out, &e) < 0) {
			strbuf_addf(err, "%s: source table '%s.%s': %s", n->file, n->source_name, n->name, e.buf);
			r = -1;
		} else {
			/* a function call or a quoted string is SQL already */
			if (!strchr(out.buf, '(') && out.buf[0] != '\'') {
				struct strbuf q = STRBUF_INIT;
				strbuf_add_sql_str(&q, out.buf);
				strbuf_reset(&out);
				strbuf_addbuf(&out, &q);
				strbuf_release(&q);
			}
			jval_dict_set(n->config, "__external_location", jval_str(out.buf));
		}
		strbuf_release(&out);
		strbuf_release(&e);
	}
	(void)p;
	jval_unref(meta);
	jval_unref(cfg);
	jval_unref(vars);
	return r;
}

/* --- materialized: external ---------------------------------------------------- */
static const char *formats[] = { "csv", "parquet", "json", NULL };

static int known_format(const char *f)
{
	for (const char *const *x = formats; *x; x++)
		if (!strcasecmp(f, *x))
			return 1;
	return 0;
}

static void mkdirs_for(const char *file)
{
	char *dir = xstrdup(file), *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		fs_mkdir_p(dir, 0755);
	}
	free(dir);
}

/* dbt-duckdb's external_write_options: key value, quoting the few that
 * take strings */
static void write_options(struct strbuf *sb, struct jval opts, const char *format)
{
	const struct jval *k, *v;
	int has_header = 0;
	strbuf_addf(sb, "format %s", format);
	for (size_t i = 0; jval_dict_entry(opts, i, &k, &v); i++) {
		const char *key = jval_str_cstr(*k);
		if (!key || !strcasecmp(key, "format"))
			continue;
		char *val = v->type == JVAL_BOOL ? xstrdup(v->u.b ? "true" : "false") : jval_to_cstr(*v);
		has_header |= !strcasecmp(key, "header");
		if (!strcasecmp(key, "partition_by") && (v->type == JVAL_LIST || (strchr(val, ',') && val[0] != '('))) {
			/* several columns: DuckDB's PARTITION_BY (a, b) */
			struct strbuf cols = STRBUF_INIT;
			if (v->type == JVAL_LIST)
				for (size_t j = 0; j < jval_len(*v); j++) {
					char *c = jval_to_cstr(*jval_list_at(*v, j));
					strbuf_addf(&cols, "%s%s", j ? ", " : "", c);
					free(c);
				}
			else
				strbuf_addstr(&cols, val);
			free(val);
			val = xasprintf("(%s)", cols.buf);
			strbuf_release(&cols);
		}
		strbuf_addf(sb, ", %s ", key);
		if ((!strcasecmp(key, "delimiter") || !strcasecmp(key, "quote") || !strcasecmp(key, "escape") ||
		     !strcasecmp(key, "null")) && val[0] != '\'')
			strbuf_add_sql_str(sb, val);
		else
			strbuf_addstr(sb, val);
		free(val);
	}
	if (!strcasecmp(format, "csv") && !has_header)
		strbuf_addstr(sb, ", header 1");
}

/* read_<format>('file', key=value, ...) with the model's read options */
static void read_sql(struct strbuf *sb, const struct dbt_node *n, const char *format, const char *location)
{
	char key[32];
	snprintf(key, sizeof(key), "%s_read_options", format);
	const struct jval *ro = jval_dict_get(n->config, key);
	strbuf_addf(sb, "read_%s(", format);
	strbuf_add_sql_str(sb, location);
	const struct jval *k, *v;
	if (ro && ro->type == JVAL_DICT) {
		for (size_t i = 0; jval_dict_entry(*ro, i, &k, &v); i++) {
			strbuf_addf(sb, ", %s=", jval_str_cstr(*k));
			if (v->type == JVAL_STR)
				strbuf_add_sql_str(sb, jval_str_cstr(*v));
			else if (v->type == JVAL_BOOL)
				strbuf_addstr(sb, v->u.b ? "True" : "False");
			else
				jval_write_str(sb, *v);
		}
	} else {
		strbuf_addstr(sb, !strcmp(format, "parquet") ? ", union_by_name=False" : ", auto_detect=True");
	}
	strbuf_addch(sb, ')');
}

int dbt_build_external(struct mctx *m, const char *body)
{
	struct dbt_node *n = m->n;
	struct dbt_project *p = m->p;
	const char *format = dbt_config_str(n, "format");
	const char *given = dbt_config_str(n, "location");
	const struct jval *ov = jval_dict_get(n->config, "options");
	struct jval opts = ov && ov->type == JVAL_DICT ? jval_ref(*ov) : jval_dict_new();
	struct strbuf loc = STRBUF_INIT, sql = STRBUF_INIT, tmp = STRBUF_INIT, rel = STRBUF_INIT;
	struct cols c = { STRVEC_INIT, STRVEC_INIT };
	int r = -1;
	if (ov && ov->type != JVAL_DICT) {
		strbuf_addstr(m->err, "The options argument must be a dictionary");
		goto out;
	}
	if (format && !known_format(format)) {
		strbuf_addf(m->err, "Invalid format: %s. Allowed formats are: csv, parquet, json", format);
		goto out;
	}
	const struct jval *pb = jval_dict_get(opts, "partition_by"), *pto = jval_dict_get(opts, "per_thread_output");
	int partitioned = pb && pb->type != JVAL_NONE, per_thread = pto && jval_truthy(*pto);
	if (given) {
		strbuf_addstr(&loc, given);
	} else {
		/* dbt-duckdb's external_location: a partitioned model is a folder */
		const char *root = dbt_duckdb_external_root(p);
		strbuf_addf(&loc, "%s/%s", root ? root : p->target_path, n->alias);
		if (!partitioned)
			strbuf_addf(&loc, ".%s", format ? format : "parquet");
	}
	if (!format) {
		const char *dot = strrchr(loc.buf, '.'), *slash = strrchr(loc.buf, '/');
		format = dot && (!slash || dot > slash) && known_format(dot + 1) ? dot + 1 : "parquet";
	}
	char *fmt = xstrdup(format);
	for (char *f = fmt; *f; f++)
		*f = (char)tolower((unsigned char)*f);
	/* dbt-duckdb's external_read_location: files written into the folder
	 * (per thread, or a folder a partition column) are read by a glob */
	struct strbuf read_loc = STRBUF_INIT;
	strbuf_addbuf(&read_loc, &loc);
	if (partitioned || per_thread) {
		size_t levels = 1;
		if (partitioned) {
			char *cols = pb->type == JVAL_LIST ? NULL : jval_to_cstr(*pb);
			levels += pb->type == JVAL_LIST ? jval_len(*pb) : 1;
			for (const char *q = cols; q && *q; q++)
				levels += *q == ',';
			free(cols);
		}
		for (size_t i = 0; i < levels; i++)
			strbuf_addstr(&read_loc, "/*");
		strbuf_addf(&read_loc, ".%s", fmt);
	}
	mat_rel_sql(&tmp, n, "__dbt_tmp");
	mat_rel_sql(&rel, n, "");
	strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s AS (\n%s\n)", tmp.buf, body);
	int64_t count = 0;
	if (mat_exec(m, sql.buf) < 0 || mat_describe(m, tmp.buf, &c) < 0)
		goto drop;
	strbuf_reset(&sql);
	strbuf_addf(&sql, "select count(*) as row_count from %s", tmp.buf);
	if (mat_exec_rows(m, sql.buf, &count) < 0)
		goto drop;
	if (count == 0) {
		/* dbt-duckdb writes a row of NULLs so that the file keeps the
		 * columns, and the view filters it out */
		strbuf_reset(&sql);
		strbuf_addf(&sql, "insert into %s values (", tmp.buf);
		for (size_t i = 0; i < c.names.nr; i++)
			strbuf_addstr(&sql, "NULL,");
		strbuf_addch(&sql, ')');
		if (mat_exec(m, sql.buf) < 0)
			goto drop;
	}
	if (!strstr(loc.buf, "://"))
		mkdirs_for(loc.buf);
	strbuf_reset(&sql);
	strbuf_addf(&sql, "copy %s to ", tmp.buf);
	strbuf_add_sql_str(&sql, loc.buf);
	strbuf_addstr(&sql, " (");
	write_options(&sql, opts, fmt);
	strbuf_addch(&sql, ')');
	if (mat_exec(m, sql.buf) < 0)
		goto drop;
	const char *old = mat_existing(m);
	strbuf_reset(&sql);
	strbuf_addstr(&sql, "BEGIN TRANSACTION;\n");
	if (old && !strcmp(old, "table"))
		strbuf_addf(&sql, "DROP TABLE IF EXISTS %s;\n", rel.buf);
	strbuf_addf(&sql, "create or replace view %s as (\n    select * from ", rel.buf);
	read_sql(&sql, n, fmt, read_loc.buf);
	if (count == 0) {
		strbuf_addstr(&sql, "\n    where 1");
		for (size_t i = 0; i < c.names.nr; i++) {
			strbuf_addstr(&sql, " AND ");
			strbuf_add_sql_ident(&sql, c.names.v[i]);
			strbuf_addstr(&sql, " is not NULL");
		}
	}
	strbuf_addstr(&sql, "\n);\nCOMMIT");
	if (mat_exec(m, sql.buf) < 0) {
		warehouse_rollback(m->wh);
		goto drop;
	}
	dbt_catalog_set(p, n->schema, n->alias, "view");
	m->rows = count;
	r = 0;
drop:
	free(fmt);
	strbuf_release(&read_loc);
	{
		struct strbuf ignored = STRBUF_INIT, d = STRBUF_INIT;
		strbuf_addf(&d, "DROP TABLE IF EXISTS %s", tmp.buf);
		warehouse_exec(m->wh, d.buf, &ignored);
		strbuf_release(&ignored);
		strbuf_release(&d);
	}
out:
	jval_unref(opts);
	strvec_clear(&c.names);
	strvec_clear(&c.types);
	strbuf_release(&loc);
	strbuf_release(&sql);
	strbuf_release(&tmp);
	strbuf_release(&rel);
	return r;
}
