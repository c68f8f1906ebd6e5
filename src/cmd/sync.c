/* dango sync [SOURCE...]: load sources into the warehouse. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/status.h"
#include "ingest/sync.h"
#include "ingest/load_pg.h"
#include "warehouse/pg_warehouse.h"
#include "ingest/sync_state.h"
#include "sources/registry.h"
#include "core/pool.h"

#include <pthread.h>
#include <unistd.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cmd_info info = {
	"sync",
	"dango sync [SOURCE...] [--source NAME] [--since DATE | --start-date DATE] [--until DATE]\n"
	"                  [--backfill Nd|Nw|Nm] [--select RES] [--limit N] [--full-refresh] [--dry-run]\n"
	"                  [--allow-schema-changes] [--allow-empty] [--workers N] [--fail-fast] [-y | --yes]\n"
	"                  [--wait SECONDS]",
	"Load data from sources (all enabled ones, or those named) into the warehouse's raw_<source> schemas.",
	"Incremental by default: files are tracked by size, time and content, API cursors by\n"
	"their state; data and state are committed together, so an interrupted sync loses and\n"
	"duplicates nothing. --full-refresh reloads into new tables swapped in on success.",
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int valid_date(const char *s)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	return end && !*end && strlen(s) == 10;
}

/* --backfill 7d | 2w | 1m -> the date that many days before today. */
static int backfill_date(const char *spec, char *out)
{
	char *end;
	long n = strtol(spec, &end, 10);
	int days;
	if (n <= 0 || end == spec || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'd': days = (int)n; break;
	case 'w': days = (int)n * 7; break;
	case 'm': days = (int)n * 30; break;
	default: return -1;
	}
	time_t t = time(NULL) - (time_t)days * 86400;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return 0;
}

/* Progress lines of a job (job->progress_data is its struct source_run's
 * turn flag). Lines go out when they happen, so their clocks never go
 * backwards. With one worker, a source's extract starts at its turn and
 * all its lines stand under its "Syncing x (i/N)" header; with several,
 * an extract running ahead of its turn prefixes its lines with the
 * source's name, so that lines of sources read at once can be told apart. */
static void step(struct sync_job *job, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&job->lock);
	const int *turn = job->progress_data;
	if (turn && !*turn)
		ui_step("%s: %s", job->source->name, sb.buf);
	else
		ui_step("%s", sb.buf);
	pthread_mutex_unlock(&job->lock);
	strbuf_release(&sb);
}

/* A progress bar for long loads, on a terminal only: a thread polls
 * DuckDB's progress of the running statement. */
struct progress_bar {
	pthread_t thread;
	struct warehouse *wh;
	pthread_mutex_t lock;
	pthread_cond_t stop_cond;
	int stop, drawn;
};

static void *progress_loop(void *arg)
{
	struct progress_bar *pb = arg;
	struct timespec start;
	clock_gettime(CLOCK_REALTIME, &start);
	pthread_mutex_lock(&pb->lock);
	while (!pb->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&pb->stop_cond, &pb->lock, &until);
		if (pb->stop || until.tv_sec - start.tv_sec < 1)
			continue; /* short loads get no bar */
		double pct = warehouse_progress(pb->wh);
		if (pct < 0)
			continue;
		int filled = (int)(pct / 100.0 * 30);
		char bar[31];
		for (int i = 0; i < 30; i++)
			bar[i] = i < filled ? '#' : '.';
		bar[30] = '\0';
		printf("\r           [%s] %3.0f%%", bar, pct);
		fflush(stdout);
		pb->drawn = 1;
	}
	if (pb->drawn) {
		printf("\r%60s\r", "");
		fflush(stdout);
	}
	pthread_mutex_unlock(&pb->lock);
	return NULL;
}

static int progress_start(struct progress_bar *pb, struct warehouse *wh)
{
	memset(pb, 0, sizeof(*pb));
	if (!ui.stdout_tty || ui.level < UI_NORMAL)
		return 0;
	pb->wh = wh;
	warehouse_track_progress(wh);
	pthread_mutex_init(&pb->lock, NULL);
	pthread_cond_init(&pb->stop_cond, NULL);
	if (pthread_create(&pb->thread, NULL, progress_loop, pb)) {
		pthread_mutex_destroy(&pb->lock);
		pthread_cond_destroy(&pb->stop_cond);
		return 0;
	}
	return 1;
}

static void progress_stop(struct progress_bar *pb, int started)
{
	if (!started)
		return;
	pthread_mutex_lock(&pb->lock);
	pb->stop = 1;
	pthread_cond_signal(&pb->stop_cond);
	pthread_mutex_unlock(&pb->lock);
	pthread_join(pb->thread, NULL);
	pthread_mutex_destroy(&pb->lock);
	pthread_cond_destroy(&pb->stop_cond);
}

static void fmt_duration(char *buf, double s)
{
	if (s < 60)
		snprintf(buf, 32, "%.1fs", s);
	else
		snprintf(buf, 32, "%dm %02ds", (int)s / 60, (int)s % 60);
}

/* The values the sync starts from, the same way for every kind of source
 * (what `dango state show` calls them). */
static void dry_run_state(struct warehouse *wh, const struct sync_job *job)
{
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	json_t *d = sync_state_describe(wh, job->source->name, &err);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(d, "resources"), i, e) {
		if (!sync_job_selected(job, json_string_value(json_object_get(e, "resource"))))
			continue;
		strbuf_reset(&line);
		if (job->opts->full_refresh)
			strbuf_addf(&line, "%s: state ignored (full refresh)",
				    json_string_value(json_object_get(e, "resource")));
		else
			sync_state_start_line(e, &line);
		printf("   state: %s\n", line.buf);
	}
	json_decref(d);
	strbuf_release(&err);
	strbuf_release(&line);
}

/* --dry-run: what would happen, changing nothing. */
static int dry_run(struct project *p, struct source **chosen, size_t n, const struct sync_options *opts)
{
	struct warehouse wh;
	struct strbuf err = STRBUF_INIT;
	int have_wh = 0, problems = 0;
	int64_t grand = 0;
	char num[32];
	/* a postgres warehouse keeps the state on the server: read it there,
	 * read-only (no lock: a running sync's state is read as committed) */
	if (pg_warehouse_enabled(p)) {
		if (cmd_open_pg_reader(p, p->pg.statement_timeout, &wh) != EXIT_OK)
			return EXIT_FAIL;
		have_wh = 1;
	} else if (warehouse_open(&wh, p->warehouse_path, WH_READ_ONLY, &err) == 0)
		have_wh = 1;
	else if (strstr(err.buf, "another process"))
		ui_warn("the warehouse is being written now; the plan assumes no previous state");
	strbuf_reset(&err);
	printf("DRY RUN MODE - No data will be modified\n\n");
	printf("Would sync %zu source%s", n, n == 1 ? "" : "s");
	if (opts->full_refresh)
		printf(" (full refresh)");
	if (opts->since || opts->until)
		printf(" (range %s to %s)", opts->since ? opts->since : "start", opts->until ? opts->until : "now");
	if (opts->limit)
		printf(" (at most %s rows per source)", fmt_count(num, opts->limit));
	printf(":\n");
	for (size_t i = 0; i < n; i++) {
		struct sync_job job;
		struct strbuf out = STRBUF_INIT;
		sync_job_init(&job, chosen[i], p, opts);
		printf("\n%zu. %s (%s)\n", i + 1, chosen[i]->name, chosen[i]->type_name);
		if (!job.ops) {
			printf("   ⚠ type '%s' cannot be synced yet; it would be skipped\n", chosen[i]->type_name);
			sync_job_release(&job);
			continue;
		}
		if (have_wh)
			sync_read_state(&wh, &job, &err);
		int first = json_object_size(job.prev_files) == 0 && json_object_size(job.prev_state) == 0;
		printf("   mode: %s\n", opts->full_refresh ? "full refresh (new tables swapped in on success)"
				  : first ? "first sync (everything)" : "incremental (new and changed data only)");
		if ((opts->since || opts->until) && !(job.ops->caps & CONNECTOR_DATE_RANGE))
			printf("   ⚠ this source does not filter by date; --since/--until would be ignored\n");
		if ((job.ops->open && job.ops->open(&job, &err) < 0) || job.ops->describe(&job, &out, &err) < 0) {
			printf("   ✗ %s\n", err.buf);
			problems++;
			strbuf_reset(&err);
		} else {
			int64_t est = 0;
			for (char *line = out.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				if (*line == '=')
					est = strtoll(line + 1, NULL, 10);
				else
					printf("   - %s\n", line);
			}
			if (opts->limit && est > opts->limit)
				est = opts->limit;
			grand += est;
			if (have_wh)
				dry_run_state(&wh, &job);
			printf("   Estimated: %s rows\n", fmt_count(num, est));
		}
		strbuf_release(&out);
		sync_job_release(&job);
	}
	printf("\nTotal estimated: %s rows\n\nNo data was modified.\n", fmt_count(num, grand));
	if (have_wh)
		warehouse_close(&wh);
	strbuf_release(&err);
	return problems ? EXIT_FAIL : EXIT_OK;
}

/* --select names resources: each must be one of a chosen source's, or the
 * sync would load nothing and call it a success. A source whose config
 * cannot be read is left to the sync to report (and then any name goes). */
static int check_selection(struct project *p, struct source **chosen, size_t n, const struct sync_options *opts)
{
	struct strvec known = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int unknown_config = 0, ret = 0;
	for (size_t i = 0; i < n; i++) {
		struct sync_job job;
		sync_job_init(&job, chosen[i], p, opts);
		if (!job.ops->resources || (job.ops->open && job.ops->open(&job, &err) < 0) ||
		    job.ops->resources(&job, &known, &err) < 0)
			unknown_config = 1;
		strbuf_reset(&err);
		sync_job_release(&job);
	}
	for (size_t i = 0; i < opts->select.nr && !unknown_config; i++) {
		const char *want = opts->select.v[i];
		if (strvec_has(&known, want))
			continue;
		const char **names = xcalloc(known.nr + 1, sizeof(*names));
		for (size_t k = 0; k < known.nr; k++)
			names[k] = known.v[k];
		const char *hint = did_you_mean(want, names);
		struct strbuf which = STRBUF_INIT;
		for (size_t k = 0; k < n; k++)
			strbuf_addf(&which, "%s'%s'", k ? (k + 1 == n ? " or " : ", ") : "", chosen[k]->name);
		ui_error("--select '%s': no such resource in source %s%s%s%s", want, which.buf,
			 hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		if (known.nr) {
			struct strbuf all = STRBUF_INIT;
			for (size_t k = 0; k < known.nr; k++)
				strbuf_addf(&all, "%s%s", k ? ", " : "", known.v[k]);
			fprintf(stderr, "Resources: %s\n", all.buf);
			strbuf_release(&all);
		}
		strbuf_release(&which);
		free(names);
		ret = -1;
	}
	strvec_clear(&known);
	strbuf_release(&err);
	return ret;
}

/* --full-refresh: list what will be replaced and ask. */
static int confirm_full_refresh(const struct project *p, struct warehouse *wh, struct source **chosen, size_t n,
				int yes)
{
	struct strbuf err = STRBUF_INIT;
	char num[32];
	struct warehouse server;
	/* on a postgres warehouse wh is the empty in-memory stage: the rows
	 * that will be replaced are on the server */
	if (pg_warehouse_enabled(p)) {
		if (cmd_open_pg_reader(p, p->pg.statement_timeout, &server) != EXIT_OK)
			return 0;
		wh = &server;
	}
	printf("%s Full refresh mode enabled\nThis will DROP and RELOAD all data for selected sources.\n\n"
	       "Sources to refresh:\n", ui_mark_warn());
	for (size_t i = 0; i < n; i++) {
		struct strvec lines = STRVEC_INIT;
		int64_t total = 0;
		sync_table_counts(wh, chosen[i]->name, &lines, &total, &err);
		printf("  - %s (%s %s will be replaced)\n", chosen[i]->name, fmt_count(num, total),
		       plural(total, "row", "rows"));
		for (size_t k = 0; k < lines.nr; k++)
			printf("      %s\n", lines.v[k]);
		strvec_clear(&lines);
	}
	printf("\n");
	fflush(stdout);
	strbuf_release(&err);
	if (wh == &server)
		warehouse_close(&server);
	return cmd_confirm("Proceed?", yes);
}

/* One source's sync: job (state read, extracted by a worker thread while
 * this thread loads what it hands over), history, messages. */
struct source_run {
	struct sync_job job;
	struct sync_result res;
	int turn;                 /* its lines stand under its header now (job.lock) */
	struct strbuf err;
	int state_rc;
	double t0;
	char started[40];
	struct pg_load *pg;       /* a PostgreSQL warehouse: wh is its stage (ingest/load_pg.h) */
};

static void extract_task(void *task, size_t worker)
{
	struct source_run *run = task;
	(void)worker;
	sync_extract(&run->job);
}

static void prepare(struct source_run *run, struct warehouse *wh, struct project *p, struct source *s,
		    const struct sync_options *opts)
{
	time_t now = time(NULL);
	struct tm tm;
	memset(run, 0, sizeof(*run));
	strbuf_init(&run->err, 0);
	strbuf_init(&run->res.error, 0);
	run->t0 = now_seconds();
	gmtime_r(&now, &tm);
	strftime(run->started, sizeof(run->started), "%Y-%m-%d %H:%M:%S+00", &tm);
	sync_job_init(&run->job, s, p, opts);
	run->job.progress = step;
	run->job.progress_data = &run->turn;
	run->res.source = s;
	run->state_rc = sync_read_state(wh, &run->job, &run->err);
}

static int finish(struct source_run *run, struct warehouse *wh, const struct sync_options *opts,
		  struct sync_status *status)
{
	struct sync_job *job = &run->job;
	struct sync_result *res = &run->res;
	const struct source *s = job->source;
	char num[32], dur[32];

	sync_status_source(status, s->name, "running", 0, NULL);
	if ((opts->since || opts->until) && job->ops && !(job->ops->caps & CONNECTOR_DATE_RANGE))
		ui_warn("%s (%s) does not filter by date: --since/--until ignored, syncing incrementally", s->name,
			s->type_name);
	int ok = run->state_rc == 0;
	if (ok && opts->full_refresh) {
		/* spec 000's lines; the old tables go only once the new ones are in */
		struct strvec tables = STRVEC_INIT;
		int64_t total = 0;
		struct strbuf e = STRBUF_INIT;
		sync_table_counts(wh, s->name, &tables, &total, &e);
		for (size_t i = 0; i < tables.nr; i++)
			ui_step("Dropping %.*s (replaced by the fresh table once it is loaded)",
				(int)strcspn(tables.v[i], " "), tables.v[i]);
		ui_step("Starting fresh sync...");
		strvec_clear(&tables);
		strbuf_release(&e);
	}
	if (ok) {
		struct progress_bar pb;
		int bar = progress_start(&pb, wh);
		ok = sync_load(wh, job, res, &run->err) == 0;
		progress_stop(&pb, bar);
		/* drift is recorded once the rows are in the server, not before */
		if (ok && run->pg && (ok = pg_load_publish(run->pg, job, &run->err) == 0))
			sync_post_sync(wh, job);
	}
	for (size_t i = 0; i < job->notes.nr; i++)
		ui_step("%s", job->notes.v[i]);
	res->seconds = now_seconds() - run->t0;
	res->ok = ok;
	for (size_t i = 0; i < job->warnings.nr; i++)
		ui_warn("%s", job->warnings.v[i]);
	if (ok) {
		for (size_t i = 0; i < job->nr_resources; i++) {
			const struct sync_resource *r = job->resources[i];
			if (!sync_job_selected(job, r->name))
				continue;
			ui_step("Loaded %s %s into raw_%s.%s", fmt_count(num, r->rows), plural(r->rows, "row", "rows"),
				s->name, r->name);
		}
		fmt_duration(dur, res->seconds);
		ui_step("%s Sync complete (%s %s in %s)", ui_mark_ok(), fmt_count(num, res->rows),
			plural(res->rows, "row", "rows"), dur);
		sync_status_source(status, s->name, "completed", res->rows, NULL);
	} else {
		strbuf_addbuf(&res->error, &run->err);
		ui_step("%s Sync failed for %s", ui_mark_fail(), s->name);
		fflush(stdout);
		fprintf(stderr, "%s\n", run->err.buf);
		ui_print("Nothing was changed for %s: the warehouse and its state are as they were.", s->name);
		sync_status_source(status, s->name, "failed", 0, run->err.buf);
	}
	sync_record_history(wh, job, res, run->started);
	return ok ? 0 : -1;
}

static void run_release(struct source_run *run)
{
	sync_job_release(&run->job);
	strbuf_release(&run->err);
	strbuf_release(&run->res.error);
}

/* A PostgreSQL warehouse: advisory locks per source on the server instead of
 * the project's file lock, and an in-memory DuckDB stage as wh. */
static int open_pg_writer(struct project *p, struct source **chosen, size_t n, int wait_seconds, struct pg_load *pl,
			  struct warehouse *wh)
{
	struct strbuf err = STRBUF_INIT;
	int wait = wait_seconds < 0 ? p->lock_wait : wait_seconds;
	const char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = chosen[i]->name;
	int r = pg_load_open(pl, p, names, n, wait, cmd_say_waiting_for_pg, &wait, &err);
	free(names);
	if (r < 0) {
		ui_error("%s", err.buf);
		pg_load_close(pl);
		strbuf_release(&err);
		return r == -2 ? EXIT_LOCKED : EXIT_FAIL;
	}
	*wh = pl->stage; /* the same handles: closed once, by pg_load_close */
	strbuf_release(&err);
	return EXIT_OK;
}

static void close_writer(struct pg_load *pl, struct dango_lock *lock, struct warehouse *wh)
{
	if (pl)
		pg_load_close(pl);
	else
		cmd_close_writer(lock, wh);
}

/* auto_generate on a postgres warehouse: the published tables are read on
 * the server (the stage holds only what this sync loaded). */
static void generate_from_server(const struct project *p, const struct source_list *list,
				 struct source *const *chosen, size_t done)
{
	struct warehouse rwh;
	if (cmd_open_pg_reader(p, p->pg.statement_timeout, &rwh) != EXIT_OK) {
		ui_warn("staging models were not generated: the warehouse could not be read; run 'dango generate'");
		return;
	}
	cmd_generate_after_sync(p, list, &rwh, chosen, done);
	warehouse_close(&rwh);
}

int cmd_sync(int argc, const char **argv)
{
	struct sync_options opts = { 0 };
	struct strvec args = STRVEC_INIT, named = STRVEC_INIT;
	const char *since = NULL, *start_date = NULL, *until = NULL, *backfill = NULL;
	int limit = 0, ret;
	char backfill_since[16];
	struct project p;
	struct source_list list;
	struct source **chosen = NULL;
	size_t nr_chosen = 0;
	opts.wait = -1;
	opts.workers = -1;
	const struct opt options[] = {
		OPT_LIST(0, "source", &named, "NAME", "sync this source (repeatable, comma lists)"),
		OPT_STRING(0, "since", &since, "DATE", "start date (YYYY-MM-DD), for sources that filter by date"),
		OPT_STRING(0, "start-date", &start_date, "DATE", "same as --since"),
		OPT_STRING(0, "until", &until, "DATE", "end date (YYYY-MM-DD, inclusive)"),
		OPT_STRING(0, "backfill", &backfill, "Nd|Nw|Nm", "the last N days, weeks or months"),
		OPT_INT(0, "limit", &limit, "N", "at most N rows per source (development)"),
		OPT_LIST(0, "select", &opts.select, "RES", "only these resources/tables (comma lists)"),
		OPT_BOOL(0, "full-refresh", &opts.full_refresh, "reload everything into new tables"),
		OPT_BOOL(0, "dry-run", &opts.dry_run, "show what would be synced, change nothing"),
		OPT_BOOL(0, "allow-schema-changes", &opts.allow_schema_changes, "accept added/missing file columns"),
		OPT_BOOL(0, "allow-empty", &opts.allow_empty, "let a sync replace rows with nothing (an empty source)"),
		OPT_INT(0, "workers", &opts.workers, "N", "sources read at once (default 4)"),
		OPT_BOOL('y', "yes", &opts.yes, "skip confirmation prompts"),
		OPT_INT(0, "wait", &opts.wait, "SECONDS", "wait this long for the lock (default 300)"),
		OPT_BOOL(0, "fail-fast", &opts.fail_fast, "stop at the first failing source"),
		OPT_END(),
	};
	ret = opts_parse(&info, options, argc, argv, &args);
	if (ret) {
		ret = ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
		goto out_args;
	}
	if (start_date && since && strcmp(start_date, since)) {
		ui_error("--start-date is another name for --since; give one of them");
		ret = EXIT_USAGE;
		goto out_args;
	}
	if (start_date)
		since = start_date;
	if (backfill && (since || until)) {
		ui_error("--backfill cannot be combined with --since or --until; use one approach or the other");
		ret = EXIT_USAGE;
		goto out_args;
	}
	if (backfill) {
		if (backfill_date(backfill, backfill_since) < 0) {
			ui_error("--backfill expects a duration like 7d, 2w or 1m, not '%s'", backfill);
			ret = EXIT_USAGE;
			goto out_args;
		}
		since = backfill_since;
	}
	if ((since && !valid_date(since)) || (until && !valid_date(until))) {
		ui_error("dates are written YYYY-MM-DD, not '%s'", since && !valid_date(since) ? since : until);
		ret = EXIT_USAGE;
		goto out_args;
	}
	if (since && until && strcmp(since, until) > 0) {
		ui_error("--since %s is after --until %s", since, until);
		ret = EXIT_USAGE;
		goto out_args;
	}
	opts.since = since;
	opts.until = until;
	opts.limit = limit;
	for (size_t i = 0; i < args.nr; i++)
		strvec_push_split(&named, args.v[i]);

	if ((ret = cmd_open_project(&p)))
		goto out_args;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	if (opts.workers < 0)
		opts.workers = p.workers;

	chosen = xcalloc(list.nr + 1, sizeof(*chosen));
	if (named.nr) {
		for (size_t i = 0; i < named.nr; i++) {
			struct source *s = sources_find(&list, named.v[i]);
			if (!s) {
				cmd_no_such_source(&list, named.v[i]);
				ret = EXIT_USAGE;
				goto out;
			}
			int dup = 0;
			for (size_t k = 0; k < nr_chosen; k++)
				dup |= chosen[k] == s;
			if (!dup)
				chosen[nr_chosen++] = s;
		}
	} else {
		for (size_t i = 0; i < list.nr; i++)
			chosen[nr_chosen++] = &list.items[i];
	}
	/* disabled sources are skipped with a note; a source that cannot be
	 * synced is a failure (a cron job must not think it was loaded) */
	size_t kept = 0, nr_unsyncable = 0;
	for (size_t i = 0; i < nr_chosen; i++) {
		struct source *s = chosen[i];
		if (!s->enabled) {
			ui_print("Skipping %s: disabled in .dango/sources.yml", s->name);
			continue;
		}
		if (!connector_for(s->type_name)) {
			ui_error("cannot sync '%s': sources of type '%s' cannot be synced yet", s->name, s->type_name);
			nr_unsyncable++;
			continue;
		}
		chosen[kept++] = s;
	}
	nr_chosen = kept;
	if (!nr_chosen) {
		if (nr_unsyncable) {
			ret = EXIT_FAIL;
			goto out;
		}
		ui_print("Nothing to sync: no enabled sources%s.", list.nr ? " selected" : " (add one with 'dango source add')");
		ret = EXIT_OK;
		goto out;
	}
	if (opts.select.nr && check_selection(&p, chosen, nr_chosen, &opts) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}

	if (opts.dry_run) {
		ret = dry_run(&p, chosen, nr_chosen, &opts);
		if (nr_unsyncable)
			ret = EXIT_FAIL;
		goto out;
	}

	struct sync_status status;
	const char **snames = xcalloc(nr_chosen, sizeof(*snames));
	for (size_t i = 0; i < nr_chosen; i++)
		snames[i] = chosen[i]->name;
	sync_status_init(&status, p.state_dir, snames, nr_chosen);
	free(snames);
	sync_status_phase(&status, "lock_waiting");

	struct dango_lock lock = DANGO_LOCK_INIT;
	struct warehouse wh;
	struct strbuf who = STRBUF_INIT;
	for (size_t i = 0; i < nr_chosen; i++)
		strbuf_addf(&who, "%s%s", i ? "," : "", chosen[i]->name);
	struct pg_load pgl = { 0 };
	int on_pg = pg_warehouse_enabled(&p);
	if (on_pg)
		ret = open_pg_writer(&p, chosen, nr_chosen, opts.wait, &pgl, &wh);
	else
		ret = cmd_open_writer(&p, "dango sync", who.buf, opts.wait, &lock, &wh);
	strbuf_release(&who);
	if (ret) {
		sync_status_finish(&status, 0, "the warehouse lock could not be had");
		sync_status_release(&status);
		goto out;
	}
	if (opts.full_refresh && !confirm_full_refresh(&p, &wh, chosen, nr_chosen, opts.yes)) {
		ui_print("Nothing changed.");
		sync_status_finish(&status, 0, "full refresh not confirmed");
		sync_status_release(&status);
		close_writer(on_pg ? &pgl : NULL, &lock, &wh);
		ret = EXIT_FAIL;
		goto out;
	}
	sync_status_phase(&status, "data_load");

	double t0 = now_seconds();
	int64_t total = 0;
	size_t failed = 0, done = 0;
	if (nr_chosen == 1)
		ui_step("Starting sync for %s", chosen[0]->name);
	else
		ui_step("Starting sync for %zu sources...", nr_chosen);
	/* Extracts (reading files, paging through APIs) run on up to --workers
	 * threads, ahead of the loads; loads into the warehouse stay one at a
	 * time, in order, each taking its source's batches as they come. */
	struct source_run *runs = xcalloc(nr_chosen, sizeof(*runs));
	size_t nworkers = opts.workers > 1 ? (size_t)opts.workers : 1;
	if (nworkers > nr_chosen)
		nworkers = nr_chosen;
	struct pool pool;
	size_t submitted = 0;
	pool_init(&pool, nworkers, extract_task);
	for (size_t i = 0; i < nr_chosen; i++) {
		prepare(&runs[i], &wh, &p, chosen[i], &opts);
		runs[i].pg = on_pg ? &pgl : NULL;
		runs[i].job.publish_later = on_pg;
		runs[i].job.pg = runs[i].pg;
	}
	for (size_t i = 0; i < nr_chosen; i++) {
		if (nr_chosen > 1) {
			ui_print("%s", "");
			ui_step("Syncing %s (%zu/%zu)", chosen[i]->name, i + 1, nr_chosen);
		}
		pthread_mutex_lock(&runs[i].job.lock);
		runs[i].turn = 1;
		pthread_mutex_unlock(&runs[i].job.lock);
		/* one worker: this source's extract starts now; more: every
		 * extract starts with the first source's turn */
		for (; submitted < nr_chosen && (nworkers > 1 || submitted <= i); submitted++)
			if (runs[submitted].state_rc == 0)
				pool_submit(&pool, &runs[submitted]);
		if (finish(&runs[i], &wh, &opts, &status) < 0)
			failed++;
		total += runs[i].res.rows;
		done++;
		if (failed && opts.fail_fast) {
			for (size_t k = i + 1; k < nr_chosen; k++) {
				runs[k].job.cancelled = 1;
				sync_status_source(&status, chosen[k]->name, "not_run", 0,
						   "not attempted: --fail-fast stopped at the first failure");
			}
			break;
		}
	}
	/* extracts still running (after a failure) finish before their jobs go */
	while (pool_wait(&pool))
		;
	pool_release(&pool);
	for (size_t i = 0; i < nr_chosen; i++)
		run_release(&runs[i]);
	free(runs);
	/* auto_generate: staging models for new raw tables (src/cmd/generate.c) */
	if (p.auto_generate && done > failed) {
		sync_status_phase(&status, "dbt_started");
		if (on_pg)
			generate_from_server(&p, &list, chosen, done);
		else
			cmd_generate_after_sync(&p, &list, &wh, chosen, done);
	}
	close_writer(on_pg ? &pgl : NULL, &lock, &wh);

	char num[32], dur[32];
	fmt_duration(dur, now_seconds() - t0);
	ui_print("%s", "");
	ui_rule();
	size_t nr_all = nr_chosen + nr_unsyncable, nr_failed = failed + nr_unsyncable;
	if (!nr_failed)
		ui_ok("All syncs complete!");
	else
		ui_print("%s %zu of %zu %s failed", ui_mark_fail(), nr_failed, nr_all, plural((int64_t)nr_all, "sync", "syncs"));
	if (nr_unsyncable)
		ui_print("%zu %s of a type that cannot be synced yet (named above)", nr_unsyncable,
			 plural((int64_t)nr_unsyncable, "source is", "sources are"));
	if (done < nr_chosen)
		ui_print("Stopped after the first failure (--fail-fast): %zu not run", nr_chosen - done);
	/* "1/1 sources" as the spec writes it: a fraction of the sources */
	ui_print("\nTotal rows: %s\nTotal duration: %s\nSuccess: %zu/%zu sources\nFailed: %zu/%zu sources",
		 fmt_count(num, total), dur, done - failed, nr_all, nr_failed, nr_all);
	if (done < nr_chosen)
		ui_print("Not run: %zu/%zu sources", nr_chosen - done, nr_all);
	ui_rule();
	sync_status_finish(&status, !nr_failed, nr_failed ? "some sources failed" : NULL);
	sync_status_release(&status);
	ret = nr_failed ? EXIT_FAIL : EXIT_OK;
out:
	free(chosen);
	sources_release(&list);
out_project:
	project_release(&p);
out_args:
	strvec_clear(&args);
	strvec_clear(&named);
	strvec_clear(&opts.select);
	return ret;
}
