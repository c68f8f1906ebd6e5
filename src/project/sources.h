/* .dango/sources.yml: loading, validation, and edits that keep the user's
 * comments, order and layout (entries are added and removed as text, at the
 * places the parse tree points to, then the result is parsed again). */
#ifndef DANGO_PROJECT_SOURCES_H
#define DANGO_PROJECT_SOURCES_H
#include <stdint.h>
#include "core/strbuf.h"
#include "core/yaml.h"
struct source_type;
struct env;

struct source {
	const char *name;
	const char *type_name;
	const struct source_type *type;  /* NULL for an unknown type */
	int enabled;
	const char *description;         /* may be NULL */
	const char *deduplication;       /* NULL: the default (latest_only) */
	int64_t lookback_days;
	const struct ynode *node;        /* the whole entry */
	const struct ynode *block;       /* the block named like the type; may be NULL */
};

struct source_list {
	char *path;                      /* as given to sources_load */
	const char *display;             /* ".dango/sources.yml" in messages */
	struct strbuf text;
	struct ydoc doc;
	struct source *items;
	size_t nr, alloc;
};

/* Load and validate. A missing file is an empty list. On problems returns
 * -1 with every problem in err, one per line (no trailing newline), and
 * list released (releasing it again is harmless). */
int sources_load(struct source_list *list, const char *path, const char *display, struct strbuf *err);
/* Parse text as sources.yml content (for checking an edit before saving). */
int sources_parse(struct source_list *list, const char *display, const char *text, size_t len,
		  struct strbuf *err);
void sources_release(struct source_list *list);
struct source *sources_find(const struct source_list *list, const char *name);
/* Names of all sources, NULL-terminated; caller frees the array only. */
const char **sources_names(const struct source_list *list);

/* A key's value in a source's block as a string (borrowed) or NULL. */
const char *source_get(const struct source *s, const char *key);
/* The secrets a source needs: every *_env key in its block, and whether each
 * is set. Calls fn(key, var_name, value_or_NULL, data). */
void source_each_secret(const struct source *s, const struct env *env,
			void (*fn)(const char *key, const char *var, const char *value, void *data), void *data);

/* New file text with an entry (YAML text of one mapping, unindented, "name: x\n...")
 * appended to the sources list; -1 with err if the list is in flow style. */
int sources_text_append(const struct source_list *list, const char *entry, struct strbuf *out, struct strbuf *err);
/* New file text without the named entry; -1 with err if there is no such
 * entry or the list is in flow style. */
int sources_text_remove(const struct source_list *list, const char *name, struct strbuf *out, struct strbuf *err);
/* Validate new text and write it atomically; -1 with a message otherwise. */
int sources_save(const char *path, const char *display, const char *text, struct strbuf *err);

/* The starting content of a new project's sources.yml. */
void sources_default_yml(struct strbuf *sb);

#endif
