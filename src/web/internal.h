/* Shared between the files of src/web/: the server's state, a request as the
 * routes see it, and the answer they build. Not for use outside src/web/. */
#ifndef DANGO_WEB_INTERNAL_H
#define DANGO_WEB_INTERNAL_H
#include "core/strbuf.h"
#include "web/web.h"
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>

#define WEB_MAX_BODY (1024 * 1024)   /* request bodies above this get 413 */
#define WEB_LOG_TAIL (64 * 1024)      /* the end of a run's log shown by /api/runs/{id} */
#define WEB_LOCK_WAIT 300             /* web-triggered jobs wait 5 minutes for the lock (spec 003) */

struct web_run;
struct web_sessions;
struct scheduler;
struct pool;
struct web_sources;
struct source_list;

/* An answer kept as text while its key (what it was built from) holds (cache.c). */
struct web_text_cache {
	char *key, *text;
	long long until;  /* Dango's clock (seconds): stale from then on; 0: never */
};

/* The catalog snapshot (catalog.c): what the warehouse held at taken_at. */
struct web_catalog {
	pthread_mutex_t lock;
	json_t *doc;          /* {"taken_at", "schemas": [...], "tables": {"schema.table": {...}}} */
	double taken_at;      /* 0: none yet */
	double wh_mtime;      /* the warehouse file's mtime when taken */
	int dirty;            /* a write finished: refresh when the lock is free */
};

struct web {
	const struct project *p;
	const struct web_config *cfg;
	char *self_exe;
	char *log_dir;                  /* .dango/state/web_logs */
	pthread_mutex_t runs_lock;
	struct web_run **runs;          /* oldest first */
	size_t nr_runs, alloc_runs;
	long next_run;
	long runs_gen;                  /* bumped when a run starts or ends (under runs_lock) */
	struct web_catalog catalog;
	struct web_sessions *sessions;
	pthread_mutex_t art_lock;       /* the dbt artifacts cache (models.c) */
	json_t *manifest, *run_results;
	double manifest_mtime, results_mtime;
	json_t *dbt_catalog;            /* target/catalog.json (dango docs generate), or NULL */
	double dbt_catalog_mtime;
	/* the model list and the lineage as JSON text, rebuilt when an input
	 * changed (artifacts, snapshot, runs): 1,000 models cost too much to
	 * build for every poll of the page */
	char *models_text, *lineage_text;
	char models_key[128], lineage_key[128];
	/* the scheduler, on a thread of its own (schedules.c); NULL with
	 * --no-scheduler or when another scheduler holds the project's lock
	 * (sched_note says which) */
	struct scheduler *sched;
	char *sched_note;
	struct pool *sched_pool;        /* its one thread (core/pool.h) */
	int sched_done;                 /* scheduler_run returned (under sched_lock) */
	pthread_mutex_t sched_lock;     /* sched_done, and edits of schedules.yml */
	/* the sync status files, kept while none changes (runs.c) */
	pthread_mutex_t status_lock;
	json_t *statuses;
	struct timespec statuses_mtime;
	int statuses_final;
	long statuses_gen;              /* bumped whenever the list is read again */
	/* answers kept until an input changes, and the parsed sources.yml (cache.c) */
	pthread_mutex_t cache_lock;
	struct web_sources *sources;
	struct web_text_cache sources_text, catalog_text, overview_text, runs_text;
	/* schedules.yml without the ops-db (web_schedules_brief), until it
	 * changes or the earliest next run passes */
	json_t *sched_brief;
	char *sched_brief_key;
	long long sched_brief_until;
	long sched_brief_gen;
};

struct web_request {
	const char *method;     /* "GET", "POST", ... */
	const char *path;       /* without the query string */
	const char *body;       /* NUL-terminated; "" when none */
	size_t body_len;
	void *conn;             /* struct MHD_Connection */
	const char *session;    /* the session id when one is valid, else NULL */
};

struct web_response {
	int status;
	const char *content_type;
	struct strbuf body;
	const char *set_cookie;  /* borrowed; NULL: none */
	const char *location;    /* for redirects */
	int cacheable;           /* an embedded asset: may be cached */
};

/* Query-string argument (borrowed) or NULL. */
const char *web_arg(const struct web_request *rq, const char *name);

/* Answers. web_json takes the reference to doc. */
void web_json(struct web_response *rs, int status, json_t *doc);
void web_error(struct web_response *rs, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Routes (api.c, models.c); return 0 when handled, -1 when no route matched. */
int web_api(struct web *w, const struct web_request *rq, struct web_response *rs);
int web_models_route(struct web *w, const struct web_request *rq, struct web_response *rs,
		     const char *const *parts, size_t nparts);

/* Schedules (schedules.c): the routes under /api/schedules. */
int web_schedules_route(struct web *w, const struct web_request *rq, struct web_response *rs,
			const char *const *parts, size_t nparts);
/* Each schedule with its next run and last result (the caller's). */
json_t *web_schedules_list(struct web *w);
/* The same, with the earliest next run in *until (LLONG_MAX: none). */
json_t *web_schedules_list_until(struct web *w, long long *until);
/* The same from schedules.yml alone, without last results or what runs
 * (the Sources table: no ops-db query per source). */
json_t *web_schedules_brief(struct web *w);
/* The enabled schedules that sync source, "name (next TIME)" joined with
 * "; " (the caller's), or NULL. A schedule of all sources syncs the
 * enabled ones. */
char *web_schedules_of_source(json_t *schedules, const char *source, int enabled);
/* Scheduled runs of the history as runs (kind "schedule"), newest first,
 * and the status ids of the sync status files their steps wrote (so the
 * runs list shows each once). */
json_t *web_schedule_runs(struct web *w, size_t limit, json_t *status_ids);
/* One scheduled run ("sched-N") with its log, or NULL. */
json_t *web_schedule_run_get(struct web *w, const char *id);
/* The in-process scheduler: start it (unless --no-scheduler; a scheduler
 * running elsewhere is a warning, not an error), ask it to stop (force:
 * kill its jobs, as a second signal does to `dango scheduler`), see
 * whether its thread has returned, and release it. */
void web_scheduler_start(struct web *w);
void web_scheduler_stop(struct web *w, int force);
int web_scheduler_done(struct web *w);
void web_scheduler_release(struct web *w);

/* Governance (governance.c): /api/drift and /api/oauth. */
int web_governance_route(struct web *w, const struct web_request *rq, struct web_response *rs,
			 const char *const *parts, size_t nparts);
/* Open drift summary for the overview: {"sources": N, "breaking": N, "events": N}. */
json_t *web_drift_summary(struct web *w);

/* Shared by the routes (api.c). */
json_t *web_parse_body(const struct web_request *rq, struct web_response *rs);
int web_check_keys(json_t *body, const char *const *allowed, struct web_response *rs);
/* The last 64 KiB of a log into o ("log", "log_truncated"). */
void web_add_log(json_t *o, const char *path);

/* Runs (runs.c). */
int web_runs_init(struct web *w, struct strbuf *err);
void web_runs_release(struct web *w);
/* Start `dango ARGV...` (argv without the program) as a run of kind "sync"
 * or "run" for target; returns the run id (the caller frees) or NULL with err. */
char *web_run_start(struct web *w, const char *kind, const char *target, const char *const *argv,
		    struct strbuf *err);
/* Reap ended children, update their records; 1 if any write finished. */
int web_runs_reap(struct web *w);
/* The runs as JSON: every web run, and syncs started elsewhere (status files). */
json_t *web_runs_list(struct web *w, const char *kind, const char *target, size_t limit);
/* One run with its log tail, or NULL when there is no such run. */
json_t *web_run_get(struct web *w, const char *id);
/* The running web run for (kind, target), its id (borrowed under runs_lock;
 * copied into buf), or NULL. */
const char *web_run_active(struct web *w, const char *kind, const char *target, char *buf, size_t n);
/* The runs' generation: changes whenever a run starts or ends. */
long web_runs_generation(struct web *w);
/* The sync status files (ingest/status.h), newest first: a new reference
 * to a shared array that nobody may modify. Never NULL. */
json_t *web_sync_statuses(struct web *w);
/* Rows loaded per UTC day over the last `days` days (the sync status
 * files of every sync, wherever it started): [{"day", "rows"}], oldest first. */
json_t *web_rows_per_day(struct web *w, int days);
/* Stop every child still running (SIGTERM, then SIGKILL). */
void web_runs_stop_all(struct web *w);

/* The catalog snapshot (catalog.c). */
void web_catalog_init(struct web *w);
void web_catalog_release(struct web *w);
/* Refresh when due (dirty or the warehouse changed) and the warehouse is free.
 * force: refresh now if the warehouse can be opened. */
void web_catalog_tick(struct web *w, int force);
/* A new reference to the snapshot document, with "age_seconds" and "busy"
 * set (the caller decrefs). Never NULL. */
json_t *web_catalog_get(struct web *w);
/* The snapshot without its index as JSON text (the caller frees), built
 * once per snapshot. */
char *web_catalog_text(struct web *w);
/* When the snapshot was taken (0: never). */
double web_catalog_taken_at(struct web *w);
/* Rows of schema.table in the snapshot, -1 when unknown. */
long long web_catalog_rows(json_t *cat, const char *schema, const char *table);

/* Sessions and the CSRF token (session.c). */
struct web_sessions *web_sessions_new(void);
void web_sessions_free(struct web_sessions *s);
/* A new session id (the caller frees) and its CSRF token in csrf (65 bytes). */
char *web_session_create(struct web_sessions *s, char csrf[65]);
/* Is id a live session? Copies its CSRF token into csrf when it is. */
int web_session_check(struct web_sessions *s, const char *id, char csrf[65]);
/* 32 random bytes as 64 hex digits into out (65 bytes). */
void web_random_hex(char out[65]);
/* Constant-time comparison of two NUL-terminated strings. */
int web_secret_equal(const char *a, const char *b);

/* Cached answers (cache.c). web_key_file appends a file's identity (device,
 * inode, size, mtime) to key, "-" when it does not exist; web_key_opsdb
 * the ops-db's and its WAL's. */
void web_key_file(struct strbuf *key, const char *path);
void web_key_opsdb(struct web *w, struct strbuf *key);
/* The text cached under key (the caller frees), or NULL. */
char *web_cache_get(struct web *w, struct web_text_cache *c, const char *key);
void web_cache_put(struct web *w, struct web_text_cache *c, const char *key, const char *text);
/* The same, stale once Dango's clock reaches until. */
void web_cache_put_until(struct web *w, struct web_text_cache *c, const char *key, const char *text, long long until);
void web_cache_release(struct web_text_cache *c);
void web_cache_free_all(struct web *w);
/* Answer 200 with the JSON object text obj and the members of extra (taken)
 * added at its end: the cached part and what changes with the clock. */
void web_json_text(struct web_response *rs, const char *obj, json_t *extra);
/* sources.yml, parsed again only when it changed: the list (read-only,
 * shared between requests) and a reference for web_sources_put, or NULL
 * with err. */
const struct source_list *web_sources_get(struct web *w, struct web_sources **ref, struct strbuf *err);
void web_sources_put(struct web *w, struct web_sources *ref);
/* The sync status files' generation: changes whenever they are read
 * again; *live is set when one of them still runs (then nothing built
 * from them may be kept). */
long web_sync_statuses_gen(struct web *w, int *live);
/* The snapshot's age, whether a writer holds the warehouse and who:
 * {"taken_at", "age_seconds", "busy", "writer"} (the caller's). */
json_t *web_catalog_meta(struct web *w);
/* The generation of web_schedules_brief's answer. */
long web_schedules_brief_gen(struct web *w);

/* Secrets of a source's block masked (api.c), for responses. */
json_t *web_masked_config(const struct web *w, const void *source);

double web_now(void);
/* A status file's local time without an offset ("2026-03-28T12:00:00") as
 * UTC "...Z", as a new JSON string (null when it is not such a time). */
json_t *web_local_to_utc(json_t *v);
void web_iso(char *buf, size_t n, double t);

#endif
