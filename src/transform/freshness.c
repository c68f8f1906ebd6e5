/* Source freshness, as `dbt source freshness` checks it: the newest
 * loaded_at_field of a source table (with its filter) against warn_after
 * and error_after ({count, period: minute|hour|day}). "Now" is Dango's
 * clock (DANGO_NOW). A table without freshness is not checked; one with
 * freshness but no loaded_at_field is a runtime error, since DuckDB has no
 * load metadata to ask. */
#include "transform/dbt.h"
#include "core/clock.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double period_seconds(const char *p)
{
	if (!p)
		return -1;
	if (!strcmp(p, "minute"))
		return 60;
	if (!strcmp(p, "hour"))
		return 3600;
	if (!strcmp(p, "day"))
		return 86400;
	return -1;
}

/* seconds of {count, period}; 0 when not set, -1 when wrong */
static double after(const struct jval *fr, const char *key, struct strbuf *err)
{
	const struct jval *a = fr->type == JVAL_DICT ? jval_dict_get(*fr, key) : NULL;
	if (!a || a->type == JVAL_NONE)
		return 0;
	const struct jval *c = a->type == JVAL_DICT ? jval_dict_get(*a, "count") : NULL;
	const struct jval *p = a->type == JVAL_DICT ? jval_dict_get(*a, "period") : NULL;
	double ps = p ? period_seconds(jval_str_cstr(*p)) : -1;
	if (!c || c->type != JVAL_INT || ps < 0) {
		strbuf_addf(err, "freshness %s needs a count and a period (minute, hour or day)", key);
		return -1;
	}
	return (double)c->u.i * ps;
}

int dbt_freshness_wanted(const struct dbt_node *n)
{
	if (n->kind != NODE_SOURCE || n->freshness.type != JVAL_DICT)
		return 0;
	const struct jval *w = jval_dict_get(n->freshness, "warn_after");
	const struct jval *e = jval_dict_get(n->freshness, "error_after");
	return (w && w->type == JVAL_DICT) || (e && e->type == JVAL_DICT);
}

/* The one row of sql: its text and its seconds; *max stays NULL when
 * there is no value (no rows, or only NULLs). On a postgres target the
 * query goes to its connection (p->other_query), else to wh. */
static int read_newest(struct dbt_project *p, struct warehouse *wh, const char *sql, char **max, double *seconds,
		       struct strbuf *err)
{
	*max = NULL;
	if (p->other_query) {
		struct jval names, rows;
		if (p->other_query(dbt_other_conn(p), sql, &names, &rows, err) < 0)
			return -1;
		const struct jval *row = jval_len(rows) ? jval_list_at(rows, 0) : NULL;
		const struct jval *text = row ? jval_list_at(*row, 0) : NULL, *secs = row ? jval_list_at(*row, 1) : NULL;
		if (text && jval_str_cstr(*text) && secs && (secs->type == JVAL_FLOAT || secs->type == JVAL_INT)) {
			*max = xstrdup(jval_str_cstr(*text));
			*seconds = secs->type == JVAL_FLOAT ? secs->u.f : (double)secs->u.i;
		}
		jval_unref(names);
		jval_unref(rows);
		return 0;
	}
	struct wh_result r;
	if (warehouse_query(wh, sql, &r, err) < 0)
		return -1;
	char *text = r.rows ? wh_result_str(&r, 0, 0) : NULL;
	char *secs = r.rows ? wh_result_str(&r, 0, 1) : NULL;
	wh_result_free(&r);
	if (text && secs) {
		*max = text;
		*seconds = strtod(secs, NULL);
	} else {
		free(text);
	}
	free(secs);
	return 0;
}

void dbt_freshness_check(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct dbt_freshness *f)
{
	struct strbuf err = STRBUF_INIT, sql = STRBUF_INIT, rel = STRBUF_INIT;
	memset(f, 0, sizeof(*f));
	f->status = "runtime error";
	f->now = clock_now();
	double warn = after(&n->freshness, "warn_after", &err), error = err.len ? 0 : after(&n->freshness, "error_after", &err);
	f->warn_after = warn;
	f->error_after = error;
	if (err.len)
		goto out;
	if (!n->loaded_at_field) {
		strbuf_addf(&err, "source '%s.%s' has freshness but no loaded_at_field", n->source_name, n->name);
		goto out;
	}
	dbt_node_relation_sql(&rel, n);
	const struct jval *filter = jval_dict_get(n->freshness, "filter");
	/* the newest value as text and as seconds since 1970 (a timestamp
	 * without a zone read as UTC, as dbt does), on either target */
	if (p->other_query)
		strbuf_addf(&sql, "select cast(max(%s) as text), extract(epoch from max(%s)) from %s", n->loaded_at_field,
			    n->loaded_at_field, rel.buf);
	else
		strbuf_addf(&sql, "select cast(max(%s) as varchar), epoch(max(%s)) from %s", n->loaded_at_field,
			    n->loaded_at_field, rel.buf);
	if (filter && jval_str_cstr(*filter))
		strbuf_addf(&sql, " where %s", jval_str_cstr(*filter));
	char *max = NULL;
	double newest = 0;
	if (read_newest(p, wh, sql.buf, &max, &newest, &err) < 0)
		goto out;
	if (!max) {
		strbuf_addf(&err, "source '%s.%s': no rows to read %s from", n->source_name, n->name, n->loaded_at_field);
		goto out;
	}
	f->max_loaded_at = max;
	f->age = floor(f->now) - newest; /* now to the second, as dbt prints it */
	if (error > 0 && f->age > error)
		f->status = "error";
	else if (warn > 0 && f->age > warn)
		f->status = "warn";
	else
		f->status = "pass";
out:
	if (err.len)
		f->message = strbuf_detach(&err, NULL);
	strbuf_release(&err);
	strbuf_release(&sql);
	strbuf_release(&rel);
}

void dbt_freshness_release(struct dbt_freshness *f)
{
	free(f->max_loaded_at);
	free(f->message);
	f->max_loaded_at = f->message = NULL;
}
