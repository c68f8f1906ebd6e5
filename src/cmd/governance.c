/* dango governance drift-report | accept | baseline, and the drift checks
 * dango run, build and validate make (src/governance/ does the work). */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "governance/governance.h"
#include "state/opsdb.h"
#include "transform/dbt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cmd_info gov_info = {
	"governance", "dango governance <drift-report|accept|baseline> [options]",
	"Schema drift: what changed in the sources' raw tables since their baseline.",
	"Subcommands:\n"
	"  drift-report [SOURCE] [--all] [--json]  open drift per source and table, the dbt models\n"
	"                                          depending on it, and how to resolve it\n"
	"  accept SOURCE [--table T]               the current schema becomes the baseline\n"
	"  baseline SOURCE [--json]                the stored baseline schema\n"
	"Breaking drift (a column removed, a type changed) skips the dbt models downstream of\n"
	"the source in dango run and build until accepted; new columns are recorded only.\n"
	"Exit codes: drift-report 1 when breaking drift is open, 0 otherwise; 2 usage.",
};

/* The project, its dbt graph when it can be read (NULL otherwise). */
static struct dbt_project *load_dbt(const struct project *p, struct strbuf *why)
{
	struct dbt_project *dp = xcalloc(1, sizeof(*dp));
	struct dbt_load_opts lo = { 0 };
	lo.project_dir = p->dbt_dir;
	lo.profiles_dir = p->dango_dir;
	lo.profiles_base = p->root;
	if (dbt_project_load(dp, &lo, why) < 0 || dbt_graph_build(dp, why) < 0) {
		dbt_project_release(dp);
		free(dp);
		return NULL;
	}
	return dp;
}

static void free_dbt(struct dbt_project *dp)
{
	if (dp) {
		dbt_project_release(dp);
		free(dp);
	}
}

/* "source:shop_db+" for each dbt source reading raw_<source>. */
static void run_selector(struct strbuf *sb, const struct dbt_project *dp, const char *source)
{
	struct strvec names = STRVEC_INIT;
	for (size_t i = 0; dp && i < dp->nr; i++) {
		const struct dbt_node *n = dp->nodes[i];
		struct strvec ids = STRVEC_INIT;
		if (n->kind == NODE_SOURCE && n->source_name && !strvec_has(&names, n->source_name)) {
			governance_source_nodes(dp, source, &ids);
			if (strvec_has(&ids, n->unique_id))
				strvec_push(&names, n->source_name);
		}
		strvec_clear(&ids);
	}
	strbuf_addstr(sb, "dango run");
	for (size_t i = 0; i < names.nr; i++)
		strbuf_addf(sb, "%s source:%s+", i ? "" : " --select", names.v[i]);
	strvec_clear(&names);
}

static const char *change_text(struct strbuf *sb, const struct drift_event *e)
{
	strbuf_reset(sb);
	if (!strcmp(e->kind, "type_changed"))
		strbuf_addf(sb, "type changed %s -> %s", e->old_type, e->new_type);
	else if (!strcmp(e->kind, "column_removed"))
		strbuf_addf(sb, "removed (was %s)", e->old_type);
	else
		strbuf_addf(sb, "added (%s)", e->new_type);
	return sb->buf;
}

/* One source's part of the text report. */
static void report_source(const char *source, const struct drift_events *ev, size_t from, size_t to,
			  const struct dbt_project *dp, const char *dbt_why)
{
	struct strbuf sb = STRBUF_INIT, ch = STRBUF_INIT;
	size_t nbreak = 0, width = 0, cwidth = 0;
	for (size_t i = from; i < to; i++) {
		nbreak += ev->v[i].breaking && !strcmp(ev->v[i].status, "open");
		size_t w = strlen(ev->v[i].table) + 1 + strlen(ev->v[i].column);
		if (w > width)
			width = w;
		w = strlen(change_text(&ch, &ev->v[i]));
		if (w > cwidth)
			cwidth = w;
	}
	ui_print("%s: %zu breaking %s open", source, nbreak, nbreak == 1 ? "change" : "changes");
	for (size_t i = from; i < to; i++) {
		const struct drift_event *e = &ev->v[i];
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s.%s", e->table, e->column);
		const char *label = !strcmp(e->status, "accepted") ? "accepted"
				    : e->breaking		     ? "breaking"
								     : "additive";
		ui_print("  %-8s  %-*s  %-*s  since %s (load %s)", label, (int)width, sb.buf, (int)cwidth,
			 change_text(&ch, e), e->first_seen, e->load_id ? e->load_id : "?");
		if (!strcmp(e->status, "accepted"))
			ui_print("            accepted by %s at %s", e->accepted_by ? e->accepted_by : "?",
				 e->accepted_at ? e->accepted_at : "?");
	}
	if (nbreak) {
		struct strvec models = STRVEC_INIT;
		if (dp) {
			governance_downstream_models(dp, source, 0, &models);
			strbuf_reset(&sb);
			for (size_t i = 0; i < models.nr; i++)
				strbuf_addf(&sb, "%s%s", i ? ", " : "", models.v[i]);
			if (models.nr)
				ui_print("  dbt models depending on it (%zu, skipped by dango run until accepted): %s", models.nr,
					 sb.buf);
			else
				ui_print("  dbt models depending on it: none");
		} else {
			ui_print("  dbt models depending on it: unknown (the dbt project could not be read: %s)", dbt_why);
		}
		strbuf_reset(&sb);
		run_selector(&sb, dp, source);
		ui_print("  To resolve: update the models for the new schema, then accept it and rebuild:");
		ui_print("    dango governance accept %s", source);
		ui_print("    %s", sb.buf);
		strvec_clear(&models);
	}
	strbuf_release(&sb);
	strbuf_release(&ch);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *source_json(const char *source, const struct drift_events *ev, size_t from, size_t to,
			   const struct dbt_project *dp)
{
	json_t *o = json_object(), *events = json_array(), *models = json_array();
	int breaking = 0;
	for (size_t i = from; i < to; i++) {
		const struct drift_event *e = &ev->v[i];
		json_t *j = json_object();
		json_object_set_new(j, "table", jstr(e->table));
		json_object_set_new(j, "column", jstr(e->column));
		json_object_set_new(j, "change", jstr(e->kind));
		json_object_set_new(j, "old_type", jstr(e->old_type));
		json_object_set_new(j, "new_type", jstr(e->new_type));
		json_object_set_new(j, "breaking", json_boolean(e->breaking));
		json_object_set_new(j, "status", jstr(e->status));
		json_object_set_new(j, "first_seen", jstr(e->first_seen));
		json_object_set_new(j, "first_load_id", jstr(e->load_id));
		json_object_set_new(j, "last_seen", jstr(e->last_seen));
		json_object_set_new(j, "last_load_id", jstr(e->last_load_id));
		json_object_set_new(j, "accepted_by", jstr(e->accepted_by));
		json_object_set_new(j, "accepted_at", jstr(e->accepted_at));
		json_array_append_new(events, j);
		breaking |= e->breaking && !strcmp(e->status, "open");
	}
	struct strvec names = STRVEC_INIT;
	if (dp)
		governance_downstream_models(dp, source, 0, &names);
	for (size_t i = 0; i < names.nr; i++)
		json_array_append_new(models, json_string(names.v[i]));
	strvec_clear(&names);
	json_object_set_new(o, "source", json_string(source));
	json_object_set_new(o, "breaking", json_boolean(breaking));
	json_object_set_new(o, "events", events);
	json_object_set_new(o, "downstream_models", dp ? models : (json_decref(models), json_null()));
	json_t *resolve = json_array();
	if (breaking) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "dango governance accept %s", source);
		json_array_append_new(resolve, json_string(sb.buf));
		strbuf_reset(&sb);
		run_selector(&sb, dp, source);
		json_array_append_new(resolve, json_string(sb.buf));
		strbuf_release(&sb);
	}
	json_object_set_new(o, "resolve", resolve);
	return o;
}

static int known_source(const struct project *p, const char *name, const struct drift_events *ev)
{
	struct source_list list;
	for (size_t i = 0; i < ev->nr; i++)
		if (!strcmp(ev->v[i].source, name))
			return 1;
	if (cmd_load_sources(p, &list) != EXIT_OK)
		return 0;
	int found = sources_find(&list, name) != NULL;
	if (!found)
		cmd_no_such_source(&list, name);
	sources_release(&list);
	return found;
}

static int drift_report(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"governance drift-report", "dango governance drift-report [SOURCE] [--all] [--json]",
		"Open schema drift per source and table: what changed, since when, the dbt models\n"
		"depending on it, and the two commands that resolve it.",
		"--all adds accepted changes (with who accepted them and when).\n"
		"Exit codes: 1 when breaking drift is open, 0 otherwise, 2 usage.",
	};
	int all = 0, as_json = 0, ret;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_BOOL(0, "all", &all, "include accepted changes"),
		OPT_BOOL(0, "json", &as_json, "print JSON"),
		OPT_END(),
	};
	ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr > 1) {
		ui_error("drift-report takes at most one source, not '%s'", args.v[1]);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	const char *source = args.nr ? args.v[0] : NULL;
	struct project p;
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	struct dbt_project *dp = NULL;
	if ((ret = cmd_open_project(&p)))
		goto out_args;
	if (governance_read_drift(p.state_dir, source, all, &ev, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (source && !known_source(&p, source, &ev)) {
		ret = EXIT_USAGE;
		goto out;
	}
	int breaking = 0;
	for (size_t i = 0; i < ev.nr; i++)
		breaking |= ev.v[i].breaking && !strcmp(ev.v[i].status, "open");
	if (ev.nr)
		dp = load_dbt(&p, &why);
	if (as_json) {
		json_t *root = json_object(), *sources = json_array();
		for (size_t from = 0, to; from < ev.nr; from = to) {
			for (to = from + 1; to < ev.nr && !strcmp(ev.v[to].source, ev.v[from].source); to++)
				;
			json_array_append_new(sources, source_json(ev.v[from].source, &ev, from, to, dp));
		}
		json_object_set_new(root, "breaking", json_boolean(breaking));
		json_object_set_new(root, "sources", sources);
		char *text = json_dumps(root, JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
		json_decref(root);
	} else if (!ev.nr) {
		if (source)
			ui_print("No %sschema drift for %s: its raw tables match their baseline.", all ? "" : "open ", source);
		else
			ui_print("No %sschema drift: every raw table matches its baseline.", all ? "" : "open ");
	} else {
		for (size_t from = 0, to; from < ev.nr; from = to) {
			for (to = from + 1; to < ev.nr && !strcmp(ev.v[to].source, ev.v[from].source); to++)
				;
			if (from)
				ui_print("%s", "");
			report_source(ev.v[from].source, &ev, from, to, dp, why.buf);
		}
	}
	ret = breaking ? EXIT_FAIL : EXIT_OK;
out:
	free_dbt(dp);
	drift_events_release(&ev);
	project_release(&p);
out_args:
	strbuf_release(&err);
	strbuf_release(&why);
	strvec_clear(&args);
	return ret;
}

static int accept(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"governance accept", "dango governance accept SOURCE [--table TABLE]",
		"Make the current schema of SOURCE's raw tables (or of one table) the baseline and\n"
		"mark their open drift accepted (who and when are recorded). The models downstream run\n"
		"again with the next dango run.",
		NULL,
	};
	const char *table = NULL;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_STRING(0, "table", &table, "TABLE", "accept the drift of this table only"),
		OPT_END(),
	};
	int ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr != 1) {
		ui_error(args.nr ? "accept takes one source, not '%s'" : "accept needs a source: dango governance accept SOURCE%s",
			 args.nr ? args.v[1] : "");
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	const char *source = args.v[0];
	struct project p;
	struct strbuf err = STRBUF_INIT, who = STRBUF_INIT;
	struct drift_events ev = DRIFT_EVENTS_INIT;
	int nr = 0;
	if ((ret = cmd_open_project(&p)))
		goto out_args;
	if (governance_read_drift(p.state_dir, source, 0, &ev, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (!known_source(&p, source, &ev)) {
		ret = EXIT_USAGE;
		goto out;
	}
	governance_user(&who);
	if (governance_accept(p.state_dir, source, table, who.buf, &nr, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	struct strbuf desc = STRBUF_INIT;
	struct drift_events mine = DRIFT_EVENTS_INIT;
	for (size_t i = 0; i < ev.nr; i++)
		if (!table || !strcmp(ev.v[i].table, table)) {
			ALLOC_GROW(mine.v, mine.nr + 1, mine.alloc);
			mine.v[mine.nr++] = ev.v[i];
		}
	drift_describe_breaking(&desc, &mine, source);
	free(mine.v); /* borrowed entries: ev owns them */
	if (!nr)
		ui_ok("No open drift for %s%s%s; its baseline is its current schema.", source, table ? "." : "",
		      table ? table : "");
	else
		ui_ok("Accepted %d schema %s of %s%s%s%s%s (by %s): the current schema is the baseline", nr,
		      nr == 1 ? "change" : "changes", source, table ? "." : "", table ? table : "",
		      desc.len ? ": " : "", desc.buf, who.buf);
	if (nr && desc.len)
		ui_print("Models downstream of %s run again with the next 'dango run'.", source);
	strbuf_release(&desc);
	ret = EXIT_OK;
out:
	drift_events_release(&ev);
	project_release(&p);
out_args:
	strbuf_release(&err);
	strbuf_release(&who);
	strvec_clear(&args);
	return ret;
}

static int baseline(int argc, const char **argv)
{
	static const struct cmd_info info = {
		"governance baseline", "dango governance baseline SOURCE [--json]",
		"Show the baseline schema of SOURCE's raw tables: what drift is measured against.", NULL,
	};
	int as_json = 0;
	struct strvec args = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_BOOL(0, "json", &as_json, "print JSON"),
		OPT_END(),
	};
	int ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr != 1) {
		ui_error("baseline needs one source: dango governance baseline SOURCE");
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	const char *source = args.v[0];
	struct project p;
	struct strbuf err = STRBUF_INIT;
	struct drift_schema s = DRIFT_SCHEMA_INIT;
	struct drift_events none = DRIFT_EVENTS_INIT;
	struct strvec tables = STRVEC_INIT;
	sqlite3 *db = NULL;
	if ((ret = cmd_open_project(&p)))
		goto out_args;
	if (!known_source(&p, source, &none)) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (opsdb_open_readonly(p.state_dir, &db, &err) < 0 && err.len) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (db && (drift_read_tables(db, source, &tables, &err) < 0 || drift_read_schema(db, source, 0, &s, &err) < 0)) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	ret = EXIT_OK;
	if (as_json) {
		json_t *root = json_object(), *jt = json_array();
		for (size_t t = 0; t < tables.nr; t++) {
			char *f[3], *copy = xstrdup(tables.v[t]), *save = NULL;
			f[0] = strtok_r(copy, "\t", &save);
			f[1] = strtok_r(NULL, "\t", &save);
			f[2] = strtok_r(NULL, "\t", &save);
			json_t *o = json_object(), *cols = json_array();
			json_object_set_new(o, "table", jstr(f[0]));
			json_object_set_new(o, "set_at", jstr(f[1]));
			json_object_set_new(o, "set_by", jstr(f[2]));
			for (size_t i = 0; i < s.nr; i++)
				if (!strcmp(s.v[i].table, f[0]))
					json_array_append_new(cols, json_pack("{s:s, s:s}", "name", s.v[i].column, "type",
									      s.v[i].type));
			json_object_set_new(o, "columns", cols);
			json_array_append_new(jt, o);
			free(copy);
		}
		json_object_set_new(root, "source", json_string(source));
		json_object_set_new(root, "tables", jt);
		char *text = json_dumps(root, JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
		json_decref(root);
		goto out;
	}
	if (!tables.nr) {
		ui_print("No baseline for %s yet: the next successful sync records one.", source);
		goto out;
	}
	ui_print("Baseline schema of %s:", source);
	for (size_t t = 0; t < tables.nr; t++) {
		const char *tab = tables.v[t], *t1 = strchr(tab, '\t'), *t2 = strchr(t1 + 1, '\t');
		size_t width = 0;
		ui_print("  %.*s (set %.*s, %s)", (int)(t1 - tab), tab, (int)(t2 - t1 - 1), t1 + 1, t2 + 1);
		for (size_t i = 0; i < s.nr; i++)
			if (!strncmp(s.v[i].table, tab, (size_t)(t1 - tab)) && !s.v[i].table[t1 - tab] &&
			    strlen(s.v[i].column) > width)
				width = strlen(s.v[i].column);
		for (size_t i = 0; i < s.nr; i++)
			if (!strncmp(s.v[i].table, tab, (size_t)(t1 - tab)) && !s.v[i].table[t1 - tab])
				ui_print("    %-*s  %s", (int)width, s.v[i].column, s.v[i].type);
	}
out:
	opsdb_close(db);
	strvec_clear(&tables);
	drift_schema_release(&s);
	project_release(&p);
out_args:
	strbuf_release(&err);
	strvec_clear(&args);
	return ret;
}

int cmd_governance(int argc, const char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		opts_print_help(&gov_info, NULL);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "drift-report"))
		return drift_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "accept"))
		return accept(argc - 1, argv + 1);
	if (!strcmp(argv[1], "baseline"))
		return baseline(argc - 1, argv + 1);
	static const char *const names[] = { "drift-report", "accept", "baseline", NULL };
	const char *hint = did_you_mean(argv[1], names);
	ui_error("unknown subcommand 'governance %s'%s%s%s", argv[1], hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
	return EXIT_USAGE;
}

/* ---- for dango run, build and validate ------------------------------------------------- */

void cmd_drift_preskip(const struct project *p, const struct dbt_project *dp, int ignore, struct strvec *ids,
		       struct strvec *reasons, void (*print)(const char *fmt, ...))
{
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strvec blocked = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT, reason = STRBUF_INIT;
	if (governance_read_drift(p->state_dir, NULL, 0, &ev, &err) < 0) {
		ui_warn("cannot read the schema drift records (%s): models downstream of drift are not held back",
			err.buf);
		goto out;
	}
	for (size_t i = 0; i < ev.nr; i++)
		if (ev.v[i].breaking && !strvec_has(&blocked, ev.v[i].source))
			strvec_push(&blocked, ev.v[i].source);
	for (size_t s = 0; s < blocked.nr; s++) {
		const char *src = blocked.v[s];
		struct strvec models = STRVEC_INIT, nodes = STRVEC_INIT;
		governance_downstream_models(dp, src, 1, &models);
		governance_source_nodes(dp, src, &nodes);
		strbuf_reset(&line);
		strbuf_reset(&reason);
		if (models.nr && ignore) {
			drift_describe_breaking(&reason, &ev, src);
			print("--ignore-drift: running %zu %s downstream of %s despite breaking schema drift (%s)", models.nr,
			      models.nr == 1 ? "model" : "models", src, reason.buf);
		} else if (models.nr) {
			governance_skip_line(&line, src, models.nr, &ev);
			print("%s", line.buf);
			governance_skip_reason(&reason, src, &ev);
			for (size_t i = 0; i < nodes.nr; i++) {
				strvec_push(ids, nodes.v[i]);
				strvec_push(reasons, reason.buf);
			}
		}
		strvec_clear(&models);
		strvec_clear(&nodes);
	}
out:
	drift_events_release(&ev);
	strvec_clear(&blocked);
	strbuf_release(&err);
	strbuf_release(&line);
	strbuf_release(&reason);
}

int cmd_drift_validate(const struct project *p)
{
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strvec blocked = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	if (governance_read_drift(p->state_dir, NULL, 0, &ev, &err) < 0) {
		ui_warn("schema drift: cannot read the records: %s", err.buf);
		goto out;
	}
	for (size_t i = 0; i < ev.nr; i++)
		if (ev.v[i].breaking && !strvec_has(&blocked, ev.v[i].source))
			strvec_push(&blocked, ev.v[i].source);
	for (size_t s = 0; s < blocked.nr; s++) {
		strbuf_reset(&sb);
		drift_describe_breaking(&sb, &ev, blocked.v[s]);
		ui_warn("source '%s': breaking schema drift (%s); dango run skips the models downstream. Review: dango "
			"governance drift-report %s. Accept: dango governance accept %s",
			blocked.v[s], sb.buf, blocked.v[s], blocked.v[s]);
	}
out:
	drift_events_release(&ev);
	strbuf_release(&err);
	strbuf_release(&sb);
	int n = (int)blocked.nr;
	strvec_clear(&blocked);
	return n;
}
