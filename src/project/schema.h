/* Checks a YAML mapping against a table of allowed keys (sources/registry.h)
 * and reports every problem, one per line, as
 *   FILE:LINE:COL: unknown key 'endpiont' in source 'x' (did you mean 'endpoint'?)
 * Returns the number of problems found. */
#ifndef DANGO_PROJECT_SCHEMA_H
#define DANGO_PROJECT_SCHEMA_H
#include "sources/registry.h"
struct ydoc;
struct ynode;
struct strbuf;

int schema_check(const struct ydoc *doc, const struct ynode *map, const struct cfg_key *keys,
		 const char *where, struct strbuf *err);

#endif
