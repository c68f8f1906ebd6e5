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
	char now[64];
	{
		time_t s = (time_t)f->now;
		struct tm tm;
		gmtime_r(&s, &tm);
		strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", &tm);
	}
	strbuf_addf(&sql, "select cast(max(%s) as varchar), epoch(timestamp '%s') - epoch(max(%s)) from %s",
		    n->loaded_at_field, now, n->loaded_at_field, rel.buf);
	if (filter && jval_str_cstr(*filter))
		strbuf_addf(&sql, " where %s", jval_str_cstr(*filter));
	struct wh_result r;
	if (warehouse_query(wh, sql.buf, &r, &err) < 0)
		goto out;
	char *max = r.rows ? wh_result_str(&r, 0, 0) : NULL;
	char *age = r.rows ? wh_result_str(&r, 0, 1) : NULL;
	wh_result_free(&r);
	if (!max || !age) {
		strbuf_addf(&err, "source '%s.%s': no rows to read %s from", n->source_name, n->name, n->loaded_at_field);
		free(max);
		free(age);
		goto out;
	}
	f->max_loaded_at = max;
	f->age = strtod(age, NULL);
	free(age);
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
