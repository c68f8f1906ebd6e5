/* The sync engine: runs jobs (one per source) through extract and load,
 * with the single-writer lock, state, history and status files. Generic
 * over connectors (connector.h); presentation is left to the caller through
 * the events below. */
#ifndef DANGO_INGEST_SYNC_H
#define DANGO_INGEST_SYNC_H
#include "ingest/connector.h"

struct warehouse;
struct source_list;

/* The outcome of one source's sync. */
struct sync_result {
	const struct source *source;
	int ok;
	int64_t rows;
	double seconds;
	struct strbuf error;
};

void sync_job_init(struct sync_job *job, const struct source *s, const struct project *p,
		   const struct sync_options *opts);
void sync_job_release(struct sync_job *job);

/* Read the committed state of job's source (if the warehouse has it). */
int sync_read_state(struct warehouse *wh, struct sync_job *job, struct strbuf *err);

/* Run the connector's extract (meant for a thread of its own): errors go to
 * job->extract_err; the loader is told when it is done. */
int sync_extract(struct sync_job *job);

/* Load job's batches as extract hands them over, and commit them with the
 * new state in one transaction once extract is done. Returns 0, or -1 after
 * rolling back (err says why, naming the file/row, or extract's error).
 * On -1 the caller still waits for extract to finish before releasing job. */
int sync_load(struct warehouse *wh, struct sync_job *job, struct sync_result *res, struct strbuf *err);

/* The post-sync hooks (schema drift governance) of a loaded job: sync_load
 * runs them, unless job->publish_later, whose caller runs them once the
 * rows are published. */
void sync_post_sync(struct warehouse *wh, struct sync_job *job);

/* The empty-result rule: `what` loaded 0 rows over old_rows existing ones
 * is refused (-1 with err) unless --allow-empty, then said in a warning. */
int sync_empty_result(struct sync_job *job, const char *what, int64_t old_rows, struct strbuf *err);

/* Record the outcome in the warehouse's sync history (own transaction). */
void sync_record_history(struct warehouse *wh, const struct sync_job *job, const struct sync_result *res,
			 const char *started_at);

/* Row counts of a source's tables, for full-refresh confirmations. */
int sync_table_counts(struct warehouse *wh, const char *source, struct strvec *lines, int64_t *total,
		      struct strbuf *err);

/* Schema and table names. */
void sync_schema_name(struct strbuf *sb, const char *source);
/* Is this a name of dlt's or Dango's bookkeeping (_dlt_*, _dango_*): a
 * metadata column of raw rows, or a metadata table of a raw schema? */
int sync_is_meta_name(const char *name);
/* dlt-style column names: "Order ID" -> "order_id". */
void sync_normalize_name(struct strbuf *sb, const char *name);

#endif
