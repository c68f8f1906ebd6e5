/* The connector interface: what the sync engine asks of a source family.
 *
 * A sync of one source is a job. The engine gives the connector the source's
 * config, the options of the run and the state committed by the previous
 * sync; the connector's extract() turns that into batches (one relation of
 * rows each, for one resource) and the new state. The engine then loads all
 * batches and writes the new state in ONE warehouse transaction, so data and
 * state never disagree: a crash leaves the previous data and state.
 *
 * Extract runs in its own thread while the engine loads what it has handed
 * over (sync_job_emit), so an API's pages are fetched while earlier pages
 * load.
 *
 * A batch is a SQL relation that DuckDB reads (read_csv(...), read_json(...)
 * over a spooled file, read_parquet(...), __dango_spool(...) over the
 * normalizer's rows), so bulk parsing is DuckDB's or done once in C; C
 * code pages through APIs and writes spool files. extract() runs without
 * the warehouse (possibly in a worker thread beside other sources' extracts);
 * it must not print, only report progress through job->progress.
 */
#ifndef DANGO_INGEST_CONNECTOR_H
#define DANGO_INGEST_CONNECTOR_H
#include <pthread.h>
#include <stdint.h>
#include <jansson.h>
#include "core/strbuf.h"
#include "core/strvec.h"

struct source;
struct project;
struct sync_job;

enum write_disposition { WD_APPEND, WD_REPLACE, WD_MERGE };

/* A file a batch came from: the engine keeps _dango_file_metadata. */
struct tracked_file {
	char *path;       /* as configured, relative to the project when it is inside it */
	int64_t size;
	int64_t mtime;    /* seconds since the epoch */
	int64_t mtime_ns, ctime_ns; /* nanoseconds since the epoch */
	char *hash;       /* content hash, hex */
	char *table;      /* the table its rows went into */
	char *status;     /* new | updated | unchanged | deleted */
	int64_t rows;     /* filled by the engine after loading */
};

/* A column whose value is the same on every row of a batch (a file's name,
 * its mtime...). The engine fills such columns through column defaults rather
 * than projecting them: DuckDB stores a default as constants, while a
 * projected constant is materialized row by row (15% of a big CSV load). */
struct batch_const {
	char *name, *type;
	char *value;           /* a SQL literal; with per_row, the relation's column holding it */
	int per_row;           /* the value differs by row: 1 (a group of files), taken
				* from that column of the relation, which is not a data
				* column; 2, value is an expression projected per row */
};

struct sync_batch {
	char *resource;        /* target table in raw_<source> */
	char *relation;        /* a FROM-able SQL expression with the data columns */
	struct batch_const *consts;
	size_t nr_consts, alloc_consts;
	char *replace_where;   /* delete target rows matching this first, or NULL */
	char *label;           /* for messages: the file name or "page 3" */
	/* For CSV: the same reader with ignore_errors and store_rejects, run
	 * after a failure to name the first bad line; or NULL. */
	char *diagnose;
	int collect_rejects;   /* on_error: skip: keep DuckDB's rejects, count them */
	struct tracked_file *file; /* when the batch is one tracked file */
	/* _dlt_id, _dlt_parent_id and _dlt_list_idx are the connector's (a
	 * normalizer linking child rows), and so is a _dlt_extracted_at column
	 * (a time per row; NULL takes the sync's); otherwise every column named
	 * like the engine's own is source data, renamed (sync_column_name). */
	int own_ids;
	char *spool_path;      /* a temporary file to remove after the load */
	char *memory_limit;    /* DuckDB's memory_limit while it loads ("512MB"), or NULL for
				* the job's load_memory_limit */
	/* A group: several small files read by one reader call (a sniff and
	 * an insert a file cost more than the rows), standing for the
	 * per-file batches in parts. Its relation gives each row's
	 * _dango_filename (a part's file path) in a per-row column. The
	 * engine loads the group only if it reads exactly as its parts would
	 * (every file sniffed to the same columns and types, no schema change,
	 * no error); otherwise the whole load is done again file by file. */
	struct sync_batch **parts;
	size_t nr_parts, alloc_parts;
	int reported;          /* its progress line was shown (engine) */
};

/* What the connector says about each resource it produces. */
struct sync_resource {
	char *name;
	enum write_disposition disposition;
	struct strvec primary_key;
	int is_file_table;     /* rows carry _dango_filename etc. */
	int swap_in;           /* loads into a new table swapped in at commit, with the
				* guard rails of --full-refresh (0-row refusal, backup) */
	struct strvec deleted_files; /* soft-delete rows of these files */
	int64_t rows;          /* filled by the engine */
	int64_t rejected;      /* bad rows skipped (on_error: skip) */
	int64_t replaced_rows; /* rows of the table a replace load started over (engine) */
	/* After every batch, before commit: delete the table's rows matching
	 * this SQL condition (Singer's ACTIVATE_VERSION drops older versions),
	 * under the empty-result rule when that leaves the table empty. */
	char *delete_where;
};

struct sync_options {
	const char *since, *until;   /* YYYY-MM-DD, or NULL */
	int64_t limit;               /* rows per source, 0: no limit */
	struct strvec select;        /* only these resources (empty: all) */
	int full_refresh;
	int allow_schema_changes;
	int allow_empty;
	int dry_run;
	int yes;
	int workers;
	int wait;                    /* seconds for the lock; <0: project default */
	int fail_fast;
};

struct connector_ops {
	const char *type;
	unsigned caps;
#define CONNECTOR_DATE_RANGE 0x1   /* honours --since/--until */
	/* Read the config (errors name the key); fills nothing else. */
	int (*open)(struct sync_job *job, struct strbuf *err);
	/* Produce batches, resources and job->new_state. */
	int (*extract)(struct sync_job *job, struct strbuf *err);
	/* Describe what a sync would do, for --dry-run (lines into out). */
	int (*describe)(struct sync_job *job, struct strbuf *out, struct strbuf *err);
	void (*close)(struct sync_job *job);
	/* After open: the resource names --select may name (out gets them).
	 * Optional; without it any name is accepted. */
	int (*resources)(struct sync_job *job, struct strvec *out, struct strbuf *err);
};

struct pg_load;

struct sync_job {
	const struct source *source;
	const struct project *project;
	const struct sync_options *opts;
	const struct connector_ops *ops;
	void *conn;                     /* the connector's own data */

	json_t *prev_state;             /* {resource: {...}} as committed last time; never NULL */
	json_t *new_state;              /* what extract() wants committed; starts as a copy */
	json_t *prev_files;             /* {path: {size, mtime, hash, rows, status}} */
	char *load_id;                  /* "1732190000.123456" */
	char *extracted_at;             /* ISO timestamp of this sync, UTC */
	char *spool_dir;                /* a private temporary folder for spool files */

	/* Filled by extract (maybe in another thread) while the engine loads:
	 * the arrays hold pointers, so a batch or resource never moves, and
	 * lock guards the arrays and the counters below. */
	pthread_mutex_t lock;
	pthread_cond_t ready_cond;
	struct sync_resource **resources;
	size_t nr_resources, alloc_resources;
	struct sync_batch **batches;
	size_t nr_batches, alloc_batches;
	size_t nr_ready;                /* batches complete and loadable (sync_job_emit) */
	int extract_done, extract_rc;   /* set when extract has returned */
	volatile int cancelled;         /* the load failed: extract may stop early */
	struct strbuf extract_err;
	int limit_handled;              /* the connector stops at --limit itself (top-level rows only) */
	int load_threads;               /* DuckDB threads while this job's batches load (0: DuckDB's
					 * default); set in open(), read by the loader once the
					 * first batch is handed over */
	const char *load_memory_limit;  /* DuckDB's memory_limit while they load ("128MB"; NULL:
					 * DuckDB's default): set like load_threads */
	struct strvec notes;            /* lines to show: "replace: every sync reloads ..." */
	json_t *observed;               /* {table: {column: true}}: the columns the loaded batches
					 * carried, for the drift check (engine; NULL until a batch) */
	int publish_later;              /* the load goes to a postgres warehouse's stage, its rows are
					 * in only once published: sync_load leaves the post-sync hooks
					 * to the caller (sync_post_sync after the publish) */
	struct strvec warnings;
	struct pg_load *pg;             /* a postgres warehouse's load: a fresh table's rows may go
					 * straight to it (load_pg_stream.h); NULL otherwise */

	/* progress: called from extract (maybe from a worker thread) */
	void (*progress)(struct sync_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	void *progress_data;
};

struct sync_resource *sync_job_resource(struct sync_job *job, const char *name);
struct sync_batch *sync_job_add_batch(struct sync_job *job, const char *resource);
/* A batch not yet handed to the job: to push (sync_job_push_batch) or to
 * make a part of a group (sync_batch_add_part), which then owns it. */
struct sync_batch *sync_batch_new(const char *resource);
void sync_job_push_batch(struct sync_job *job, struct sync_batch *b);
void sync_batch_free(struct sync_batch *b);   /* one never pushed */
void sync_batch_add_part(struct sync_batch *group, struct sync_batch *part);
/* Hand over every batch added so far: the engine may load them while
 * extract goes on (a connector that streams calls this as its spool files
 * fill; for others, all batches are handed over when extract returns).
 * The resources of emitted batches must be fully described by then. */
void sync_job_emit(struct sync_job *job);
/* Give every row of b the column name (type) = value (a SQL literal). */
void sync_batch_add_const(struct sync_batch *b, const char *name, const char *type, const char *value);
/* Give every row of b the column name (type) from the relation's column
 * `column` (a group's per-file values). */
void sync_batch_add_column(struct sync_batch *b, const char *name, const char *type, const char *column);
/* A private temporary folder for spool files, job->spool_dir (made once):
 * its name carries the pid, it is removed when the job is released or the
 * process gets SIGINT/SIGTERM/SIGHUP, and the next sync removes those of
 * processes that died. 0, or -1 with err set. */
int sync_job_spool_dir(struct sync_job *job, struct strbuf *err);
/* A connector's date window for a resource: from (the cursor or --since,
 * what says which) to --until. Warns (job->warnings) when the window is
 * empty or inverted, so that a sync fetching nothing says why. */
void sync_job_check_window(struct sync_job *job, const char *resource, const char *from, const char *what,
			   const char *until);
/* The column name a source column gets: dlt's snake_case (sync_normalize_name),
 * and a name the engine uses for its own columns (_dlt_*, _dango_*) is
 * renamed to source_<name> ("_dlt_load_id" -> "source_dlt_load_id").
 * Returns 1 when it renamed. */
int sync_column_name(struct strbuf *sb, const char *name);
/* Does --select admit this resource? */
int sync_job_selected(const struct sync_job *job, const char *resource);

/* The connector for a source type, or NULL if `dango sync` cannot load it. */
const struct connector_ops *connector_for(const char *type);

extern const struct connector_ops files_connector;

#endif
