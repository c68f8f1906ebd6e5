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

static int parse_sel(const char *tok, struct sel *s, struct strbuf *err)
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
	static const char *const methods[] = { "fqn", "path", "tag", "source", "resource_type", "test_type",
					       "test_name", "package", "file", NULL };
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
		return !strcmp(v, p->name);
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
		if (parse_sel(tokens->v[t], &s, err) < 0)
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
	for (size_t i = 0; i < p->nr; i++)
		p->nodes[i]->selected = in[i] && !ex[i] && (kinds & (1u << p->nodes[i]->kind)) &&
					!(p->nodes[i]->kind == NODE_MODEL && p->nodes[i]->mat == MAT_EPHEMERAL &&
					  !(kinds & (1u << NODE_SOURCE)));
	ret = 0;
out:
	free(in);
	free(ex);
	return ret;
}
