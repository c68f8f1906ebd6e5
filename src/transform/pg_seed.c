/* Seeds on a postgres target.
 *
 * dbt reads a seed with agate and creates its table with the adapter's
 * names for agate's types. Dango lets DuckDB read and type the CSV (as
 * the DuckDB target does, so that both targets agree on what a column
 * is), maps DuckDB's types to the ones dbt-postgres gives (integer,
 * float8, boolean, date, timestamp without time zone, text), and sends
 * the rows in COPY's text format: one round trip, never an INSERT a row.
 * A column named in column_types is read as text and typed by the
 * server on the way in, with the type as written. */
#include "transform/pg.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct seed_cols {
	struct strvec names, duck, pg; /* the CSV's header, DuckDB's type, the table's type */
};

static int starts_with_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

static int duck_is_int(const char *t)
{
	static const char *const ints[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
					    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", NULL };
	for (const char *const *i = ints; *i; i++)
		if (!strcasecmp(t, *i))
			return 1;
	return 0;
}

/* agate's type of a DuckDB column, as dbt-postgres names it (integer
 * is decided later, from the values) */
static const char *pg_type_of(const char *t)
{
	if (!strcasecmp(t, "BOOLEAN"))
		return "boolean";
	if (!strcasecmp(t, "DOUBLE") || !strcasecmp(t, "FLOAT") || starts_with_ci(t, "DECIMAL"))
		return "float8";
	if (!strcasecmp(t, "DATE"))
		return "date";
	if (starts_with_ci(t, "TIMESTAMP"))
		return "timestamp without time zone";
	return "text"; /* VARCHAR, and TIME, which agate does not have */
}

/* read_csv(file, ...) with the seed's delimiter, the given columns as text */
static void csv_source(struct strbuf *src, const struct dbt_node *n)
{
	const char *delim = dbt_config_str(n, "delimiter");
	const struct jval *types = jval_dict_get(n->config, "column_types");
	strbuf_addstr(src, "read_csv(");
	strbuf_add_sql_str(src, n->abs_file);
	strbuf_addstr(src, ", header = true, auto_detect = true, delim = ");
	strbuf_add_sql_str(src, delim ? delim : ",");
	if (types && types->type == JVAL_DICT && jval_len(*types)) {
		strbuf_addstr(src, ", types = {");
		const struct jval *k, *v;
		for (size_t i = 0; jval_dict_entry(*types, i, &k, &v); i++) {
			strbuf_addstr(src, i ? ", " : "");
			strbuf_add_sql_str(src, jval_str_cstr(*k));
			strbuf_addstr(src, ": 'VARCHAR'");
		}
		strbuf_addch(src, '}');
	}
	strbuf_addch(src, ')');
}

static int describe(struct warehouse *wh, const char *src, struct seed_cols *c, struct strbuf *err)
{
	struct strbuf what = STRBUF_INIT;
	strbuf_addf(&what, "SELECT * FROM %s", src);
	int ret = warehouse_describe(wh, what.buf, &c->names, &c->duck, err);
	strbuf_release(&what);
	return ret;
}

/* Whole-number columns are integer, as agate's; bigint (or numeric) when
 * a value does not fit, where dbt-postgres would fail to insert it. */
static int integer_types(struct warehouse *wh, const char *src, struct seed_cols *c, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addstr(&sql, "SELECT ");
	int any = 0;
	for (size_t i = 0; i < c->names.nr; i++) {
		if (!duck_is_int(c->duck.v[i]) || c->pg.v[i])
			continue;
		strbuf_addstr(&sql, any ? ", " : "");
		any = 1;
		strbuf_addstr(&sql, "CASE WHEN coalesce(bool_and(CAST(");
		strbuf_add_sql_ident(&sql, c->names.v[i]);
		strbuf_addstr(&sql, " AS HUGEINT) BETWEEN -2147483648 AND 2147483647), true) THEN 'integer' WHEN "
				    "coalesce(bool_and(CAST(");
		strbuf_add_sql_ident(&sql, c->names.v[i]);
		strbuf_addstr(&sql, " AS HUGEINT) BETWEEN -9223372036854775808 AND 9223372036854775807), true) THEN "
				    "'bigint' ELSE 'numeric' END");
	}
	strbuf_addf(&sql, " FROM %s", src);
	int ret = 0;
	if (any) {
		struct wh_result r;
		ret = warehouse_query(wh, sql.buf, &r, err);
		for (size_t i = 0, k = 0; ret == 0 && i < c->names.nr; i++) {
			if (!duck_is_int(c->duck.v[i]) || c->pg.v[i])
				continue;
			char *t = r.rows ? wh_result_str(&r, 0, k) : NULL;
			c->pg.v[i] = xstrdup(t ? t : "integer");
			free(t);
			k++;
		}
		if (ret == 0)
			wh_result_free(&r);
	}
	strbuf_release(&sql);
	return ret;
}

/* The table's column types: column_types as written, else from DuckDB's. */
static int seed_types(struct warehouse *wh, const struct dbt_node *n, const char *src, struct seed_cols *c,
		      struct strbuf *err)
{
	const struct jval *types = jval_dict_get(n->config, "column_types");
	if (describe(wh, src, c, err) < 0)
		return -1;
	for (size_t i = 0; i < c->names.nr; i++) {
		const struct jval *given = types && types->type == JVAL_DICT ? jval_dict_get(*types, c->names.v[i]) : NULL;
		char *t = given ? jval_to_cstr(*given) : NULL;
		strvec_push(&c->pg, t ? t : duck_is_int(c->duck.v[i]) ? "" : pg_type_of(c->duck.v[i]));
		free(t);
		if (!*c->pg.v[i]) {
			free(c->pg.v[i]);
			c->pg.v[i] = NULL; /* decided by integer_types */
		}
	}
	return integer_types(wh, src, c, err);
}

static void column_name(struct strbuf *sb, const char *name, int quote)
{
	if (quote)
		strbuf_add_sql_ident(sb, name);
	else
		strbuf_addstr(sb, name); /* as dbt: unquoted, folded by the server */
}

static void rel(struct strbuf *sb, const struct dbt_node *n)
{
	strbuf_add_sql_ident(sb, n->schema);
	strbuf_addch(sb, '.');
	strbuf_add_sql_ident(sb, n->alias ? n->alias : n->name);
}

/* COPY's text format: \N for NULL, backslash escapes for the rest */
static void copy_value(struct strbuf *sb, const char *v)
{
	if (!v) {
		strbuf_addstr(sb, "\\N");
		return;
	}
	for (; *v; v++) {
		switch (*v) {
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		default: strbuf_addch(sb, *v);
		}
	}
}

static int pg_fail(PGresult *r, struct strbuf *err)
{
	strbuf_addf(err, "Database Error: %s", PQresultErrorMessage(r));
	strbuf_rtrim(err);
	PQclear(r);
	return -1;
}

/* The rows, read by DuckDB, into the table with one COPY. */
static int copy_rows(PGconn *c, struct warehouse *wh, const struct dbt_node *n, const char *src,
		     const struct seed_cols *cols, int quote, int64_t *rows, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, data = STRBUF_INIT;
	struct wh_result r;
	strbuf_addf(&sql, "SELECT * FROM %s", src);
	int ret = warehouse_query(wh, sql.buf, &r, err);
	strbuf_reset(&sql);
	if (ret < 0)
		goto out;
	strbuf_addstr(&sql, "copy ");
	rel(&sql, n);
	strbuf_addstr(&sql, " (");
	for (size_t i = 0; i < cols->names.nr; i++) {
		strbuf_addstr(&sql, i ? ", " : "");
		column_name(&sql, cols->names.v[i], quote);
	}
	strbuf_addstr(&sql, ") from stdin");
	PGresult *pr = PQexec(c, sql.buf);
	if (PQresultStatus(pr) != PGRES_COPY_IN) {
		wh_result_free(&r);
		ret = pg_fail(pr, err);
		goto out;
	}
	PQclear(pr);
	int sent = 0;
	for (size_t i = 0; i < r.rows && sent >= 0; i++) {
		for (size_t k = 0; k < r.cols; k++) {
			char *v = wh_result_str(&r, i, k);
			if (k)
				strbuf_addch(&data, '\t');
			copy_value(&data, v);
			free(v);
		}
		strbuf_addch(&data, '\n');
		if (data.len >= 1 << 16 || i + 1 == r.rows) {
			sent = PQputCopyData(c, data.buf, (int)data.len) == 1 ? 0 : -1;
			strbuf_reset(&data);
		}
	}
	wh_result_free(&r);
	if (sent < 0 || PQputCopyEnd(c, NULL) != 1) {
		strbuf_addf(err, "Database Error: %s", PQerrorMessage(c));
		strbuf_rtrim(err);
		ret = -1;
	}
	/* the COPY's result, then the end of it */
	while ((pr = PQgetResult(c))) {
		if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
			if (!ret)
				pg_fail(pr, err);
			else
				PQclear(pr);
			ret = -1;
			continue;
		}
		*rows = strtoll(PQcmdTuples(pr), NULL, 10);
		PQclear(pr);
	}
out:
	strbuf_release(&sql);
	strbuf_release(&data);
	return ret;
}

int dbt_pg_seed_load(struct dbt_project *p, struct warehouse *duck, struct dbt_node *n, int full_refresh,
		     int64_t *rows, struct strbuf *err)
{
	PGconn *c = dbt_other_conn(p);
	struct seed_cols cols = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	struct strbuf src = STRBUF_INIT, sql = STRBUF_INIT;
	const struct jval *qc = jval_dict_get(n->config, "quote_columns");
	int quote = !(qc && qc->type == JVAL_BOOL && !qc->u.b), ret = -1;
	*rows = 0;
	csv_source(&src, n);
	if (seed_types(duck, n, src.buf, &cols, err) < 0)
		goto out;
	const char *had = dbt_pg_refresh_kind(p, n->schema, n->alias ? n->alias : n->name);
	if (had && !strcmp(had, "table") && !full_refresh) {
		strbuf_addstr(&sql, "truncate table ");
		rel(&sql, n);
	} else {
		if (had) {
			strbuf_addf(&sql, "drop %s if exists ", had);
			rel(&sql, n);
			strbuf_addstr(&sql, " cascade; ");
		}
		strbuf_addstr(&sql, "create table ");
		rel(&sql, n);
		strbuf_addstr(&sql, " (");
		for (size_t i = 0; i < cols.names.nr; i++) {
			strbuf_addstr(&sql, i ? ", " : "");
			column_name(&sql, cols.names.v[i], quote);
			strbuf_addf(&sql, " %s", cols.pg.v[i]);
		}
		strbuf_addch(&sql, ')');
	}
	if (dbt_pg_exec(p, sql.buf, err) < 0)
		goto out;
	ret = copy_rows(c, duck, n, src.buf, &cols, quote, rows, err);
out:
	strvec_clear(&cols.names);
	strvec_clear(&cols.duck);
	strvec_clear(&cols.pg);
	strbuf_release(&src);
	strbuf_release(&sql);
	return ret;
}
