/* The node graph: refs and sources become edges parent -> child; the order
 * of execution is Kahn's, stable by file order; a cycle is named. */
#include "transform/dbt.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static int has_edge(const struct dbt_node *child, size_t parent)
{
	for (size_t i = 0; i < child->nparents; i++)
		if (child->parents[i] == parent)
			return 1;
	return 0;
}

static void add_edge(struct dbt_project *p, size_t parent, size_t child)
{
	struct dbt_node *c = p->nodes[child], *par = p->nodes[parent];
	if (parent == child || has_edge(c, parent))
		return;
	ALLOC_GROW(c->parents, c->nparents + 1, c->aparents);
	c->parents[c->nparents++] = parent;
	ALLOC_GROW(par->children, par->nchildren + 1, par->achildren);
	par->children[par->nchildren++] = child;
}

static void describe(struct strbuf *sb, const struct dbt_node *n)
{
	strbuf_addf(sb, "%s '%s' (%s)", dbt_node_kind_name(n->kind), n->name, n->file);
}

static void suggest(struct strbuf *err, const struct dbt_project *p, const char *name)
{
	const char **names = xcalloc(p->nr + 1, sizeof(*names));
	size_t k = 0;
	for (size_t i = 0; i < p->nr; i++)
		if (p->nodes[i]->kind == NODE_MODEL || p->nodes[i]->kind == NODE_SEED)
			names[k++] = p->nodes[i]->name;
	names[k] = NULL;
	const char *hint = did_you_mean(name, names);
	if (hint)
		strbuf_addf(err, " (did you mean '%s'?)", hint);
	free(names);
}

static int find_cycle(const struct dbt_project *p, const int *left, struct strbuf *err)
{
	/* walk parents from any node left over: in a graph where every node
	 * has a parent left, the walk must come back to a node it saw */
	size_t start = 0;
	while (!left[start])
		start++;
	size_t *path = xcalloc(p->nr + 1, sizeof(*path));
	int *pos = xcalloc(p->nr, sizeof(*pos));
	size_t len = 0, cur = start;
	for (;;) {
		if (pos[cur]) {
			size_t from = (size_t)pos[cur] - 1;
			strbuf_addstr(err, "found a cycle: ");
			/* print in dependency order: parent --> child */
			for (size_t i = len; i > from; i--)
				strbuf_addf(err, "%s --> ", p->nodes[path[i - 1]]->unique_id);
			strbuf_addstr(err, p->nodes[path[len - 1]]->unique_id);
			break;
		}
		path[len++] = cur;
		pos[cur] = (int)len;
		const struct dbt_node *n = p->nodes[cur];
		size_t next = n->nparents ? n->parents[0] : cur;
		for (size_t i = 0; i < n->nparents; i++)
			if (left[n->parents[i]]) {
				next = n->parents[i];
				break;
			}
		cur = next;
	}
	free(path);
	free(pos);
	return -1;
}

size_t *dbt_graph_order(const struct dbt_project *p)
{
	size_t *order = xcalloc(p->nr + 1, sizeof(*order));
	size_t *indeg = xcalloc(p->nr + 1, sizeof(*indeg));
	size_t *queue = xcalloc(p->nr + 1, sizeof(*queue));
	size_t head = 0, tail = 0, k = 0;
	for (size_t i = 0; i < p->nr; i++) {
		indeg[i] = p->nodes[i]->nparents;
		if (!indeg[i])
			queue[tail++] = i;
	}
	while (head < tail) {
		size_t i = queue[head++];
		order[k++] = i;
		const struct dbt_node *n = p->nodes[i];
		for (size_t c = 0; c < n->nchildren; c++)
			if (--indeg[n->children[c]] == 0)
				queue[tail++] = n->children[c];
	}
	free(indeg);
	free(queue);
	if (k < p->nr) {
		free(order);
		return NULL;
	}
	return order;
}

int dbt_graph_build(struct dbt_project *p, struct strbuf *err)
{
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (n->attached >= 0)
			add_edge(p, (size_t)n->attached, i);
		for (size_t r = 0; r < n->refs.nr; r++) {
			struct dbt_node *t = dbt_project_find(p, n->refs.v[r]);
			const char *dot = strchr(n->refs.v[r], '.');
			if (t && t->kind == NODE_SOURCE)
				t = NULL;
			if (!t && dot) /* ref('package', 'name') */
				t = dbt_project_find(p, dot + 1);
			if (t == n) {
				/* dbt reports a model that refs itself as a cycle, at load */
				strbuf_addf(err, "found a cycle: %s --> %s (%s refs itself)", n->unique_id, n->unique_id,
					    n->file);
				return -1;
			}
			const char *at = strstr(n->refs.v[r], "@v");
			if ((!t || t->kind == NODE_SOURCE) && at) {
				describe(err, n);
				strbuf_addf(err, " depends on a node named '%.*s' with version '%s' which was not found",
					    (int)(at - n->refs.v[r]), n->refs.v[r], at + 2);
				return -1;
			}
			const char *colon = strchr(n->refs.v[r], ':');
			if (!t && colon) {
				/* metric:x, measure:x of a metric or an exposure */
				describe(err, n);
				strbuf_addf(err, " depends on a %.*s named '%s' which was not found",
					    (int)(colon - n->refs.v[r]), n->refs.v[r], colon + 1);
				return -1;
			}
			if (!t || t->kind == NODE_SOURCE) {
				describe(err, n);
				strbuf_addf(err, " depends on a node named '%s' which was not found", n->refs.v[r]);
				suggest(err, p, n->refs.v[r]);
				return -1;
			}
			add_edge(p, t->index, i);
		}
		for (size_t s = 0; s < n->sources.nr; s++) {
			struct strbuf key = STRBUF_INIT;
			strbuf_addf(&key, "source:%s", n->sources.v[s]);
			struct dbt_node *t = dbt_project_find(p, key.buf);
			strbuf_release(&key);
			if (!t) {
				describe(err, n);
				strbuf_addf(err, " depends on a source named '%s' which was not found", n->sources.v[s]);
				return -1;
			}
			add_edge(p, t->index, i);
		}
	}
	size_t *order = dbt_graph_order(p);
	if (!order) {
		/* what Kahn's algorithm could not place holds the cycle */
		size_t *indeg = xcalloc(p->nr, sizeof(*indeg));
		int *left = xcalloc(p->nr, sizeof(*left));
		size_t *queue = xcalloc(p->nr, sizeof(*queue));
		size_t head = 0, tail = 0;
		for (size_t i = 0; i < p->nr; i++) {
			indeg[i] = p->nodes[i]->nparents;
			left[i] = 1;
			if (!indeg[i])
				queue[tail++] = i;
		}
		while (head < tail) {
			size_t i = queue[head++];
			left[i] = 0;
			for (size_t c = 0; c < p->nodes[i]->nchildren; c++)
				if (--indeg[p->nodes[i]->children[c]] == 0)
					queue[tail++] = p->nodes[i]->children[c];
		}
		find_cycle(p, left, err);
		free(indeg);
		free(left);
		free(queue);
		return -1;
	}
	free(order);
	return dbt_check_access(p, err);
}

static int reaches(const struct dbt_project *p, size_t from, size_t to, unsigned char *seen)
{
	if (from == to)
		return 1;
	if (seen[from])
		return 0;
	seen[from] = 1;
	const struct dbt_node *n = p->nodes[from];
	for (size_t i = 0; i < n->nchildren; i++)
		if (reaches(p, n->children[i], to, seen))
			return 1;
	return 0;
}

void dbt_graph_add_test_edges(struct dbt_project *p)
{
	size_t nr = p->nr;
	/* a model is built after its unit tests pass, as dbt build does */
	for (size_t t = 0; t < nr; t++) {
		struct dbt_node *test = p->nodes[t];
		if (test->kind == NODE_TEST && test->unit_model >= 0 && !has_edge(test, (size_t)test->unit_model))
			add_edge(p, t, (size_t)test->unit_model);
	}
	for (size_t t = 0; t < nr; t++) {
		struct dbt_node *test = p->nodes[t];
		if (test->kind != NODE_TEST || test->attached < 0)
			continue;
		struct dbt_node *a = p->nodes[test->attached];
		size_t nchildren = a->nchildren;
		for (size_t c = 0; c < nchildren; c++) {
			size_t child = a->children[c];
			if (p->nodes[child]->kind == NODE_TEST || has_edge(test, child))
				continue;
			/* never close a loop: the child must not lead back to the test */
			int loop = 0;
			if (test->nparents > 1) {
				unsigned char *seen = xcalloc(p->nr, 1);
				loop = reaches(p, child, t, seen);
				free(seen);
			}
			if (!loop)
				add_edge(p, t, child);
		}
	}
}
