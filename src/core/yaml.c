#include "yaml.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct anchor {
	const char *name;
	struct ynode *node;
	int open; /* its collection is still being built: an alias is a cycle */
};

struct builder {
	struct ydoc *doc;
	yaml_parser_t parser;
	struct anchor *anchors;
	size_t nr_anchors, alloc_anchors;
	int depth;          /* collections open around the current event */
	size_t alias_nodes; /* nodes the aliases so far add when expanded */
	struct strbuf *err;
};

static void set_start(struct ynode *n, const yaml_mark_t *m)
{
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	n->start_off = m->index;
}

static void set_end(struct ynode *n, const yaml_mark_t *m)
{
	n->end_line = (int)m->line + 1;
	n->end_col = (int)m->column + 1;
	n->end_off = m->index;
}

static int parser_error(struct builder *b)
{
	yaml_parser_t *p = &b->parser;
	const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
	strbuf_addf(b->err, "%s:%zu:%zu: invalid YAML: %s", b->doc->file,
		    m->line + 1, m->column + 1, p->problem ? p->problem : "syntax error");
	if (p->context)
		strbuf_addf(b->err, " (%s at line %zu)", p->context, p->context_mark.line + 1);
	return -1;
}

/* Returns the anchor's index, or -1 when there is none. */
static long remember_anchor(struct builder *b, const yaml_char_t *anchor, struct ynode *n, int open)
{
	if (!anchor)
		return -1;
	ALLOC_GROW(b->anchors, b->nr_anchors + 1, b->alloc_anchors);
	struct anchor *a = &b->anchors[b->nr_anchors];
	a->name = arena_strdup(&b->doc->arena, (const char *)anchor);
	a->node = n;
	a->open = open;
	return (long)b->nr_anchors++;
}

static size_t add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* An alias stands for its anchor's node: refuse a cycle (the alias is
 * inside the node it names), and bound the expanded document. */
static int use_alias(struct builder *b, const yaml_event_t *ev, struct ynode **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
	const struct anchor *a = NULL;
	for (size_t i = b->nr_anchors; i-- > 0;) {
		if (!strcmp(b->anchors[i].name, name)) {
			a = &b->anchors[i];
			break;
		}
	}
	if (!a) {
		strbuf_addf(b->err, "%s:%zu:%zu: unknown alias '*%s'", b->doc->file, line, col, name);
		return -1;
	}
	if (a->open) {
		strbuf_addf(b->err, "%s:%zu:%zu: recursive alias '*%s': it is inside its own anchor '&%s' (line %d)",
			    b->doc->file, line, col, name, name, a->node->line);
		return -1;
	}
	if (b->depth + a->node->height > YAML_MAX_DEPTH) {
		strbuf_addf(b->err, "%s:%zu:%zu: alias '*%s' nests the document deeper than %d levels",
			    b->doc->file, line, col, name, YAML_MAX_DEPTH);
		return -1;
	}
	b->alias_nodes = add_sat(b->alias_nodes, a->node->weight);
	if (b->alias_nodes > YAML_MAX_ALIAS_NODES) {
		strbuf_addf(b->err, "%s:%zu:%zu: aliases expand to more than %d nodes (at '*%s')",
			    b->doc->file, line, col, YAML_MAX_ALIAS_NODES, name);
		return -1;
	}
	*out = a->node;
	return 0;
}

/* Parse one node whose first event is ev (already taken). */
static int build_node(struct builder *b, yaml_event_t *ev, struct ynode **out);

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return parser_error(b);
	return 0;
}

static int build_children(struct builder *b, struct ynode *n, yaml_event_type_t end)
{
	struct ynode **items = NULL;
	size_t nr = 0, alloc = 0;
	int ret = -1;
	for (;;) {
		yaml_event_t ev;
		if (next_event(b, &ev) < 0)
			goto out;
		if (ev.type == end) {
			set_end(n, &ev.end_mark);
			yaml_event_delete(&ev);
			break;
		}
		struct ynode *child;
		int r = build_node(b, &ev, &child);
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
		ALLOC_GROW(items, nr + 1, alloc);
		items[nr++] = child;
		n->weight = add_sat(n->weight, child->weight);
		if (child->height + 1 > n->height)
			n->height = child->height + 1;
	}
	if (n->kind == Y_SEQ) {
		n->items = arena_alloc(&b->doc->arena, nr * sizeof(*n->items));
		if (nr)
			memcpy(n->items, items, nr * sizeof(*items));
		n->n = nr;
	} else {
		n->pairs = arena_alloc(&b->doc->arena, (nr / 2) * sizeof(*n->pairs));
		n->n = 0;
		for (size_t i = 0; i + 1 < nr; i += 2) {
			struct ynode *k = items[i];
			if (k->kind != Y_SCALAR) {
				ynode_where(b->err, b->doc, k);
				strbuf_addstr(b->err, "a mapping key must be a plain value");
				goto out;
			}
			if (ymap_get(n, k->str)) {
				ynode_where(b->err, b->doc, k);
				strbuf_addf(b->err, "duplicate key '%s'", k->str);
				goto out;
			}
			n->pairs[n->n].key = k;
			n->pairs[n->n++].value = items[i + 1];
		}
	}
	ret = 0;
out:
	free(items);
	return ret;
}

static int build_node(struct builder *b, yaml_event_t *ev, struct ynode **out)
{
	struct ynode *n;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return use_alias(b, ev, out);
	case YAML_SCALAR_EVENT:
		n = arena_alloc(&b->doc->arena, sizeof(*n));
		n->kind = Y_SCALAR;
		set_start(n, &ev->start_mark);
		set_end(n, &ev->end_mark);
		n->str = arena_strndup(&b->doc->arena, (const char *)ev->data.scalar.value,
				       ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		n->weight = 1;
		n->height = 1;
		remember_anchor(b, ev->data.scalar.anchor, n, 0);
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int seq = ev->type == YAML_SEQUENCE_START_EVENT;
		if (b->depth >= YAML_MAX_DEPTH) {
			strbuf_addf(b->err, "%s:%zu:%zu: nested deeper than %d levels", b->doc->file,
				    ev->start_mark.line + 1, ev->start_mark.column + 1, YAML_MAX_DEPTH);
			return -1;
		}
		n = arena_alloc(&b->doc->arena, sizeof(*n));
		n->kind = seq ? Y_SEQ : Y_MAP;
		set_start(n, &ev->start_mark);
		n->flow = seq ? ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
			      : ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
		n->weight = 1;
		n->height = 1;
		long a = remember_anchor(b, seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor,
					 n, 1);
		*out = n;
		b->depth++;
		int r = build_children(b, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT);
		b->depth--;
		if (a >= 0)
			b->anchors[a].open = 0;
		return r;
	}
	default:
		strbuf_addf(b->err, "%s:%zu:%zu: unexpected YAML event", b->doc->file,
			    ev->start_mark.line + 1, ev->start_mark.column + 1);
		return -1;
	}
}

int ydoc_parse(struct ydoc *doc, const char *file, const char *text, size_t len, struct strbuf *err)
{
	struct builder b = { .doc = doc, .err = err };
	int ret = -1, docs = 0;
	doc->arena = (struct arena)ARENA_INIT;
	doc->file = file;
	doc->root = NULL;
	yaml_parser_initialize(&b.parser);
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t ev;
		if (next_event(&b, &ev) < 0)
			goto out;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT && docs++ > 0) {
			strbuf_addf(err, "%s:%zu:%zu: only one YAML document is allowed here", file,
				    ev.start_mark.line + 1, ev.start_mark.column + 1);
			yaml_event_delete(&ev);
			goto out;
		}
		if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
		    t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
			int r = build_node(&b, &ev, &doc->root);
			yaml_event_delete(&ev);
			if (r < 0)
				goto out;
			continue;
		}
		yaml_event_delete(&ev);
	}
	/* an empty document parses as a null scalar; treat it as no document */
	if (doc->root && ynode_is_null(doc->root))
		doc->root = NULL;
	ret = 0;
out:
	yaml_parser_delete(&b.parser);
	free(b.anchors);
	if (ret < 0)
		ydoc_release(doc);
	return ret;
}

void ydoc_release(struct ydoc *doc)
{
	arena_release(&doc->arena);
	doc->root = NULL;
}

struct ypair *ymap_pair(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->pairs[i].key->str, key))
			return &map->pairs[i];
	return NULL;
}

struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	struct ypair *p = ymap_pair(map, key);
	return p ? p->value : NULL;
}

int ynode_is_null(const struct ynode *n)
{
	if (!n)
		return 1;
	if (n->kind != Y_SCALAR || n->quoted)
		return 0;
	return !*n->str || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

int ynode_bool(const struct ynode *n, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
	if (!n || n->kind != Y_SCALAR || n->quoted)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(n->str, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcmp(n->str, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int ynode_int(const struct ynode *n, int64_t *out)
{
	char *end;
	if (!n || n->kind != Y_SCALAR || n->quoted || !*n->str)
		return -1;
	errno = 0;
	long long v = strtoll(n->str, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int ynode_double(const struct ynode *n, double *out)
{
	char *end;
	if (!n || n->kind != Y_SCALAR || n->quoted || !*n->str)
		return -1;
	errno = 0;
	double v = strtod(n->str, &end);
	if (errno || *end || isnan(v))
		return -1;
	*out = v;
	return 0;
}

const char *ynode_kind_name(const struct ynode *n)
{
	if (!n || ynode_is_null(n))
		return "nothing";
	switch (n->kind) {
	case Y_SEQ: return "a list";
	case Y_MAP: return "a mapping";
	default: return "a value";
	}
}

const struct ynode *ynode_last_content(const struct ynode *n)
{
	while (n && !n->flow) {
		if (n->kind == Y_SEQ && n->n)
			n = n->items[n->n - 1];
		else if (n->kind == Y_MAP && n->n)
			n = n->pairs[n->n - 1].value;
		else
			break;
	}
	return n;
}

void ynode_where(struct strbuf *sb, const struct ydoc *doc, const struct ynode *n)
{
	if (n)
		strbuf_addf(sb, "%s:%d:%d: ", doc->file, n->line, n->col);
	else
		strbuf_addf(sb, "%s: ", doc->file);
}

void yaml_add_scalar(struct strbuf *sb, const char *s)
{
	int plain = *s && !isspace((unsigned char)*s) && !isspace((unsigned char)s[strlen(s) - 1]);
	static const char *const special[] = {
		"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n",
	};
	if (plain && strchr("-?:,[]{}#&*!|>'\"%@`", *s))
		plain = 0;
	for (const char *p = s; plain && *p; p++) {
		if ((unsigned char)*p < 0x20 || (*p == ':' && (p[1] == ' ' || !p[1])) ||
		    (*p == '#' && p > s && p[-1] == ' '))
			plain = 0;
	}
	for (size_t i = 0; plain && i < ARRAY_SIZE(special); i++)
		if (!strcasecmp(s, special[i]))
			plain = 0;
	if (plain) {
		/* numbers would change type on the way back */
		char *end;
		strtod(s, &end);
		if (!*end)
			plain = 0;
	}
	if (plain) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addch(sb, '"');
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		default:
			if ((unsigned char)*p < 0x20)
				strbuf_addf(sb, "\\x%02x", (unsigned char)*p);
			else
				strbuf_addch(sb, *p);
		}
	}
	strbuf_addch(sb, '"');
}
