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
 *     but when the first fails the rest are skipped, as in dbt;
 *   - with more than one thread, the batches between the first and the
 *     last run at once, each on a connection of its own, when dbt with
 *     dbt-duckdb (1.10 on, MicrobatchConcurrency) would: concurrent_batches
 *     true, or unset and the model does not use `this`. DuckDB lets
 *     transactions of one process delete and insert disjoint rows of one
 *     table at once; only the rendering stays in order. On a postgres
 *     target each batch is a session of its own: its rows go to a
 *     temporary table at once with the others', and the merges on the
 *     unique_key follow in batch order (each waits for the one before it
 *     to commit), so that a key several batches have ends as in order;
 *   - dango retry runs only the batches the last run failed or skipped
 *     (its run_results.json's batch_results), incrementally. */
#include "transform/dbt.h"
#include "transform/materialize.h"
#include "transform/pg.h"
#include "transform/runtime.h"
#include "core/clock.h"
#include "core/pool.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <pthread.h>
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

int dbt_microbatch_filter(const struct dbt_node *reader, const struct dbt_node *t, struct jval rel, int alias,
			  struct jval *out)
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
	if (alias) /* dbt-postgres' relations require one */
		strbuf_addf(&sb, " _dbt_et_filter_subq_%s", t->alias ? t->alias : t->name);
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
	time_t *starts, *ends;
	size_t n;
	int retry; /* dango retry: the last run's failed batches */
};

static void plan_add(struct plan *pl, time_t s, time_t e, size_t *alloc)
{
	if (pl->n + 1 > *alloc) {
		*alloc = *alloc ? 2 * *alloc : 16;
		pl->starts = xrealloc(pl->starts, *alloc * sizeof(*pl->starts));
		pl->ends = xrealloc(pl->ends, *alloc * sizeof(*pl->ends));
	}
	pl->starts[pl->n] = s;
	pl->ends[pl->n++] = e;
}

/* dango retry of a model some of whose batches failed: exactly those, as
 * dbt retry runs them (previous_batch_results.failed); 1 when it is one */
static int plan_retry(struct mctx *m, struct plan *pl)
{
	const struct jval *prev = m->p->retry_batches.type == JVAL_DICT
					  ? jval_dict_get(m->p->retry_batches, m->n->unique_id) : NULL;
	const struct jval *failed = prev && prev->type == JVAL_DICT ? jval_dict_get(*prev, "failed") : NULL;
	size_t alloc = 0;
	for (size_t i = 0; failed && failed->type == JVAL_LIST && i < jval_len(*failed); i++) {
		const struct jval *b = jval_list_at(*failed, i);
		const char *a = b->type == JVAL_LIST && jval_len(*b) == 2 ? jval_str_cstr(*jval_list_at(*b, 0)) : NULL;
		const char *z = a ? jval_str_cstr(*jval_list_at(*b, 1)) : NULL;
		time_t s, e;
		if (!a || !z || clock_parse_iso8601(a, &s) < 0 || clock_parse_iso8601(z, &e) < 0)
			continue;
		plan_add(pl, s, e, &alloc);
	}
	pl->retry = pl->n > 0;
	return pl->retry;
}

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
	int has_key = jval_dict_get(n->config, "unique_key") && jval_truthy(*jval_dict_get(n->config, "unique_key"));
	if (!m->wh && !has_key) {
		/* a postgres target: dbt-postgres merges each batch on the key */
		strbuf_addstr(m->err, "dbt-postgres 'microbatch' requires a `unique_key` config");
		return -1;
	}
	if (m->wh && has_key) {
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
	if (plan_retry(m, pl))
		return 0;
	double now = clock_now();
	time_t end_at = p->have_event_time ? p->event_time_end : (time_t)now;
	int frac = !p->have_event_time && now > (double)(time_t)now;
	time_t end = ceil_to(end_at, frac, pl->size);
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
		start = offset_by(end, pl->size, -(int)(lookback + 1));
	}
	size_t alloc = 0;
	time_t s = start;
	do {
		time_t next = offset_by(s, pl->size, 1);
		plan_add(pl, s, next < end ? next : end, &alloc);
		s = next;
	} while (s < end);
	return 0;
}

/* One incremental batch: its rows in a temp table, then delete+insert of
 * the batch's range in one transaction (dbt-duckdb's microbatch SQL). */
static int run_insert(struct mctx *m, const char *body, const char *et, const char *start, const char *end,
		      int64_t *rows)
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
		    rel.buf, et, start, et, end, rel.buf, cl.buf, cl.buf, tmp.buf, et, start, et, end);
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

/* Batch i's SQL, rendered with model.batch and the filtered refs; the
 * caller's, or NULL with m->err. */
static char *compile_batch(struct mctx *m, const struct plan *pl, size_t i, int incremental)
{
	struct dbt_node *n = m->n;
	char id[32];
	fmt_ts(n->batch_start, sizeof(n->batch_start), pl->starts[i]);
	fmt_ts(n->batch_end, sizeof(n->batch_end), pl->ends[i]);
	fmt_batch(id, sizeof(id), pl->starts[i], pl->size);
	size_t w = 0;
	for (const char *c = id; *c && w + 1 < sizeof(n->batch_id); c++)
		if (*c != '-')
			n->batch_id[w++] = *c;
	n->batch_id[w] = '\0';
	n->in_batch = 1;
	n->batch_incremental = incremental;
	char *sql = dbt_compile_node(m->p, n, m->wh, m->err);
	n->in_batch = 0;
	if (!sql)
		return NULL;
	struct strbuf body = STRBUF_INIT;
	clean_body(&body, sql);
	free(n->compiled_sql);
	n->compiled_sql = sql;
	return strbuf_detach(&body, NULL);
}

/* Run a compiled batch: the first builds the table, the others replace
 * their range; 0, or -1 with m->err. */
static int exec_batch(struct mctx *m, const struct plan *pl, size_t i, int incremental, const char *body,
		      int64_t *rows)
{
	char start[32], end[32];
	fmt_ts(start, sizeof(start), pl->starts[i]);
	fmt_ts(end, sizeof(end), pl->ends[i]);
	*rows = 0;
	if (!m->wh) /* a postgres target (pg_target.c) */
		return dbt_pg_build_batch(m, body, incremental, pl->event_time, start, end, rows);
	if (incremental)
		return run_insert(m, body, pl->event_time, start, end, rows);
	if (mat_build_table(m, body) < 0)
		return -1;
	struct strbuf q = STRBUF_INIT;
	strbuf_addstr(&q, "SELECT count(*) FROM ");
	mat_rel_sql(&q, m->n, "");
	int r = warehouse_query_int(m->wh, q.buf, rows, m->err);
	strbuf_release(&q);
	return r;
}

/* run_results.json's batch_results entry: [start, end] as dbt writes
 * datetimes (isoformat of an aware UTC datetime) */
static void range_text(struct strbuf *sb, time_t s, time_t e)
{
	char a[32], b[32];
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	gmtime_r(&e, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	strbuf_addf(sb, "%s\t%s", a, b);
}

struct build {
	struct mctx *m;
	struct dbt_result *res;
	struct plan pl;
	struct strbuf rel, errors;
	int skip;
};

static void describe(struct build *b, size_t i, char *msg, size_t len)
{
	char when[32];
	fmt_batch(when, sizeof(when), b->pl.starts[i], b->pl.size);
	snprintf(msg, len, "batch %s of %s", when, b->rel.buf);
}

/* Batch i's outcome: its line, and its place in the result */
static void batch_done(struct build *b, size_t i, int r, int64_t rows, double secs, struct strbuf *berr)
{
	char msg[160], line[200];
	struct strbuf range = STRBUF_INIT;
	describe(b, i, msg, sizeof(msg));
	range_text(&range, b->pl.starts[i], b->pl.ends[i]);
	if (r == 0) {
		b->res->batches_ok++;
		b->m->rows += rows;
		strvec_push(&b->res->batch_successful, range.buf);
		snprintf(line, sizeof(line), "OK created %s", msg);
		batch_line(b->m->p, i + 1, b->pl.n, line, "SUCCESS", secs);
	} else {
		strbuf_trim(berr);
		strvec_push(&b->res->batch_failed, range.buf);
		snprintf(line, sizeof(line), "ERROR creating %s", msg);
		batch_line(b->m->p, i + 1, b->pl.n, line, "ERROR", secs);
		dbt_log(b->m->p, 1, "  %s", berr->buf);
		strbuf_addf(&b->errors, "%s%s: %s", b->errors.len ? "\n" : "", msg, berr->buf);
	}
	strbuf_release(&range);
}

static void batch_skipped(struct build *b, size_t i)
{
	char msg[160], line[200];
	struct strbuf range = STRBUF_INIT;
	describe(b, i, msg, sizeof(msg));
	snprintf(line, sizeof(line), "SKIP %s", msg);
	batch_line(b->m->p, i + 1, b->pl.n, line, "SKIPPED", -1);
	/* dbt counts a skipped batch as failed, so that retry runs it */
	range_text(&range, b->pl.starts[i], b->pl.ends[i]);
	strvec_push(&b->res->batch_failed, range.buf);
	strbuf_release(&range);
}

static void batch_start(struct build *b, size_t i)
{
	char msg[160], line[200];
	describe(b, i, msg, sizeof(msg));
	snprintf(line, sizeof(line), "START %s", msg);
	batch_line(b->m->p, i + 1, b->pl.n, line, "RUN", -1);
}

/* One batch on the model's own connection */
static int run_one(struct build *b, size_t i, int incremental)
{
	struct mctx *m = b->m;
	if (b->skip) {
		batch_skipped(b, i);
		return -1;
	}
	batch_start(b, i);
	double t0 = now_s();
	int64_t rows = 0;
	struct strbuf *outer = m->err, berr = STRBUF_INIT;
	m->err = &berr;
	char *body = compile_batch(m, &b->pl, i, incremental);
	int r = body ? exec_batch(m, &b->pl, i, incremental, body, &rows) : -1;
	free(body);
	m->err = outer;
	batch_done(b, i, r, rows, now_s() - t0, &berr);
	strbuf_release(&berr);
	return r;
}

/* --- concurrent batches ------------------------------------------------------ */
/* On postgres the batches merge in their order (each waits for the one
 * before it to commit): next is the batch whose turn it is; batches that
 * never ran (not compiled) are passed over. */
struct turn {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	size_t next, to;
	unsigned char *passed; /* [i - from]: done, or never submitted */
	size_t from;
};

static void turn_advance(struct turn *t)
{
	while (t->next < t->to && t->passed[t->next - t->from])
		t->next++;
	pthread_cond_broadcast(&t->moved);
}

/* batch i is done (or will never run): the next one's turn */
static void turn_pass(struct turn *t, size_t i)
{
	pthread_mutex_lock(&t->lock);
	t->passed[i - t->from] = 1;
	turn_advance(t);
	pthread_mutex_unlock(&t->lock);
}

struct job {
	struct mctx m;       /* on the worker's connection */
	struct strbuf err;
	const struct plan *pl;
	size_t i;
	char *body;
	int r;
	int64_t rows;
	double secs;
	struct warehouse *conns; /* DuckDB */
	void **pg_conns;         /* or postgres (PGconn) */
	struct turn *turn;
};

static void wait_turn(void *data)
{
	struct job *j = data;
	struct turn *t = j->turn;
	pthread_mutex_lock(&t->lock);
	while (t->next != j->i)
		pthread_cond_wait(&t->moved, &t->lock);
	pthread_mutex_unlock(&t->lock);
}

static void run_job(void *data, size_t worker)
{
	struct job *j = data;
	double t0 = now_s();
	j->m.err = &j->err;
	if (j->pg_conns) {
		char start[32], end[32];
		fmt_ts(start, sizeof(start), j->pl->starts[j->i]);
		fmt_ts(end, sizeof(end), j->pl->ends[j->i]);
		dbt_other_conn_for_thread(j->pg_conns[worker]);
		j->r = dbt_pg_build_batch_concurrent(&j->m, j->body, j->pl->event_time, start, end, &j->rows, wait_turn,
						     j);
		dbt_other_conn_for_thread(NULL);
		wait_turn(j); /* a batch that failed before its turn still goes in order */
		turn_pass(j->turn, j->i);
	} else {
		j->m.wh = &j->conns[worker];
		j->r = exec_batch(&j->m, j->pl, j->i, 1, j->body, &j->rows);
	}
	j->secs = now_s() - t0;
}

/* dbt's should_run_in_parallel, with dbt-duckdb's MicrobatchConcurrency
 * (1.10 on): the table exists (the first batch built it), and
 * concurrent_batches is true, or unset and the model does not use `this` */
static int has_this(const char *raw)
{
	/* dbt looks for the name `this` in the template's Jinja, not its SQL */
	for (const char *o = raw ? raw : ""; (o = strchr(o, '{'));) {
		if (o[1] != '{' && o[1] != '%') {
			o++;
			continue;
		}
		const char *close = strstr(o + 2, o[1] == '{' ? "}}" : "%}");
		const char *end = close ? close : o + strlen(o);
		for (const char *c = o + 2; c + 4 <= end; c++) {
			if (strncmp(c, "this", 4))
				continue;
			int before = isalnum((unsigned char)c[-1]) || c[-1] == '_' || c[-1] == '.';
			int after = isalnum((unsigned char)c[4]) || c[4] == '_';
			if (!before && !after)
				return 1;
		}
		o = end;
	}
	return 0;
}

static int concurrent(const struct dbt_node *n)
{
	const struct jval *v = jval_dict_get(n->config, "concurrent_batches");
	if (v && v->type != JVAL_NONE)
		return jval_truthy(*v);
	return !has_this(n->raw_sql);
}

static void close_conns(size_t k, struct warehouse *conns, void **pg_conns)
{
	for (size_t i = 0; i < k; i++) {
		if (conns)
			warehouse_close(&conns[i]);
		else if (pg_conns[i])
			dbt_pg_close_extra(pg_conns[i]);
	}
	free(conns);
	free(pg_conns);
}

/* k connections of the run's warehouse: DuckDB's (conns) or, on a
 * postgres target, new sessions of the server (pg_conns). -1 when one
 * cannot be had (none kept). */
static int open_conns(struct dbt_project *p, size_t k, struct warehouse **conns, void ***pg_conns)
{
	struct strbuf e = STRBUF_INIT;
	size_t opened = 0;
	int failed = 0;
	if (!p->run_wh) {
		*pg_conns = xcalloc(k, sizeof(**pg_conns));
		while (opened < k && ((*pg_conns)[opened] = dbt_pg_connect_extra(p, &e)))
			opened++;
	} else {
		*conns = xcalloc(k, sizeof(**conns));
		while (opened < k && !failed && warehouse_connect_extra(p->run_wh, &(*conns)[opened], &e) == 0)
			failed = dbt_duckdb_connection_setup(p, &(*conns)[opened++], &e) < 0;
	}
	strbuf_release(&e);
	if (opened == k && !failed)
		return 0;
	close_conns(opened, *conns, *pg_conns);
	*conns = NULL;
	*pg_conns = NULL;
	return -1;
}

/* Batches [from, to) at once, each on a connection of its own, up to
 * --threads of them; compiled first, one after another, on the model's
 * connection (rendering is not thread-safe and may query). 0, or -1 when
 * no connection could be opened (nothing ran: run them in order). */
static int run_concurrently(struct build *b, size_t from, size_t to)
{
	struct mctx *m = b->m;
	struct dbt_project *p = m->p;
	size_t k = (size_t)p->run_threads < to - from ? (size_t)p->run_threads : to - from;
	struct warehouse *conns = NULL;
	void **pg_conns = NULL;
	struct turn turn = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, from, to, NULL, from };
	if (open_conns(p, k, &conns, &pg_conns) < 0)
		return -1;
	if (pg_conns)
		turn.passed = xcalloc(to - from, 1);
	dbt_log(p, 1, "Batches %zu to %zu of %zu of %s run concurrently, on %zu connections", from + 1, to, b->pl.n,
		b->rel.buf, k);
	struct job *jobs = xcalloc(to - from, sizeof(*jobs));
	struct pool pool;
	pool_init(&pool, k, run_job);
	for (size_t i = from; i < to; i++) {
		struct job *j = &jobs[i - from];
		j->m = (struct mctx){ p, m->n, NULL, NULL, STRBUF_INIT, 0, NULL, NULL };
		strbuf_init(&j->err, 0);
		j->pl = &b->pl;
		j->i = i;
		j->conns = conns;
		j->pg_conns = pg_conns;
		j->turn = &turn;
		struct strbuf *outer = m->err;
		m->err = &j->err;
		j->body = compile_batch(m, &b->pl, i, 1);
		m->err = outer;
		batch_start(b, i);
		if (j->body) {
			pool_submit(&pool, j);
		} else {
			if (pg_conns)
				turn_pass(&turn, i);
			batch_done(b, i, -1, 0, 0, &j->err);
		}
	}
	struct job *j;
	while ((j = pool_wait(&pool)))
		batch_done(b, j->i, j->r, j->rows, j->secs, &j->err);
	pool_release(&pool);
	for (size_t i = from; i < to; i++) {
		j = &jobs[i - from];
		if (j->m.run.len)
			strbuf_addf(&m->run, "%s%s", m->run.len ? ";\n" : "", j->m.run.buf);
		strbuf_release(&j->m.run);
		strbuf_release(&j->err);
		free(j->body);
	}
	free(jobs);
	close_conns(k, conns, pg_conns);
	free(turn.passed);
	pthread_mutex_destroy(&turn.lock);
	pthread_cond_destroy(&turn.moved);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dbt_microbatch_build(struct mctx *m, struct dbt_result *res)
{
	struct dbt_node *n = m->n;
	struct dbt_project *p = m->p;
	const char *old = mat_existing(m);
	const struct jval *fr = jval_dict_get(n->config, "full_refresh");
	int full = fr && fr->type == JVAL_BOOL ? fr->u.b : p->full_refresh;
	int exists = old && !strcmp(old, "table");
	int incremental = exists && !full;
	struct build b = { m, res, { 0 }, STRBUF_INIT, STRBUF_INIT, 0 };
	if (plan_batches(m, incremental, &b.pl) < 0) {
		res->status = DBT_ERROR;
		goto out;
	}
	/* a retry adds to what the last run built: never a full refresh */
	if (b.pl.retry)
		incremental = exists;
	dbt_node_relation_name(&b.rel, n);
	res->batches = b.pl.n;
	/* the first batch alone: it may create the table the others add to */
	if (run_one(&b, 0, incremental) < 0)
		b.skip = 1;
	size_t i = 1;
	if (!b.skip && b.pl.n >= 4 && (p->run_wh || dbt_pg_live(p)) && p->run_threads > 1 && concurrent(n) &&
	    run_concurrently(&b, 1, b.pl.n - 1) == 0)
		i = b.pl.n - 1;
	/* the last (or every other one, in order) */
	for (; i < b.pl.n; i++)
		run_one(&b, i, 1);
	if (res->batches_ok == b.pl.n) {
		res->status = DBT_SUCCESS;
	} else {
		res->status = DBT_ERROR;
		if (res->batches_ok)
			strbuf_addf(m->err, "PARTIAL SUCCESS (%zu/%zu)\n", res->batches_ok, b.pl.n);
		strbuf_addbuf(m->err, &b.errors);
	}
	/* dbt sorts them (concurrent batches finish in any order) */
	if (res->batch_successful.nr > 1)
		qsort(res->batch_successful.v, res->batch_successful.nr, sizeof(char *), cmp_str);
	if (res->batch_failed.nr > 1)
		qsort(res->batch_failed.v, res->batch_failed.nr, sizeof(char *), cmp_str);
	/* as dbt: the batches an earlier run built stay successful */
	const struct jval *prev = b.pl.retry ? jval_dict_get(p->retry_batches, n->unique_id) : NULL;
	const struct jval *ok = prev && prev->type == JVAL_DICT ? jval_dict_get(*prev, "successful") : NULL;
	for (size_t k = 0; ok && ok->type == JVAL_LIST && k < jval_len(*ok); k++) {
		const struct jval *r = jval_list_at(*ok, k);
		const char *a = r->type == JVAL_LIST && jval_len(*r) == 2 ? jval_str_cstr(*jval_list_at(*r, 0)) : NULL;
		const char *z = a ? jval_str_cstr(*jval_list_at(*r, 1)) : NULL;
		if (a && z)
			strvec_pushf(&res->batch_successful, "%s\t%s", a, z);
	}
out:
	free(b.pl.starts);
	free(b.pl.ends);
	strbuf_release(&b.rel);
	strbuf_release(&b.errors);
}
