/* dango query ["SQL"]: run SQL against the warehouse and print the result. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/table.h"
#include "core/ui.h"
#include "core/xalloc.h"
#include "warehouse/pg_warehouse.h"

#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cmd_info info = {
	"query", "dango query [\"SQL\"] [--csv | --json] [--write] [--wait SECONDS]\n                   [--max-rows N] [--timeout SECONDS]",
	"Run SQL against the warehouse. Without SQL: read it from standard input, or open\n"
	"an interactive prompt on a terminal (.tables lists tables, .quit leaves). Several\n"
	"statements (separated by ';') print one result each, in order.",
	"By default the warehouse is opened read-only, and the query reads the warehouse and\n"
	"nothing else: files and folders outside it (COPY ... TO, EXPORT DATABASE, ATTACH,\n"
	"read_csv, read_text, glob) are refused, and settings (SET, RESET) cannot change.\n"
	"--write takes the single-writer lock as every writer does and opens the warehouse for\n"
	"writing, with DuckDB's full access: COPY ... TO/FROM files, read_csv, ATTACH and SET\n"
	"work as in a duckdb shell, on any file you may write (a COPY or EXPORT that names the\n"
	"warehouse file itself is refused). While a writer (dango sync, dango run) has the file\n"
	"open, DuckDB lets no other process open it: --wait SECONDS waits for it.\n"
	"On a postgres warehouse (project.yml warehouse: {type: postgres}) a read-only query\n"
	"runs in a read-only transaction (PostgreSQL refuses writes) with a statement timeout\n"
	"(--timeout SECONDS, default warehouse.statement_timeout or 300), and never waits for a\n"
	"writer; --write runs each statement in its own transaction.",
};

enum format { FMT_BOX, FMT_CSV, FMT_JSON };

static void print_csv_field(FILE *fp, const char *v)
{
	if (!v)
		return;
	if (!strpbrk(v, ",\"\n\r")) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}

static void print_csv(struct wh_result *r)
{
	struct strbuf v = STRBUF_INIT;
	for (size_t c = 0; c < r->cols; c++) {
		if (c)
			putchar(',');
		print_csv_field(stdout, wh_result_name(r, c));
	}
	putchar('\n');
	for (size_t i = 0; i < r->rows; i++) {
		for (size_t c = 0; c < r->cols; c++) {
			if (c)
				putchar(',');
			if (wh_result_is_null(r, i, c))
				continue;
			strbuf_reset(&v);
			wh_result_add_text(r, i, c, &v);
			print_csv_field(stdout, v.buf);
		}
		putchar('\n');
	}
	strbuf_release(&v);
}

static void print_json(struct wh_result *r)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '[');
	for (size_t i = 0; i < r->rows; i++) {
		strbuf_addstr(&sb, i ? ",\n {" : "{");
		for (size_t c = 0; c < r->cols; c++) {
			if (c)
				strbuf_addstr(&sb, ", ");
			strbuf_add_json_str(&sb, wh_result_name(r, c));
			strbuf_addstr(&sb, ": ");
			wh_result_add_json(r, i, c, &sb);
		}
		strbuf_addch(&sb, '}');
		if (sb.len > 65536) {
			fputs(sb.buf, stdout);
			strbuf_reset(&sb);
		}
	}
	strbuf_addstr(&sb, "]\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

static void print_box(struct wh_result *r, size_t max_rows)
{
	struct text_table t;
	text_table_init(&t, r->cols);
	for (size_t c = 0; c < r->cols; c++)
		text_table_header(&t, c, wh_result_name(r, c), wh_result_type_name(r, c), wh_result_is_numeric(r, c));
	char **row = xcalloc(r->cols ? r->cols : 1, sizeof(*row));
	for (size_t i = 0; i < r->rows; i++) {
		for (size_t c = 0; c < r->cols; c++)
			row[c] = wh_result_str(r, i, c);
		text_table_add_row(&t, (const char *const *)row);
		for (size_t c = 0; c < r->cols; c++)
			free(row[c]);
	}
	free(row);
	text_table_print(&t, stdout, max_rows);
	text_table_release(&t);
}

struct printing {
	enum format fmt;
	size_t max_rows;
};

/* One statement's result; as in the duckdb CLI, statements without rows (CREATE,
 * SET, BEGIN) and the counts of INSERT, UPDATE and DELETE print nothing. */
static int print_result(struct wh_result *r, void *data)
{
	const struct printing *pr = data;
	if (!r->cols || wh_result_is_status(r))
		return 0;
	if (pr->fmt == FMT_CSV)
		print_csv(r);
	else if (pr->fmt == FMT_JSON)
		print_json(r);
	else
		print_box(r, pr->max_rows);
	fflush(stdout);
	return 0;
}

/* Every statement of sql, each one's result printed as the duckdb CLI does. */
static int run_sql(struct warehouse *wh, const char *sql, enum format fmt, size_t max_rows)
{
	struct strbuf err = STRBUF_INIT;
	struct printing pr = { fmt, max_rows };
	if (warehouse_query_each(wh, sql, print_result, &pr, &err) < 0) {
		if (wh->mode == WH_READ_ONLY && strstr(err.buf, "read-only"))
			strbuf_addstr(&err, "\n(the warehouse is opened read-only: pass --write to change it)");
		else if (wh->mode == WH_READ_ONLY && strstr(err.buf, "disabled by configuration"))
			strbuf_addstr(&err, "\n(a read-only query reads the warehouse and nothing else: "
					    "pass --write to read or write other files)");
		else if (wh->mode == WH_READ_ONLY && strstr(err.buf, "configuration has been locked"))
			strbuf_addstr(&err, "\n(settings cannot be changed in a read-only query)");
		else if (wh->pg && strstr(err.buf, "statement timeout"))
			strbuf_addf(&err, "\n(a read-only query on the postgres warehouse stops after %d seconds: "
				    "--timeout SECONDS, or warehouse.statement_timeout in project.yml)", wh->pg_timeout);
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

/* A read-only query reads the warehouse and nothing else (DESIGN.md, Security defaults). */
static int lock_down(struct warehouse *wh)
{
	struct strbuf err = STRBUF_INIT;
	if (warehouse_lock_down(wh, &err) < 0) {
		ui_error("%s", err.buf);
		strbuf_release(&err);
		warehouse_close(wh);
		return EXIT_FAIL;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

static int interactive(struct warehouse *wh, const struct project *p, size_t max_rows)
{
	struct strbuf stmt = STRBUF_INIT, hist = STRBUF_INIT;
	int ret = EXIT_OK;
	fs_path_join(&hist, p->state_dir, "query_history");
	using_history();
	read_history(hist.buf);
	printf("Connected to %s%s. End statements with ';'. .tables lists tables, .quit leaves.\n",
	       wh->path, wh->mode == WH_READ_ONLY ? " (read-only)" : "");
	for (;;) {
		char *line = readline(stmt.len ? "   ...> " : "dango> ");
		if (!line) {
			putchar('\n');
			break;
		}
		const char *l = line;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!stmt.len && *l == '.') {
			add_history(line);
			if (!strncmp(l, ".quit", 5) || !strncmp(l, ".exit", 5)) {
				free(line);
				break;
			}
			if (!strncmp(l, ".tables", 7))
				run_sql(wh, "SELECT table_schema AS schema, table_name AS name, table_type AS type "
					    "FROM information_schema.tables "
					    "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2",
				FMT_BOX, 0);
			else
				printf("unknown command '%s' (.tables, .quit)\n", l);
			free(line);
			continue;
		}
		if (stmt.len)
			strbuf_addch(&stmt, '\n');
		strbuf_addstr(&stmt, line);
		free(line);
		strbuf_rtrim(&stmt);
		if (stmt.len && stmt.buf[stmt.len - 1] == ';') {
			add_history(stmt.buf);
			ret = run_sql(wh, stmt.buf, FMT_BOX, max_rows);
			strbuf_reset(&stmt);
		}
	}
	write_history(hist.buf);
	strbuf_release(&stmt);
	strbuf_release(&hist);
	return ret;
}

int cmd_query(int argc, const char **argv)
{
	int csv = 0, json = 0, write = 0, wait = -1, max_rows = 40, timeout = -1, ret;
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct warehouse wh;
	struct dango_lock lock = DANGO_LOCK_INIT;
	struct strbuf sql = STRBUF_INIT;
	const struct opt opts[] = {
		OPT_BOOL(0, "csv", &csv, "print CSV"),
		OPT_BOOL(0, "json", &json, "print a JSON array of objects"),
		OPT_BOOL(0, "write", &write, "open for writing (takes the single-writer lock)"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long for the lock or the file"),
		OPT_INT(0, "max-rows", &max_rows, "N", "rows shown in a table (0: all; default 40)"),
		OPT_INT(0, "timeout", &timeout, "SECONDS",
			"postgres warehouse: stop a read-only statement after this long (0: never)"),
		OPT_END(),
	};
	ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (csv && json) {
		ui_error("--csv and --json cannot be combined");
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	enum format fmt = csv ? FMT_CSV : json ? FMT_JSON : FMT_BOX;
	if ((ret = cmd_open_project(&p))) {
		strvec_clear(&args);
		return ret;
	}
	if (timeout >= 0 && !pg_warehouse_enabled(&p)) {
		ui_error("--timeout is for a postgres warehouse (project.yml warehouse: {type: postgres})");
		ret = EXIT_USAGE;
		goto out;
	}
	if (timeout >= 0 && write) {
		ui_error("--timeout bounds read-only queries; --write runs without a statement timeout");
		ret = EXIT_USAGE;
		goto out;
	}
	if (write)
		ret = cmd_open_writer(&p, "dango query", "", wait, &lock, &wh);
	else if (pg_warehouse_enabled(&p))
		ret = cmd_open_pg_reader(&p, timeout >= 0 ? timeout : p.pg.statement_timeout, &wh);
	else if (!(ret = cmd_open_reader(&p, wait, &wh)))
		ret = lock_down(&wh);
	if (ret)
		goto out;

	if (args.nr) {
		for (size_t i = 0; i < args.nr; i++)
			strbuf_addf(&sql, "%s%s", i ? " " : "", args.v[i]);
		ret = run_sql(&wh, sql.buf, fmt, fmt == FMT_BOX ? (size_t)max_rows : 0);
	} else if (ui.stdin_tty) {
		ret = interactive(&wh, &p, (size_t)max_rows);
	} else {
		if (strbuf_read_file(&sql, "-") < 0) {
			ui_error("cannot read SQL from standard input");
			ret = EXIT_FAIL;
		} else {
			strbuf_trim(&sql);
			ret = sql.len ? run_sql(&wh, sql.buf, fmt, fmt == FMT_BOX ? (size_t)max_rows : 0) : EXIT_OK;
		}
	}
	if (write)
		cmd_close_writer(&lock, &wh);
	else
		warehouse_close(&wh);
out:
	project_release(&p);
	strvec_clear(&args);
	strbuf_release(&sql);
	return ret;
}
