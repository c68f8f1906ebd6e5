/* dbt's node selection: [@][N]+METHOD:VALUE+[N], where the method is one of
 * fqn (the default: a name, or a dotted path with globs: marts.finance.*),
 * path, tag, source, config.KEY, resource_type, test_type, test_name,
 * package, file. Several selectors (commas, spaces, repeated flags) are a
 * union, as the Dango docs use them. Tests on a selected node are selected
 * with it ("eager" indirect selection), and go out with an excluded node. */
#include "transform/dbt.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sel {
	int at;
	int up, down;        /* -1: none; 0: unlimited; N: depth */
	char *method, *value;
};


/* The digits of a "2+" graph depth; a number past INT_MAX (atoi's undefined
 * behaviour) means "every level". */
static int graph_depth(const char *digits)
{
	long v = strtol(digits, NULL, 10);
	return v > INT_MAX ? INT_MAX : (int)v;
}

static int parse_sel(const struct dbt_project *proj, const char *tok, struct sel *s, struct strbuf *err)
{
	memset(s, 0, sizeof(*s));
	s->up = s->down = -1;
	const char *p = tok, *end = tok + strlen(tok);
	if (*p == '@') {
		s->at = 1;
		p++;
	}
	const char *q = p;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q == '+') {
		s->up = q > p ? graph_depth(p) : 0;
		p = q + 1;
	}
	const char *e = end;
	while (e > p && isdigit((unsigned char)e[-1]))
		e--;
	if (e > p && e[-1] == '+') {
		s->down = e < end ? graph_depth(e) : 0;
		end = e - 1;
	}
	if (end <= p) {
		strbuf_addf(err, "invalid selector '%s'", tok);
		return -1;
	}
	char *body = xstrndup(p, (size_t)(end - p));
	char *colon = strchr(body, ':');
	if (colon) {
		*colon = '\0';
		s->method = xstrdup(body);
		s->value = xstrdup(colon + 1);
	} else {
		s->method = xstrdup(strchr(body, '/') || ends_with(body, ".sql") || ends_with(body, ".csv") ? "path"
													: "fqn");
		s->value = xstrdup(body);
	}
	free(body);
	static const char *const methods[] = { "fqn",	   "path",	 "tag",	      "source",	    "resource_type",
					       "test_type", "test_name", "package",	      "file",	    "unique_id",
					       "exposure",  "metric",	 "semantic_model", "saved_query", "group",
					       "access",    "version",	 "state",	      "result",	    "source_status",
					       NULL };
	int ok = starts_with(s->method, "config.");
	for (const char *const *m = methods; *m && !ok; m++)
		ok = !strcmp(*m, s->method);
	if (!ok) {
		const char *hint = did_you_mean(s->method, methods);
		strbuf_addf(err, "invalid selector '%s': unknown method '%s'", tok, s->method);
		if (hint)
			strbuf_addf(err, " (did you mean '%s'?)", hint);
		free(s->method);
		free(s->value);
		return -1;
	}
	const char *missing = NULL;
	if (!strcmp(s->method, "state") || !strcmp(s->method, "result") || !strcmp(s->method, "source_status"))
		missing = dbt_state_missing(proj, s->method);
	if (missing) {
		strbuf_addf(err, "invalid selector '%s': the '%s' method needs %s", tok, s->method, missing);
		free(s->method);
		free(s->value);
		return -1;
	}
	return 0;
}

static int fqn_match(char *const *fqn, size_t n, const char *value)
{
	if (n && !strcmp(fqn[n - 1], value))
		return 1;
	char *copy = xstrdup(value), *save, *part;
	size_t i = 0;
	int ok = 1;
	for (part = strtok_r(copy, ".", &save); part; part = strtok_r(NULL, ".", &save), i++) {
		if (i >= n || fnmatch(part, fqn[i], 0)) {
			ok = 0;
			break;
		}
	}
	free(copy);
	return ok && i > 0;
}

static int match_one(const struct dbt_project *p, const struct dbt_node *n, const struct sel *s)
{
	const char *m = s->method, *v = s->value;
	if (!strcmp(m, "fqn")) {
		if (n->kind == NODE_SOURCE)
			return 0;
		if (n->version) {
			/* a versioned model: its name selects every version,
			 * name.v2 or name_v2 one of them */
			struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
			strbuf_addf(&a, "%s.v%s", n->name, n->version);
			strbuf_addf(&b, "%s_v%s", n->name, n->version);
			int ok = !fnmatch(v, n->name, 0) || !strcmp(v, a.buf) || !strcmp(v, b.buf);
			strbuf_release(&a);
			strbuf_release(&b);
			if (ok)
				return 1;
		}
		return fqn_match(n->fqn.v, n->fqn.nr, v) || (n->fqn.nr > 1 && fqn_match(n->fqn.v + 1, n->fqn.nr - 1, v));
	}
	if (!strcmp(m, "path") || !strcmp(m, "file")) {
		if (!n->file || n->kind == NODE_SOURCE)
			return 0;
		struct strbuf val = STRBUF_INIT;
		strbuf_addstr(&val, v);
		while (val.len > 1 && val.buf[val.len - 1] == '/')
			strbuf_setlen(&val, val.len - 1);
		int ok;
		if (!strcmp(m, "file")) {
			const char *b = strrchr(n->file, '/');
			ok = !fnmatch(val.buf, b ? b + 1 : n->file, 0);
		} else {
			size_t l = val.len;
			ok = !fnmatch(val.buf, n->file, 0) || (!strncmp(n->file, val.buf, l) && n->file[l] == '/');
		}
		strbuf_release(&val);
		return ok;
	}
	if (!strcmp(m, "tag")) {
		const struct jval *tags = jval_dict_get(n->config, "tags");
		for (size_t i = 0; tags && tags->type == JVAL_LIST && i < jval_len(*tags); i++) {
			const char *t = jval_str_cstr(*jval_list_at(*tags, i));
			if (t && !fnmatch(v, t, 0))
				return 1;
		}
		return 0;
	}
	if (!strcmp(m, "source")) {
		if (n->kind != NODE_SOURCE)
			return 0;
		char *const parts[] = { p->name, n->source_name, n->name };
		return fqn_match(parts + 1, 2, v) || fqn_match(parts, 3, v) || !fnmatch(v, n->source_name, 0);
	}
	if (!strcmp(m, "resource_type")) {
		if (n->kind == NODE_TEST && n->unit_model >= 0)
			return !strcmp(v, "unit_test");
		return !strcmp(v, dbt_node_kind_name(n->kind));
	}
	if (!strcmp(m, "test_type")) {
		if (n->kind != NODE_TEST)
			return 0;
		if (n->unit_model >= 0)
			return !strcmp(v, "unit");
		int generic = n->test_name != NULL;
		return generic ? (!strcmp(v, "generic") || !strcmp(v, "schema"))
			       : (!strcmp(v, "singular") || !strcmp(v, "data"));
	}
	if (!strcmp(m, "test_name"))
		return n->test_name && !fnmatch(v, n->test_name, 0);
	if (!strcmp(m, "package"))
		return !strcmp(v, n->package_name ? n->package_name : p->name);
	if (!strcmp(m, "unique_id"))
		return !strcmp(v, n->unique_id);
	if (!strcmp(m, "exposure") || !strcmp(m, "metric") || !strcmp(m, "semantic_model") || !strcmp(m, "saved_query"))
		return !strcmp(m, dbt_node_kind_name(n->kind)) && !fnmatch(v, n->name, 0);
	if (!strcmp(m, "group")) {
		const char *g = dbt_config_str(n, "group");
		return g && !fnmatch(v, g, 0);
	}
	if (!strcmp(m, "access")) {
		const char *a = dbt_config_str(n, "access");
		return n->kind == NODE_MODEL && !strcmp(v, a ? a : "protected");
	}
	if (!strcmp(m, "version")) {
		if (n->kind != NODE_MODEL)
			return 0;
		if (!strcmp(v, "none"))
			return !n->version;
		if (!n->version)
			return 0;
		int c = dbt_version_cmp(n->version, n->latest_version);
		return !strcmp(v, "latest") ? c == 0 : !strcmp(v, "prerelease") ? c > 0 : !strcmp(v, "old") ? c < 0 : 0;
	}
	if (!strcmp(m, "state") || !strcmp(m, "result") || !strcmp(m, "source_status"))
		return dbt_state_match(p, n, m, v);
	if (starts_with(m, "config.")) {
		const struct jval *c = jval_dict_get(n->config, m + 7);
		if (!strcmp(m + 7, "materialized") && n->kind == NODE_MODEL)
			return !strcmp(v, dbt_mat_name(n->mat));
		if (!c)
			return 0;
		if (c->type == JVAL_LIST) {
			for (size_t i = 0; i < jval_len(*c); i++) {
				char *item = jval_to_cstr(*jval_list_at(*c, i));
				int ok = !strcmp(item, v);
				free(item);
				if (ok)
					return 1;
			}
			return 0;
		}
		struct strbuf sb = STRBUF_INIT;
		jval_write_str(&sb, *c);
		int ok = !strcmp(sb.buf, v) || (c->type == JVAL_BOOL && !strcasecmp(sb.buf, v));
		strbuf_release(&sb);
		return ok;
	}
	return 0;
}

static void walk(const struct dbt_project *p, size_t i, int up, int depth, int limit, unsigned char *mark)
{
	if (limit > 0 && depth >= limit)
		return;
	const struct dbt_node *n = p->nodes[i];
	size_t cnt = up ? n->nparents : n->nchildren;
	const size_t *next = up ? n->parents : n->children;
	for (size_t k = 0; k < cnt; k++) {
		size_t j = next[k];
		/* in unlimited walks a node seen once has been walked from */
		if (limit == 0 && mark[j])
			continue;
		mark[j] = 1;
		walk(p, j, up, depth + 1, limit, mark);
	}
}

static int select_set(const struct dbt_project *p, const struct strvec *tokens, unsigned char *out,
		      struct strbuf *err)
{
	for (size_t t = 0; t < tokens->nr; t++) {
		struct sel s;
		if (parse_sel(p, tokens->v[t], &s, err) < 0)
			return -1;
		unsigned char *base = xcalloc(p->nr + 1, 1);
		unsigned char *res = xcalloc(p->nr + 1, 1);
		for (size_t i = 0; i < p->nr; i++)
			if (match_one(p, p->nodes[i], &s))
				base[i] = res[i] = 1;
		for (size_t i = 0; i < p->nr; i++) {
			if (!base[i])
				continue;
			if (s.up >= 0)
				walk(p, i, 1, 0, s.up, res);
			if (s.down >= 0 || s.at)
				walk(p, i, 0, 0, s.at ? 0 : s.down, res);
		}
		if (s.at) {
			/* @x: x, its descendants, and the ancestors of all of them */
			unsigned char *anc = xcalloc(p->nr + 1, 1);
			for (size_t i = 0; i < p->nr; i++)
				if (res[i])
					walk(p, i, 1, 0, 0, anc);
			for (size_t i = 0; i < p->nr; i++)
				res[i] |= anc[i];
			free(anc);
		}
		for (size_t i = 0; i < p->nr; i++)
			out[i] |= res[i];
		free(base);
		free(res);
		free(s.method);
		free(s.value);
	}
	return 0;
}

static void mark_selected(struct dbt_project *p, const unsigned char *in, const unsigned char *ex, unsigned kinds)
{
	for (size_t i = 0; i < p->nr; i++)
		p->nodes[i]->selected = in[i] && !ex[i] && (kinds & (1u << p->nodes[i]->kind)) &&
					!(p->nodes[i]->kind == NODE_MODEL && p->nodes[i]->mat == MAT_EPHEMERAL &&
					  !(kinds & (1u << NODE_SOURCE)));
}

int dbt_select(struct dbt_project *p, const struct strvec *select, const struct strvec *exclude, unsigned kinds,
	       int indirect_tests, struct strbuf *err)
{
	unsigned char *in = xcalloc(p->nr + 1, 1), *ex = xcalloc(p->nr + 1, 1);
	int ret = -1;
	if (!select || !select->nr)
		memset(in, 1, p->nr);
	else if (select_set(p, select, in, err) < 0)
		goto out;
	if (exclude && exclude->nr && select_set(p, exclude, ex, err) < 0)
		goto out;
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (n->kind != NODE_TEST || !indirect_tests)
			continue;
		if (n->unit_model >= 0) {
			/* a unit test goes with its model */
			if (in[n->unit_model])
				in[i] = 1;
			if (ex[n->unit_model])
				ex[i] = 1;
			continue;
		}
		for (size_t k = 0; k < n->nparents; k++) {
			if (in[n->parents[k]] && p->nodes[n->parents[k]]->kind != NODE_TEST)
				in[i] = 1;
		}
		if (n->attached >= 0 && ex[n->attached])
			ex[i] = 1;
	}
	mark_selected(p, in, ex, kinds);
	ret = 0;
out:
	free(in);
	free(ex);
	return ret;
}

/* --- selectors.yml ----------------------------------------------------------------- */
struct yctx {
	struct dbt_project *p;
	struct ydoc *doc;
	const struct ynode *list; /* selectors: */
	struct strbuf *err;
	int depth;
};

/* dbt's indirect selection: the tests of what a set holds join it */
static void add_tests(const struct dbt_project *p, unsigned char *set, const char *mode)
{
	if (!strcmp(mode, "empty"))
		return;
	int cautious = strcmp(mode, "eager") != 0;
	unsigned char *base = xmalloc(p->nr + 1);
	memcpy(base, set, p->nr + 1);
	for (size_t i = 0; i < p->nr; i++) {
		const struct dbt_node *n = p->nodes[i];
		if (n->kind != NODE_TEST)
			continue;
		if (n->unit_model >= 0) {
			set[i] |= base[n->unit_model];
			continue;
		}
		size_t in = 0, models = 0;
		for (size_t k = 0; k < n->nparents; k++)
			if (p->nodes[n->parents[k]]->kind != NODE_TEST) {
				models++;
				in += base[n->parents[k]];
			}
		if (models && (cautious ? in == models : in > 0))
			set[i] = 1;
	}
	free(base);
}

static const struct ynode *find_selector(struct yctx *c, const char *name)
{
	for (size_t i = 0; c->list && c->list->kind == Y_SEQ && i < c->list->n; i++) {
		const char *nm = ymap_get(c->list->items[i], "name") ? ymap_get(c->list->items[i], "name")->str : NULL;
		if (nm && !strcmp(nm, name))
			return c->list->items[i];
	}
	return NULL;
}

static int eval_def(struct yctx *c, const struct ynode *y, unsigned char *out);

static int eval_token(struct yctx *c, const char *tok, unsigned char *out)
{
	struct strvec one = STRVEC_INIT;
	strvec_push(&one, tok);
	int r = select_set(c->p, &one, out, c->err);
	strvec_clear(&one);
	return r;
}

/* A definition as text: CLI syntax, spaces a union, commas an intersection */
static int eval_string(struct yctx *c, const char *text, unsigned char *out)
{
	size_t nr = c->p->nr;
	char *copy = xstrdup(text), *save, *tok;
	int ret = 0;
	for (tok = strtok_r(copy, " \t\n", &save); tok && !ret; tok = strtok_r(NULL, " \t\n", &save)) {
		unsigned char *acc = NULL;
		char *s2, *part;
		for (part = strtok_r(tok, ",", &s2); part && !ret; part = strtok_r(NULL, ",", &s2)) {
			unsigned char *one = xcalloc(nr + 1, 1);
			ret = eval_token(c, part, one);
			if (!acc) {
				acc = one;
				continue;
			}
			for (size_t i = 0; i < nr; i++)
				acc[i] &= one[i];
			free(one);
		}
		if (acc && !ret) {
			add_tests(c->p, acc, "eager");
			for (size_t i = 0; i < nr; i++)
				out[i] |= acc[i];
		}
		free(acc);
	}
	free(copy);
	return ret;
}

static const char *yscalar(const struct ynode *m, const char *key)
{
	const struct ynode *v = ymap_get(m, key);
	return v && v->kind == Y_SCALAR && !ynode_is_null(v) ? v->str : NULL;
}

static int ytrue(const struct ynode *m, const char *key)
{
	int b = 0;
	return ymap_get(m, key) && ynode_bool(ymap_get(m, key), &b) == 0 && b;
}

/* {method: tag, value: x, parents: true, children_depth: 1, ...} */
static int eval_method(struct yctx *c, const struct ynode *y, const char *method, const char *value,
		       unsigned char *out)
{
	if (!value) {
		ynode_where(c->err, c->doc, y);
		strbuf_addf(c->err, "selector method '%s' needs a value", method);
		return -1;
	}
	if (!strcmp(method, "selector")) {
		const struct ynode *other = find_selector(c, value);
		if (!other) {
			ynode_where(c->err, c->doc, y);
			strbuf_addf(c->err, "no selector named '%s' in selectors.yml", value);
			return -1;
		}
		if (++c->depth > 32) {
			strbuf_addf(c->err, "selectors.yml: selector '%s' includes itself", value);
			return -1;
		}
		int r = eval_def(c, ymap_get(other, "definition"), out);
		c->depth--;
		return r;
	}
	struct strbuf tok = STRBUF_INIT;
	if (ytrue(y, "childrens_parents"))
		strbuf_addch(&tok, '@');
	else if (ytrue(y, "parents"))
		strbuf_addf(&tok, "%s+", yscalar(y, "parents_depth") ? yscalar(y, "parents_depth") : "");
	strbuf_addf(&tok, "%s:%s", method, value);
	if (ytrue(y, "children") && !ytrue(y, "childrens_parents"))
		strbuf_addf(&tok, "+%s", yscalar(y, "children_depth") ? yscalar(y, "children_depth") : "");
	unsigned char *one = xcalloc(c->p->nr + 1, 1);
	int r = eval_token(c, tok.buf, one);
	if (r < 0) {
		strbuf_insert(c->err, 0, "selectors.yml: ", 15);
	} else {
		const char *ind = yscalar(y, "indirect_selection");
		if (ind && strcmp(ind, "eager") && strcmp(ind, "cautious") && strcmp(ind, "buildable") &&
		    strcmp(ind, "empty")) {
			ynode_where(c->err, c->doc, y);
			strbuf_addf(c->err, "indirect_selection '%s' is not eager, cautious, buildable or empty", ind);
			r = -1;
		} else {
			add_tests(c->p, one, ind ? ind : "eager");
			for (size_t i = 0; i < c->p->nr; i++)
				out[i] |= one[i];
		}
	}
	free(one);
	strbuf_release(&tok);
	return r;
}

/* union / intersection of a list; its `exclude:` items are taken out */
static int eval_list(struct yctx *c, const struct ynode *list, int intersect, unsigned char *out)
{
	size_t nr = c->p->nr;
	if (!list || list->kind != Y_SEQ) {
		ynode_where(c->err, c->doc, list);
		strbuf_addstr(c->err, "'union' and 'intersection' take a list");
		return -1;
	}
	unsigned char *acc = xcalloc(nr + 1, 1), *ex = xcalloc(nr + 1, 1);
	int first = 1, ret = 0;
	for (size_t i = 0; i < list->n && !ret; i++) {
		const struct ynode *it = list->items[i];
		const struct ynode *exl = it->kind == Y_MAP ? ymap_get(it, "exclude") : NULL;
		if (exl) {
			ret = exl->kind == Y_SEQ ? eval_list(c, exl, 0, ex) : eval_def(c, exl, ex);
			continue;
		}
		unsigned char *one = xcalloc(nr + 1, 1);
		ret = eval_def(c, it, one);
		for (size_t k = 0; k < nr; k++)
			acc[k] = intersect && !first ? (acc[k] & one[k]) : (acc[k] | one[k]);
		first = 0;
		free(one);
	}
	for (size_t k = 0; k < nr && !ret; k++)
		out[k] |= acc[k] && !ex[k];
	free(acc);
	free(ex);
	return ret;
}

static int eval_def(struct yctx *c, const struct ynode *y, unsigned char *out)
{
	static const char *const methods[] = { "fqn",	    "path",	  "tag",	   "source",	   "resource_type",
					       "test_type", "test_name", "package",	   "file",	   "unique_id",
					       "exposure",  "metric",	  "semantic_model", "saved_query", "group",
					       "access",    "version",	  "state",	   "result",	   "source_status",
					       "selector",  NULL };
	if (!y || ynode_is_null(y)) {
		strbuf_addstr(c->err, "selectors.yml: a selector needs a 'definition'");
		return -1;
	}
	if (y->kind == Y_SCALAR)
		return eval_string(c, y->str, out);
	if (y->kind != Y_MAP) {
		ynode_where(c->err, c->doc, y);
		strbuf_addstr(c->err, "a selector definition is a string or a mapping");
		return -1;
	}
	if (ymap_get(y, "union"))
		return eval_list(c, ymap_get(y, "union"), 0, out);
	if (ymap_get(y, "intersection"))
		return eval_list(c, ymap_get(y, "intersection"), 1, out);
	const char *method = yscalar(y, "method");
	if (method) {
		int ok = starts_with(method, "config.");
		for (const char *const *m = methods; *m && !ok; m++)
			ok = !strcmp(*m, method);
		if (!ok) {
			ynode_where(c->err, c->doc, y);
			strbuf_addf(c->err, "unknown selector method '%s'", method);
			return -1;
		}
		return eval_method(c, y, method, yscalar(y, "value"), out);
	}
	/* the key-value shorthand: {tag: nightly} */
	if (y->n >= 1 && y->pairs[0].value->kind == Y_SCALAR) {
		const char *k = y->pairs[0].key->str;
		int ok = starts_with(k, "config.");
		for (const char *const *m = methods; *m && !ok; m++)
			ok = !strcmp(*m, k);
		if (ok)
			return eval_method(c, y, k, y->pairs[0].value->str, out);
	}
	ynode_where(c->err, c->doc, y);
	strbuf_addstr(c->err, "a selector definition needs 'method' and 'value', 'union' or 'intersection'");
	return -1;
}

/* dbt renders every string of selectors.yml as Jinja (env_var, var,
 * target), as it renders dbt_project.yml; a rendered value is read as if
 * written unquoted, so that "{{ target.name == 'dev' }}" is a boolean. */
static int render_node(struct dbt_project *p, struct ydoc *doc, struct ynode *y, struct strbuf *err)
{
	if (!y)
		return 0;
	if (y->kind == Y_SCALAR && y->str && (strstr(y->str, "{{") || strstr(y->str, "{%"))) {
		struct strbuf out = STRBUF_INIT, e = STRBUF_INIT;
		int r = dbt_render_string(p, NULL, NULL, 0, "selectors.yml", y->str, &out, &e);
		if (r < 0) {
			strbuf_trim(&e);
			ynode_where(err, doc, y);
			strbuf_addf(err, "Could not render %s: %s", y->str, e.buf);
		} else {
			strbuf_trim(&out);
			y->str = arena_strdup(&doc->arena, out.buf);
			y->quoted = 0;
		}
		strbuf_release(&out);
		strbuf_release(&e);
		return r;
	}
	for (size_t i = 0; y->kind == Y_SEQ && i < y->n; i++)
		if (render_node(p, doc, y->items[i], err) < 0)
			return -1;
	for (size_t i = 0; y->kind == Y_MAP && i < y->n; i++)
		if (render_node(p, doc, y->pairs[i].value, err) < 0)
			return -1;
	return 0;
}

static int read_selectors(struct dbt_project *p, struct ydoc *doc, int required, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int ret = -1;
	strbuf_addf(&path, "%s/selectors.yml", p->dir);
	if (strbuf_read_file(&text, path.buf) < 0) {
		if (required)
			strbuf_addf(err, "--selector: the project has no selectors.yml (%s)", path.buf);
		else
			ret = 0;
		goto out;
	}
	if (ydoc_parse(doc, "selectors.yml", text.buf, text.len, err) < 0)
		goto out;
	if (render_node(p, doc, doc->root, err) < 0) {
		ydoc_release(doc);
		goto out;
	}
	ret = 1;
out:
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

int dbt_default_selector(struct dbt_project *p, char **name, struct strbuf *err)
{
	struct ydoc doc = { 0 };
	*name = NULL;
	int r = read_selectors(p, &doc, 0, err);
	if (r <= 0)
		return r;
	const struct ynode *list = ymap_get(doc.root, "selectors");
	for (size_t i = 0; list && list->kind == Y_SEQ && i < list->n; i++) {
		if (!ytrue(list->items[i], "default"))
			continue;
		const char *nm = yscalar(list->items[i], "name");
		if (*name) {
			ynode_where(err, &doc, list->items[i]);
			strbuf_addf(err, "selectors.yml: two selectors are the default ('%s' and '%s')", *name,
				    nm ? nm : "?");
			free(*name);
			*name = NULL;
			ydoc_release(&doc);
			return -1;
		}
		*name = xstrdup(nm ? nm : "");
	}
	ydoc_release(&doc);
	return 0;
}

int dbt_select_named(struct dbt_project *p, const char *name, unsigned kinds, struct strbuf *err)
{
	struct ydoc doc = { 0 };
	int ret = -1;
	if (read_selectors(p, &doc, 1, err) < 0)
		return -1;
	struct yctx c = { p, &doc, ymap_get(doc.root, "selectors"), err, 0 };
	const struct ynode *sel = find_selector(&c, name);
	unsigned char *in = xcalloc(p->nr + 1, 1), *ex = xcalloc(p->nr + 1, 1);
	if (!sel) {
		strbuf_addf(err, "--selector '%s': no selector of that name in selectors.yml", name);
		goto out;
	}
	if (eval_def(&c, ymap_get(sel, "definition"), in) < 0)
		goto out;
	mark_selected(p, in, ex, kinds);
	ret = 0;
out:
	free(in);
	free(ex);
	ydoc_release(&doc);
	return ret;
}
