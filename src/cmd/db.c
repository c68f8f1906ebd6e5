/* dango db status | clean */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/table.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/sync.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

	struct stat st;
	char size[32], wal[32];
	struct strbuf rel = STRBUF_INIT, walpath = STRBUF_INIT;
	project_relpath(&rel, &p, p.warehouse_path);
	stat(p.warehouse_path, &st);
	fmt_bytes(size, (uint64_t)st.st_size);
	strbuf_addf(&walpath, "%s.wal", p.warehouse_path);
	printf("Warehouse: %s (%s", rel.buf, size);
	if (stat(walpath.buf, &st) == 0 && st.st_size > 0)
		printf(", %s in the write-ahead log", fmt_bytes(wal, (uint64_t)st.st_size));
	printf(")\n\n");
	strbuf_release(&rel);
	strbuf_release(&walpath);

	struct wh_result r;
	struct strbuf err = STRBUF_INIT;
	if (warehouse_query(&wh, "SELECT table_schema, table_name, CASE table_type WHEN 'BASE TABLE' THEN 'table' "
				 "WHEN 'VIEW' THEN 'view' ELSE lower(table_type) END FROM information_schema.tables "
				 "WHERE table_catalog = current_database() ORDER BY 1, 2",
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
	strbuf_release(&err);

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
	"db clean", "dango db clean [-y] [--wait SECONDS]",
	"Drop orphaned raw data: raw_<name> schemas (and raw.<name> tables) whose source is no\n"
	"longer in .dango/sources.yml. Asks first unless -y.", NULL,
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
	int yes = 0, wait = -1, ret;
	const struct opt opts[] = {
		OPT_BOOL('y', "yes", &yes, "skip the confirmation"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long for the lock (default 300)"),
		OPT_END(),
	};
	ret = opts_parse(&clean_info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if ((ret = cmd_open_project(&p)))
		return ret;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	if ((ret = cmd_open_writer(&p, "dango db clean", "", wait, &lock, &wh)))
		goto out_sources;
	if (find_orphans(&wh, &list, &orph) < 0) {
		ret = EXIT_FAIL;
		goto out;
	}
	if (!orph.nr) {
		ui_ok("No orphaned raw data: every raw schema belongs to a source.");
		goto out;
	}
	printf("These have no source in .dango/sources.yml and will be dropped:\n");
	for (size_t i = 0; i < orph.nr; i++) {
		struct strbuf sb = STRBUF_INIT;
		describe_orphan(&sb, &orph.v[i]);
		printf("  - %s\n", sb.buf);
		strbuf_release(&sb);
	}
	if (!cmd_confirm("Drop them?", yes)) {
		ui_print("Nothing dropped.");
		ret = EXIT_FAIL;
		goto out;
	}
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
	strbuf_addstr(&sql, "COMMIT;");
	if (warehouse_exec(&wh, sql.buf, &err) < 0) {
		warehouse_rollback(&wh);
		ui_error("nothing was dropped: %s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	ui_ok("Dropped %zu orphaned item%s.", orph.nr, orph.nr == 1 ? "" : "s");
	ret = EXIT_OK;
out:
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

static const struct cmd_info db_info = {
	"db", "dango db <status|clean> [options]", "Inspect and tidy the warehouse.",
	"Subcommands:\n"
	"  status   schemas, tables, rows, file size and orphaned raw data\n"
	"  clean    drop orphaned raw data (asks first)",
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
	static const char *const names[] = { "status", "clean", NULL };
	const char *hint = did_you_mean(argv[1], names);
	ui_error("unknown subcommand 'db %s'%s%s%s", argv[1], hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
	return EXIT_USAGE;
}
