/* Shared by the files of the dbt context (context.c, relation.c,
 * adapter.c, runtime.c); not an API for the rest of the program.
 *
 * Values returned as struct jval are new references (the caller's). */
#ifndef DANGO_TRANSFORM_RUNTIME_H
#define DANGO_TRANSFORM_RUNTIME_H
#include "transform/dbt.h"

struct wh_result;

/* What a node-bound native needs: copied into each native's data. */
struct dbt_rt {
	struct dbt_project *p;
	struct dbt_node *n;       /* NULL outside a node */
	struct warehouse *wh;     /* NULL at parse time */
	int execute;
};

/* --- relation.c ------------------------------------------------------------------ */
struct dbt_relation {
	char *database, *schema, *identifier;
	char *type;               /* "table", "view", "cte" or NULL */
	int show_db;              /* render the database (not the warehouse's own) */
	int inc_db, inc_schema, inc_ident;  /* include policy */
	int q_db, q_schema, q_ident;        /* quote policy */
	char *filtered;           /* a microbatch batch's event-time subquery: what it prints as (render() gives the relation) */
};

/* show_db: render the database part (dbt-duckdb omits the file's own). */
struct jval dbt_relation_new(const char *database, const char *schema, const char *identifier,
			     const char *type, int show_db);
struct dbt_relation *dbt_as_relation(struct jval v);
void dbt_relation_render(const struct dbt_relation *r, struct strbuf *out);
/* The `api` global: api.Relation, api.Column. */
struct jval dbt_api_object(struct dbt_project *p);
/* An api.Column value. */
struct jval dbt_column_new(const char *name, const char *dtype);
/* The name of an api.Column value (borrowed), or "". */
const char *dbt_column_name(struct jval v);

/* --- adapter.c ------------------------------------------------------------------- */
/* Add dispatch, drop_relation, create_schema, ... to the adapter dict. */
void dbt_adapter_extend(struct jval adapter, const struct dbt_rt *rt);
/* Node-bound globals beyond context.c's: load_relation, ... */
void dbt_context_node_extras(struct jval ctx, const struct dbt_rt *rt);
/* An agate-like table from rows (list of lists of typed values, stolen)
 * and column names (list of str, stolen). */
struct jval dbt_table_new(struct jval names, struct jval rows);

/* --- runtime.c ------------------------------------------------------------------- */
/* Globals beyond context.c's: api, zip, tojson, fromjson, run_started_at,
 * invocation_id, local_md5, modules (re, itertools, datetime extras), ... */
void dbt_context_setup_more(struct dbt_project *p);
/* `graph`: nodes and sources as dbt's manifest has them. */
struct jval dbt_graph_object(struct dbt_project *p);

#endif
