/* Shared by the materializations (materialize.c, microbatch.c,
 * external.c, custom.c, and contract.c with pg_target.c); not an API for
 * the rest of the program. */
#ifndef DANGO_TRANSFORM_MATERIALIZE_H
#define DANGO_TRANSFORM_MATERIALIZE_H
#include "core/strbuf.h"
#include "core/strvec.h"
#include "transform/dbt.h"

/* One node being built on one connection. */
struct mctx {
	struct dbt_project *p;
	struct dbt_node *n;
	struct warehouse *wh;
	struct strbuf *err;
	struct strbuf run;   /* every statement executed, for target/run */
	int64_t rows;
	const char *contract_ddl;  /* an enforced contract: the table's column definitions */
	const char *contract_cols; /* and its columns, in order */
};

struct cols {
	struct strvec names, types;
};

/* Run sql on m's connection, recording it in m->run; -1 with m->err. */
int mat_exec(struct mctx *m, const char *sql);
/* The same; *rows gets the first value of the last statement's result. */
int mat_exec_rows(struct mctx *m, const char *sql, int64_t *rows);
/* "table", "view" or NULL: what has the node's name in the warehouse */
const char *mat_existing(struct mctx *m);
/* "schema"."alias<suffix>" (with the database when the node has one) */
void mat_rel_sql(struct strbuf *sb, const struct dbt_node *n, const char *suffix);
/* sql without its trailing white space and semicolons, added to sb: the
 * body a materialization wraps. */
void mat_clean_sql(struct strbuf *sb, const char *sql);
/* Build body as the node's table: under a temporary name, then swapped in
 * in one transaction. */
int mat_build_table(struct mctx *m, const char *body);
/* The columns of a relation (or a parenthesized query). */
int mat_describe(struct mctx *m, const char *rel, struct cols *c);
long mat_col_index(const struct cols *c, const char *name);

/* contract.c: dbt's model contracts on either target. describe(ctx,
 * query, names, types, err) appends the columns of a SELECT query. */
typedef int (*dbt_describe_fn)(void *ctx, const char *query, struct strvec *names, struct strvec *types,
			       struct strbuf *err);
/* Does the node's config say contract: {enforced: true}? */
int dbt_contract_enforced(const struct dbt_node *n);
/* The model's columns (body) against its YAML columns: names, types and
 * number, as dbt checks them before building, with dbt's mismatch table
 * in err. On success ddl gets the column definitions with their
 * constraints (and the model-level ones), collist the columns in order. */
int dbt_contract_check(const struct dbt_node *n, const char *body, dbt_describe_fn describe, void *ctx,
		       struct strbuf *ddl, struct strbuf *collist, struct strbuf *err);

/* microbatch.c: the incremental strategy microbatch (dbt 1.9): the model
 * built batch by batch, each in its own transaction; res gets the status
 * (an error with batches_ok > 0 is dbt's partial success). */
void dbt_microbatch_build(struct mctx *m, struct dbt_result *res);

/* external.c: dbt-duckdb's materialized 'external' (a file and a view
 * over it) from the compiled body. */
int dbt_build_external(struct mctx *m, const char *body);

/* custom.c: run the node's {% materialization %} macro. */
int dbt_custom_build(struct mctx *m, const char *body);

#endif
