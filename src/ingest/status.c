#include "ingest/status.h"
#include "core/fs.h"
#include "core/proc.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A writer that exited but was not reaped yet (a zombie: its parent, such
 * as the scheduler, has not waited for it) is not alive. */
static int writer_alive(json_t *doc)
{
	long pid = (long)json_integer_value(json_object_get(doc, "pid"));
	long long start = (long long)json_integer_value(json_object_get(doc, "pid_start"));
	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	char state;
	long long started;
	if (proc_read_stat(pid, &state, &started) < 0)
		return 1;
	if (state == 'Z' || state == 'X')
		return 0;
	return !start || !started || started == start;
}

static int phase_final(const char *phase)
{
	return phase && (!strcmp(phase, "completed") || !strcmp(phase, "failed"));
}

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
	char state;
	long long started = 0;
	if (proc_read_stat((long)getpid(), &state, &started) < 0)
		started = 0;
	json_object_set_new(st->doc, "pid_start", json_integer(started));
	save(st);
	sync_status_prune(state_dir, SYNC_STATUS_KEEP);
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

int sync_status_read(const char *path, json_t **doc, struct strbuf *err)
{
	json_error_t je;
	*doc = json_load_file(path, 0, &je);
	if (!*doc || !json_is_object(*doc)) {
		strbuf_addf(err, "%s:%d: %s", path, je.line, *doc ? "not a status object" : je.text);
		json_decref(*doc);
		*doc = NULL;
		return -1;
	}
	const char *phase = json_string_value(json_object_get(*doc, "phase"));
	if (!phase_final(phase) && !writer_alive(*doc)) {
		char *msg = xasprintf("the sync (pid %lld) ended during phase '%s' without finishing: killed or crashed",
				      (long long)json_integer_value(json_object_get(*doc, "pid")), phase ? phase : "?");
		json_object_set_new(*doc, "phase", json_string("failed"));
		json_object_set_new(*doc, "error", json_string(msg));
		json_object_set_new(*doc, "stale", json_true());
		free(msg);
	}
	return 0;
}

static int is_status_name(const char *name)
{
	size_t n = strlen(name);
	return !strncmp(name, "sync_status_", 12) && n > 17 && !strcmp(name + n - 5, ".json");
}

static int cmp_desc(const void *a, const void *b)
{
	return strcmp(*(const char *const *)b, *(const char *const *)a);
}

/* The status files' names, newest first (names start with the time). */
static int status_names(const char *state_dir, struct strvec *names)
{
	DIR *d = opendir(state_dir);
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (is_status_name(e->d_name))
			strvec_push(names, e->d_name);
	closedir(d);
	if (names->nr) /* no qsort of an empty list (UBSan: NULL base) */
		qsort(names->v, names->nr, sizeof(*names->v), cmp_desc);
	return 0;
}

int sync_status_list(const char *state_dir, json_t **docs, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	*docs = json_array();
	if (status_names(state_dir, &names) < 0) {
		strvec_clear(&names);
		if (errno == ENOENT)
			return 0;
		strbuf_addf(err, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < names.nr; i++) {
		struct strbuf p = STRBUF_INIT, e = STRBUF_INIT;
		json_t *doc;
		fs_path_join(&p, state_dir, names.v[i]);
		if (sync_status_read(p.buf, &doc, &e) == 0)
			json_array_append_new(*docs, doc);
		strbuf_release(&p);
		strbuf_release(&e);
	}
	strvec_clear(&names);
	return 0;
}

void sync_status_prune(const char *state_dir, size_t keep)
{
	struct strvec names = STRVEC_INIT;
	if (status_names(state_dir, &names) < 0) {
		strvec_clear(&names);
		return;
	}
	for (size_t i = 0; i < names.nr; i++) {
		struct strbuf p = STRBUF_INIT, e = STRBUF_INIT;
		json_t *doc;
		fs_path_join(&p, state_dir, names.v[i]);
		if (sync_status_read(p.buf, &doc, &e) == 0) {
			int stale = json_is_true(json_object_get(doc, "stale"));
			int running = !stale && !phase_final(json_string_value(json_object_get(doc, "phase")));
			if (i >= keep && !running) {
				unlink(p.buf);
			} else if (stale) {
				/* on disk too, for readers that only cat the file */
				char *text = json_dumps(doc, JSON_INDENT(2));
				fs_write_atomic(p.buf, text, strlen(text));
				free(text);
			}
			json_decref(doc);
		} else if (i >= keep) {
			unlink(p.buf);
		}
		strbuf_release(&p);
		strbuf_release(&e);
	}
	strvec_clear(&names);
}
