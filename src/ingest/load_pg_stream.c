/* Streaming a fresh table's rows to the PostgreSQL warehouse while DuckDB
 * reads them: see load_pg_stream.h. */
#include "ingest/load_pg_stream.h"
#include "ingest/connector.h"
#include "ingest/load_pg.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/result.h"
#include "warehouse/warehouse.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pg_stream {
	int in_tx;             /* BEGIN sent on the load's connection */
	struct strvec tables;  /* resources streamed into <name>__dango_new */
	int64_t *rows;         /* their rows, and their columns */
	size_t *cols;
	int *taken;            /* found by the publish */
};

static struct pg_stream *stream_of(struct pg_load *pl)
{
	if (!pl->stream)
		pl->stream = xcalloc(1, sizeof(*pl->stream));
	return pl->stream;
}

/* A batch the stream can take: one tracked file, the only batch of its
 * resource (the files connector adds every batch before it hands any
 * over), no --limit sample. */
static int streamable(struct sync_job *job, const struct sync_batch *b)
{
	size_t n = 0;
	if (!b->file || b->nr_parts || b->replace_where || job->opts->limit > 0 || getenv("DANGO_PG_COPY_CSV") ||
	    getenv("DANGO_PG_NO_STREAM"))
		return 0;
	pthread_mutex_lock(&job->lock);
	for (size_t i = 0; i < job->nr_batches; i++)
		n += job->batches[i]->relation && !strcmp(job->batches[i]->resource, b->resource);
	pthread_mutex_unlock(&job->lock);
	return n == 1;
}

static int is_constant_column(const char *name)
{
	/* as load_pg.c's is_meta_column: one value a load (_dlt_id is not) */
	return !strcmp(name, "_dlt_load_id") || !strcmp(name, "_dlt_extracted_at") || starts_with(name, "_dango_");
}

/* The stage table's column defaults (the batch's metadata), by column:
 * defaults[i] the default's SQL or NULL. */
static int read_defaults(struct warehouse *stage, const char *schema, const char *table, const struct strvec *names,
			 char **defaults, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	strbuf_addstr(&sql, "SELECT column_name, column_default FROM duckdb_columns() WHERE schema_name = ");
	strbuf_add_sql_str(&sql, schema);
	strbuf_addstr(&sql, " AND table_name = ");
	strbuf_add_sql_str(&sql, table);
	int ret = warehouse_query(stage, sql.buf, &r, err);
	strbuf_release(&sql);
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < r.rows; i++) {
		char *name = wh_result_str(&r, i, 0), *def = wh_result_str(&r, i, 1);
		for (size_t k = 0; name && k < names->nr; k++)
			if (!strcmp(names->v[k], name) && !defaults[k]) {
				defaults[k] = def;
				def = NULL;
			}
		free(name);
		free(def);
	}
	wh_result_free(&r);
	return 0;
}

/* A constant default's value, as text (what the stage path's
 * constant_columns finds in every row), for the server's own default. */
static char *eval_constant(struct warehouse *stage, const char *def, const char *type, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	char *v = NULL;
	strbuf_addf(&sql, "SELECT CAST(CAST(%s AS %s) AS VARCHAR)", def, type);
	if (warehouse_query(stage, sql.buf, &r, err) == 0) {
		v = r.rows ? wh_result_str(&r, 0, 0) : NULL;
		if (!v)
			strbuf_addf(err, "the default %s gave no value", def);
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	return v;
}

/* On the server: the transaction (once), the schema, and the new table
 * with the constants as its defaults for the COPY. */
static int server_table(struct pg_load *pl, const char *schema, const char *newt, const struct strvec *names,
			const struct strvec *types, char **consts, struct strbuf *err)
{
	struct pg_stream *s = stream_of(pl);
	struct strbuf sql = STRBUF_INIT;
	if (!s->in_tx) {
		if (pg_load_exec(pl->conn, "BEGIN", err) < 0) {
			strbuf_release(&sql);
			return -1;
		}
		s->in_tx = 1;
	}
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
	strbuf_add_sql_ident(&sql, schema);
	strbuf_addf(&sql, "; DROP TABLE IF EXISTS %s; CREATE TABLE %s ", newt, newt);
	pg_load_column_defs(&sql, names, types);
	for (size_t i = 0; i < names->nr; i++) {
		if (!consts[i])
			continue;
		strbuf_addf(&sql, "; ALTER TABLE %s ALTER COLUMN ", newt);
		strbuf_add_sql_ident(&sql, names->v[i]);
		strbuf_addstr(&sql, " SET DEFAULT CAST(");
		strbuf_add_sql_str(&sql, consts[i]);
		strbuf_addstr(&sql, " AS ");
		pg_load_pg_type(&sql, types->v[i]);
		strbuf_addch(&sql, ')');
	}
	int ret = pg_load_exec(pl->conn, sql.buf, err);
	strbuf_release(&sql);
	return ret;
}

static int drop_defaults(struct pg_load *pl, const char *newt, const struct strvec *names, char **consts,
			 struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	for (size_t i = 0; i < names->nr; i++) {
		if (!consts[i])
			continue;
		strbuf_addf(&sql, "%sALTER TABLE %s ALTER COLUMN ", sql.len ? "; " : "", newt);
		strbuf_add_sql_ident(&sql, names->v[i]);
		strbuf_addstr(&sql, " DROP DEFAULT");
	}
	int ret = sql.len ? pg_load_exec(pl->conn, sql.buf, err) : 0;
	strbuf_release(&sql);
	return ret;
}

/* The DuckDB result into COPY newt (cols) FROM STDIN in binary: 1 sent,
 * 0 when a column has no binary encoding (nothing sent), -1 with err. */
static int copy_stream(struct pg_load *pl, const char *select, const char *newt, const char *cols, int64_t *rows,
		       struct strbuf *err)
{
	struct strbuf target = STRBUF_INIT;
	strbuf_addf(&target, "%s %s", newt, cols);
	/* FREEZE: the table was made in this transaction */
	int r = pg_load_copy_binary(pl, select, target.buf, 1, 1, rows, err);
	strbuf_release(&target);
	return r < 0 ? -1 : r == 1 ? 0 : 1;
}

int pg_stream_batch(struct pg_load *pl, struct warehouse *stage, struct sync_job *job, const struct sync_batch *b,
		    const char *schema, const char *table, const char *select, int64_t *rows, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT, types = STRVEC_INIT;
	struct strbuf what = STRBUF_INIT, sel = STRBUF_INIT, cols = STRBUF_INIT, newt = STRBUF_INIT,
		      nname = STRBUF_INIT;
	char **defaults = NULL, **consts = NULL;
	int ret = 0;
	*rows = 0;
	if (!pl || !streamable(job, b))
		return 0;
	ret = -1;
	strbuf_add_sql_ident(&what, schema);
	strbuf_addch(&what, '.');
	strbuf_add_sql_ident(&what, table);
	if (warehouse_describe(stage, what.buf, &names, &types, err) < 0)
		goto out;
	defaults = xcalloc(names.nr + 1, sizeof(*defaults));
	consts = xcalloc(names.nr + 1, sizeof(*consts));
	if (read_defaults(stage, schema, table, &names, defaults, err) < 0)
		goto out;
	/* the columns sent, in the table's order: the batch's, and a default
	 * that differs row by row (_dlt_id's uuid) computed by DuckDB; a
	 * constant goes as the server table's default, as from the stage */
	strbuf_addstr(&sel, "SELECT ");
	strbuf_addch(&cols, '(');
	for (size_t i = 0, n = 0; i < names.nr; i++) {
		if (defaults[i] && is_constant_column(names.v[i])) {
			if (!(consts[i] = eval_constant(stage, defaults[i], types.v[i], err)))
				goto out;
			continue;
		}
		strbuf_addstr(&sel, n ? ", CAST(" : "CAST(");
		strbuf_addstr(&cols, n++ ? ", " : "");
		strbuf_add_sql_ident(&cols, names.v[i]);
		if (defaults[i]) {
			strbuf_addstr(&sel, defaults[i]);
		} else {
			strbuf_addstr(&sel, "q.");
			strbuf_add_sql_ident(&sel, names.v[i]);
		}
		strbuf_addf(&sel, " AS %s)", types.v[i]);
	}
	strbuf_addch(&cols, ')');
	strbuf_addf(&sel, " FROM (SELECT %s FROM %s) AS q", select, b->relation);
	strbuf_addf(&nname, "%s__dango_new", b->resource);
	strbuf_add_sql_ident(&newt, schema);
	strbuf_addch(&newt, '.');
	strbuf_add_sql_ident(&newt, nname.buf);
	if (server_table(pl, schema, newt.buf, &names, &types, consts, err) < 0)
		goto out;
	ret = copy_stream(pl, sel.buf, newt.buf, cols.buf, rows, err);
	if (ret == 0) { /* no binary encoding: the stage path */
		strbuf_reset(&sel);
		strbuf_addf(&sel, "DROP TABLE %s", newt.buf);
		ret = pg_load_exec(pl->conn, sel.buf, err) < 0 ? -1 : 0;
		goto out;
	}
	if (ret < 0 || drop_defaults(pl, newt.buf, &names, consts, err) < 0) {
		ret = -1;
		goto out;
	}
	struct pg_stream *s = stream_of(pl);
	strvec_push(&s->tables, b->resource);
	s->rows = xrealloc(s->rows, s->tables.nr * sizeof(*s->rows));
	s->cols = xrealloc(s->cols, s->tables.nr * sizeof(*s->cols));
	s->taken = xrealloc(s->taken, s->tables.nr * sizeof(*s->taken));
	s->taken[s->tables.nr - 1] = 0;
	s->rows[s->tables.nr - 1] = *rows;
	s->cols[s->tables.nr - 1] = names.nr;
	ret = 1;
out:
	for (size_t i = 0; defaults && i < names.nr; i++) {
		free(defaults[i]);
		free(consts[i]);
	}
	free(defaults);
	free(consts);
	strvec_clear(&names);
	strvec_clear(&types);
	strbuf_release(&what);
	strbuf_release(&sel);
	strbuf_release(&cols);
	strbuf_release(&newt);
	strbuf_release(&nname);
	return ret;
}

void pg_stream_reset(struct pg_load *pl)
{
	struct pg_stream *s = pl ? pl->stream : NULL;
	if (!s)
		return;
	strvec_clear(&s->tables);
	free(s->rows);
	free(s->cols);
	free(s->taken);
	free(s);
	pl->stream = NULL;
}

void pg_stream_rollback(struct pg_load *pl)
{
	if (!pl || !pl->stream)
		return;
	if (pl->stream->in_tx && pl->conn) {
		struct strbuf e = STRBUF_INIT;
		pg_load_exec(pl->conn, "ROLLBACK", &e);
		strbuf_release(&e);
	}
	pg_stream_reset(pl);
}

int pg_stream_in_tx(const struct pg_load *pl)
{
	return pl->stream && pl->stream->in_tx;
}

static ssize_t find(const struct pg_load *pl, const char *table)
{
	for (size_t i = 0; pl->stream && i < pl->stream->tables.nr; i++)
		if (!strcmp(pl->stream->tables.v[i], table))
			return (ssize_t)i;
	return -1;
}

int64_t pg_stream_rows(const struct pg_load *pl, const char *table)
{
	ssize_t i = find(pl, table);
	return i < 0 ? 0 : pl->stream->rows[i];
}

int pg_stream_taken(struct pg_load *pl, const char *table, size_t ncols, int64_t staged, int64_t *rows,
		    struct strbuf *err)
{
	ssize_t i = find(pl, table);
	if (i < 0)
		return 0;
	*rows = pl->stream->rows[i];
	if (staged != *rows || ncols != pl->stream->cols[i]) {
		strbuf_addf(err, "postgres warehouse: %s changed after its rows were sent (%lld rows and %zu columns "
			    "sent, %lld rows and %zu columns now); nothing was changed",
			    table, (long long)*rows, pl->stream->cols[i], (long long)staged, ncols);
		return -1;
	}
	pl->stream->taken[i] = 1;
	return 1;
}

int pg_stream_check_taken(const struct pg_load *pl, struct strbuf *err)
{
	for (size_t i = 0; pl->stream && i < pl->stream->tables.nr; i++)
		if (!pl->stream->taken[i]) {
			strbuf_addf(err, "postgres warehouse: the rows sent for %s were not published; nothing was changed",
				    pl->stream->tables.v[i]);
			return -1;
		}
	return 0;
}
