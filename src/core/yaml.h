/* A YAML document as a tree that remembers where each node stands in the
 * file, so that validation can say "sources.yml:14:7: ...". Built on
 * libyaml's event parser; all nodes live in the document's arena and go
 * away with ydoc_release(). Aliases point at their anchor's node, so the
 * tree is a DAG: the parser refuses an alias inside its own anchor (a
 * cycle), and bounds what aliases add when the tree is walked as if
 * expanded (YAML_MAX_ALIAS_NODES nodes in all, YAML_MAX_DEPTH levels), so
 * that every recursive walk of a parsed document is bounded in time,
 * memory and stack. */
#ifndef DANGO_YAML_H
#define DANGO_YAML_H
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
struct strbuf;

enum ynode_kind { Y_SCALAR, Y_SEQ, Y_MAP };

/* Nesting depth of the expanded document, aliases included. */
#define YAML_MAX_DEPTH 256
/* Nodes that aliases may add to the expanded document ("billion laughs"). */
#define YAML_MAX_ALIAS_NODES 100000

struct ypair;
struct ynode {
	enum ynode_kind kind;
	int line, col;             /* 1-based start */
	int end_line, end_col;     /* 1-based position just past the node */
	size_t start_off, end_off; /* byte offsets of the same */
	int flow;                  /* [..] or {..} rather than block style */
	/* scalars */
	const char *str;
	int quoted;                /* written in quotes: never null or bool */
	/* sequences */
	struct ynode **items;
	/* maps */
	struct ypair *pairs;
	size_t n;                  /* items or pairs */
	/* as if aliases were expanded: nodes in this subtree (saturating at
	 * SIZE_MAX) and levels (1 for a scalar) */
	size_t weight;
	int height;
};

struct ypair {
	struct ynode *key;         /* always a scalar */
	struct ynode *value;
};

struct ydoc {
	struct arena arena;
	const char *file;          /* borrowed; used in messages */
	struct ynode *root;        /* NULL for an empty document */
};

/* Parse text; 0 on success, -1 with "FILE:LINE:COL: message" in err
 * (also for a recursive alias and for the limits above). */
int ydoc_parse(struct ydoc *doc, const char *file, const char *text, size_t len, struct strbuf *err);
void ydoc_release(struct ydoc *doc);

/* The value under key in a map, or NULL (also when map is not a map). */
struct ynode *ymap_get(const struct ynode *map, const char *key);
struct ypair *ymap_pair(const struct ynode *map, const char *key);

int ynode_is_null(const struct ynode *n);
/* Scalars as typed values, by YAML 1.1's rules for plain scalars as PyYAML
 * reads them; 0 on success, -1 if the node is not of that type. */
int ynode_bool(const struct ynode *n, int *out);
int ynode_int(const struct ynode *n, int64_t *out);
int ynode_double(const struct ynode *n, double *out);
const char *ynode_kind_name(const struct ynode *n);

/* Where a node's own text ends: libyaml ends a block collection at the next
 * token, past any trailing comments, so this walks to the last child. */
const struct ynode *ynode_last_content(const struct ynode *n);

/* Append "FILE:LINE:COL: " for node n. */
void ynode_where(struct strbuf *sb, const struct ydoc *doc, const struct ynode *n);

/* Append s to sb as a YAML scalar, quoted when plain style would change it. */
void yaml_add_scalar(struct strbuf *sb, const char *s);

#endif
