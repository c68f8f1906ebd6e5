#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/fs.h"
#include "core/strvec.h"
#include "generate/generate.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "sources/preset.h"
#include "project/profiles.h"
#include "warehouse/pg_query.h"
#include "warehouse/pg_warehouse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_open_project(struct project *p)
{
	struct strbuf root = STRBUF_INIT, err = STRBUF_INIT;
	int ret = EXIT_OK;
	if (project_find(global.project_dir, &root, &err) < 0 || project_load(p, root.buf, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
	} else {
		/* the project's own API presets (.dango/presets/NAME.yml) */
		struct strbuf dir = STRBUF_INIT;
		strbuf_addf(&dir, "%s/presets", p->dango_dir);
		preset_set_user_dir(dir.buf);
		strbuf_release(&dir);
	}
	strbuf_release(&root);
	strbuf_release(&err);
	return ret;
}

int cmd_load_sources(const struct project *p, struct source_list *list)
{
	struct strbuf err = STRBUF_INIT;
	int ret = EXIT_OK;
	if (sources_load(list, p->sources_path, ".dango/sources.yml", &err) < 0) {
		ui_error("invalid configuration:\n%s", err.buf);
		ret = EXIT_FAIL;
	}
	strbuf_release(&err);
	return ret;
}

static void say_waiting_for_file(const char *why, void *data)
{
	int wait = *(int *)data;
	ui_print("⏳ %c%s. Waiting for it to close (up to %d seconds)...", toupper((unsigned char)*why), why + 1,
		 wait);
}

int cmd_open_writer(const struct project *p, const char *command, const char *source, int wait_seconds,
		    struct dango_lock *lock, struct warehouse *wh)
{
	struct strbuf err = STRBUF_INIT;
	int wait = wait_seconds < 0 ? p->lock_wait : wait_seconds;
	int r = lock_acquire(lock, p->state_dir, command, source, wait, &err);
	if (r < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return r == LOCK_TIMEOUT ? EXIT_LOCKED : EXIT_FAIL;
	}
	if (pg_warehouse_enabled(p)) {
		/* the lock keeps Dango's writers in turn; PostgreSQL serves readers meanwhile */
		if (pg_query_open(wh, p, WH_READ_WRITE, 0, &err) < 0) {
			ui_error("%s", err.buf);
			lock_release(lock);
			strbuf_release(&err);
			return EXIT_FAIL;
		}
		strbuf_release(&err);
		return EXIT_OK;
	}
	/* the lock keeps other Dango writers out; a reader (dango query, a duckdb
	 * shell) may still have the file open, which DuckDB does not allow */
	r = warehouse_open_wait(wh, p->warehouse_path, WH_READ_WRITE, wait, say_waiting_for_file, &wait, &err);
	if (r < 0) {
		if (r == WH_LOCKED)
			strbuf_addstr(&err, "; close the other program (a 'dango query' prompt or a duckdb shell) and retry");
		ui_error("%s", err.buf);
		lock_release(lock);
		strbuf_release(&err);
		return r == WH_LOCKED ? EXIT_LOCKED : EXIT_FAIL;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

void cmd_close_writer(struct dango_lock *lock, struct warehouse *wh)
{
	warehouse_close(wh);
	lock_release(lock);
}

void cmd_say_waiting_for_pg(const char *why, void *data)
{
	ui_print("Waiting: %s (up to %d s)...", why, *(int *)data);
}

int cmd_open_pg_reader(const struct project *p, int timeout_s, struct warehouse *wh)
{
	struct strbuf err = STRBUF_INIT;
	int r = pg_query_open(wh, p, WH_READ_ONLY, timeout_s, &err);
	if (r < 0)
		ui_error("%s", err.buf);
	strbuf_release(&err);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_sync_profiles(const struct project *p)
{
	struct strbuf note = STRBUF_INIT, err = STRBUF_INIT;
	int r = profiles_sync(p, &note, &err);
	if (r < 0)
		ui_error("%s", err.buf);
	else if (r > 0)
		ui_print("%s", note.buf);
	profiles_export_env(p);
	strbuf_release(&note);
	strbuf_release(&err);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_refuse_postgres(const struct project *p, const char *command)
{
	if (!pg_warehouse_enabled(p))
		return 0;
	ui_error("'%s' does not support a postgres warehouse yet (project.yml warehouse: {type: postgres}); "
		 "it works on a duckdb warehouse only", command);
	return 1;
}

int cmd_open_reader(const struct project *p, int wait_seconds, struct warehouse *wh)
{
	struct strbuf err = STRBUF_INIT;
	if (pg_warehouse_enabled(p))
		return cmd_open_pg_reader(p, p->pg.statement_timeout, wh);
	if (!fs_exists(p->warehouse_path)) {
		ui_error("no warehouse at '%s' yet; run 'dango init' or 'dango sync' first", p->warehouse_path);
		return EXIT_FAIL;
	}
	int wait = wait_seconds < 0 ? 0 : wait_seconds;
	int r = warehouse_open_wait(wh, p->warehouse_path, WH_READ_ONLY, wait, say_waiting_for_file, &wait, &err);
	if (r == WH_LOCKED) {
		struct lock_holder h;
		struct strbuf who = STRBUF_INIT;
		if (lock_probe(p->state_dir, &h) == 1) {
			lock_describe(&who, &h);
			ui_error("the warehouse is being written by %s.\n"
				 "DuckDB lets no other process open the file while one writes it; "
				 "retry when it finishes, or pass --wait SECONDS to wait for it.", who.buf);
		} else {
			ui_error("%s.\nDuckDB lets no other process open the file while one writes it; "
				 "close that program, or pass --wait SECONDS to wait for it.", err.buf);
		}
		strbuf_release(&who);
		strbuf_release(&err);
		return EXIT_LOCKED;
	}
	if (r < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

void cmd_no_such_source(const struct source_list *list, const char *name)
{
	const char **names = sources_names(list);
	const char *hint = did_you_mean(name, names);
	ui_error("no source named '%s' in .dango/sources.yml%s%s%s", name, hint ? " (did you mean '" : "",
		 hint ? hint : "", hint ? "'?)" : "");
	free(names);
}

int cmd_confirm(const char *question, int yes)
{
	if (yes)
		return 1;
	int r = ui_confirm(question, 0);
	if (r < 0) {
		ui_error("refusing to proceed without confirmation: no terminal to ask on (pass -y/--yes)");
		return 0;
	}
	return r;
}

/* The staging files dango generate wrote for a removed source would make
 * dango run fail: offer to remove those not edited since; edited ones stay,
 * with a note. */
int cmd_remove_generated(const struct project *p, const char *name, int yes)
{
	struct strvec ours = STRVEC_INIT, edited = STRVEC_INIT;
	struct strbuf dir = STRBUF_INIT, q = STRBUF_INIT;
	int ret = EXIT_OK;
	fs_path_join(&dir, p->dbt_dir, "models/staging");
	if (gen_source_files(dir.buf, name, &ours, &edited) < 0) {
		ui_warn("cannot read dbt/models/staging: %s", strerror(errno));
		goto out;
	}
	if (ours.nr) {
		ui_print("dango generate made these for '%s' (unedited):", name);
		for (size_t i = 0; i < ours.nr; i++)
			ui_print("  dbt/models/staging/%s", ours.v[i]);
		strbuf_addf(&q, "Remove %s too?", plural((int64_t)ours.nr, "it", "them"));
		if (cmd_confirm(q.buf, yes)) {
			size_t removed = 0;
			for (size_t i = 0; i < ours.nr; i++) {
				struct strbuf path = STRBUF_INIT;
				fs_path_join(&path, dir.buf, ours.v[i]);
				if (unlink(path.buf) == 0) {
					removed++;
				} else {
					ui_error("cannot remove 'dbt/models/staging/%s': %s", ours.v[i], strerror(errno));
					ret = EXIT_FAIL;
				}
				strbuf_release(&path);
			}
			ui_ok("Removed %zu generated staging %s", removed, plural((int64_t)removed, "file", "files"));
		} else {
			ui_print("Kept them; 'dango run' fails on models whose source is gone ('dango validate' lists them).");
		}
	}
	for (size_t i = 0; i < edited.nr; i++)
		ui_warn("kept dbt/models/staging/%s: edited by hand, and it reads source '%s', which is gone "
			"(delete or change it)", edited.v[i], name);
out:
	strvec_clear(&ours);
	strvec_clear(&edited);
	strbuf_release(&dir);
	strbuf_release(&q);
	return ret;
}
