/* JSON records into tables, dlt's way, for bulk loading by DuckDB.
 *
 * Two parts. jv: a small, fast JSON parser into a read-only tree whose
 * strings and numbers point into the parsed text (nothing is copied or
 * unescaped until asked), so that a page of an API response costs one pass
 * and a few arena blocks. normalizer: records (jv objects) flattened into
 * spool files of Dango's own (warehouse/spool.h: rows of values already
 * split and unescaped, read back by __dango_spool()), one series of files
 * per table:
 * nested objects become `a__b` columns, lists become child tables
 * `<table>__<field>` whose rows carry `_dlt_parent_id` and `_dlt_list_idx`,
 * every row carries its own `_dlt_id`; numbers are kept as written. Column
 * types are inferred on the way (boolean, bigint, double, timestamp for ISO
 * 8601 strings, text, json past the nesting limit) so that the reader is
 * told every column and its type, whichever page a sparse field appeared
 * on, and converts the values as DuckDB's JSON reader did.
 *
 * Ownership: a jv tree belongs to its jv_doc (freed by jv_doc_release); the
 * normalizer owns its tables and files; relation strings returned are the
 * caller's. Errors go to a strbuf, nothing is printed. */
#ifndef DANGO_SOURCES_NORMALIZE_H
#define DANGO_SOURCES_NORMALIZE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/arena.h"
#include "core/strbuf.h"
#include "core/strvec.h"

enum jv_type { JV_NULL, JV_FALSE, JV_TRUE, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	unsigned char type;
	unsigned char is_int;  /* a number without fraction or exponent */
	unsigned char esc;     /* a string with backslash escapes */
	unsigned char kesc;    /* the member key has escapes */
	uint32_t klen;
	const char *key;       /* member key of an object's child, raw, without quotes */
	const char *s;         /* raw text: a string's content without quotes; else the whole value */
	size_t len;
	size_t n;              /* children of arrays and objects */
	struct jv *kids;
};

struct jv_doc {
	struct arena arena;
	struct jv *root;
	struct jv *stack;      /* scratch while parsing */
	size_t nr, alloc;
};
#define JV_DOC_INIT { ARENA_INIT, NULL, NULL, 0, 0 }

/* Parse text (which must outlive the tree). 0, or -1 with "invalid JSON at
 * byte N: ..." in err. A doc may be parsed again (the old tree is freed). */
int jv_parse(struct jv_doc *d, const char *text, size_t len, struct strbuf *err);
void jv_doc_release(struct jv_doc *d);
/* Member of an object (NULL if missing or not an object). */
const struct jv *jv_get(const struct jv *obj, const char *key);
/* Dotted path: "a.b.c"; "$" or "" is v itself; a leading "$." is skipped;
 * a numeric part indexes an array ("items.0.id"). */
const struct jv *jv_path(const struct jv *v, const char *path);
/* A scalar as text (strings unescaped, numbers and booleans as written);
 * appends to out and returns 0, or -1 for null, arrays and objects. */
int jv_text(const struct jv *v, struct strbuf *out);
/* The raw JSON text of any value (strings with their quotes). */
void jv_raw(const struct jv *v, const char **p, size_t *n);
/* Decode a JSON string's raw content (between the quotes) into out. */
void jv_unescape(struct strbuf *out, const char *s, size_t n);

enum norm_type { NT_NONE, NT_BOOL, NT_BIGINT, NT_DOUBLE, NT_TIMESTAMP, NT_TEXT, NT_JSON, NT_DATE };

struct norm_col {
	char *name;
	enum norm_type type;
	int nonstr;            /* a value not a string was written (a text column then reads
				* every value as JSON text, numbers as DuckDB renders them) */
	int fixed;             /* declared (normalizer_declare_column): values must fit type */
};

struct norm_entry;

struct norm_table {
	char *name;            /* "issues", "issues__labels" */
	int parent;            /* index of the parent table, -1 for a root */
	struct norm_col *cols;
	size_t nr_cols, alloc_cols;
	struct norm_entry *entries;  /* (prefix, raw key) -> column / child table */
	size_t nr_entries, alloc_entries;
	int *index;                  /* open addressing over entries */
	int root_first;              /* the entry the last record started with, -1 (flatten) */
	size_t index_size;
	struct strbuf buf;           /* pending output */
	FILE *fp;
	size_t file_bytes;
	struct strvec files;         /* spool files written, in order */
	struct strvec file_rows;     /* row count of each file, as text */
	int64_t file_rows_now;
	int64_t rows;
	size_t max_row;              /* the largest row written, in bytes (DuckDB holds a
				      * value in a block of the next power of two) */
	size_t rows_to_file;         /* rows of the current file (rotate_rows) */
	int ids;                     /* some rows carry their own _dlt_id */
	struct strvec renamed;       /* warnings: fields named like the engine's own columns */
};

/* A field copied into each row of a table from elsewhere (a parent
 * resource's fields in a child resource's rows). */
struct norm_extra {
	const char *name;      /* column name, already normalized */
	const char *raw;       /* raw JSON text of the value */
	size_t len;
	enum norm_type type;
};

struct normalizer {
	char *dir;                   /* spool folder */
	size_t rotate_bytes;         /* start a new file past this size */
	size_t rotate_rows;          /* or after this many rows (0: no bound) */
	/* called when a spool file is complete (closed), with the table's index
	 * and the file's index in its `files`: a file can be loaded from then on */
	void (*on_file)(void *data, int table, size_t file);
	void *on_file_data;
	struct jv_doc extra_doc;     /* scratch: a norm_extra's value parsed */
	struct norm_table *tables;
	size_t nr_tables, alloc_tables;
	uint64_t rng[2];
	unsigned seq;
};

void normalizer_init(struct normalizer *n, const char *dir);
void normalizer_release(struct normalizer *n);
/* The table named name (created on first use; parent -1 for a root). */
int normalizer_table(struct normalizer *n, const char *name, int parent);
/* Write one record into table t: its fields flattened, nested lists into
 * child tables, up to max_nesting levels (deeper values stay JSON).
 * id_seed: NULL for a random _dlt_id, else text that decides it (so that
 * a record merged again keeps its id, and so do its child rows). A record
 * that is not an object becomes a row with one column, `value`. */
int normalizer_add(struct normalizer *n, int t, const struct jv *rec, const struct norm_extra *extra,
		   size_t nr_extra, const char *id_seed, int max_nesting, struct strbuf *err);
/* Fields declared before any row (a Singer SCHEMA): their columns exist
 * from the start, in declaration order, with a fixed type that values
 * must then fit (normalizer_add fails naming the field otherwise); fields
 * not declared are still inferred. parent is -1 for a top-level field, or
 * what normalizer_declare_object returned for a field inside that object;
 * keys are as records write them. Declaring a field again changes its type.
 * declare_object returns the object's entry; declare_list the child table. */
int normalizer_declare_object(struct normalizer *n, int t, int parent, const char *key);
void normalizer_declare_column(struct normalizer *n, int t, int parent, const char *key, enum norm_type type);
int normalizer_declare_list(struct normalizer *n, int t, int parent, const char *key);
/* Close table t's current spool file now (its rows become a batch). */
int normalizer_flush(struct normalizer *n, int t, struct strbuf *err);
/* Flush buffers and close files; 0 or -1 with err. */
int normalizer_finish(struct normalizer *n, struct strbuf *err);
/* The __dango_spool(...) relation for one spool file of a table. */
void normalizer_relation(const struct normalizer *n, const struct norm_table *t, const char *file,
			 struct strbuf *sql);
/* The same over several spool files of the table (in their order), read
 * by one __dango_spool, in parallel when the rows' order need not be kept:
 * the column types are the table's now, which every earlier file's values
 * fit (types only widen). */
void normalizer_relation_files(const struct normalizer *n, const struct norm_table *t, const char *const *files,
			       size_t nr, struct strbuf *sql);
/* The type a JSON value would get as a column. */
enum norm_type norm_value_type(const struct jv *v);
const char *norm_type_sql(enum norm_type t);
/* Does s look like an ISO 8601 date and time? */
int norm_is_timestamp(const char *s, size_t n);

#endif
