/* dbt unit tests (dbt 1.8 `unit_tests:`): the model's SQL compiled with
 * each `given` input as a CTE of fixed rows, compared with the `expect`
 * rows.
 *
 * Inputs: ref('x'), source('s', 't') or this (for is_incremental), rows
 * as dict (a YAML list of mappings), csv (a string with a header line) or
 * sql (a query), inline or in a fixture file (tests/fixtures/NAME.csv or
 * .sql). A dict or csv input has every column of the real relation, the
 * ones not given NULL, each cast to the relation's type, as dbt does; the
 * expected rows are cast to the types of the model's result and compared
 * on the columns they name only. The comparison is of multisets (EXCEPT
 * ALL both ways); a failure lists the rows only in the result (+++) and
 * only in the expectation (---), as dbt's diff does.
 *
 * overrides: macros (is_incremental and any other by name: the value is
 * what the call returns), vars and env_vars. A seed or ephemeral parent
 * without a given input is used as it is; any other parent without one is
 * an error, as dbt reports it. */
#include "transform/dbt.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "transform/pg.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* err gets prefix in front of what it says */
static void prefix(struct strbuf *err, const char *what, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, what, arg);
	strbuf_insert(err, 0, sb.buf, sb.len);
	strbuf_release(&sb);
}

struct ucols {
	struct strvec names, types;
};

static void ucols_clear(struct ucols *c)
{
	strvec_clear(&c->names);
	strvec_clear(&c->types);
}

static int describe(struct dbt_project *p, struct warehouse *wh, const char *query, struct ucols *c,
		    struct strbuf *err)
{
	if (!wh && dbt_pg_live(p)) /* a postgres target (pg_target.c) */
		return dbt_pg_describe(p, query, &c->names, &c->types, err);
	struct strbuf what = STRBUF_INIT;
	strbuf_addf(&what, "(SELECT * FROM (\n%s\n) dbt_unit)", query);
	int ret = warehouse_describe(wh, what.buf, &c->names, &c->types, err);
	strbuf_release(&what);
	return ret;
}

static long col_at(const struct ucols *c, const char *name)
{
	for (size_t i = 0; i < c->names.nr; i++)
		if (!strcasecmp(c->names.v[i], name))
			return (long)i;
	return -1;
}

static void literal(struct strbuf *sb, struct jval v)
{
	switch (v.type) {
	case JVAL_NONE:
	case JVAL_UNDEFINED:
		strbuf_addstr(sb, "NULL");
		break;
	case JVAL_BOOL:
		strbuf_addstr(sb, v.u.b ? "true" : "false");
		break;
	case JVAL_INT:
		strbuf_addf(sb, "%lld", (long long)v.u.i);
		break;
	case JVAL_FLOAT:
		strbuf_addf(sb, "%.17g", v.u.f);
		break;
	default: {
		char *s = jval_to_cstr(v);
		strbuf_add_sql_str(sb, s);
		free(s);
	}
	}
}

/* One CSV line into fields ("a","b" quoting, "" for a quote). */
static void csv_fields(const char *line, struct strvec *out)
{
	struct strbuf f = STRBUF_INIT;
	const char *s = line;
	for (;;) {
		strbuf_reset(&f);
		while (*s == ' ')
			s++;
		if (*s == '"') {
			s++;
			while (*s && !(*s == '"' && s[1] != '"')) {
				if (*s == '"')
					s++;
				strbuf_addch(&f, *s++);
			}
			if (*s == '"')
				s++;
			while (*s && *s != ',')
				s++;
		} else {
			while (*s && *s != ',')
				strbuf_addch(&f, *s++);
			strbuf_trim(&f);
		}
		strvec_push(out, f.buf);
		if (*s != ',')
			break;
		s++;
	}
	strbuf_release(&f);
}

/* csv text as a list of dicts (strings; an empty field is null) */
static struct jval csv_rows(const char *text)
{
	struct jval rows = jval_list_new();
	struct strvec header = STRVEC_INIT;
	char *copy = xstrdup(text), *save, *line;
	int first = 1;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		const char *t = line;
		while (isspace((unsigned char)*t))
			t++;
		if (!*t)
			continue;
		struct strvec f = STRVEC_INIT;
		csv_fields(t, &f);
		if (first) {
			for (size_t i = 0; i < f.nr; i++)
				strvec_push(&header, f.v[i]);
			first = 0;
		} else {
			struct jval d = jval_dict_new();
			for (size_t i = 0; i < header.nr; i++)
				jval_dict_set(d, header.v[i], i < f.nr && *f.v[i] ? jval_str(f.v[i]) : jval_none());
			jval_list_append(rows, d);
		}
		strvec_clear(&f);
	}
	free(copy);
	strvec_clear(&header);
	return rows;
}

/* A fixture file's text: tests/fixtures/NAME.csv or .sql under a test path. */
static int read_fixture(struct dbt_project *p, const char *name, const char *format, struct strbuf *out,
			const char **fmt_out, struct strbuf *err)
{
	static const char *const exts[] = { "csv", "sql" };
	for (size_t d = 0; d < p->test_paths.nr; d++)
		for (size_t e = 0; e < 2; e++) {
			if (format && strcmp(format, exts[e]))
				continue;
			struct strbuf path = STRBUF_INIT;
			strbuf_addf(&path, "%s/%s/fixtures/%s.%s", p->dir, p->test_paths.v[d], name, exts[e]);
			int ok = strbuf_read_file(out, path.buf) == 0;
			strbuf_release(&path);
			if (ok) {
				*fmt_out = exts[e];
				return 0;
			}
		}
	strbuf_addf(err, "fixture '%s' not found (looked for %s/fixtures/%s.csv and .sql)", name,
		    p->test_paths.nr ? p->test_paths.v[0] : "tests", name);
	return -1;
}

/* The rows of a given or an expect as SQL. cols: the relation's columns
 * and types (maybe none); all: every one of them, not only those named. */
static int rows_sql(struct dbt_project *p, const struct jval *spec, const struct ucols *cols, int all,
		    struct strbuf *out, struct strbuf *err)
{
	const struct jval *fv = jval_dict_get(*spec, "format"), *rv = jval_dict_get(*spec, "rows");
	const struct jval *fx = jval_dict_get(*spec, "fixture");
	const char *format = fv ? jval_str_cstr(*fv) : NULL;
	struct strbuf text = STRBUF_INIT;
	struct jval rows = jval_none();
	int ret = -1;
	if (format && strcmp(format, "dict") && strcmp(format, "csv") && strcmp(format, "sql")) {
		strbuf_addf(err, "unknown format '%s' (dict, csv or sql)", format);
		goto out;
	}
	if (fx && jval_str_cstr(*fx)) {
		const char *got = NULL;
		if (read_fixture(p, jval_str_cstr(*fx), format, &text, &got, err) < 0)
			goto out;
		format = got;
	} else if (rv && jval_str_cstr(*rv)) {
		strbuf_addstr(&text, jval_str_cstr(*rv));
		if (!format)
			format = "csv";
	}
	if (format && !strcmp(format, "sql")) {
		strbuf_addbuf(out, &text);
		ret = 0;
		goto out;
	}
	if (format && !strcmp(format, "csv") && text.len)
		rows = csv_rows(text.buf);
	else if (rv && rv->type == JVAL_LIST)
		rows = jval_ref(*rv);
	else if (rv && rv->type != JVAL_NONE) {
		strbuf_addstr(err, "'rows' must be a list of mappings (format: dict), or a string for csv and sql");
		goto out;
	} else
		rows = jval_list_new();
	/* the columns: the relation's (all of them for an input), else
	 * those the rows name, in the order they first appear */
	struct strvec names = STRVEC_INIT;
	if (all)
		for (size_t i = 0; i < cols->names.nr; i++)
			strvec_push(&names, cols->names.v[i]);
	for (size_t r = 0; r < jval_len(rows); r++) {
		const struct jval *row = jval_list_at(rows, r);
		const struct jval *k, *v;
		if (row->type != JVAL_DICT) {
			strbuf_addf(err, "row %zu is not a mapping of column names to values", r + 1);
			strvec_clear(&names);
			goto out;
		}
		for (size_t i = 0; jval_dict_entry(*row, i, &k, &v); i++) {
			int had = 0;
			for (size_t j = 0; j < names.nr && !had; j++)
				had = !strcasecmp(names.v[j], jval_str_cstr(*k));
			if (!had) {
				if (all && cols->names.nr) {
					strbuf_addf(err, "column '%s' of the given rows is not a column of the input",
						    jval_str_cstr(*k));
					strvec_clear(&names);
					goto out;
				}
				strvec_push(&names, jval_str_cstr(*k));
			}
		}
	}
	if (!names.nr) {
		strbuf_addstr(err, "no rows and no known columns");
		goto out;
	}
	size_t nrows = jval_len(rows);
	for (size_t r = 0; r < (nrows ? nrows : 1); r++) {
		const struct jval *row = nrows ? jval_list_at(rows, r) : NULL;
		strbuf_addstr(out, r ? "\nunion all\nselect " : "select ");
		for (size_t i = 0; i < names.nr; i++) {
			const struct jval *v = NULL;
			const struct jval *k, *vv;
			for (size_t j = 0; row && jval_dict_entry(*row, j, &k, &vv); j++)
				if (!strcasecmp(jval_str_cstr(*k), names.v[i]))
					v = vv;
			long c = col_at(cols, names.v[i]);
			if (i)
				strbuf_addstr(out, ", ");
			if (c >= 0) {
				strbuf_addstr(out, "cast(");
				literal(out, v ? *v : jval_none());
				strbuf_addf(out, " as %s)", cols->types.v[c]);
			} else {
				literal(out, v ? *v : jval_none());
			}
			strbuf_addstr(out, " as ");
			strbuf_add_sql_ident(out, names.v[i]);
		}
		if (!nrows)
			strbuf_addstr(out, " where false");
	}
	strvec_clear(&names);
	ret = 0;
out:
	jval_unref(rows);
	strbuf_release(&text);
	return ret;
}

/* "ref('x')", "ref('pkg', 'x')", "source('s', 't')", "this": the fixture
 * key and the node it stands for (NULL for this: the model). */
static int parse_input(struct dbt_project *p, const char *in, struct strbuf *key, struct dbt_node **node,
		       struct strbuf *err)
{
	const char *s = in;
	while (isspace((unsigned char)*s))
		s++;
	*node = NULL;
	if (!strncmp(s, "this", 4) && !isalnum((unsigned char)s[4]) && s[4] != '_') {
		strbuf_addstr(key, "this");
		return 0;
	}
	int is_ref = !strncmp(s, "ref", 3), is_src = !strncmp(s, "source", 6);
	if (!is_ref && !is_src)
		goto bad;
	s += is_ref ? 3 : 6;
	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '(')
		goto bad;
	char args[2][256];
	int n = 0;
	while (n < 2) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '\'' && *s != '"')
			break;
		char q = *s++;
		size_t l = 0;
		while (*s && *s != q && l < sizeof(args[0]) - 1)
			args[n][l++] = *s++;
		args[n][l] = '\0';
		if (*s++ != q)
			goto bad;
		n++;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == ',')
			s++;
	}
	if (is_ref && (n == 1 || n == 2)) {
		const char *name = args[n - 1];
		strbuf_addstr(key, name);
		*node = dbt_project_find(p, name);
		if (!*node || (*node)->kind == NODE_SOURCE) {
			strbuf_addf(err, "given input %s: no model, seed or snapshot named '%s'", in, name);
			return -1;
		}
		return 0;
	}
	if (is_src && n == 2) {
		strbuf_addf(key, "source:%s.%s", args[0], args[1]);
		*node = dbt_project_find(p, key->buf);
		if (!*node) {
			strbuf_addf(err, "given input %s: no source '%s.%s'", in, args[0], args[1]);
			return -1;
		}
		return 0;
	}
bad:
	strbuf_addf(err, "given input '%s' must be ref('name'), source('source', 'table') or this", in);
	return -1;
}

static int relation_exists(struct dbt_project *p, struct warehouse *wh, struct dbt_node *n)
{
	return n->schema && dbt_catalog_get(p, wh, n->schema, n->alias ? n->alias : n->name) != NULL;
}

static void dict_or_new(struct jval *dst, const struct jval *over, const char *key)
{
	const struct jval *v = over && over->type == JVAL_DICT ? jval_dict_get(*over, key) : NULL;
	*dst = v && v->type == JVAL_DICT ? jval_ref(*v) : jval_dict_new();
}

/* Each given input into u->fixtures. */
static int givens(struct dbt_project *p, struct dbt_node *n, struct dbt_node *model, struct warehouse *wh,
		  struct dbt_unit *u, struct strbuf *err)
{
	const struct jval *given = jval_dict_get(n->test_kwargs, "given");
	for (size_t i = 0; given && given->type == JVAL_LIST && i < jval_len(*given); i++) {
		const struct jval *g = jval_list_at(*given, i);
		const struct jval *in = g->type == JVAL_DICT ? jval_dict_get(*g, "input") : NULL;
		if (!in || !jval_str_cstr(*in)) {
			strbuf_addf(err, "given %zu has no 'input'", i + 1);
			return -1;
		}
		struct strbuf key = STRBUF_INIT, sql = STRBUF_INIT, rel = STRBUF_INIT;
		struct dbt_node *t;
		struct ucols cols = { STRVEC_INIT, STRVEC_INIT };
		int r = parse_input(p, jval_str_cstr(*in), &key, &t, err);
		if (r == 0) {
			struct dbt_node *typed = t ? t : model;
			if (relation_exists(p, wh, typed)) {
				struct strbuf e2 = STRBUF_INIT;
				dbt_node_relation_sql(&rel, typed);
				strbuf_insert(&rel, 0, "select * from ", 14);
				describe(p, wh, rel.buf, &cols, &e2);
				strbuf_release(&e2);
			}
			r = rows_sql(p, g, &cols, 1, &sql, err);
			if (r < 0)
				prefix(err, "given input %s: ", jval_str_cstr(*in));
		}
		if (r == 0)
			jval_dict_set(u->fixtures, key.buf, jval_str(sql.buf));
		strbuf_release(&key);
		strbuf_release(&sql);
		strbuf_release(&rel);
		ucols_clear(&cols);
		if (r < 0)
			return -1;
	}
	/* every direct parent needs an input, but seeds and ephemerals */
	for (size_t k = 0; k < model->nparents; k++) {
		struct dbt_node *t = p->nodes[model->parents[k]];
		struct strbuf key = STRBUF_INIT;
		if (t->kind == NODE_TEST)
			continue; /* dango build: the model waits for its tests */
		if (t->kind == NODE_SOURCE)
			strbuf_addf(&key, "source:%s.%s", t->source_name, t->name);
		else
			strbuf_addstr(&key, t->name);
		int missing = !jval_dict_get(u->fixtures, key.buf) && t->kind != NODE_SEED &&
			      !(t->kind == NODE_MODEL && t->mat == MAT_EPHEMERAL);
		if (missing)
			strbuf_addf(err, "model '%s' depends on %s, which has no given input in unit test '%s'",
				    model->name,
				    t->kind == NODE_SOURCE ? key.buf + strlen("source:") : t->name, n->name);
		strbuf_release(&key);
		if (missing)
			return -1;
	}
	return 0;
}

/* The differing rows, as dbt prints them: a header, then +++ for a row
 * only in the result and --- for a row only in the expectation. */
static void print_diff(struct strbuf *msg, struct wh_result *r)
{
	strbuf_addstr(msg, "actual differs from expected:\n\n@@");
	for (size_t c = 1; c < r->cols; c++)
		strbuf_addf(msg, ",%s", wh_result_name(r, c));
	for (size_t i = 0; i < r->rows; i++) {
		strbuf_addch(msg, '\n');
		for (size_t c = 0; c < r->cols; c++) {
			char *v = wh_result_str(r, i, c);
			strbuf_addf(msg, "%s%s", c ? "," : "", v ? v : "NULL");
			free(v);
		}
	}
}

void dbt_unit_run(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct dbt_result *res,
		  struct strbuf *log, struct strbuf *err)
{
	struct dbt_node *model = p->nodes[n->unit_model];
	struct dbt_unit u;
	const struct jval *over = jval_dict_get(n->test_kwargs, "overrides");
	struct strbuf exp = STRBUF_INIT, sql = STRBUF_INIT, cols = STRBUF_INIT;
	struct ucols actual = { STRVEC_INIT, STRVEC_INIT }, expc = { STRVEC_INIT, STRVEC_INIT };
	char *compiled = NULL;
	u.fixtures = jval_dict_new();
	dict_or_new(&u.macros, over, "macros");
	dict_or_new(&u.vars, over, "vars");
	dict_or_new(&u.env_vars, over, "env_vars");
	res->status = DBT_ERROR;
	if (givens(p, n, model, wh, &u, err) < 0)
		goto out;
	compiled = dbt_compile_unit(p, model, wh, &u, err);
	if (!compiled)
		goto out;
	free(n->compiled_sql);
	n->compiled_sql = xstrdup(compiled);
	{
		/* a trailing semicolon would end the wrapping query */
		size_t l = strlen(compiled);
		while (l && (isspace((unsigned char)compiled[l - 1]) || compiled[l - 1] == ';'))
			compiled[--l] = '\0';
	}
	if (describe(p, wh, compiled, &actual, err) < 0)
		goto out;
	const struct jval *expect = jval_dict_get(n->test_kwargs, "expect");
	if (!expect || expect->type != JVAL_DICT) {
		strbuf_addstr(err, "'expect' must be a mapping with rows (or a fixture)");
		goto out;
	}
	if (rows_sql(p, expect, &actual, 0, &exp, err) < 0) {
		prefix(err, "%s", "expect: ");
		goto out;
	}
	if (describe(p, wh, exp.buf, &expc, err) < 0)
		goto out;
	for (size_t i = 0; i < expc.names.nr; i++) {
		if (col_at(&actual, expc.names.v[i]) < 0) {
			strbuf_addf(err, "expect: column '%s' is not a column of model '%s' (it has: ", expc.names.v[i],
				    model->name);
			for (size_t k = 0; k < actual.names.nr; k++)
				strbuf_addf(err, "%s%s", k ? ", " : "", actual.names.v[k]);
			strbuf_addch(err, ')');
			goto out;
		}
		if (i)
			strbuf_addstr(&cols, ", ");
		strbuf_add_sql_ident(&cols, expc.names.v[i]);
	}
	strbuf_addf(&sql,
		    "with dbt_actual as (select %s from (\n%s\n) a), dbt_expected as (select %s from (\n%s\n) e)\n"
		    "select '+++' as \"@@\", * from (select * from dbt_actual except all select * from dbt_expected) x\n"
		    "union all\n"
		    "select '---', * from (select * from dbt_expected except all select * from dbt_actual) y\n"
		    "order by 2, 1",
		    cols.buf, compiled, cols.buf, exp.buf);
	if (log->len)
		strbuf_addstr(log, ";\n");
	strbuf_addstr(log, sql.buf);
	if (!wh && dbt_pg_live(p)) {
		struct strbuf msg = STRBUF_INIT;
		if (dbt_pg_unit_diff(p, sql.buf, &res->rows, &msg, err) == 0) {
			res->status = res->rows ? DBT_FAIL : DBT_PASS;
			free(res->message);
			res->message = res->rows ? strbuf_detach(&msg, NULL) : NULL;
		}
		strbuf_release(&msg);
		goto out;
	}
	struct wh_result r;
	if (warehouse_query(wh, sql.buf, &r, err) < 0)
		goto out;
	res->rows = (int64_t)r.rows;
	if (r.rows) {
		struct strbuf msg = STRBUF_INIT;
		print_diff(&msg, &r);
		res->status = DBT_FAIL;
		free(res->message);
		res->message = strbuf_detach(&msg, NULL);
	} else {
		res->status = DBT_PASS;
	}
	wh_result_free(&r);
out:
	free(compiled);
	jval_unref(u.fixtures);
	jval_unref(u.macros);
	jval_unref(u.vars);
	jval_unref(u.env_vars);
	strbuf_release(&exp);
	strbuf_release(&sql);
	strbuf_release(&cols);
	ucols_clear(&actual);
	ucols_clear(&expc);
}
