/* --state DIR: another run's artifacts (manifest.json, run_results.json,
 * sources.json), for the selector methods state:, result: and
 * source_status:, and for --defer / --favor-state, which point refs to
 * unselected nodes at the relations of that manifest.
 *
 * state:modified compares each node with the node of the same unique_id
 * in the other manifest, in dbt's parts: body (a seed's checksum, dbt's
 * SHA-256 or Dango's older SHA-1; else raw_code, stripped), configs, relation (the database, schema and alias configs as
 * written), macros (the text of the project's macros the node calls,
 * transitively) and contract (an enforced contract's columns and types). */
#include "transform/dbt.h"
#include "core/fs.h"
#include "core/sha1.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct dbt_state {
	json_t *manifest, *results, *sources, *cur_sources;
	/* --defer: the relations replaced, to put back */
	struct strvec saved; /* "index\tdatabase\tschema\talias", NULL fields as "\1" */
};

static json_t *read_json(const char *dir, const char *name, int required, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	fs_path_join(&path, dir, name);
	json_error_t je;
	json_t *j = NULL;
	if (fs_exists(path.buf)) {
		j = json_load_file(path.buf, 0, &je);
		if (!j)
			strbuf_addf(err, "%s:%d: %s", path.buf, je.line, je.text);
	} else if (required) {
		strbuf_addf(err, "--state: no %s in '%s' (the target/ of the run to compare with)", name, dir);
	}
	strbuf_release(&path);
	return j;
}

int dbt_state_load(struct dbt_project *p, const char *dir, struct strbuf *err)
{
	struct dbt_state *s = xcalloc(1, sizeof(*s));
	size_t before = err->len;
	s->manifest = read_json(dir, "manifest.json", 1, err);
	if (s->manifest) {
		s->results = read_json(dir, "run_results.json", 0, err);
		s->sources = read_json(dir, "sources.json", 0, err);
		s->cur_sources = read_json(p->target_path, "sources.json", 0, err);
	}
	p->state = s;
	return err->len > before ? -1 : 0;
}

void dbt_state_free(struct dbt_project *p)
{
	struct dbt_state *s = p->state;
	if (!s)
		return;
	json_decref(s->manifest);
	json_decref(s->results);
	json_decref(s->sources);
	json_decref(s->cur_sources);
	strvec_clear(&s->saved);
	free(s);
	p->state = NULL;
}

/* The other manifest's entry for n, or NULL. */
static json_t *state_node(const struct dbt_state *s, const struct dbt_node *n)
{
	static const char *const sections[] = { "nodes", "sources", "exposures", "metrics", "semantic_models",
						"saved_queries" };
	for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++) {
		json_t *e = json_object_get(json_object_get(s->manifest, sections[i]), n->unique_id);
		if (e)
			return e;
	}
	return NULL;
}

static int str_differs(json_t *o, const char *key, const char *mine)
{
	const char *theirs = json_string_value(json_object_get(o, key));
	if (!theirs || !mine)
		return (theirs == NULL) != (mine == NULL);
	return strcmp(theirs, mine) != 0;
}

/* The project's macros n calls, and those they call: their names go to out */
static void add_macros_of(const struct dbt_project *p, const char *text, struct strvec *out)
{
	for (const char *c = text; *c; c++) {
		if (!(isalpha((unsigned char)*c) || *c == '_') || (c > text && (isalnum((unsigned char)c[-1]) || c[-1] == '_')))
			continue;
		const char *e = c;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		const char *q = e;
		while (*q == ' ')
			q++;
		if (*q == '(') {
			char *name = xstrndup(c, (size_t)(e - c));
			const struct jval *sql = jval_dict_get(p->macro_sql, name);
			if (sql && !strvec_has(out, name)) {
				strvec_push(out, name);
				add_macros_of(p, jval_str_cstr(*sql), out);
			}
			free(name);
		}
		c = e - 1;
	}
}

void dbt_node_macros(const struct dbt_project *p, const struct dbt_node *n, struct strvec *out)
{
	if (n->raw_sql)
		add_macros_of(p, n->raw_sql, out);
	if (n->test_name) {
		const char *t = strrchr(n->test_name, '.');
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "test_%s", t ? t + 1 : n->test_name);
		if (jval_dict_get(p->macro_sql, m.buf) && !strvec_has(out, m.buf)) {
			strvec_push(out, m.buf);
			add_macros_of(p, jval_str_cstr(*jval_dict_get(p->macro_sql, m.buf)), out);
		}
		strbuf_release(&m);
	}
}

/* Do two texts differ once stripped as Python strips (dbt's raw_code is
 * the stripped file; Dango's older manifests kept it whole)? */
static int stripped_differs(const char *a, const char *b)
{
	size_t ab, ae, bb, be;
	if (!a || !b)
		return (a == NULL) != (b == NULL);
	dbt_py_strip(a, strlen(a), &ab, &ae);
	dbt_py_strip(b, strlen(b), &bb, &be);
	return ae - ab != be - bb || memcmp(a + ab, b + bb, ae - ab) != 0;
}

/* Dango before dbt's checksums: SHA-1 of the whole file */
static int sha1_differs(const struct dbt_node *n, const char *theirs)
{
	struct strbuf text = STRBUF_INIT;
	char hex[41];
	int d = 1;
	if (n->abs_file && strbuf_read_file(&text, n->abs_file) == 0) {
		struct sha1 s;
		sha1_init(&s);
		sha1_update(&s, text.buf, text.len);
		sha1_final_hex(&s, hex);
		d = strcmp(hex, theirs) != 0;
	}
	strbuf_release(&text);
	return d;
}

/* dbt's SeedNode.same_seeds: the checksums, of the same kind; a seed known
 * by its path (over 1 MiB) is the same when the path is, with dbt's
 * warnings */
static int modified_seed(const struct dbt_project *p, const struct dbt_node *n, json_t *ck)
{
	const char *name = json_string_value(json_object_get(ck, "name"));
	const char *theirs = json_string_value(json_object_get(ck, "checksum"));
	const char *mine = n->checksum_name ? n->checksum_name : "sha256";
	struct dbt_project *log = (struct dbt_project *)p; /* logging takes the project's lock */
	const char *pkg = n->package_name ? n->package_name : p->name;
	if (!name || !theirs || !n->checksum || !strcmp(name, "none"))
		return 1;
	if (!strcmp(name, "sha1") && !strcmp(mine, "sha256"))
		return sha1_differs(n, theirs);
	int same = !strcmp(name, mine) && !strcmp(theirs, n->checksum);
	if (!strcmp(mine, "path")) {
		if (strcmp(name, "path"))
			dbt_log(log, 2, "Found a seed (%s.%s) >1MB in size. The previous file was <=1MB, so it has changed",
				pkg, n->name);
		else if (same)
			dbt_log(log, 2, "Found a seed (%s.%s) >1MB in size at the same path, dbt cannot tell if it has "
					"changed: assuming they are the same", pkg, n->name);
		else
			dbt_log(log, 2, "Found a seed (%s.%s) >1MB in size. The previous file was in a different location, "
					"assuming it has changed", pkg, n->name);
	}
	return !same;
}

/* dbt's same_body: a seed's checksum, else the raw code */
static int modified_body(const struct dbt_project *p, const struct dbt_node *n, json_t *o)
{
	if (n->kind == NODE_SEED)
		return modified_seed(p, n, json_object_get(o, "checksum"));
	if (n->raw_sql)
		return stripped_differs(json_string_value(json_object_get(o, "raw_code")), n->raw_sql);
	if (n->test_name) {
		json_t *mine = dbt_jval_to_json(n->test_kwargs);
		int d = !json_equal(mine, json_object_get(json_object_get(o, "test_metadata"), "kwargs"));
		json_decref(mine);
		return d;
	}
	if (n->props.type == JVAL_DICT) {
		/* an exposure, metric...: its YAML entry is in the manifest */
		json_t *mine = dbt_jval_to_json(n->props), *v;
		const char *k;
		int d = 0;
		json_object_foreach(mine, k, v)
		{
			if (strcmp(k, "config") && strcmp(k, "description") && !json_equal(v, json_object_get(o, k)))
				d = 1;
		}
		json_decref(mine);
		return d;
	}
	return 0;
}

/* The config as written, which dbt compares (unrendered_config: its
 * config has every default); Dango's own manifests have it as config */
static json_t *written_config(json_t *o)
{
	json_t *u = json_object_get(o, "unrendered_config");
	return u ? u : json_object_get(o, "config");
}

static int modified_configs(const struct dbt_node *n, json_t *o)
{
	json_t *mine = dbt_jval_to_json(n->config), *theirs = written_config(o);
	int d = theirs ? !json_equal(mine, theirs) : json_object_size(mine) > 0;
	json_decref(mine);
	return d;
}

/* As dbt: the database, schema and alias configs as written, so that
 * comparing with another target's manifest is not a change of each node */
static int modified_relation(const struct dbt_node *n, json_t *o)
{
	static const char *const keys[] = { "database", "schema", "alias" };
	json_t *theirs = written_config(o);
	for (size_t k = 0; k < 3; k++) {
		const struct jval *v = jval_dict_get(n->config, keys[k]);
		json_t *mine = v ? dbt_jval_to_json(*v) : NULL;
		json_t *t = json_object_get(theirs, keys[k]);
		int same = mine && t ? json_equal(mine, t) : (!mine && (!t || json_is_null(t)));
		json_decref(mine);
		if (!same)
			return 1;
	}
	return 0;
}

static int modified_macros(const struct dbt_project *p, const struct dbt_state *s, const struct dbt_node *n)
{
	struct strvec used = STRVEC_INIT;
	dbt_node_macros(p, n, &used);
	json_t *macros = json_object_get(s->manifest, "macros");
	int d = 0;
	for (size_t i = 0; i < used.nr && !d; i++) {
		char *uid = xasprintf("macro.%s.%s", p->name, used.v[i]);
		json_t *m = json_object_get(macros, uid);
		d = !m || str_differs(m, "macro_sql", jval_str_cstr(*jval_dict_get(p->macro_sql, used.v[i])));
		free(uid);
	}
	strvec_clear(&used);
	return d;
}

static int contract_enforced(const struct jval *cfg)
{
	const struct jval *c = cfg ? jval_dict_get(*cfg, "contract") : NULL;
	const struct jval *e = c && c->type == JVAL_DICT ? jval_dict_get(*c, "enforced") : NULL;
	return e && e->type == JVAL_BOOL && e->u.b;
}

/* an enforced contract whose columns (names, types) changed */
static int modified_contract(const struct dbt_node *n, json_t *o)
{
	if (!contract_enforced(&n->config))
		return 0;
	json_t *theirs = json_object_get(o, "columns");
	const struct jval *k, *v;
	size_t count = 0;
	for (size_t i = 0; jval_dict_entry(n->columns, i, &k, &v); i++, count++) {
		json_t *t = json_object_get(theirs, jval_str_cstr(*k));
		const struct jval *dt = jval_dict_get(*v, "data_type");
		if (!t || str_differs(t, "data_type", dt ? jval_str_cstr(*dt) : NULL))
			return 1;
	}
	json_t *tc = json_object_get(o, "config"), *tce = json_object_get(json_object_get(tc, "contract"), "enforced");
	return count != json_object_size(theirs) || !json_is_true(tce);
}

static int match_state(const struct dbt_project *p, const struct dbt_node *n, const char *v)
{
	const struct dbt_state *s = p->state;
	json_t *o = state_node(s, n);
	if (!strcmp(v, "new"))
		return o == NULL;
	if (!strcmp(v, "old"))
		return o != NULL;
	int unmod = !strcmp(v, "unmodified");
	if (!o)
		return !unmod && strncmp(v, "modified", 8) == 0;
	/* each part only when asked for: a big seed's body warns, as dbt's */
	if (!strcmp(v, "modified.body"))
		return modified_body(p, n, o);
	if (!strcmp(v, "modified.configs"))
		return modified_configs(n, o);
	if (!strcmp(v, "modified.relation"))
		return modified_relation(n, o);
	if (!strcmp(v, "modified.persisted_descriptions"))
		return str_differs(o, "description", n->description ? n->description : "");
	if (!strcmp(v, "modified.macros"))
		return modified_macros(p, s, n);
	if (!strcmp(v, "modified.contract"))
		return modified_contract(n, o);
	int any = modified_body(p, n, o) || modified_configs(n, o) || modified_relation(n, o) ||
		  modified_macros(p, s, n) || modified_contract(n, o);
	return unmod ? !any : any;
}

static json_t *result_of(json_t *doc, const char *uid)
{
	json_t *list = json_object_get(doc, "results"), *e;
	size_t i;
	json_array_foreach(list, i, e)
	{
		const char *u = json_string_value(json_object_get(e, "unique_id"));
		if (u && !strcmp(u, uid))
			return e;
	}
	return NULL;
}

int dbt_state_match(const struct dbt_project *p, const struct dbt_node *n, const char *method, const char *v)
{
	const struct dbt_state *s = p->state;
	if (!s || !s->manifest)
		return 0;
	if (!strcmp(method, "state"))
		return match_state(p, n, v);
	if (!strcmp(method, "result")) {
		json_t *r = result_of(s->results, n->unique_id);
		const char *st = r ? json_string_value(json_object_get(r, "status")) : NULL;
		return st && !strcmp(st, v);
	}
	if (!strcmp(method, "source_status")) {
		if (n->kind != NODE_SOURCE)
			return 0;
		json_t *now = result_of(s->cur_sources, n->unique_id), *then = result_of(s->sources, n->unique_id);
		const char *a = now ? json_string_value(json_object_get(now, "max_loaded_at")) : NULL;
		const char *b = then ? json_string_value(json_object_get(then, "max_loaded_at")) : NULL;
		const char *st = now ? json_string_value(json_object_get(now, "status")) : NULL;
		if (!strcmp(v, "fresher"))
			return a && (!b || strcmp(a, b) > 0);
		return st && !strcmp(st, v);
	}
	return 0;
}

/* Which artifacts a method needs: NULL if present, else what is missing */
const char *dbt_state_missing(const struct dbt_project *p, const char *method)
{
	const struct dbt_state *s = p->state;
	if (!s || !s->manifest)
		return "--state DIR";
	if (!strcmp(method, "result") && !s->results)
		return "run_results.json in the --state folder";
	if (!strcmp(method, "source_status") && (!s->sources || !s->cur_sources))
		return "sources.json in both the --state folder and target/ (run `dango freshness` in each)";
	return NULL;
}

static void push_or_mark(struct strvec *sv, const char *s)
{
	strvec_push(sv, s ? s : "\1");
}

/* --defer: each unselected model, seed or snapshot that has no relation in
 * wh (or every one, with favor_state) reads the other manifest's relation */
int dbt_state_defer(struct dbt_project *p, struct warehouse *wh, int favor_state, size_t *deferred)
{
	struct dbt_state *s = p->state;
	*deferred = 0;
	if (!s || !s->manifest)
		return 0;
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (n->selected || (n->kind != NODE_MODEL && n->kind != NODE_SEED && n->kind != NODE_SNAPSHOT) ||
		    (n->kind == NODE_MODEL && n->mat == MAT_EPHEMERAL))
			continue;
		json_t *o = state_node(s, n);
		const char *schema = o ? json_string_value(json_object_get(o, "schema")) : NULL;
		const char *alias = o ? json_string_value(json_object_get(o, "alias")) : NULL;
		const char *db = o ? json_string_value(json_object_get(o, "database")) : NULL;
		if (!schema || !alias)
			continue;
		if (!favor_state && wh && dbt_catalog_get(p, wh, n->schema, n->alias ? n->alias : n->name))
			continue;
		strvec_pushf(&s->saved, "%zu", i);
		push_or_mark(&s->saved, n->database);
		push_or_mark(&s->saved, n->schema);
		push_or_mark(&s->saved, n->alias);
		free(n->database);
		free(n->schema);
		free(n->alias);
		n->database = db && p->target.database && strcmp(db, p->target.database) ? xstrdup(db) : NULL;
		n->schema = xstrdup(schema);
		n->alias = xstrdup(alias);
		(*deferred)++;
	}
	return 0;
}

static char *undo_mark(const char *s)
{
	return strcmp(s, "\1") ? xstrdup(s) : NULL;
}

void dbt_state_undefer(struct dbt_project *p)
{
	struct dbt_state *s = p->state;
	if (!s)
		return;
	for (size_t k = 0; k + 4 <= s->saved.nr; k += 4) {
		struct dbt_node *n = p->nodes[strtoul(s->saved.v[k], NULL, 10)];
		free(n->database);
		free(n->schema);
		free(n->alias);
		n->database = undo_mark(s->saved.v[k + 1]);
		n->schema = undo_mark(s->saved.v[k + 2]);
		n->alias = undo_mark(s->saved.v[k + 3]);
	}
	strvec_clear(&s->saved);
}
