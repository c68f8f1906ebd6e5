#include "project/schema.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <stdlib.h>
#include <string.h>

static int problem(struct strbuf *err, const struct ydoc *doc, const struct ynode *n)
{
	ynode_where(err, doc, n);
	return 1;
}

static int check_value(const struct ydoc *doc, const struct ynode *v, const struct cfg_key *k,
		       const char *where, struct strbuf *err)
{
	int64_t i;
	double d;
	int b, bad = 0;
	if (ynode_is_null(v) && !(k->flags & CFG_REQUIRED))
		return 0;
	switch (k->kind) {
	case CFG_STR:
		if (v->kind != Y_SCALAR) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be a single value, not %s\n", k->name, where,
				    ynode_kind_name(v));
			return 1;
		}
		if (k->choices) {
			for (const char *const *c = k->choices; *c; c++)
				if (!strcmp(*c, v->str))
					return 0;
			problem(err, doc, v);
			strbuf_addf(err, "invalid value '%s' for '%s' in %s (expected one of:", v->str, k->name, where);
			for (const char *const *c = k->choices; *c; c++)
				strbuf_addf(err, "%s %s", c == k->choices ? "" : ",", *c);
			strbuf_addch(err, ')');
			const char *hint = did_you_mean(v->str, k->choices);
			if (hint)
				strbuf_addf(err, " (did you mean '%s'?)", hint);
			strbuf_addch(err, '\n');
			return 1;
		}
		if ((k->flags & CFG_SECRET) && !*v->str) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must name an environment variable\n", k->name, where);
			return 1;
		}
		return 0;
	case CFG_INT:
		if (ynode_int(v, &i) < 0) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be a whole number, not '%s'\n", k->name, where,
				    v->kind == Y_SCALAR ? v->str : ynode_kind_name(v));
			return 1;
		}
		if (i < 0) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must not be negative\n", k->name, where);
			return 1;
		}
		return 0;
	case CFG_NUM:
		if (ynode_double(v, &d) < 0 || d < 0) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be a number of at least 0, not '%s'\n", k->name, where,
				    v->kind == Y_SCALAR ? v->str : ynode_kind_name(v));
			return 1;
		}
		return 0;
	case CFG_BOOL:
		if (ynode_bool(v, &b) < 0) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be true or false, not '%s'\n", k->name, where,
				    v->kind == Y_SCALAR ? v->str : ynode_kind_name(v));
			return 1;
		}
		return 0;
	case CFG_STR_LIST:
		if (v->kind == Y_SCALAR)
			return 0;
		if (v->kind == Y_SEQ) {
			for (size_t j = 0; j < v->n; j++) {
				if (v->items[j]->kind != Y_SCALAR) {
					bad += problem(err, doc, v->items[j]);
					strbuf_addf(err, "'%s' in %s must list plain values\n", k->name, where);
				}
			}
			return bad;
		}
		problem(err, doc, v);
		strbuf_addf(err, "'%s' in %s must be a value or a list of values\n", k->name, where);
		return 1;
	case CFG_MAP:
		if (v->kind != Y_MAP) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be a mapping of keys, not %s\n", k->name, where,
				    ynode_kind_name(v));
			return 1;
		}
		return schema_check(doc, v, k->children, where, err);
	case CFG_LIST_MAP:
		if (v->kind != Y_SEQ) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be a list, not %s\n", k->name, where, ynode_kind_name(v));
			return 1;
		}
		for (size_t j = 0; j < v->n; j++) {
			const struct ynode *item = v->items[j];
			if (item->kind != Y_MAP) {
				bad += problem(err, doc, item);
				strbuf_addf(err, "each of '%s' in %s must be a mapping\n", k->name, where);
				continue;
			}
			bad += schema_check(doc, item, k->children, where, err);
		}
		return bad;
	case CFG_FREE_MAP:
		if (v->kind != Y_MAP) {
			problem(err, doc, v);
			strbuf_addf(err, "'%s' in %s must be a mapping, not %s\n", k->name, where, ynode_kind_name(v));
			return 1;
		}
		return 0;
	case CFG_ANY:
		return 0;
	}
	return 0;
}

int schema_check(const struct ydoc *doc, const struct ynode *map, const struct cfg_key *keys,
		 const char *where, struct strbuf *err)
{
	int bad = 0;
	const char **names = cfg_key_names(keys);
	for (size_t i = 0; i < map->n; i++) {
		const struct ypair *p = &map->pairs[i];
		const struct cfg_key *k = NULL;
		for (size_t j = 0; keys[j].name; j++)
			if (!strcmp(keys[j].name, p->key->str))
				k = &keys[j];
		if (!k) {
			bad += problem(err, doc, p->key);
			strbuf_addf(err, "unknown key '%s' in %s", p->key->str, where);
			const char *hint = did_you_mean(p->key->str, names);
			if (hint)
				strbuf_addf(err, " (did you mean '%s'?)", hint);
			strbuf_addch(err, '\n');
			continue;
		}
		bad += check_value(doc, p->value, k, where, err);
	}
	for (size_t j = 0; keys[j].name; j++) {
		if ((keys[j].flags & CFG_REQUIRED) && ynode_is_null(ymap_get(map, keys[j].name))) {
			bad += problem(err, doc, map);
			strbuf_addf(err, "missing required key '%s' in %s\n", keys[j].name, where);
		}
	}
	free(names);
	return bad;
}
