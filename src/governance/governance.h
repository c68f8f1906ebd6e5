/* Governance as the rest of Dango uses it: the post-sync drift hook, the
 * read API for the web page and the scheduler, and what `dango run`
 * skips. The storage and comparison are drift.h's.
 *
 * The read functions open the ops-db read-only (they never wait for a
 * sync, which holds only the warehouse); a project never synced since
 * governance began reads as "no drift". Returned strings and structs are
 * the caller's to release; functions return 0, or -1 with err set. */
#ifndef DANGO_GOVERNANCE_H
#define DANGO_GOVERNANCE_H
#include <stddef.h>
#include <jansson.h>
#include "governance/drift.h"

struct project;
struct warehouse;
struct strbuf;
struct strvec;
struct dbt_project;

/* --- the read API (web page, scheduler) --------------------------------------------- */

/* Open events of one source (NULL: every source); all = 1 adds accepted
 * ones. */
int governance_read_drift(const char *state_dir, const char *source, int all, struct drift_events *out,
			  struct strbuf *err);
/* The sources with open breaking drift, sorted, into out. */
int governance_blocked_sources(const char *state_dir, struct strvec *out, struct strbuf *err);
/* Accept the drift of source (one table, or all when table is NULL): the
 * current schema becomes the baseline, open events are marked accepted
 * by who (NULL: the user running Dango) now. *nr: events accepted. */
int governance_accept(const char *state_dir, const char *source, const char *table, const char *who, int *nr,
		      struct strbuf *err);
/* The name accept records: $USER, else the account's name, else uid N. */
void governance_user(struct strbuf *sb);

/* --- the post-sync hook ---------------------------------------------------------------- */

/* After a sync of source committed (load load_id) on wh: observed is
 * {table: {column: true}}, the columns this sync's batches carried. Reads
 * their types from the warehouse, records drift (drift_record_sync), POSTs
 * the webhook of project.yml's governance.webhook_url_env when the sync
 * found new drift, and adds what the user should know to warnings. A
 * failure is returned (-1, err) but never undoes the sync; a failed
 * webhook delivery is only a warning (and a row in drift_deliveries). */
int governance_after_sync(const struct project *p, struct warehouse *wh, const char *source, const char *load_id,
			  const json_t *observed, struct strvec *warnings, struct strbuf *err);

/* POST body (JSON) to url; 0 on a 2xx answer, else -1 with err (which
 * never holds the URL: webhook URLs carry secrets). */
int governance_post_json(const char *url, const char *body, struct strbuf *err);

/* --- impact on the dbt project ------------------------------------------------------- */

/* The dbt source nodes that read raw_<source> (schema, or the source name
 * when a dbt source gives no schema): their unique ids into ids. */
void governance_source_nodes(const struct dbt_project *dp, const char *source, struct strvec *ids);
/* The enabled models downstream of them (after dbt_graph_build), by name,
 * in project order; with selected_only, only those the run builds
 * (selected, not ephemeral). */
void governance_downstream_models(const struct dbt_project *dp, const char *source, int selected_only,
				  struct strvec *names);

/* What dango run prints, and a skipped node's reason:
 *   line:   "skipping 4 models downstream of shop_db: breaking schema drift
 *            (orders.amount BIGINT -> VARCHAR, orders.currency removed).
 *            Review: dango governance drift-report shop_db. Accept: dango
 *            governance accept shop_db"
 *   reason: the same from "downstream of shop_db: ...". */
void governance_skip_line(struct strbuf *sb, const char *source, size_t nr_models, const struct drift_events *ev);
void governance_skip_reason(struct strbuf *sb, const char *source, const struct drift_events *ev);

#endif
