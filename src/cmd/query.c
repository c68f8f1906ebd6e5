/* dango query ["SQL"]: run SQL against the warehouse and print the result. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/table.h"
#include "core/ui.h"
#include "core/xalloc.h"

#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct cmd_info info = {
	"query", "dango query [\"SQL\"] [--csv | --json] [--write] [--wait SECONDS]",
	"Run SQL against the warehouse. Without SQL: read it from standard input, or open\n"
	"an interactive prompt on a terminal (.tables lists tables, .quit leaves).",
	"The warehouse is opened read-only unless --write, which takes the single-writer lock\n"
	"as every writer does. While a writer (dango sync, dango run) has the file open, DuckDB\n"
	"lets no other process open it: --wait SECONDS waits for it.",
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

static void print_result(struct wh_result *r, enum format fmt, size_t max_rows)
{
	if (fmt == FMT_CSV) {
		for (size_t c = 0; c < r->cols; c++) {
			if (c)
				putchar(',');
			print_csv_field(stdout, wh_result_name(r, c));
		}
		putchar('\n');
		for (size_t i = 0; i < r->rows; i++) {
			for (size_t c = 0; c < r->cols; c++) {
				char *v = wh_result_str(r, i, c);
				if (c)
					putchar(',');
				print_csv_field(stdout, v);
				free(v);
			}
			putchar('\n');
		}
		return;
	}
	if (fmt == FMT_JSON) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addch(&sb, '[');
		for (size_t i = 0; i < r->rows; i++) {
			strbuf_addstr(&sb, i ? ",\n {" : "{");
			for (size_t c = 0; c < r->cols; c++) {
				char *v = wh_result_str(r, i, c);
				if (c)
					strbuf_addstr(&sb, ", ");
				strbuf_add_json_str(&sb, wh_result_name(r, c));
				strbuf_addstr(&sb, ": ");
				enum wh_type t = wh_result_type(r, c);
				if (!v)
					strbuf_addstr(&sb, "null");
				else if (t == WH_T_INT || (t == WH_T_FLOAT && strcasecmp(v, "nan") &&
							   strcasecmp(v, "inf") && strcasecmp(v, "-inf")))
					strbuf_addstr(&sb, v);
				else if (t == WH_T_BOOL)
					strbuf_addstr(&sb, v);
				else
					strbuf_add_json_str(&sb, v);
				free(v);
			}
			strbuf_addch(&sb, '}');
		}
		strbuf_addstr(&sb, "]\n");
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		return;
	}
	struct text_table t;
	text_table_init(&t, r->cols);
	for (size_t c = 0; c < r->cols; c++) {
		enum wh_type ty = wh_result_type(r, c);
		text_table_header(&t, c, wh_result_name(r, c), wh_result_type_name(r, c),
				  ty == WH_T_INT || ty == WH_T_FLOAT);
	}
	char **row = xcalloc(r->cols ? r->cols : 1, sizeof(*row));
	for (size_t i = 0; i < r->rows; i++) {
		for (size_t c = 0; c < r->cols; c++)
			row[c] = wh_result_str(r, i, c);
		text_table_add_row(&t, (const char *const *)row);
		for (size_t c = 0; c < r->cols; c++)
			free(row[c]);
	}
	free(row);
	if (r->cols)
		text_table_print(&t, stdout, max_rows);
	text_table_release(&t);
}

static int run_sql(struct warehouse *wh, const char *sql, enum format fmt, size_t max_rows)
{
	struct wh_result r;
	struct strbuf err = STRBUF_INIT;
	if (warehouse_query(wh, sql, &r, &err) < 0) {
		if (wh->mode == WH_READ_ONLY && strstr(err.buf, "read-only"))
			strbuf_addstr(&err, "\n(the warehouse is opened read-only: pass --write to change it)");
		ui_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_FAIL;
	}
	print_result(&r, fmt, max_rows);
	wh_result_free(&r);
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
	       p->warehouse_path, wh->mode == WH_READ_ONLY ? " (read-only)" : "");
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
					    "FROM information_schema.tables ORDER BY 1, 2", FMT_BOX, 0);
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
	int csv = 0, json = 0, write = 0, wait = -1, max_rows = 40, ret;
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
	if (write)
		ret = cmd_open_writer(&p, "dango query", "", wait, &lock, &wh);
	else
		ret = cmd_open_reader(&p, wait, &wh);
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
