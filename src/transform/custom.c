/* Custom materializations: `{% materialization name, default %}` (or
 * adapter='duckdb') in the project or a package, run as dbt runs them.
 *
 * Which one a model gets is dbt's choice: the root project's definition
 * of a name wins over Dango's own (view, table, incremental, ...), then a
 * package's for a name Dango does not have; the duckdb one before the
 * default one. A package cannot override a built-in materialization
 * (dbt 1.8's require_explicit_package_overrides_for_builtin_materializations). */
#include "transform/dbt.h"
#include "transform/materialize.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the macro materializing `name`: the root project's first when own */
static const struct jval *find_mat(const struct dbt_project *p, const char *name, int root_only)
{
	static const char *const adapters[] = { "duckdb", "default", NULL };
	for (const char *const *a = adapters; *a; a++) {
		char key[256];
		snprintf(key, sizeof(key), "materialization_%s_%s", name, *a);
		const struct jval *m = root_only ? jval_dict_get(p->macros, key) : dbt_find_macro(p, NULL, key);
		if (m)
			return m;
	}
	return NULL;
}

enum materialized dbt_mat_resolve(struct dbt_project *p, const char *name, enum materialized builtin)
{
	if (!name)
		return builtin;
	if (find_mat(p, name, 1))
		return MAT_CUSTOM;
	if (builtin != MAT_NONE)
		return builtin;
	if (!strcmp(name, "external"))
		return MAT_EXTERNAL;
	if (find_mat(p, name, 0))
		return MAT_CUSTOM;
	return MAT_NONE;
}

int dbt_custom_build(struct mctx *m, const char *body)
{
	(void)body;
	strbuf_addf(m->err, "custom materialization '%s': not yet", dbt_config_str(m->n, "materialized"));
	return -1;
}
