/* A parsed template: its arena-allocated tree and what the tree owns. */
#ifndef DANGO_JINJA_TEMPLATE_H
#define DANGO_JINJA_TEMPLATE_H
#include "ast.h"
#include "core/arena.h"

struct jinja_env;
struct strbuf;

struct jinja_template {
	unsigned refcnt;
	struct arena arena;
	const char *file; /* in the arena */
	struct body body;
	struct jval *consts; /* heap constants in the tree, released with it */
	size_t nconsts, aconsts;
	struct macro **docs; /* docs blocks, in order */
	size_t ndocs, adocs;
};

/* parser.c: fill t (whose arena and file are set) from src. */
int parser_run(struct jinja_template *t, const struct jinja_env *env, const char *src, size_t len,
	       struct strbuf *err);

#endif
