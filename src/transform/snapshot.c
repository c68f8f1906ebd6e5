/* Snapshots: dbt's type-2 slowly changing dimensions, built with the SQL
 * of dbt's snapshot materialization (snapshot_staging_table and
 * snapshot_merge_sql), so that the meta columns get dbt's values:
 *
 *   first run   the query's rows, each with dbt_scd_id = md5 of the unique
 *               key and updated_at, dbt_updated_at = dbt_valid_from =
 *               updated_at, dbt_valid_to = null (or dbt_valid_to_current)
 *   later runs  a staging table of 'insert' (new or changed rows), 'update'
 *               (the current version of a changed row: its dbt_valid_to is
 *               set to the new row's updated_at) and, with hard_deletes,
 *               'delete' rows (closed at the snapshot time) and, for
 *               new_record, a deletion record (dbt_is_deleted 'True');
 *               then one UPDATE and one INSERT.
 *
 * Strategy timestamp: a row changed if its updated_at is after the current
 * version's dbt_valid_from. Strategy check: if one of check_cols ('all': the
 * query's columns) differs, null-safely; updated_at is the snapshot time.
 * Columns the query gained are added to the snapshot table first. Every
 * statement of a later run is in one transaction: a failure leaves the
 * snapshot as it was. The snapshot time is Dango's clock (DANGO_NOW), as a
 * TIMESTAMP in UTC.
 *
 * On a postgres target (no DuckDB warehouse: wh is NULL) the statements
 * go to its connection (pg_adapter.c), inside the transaction its caller
 * holds (pg_target.c), with PostgreSQL's temporary tables. */
#include "transform/dbt.h"
#include "core/clock.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "transform/pg.h"
#include "warehouse/warehouse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct snap {
	struct dbt_node *n;
	const char *strategy, *updated_at, *vtc;
	struct strvec keys;
	int key_list;
	struct strvec check;
	int check_all;
	const char *hard_deletes; /* ignore, invalidate, new_record */
	struct strbuf scd, upd, from, to, del; /* the meta columns, quoted */
	char now[80];                          /* the snapshot time, as SQL */
};

static void snap_release(struct snap *s)
{
	strvec_clear(&s->keys);
	strvec_clear(&s->check);
	strbuf_release(&s->scd);
	strbuf_release(&s->upd);
	strbuf_release(&s->from);
	strbuf_release(&s->to);
	strbuf_release(&s->del);
}

static void str_list(const struct jval *v, struct strvec *out)
{
	if (!v)
		return;
	if (v->type == JVAL_LIST) {
		for (size_t i = 0; i < jval_len(*v); i++) {
			const char *s = jval_str_cstr(*jval_list_at(*v, i));
			if (s)
				strvec_push(out, s);
		}
	} else if (jval_str_cstr(*v)) {
		strvec_push(out, jval_str_cstr(*v));
	}
}

static void meta_name(struct snap *s, struct strbuf *sb, const char *key)
{
	const struct jval *names = jval_dict_get(s->n->config, "snapshot_meta_column_names");
	const struct jval *v = names && names->type == JVAL_DICT ? jval_dict_get(*names, key) : NULL;
	strbuf_add_sql_ident(sb, v && jval_str_cstr(*v) ? jval_str_cstr(*v) : key);
}

static int snap_config(struct snap *s, struct dbt_project *p, struct dbt_node *n, struct strbuf *err)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->keys = (struct strvec)STRVEC_INIT;
	s->check = (struct strvec)STRVEC_INIT;
	strbuf_init(&s->scd, 0);
	strbuf_init(&s->upd, 0);
	strbuf_init(&s->from, 0);
	strbuf_init(&s->to, 0);
	strbuf_init(&s->del, 0);
	const char *what = n->file;
	s->strategy = dbt_config_str(n, "strategy");
	if (!s->strategy || (strcmp(s->strategy, "timestamp") && strcmp(s->strategy, "check"))) {
		if (s->strategy)
			strbuf_addf(err, "%s: snapshot '%s': unknown strategy '%s' (timestamp or check)", what, n->name,
				    s->strategy);
		else
			strbuf_addf(err, "%s: snapshot '%s' needs a 'strategy' in its config (timestamp or check)", what,
				    n->name);
		return -1;
	}
	const struct jval *uk = jval_dict_get(n->config, "unique_key");
	str_list(uk, &s->keys);
	s->key_list = uk && uk->type == JVAL_LIST;
	if (!s->keys.nr) {
		strbuf_addf(err, "%s: snapshot '%s' needs a 'unique_key' in its config", what, n->name);
		return -1;
	}
	s->updated_at = dbt_config_str(n, "updated_at");
	if (!strcmp(s->strategy, "timestamp") && !s->updated_at) {
		strbuf_addf(err, "%s: snapshot '%s': the timestamp strategy needs 'updated_at'", what, n->name);
		return -1;
	}
	if (!strcmp(s->strategy, "check")) {
		const struct jval *cc = jval_dict_get(n->config, "check_cols");
		const char *all = cc ? jval_str_cstr(*cc) : NULL;
		if (all && !strcmp(all, "all"))
			s->check_all = 1;
		else if (cc && cc->type == JVAL_LIST && jval_len(*cc))
			str_list(cc, &s->check);
		else {
			strbuf_addf(err, "%s: snapshot '%s': the check strategy needs 'check_cols' ('all' or a list of columns)",
				    what, n->name);
			return -1;
		}
	}
	s->hard_deletes = dbt_config_str(n, "hard_deletes");
	if (!s->hard_deletes) {
		const struct jval *ihd = jval_dict_get(n->config, "invalidate_hard_deletes");
		s->hard_deletes = ihd && ihd->type == JVAL_BOOL && ihd->u.b ? "invalidate" : "ignore";
	}
	if (strcmp(s->hard_deletes, "ignore") && strcmp(s->hard_deletes, "invalidate") &&
	    strcmp(s->hard_deletes, "new_record")) {
		strbuf_addf(err, "%s: snapshot '%s': hard_deletes must be ignore, invalidate or new_record, not '%s'", what,
			    n->name, s->hard_deletes);
		return -1;
	}
	s->vtc = dbt_config_str(n, "dbt_valid_to_current");
	meta_name(s, &s->scd, "dbt_scd_id");
	meta_name(s, &s->upd, "dbt_updated_at");
	meta_name(s, &s->from, "dbt_valid_from");
	meta_name(s, &s->to, "dbt_valid_to");
	meta_name(s, &s->del, "dbt_is_deleted");
	double t = clock_now();
	time_t sec = (time_t)t;
	struct tm tm;
	gmtime_r(&sec, &tm);
	char buf[24];
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(s->now, sizeof(s->now), "'%s.%06d'::timestamp", buf, (int)((t - (double)sec) * 1e6));
	(void)p;
	return 0;
}

/* the expression of updated_at over the query's rows */
static const char *upd_expr(const struct snap *s)
{
	return s->updated_at ? s->updated_at : s->now;
}

static int new_record(const struct snap *s)
{
	return !strcmp(s->hard_deletes, "new_record");
}

static int deletes(const struct snap *s)
{
	return strcmp(s->hard_deletes, "ignore") != 0;
}

/* md5(coalesce(cast(a as varchar), '') || '|' || ...), dbt's snapshot_hash_arguments */
static void hash_args(struct strbuf *sb, const struct strvec *args)
{
	strbuf_addstr(sb, "md5(");
	for (size_t i = 0; i < args->nr; i++)
		strbuf_addf(sb, "%scoalesce(cast(%s as varchar), '')", i ? " || '|' || " : "", args->v[i]);
	strbuf_addch(sb, ')');
}

static void scd_id(struct strbuf *sb, const struct snap *s)
{
	struct strvec args = STRVEC_INIT;
	for (size_t i = 0; i < s->keys.nr; i++)
		strvec_push(&args, s->keys.v[i]);
	strvec_push(&args, upd_expr(s));
	hash_args(sb, &args);
	strvec_clear(&args);
}

static void key_fields(struct strbuf *sb, const struct snap *s)
{
	if (!s->key_list) {
		strbuf_addf(sb, ", %s as dbt_unique_key", s->keys.v[0]);
		return;
	}
	for (size_t i = 0; i < s->keys.nr; i++)
		strbuf_addf(sb, ", %s as dbt_unique_key_%zu", s->keys.v[i], i + 1);
}

static void key_join(struct strbuf *sb, const struct snap *s, const char *a, const char *b)
{
	if (!s->key_list) {
		strbuf_addf(sb, "%s.dbt_unique_key = %s.dbt_unique_key", a, b);
		return;
	}
	for (size_t i = 0; i < s->keys.nr; i++)
		strbuf_addf(sb, "%s%s.dbt_unique_key_%zu = %s.dbt_unique_key_%zu", i ? " and " : "", a, i + 1, b, i + 1);
}

static void key_is_null(struct strbuf *sb, const struct snap *s, const char *a, int not)
{
	strbuf_addf(sb, "%s.dbt_unique_key%s is %snull", a, s->key_list ? "_1" : "", not ? "not " : "");
}

static void valid_to_current(struct strbuf *sb, const struct snap *s)
{
	if (s->vtc)
		strbuf_addf(sb, "coalesce(nullif(%s, %s), %s) as %s", upd_expr(s), upd_expr(s), s->vtc, s->to.buf);
	else
		strbuf_addf(sb, "nullif(%s, %s) as %s", upd_expr(s), upd_expr(s), s->to.buf);
}

/* "the current version" of a row in the snapshot table */
static void is_current(struct strbuf *sb, const struct snap *s, const char *a)
{
	if (s->vtc)
		strbuf_addf(sb, "(%s%s%s = %s or %s%s%s is null)", a, *a ? "." : "", s->to.buf, s->vtc, a, *a ? "." : "",
			    s->to.buf);
	else
		strbuf_addf(sb, "%s%s%s is null", a, *a ? "." : "", s->to.buf);
}

static long find_col(const struct strvec *names, const char *name)
{
	for (size_t i = 0; i < names->nr; i++)
		if (!strcasecmp(names->v[i], name))
			return (long)i;
	return -1;
}

static void row_changed(struct strbuf *sb, const struct snap *s, const struct strvec *src, const struct strvec *dst)
{
	strbuf_addch(sb, '(');
	if (!strcmp(s->strategy, "timestamp")) {
		strbuf_addf(sb, "snapshotted_data.%s < source_data.%s", s->from.buf, s->updated_at);
	} else {
		struct strvec cols = STRVEC_INIT;
		int added = 0;
		const struct strvec *want = s->check_all ? src : &s->check;
		for (size_t i = 0; i < want->nr; i++) {
			if (find_col(dst, want->v[i]) >= 0)
				strvec_push(&cols, want->v[i]);
			else
				added = 1;
		}
		if (added || !cols.nr) {
			strbuf_addstr(sb, "true");
		} else {
			for (size_t i = 0; i < cols.nr; i++) {
				struct strbuf q = STRBUF_INIT;
				strbuf_add_sql_ident(&q, cols.v[i]);
				strbuf_addf(sb,
					    "%ssnapshotted_data.%s != source_data.%s or ((snapshotted_data.%s is null) and not "
					    "(source_data.%s is null)) or ((not snapshotted_data.%s is null) and (source_data.%s "
					    "is null))",
					    i ? " or " : "", q.buf, q.buf, q.buf, q.buf, q.buf, q.buf);
				strbuf_release(&q);
			}
		}
		strvec_clear(&cols);
	}
	if (new_record(s))
		strbuf_addf(sb, " or snapshotted_data.%s = 'True'", s->del.buf);
	strbuf_addch(sb, ')');
}

/* dbt's snapshot_staging_table, for DuckDB */
static void staging_sql(struct strbuf *sb, const struct snap *s, const char *body, const char *rel,
			const struct strvec *src, const struct strvec *dst)
{
	struct strbuf ch = STRBUF_INIT, on = STRBUF_INIT, scd = STRBUF_INIT;
	row_changed(&ch, s, src, dst);
	key_join(&on, s, "snapshotted_data", "source_data");
	scd_id(&scd, s);
	const char *u = upd_expr(s);
	strbuf_addf(sb, "with snapshot_query as (\n%s\n),\nsnapshotted_data as (\n  select *", body);
	key_fields(sb, s);
	strbuf_addf(sb, " from %s\n  where ", rel);
	is_current(sb, s, "");
	strbuf_addstr(sb, "\n),\ninsertions_source_data as (\n  select *");
	key_fields(sb, s);
	strbuf_addf(sb, ", %s as %s, %s as %s, ", u, s->upd.buf, u, s->from.buf);
	valid_to_current(sb, s);
	strbuf_addf(sb, ", %s as %s from snapshot_query\n),\n", scd.buf, s->scd.buf);
	strbuf_addstr(sb, "updates_source_data as (\n  select *");
	key_fields(sb, s);
	strbuf_addf(sb, ", %s as %s, %s as %s, %s as %s from snapshot_query\n),\n", u, s->upd.buf, u, s->from.buf, u,
		    s->to.buf);
	if (deletes(s)) {
		strbuf_addstr(sb, "deletes_source_data as (\n  select *");
		key_fields(sb, s);
		strbuf_addstr(sb, " from snapshot_query\n),\n");
	}
	strbuf_addstr(sb, "insertions as (\n  select 'insert' as dbt_change_type, source_data.*");
	if (new_record(s))
		strbuf_addf(sb, ", 'False' as %s", s->del.buf);
	strbuf_addf(sb, "\n  from insertions_source_data as source_data left outer join snapshotted_data on %s\n  where ",
		    on.buf);
	key_is_null(sb, s, "snapshotted_data", 0);
	strbuf_addstr(sb, " or (");
	key_is_null(sb, s, "snapshotted_data", 1);
	strbuf_addf(sb, " and %s)\n),\n", ch.buf);
	strbuf_addf(sb, "updates as (\n  select 'update' as dbt_change_type, source_data.*, snapshotted_data.%s",
		    s->scd.buf);
	if (new_record(s))
		strbuf_addf(sb, ", snapshotted_data.%s", s->del.buf);
	strbuf_addf(sb, "\n  from updates_source_data as source_data join snapshotted_data on %s\n  where %s\n)", on.buf,
		    ch.buf);
	struct strbuf not_deleted = STRBUF_INIT;
	if (new_record(s)) {
		strbuf_addf(&not_deleted, " and not (snapshotted_data.%s = 'True' and ", s->del.buf);
		if (s->vtc)
			strbuf_addf(&not_deleted, "snapshotted_data.%s = %s)", s->to.buf, s->vtc);
		else
			strbuf_addf(&not_deleted, "snapshotted_data.%s is null)", s->to.buf);
	}
	if (deletes(s)) {
		strbuf_addf(sb,
			    ",\ndeletes as (\n  select 'delete' as dbt_change_type, source_data.*, %s as %s, %s as %s, %s "
			    "as %s, snapshotted_data.%s",
			    s->now, s->upd.buf, s->now, s->from.buf, s->now, s->to.buf, s->scd.buf);
		if (new_record(s))
			strbuf_addf(sb, ", snapshotted_data.%s", s->del.buf);
		strbuf_addf(sb, "\n  from snapshotted_data left join deletes_source_data as source_data on %s\n  where ",
			    on.buf);
		key_is_null(sb, s, "source_data", 0);
		strbuf_addf(sb, "%s\n)", not_deleted.buf);
	}
	if (new_record(s)) {
		struct strvec args = STRVEC_INIT;
		struct strbuf nscd = STRBUF_INIT;
		strvec_pushf(&args, "snapshotted_data.%s", s->scd.buf);
		strvec_push(&args, s->now);
		hash_args(&nscd, &args);
		strbuf_addstr(sb, ",\ndeletion_records as (\n  select 'insert' as dbt_change_type");
		for (size_t i = 0; i < src->nr; i++) {
			struct strbuf q = STRBUF_INIT;
			strbuf_add_sql_ident(&q, src->v[i]);
			if (find_col(dst, src->v[i]) >= 0)
				strbuf_addf(sb, ", snapshotted_data.%s", q.buf);
			else
				strbuf_addf(sb, ", NULL as %s", q.buf);
			strbuf_release(&q);
		}
		if (s->key_list)
			for (size_t i = 0; i < s->keys.nr; i++)
				strbuf_addf(sb, ", snapshotted_data.dbt_unique_key_%zu", i + 1);
		else
			strbuf_addstr(sb, ", snapshotted_data.dbt_unique_key");
		strbuf_addf(sb, ", %s as %s, %s as %s, snapshotted_data.%s as %s, %s as %s, 'True' as %s", s->now,
			    s->upd.buf, s->now, s->from.buf, s->to.buf, s->to.buf, nscd.buf, s->scd.buf, s->del.buf);
		strbuf_addf(sb, "\n  from snapshotted_data left join deletes_source_data as source_data on %s\n  where ",
			    on.buf);
		key_is_null(sb, s, "source_data", 0);
		strbuf_addf(sb, "%s\n)", not_deleted.buf);
		strvec_clear(&args);
		strbuf_release(&nscd);
	}
	strbuf_addstr(sb, "\nselect * from insertions\nunion all\nselect * from updates");
	if (deletes(s))
		strbuf_addstr(sb, "\nunion all\nselect * from deletes");
	if (new_record(s))
		strbuf_addstr(sb, "\nunion all\nselect * from deletion_records");
	strbuf_release(&ch);
	strbuf_release(&on);
	strbuf_release(&scd);
	strbuf_release(&not_deleted);
}

static int on_pg(struct dbt_project *p, struct warehouse *wh)
{
	return !wh && dbt_pg_live(p);
}

static int columns_of(struct dbt_project *p, struct warehouse *wh, const char *rel, struct strvec *names,
		      struct strvec *types, struct strbuf *err)
{
	if (!on_pg(p, wh))
		return warehouse_describe(wh, rel, names, types, err);
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "select * from %s dbt_rel", rel);
	int ret = dbt_pg_describe(p, sql.buf, names, types, err);
	strbuf_release(&sql);
	return ret;
}

static int run(struct dbt_project *p, struct warehouse *wh, struct strbuf *log, const char *sql, struct strbuf *err)
{
	if (log->len)
		strbuf_addstr(log, ";\n");
	strbuf_addstr(log, sql);
	return on_pg(p, wh) ? dbt_pg_exec(p, sql, err) : warehouse_exec(wh, sql, err);
}

/* BEGIN, COMMIT and ROLLBACK: a postgres target's caller holds the transaction */
static int run_tx(struct dbt_project *p, struct warehouse *wh, struct strbuf *log, const char *sql,
		  struct strbuf *err)
{
	return on_pg(p, wh) ? 0 : run(p, wh, log, sql, err);
}

static int first_run(struct snap *s, struct dbt_project *p, struct warehouse *wh, const char *body, const char *rel,
		     struct strbuf *log, int64_t *rows, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, scd = STRBUF_INIT;
	const char *u = upd_expr(s);
	scd_id(&scd, s);
	strbuf_addf(&sql, "CREATE TABLE %s AS (\n  select *, %s as %s, %s as %s, %s as %s, ", rel, scd.buf, s->scd.buf, u,
		    s->upd.buf, u, s->from.buf);
	valid_to_current(&sql, s);
	if (new_record(s))
		strbuf_addf(&sql, ", 'False' as %s", s->del.buf);
	strbuf_addf(&sql, "\n  from (\n%s\n) sbq\n)", body);
	int r = run(p, wh, log, sql.buf, err);
	if (r == 0) {
		dbt_catalog_set(p, s->n->schema, s->n->alias, "table");
		strbuf_reset(&sql);
		strbuf_addf(&sql, "SELECT count(*) FROM %s", rel);
		if (on_pg(p, wh))
			dbt_pg_query_int(p, sql.buf, rows, err);
		else
			warehouse_query_int(wh, sql.buf, rows, err);
	}
	strbuf_release(&sql);
	strbuf_release(&scd);
	return r;
}

int dbt_snapshot_build(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, const char *body,
		       struct strbuf *log, int64_t *rows, struct strbuf *err)
{
	struct snap s;
	struct strbuf rel = STRBUF_INIT, sql = STRBUF_INIT, probe = STRBUF_INIT, stg = STRBUF_INIT;
	struct strvec src = STRVEC_INIT, srct = STRVEC_INIT, dst = STRVEC_INIT, dstt = STRVEC_INIT;
	int r = -1;
	if (snap_config(&s, p, n, err) < 0)
		goto out;
	dbt_node_relation_sql(&rel, n);
	const char *old = dbt_catalog_get(p, wh, n->schema, n->alias);
	if (old && !strcmp(old, "view")) {
		strbuf_addf(err, "snapshot '%s': %s is a view, not a snapshot table", n->name, rel.buf);
		goto out;
	}
	if (!old) {
		r = first_run(&s, p, wh, body, rel.buf, log, rows, err);
		goto out;
	}
	strbuf_addf(&probe, "(SELECT * FROM (\n%s\n) dbt_sbq LIMIT 0)", body);
	if (columns_of(p, wh, probe.buf, &src, &srct, err) < 0 || columns_of(p, wh, rel.buf, &dst, &dstt, err) < 0)
		goto out;
	/* where the staging table is: DuckDB's temp catalog, PostgreSQL's
	 * pg_temp (first on the search path) */
	const char *tmpdb = on_pg(p, wh) ? "" : "temp.main.";
	{
		char *tmp = xasprintf("%s__dbt_tmp", n->alias);
		strbuf_add_sql_ident(&stg, tmp);
		free(tmp);
	}
	if (run_tx(p, wh, log, "BEGIN TRANSACTION", err) < 0)
		goto out;
	/* the query's new columns (and dbt_is_deleted for new_record) are
	 * added to the snapshot, as dbt does */
	for (size_t i = 0; i < src.nr; i++) {
		if (find_col(&dst, src.v[i]) >= 0)
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN ", rel.buf);
		strbuf_add_sql_ident(&sql, src.v[i]);
		strbuf_addf(&sql, " %s", srct.v[i]);
		if (run(p, wh, log, sql.buf, err) < 0)
			goto fail;
	}
	{
		const struct jval *names = jval_dict_get(n->config, "snapshot_meta_column_names");
		const struct jval *dn = names && names->type == JVAL_DICT ? jval_dict_get(*names, "dbt_is_deleted") : NULL;
		const char *del = dn && jval_str_cstr(*dn) ? jval_str_cstr(*dn) : "dbt_is_deleted";
		if (new_record(&s) && find_col(&dst, del) < 0) {
			strbuf_reset(&sql);
			strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN %s VARCHAR", rel.buf, s.del.buf);
			if (run(p, wh, log, sql.buf, err) < 0)
				goto fail;
			strvec_push(&dst, del);
			strvec_push(&dstt, "VARCHAR");
		}
	}
	strbuf_reset(&sql);
	if (on_pg(p, wh))
		strbuf_addf(&sql, "DROP TABLE IF EXISTS pg_temp.%s; CREATE TEMPORARY TABLE %s AS (\n", stg.buf, stg.buf);
	else
		strbuf_addf(&sql, "CREATE OR REPLACE TEMP TABLE %s AS (\n", stg.buf);
	staging_sql(&sql, &s, body, rel.buf, &src, &dst);
	strbuf_addstr(&sql, "\n)");
	if (run(p, wh, log, sql.buf, err) < 0)
		goto fail;
	strbuf_reset(&sql);
	strbuf_addf(&sql,
		    "UPDATE %s AS DBT_INTERNAL_TARGET SET %s = DBT_INTERNAL_SOURCE.%s FROM %s%s AS "
		    "DBT_INTERNAL_SOURCE\nWHERE DBT_INTERNAL_SOURCE.%s::text = DBT_INTERNAL_TARGET.%s::text AND "
		    "DBT_INTERNAL_SOURCE.dbt_change_type::text IN ('update', 'delete') AND ",
		    rel.buf, s.to.buf, s.to.buf, tmpdb, stg.buf, s.scd.buf, s.scd.buf);
	is_current(&sql, &s, "DBT_INTERNAL_TARGET");
	if (run(p, wh, log, sql.buf, err) < 0)
		goto fail;
	/* the snapshot table's columns, after the additions */
	strvec_clear(&dst);
	strvec_clear(&dstt);
	if (columns_of(p, wh, rel.buf, &dst, &dstt, err) < 0)
		goto fail;
	struct strbuf cols = STRBUF_INIT, scols = STRBUF_INIT;
	for (size_t i = 0; i < dst.nr; i++) {
		struct strbuf q = STRBUF_INIT;
		strbuf_add_sql_ident(&q, dst.v[i]);
		strbuf_addf(&cols, "%s%s", i ? ", " : "", q.buf);
		strbuf_addf(&scols, "%sDBT_INTERNAL_SOURCE.%s", i ? ", " : "", q.buf);
		strbuf_release(&q);
	}
	strbuf_reset(&sql);
	strbuf_addf(&sql,
		    "INSERT INTO %s (%s)\nSELECT %s FROM %s%s AS DBT_INTERNAL_SOURCE WHERE "
		    "DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'",
		    rel.buf, cols.buf, scols.buf, tmpdb, stg.buf);
	strbuf_release(&cols);
	strbuf_release(&scols);
	if (on_pg(p, wh)) {
		if (log->len)
			strbuf_addstr(log, ";\n");
		strbuf_addstr(log, sql.buf);
		if (dbt_pg_exec_count(p, sql.buf, rows, err) < 0)
			goto fail;
	} else {
		struct wh_result res;
		if (log->len)
			strbuf_addstr(log, ";\n");
		strbuf_addstr(log, sql.buf);
		if (warehouse_query(wh, sql.buf, &res, err) < 0)
			goto fail;
		if (res.rows && res.cols)
			*rows = wh_result_int(&res, 0, 0);
		wh_result_free(&res);
	}
	strbuf_reset(&sql);
	strbuf_addf(&sql, "DROP TABLE %s%s", tmpdb, stg.buf);
	if (run(p, wh, log, sql.buf, err) < 0 || run_tx(p, wh, log, "COMMIT", err) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	if (on_pg(p, wh))
		goto out; /* the caller rolls back, the staging table with it */
	warehouse_rollback(wh);
	{
		struct strbuf ignored = STRBUF_INIT;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "DROP TABLE IF EXISTS temp.main.%s", stg.buf);
		warehouse_exec(wh, sql.buf, &ignored);
		strbuf_release(&ignored);
	}
out:
	snap_release(&s);
	strbuf_release(&rel);
	strbuf_release(&sql);
	strbuf_release(&probe);
	strbuf_release(&stg);
	strvec_clear(&src);
	strvec_clear(&srct);
	strvec_clear(&dst);
	strvec_clear(&dstt);
	return r;
}
