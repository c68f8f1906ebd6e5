#include "ingest/status.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void now_iso(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void save(struct sync_status *st)
{
	char when[32];
	now_iso(when, sizeof(when));
	json_object_set_new(st->doc, "updated_at", json_string(when));
	char *text = json_dumps(st->doc, JSON_INDENT(2));
	fs_write_atomic(st->path, text, strlen(text));
	free(text);
}

void sync_status_init(struct sync_status *st, const char *state_dir, const char *const *sources, size_t nr)
{
	char when[32], stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	st->id = xasprintf("%s_%d", stamp, (int)getpid());
	struct strbuf p = STRBUF_INIT;
	fs_mkdir_p(state_dir, 0755);
	strbuf_addf(&p, "%s/sync_status_%s.json", state_dir, st->id);
	st->path = strbuf_detach(&p, NULL);
	now_iso(when, sizeof(when));
	json_t *srcs = json_array(), *progress = json_object();
	for (size_t i = 0; i < nr; i++) {
		json_array_append_new(srcs, json_string(sources[i]));
		json_object_set_new(progress, sources[i], json_pack("{s:s, s:I}", "status", "pending", "rows", (json_int_t)0));
	}
	st->doc = json_pack("{s:s, s:s, s:I, s:o, s:o, s:I, s:s, s:n}", "id", st->id, "phase", "starting", "pid",
			    (json_int_t)getpid(), "sources", srcs, "progress", progress, "rows", (json_int_t)0,
			    "started_at", when, "error");
	save(st);
}

void sync_status_phase(struct sync_status *st, const char *phase)
{
	json_object_set_new(st->doc, "phase", json_string(phase));
	/* the phases it went through, for whoever follows the sync */
	json_t *seen = json_object_get(st->doc, "phases");
	if (!seen) {
		seen = json_array();
		json_array_append_new(seen, json_string("starting"));
		json_object_set_new(st->doc, "phases", seen);
	}
	json_array_append_new(seen, json_string(phase));
	save(st);
}

void sync_status_source(struct sync_status *st, const char *source, const char *status, int64_t rows,
			const char *error)
{
	json_t *progress = json_object_get(st->doc, "progress");
	json_t *entry = json_pack("{s:s, s:I}", "status", status, "rows", (json_int_t)rows);
	if (error)
		json_object_set_new(entry, "error", json_string(error));
	json_object_set_new(progress, source, entry);
	json_int_t total = 0;
	const char *k;
	json_t *v;
	json_object_foreach(progress, k, v) {
		(void)k;
		total += json_integer_value(json_object_get(v, "rows"));
	}
	json_object_set_new(st->doc, "rows", json_integer(total));
	save(st);
}

void sync_status_finish(struct sync_status *st, int ok, const char *error)
{
	char when[32];
	now_iso(when, sizeof(when));
	json_object_set_new(st->doc, "finished_at", json_string(when));
	sync_status_phase(st, ok ? "completed" : "failed");
	json_object_set_new(st->doc, "error", error ? json_string(error) : json_null());
	save(st);
}

void sync_status_release(struct sync_status *st)
{
	free(st->path);
	free(st->id);
	json_decref(st->doc);
	memset(st, 0, sizeof(*st));
}
