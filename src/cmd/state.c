/* dango state show | set | reset: the incremental state of sources (the
 * logic is in ingest/sync_state.c; this file parses and presents). */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/load_pg.h"
#include "ingest/sync_state.h"
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/lock.h"
#include "warehouse/pg_query.h"
#include "warehouse/pg_warehouse.h"
#include "warehouse/warehouse.h"

#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cmd_info state_info = {
	"state", "dango state show [SOURCE] | set SOURCE RESOURCE --cursor VALUE | reset SOURCE",
	"See, move and forget the incremental state of sources: cursors, update keys, tracked files.",
	"  dango state show [SOURCE] [--resource R] [--json]\n"
	"  dango state set SOURCE RESOURCE --cursor VALUE [-y]   # the next sync reads from VALUE\n"
	"  dango state reset SOURCE [--resource R] [--drop-data] [-y]\n"
	"Every change takes the warehouse lock (on a postgres warehouse, the source's advisory\n"
	"lock, as a sync does), commits in one transaction and is recorded in\n"
	"_dango.state_history (who, when, old and new value), which 'show' reports.",
};

/* "root (dango state set)" */
static void who_am_i(struct strbuf *sb, const char *what)
{
	const char *u = getenv("USER");
	struct passwd *pw = u && *u ? NULL : getpwuid(getuid());
	strbuf_addf(sb, "%s (%s)", u && *u ? u : pw ? pw->pw_name : "unknown", what);
}

/* The source named on the command line, or an error listing them. */
static const struct source *find_source(const struct source_list *list, const char *name)
{
	const struct source *s = sources_find(list, name);
	if (!s) {
		const char **names = sources_names(list);
		struct strbuf all = STRBUF_INIT;
		for (size_t i = 0; names[i]; i++)
			strbuf_addf(&all, "%s%s", i ? ", " : "", names[i]);
		const char *hint = did_you_mean(name, names);
		ui_error("no source named '%s'%s%s%s (sources: %s)", name, hint ? "; did you mean '" : "", hint ? hint : "",
			 hint ? "'?" : "", all.len ? all.buf : "none");
		strbuf_release(&all);
		free(names);
	}
	return s;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void print_resource(json_t *e)
{
	const char *kind = jstr(e, "kind");
	char num[32];
	printf("  resource: %s\n", jstr(e, "resource"));
	if (jstr(e, "stream"))
		printf("    stream: %s\n", jstr(e, "stream"));
	if (jstr(e, "write_disposition")) {
		json_t *pk = json_object_get(e, "primary_key");
		printf("    write_disposition: %s", jstr(e, "write_disposition"));
		for (size_t i = 0; i < json_array_size(pk); i++)
			printf("%s%s", i ? ", " : " (primary key ", json_string_value(json_array_get(pk, i)));
		printf("%s\n", json_array_size(pk) ? ")" : "");
	}
	if (!strcmp(kind, "update_key") || !strcmp(kind, "cursor")) {
		if (jstr(e, "update_key"))
			printf("    update_key: %s\n", jstr(e, "update_key"));
		const char *v = jstr(e, "last_value"), *d = jstr(e, "last_value_date");
		printf("    last_value: %s", v ? v : "(none)");
		if (d && v && strcmp(d, v) && !strchr(v, '-'))
			printf(" (%s)", d);
		printf("\n");
		if (jstr(e, "first_value"))
			printf("    first_value: %s\n", jstr(e, "first_value"));
		json_t *b = json_object_get(e, "boundary");
		if (b) {
			printf("    boundary_keys: %zu", json_array_size(b));
			for (size_t i = 0; i < json_array_size(b) && i < 5; i++)
				printf("%s%s", i ? ", " : " (", json_string_value(json_array_get(b, i)));
			printf("%s\n", json_array_size(b) > 5 ? ", ...)" : json_array_size(b) ? ")" : "");
		}
	} else if (!json_object_get(e, "files")) {
		printf("    cursor: none (every sync reads it whole)\n");
	}
	if (jstr(e, "last_load_id"))
		printf("    last_load: %s%s%s\n", jstr(e, "last_load_id"), jstr(e, "last_load_at") ? " at " : "",
		       jstr(e, "last_load_at") ? jstr(e, "last_load_at") : "");
	json_t *rows = json_object_get(e, "rows");
	if (rows)
		printf("    rows_synced: %s (rows in the table now)\n", fmt_count(num, json_integer_value(rows)));
	json_t *c = json_object_get(e, "last_change");
	if (c) {
		/* a sync after the change moved it again: say both */
		const char *upd = jstr(e, "state_updated_precise"), *at = jstr(c, "at_precise");
		printf("    last_change: %s by %s at %s", jstr(c, "action"), jstr(c, "who"), jstr(c, "at"));
		if (jstr(c, "old_value") || jstr(c, "new_value"))
			printf(" (was %s, set to %s)", jstr(c, "old_value") ? jstr(c, "old_value") : "none",
			       jstr(c, "new_value") ? jstr(c, "new_value") : "none");
		printf("\n");
		if (upd && at && strcmp(upd, at) > 0)
			printf("    moved since: by the sync of %s\n", jstr(e, "state_updated_at"));
	}
	json_t *files = json_object_get(e, "files");
	if (files) {
		printf("    files: %zu tracked\n", json_array_size(files));
		size_t i;
		json_t *f;
		json_array_foreach(files, i, f) {
			const char *h = jstr(f, "hash");
			printf("      %s  size %s  mtime %s  hash %.16s  rows %s  status %s\n", jstr(f, "path"),
			       json_integer_value(json_object_get(f, "size")) < 0 ? "-" : fmt_count(num, json_integer_value(json_object_get(f, "size"))),
			       jstr(f, "mtime") ? jstr(f, "mtime") : "-", h && *h ? h : "-",
			       fmt_count((char[32]){ 0 }, json_integer_value(json_object_get(f, "rows"))), jstr(f, "status"));
		}
	}
}

static int state_show(int argc, const char **argv)
{
	struct project p;
	struct source_list list;
	struct strvec args = STRVEC_INIT;
	struct warehouse wh;
	const char *resource = NULL;
	int as_json = 0, ret;
	const struct opt opts[] = {
		OPT_STRING('r', "resource", &resource, "R", "only this resource (table or stream)"),
		OPT_BOOL(0, "json", &as_json, "print JSON"),
		OPT_END(),
	};
	static const struct cmd_info info = { "state show", "dango state show [SOURCE] [--resource R] [--json]",
					      "Show each resource's cursor, keys, last load, rows and tracked files.", NULL };
	if ((ret = opts_parse(&info, opts, argc, argv, &args)))
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if (args.nr > 1 || (resource && !args.nr)) {
		ui_error("usage: %s", info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	if ((ret = cmd_open_project(&p)))
		goto out_args;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	if (args.nr && !find_source(&list, args.v[0])) {
		ret = EXIT_FAIL;
		goto out_list;
	}
	if ((ret = cmd_open_reader(&p, 0, &wh)))
		goto out_list;
	json_t *all = json_array();
	for (size_t i = 0; i < list.nr && !ret; i++) {
		struct strbuf err = STRBUF_INIT;
		const struct source *s = &list.items[i];
		if (args.nr && strcmp(s->name, args.v[0]))
			continue;
		json_t *d = sync_state_describe(&wh, s->name, &err);
		if (!d) {
			ui_error("%s", err.buf);
			ret = EXIT_FAIL;
		} else if (resource && !sync_state_find(d, resource)) {
			struct strbuf names = STRBUF_INIT;
			sync_state_names(d, 0, &names);
			ui_error("source '%s' has no resource '%s' with state (resources: %s)", s->name, resource, names.buf);
			strbuf_release(&names);
			ret = EXIT_FAIL;
		} else if (resource) {
			json_t *one = json_array();
			json_array_append(one, sync_state_find(d, resource));
			json_object_set_new(d, "resources", one);
		}
		if (d) {
			json_object_set_new(d, "type", json_string(s->type_name));
			json_array_append_new(all, d);
		}
		strbuf_release(&err);
	}
	if (!ret && as_json) {
		char *t = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", t);
		free(t);
	} else if (!ret) {
		size_t i;
		json_t *d;
		json_array_foreach(all, i, d) {
			json_t *res = json_object_get(d, "resources");
			printf("%sSource: %s (%s)\n", i ? "\n" : "", jstr(d, "source"), jstr(d, "type"));
			if (!json_array_size(res))
				printf("  no state yet (never synced): the next sync reads everything\n");
			for (size_t k = 0; k < json_array_size(res); k++)
				print_resource(json_array_get(res, k));
		}
	}
	json_decref(all);
	warehouse_close(&wh);
out_list:
	sources_release(&list);
out_project:
	project_release(&p);
out_args:
	strvec_clear(&args);
	return ret;
}

/* Open the writer and read the source's state; the resource must exist
 * (with a cursor when need_cursor). */
struct target {
	struct project p;
	struct source_list list;
	struct dango_lock lock;
	struct warehouse wh;
	json_t *desc, *res;
	int open;
};

/* A postgres warehouse: no file lock (a sync takes none there), but the
 * source's advisory lock on the server, which its syncs take, on the
 * connection that makes the change. */
static int open_pg_writer(struct target *t, const char *source, int wait_seconds)
{
	struct strbuf err = STRBUF_INIT;
	int wait = wait_seconds < 0 ? t->p.lock_wait : wait_seconds, r;
	if (pg_query_open(&t->wh, &t->p, WH_READ_WRITE, 0, &err) < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	r = pg_load_lock_source(t->wh.pg, &t->p, source, wait, cmd_say_waiting_for_pg, &wait, &err);
	if (r < 0) {
		ui_error("%s", err.buf);
		warehouse_close(&t->wh);
	}
	strbuf_release(&err);
	return r == -2 ? EXIT_LOCKED : r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int open_target(struct target *t, const char *command, const char *source, const char *resource,
		       int need_cursor, int wait)
{
	struct strbuf err = STRBUF_INIT;
	int ret;
	memset(t, 0, sizeof(*t));
	t->lock = (struct dango_lock)DANGO_LOCK_INIT;
	if ((ret = cmd_open_project(&t->p)))
		return ret;
	t->open = 1;
	if ((ret = cmd_load_sources(&t->p, &t->list))) {
		t->open = 0;
		project_release(&t->p);
		return ret;
	}
	t->open = 2;
	if (!find_source(&t->list, source))
		return EXIT_FAIL;
	if (pg_warehouse_enabled(&t->p))
		ret = open_pg_writer(t, source, wait);
	else
		ret = cmd_open_writer(&t->p, command, source, wait, &t->lock, &t->wh);
	if (ret)
		return ret;
	t->open = 3;
	if (!(t->desc = sync_state_describe(&t->wh, source, &err))) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	if (resource) {
		t->res = sync_state_find(t->desc, resource);
		if (!t->res || (need_cursor && !json_object_get(t->res, "last_value"))) {
			struct strbuf names = STRBUF_INIT;
			sync_state_names(t->desc, need_cursor, &names);
			if (t->res)
				ui_error("resource '%s' of source '%s' keeps no cursor (resources with one: %s)", resource,
					 source, names.buf);
			else
				ui_error("source '%s' has no resource '%s'%s (resources%s: %s)", source, resource,
					 need_cursor ? " with a cursor" : " with state", need_cursor ? " with one" : "",
					 names.buf);
			strbuf_release(&names);
			return EXIT_FAIL;
		}
	}
	return EXIT_OK;
}

static void close_target(struct target *t)
{
	json_decref(t->desc);
	if (t->open >= 3 && pg_warehouse_enabled(&t->p))
		warehouse_close(&t->wh); /* the advisory lock goes with the connection */
	else if (t->open >= 3)
		cmd_close_writer(&t->lock, &t->wh);
	if (t->open >= 2)
		sources_release(&t->list);
	if (t->open >= 1)
		project_release(&t->p);
}

/* -y, or yes on a terminal; refused without one. */
static int confirmed(int yes, const char *question)
{
	if (yes)
		return 1;
	int r = ui_confirm(question, 0);
	if (r < 0)
		ui_error("no terminal to confirm on; pass -y to go ahead");
	else if (!r)
		ui_print("Nothing changed.");
	return r > 0;
}

static int state_set(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, who = STRBUF_INIT;
	struct target t = { 0 };
	const char *cursor = NULL;
	int yes = 0, wait = -1, ret;
	const struct opt opts[] = {
		OPT_STRING(0, "cursor", &cursor, "VALUE", "the value the next sync reads from"),
		OPT_BOOL('y', "yes", &yes, "skip the confirmation (append resources)"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long for the lock (default 300)"),
		OPT_END(),
	};
	static const struct cmd_info info = { "state set", "dango state set SOURCE RESOURCE --cursor VALUE [-y]",
					      "Move a resource's cursor: the next sync reads from VALUE.", NULL };
	if ((ret = opts_parse(&info, opts, argc, argv, &args)))
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if (args.nr != 2 || !cursor) {
		ui_error("usage: %s", info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	const char *source = args.v[0], *resource = args.v[1];
	if ((ret = open_target(&t, "dango state set", source, resource, 1, wait)))
		goto out;
	if (sync_state_check_value(&t.wh, source, t.res, cursor, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	const char *old = jstr(t.res, "last_value"), *wd = jstr(t.res, "write_disposition");
	int back = old && strcmp(cursor, old) < 0;
	if (back && wd && !strcmp(wd, "append")) {
		ui_warn("%s appends (no primary key): the rows after %s that were loaded already will be appended "
			"again by the next sync", resource, cursor);
		if (!confirmed(yes, "Move the cursor back anyway?")) {
			ret = EXIT_FAIL;
			goto out;
		}
	}
	who_am_i(&who, "dango state set");
	if (sync_state_set(&t.wh, source, t.res, cursor, who.buf, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	ui_ok("%s.%s: cursor %s -> %s", source, resource, old ? old : "none", cursor);
	if (back && wd && !strcmp(wd, "merge"))
		ui_print("The next sync reads from %s again and merges on the primary key (no duplicates).", cursor);
	else if (!back)
		ui_print("The next sync reads from %s%s.", cursor, old ? " (rows before it that are not loaded yet are skipped)" : "");
	ret = EXIT_OK;
out:
	close_target(&t);
	strvec_clear(&args);
	strbuf_release(&err);
	strbuf_release(&who);
	return ret;
}

static int state_reset(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT, kept = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, who = STRBUF_INIT, q = STRBUF_INIT;
	struct target t = { 0 };
	const char *resource = NULL;
	int yes = 0, drop = 0, wait = -1, ret;
	const struct opt opts[] = {
		OPT_STRING('r', "resource", &resource, "R", "only this resource"),
		OPT_BOOL(0, "drop-data", &drop, "also drop the resources' tables"),
		OPT_BOOL('y', "yes", &yes, "skip the confirmation"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long for the lock (default 300)"),
		OPT_END(),
	};
	static const struct cmd_info info = { "state reset", "dango state reset SOURCE [--resource R] [--drop-data] [-y]",
					      "Forget the state: the next sync starts over (keeping the data, unless --drop-data).",
					      NULL };
	if ((ret = opts_parse(&info, opts, argc, argv, &args)))
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if (args.nr != 1) {
		ui_error("usage: %s", info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	const char *source = args.v[0];
	if ((ret = open_target(&t, "dango state reset", source, resource, 0, wait)))
		goto out;
	if (!json_array_size(json_object_get(t.desc, "resources"))) {
		ui_print("Source '%s' has no state yet; nothing to reset.", source);
		goto out;
	}
	strbuf_addf(&q, "Forget the state of %s%s%s%s?", resource ? resource : "every resource", resource ? " of " : " of ",
		    source, drop ? " and DROP its data" : " (the data stays; the next sync reads everything again)");
	if (!drop) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(t.desc, "resources"), i, e) {
			const char *wd = jstr(e, "write_disposition");
			if ((resource && e != t.res) || !wd || strcmp(wd, "append") || json_object_get(e, "files"))
				continue;
			ui_warn("%s appends: the next sync loads its rows again beside the ones kept (--drop-data starts it clean)",
				jstr(e, "resource"));
		}
	}
	if (!confirmed(yes, q.buf)) {
		ret = EXIT_FAIL;
		goto out;
	}
	who_am_i(&who, drop ? "dango state reset --drop-data" : "dango state reset");
	if (sync_state_reset(&t.wh, source, t.desc, t.res, drop, who.buf, &kept, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	ui_ok("State of %s%s%s forgotten%s", source, resource ? "." : "", resource ? resource : "",
	      drop ? " and its data dropped" : "");
	if (kept.nr) {
		ui_print("Views read %s, so %s emptied instead of dropped (the views are kept, rebuilt on an empty table "
			 "with the same columns, which the next sync loads):",
			 kept.nr == 1 ? "this table" : "these tables", kept.nr == 1 ? "it was" : "they were");
		for (size_t i = 0; i < kept.nr; i++)
			ui_print("  %s", kept.v[i]);
	}
	ui_print("The next 'dango sync %s' starts from the configured start (files: every file is read again once).",
		 source);
	ret = EXIT_OK;
out:
	close_target(&t);
	strvec_clear(&kept);
	strvec_clear(&args);
	strbuf_release(&err);
	strbuf_release(&who);
	strbuf_release(&q);
	return ret;
}

int cmd_state(int argc, const char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		opts_print_help(&state_info, NULL);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "show"))
		return state_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return state_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "reset"))
		return state_reset(argc - 1, argv + 1);
	static const char *const names[] = { "show", "set", "reset", NULL };
	const char *hint = did_you_mean(argv[1], names);
	ui_error("unknown subcommand 'state %s'%s%s%s", argv[1], hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
	return EXIT_USAGE;
}
