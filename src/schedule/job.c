#include "schedule/job.h"
#include "schedule/history.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/xalloc.h"
#include "ingest/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- processes ------------------------------------------------------------------- */

long long job_process_start(long pid)
{
	char state;
	long long start;
	return proc_read_stat(pid, &state, &start) < 0 ? 0 : start;
}

int job_process_alive(long pid, long long start)
{
	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	char state;
	long long started = 0;
	int known = proc_read_stat(pid, &state, &started) == 0;
	/* a zombie has ended (its parent, a dead scheduler, cannot reap it) */
	if (known && (state == 'Z' || state == 'X'))
		return 0;
	return !start || (known ? started : 0) == start;
}

/* ---- set-up ------------------------------------------------------------------------ */

static void add_step(struct job *j, int dbt)
{
	j->steps = xrealloc(j->steps, (j->nsteps + 1) * sizeof(*j->steps));
	j->step_dbt = xrealloc(j->step_dbt, (j->nsteps + 1) * sizeof(*j->step_dbt));
	memset(&j->steps[j->nsteps], 0, sizeof(*j->steps));
	j->step_dbt[j->nsteps] = dbt;
	j->nsteps++;
}

static struct strvec *last_step(struct job *j)
{
	return &j->steps[j->nsteps - 1];
}

/* dango sync calls: the plain sources in one, each source with tables in
 * its own (--select applies to every source of a call). */
static void sync_steps(struct job *j)
{
	struct strvec plain = STRVEC_INIT, with_tables = STRVEC_INIT;
	for (size_t i = 0; i < j->sources.nr; i++) {
		const char *e = j->sources.v[i], *dot = strchr(e, '.');
		if (!dot) {
			if (!strvec_has(&plain, e))
				strvec_push(&plain, e);
			continue;
		}
		char *src = xstrndup(e, (size_t)(dot - e));
		if (!strvec_has(&with_tables, src) && !strvec_has(&plain, src))
			strvec_push(&with_tables, src);
		free(src);
	}
	if (plain.nr || !j->sources.nr) {
		add_step(j, 0);
		strvec_push(last_step(j), "sync");
		for (size_t i = 0; i < plain.nr; i++)
			strvec_push(last_step(j), plain.v[i]);
	}
	for (size_t k = 0; k < with_tables.nr; k++) {
		struct strbuf sel = STRBUF_INIT;
		size_t n = strlen(with_tables.v[k]);
		for (size_t i = 0; i < j->sources.nr; i++) {
			const char *e = j->sources.v[i];
			if (!strncmp(e, with_tables.v[k], n) && e[n] == '.')
				strbuf_addf(&sel, "%s%s", sel.len ? "," : "", e + n + 1);
		}
		add_step(j, 0);
		strvec_push(last_step(j), "sync");
		strvec_push(last_step(j), with_tables.v[k]);
		strvec_push(last_step(j), "--select");
		strvec_push(last_step(j), sel.buf);
		strbuf_release(&sel);
	}
	strvec_clear(&plain);
	strvec_clear(&with_tables);
}

void job_init(struct job *j, const struct schedule *s, const char *trigger, int64_t scheduled_for, int attempt)
{
	memset(j, 0, sizeof(*j));
	strbuf_init(&j->error, 0);
	j->name = xstrdup(s->name);
	j->type = s->type;
	for (size_t i = 0; i < s->sources.nr; i++)
		strvec_push(&j->sources, s->sources.v[i]);
	j->timeout_minutes = s->timeout_minutes;
	j->retries_max = s->retries_max;
	j->backoff_seconds = s->backoff_seconds;
	j->notify_on = s->notify_on;
	j->trigger = xstrdup(trigger);
	j->scheduled_for = scheduled_for;
	j->attempt = attempt;
	j->status = "running";
	j->proc.pid = -1;
	j->rows = j->models = -1;
	switch (s->type) {
	case SCHED_SYNC:
	case SCHED_SYNC_ONLY:
		sync_steps(j);
		if (s->type == SCHED_SYNC) {
			add_step(j, 1);
			strvec_push(last_step(j), "run");
			for (size_t i = 0; i < s->sources.nr; i++) {
				strvec_push(last_step(j), "--select");
				strvec_pushf(last_step(j), "source:%s+", s->sources.v[i]);
			}
		}
		break;
	case SCHED_DBT:
		add_step(j, 1);
		strvec_push(last_step(j), s->dbt_command ? s->dbt_command : "run");
		if (s->select) {
			strvec_push(last_step(j), "--select");
			strvec_push(last_step(j), s->select);
		}
		break;
	case SCHED_SCRIPT:
		add_step(j, 0);
		strvec_push(last_step(j), "/bin/sh");
		strvec_push(last_step(j), "-c");
		strvec_push(last_step(j), s->command);
		break;
	}
	/* writers wait for the single-writer lock */
	if (s->type != SCHED_SCRIPT)
		for (size_t i = 0; i < j->nsteps; i++) {
			strvec_push(&j->steps[i], "--wait");
			strvec_pushf(&j->steps[i], "%lld", (long long)s->lock_wait);
		}
}

void job_init_retry(struct job *n, const struct job *j, int64_t retry_time)
{
	memset(n, 0, sizeof(*n));
	strbuf_init(&n->error, 0);
	n->name = xstrdup(j->name);
	n->type = j->type;
	for (size_t i = 0; i < j->sources.nr; i++)
		strvec_push(&n->sources, j->sources.v[i]);
	n->timeout_minutes = j->timeout_minutes;
	n->retries_max = j->retries_max;
	n->backoff_seconds = j->backoff_seconds;
	n->notify_on = j->notify_on;
	for (size_t i = 0; i < j->nsteps; i++) {
		add_step(n, j->step_dbt[i]);
		for (size_t k = 0; k < j->steps[i].nr; k++)
			strvec_push(last_step(n), j->steps[i].v[k]);
	}
	n->trigger = xstrdup("retry");
	n->scheduled_for = j->scheduled_for;
	n->attempt = j->attempt + 1;
	n->status = "running";
	n->proc.pid = -1;
	n->rows = n->models = -1;
	n->retry_at = retry_time;
}

void job_release(struct job *j)
{
	free(j->name);
	strvec_clear(&j->sources);
	for (size_t i = 0; i < j->nsteps; i++)
		strvec_clear(&j->steps[i]);
	free(j->steps);
	free(j->step_dbt);
	free(j->trigger);
	free(j->log_path);
	free(j->status_path);
	strbuf_release(&j->error);
	proc_release(&j->proc);
	memset(j, 0, sizeof(*j));
	j->proc.pid = -1;
}

/* ---- status files ---------------------------------------------------------------- */

static void local_iso(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void status_save(const char *path, json_t *doc)
{
	char when[32];
	local_iso(when, sizeof(when));
	json_object_set_new(doc, "updated_at", json_string(when));
	char *text = json_dumps(doc, JSON_INDENT(2));
	fs_write_atomic(path, text, strlen(text));
	free(text);
}

/* Move the job's status file to a phase, with the pid now doing the work. */
static void status_phase(struct job *j, const char *phase, pid_t pid, const char *error)
{
	json_error_t je;
	if (!j->status_path)
		return;
	json_t *doc = json_load_file(j->status_path, 0, &je);
	if (!doc)
		return;
	json_object_set_new(doc, "phase", json_string(phase));
	json_t *seen = json_object_get(doc, "phases");
	if (!seen) {
		seen = json_array();
		json_array_append_new(seen, json_string("starting"));
		json_object_set_new(doc, "phases", seen);
	}
	json_array_append_new(seen, json_string(phase));
	if (pid > 0) {
		json_object_set_new(doc, "pid", json_integer(pid));
		json_object_set_new(doc, "pid_start", json_integer(job_process_start(pid)));
	}
	json_object_set_new(doc, "schedule", json_string(j->name));
	if (!strcmp(phase, "completed") || !strcmp(phase, "failed")) {
		char when[32];
		local_iso(when, sizeof(when));
		json_object_set_new(doc, "finished_at", json_string(when));
		json_object_set_new(doc, "error", error ? json_string(error) : json_null());
	}
	status_save(j->status_path, doc);
	json_decref(doc);
}

/* A status file for a job that runs no sync (dbt, script). */
static void status_create(struct job *j, const struct job_ctx *c, pid_t pid)
{
	char stamp[32], when[32];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	local_iso(when, sizeof(when));
	char *id = xasprintf("%s_%d", stamp, (int)pid);
	fs_mkdir_p(c->state_dir, 0755);
	free(j->status_path);
	j->status_path = xasprintf("%s/sync_status_%s.json", c->state_dir, id);
	json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:[], s:{}, s:I, s:s, s:n, s:[s], s:s, s:s}", "id", id, "phase",
				"starting", "pid", (json_int_t)pid, "pid_start", (json_int_t)job_process_start(pid),
				"sources", "progress", "rows", (json_int_t)0, "started_at", when, "error", "phases",
				"starting", "schedule", j->name, "job_type", schedule_type_name(j->type));
	status_save(j->status_path, doc);
	json_decref(doc);
	free(id);
	j->own_status = 1;
}

/* Whether a status file was written by the process started at
 * pid_start (0: not known, any will do): a pid is reused over time, and
 * the state folder keeps the last 100 files. */
static int status_of_process(const char *path, long long pid_start)
{
	if (!pid_start)
		return 1;
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	long long start = doc ? (long long)json_integer_value(json_object_get(doc, "pid_start")) : 0;
	json_decref(doc);
	return start == pid_start;
}

/* The status file a sync child wrote: sync_status_<stamp>_<pid>.json, the
 * newest by its stamp that the process started at pid_start wrote. */
static char *find_sync_status(const char *state_dir, pid_t pid, long long pid_start)
{
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "_%d.json", (int)pid);
	DIR *d = opendir(state_dir);
	struct dirent *e;
	char *found = NULL;
	size_t ns = strlen(suffix);
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "sync_status_", 12) || n <= ns || strcmp(e->d_name + n - ns, suffix))
			continue;
		if (found && strcmp(e->d_name, strrchr(found, '/') + 1) < 0)
			continue;
		char *path = xasprintf("%s/%s", state_dir, e->d_name);
		if (!status_of_process(path, pid_start)) {
			free(path);
			continue;
		}
		free(found);
		found = path;
	}
	closedir(d);
	return found;
}

/* ---- the log ------------------------------------------------------------------------- */

static void make_log_path(struct job *j, const struct job_ctx *c)
{
	char stamp[32];
	time_t now = clock_now_sec();
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	struct strbuf dir = STRBUF_INIT;
	strbuf_addf(&dir, "%s/.dango/logs/schedules/%s", c->root, j->name);
	fs_mkdir_p(dir.buf, 0755);
	free(j->log_path);
	j->log_path = xasprintf("%s/%s-%lld.log", dir.buf, stamp, (long long)j->row_id);
	strbuf_release(&dir);
}

/* The last lines of the log (after offset `from`), for messages. */
static void log_tail(const char *path, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	if (!path || strbuf_read_file(&text, path) < 0) {
		strbuf_release(&text);
		return;
	}
	strbuf_rtrim(&text);
	/* the last line that says something went wrong, else the last line */
	const char *best = NULL;
	size_t best_len = 0;
	for (char *line = text.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (!len)
			continue;
		if (strstr(line, "rror") && (!nl || strstr(line, "rror") < nl)) {
			best = line;
			best_len = len;
		}
		if (!best || !strstr(best, "rror")) {
			best = line;
			best_len = len;
		}
	}
	if (best)
		strbuf_add(out, best, best_len > 300 ? 300 : best_len);
	strbuf_release(&text);
}

/* "Done. PASS=3 WARN=0 ERROR=1 SKIP=0 TOTAL=4" of the last dbt step */
static int64_t models_from_log(const char *path)
{
	struct strbuf text = STRBUF_INIT;
	int64_t models = -1;
	if (path && strbuf_read_file(&text, path) == 0) {
		const char *p = text.buf, *hit = NULL;
		while ((p = strstr(p, "Done. PASS=")))
			hit = p++;
		if (hit) {
			long long pass = 0, warn = 0;
			sscanf(hit, "Done. PASS=%lld WARN=%lld", &pass, &warn);
			models = pass + warn;
		} else if (strstr(text.buf, "Nothing to do.")) {
			models = 0;
		}
	}
	strbuf_release(&text);
	return models;
}

static void log_note(const char *path, const char *fmt, const char *arg)
{
	FILE *fp = path ? fopen(path, "a") : NULL;
	if (!fp)
		return;
	fprintf(fp, fmt, arg);
	fclose(fp);
}

/* ---- running ------------------------------------------------------------------------- */

/* Each step's stderr goes to LOG.err, so that the error of a failed step
 * is its last line there; it is appended to the log when the step ends. */
static char *err_path(const struct job *j)
{
	return xasprintf("%s.err", j->log_path);
}

static void last_line(const char *text, struct strbuf *out)
{
	const char *best = NULL;
	size_t best_len = 0;
	for (const char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int has_text = 0;
		for (size_t i = 0; i < len; i++)
			has_text |= (line[i] >= 'a' && line[i] <= 'z') || (line[i] >= 'A' && line[i] <= 'Z');
		/* the last "error: ..." line, else the last line with words */
		int is_error = !strncmp(line, "error:", 6);
		if (is_error || (has_text && (!best || strncmp(best, "error:", 6)))) {
			best = line;
			best_len = len;
		}
	}
	if (best)
		strbuf_add(out, best, best_len > 300 ? 300 : best_len);
}

/* Fold the step's stderr into the log; its last line into tail. */
static void take_stderr(struct job *j, struct strbuf *tail)
{
	char *path = err_path(j);
	struct strbuf text = STRBUF_INIT;
	if (strbuf_read_file(&text, path) == 0 && text.len) {
		last_line(text.buf, tail);
		FILE *fp = fopen(j->log_path, "a");
		if (fp) {
			fputs("### stderr:\n", fp);
			fwrite(text.buf, 1, text.len, fp);
			if (text.buf[text.len - 1] != '\n')
				fputc('\n', fp);
			fclose(fp);
		}
	}
	unlink(path);
	strbuf_release(&text);
	free(path);
}

static int start_step(struct job *j, const struct job_ctx *c, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	const struct strvec *st = &j->steps[j->cur];
	int script = j->type == SCHED_SCRIPT;
	if (!script) {
		strvec_push(&argv, c->exe);
		strvec_push(&argv, "--project-dir");
		strvec_push(&argv, c->root);
		strvec_push(&argv, "--no-color");
	}
	for (size_t i = 0; i < st->nr; i++) {
		/* a lock wait of -1 is the project's */
		if (i > 0 && !strcmp(st->v[i - 1], "--wait") && !strcmp(st->v[i], "-1"))
			strvec_pushf(&argv, "%d", c->lock_wait);
		else
			strvec_push(&argv, st->v[i]);
	}
	strvec_pushf(&env, "DANGO_SCHEDULE=%s", j->name);
	strvec_pushf(&env, "DANGO_SCHEDULE_RUN=%lld", (long long)j->row_id);
	strvec_push(&env, "NO_COLOR=1");
	if (getenv("DANGO_NOW")) {
		/* the child's clock goes on from ours */
		char now[32];
		strvec_pushf(&env, "DANGO_NOW=%s", clock_format_utc(now, clock_now_sec()));
	}
	{
		FILE *fp = fopen(j->log_path, "a");
		if (fp) {
			char now[32];
			fprintf(fp, "### %s step %zu/%zu:", clock_format_utc(now, clock_now_sec()), j->cur + 1, j->nsteps);
			for (size_t i = script ? 0 : 4; i < argv.nr; i++)
				fprintf(fp, " %s", argv.v[i]);
			fputc('\n', fp);
			fclose(fp);
		}
	}
	struct proc_opts o = { 0 };
	o.argv = (const char *const *)argv.v;
	o.cwd = c->root;
	o.env_add = (const char *const *)env.v;
	char *epath = err_path(j);
	unlink(epath);
	o.out = o.err = c->tee ? PROC_PIPE : PROC_FILE;
	o.out_path = j->log_path;
	o.err_path = epath;
	o.stdin_null = 1;
	int r = proc_spawn(&j->proc, &o, err);
	free(epath);
	strvec_clear(&argv);
	strvec_clear(&env);
	if (r < 0)
		return -1;
	j->running = 1;
	j->pid_start = job_process_start(j->proc.pid);
	if (j->step_dbt[j->cur] && j->status_path && !j->own_status) {
		/* the sync's file goes on through the dbt phase, written by us */
		status_phase(j, "dbt_started", j->proc.pid, NULL);
		j->own_status = 1;
	}
	else if (!j->status_path && (j->type == SCHED_DBT || j->type == SCHED_SCRIPT)) {
		status_create(j, c, j->proc.pid);
		if (j->type == SCHED_DBT)
			status_phase(j, "dbt_started", j->proc.pid, NULL);
	}
	return 0;
}

static void row_of(const struct job *j, struct run_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = j->row_id;
	r->schedule = j->name;
	r->trigger = j->trigger;
	r->scheduled_for = j->scheduled_for;
	r->started_at = j->started_at;
	r->finished_at = j->finished_at;
	r->status = j->status;
	r->attempt = j->attempt;
	r->rows_loaded = j->rows;
	r->models_run = j->models;
	r->error = j->error.len ? j->error.buf : NULL;
	r->log_path = j->log_path;
	r->status_path = j->status_path;
	r->pid = j->running && j->proc.pid > 0 ? j->proc.pid : 0;
	r->pid_start = r->pid ? job_process_start(r->pid) : 0;
}

static void record(struct job *j, const struct job_ctx *c)
{
	struct run_row r;
	struct strbuf err = STRBUF_INIT;
	row_of(j, &r);
	if (c->db)
		history_update(c->db, &r, &err);
	strbuf_release(&err);
}

static void finish(struct job *j, const struct job_ctx *c, const char *status)
{
	j->status = status;
	j->finished_at = clock_now_sec();
	j->running = 0;
	if (j->status_path && j->own_status)
		status_phase(j, strcmp(status, "success") ? "failed" : "completed", 0,
			     j->error.len ? j->error.buf : NULL);
	if (!strcmp(status, "success") && c->db && (j->type == SCHED_SYNC || j->type == SCHED_SYNC_ONLY))
		for (size_t i = 0; i < j->sources.nr; i++) {
			char *src = xstrndup(j->sources.v[i], strcspn(j->sources.v[i], "."));
			history_source_success(c->db, src, j->finished_at);
			free(src);
		}
	log_note(j->log_path, "### %s\n", status);
	record(j, c);
}

int job_start(struct job *j, const struct job_ctx *c, struct strbuf *err)
{
	struct run_row r;
	j->started_at = clock_now_sec();
	row_of(j, &r);
	if (c->db && history_insert(c->db, &r, err) < 0)
		return -1;
	j->row_id = r.id;
	make_log_path(j, c);
	if (start_step(j, c, err) < 0) {
		strbuf_addbuf(&j->error, err);
		finish(j, c, "failed");
		return -1;
	}
	record(j, c);
	return 0;
}

/* Copy what the children wrote to our stdout and the log (foreground). */
static void pump(struct job *j, int wait_ms)
{
	struct pollfd fds[2];
	int n = 0;
	if (j->proc.stdout_fd >= 0)
		fds[n++] = (struct pollfd){ j->proc.stdout_fd, POLLIN, 0 };
	if (j->proc.stderr_fd >= 0)
		fds[n++] = (struct pollfd){ j->proc.stderr_fd, POLLIN, 0 };
	if (!n || poll(fds, (nfds_t)n, wait_ms) <= 0)
		return;
	FILE *log = fopen(j->log_path, "a");
	char *epath = err_path(j);
	FILE *elog = fopen(epath, "a");
	free(epath);
	for (int i = 0; i < n; i++) {
		if (!(fds[i].revents & (POLLIN | POLLHUP)))
			continue;
		char buf[4096];
		ssize_t got = read(fds[i].fd, buf, sizeof(buf));
		if (got <= 0) {
			close(fds[i].fd);
			if (fds[i].fd == j->proc.stdout_fd)
				j->proc.stdout_fd = -1;
			else
				j->proc.stderr_fd = -1;
			continue;
		}
		int is_err = fds[i].fd == j->proc.stderr_fd;
		FILE *to = is_err ? stderr : stdout;
		fwrite(buf, 1, (size_t)got, to);
		fflush(to);
		FILE *keep = is_err ? elog : log;
		if (keep)
			fwrite(buf, 1, (size_t)got, keep);
	}
	if (log)
		fclose(log);
	if (elog)
		fclose(elog);
}

static int step_ended(struct job *j, const struct job_ctx *c, int64_t now)
{
	struct strbuf why = STRBUF_INIT;
	int failed = proc_describe_status(&why, j->proc.status);
	while (j->proc.stdout_fd >= 0 || j->proc.stderr_fd >= 0)
		pump(j, 100);
	proc_release(&j->proc);
	j->running = 0;
	const int is_sync = !j->step_dbt[j->cur] && j->type != SCHED_SCRIPT;
	if (is_sync) {
		char *found = find_sync_status(c->state_dir, j->proc.pid, j->pid_start);
		if (found) {
			json_t *doc;
			struct strbuf e = STRBUF_INIT;
			if (sync_status_read(found, &doc, &e) == 0) {
				j->rows = (j->rows < 0 ? 0 : j->rows) + json_integer_value(json_object_get(doc, "rows"));
				json_decref(doc);
			}
			strbuf_release(&e);
			free(j->status_path);
			j->status_path = found;
		}
	}
	if (j->step_dbt[j->cur])
		j->models = models_from_log(j->log_path);
	struct strbuf tail = STRBUF_INIT;
	take_stderr(j, &tail);
	if (failed) {
		if (!tail.len)
			log_tail(j->log_path, &tail);
		strbuf_addf(&j->error, "%s %s", j->type == SCHED_SCRIPT ? "the command" : j->steps[j->cur].v[0], why.buf);
		if (tail.len)
			strbuf_addf(&j->error, ": %s", tail.buf);
		strbuf_release(&tail);
		strbuf_release(&why);
		finish(j, c, "failed");
		return 1;
	}
	strbuf_release(&tail);
	strbuf_release(&why);
	if (++j->cur < j->nsteps) {
		struct strbuf err = STRBUF_INIT;
		if (start_step(j, c, &err) < 0) {
			strbuf_addbuf(&j->error, &err);
			strbuf_release(&err);
			finish(j, c, "failed");
			return 1;
		}
		strbuf_release(&err);
		record(j, c);
		return 0;
	}
	(void)now;
	finish(j, c, "success");
	return 1;
}

static int adopted_poll(struct job *j, const struct job_ctx *c)
{
	if (job_process_alive(j->proc.pid, j->pid_start))
		return 0;
	json_t *doc = NULL;
	struct strbuf e = STRBUF_INIT;
	const char *status = "failed";
	if (j->status_path && sync_status_read(j->status_path, &doc, &e) == 0) {
		const char *phase = json_string_value(json_object_get(doc, "phase"));
		json_int_t rows = json_integer_value(json_object_get(doc, "rows"));
		if (rows)
			j->rows = rows;
		if (phase && !strcmp(phase, "completed") && !j->own_status) {
			/* the sync finished; a dbt step after it was never started */
			status = j->type == SCHED_SYNC ? "failed" : "success";
			if (j->type == SCHED_SYNC)
				strbuf_addstr(&j->error, "the sync completed, but the scheduler stopped before its dbt models ran");
		} else if (phase && !strcmp(phase, "failed")) {
			const char *msg = json_string_value(json_object_get(doc, "error"));
			strbuf_addf(&j->error, "%s", msg ? msg : "the job failed while no scheduler watched it");
		} else {
			/* gone (perhaps a zombie nobody reaps, which the status
			 * reader takes for alive) without reaching a final phase */
			strbuf_addf(&j->error, "the job (pid %lld) ended during phase '%s' without finishing: killed or crashed",
				    (long long)j->proc.pid, phase ? phase : "?");
		}
	} else {
		strbuf_addstr(&j->error, "the job ended while no scheduler watched it; its outcome is unknown");
	}
	json_decref(doc);
	strbuf_release(&e);
	j->status = status;
	j->finished_at = clock_now_sec();
	j->running = 0;
	if (j->own_status && j->status_path)
		status_phase(j, "failed", 0, j->error.buf);
	record(j, c);
	return 1;
}

int job_poll(struct job *j, const struct job_ctx *c, int64_t now)
{
	if (strcmp(j->status, "running"))
		return 1;
	if (j->adopted)
		return adopted_poll(j, c);
	if (!j->running)
		return 1;
	if (c->tee)
		pump(j, 50);
	if (!j->status_path && !j->step_dbt[j->cur] && j->type != SCHED_SCRIPT) {
		/* the sync's status file, as soon as it is there: a scheduler
		 * restarted after a crash reads the outcome from it */
		j->status_path = find_sync_status(c->state_dir, j->proc.pid, j->pid_start);
		if (j->status_path)
			record(j, c);
	}
	if (proc_wait(&j->proc, 0))
		return step_ended(j, c, now);
	if (j->timeout_minutes > 0 && now >= j->started_at + j->timeout_minutes * 60) {
		proc_terminate(&j->proc, 5);
		struct strbuf tail = STRBUF_INIT;
		take_stderr(j, &tail);
		strbuf_release(&tail);
		strbuf_addf(&j->error, "timed out after %lld minute%s: the job's processes were killed",
			    (long long)j->timeout_minutes, j->timeout_minutes == 1 ? "" : "s");
		log_note(j->log_path, "### %s\n", j->error.buf);
		proc_release(&j->proc);
		finish(j, c, "timeout");
		return 1;
	}
	return 0;
}

void job_kill(struct job *j, const struct job_ctx *c, const char *why)
{
	if (strcmp(j->status, "running"))
		return;
	if (j->adopted) {
		kill(-(pid_t)j->proc.pid, SIGKILL);
	} else if (j->running) {
		proc_kill_group(&j->proc, SIGKILL);
		proc_wait(&j->proc, 10);
		proc_release(&j->proc);
	}
	strbuf_addstr(&j->error, why);
	finish(j, c, "failed");
}

int job_adopt(struct job *j, const struct job_ctx *c, json_t *row, enum schedule_type type)
{
	memset(j, 0, sizeof(*j));
	strbuf_init(&j->error, 0);
	j->adopted = 1;
	j->name = xstrdup(json_string_value(json_object_get(row, "schedule")));
	j->trigger = xstrdup(json_string_value(json_object_get(row, "trigger")));
	j->row_id = json_integer_value(json_object_get(row, "id"));
	j->scheduled_for = json_integer_value(json_object_get(row, "scheduled_for"));
	j->started_at = json_integer_value(json_object_get(row, "started_at"));
	j->attempt = (int)json_integer_value(json_object_get(row, "attempt"));
	j->proc.pid = (pid_t)json_integer_value(json_object_get(row, "pid"));
	j->pid_start = json_integer_value(json_object_get(row, "pid_start"));
	j->proc.stdout_fd = j->proc.stderr_fd = -1;
	const char *lp = json_string_value(json_object_get(row, "log_path"));
	const char *sp = json_string_value(json_object_get(row, "status_path"));
	j->log_path = lp ? xstrdup(lp) : NULL;
	j->status_path = sp ? xstrdup(sp) : NULL;
	/* a sync's own file has no "schedule" key until the job takes it over for dbt */
	if (j->status_path) {
		json_error_t je;
		json_t *doc = json_load_file(j->status_path, 0, &je);
		j->own_status = doc && json_object_get(doc, "schedule") != NULL;
		json_decref(doc);
	} else if (type != SCHED_SCRIPT && j->proc.pid > 0 && j->pid_start) {
		/* the scheduler stopped before it recorded the sync's file */
		j->status_path = find_sync_status(c->state_dir, j->proc.pid, j->pid_start);
	}
	j->status = "running";
	j->rows = j->models = -1;
	j->type = type;
	return adopted_poll(j, c);
}
