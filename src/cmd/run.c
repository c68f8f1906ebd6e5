/* dango run | seed | test | build | compile | ls: the dbt project, natively.
 *
 * Which project: --project-dir DIR holding dbt_project.yml is a plain dbt
 * project (profiles from --profiles-dir, DBT_PROFILES_DIR, DIR, ~/.dbt;
 * relative DuckDB paths from the working directory, as dbt-duckdb does);
 * one holding .dango/ (or, without --project-dir, the Dango project found
 * upwards) runs its dbt/ folder with .dango/profiles.yml, paths relative
 * to the project root. The console output follows dbt's. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "transform/dbt.h"
#include "transform/deps.h"
#include "version.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

enum which { W_RUN, W_SEED, W_TEST, W_BUILD, W_COMPILE, W_LS, W_SNAPSHOT, W_PARSE };

static const char *const which_names[] = { "run", "seed", "test", "build", "compile", "ls", "snapshot", "parse" };

struct run_args {
	enum which which;
	struct strvec select, exclude, skip_sources, resource_types;
	const char *profiles_dir, *target, *vars, *output;
	int threads, full_refresh, fail_fast, wait, empty;
	int ignore_drift;
	int no_version_check;
	const char *event_time_start, *event_time_end; /* microbatch models */
	time_t et_start, et_end;
	const char *selector, *state;
	int defer, favor_state;
	/* dango retry: exactly these nodes (retry_none: none had failed) */
	struct strvec retry_ids;
	int retry, retry_none;
	json_t *retry_batches; /* unique_id -> batch_results of a partly built microbatch model */
};

static const char details[] =
	"Selection (--select, --exclude; commas, spaces and repeats are a union):\n"
	"  name  +name  name+  +name+  2+name  name+1  @name  marts.*  marts.finance.*\n"
	"  path:models/marts  tag:daily  source:stripe+  config.materialized:table\n"
	"  resource_type:model  test_type:generic|singular  group:finance  access:public  version:latest\n"
	"  exposure:dash+  unique_id:model.p.x  state:modified+ result:error (with --state DIR)\n"
	"--selector NAME: a selector of the project's selectors.yml (default: the one with default: true).\n"
	"--defer --state DIR: refs to unselected nodes not built here read DIR/manifest.json's relations.\n"
	"Projects: a Dango project runs its dbt/ folder with .dango/profiles.yml; --project-dir DIR\n"
	"holding dbt_project.yml runs a plain dbt-duckdb project (--profiles-dir DIR for its profiles.yml).\n"
	"Artifacts go to the dbt project's target/: compiled/, run/, manifest.json, run_results.json.\n"
	"Exit codes: 0 success, 1 a node failed (or the project is invalid), 2 usage, 3 lock not had.";

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* dbt's console lines: "12:45:01  message" */
static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
	if (global.quiet)
		return;
	char clock[9];
	va_list ap;
	printf("%s  ", ui_clock(clock));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void on_log(void *data, int level, const char *msg)
{
	if (level == 2) {
		fflush(stdout);
		char clock[9];
		fprintf(stderr, "%s  [WARNING]: %s\n", ui_clock(clock), msg);
	} else if (level == 1) {
		out_line("%s", msg);
	} else if (global.verbose) {
		out_line("%s", msg);
	}
}

/* --- locating the project ----------------------------------------------------------- */
struct location {
	int dango;
	struct project proj;   /* a Dango project, or a stand-in for the lock */
	char *dbt_dir, *profiles_dir, *profiles_base;
};

static int locate(struct location *loc, const struct run_args *a)
{
	struct strbuf root = STRBUF_INIT, err = STRBUF_INIT, probe = STRBUF_INIT;
	int ret = EXIT_FAIL;
	memset(loc, 0, sizeof(*loc));
	if (global.project_dir) {
		fs_path_join(&probe, global.project_dir, "dbt_project.yml");
		if (fs_exists(probe.buf)) {
			loc->dbt_dir = xstrdup(global.project_dir);
			loc->profiles_dir = a->profiles_dir ? xstrdup(a->profiles_dir) : NULL;
			ret = EXIT_OK;
			goto out;
		}
	}
	if (project_find(global.project_dir, &root, &err) < 0) {
		strbuf_reset(&probe);
		if (!global.project_dir && fs_exists("dbt_project.yml")) {
			loc->dbt_dir = xstrdup(".");
			loc->profiles_dir = a->profiles_dir ? xstrdup(a->profiles_dir) : NULL;
			ret = EXIT_OK;
			goto out;
		}
		if (global.project_dir)
			ui_error("'%s' is neither a Dango project (no .dango/) nor a dbt project (no dbt_project.yml)",
				 global.project_dir);
		else
			ui_error("%s", err.buf);
		goto out;
	}
	if (project_load(&loc->proj, root.buf, &err) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	loc->dango = 1;
	/* the profile follows project.yml's warehouse (duckdb or postgres) */
	if (!a->profiles_dir && cmd_sync_profiles(&loc->proj) != EXIT_OK)
		goto out;
	loc->dbt_dir = xstrdup(loc->proj.dbt_dir);
	loc->profiles_dir = xstrdup(a->profiles_dir ? a->profiles_dir : loc->proj.dango_dir);
	loc->profiles_base = xstrdup(loc->proj.root);
	ret = EXIT_OK;
out:
	strbuf_release(&root);
	strbuf_release(&err);
	strbuf_release(&probe);
	return ret;
}

static void location_release(struct location *loc)
{
	if (loc->dango) {
		project_release(&loc->proj);
	} else {
		free(loc->proj.state_dir);
		free(loc->proj.warehouse_path);
	}
	free(loc->dbt_dir);
	free(loc->profiles_dir);
	free(loc->profiles_base);
}

/* A postgres target's connection (dbt_pg_open: p->other_conn, for
 * introspection and run_query) in read-only mode, and wh a borrowed view
 * of it for the warehouse interface: not to be closed, dbt_pg_close ends
 * both. */
static int pg_open_read_only(struct dbt_project *p, struct warehouse *wh, struct strbuf *err)
{
	memset(wh, 0, sizeof(*wh));
	if (dbt_pg_open(p, err) < 0)
		return -1;
	wh->pg = p->other_conn;
	wh->mode = WH_READ_ONLY;
	struct wh_result res;
	if (warehouse_query(wh, "set session characteristics as transaction read only", &res, err) < 0) {
		dbt_pg_close(p);
		memset(wh, 0, sizeof(*wh));
		return -1;
	}
	wh_result_free(&res);
	return 0;
}

/* The target read-only, for docs generate and show: a postgres target's
 * connection (read-only transactions: a compiled query cannot write; its
 * introspection and run_query share it; dbt_pg_close ends it), or the
 * DuckDB file (*have_wh set: the caller closes it). -1, said. */
static int open_target_reader(struct dbt_project *p, struct warehouse *wh, int *have_wh, struct strbuf *err)
{
	int r = 0;
	if (dbt_target_is_postgres(p))
		r = pg_open_read_only(p, wh, err);
	else if (warehouse_open(wh, p->target.path, WH_READ_ONLY, err) < 0)
		r = -1;
	else if ((*have_wh = 1, dbt_duckdb_setup(p, wh, err) < 0))
		r = -1;
	if (r < 0)
		ui_error("%s", err->buf);
	return r;
}

/* What every dbt command starts with: find the project, print dango's
 * banner (unless banner is 0), load and parse the project and build its
 * graph. EXIT_OK, or an exit code with the error printed; end_session
 * releases what was had either way (*have_project says whether p is). */
static int load_session(struct location *loc, struct dbt_project *p, int *have_project, const struct run_args *a,
			int banner)
{
	*have_project = 0;
	int r = locate(loc, a);
	if (r != EXIT_OK)
		return r;
	if (banner)
		out_line("Running with dango=%s", DANGO_VERSION);
	struct dbt_load_opts lo = { loc->dbt_dir, loc->profiles_dir, loc->profiles_base, a->target, a->vars,
				    a->full_refresh, on_log, NULL };
	struct strbuf err = STRBUF_INIT;
	if (a->no_version_check) /* the flag is dbt's DBT_VERSION_CHECK=false */
		setenv("DBT_VERSION_CHECK", "false", 1);
	*have_project = 1;
	r = dbt_project_load(p, &lo, &err) < 0 ? EXIT_FAIL : EXIT_OK;
	if (r == EXIT_OK && a->event_time_start) {
		p->have_event_time = 1;
		p->event_time_start = a->et_start;
		p->event_time_end = a->et_end;
	}
	if (r == EXIT_OK && dbt_graph_build(p, &err) < 0)
		r = EXIT_FAIL;
	if (r != EXIT_OK)
		ui_error("%s", err.buf);
	strbuf_release(&err);
	return r;
}

static void end_session(struct location *loc, struct dbt_project *p, int have_project)
{
	if (have_project)
		dbt_project_release(p);
	location_release(loc);
}

/* The single-writer lock and the warehouse of p's target; a plain dbt
 * project keeps its lock in its target-path. */
static int open_session_writer(struct location *loc, struct dbt_project *p, const char *command, int wait,
			       struct dango_lock *lock, struct warehouse *wh)
{
	if (!loc->dango) {
		free(loc->proj.state_dir);
		loc->proj.state_dir = xstrdup(p->target_path);
		loc->proj.lock_wait = 300;
	}
	free(loc->proj.warehouse_path);
	loc->proj.warehouse_path = xstrdup(p->target.path);
	return cmd_open_writer(&loc->proj, command, NULL, wait, lock, wh);
}

/* --- output ---------------------------------------------------------------------- */
/* a test's name as dbt prints it: model::test for a unit test */
static const char *test_label(const struct dbt_node *n, struct strbuf *sb)
{
	if (n->unit_model < 0)
		return n->name;
	strbuf_addf(sb, "%s::%s", n->fqn.nr >= 2 ? n->fqn.v[n->fqn.nr - 2] : "", n->name);
	return sb->buf;
}

static void node_desc(struct strbuf *sb, const struct dbt_node *n)
{
	struct strbuf rel = STRBUF_INIT;
	dbt_node_relation_name(&rel, n);
	const char *strategy = dbt_config_str(n, "incremental_strategy");
	if (n->kind == NODE_MODEL && n->mat == MAT_INCREMENTAL && strategy && !strcmp(strategy, "microbatch"))
		strbuf_addf(sb, "sql microbatch model %s", rel.buf);
	else if (n->kind == NODE_MODEL && n->mat == MAT_CUSTOM)
		strbuf_addf(sb, "sql %s model %s", dbt_config_str(n, "materialized"), rel.buf);
	else if (n->kind == NODE_MODEL)
		strbuf_addf(sb, "sql %s model %s", dbt_mat_name(n->mat), rel.buf);
	else if (n->kind == NODE_SEED)
		strbuf_addf(sb, "seed file %s", rel.buf);
	else if (n->kind == NODE_SNAPSHOT)
		strbuf_addf(sb, "snapshot %s", rel.buf);
	else if (n->unit_model >= 0) {
		struct strbuf l = STRBUF_INIT;
		strbuf_addf(sb, "unit_test %s", test_label(n, &l));
		strbuf_release(&l);
	} else
		strbuf_addf(sb, "test %s", n->name);
	strbuf_release(&rel);
}

static void fancy(size_t order, size_t total, const char *msg, const char *status, double secs)
{
	struct strbuf line = STRBUF_INIT;
	strbuf_addf(&line, "%zu of %zu %s ", order, total, msg);
	if (line.len < 80)
		strbuf_addchars(&line, '.', 80 - line.len);
	if (secs >= 0)
		strbuf_addf(&line, " [%s in %.2fs]", status, secs);
	else
		strbuf_addf(&line, " [%s]", status);
	out_line("%s", line.buf);
	strbuf_release(&line);
}

static void on_start(void *data, struct dbt_node *n, size_t order, size_t total)
{
	struct strbuf msg = STRBUF_INIT;
	strbuf_addstr(&msg, "START ");
	node_desc(&msg, n);
	fancy(order, total, msg.buf, "RUN", -1);
	strbuf_release(&msg);
}

static void on_done(void *data, struct dbt_node *n, const struct dbt_result *r, size_t total)
{
	struct strbuf msg = STRBUF_INIT, status = STRBUF_INIT, desc = STRBUF_INIT, rel = STRBUF_INIT, lb = STRBUF_INIT;
	double secs = r->seconds;
	const char *name = test_label(n, &lb);
	node_desc(&desc, n);
	dbt_node_relation_name(&rel, n);
	switch (r->status) {
	case DBT_SUCCESS:
		if (n->kind == NODE_SEED) {
			strbuf_addf(&msg, "OK loaded %s", desc.buf);
			strbuf_addf(&status, "INSERT %lld", (long long)r->rows);
		} else if (n->kind == NODE_SNAPSHOT) {
			strbuf_addf(&msg, "OK snapshotted %s", rel.buf);
			strbuf_addf(&status, "INSERT 0 %lld", (long long)r->rows);
		} else {
			strbuf_addf(&msg, "OK created %s", desc.buf);
			strbuf_addstr(&status, "SUCCESS");
		}
		break;
	case DBT_ERROR:
		if (r->batches_ok) {
			/* a microbatch model with some batches built: dbt's partial success */
			strbuf_addf(&msg, "PARTIALLY created %s", desc.buf);
			strbuf_addf(&status, "PARTIAL SUCCESS (%zu/%zu)", r->batches_ok, r->batches);
			break;
		}
		if (n->kind == NODE_TEST)
			strbuf_addf(&msg, "ERROR %s", name);
		else
			strbuf_addf(&msg, "ERROR %s %s", n->kind == NODE_SEED ? "loading" : "creating", desc.buf);
		strbuf_addstr(&status, "ERROR");
		break;
	case DBT_SKIPPED:
		if (n->kind == NODE_TEST)
			strbuf_addf(&msg, "SKIP test %s", name);
		else
			strbuf_addf(&msg, "SKIP relation %s", rel.buf);
		strbuf_addstr(&status, "SKIP");
		secs = -1;
		break;
	case DBT_PASS:
		strbuf_addf(&msg, "PASS %s", name);
		strbuf_addstr(&status, "PASS");
		break;
	case DBT_FAIL:
		strbuf_addf(&msg, "FAIL %lld %s", (long long)r->rows, name);
		strbuf_addf(&status, "FAIL %lld", (long long)r->rows);
		break;
	case DBT_WARN:
		strbuf_addf(&msg, "WARN %lld %s", (long long)r->rows, name);
		strbuf_addf(&status, "WARN %lld", (long long)r->rows);
		break;
	}
	fancy(r->order, total, msg.buf, status.buf, secs);
	strbuf_release(&lb);
	strbuf_release(&msg);
	strbuf_release(&status);
	strbuf_release(&desc);
	strbuf_release(&rel);
}

static void plural(struct strbuf *sb, size_t n, const char *one, const char *many)
{
	if (sb->len)
		strbuf_addstr(sb, ", ");
	strbuf_addf(sb, "%zu %s", n, n == 1 ? one : many);
}

static void print_found(struct dbt_project *p)
{
	size_t c[DBT_NODE_KINDS] = { 0 }, units = 0;
	for (size_t i = 0; i < p->nr; i++) {
		if (p->nodes[i]->unit_model >= 0)
			units++;
		else
			c[p->nodes[i]->kind]++;
	}
	struct strbuf sb = STRBUF_INIT;
	plural(&sb, c[NODE_MODEL], "model", "models");
	plural(&sb, c[NODE_TEST], "test", "tests");
	if (units)
		plural(&sb, units, "unit test", "unit tests");
	if (c[NODE_SEED])
		plural(&sb, c[NODE_SEED], "seed", "seeds");
	if (c[NODE_SNAPSHOT])
		plural(&sb, c[NODE_SNAPSHOT], "snapshot", "snapshots");
	if (c[NODE_SOURCE])
		plural(&sb, c[NODE_SOURCE], "source", "sources");
	if (c[NODE_ANALYSIS])
		plural(&sb, c[NODE_ANALYSIS], "analysis", "analyses");
	if (c[NODE_EXPOSURE])
		plural(&sb, c[NODE_EXPOSURE], "exposure", "exposures");
	if (c[NODE_METRIC])
		plural(&sb, c[NODE_METRIC], "metric", "metrics");
	if (c[NODE_SEMANTIC_MODEL])
		plural(&sb, c[NODE_SEMANTIC_MODEL], "semantic model", "semantic models");
	if (c[NODE_SAVED_QUERY])
		plural(&sb, c[NODE_SAVED_QUERY], "saved query", "saved queries");
	if (jval_len(p->groups))
		plural(&sb, jval_len(p->groups), "group", "groups");
	plural(&sb, p->nmacros, "macro", "macros");
	out_line("Found %s", sb.buf);
	strbuf_release(&sb);
}

static void print_summary(struct dbt_project *p, const struct dbt_result *res, double elapsed)
{
	size_t views = 0, tables = 0, incr = 0, seeds = 0, tests = 0, snaps = 0, units = 0;
	size_t pass = 0, warn = 0, error = 0, skip = 0, total = 0, partial = 0;
	struct strvec other = STRVEC_INIT; /* "external model", a custom materialization's */
	for (size_t i = 0; i < p->nr; i++) {
		const struct dbt_node *n = p->nodes[i];
		const struct dbt_result *r = &res[i];
		if (!r->ran)
			continue;
		total++;
		if (n->kind == NODE_SEED)
			seeds++;
		else if (n->unit_model >= 0)
			units++;
		else if (n->kind == NODE_TEST)
			tests++;
		else if (n->kind == NODE_SNAPSHOT)
			snaps++;
		else if (n->mat == MAT_VIEW)
			views++;
		else if (n->mat == MAT_TABLE)
			tables++;
		else if (n->mat == MAT_INCREMENTAL)
			incr++;
		else if (n->kind == NODE_MODEL && (n->mat == MAT_EXTERNAL || n->mat == MAT_CUSTOM))
			strvec_pushf(&other, "%s model", dbt_config_str(n, "materialized"));
		switch (r->status) {
		case DBT_SUCCESS: case DBT_PASS: pass++; break;
		case DBT_WARN: warn++; break;
		case DBT_ERROR: case DBT_FAIL: error++; partial += r->batches_ok > 0; break;
		case DBT_SKIPPED: skip++; break;
		}
	}
	struct strbuf sb = STRBUF_INIT;
	if (views)
		plural(&sb, views, "view", "views");
	if (tables)
		plural(&sb, tables, "table", "tables");
	if (incr)
		plural(&sb, incr, "incremental model", "incremental models");
	for (size_t i = 0; i < other.nr; i++) {
		size_t cnt = 0, first = 1;
		for (size_t j = 0; j < other.nr && first; j++)
			first = j >= i || strcmp(other.v[j], other.v[i]);
		for (size_t j = 0; first && j < other.nr; j++)
			cnt += !strcmp(other.v[j], other.v[i]);
		if (first) {
			struct strbuf many = STRBUF_INIT;
			strbuf_addf(&many, "%ss", other.v[i]);
			plural(&sb, cnt, other.v[i], many.buf);
			strbuf_release(&many);
		}
	}
	strvec_clear(&other);
	if (seeds)
		plural(&sb, seeds, "seed", "seeds");
	if (snaps)
		plural(&sb, snaps, "snapshot", "snapshots");
	if (tests)
		plural(&sb, tests, "test", "tests");
	if (units)
		plural(&sb, units, "unit test", "unit tests");
	out_line("%s", "");
	out_line("Finished running %s in %.2fs.", sb.buf, elapsed);
	out_line("%s", "");
	if (!error && !warn) {
		out_line("Completed successfully");
	} else {
		if (partial && error > partial)
			out_line("Completed with %zu error%s, %zu partial success%s, and %zu warning%s:", error - partial,
				 error - partial == 1 ? "" : "s", partial, partial == 1 ? "" : "es", warn, warn == 1 ? "" : "s");
		else if (partial)
			out_line("Completed with %zu partial success%s and %zu warning%s", partial, partial == 1 ? "" : "es",
				 warn, warn == 1 ? "" : "s");
		else if (error)
			out_line("Completed with %zu error%s and %zu warning%s:", error, error == 1 ? "" : "s", warn,
				 warn == 1 ? "" : "s");
		else
			out_line("Completed with %zu warning%s:", warn, warn == 1 ? "" : "s");
		for (size_t i = 0; i < p->nr; i++) {
			const struct dbt_node *n = p->nodes[i];
			const struct dbt_result *r = &res[i];
			if (!r->ran || (r->status != DBT_ERROR && r->status != DBT_FAIL && r->status != DBT_WARN))
				continue;
			out_line("%s", "");
			const char *kind = n->unit_model >= 0 ? "unit_test" : dbt_node_kind_name(n->kind);
			if (r->status == DBT_FAIL)
				out_line("Failure in %s %s (%s)", n->unit_model >= 0 ? "unit_test" : "test", n->name, n->file);
			else if (r->status == DBT_WARN)
				out_line("Warning in test %s (%s)", n->name, n->file);
			else if (!n->compiled_sql && n->kind != NODE_SEED)
				out_line("Compilation Error in %s %s (%s)", kind, n->name, n->file);
			else
				out_line("Runtime Error in %s %s (%s)", kind, n->name, n->file);
			/* indent every line of the message */
			const char *m = r->message ? r->message : "";
			while (*m) {
				const char *nl = strchr(m, '\n');
				size_t len = nl ? (size_t)(nl - m) : strlen(m);
				out_line("  %.*s", (int)len, m);
				m += len + (nl ? 1 : 0);
			}
		}
	}
	out_line("%s", "");
	out_line("Done. PASS=%zu WARN=%zu ERROR=%zu SKIP=%zu TOTAL=%zu", pass, warn, error, skip, total);
	strbuf_release(&sb);
}

/* --- the commands ------------------------------------------------------------------- */
static unsigned kinds_for(const struct run_args *a)
{
	switch (a->which) {
	case W_RUN: return 1u << NODE_MODEL;
	case W_SEED: return 1u << NODE_SEED;
	case W_TEST: return 1u << NODE_TEST;
	case W_BUILD: return (1u << NODE_MODEL) | (1u << NODE_SEED) | (1u << NODE_TEST) | (1u << NODE_SNAPSHOT);
	case W_SNAPSHOT: return 1u << NODE_SNAPSHOT;
	case W_PARSE: return (1u << DBT_NODE_KINDS) - 1;
	case W_COMPILE: return (1u << NODE_MODEL) | (1u << NODE_TEST) | (1u << NODE_ANALYSIS);
	case W_LS: break;
	}
	unsigned k = 0;
	if (!a->resource_types.nr)
		return (1u << DBT_NODE_KINDS) - 1;
	for (size_t i = 0; i < a->resource_types.nr; i++)
		if (!strcmp(a->resource_types.v[i], "all") || !strcmp(a->resource_types.v[i], "default"))
			return (1u << DBT_NODE_KINDS) - 1;
	for (size_t i = 0; i < a->resource_types.nr; i++)
		if (!strcmp(a->resource_types.v[i], "unit_test"))
			k |= 1u << NODE_TEST;
	for (size_t i = 0; i < a->resource_types.nr; i++)
		for (unsigned t = 0; t < DBT_NODE_KINDS; t++)
			if (!strcmp(a->resource_types.v[i], dbt_node_kind_name((enum node_kind)t)))
				k |= 1u << t;
	return k;
}

/* dbt's warning for each --select criterion that matches no node (a typo
 * would otherwise run nothing, silently) */
static void warn_unmatched(struct dbt_project *p, const struct run_args *a)
{
	struct strvec none = STRVEC_INIT;
	if (a->retry)
		return;
	for (size_t i = 0; i < a->select.nr; i++) {
		char *copy = xstrdup(a->select.v[i]), *save, *part;
		for (part = strtok_r(copy, ", ", &save); part; part = strtok_r(NULL, ", ", &save)) {
			struct strvec one = STRVEC_INIT;
			struct strbuf err = STRBUF_INIT;
			strvec_push(&one, part);
			size_t hits = 0;
			if (dbt_select(p, &one, &none, (1u << DBT_NODE_KINDS) - 1, 0, &err) == 0)
				for (size_t k = 0; k < p->nr; k++)
					hits += p->nodes[k]->selected && p->nodes[k]->kind != NODE_SOURCE;
			else
				hits = 1; /* a bad selector is reported by the real selection */
			if (!hits) {
				char clock[9];
				fflush(stdout);
				fprintf(stderr, "%s  [WARNING]: The selection criterion '%s' does not match any enabled nodes\n",
					ui_clock(clock), part);
			}
			strvec_clear(&one);
			strbuf_release(&err);
		}
		free(copy);
	}
}

static void print_ls(struct dbt_project *p, const struct run_args *a)
{
	size_t *order = dbt_graph_order(p);
	for (size_t k = 0; k < p->nr; k++) {
		struct dbt_node *n = p->nodes[order ? order[k] : k];
		if (!n->selected)
			continue;
		/* --resource-type test lists data tests, unit_test the unit tests */
		if (n->kind == NODE_TEST && a->resource_types.nr &&
		    !strvec_has(&a->resource_types, n->unit_model >= 0 ? "unit_test" : "test") &&
		    !strvec_has(&a->resource_types, "all") && !strvec_has(&a->resource_types, "default"))
			continue;
		const char *out = a->output ? a->output : "selector";
		if (!strcmp(out, "name")) {
			if (n->version)
				printf("%s.v%s\n", n->name, n->version);
			else
				printf("%s\n", n->kind == NODE_SOURCE ? n->unique_id + strlen("source.") + strlen(p->name) + 1
								       : n->name);
		} else if (!strcmp(out, "path")) {
			printf("%s\n", n->file);
		} else if (!strcmp(out, "json")) {
			printf("{\"name\": \"%s\", \"resource_type\": \"%s\", \"unique_id\": \"%s\", \"original_file_path\": \"%s\"}\n",
			       n->name, dbt_node_kind_name(n->kind), n->unique_id, n->file);
		} else {
			if (n->kind == NODE_SOURCE || n->kind >= NODE_EXPOSURE)
				printf("%s:", dbt_node_kind_name(n->kind));
			for (size_t i = 0; i < n->fqn.nr; i++)
				printf("%s%s", i ? "." : "", n->fqn.v[i]);
			putchar('\n');
		}
	}
	free(order);
}

/* The selection: dango retry's nodes, --selector, the default selector of
 * selectors.yml when nothing else is given, or --select/--exclude. */
static int select_nodes(struct dbt_project *p, const struct run_args *a, struct strbuf *err)
{
	if (a->retry) {
		struct strvec ids = STRVEC_INIT;
		if (a->retry_batches) {
			jval_unref(p->retry_batches);
			p->retry_batches = dbt_jval_from_json(a->retry_batches);
		}
		for (size_t i = 0; i < a->retry_ids.nr; i++)
			strvec_pushf(&ids, "unique_id:%s", a->retry_ids.v[i]);
		if (!ids.nr)
			strvec_push(&ids, "unique_id:");
		int r = dbt_select(p, &ids, NULL, kinds_for(a), 0, err);
		strvec_clear(&ids);
		return r;
	}
	char *dflt = NULL;
	const char *sel = a->selector;
	if (!sel && !a->select.nr && !a->exclude.nr) {
		if (dbt_default_selector(p, &dflt, err) < 0)
			return -1;
		if (dflt && a->which != W_LS) /* ls prints nodes only */
			out_line("Using default selector %s", dflt);
		sel = dflt;
	}
	int r;
	if (sel) {
		r = dbt_select_named(p, sel, kinds_for(a), err);
	} else {
		warn_unmatched(p, a);
		r = dbt_select(p, &a->select, &a->exclude, kinds_for(a), 1, err);
	}
	free(dflt);
	return r;
}

/* the command's arguments, as run_results.json's args (dango retry reads them) */
static void record_args(struct dbt_project *p, const struct run_args *a)
{
	struct jval d = p->invocation;
	const struct strvec *lists[] = { &a->select, &a->exclude };
	const char *names[] = { "select", "exclude" };
	for (size_t k = 0; k < 2; k++) {
		struct jval l = jval_list_new();
		for (size_t i = 0; i < lists[k]->nr; i++)
			jval_list_append(l, jval_str(lists[k]->v[i]));
		jval_dict_set(d, names[k], l);
	}
	const char *strs[][2] = { { "selector", a->selector }, { "state", a->state }, { "vars", a->vars },
				  { "target", a->target }, { "profiles_dir", a->profiles_dir } };
	for (size_t k = 0; k < ARRAY_SIZE(strs); k++)
		jval_dict_set(d, strs[k][0], strs[k][1] ? jval_str(strs[k][1]) : jval_none());
	jval_dict_set(d, "full_refresh", jval_bool(a->full_refresh));
	jval_dict_set(d, "fail_fast", jval_bool(a->fail_fast));
	jval_dict_set(d, "empty", jval_bool(a->empty));
	jval_dict_set(d, "defer", jval_bool(a->defer));
	jval_dict_set(d, "favor_state", jval_bool(a->favor_state));
	jval_dict_set(d, "threads", a->threads > 0 ? jval_int(a->threads) : jval_none());
}

static int do_compile(struct dbt_project *p, struct warehouse *wh, double parse_s)
{
	double t0 = now_s(), in_compile = 0;
	size_t *order = dbt_graph_order(p);
	size_t count = 0;
	int ret = EXIT_OK;
	struct strbuf err = STRBUF_INIT;
	for (size_t k = 0; k < p->nr && order; k++) {
		struct dbt_node *n = p->nodes[order[k]];
		if (!n->selected || (n->kind != NODE_MODEL && n->kind != NODE_TEST && n->kind != NODE_ANALYSIS))
			continue;
		strbuf_reset(&err);
		free(n->compiled_sql);
		double c0 = now_s();
		n->compiled_sql = dbt_compile_node(p, n, wh, &err);
		in_compile += now_s() - c0;
		if (!n->compiled_sql) {
			ui_error("Compilation Error in %s %s (%s)\n  %s", dbt_node_kind_name(n->kind), n->name, n->file,
				 err.buf);
			ret = EXIT_FAIL;
			continue;
		}
		if (dbt_write_compiled(p, n, "compiled", n->compiled_sql, &err) < 0) {
			ui_error("%s", err.buf);
			ret = EXIT_FAIL;
		}
		count++;
	}
	free(order);
	strbuf_release(&err);
	out_line("Compiled %zu node%s into target/compiled/ (parse %.3fs, compile %.3fs, writing %.3fs)", count,
		 count == 1 ? "" : "s", parse_s, in_compile, now_s() - t0 - in_compile);
	return ret;
}

/* manifest.json and run_results.json, on a thread of their own */
struct artifact_job {
	struct dbt_project *p;
	const struct dbt_result *results;
	const char *command;
	double elapsed;
	struct strbuf err;
};

static void *write_artifacts(void *arg)
{
	struct artifact_job *j = arg;
	if (dbt_write_manifest(j->p, &j->err) == 0)
		dbt_write_run_results(j->p, j->results, j->command, j->elapsed, &j->err);
	return NULL;
}


static void hook_line(void *data, const char *name, size_t i, size_t total, int r)
{
	struct strbuf msg = STRBUF_INIT;
	strbuf_addf(&msg, "%s hook: %s", r < 0 ? "ERROR" : "OK", name);
	fancy(i, total, msg.buf, r < 0 ? "ERROR" : "OK", -1);
	strbuf_release(&msg);
}

static void pg_line(const char *s)
{
	out_line("%s", s);
}

/* on-run-start (end 0) or on-run-end, with dbt's lines; -1 printed */
static int run_project_hooks(struct dbt_project *p, struct warehouse *wh, int end, const struct dbt_result *res)
{
	const struct strvec *h = end ? &p->on_run_end : &p->on_run_start;
	if (!h->nr)
		return 0;
	struct strbuf err = STRBUF_INIT;
	if (end)
		out_line("%s", "");
	out_line("Running %zu %s hook%s", h->nr, end ? "on-run-end" : "on-run-start", h->nr == 1 ? "" : "s");
	int r = dbt_run_hooks(p, wh, end, res, hook_line, NULL, &err);
	if (r < 0)
		ui_error("%s", err.buf);
	if (!end)
		out_line("%s", "");
	strbuf_release(&err);
	return r;
}

static int run_main(struct run_args *a)
{
	struct location loc;
	struct dbt_project p;
	struct strbuf err = STRBUF_INIT;
	struct dango_lock lock = DANGO_LOCK_INIT;
	struct warehouse wh = { 0 };
	int have_wh = 0, have_project = 0, ret;
	struct dbt_result *results = NULL;
	double t0 = now_s();

	if ((ret = load_session(&loc, &p, &have_project, a, a->which != W_LS)) != EXIT_OK)
		goto out;
	ret = EXIT_FAIL;
	p.empty = a->empty;
	if (a->which == W_BUILD)
		dbt_graph_add_test_edges(&p);
	double t_parsed = now_s();
	record_args(&p, a);
	if (a->state && dbt_state_load(&p, a->state, &err) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	if (select_nodes(&p, a, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	dbt_context_set_selected(&p);
	if (a->which == W_LS) {
		print_ls(&p, a);
		ret = EXIT_OK;
		goto out;
	}
	print_found(&p);
	if (a->which == W_PARSE) {
		/* what will fail when it runs is said now, not in silence */
		size_t bad = 0;
		for (size_t i = 0; i < p.nr; i++)
			if (p.nodes[i]->load_error) {
				char clock[9];
				fflush(stdout);
				fprintf(stderr, "%s  [WARNING]: %s %s will fail: %s\n", ui_clock(clock),
					dbt_node_kind_name(p.nodes[i]->kind), p.nodes[i]->name, p.nodes[i]->load_error);
				bad++;
			}
		ret = dbt_write_manifest(&p, &err) < 0 ? EXIT_FAIL : EXIT_OK;
		if (ret != EXIT_OK)
			ui_error("%s", err.buf);
		else
			out_line("Wrote %s/manifest.json%s", p.target_path, bad ? " (some nodes will fail: see the warnings)" : "");
		goto out;
	}
	size_t nsel = 0;
	for (size_t i = 0; i < p.nr; i++)
		nsel += p.nodes[i]->selected;
	/* --threads, then a Dango project's defaults.threads, then the profile's */
	int threads = a->threads > 0		       ? a->threads
		      : loc.dango && loc.proj.threads > 0 ? loc.proj.threads
		      : p.target.threads > 0	       ? p.target.threads
						       : 4;

	if (dbt_target_is_postgres(&p)) {
		/* a dbt-postgres target (src/transform/pg_target.c) */
		if (a->which == W_COMPILE) {
			/* introspection and run_query ask the server */
			if (dbt_pg_open(&p, &err) < 0) {
				ui_error("%s", err.buf);
				goto out;
			}
			ret = do_compile(&p, NULL, t_parsed - t0);
			dbt_pg_close(&p);
			if (dbt_write_manifest(&p, &err) < 0) {
				ui_error("%s", err.buf);
				ret = EXIT_FAIL;
			}
			goto out;
		}
		if (a->which != W_RUN && a->which != W_SEED && a->which != W_TEST && a->which != W_BUILD &&
		    a->which != W_SNAPSHOT) {
			ui_error("a postgres target runs with 'dango run', 'seed', 'test', 'build', 'snapshot' and 'compile' "
				 "only so far");
			goto out;
		}
		double pt0 = now_s();
		struct dbt_result *pres = NULL;
		/* models downstream of breaking schema drift wait, as on DuckDB */
		struct strvec drift_ids = STRVEC_INIT, drift_reasons = STRVEC_INIT;
		if (loc.dango && (a->which == W_RUN || a->which == W_BUILD))
			cmd_drift_preskip(&loc.proj, &p, a->ignore_drift, &drift_ids, &drift_reasons, out_line);
		int failed = dbt_pg_run(&p, pg_line, &drift_ids, threads, &pres, &err);
		strvec_clear(&drift_ids);
		strvec_clear(&drift_reasons);
		if (failed < 0)
			ui_error("%s", err.buf);
		ret = failed == 0 ? EXIT_OK : EXIT_FAIL;
		/* manifest.json and run_results.json, as after a DuckDB run */
		struct artifact_job aj = { &p, pres, which_names[a->which], now_s() - pt0, STRBUF_INIT };
		if (pres)
			write_artifacts(&aj);
		if (aj.err.len)
			ui_error("%s", aj.err.buf);
		strbuf_release(&aj.err);
		dbt_results_free(&p, pres);
		goto out;
	}
	if (a->which == W_COMPILE) {
		/* read-only, and only if it can be had: compiling needs no warehouse
		 * unless models introspect it */
		if (fs_exists(p.target.path) &&
		    warehouse_open(&wh, p.target.path, WH_READ_ONLY, &err) == 0)
			have_wh = 1;
		strbuf_reset(&err);
		if (have_wh && dbt_duckdb_setup(&p, &wh, &err) < 0) {
			ui_error("%s", err.buf);
			ret = EXIT_FAIL;
			goto out;
		}
		size_t deferred = 0;
		if (a->defer || a->favor_state)
			dbt_state_defer(&p, have_wh ? &wh : NULL, a->favor_state, &deferred);
		ret = do_compile(&p, have_wh ? &wh : NULL, t_parsed - t0);
		dbt_state_undefer(&p);
		if (dbt_write_manifest(&p, &err) < 0) {
			ui_error("%s", err.buf);
			ret = EXIT_FAIL;
		}
		goto out;
	}
	if (!nsel) {
		out_line("%s", "");
		out_line("Nothing to do. Try checking your model configs and model specification args");
		ret = EXIT_OK;
		dbt_write_manifest(&p, &err);
		goto out;
	}
	/* the lock, then the warehouse */
	struct strbuf cmdname = STRBUF_INIT;
	strbuf_addf(&cmdname, "dango %s", which_names[a->which]);
	ret = open_session_writer(&loc, &p, cmdname.buf, a->wait, &lock, &wh);
	strbuf_release(&cmdname);
	if (ret != EXIT_OK)
		goto out;
	have_wh = 1;
	if (dbt_duckdb_setup(&p, &wh, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (a->defer || a->favor_state) {
		size_t deferred = 0;
		dbt_state_defer(&p, &wh, a->favor_state, &deferred);
		if (deferred)
			out_line("Deferring %zu unselected node%s to the relations of %s/manifest.json", deferred,
				 deferred == 1 ? "" : "s", a->state);
	}
	out_line("Concurrency: %d thread%s", threads, threads == 1 ? "" : "s");
	out_line("%s", "");
	struct dbt_run_opts ro = { threads, a->fail_fast, &a->skip_sources, on_start, on_done, NULL, NULL, NULL };
	/* models downstream of a source with open breaking schema drift
	 * (src/cmd/governance.c) */
	struct strvec drift_ids = STRVEC_INIT, drift_reasons = STRVEC_INIT;
	if (loc.dango && (a->which == W_RUN || a->which == W_BUILD)) {
		cmd_drift_preskip(&loc.proj, &p, a->ignore_drift, &drift_ids, &drift_reasons, out_line);
		ro.preskip_ids = &drift_ids;
		ro.preskip_reasons = &drift_reasons;
	}
	double t1 = now_s();
	if (run_project_hooks(&p, &wh, 0, NULL) < 0) {
		ret = EXIT_FAIL;
		goto out;
	}
	int r = dbt_run(&p, &wh, &ro, &results, &err);
	double elapsed = now_s() - t1;
	strvec_clear(&drift_ids);
	strvec_clear(&drift_reasons);
	if (r < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (run_project_hooks(&p, &wh, 1, results) < 0)
		r = 1;
	print_summary(&p, results, elapsed);
	dbt_state_undefer(&p); /* the manifest has the nodes' own relations */
	/* the artifacts are written while the warehouse closes (DuckDB
	 * checkpoints then): neither waits for the other */
	struct artifact_job aj = { &p, results, which_names[a->which], now_s() - t0, STRBUF_INIT };
	pthread_t writer;
	int threaded = pthread_create(&writer, NULL, write_artifacts, &aj) == 0;
	if (!threaded)
		write_artifacts(&aj);
	cmd_close_writer(&lock, &wh);
	have_wh = 0;
	if (threaded)
		pthread_join(writer, NULL);
	if (aj.err.len)
		ui_error("%s", aj.err.buf);
	strbuf_release(&aj.err);
	ret = r ? EXIT_FAIL : EXIT_OK;
out:
	dbt_results_free(&p, results);
	if (have_wh) {
		if (lock.fd >= 0)
			cmd_close_writer(&lock, &wh);
		else
			warehouse_close(&wh);
	}
	end_session(&loc, &p, have_project);
	strbuf_release(&err);
	return ret;
}

/* dbt's resource types: the ones Dango has, and the others named as such */
static int bad_resource_type(const struct strvec *types)
{
	static const char *const later[] = { "group", "function", NULL };
	for (size_t i = 0; i < types->nr; i++) {
		const char *t = types->v[i];
		int ok = 0;
		for (unsigned k = 0; k < DBT_NODE_KINDS; k++)
			ok |= !strcmp(t, dbt_node_kind_name((enum node_kind)k));
		if (ok || !strcmp(t, "all") || !strcmp(t, "default") || !strcmp(t, "unit_test"))
			continue;
		for (const char *const *l = later; *l; l++)
			if (!strcmp(t, *l)) {
				ui_error("--resource-type %s: Dango does not have %s nodes yet", t, t);
				return 1;
			}
		ui_error("--resource-type '%s' is not a dbt resource type (model, seed, test, source, snapshot, "
			 "analysis, exposure, metric, semantic_model, saved_query, unit_test)", t);
		return 1;
	}
	return 0;
}

/* --event-time-start and --event-time-end: both or neither, start first (as dbt) */
static int bad_event_times(struct run_args *a)
{
	struct strbuf err = STRBUF_INIT;
	int bad = 1;
	if (!a->event_time_start && !a->event_time_end)
		bad = 0;
	else if (!a->event_time_start)
		strbuf_addstr(&err, "The flag `--event-time-end` was specified, but `--event-time-start` was not. When "
				    "specifying `--event-time-end`, `--event-time-start` must also be present.");
	else if (!a->event_time_end)
		strbuf_addstr(&err, "The flag `--event-time-start` was specified, but `--event-time-end` was not. When "
				    "specifying `--event-time-start`, `--event-time-end` must also be present.");
	else if (dbt_parse_event_time("--event-time-start", a->event_time_start, &a->et_start, &err) == 0 &&
		 dbt_parse_event_time("--event-time-end", a->event_time_end, &a->et_end, &err) == 0) {
		if (a->et_start >= a->et_end)
			strbuf_addstr(&err, "Value for `--event-time-start` must be less than `--event-time-end`");
		else
			bad = 0;
	}
	if (bad)
		ui_error("%s", err.buf);
	strbuf_release(&err);
	return bad;
}

static int run_cmd(enum which which, int argc, const char **argv)
{
	static const struct cmd_info infos[] = {
		{ "run", "dango run [--select SEL] [--exclude SEL] [--threads N] [--full-refresh] [--vars YAML]",
		  "Build the dbt models (views, tables, incremental, ephemeral) in dependency order.", details },
		{ "seed", "dango seed [--select SEL] [--full-refresh]", "Load the CSV files of the dbt project's seeds.",
		  details },
		{ "test", "dango test [--select SEL] [--exclude SEL]",
		  "Run the data tests: generic (unique, not_null, accepted_values, relationships) and singular.",
		  details },
		{ "build", "dango build [--select SEL] [--exclude SEL]",
		  "Seeds, models and tests in graph order; a failing test skips what depends on it.", details },
		{ "compile", "dango compile [--select SEL]", "Render the models' SQL into target/compiled/.", details },
		{ "ls", "dango ls [--select SEL] [--resource-type TYPE] [--output selector|name|path|json]",
		  "List the selected nodes of the dbt project.", details },
		{ "snapshot", "dango snapshot [--select SEL] [--exclude SEL]",
		  "Run the dbt snapshots (type-2 history tables: timestamp and check strategies).", details },
		{ "parse", "dango parse", "Parse the dbt project and write target/manifest.json.", details },
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	a.which = which;
	a.wait = -1;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_LIST('s', "select", &a.select, "SEL", "nodes to run (repeatable; comma lists)"),
		OPT_LIST('m', "models", &a.select, "SEL", "the same as --select"),
		OPT_LIST(0, "exclude", &a.exclude, "SEL", "nodes to leave out"),
		OPT_INT(0, "threads", &a.threads, "N", "nodes built at once (default: the profile's, then 4)"),
		OPT_BOOL(0, "full-refresh", &a.full_refresh, "rebuild incremental models and seeds from scratch"),
		OPT_BOOL('x', "fail-fast", &a.fail_fast, "stop at the first failure"),
		OPT_BOOL(0, "empty", &a.empty, "refs and sources read no rows (limit 0): build the schema only"),
		OPT_STRING(0, "vars", &a.vars, "YAML", "variables, as JSON or YAML: '{\"year\": 2024}'"),
		OPT_STRING('t', "target", &a.target, "NAME", "the profile's output to use"),
		OPT_STRING(0, "profiles-dir", &a.profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_LIST(0, "skip-source", &a.skip_sources, "SRC[.TABLE]",
			 "skip everything downstream of this source (repeatable)"),
		OPT_INT(0, "wait", &a.wait, "SECONDS", "wait this long for the warehouse lock (default 300)"),
		OPT_BOOL(0, "ignore-drift", &a.ignore_drift, "run models downstream of breaking schema drift anyway"),
		OPT_STRING(0, "event-time-start", &a.event_time_start, "TIME", "microbatch models: the first batch's time"),
		OPT_STRING(0, "event-time-end", &a.event_time_end, "TIME", "microbatch models: the end of the last batch"),
		OPT_LIST(0, "resource-type", &a.resource_types, "TYPE", "ls: model, seed, test, source, snapshot"),
		OPT_STRING('o', "output", &a.output, "FORMAT", "ls: selector, name, path or json"),
		OPT_BOOL(0, "no-version-check", &a.no_version_check, "do not check require-dbt-version"),
		OPT_STRING(0, "selector", &a.selector, "NAME", "a selector of selectors.yml"),
		OPT_STRING(0, "state", &a.state, "DIR", "another run's target/, for state:, result: and --defer"),
		OPT_BOOL(0, "defer", &a.defer, "refs to unselected nodes not built here read --state's relations"),
		OPT_BOOL(0, "favor-state", &a.favor_state, "with --defer: unselected nodes always read --state's"),
		OPT_END(),
	};
	/* each command lists (and takes) only the options it uses */
	struct opt mine[ARRAY_SIZE(opts)];
	size_t nmine = 0;
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		const char *l = opts[i].long_name;
		int ls_only = l && (!strcmp(l, "resource-type") || !strcmp(l, "output"));
		int not_ls = l && (!strcmp(l, "threads") || !strcmp(l, "full-refresh") || !strcmp(l, "fail-fast") ||
				   !strcmp(l, "skip-source") || !strcmp(l, "wait"));
		int not_compile = l && (!strcmp(l, "full-refresh") || !strcmp(l, "fail-fast") ||
					!strcmp(l, "skip-source") || !strcmp(l, "wait") || !strcmp(l, "threads"));
		if (l && !strcmp(l, "ignore-drift") && which != W_RUN && which != W_BUILD)
			continue;
		if (l && !strncmp(l, "event-time-", 11) && which != W_RUN && which != W_BUILD)
			continue;
		if (l && (!strcmp(l, "defer") || !strcmp(l, "favor-state")) && (which == W_LS || which == W_PARSE))
			continue;
		if (l && (!strcmp(l, "selector") || !strcmp(l, "state")) && which == W_PARSE)
			continue;
		int empty_ok = which == W_RUN || which == W_BUILD || which == W_COMPILE;
		if ((ls_only && which != W_LS) || (not_ls && which == W_LS) || (not_compile && which == W_COMPILE) ||
		    (l && !strcmp(l, "empty") && !empty_ok))
			continue;
		mine[nmine++] = opts[i];
	}
	/* dbt takes several values after --select and --exclude (-s a b c):
	 * repeat the flag before each, for the option parser */
	const char **av = xcalloc((size_t)argc * 2 + 1, sizeof(*av));
	int ac = 0;
	const char *list_flag = NULL;
	for (int i = 0; i < argc; i++) {
		const char *x = argv[i];
		if (i > 0 && list_flag && x[0] != '-') {
			av[ac++] = list_flag;
			av[ac++] = x;
			continue;
		}
		list_flag = NULL;
		av[ac++] = x;
		if (!strcmp(x, "-s") || !strcmp(x, "--select") || !strcmp(x, "-m") || !strcmp(x, "--models") ||
		    !strcmp(x, "--exclude")) {
			if (i + 1 < argc)
				av[ac++] = argv[++i];
			list_flag = x;
		}
	}
	av[ac] = NULL;
	int r = opts_parse(&infos[which], mine, ac, av, &args);
	free(av);
	if (r == OPTS_HELP) {
		r = EXIT_OK;
	} else if (r == OPTS_ERROR) {
		r = EXIT_USAGE;
	} else if (args.nr) {
		ui_error("unexpected argument '%s' (use --select to choose nodes)", args.v[0]);
		r = EXIT_USAGE;
	} else if (a.threads < 0) {
		ui_error("--threads must be at least 1");
		r = EXIT_USAGE;
	} else if (bad_resource_type(&a.resource_types)) {
		r = EXIT_USAGE;
	} else if (bad_event_times(&a)) {
		r = EXIT_USAGE;
	} else if (a.selector && (a.select.nr || a.exclude.nr)) {
		ui_error("--selector cannot be used with --select or --exclude (the selector says what to run)");
		r = EXIT_USAGE;
	} else if ((a.defer || a.favor_state) && !a.state) {
		ui_error("--%s needs --state DIR (the target/ of the run to defer to)", a.defer ? "defer" : "favor-state");
		r = EXIT_USAGE;
	} else {
		r = run_main(&a);
	}
	strvec_clear(&args);
	strvec_clear(&a.select);
	strvec_clear(&a.exclude);
	strvec_clear(&a.skip_sources);
	strvec_clear(&a.resource_types);
	return r;
}

int cmd_run(int argc, const char **argv)
{
	return run_cmd(W_RUN, argc, argv);
}

int cmd_seed(int argc, const char **argv)
{
	return run_cmd(W_SEED, argc, argv);
}

int cmd_test(int argc, const char **argv)
{
	return run_cmd(W_TEST, argc, argv);
}

int cmd_build(int argc, const char **argv)
{
	return run_cmd(W_BUILD, argc, argv);
}

int cmd_compile(int argc, const char **argv)
{
	return run_cmd(W_COMPILE, argc, argv);
}

int cmd_ls(int argc, const char **argv)
{
	return run_cmd(W_LS, argc, argv);
}

int cmd_snapshot(int argc, const char **argv)
{
	return run_cmd(W_SNAPSHOT, argc, argv);
}

int cmd_parse(int argc, const char **argv)
{
	return run_cmd(W_PARSE, argc, argv);
}

static void deps_line(void *data, const char *line)
{
	out_line("%s", line);
}

/* dango deps: packages.yml / dependencies.yml into dbt_packages/ */
int cmd_deps(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"deps", "dango deps",
		"Install the dbt packages listed in packages.yml or dependencies.yml, and the packages\n"
		"they depend on, into dbt_packages/ (packages-install-path): local: packages as a link,\n"
		"git: packages with `git clone`, tarball: packages from a URL or file, and hub packages\n"
		"(package: + version:) from the dbt package hub ($DBT_PACKAGE_HUB_URL, default\n"
		"https://hub.getdbt.com/). The resolved versions go into package-lock.yml, which later\n"
		"runs install as it stands while it covers every entry of packages.yml.",
		"Nothing is moved into dbt_packages/ until every package has arrived.\n"
		"Exit codes: 0 installed, 1 a package could not be installed, 2 usage."
	};
	struct strvec args = STRVEC_INIT;
	struct deps_options dopts = { 0 };
	const struct opt opts[] = {
		OPT_BOOL(0, "upgrade", &dopts.upgrade, "resolve the versions again, ignoring package-lock.yml"),
		OPT_END()
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP) {
		strvec_clear(&args);
		return EXIT_OK;
	}
	if (r == OPTS_ERROR || args.nr) {
		if (args.nr)
			ui_error("unexpected argument '%s'", args.v[0]);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	strvec_clear(&args);
	struct run_args a;
	memset(&a, 0, sizeof(a));
	struct location loc;
	if ((r = locate(&loc, &a)) != EXIT_OK)
		return r;
	struct strbuf err = STRBUF_INIT;
	out_line("Running with dango=%s", DANGO_VERSION);
	r = EXIT_OK;
	if (dbt_deps_install(loc.dbt_dir, &dopts, deps_line, NULL, &err) < 0) {
		ui_error("%s", err.buf);
		r = EXIT_FAIL;
	}
	strbuf_release(&err);
	location_release(&loc);
	return r;
}

/* dango run-operation MACRO --args '{...}': call a macro on the warehouse */
int cmd_run_operation(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"run-operation", "dango run-operation MACRO [--args YAML] [--vars YAML] [--target NAME]",
		"Call a macro of the dbt project (or a package: pkg.macro) with the given arguments, as dbt does.",
		"Exit codes: 0 done, 1 the macro failed (or the project is invalid), 2 usage, 3 lock not had."
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	a.wait = -1;
	const char *args_text = NULL;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_STRING(0, "args", &args_text, "YAML", "the macro's keyword arguments: '{\"days\": 7}'"),
		OPT_STRING(0, "vars", &a.vars, "YAML", "variables, as JSON or YAML"),
		OPT_STRING('t', "target", &a.target, "NAME", "the profile's output to use"),
		OPT_STRING(0, "profiles-dir", &a.profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_INT(0, "wait", &a.wait, "SECONDS", "wait this long for the warehouse lock (default 300)"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr != 1) {
		if (r != OPTS_HELP && r != OPTS_ERROR)
			ui_error("run-operation takes one macro name (got %zu arguments)", args.nr);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct strbuf err = STRBUF_INIT;
	struct jval kwargs = jval_dict_new();
	if (args_text && *args_text) {
		jval_unref(kwargs);
		if (dbt_parse_vars(args_text, &kwargs, &err) < 0) {
			ui_error("--args: %s", err.buf);
			strbuf_release(&err);
			strvec_clear(&args);
			return EXIT_USAGE;
		}
	}
	struct location loc;
	struct dbt_project p;
	struct dango_lock lock = DANGO_LOCK_INIT;
	struct warehouse wh = { 0 };
	int have_project = 0;
	if ((r = load_session(&loc, &p, &have_project, &a, 1)) != EXIT_OK)
		goto out;
	if (dbt_target_is_postgres(&p)) {
		r = EXIT_OK;
		if (dbt_pg_run_operation(&p, args.v[0], kwargs, &err) < 0) {
			ui_error("Encountered an error while running operation: %s", err.buf);
			r = EXIT_FAIL;
		}
		goto out;
	}
	if ((r = open_session_writer(&loc, &p, "dango run-operation", a.wait, &lock, &wh)) != EXIT_OK)
		goto out;
	if (dbt_duckdb_setup(&p, &wh, &err) < 0 || dbt_catalog_load(&p, &wh, &err) < 0 || dbt_run_operation(&p, &wh, args.v[0], kwargs, &err) < 0) {
		ui_error("Encountered an error while running operation: %s", err.buf);
		r = EXIT_FAIL;
	} else {
		r = EXIT_OK;
	}
	cmd_close_writer(&lock, &wh);
out:
	end_session(&loc, &p, have_project);
	jval_unref(kwargs);
	strbuf_release(&err);
	strvec_clear(&args);
	return r;
}

/* dango clean: remove the clean-targets of dbt_project.yml (default: the
 * target-path); a path outside the project is refused, as dbt does */
int cmd_clean(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"clean", "dango clean",
		"Delete the folders listed in clean-targets of dbt_project.yml (default: target/).",
		"Exit codes: 0 cleaned, 1 a path could not be removed or is outside the project, 2 usage."
	};
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = { OPT_END() };
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr) {
		if (args.nr)
			ui_error("unexpected argument '%s'", args.v[0]);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	strvec_clear(&args);
	struct run_args a;
	memset(&a, 0, sizeof(a));
	struct location loc;
	if ((r = locate(&loc, &a)) != EXIT_OK)
		return r;
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT, abs = STRBUF_INIT, dir = STRBUF_INIT;
	struct ydoc doc = { 0 };
	struct strvec targets = STRVEC_INIT;
	r = EXIT_FAIL;
	fs_absolute(&dir, loc.dbt_dir);
	fs_path_join(&path, dir.buf, "dbt_project.yml");
	if (strbuf_read_file(&text, path.buf) < 0 || ydoc_parse(&doc, "dbt_project.yml", text.buf, text.len, &err) < 0) {
		ui_error("%s", err.len ? err.buf : "no dbt_project.yml");
		goto out;
	}
	const struct ynode *ct = ymap_get(doc.root, "clean-targets");
	for (size_t i = 0; ct && ct->kind == Y_SEQ && i < ct->n; i++)
		if (ct->items[i]->kind == Y_SCALAR)
			strvec_push(&targets, ct->items[i]->str);
	if (!ct) {
		const struct ynode *tp = ymap_get(doc.root, "target-path");
		strvec_push(&targets, tp && tp->kind == Y_SCALAR ? tp->str : "target");
	}
	out_line("Running with dango=%s", DANGO_VERSION);
	r = EXIT_OK;
	for (size_t i = 0; i < targets.nr; i++) {
		strbuf_reset(&abs);
		fs_path_join(&abs, dir.buf, targets.v[i]);
		struct strbuf real = STRBUF_INIT;
		fs_absolute(&real, abs.buf);
		size_t dl = dir.len;
		if (strncmp(real.buf, dir.buf, dl) || real.buf[dl] != '/' || strstr(targets.v[i], "..")) {
			ui_error("clean-targets: '%s' is outside the project: not removed", targets.v[i]);
			r = EXIT_FAIL;
		} else if (!fs_exists(real.buf)) {
			out_line("Checking %s/*", targets.v[i]);
		} else if (fs_remove_tree(real.buf) < 0) {
			ui_error("clean-targets: could not remove '%s'", targets.v[i]);
			r = EXIT_FAIL;
		} else {
			out_line("Cleaned %s/*", targets.v[i]);
		}
		strbuf_release(&real);
	}
	if (r == EXIT_OK)
		out_line("Finished cleaning all paths.");
out:
	ydoc_release(&doc);
	strvec_clear(&targets);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&abs);
	strbuf_release(&dir);
	location_release(&loc);
	return r;
}

/* dango freshness: dbt's `source freshness` for the dbt project's sources
 * (named so that it does not collide with `dango source`, which manages
 * Dango's own sources) */
int cmd_freshness(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"freshness", "dango freshness [--select source:NAME] [--target NAME]",
		"Check the freshness of the dbt project's sources (dbt's `source freshness`): the newest\n"
		"loaded_at_field against warn_after and error_after; writes target/sources.json.",
		"Exit codes: 0 fresh (or warn), 1 a source is stale (error_after) or could not be checked, 2 usage."
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_LIST('s', "select", &a.select, "SEL", "sources to check (source:stripe, source:stripe.charges)"),
		OPT_LIST(0, "exclude", &a.exclude, "SEL", "sources to leave out"),
		OPT_STRING(0, "vars", &a.vars, "YAML", "variables, as JSON or YAML"),
		OPT_STRING('t', "target", &a.target, "NAME", "the profile's output to use"),
		OPT_STRING(0, "profiles-dir", &a.profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr) {
		if (args.nr)
			ui_error("unexpected argument '%s' (use --select source:NAME)", args.v[0]);
		strvec_clear(&args);
		strvec_clear(&a.select);
		strvec_clear(&a.exclude);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct location loc;
	struct dbt_project p;
	struct strbuf err = STRBUF_INIT;
	struct warehouse wh = { 0 };
	struct dbt_freshness *res = NULL;
	int have_project = 0, have_wh = 0;
	double t0 = now_s();
	if ((r = load_session(&loc, &p, &have_project, &a, 1)) != EXIT_OK)
		goto out;
	r = EXIT_FAIL;
	if (dbt_select(&p, &a.select, &a.exclude, 1u << NODE_SOURCE, 0, &err) < 0) {
		ui_error("%s", err.buf);
		r = EXIT_USAGE;
		goto out;
	}
	size_t total = 0;
	for (size_t i = 0; i < p.nr; i++)
		total += p.nodes[i]->selected && dbt_freshness_wanted(p.nodes[i]);
	print_found(&p);
	if (!total) {
		out_line("%s", "");
		out_line("Nothing to do: no selected source has freshness (warn_after or error_after)");
		r = EXIT_OK;
		goto out;
	}
	/* a postgres target's sources are read on its connection */
	if (dbt_target_is_postgres(&p) ? dbt_pg_open(&p, &err) < 0
	    : (warehouse_open(&wh, p.target.path, WH_READ_ONLY, &err) < 0 ||
	       (have_wh = 1, dbt_duckdb_setup(&p, &wh, &err) < 0))) {
		ui_error("%s", err.buf);
		goto out;
	}
	have_wh = !dbt_target_is_postgres(&p);
	out_line("%s", "");
	res = xcalloc(p.nr + 1, sizeof(*res));
	size_t order = 0, bad = 0, warned = 0;
	for (size_t i = 0; i < p.nr; i++) {
		struct dbt_node *n = p.nodes[i];
		if (!n->selected || !dbt_freshness_wanted(n))
			continue;
		struct strbuf msg = STRBUF_INIT;
		strbuf_addf(&msg, "START freshness of %s.%s", n->source_name, n->name);
		fancy(++order, total, msg.buf, "RUN", -1);
		double c0 = now_s();
		dbt_freshness_check(&p, n, &wh, &res[i]);
		res[i].seconds = now_s() - c0;
		res[i].ran = 1;
		const char *st = res[i].status;
		const char *label = !strcmp(st, "pass") ? "PASS" : !strcmp(st, "warn") ? "WARN" : !strcmp(st, "error") ? "ERROR STALE" : "ERROR";
		strbuf_reset(&msg);
		strbuf_addf(&msg, "%s freshness of %s.%s", label, n->source_name, n->name);
		fancy(order, total, msg.buf, label, res[i].seconds);
		if (res[i].message)
			ui_error("%s", res[i].message);
		bad += !strcmp(st, "error") || !strcmp(st, "runtime error");
		warned += !strcmp(st, "warn");
		strbuf_release(&msg);
	}
	if (dbt_write_sources(&p, res, now_s() - t0, &err) < 0)
		ui_error("%s", err.buf);
	out_line("%s", "");
	out_line("Done. PASS=%zu WARN=%zu ERROR=%zu SKIP=0 TOTAL=%zu", total - bad - warned, warned, bad, total);
	r = bad ? EXIT_FAIL : EXIT_OK;
out:
	if (res) {
		for (size_t i = 0; i < p.nr; i++)
			dbt_freshness_release(&res[i]);
		free(res);
	}
	if (have_wh)
		warehouse_close(&wh);
	if (have_project)
		dbt_pg_close(&p);
	end_session(&loc, &p, have_project);
	strbuf_release(&err);
	strvec_clear(&args);
	strvec_clear(&a.select);
	strvec_clear(&a.exclude);
	return r;
}

/* dango docs generate: target/manifest.json and catalog.json */
int cmd_docs(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"docs", "dango docs generate [--target NAME]",
		"Write the dbt project's documentation artifacts: target/manifest.json and target/catalog.json\n"
		"(every relation's columns, types, comments and row counts, read from the warehouse).",
		"`dango docs serve` is not provided: `dango web` shows the project.\n"
		"Exit codes: 0 written, 1 the project or the warehouse could not be read, 2 usage."
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_STRING(0, "vars", &a.vars, "YAML", "variables, as JSON or YAML"),
		OPT_STRING('t', "target", &a.target, "NAME", "the profile's output to use"),
		OPT_STRING(0, "profiles-dir", &a.profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr != 1 || strcmp(args.v[0], "generate")) {
		if (r != OPTS_HELP && r != OPTS_ERROR)
			ui_error(args.nr && !strcmp(args.v[0], "serve")
					 ? "dango docs serve is not provided: open the project with `dango web`"
					 : "usage: dango docs generate");
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct location loc;
	struct dbt_project p;
	struct strbuf err = STRBUF_INIT;
	struct warehouse wh = { 0 };
	int have_project = 0, have_wh = 0;
	if ((r = load_session(&loc, &p, &have_project, &a, 1)) != EXIT_OK)
		goto out;
	r = EXIT_FAIL;
	print_found(&p);
	if (dbt_write_manifest(&p, &err) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	if (open_target_reader(&p, &wh, &have_wh, &err) < 0)
		goto out;
	size_t found = 0;
	if (dbt_write_catalog(&p, &wh, &found, &err) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	out_line("Catalog written to %s/catalog.json (%zu relation%s)", p.target_path, found, found == 1 ? "" : "s");
	r = EXIT_OK;
out:
	if (have_wh)
		warehouse_close(&wh);
	if (have_project)
		dbt_pg_close(&p);
	end_session(&loc, &p, have_project);
	strbuf_release(&err);
	strvec_clear(&args);
	return r;
}

/* dango debug: dbt's checks of the project, the profile and the connection */
int cmd_debug(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"debug", "dango debug [--target NAME] [--profiles-dir DIR]",
		"Check the dbt project: dbt_project.yml, profiles.yml and the target, and the connection to it.",
		"Exit codes: 0 all checks passed, 1 a check failed, 2 usage."
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_STRING('t', "target", &a.target, "NAME", "the profile's output to use"),
		OPT_STRING(0, "profiles-dir", &a.profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr) {
		if (args.nr)
			ui_error("unexpected argument '%s'", args.v[0]);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	strvec_clear(&args);
	struct location loc;
	if ((r = locate(&loc, &a)) != EXIT_OK)
		return r;
	struct dbt_project p;
	struct strbuf err = STRBUF_INIT;
	out_line("Running with dango=%s", DANGO_VERSION);
	out_line("dbt version: %s (what require-dbt-version is checked against)", DANGO_DBT_VERSION);
	out_line("dbt project: %s", loc.dbt_dir);
	struct dbt_load_opts lo = { loc.dbt_dir, loc.profiles_dir, loc.profiles_base, a.target, NULL, 0, on_log, NULL };
	int loaded = dbt_project_load(&p, &lo, &err) == 0;
	r = EXIT_FAIL;
	if (!loaded) {
		/* which file: the profile's errors name profiles.yml */
		int profile = strstr(err.buf, "profile") != NULL;
		out_line("dbt_project.yml file [%s]", profile ? "OK found and valid" : "ERROR invalid");
		if (profile)
			out_line("profiles.yml file [ERROR invalid]");
		out_line("  %s", err.buf);
		out_line("1 check failed.");
		goto out;
	}
	out_line("dbt_project.yml file [OK found and valid]");
	out_line("profiles.yml file [OK found and valid]");
	out_line("Connection:");
	out_line("  profile: %s", p.target.profile ? p.target.profile : p.profile_name);
	out_line("  target: %s", p.target.name ? p.target.name : "");
	out_line("  type: %s", p.target.type ? p.target.type : "duckdb");
	out_line("  path: %s", p.target.path ? p.target.path : "");
	out_line("  database: %s", p.target.database ? p.target.database : "");
	out_line("  schema: %s", p.target.schema ? p.target.schema : "");
	if (!p.target.path || !fs_exists(p.target.path)) {
		out_line("  Connection test: [OK the database file does not exist yet: the first run creates it]");
		out_line("All checks passed!");
		r = EXIT_OK;
	} else {
		struct warehouse wh = { 0 };
		strbuf_reset(&err);
		if (warehouse_open(&wh, p.target.path, WH_READ_ONLY, &err) == 0 && warehouse_exec(&wh, "select 1", &err) == 0) {
			out_line("  Connection test: [OK connection ok]");
			out_line("All checks passed!");
			r = EXIT_OK;
		} else {
			out_line("  Connection test: [ERROR]");
			out_line("  %s", err.buf);
			out_line("1 check failed.");
		}
		warehouse_close(&wh);
	}
	dbt_project_release(&p);
out:
	if (!loaded)
		dbt_project_release(&p);
	location_release(&loc);
	strbuf_release(&err);
	return r;
}

/* dango show: a model's or an inline query's first rows, as dbt show */
int cmd_show(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"show", "dango show (--select MODEL | --inline SQL) [--limit N]",
		"Compile a model (or an inline query with refs and macros) and print its first rows.",
		"Exit codes: 0 shown, 1 it failed, 2 usage."
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	const char *inline_sql = NULL;
	int limit = 5;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_LIST('s', "select", &a.select, "MODEL", "the model to preview"),
		OPT_STRING(0, "inline", &inline_sql, "SQL", "a query to preview (refs, sources and macros work)"),
		OPT_INT_ALL(0, "limit", &limit, "N", "rows to show (default 5; -1: all)"),
		OPT_STRING(0, "vars", &a.vars, "YAML", "variables, as JSON or YAML"),
		OPT_STRING('t', "target", &a.target, "NAME", "the profile's output to use"),
		OPT_STRING(0, "profiles-dir", &a.profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr || (!inline_sql == !a.select.nr)) {
		if (r != OPTS_HELP && r != OPTS_ERROR)
			ui_error("show takes one of --select MODEL and --inline SQL");
		strvec_clear(&args);
		strvec_clear(&a.select);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct location loc;
	struct dbt_project p;
	struct strbuf err = STRBUF_INIT, sql = STRBUF_INIT, q = STRBUF_INIT;
	struct warehouse wh = { 0 };
	int have_project = 0, have_wh = 0;
	char *compiled = NULL;
	if ((r = load_session(&loc, &p, &have_project, &a, 1)) != EXIT_OK)
		goto out;
	r = EXIT_FAIL;
	int pg = dbt_target_is_postgres(&p);
	if (open_target_reader(&p, &wh, &have_wh, &err) < 0)
		goto out;
	/* a postgres target compiles on p's connection, not through wh */
	struct warehouse *cwh = pg ? NULL : &wh;
	struct dbt_node *n = NULL;
	if (inline_sql) {
		struct jval none = jval_dict_new();
		int rr = dbt_render_extra(&p, cwh, "inline", inline_sql, none, &sql, &err);
		jval_unref(none);
		if (rr < 0) {
			ui_error("Compilation Error in inline query: %s", err.buf);
			goto out;
		}
	} else {
		n = dbt_project_find(&p, a.select.v[0]);
		if (!n || (n->kind != NODE_MODEL && n->kind != NODE_SEED && n->kind != NODE_SNAPSHOT)) {
			ui_error("show: no model named '%s'", a.select.v[0]);
			goto out;
		}
		if (n->kind == NODE_SEED || n->kind == NODE_SNAPSHOT) {
			strbuf_addstr(&sql, "select * from ");
			dbt_node_relation_sql(&sql, n);
		} else if (!(compiled = dbt_compile_node(&p, n, cwh, &err))) {
			ui_error("Compilation Error in model %s (%s)\n  %s", n->name, n->file, err.buf);
			goto out;
		} else {
			strbuf_addstr(&sql, compiled);
		}
	}
	while (sql.len && (sql.buf[sql.len - 1] == ';' || sql.buf[sql.len - 1] == '\n' || sql.buf[sql.len - 1] == ' '))
		strbuf_setlen(&sql, sql.len - 1);
	strbuf_addf(&q, "select * from (\n%s\n) dbt_show", sql.buf);
	if (limit >= 0)
		strbuf_addf(&q, " limit %d", limit);
	struct wh_result res;
	if (warehouse_query(&wh, q.buf, &res, &err) < 0) {
		ui_error("Runtime Error: %s", err.buf);
		goto out;
	}
	/* dbt's preview: a markdown table */
	size_t *w = xcalloc(res.cols + 1, sizeof(*w));
	for (size_t c = 0; c < res.cols; c++)
		w[c] = strlen(wh_result_name(&res, c));
	for (size_t i = 0; i < res.rows; i++)
		for (size_t c = 0; c < res.cols; c++) {
			char *v = wh_result_str(&res, i, c);
			size_t l = v ? strlen(v) : 0;
			if (l > w[c])
				w[c] = l;
			free(v);
		}
	if (n)
		out_line("Previewing node '%s':", n->name);
	else
		out_line("Previewing inline node:");
	struct strbuf line = STRBUF_INIT;
	for (int part = 0; part < 2; part++) {
		strbuf_reset(&line);
		for (size_t c = 0; c < res.cols; c++) {
			strbuf_addstr(&line, "| ");
			if (part == 0)
				strbuf_addf(&line, "%-*s ", (int)w[c], wh_result_name(&res, c));
			else
				strbuf_addchars(&line, '-', w[c]), strbuf_addch(&line, ' ');
		}
		strbuf_addch(&line, '|');
		printf("%s\n", line.buf);
	}
	for (size_t i = 0; i < res.rows; i++) {
		strbuf_reset(&line);
		for (size_t c = 0; c < res.cols; c++) {
			char *v = wh_result_str(&res, i, c);
			strbuf_addf(&line, "| %-*s ", (int)w[c], v ? v : "");
			free(v);
		}
		strbuf_addch(&line, '|');
		printf("%s\n", line.buf);
	}
	strbuf_release(&line);
	free(w);
	wh_result_free(&res);
	r = EXIT_OK;
out:
	free(compiled);
	if (have_wh)
		warehouse_close(&wh);
	if (have_project)
		dbt_pg_close(&p);
	end_session(&loc, &p, have_project);
	strbuf_release(&err);
	strbuf_release(&sql);
	strbuf_release(&q);
	strvec_clear(&args);
	strvec_clear(&a.select);
	return r;
}

/* The target-path of the dbt project in dir (absolute; the caller's). */
static char *target_path_of(const char *dir)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT, abs = STRBUF_INIT;
	struct ydoc doc = { 0 };
	const char *tp = "target";
	fs_path_join(&path, dir, "dbt_project.yml");
	if (strbuf_read_file(&text, path.buf) == 0 && ydoc_parse(&doc, "dbt_project.yml", text.buf, text.len, &err) == 0) {
		const struct ynode *t = ymap_get(doc.root, "target-path");
		if (t && t->kind == Y_SCALAR && !ynode_is_null(t))
			tp = t->str;
	}
	strbuf_reset(&path);
	fs_path_join(&path, dir, tp);
	fs_absolute(&abs, path.buf);
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
	return strbuf_detach(&abs, NULL);
}

static const char *json_str_or(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* dango retry: the last command again (run_results.json's args: its
 * selection, flags and vars), on exactly the nodes that errored, failed or
 * were skipped, as dbt retry does */
int cmd_retry(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"retry", "dango retry [--threads N] [--profiles-dir DIR] [--state DIR]",
		"Re-run the nodes that errored, failed or were skipped in the last run_results.json,\n"
		"with the same command (run, seed, test, build, snapshot) and the same flags.",
		"Exit codes: 0 success, 1 a node failed (or there is no previous run), 2 usage, 3 lock not had."
	};
	struct run_args a;
	memset(&a, 0, sizeof(a));
	a.wait = -1;
	const char *from = NULL, *profiles_dir = NULL;
	int threads = 0;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_INT(0, "threads", &threads, "N", "nodes built at once (default: the last run's)"),
		OPT_STRING(0, "profiles-dir", &profiles_dir, "DIR", "folder of profiles.yml"),
		OPT_STRING(0, "state", &from, "DIR", "where the last run_results.json is (default: target/)"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r == OPTS_HELP || r == OPTS_ERROR || args.nr) {
		if (args.nr)
			ui_error("unexpected argument '%s'", args.v[0]);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	strvec_clear(&args);
	a.profiles_dir = profiles_dir;
	struct location loc;
	if ((r = locate(&loc, &a)) != EXIT_OK)
		return r;
	char *dir = from ? xstrdup(from) : target_path_of(loc.dbt_dir);
	location_release(&loc);
	struct strbuf path = STRBUF_INIT;
	fs_path_join(&path, dir, "run_results.json");
	json_error_t je;
	json_t *root = fs_exists(path.buf) ? json_load_file(path.buf, 0, &je) : NULL;
	r = EXIT_FAIL;
	if (!root) {
		if (fs_exists(path.buf))
			ui_error("%s:%d: %s", path.buf, je.line, je.text);
		else
			ui_error("Could not find previous run in '%s' target directory", dir);
		goto out;
	}
	json_t *prev = json_object_get(root, "args");
	const char *which = json_str_or(prev, "which");
	static const enum which retryable[] = { W_RUN, W_SEED, W_TEST, W_BUILD, W_SNAPSHOT };
	int found = 0;
	for (size_t i = 0; which && i < ARRAY_SIZE(retryable); i++)
		if (!strcmp(which, which_names[retryable[i]])) {
			a.which = retryable[i];
			found = 1;
		}
	if (!found) {
		ui_error("the last run ('%s') is not one retry re-runs (run, seed, test, build, snapshot)",
			 which ? which : "?");
		goto out;
	}
	const char *lists[] = { "select", "exclude" };
	struct strvec *into[] = { &a.select, &a.exclude };
	for (size_t k = 0; k < 2; k++) {
		json_t *l = json_object_get(prev, lists[k]), *e;
		size_t i;
		json_array_foreach(l, i, e)
		{
			if (json_string_value(e))
				strvec_push(into[k], json_string_value(e));
		}
	}
	a.selector = json_str_or(prev, "selector");
	a.state = json_str_or(prev, "state");
	a.vars = json_str_or(prev, "vars");
	a.target = json_str_or(prev, "target");
	if (!a.profiles_dir)
		a.profiles_dir = json_str_or(prev, "profiles_dir");
	a.full_refresh = json_is_true(json_object_get(prev, "full_refresh"));
	a.fail_fast = json_is_true(json_object_get(prev, "fail_fast"));
	a.empty = json_is_true(json_object_get(prev, "empty"));
	a.defer = json_is_true(json_object_get(prev, "defer"));
	a.favor_state = json_is_true(json_object_get(prev, "favor_state"));
	a.threads = threads > 0 ? threads : (int)json_integer_value(json_object_get(prev, "threads"));
	a.retry = 1;
	json_t *res = json_object_get(root, "results"), *e;
	size_t i;
	json_array_foreach(res, i, e)
	{
		const char *st = json_str_or(e, "status"), *uid = json_str_or(e, "unique_id");
		if (st && uid &&
		    (!strcmp(st, "error") || !strcmp(st, "fail") || !strcmp(st, "skipped") ||
		     !strcmp(st, "runtime error") || !strcmp(st, "partial success")))
			strvec_push(&a.retry_ids, uid);
		/* dbt retry re-runs only the failed batches of a microbatch model
		 * that built some (dbt 1.9 for run; build too since dbt 1.12) */
		json_t *br = json_object_get(e, "batch_results");
		if (uid && (a.which == W_RUN || a.which == W_BUILD) &&
		    json_array_size(json_object_get(br, "successful")) && json_array_size(json_object_get(br, "failed"))) {
			if (!a.retry_batches)
				a.retry_batches = json_object();
			json_object_set(a.retry_batches, uid, br);
		}
	}
	r = run_main(&a);
out:
	json_decref(a.retry_batches);
	json_decref(root);
	strvec_clear(&a.select);
	strvec_clear(&a.exclude);
	strvec_clear(&a.retry_ids);
	strbuf_release(&path);
	free(dir);
	return r;
}
