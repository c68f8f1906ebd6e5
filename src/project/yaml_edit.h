#ifndef DANGO_YAML_EDIT_H
#define DANGO_YAML_EDIT_H

#include "core/strbuf.h"
#include "core/yaml.h"

/*
 * Edits of the lists in Dango's own YAML files (sources.yml, schedules.yml)
 * as text, so that the user's comments, order and layout stay: the parsed
 * document gives the offsets, and the text is copied around them. Lists
 * written in flow style ([...]) are refused rather than rewritten.
 */

/* Where the line holding off starts; just past the newline that ends it
 * (a node ending exactly at a line start ends on the line before). */
size_t yedit_line_start(const struct strbuf *text, size_t off);
size_t yedit_line_end(const struct strbuf *text, size_t off);

/* text with entry (block YAML of one item, without its "- ") appended to
 * the top-level list `key` of root, at the indentation of the items there;
 * a missing or empty list becomes "key:" with the item. new_file is what an
 * empty text starts with. Into out; < 0 with err naming display. */
int yedit_list_append(const struct strbuf *text, const struct ynode *root, const char *key, const char *entry,
		      const char *new_file, const char *display, struct strbuf *out, struct strbuf *err);

/* text without item, an element of the top-level list `key`; the list left
 * empty stays a list ("key: []"). */
int yedit_list_remove(const struct strbuf *text, const struct ynode *root, const char *key,
		      const struct ynode *item, const char *display, struct strbuf *out, struct strbuf *err);

#endif
