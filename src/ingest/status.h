/* .dango/state/sync_status_<id>.json: how a running sync stands, for the web
 * page and the scheduler. Rewritten atomically at each change. Phases:
 * starting -> lock_waiting -> data_load -> dbt_started -> completed | failed. */
#ifndef DANGO_INGEST_STATUS_H
#define DANGO_INGEST_STATUS_H
#include <stdint.h>
#include <jansson.h>

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

#endif
