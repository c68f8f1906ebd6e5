/* dango generate: staging models from the raw layer.
 *
 * Generation runs in two steps so that the command can show and confirm
 * before anything is written:
 *
 *   gen_plan_build()  introspects raw_<source> schemas (read-only), picks a
 *                     primary key and a deduplication strategy per table,
 *                     renders every file in memory and decides, per file,
 *                     whether it is created, updated, left as it is or
 *                     skipped (edited by hand);
 *   gen_plan_write()  writes the files that change, atomically.
 *
 * Every generated file begins with a marker line that records a checksum
 * of the rest of the file (and, for models, the strategy asked for). A file
 * without the marker, or whose content no longer matches its checksum, was
 * edited by a user: it is never overwritten without --force.
 *
 * Strings in these structs are owned by the plan; const char * arguments
 * are borrowed. Nothing here prints: problems go to err, and per-table
 * notes (a missing key, say) into gen_table.warning. */
#ifndef DANGO_GENERATE_H
#define DANGO_GENERATE_H
#include <stddef.h>
#include "core/strbuf.h"
#include "core/strvec.h"

struct warehouse;
struct project;
struct source_list;

enum gen_strategy { GEN_LATEST_ONLY, GEN_SCD_TYPE2, GEN_NONE };

const char *gen_strategy_name(enum gen_strategy s);
/* 0 and *out set, or -1 if s names no strategy. */
int gen_strategy_parse(const char *s, enum gen_strategy *out);

enum gen_action {
	GEN_CREATE,     /* no such file yet */
	GEN_UPDATE,     /* ours (marker intact), and its content changes */
	GEN_UNCHANGED,  /* ours, and the same content */
	GEN_SKIP,       /* edited by hand; left alone (no --force) */
	GEN_OVERWRITE,  /* edited by hand, and --force */
};

struct gen_file {
	char *name;            /* "stg_stripe_charges.sql" */
	char *path;            /* absolute */
	struct strbuf content; /* what would be written */
	enum gen_action action;
	int exists;
};

struct gen_column {
	char *name, *type;
	int has_nulls;         /* the raw column holds a NULL */
};

struct gen_table {
	char *name;            /* raw table */
	char *model;           /* "stg_stripe_charges" */
	struct gen_column *cols;
	size_t nr_cols, alloc_cols;
	size_t rows;
	struct strvec key;     /* primary key columns; empty: none */
	const char *key_origin; /* "sources.yml", "connector", "detected" or NULL */
	enum gen_strategy asked;    /* what was asked for (recorded in the marker) */
	enum gen_strategy strategy; /* what the model does (none without a key) */
	int has_deleted;       /* has _dango_deleted (file sources) */
	int has_mtime;         /* has _dango_file_mtime */
	int has_children;      /* child tables <name>__x exist: keep _dlt_id */
	int is_child;          /* a dlt child table (<parent>__<field>) */
	int has_extracted;     /* has _dlt_extracted_at */
	int has_dlt_id, has_load_id;
	size_t out_columns;    /* columns of the model */
	char *warning;         /* NULL, or why the strategy fell back */
	struct gen_file file;
};

struct gen_source {
	char *name;
	char *freshness_yaml;  /* the source's freshness: block, indented for the sources file, or NULL */
	struct gen_table *tables;
	size_t nr, alloc;
	struct gen_file sources_yml, schema_yml;
};

struct gen_plan {
	struct gen_source *sources;
	size_t nr, alloc;
	char *staging_dir;     /* absolute: <project>/dbt/models/staging */
	struct strvec reserved; /* DuckDB's keywords that need quoting */
};

struct gen_options {
	const struct strvec *sources;   /* only these (NULL or empty: every raw_* schema) */
	const char *strategy;           /* --dedup-strategy for every table, or NULL */
	/* --dedup-strategy TABLE=S or SOURCE.TABLE=S, one a string; may be NULL */
	const struct strvec *table_strategies;
	int force;                      /* overwrite edited files; use the configured strategy */
	int only_new;                   /* after a sync: create missing models only */
};

/* Introspect and render. Returns 0, or -1 with a message in err (a bad
 * --dedup-strategy, a named source without raw tables, a failed query). */
int gen_plan_build(struct gen_plan *plan, struct warehouse *wh, const struct project *p,
		   const struct source_list *list, const struct gen_options *opts, struct strbuf *err);
/* Write every file whose action is CREATE, UPDATE or OVERWRITE. 0, or -1
 * with err naming the file. */
int gen_plan_write(struct gen_plan *plan, struct strbuf *err);
void gen_plan_release(struct gen_plan *plan);

/* Does the action write the file? */
int gen_action_writes(enum gen_action a);
/* The number of models whose file has the given action. */
size_t gen_plan_count(const struct gen_plan *plan, enum gen_action a);

/* Rendering, exposed for the unit tests. reserved may be NULL. */
void gen_render_model(struct strbuf *out, const char *source, const struct gen_table *t,
		      const struct strvec *reserved);
void gen_render_sources_yml(struct strbuf *out, const struct gen_source *s, const struct strvec *reserved);
void gen_render_schema_yml(struct strbuf *out, const struct gen_source *s, const struct strvec *reserved);
/* Append name as a SQL identifier, quoted only when it must be. */
void gen_add_ident(struct strbuf *sb, const char *name, const struct strvec *reserved);
/* stg_<source>_<table>, or stg_<source> when the table is named like it. */
void gen_model_name(struct strbuf *sb, const char *source, const char *table);
/* Is text (a whole file) ours and unedited? Sets *asked (when not NULL) to
 * the strategy its marker records, if any (-1 otherwise). */
int gen_file_is_ours(const char *text, int *asked);

/* The files dango generate wrote for source into staging_dir (its
 * _stg_<source>__*.yml and the models that read source('<source>', ...)):
 * file names of those still as generated into ours, of those edited by
 * hand into edited. Returns their total count, or -1 if the folder
 * cannot be read (a missing folder holds none). */
int gen_source_files(const char *staging_dir, const char *source, struct strvec *ours, struct strvec *edited);

#endif
