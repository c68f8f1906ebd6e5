#include "project/sources.h"
#include "project/yaml_edit.h"
#include "project/schema.h"
#include "core/env.h"
#include "core/fs.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "sources/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const dedup_choices[] = { "latest_only", "scd_type2", "none", NULL };
static const char *const periods[] = { "minute", "hour", "day", NULL };

/* dbt's freshness shape, written into the generated sources file */
static const struct cfg_key after_keys[] = {
	{ "count", CFG_INT, CFG_REQUIRED, NULL, NULL, NULL },
	{ "period", CFG_STR, CFG_REQUIRED, NULL, periods, NULL },
	{ NULL }
};
static const struct cfg_key freshness_keys[] = {
	{ "warn_after", CFG_MAP, 0, after_keys, NULL, NULL },
	{ "error_after", CFG_MAP, 0, after_keys, NULL, NULL },
	{ NULL }
};
/* per raw table: what dango generate should use */
static const struct cfg_key table_keys[] = {
	{ "primary_key", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "deduplication", CFG_STR, 0, NULL, dedup_choices, NULL },
	{ NULL }
};

/* Keys every entry may have; the type's block is checked separately. */
static const struct cfg_key common_keys[] = {
	{ "name", CFG_STR, CFG_REQUIRED, NULL, NULL, NULL },
	{ "type", CFG_STR, CFG_REQUIRED, NULL, NULL, NULL },
	{ "enabled", CFG_BOOL, 0, NULL, NULL, NULL },
	{ "description", CFG_STR, 0, NULL, NULL, NULL },
	{ "tags", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "lookback_days", CFG_INT, 0, NULL, NULL, NULL },
	{ "deduplication", CFG_STR, 0, NULL, dedup_choices, NULL },
	{ "freshness", CFG_MAP, 0, freshness_keys, NULL, NULL },
	{ "tables", CFG_FREE_MAP, 0, NULL, NULL, NULL },
	{ NULL }
};

static const struct cfg_key top_keys[] = {
	{ "version", CFG_STR, 0, NULL, NULL, NULL },
	{ "sources", CFG_ANY, 0, NULL, NULL, NULL },
	{ NULL }
};

static int check_entry(struct source_list *list, const struct ynode *e, struct strbuf *err)
{
	const struct ydoc *doc = &list->doc;
	int bad = 0;
	struct strbuf where = STRBUF_INIT;
	const struct ynode *name = ymap_get(e, "name"), *type = ymap_get(e, "type");
	const char *n = name && name->kind == Y_SCALAR && !ynode_is_null(name) ? name->str : NULL;
	const char *t = type && type->kind == Y_SCALAR && !ynode_is_null(type) ? type->str : NULL;

	if (n)
		strbuf_addf(&where, "source '%s'", n);
	else
		strbuf_addf(&where, "source #%zu", list->nr + 1);

	if (n && !is_snake_case(n)) {
		ynode_where(err, doc, name);
		strbuf_addf(err, "source name '%s' must be lowercase snake_case (letters, digits, _)\n", n);
		bad++;
	}
	if (n && sources_find(list, n)) {
		ynode_where(err, doc, name);
		strbuf_addf(err, "duplicate source name '%s' (first defined at line %d)\n", n,
			    sources_find(list, n)->node->line);
		bad++;
	}
	const struct source_type *st = t ? source_type_find(t) : NULL;
	if (t && !st) {
		ynode_where(err, doc, type);
		strbuf_addf(err, "unknown source type '%s' in %s", t, where.buf);
		const char *hint = did_you_mean(t, source_type_names());
		if (hint)
			strbuf_addf(err, " (did you mean '%s'?)", hint);
		strbuf_addch(err, '\n');
		bad++;
	}

	/* other keys: the common ones, or the block named like the type */
	for (size_t i = 0; i < e->n; i++) {
		const struct ypair *p = &e->pairs[i];
		const char *k = p->key->str;
		int common = 0;
		for (size_t j = 0; common_keys[j].name; j++)
			common |= !strcmp(common_keys[j].name, k);
		if (common || (t && !strcmp(k, t)))
			continue;
		ynode_where(err, doc, p->key);
		if (source_type_find(k))
			strbuf_addf(err, "block '%s' in %s does not match its type '%s'\n", k, where.buf,
				    t ? t : "(none)");
		else {
			const char **names = cfg_key_names(common_keys);
			const char *hint = did_you_mean(k, names);
			if (!hint && t && levenshtein(k, t) <= 2)
				hint = t;
			strbuf_addf(err, "unknown key '%s' in %s", k, where.buf);
			if (hint)
				strbuf_addf(err, " (did you mean '%s'?)", hint);
			strbuf_addch(err, '\n');
			free(names);
		}
		bad++;
	}
	/* the common keys' own values */
	struct ynode shallow = *e;
	struct ypair *keep = xcalloc(e->n ? e->n : 1, sizeof(*keep));
	shallow.pairs = keep;
	shallow.n = 0;
	for (size_t i = 0; i < e->n; i++)
		for (size_t j = 0; common_keys[j].name; j++)
			if (!strcmp(common_keys[j].name, e->pairs[i].key->str))
				keep[shallow.n++] = e->pairs[i];
	bad += schema_check(doc, &shallow, common_keys, where.buf, err);
	free(keep);

	const struct ynode *tables = ymap_get(e, "tables");
	for (size_t i = 0; tables && tables->kind == Y_MAP && i < tables->n; i++) {
		const struct ynode *tv = tables->pairs[i].value;
		if (tv->kind != Y_MAP) {
			ynode_where(err, doc, tv);
			strbuf_addf(err, "table '%s' in %s must be a mapping (primary_key, deduplication)\n",
				    tables->pairs[i].key->str, where.buf);
			bad++;
		} else {
			bad += schema_check(doc, tv, table_keys, where.buf, err);
		}
	}
	const struct ynode *block = t ? ymap_get(e, t) : NULL;
	if (st) {
		if (block && !ynode_is_null(block) && block->kind != Y_MAP) {
			ynode_where(err, doc, block);
			strbuf_addf(err, "'%s' in %s must be a mapping of keys\n", t, where.buf);
			bad++;
		} else {
			struct ynode empty = { .kind = Y_MAP, .line = e->line, .col = e->col };
			const struct ynode *b = block && block->kind == Y_MAP ? block : &empty;
			bad += schema_check(doc, b, st->keys, where.buf, err);
			if (st->check && n)
				bad += st->check(doc, e, block && block->kind == Y_MAP ? block : NULL, n, err);
		}
	}

	if (n && t) {
		ALLOC_GROW(list->items, list->nr + 1, list->alloc);
		struct source *s = &list->items[list->nr++];
		memset(s, 0, sizeof(*s));
		s->name = n;
		s->type_name = t;
		s->type = st;
		s->node = e;
		s->block = block && block->kind == Y_MAP ? block : NULL;
		int en = 1;
		ynode_bool(ymap_get(e, "enabled"), &en);
		s->enabled = en;
		const struct ynode *d = ymap_get(e, "description");
		s->description = d && d->kind == Y_SCALAR && !ynode_is_null(d) ? d->str : NULL;
		d = ymap_get(e, "deduplication");
		s->deduplication = d && d->kind == Y_SCALAR && !ynode_is_null(d) ? d->str : NULL;
		ynode_int(ymap_get(e, "lookback_days"), &s->lookback_days);
	}
	strbuf_release(&where);
	return bad;
}

int sources_parse(struct source_list *list, const char *display, const char *text, size_t len,
		  struct strbuf *err)
{
	int bad = 0;
	list->display = display;
	if (list->text.buf != text) {
		strbuf_reset(&list->text);
		strbuf_add(&list->text, text, len);
	}
	if (ydoc_parse(&list->doc, display, list->text.buf, list->text.len, err) < 0)
		return -1;
	const struct ynode *r = list->doc.root;
	if (!r)
		return 0;
	if (r->kind != Y_MAP) {
		ynode_where(err, &list->doc, r);
		strbuf_addstr(err, "sources.yml must be a mapping with a 'sources:' list");
		return -1;
	}
	bad += schema_check(&list->doc, r, top_keys, "sources.yml", err);
	const struct ynode *srcs = ymap_get(r, "sources");
	if (srcs && !ynode_is_null(srcs)) {
		if (srcs->kind != Y_SEQ) {
			ynode_where(err, &list->doc, srcs);
			strbuf_addf(err, "'sources' must be a list, not %s\n", ynode_kind_name(srcs));
			bad++;
		} else {
			for (size_t i = 0; i < srcs->n; i++) {
				const struct ynode *e = srcs->items[i];
				if (e->kind != Y_MAP) {
					ynode_where(err, &list->doc, e);
					strbuf_addstr(err, "each source must be a mapping with 'name' and 'type'\n");
					bad++;
					continue;
				}
				bad += check_entry(list, e, err);
			}
		}
	}
	if (bad) {
		strbuf_rtrim(err);
		return -1;
	}
	return 0;
}

int sources_load(struct source_list *list, const char *path, const char *display, struct strbuf *err)
{
	memset(list, 0, sizeof(*list));
	strbuf_init(&list->text, 0);
	list->path = xstrdup(path);
	if (strbuf_read_file(&list->text, path) < 0) {
		if (errno == ENOENT) {
			list->display = display;
			return 0;
		}
		strbuf_addf(err, "%s: cannot read: %s", display, strerror(errno));
		sources_release(list);
		return -1;
	}
	/* on failure nothing is kept: callers only print err */
	if (sources_parse(list, display, list->text.buf, list->text.len, err) < 0) {
		sources_release(list);
		return -1;
	}
	return 0;
}

void sources_release(struct source_list *list)
{
	ydoc_release(&list->doc);
	strbuf_release(&list->text);
	free(list->items);
	free(list->path);
	memset(list, 0, sizeof(*list));
}

struct source *sources_find(const struct source_list *list, const char *name)
{
	for (size_t i = 0; i < list->nr; i++)
		if (!strcmp(list->items[i].name, name))
			return &list->items[i];
	return NULL;
}

const char **sources_names(const struct source_list *list)
{
	const char **names = xcalloc(list->nr + 1, sizeof(*names));
	for (size_t i = 0; i < list->nr; i++)
		names[i] = list->items[i].name;
	return names;
}

const char *source_get(const struct source *s, const char *key)
{
	const struct ynode *n = ymap_get(s->block, key);
	return n && n->kind == Y_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

static void each_secret_in(const struct ynode *map, const struct env *env,
			   void (*fn)(const char *, const char *, const char *, void *), void *data)
{
	if (!map)
		return;
	if (map->kind == Y_SEQ) {
		for (size_t i = 0; i < map->n; i++)
			each_secret_in(map->items[i], env, fn, data);
		return;
	}
	if (map->kind != Y_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		const struct ypair *p = &map->pairs[i];
		if (ends_with(p->key->str, "_env") && p->value->kind == Y_SCALAR && *p->value->str)
			fn(p->key->str, p->value->str, env_lookup(env, p->value->str, NULL), data);
		else
			each_secret_in(p->value, env, fn, data);
	}
}

void source_each_secret(const struct source *s, const struct env *env,
			void (*fn)(const char *, const char *, const char *, void *), void *data)
{
	each_secret_in(s->block, env, fn, data);
}

int sources_text_append(const struct source_list *list, const char *entry, struct strbuf *out, struct strbuf *err)
{
	return yedit_list_append(&list->text, list->doc.root, "sources", entry, "version: \"1.0\"\n", list->display,
				 out, err);
}

int sources_text_remove(const struct source_list *list, const char *name, struct strbuf *out, struct strbuf *err)
{
	struct source *s = sources_find(list, name);
	if (!s) {
		strbuf_reset(out);
		strbuf_addf(err, "no source named '%s' in %s", name, list->display);
		return -1;
	}
	return yedit_list_remove(&list->text, list->doc.root, "sources", s->node, list->display, out, err);
}

int sources_save(const char *path, const char *display, const char *text, struct strbuf *err)
{
	struct source_list check = { 0 };
	int r = sources_parse(&check, display, text, strlen(text), err);
	sources_release(&check);
	if (r < 0)
		return -1;
	/* it may name secrets' variables, or hold a secret by mistake: 0600 */
	if (fs_write_atomic_mode(path, text, strlen(text), 0600) < 0) {
		strbuf_addf(err, "%s: cannot write: %s", display, strerror(errno));
		return -1;
	}
	return 0;
}

void sources_default_yml(struct strbuf *sb)
{
	strbuf_addstr(sb,
		      "# Data sources. Add one with 'dango source add'; secrets go in .env,\n"
		      "# referenced here by keys ending in _env.\n"
		      "version: \"1.0\"\n"
		      "sources: []\n");
}
