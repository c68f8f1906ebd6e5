/* Loading a dbt project: dbt_project.yml, the profile, macros, models, seeds,
 * singular tests, schema.yml files (models, columns, tests, sources, docs),
 * then a parse-time render of every model to learn its refs and config.
 *
 * Config precedence, as dbt: the dbt_project.yml tree (deeper folders win),
 * then the schema.yml `config:` of the node, then config() in the file.
 * `tags` and hooks add up across levels rather than replace. */
#include "transform/dbt.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *dbt_node_kind_name(enum node_kind k)
{
	static const char *const names[] = { "model",	  "seed",   "test",	      "source",	     "snapshot",
					     "analysis", "exposure", "metric", "semantic_model", "saved_query" };
	return names[k];
}

const char *dbt_mat_name(enum materialized m)
{
	static const char *const names[] = { "view", "table", "incremental", "ephemeral", "seed", "test", "none", "snapshot",
					     "external", "custom" };
	return names[m];
}

void dbt_log(struct dbt_project *p, int level, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	dbt_mask_secrets(&sb);
	if (p->on_log) {
		pthread_mutex_lock(&p->log_lock);
		p->on_log(p->log_data, level, sb.buf);
		pthread_mutex_unlock(&p->log_lock);
	}
	strbuf_release(&sb);
}

struct jval dbt_yaml_value(const struct ynode *y)
{
	if (!y)
		return jval_none();
	if (y->kind == Y_SEQ) {
		struct jval l = jval_list_new();
		for (size_t i = 0; i < y->n; i++)
			jval_list_append(l, dbt_yaml_value(y->items[i]));
		return l;
	}
	if (y->kind == Y_MAP) {
		struct jval d = jval_dict_new();
		for (size_t i = 0; i < y->n; i++)
			jval_dict_set(d, y->pairs[i].key->str, dbt_yaml_value(y->pairs[i].value));
		return d;
	}
	if (y->quoted)
		return jval_str(y->str);
	if (ynode_is_null(y))
		return jval_none();
	int b;
	int64_t i;
	double f;
	if (!ynode_bool(y, &b))
		return jval_bool(b);
	if (!ynode_int(y, &i))
		return jval_int(i);
	if (!ynode_double(y, &f))
		return jval_float(f);
	return jval_str(y->str);
}

int dbt_parse_vars(const char *text, struct jval *out, struct strbuf *err)
{
	struct ydoc doc = { 0 };
	struct strbuf e = STRBUF_INIT;
	if (ydoc_parse(&doc, "--vars", text, strlen(text), &e) < 0) {
		strbuf_addf(err, "cannot parse --vars as JSON or YAML: %s", e.buf);
		strbuf_release(&e);
		ydoc_release(&doc);
		return -1;
	}
	strbuf_release(&e);
	if (doc.root && doc.root->kind != Y_MAP) {
		strbuf_addstr(err, "--vars must be a mapping, such as '{\"year\": 2024}'");
		ydoc_release(&doc);
		return -1;
	}
	*out = doc.root ? dbt_yaml_value(doc.root) : jval_dict_new();
	ydoc_release(&doc);
	return 0;
}

/* --- small helpers ------------------------------------------------------------ */
static const char *ystr(const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);
	return n && n->kind == Y_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

static void paths_from(struct strvec *sv, const struct ynode *root, const char *key, const char *dflt)
{
	const struct ynode *n = ymap_get(root, key);
	if (n && n->kind == Y_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (n->items[i]->kind == Y_SCALAR)
				strvec_push(sv, n->items[i]->str);
	} else if (n && n->kind == Y_SCALAR && !ynode_is_null(n)) {
		strvec_push(sv, n->str);
	} else {
		strvec_push(sv, dflt);
	}
}


/* --- unknown keys -------------------------------------------------------------- */
/* dbt warns about keys it does not know (a typo such as `colums:` would
 * otherwise be ignored in silence): file:line:col, and a did-you-mean. */
static void warn_unknown(struct dbt_project *p, const struct ydoc *doc, const struct ynode *map,
			 const char *const *known, const char *what)
{
	if (!map || map->kind != Y_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->pairs[i].key->str;
		int ok = 0;
		for (const char *const *x = known; *x && !ok; x++)
			ok = !strcmp(k, *x);
		if (ok)
			continue;
		struct strbuf sb = STRBUF_INIT;
		ynode_where(&sb, doc, map->pairs[i].key);
		strbuf_addf(&sb, "unknown key '%s' in %s, ignored", k, what);
		const char *hint = did_you_mean(k, known);
		if (hint)
			strbuf_addf(&sb, " (did you mean '%s'?)", hint);
		dbt_log(p, 2, "%s", sb.buf);
		strbuf_release(&sb);
	}
}

static const char *const PROJECT_KEYS[] = {
	"name", "version", "config-version", "profile", "model-paths", "source-paths", "seed-paths", "data-paths",
	"test-paths", "analysis-paths", "macro-paths", "snapshot-paths", "docs-paths", "asset-paths",
	"function-paths", "target-path", "log-path", "packages-install-path", "clean-targets", "query-comment",
	"require-dbt-version", "models", "seeds", "snapshots", "sources", "tests", "data_tests", "vars",
	"on-run-start", "on-run-end", "dispatch", "quoting", "restrict-access", "flags", "exposures", "metrics",
	"semantic-models", "saved-queries", "unit_tests", "dbt-cloud", "analyses", "functions", NULL
};
static const char *const SCHEMA_KEYS[] = { "version", "models", "seeds", "sources", "snapshots", "macros",
					   "exposures", "metrics", "analyses", "semantic_models", "saved_queries",
					   "unit_tests", "data_tests", "groups", "functions", NULL };
static const char *const MODEL_KEYS[] = { "name", "description", "config", "columns", "tests", "data_tests",
					  "docs", "meta", "access", "constraints", "latest_version", "versions",
					  "deprecation_date", "group", "tags", "time_spine", "relation", NULL };
static const char *const COLUMN_KEYS[] = { "name", "description", "data_type", "tests", "data_tests", "meta",
					   "quote", "tags", "constraints", "granularity", "policy_tags", "config",
					   "tests_config", NULL };
static const char *const SOURCE_KEYS[] = { "name", "description", "database", "schema", "loader",
					   "loaded_at_field", "loaded_at_query", "meta", "tags", "config", "overrides",
					   "freshness", "quoting", "tables", NULL };
static const char *const TABLE_KEYS[] = { "name", "description", "identifier", "loaded_at_field",
					  "loaded_at_query", "meta", "tags", "config", "columns", "tests",
					  "data_tests", "freshness", "quoting", "external", NULL };

static void warn_columns(struct dbt_project *p, const struct ydoc *doc, const struct ynode *cols, const char *owner)
{
	for (size_t c = 0; cols && cols->kind == Y_SEQ && c < cols->n; c++) {
		char *what = xasprintf("a column of %s", owner);
		warn_unknown(p, doc, cols->items[c], COLUMN_KEYS, what);
		free(what);
	}
}

/* --- config merging ------------------------------------------------------------ */
static const char *norm_key(const char *k, char *buf, size_t size)
{
	if (*k == '+')
		k++;
	if (!strcmp(k, "pre_hook"))
		return "pre-hook";
	if (!strcmp(k, "post_hook"))
		return "post-hook";
	snprintf(buf, size, "%s", k);
	return buf;
}

/* Set key in cfg following dbt's merge rules (v is stolen). */
static void config_merge_one(struct jval cfg, const char *key_in, struct jval v)
{
	char buf[128];
	const char *key = norm_key(key_in, buf, sizeof(buf));
	int additive = !strcmp(key, "tags") || !strcmp(key, "pre-hook") || !strcmp(key, "post-hook");
	if (additive) {
		const struct jval *old = jval_dict_get(cfg, key);
		struct jval l = jval_list_new();
		if (old && old->type == JVAL_LIST)
			for (size_t i = 0; i < jval_len(*old); i++)
				jval_list_append(l, jval_ref(*jval_list_at(*old, i)));
		if (v.type == JVAL_LIST) {
			for (size_t i = 0; i < jval_len(v); i++) {
				const struct jval *it = jval_list_at(v, i);
				int dup = 0;
				for (size_t j = 0; !strcmp(key, "tags") && j < jval_len(l); j++)
					dup |= jval_equal(*jval_list_at(l, j), *it);
				if (!dup)
					jval_list_append(l, jval_ref(*it));
			}
		} else if (v.type == JVAL_STR) {
			int dup = 0;
			for (size_t j = 0; !strcmp(key, "tags") && j < jval_len(l); j++)
				dup |= jval_equal(*jval_list_at(l, j), v);
			if (!dup)
				jval_list_append(l, jval_ref(v));
		}
		jval_unref(v);
		jval_dict_set(cfg, key, l);
		return;
	}
	if (!strcmp(key, "meta") && v.type == JVAL_DICT) {
		const struct jval *old = jval_dict_get(cfg, key);
		if (old && old->type == JVAL_DICT) {
			struct jval m = jval_dict_new();
			const struct jval *k, *val;
			for (size_t i = 0; jval_dict_entry(*old, i, &k, &val); i++)
				jval_dict_setv(m, jval_ref(*k), jval_ref(*val));
			for (size_t i = 0; jval_dict_entry(v, i, &k, &val); i++)
				jval_dict_setv(m, jval_ref(*k), jval_ref(*val));
			jval_unref(v);
			v = m;
		}
	}
	jval_dict_set(cfg, key, v);
}

void dbt_config_merge_dict(struct jval cfg, struct jval add);
void dbt_config_merge_dict(struct jval cfg, struct jval add)
{
	const struct jval *k, *v;
	for (size_t i = 0; jval_dict_entry(add, i, &k, &v); i++)
		if (k->type == JVAL_STR)
			config_merge_one(cfg, jval_str_cstr(*k), jval_ref(*v));
}

static int is_config_key(const char *k, const struct ynode *v)
{
	static const char *const dict_configs[] = { "meta", "docs", "persist_docs", "column_types", "grants",
						    "quoting", "contract", "freshness", NULL };
	if (*k == '+')
		return 1;
	if (v->kind != Y_MAP)
		return 1;
	for (const char *const *d = dict_configs; *d; d++)
		if (!strcmp(k, *d))
			return 1;
	return 0;
}

static void apply_level(struct jval cfg, const struct ynode *level)
{
	if (!level || level->kind != Y_MAP)
		return;
	for (size_t i = 0; i < level->n; i++) {
		const struct ypair *pr = &level->pairs[i];
		if (is_config_key(pr->key->str, pr->value))
			config_merge_one(cfg, pr->key->str, dbt_yaml_value(pr->value));
	}
}

static const struct ynode *child_folder(const struct ynode *level, const char *name)
{
	if (!level || level->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < level->n; i++) {
		const struct ypair *pr = &level->pairs[i];
		if (!strcmp(pr->key->str, name) && !is_config_key(pr->key->str, pr->value))
			return pr->value;
	}
	return NULL;
}

/* The dbt_project.yml config for a node at fqn (project name first). */
static void apply_project_tree(struct jval cfg, const struct ynode *tree, const struct strvec *fqn)
{
	const struct ynode *level = tree;
	apply_level(cfg, level);
	for (size_t i = 0; i < fqn->nr && level; i++) {
		level = child_folder(level, fqn->v[i]);
		apply_level(cfg, level);
	}
}

/* --- nodes ------------------------------------------------------------------- */
/* The length of the UTF-8 code point at s (1 for a stray byte) and its value */
static size_t utf8_at(const unsigned char *s, size_t len, unsigned *cp)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 1;
	if (n > len)
		n = 1;
	*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++)
		*cp = *cp << 6 | (s[i] & 0x3f);
	return n;
}

/* Python's str.isspace(), which str.strip() strips */
static int py_space(unsigned c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	       c == 0x3000;
}

void dbt_py_strip(const char *buf, size_t len, size_t *start, size_t *end)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t b = 0, e = len;
	unsigned cp;
	while (b < e) {
		size_t k = utf8_at(u + b, e - b, &cp);
		if (!py_space(cp))
			break;
		b += k;
	}
	while (e > b) {
		size_t k = e - 1;
		while (k > b && (u[k] & 0xc0) == 0x80 && e - k < 4)
			k--;
		if (utf8_at(u + k, e - k, &cp) != e - k || !py_space(cp))
			break;
		e = k;
	}
	*start = b;
	*end = e;
}

/* dbt's FileHash.from_contents: SHA-256 of the file's text, stripped as
 * dbt's load_file_contents(strip=True) strips it */
static char *file_checksum(const char *buf, size_t len)
{
	size_t b, e;
	char hex[65];
	dbt_py_strip(buf, len, &b, &e);
	sha256_hex(buf + b, e - b, hex);
	return xstrdup(hex);
}

static struct dbt_node *node_new(struct dbt_project *p, enum node_kind kind)
{
	struct dbt_node *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->config = jval_dict_new();
	n->columns = jval_dict_new();
	n->test_kwargs = jval_dict_new();
	n->attached = -1;
	n->unit_model = -1;
	n->enabled = 1;
	n->mat = MAT_NONE;
	ALLOC_GROW(p->nodes, p->nr + 1, p->alloc);
	n->index = p->nr;
	p->nodes[p->nr++] = n;
	return n;
}

static void node_free(struct dbt_node *n)
{
	free(n->unique_id);
	free(n->name);
	free(n->path);
	free(n->file);
	free(n->abs_file);
	strvec_clear(&n->fqn);
	free(n->raw_sql);
	if (n->tmpl)
		jinja_template_unref(n->tmpl);
	jval_unref(n->config);
	jval_unref(n->columns);
	jval_unref(n->test_kwargs);
	jval_unref(n->freshness);
	free(n->database);
	free(n->schema);
	free(n->alias);
	free(n->description);
	strvec_clear(&n->refs);
	strvec_clear(&n->sources);
	free(n->parents);
	free(n->children);
	free(n->test_name);
	free(n->column_name);
	free(n->source_name);
	free(n->identifier);
	free(n->loaded_at_field);
	free(n->compiled_sql);
	free(n->load_error);
	free(n->package_name);
	free(n->version);
	free(n->latest_version);
	free(n->checksum);
	jval_unref(n->props);
	free(n);
}

struct dbt_node *dbt_project_find(const struct dbt_project *p, const char *key)
{
	const struct jval *v = jval_dict_get(p->by_name, key);
	return v && v->type == JVAL_INT ? p->nodes[v->u.i] : NULL;
}

static void index_node(struct dbt_project *p, struct dbt_node *n, const char *key)
{
	jval_dict_set(p->by_name, key, jval_int((int64_t)n->index));
}

const char *dbt_config_str(const struct dbt_node *n, const char *key)
{
	const struct jval *v = jval_dict_get(n->config, key);
	return v ? jval_str_cstr(*v) : NULL;
}

void dbt_node_relation_name(struct strbuf *sb, const struct dbt_node *n)
{
	if (n->database)
		strbuf_addf(sb, "%s.", n->database);
	strbuf_addf(sb, "%s.%s", n->schema ? n->schema : "", n->alias ? n->alias : n->name);
}

void dbt_node_relation_sql(struct strbuf *sb, const struct dbt_node *n)
{
	if (n->database) {
		strbuf_add_sql_ident(sb, n->database);
		strbuf_addch(sb, '.');
	}
	strbuf_add_sql_ident(sb, n->schema);
	strbuf_addch(sb, '.');
	strbuf_add_sql_ident(sb, n->alias ? n->alias : n->name);
}

/* fqn: project, the folders of path, then the name */
static void make_fqn(struct strvec *fqn, const char *project, const char *path, const char *name)
{
	strvec_push(fqn, project);
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		char *save, *part = strtok_r(copy, "/", &save);
		for (; part; part = strtok_r(NULL, "/", &save))
			strvec_push(fqn, part);
	}
	free(copy);
	strvec_push(fqn, name);
}

static char *basename_noext(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *dot = strrchr(b, '.');
	return dot ? xstrndup(b, (size_t)(dot - b)) : xstrdup(b);
}

static enum materialized mat_from(const char *s, enum materialized dflt)
{
	if (!s)
		return dflt;
	if (!strcmp(s, "view"))
		return MAT_VIEW;
	if (!strcmp(s, "table"))
		return MAT_TABLE;
	if (!strcmp(s, "incremental"))
		return MAT_INCREMENTAL;
	if (!strcmp(s, "ephemeral"))
		return MAT_EPHEMERAL;
	if (!strcmp(s, "seed"))
		return MAT_SEED;
	if (!strcmp(s, "test"))
		return MAT_TEST;
	return MAT_NONE;
}

/* --- profiles ----------------------------------------------------------------- */
static int load_profile(struct dbt_project *p, const struct dbt_load_opts *o, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, rendered = STRBUF_INIT;
	struct ydoc doc = { 0 };
	int ret = -1;
	const char *env_dir = getenv("DBT_PROFILES_DIR");
	if (o->profiles_dir) {
		fs_path_join(&path, o->profiles_dir, "profiles.yml");
	} else if (env_dir && *env_dir) {
		fs_path_join(&path, env_dir, "profiles.yml");
	} else {
		fs_path_join(&path, p->dir, "profiles.yml");
		if (!fs_exists(path.buf)) {
			const char *home = getenv("HOME");
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/.dbt/profiles.yml", home ? home : "");
		}
	}
	if (strbuf_read_file(&text, path.buf) < 0) {
		strbuf_addf(err, "cannot read the dbt profiles '%s': %s (pass --profiles-dir DIR)", path.buf,
			    strerror(errno));
		goto out;
	}
	/* profiles may use {{ env_var('X') }} */
	if (strstr(text.buf, "{{") || strstr(text.buf, "{%")) {
		struct strbuf e = STRBUF_INIT;
		struct jinja_template *t = jinja_template_parse(&p->env, "profiles.yml", text.buf, text.len, &e);
		if (!t || jinja_render(&p->env, t, jval_none(), &rendered, &e) < 0) {
			strbuf_addbuf(err, &e);
			strbuf_release(&e);
			if (t)
				jinja_template_unref(t);
			goto out;
		}
		jinja_template_unref(t);
		strbuf_release(&e);
		strbuf_reset(&text);
		strbuf_addbuf(&text, &rendered);
	}
	if (ydoc_parse(&doc, "profiles.yml", text.buf, text.len, err) < 0)
		goto out;
	const struct ynode *prof = ymap_get(doc.root, p->profile_name);
	if (!prof) {
		strbuf_addf(err, "profile '%s' (named in dbt_project.yml) is not in '%s'", p->profile_name, path.buf);
		goto out;
	}
	const char *tname = o->target ? o->target : ystr(prof, "target");
	if (!tname)
		tname = "dev";
	const struct ynode *out_node = ymap_get(ymap_get(prof, "outputs"), tname);
	if (!out_node) {
		strbuf_addf(err, "the profile '%s' has no target '%s' in '%s'", p->profile_name, tname, path.buf);
		goto out;
	}
	{
		/* dbt-duckdb's profile features that Dango does not apply yet:
		 * said, not ignored in silence */
		static const char *const later[] = { "plugins", "filesystems", "secrets", "module_paths", NULL };
		for (const char *const *k = later; *k; k++)
			if (ymap_get(out_node, *k))
				dbt_log(p, 2, "profiles.yml: '%s' of target '%s' is not supported by Dango yet: ignored", *k,
					tname);
	}
	{
		char *where = xasprintf("%s: target '%s'", path.buf, tname);
		int r = dbt_duckdb_profile_load(p, out_node, o->profiles_base, where, err);
		free(where);
		if (r < 0)
			goto out;
	}
	const char *type = ystr(out_node, "type");
	if (type && !strcmp(type, "postgres")) {
		/* a dbt-postgres target (pg_target.c) */
		p->target.profile = xstrdup(p->profile_name);
		p->target.name = xstrdup(tname);
		p->target.type = xstrdup(type);
		ret = dbt_pg_target_load(p, out_node, path.buf, tname, err);
		goto out;
	}
	if (!type || strcmp(type, "duckdb")) {
		strbuf_addf(err, "%s: target '%s' has type '%s': only 'duckdb' and 'postgres' are supported", path.buf, tname,
			    type ? type : "(none)");
		goto out;
	}
	p->target.profile = xstrdup(p->profile_name);
	p->target.name = xstrdup(tname);
	p->target.type = xstrdup(type);
	const char *schema = ystr(out_node, "schema");
	p->target.schema = xstrdup(schema ? schema : "main");
	const char *dbpath = ystr(out_node, "path");
	if (!dbpath)
		dbpath = ":memory:";
	if (!strcmp(dbpath, ":memory:") || dbpath[0] == '/') {
		p->target.path = xstrdup(dbpath);
	} else {
		struct strbuf abs = STRBUF_INIT;
		if (o->profiles_base) {
			struct strbuf joined = STRBUF_INIT;
			fs_path_join(&joined, o->profiles_base, dbpath);
			fs_absolute(&abs, joined.buf);
			strbuf_release(&joined);
		} else {
			fs_absolute(&abs, dbpath);
		}
		p->target.path = strbuf_detach(&abs, NULL);
	}
	/* DuckDB names the database after the file ("memory" in memory), and
	 * relations render with it: another name is dbt-duckdb's error */
	const char *db = ystr(out_node, "database");
	char *stem = !strcmp(p->target.path, ":memory:") ? xstrdup("memory") : basename_noext(p->target.path);
	if (db && strcmp(db, stem)) {
		strbuf_addf(err, "%s: profile '%s', target '%s': inconsistency detected between 'path' and "
			    "'database' fields in profile; the 'database' property must be set to '%s' to match "
			    "the 'path'", path.buf, p->profile_name, tname, stem);
		free(stem);
		goto out;
	}
	p->target.database = stem;
	int64_t th = 0;
	p->target.threads = ynode_int(ymap_get(out_node, "threads"), &th) == 0 && th > 0 ? (int)th : 4;
	ret = 0;
out:
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&rendered);
	return ret;
}

/* --- files ------------------------------------------------------------------- */
static int read_rel(struct dbt_project *p, const char *rel, struct strbuf *text, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	fs_path_join(&path, p->dir, rel);
	int r = strbuf_read_file(text, path.buf);
	if (r < 0)
		strbuf_addf(err, "%s: cannot read: %s", rel, strerror(errno));
	strbuf_release(&path);
	return r;
}

static int load_macro_dirs(struct dbt_project *p, const struct strvec *macro_paths, const char *const *exts,
			   struct strbuf *err);
static void record_macro_sql(struct dbt_project *p, const char *text);

static int load_macros(struct dbt_project *p, struct strbuf *err)
{
	static const char *const exts[] = { ".sql", NULL };
	/* generic tests may live in tests/generic/ too */
	struct strvec dirs = STRVEC_INIT;
	for (size_t d = 0; d < p->macro_paths.nr; d++)
		strvec_push(&dirs, p->macro_paths.v[d]);
	for (size_t d = 0; d < p->test_paths.nr; d++)
		strvec_pushf(&dirs, "%s/generic", p->test_paths.v[d]);
	int r = load_macro_dirs(p, &dirs, exts, err);
	strvec_clear(&dirs);
	return r;
}

static int load_macro_dirs(struct dbt_project *p, const struct strvec *macro_paths, const char *const *exts,
			   struct strbuf *err)
{
	for (size_t d = 0; d < macro_paths->nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT;
		fs_path_join(&base, p->dir, macro_paths->v[d]);
		fs_list_files(&files, base.buf, exts);
		for (size_t i = 0; i < files.nr; i++) {
			struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
			strbuf_addf(&rel, "%s/%s", macro_paths->v[d], files.v[i]);
			if (read_rel(p, rel.buf, &text, err) < 0) {
				strbuf_release(&rel);
				strbuf_release(&text);
				strvec_clear(&files);
				strbuf_release(&base);
				return -1;
			}
			struct jinja_template *t = jinja_template_parse(&p->env, rel.buf, text.buf, text.len, err);
			strbuf_release(&rel);
			if (t)
				record_macro_sql(p, text.buf);
			strbuf_release(&text);
			if (!t) {
				strvec_clear(&files);
				strbuf_release(&base);
				return -1;
			}
			struct jval tmp = jval_dict_new();
			p->nmacros += (size_t)jinja_template_macros(t, tmp);
			ALLOC_GROW(p->tmpls, p->ntmpls + 1, p->atmpls);
			p->tmpls[p->ntmpls++] = t;
			/* two macros of one name in the project are an error, as in dbt */
			const struct jval *k, *v;
			for (size_t m = 0; jval_dict_entry(tmp, m, &k, &v); m++) {
				if (jval_dict_get(p->macros, jval_str_cstr(*k))) {
					strbuf_addf(err, "%s: dbt found two macros named '%s' in the project",
						    jinja_template_file(t), jval_str_cstr(*k));
					jval_unref(tmp);
					strvec_clear(&files);
					strbuf_release(&base);
					return -1;
				}
				jval_dict_set(p->macros, jval_str_cstr(*k), jval_ref(*v));
			}
			jval_unref(tmp);
		}
		strvec_clear(&files);
		strbuf_release(&base);
	}
	return 0;
}

/* docs blocks from .md files in the model paths */
static int load_docs(struct dbt_project *p, struct strbuf *err)
{
	static const char *const exts[] = { ".md", NULL };
	for (size_t d = 0; d < p->model_paths.nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT;
		fs_path_join(&base, p->dir, p->model_paths.v[d]);
		fs_list_files(&files, base.buf, exts);
		int ret = 0;
		for (size_t i = 0; i < files.nr && !ret; i++) {
			struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
			strbuf_addf(&rel, "%s/%s", p->model_paths.v[d], files.v[i]);
			struct jinja_template *t = NULL;
			if (read_rel(p, rel.buf, &text, err) < 0 ||
			    !(t = jinja_template_parse(&p->env, rel.buf, text.buf, text.len, err))) {
				ret = -1;
			} else {
				for (size_t k = 0; k < jinja_template_doc_count(t) && !ret; k++) {
					struct strbuf body = STRBUF_INIT;
					const char *name = jinja_template_doc_name(t, k);
					if (jinja_render_doc(&p->env, t, name, jval_none(), &body, err) < 0)
						ret = -1;
					else
						jval_dict_set(p->docs, name, jval_str_from_buf(&body));
					strbuf_release(&body);
				}
			}
			if (t)
				jinja_template_unref(t);
			strbuf_release(&rel);
			strbuf_release(&text);
		}
		strvec_clear(&files);
		strbuf_release(&base);
		if (ret)
			return -1;
	}
	return 0;
}

static void node_set_file(struct dbt_project *p, struct dbt_node *n, const char *root, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	n->path = xstrdup(rel);
	strbuf_addf(&sb, "%s/%s", root, rel);
	n->file = strbuf_detach(&sb, NULL);
	fs_path_join(&sb, p->dir, n->file);
	n->abs_file = strbuf_detach(&sb, NULL);
}

/* Where nodes come from: the root project, or a package installed in
 * dbt_packages/ (its files under prefix, its own dbt_project.yml config
 * first, then the root project's, as dbt merges them). */
struct origin {
	const char *name;           /* the project's or the package's name */
	const char *package;        /* NULL for the root project */
	const char *prefix;         /* "" or "dbt_packages/x/" */
	struct strvec model_paths, seed_paths;
	const struct ynode *models_tree, *seeds_tree; /* the package's own */
};

static void origin_key(struct strbuf *sb, const struct origin *o, const char *name)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s.%s", o->name, name);
}

static int load_models(struct dbt_project *p, const struct origin *o, const struct ynode *tree, struct strbuf *err)
{
	static const char *const exts[] = { ".sql", ".py", NULL };
	for (size_t d = 0; d < o->model_paths.nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT, root = STRBUF_INIT, key = STRBUF_INIT;
		strbuf_addf(&root, "%s%s", o->prefix, o->model_paths.v[d]);
		fs_path_join(&base, p->dir, root.buf);
		fs_list_files(&files, base.buf, exts);
		strbuf_release(&base);
		for (size_t i = 0; i < files.nr; i++) {
			int python = ends_with(files.v[i], ".py");
			struct dbt_node *n = node_new(p, NODE_MODEL);
			node_set_file(p, n, root.buf, files.v[i]);
			n->name = basename_noext(files.v[i]);
			n->package_name = o->package ? xstrdup(o->package) : NULL;
			struct dbt_node *same = dbt_project_find(p, n->name);
			if (!o->package && same && same->kind == NODE_MODEL) {
				strbuf_addf(err, "dbt found two models with the name '%s': %s and %s", n->name,
					    same->file, n->file);
				strvec_clear(&files);
				strbuf_release(&root);
				strbuf_release(&key);
				return -1;
			}
			n->unique_id = xasprintf("model.%s.%s", o->name, n->name);
			make_fqn(&n->fqn, o->name, files.v[i], n->name);
			if (o->package)
				apply_project_tree(n->config, o->models_tree, &n->fqn);
			apply_project_tree(n->config, tree, &n->fqn);
			struct strbuf text = STRBUF_INIT;
			if (read_rel(p, n->file, &text, err) < 0) {
				strbuf_release(&text);
				strvec_clear(&files);
				return -1;
			}
			n->checksum = file_checksum(text.buf, text.len);
			if (python) {
				/* fails when it runs; the rest of the project runs */
				strbuf_release(&text);
				n->load_error = xasprintf("%s: Python models are not supported by Dango; write the model in SQL",
							   n->file);
				n->mat = MAT_TABLE;
			} else {
				n->raw_sql = strbuf_detach(&text, NULL);
			}
			/* ref('x') finds the root project's x first, then a package's */
			if (!o->package || !same)
				index_node(p, n, n->name);
			origin_key(&key, o, n->name);
			index_node(p, n, key.buf);
		}
		strvec_clear(&files);
		strbuf_release(&root);
		strbuf_release(&key);
	}
	return 0;
}

/* The end of a Jinja tag named word at s ("{%- snapshot x -%}"), or NULL;
 * *arg gets what follows the word. */
static const char *tag_at(const char *s, const char *word, const char **arg)
{
	if (s[0] != '{' || s[1] != '%')
		return NULL;
	s += 2;
	if (*s == '-' || *s == '+')
		s++;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t l = strlen(word);
	if (strncmp(s, word, l) || (isalnum((unsigned char)s[l]) || s[l] == '_'))
		return NULL;
	s += l;
	while (*s == ' ' || *s == '\t')
		s++;
	*arg = s;
	const char *e = strstr(s, "%}");
	return e ? e + 2 : NULL;
}

/* Where a project's or a package's snapshots and singular tests are: its
 * paths under prefix ("" or "dbt_packages/x/"), and the package's own
 * dbt_project.yml tree for them (applied before the root project's). */
struct node_dirs {
	const char *name, *package, *prefix;
	const struct strvec *paths;
	const struct ynode *own_tree;
};

/* The text of each {% macro name(...) %} ... {% endmacro %} in a macro
 * file, for state:modified.macros (dbt compares macro_sql). */
static void record_macro_sql(struct dbt_project *p, const char *text)
{
	for (const char *s = strstr(text, "{%"); s; s = strstr(s + 2, "{%")) {
		const char *arg, *end = tag_at(s, "macro", &arg);
		if (!end)
			continue;
		size_t l = 0;
		while (isalnum((unsigned char)arg[l]) || arg[l] == '_')
			l++;
		const char *close = NULL, *q;
		for (q = strstr(end, "{%"); q; q = strstr(q + 2, "{%")) {
			const char *a2;
			if ((close = tag_at(q, "endmacro", &a2)))
				break;
		}
		if (!l || !close)
			break;
		char *name = xstrndup(arg, l);
		jval_dict_set(p->macro_sql, name, jval_strn(s, (size_t)(close - s)));
		free(name);
		s = close - 2;
	}
}

/* Each {% snapshot name %} ... {% endsnapshot %} block of the snapshot
 * paths is a snapshot node; its body is the query. */
static int load_snapshots_of(struct dbt_project *p, const struct node_dirs *o, const struct ynode *tree,
			     struct strbuf *err)
{
	static const char *const exts[] = { ".sql", NULL };
	for (size_t d = 0; d < o->paths->nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT, root = STRBUF_INIT;
		strbuf_addf(&root, "%s%s", o->prefix, o->paths->v[d]);
		fs_path_join(&base, p->dir, root.buf);
		fs_list_files(&files, base.buf, exts);
		strbuf_release(&base);
		for (size_t i = 0; i < files.nr; i++) {
			struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
			strbuf_addf(&rel, "%s/%s", root.buf, files.v[i]);
			if (read_rel(p, rel.buf, &text, err) < 0) {
				strbuf_release(&rel);
				strbuf_release(&text);
				strvec_clear(&files);
				strbuf_release(&root);
				return -1;
			}
			for (const char *s = text.buf; (s = strstr(s, "{%"));) {
				const char *arg, *body = tag_at(s, "snapshot", &arg);
				if (!body) {
					s += 2;
					continue;
				}
				size_t len = 0;
				while (isalnum((unsigned char)arg[len]) || arg[len] == '_')
					len++;
				const char *e = body, *a2 = NULL;
				while ((e = strstr(e, "{%")) && !tag_at(e, "endsnapshot", &a2))
					e += 2;
				struct dbt_node *n = node_new(p, NODE_SNAPSHOT);
				node_set_file(p, n, root.buf, files.v[i]);
				n->name = xstrndup(arg, len);
				n->package_name = o->package ? xstrdup(o->package) : NULL;
				n->unique_id = xasprintf("snapshot.%s.%s", o->name, n->name);
				n->checksum = file_checksum(text.buf, text.len);
				{
					/* a snapshot's fqn has its file's name too, as dbt's */
					char *stem = xstrdup(files.v[i]);
					char *dot = strrchr(stem, '.');
					if (dot)
						*dot = '\0';
					char *fake = xasprintf("%s/%s.sql", stem, n->name);
					make_fqn(&n->fqn, o->name, fake, n->name);
					free(fake);
					free(stem);
				}
				if (o->own_tree)
					apply_project_tree(n->config, o->own_tree, &n->fqn);
				apply_project_tree(n->config, tree, &n->fqn);
				n->mat = MAT_SNAPSHOT;
				if (!len)
					n->load_error = xasprintf("%s: a snapshot block needs a name: {%% snapshot name %%}", n->file);
				else if (!e)
					n->load_error = xasprintf("%s: snapshot '%s' has no {%% endsnapshot %%}", n->file, n->name);
				else
					n->raw_sql = xstrndup(body, (size_t)(e - body));
				if (!dbt_project_find(p, n->name))
					index_node(p, n, n->name);
				if (!e)
					break;
				s = e + 2;
			}
			strbuf_release(&rel);
			strbuf_release(&text);
		}
		strvec_clear(&files);
		strbuf_release(&root);
	}
	return 0;
}

static int load_snapshots(struct dbt_project *p, const struct ynode *tree, struct strbuf *err)
{
	struct node_dirs o = { p->name, NULL, "", &p->snapshot_paths, NULL };
	return load_snapshots_of(p, &o, tree, err);
}

static int load_seeds(struct dbt_project *p, const struct origin *o, const struct ynode *tree)
{
	static const char *const exts[] = { ".csv", NULL };
	for (size_t d = 0; d < o->seed_paths.nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT, root = STRBUF_INIT, key = STRBUF_INIT;
		strbuf_addf(&root, "%s%s", o->prefix, o->seed_paths.v[d]);
		fs_path_join(&base, p->dir, root.buf);
		fs_list_files(&files, base.buf, exts);
		strbuf_release(&base);
		for (size_t i = 0; i < files.nr; i++) {
			struct dbt_node *n = node_new(p, NODE_SEED);
			node_set_file(p, n, root.buf, files.v[i]);
			n->name = basename_noext(files.v[i]);
			n->package_name = o->package ? xstrdup(o->package) : NULL;
			n->unique_id = xasprintf("seed.%s.%s", o->name, n->name);
			make_fqn(&n->fqn, o->name, files.v[i], n->name);
			if (o->package)
				apply_project_tree(n->config, o->seeds_tree, &n->fqn);
			apply_project_tree(n->config, tree, &n->fqn);
			n->mat = MAT_SEED;
			{
				/* dbt hashes a seed up to 1 MiB; a bigger one is known
				 * by its path (FileHash.path) */
				struct strbuf csv = STRBUF_INIT;
				struct stat st;
				if (stat(n->abs_file, &st) == 0 && st.st_size > DBT_MAX_SEED_SIZE) {
					n->checksum = xstrdup(n->file);
					n->checksum_name = "path";
				} else if (strbuf_read_file(&csv, n->abs_file) == 0) {
					n->checksum = file_checksum(csv.buf, csv.len);
				}
				strbuf_release(&csv);
			}
			if (!dbt_project_find(p, n->name))
				index_node(p, n, n->name);
			origin_key(&key, o, n->name);
			if (!dbt_project_find(p, key.buf))
				index_node(p, n, key.buf);
		}
		strvec_clear(&files);
		strbuf_release(&root);
		strbuf_release(&key);
	}
	return 0;
}

static void origin_paths(struct strvec *sv, const struct ynode *root, const char *key, const char *dflt)
{
	const struct ynode *n = ymap_get(root, key);
	if (n && n->kind == Y_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (n->items[i]->kind == Y_SCALAR)
				strvec_push(sv, n->items[i]->str);
	} else if (n && n->kind == Y_SCALAR && !ynode_is_null(n)) {
		strvec_push(sv, n->str);
	} else {
		strvec_push(sv, dflt);
	}
}

/* The models and seeds of the packages in dbt_packages/. */
static int load_package_nodes(struct dbt_project *p, const struct ynode *models_tree, const struct ynode *seeds_tree,
			      struct strbuf *err)
{
	int ret = 0;
	for (size_t k = 0; k < p->packages.nr && !ret; k++) {
		struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, prefix = STRBUF_INIT;
		struct ydoc doc = { 0 };
		strbuf_addf(&path, "%s/dbt_project.yml", p->package_dirs.v[k]);
		const char *dir = p->package_dirs.v[k];
		size_t dl = strlen(p->dir);
		/* the package's folder relative to the project: dbt_packages/x/ */
		if (!strncmp(dir, p->dir, dl) && dir[dl] == '/')
			strbuf_addf(&prefix, "%s/", dir + dl + 1);
		else
			strbuf_addf(&prefix, "%s/", dir);
		if (strbuf_read_file(&text, path.buf) == 0 &&
		    ydoc_parse(&doc, path.buf, text.buf, text.len, err) == 0) {
			struct origin o = { p->packages.v[k], p->packages.v[k], prefix.buf, STRVEC_INIT, STRVEC_INIT,
					    ymap_get(doc.root, "models"), ymap_get(doc.root, "seeds") };
			int restrict_access = 0;
			ynode_bool(ymap_get(doc.root, "restrict-access"), &restrict_access);
			if (restrict_access)
				strvec_push(&p->restrict_access, p->packages.v[k]);
			origin_paths(&o.model_paths, doc.root, "model-paths", "models");
			origin_paths(&o.seed_paths, doc.root, "seed-paths", "seeds");
			if (load_models(p, &o, models_tree, err) < 0 || load_seeds(p, &o, seeds_tree) < 0)
				ret = -1;
			for (size_t i = 0; i < o.model_paths.nr; i++)
				strvec_pushf(&p->pkg_schema_dirs, "%s%s", prefix.buf, o.model_paths.v[i]);
			for (size_t i = 0; i < o.seed_paths.nr; i++)
				strvec_pushf(&p->pkg_schema_dirs, "%s%s", prefix.buf, o.seed_paths.v[i]);
			strvec_clear(&o.model_paths);
			strvec_clear(&o.seed_paths);
		} else if (err->len) {
			ret = -1;
		}
		ydoc_release(&doc);
		strbuf_release(&path);
		strbuf_release(&text);
		strbuf_release(&prefix);
	}
	return ret;
}

static int load_singular_tests_of(struct dbt_project *p, const struct node_dirs *o, const struct ynode *tree,
				  struct strbuf *err)
{
	static const char *const exts[] = { ".sql", NULL };
	for (size_t d = 0; d < o->paths->nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT, root = STRBUF_INIT;
		strbuf_addf(&root, "%s%s", o->prefix, o->paths->v[d]);
		fs_path_join(&base, p->dir, root.buf);
		fs_list_files(&files, base.buf, exts);
		strbuf_release(&base);
		for (size_t i = 0; i < files.nr; i++) {
			if (starts_with(files.v[i], "generic/"))
				continue; /* generic test definitions, read as macros */
			struct dbt_node *n = node_new(p, NODE_TEST);
			node_set_file(p, n, root.buf, files.v[i]);
			n->name = basename_noext(files.v[i]);
			n->package_name = o->package ? xstrdup(o->package) : NULL;
			n->unique_id = xasprintf("test.%s.%s", o->name, n->name);
			make_fqn(&n->fqn, o->name, files.v[i], n->name);
			if (o->own_tree)
				apply_project_tree(n->config, o->own_tree, &n->fqn);
			apply_project_tree(n->config, tree, &n->fqn);
			n->mat = MAT_TEST;
			struct strbuf text = STRBUF_INIT;
			if (read_rel(p, n->file, &text, err) < 0) {
				strbuf_release(&text);
				strvec_clear(&files);
				strbuf_release(&root);
				return -1;
			}
			n->checksum = file_checksum(text.buf, text.len);
			n->raw_sql = strbuf_detach(&text, NULL);
		}
		strvec_clear(&files);
		strbuf_release(&root);
	}
	return 0;
}

/* Analyses: SQL in the analysis paths, compiled by `dango compile` into
 * target/compiled/, never run (dbt's fqn: project, "analysis", folders). */
static int load_analyses(struct dbt_project *p, struct strbuf *err)
{
	static const char *const exts[] = { ".sql", NULL };
	for (size_t d = 0; d < p->analysis_paths.nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT;
		fs_path_join(&base, p->dir, p->analysis_paths.v[d]);
		fs_list_files(&files, base.buf, exts);
		strbuf_release(&base);
		for (size_t i = 0; i < files.nr; i++) {
			struct dbt_node *n = node_new(p, NODE_ANALYSIS);
			node_set_file(p, n, p->analysis_paths.v[d], files.v[i]);
			n->name = basename_noext(files.v[i]);
			n->unique_id = xasprintf("analysis.%s.%s", p->name, n->name);
			struct strbuf rel = STRBUF_INIT;
			strbuf_addf(&rel, "analysis/%s", files.v[i]);
			make_fqn(&n->fqn, p->name, rel.buf, n->name);
			strbuf_release(&rel);
			struct strbuf text = STRBUF_INIT;
			if (read_rel(p, n->file, &text, err) < 0) {
				strbuf_release(&text);
				strvec_clear(&files);
				return -1;
			}
			n->checksum = file_checksum(text.buf, text.len);
			n->raw_sql = strbuf_detach(&text, NULL);
		}
		strvec_clear(&files);
	}
	return 0;
}

static int load_singular_tests(struct dbt_project *p, const struct ynode *tree, struct strbuf *err)
{
	struct node_dirs o = { p->name, NULL, "", &p->test_paths, NULL };
	return load_singular_tests_of(p, &o, tree, err);
}

/* A package's snapshots and singular tests, as dbt builds them with the
 * package's own config first, then the root project's. */
static int load_package_tests_snapshots(struct dbt_project *p, const struct ynode *root_tests,
					const struct ynode *root_snapshots, struct strbuf *err)
{
	int ret = 0;
	for (size_t k = 0; k < p->packages.nr && !ret; k++) {
		struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, prefix = STRBUF_INIT;
		struct ydoc doc = { 0 };
		struct strvec tp = STRVEC_INIT, sp = STRVEC_INIT;
		const char *dir = p->package_dirs.v[k];
		size_t dl = strlen(p->dir);
		strbuf_addf(&path, "%s/dbt_project.yml", dir);
		if (!strncmp(dir, p->dir, dl) && dir[dl] == '/')
			strbuf_addf(&prefix, "%s/", dir + dl + 1);
		else
			strbuf_addf(&prefix, "%s/", dir);
		if (strbuf_read_file(&text, path.buf) == 0 && ydoc_parse(&doc, path.buf, text.buf, text.len, err) == 0) {
			const struct ynode *own_tests = ymap_get(doc.root, "data_tests");
			if (!own_tests)
				own_tests = ymap_get(doc.root, "tests");
			origin_paths(&tp, doc.root, "test-paths", "tests");
			origin_paths(&sp, doc.root, "snapshot-paths", "snapshots");
			struct node_dirs t = { p->packages.v[k], p->packages.v[k], prefix.buf, &tp, own_tests };
			struct node_dirs s = { p->packages.v[k], p->packages.v[k], prefix.buf, &sp,
					       ymap_get(doc.root, "snapshots") };
			if (load_snapshots_of(p, &s, root_snapshots, err) < 0 ||
			    load_singular_tests_of(p, &t, root_tests, err) < 0)
				ret = -1;
		} else if (err->len) {
			ret = -1;
		}
		strvec_clear(&tp);
		strvec_clear(&sp);
		ydoc_release(&doc);
		strbuf_release(&path);
		strbuf_release(&text);
		strbuf_release(&prefix);
	}
	return ret;
}

/* --- schema.yml -------------------------------------------------------------- */
struct yml_file {
	struct ydoc doc;
	char *rel;      /* models/schema.yml */
	char *dirpath;  /* the folder relative to its resource path: "staging" or "" */
};

static char *render_description(struct dbt_project *p, const char *s)
{
	if (!s)
		return NULL;
	if (!strstr(s, "{{"))
		return xstrdup(s);
	struct strbuf out = STRBUF_INIT, e = STRBUF_INIT;
	if (dbt_render_string(p, NULL, NULL, 0, "description", s, &out, &e) < 0) {
		strbuf_release(&out);
		strbuf_release(&e);
		return xstrdup(s);
	}
	strbuf_release(&e);
	return strbuf_detach(&out, NULL);
}

static void columns_from(struct dbt_project *p, struct dbt_node *n, const struct ynode *cols)
{
	if (!cols || cols->kind != Y_SEQ)
		return;
	for (size_t i = 0; i < cols->n; i++) {
		const char *cname = ystr(cols->items[i], "name");
		if (!cname)
			continue;
		struct jval c = jval_dict_new();
		jval_dict_set(c, "name", jval_str(cname));
		char *desc = render_description(p, ystr(cols->items[i], "description"));
		jval_dict_set(c, "description", jval_str(desc ? desc : ""));
		free(desc);
		const char *dt = ystr(cols->items[i], "data_type");
		jval_dict_set(c, "data_type", dt ? jval_str(dt) : jval_none());
		const struct ynode *cons = ymap_get(cols->items[i], "constraints");
		jval_dict_set(c, "constraints", cons && cons->kind == Y_SEQ ? dbt_yaml_value(cons) : jval_list_new());
		jval_dict_set(n->columns, cname, c);
	}
}

static void test_name_part(struct strbuf *sb, struct jval v)
{
	if (v.type == JVAL_LIST) {
		for (size_t i = 0; i < jval_len(v); i++) {
			if (sb->len)
				strbuf_addstr(sb, "__");
			test_name_part(sb, *jval_list_at(v, i));
		}
		return;
	}
	if (v.type == JVAL_DICT) {
		const struct jval *k, *val;
		for (size_t i = 0; jval_dict_entry(v, i, &k, &val); i++) {
			if (sb->len)
				strbuf_addstr(sb, "__");
			test_name_part(sb, *val);
		}
		return;
	}
	struct strbuf raw = STRBUF_INIT;
	jval_write_str(&raw, v);
	int in_bad = 0;
	for (size_t i = 0; i < raw.len; i++) {
		unsigned char c = (unsigned char)raw.buf[i];
		if (isalnum(c) || c == '_') {
			strbuf_addch(sb, (char)c);
			in_bad = 0;
		} else if (!in_bad) {
			strbuf_addch(sb, '_');
			in_bad = 1;
		}
	}
	strbuf_release(&raw);
}

static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int cmp_jkeys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A generic test node for target (a model, seed or source) and an entry of
 * its tests: list. */

/* The quoted string arguments of a call at p (just past its "("), up to 2. */
static int call_args(const char *p, char args[2][256])
{
	int n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p != '\'' && *p != '"')
			return n;
		char q = *p++;
		size_t len = 0;
		while (*p && *p != q && len < 255)
			args[n][len++] = *p++;
		args[n][len] = '\0';
		if (*p != q)
			return n;
		p++;
		if (++n == 2)
			return n;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p != ',')
			return n;
		p++;
	}
}

/* Literal ref('x') / ref('pkg', 'x') / source('s', 't') calls in a test
 * argument, recorded as the test's dependencies (dbt finds them by
 * rendering the arguments at parse time). */
static void collect_arg_refs(struct dbt_node *n, const char *expr)
{
	for (const char *p = expr; (p = strpbrk(p, "rs")); p++) {
		int is_ref = !strncmp(p, "ref(", 4), is_src = !strncmp(p, "source(", 7);
		if ((!is_ref && !is_src) || (p > expr && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.')))
			continue;
		char args[2][256];
		int k = call_args(p + (is_ref ? 4 : 7), args);
		if (is_ref && k == 1)
			strvec_push(&n->refs, args[0]);
		else if (is_ref && k == 2)
			strvec_pushf(&n->refs, "%s.%s", args[0], args[1]);
		else if (is_src && k == 2)
			strvec_pushf(&n->sources, "%s.%s", args[0], args[1]);
	}
}

static int add_generic_test(struct dbt_project *p, struct yml_file *f, struct dbt_node *target,
			    const char *column, const struct ynode *entry, const struct ynode *tests_tree,
			    struct strbuf *err)
{
	const char *tname = NULL;
	const struct ynode *args = NULL;
	if (entry->kind == Y_SCALAR) {
		tname = entry->str;
	} else if (entry->kind == Y_MAP && entry->n >= 1) {
		if (ymap_get(entry, "test_name")) {
			tname = ystr(entry, "test_name");
			args = entry;
		} else {
			tname = entry->pairs[0].key->str;
			args = entry->pairs[0].value;
		}
	}
	if (!tname) {
		ynode_where(err, &f->doc, entry);
		strbuf_addstr(err, "a test must be a name or a mapping of one name to its arguments");
		return -1;
	}
	struct dbt_node *n = node_new(p, NODE_TEST);
	n->mat = MAT_TEST;
	n->test_name = xstrdup(tname);
	n->column_name = column ? xstrdup(column) : NULL;
	n->attached = (long)target->index;
	n->file = xstrdup(f->rel);
	n->path = xstrdup(f->rel);
	n->abs_file = NULL;
	struct jval cfg_extra = jval_dict_new();
	const char *custom_name = NULL;
	if (args && args->kind == Y_MAP) {
		for (size_t i = 0; i < args->n; i++) {
			const char *k = args->pairs[i].key->str;
			const struct ynode *v = args->pairs[i].value;
			if (!strcmp(k, "config")) {
				struct jval c = dbt_yaml_value(v);
				dbt_config_merge_dict(cfg_extra, c);
				jval_unref(c);
			} else if (!strcmp(k, "arguments") && v->kind == Y_MAP) {
				for (size_t j = 0; j < v->n; j++)
					jval_dict_set(n->test_kwargs, v->pairs[j].key->str, dbt_yaml_value(v->pairs[j].value));
			} else if (!strcmp(k, "name")) {
				custom_name = v->str;
			} else if (!strcmp(k, "test_name")) {
			} else if (!strcmp(k, "severity") || !strcmp(k, "where") || !strcmp(k, "warn_if") ||
				   !strcmp(k, "error_if") || !strcmp(k, "tags") || !strcmp(k, "enabled") ||
				   !strcmp(k, "limit") || !strcmp(k, "store_failures") || !strcmp(k, "meta")) {
				config_merge_one(cfg_extra, k, dbt_yaml_value(v));
			} else {
				jval_dict_set(n->test_kwargs, k, dbt_yaml_value(v));
			}
		}
	}
	if (column)
		jval_dict_set(n->test_kwargs, "column_name", jval_str(column));
	/* refs and sources in the arguments (relationships' `to: ref('x')`) are
	 * dependencies too: the test must wait for them */
	{
		const struct jval *ak, *av;
		for (size_t i = 0; jval_dict_entry(n->test_kwargs, i, &ak, &av); i++)
			if (jval_str_cstr(*av))
				collect_arg_refs(n, jval_str_cstr(*av));
	}
	/* dbt's name: test_target_arg1__arg2, args in key order */
	struct strbuf name = STRBUF_INIT, flat = STRBUF_INIT;
	size_t nk = jval_len(n->test_kwargs);
	const char **keys = xcalloc(nk ? nk : 1, sizeof(*keys));
	const struct jval *k, *v;
	for (size_t i = 0; jval_dict_entry(n->test_kwargs, i, &k, &v); i++)
		keys[i] = jval_str_cstr(*k);
	qsort(keys, nk, sizeof(*keys), cmp_jkeys);
	for (size_t i = 0; i < nk; i++) {
		if (flat.len)
			strbuf_addstr(&flat, "__");
		struct strbuf part = STRBUF_INIT;
		test_name_part(&part, *jval_dict_get(n->test_kwargs, keys[i]));
		strbuf_addbuf(&flat, &part);
		strbuf_release(&part);
	}
	free(keys);
	/* dbt_utils.equality names its tests dbt_utils_equality_... */
	char *flat_tname = xstrdup(tname);
	for (char *c = flat_tname; *c; c++)
		if (*c == '.')
			*c = '_';
	if (target->kind == NODE_SOURCE)
		strbuf_addf(&name, "source_%s_%s_%s", flat_tname, target->source_name, target->name);
	else
		strbuf_addf(&name, "%s_%s", flat_tname, target->name);
	free(flat_tname);
	if (flat.len)
		strbuf_addf(&name, "_%s", flat.buf);
	if (custom_name) {
		strbuf_reset(&name);
		strbuf_addstr(&name, custom_name);
	} else if (name.len >= 64) {
		char hash[16];
		snprintf(hash, sizeof(hash), "%08x", fnv(name.buf));
		strbuf_setlen(&name, 30);
		strbuf_addf(&name, "_%s", hash);
	}
	n->name = strbuf_detach(&name, NULL);
	strbuf_release(&flat);
	n->unique_id = xasprintf("test.%s.%s.%010x", p->name, n->name, fnv(n->file) & 0xfffffff);
	make_fqn(&n->fqn, p->name, n->path, n->name);
	/* fqn of a generic test: project, the yml's folders, the test name */
	strvec_clear(&n->fqn);
	strvec_push(&n->fqn, p->name);
	for (size_t i = 1; i + 1 < target->fqn.nr && target->kind != NODE_SOURCE; i++)
		strvec_push(&n->fqn, target->fqn.v[i]);
	strvec_push(&n->fqn, n->name);
	apply_project_tree(n->config, tests_tree, &n->fqn);
	dbt_config_merge_dict(n->config, cfg_extra);
	jval_unref(cfg_extra);
	const struct jval *en = jval_dict_get(n->config, "enabled");
	if (en && en->type == JVAL_BOOL && !en->u.b)
		n->enabled = 0;
	return 0;
}

static int tests_of(struct dbt_project *p, struct yml_file *f, struct dbt_node *target, const char *column,
		    const struct ynode *holder, const struct ynode *tests_tree, struct strbuf *err)
{
	static const char *const keys[] = { "tests", "data_tests" };
	for (size_t k = 0; k < 2; k++) {
		const struct ynode *list = ymap_get(holder, keys[k]);
		if (!list || ynode_is_null(list))
			continue;
		if (list->kind != Y_SEQ) {
			ynode_where(err, &f->doc, list);
			strbuf_addf(err, "'%s' must be a list", keys[k]);
			return -1;
		}
		for (size_t i = 0; i < list->n; i++)
			if (add_generic_test(p, f, target, column, list->items[i], tests_tree, err) < 0)
				return -1;
	}
	return 0;
}


/* The tests of one column. With `quote: true` the column reaches its tests
 * quoted, as dbt does (a column named "order" or "Order ID"). */
static int column_tests(struct dbt_project *p, struct yml_file *f, struct dbt_node *n, const struct ynode *col,
			const struct ynode *tests_tree, struct strbuf *err)
{
	const char *cname = ystr(col, "name");
	int quote = 0, ret;
	if (!cname)
		return 0;
	ynode_bool(ymap_get(col, "quote"), &quote);
	if (!quote)
		return tests_of(p, f, n, cname, col, tests_tree, err);
	struct strbuf q = STRBUF_INIT;
	strbuf_add_sql_ident(&q, cname);
	ret = tests_of(p, f, n, q.buf, col, tests_tree, err);
	strbuf_release(&q);
	return ret;
}

/* The properties of one model (or seed, snapshot) entry on node n; ver
 * is the entry of one of its versions, or NULL. */
static void apply_entry(struct dbt_project *p, struct dbt_node *n, const struct ynode *m, const struct ynode *ver);
static int apply_entry_tests(struct dbt_project *p, struct yml_file *f, struct dbt_node *n, const struct ynode *m,
			     const struct ynode *ver, const struct ynode *tests_tree, struct strbuf *err);

/* Is column name kept in version ver: its `columns:` may hold
 * {include: all | [..], exclude: [..]} over the model's columns. */
static int version_keeps(const struct ynode *ver, const char *name)
{
	const struct ynode *cols = ver ? ymap_get(ver, "columns") : NULL;
	for (size_t i = 0; cols && cols->kind == Y_SEQ && i < cols->n; i++) {
		const struct ynode *c = cols->items[i];
		const struct ynode *inc = ymap_get(c, "include"), *exc = ymap_get(c, "exclude");
		if (!inc && !exc)
			continue;
		int kept = 1;
		if (inc && inc->kind == Y_SEQ) {
			kept = 0;
			for (size_t k = 0; k < inc->n; k++)
				kept |= inc->items[k]->kind == Y_SCALAR && !strcmp(inc->items[k]->str, name);
		} else if (inc && inc->kind == Y_SCALAR && strcmp(inc->str, "all") && strcmp(inc->str, "*")) {
			kept = 0;
		}
		for (size_t k = 0; exc && exc->kind == Y_SEQ && k < exc->n; k++)
			if (exc->items[k]->kind == Y_SCALAR && !strcmp(exc->items[k]->str, name))
				kept = 0;
		return kept;
	}
	return 1;
}

/* A version identifier as text: 2, 1.5, "beta" */
static char *version_text(const struct ynode *v)
{
	if (!v || v->kind != Y_SCALAR || ynode_is_null(v) || !*v->str)
		return NULL;
	return xstrdup(v->str);
}

/* `versions:` of model name: each version is a node of its own, read from
 * <name>_v<v>.sql (or defined_in), named name with version v, built as
 * <name>_v<v> unless aliased; ref('name') is the latest version. dbt makes
 * no unversioned relation for the latest (that is a post-hook's job). */
static int model_versions(struct dbt_project *p, struct yml_file *f, const struct ynode *m, const char *name,
			  const struct ynode *tests_tree, struct strbuf *err)
{
	const struct ynode *vers = ymap_get(m, "versions");
	if (vers->kind != Y_SEQ) {
		ynode_where(err, &f->doc, vers);
		strbuf_addf(err, "'versions' of model '%s' must be a list", name);
		return -1;
	}
	char *latest = version_text(ymap_get(m, "latest_version"));
	if (!latest)
		for (size_t i = 0; i < vers->n; i++) {
			char *v = version_text(ymap_get(vers->items[i], "v"));
			if (v && (!latest || dbt_version_cmp(v, latest) > 0)) {
				free(latest);
				latest = v;
			} else {
				free(v);
			}
		}
	int ret = -1, found_latest = 0;
	for (size_t i = 0; i < vers->n; i++) {
		const struct ynode *ver = vers->items[i];
		char *v = version_text(ymap_get(ver, "v"));
		if (!v) {
			ynode_where(err, &f->doc, ver);
			strbuf_addf(err, "a version of model '%s' has no 'v'", name);
			goto out;
		}
		const char *defined_in = ystr(ver, "defined_in");
		char *file = defined_in ? xstrdup(defined_in) : xasprintf("%s_v%s", name, v);
		struct dbt_node *n = dbt_project_find(p, file);
		/* the latest version may live in the unsuffixed file, as dbt allows */
		if ((!n || n->kind != NODE_MODEL || n->version) && !defined_in && !strcmp(v, latest))
			n = dbt_project_find(p, name);
		if (!n || n->kind != NODE_MODEL || n->version) {
			/* dbt warns and goes on */
			dbt_log(p, 2, "Did not find matching node for patch with name '%s' in the 'models' section of file '%s'",
				file, f->rel);
			found_latest |= !strcmp(v, latest);
			free(file);
			free(v);
			continue;
		}
		found_latest |= !strcmp(v, latest);
		/* the tests are named after the versioned name, as dbt's */
		free(n->name);
		n->name = xasprintf("%s_v%s", name, v);
		apply_entry(p, n, m, ver);
		if (apply_entry_tests(p, f, n, m, ver, tests_tree, err) < 0) {
			free(file);
			free(v);
			goto out;
		}
		free(n->name);
		n->name = xstrdup(name);
		n->version = v;
		n->latest_version = xstrdup(latest);
		free(n->unique_id);
		n->unique_id = xasprintf("model.%s.%s.v%s", n->package_name ? n->package_name : p->name, name, v);
		/* fqn: the folders, the model's name, then v<v> */
		free(n->fqn.v[n->fqn.nr - 1]);
		n->fqn.v[n->fqn.nr - 1] = xstrdup(name);
		strvec_pushf(&n->fqn, "v%s", v);
		char *key = dbt_version_key(name, v);
		index_node(p, n, key);
		free(key);
		if (!strcmp(v, latest)) {
			index_node(p, n, name);
			char *pk = xasprintf("%s.%s", n->package_name ? n->package_name : p->name, name);
			index_node(p, n, pk);
			free(pk);
		}
		free(file);
	}
	if (!found_latest) {
		ynode_where(err, &f->doc, m);
		strbuf_addf(err, "model '%s': latest_version %s is not one of its versions", name, latest);
		goto out;
	}
	ret = 0;
out:
	free(latest);
	return ret;
}

static void apply_entry(struct dbt_project *p, struct dbt_node *n, const struct ynode *m, const struct ynode *ver)
{
	const char *dsrc = ver && ystr(ver, "description") ? ystr(ver, "description") : ystr(m, "description");
	char *desc = render_description(p, dsrc);
	if (desc) {
		free(n->description);
		n->description = desc;
	}
	/* access and group as top-level keys (before dbt 1.10) are config */
	static const char *const top[] = { "access", "group" };
	for (int pass = 0; pass < 2; pass++) {
		const struct ynode *e = pass ? ver : m;
		if (!e)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(top); k++) {
			const char *val = ystr(e, top[k]);
			if (val)
				jval_dict_set(n->config, top[k], jval_str(val));
		}
		const struct ynode *cfg = ymap_get(e, "config");
		if (cfg && cfg->kind == Y_MAP) {
			struct jval c = dbt_yaml_value(cfg);
			dbt_config_merge_dict(n->config, c);
			jval_unref(c);
		}
	}
	const struct ynode *cols = ymap_get(m, "columns");
	if (!ver) {
		columns_from(p, n, cols);
	} else {
		/* the model's columns this version keeps, then its own */
		for (size_t c = 0; cols && cols->kind == Y_SEQ && c < cols->n; c++) {
			const char *cn = ystr(cols->items[c], "name");
			if (cn && version_keeps(ver, cn)) {
				struct ynode one = { 0 };
				struct ynode *items[1] = { cols->items[c] };
				one.kind = Y_SEQ;
				one.items = items;
				one.n = 1;
				columns_from(p, n, &one);
			}
		}
		const struct ynode *own = ymap_get(ver, "columns");
		for (size_t c = 0; own && own->kind == Y_SEQ && c < own->n; c++) {
			if (!ystr(own->items[c], "name"))
				continue;
			struct ynode one = { 0 };
			struct ynode *items[1] = { own->items[c] };
			one.kind = Y_SEQ;
			one.items = items;
			one.n = 1;
			columns_from(p, n, &one);
		}
	}
	/* model-level constraints, for the contract's DDL */
	const struct ynode *cons = ver && ymap_get(ver, "constraints") ? ymap_get(ver, "constraints")
								    : ymap_get(m, "constraints");
	if (cons && cons->kind == Y_SEQ)
		jval_dict_set(n->config, "__constraints", dbt_yaml_value(cons));
}

static int apply_entry_tests(struct dbt_project *p, struct yml_file *f, struct dbt_node *n, const struct ynode *m,
			     const struct ynode *ver, const struct ynode *tests_tree, struct strbuf *err)
{
	if (tests_of(p, f, n, NULL, ver && (ymap_get(ver, "tests") || ymap_get(ver, "data_tests")) ? ver : m,
		     tests_tree, err) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		const struct ynode *cols = ymap_get(pass ? ver : m, "columns");
		if (pass && !ver)
			break;
		for (size_t c = 0; cols && cols->kind == Y_SEQ && c < cols->n; c++) {
			const char *cn = ystr(cols->items[c], "name");
			if (!cn || (!pass && ver && !version_keeps(ver, cn)))
				continue;
			if (column_tests(p, f, n, cols->items[c], tests_tree, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int schema_models(struct dbt_project *p, struct yml_file *f, const char *section, enum node_kind kind,
			 const struct ynode *tests_tree, struct strbuf *err)
{
	const struct ynode *list = ymap_get(f->doc.root, section);
	if (!list || ynode_is_null(list))
		return 0;
	if (list->kind != Y_SEQ) {
		ynode_where(err, &f->doc, list);
		strbuf_addf(err, "'%s' must be a list", section);
		return -1;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *m = list->items[i];
		const char *name = ystr(m, "name");
		if (!name) {
			ynode_where(err, &f->doc, m);
			strbuf_addf(err, "an entry of '%s' has no name", section);
			return -1;
		}
		{
			char *what = xasprintf("%s '%s'", dbt_node_kind_name(kind), name);
			warn_unknown(p, &f->doc, m, MODEL_KEYS, what);
			warn_columns(p, &f->doc, ymap_get(m, "columns"), what);
			free(what);
		}
		const struct ynode *vers = ymap_get(m, "versions");
		if (kind == NODE_MODEL && vers && !ynode_is_null(vers)) {
			if (model_versions(p, f, m, name, tests_tree, err) < 0)
				return -1;
			continue;
		}
		struct dbt_node *n = dbt_project_find(p, name);
		if (!n || n->kind != kind) {
			/* dbt warns and goes on: a doc for a model that is not there */
			dbt_log(p, 1, "%s: '%s' %s is described but has no file", f->rel, name, dbt_node_kind_name(kind));
			continue;
		}
		apply_entry(p, n, m, NULL);
		if (apply_entry_tests(p, f, n, m, NULL, tests_tree, err) < 0)
			return -1;
	}
	return 0;
}

static int schema_sources(struct dbt_project *p, struct yml_file *f, const struct ynode *tests_tree,
			  struct strbuf *err)
{
	const struct ynode *list = ymap_get(f->doc.root, "sources");
	if (!list || ynode_is_null(list))
		return 0;
	if (list->kind != Y_SEQ) {
		ynode_where(err, &f->doc, list);
		strbuf_addstr(err, "'sources' must be a list");
		return -1;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *s = list->items[i];
		const char *sname = ystr(s, "name");
		if (!sname) {
			ynode_where(err, &f->doc, s);
			strbuf_addstr(err, "a source has no name");
			return -1;
		}
		const char *schema = ystr(s, "schema");
		const char *database = ystr(s, "database");
		{
			char *what = xasprintf("source '%s'", sname);
			warn_unknown(p, &f->doc, s, SOURCE_KEYS, what);
			free(what);
		}
		const struct ynode *tables = ymap_get(s, "tables");
		for (size_t t = 0; tables && tables->kind == Y_SEQ && t < tables->n; t++) {
			const struct ynode *tb = tables->items[t];
			const char *tname = ystr(tb, "name");
			if (!tname) {
				ynode_where(err, &f->doc, tb);
				strbuf_addf(err, "a table of source '%s' has no name", sname);
				return -1;
			}
			{
				char *what = xasprintf("source table '%s.%s'", sname, tname);
				warn_unknown(p, &f->doc, tb, TABLE_KEYS, what);
				warn_columns(p, &f->doc, ymap_get(tb, "columns"), what);
				free(what);
			}
			struct dbt_node *n = node_new(p, NODE_SOURCE);
			n->name = xstrdup(tname);
			n->source_name = xstrdup(sname);
			const char *ident = ystr(tb, "identifier");
			n->identifier = xstrdup(ident ? ident : tname);
			n->schema = xstrdup(schema ? schema : sname);
			n->alias = xstrdup(n->identifier);
			n->database = database ? xstrdup(database) : NULL;
			n->file = xstrdup(f->rel);
			n->path = xstrdup(f->rel);
			n->unique_id = xasprintf("source.%s.%s.%s", p->name, sname, tname);
			strvec_push(&n->fqn, p->name);
			if (*f->dirpath) {
				char *copy = xstrdup(f->dirpath), *save, *part;
				for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
					strvec_push(&n->fqn, part);
				free(copy);
			}
			strvec_push(&n->fqn, sname);
			strvec_push(&n->fqn, tname);
			char *desc = render_description(p, ystr(tb, "description"));
			n->description = desc;
			const char *laf = ystr(tb, "loaded_at_field");
			if (!laf)
				laf = ystr(s, "loaded_at_field");
			n->loaded_at_field = laf ? xstrdup(laf) : NULL;
			const struct ynode *fr = ymap_get(tb, "freshness");
			if (!fr)
				fr = ymap_get(s, "freshness");
			n->freshness = fr ? dbt_yaml_value(fr) : jval_none();
			columns_from(p, n, ymap_get(tb, "columns"));
			{
				/* config and dbt-duckdb's external_location (external.c) */
				struct jval sv = jval_dict_new(), tv = jval_dict_new();
				static const char *const keys[] = { "meta", "config", "tags", NULL };
				for (const char *const *k = keys; *k; k++) {
					if (ymap_get(s, *k))
						jval_dict_set(sv, *k, dbt_yaml_value(ymap_get(s, *k)));
					if (ymap_get(tb, *k))
						jval_dict_set(tv, *k, dbt_yaml_value(ymap_get(tb, *k)));
				}
				int r = dbt_source_external(p, n, sv, tv, err);
				jval_unref(sv);
				jval_unref(tv);
				if (r < 0)
					return -1;
			}
			struct strbuf key = STRBUF_INIT;
			strbuf_addf(&key, "source:%s.%s", sname, tname);
			index_node(p, n, key.buf);
			strbuf_release(&key);
			if (tests_of(p, f, n, NULL, tb, tests_tree, err) < 0)
				return -1;
			const struct ynode *cols = ymap_get(tb, "columns");
			for (size_t c = 0; cols && cols->kind == Y_SEQ && c < cols->n; c++)
				if (column_tests(p, f, n, cols->items[c], tests_tree, err) < 0)
					return -1;
		}
	}
	return 0;
}

/* dbt 1.9's YAML snapshots: an entry of `snapshots:` with a `relation:`
 * (ref('x') or source('s', 't')) and no SQL block of that name. */
static void schema_yaml_snapshots(struct dbt_project *p, struct yml_file *f)
{
	const struct ynode *list = ymap_get(f->doc.root, "snapshots");
	const struct ynode *tree = p->root_doc && p->root_doc->root ? ymap_get(p->root_doc->root, "snapshots") : NULL;
	for (size_t i = 0; list && list->kind == Y_SEQ && i < list->n; i++) {
		const struct ynode *m = list->items[i];
		const char *name = ystr(m, "name"), *relation = ystr(m, "relation");
		if (!name || !relation)
			continue;
		struct dbt_node *had = dbt_project_find(p, name);
		if (had && had->kind == NODE_SNAPSHOT)
			continue;
		struct dbt_node *n = node_new(p, NODE_SNAPSHOT);
		n->name = xstrdup(name);
		n->file = xstrdup(f->rel);
		n->path = xstrdup(f->rel);
		n->unique_id = xasprintf("snapshot.%s.%s", p->name, name);
		strvec_push(&n->fqn, p->name);
		if (*f->dirpath) {
			char *copy = xstrdup(f->dirpath), *save, *part;
			for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
				strvec_push(&n->fqn, part);
			free(copy);
		}
		strvec_push(&n->fqn, name);
		apply_project_tree(n->config, tree, &n->fqn);
		n->mat = MAT_SNAPSHOT;
		n->raw_sql = xasprintf("select * from {{ %s }}", relation);
		if (!had)
			index_node(p, n, name);
	}
}

/* dbt 1.8's unit tests: a test node per entry of `unit_tests:`, its
 * definition (given, expect, overrides) kept as a value for unit.c. */
/* One unit test node of entry u on model m (NULL: not found); version:
 * the version of m it tests, named <name>_v<version> as dbt names it. */
static void add_unit_test(struct dbt_project *p, struct yml_file *f, const struct ynode *u,
			  const struct ynode *tests_tree, struct dbt_node *m, const char *version)
{
	const char *name = ystr(u, "name"), *model = ystr(u, "model");
	struct dbt_node *n = node_new(p, NODE_TEST);
	n->mat = MAT_TEST;
	n->name = version ? xasprintf("%s_v%s", name, version) : xstrdup(name ? name : "unnamed");
	n->file = xstrdup(f->rel);
	n->path = xstrdup(f->rel);
	n->unique_id = xasprintf("unit_test.%s.%s.%s", p->name, model ? model : "", n->name);
	strvec_push(&n->fqn, p->name);
	if (*f->dirpath) {
		char *copy = xstrdup(f->dirpath), *save, *part;
		for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
			strvec_push(&n->fqn, part);
		free(copy);
	}
	strvec_push(&n->fqn, model ? model : "");
	strvec_push(&n->fqn, n->name);
	jval_unref(n->test_kwargs);
	n->test_kwargs = dbt_yaml_value(u);
	apply_project_tree(n->config, tests_tree, &n->fqn);
	const struct ynode *cfg = ymap_get(u, "config");
	if (cfg && cfg->kind == Y_MAP) {
		struct jval c = dbt_yaml_value(cfg);
		dbt_config_merge_dict(n->config, c);
		jval_unref(c);
	}
	struct strbuf where = STRBUF_INIT;
	ynode_where(&where, &f->doc, u);
	if (!name)
		n->load_error = xasprintf("%sa unit test needs a name", where.buf);
	else if (!model)
		n->load_error = xasprintf("%sunit test '%s' needs a 'model'", where.buf, name);
	else if (!m || m->kind != NODE_MODEL)
		n->load_error = xasprintf("%sunit test '%s' tests model '%s', which was not found", where.buf, name,
					  model);
	else
		n->unit_model = (long)m->index;
	if (!ymap_get(u, "expect") && !n->load_error)
		n->load_error = xasprintf("%sunit test '%s' needs 'expect'", where.buf, name);
	strbuf_release(&where);
}

/* Is version v in a unit test's versions: {include: [..]} / {exclude: [..]} */
static int unit_version_wanted(const struct ynode *u, const char *v)
{
	const struct ynode *vs = ymap_get(u, "versions");
	const struct ynode *inc = vs ? ymap_get(vs, "include") : NULL, *exc = vs ? ymap_get(vs, "exclude") : NULL;
	int in = !inc;
	for (size_t i = 0; inc && inc->kind == Y_SEQ && i < inc->n; i++)
		in |= inc->items[i]->kind == Y_SCALAR && !dbt_version_cmp(inc->items[i]->str, v);
	for (size_t i = 0; exc && exc->kind == Y_SEQ && i < exc->n; i++)
		if (exc->items[i]->kind == Y_SCALAR && !dbt_version_cmp(exc->items[i]->str, v))
			in = 0;
	return in;
}

/* A unit test on a versioned model runs on each of its versions, or on
 * those its versions: include / exclude, as dbt does. */
static void schema_unit_tests(struct dbt_project *p, struct yml_file *f, const struct ynode *tests_tree)
{
	const struct ynode *list = ymap_get(f->doc.root, "unit_tests");
	for (size_t i = 0; list && list->kind == Y_SEQ && i < list->n; i++) {
		const struct ynode *u = list->items[i];
		const char *model = ystr(u, "model");
		struct dbt_node *m = model ? dbt_project_find(p, model) : NULL;
		if (!m || !m->version || !ystr(u, "name")) {
			add_unit_test(p, f, u, tests_tree, m, NULL);
			continue;
		}
		size_t nr = p->nr;
		for (size_t k = 0; k < nr; k++) {
			struct dbt_node *v = p->nodes[k];
			if (v->kind == NODE_MODEL && v->version && !strcmp(v->name, m->name) &&
			    !strcmp(v->package_name ? v->package_name : "", m->package_name ? m->package_name : "") &&
			    unit_version_wanted(u, v->version))
				add_unit_test(p, f, u, tests_tree, v, v->version);
		}
	}
}

/* --- groups, exposures, metrics, semantic models, saved queries ------------------- */
static int schema_groups(struct dbt_project *p, struct yml_file *f, struct strbuf *err)
{
	const struct ynode *list = ymap_get(f->doc.root, "groups");
	for (size_t i = 0; list && list->kind == Y_SEQ && i < list->n; i++) {
		const struct ynode *g = list->items[i];
		const char *name = ystr(g, "name");
		const struct ynode *owner = ymap_get(g, "owner");
		if (!name || !owner || owner->kind != Y_MAP || (!ystr(owner, "name") && !ystr(owner, "email"))) {
			ynode_where(err, &f->doc, g);
			strbuf_addf(err, "group '%s' needs a name and an owner (with a name or an email)", name ? name : "?");
			return -1;
		}
		if (jval_dict_get(p->groups, name)) {
			ynode_where(err, &f->doc, g);
			strbuf_addf(err, "dbt found two groups named '%s'", name);
			return -1;
		}
		struct jval d = dbt_yaml_value(g);
		char *uid = xasprintf("group.%s.%s", p->name, name);
		jval_dict_set(d, "unique_id", jval_str(uid));
		free(uid);
		jval_dict_set(d, "original_file_path", jval_str(f->rel));
		jval_dict_set(p->groups, name, d);
	}
	return 0;
}

/* "x" or {name: x}: the name of a metric or measure input */
static const char *input_name(const struct ynode *y)
{
	if (y && y->kind == Y_SCALAR && !ynode_is_null(y))
		return y->str;
	return y && y->kind == Y_MAP ? ystr(y, "name") : NULL;
}

static void push_input(struct dbt_node *n, const char *kind, const struct ynode *y)
{
	const char *name = input_name(y);
	if (name)
		strvec_pushf(&n->refs, "%s:%s", kind, name);
}

/* What a metric, semantic model, saved query or exposure depends on: refs
 * to models, "metric:x", "measure:x" (the semantic model defining it) */
static void semantic_deps(struct dbt_node *n, const struct ynode *e)
{
	const struct ynode *dep = ymap_get(e, "depends_on");
	for (size_t i = 0; dep && dep->kind == Y_SEQ && i < dep->n; i++) {
		const struct ynode *d = dep->items[i];
		if (d->kind != Y_SCALAR)
			continue;
		char args[2][256];
		if (!strncmp(d->str, "metric(", 7) && call_args(d->str + 7, args) == 1)
			strvec_pushf(&n->refs, "metric:%s", args[0]);
		else
			collect_arg_refs(n, d->str);
	}
	const char *model = ystr(e, "model");
	if (model)
		collect_arg_refs(n, model);
	const struct ynode *tp = ymap_get(e, "type_params");
	if (tp && tp->kind == Y_MAP) {
		push_input(n, "measure", ymap_get(tp, "measure"));
		push_input(n, "metric", ymap_get(tp, "numerator"));
		push_input(n, "metric", ymap_get(tp, "denominator"));
		const struct ynode *ms = ymap_get(tp, "metrics");
		for (size_t i = 0; ms && ms->kind == Y_SEQ && i < ms->n; i++)
			push_input(n, "metric", ms->items[i]);
		const struct ynode *conv = ymap_get(tp, "conversion_type_params");
		if (conv && conv->kind == Y_MAP) {
			push_input(n, "measure", ymap_get(conv, "base_measure"));
			push_input(n, "measure", ymap_get(conv, "conversion_measure"));
		}
	}
	const struct ynode *qp = ymap_get(e, "query_params");
	const struct ynode *qm = qp ? ymap_get(qp, "metrics") : NULL;
	for (size_t i = 0; qm && qm->kind == Y_SEQ && i < qm->n; i++)
		push_input(n, "metric", qm->items[i]);
}

/* A semantic model's measures are found by name, for the metrics on them */
static void index_measures(struct dbt_project *p, struct dbt_node *n)
{
	if (n->kind != NODE_SEMANTIC_MODEL)
		return;
	const struct jval *ms = jval_dict_get(n->props, "measures");
	for (size_t i = 0; ms && ms->type == JVAL_LIST && i < jval_len(*ms); i++) {
		const struct jval *nm = jval_dict_get(*jval_list_at(*ms, i), "name");
		if (nm && jval_str_cstr(*nm)) {
			char *key = xasprintf("measure:%s", jval_str_cstr(*nm));
			index_node(p, n, key);
			free(key);
		}
	}
}

static int schema_semantic(struct dbt_project *p, struct yml_file *f, const char *section, enum node_kind kind,
			   struct strbuf *err)
{
	static const char *const exposure_types[] = { "dashboard", "notebook", "analysis", "ml", "application", NULL };
	const struct ynode *list = ymap_get(f->doc.root, section);
	if (!list || ynode_is_null(list))
		return 0;
	if (list->kind != Y_SEQ) {
		ynode_where(err, &f->doc, list);
		strbuf_addf(err, "'%s' must be a list", section);
		return -1;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *e = list->items[i];
		const char *name = ystr(e, "name");
		if (!name) {
			ynode_where(err, &f->doc, e);
			strbuf_addf(err, "an entry of '%s' has no name", section);
			return -1;
		}
		char *key = xasprintf("%s:%s", dbt_node_kind_name(kind), name);
		int dup = dbt_project_find(p, key) != NULL;
		free(key);
		if (dup) {
			ynode_where(err, &f->doc, e);
			strbuf_addf(err, "dbt found two %ss named '%s'", dbt_node_kind_name(kind), name);
			return -1;
		}
		if (kind == NODE_EXPOSURE) {
			const char *type = ystr(e, "type");
			const struct ynode *owner = ymap_get(e, "owner");
			int ok = 0;
			for (const char *const *t = exposure_types; type && *t; t++)
				ok |= !strcmp(*t, type);
			if (!ok || !owner || owner->kind != Y_MAP || (!ystr(owner, "name") && !ystr(owner, "email"))) {
				ynode_where(err, &f->doc, e);
				strbuf_addf(err, ok ? "exposure '%s' needs an owner (with a name or an email)"
						    : "exposure '%s' needs a type: dashboard, notebook, analysis, ml or application",
					    name);
				return -1;
			}
		}
		struct dbt_node *n = node_new(p, kind);
		n->name = xstrdup(name);
		n->file = xstrdup(f->rel);
		n->path = xstrdup(f->rel);
		n->unique_id = xasprintf("%s.%s.%s", dbt_node_kind_name(kind), p->name, name);
		struct strbuf rel = STRBUF_INIT;
		strbuf_addf(&rel, "%s%sx.yml", f->dirpath, *f->dirpath ? "/" : "");
		make_fqn(&n->fqn, p->name, rel.buf, name);
		strbuf_release(&rel);
		n->props = dbt_yaml_value(e);
		n->description = render_description(p, ystr(e, "description"));
		const struct ynode *cfg = ymap_get(e, "config");
		if (cfg && cfg->kind == Y_MAP) {
			struct jval c = dbt_yaml_value(cfg);
			dbt_config_merge_dict(n->config, c);
			jval_unref(c);
		}
		semantic_deps(n, e);
		key = xasprintf("%s:%s", dbt_node_kind_name(kind), name);
		index_node(p, n, key);
		free(key);
		index_measures(p, n);
	}
	return 0;
}

static int load_schema_files(struct dbt_project *p, const struct ynode *tests_tree, struct strbuf *err)
{
	static const char *const exts[] = { ".yml", ".yaml", NULL };
	struct yml_file *files = NULL;
	size_t nf = 0, af = 0;
	int ret = -1;
	struct strvec *dirsets[] = { &p->model_paths, &p->seed_paths, &p->pkg_schema_dirs, &p->snapshot_paths };
	for (size_t s = 0; s < ARRAY_SIZE(dirsets); s++) {
		for (size_t d = 0; d < dirsets[s]->nr; d++) {
			struct strvec list = STRVEC_INIT;
			struct strbuf base = STRBUF_INIT;
			fs_path_join(&base, p->dir, dirsets[s]->v[d]);
			fs_list_files(&list, base.buf, exts);
			strbuf_release(&base);
			for (size_t i = 0; i < list.nr; i++) {
				ALLOC_GROW(files, nf + 1, af);
				struct yml_file *f = &files[nf++];
				memset(f, 0, sizeof(*f));
				f->rel = xasprintf("%s/%s", dirsets[s]->v[d], list.v[i]);
				char *slash = strrchr(list.v[i], '/');
				f->dirpath = slash ? xstrndup(list.v[i], (size_t)(slash - list.v[i])) : xstrdup("");
				struct strbuf text = STRBUF_INIT;
				if (read_rel(p, f->rel, &text, err) < 0 ||
				    ydoc_parse(&f->doc, f->rel, text.buf, text.len, err) < 0) {
					strbuf_release(&text);
					strvec_clear(&list);
					goto out;
				}
				strbuf_release(&text);
			}
			strvec_clear(&list);
		}
	}
	/* sources first, so that any file's tests may use them */
	for (size_t i = 0; i < nf; i++) {
		if (files[i].doc.root && files[i].doc.root->kind != Y_MAP) {
			ynode_where(err, &files[i].doc, files[i].doc.root);
			strbuf_addstr(err, "a schema file must be a mapping");
			goto out;
		}
		warn_unknown(p, &files[i].doc, files[i].doc.root, SCHEMA_KEYS, "a properties file");
		if (schema_groups(p, &files[i], err) < 0 || schema_sources(p, &files[i], tests_tree, err) < 0)
			goto out;
		schema_yaml_snapshots(p, &files[i]);
	}
	for (size_t i = 0; i < nf; i++)
		if (schema_models(p, &files[i], "models", NODE_MODEL, tests_tree, err) < 0 ||
		    schema_models(p, &files[i], "seeds", NODE_SEED, tests_tree, err) < 0 ||
		    schema_models(p, &files[i], "snapshots", NODE_SNAPSHOT, tests_tree, err) < 0)
			goto out;
	for (size_t i = 0; i < nf; i++)
		schema_unit_tests(p, &files[i], tests_tree);
	for (int k = NODE_SEMANTIC_MODEL; k >= NODE_EXPOSURE; k--)
		for (size_t i = 0; i < nf; i++) {
			static const char *const sections[] = { "exposures", "metrics", "semantic_models", "saved_queries" };
			if (schema_semantic(p, &files[i], sections[k - NODE_EXPOSURE], (enum node_kind)k, err) < 0)
				goto out;
		}
	for (size_t i = 0; i < nf; i++)
		if (schema_semantic(p, &files[i], "saved_queries", NODE_SAVED_QUERY, err) < 0)
			goto out;
	ret = 0;
out:
	for (size_t i = 0; i < nf; i++) {
		ydoc_release(&files[i].doc);
		free(files[i].rel);
		free(files[i].dirpath);
	}
	free(files);
	return ret;
}

/* --- schema and alias names ------------------------------------------------------ */
static struct jval node_as_dict(const struct dbt_node *n)
{
	struct jval d = jval_dict_new();
	jval_dict_set(d, "name", jval_str(n->name));
	jval_dict_set(d, "unique_id", jval_str(n->unique_id));
	jval_dict_set(d, "resource_type", jval_str(dbt_node_kind_name(n->kind)));
	jval_dict_set(d, "config", jval_ref(n->config));
	jval_dict_set(d, "path", jval_str(n->path ? n->path : ""));
	jval_dict_set(d, "original_file_path", jval_str(n->file ? n->file : ""));
	struct jval fqn = jval_list_new();
	for (size_t i = 0; i < n->fqn.nr; i++)
		jval_list_append(fqn, jval_str(n->fqn.v[i]));
	jval_dict_set(d, "fqn", fqn);
	jval_dict_set(d, "tags", jval_ref(jval_dict_get(n->config, "tags") ? *jval_dict_get(n->config, "tags")
									 : jval_none()));
	jval_dict_set(d, "version", n->version ? jval_str(n->version) : jval_none());
	jval_dict_set(d, "latest_version", n->latest_version ? jval_str(n->latest_version) : jval_none());
	return d;
}

static char *invoke_name_macro(struct dbt_project *p, const char *macro, const struct jval *custom,
			       struct dbt_node *n, struct strbuf *err)
{
	const struct jval *m = jval_dict_get(p->macros, macro);
	struct jval args[2] = { custom ? jval_ref(*custom) : jval_none(), node_as_dict(n) };
	struct jval ret = { 0 };
	char *out = NULL;
	if (jinja_invoke(&p->env, jval_none(), *m, 2, args, 0, NULL, NULL, &ret, err) == 0) {
		struct strbuf sb = STRBUF_INIT;
		jval_write_str(&sb, ret);
		strbuf_trim(&sb);
		out = strbuf_detach(&sb, NULL);
	}
	jval_unref(ret);
	jval_unref(args[0]);
	jval_unref(args[1]);
	return out;
}

static int resolve_names(struct dbt_project *p, struct dbt_node *n, struct strbuf *err)
{
	if (n->kind == NODE_SNAPSHOT && dbt_config_str(n, "target_schema") && !dbt_config_str(n, "schema")) {
		/* the legacy target_schema is used as it is, without
		 * generate_schema_name; the newer schema config goes through it */
		free(n->schema);
		n->schema = xstrdup(dbt_config_str(n, "target_schema"));
		free(n->alias);
		const char *alias = dbt_config_str(n, "alias");
		n->alias = xstrdup(alias ? alias : n->name);
		const char *db = dbt_config_str(n, "target_database");
		if (!db)
			db = dbt_config_str(n, "database");
		free(n->database);
		n->database = db ? xstrdup(db) : NULL;
		return 0;
	}
	const struct jval *custom = jval_dict_get(n->config, "schema");
	if (custom && custom->type != JVAL_STR)
		custom = NULL;
	free(n->schema);
	n->schema = NULL;
	if (jval_dict_get(p->macros, "generate_schema_name")) {
		n->schema = invoke_name_macro(p, "generate_schema_name", custom, n, err);
		if (!n->schema)
			return -1;
	} else if (custom) {
		n->schema = xasprintf("%s_%s", p->target.schema, jval_str_cstr(*custom));
	} else {
		n->schema = xstrdup(p->target.schema);
	}
	const struct jval *alias = jval_dict_get(n->config, "alias");
	free(n->alias);
	n->alias = NULL;
	if (jval_dict_get(p->macros, "generate_alias_name")) {
		n->alias = invoke_name_macro(p, "generate_alias_name", alias && alias->type == JVAL_STR ? alias : NULL,
					     n, err);
		if (!n->alias)
			return -1;
	} else if (alias && alias->type == JVAL_STR) {
		n->alias = xstrdup(jval_str_cstr(*alias));
	} else if (n->version) {
		/* dbt's default for a version: name_v<v>, dots as underscores */
		n->alias = xasprintf("%s_v%s", n->name, n->version);
		for (char *c = n->alias + strlen(n->name); *c; c++)
			if (*c == '.')
				*c = '_';
	} else {
		n->alias = xstrdup(n->name);
	}
	const char *db = dbt_config_str(n, "database");
	if (!db && n->kind == NODE_SNAPSHOT)
		db = dbt_config_str(n, "target_database");
	free(n->database);
	n->database = db ? xstrdup(db) : NULL;
	return 0;
}

/* --- the whole project ------------------------------------------------------------ */
int dbt_project_load(struct dbt_project *p, const struct dbt_load_opts *o, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct ydoc doc = { 0 };
	int ret = -1;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->log_lock, NULL);
	pthread_mutex_init(&p->catalog_lock, NULL);
	p->catalog = jval_dict_new();
	p->on_log = o->on_log;
	p->log_data = o->log_data;
	p->full_refresh = o->full_refresh;
	jinja_env_init(&p->env);
	p->macros = jval_dict_new();
	p->docs = jval_dict_new();
	p->by_name = jval_dict_new();
	p->vars = jval_dict_new();
	p->groups = jval_dict_new();
	p->macro_sql = jval_dict_new();
	p->invocation = jval_dict_new();
	{
		struct strbuf abs = STRBUF_INIT;
		fs_absolute(&abs, o->project_dir);
		p->dir = strbuf_detach(&abs, NULL);
	}
	fs_path_join(&path, p->dir, "dbt_project.yml");
	if (strbuf_read_file(&text, path.buf) < 0) {
		strbuf_addf(err, "no dbt_project.yml in '%s'", o->project_dir);
		goto out;
	}
	if (ydoc_parse(&doc, "dbt_project.yml", text.buf, text.len, err) < 0)
		goto out;
	const struct ynode *r = doc.root;
	if (!r || r->kind != Y_MAP || !ystr(r, "name")) {
		strbuf_addstr(err, "dbt_project.yml: the project needs a 'name'");
		goto out;
	}
	p->name = xstrdup(ystr(r, "name"));
	warn_unknown(p, &doc, r, PROJECT_KEYS, "dbt_project.yml");
	p->profile_name = xstrdup(ystr(r, "profile") ? ystr(r, "profile") : p->name);
	paths_from(&p->model_paths, r, "model-paths", "models");
	if (ymap_get(r, "source-paths") && !ymap_get(r, "model-paths")) {
		strvec_clear(&p->model_paths);
		paths_from(&p->model_paths, r, "source-paths", "models");
	}
	paths_from(&p->seed_paths, r, "seed-paths", "seeds");
	if (ymap_get(r, "data-paths") && !ymap_get(r, "seed-paths")) {
		strvec_clear(&p->seed_paths);
		paths_from(&p->seed_paths, r, "data-paths", "seeds");
	}
	paths_from(&p->test_paths, r, "test-paths", "tests");
	paths_from(&p->macro_paths, r, "macro-paths", "macros");
	paths_from(&p->snapshot_paths, r, "snapshot-paths", "snapshots");
	paths_from(&p->analysis_paths, r, "analysis-paths", "analyses");
	{
		const char *tp = ystr(r, "target-path");
		struct strbuf sb = STRBUF_INIT;
		fs_path_join(&sb, p->dir, tp ? tp : "target");
		p->target_path = strbuf_detach(&sb, NULL);
	}
	/* vars: global ones, and those scoped to this project */
	const struct ynode *vars = ymap_get(r, "vars");
	for (size_t i = 0; vars && vars->kind == Y_MAP && i < vars->n; i++) {
		const struct ypair *pr = &vars->pairs[i];
		if (!strcmp(pr->key->str, p->name) && pr->value->kind == Y_MAP) {
			for (size_t j = 0; j < pr->value->n; j++)
				jval_dict_set(p->vars, pr->value->pairs[j].key->str,
					      dbt_yaml_value(pr->value->pairs[j].value));
		} else {
			jval_dict_set(p->vars, pr->key->str, dbt_yaml_value(pr->value));
		}
	}
	if (o->vars && *o->vars) {
		struct jval cli;
		if (dbt_parse_vars(o->vars, &cli, err) < 0)
			goto out;
		const struct jval *k, *v;
		for (size_t i = 0; jval_dict_entry(cli, i, &k, &v); i++)
			jval_dict_setv(p->vars, jval_ref(*k), jval_ref(*v));
		jval_unref(cli);
	}
	for (int end = 0; end < 2; end++) {
		const struct ynode *h = ymap_get(r, end ? "on-run-end" : "on-run-start");
		struct strvec *sv = end ? &p->on_run_end : &p->on_run_start;
		if (h && h->kind == Y_SCALAR && !ynode_is_null(h))
			strvec_push(sv, h->str);
		for (size_t i = 0; h && h->kind == Y_SEQ && i < h->n; i++)
			if (h->items[i]->kind == Y_SCALAR)
				strvec_push(sv, h->items[i]->str);
	}
	dbt_context_setup(p);
	p->root_doc = &doc;
	if (dbt_packages_load(p, r, err) < 0)
		goto out;
	if (load_profile(p, o, err) < 0)
		goto out;
	dbt_context_setup(p); /* again: target is known now */
	if (load_macros(p, err) < 0 || load_docs(p, err) < 0)
		goto out;
	dbt_context_setup(p); /* and the macros are globals now */
	const struct ynode *models_tree = ymap_get(r, "models");
	const struct ynode *seeds_tree = ymap_get(r, "seeds");
	const struct ynode *tests_tree = ymap_get(r, "data_tests");
	if (!tests_tree)
		tests_tree = ymap_get(r, "tests");
	struct origin root_o = { p->name, NULL, "", STRVEC_INIT, STRVEC_INIT, NULL, NULL };
	for (size_t i = 0; i < p->model_paths.nr; i++)
		strvec_push(&root_o.model_paths, p->model_paths.v[i]);
	for (size_t i = 0; i < p->seed_paths.nr; i++)
		strvec_push(&root_o.seed_paths, p->seed_paths.v[i]);
	int lr = load_models(p, &root_o, models_tree, err) < 0 || load_seeds(p, &root_o, seeds_tree) < 0;
	strvec_clear(&root_o.model_paths);
	strvec_clear(&root_o.seed_paths);
	if (lr || load_package_nodes(p, models_tree, seeds_tree, err) < 0)
		goto out;
	if (load_snapshots(p, ymap_get(r, "snapshots"), err) < 0 ||
	    load_singular_tests(p, tests_tree, err) < 0 ||
	    load_package_tests_snapshots(p, tests_tree, ymap_get(r, "snapshots"), err) < 0 || load_analyses(p, err) < 0)
		goto out;
	if (load_schema_files(p, tests_tree, err) < 0)
		goto out;
	/* parse-time render: refs, sources, config() */
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (n->raw_sql && !n->load_error) {
			/* a model whose parse-time render fails (a macro it calls is
			 * missing, dispatch finds nothing) fails alone */
			struct strbuf e = STRBUF_INIT;
			if (dbt_parse_node(p, n, &e) < 0)
				n->load_error = strbuf_detach(&e, NULL);
			strbuf_release(&e);
		}
		if (!n->raw_sql && n->test_name) {
			/* a generic test's arguments and macro: what fails here
			 * fails the test when it runs, not the project */
			struct strbuf e = STRBUF_INIT;
			dbt_parse_node(p, n, &e);
			strbuf_release(&e);
		}
		if (n->unit_model >= 0) {
			/* a unit test waits for its model's parents, not the model */
			struct dbt_node *m = p->nodes[n->unit_model];
			for (size_t k = 0; k < m->refs.nr; k++)
				strvec_push(&n->refs, m->refs.v[k]);
			for (size_t k = 0; k < m->sources.nr; k++)
				strvec_push(&n->sources, m->sources.v[k]);
		}
		const struct jval *en = jval_dict_get(n->config, "enabled");
		if (en && en->type == JVAL_BOOL && !en->u.b)
			n->enabled = 0;
		if (n->kind == NODE_MODEL && n->mat == MAT_NONE) {
			const char *m = dbt_config_str(n, "materialized");
			n->mat = dbt_mat_resolve(p, m, mat_from(m, MAT_VIEW));
			if (n->mat == MAT_NONE || n->mat == MAT_SEED || n->mat == MAT_TEST) {
				n->mat = MAT_TABLE;
				if (!n->load_error)
					n->load_error = xasprintf("%s: materialization '%s' is not supported by Dango "
								  "(view, table, incremental, ephemeral, external), nor a "
								  "{%% materialization %%} of the project or a package",
								  n->file, m);
			}
		}
		if (n->kind == NODE_MODEL || n->kind == NODE_SEED || n->kind == NODE_TEST || n->kind == NODE_SNAPSHOT ||
		    n->kind == NODE_ANALYSIS)
			if (resolve_names(p, n, err) < 0)
				goto out;
	}
	/* drop disabled nodes: dbt leaves them out of the graph */
	size_t w = 0;
	/* decide first, then compact: the indices of attached and unit_model
	 * are the old ones until then */
	long *map = xcalloc(p->nr + 1, sizeof(*map));
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		int keep = n->enabled && !(n->attached >= 0 && !p->nodes[n->attached]->enabled) &&
			   !(n->unit_model >= 0 && !p->nodes[n->unit_model]->enabled);
		map[i] = keep ? (long)w++ : -1;
	}
	w = 0;
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (map[i] < 0) {
			node_free(n);
			continue;
		}
		if (n->attached >= 0)
			n->attached = map[n->attached];
		if (n->unit_model >= 0)
			n->unit_model = map[n->unit_model];
		n->index = w;
		p->nodes[w++] = n;
	}
	free(map);
	p->nr = w;
	jval_unref(p->by_name);
	p->by_name = jval_dict_new();
	for (int pass = 0; pass < 2; pass++) /* the root project's names first */
		for (size_t i = 0; i < p->nr; i++) {
			struct dbt_node *n = p->nodes[i];
			if (n->version && (pass == 0) == !n->package_name) {
				/* a version by name@v; the latest by its name too */
				char *vk = dbt_version_key(n->name, n->version);
				index_node(p, n, vk);
				free(vk);
				if (strcmp(n->version, n->latest_version))
					continue;
				struct dbt_node *had = dbt_project_find(p, n->name);
				if (!had || !had->version)
					index_node(p, n, n->name);
				char *key = xasprintf("%s.%s", n->package_name ? n->package_name : p->name, n->name);
				index_node(p, n, key);
				free(key);
				continue;
			}
			if ((n->kind == NODE_MODEL || n->kind == NODE_SEED || n->kind == NODE_SNAPSHOT) &&
			    (pass == 0) == !n->package_name) {
				struct dbt_node *had = dbt_project_find(p, n->name);
				if (had && had->version)
					continue;
				if (!had || (had->kind == NODE_SEED && n->kind == NODE_MODEL && !n->package_name))
					index_node(p, n, n->name);
				char *key = xasprintf("%s.%s", n->package_name ? n->package_name : p->name, n->name);
				if (!dbt_project_find(p, key) || n->kind == NODE_MODEL)
					index_node(p, n, key);
				free(key);
			}
		}
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (n->kind == NODE_MODEL || n->kind == NODE_SEED || n->kind == NODE_SNAPSHOT)
			continue;
		else if (n->kind >= NODE_EXPOSURE) {
			char *key = xasprintf("%s:%s", dbt_node_kind_name(n->kind), n->name);
			index_node(p, n, key);
			free(key);
			index_measures(p, n);
		} else if (n->kind == NODE_SOURCE) {
			struct strbuf key = STRBUF_INIT;
			strbuf_addf(&key, "source:%s.%s", n->source_name, n->name);
			index_node(p, n, key.buf);
			strbuf_release(&key);
		}
	}
	ret = 0;
out:
	p->root_doc = NULL;
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

void dbt_project_release(struct dbt_project *p)
{
	for (size_t i = 0; i < p->nr; i++)
		node_free(p->nodes[i]);
	free(p->nodes);
	/* macros refer to their templates; drop the dicts first */
	jval_unref(p->macros);
	jval_unref(p->retry_batches);
	jval_unref(p->docs);
	jval_unref(p->by_name);
	jval_unref(p->vars);
	for (size_t i = 0; i < p->ntmpls; i++)
		jinja_template_unref(p->tmpls[i]);
	free(p->tmpls);
	jinja_env_release(&p->env);
	free(p->dir);
	free(p->name);
	free(p->profile_name);
	free(p->target_path);
	strvec_clear(&p->model_paths);
	strvec_clear(&p->seed_paths);
	strvec_clear(&p->test_paths);
	strvec_clear(&p->macro_paths);
	strvec_clear(&p->snapshot_paths);
	strvec_clear(&p->analysis_paths);
	free(p->target.profile);
	jval_unref(p->target.duckdb);
	free(p->target.name);
	free(p->target.type);
	free(p->target.schema);
	free(p->target.database);
	free(p->target.path);
	pthread_mutex_destroy(&p->log_lock);
	pthread_mutex_destroy(&p->catalog_lock);
	jval_unref(p->catalog);
	jval_unref(p->groups);
	jval_unref(p->macro_sql);
	jval_unref(p->invocation);
	jval_unref(p->internal);
	jval_unref(p->namespaces);
	jval_unref(p->dispatch);
	jval_unref(p->pkg_vars);
	free(p->packages_dir);
	strvec_clear(&p->packages);
	strvec_clear(&p->package_dirs);
	strvec_clear(&p->pkg_schema_dirs);
	strvec_clear(&p->on_run_start);
	strvec_clear(&p->on_run_end);
	strvec_clear(&p->target.pg_params);
	strvec_clear(&p->hook_owner_start);
	strvec_clear(&p->hook_owner_end);
	strvec_clear(&p->pkg_hooks);
	strvec_clear(&p->restrict_access);
	dbt_state_free(p);
	memset(p, 0, sizeof(*p));
}
