/* dbt's governance of models: versions (how they are named and ordered)
 * and access (private to a group, protected to a package, public), checked
 * over the graph's edges once the project is loaded, as dbt checks them
 * when it parses. */
#include "transform/dbt.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

char *dbt_version_key(const char *name, const char *v)
{
	return xasprintf("%s@v%s", name, v);
}

/* dbt orders versions as numbers when both are numbers, else as text */
int dbt_version_cmp(const char *a, const char *b)
{
	char *ea, *eb;
	double x = strtod(a, &ea), y = strtod(b, &eb);
	if (*a && *b && !*ea && !*eb)
		return x < y ? -1 : x > y;
	return strcmp(a, b);
}

static const char *access_of(const struct dbt_node *n)
{
	const char *a = dbt_config_str(n, "access");
	return a ? a : "protected";
}

static int check_groups(struct dbt_project *p, struct strbuf *err)
{
	for (size_t i = 0; i < p->nr; i++) {
		const struct dbt_node *n = p->nodes[i];
		const char *g = dbt_config_str(n, "group");
		if (g && !jval_dict_get(p->groups, g)) {
			strbuf_addf(err, "%s (%s): Invalid group '%s', expected one of [", n->unique_id, n->file, g);
			const struct jval *k, *v;
			for (size_t j = 0; jval_dict_entry(p->groups, j, &k, &v); j++)
				strbuf_addf(err, "%s'%s'", j ? ", " : "", jval_str_cstr(*k));
			strbuf_addstr(err, "]");
			return -1;
		}
		if (n->kind != NODE_MODEL)
			continue;
		const char *a = access_of(n);
		if (strcmp(a, "private") && strcmp(a, "protected") && strcmp(a, "public")) {
			strbuf_addf(err, "%s (%s): Invalid access type '%s' (private, protected or public)", n->unique_id,
				    n->file, a);
			return -1;
		}
		if (!strcmp(a, "private") && !g) {
			strbuf_addf(err, "%s (%s): a model with access 'private' must be in a group", n->unique_id, n->file);
			return -1;
		}
	}
	return 0;
}

/* The group a node refs from: a generic test takes the group of the node
 * it is attached to, as dbt's generic test parser sets it */
static const char *group_of(const struct dbt_project *p, const struct dbt_node *n)
{
	if (n->kind == NODE_EXPOSURE || n->kind == NODE_SEMANTIC_MODEL)
		return NULL;
	if (n->kind == NODE_TEST && n->test_name && n->attached >= 0)
		return dbt_config_str(p->nodes[n->attached], "group");
	return dbt_config_str(n, "group");
}

int dbt_check_access(struct dbt_project *p, struct strbuf *err)
{
	if (check_groups(p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->nr; i++) {
		const struct dbt_node *n = p->nodes[i];
		/* every node that refs, as dbt's process_refs: models, snapshots,
		 * analyses, data tests (not unit tests), exposures and semantic
		 * models; the last two have no group, so a private model is out
		 * of their reach (dbt-core#10132: intended) */
		if (n->kind != NODE_MODEL && n->kind != NODE_SNAPSHOT && n->kind != NODE_ANALYSIS &&
		    n->kind != NODE_EXPOSURE && n->kind != NODE_SEMANTIC_MODEL &&
		    (n->kind != NODE_TEST || n->unit_model >= 0))
			continue;
		const char *ng = group_of(p, n);
		for (size_t k = 0; k < n->nparents; k++) {
			const struct dbt_node *t = p->nodes[n->parents[k]];
			if (t->kind != NODE_MODEL)
				continue;
			const char *a = access_of(t), *tg = dbt_config_str(t, "group");
			const char *tpkg = t->package_name ? t->package_name : p->name;
			const char *npkg = n->package_name ? n->package_name : p->name;
			if (!strcmp(a, "private") && (!ng || !tg || strcmp(ng, tg))) {
				strbuf_addf(err, "Node %s attempted to reference node %s, which is not allowed because the "
						 "referenced node is private to the '%s' group.",
					    n->unique_id, t->unique_id, tg ? tg : "");
				return -1;
			}
			if (!strcmp(a, "protected") && strcmp(tpkg, npkg) && strvec_has(&p->restrict_access, tpkg)) {
				strbuf_addf(err, "Node %s attempted to reference node %s, which is not allowed because the "
						 "referenced node is protected to the '%s' package.",
					    n->unique_id, t->unique_id, tpkg);
				return -1;
			}
		}
	}
	return 0;
}
