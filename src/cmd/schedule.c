/* dango schedule list|add|remove|enable|disable|next|run|history, and
 * dango scheduler (the loop in the foreground). The work is in
 * src/schedule/ and src/project/schedules.c; this file parses arguments
 * and prints. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/table.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "ingest/sync.h"
#include "project/schedules.h"
#include "schedule/history.h"
#include "schedule/scheduler.h"
#include "schedule/tz.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char schedule_details[] =
	"Subcommands:\n"
	"  list [--json]                      every schedule: type, selection, cron, next run, last run\n"
	"  add [--name N --cron C ...]        add a schedule (a wizard on a terminal without --name)\n"
	"  remove NAME | enable NAME | disable NAME\n"
	"  next NAME [--count N]              the next fire times (default 5)\n"
	"  run NAME                           run it now in the foreground, as a fired run would\n"
	"  history [NAME] [--limit N] [--json]\n"
	"Cron: five fields (minute hour day-of-month month day-of-week), @hourly @daily @weekly\n"
	"@monthly @yearly, or every_15m, every_hour, every_6h, daily (06:00), weekly (Mon 06:00).\n"
	"DANGO_NOW (an ISO 8601 time) sets \"now\" for next, list and history. See docs/scheduler.md.";

static void print_lines(const char *text, int fail)
{
	struct strbuf copy = STRBUF_INIT;
	strbuf_addstr(&copy, text);
	for (char *line = copy.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (fail)
			ui_fail("%s", line);
		else
			ui_error("%s", line);
	}
	strbuf_release(&copy);
}

struct ctx {
	struct project p;
	struct source_list sources;
	struct schedule_list list;
	char *path;
	int have_sources;
};

static int ctx_open(struct ctx *c)
{
	struct strbuf err = STRBUF_INIT;
	int ret;
	memset(c, 0, sizeof(*c));
	if ((ret = cmd_open_project(&c->p)))
		return ret;
	if ((ret = cmd_load_sources(&c->p, &c->sources))) {
		project_release(&c->p);
		return ret;
	}
	c->have_sources = 1;
	c->path = xasprintf("%s/schedules.yml", c->p.dango_dir);
	if (schedules_load(&c->list, c->path, ".dango/schedules.yml", &c->sources, &err) < 0) {
		print_lines(err.buf, 0);
		strbuf_release(&err);
		sources_release(&c->sources);
		project_release(&c->p);
		free(c->path);
		return EXIT_FAIL;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

static void ctx_close(struct ctx *c)
{
	schedules_release(&c->list);
	if (c->have_sources)
		sources_release(&c->sources);
	project_release(&c->p);
	free(c->path);
}

static int no_such_schedule(const struct schedule_list *list, const char *name)
{
	const char **names = xcalloc(list->nr + 1, sizeof(*names));
	for (size_t i = 0; i < list->nr; i++)
		names[i] = list->items[i].name;
	const char *hint = did_you_mean(name, names);
	if (hint)
		ui_error("no schedule named '%s' in .dango/schedules.yml (did you mean '%s'?)", name, hint);
	else if (!list->nr)
		ui_error("no schedule named '%s': .dango/schedules.yml has no schedules", name);
	else
		ui_error("no schedule named '%s' in .dango/schedules.yml", name);
	free(names);
	return EXIT_USAGE;
}

/* ---- list --------------------------------------------------------------------------------- */

static void cron_label(struct strbuf *sb, json_t *o)
{
	const char *preset = json_string_value(json_object_get(o, "preset"));
	const char *fields = json_string_value(json_object_get(o, "fields"));
	if (preset)
		strbuf_addf(sb, "%s (%s)", preset, fields);
	else
		strbuf_addstr(sb, fields);
	const char *zone = json_string_value(json_object_get(o, "timezone"));
	if (zone)
		strbuf_addf(sb, " %s", zone);
}

static void pad(struct strbuf *line, const char *s, size_t width)
{
	strbuf_addstr(line, s);
	size_t w = utf8_width(s);
	strbuf_addchars(line, ' ', (w < width ? width - w : 0) + 2);
}


static int schedule_list(int argc, const char **argv)
{
	static const struct cmd_info info = { "schedule list", "dango schedule list [--json]",
					      "Every schedule: type, selection, cron, next run (local time), last run, enabled.",
					      NULL };
	int as_json = 0;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = { OPT_BOOL(0, "json", &as_json, "print JSON"), OPT_END() };
	int r = opts_parse(&info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (r)
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	struct ctx c;
	if ((r = ctx_open(&c)))
		return r;
	sqlite3 *db = NULL;
	struct strbuf err = STRBUF_INIT;
	history_open_readonly(c.p.state_dir, &db, &err);
	json_t *rows = schedule_overview(&c.list, db, clock_now_sec());
	if (as_json) {
		char *text = json_dumps(rows, JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
	} else if (!c.list.nr) {
		ui_print("No schedules in .dango/schedules.yml (add one with 'dango schedule add').");
	} else {
		const char *head[] = { "NAME", "TYPE", "SELECTION", "CRON", "NEXT RUN", "LAST RUN", "ENABLED" };
		size_t n = json_array_size(rows), w[7];
		char ***cells = xcalloc(n, sizeof(*cells));
		for (int k = 0; k < 7; k++)
			w[k] = strlen(head[k]);
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_array_get(rows, i);
			const char *zone = json_string_value(json_object_get(o, "timezone"));
			struct strbuf cron = STRBUF_INIT, last = STRBUF_INIT;
			char at[48];
			cron_label(&cron, o);
			json_t *lr = json_object_get(o, "last_run");
			if (json_is_object(lr)) {
				json_int_t t = json_integer_value(json_object_get(lr, "started_at"));
				strbuf_addf(&last, "%s %s", json_string_value(json_object_get(lr, "status")),
					    schedule_format_time(at, t, zone));
			} else {
				strbuf_addstr(&last, "never");
			}
			json_t *nx = json_object_get(o, "next_run");
			cells[i] = xcalloc(7, sizeof(char *));
			cells[i][0] = xstrdup(json_string_value(json_object_get(o, "name")));
			cells[i][1] = xstrdup(json_string_value(json_object_get(o, "type")));
			cells[i][2] = xstrdup(json_string_value(json_object_get(o, "selection")));
			cells[i][3] = strbuf_detach(&cron, NULL);
			cells[i][4] = xstrdup(json_is_integer(nx) ? schedule_format_time(at, json_integer_value(nx), zone) : "-");
			cells[i][5] = strbuf_detach(&last, NULL);
			cells[i][6] = xstrdup(json_is_true(json_object_get(o, "enabled")) ? "yes" : "no");
			for (int k = 0; k < 7; k++)
				if (utf8_width(cells[i][k]) > w[k])
					w[k] = utf8_width(cells[i][k]);
		}
		struct strbuf line = STRBUF_INIT;
		for (int k = 0; k < 7; k++)
			pad(&line, head[k], k == 6 ? 0 : w[k]);
		strbuf_rtrim(&line);
		printf("%s\n", line.buf);
		for (size_t i = 0; i < n; i++) {
			strbuf_reset(&line);
			for (int k = 0; k < 7; k++) {
				pad(&line, cells[i][k], k == 6 ? 0 : w[k]);
				free(cells[i][k]);
			}
			strbuf_rtrim(&line);
			printf("%s\n", line.buf);
			free(cells[i]);
		}
		free(cells);
		strbuf_release(&line);
	}
	json_decref(rows);
	if (db)
		sqlite3_close(db);
	strbuf_release(&err);
	ctx_close(&c);
	return EXIT_OK;
}

/* ---- add / remove / enable / disable ------------------------------------------------------------ */

static void add_key(struct strbuf *e, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	strbuf_addf(e, "%s: ", key);
	yaml_add_scalar(e, value);
	strbuf_addch(e, '\n');
}

static void add_list(struct strbuf *e, const char *key, const struct strvec *v)
{
	if (!v->nr)
		return;
	strbuf_addf(e, "%s: [", key);
	for (size_t i = 0; i < v->nr; i++) {
		if (i)
			strbuf_addstr(e, ", ");
		yaml_add_scalar(e, v->v[i]);
	}
	strbuf_addstr(e, "]\n");
}

static char *ask(const char *q, const char *dflt)
{
	char *a = ui_prompt(q, dflt);
	if (a && !*a) {
		free(a);
		a = dflt ? xstrdup(dflt) : NULL;
	}
	return a;
}

static int write_change(struct ctx *c, const char *text)
{
	struct strbuf err = STRBUF_INIT;
	if (schedules_save(c->path, ".dango/schedules.yml", text, &c->sources, &err) < 0) {
		print_lines(err.buf, 0);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

static int schedule_add(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"schedule add",
		"dango schedule add [--name NAME --cron CRON] [--type sync|sync_only|dbt|script] [--sources LIST]\n"
		"                          [--timezone ZONE] [--select SEL] [--dbt-command run|build|test] [--command CMD]\n"
		"                          [--timeout-minutes N] [--retries N] [--backoff-seconds N]\n"
		"                          [--misfire-grace-time S] [--notify-on LIST] [--disabled]",
		"Add a schedule to .dango/schedules.yml (on a terminal without --name: a wizard).", schedule_details
	};
	const char *name = NULL, *type = NULL, *cron = NULL, *zone = NULL, *select = NULL, *dbtc = NULL, *command = NULL;
	int timeout = -1, retries = -1, backoff = -1, grace = -1, disabled = 0;
	struct strvec sources = STRVEC_INIT, notify = STRVEC_INIT, args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_STRING(0, "name", &name, "NAME", "lowercase snake_case, unique"),
		OPT_STRING(0, "type", &type, "TYPE", "sync (default), sync_only, dbt or script"),
		OPT_STRING(0, "cron", &cron, "CRON", "five fields, an @-form or a preset"),
		OPT_LIST(0, "sources", &sources, "LIST", "sources or source.table (comma lists)"),
		OPT_STRING(0, "timezone", &zone, "ZONE", "an IANA zone (default: the machine's)"),
		OPT_STRING(0, "select", &select, "SEL", "dbt selection (type dbt)"),
		OPT_STRING(0, "dbt-command", &dbtc, "CMD", "run (default), build or test"),
		OPT_STRING(0, "command", &command, "CMD", "the shell command (type script)"),
		OPT_INT(0, "timeout-minutes", &timeout, "N", "kill the job after N minutes"),
		OPT_INT(0, "retries", &retries, "N", "retries after a failure"),
		OPT_INT(0, "backoff-seconds", &backoff, "N", "wait before the first retry (doubles)"),
		OPT_INT(0, "misfire-grace-time", &grace, "S", "run a missed fire this late at start-up"),
		OPT_LIST(0, "notify-on", &notify, "LIST", "failure, success, stale"),
		OPT_BOOL(0, "disabled", &disabled, "add it disabled"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	char *wname = NULL, *wtype = NULL, *wcron = NULL, *wsrc = NULL, *wzone = NULL;
	struct ctx c;
	int opened = 0;
	if (r) {
		r = r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if (!name && ui.stdin_tty) {
		ui_print("A new schedule (answers go to .dango/schedules.yml).");
		name = wname = ask("Name (lowercase snake_case)", NULL);
		type = wtype = ask("Type: sync, sync_only, dbt or script", "sync");
		cron = wcron = ask("When (daily, every_hour, every_15m, '0 12,18 * * *', ...)", "daily");
		if (type && (!strcmp(type, "sync") || !strcmp(type, "sync_only"))) {
			wsrc = ask("Sources (comma list; source.table for tables; empty: all)", "");
			if (wsrc)
				strvec_push_split(&sources, wsrc);
		} else if (type && !strcmp(type, "script")) {
			command = wsrc = ask("Command", NULL);
		} else if (type && !strcmp(type, "dbt")) {
			select = wsrc = ask("dbt selection (empty: all models)", "");
		}
		zone = wzone = ask("Time zone (IANA name; empty: the machine's)", "");
	}
	if (!name || !cron) {
		ui_error("--name and --cron are needed (or run it on a terminal for the wizard)");
		r = EXIT_USAGE;
		goto out;
	}
	if ((r = ctx_open(&c)))
		goto out;
	opened = 1;
	struct strbuf entry = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT;
	add_key(&entry, "name", name);
	add_key(&entry, "type", type ? type : "sync");
	add_key(&entry, "cron", cron);
	add_list(&entry, "sources", &sources);
	add_key(&entry, "timezone", zone);
	add_key(&entry, "select", select);
	add_key(&entry, "dbt_command", dbtc);
	add_key(&entry, "command", command);
	if (timeout >= 0)
		strbuf_addf(&entry, "timeout_minutes: %d\n", timeout);
	if (retries >= 0 || backoff >= 0)
		strbuf_addf(&entry, "retries: {max: %d, backoff_seconds: %d}\n", retries >= 0 ? retries : 0,
			    backoff >= 0 ? backoff : 60);
	if (grace >= 0)
		strbuf_addf(&entry, "misfire_grace_time: %d\n", grace);
	add_list(&entry, "notify_on", &notify);
	if (disabled)
		strbuf_addstr(&entry, "enabled: false\n");
	if (schedules_find(&c.list, name)) {
		ui_error("a schedule named '%s' exists already in .dango/schedules.yml", name);
		r = EXIT_FAIL;
	} else if (schedules_text_add(&c.list, entry.buf, &text, &err) < 0) {
		ui_error("%s", err.buf);
		r = EXIT_FAIL;
	} else if ((r = write_change(&c, text.buf)) == EXIT_OK) {
		ui_ok("Schedule '%s' added to .dango/schedules.yml", name);
		ui_print("See its next runs with 'dango schedule next %s'; 'dango scheduler' runs it.", name);
	}
	strbuf_release(&entry);
	strbuf_release(&text);
	strbuf_release(&err);
out:
	if (opened)
		ctx_close(&c);
	free(wname);
	free(wtype);
	free(wcron);
	free(wsrc);
	free(wzone);
	strvec_clear(&sources);
	strvec_clear(&notify);
	strvec_clear(&args);
	return r;
}

enum edit { EDIT_REMOVE, EDIT_ENABLE, EDIT_DISABLE };

static int schedule_edit(enum edit what, int argc, const char **argv)
{
	static const struct cmd_info infos[] = {
		{ "schedule remove", "dango schedule remove NAME", "Remove a schedule from .dango/schedules.yml.", NULL },
		{ "schedule enable", "dango schedule enable NAME", "Enable a schedule.", NULL },
		{ "schedule disable", "dango schedule disable NAME", "Disable a schedule (the scheduler stops firing it).",
		  NULL },
	};
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = { OPT_END() };
	int r = opts_parse(&infos[what], opts, argc, argv, &args);
	if (r || args.nr != 1) {
		if (!r)
			ui_error("give one schedule name: %s", infos[what].usage);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct ctx c;
	if ((r = ctx_open(&c))) {
		strvec_clear(&args);
		return r;
	}
	const char *name = args.v[0];
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	if (!schedules_find(&c.list, name)) {
		r = no_such_schedule(&c.list, name);
	} else if ((what == EDIT_REMOVE ? schedules_text_remove(&c.list, name, &text, &err)
					: schedules_text_enable(&c.list, name, what == EDIT_ENABLE, &text, &err)) < 0) {
		ui_error("%s", err.buf);
		r = EXIT_FAIL;
	} else if ((r = write_change(&c, text.buf)) == EXIT_OK) {
		ui_ok("Schedule '%s' %s", name,
		      what == EDIT_REMOVE ? "removed from .dango/schedules.yml" : what == EDIT_ENABLE ? "enabled" : "disabled");
	}
	strbuf_release(&text);
	strbuf_release(&err);
	ctx_close(&c);
	strvec_clear(&args);
	return r;
}

/* ---- next ---------------------------------------------------------------------------------------- */

static int schedule_next(int argc, const char **argv)
{
	static const struct cmd_info info = { "schedule next", "dango schedule next NAME [--count N]",
					      "The next fire times of a schedule, in its time zone and in UTC.", NULL };
	int count = 5;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = { OPT_INT('n', "count", &count, "N", "how many (default 5)"), OPT_END() };
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r || args.nr != 1 || count < 1) {
		if (!r)
			ui_error(count < 1 ? "--count must be at least 1" : "give one schedule name: %s", info.usage);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct ctx c;
	if ((r = ctx_open(&c))) {
		strvec_clear(&args);
		return r;
	}
	const struct schedule *s = schedules_find(&c.list, args.v[0]);
	if (!s) {
		r = no_such_schedule(&c.list, args.v[0]);
	} else {
		struct tz tz;
		struct strbuf err = STRBUF_INIT, label = STRBUF_INIT;
		tz_load(&tz, s->timezone, &err);
		if (s->cron.preset)
			strbuf_addf(&label, "%s = %s", s->cron.preset, s->cron.fields);
		else
			strbuf_addstr(&label, s->cron.fields);
		printf("Next %d run%s of '%s' (%s, %s)%s:\n", count, count == 1 ? "" : "s", s->name, label.buf,
		       s->timezone ? s->timezone : "the machine's time zone", s->enabled ? "" : " [disabled]");
		int64_t at = clock_now_sec() - 1, next;
		for (int i = 0; i < count && cron_next(&s->cron, &tz, at, &next) == 0; i++) {
			char local[48], utc[32];
			printf("  %-26s %s\n", schedule_format_time(local, next, s->timezone),
			       clock_format_utc(utc, (time_t)next));
			at = next;
		}
		tz_release(&tz);
		strbuf_release(&err);
		strbuf_release(&label);
	}
	ctx_close(&c);
	strvec_clear(&args);
	return r;
}

/* ---- run ---------------------------------------------------------------------------------------------- */

static struct scheduler *running_scheduler;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (running_scheduler)
		scheduler_stop(running_scheduler, 0);
}

static void on_hup(int sig)
{
	(void)sig;
	if (running_scheduler)
		scheduler_reload(running_scheduler);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: a sleep ends at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
}

static void print_line(void *data, const char *line)
{
	(void)data;
	printf("%s\n", line);
	fflush(stdout);
}

static int schedule_run(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"schedule run", "dango schedule run NAME",
		"Run a schedule now, in the foreground, as a fired run would (steps, lock wait, retries,\n"
		"notifications, history with trigger 'manual'). Exits 1 if it fails.", NULL
	};
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = { OPT_END() };
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r || args.nr != 1) {
		if (!r)
			ui_error("give one schedule name: %s", info.usage);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct ctx c;
	if ((r = ctx_open(&c))) {
		strvec_clear(&args);
		return r;
	}
	if (!schedules_find(&c.list, args.v[0])) {
		r = no_such_schedule(&c.list, args.v[0]);
		ctx_close(&c);
		strvec_clear(&args);
		return r;
	}
	char *root = xstrdup(c.p.root);
	struct scheduler_opts o = { root, NULL, print_line, NULL, args.v[0] };
	struct scheduler *s;
	struct strbuf err = STRBUF_INIT;
	ctx_close(&c);
	r = scheduler_open(&s, &o, &err);
	free(root);
	if (r < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		strvec_clear(&args);
		return EXIT_FAIL;
	}
	running_scheduler = s;
	install_signals();
	scheduler_run(s);
	const char *why = NULL, *status = scheduler_outcome(s, &why);
	if (status && !strcmp(status, "success")) {
		ui_ok("Schedule '%s' succeeded", args.v[0]);
		r = EXIT_OK;
	} else {
		ui_error("schedule '%s' %s: %s", args.v[0], status ? status : "did not run", why && *why ? why : "");
		r = EXIT_FAIL;
	}
	running_scheduler = NULL;
	scheduler_close(s);
	strbuf_release(&err);
	strvec_clear(&args);
	return r;
}

/* ---- history ------------------------------------------------------------------------------------------- */

static void add_iso(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v)) {
		char buf[32];
		char *k = xasprintf("%s_iso", key);
		json_object_set_new(o, k, json_string(clock_format_utc(buf, (time_t)json_integer_value(v))));
		free(k);
	}
}

static int schedule_history(int argc, const char **argv)
{
	static const struct cmd_info info = { "schedule history", "dango schedule history [NAME] [--limit N] [--json]",
					      "Every fire of the schedules (or of one), newest first: trigger, times, status\n"
					      "(success, failed, skipped, missed, timeout, running), attempt, rows, models, error.",
					      NULL };
	int limit = 20, as_json = 0;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_INT('n', "limit", &limit, "N", "at most N rows (default 20)"),
		OPT_BOOL(0, "json", &as_json, "print JSON"),
		OPT_END(),
	};
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r || args.nr > 1 || limit < 1) {
		if (!r)
			ui_error(limit < 1 ? "--limit must be at least 1" : "at most one schedule name: %s", info.usage);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	struct ctx c;
	if ((r = ctx_open(&c))) {
		strvec_clear(&args);
		return r;
	}
	const char *name = args.nr ? args.v[0] : NULL;
	/* a removed schedule keeps its history: any name may be asked for */
	sqlite3 *db = NULL;
	struct strbuf err = STRBUF_INIT;
	int have = history_open_readonly(c.p.state_dir, &db, &err);
	if (have < 0) {
		ui_error("%s", err.buf);
		r = EXIT_FAIL;
		goto out;
	}
	json_t *rows = have == 0 ? history_list(db, name, limit) : json_array();
	size_t i;
	json_t *o;
	if (as_json) {
		json_array_foreach(rows, i, o) {
			add_iso(o, "scheduled_for");
			add_iso(o, "started_at");
			add_iso(o, "finished_at");
		}
		char *text = json_dumps(rows, JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
	} else if (!json_array_size(rows)) {
		ui_print("No runs recorded yet%s%s%s.", name ? " for '" : "", name ? name : "", name ? "'" : "");
	} else {
		printf("%-5s %-20s %-9s %-21s %-21s %-8s %-7s %6s %6s  %s\n", "ID", "SCHEDULE", "TRIGGER", "SCHEDULED",
		       "STARTED", "STATUS", "ATTEMPT", "ROWS", "MODELS", "ERROR");
		json_array_foreach(rows, i, o) {
			const char *sname = json_string_value(json_object_get(o, "schedule"));
			const struct schedule *sc = schedules_find(&c.list, sname);
			const char *zone = sc ? sc->timezone : NULL;
			char sched[48] = "-", started[48] = "-", rows_s[32] = "-", models_s[32] = "-";
			json_t *v;
			if (json_is_integer(v = json_object_get(o, "scheduled_for")))
				schedule_format_time(sched, json_integer_value(v), zone);
			if (json_is_integer(v = json_object_get(o, "started_at")))
				schedule_format_time(started, json_integer_value(v), zone);
			if (json_is_integer(v = json_object_get(o, "rows_loaded")))
				snprintf(rows_s, sizeof(rows_s), "%lld", (long long)json_integer_value(v));
			if (json_is_integer(v = json_object_get(o, "models_run")))
				snprintf(models_s, sizeof(models_s), "%lld", (long long)json_integer_value(v));
			const char *error = json_string_value(json_object_get(o, "error"));
			printf("%-5lld %-20s %-9s %-21s %-21s %-8s %-7lld %6s %6s  %s\n",
			       (long long)json_integer_value(json_object_get(o, "id")), sname,
			       json_string_value(json_object_get(o, "trigger")), sched, started,
			       json_string_value(json_object_get(o, "status")),
			       (long long)json_integer_value(json_object_get(o, "attempt")), rows_s, models_s,
			       error ? error : "");
		}
	}
	json_decref(rows);
out:
	if (db)
		sqlite3_close(db);
	strbuf_release(&err);
	ctx_close(&c);
	strvec_clear(&args);
	return r;
}

/* ---- dispatch ----------------------------------------------------------------------------------------- */

int cmd_schedule(int argc, const char **argv)
{
	static const struct cmd_info info = { "schedule", "dango schedule list|add|remove|enable|disable|next|run|history",
					      "Schedules of syncs, dbt runs and scripts (.dango/schedules.yml).",
					      schedule_details };
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		const struct opt none[] = { OPT_END() };
		opts_print_help(&info, none);
		return sub ? EXIT_OK : EXIT_USAGE;
	}
	if (!strcmp(sub, "list"))
		return schedule_list(argc - 1, argv + 1);
	if (!strcmp(sub, "add"))
		return schedule_add(argc - 1, argv + 1);
	if (!strcmp(sub, "remove"))
		return schedule_edit(EDIT_REMOVE, argc - 1, argv + 1);
	if (!strcmp(sub, "enable"))
		return schedule_edit(EDIT_ENABLE, argc - 1, argv + 1);
	if (!strcmp(sub, "disable"))
		return schedule_edit(EDIT_DISABLE, argc - 1, argv + 1);
	if (!strcmp(sub, "next"))
		return schedule_next(argc - 1, argv + 1);
	if (!strcmp(sub, "run"))
		return schedule_run(argc - 1, argv + 1);
	if (!strcmp(sub, "history"))
		return schedule_history(argc - 1, argv + 1);
	static const char *const subs[] = { "list", "add", "remove", "enable", "disable", "next", "run", "history", NULL };
	const char *hint = did_you_mean(sub, subs);
	if (hint)
		ui_error("unknown subcommand 'schedule %s' (did you mean '%s'?)", sub, hint);
	else
		ui_error("unknown subcommand 'schedule %s'", sub);
	return EXIT_USAGE;
}

int cmd_scheduler(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"scheduler", "dango scheduler",
		"Run the scheduler in the foreground (for a service manager): fires the schedules of\n"
		".dango/schedules.yml, logs to stdout and .dango/logs/scheduler.log.",
		"SIGTERM or SIGINT stops it after the running jobs (a second one kills their process\n"
		"groups, recording them failed); SIGHUP, or any change of schedules.yml or sources.yml,\n"
		"reloads (a broken file keeps the schedules loaded before). One scheduler a project.\n"
		"Exit codes: 0 stopped, 1 could not start or had to kill a job."
	};
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = { OPT_END() };
	int r = opts_parse(&info, opts, argc, argv, &args);
	if (r || args.nr) {
		if (!r)
			ui_error("unexpected argument '%s'", args.v[0]);
		strvec_clear(&args);
		return r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	strvec_clear(&args);
	struct strbuf root = STRBUF_INIT, err = STRBUF_INIT;
	if (project_find(global.project_dir, &root, &err) < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&root);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	struct scheduler_opts o = { root.buf, NULL, NULL, NULL, NULL };
	struct scheduler *s;
	/* handlers first: a signal during start-up must not kill us half-way */
	install_signals();
	if (scheduler_open(&s, &o, &err) < 0) {
		print_lines(err.buf, 0);
		strbuf_release(&root);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	running_scheduler = s;
	r = scheduler_run(s) ? EXIT_FAIL : EXIT_OK;
	running_scheduler = NULL;
	scheduler_close(s);
	strbuf_release(&root);
	strbuf_release(&err);
	return r;
}

/* ---- dango validate ------------------------------------------------------------------------------------- */

/* The tables named in schedules (source.table) must be resources of their
 * source, where the connector can tell without syncing. */
static int check_tables(const struct project *p, const struct source_list *sources, const struct schedule_list *list)
{
	int bad = 0;
	for (size_t i = 0; i < list->nr; i++) {
		const struct schedule *s = &list->items[i];
		for (size_t k = 0; k < s->sources.nr; k++) {
			const char *e = s->sources.v[k], *dot = strchr(e, '.');
			if (!dot)
				continue;
			char *src = xstrndup(e, (size_t)(dot - e));
			const struct source *so = sources_find(sources, src);
			struct sync_options opts;
			memset(&opts, 0, sizeof(opts));
			struct sync_job job;
			struct strvec known = STRVEC_INIT;
			struct strbuf err = STRBUF_INIT;
			if (so) {
				sync_job_init(&job, so, p, &opts);
				if (job.ops && job.ops->resources && (!job.ops->open || job.ops->open(&job, &err) == 0) &&
				    job.ops->resources(&job, &known, &err) == 0 && !strvec_has(&known, dot + 1)) {
					const char **names = xcalloc(known.nr + 1, sizeof(*names));
					for (size_t n = 0; n < known.nr; n++)
						names[n] = known.v[n];
					const char *hint = did_you_mean(dot + 1, names);
					ui_fail(".dango/schedules.yml:%d:%d: schedule '%s': source '%s' has no table '%s'%s%s%s",
						s->node->line, s->node->col, s->name, src, dot + 1, hint ? " (did you mean '" : "",
						hint ? hint : "", hint ? "'?)" : "");
					free(names);
					bad++;
				}
				sync_job_release(&job);
			}
			strvec_clear(&known);
			strbuf_release(&err);
			free(src);
		}
	}
	return bad;
}

void cmd_validate_schedules(const struct project *p, const struct source_list *sources, int *problems)
{
	struct schedule_list list;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	fs_path_join(&path, p->dango_dir, "schedules.yml");
	if (!fs_exists(path.buf)) {
		strbuf_release(&path);
		return;
	}
	if (schedules_load(&list, path.buf, ".dango/schedules.yml", sources, &err) < 0) {
		print_lines(err.buf, 1);
		for (const char *q = err.buf; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL)
			(*problems)++;
	} else {
		int bad = sources ? check_tables(p, sources, &list) : 0;
		*problems += bad;
		if (!bad)
			ui_ok(".dango/schedules.yml (%zu schedule%s)", list.nr, list.nr == 1 ? "" : "s");
		schedules_release(&list);
	}
	strbuf_release(&err);
	strbuf_release(&path);
}
