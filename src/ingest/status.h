/* .dango/state/sync_status_<id>.json: how a running sync stands, for the web
 * page and the scheduler. Rewritten atomically at each change. Phases:
 * starting -> lock_waiting -> data_load -> dbt_started -> completed | failed.
 *
 * A sync killed (kill -9, a crash) leaves its file in a running phase:
 * readers go through sync_status_read, which reports such a file as failed
 * (its pid, and the pid's start time, say whether the writer still runs).
 * Each new sync rewrites such files as failed and keeps the newest
 * SYNC_STATUS_KEEP files. */
#ifndef DANGO_INGEST_STATUS_H
#define DANGO_INGEST_STATUS_H
#include <stdint.h>
#include <jansson.h>
#include <stddef.h>

struct strbuf;

struct sync_status {
	char *path;
	char *id;
	json_t *doc;
};

void sync_status_init(struct sync_status *st, const char *state_dir, const char *const *sources, size_t nr);
void sync_status_phase(struct sync_status *st, const char *phase);
void sync_status_source(struct sync_status *st, const char *source, const char *status, int64_t rows,
			const char *error);
void sync_status_finish(struct sync_status *st, int ok, const char *error);
void sync_status_release(struct sync_status *st);

#define SYNC_STATUS_KEEP 100

/* Read a status file into *doc (the caller's, json_decref). A file whose
 * phase is not final and whose process is gone is reported with phase
 * "failed", "stale": true and an error saying so. 0, or -1 with err. */
int sync_status_read(const char *path, json_t **doc, struct strbuf *err);
/* Every status file of state_dir, newest first, as read by
 * sync_status_read, into the array *docs (the caller's). */
int sync_status_list(const char *state_dir, json_t **docs, struct strbuf *err);
/* Rewrite stale status files as failed and remove all but the newest keep
 * (never one whose sync still runs). */
void sync_status_prune(const char *state_dir, size_t keep);

#endif
