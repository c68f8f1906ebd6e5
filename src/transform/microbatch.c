/* dbt 1.9's microbatch incremental strategy, as dbt-core plans the
 * batches and dbt-duckdb writes them:
 *
 *   - the batches run from `begin` (the first build, --full-refresh) or
 *     from `lookback` batches before the current one, or from
 *     --event-time-start, to "now" (Dango's clock) or --event-time-end,
 *     rounded up to the batch_size (hour, day, month, year; UTC);
 *   - each batch renders the model again: a ref or source to a node with
 *     an event_time reads only the batch, `(select * from rel where
 *     et >= 'start' and et < 'end')`, and model.batch has the batch's id,
 *     event_time_start and event_time_end;
 *   - the first batch builds the table when there is none (or on a full
 *     refresh); every other batch is a delete+insert of the batch's time
 *     range, in its own transaction;
 *   - a failed batch does not stop the others (dbt's partial success),
 *     but when the first fails the rest are skipped, as in dbt. */
#include "transform/dbt.h"
#include "transform/materialize.h"
#include "transform/runtime.h"
#include "core/clock.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

enum bsize { B_HOUR, B_DAY, B_MONTH, B_YEAR };
static const char *const bsize_names[] = { "hour", "day", "month", "year", NULL };

static time_t trunc_to(time_t t, enum bsize b)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_min = tm.tm_sec = 0;
	if (b >= B_DAY)
		tm.tm_hour = 0;
	if (b >= B_MONTH)
		tm.tm_mday = 1;
	if (b == B_YEAR)
		tm.tm_mon = 0;
	return timegm(&tm);
}

/* k batches after the batch t is in (timegm normalizes the overflow) */
static time_t offset_by(time_t t, enum bsize b, int k)
{
	struct tm tm;
	t = trunc_to(t, b);
	gmtime_r(&t, &tm);
	switch (b) {
	case B_HOUR: tm.tm_hour += k; break;
	case B_DAY: tm.tm_mday += k; break;
	case B_MONTH: tm.tm_mon += k; break;
	case B_YEAR: tm.tm_year += k; break;
	}
	return timegm(&tm);
}

static time_t ceil_to(time_t t, int frac, enum bsize b)
{
	time_t tr = trunc_to(t, b);
	return tr == t && !frac ? t : offset_by(tr, b, 1);
}

/* Python's str() of a UTC datetime, as dbt puts it in the SQL */
static void fmt_ts(char *buf, size_t len, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S+00:00", &tm);
}

/* dbt's format_batch_start: 2024, 2024-09, 2024-09-17, 2024-09-17T16 */
static void fmt_batch(char *buf, size_t len, time_t t, enum bsize b)
{
	static const char *const f[] = { "%Y-%m-%dT%H", "%Y-%m-%d", "%Y-%m", "%Y" };
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, f[b], &tm);
}

int dbt_parse_event_time(const char *flag, const char *s, time_t *out, struct strbuf *err)
{
	if (s && clock_parse_iso8601(s, out) == 0)
		return 0;
	strbuf_addf(err, "%s: '%s' is not a date or a date-time (2024-01-01, 2024-01-01 10:00:00)", flag,
		    s ? s : "");
	return -1;
}

int dbt_microbatch_filter(const struct dbt_node *reader, const struct dbt_node *t, struct jval rel, struct jval *out)
{
	if (!reader || !reader->in_batch || !t)
		return 0;
	const char *et = dbt_config_str(t, "event_time");
	if (!et || !*et)
		return 0;
	struct strbuf sb = STRBUF_INIT;
	/* dbt-duckdb's relations need no alias (require_alias is False) */
	strbuf_addstr(&sb, "(select * from ");
	jval_write_str(&sb, rel);
	strbuf_addf(&sb, " where %s >= '%s' and %s < '%s')", et, reader->batch_start, et, reader->batch_end);
	/* a relation that prints filtered: ref('x').render() opts out, as in dbt */
	struct dbt_relation *r = dbt_as_relation(rel);
	if (r) {
		*out = dbt_relation_new(r->database, r->schema, r->identifier, r->type, r->show_db);
		dbt_as_relation(*out)->filtered = strbuf_detach(&sb, NULL);
		return 1;
	}
	*out = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 1;
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* "Batch 1 of 3 START batch 2024-01-01 of main.m ....... [RUN]" */
static void batch_line(struct dbt_project *p, size_t i, size_t total, const char *msg, const char *status,
		       double secs)
{
	struct strbuf line = STRBUF_INIT;
	strbuf_addf(&line, "%zu of %zu %s ", i, total, msg);
	if (line.len < 80)
		strbuf_addchars(&line, '.', 80 - line.len);
	if (secs >= 0)
		strbuf_addf(&line, " [%s in %.2fs]", status, secs);
	else
		strbuf_addf(&line, " [%s]", status);
	dbt_log(p, 1, "Batch %s", line.buf);
	strbuf_release(&line);
}

struct plan {
	enum bsize size;
	const char *event_time;
	time_t *starts;
	size_t n;
	time_t end;
};

static int config_int(const struct dbt_node *n, const char *key, int64_t dflt, int64_t *out)
{
	const struct jval *v = jval_dict_get(n->config, key);
	if (!v || v->type == JVAL_NONE) {
		*out = dflt;
		return 0;
	}
	if (v->type == JVAL_INT) {
		*out = v->u.i;
		return 0;
	}
	const char *s = jval_str_cstr(*v);
	char *end;
	if (s && *s && (*out = strtoll(s, &end, 10), !*end))
		return 0;
	return -1;
}

/* The batches to run, as dbt's MicrobatchBuilder plans them. */
static int plan_batches(struct mctx *m, int incremental, struct plan *pl)
{
	struct dbt_node *n = m->n;
	struct dbt_project *p = m->p;
	const char *bs = dbt_config_str(n, "batch_size");
	pl->event_time = dbt_config_str(n, "event_time");
	if (!pl->event_time || !*pl->event_time) {
		strbuf_addf(m->err, "microbatch incremental strategy requires an 'event_time' model config");
		return -1;
	}
	if (!bs) {
		strbuf_addf(m->err, "Microbatch model '%s' does not have a 'batch_size' config (one of ['hour', 'day', "
				    "'month', 'year']) specified.", n->name);
		return -1;
	}
	long k = -1;
	for (long i = 0; bsize_names[i]; i++)
		if (!strcmp(bs, bsize_names[i]))
			k = i;
	if (k < 0) {
		strbuf_addf(m->err, "Microbatch model '%s' must provide a 'batch_size' config that is one of [hour, day, "
				    "month, year]. Got: %s.", n->name, bs);
		return -1;
	}
	pl->size = (enum bsize)k;
	if (jval_dict_get(n->config, "unique_key") && jval_truthy(*jval_dict_get(n->config, "unique_key"))) {
		strbuf_addstr(m->err, "microbatch incremental strategy does not support 'unique_key'. Microbatch runs "
				      "delete+insert per batch based on 'event_time' and does not do key-based upserts. "
				      "Remove 'unique_key' or use incremental_strategy='merge'.");
		return -1;
	}
	int64_t lookback;
	if (config_int(n, "lookback", 1, &lookback) < 0 || lookback < 0) {
		strbuf_addf(m->err, "Microbatch model '%s': 'lookback' must be a whole number of batches, 0 or more",
			    n->name);
		return -1;
	}
	double now = clock_now();
	time_t end_at = p->have_event_time ? p->event_time_end : (time_t)now;
	int frac = !p->have_event_time && now > (double)(time_t)now;
	pl->end = ceil_to(end_at, frac, pl->size);
	time_t start;
	if (p->have_event_time) {
		start = trunc_to(p->event_time_start, pl->size);
	} else if (!incremental) {
		const struct jval *bv = jval_dict_get(n->config, "begin");
		char *b = bv && bv->type != JVAL_NONE ? jval_to_cstr(*bv) : NULL;
		if (!b || !*b) {
			strbuf_addf(m->err, "Microbatch model '%s' requires a 'begin' configuration.", n->name);
			free(b);
			return -1;
		}
		if (clock_parse_iso8601(b, &start) < 0) {
			strbuf_addf(m->err, "Microbatch model '%s': 'begin' is not a date or a date-time: '%s'", n->name, b);
			free(b);
			return -1;
		}
		free(b);
		start = trunc_to(start, pl->size);
	} else {
		/* the checkpoint is the end, always on a batch line: one more back */
		start = offset_by(pl->end, pl->size, -(int)(lookback + 1));
	}
	pl->n = 0;
	pl->starts = NULL;
	size_t alloc = 0;
	time_t s = start;
	do {
		ALLOC_GROW(pl->starts, pl->n + 1, alloc);
		pl->starts[pl->n++] = s;
		s = offset_by(s, pl->size, 1);
	} while (s < pl->end);
	return 0;
}

/* One incremental batch: its rows in a temp table, then delete+insert of
 * the batch's range in one transaction (dbt-duckdb's microbatch SQL). */
static int run_insert(struct mctx *m, const char *body, const char *et, int64_t *rows)
{
	struct dbt_node *n = m->n;
	struct strbuf sql = STRBUF_INIT, tmp = STRBUF_INIT, rel = STRBUF_INIT, name = STRBUF_INIT, cl = STRBUF_INIT;
	struct cols dst = { STRVEC_INIT, STRVEC_INIT };
	int r = -1;
	strbuf_addf(&name, "%s__dbt_tmp", n->alias);
	strbuf_add_sql_ident(&tmp, name.buf);
	mat_rel_sql(&rel, n, "");
	strbuf_addf(&sql, "CREATE OR REPLACE TEMP TABLE %s AS (\n%s\n)", tmp.buf, body);
	if (mat_exec(m, sql.buf) < 0 || mat_describe(m, rel.buf, &dst) < 0)
		goto out;
	for (size_t i = 0; i < dst.names.nr; i++) {
		if (i)
			strbuf_addstr(&cl, ", ");
		strbuf_add_sql_ident(&cl, dst.names.v[i]);
	}
	strbuf_reset(&sql);
	strbuf_addf(&sql,
		    "BEGIN TRANSACTION;\ndelete from %s\nwhere %s >= '%s'\nand %s < '%s';\n"
		    "insert into %s (%s)\nselect %s\nfrom temp.main.%s\nwhere %s >= '%s'\nand %s < '%s'",
		    rel.buf, et, n->batch_start, et, n->batch_end, rel.buf, cl.buf, cl.buf, tmp.buf, et,
		    n->batch_start, et, n->batch_end);
	if (mat_exec_rows(m, sql.buf, rows) < 0 || mat_exec(m, "COMMIT") < 0) {
		warehouse_rollback(m->wh);
		goto drop;
	}
	r = 0;
drop:
	{
		struct strbuf ignored = STRBUF_INIT, d = STRBUF_INIT;
		strbuf_addf(&d, "DROP TABLE IF EXISTS temp.main.%s", tmp.buf);
		warehouse_exec(m->wh, d.buf, &ignored);
		strbuf_release(&ignored);
		strbuf_release(&d);
	}
out:
	strvec_clear(&dst.names);
	strvec_clear(&dst.types);
	strbuf_release(&sql);
	strbuf_release(&tmp);
	strbuf_release(&rel);
	strbuf_release(&name);
	strbuf_release(&cl);
	return r;
}

static void clean_body(struct strbuf *sb, const char *sql)
{
	strbuf_addstr(sb, sql);
	while (sb->len && (isspace((unsigned char)sb->buf[sb->len - 1]) || sb->buf[sb->len - 1] == ';'))
		strbuf_setlen(sb, sb->len - 1);
}

/* Build batch i; 0, or -1 with the batch's error in m->err. */
static int run_batch(struct mctx *m, const struct plan *pl, size_t i, int incremental, int64_t *rows)
{
	struct dbt_node *n = m->n;
	time_t s = pl->starts[i], e = i + 1 < pl->n ? pl->starts[i + 1] : pl->end;
	char id[32];
	fmt_ts(n->batch_start, sizeof(n->batch_start), s);
	fmt_ts(n->batch_end, sizeof(n->batch_end), e);
	fmt_batch(id, sizeof(id), s, pl->size);
	size_t w = 0;
	for (const char *c = id; *c && w + 1 < sizeof(n->batch_id); c++)
		if (*c != '-')
			n->batch_id[w++] = *c;
	n->batch_id[w] = '\0';
	n->in_batch = 1;
	n->batch_incremental = incremental;
	char *sql = dbt_compile_node(m->p, n, m->wh, m->err);
	int r = -1;
	if (sql) {
		struct strbuf body = STRBUF_INIT;
		clean_body(&body, sql);
		*rows = 0;
		if (!incremental)
			r = mat_build_table(m, body.buf);
		else
			r = run_insert(m, body.buf, pl->event_time, rows);
		if (r == 0 && !incremental) {
			struct strbuf q = STRBUF_INIT;
			strbuf_addstr(&q, "SELECT count(*) FROM ");
			mat_rel_sql(&q, n, "");
			warehouse_query_int(m->wh, q.buf, rows, m->err);
			strbuf_release(&q);
		}
		strbuf_release(&body);
		free(n->compiled_sql);
		n->compiled_sql = sql;
	}
	n->in_batch = 0;
	return r;
}

void dbt_microbatch_build(struct mctx *m, struct dbt_result *res)
{
	struct dbt_node *n = m->n;
	struct dbt_project *p = m->p;
	const char *old = mat_existing(m);
	const struct jval *fr = jval_dict_get(n->config, "full_refresh");
	int full = fr && fr->type == JVAL_BOOL ? fr->u.b : p->full_refresh;
	int incremental = old && !strcmp(old, "table") && !full;
	struct plan pl = { 0 };
	if (plan_batches(m, incremental, &pl) < 0) {
		res->status = DBT_ERROR;
		return;
	}
	struct strbuf rel = STRBUF_INIT, errors = STRBUF_INIT;
	dbt_node_relation_name(&rel, n);
	res->batches = pl.n;
	int skip = 0;
	for (size_t i = 0; i < pl.n; i++) {
		char when[32], msg[160];
		fmt_batch(when, sizeof(when), pl.starts[i], pl.size);
		snprintf(msg, sizeof(msg), "batch %s of %s", when, rel.buf);
		char line[200];
		if (skip) {
			snprintf(line, sizeof(line), "SKIP %s", msg);
			batch_line(p, i + 1, pl.n, line, "SKIPPED", -1);
			continue;
		}
		snprintf(line, sizeof(line), "START %s", msg);
		batch_line(p, i + 1, pl.n, line, "RUN", -1);
		double t0 = now_s();
		int64_t rows = 0;
		struct strbuf *outer = m->err, berr = STRBUF_INIT;
		m->err = &berr;
		int r = run_batch(m, &pl, i, i == 0 ? incremental : 1, &rows);
		m->err = outer;
		if (r == 0) {
			res->batches_ok++;
			m->rows += rows;
			snprintf(line, sizeof(line), "OK created %s", msg);
			batch_line(p, i + 1, pl.n, line, "SUCCESS", now_s() - t0);
		} else {
			strbuf_trim(&berr);
			snprintf(line, sizeof(line), "ERROR creating %s", msg);
			batch_line(p, i + 1, pl.n, line, "ERROR", now_s() - t0);
			dbt_log(p, 1, "  %s", berr.buf);
			strbuf_addf(&errors, "%s%s: %s", errors.len ? "\n" : "", msg, berr.buf);
			/* the first batch builds the table the others add to */
			if (i == 0)
				skip = 1;
		}
		strbuf_release(&berr);
	}
	if (res->batches_ok == pl.n) {
		res->status = DBT_SUCCESS;
	} else {
		res->status = DBT_ERROR;
		if (res->batches_ok)
			strbuf_addf(m->err, "PARTIAL SUCCESS (%zu/%zu)\n", res->batches_ok, pl.n);
		strbuf_addbuf(m->err, &errors);
	}
	free(pl.starts);
	strbuf_release(&rel);
	strbuf_release(&errors);
}
