/* Loading into a PostgreSQL warehouse: see load_pg.h for the design. */
#include "ingest/load_pg.h"
#include "ingest/load_pg_stream.h"
#include "ingest/backup.h"
#include "ingest/connector.h"
#include "ingest/pg_dependents.h"
#include "ingest/pg_types.h"
#include "ingest/sync.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/pg_copy_binary.h"
#include "warehouse/pg_warehouse.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The bookkeeping tables the engine keeps beside a source's data: their
 * whole content is copied to the stage and back (they are small), except
 * _dlt_loads, to which a sync only adds. */
static const char *const meta_tables[] = { "_dlt_loads",   "_dango_state",   "_dango_resources",
					   "_dango_file_metadata", "_dango_samples", "_dango_schema_changes",
					   NULL };

static int is_meta_table(const char *t)
{
	for (const char *const *m = meta_tables; *m; m++)
		if (!strcmp(t, *m))
			return 1;
	return 0;
}

static int is_skipped_table(const char *t)
{
	size_t n = strlen(t);
	return sync_backup_parse(t, NULL, NULL) || (n > 11 && !strcmp(t + n - 11, "__dango_new"));
}

/* ---- types (the mapping itself: pg_types.c) -------------------------------- */

/* The text of a column as COPY's CSV reads it into the PostgreSQL type:
 * most types print alike in both; bytea, arrays and nested values not. */
static void export_expr(struct strbuf *sb, const char *name, const char *type)
{
	struct strbuf col = STRBUF_INIT;
	size_t elem;
	strbuf_add_sql_ident(&col, name);
	if (!strcasecmp(type, "BLOB")) {
		strbuf_addf(sb, "'\\x' || hex(%s)", col.buf);
	} else if (pg_types_nested(type)) {
		strbuf_addf(sb, "CAST(to_json(%s) AS VARCHAR)", col.buf);
	} else if (pg_types_list(type, &elem)) {
		char *inner = xstrndup(type, elem);
		size_t e2;
		if (pg_types_nested(inner) || pg_types_list(inner, &e2))
			strbuf_addf(sb, "CAST(to_json(%s) AS VARCHAR)", col.buf);
		else /* an array literal: every element quoted, NULL bare; bytea in hex */
			strbuf_addf(sb,
				    "CASE WHEN %1$s IS NULL THEN NULL ELSE '{' || coalesce(array_to_string(list_transform(%1$s, "
				    "x -> CASE WHEN x IS NULL THEN 'NULL' ELSE '\"' || replace(replace(%2$s, "
				    "'\\', '\\\\'), '\"', '\\\"') || '\"' END), ','), '') || '}' END",
				    col.buf, !strcasecmp(inner, "BLOB") ? "'\\x' || hex(x)" : "CAST(x AS VARCHAR)");
		free(inner);
	} else {
		strbuf_addbuf(sb, &col);
	}
	strbuf_release(&col);
}

/* ---- PostgreSQL helpers ----------------------------------------------------- */

static int pg_ok(PGconn *c, PGresult *r, struct strbuf *err)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		return 0;
	}
	const char *m = PQresultErrorMessage(r);
	strbuf_addstr(err, "postgres warehouse: ");
	if (m && *m)
		pg_warehouse_add_message(err, m);
	else
		pg_warehouse_error(c, err);
	return -1;
}

static int pg_exec(PGconn *c, const char *sql, struct strbuf *err)
{
	PGresult *r = PQexec(c, sql);
	int ret = pg_ok(c, r, err);
	PQclear(r);
	return ret;
}

/* The first column of the first row as an integer (0 without rows). */
static int pg_int(PGconn *c, const char *sql, int64_t *out, struct strbuf *err)
{
	PGresult *r = PQexec(c, sql);
	int ret = pg_ok(c, r, err);
	*out = ret == 0 && PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return ret;
}

static void add_table(struct strbuf *sb, const char *schema, const char *table)
{
	strbuf_add_sql_ident(sb, schema);
	strbuf_addch(sb, '.');
	strbuf_add_sql_ident(sb, table);
}

/* The columns (table, name, format_type, comment) of every table of schema
 * (or of one), ordered. */
static PGresult *pg_schema_columns(PGconn *c, const char *schema, const char *table, struct strbuf *err)
{
	const char *params[2] = { schema, table };
	PGresult *r = PQexecParams(c,
				   "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
				   "col_description(c.oid, a.attnum) FROM pg_attribute a "
				   "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
				   "WHERE n.nspname = $1 AND ($2::text IS NULL OR c.relname = $2) AND c.relkind IN ('r', 'p') "
				   "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
				   2, NULL, params, NULL, NULL, 0);
	if (pg_ok(c, r, err) < 0) {
		PQclear(r);
		return NULL;
	}
	return r;
}

/* A table's columns on the server: 1 if it exists (names filled), 0 if not. */
static int pg_table_columns(PGconn *c, const char *schema, const char *table, struct strvec *names,
			    struct strbuf *err)
{
	PGresult *r = pg_schema_columns(c, schema, table, err);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		strvec_push(names, PQgetvalue(r, i, 1));
	int n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

/* ---- DuckDB rows into COPY FROM STDIN ----------------------------------------- */

/* DuckDB writes CSV into a pipe from a thread while this one reads it and
 * hands it to libpq: both sides run at once, and nothing lands on disk. */
struct pipe_writer {
	struct warehouse *wh;
	const char *sql, *fifo;
	int rc;
	struct strbuf err;
};

static void *pipe_writer_run(void *arg)
{
	struct pipe_writer *w = arg;
	w->rc = warehouse_exec(w->wh, w->sql, &w->err);
	/* if DuckDB failed before opening the pipe, the reader still waits in
	 * open(): open and close it once so that it sees the end */
	int fd = open(w->fifo, O_WRONLY | O_NONBLOCK);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* What a user can do about a COPY the server refused for a value it cannot
 * hold at all: the NUL character, which DuckDB's text and JSON may carry. */
static void explain_copy_error(struct strbuf *err)
{
	if (strstr(err->buf, "encoding \"UTF8\": 0x00") || strstr(err->buf, "\\u0000 cannot be converted"))
		strbuf_addstr(err, "\n(a value holds a NUL character, which PostgreSQL's text and jsonb cannot store; "
				   "remove it from the source data)");
}

/* The end of a COPY: its row count, or the server's error. */
static int copy_finish(PGconn *c, int failed, int64_t *rows, struct strbuf *err)
{
	PGresult *r;
	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			*rows = strtoll(PQcmdTuples(r), NULL, 10);
		else if (!err->len)
			pg_ok(c, r, err);
		PQclear(r);
	}
	if (!err->len && failed)
		pg_warehouse_error(c, err);
	if (err->len)
		explain_copy_error(err);
	return err->len ? -1 : 0;
}

/* COPY target FROM STDIN with the rows of `select` (run on the stage). */
static int copy_to_pg(struct pg_load *pl, const char *select, const char *target, int freeze, int64_t *rows,
		      struct strbuf *err)
{
	PGconn *c = pl->conn;
	struct strbuf fifo = STRBUF_INIT, sql = STRBUF_INIT, copy = STRBUF_INIT;
	struct pipe_writer w = { .wh = &pl->stage, .rc = 0 };
	int ret = -1, started = 0, fd = -1, send_failed = 0;
	static int seq;
	char *buf = NULL;
	*rows = 0;
	strbuf_init(&w.err, 0);
	strbuf_addf(&fifo, "%s/copy%d.csv", pl->tmp_dir, ++seq);
	if (mkfifo(fifo.buf, 0600) < 0) {
		strbuf_addf(err, "cannot make the pipe '%s': %s", fifo.buf, strerror(errno));
		goto out;
	}
	/* FREEZE: rows of a table made in this transaction are written as
	 * already visible, sparing the server a second pass over them */
	strbuf_addf(&copy, "COPY %s FROM STDIN (FORMAT csv%s)", target, freeze ? ", FREEZE" : "");
	PGresult *r = PQexec(c, copy.buf);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		pg_ok(c, r, err);
		PQclear(r);
		goto out;
	}
	PQclear(r);
	strbuf_addf(&sql, "COPY (%s) TO ", select);
	strbuf_add_sql_str(&sql, fifo.buf);
	strbuf_addstr(&sql, " (FORMAT csv, HEADER false, USE_TMP_FILE false)");
	w.sql = sql.buf;
	w.fifo = fifo.buf;
	pthread_t th;
	if (pthread_create(&th, NULL, pipe_writer_run, &w) != 0) {
		PQputCopyEnd(c, "no thread");
		strbuf_addstr(err, "cannot start a thread");
		goto drain;
	}
	started = 1;
	fd = open(fifo.buf, O_RDONLY);
	buf = xmalloc(1 << 20);
	for (ssize_t n; fd >= 0 && (n = read(fd, buf, 1 << 20)) != 0;) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* after a failure keep reading, so that DuckDB does not block */
		if (!send_failed && PQputCopyData(c, buf, (int)n) != 1)
			send_failed = 1;
	}
	pthread_join(th, NULL);
	started = 0;
	if (w.rc < 0) {
		PQputCopyEnd(c, "the rows could not be read");
		strbuf_addf(err, "reading the rows for %s: %s", target, w.err.buf);
	} else if (PQputCopyEnd(c, NULL) != 1) {
		send_failed = 1;
	}
drain:
	ret = copy_finish(c, send_failed, rows, err);
out:
	if (started)
		pthread_join(th, NULL);
	if (fd >= 0)
		close(fd);
	unlink(fifo.buf);
	free(buf);
	strbuf_release(&w.err);
	strbuf_release(&fifo);
	strbuf_release(&sql);
	strbuf_release(&copy);
	return ret;
}

/* ---- rows in PostgreSQL's binary COPY format ------------------------------------ */

/* The chunks of a streamed stage result into a COPY ... (FORMAT binary)
 * started on the server, a buffer of about a megabyte at a time. */
static int send_binary(PGconn *c, struct pgbin *e, struct wh_result *r, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	int more, failed = 0;
	strbuf_grow(&buf, (1 << 20) + (1 << 16));
	pgbin_add_header(&buf);
	while ((more = wh_result_next(r, err)) > 0) {
		pgbin_add_chunk(e, r, &buf);
		if (buf.len >= (1 << 20)) {
			if (PQputCopyData(c, buf.buf, (int)buf.len) != 1) {
				failed = 1;
				break;
			}
			strbuf_reset(&buf);
		}
	}
	pgbin_add_trailer(&buf);
	if (!failed && more == 0 && PQputCopyData(c, buf.buf, (int)buf.len) != 1)
		failed = 1;
	strbuf_release(&buf);
	if (more < 0) {
		PQputCopyEnd(c, "the rows could not be read");
		return -1;
	}
	return failed || PQputCopyEnd(c, NULL) != 1 ? 1 : 0;
}

int pg_load_copy_binary(struct pg_load *pl, const char *select, const char *target, int freeze, int plain_read_error,
			int64_t *rows, struct strbuf *err)
{
	PGconn *c = pl->conn;
	struct wh_result r;
	struct pgbin e;
	struct strbuf why = STRBUF_INIT, copy = STRBUF_INIT, e2 = STRBUF_INIT;
	int ret = -1;
	*rows = 0;
	if (warehouse_query_stream(&pl->stage, select, &r, err) < 0)
		goto out;
	if (pgbin_init(&e, &r, &why) < 0) {
		wh_result_free(&r);
		ret = 1;
		goto out;
	}
	strbuf_addf(&copy, "COPY %s FROM STDIN (FORMAT binary%s)", target, freeze ? ", FREEZE" : "");
	PGresult *res = PQexec(c, copy.buf);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_ok(c, res, err);
		PQclear(res);
	} else {
		PQclear(res);
		int sent = send_binary(c, &e, &r, &e2);
		/* DuckDB's error first: the server's is then only its echo */
		if (sent < 0 && plain_read_error)
			strbuf_addbuf(err, &e2);
		else if (sent < 0)
			strbuf_addf(err, "reading the rows for %s: %s", target, e2.buf);
		ret = copy_finish(c, sent > 0, rows, err);
	}
	pgbin_release(&e);
	wh_result_free(&r);
out:
	strbuf_release(&why);
	strbuf_release(&copy);
	strbuf_release(&e2);
	return ret;
}

/* ---- locks ------------------------------------------------------------------ */

/* One key a source schema: FNV-1a of its name, as a signed bigint. */
static long long lock_key(const char *schema)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *s = "dango sync "; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (const char *s = schema; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (long long)h;
}

static int try_lock(PGconn *c, const char *schema, int *got, struct strbuf *err)
{
	char key[32];
	const char *params[1] = { key };
	snprintf(key, sizeof(key), "%lld", lock_key(schema));
	PGresult *r = PQexecParams(c, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, params, NULL, NULL, 0);
	int ret = pg_ok(c, r, err);
	*got = ret == 0 && PQntuples(r) && !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return ret;
}

static int lock_source(struct pg_load *pl, const char *source, int wait_seconds,
		       void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, where = STRBUF_INIT;
	int got = 0, told = 0, ret = 0;
	time_t until = time(NULL) + (wait_seconds > 0 ? wait_seconds : 0);
	sync_schema_name(&schema, source);
	pg_warehouse_describe(pl->project, &where);
	for (;;) {
		if (try_lock(pl->conn, schema.buf, &got, err) < 0) {
			ret = -1;
			break;
		}
		if (got)
			break;
		if (time(NULL) >= until) {
			strbuf_addf(err, "another sync of '%s' is running against the postgres warehouse %s (its lock "
				    "is held); try again later%s",
				    source, where.buf, wait_seconds > 0 ? "" : ", or wait for it with --wait SECONDS");
			ret = -2;
			break;
		}
		if (!told && on_wait) {
			struct strbuf why = STRBUF_INIT;
			strbuf_addf(&why, "another sync of '%s' is running against the postgres warehouse", source);
			on_wait(why.buf, data);
			strbuf_release(&why);
			told = 1;
		}
		usleep(200 * 1000);
	}
	strbuf_release(&schema);
	strbuf_release(&where);
	return ret;
}

int pg_load_lock_source(struct pg_conn *c, const struct project *p, const char *source, int wait_seconds,
			void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err)
{
	struct pg_load pl = { .conn = c, .project = p };
	return lock_source(&pl, source, wait_seconds, on_wait, data, err);
}

/* ---- the stage -------------------------------------------------------------- */

/* The rows of a PostgreSQL table into the same table of the stage: COPY
 * TO STDOUT as CSV into a file, read by DuckDB as text and cast by INSERT. */
static int hydrate_rows(struct pg_load *pl, const char *schema, const char *table, size_t nr_cols,
			struct strbuf *err)
{
	PGconn *c = pl->conn;
	struct strbuf sql = STRBUF_INIT, path = STRBUF_INIT;
	char *buf = NULL;
	int ret = -1, n, any = 0;
	strbuf_addf(&path, "%s/hydrate.csv", pl->tmp_dir);
	FILE *f = fopen(path.buf, "w");
	if (!f) {
		strbuf_addf(err, "cannot write '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	strbuf_addstr(&sql, "COPY ");
	add_table(&sql, schema, table);
	strbuf_addstr(&sql, " TO STDOUT (FORMAT csv)");
	PGresult *r = PQexec(c, sql.buf);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		pg_ok(c, r, err);
		PQclear(r);
		fclose(f);
		goto out;
	}
	PQclear(r);
	while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
		fwrite(buf, 1, (size_t)n, f);
		PQfreemem(buf);
		any = 1;
	}
	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && !err->len)
			pg_ok(c, r, err);
		PQclear(r);
	}
	if (fclose(f) != 0 || err->len)
		goto out;
	ret = 0;
	if (!any)
		goto out;
	strbuf_reset(&sql);
	strbuf_addstr(&sql, "INSERT INTO ");
	add_table(&sql, schema, table);
	strbuf_addstr(&sql, " SELECT * FROM read_csv(");
	strbuf_add_sql_str(&sql, path.buf);
	strbuf_addstr(&sql, ", header = false, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
			    "allow_quoted_nulls = false, columns = {");
	for (size_t i = 0; i < nr_cols; i++)
		strbuf_addf(&sql, "%s'c%zu': 'VARCHAR'", i ? ", " : "", i);
	strbuf_addstr(&sql, "})");
	ret = warehouse_exec(&pl->stage, sql.buf, err);
out:
	unlink(path.buf);
	strbuf_release(&sql);
	strbuf_release(&path);
	return ret;
}

/* A source's schema on the server, copied into the stage: every table
 * with its columns, the bookkeeping tables with their rows. */
static int hydrate(struct pg_load *pl, const char *source, struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT, t = STRBUF_INIT;
	int ret = -1;
	sync_schema_name(&schema, source);
	PGresult *r = pg_schema_columns(pl->conn, schema.buf, NULL, err);
	if (!r)
		goto out;
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
	strbuf_add_sql_ident(&sql, schema.buf);
	if (warehouse_exec(&pl->stage, sql.buf, err) < 0)
		goto out_r;
	int nr = PQntuples(r);
	for (int i = 0; i < nr;) {
		const char *table = PQgetvalue(r, i, 0);
		int k = i;
		size_t cols = 0;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "CREATE TABLE ");
		add_table(&sql, schema.buf, table);
		strbuf_addstr(&sql, " (");
		for (; k < nr && !strcmp(PQgetvalue(r, k, 0), table); k++, cols++) {
			strbuf_addstr(&sql, k > i ? ", " : "");
			strbuf_add_sql_ident(&sql, PQgetvalue(r, k, 1));
			strbuf_addch(&sql, ' ');
			strbuf_reset(&t);
			pg_types_column(&t, PQgetvalue(r, k, 2), PQgetisnull(r, k, 3) ? NULL : PQgetvalue(r, k, 3));
			strbuf_addbuf(&sql, &t);
		}
		strbuf_addch(&sql, ')');
		i = k;
		if (is_skipped_table(table))
			continue;
		if (warehouse_exec(&pl->stage, sql.buf, err) < 0)
			goto out_r;
		if (is_meta_table(table) && strcmp(table, "_dlt_loads") &&
		    hydrate_rows(pl, schema.buf, table, cols, err) < 0)
			goto out_r;
	}
	ret = 0;
out_r:
	PQclear(r);
out:
	strbuf_release(&schema);
	strbuf_release(&sql);
	strbuf_release(&t);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pg_load_open(struct pg_load *pl, const struct project *p, const char *const *sources, size_t nr,
		 int wait_seconds, void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err)
{
	const char *base = getenv("TMPDIR");
	int ret = -1;
	memset(pl, 0, sizeof(*pl));
	pl->project = p;
	pl->tmp_dir = xasprintf("%s/dango-pgload-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(pl->tmp_dir)) {
		strbuf_addf(err, "cannot make a temporary folder: %s", strerror(errno));
		free(pl->tmp_dir);
		pl->tmp_dir = NULL;
		return -1;
	}
	if (pg_warehouse_connect(p, 0, &pl->conn, err) < 0)
		return -1;
	/* in name order, so that two syncs never hold each a lock the other wants */
	const char **sorted = xcalloc(nr + 1, sizeof(*sorted));
	memcpy(sorted, sources, nr * sizeof(*sorted));
	qsort(sorted, nr, sizeof(*sorted), cmp_str);
	for (size_t i = 0; i < nr; i++)
		if ((ret = lock_source(pl, sorted[i], wait_seconds, on_wait, data, err)) < 0)
			goto out;
	ret = -1;
	if (warehouse_open(&pl->stage, ":memory:", WH_READ_WRITE, err) < 0)
		goto out;
	pl->stage_open = 1;
	/* the stage spills to disk past its memory; times print in UTC */
	if (warehouse_execf(&pl->stage, err, "SET TimeZone = 'UTC'; SET temp_directory = '%s'", pl->tmp_dir) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++)
		if (hydrate(pl, sources[i], err) < 0)
			goto out;
	ret = 0;
out:
	free(sorted);
	return ret;
}

/* ---- publish ------------------------------------------------------------------ */

struct publish {
	struct pg_load *pl;
	struct sync_job *job;
	struct strbuf schema;
	struct strbuf *err;
	int sample;
};

static const struct sync_resource *find_resource(const struct sync_job *job, const char *name)
{
	for (size_t i = 0; i < job->nr_resources; i++)
		if (!strcmp(job->resources[i]->name, name))
			return job->resources[i];
	return NULL;
}

enum table_mode { MODE_APPEND, MODE_MERGE, MODE_SWAP };

static enum table_mode table_mode(const struct sync_job *job, const struct sync_resource *r)
{
	if (job->opts->full_refresh || (r && (r->swap_in || r->disposition == WD_REPLACE)))
		return MODE_SWAP;
	if (r && r->disposition == WD_MERGE && r->primary_key.nr)
		return MODE_MERGE;
	return MODE_APPEND;
}

/* The column list "(a, b)" and the stage's SELECT of them for COPY. */
static void column_lists(const struct strvec *names, const struct strvec *types, struct strbuf *list,
			 struct strbuf *exprs)
{
	strbuf_addch(list, '(');
	for (size_t i = 0; i < names->nr; i++) {
		strbuf_addstr(list, i ? ", " : "");
		strbuf_add_sql_ident(list, names->v[i]);
		strbuf_addstr(exprs, i ? ", " : "");
		export_expr(exprs, names->v[i], types->v[i]);
	}
	strbuf_addch(list, ')');
}

static void column_defs(struct strbuf *sb, const struct strvec *names, const struct strvec *types)
{
	strbuf_addch(sb, '(');
	for (size_t i = 0; i < names->nr; i++) {
		strbuf_addstr(sb, i ? ", " : "");
		strbuf_add_sql_ident(sb, names->v[i]);
		strbuf_addch(sb, ' ');
		pg_load_pg_type(sb, types->v[i]);
	}
	strbuf_addch(sb, ')');
}

/* Columns the stage has and the server's table not: added (schema evolution). */
static int add_missing_columns(struct publish *pb, const char *table, const struct strvec *names,
			       const struct strvec *types)
{
	struct strvec have = STRVEC_INIT;
	struct strbuf sql = STRBUF_INIT;
	int ret = pg_table_columns(pb->pl->conn, pb->schema.buf, table, &have, pb->err);
	for (size_t i = 0; ret >= 0 && i < names->nr; i++) {
		if (strvec_has(&have, names->v[i]))
			continue;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "ALTER TABLE ");
		add_table(&sql, pb->schema.buf, table);
		strbuf_addstr(&sql, " ADD COLUMN ");
		strbuf_add_sql_ident(&sql, names->v[i]);
		strbuf_addch(&sql, ' ');
		pg_load_pg_type(&sql, types->v[i]);
		ret = pg_exec(pb->pl->conn, sql.buf, pb->err);
	}
	strvec_clear(&have);
	strbuf_release(&sql);
	return ret < 0 ? -1 : 0;
}

/* The USING expression of a column changed from PostgreSQL type old: a
 * plain cast, but boolean, which PostgreSQL casts to integer only. */
static void retype_expr(struct strbuf *sb, const char *name, const char *old, const char *duck)
{
	int via_integer = !strcmp(old, "boolean") && strcmp(duck, "VARCHAR");
	strbuf_addstr(sb, via_integer ? "CAST(CAST(" : "CAST(");
	strbuf_add_sql_ident(sb, name);
	if (via_integer)
		strbuf_addstr(sb, " AS integer)");
	strbuf_addstr(sb, " AS ");
	pg_load_pg_type(sb, duck);
	strbuf_addch(sb, ')');
}

/* Columns whose type the engine changed in the stage (a schema change
 * accepted with --allow-schema-changes widens BIGINT to VARCHAR, DATE to
 * TIMESTAMP...): the server's column altered to match, as DuckDB's table
 * is; the views reading the table set aside meanwhile (PostgreSQL refuses
 * to alter a column a view reads). */
static int retype_columns(struct publish *pb, const char *table, const struct strvec *names,
			  const struct strvec *types)
{
	PGconn *c = pb->pl->conn;
	struct strbuf sql = STRBUF_INIT, want = STRBUF_INIT;
	struct pg_dependents deps = PG_DEPENDENTS_INIT;
	PGresult *r = pg_schema_columns(c, pb->schema.buf, table, pb->err);
	int ret = r ? 0 : -1;
	for (size_t i = 0; r && i < names->nr; i++) {
		for (int k = 0; k < PQntuples(r); k++) {
			const char *have = PQgetvalue(r, k, 2);
			if (strcmp(PQgetvalue(r, k, 1), names->v[i]))
				continue;
			/* only where the stage's type is no longer the one the
			 * column gave it (a column of a type of the user's stays) */
			strbuf_reset(&want);
			pg_types_column(&want, have, PQgetisnull(r, k, 3) ? NULL : PQgetvalue(r, k, 3));
			if (!strcmp(want.buf, types->v[i]))
				continue;
			/* a STRUCT with a new field is still jsonb: its note alone changes */
			strbuf_reset(&want);
			pg_types_format(&want, types->v[i]);
			if (!strcmp(want.buf, have))
				continue;
			if (!sql.len) {
				strbuf_addstr(&sql, "ALTER TABLE ");
				add_table(&sql, pb->schema.buf, table);
			} else {
				strbuf_addch(&sql, ',');
			}
			strbuf_addstr(&sql, " ALTER COLUMN ");
			strbuf_add_sql_ident(&sql, names->v[i]);
			strbuf_addstr(&sql, " TYPE ");
			pg_load_pg_type(&sql, types->v[i]);
			strbuf_addstr(&sql, " USING ");
			retype_expr(&sql, names->v[i], have, types->v[i]);
		}
	}
	if (sql.len) {
		ret = pg_dependents_detach(c, pb->schema.buf, table, &deps, pb->err);
		if (ret == 0)
			ret = pg_exec(c, sql.buf, pb->err);
		if (ret == 0)
			ret = pg_dependents_restore(c, &deps, pb->job->source->name, pb->err);
	}
	PQclear(r);
	pg_dependents_release(&deps);
	strbuf_release(&sql);
	strbuf_release(&want);
	return ret;
}

/* The type notes of the columns of the server's table pg_name (in the
 * source's schema) as the types of the stage's table need them: set where
 * missing or different, a stale one of ours removed; a user's own comment
 * stays on a column that needs no note. */
static int sync_type_notes(struct publish *pb, const char *table, const char *pg_name)
{
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT;
	struct strbuf sql = STRBUF_INIT, what = STRBUF_INIT;
	PGresult *r = NULL;
	int ret = -1;
	add_table(&what, pb->schema.buf, table);
	if (warehouse_describe(&pb->pl->stage, what.buf, &names, &types, pb->err) < 0)
		goto out;
	if (!(r = pg_schema_columns(pb->pl->conn, pb->schema.buf, pg_name, pb->err)))
		goto out;
	strbuf_reset(&what);
	add_table(&what, pb->schema.buf, pg_name);
	for (size_t i = 0; i < names.nr; i++) {
		char *want = pg_types_note(types.v[i]);
		const char *have = NULL;
		for (int k = 0; k < PQntuples(r) && !have; k++)
			if (!strcmp(PQgetvalue(r, k, 1), names.v[i]))
				have = PQgetisnull(r, k, 3) ? "" : PQgetvalue(r, k, 3);
		if (have && (want ? strcmp(want, have) != 0 : starts_with(have, PG_TYPES_NOTE))) {
			strbuf_addf(&sql, "COMMENT ON COLUMN %s.", what.buf);
			strbuf_add_sql_ident(&sql, names.v[i]);
			strbuf_addstr(&sql, " IS ");
			if (want)
				strbuf_add_sql_str(&sql, want);
			else
				strbuf_addstr(&sql, "NULL");
			strbuf_addstr(&sql, "; ");
		}
		free(want);
	}
	ret = sql.len ? pg_exec(pb->pl->conn, sql.buf, pb->err) : 0;
out:
	PQclear(r);
	strvec_clear(&names);
	strvec_clear(&types);
	strbuf_release(&sql);
	strbuf_release(&what);
	return ret;
}

/* The engine's own columns that hold one value in every row of a load
 * (_dlt_load_id, a file's name and times...): a third of a CSV row's bytes
 * for narrow tables. Into a table no reader sees yet (a new one, a
 * temporary one) they go as column defaults rather than through COPY; an
 * existing table gets them in the rows, since altering it would block its
 * readers until the commit. */
static int is_meta_column(const char *name)
{
	return !strcmp(name, "_dlt_load_id") || !strcmp(name, "_dlt_extracted_at") || starts_with(name, "_dango_");
}

/* Which meta columns of the staged table are constant: their values (as
 * text) in consts, NULL for the others. */
static int constant_columns(struct publish *pb, const char *what, const struct strvec *names, char **consts)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	size_t any = 0;
	strbuf_addstr(&sql, "SELECT ");
	for (size_t i = 0; i < names->nr; i++) {
		if (!is_meta_column(names->v[i]))
			continue;
		struct strbuf c = STRBUF_INIT;
		strbuf_add_sql_ident(&c, names->v[i]);
		strbuf_addf(&sql, "%sCASE WHEN min(%s) = max(%s) AND count(%s) = count(*) THEN CAST(min(%s) AS VARCHAR) END",
			    any++ ? ", " : "", c.buf, c.buf, c.buf, c.buf);
		strbuf_release(&c);
	}
	strbuf_addf(&sql, " FROM %s", what);
	int ret = 0;
	if (any && (ret = warehouse_query(&pb->pl->stage, sql.buf, &r, pb->err)) == 0) {
		for (size_t i = 0, k = 0; i < names->nr; i++)
			if (is_meta_column(names->v[i]))
				consts[i] = r.rows ? wh_result_str(&r, 0, k++) : NULL;
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	return ret;
}

static int set_defaults(struct publish *pb, const char *pg_target, const struct strvec *names,
			const struct strvec *types, char **consts, int drop)
{
	struct strbuf sql = STRBUF_INIT;
	for (size_t i = 0; i < names->nr; i++) {
		if (!consts[i])
			continue;
		strbuf_addf(&sql, "ALTER TABLE %s ALTER COLUMN ", pg_target);
		strbuf_add_sql_ident(&sql, names->v[i]);
		if (drop) {
			strbuf_addstr(&sql, " DROP DEFAULT; ");
			continue;
		}
		strbuf_addstr(&sql, " SET DEFAULT CAST(");
		strbuf_add_sql_str(&sql, consts[i]);
		strbuf_addstr(&sql, " AS ");
		pg_load_pg_type(&sql, types->v[i]);
		strbuf_addstr(&sql, "); ");
	}
	int ret = sql.len ? pg_exec(pb->pl->conn, sql.buf, pb->err) : 0;
	strbuf_release(&sql);
	return ret;
}

/* Are the columns of an existing table on the server exactly the types
 * the stage's would get (so binary fields match them)? */
static int server_types_match(struct publish *pb, const char *table, const struct strvec *names,
			      const struct strvec *types)
{
	struct strbuf e = STRBUF_INIT, want = STRBUF_INIT;
	PGresult *r = pg_schema_columns(pb->pl->conn, pb->schema.buf, table, &e);
	int ok = r != NULL;
	for (size_t i = 0; ok && i < names->nr; i++) {
		int found = 0;
		strbuf_reset(&want);
		pg_types_format(&want, types->v[i]);
		for (int k = 0; k < PQntuples(r) && !found; k++)
			found = !strcmp(PQgetvalue(r, k, 1), names->v[i]) && !strcmp(PQgetvalue(r, k, 2), want.buf);
		ok = found;
	}
	PQclear(r);
	strbuf_release(&e);
	strbuf_release(&want);
	return ok;
}

/* unseen: pg_target is a table no reader sees yet; 2: made in this
 * transaction (COPY FREEZE may write into it) */
static int copy_stage_table(struct publish *pb, const char *table, const char *pg_target, int unseen,
			    int64_t *rows)
{
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT, sent = STRVEC_INIT, sent_types = STRVEC_INIT;
	struct strbuf list = STRBUF_INIT, exprs = STRBUF_INIT, sel = STRBUF_INIT, what = STRBUF_INIT, tgt = STRBUF_INIT;
	char **consts = NULL;
	int ret = -1;
	add_table(&what, pb->schema.buf, table);
	if (warehouse_describe(&pb->pl->stage, what.buf, &names, &types, pb->err) < 0)
		goto out;
	consts = xcalloc(names.nr + 1, sizeof(*consts));
	if (unseen && (constant_columns(pb, what.buf, &names, consts) < 0 ||
		       set_defaults(pb, pg_target, &names, &types, consts, 0) < 0))
		goto out;
	for (size_t i = 0; i < names.nr; i++)
		if (!consts[i]) {
			strvec_push(&sent, names.v[i]);
			strvec_push(&sent_types, types.v[i]);
		}
	column_lists(&sent, &sent_types, &list, &exprs);
	strbuf_addf(&tgt, "%s %s", pg_target, list.buf);
	/* a table the load made has the columns of the stage's types, an
	 * existing one may: then binary */
	ret = 1;
	if (!getenv("DANGO_PG_COPY_CSV") && (unseen || server_types_match(pb, table, &sent, &sent_types))) {
		strbuf_addstr(&sel, "SELECT ");
		strbuf_add(&sel, list.buf + 1, list.len - 2); /* the plain columns */
		strbuf_addf(&sel, " FROM %s", what.buf);
		ret = pg_load_copy_binary(pb->pl, sel.buf, tgt.buf, unseen == 2, 0, rows, pb->err);
	}
	if (ret == 1) {
		strbuf_reset(&sel);
		strbuf_addf(&sel, "SELECT %s FROM %s", exprs.buf, what.buf);
		ret = copy_to_pg(pb->pl, sel.buf, tgt.buf, unseen == 2, rows, pb->err);
	}
	if (ret == 0 && unseen)
		ret = set_defaults(pb, pg_target, &names, &types, consts, 1);
out:
	for (size_t i = 0; consts && i < names.nr; i++)
		free(consts[i]);
	free(consts);
	strvec_clear(&names);
	strvec_clear(&types);
	strvec_clear(&sent);
	strvec_clear(&sent_types);
	strbuf_release(&list);
	strbuf_release(&exprs);
	strbuf_release(&sel);
	strbuf_release(&what);
	strbuf_release(&tgt);
	return ret;
}

/* The rows an earlier --limit sample loaded go before a full load (the
 * engine's drop_samples, on the server's tables). */
static int drop_samples(struct publish *pb)
{
	PGconn *c = pb->pl->conn;
	struct strvec none = STRVEC_INIT;
	struct strbuf sql = STRBUF_INIT, samples = STRBUF_INIT;
	int64_t n = 0;
	int ret = pg_table_columns(c, pb->schema.buf, "_dango_samples", &none, pb->err);
	strvec_clear(&none);
	if (ret <= 0)
		return ret;
	add_table(&samples, pb->schema.buf, "_dango_samples");
	strbuf_addf(&sql, "SELECT count(*) FROM %s", samples.buf);
	ret = pg_int(c, sql.buf, &n, pb->err);
	if (ret < 0 || !n)
		goto out;
	PGresult *r = pg_schema_columns(c, pb->schema.buf, NULL, pb->err);
	if (!r) {
		ret = -1;
		goto out;
	}
	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		const char *t = PQgetvalue(r, i, 0);
		if (strcmp(PQgetvalue(r, i, 1), "_dlt_load_id") || is_meta_table(t) || is_skipped_table(t))
			continue;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "DELETE FROM ");
		add_table(&sql, pb->schema.buf, t);
		strbuf_addf(&sql, " WHERE _dlt_load_id IN (SELECT load_id FROM %s)", samples.buf);
		ret = pg_exec(c, sql.buf, pb->err);
	}
	PQclear(r);
	if (ret == 0) {
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "DELETE FROM ");
		add_table(&sql, pb->schema.buf, "_dlt_loads");
		strbuf_addf(&sql, " WHERE load_id IN (SELECT load_id FROM %s)", samples.buf);
		ret = pg_exec(c, sql.buf, pb->err);
	}
out:
	strbuf_release(&sql);
	strbuf_release(&samples);
	return ret;
}

/* A new table, filled, then put in place of the old one; with the empty
 * result rule and the under-half backup of the DuckDB warehouse. */
static int publish_swap(struct publish *pb, const char *table, const struct strvec *names, const struct strvec *types,
			int64_t staged)
{
	PGconn *c = pb->pl->conn;
	struct sync_job *job = pb->job;
	struct strbuf sql = STRBUF_INIT, newt = STRBUF_INIT, oldt = STRBUF_INIT, nname = STRBUF_INIT;
	struct strvec old_cols = STRVEC_INIT;
	struct pg_dependents deps = PG_DEPENDENTS_INIT;
	int64_t rows = 0, old_rows = 0;
	char a[32], b[32];
	int ret = -1;
	strbuf_addf(&nname, "%s__dango_new", table);
	add_table(&newt, pb->schema.buf, nname.buf);
	add_table(&oldt, pb->schema.buf, table);
	int had_old = pg_table_columns(c, pb->schema.buf, table, &old_cols, pb->err);
	if (had_old < 0)
		goto out;
	if (had_old) {
		strbuf_addf(&sql, "SELECT count(*) FROM %s", oldt.buf);
		if (pg_int(c, sql.buf, &old_rows, pb->err) < 0)
			goto out;
	}
	if (!staged && old_rows) {
		if (!job->opts->allow_empty) {
			strbuf_addf(pb->err, "%s of %s.%s loaded 0 rows over %s existing rows; refusing (nothing was "
				    "changed; pass --allow-empty if the source really is empty now)",
				    job->opts->full_refresh ? "full refresh" : "replace", pb->schema.buf, table,
				    fmt_count(a, old_rows));
			goto out;
		}
		strvec_pushf(&job->warnings, "%s.%s loaded 0 rows: its %s previous rows were removed (--allow-empty)",
			     pb->schema.buf, table, fmt_count(a, old_rows));
	}
	strbuf_reset(&sql);
	strbuf_addf(&sql, "DROP TABLE IF EXISTS %s; CREATE TABLE %s ", newt.buf, newt.buf);
	column_defs(&sql, names, types);
	/* a streamed table is already filled (load_pg_stream.c) */
	int streamed = pg_stream_taken(pb->pl, table, names->nr, staged, &rows, pb->err);
	if (streamed < 0)
		goto out;
	if (!streamed && (pg_exec(c, sql.buf, pb->err) < 0 || copy_stage_table(pb, table, newt.buf, 2, &rows) < 0))
		goto out;
	if (sync_type_notes(pb, table, nname.buf) < 0)
		goto out;
	strbuf_reset(&sql);
	/* views on the old table: set aside, then rebuilt on the new one */
	if (had_old && pg_dependents_detach(c, pb->schema.buf, table, &deps, pb->err) < 0)
		goto out;
	if (had_old && rows && rows * 2 < old_rows) {
		char stamp[32];
		struct strbuf backup = STRBUF_INIT;
		sync_backup_stamp(stamp);
		sync_backup_name(&backup, table, stamp, 0);
		strbuf_addf(&sql, "ALTER TABLE %s RENAME TO ", oldt.buf);
		strbuf_add_sql_ident(&sql, backup.buf);
		strbuf_addstr(&sql, "; ");
		strvec_pushf(&job->warnings,
			     "full refresh of %s.%s loaded %s rows, under half of the previous %s; the old table is kept "
			     "as %s.%s for recovery",
			     pb->schema.buf, table, fmt_count(a, rows), fmt_count(b, old_rows), pb->schema.buf, backup.buf);
		strbuf_release(&backup);
	} else if (had_old) {
		strbuf_addf(&sql, "DROP TABLE %s; ", oldt.buf);
	}
	strbuf_addf(&sql, "ALTER TABLE %s RENAME TO ", newt.buf);
	strbuf_add_sql_ident(&sql, table);
	ret = pg_exec(c, sql.buf, pb->err);
	if (ret == 0)
		ret = pg_dependents_restore(c, &deps, job->source->name, pb->err);
out:
	pg_dependents_release(&deps);
	strvec_clear(&old_cols);
	strbuf_release(&sql);
	strbuf_release(&newt);
	strbuf_release(&oldt);
	strbuf_release(&nname);
	return ret;
}

/* A changed file now without rows would replace its rows with nothing:
 * the engine's empty-result rule, against the server's rows (the stage
 * holds none of the old ones). */
static int file_now_empty(struct publish *pb, const struct sync_batch *x, long long old_rows)
{
	struct strbuf what = STRBUF_INIT;
	strbuf_addf(&what, "%s (now without rows)", x->label ? x->label : x->resource);
	int ret = sync_empty_result(pb->job, what.buf, old_rows, pb->err);
	strbuf_release(&what);
	return ret;
}

/* The deletes a batch asked for before its rows (a changed file's old rows). */
static int replay_replace_where(struct publish *pb, const char *table)
{
	struct sync_job *job = pb->job;
	struct strbuf sql = STRBUF_INIT;
	int ret = 0;
	for (size_t i = 0; i < job->nr_batches && !ret; i++) {
		const struct sync_batch *b = job->batches[i];
		for (size_t k = 0; k <= b->nr_parts && !ret; k++) {
			const struct sync_batch *x = k < b->nr_parts ? b->parts[k] : b;
			if (!x->replace_where || !x->relation || strcmp(x->resource, table))
				continue;
			strbuf_reset(&sql);
			strbuf_addstr(&sql, "DELETE FROM ");
			add_table(&sql, pb->schema.buf, table);
			strbuf_addf(&sql, " WHERE %s", x->replace_where);
			PGresult *r = PQexec(pb->pl->conn, sql.buf);
			ret = pg_ok(pb->pl->conn, r, pb->err);
			long long deleted = ret ? 0 : atoll(PQcmdTuples(r));
			PQclear(r);
			if (!ret && x->file && x->file->rows == 0 && deleted > 0)
				ret = file_now_empty(pb, x, deleted);
		}
	}
	strbuf_release(&sql);
	return ret;
}

static int publish_merge(struct publish *pb, const char *table, const struct sync_resource *r)
{
	PGconn *c = pb->pl->conn;
	struct strbuf sql = STRBUF_INIT, t = STRBUF_INIT, cols = STRBUF_INIT;
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT;
	int64_t rows = 0;
	int ret = -1;
	add_table(&t, pb->schema.buf, table);
	if (warehouse_describe(&pb->pl->stage, t.buf, &names, &types, pb->err) < 0)
		goto out;
	strbuf_addstr(&sql, "DROP TABLE IF EXISTS pg_temp.__dango_batch; CREATE TEMP TABLE __dango_batch ");
	column_defs(&sql, &names, &types);
	strbuf_addstr(&sql, " ON COMMIT DROP");
	if (pg_exec(c, sql.buf, pb->err) < 0 || copy_stage_table(pb, table, "pg_temp.__dango_batch", 1, &rows) < 0)
		goto out;
	strbuf_reset(&sql);
	strbuf_addf(&sql, "DELETE FROM %s AS t USING pg_temp.__dango_batch AS b WHERE ", t.buf);
	for (size_t i = 0; i < r->primary_key.nr; i++) {
		strbuf_addstr(&sql, i ? " AND t." : "t.");
		strbuf_add_sql_ident(&sql, r->primary_key.v[i]);
		strbuf_addstr(&sql, " = b.");
		strbuf_add_sql_ident(&sql, r->primary_key.v[i]);
	}
	for (size_t i = 0; i < names.nr; i++) {
		strbuf_addstr(&cols, i ? ", " : "");
		strbuf_add_sql_ident(&cols, names.v[i]);
	}
	strbuf_addf(&sql, "; INSERT INTO %s (%s) SELECT %s FROM pg_temp.__dango_batch; DROP TABLE pg_temp.__dango_batch",
		    t.buf, cols.buf, cols.buf);
	ret = pg_exec(c, sql.buf, pb->err);
out:
	strvec_clear(&names);
	strvec_clear(&types);
	strbuf_release(&sql);
	strbuf_release(&t);
	strbuf_release(&cols);
	return ret;
}

/* PostgreSQL's timestamp keeps microseconds: the nanoseconds of a
 * TIMESTAMP_NS column (or list) are rounded away, said in a warning rather
 * than silently. */
static int warn_nanoseconds(struct publish *pb, const char *table, const struct strvec *names,
			    const struct strvec *types)
{
	struct strbuf sql = STRBUF_INIT, col = STRBUF_INIT;
	int ret = 0;
	for (size_t i = 0; i < names->nr && !ret; i++) {
		int64_t n = 0;
		char a[32];
		int list = !strcasecmp(types->v[i], "TIMESTAMP_NS[]");
		if (!list && strcasecmp(types->v[i], "TIMESTAMP_NS"))
			continue;
		strbuf_reset(&col);
		strbuf_add_sql_ident(&col, names->v[i]);
		strbuf_reset(&sql);
		strbuf_addf(&sql, "SELECT count(*) FROM ");
		add_table(&sql, pb->schema.buf, table);
		if (list)
			strbuf_addf(&sql, " WHERE len(list_filter(%s, x -> epoch_ns(x) %% 1000 <> 0)) > 0", col.buf);
		else
			strbuf_addf(&sql, " WHERE epoch_ns(%s) %% 1000 <> 0", col.buf);
		ret = warehouse_query_int(&pb->pl->stage, sql.buf, &n, pb->err);
		if (!ret && n)
			strvec_pushf(&pb->job->warnings,
				     "%s.%s.%s: %s row%s nanoseconds, which PostgreSQL's timestamp does not keep: rounded "
				     "to the microsecond",
				     pb->schema.buf, table, names->v[i], fmt_count(a, n), n == 1 ? " has" : "s have");
	}
	strbuf_release(&sql);
	strbuf_release(&col);
	return ret;
}

static int publish_data_table(struct publish *pb, const char *table)
{
	struct sync_job *job = pb->job;
	const struct sync_resource *r = find_resource(job, table);
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT, have = STRVEC_INIT;
	struct strbuf t = STRBUF_INIT, sql = STRBUF_INIT;
	int ret = -1;
	int64_t rows = 0;
	int64_t staged = warehouse_count_rows(&pb->pl->stage, pb->schema.buf, table) + pg_stream_rows(pb->pl, table);
	/* a table of the source this sync did not touch stays as it is */
	if (!staged && !(r && sync_job_selected(job, table))) {
		ret = 0;
		goto out;
	}
	add_table(&t, pb->schema.buf, table);
	if (warehouse_describe(&pb->pl->stage, t.buf, &names, &types, pb->err) < 0)
		goto out;
	if (warn_nanoseconds(pb, table, &names, &types) < 0)
		goto out;
	enum table_mode mode = table_mode(job, r);
	int exists = pg_table_columns(pb->pl->conn, pb->schema.buf, table, &have, pb->err);
	if (exists < 0)
		goto out;
	if (mode == MODE_SWAP || !exists) {
		ret = publish_swap(pb, table, &names, &types, staged);
		goto out;
	}
	if (add_missing_columns(pb, table, &names, &types) < 0 || retype_columns(pb, table, &names, &types) < 0 ||
	    sync_type_notes(pb, table, table) < 0 ||
	    replay_replace_where(pb, table) < 0)
		goto out;
	if (mode == MODE_MERGE)
		ret = publish_merge(pb, table, r);
	else
		ret = staged ? copy_stage_table(pb, table, t.buf, 0, &rows) : 0;
out:
	strvec_clear(&names);
	strvec_clear(&types);
	strvec_clear(&have);
	strbuf_release(&t);
	strbuf_release(&sql);
	return ret;
}

/* Files gone from the folder: their rows marked, as the engine does. */
static int soft_deletes(struct publish *pb)
{
	struct sync_job *job = pb->job;
	struct strbuf sql = STRBUF_INIT;
	struct strvec cols = STRVEC_INIT;
	int ret = 0;
	if (job->opts->full_refresh || pb->sample)
		return 0;
	for (size_t i = 0; i < job->nr_resources && !ret; i++) {
		const struct sync_resource *r = job->resources[i];
		if (!r->deleted_files.nr)
			continue;
		strvec_clear(&cols);
		int exists = pg_table_columns(pb->pl->conn, pb->schema.buf, r->name, &cols, pb->err);
		if (exists <= 0) {
			ret = exists;
			continue;
		}
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "UPDATE ");
		add_table(&sql, pb->schema.buf, r->name);
		strbuf_addstr(&sql, " SET _dango_deleted = true WHERE _dango_filename IN (");
		for (size_t k = 0; k < r->deleted_files.nr; k++) {
			strbuf_addstr(&sql, k ? ", " : "");
			strbuf_add_sql_str(&sql, r->deleted_files.v[k]);
		}
		strbuf_addch(&sql, ')');
		ret = pg_exec(pb->pl->conn, sql.buf, pb->err);
	}
	strvec_clear(&cols);
	strbuf_release(&sql);
	return ret;
}

/* Singer's ACTIVATE_VERSION and the like: rows of older versions go. */
static int delete_wheres(struct publish *pb)
{
	struct sync_job *job = pb->job;
	struct strbuf sql = STRBUF_INIT, what = STRBUF_INIT;
	int ret = 0;
	if (job->opts->full_refresh || pb->sample)
		return 0;
	for (size_t i = 0; i < job->nr_resources && !ret; i++) {
		const struct sync_resource *r = job->resources[i];
		int64_t left = 0;
		if (!r->delete_where || r->swap_in)
			continue;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "DELETE FROM ");
		add_table(&sql, pb->schema.buf, r->name);
		strbuf_addf(&sql, " WHERE %s", r->delete_where);
		PGresult *res = PQexec(pb->pl->conn, sql.buf);
		ret = pg_ok(pb->pl->conn, res, pb->err);
		int64_t gone = ret == 0 ? strtoll(PQcmdTuples(res), NULL, 10) : 0;
		PQclear(res);
		if (ret || !gone)
			continue;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "SELECT count(*) FROM ");
		add_table(&sql, pb->schema.buf, r->name);
		ret = pg_int(pb->pl->conn, sql.buf, &left, pb->err);
		char n[32];
		if (!ret && !left && !job->opts->allow_empty) {
			strbuf_addf(pb->err, "activating a new version of %s.%s loaded 0 rows over %s existing rows; "
				    "refusing (nothing was changed; pass --allow-empty if the source really is empty now)",
				    pb->schema.buf, r->name, fmt_count(n, gone));
			ret = -1;
		} else if (!ret && !left) { /* said as the DuckDB engine says it */
			strvec_pushf(&job->warnings, "activating a new version of %s.%s loaded 0 rows: its %s previous "
				     "rows were removed (--allow-empty)", pb->schema.buf, r->name, fmt_count(n, gone));
		}
	}
	strbuf_release(&sql);
	strbuf_release(&what);
	return ret;
}

/* The bookkeeping tables: the stage holds their whole new content
 * (_dlt_loads: only this sync's rows). */
static int publish_meta(struct publish *pb, const char *table)
{
	PGconn *c = pb->pl->conn;
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT, have = STRVEC_INIT;
	struct strbuf t = STRBUF_INIT, sql = STRBUF_INIT;
	int64_t rows = 0;
	int ret = -1;
	add_table(&t, pb->schema.buf, table);
	if (warehouse_describe(&pb->pl->stage, t.buf, &names, &types, pb->err) < 0)
		goto out;
	int exists = pg_table_columns(c, pb->schema.buf, table, &have, pb->err);
	if (exists < 0)
		goto out;
	if (!exists) {
		strbuf_addf(&sql, "CREATE TABLE %s ", t.buf);
		column_defs(&sql, &names, &types);
		if (pg_exec(c, sql.buf, pb->err) < 0)
			goto out;
	} else if (add_missing_columns(pb, table, &names, &types) < 0) {
		goto out;
	}
	strbuf_reset(&sql);
	if (strcmp(table, "_dlt_loads")) {
		strbuf_addf(&sql, "DELETE FROM %s", t.buf);
		if (pg_exec(c, sql.buf, pb->err) < 0)
			goto out;
	}
	ret = copy_stage_table(pb, table, t.buf, 0, &rows);
out:
	strvec_clear(&names);
	strvec_clear(&types);
	strvec_clear(&have);
	strbuf_release(&t);
	strbuf_release(&sql);
	return ret;
}

/* After a publish: the stage as the server is now, for a later source of
 * the same run (its data tables empty again, _dlt_loads too). */
static void reset_stage(struct publish *pb)
{
	struct wh_result r;
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	strbuf_addstr(&sql, "SELECT table_name FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, pb->schema.buf);
	if (warehouse_query(&pb->pl->stage, sql.buf, &r, &e) == 0) {
		for (size_t i = 0; i < r.rows; i++) {
			char *t = wh_result_str(&r, i, 0);
			if (t && (!is_meta_table(t) || !strcmp(t, "_dlt_loads"))) {
				strbuf_reset(&sql);
				strbuf_addstr(&sql, "DELETE FROM ");
				add_table(&sql, pb->schema.buf, t);
				warehouse_exec(&pb->pl->stage, sql.buf, &e);
			}
			free(t);
		}
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	strbuf_release(&e);
}

int pg_load_publish(struct pg_load *pl, struct sync_job *job, struct strbuf *err)
{
	struct publish pb = { .pl = pl, .job = job, .err = err, .sample = job->opts->limit > 0 };
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r = { 0 };
	int ret = -1, have_r = 0;
	strbuf_init(&pb.schema, 0);
	sync_schema_name(&pb.schema, job->source->name);
	/* a streamed batch opened the transaction already */
	if (!pg_stream_in_tx(pl) && pg_exec(pl->conn, "BEGIN", err) < 0)
		goto out;
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
	strbuf_add_sql_ident(&sql, pb.schema.buf);
	if (pg_exec(pl->conn, sql.buf, err) < 0 || (!pb.sample && drop_samples(&pb) < 0))
		goto out;
	strbuf_reset(&sql);
	strbuf_addstr(&sql, "SELECT table_name FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, pb.schema.buf);
	strbuf_addstr(&sql, " AND table_type = 'BASE TABLE' ORDER BY 1");
	if (warehouse_query(&pl->stage, sql.buf, &r, err) < 0)
		goto out;
	have_r = 1;
	for (size_t i = 0; i < r.rows; i++) {
		char *t = wh_result_str(&r, i, 0);
		int rc = t && !is_meta_table(t) && !is_skipped_table(t) ? publish_data_table(&pb, t) : 0;
		free(t);
		if (rc < 0)
			goto out;
	}
	if (soft_deletes(&pb) < 0 || delete_wheres(&pb) < 0)
		goto out;
	for (size_t i = 0; i < r.rows; i++) {
		char *t = wh_result_str(&r, i, 0);
		int rc = t && is_meta_table(t) ? publish_meta(&pb, t) : 0;
		free(t);
		if (rc < 0)
			goto out;
	}
	if (pg_stream_check_taken(pl, err) < 0 || pg_exec(pl->conn, "COMMIT", err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		struct strbuf e = STRBUF_INIT;
		pg_exec(pl->conn, "ROLLBACK", &e);
		strbuf_release(&e);
	}
	pg_stream_reset(pl);
	reset_stage(&pb);
	if (have_r)
		wh_result_free(&r);
	strbuf_release(&pb.schema);
	strbuf_release(&sql);
	return ret;
}

/* The stage's sync history (_dango.sync_history, one row a source, written
 * by the engine after each sync) appended to the server's. */
static int flush_history(struct pg_load *pl, struct strbuf *err)
{
	struct publish pb = { .pl = pl, .err = err };
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT, have = STRVEC_INIT;
	struct strbuf sql = STRBUF_INIT;
	int64_t rows = 0;
	int ret = 0;
	if (!warehouse_has_table(&pl->stage, "_dango", "sync_history"))
		return 0;
	strbuf_init(&pb.schema, 0);
	strbuf_addstr(&pb.schema, "_dango");
	ret = warehouse_describe(&pl->stage, "_dango.sync_history", &names, &types, err);
	int exists = ret < 0 ? -1 : pg_table_columns(pl->conn, "_dango", "sync_history", &have, err);
	if (exists == 0) {
		strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS _dango; CREATE TABLE IF NOT EXISTS _dango.sync_history ");
		column_defs(&sql, &names, &types);
		exists = pg_exec(pl->conn, sql.buf, err) < 0 ? -1 : 1;
	}
	ret = exists < 0 ? -1 : copy_stage_table(&pb, "sync_history", "_dango.sync_history", 0, &rows);
	strvec_clear(&names);
	strvec_clear(&types);
	strvec_clear(&have);
	strbuf_release(&sql);
	strbuf_release(&pb.schema);
	return ret;
}

void pg_load_close(struct pg_load *pl)
{
	pg_stream_rollback(pl); /* a sync that did not reach its publish */
	if (pl->stage_open && pl->conn) {
		struct strbuf e = STRBUF_INIT;
		if (flush_history(pl, &e) < 0)
			fprintf(stderr, "warning: the sync history could not be written to the postgres warehouse: %s\n",
				e.buf);
		strbuf_release(&e);
	}
	if (pl->stage_open)
		warehouse_close(&pl->stage);
	if (pl->conn)
		pg_warehouse_disconnect(pl->conn);
	if (pl->tmp_dir) {
		rmdir(pl->tmp_dir);
		free(pl->tmp_dir);
	}
	memset(pl, 0, sizeof(*pl));
}


/* ---- for load_pg_stream.c ---------------------------------------------------- */

void pg_load_column_defs(struct strbuf *sb, const struct strvec *names, const struct strvec *types)
{
	column_defs(sb, names, types);
}

int pg_load_exec(struct pg_conn *c, const char *sql, struct strbuf *err)
{
	return pg_exec((PGconn *)c, sql, err);
}
