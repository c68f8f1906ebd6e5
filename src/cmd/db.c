/* dango db status | clean */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/table.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/backup.h"
#include "ingest/sync.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* An orphan: schema raw_X with no source X, or table raw.X with no source X. */
struct orphan {
	char *schema, *table; /* table NULL: the whole schema */
	int64_t tables, rows;
};

struct orphans {
	struct orphan *v;
	size_t nr, alloc;
};

static void orphans_release(struct orphans *o)
{
	for (size_t i = 0; i < o->nr; i++) {
		free(o->v[i].schema);
		free(o->v[i].table);
	}
	free(o->v);
}

static int find_orphans(struct warehouse *wh, const struct source_list *list, struct orphans *o)
{
	struct wh_result r;
	struct strbuf err = STRBUF_INIT;
	if (warehouse_query(wh, "SELECT table_schema, table_name, table_type FROM information_schema.tables "
				"WHERE table_catalog = current_database() AND (table_schema LIKE 'raw\\_%' ESCAPE '\\' "
				"OR table_schema = 'raw') ORDER BY 1, 2",
			    &r, &err) < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	for (size_t i = 0; i < r.rows; i++) {
		char *schema = wh_result_str(&r, i, 0), *table = wh_result_str(&r, i, 1);
		int whole = strcmp(schema, "raw") != 0;
		const char *src = whole ? schema + 4 : table;
		if (!sources_find(list, src)) {
			struct orphan *last = o->nr ? &o->v[o->nr - 1] : NULL;
			int64_t rows = warehouse_count_rows(wh, schema, table);
			if (whole && last && !last->table && !strcmp(last->schema, schema)) {
				last->tables++;
				last->rows += rows;
			} else {
				ALLOC_GROW(o->v, o->nr + 1, o->alloc);
				o->v[o->nr].schema = xstrdup(schema);
				o->v[o->nr].table = whole ? NULL : xstrdup(table);
				o->v[o->nr].tables = 1;
				o->v[o->nr++].rows = rows;
			}
		}
		free(schema);
		free(table);
	}
	wh_result_free(&r);
	/* an empty raw_X schema of a removed source is an orphan too */
	if (warehouse_query(wh, "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = "
				"current_database() AND schema_name LIKE 'raw\\_%' ESCAPE '\\' AND schema_name NOT IN "
				"(SELECT table_schema FROM information_schema.tables) ORDER BY 1",
			    &r, &err) == 0) {
		for (size_t i = 0; i < r.rows; i++) {
			char *schema = wh_result_str(&r, i, 0);
			if (!sources_find(list, schema + 4)) {
				ALLOC_GROW(o->v, o->nr + 1, o->alloc);
				o->v[o->nr].schema = schema;
				o->v[o->nr].table = NULL;
				o->v[o->nr].tables = 0;
				o->v[o->nr++].rows = 0;
			} else {
				free(schema);
			}
		}
		wh_result_free(&r);
	}
	strbuf_release(&err);
	return 0;
}

static void describe_orphan(struct strbuf *sb, const struct orphan *o)
{
	char n[32];
	if (o->table)
		strbuf_addf(sb, "%s.%s (%s %s)", o->schema, o->table, fmt_count(n, o->rows), plural(o->rows, "row", "rows"));
	else
		strbuf_addf(sb, "%s (%lld %s, %s %s)", o->schema, (long long)o->tables, plural(o->tables, "table", "tables"),
			    fmt_count(n, o->rows), plural(o->rows, "row", "rows"));
}

/* ---- anomaly backups (src/ingest/backup.h names them) ---------------------- */

struct backup {
	char *schema, *name, *table; /* raw_x, _dango_backup_..., the table it backs up */
	time_t taken;
	int64_t rows;
};

struct backups {
	struct backup *v;
	size_t nr, alloc;
};

static void backups_release(struct backups *b)
{
	for (size_t i = 0; i < b->nr; i++) {
		free(b->v[i].schema);
		free(b->v[i].name);
		free(b->v[i].table);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Every backup in the raw schemas, oldest first. */
static int find_backups(struct warehouse *wh, struct backups *out, struct strbuf *err)
{
	struct wh_result r;
	if (warehouse_query(wh, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = "
				"current_database() AND table_type = 'BASE TABLE' AND (table_schema LIKE 'raw\\_%' "
				"ESCAPE '\\' OR table_schema = 'raw') ORDER BY 1, 2",
			    &r, err) < 0)
		return -1;
	for (size_t i = 0; i < r.rows; i++) {
		char *schema = wh_result_str(&r, i, 0), *name = wh_result_str(&r, i, 1);
		struct strbuf table = STRBUF_INIT;
		time_t when = 0;
		if (schema && name && sync_backup_parse(name, &table, &when)) {
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			struct backup *b = &out->v[out->nr++];
			b->schema = schema;
			b->name = name;
			b->table = strbuf_detach(&table, NULL);
			b->taken = when;
			b->rows = warehouse_count_rows(wh, schema, name);
		} else {
			free(schema);
			free(name);
			strbuf_release(&table);
		}
	}
	wh_result_free(&r);
	/* oldest first */
	for (size_t i = 1; i < out->nr; i++)
		for (size_t k = i; k > 0 && out->v[k - 1].taken > out->v[k].taken; k--) {
			struct backup t = out->v[k];
			out->v[k] = out->v[k - 1];
			out->v[k - 1] = t;
		}
	return 0;
}

static void print_backups(const struct backups *b)
{
	struct text_table t;
	text_table_init(&t, 4);
	text_table_header(&t, 0, "backup", NULL, 0);
	text_table_header(&t, 1, "of table", NULL, 0);
	text_table_header(&t, 2, "taken (UTC)", NULL, 0);
	text_table_header(&t, 3, "rows", NULL, 1);
	for (size_t i = 0; i < b->nr; i++) {
		char when[32], n[32];
		struct tm tm;
		struct strbuf full = STRBUF_INIT, of = STRBUF_INIT;
		gmtime_r(&b->v[i].taken, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		strbuf_addf(&full, "%s.%s", b->v[i].schema, b->v[i].name);
		strbuf_addf(&of, "%s.%s", b->v[i].schema, b->v[i].table);
		const char *cells[4] = { full.buf, of.buf, when, fmt_count(n, b->v[i].rows) };
		text_table_add_row(&t, cells);
		strbuf_release(&full);
		strbuf_release(&of);
	}
	text_table_print(&t, stdout, 0);
	text_table_release(&t);
}

/* --older-than 7d | 12h | 2w | 0d -> seconds; -1 if malformed. */
static long parse_age(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || n < 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'h': return n * 3600;
	case 'd': return n * 86400;
	case 'w': return n * 7 * 86400;
	default: return -1;
	}
}

/* "Warehouse: data/warehouse.duckdb (1.5 MB)", or the server and its database's size */
static void print_where(const struct project *p, struct warehouse *wh)
{
	char size[32], wal[32];
	if (wh->pg) {
		struct strbuf err = STRBUF_INIT;
		int64_t bytes = 0;
		warehouse_query_int(wh, "SELECT pg_database_size(current_database())", &bytes, &err);
		printf("Warehouse: %s (%s)\n\n", wh->path, fmt_bytes(size, (uint64_t)bytes));
		strbuf_release(&err);
		return;
	}
	struct stat st;
	struct strbuf rel = STRBUF_INIT, walpath = STRBUF_INIT;
	project_relpath(&rel, p, p->warehouse_path);
	stat(p->warehouse_path, &st);
	fmt_bytes(size, (uint64_t)st.st_size);
	strbuf_addf(&walpath, "%s.wal", p->warehouse_path);
	printf("Warehouse: %s (%s", rel.buf, size);
	if (stat(walpath.buf, &st) == 0 && st.st_size > 0)
		printf(", %s in the write-ahead log", fmt_bytes(wal, (uint64_t)st.st_size));
	printf(")\n\n");
	strbuf_release(&rel);
	strbuf_release(&walpath);
}

static const struct cmd_info status_info = {
	"db status", "dango db status [--all] [--wait SECONDS]",
	"Show the warehouse: schemas, tables, rows, file size, and orphaned raw tables.", NULL,
};

static int db_status(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct source_list list;
	struct warehouse wh;
	struct orphans orph = { 0 };
	int wait = -1, all = 0, ret;
	const struct opt opts[] = {
		OPT_BOOL(0, "all", &all, "also list metadata tables (_dlt_*, _dango_*)"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long while a writer has the warehouse"),
		OPT_END(),
	};
	ret = opts_parse(&status_info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if ((ret = cmd_open_project(&p)))
		return ret;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	if ((ret = cmd_open_reader(&p, wait, &wh)))
		goto out_sources;

	print_where(&p, &wh);

	struct wh_result r;
	struct strbuf err = STRBUF_INIT;
	if (warehouse_query(&wh, "SELECT table_schema, table_name, CASE table_type WHEN 'BASE TABLE' THEN 'table' "
				 "WHEN 'VIEW' THEN 'view' ELSE lower(table_type) END FROM information_schema.tables "
				 "WHERE table_catalog = current_database() "
				 "AND table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2",
			    &r, &err) < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		ret = EXIT_FAIL;
		goto out;
	}
	struct text_table t;
	text_table_init(&t, 4);
	text_table_header(&t, 0, "schema", NULL, 0);
	text_table_header(&t, 1, "table", NULL, 0);
	text_table_header(&t, 2, "type", NULL, 0);
	text_table_header(&t, 3, "rows", NULL, 1);
	int64_t total = 0;
	size_t shown = 0, hidden = 0;
	for (size_t i = 0; i < r.rows; i++) {
		char *cells[4] = { wh_result_str(&r, i, 0), wh_result_str(&r, i, 1), wh_result_str(&r, i, 2), NULL };
		if (sync_backup_parse(cells[1], NULL, NULL)) {
			/* listed on their own below */
			for (int k = 0; k < 3; k++)
				free(cells[k]);
			continue;
		}
		if (!all && (!strcmp(cells[0], "_dango") || sync_is_meta_name(cells[1]))) {
			/* Dango's and dlt's bookkeeping: there, but not what users look for */
			hidden++;
			for (int k = 0; k < 3; k++)
				free(cells[k]);
			continue;
		}
		shown++;
		char n[32];
		int64_t rows = -1;
		struct strbuf e2 = STRBUF_INIT;
		if (!strcmp(cells[2], "table")) {
			rows = warehouse_count_rows(&wh, cells[0], cells[1]);
			total += rows;
			cells[3] = xstrdup(fmt_count(n, rows));
		} else {
			cells[3] = xstrdup("");
		}
		text_table_add_row(&t, (const char *const *)cells);
		for (int k = 0; k < 4; k++)
			free(cells[k]);
		strbuf_release(&e2);
	}
	if (shown) {
		text_table_print(&t, stdout, 0);
		char n[32];
		printf("%zu %s, %s %s in tables", shown, plural((int64_t)shown, "table or view", "tables and views"),
		       fmt_count(n, total), plural(total, "row", "rows"));
		if (hidden)
			printf(" (%zu metadata %s not shown: --all lists them)", hidden,
			       plural((int64_t)hidden, "table", "tables"));
		printf("\n");
	} else {
		printf("The warehouse holds no tables yet. Run 'dango sync' to load data.\n");
	}
	text_table_release(&t);
	wh_result_free(&r);

	struct backups bk = { 0 };
	if (find_backups(&wh, &bk, &err) == 0 && bk.nr) {
		printf("\nBackups kept by full refreshes that loaded under half the rows:\n");
		print_backups(&bk);
		printf("'dango db restore BACKUP' puts one back; 'dango db clean' removes those older than 7 days.\n");
	}
	backups_release(&bk);
	strbuf_reset(&err);
	if (find_orphans(&wh, &list, &orph) == 0 && orph.nr) {
		printf("\n%s Orphaned raw data (no source of that name in .dango/sources.yml):\n", ui_mark_warn());
		for (size_t i = 0; i < orph.nr; i++) {
			struct strbuf sb = STRBUF_INIT;
			describe_orphan(&sb, &orph.v[i]);
			printf("  %s\n", sb.buf);
			strbuf_release(&sb);
		}
		printf("Run 'dango db clean' to remove them.\n");
	}
	ret = EXIT_OK;
	strbuf_release(&err);
out:
	orphans_release(&orph);
	warehouse_close(&wh);
out_sources:
	sources_release(&list);
out_project:
	project_release(&p);
	return ret;
}

static const struct cmd_info clean_info = {
	"db clean", "dango db clean [--older-than AGE] [-y] [--wait SECONDS]",
	"Drop orphaned raw data: raw_<name> schemas (and raw.<name> tables) whose source is no\n"
	"longer in .dango/sources.yml, with the staging files dango generate made for them (those\n"
	"not edited since); and full-refresh backups older than AGE (default 7d; 12h, 7d, 2w;\n"
	"0d drops every backup). Asks first unless -y.", NULL,
};

static int db_clean(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct source_list list;
	struct warehouse wh;
	struct dango_lock lock = DANGO_LOCK_INIT;
	struct orphans orph = { 0 };
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	struct backups bk = { 0 }, old = { 0 };
	const char *older_than = "7d";
	int yes = 0, wait = -1, ret;
	const struct opt opts[] = {
		OPT_STRING(0, "older-than", &older_than, "AGE", "drop backups older than this (default 7d)"),
		OPT_BOOL('y', "yes", &yes, "skip the confirmation"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long for the lock (default 300)"),
		OPT_END(),
	};
	ret = opts_parse(&clean_info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	long max_age = parse_age(older_than);
	if (max_age < 0) {
		ui_error("--older-than expects an age like 12h, 7d or 2w, not '%s'", older_than);
		return EXIT_USAGE;
	}
	if ((ret = cmd_open_project(&p)))
		return ret;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	if ((ret = cmd_open_writer(&p, "dango db clean", "", wait, &lock, &wh)))
		goto out_sources;
	if (find_orphans(&wh, &list, &orph) < 0 || find_backups(&wh, &bk, &err) < 0) {
		if (err.len)
			ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	/* backups inside an orphaned schema go with it */
	time_t now = time(NULL);
	for (size_t i = 0; i < bk.nr; i++) {
		int in_orphan = 0;
		for (size_t k = 0; k < orph.nr; k++)
			in_orphan |= !orph.v[k].table && !strcmp(orph.v[k].schema, bk.v[i].schema);
		if (in_orphan || now - bk.v[i].taken < max_age) {
			continue;
		}
		ALLOC_GROW(old.v, old.nr + 1, old.alloc);
		old.v[old.nr] = bk.v[i];
		old.v[old.nr].schema = xstrdup(bk.v[i].schema);
		old.v[old.nr].name = xstrdup(bk.v[i].name);
		old.v[old.nr++].table = xstrdup(bk.v[i].table);
	}
	if (!orph.nr)
		ui_ok("No orphaned raw data: every raw schema belongs to a source.");
	if (!old.nr && bk.nr)
		ui_print("%zu %s kept: none older than %s.", bk.nr, plural((int64_t)bk.nr, "backup", "backups"), older_than);
	if (!orph.nr && !old.nr)
		goto out;
	if (orph.nr)
		printf("These have no source in .dango/sources.yml and will be dropped:\n");
	for (size_t i = 0; i < orph.nr; i++) {
		struct strbuf sb = STRBUF_INIT;
		describe_orphan(&sb, &orph.v[i]);
		printf("  - %s\n", sb.buf);
		strbuf_release(&sb);
	}
	if (old.nr)
		printf("These backups are older than %s and will be dropped:\n", older_than);
	for (size_t i = 0; i < old.nr; i++) {
		char n[32];
		printf("  - %s.%s (of %s, %s %s)\n", old.v[i].schema, old.v[i].name, old.v[i].table,
		       fmt_count(n, old.v[i].rows), plural(old.v[i].rows, "row", "rows"));
	}
	if (!cmd_confirm("Drop them?", yes)) {
		ui_print("Nothing dropped.");
		ret = EXIT_FAIL;
		goto out;
	}
	ret = EXIT_OK;
	strbuf_addstr(&sql, "BEGIN TRANSACTION;\n");
	for (size_t i = 0; i < orph.nr; i++) {
		if (orph.v[i].table) {
			strbuf_addstr(&sql, "DROP TABLE ");
			strbuf_add_sql_ident(&sql, orph.v[i].schema);
			strbuf_addch(&sql, '.');
			strbuf_add_sql_ident(&sql, orph.v[i].table);
		} else {
			strbuf_addstr(&sql, "DROP SCHEMA ");
			strbuf_add_sql_ident(&sql, orph.v[i].schema);
			strbuf_addstr(&sql, " CASCADE");
		}
		strbuf_addstr(&sql, ";\n");
	}
	for (size_t i = 0; i < old.nr; i++) {
		strbuf_addstr(&sql, "DROP TABLE ");
		strbuf_add_sql_ident(&sql, old.v[i].schema);
		strbuf_addch(&sql, '.');
		strbuf_add_sql_ident(&sql, old.v[i].name);
		strbuf_addstr(&sql, ";\n");
	}
	strbuf_addstr(&sql, "COMMIT;");
	if (warehouse_exec(&wh, sql.buf, &err) < 0) {
		warehouse_rollback(&wh);
		ui_error("nothing was dropped: %s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (orph.nr)
		ui_ok("Dropped %zu orphaned %s.", orph.nr, plural((int64_t)orph.nr, "item", "items"));
	/* the staging files generated for those sources would make dango run fail */
	for (size_t i = 0; i < orph.nr; i++)
		if (!orph.v[i].table && cmd_remove_generated(&p, orph.v[i].schema + 4, yes) != EXIT_OK)
			ret = EXIT_FAIL;
	if (old.nr)
		ui_ok("Dropped %zu %s older than %s.", old.nr, plural((int64_t)old.nr, "backup", "backups"), older_than);
out:
	backups_release(&bk);
	backups_release(&old);
	orphans_release(&orph);
	cmd_close_writer(&lock, &wh);
out_sources:
	sources_release(&list);
out_project:
	project_release(&p);
	strbuf_release(&sql);
	strbuf_release(&err);
	return ret;
}

static const struct cmd_info backups_info = {
	"db backups", "dango db backups [--wait SECONDS]",
	"List the backups that full refreshes kept (a refresh that loaded under half the rows\n"
	"keeps the old table, in the source's schema, as _dango_backup_<UTC time>__<table>).", NULL,
};

static int db_backups(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct warehouse wh;
	struct backups bk = { 0 };
	struct strbuf err = STRBUF_INIT;
	int wait = -1, ret;
	const struct opt opts[] = {
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long while a writer has the warehouse"),
		OPT_END(),
	};
	ret = opts_parse(&backups_info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if ((ret = cmd_open_project(&p)))
		return ret;
	if ((ret = cmd_open_reader(&p, wait, &wh)))
		goto out_project;
	if (find_backups(&wh, &bk, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
	} else if (!bk.nr) {
		printf("No backups: no full refresh has replaced a table with under half its rows.\n");
	} else {
		print_backups(&bk);
		printf("'dango db restore BACKUP' puts one back; 'dango db clean --older-than AGE' drops old ones.\n");
	}
	backups_release(&bk);
	warehouse_close(&wh);
out_project:
	project_release(&p);
	strbuf_release(&err);
	return ret;
}

static const struct cmd_info restore_info = {
	"db restore", "dango db restore BACKUP [-y] [--wait SECONDS]",
	"Put a backup (see 'dango db backups') back in place of its table. The table it\n"
	"replaces is kept as a new backup, so a restore can itself be undone. The source's\n"
	"incremental state (files, cursors) stays that of its last sync. Asks first unless -y.", NULL,
};

/* BACKUP as "raw_x._dango_backup_..." or the bare backup name. */
static const struct backup *find_named_backup(const struct backups *bk, const char *name)
{
	const struct backup *found = NULL;
	for (size_t i = 0; i < bk->nr; i++) {
		struct strbuf full = STRBUF_INIT;
		strbuf_addf(&full, "%s.%s", bk->v[i].schema, bk->v[i].name);
		if (!strcmp(full.buf, name) || !strcmp(bk->v[i].name, name))
			found = &bk->v[i];
		strbuf_release(&full);
	}
	return found;
}

static int db_restore(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct warehouse wh;
	struct dango_lock lock = DANGO_LOCK_INIT;
	struct backups bk = { 0 };
	struct strbuf err = STRBUF_INIT, sql = STRBUF_INIT, q = STRBUF_INIT, keep = STRBUF_INIT;
	int yes = 0, wait = -1, ret;
	const struct opt opts[] = {
		OPT_BOOL('y', "yes", &yes, "skip the confirmation"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long for the lock (default 300)"),
		OPT_END(),
	};
	ret = opts_parse(&restore_info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr != 1) {
		ui_error("name one backup to restore; usage: %s ('dango db backups' lists them)", restore_info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	if ((ret = cmd_open_project(&p))) {
		strvec_clear(&args);
		return ret;
	}
	if ((ret = cmd_open_writer(&p, "dango db restore", "", wait, &lock, &wh)))
		goto out_project;
	if (find_backups(&wh, &bk, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	const struct backup *b = find_named_backup(&bk, args.v[0]);
	if (!b) {
		const char **names = xcalloc(bk.nr + 1, sizeof(*names));
		for (size_t i = 0; i < bk.nr; i++)
			names[i] = bk.v[i].name;
		const char *bare = strchr(args.v[0], '.') ? strchr(args.v[0], '.') + 1 : args.v[0];
		const char *hint = did_you_mean(bare, names);
		ui_error("no backup named '%s'%s%s%s ('dango db backups' lists them)", args.v[0],
			 hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		free(names);
		ret = EXIT_USAGE;
		goto out;
	}
	char n1[32], n2[32], stamp[16];
	int has_current = warehouse_has_table(&wh, b->schema, b->table);
	int64_t current = has_current ? warehouse_count_rows(&wh, b->schema, b->table) : 0;
	sync_backup_stamp(stamp);
	sync_backup_name(&keep, b->table, stamp, 0);
	for (int k = 2; warehouse_has_table(&wh, b->schema, keep.buf); k++) {
		strbuf_reset(&keep);
		sync_backup_name(&keep, b->table, stamp, k);
	}
	if (has_current)
		strbuf_addf(&q, "Replace %s.%s (%s %s) with %s (%s %s)? The current table is kept as %s.%s.", b->schema,
			    b->table, fmt_count(n1, current), plural(current, "row", "rows"), b->name,
			    fmt_count(n2, b->rows), plural(b->rows, "row", "rows"), b->schema, keep.buf);
	else
		strbuf_addf(&q, "Restore %s.%s (%s %s) from %s?", b->schema, b->table, fmt_count(n2, b->rows),
			    plural(b->rows, "row", "rows"), b->name);
	if (!cmd_confirm(q.buf, yes)) {
		ui_print("Nothing changed.");
		ret = EXIT_FAIL;
		goto out;
	}
	strbuf_addstr(&sql, "BEGIN TRANSACTION;\n");
	if (has_current) {
		strbuf_addstr(&sql, "ALTER TABLE ");
		strbuf_add_sql_ident(&sql, b->schema);
		strbuf_addch(&sql, '.');
		strbuf_add_sql_ident(&sql, b->table);
		strbuf_addstr(&sql, " RENAME TO ");
		strbuf_add_sql_ident(&sql, keep.buf);
		strbuf_addstr(&sql, ";\n");
	}
	strbuf_addstr(&sql, "ALTER TABLE ");
	strbuf_add_sql_ident(&sql, b->schema);
	strbuf_addch(&sql, '.');
	strbuf_add_sql_ident(&sql, b->name);
	strbuf_addstr(&sql, " RENAME TO ");
	strbuf_add_sql_ident(&sql, b->table);
	strbuf_addstr(&sql, ";\nCOMMIT;");
	if (warehouse_exec(&wh, sql.buf, &err) < 0) {
		warehouse_rollback(&wh);
		ui_error("nothing was restored: %s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	ui_ok("Restored %s.%s from %s (%s %s)", b->schema, b->table, b->name, fmt_count(n2, b->rows),
	      plural(b->rows, "row", "rows"));
	if (has_current)
		ui_print("The table it replaced is kept as %s.%s.", b->schema, keep.buf);
	ui_print("Note: the source's incremental state is that of its last sync; 'dango sync' goes on from there.");
	ret = EXIT_OK;
out:
	backups_release(&bk);
	cmd_close_writer(&lock, &wh);
out_project:
	project_release(&p);
	strvec_clear(&args);
	strbuf_release(&err);
	strbuf_release(&sql);
	strbuf_release(&q);
	strbuf_release(&keep);
	return ret;
}

static const struct cmd_info db_info = {
	"db", "dango db <status|backups|restore|clean> [options]", "Inspect and tidy the warehouse.",
	"Subcommands:\n"
	"  status    schemas, tables, rows, file size, backups and orphaned raw data\n"
	"  backups   the tables full refreshes kept (they loaded under half the rows)\n"
	"  restore   put a backup back in place of its table (asks first)\n"
	"  clean     drop orphaned raw data, and backups older than --older-than (default 7d)",
};

int cmd_db(int argc, const char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		opts_print_help(&db_info, NULL);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "status"))
		return db_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "clean"))
		return db_clean(argc - 1, argv + 1);
	if (!strcmp(argv[1], "backups"))
		return db_backups(argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return db_restore(argc - 1, argv + 1);
	static const char *const names[] = { "status", "backups", "restore", "clean", NULL };
	const char *hint = did_you_mean(argv[1], names);
	ui_error("unknown subcommand 'db %s'%s%s%s", argv[1], hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
	return EXIT_USAGE;
}
