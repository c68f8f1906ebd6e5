#include "ingest/sync.h"
#include "core/fs.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- jobs ----------------------------------------------------------------- */

static void no_progress(struct sync_job *job, const char *fmt, ...)
{
	(void)job;
	(void)fmt;
}

void sync_job_init(struct sync_job *job, const struct source *s, const struct project *p,
		   const struct sync_options *opts)
{
	struct timeval tv;
	struct tm tm;
	char ts[40];
	memset(job, 0, sizeof(*job));
	job->source = s;
	job->project = p;
	job->opts = opts;
	job->ops = connector_for(s->type_name);
	job->prev_state = json_object();
	job->new_state = json_object();
	job->prev_files = json_object();
	gettimeofday(&tv, NULL);
	/* dlt's load ids are the unix time with microseconds */
	job->load_id = xasprintf("%lld.%06ld", (long long)tv.tv_sec, (long)tv.tv_usec);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	job->extracted_at = xasprintf("%s.%06ld+00", ts, (long)tv.tv_usec);
	job->progress = no_progress;
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->ready_cond, NULL);
	strbuf_init(&job->extract_err, 0);
}

static void batch_release(struct sync_batch *b)
{
	free(b->resource);
	free(b->relation);
	for (size_t i = 0; i < b->nr_consts; i++) {
		free(b->consts[i].name);
		free(b->consts[i].type);
		free(b->consts[i].value);
	}
	free(b->consts);
	free(b->replace_where);
	free(b->label);
	free(b->diagnose);
	if (b->file) {
		free(b->file->path);
		free(b->file->hash);
		free(b->file->status);
		free(b->file);
	}
	if (b->spool_path) {
		unlink(b->spool_path);
		free(b->spool_path);
	}
}

void sync_job_release(struct sync_job *job)
{
	if (job->ops && job->ops->close)
		job->ops->close(job);
	for (size_t i = 0; i < job->nr_batches; i++) {
		batch_release(job->batches[i]);
		free(job->batches[i]);
	}
	free(job->batches);
	for (size_t i = 0; i < job->nr_resources; i++) {
		free(job->resources[i]->name);
		strvec_clear(&job->resources[i]->primary_key);
		strvec_clear(&job->resources[i]->deleted_files);
		free(job->resources[i]);
	}
	free(job->resources);
	pthread_mutex_destroy(&job->lock);
	pthread_cond_destroy(&job->ready_cond);
	strbuf_release(&job->extract_err);
	json_decref(job->prev_state);
	json_decref(job->new_state);
	json_decref(job->prev_files);
	free(job->load_id);
	free(job->extracted_at);
	if (job->spool_dir) {
		fs_remove_tree(job->spool_dir);
		free(job->spool_dir);
	}
	strvec_clear(&job->notes);
	strvec_clear(&job->warnings);
	memset(job, 0, sizeof(*job));
}

struct sync_resource *sync_job_resource(struct sync_job *job, const char *name)
{
	struct sync_resource *r = NULL;
	pthread_mutex_lock(&job->lock);
	for (size_t i = 0; i < job->nr_resources && !r; i++)
		if (!strcmp(job->resources[i]->name, name))
			r = job->resources[i];
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->name = xstrdup(name);
		ALLOC_GROW(job->resources, job->nr_resources + 1, job->alloc_resources);
		job->resources[job->nr_resources++] = r;
	}
	pthread_mutex_unlock(&job->lock);
	return r;
}

struct sync_batch *sync_job_add_batch(struct sync_job *job, const char *resource)
{
	struct sync_batch *b = xcalloc(1, sizeof(*b));
	b->resource = xstrdup(resource);
	pthread_mutex_lock(&job->lock);
	ALLOC_GROW(job->batches, job->nr_batches + 1, job->alloc_batches);
	job->batches[job->nr_batches++] = b;
	pthread_mutex_unlock(&job->lock);
	return b;
}

void sync_job_emit(struct sync_job *job)
{
	pthread_mutex_lock(&job->lock);
	job->nr_ready = job->nr_batches;
	pthread_cond_broadcast(&job->ready_cond);
	pthread_mutex_unlock(&job->lock);
}

/* The next batch to load: waits while extract may still emit one; NULL
 * when extract is done and every batch was taken. */
static struct sync_batch *next_batch(struct sync_job *job, size_t i)
{
	struct sync_batch *b = NULL;
	pthread_mutex_lock(&job->lock);
	while (i >= job->nr_ready && !job->extract_done)
		pthread_cond_wait(&job->ready_cond, &job->lock);
	if (i < job->nr_ready)
		b = job->batches[i];
	pthread_mutex_unlock(&job->lock);
	return b;
}

void sync_batch_add_const(struct sync_batch *b, const char *name, const char *type, const char *value)
{
	ALLOC_GROW(b->consts, b->nr_consts + 1, b->alloc_consts);
	b->consts[b->nr_consts].name = xstrdup(name);
	b->consts[b->nr_consts].type = xstrdup(type);
	b->consts[b->nr_consts++].value = xstrdup(value);
}

int sync_job_selected(const struct sync_job *job, const char *resource)
{
	return !job->opts->select.nr || strvec_has(&job->opts->select, resource);
}

/* ---- names ---------------------------------------------------------------- */

void sync_schema_name(struct strbuf *sb, const char *source)
{
	strbuf_addf(sb, "raw_%s", source);
}

/* dlt's snake_case: lowercase, camelCase split, runs of other characters
 * to one "_"; underscores written in the name stay as they are, so nested
 * "a__b" columns and "_dlt_*" keep their meaning. */
void sync_normalize_name(struct strbuf *sb, const char *name)
{
	size_t start = sb->len;
	int pending = 0; /* a run of other characters waits to become "_" */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isupper(*p) && p != (const unsigned char *)name && (islower(p[-1]) || isdigit(p[-1])) &&
		    !pending)
			strbuf_addch(sb, '_');
		if (isalnum(*p) || *p == '_' || *p >= 0x80) {
			if (pending && sb->len > start && sb->buf[sb->len - 1] != '_')
				strbuf_addch(sb, '_');
			pending = 0;
			strbuf_addch(sb, *p >= 0x80 ? *p : tolower(*p));
		} else {
			pending = 1;
		}
	}
	if (sb->len == start)
		strbuf_addstr(sb, "_");
	if (isdigit((unsigned char)sb->buf[start]))
		strbuf_insert(sb, start, "_", 1);
}

int sync_is_meta_name(const char *name)
{
	return starts_with(name, "_dlt_") || starts_with(name, "_dango_");
}

/* ---- small SQL helpers ------------------------------------------------------ */

static void add_table(struct strbuf *sql, const char *schema, const char *table)
{
	strbuf_add_sql_ident(sql, schema);
	strbuf_addch(sql, '.');
	strbuf_add_sql_ident(sql, table);
}

struct column {
	char *name, *type;
};

struct columns {
	struct column *v;
	size_t nr, alloc;
};

static void columns_release(struct columns *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		free(c->v[i].name);
		free(c->v[i].type);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static const struct column *columns_find(const struct columns *c, const char *name)
{
	for (size_t i = 0; i < c->nr; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

/* The columns of a query or table: DESCRIBE <what>. */
static int describe(struct warehouse *wh, const char *what, struct columns *out, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	strbuf_addf(&sql, "DESCRIBE %s", what);
	int ret = warehouse_query(wh, sql.buf, &r, err);
	strbuf_release(&sql);
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < r.rows; i++) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr].name = wh_result_str(&r, i, 0);
		out->v[out->nr++].type = wh_result_str(&r, i, 1);
	}
	wh_result_free(&r);
	return 0;
}

static int exec_count(struct warehouse *wh, const char *sql, int64_t *count, struct strbuf *err)
{
	struct wh_result r;
	if (warehouse_query(wh, sql, &r, err) < 0)
		return -1;
	*count = r.rows && r.cols ? wh_result_int(&r, 0, 0) : 0;
	wh_result_free(&r);
	return 0;
}

/* The type both a and b fit in: numbers widen to the larger (integers to
 * double), dates to timestamps, anything else to text. */
static const char *widen(const char *a, const char *b)
{
	static const char *const ints[] = { "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
					    "DOUBLE" };
	int ia = -1, ib = -1;
	if (!strcmp(a, b))
		return a;
	for (int i = 0; i < (int)ARRAY_SIZE(ints); i++) {
		if (!strcmp(a, ints[i]))
			ia = i;
		if (!strcmp(b, ints[i]))
			ib = i;
	}
	if (!strcmp(a, "FLOAT") || starts_with(a, "DECIMAL"))
		ia = 6;
	if (!strcmp(b, "FLOAT") || starts_with(b, "DECIMAL"))
		ib = 6;
	if (ia >= 0 && ib >= 0)
		return ints[ia > ib ? ia : ib];
	if ((!strcmp(a, "DATE") || starts_with(a, "TIMESTAMP")) && (!strcmp(b, "DATE") || starts_with(b, "TIMESTAMP")))
		return starts_with(a, "TIMESTAMP WITH") || starts_with(b, "TIMESTAMP WITH") ? "TIMESTAMP WITH TIME ZONE"
											   : "TIMESTAMP";
	return "VARCHAR";
}

/* ---- state ------------------------------------------------------------------ */

static const char *const meta_tables_sql =
	"CREATE TABLE IF NOT EXISTS %1$s._dlt_loads (load_id VARCHAR NOT NULL, schema_name VARCHAR, "
	"status BIGINT NOT NULL, inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_version_hash VARCHAR);"
	"CREATE TABLE IF NOT EXISTS %1$s._dango_state (resource VARCHAR NOT NULL, state JSON, load_id VARCHAR, "
	"updated_at TIMESTAMP WITH TIME ZONE);"
	"CREATE TABLE IF NOT EXISTS %1$s._dango_resources (resource VARCHAR NOT NULL, primary_key JSON, "
	"write_disposition VARCHAR, load_id VARCHAR);"
	"CREATE TABLE IF NOT EXISTS %1$s._dango_file_metadata (path VARCHAR NOT NULL, size BIGINT, "
	"mtime TIMESTAMP, content_hash VARCHAR, rows BIGINT, status VARCHAR, load_id VARCHAR, "
	"loaded_at TIMESTAMP WITH TIME ZONE);";

int sync_read_state(struct warehouse *wh, struct sync_job *job, struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT;
	struct wh_result r;
	int ret = 0;
	sync_schema_name(&schema, job->source->name);
	if (warehouse_has_table(wh, schema.buf, "_dango_state")) {
		strbuf_addstr(&sql, "SELECT resource, state::VARCHAR FROM ");
		add_table(&sql, schema.buf, "_dango_state");
		if (warehouse_query(wh, sql.buf, &r, err) < 0) {
			ret = -1;
			goto out;
		}
		for (size_t i = 0; i < r.rows; i++) {
			char *res = wh_result_str(&r, i, 0), *text = wh_result_str(&r, i, 1);
			json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
			if (res && v)
				json_object_set_new(job->prev_state, res, v);
			else
				json_decref(v);
			free(res);
			free(text);
		}
		wh_result_free(&r);
	}
	if (warehouse_has_table(wh, schema.buf, "_dango_file_metadata")) {
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "SELECT path, size, epoch(mtime)::BIGINT, content_hash, rows, status FROM ");
		add_table(&sql, schema.buf, "_dango_file_metadata");
		if (warehouse_query(wh, sql.buf, &r, err) < 0) {
			ret = -1;
			goto out;
		}
		for (size_t i = 0; i < r.rows; i++) {
			char *path = wh_result_str(&r, i, 0), *hash = wh_result_str(&r, i, 3),
			     *status = wh_result_str(&r, i, 5);
			json_object_set_new(job->prev_files, path,
					    json_pack("{s:I, s:I, s:s, s:I, s:s}", "size", (json_int_t)wh_result_int(&r, i, 1),
						      "mtime", (json_int_t)wh_result_int(&r, i, 2), "hash", hash ? hash : "",
						      "rows", (json_int_t)wh_result_int(&r, i, 4), "status",
						      status ? status : ""));
			free(path);
			free(hash);
			free(status);
		}
		wh_result_free(&r);
	}
	json_object_update(job->new_state, job->prev_state);
out:
	strbuf_release(&schema);
	strbuf_release(&sql);
	return ret;
}

int sync_extract(struct sync_job *job)
{
	struct strbuf *err = &job->extract_err;
	int rc;
	if (!job->ops) {
		strbuf_addf(err, "source type '%s' cannot be synced yet", job->source->type_name);
		rc = -1;
	} else if (job->ops->open && job->ops->open(job, err) < 0) {
		rc = -1;
	} else {
		rc = job->ops->extract(job, err);
	}
	/* whatever was added is handed over, and the loader told it is all */
	pthread_mutex_lock(&job->lock);
	job->nr_ready = job->nr_batches;
	job->extract_rc = rc;
	job->extract_done = 1;
	pthread_cond_broadcast(&job->ready_cond);
	pthread_mutex_unlock(&job->lock);
	return rc;
}

/* ---- loading ------------------------------------------------------------------ */

struct loader {
	struct warehouse *wh;
	struct sync_job *job;
	struct strbuf schema;
	int64_t remaining;        /* --limit rows left; <0 without a limit */
	struct strvec created;    /* resources whose table this sync (re)created */
	struct strvec tables;     /* target tables known to exist (saves a catalog query a batch) */
	struct strvec defaulted;  /* "table\tcolumn" given a default by this load, dropped at its end */
	struct strbuf *err;
};

/* The table a resource loads into: its own name, or for --full-refresh a
 * new table swapped in at the end. */
static void target_name(struct strbuf *sb, const struct loader *l, const char *resource)
{
	const struct sync_resource *r = sync_job_resource(l->job, resource);
	if (l->job->opts->full_refresh || r->swap_in)
		strbuf_addf(sb, "%s__dango_new", resource);
	else
		strbuf_addstr(sb, resource);
}

static void schema_change_error(struct loader *l, const struct sync_batch *b, const char *table,
				const struct strvec *added, const struct strvec *missing)
{
	struct strbuf *err = l->err;
	strbuf_addf(err, "%s: columns differ from %s.%s", b->label ? b->label : b->resource, l->schema.buf, table);
	if (added->nr) {
		strbuf_addstr(err, "; new: ");
		for (size_t i = 0; i < added->nr; i++)
			strbuf_addf(err, "%s%s", i ? ", " : "", added->v[i]);
	}
	if (missing->nr) {
		strbuf_addstr(err, "; missing: ");
		for (size_t i = 0; i < missing->nr; i++)
			strbuf_addf(err, "%s%s", i ? ", " : "", missing->v[i]);
	}
	strbuf_addstr(err, " (re-run with --allow-schema-changes to add new columns and leave missing ones NULL)");
}

/* Make the target table accept the batch: new columns, wider types. */
static int evolve(struct loader *l, const struct sync_batch *b, const struct sync_resource *res, const char *table,
		  const struct columns *batch_cols, const struct sync_batch *meta)
{
	struct columns tcols = { 0 };
	struct strbuf what = STRBUF_INIT, sql = STRBUF_INIT;
	struct strvec added = STRVEC_INIT, missing = STRVEC_INIT;
	int ret = -1;
	add_table(&what, l->schema.buf, table);
	if (describe(l->wh, what.buf, &tcols, l->err) < 0)
		goto out;
	for (size_t i = 0; i < batch_cols->nr; i++)
		if (!sync_is_meta_name(batch_cols->v[i].name) && !columns_find(&tcols, batch_cols->v[i].name))
			strvec_push(&added, batch_cols->v[i].name);
	for (size_t i = 0; i < tcols.nr; i++)
		if (!sync_is_meta_name(tcols.v[i].name) && !columns_find(batch_cols, tcols.v[i].name))
			strvec_push(&missing, tcols.v[i].name);
	if ((added.nr || missing.nr) && res->is_file_table && !l->job->opts->allow_schema_changes) {
		schema_change_error(l, b, table, &added, &missing);
		goto out;
	}
	/* metadata columns a table made before lacks (file columns on a table
	 * of another kind, say) */
	for (size_t i = 0; i < meta->nr_consts; i++) {
		if (columns_find(&tcols, meta->consts[i].name))
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN %s %s", what.buf, meta->consts[i].name, meta->consts[i].type);
		if (warehouse_exec(l->wh, sql.buf, l->err) < 0)
			goto out;
	}
	for (size_t i = 0; i < batch_cols->nr; i++) {
		const struct column *bc = &batch_cols->v[i], *tc = columns_find(&tcols, bc->name);
		strbuf_reset(&sql);
		if (!tc) {
			strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN ", what.buf);
			strbuf_add_sql_ident(&sql, bc->name);
			strbuf_addf(&sql, " %s", bc->type);
		} else if (strcmp(tc->type, bc->type) && strcmp(widen(tc->type, bc->type), tc->type)) {
			strbuf_addf(&sql, "ALTER TABLE %s ALTER COLUMN ", what.buf);
			strbuf_add_sql_ident(&sql, bc->name);
			strbuf_addf(&sql, " TYPE %s", widen(tc->type, bc->type));
		} else {
			continue;
		}
		if (warehouse_exec(l->wh, sql.buf, l->err) < 0)
			goto out;
	}
	ret = 0;
out:
	columns_release(&tcols);
	strbuf_release(&what);
	strbuf_release(&sql);
	strvec_clear(&added);
	strvec_clear(&missing);
	return ret;
}

/* DuckDB's messages run to many lines of hints; keep the ones that say
 * what and where. */
static void add_db_error(struct strbuf *err, const char *label, const char *msg)
{
	const char *on_line = strstr(msg, "CSV Error on Line: ");
	if (label && on_line) {
		/* "CSV Error on Line: 3" -> "file.csv:3: ..." */
		strbuf_addf(err, "%s:%ld: ", label, strtol(on_line + 19, NULL, 10));
		msg = strchr(on_line, '\n') ? strchr(on_line, '\n') + 1 : msg;
	} else if (label) {
		strbuf_addf(err, "%s: ", label);
	}
	int lines = 0;
	for (const char *p = msg; *p && lines < 8; lines++) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && !starts_with(p, "Possible fixes") && !starts_with(p, "* ")) {
			if (lines)
				strbuf_addstr(err, "\n  ");
			strbuf_add(err, p, n);
		}
		if (starts_with(p, "Possible fixes"))
			break;
		p += n + (nl ? 1 : 0);
	}
	strbuf_rtrim(err);
}

/* on_error: skip: DuckDB kept the rows it could not read in its temporary
 * reject_errors table; keep them in <schema>._dango_rejects and count them. */
static int collect_rejects(struct loader *l, const struct sync_batch *b, struct sync_resource *res)
{
	struct strbuf sql = STRBUF_INIT;
	int64_t n = 0;
	int ret;
	strbuf_addstr(&sql, "CREATE TABLE IF NOT EXISTS ");
	add_table(&sql, l->schema.buf, "_dango_rejects");
	strbuf_addstr(&sql, " (file VARCHAR, line BIGINT, error VARCHAR, csv_line VARCHAR, load_id VARCHAR);\nINSERT INTO ");
	add_table(&sql, l->schema.buf, "_dango_rejects");
	strbuf_addstr(&sql, " SELECT ");
	strbuf_add_sql_str(&sql, b->label ? b->label : b->resource);
	strbuf_addf(&sql, ", line, error_message, csv_line, '%s' FROM reject_errors", l->job->load_id);
	ret = warehouse_exec(l->wh, sql.buf, l->err);
	if (!ret)
		ret = exec_count(l->wh, "SELECT count(DISTINCT line) FROM reject_errors", &n, l->err);
	if (!ret)
		ret = warehouse_exec(l->wh, "DELETE FROM reject_errors; DELETE FROM reject_scans", l->err);
	if (!ret && n) {
		char num[32];
		res->rejected += n;
		strvec_pushf(&l->job->warnings, "%s: skipped %s bad row%s (kept in %s._dango_rejects)",
			     b->label ? b->label : b->resource, fmt_count(num, n), n == 1 ? "" : "s", l->schema.buf);
	}
	strbuf_release(&sql);
	return ret;
}

/* After a failed CSV load: read the file again letting DuckDB skip and
 * record bad lines, and name the first one. */
static void diagnose(struct warehouse *wh, const struct sync_batch *b, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	struct wh_result r;
	int64_t n;
	if (!b->diagnose)
		return;
	warehouse_exec(wh, "DELETE FROM reject_errors; DELETE FROM reject_scans", &e);
	/* materialized, so that every column is converted (a count(*) would
	 * skip the conversions) */
	strbuf_addf(&sql, "CREATE OR REPLACE TEMP TABLE __dango_diagnose AS SELECT * FROM %s;\n"
		    "SELECT count(*) FROM __dango_diagnose", b->diagnose);
	if (exec_count(wh, sql.buf, &n, &e) == 0 &&
	    warehouse_query(wh, "SELECT line, error_message, csv_line FROM reject_errors ORDER BY line, column_idx LIMIT 1",
			    &r, &e) == 0) {
		if (r.rows) {
			char *msg = wh_result_str(&r, 0, 1), *line = wh_result_str(&r, 0, 2);
			strbuf_reset(err);
			strbuf_addf(err, "%s:%lld: %s", b->label, (long long)wh_result_int(&r, 0, 0), msg ? msg : "bad row");
			if (line)
				strbuf_addf(err, "\n  the line reads: %s", line);
			free(msg);
			free(line);
		}
		wh_result_free(&r);
	}
	strbuf_reset(&e);
	warehouse_exec(wh, "DROP TABLE IF EXISTS __dango_diagnose; DELETE FROM reject_errors; DELETE FROM reject_scans",
		       &e);
	strbuf_release(&sql);
	strbuf_release(&e);
}

static int load_batch(struct loader *l, struct sync_batch *b)
{
	struct sync_job *job = l->job;
	struct sync_resource *res = sync_job_resource(job, b->resource);
	struct strbuf table = STRBUF_INIT, target = STRBUF_INIT, select = STRBUF_INIT, sql = STRBUF_INIT,
		      e = STRBUF_INIT;
	struct columns cols = { 0 }, norm = { 0 };
	int ret = -1;
	int64_t count = 0;

	if (l->remaining == 0)
		return 0;
	target_name(&table, l, b->resource);
	add_table(&target, l->schema.buf, table.buf);

	/* what the batch holds, with dlt-style names */
	strbuf_addf(&sql, "SELECT * FROM %s", b->relation);
	if (describe(l->wh, sql.buf, &cols, &e) < 0) {
		add_db_error(l->err, b->label, e.buf);
		goto out;
	}
	int own_id = columns_find(&cols, "_dlt_id") != NULL;
	for (size_t i = 0; i < cols.nr; i++) {
		struct strbuf n = STRBUF_INIT;
		if (!strcmp(cols.v[i].name, "_dlt_id") || !strcmp(cols.v[i].name, "_dlt_parent_id")) {
			/* ids a connector set itself, to link child rows to parents */
			strbuf_addf(&select, "%s\"%s\"::UUID AS %s", i ? ", " : "", cols.v[i].name, cols.v[i].name);
			ALLOC_GROW(norm.v, norm.nr + 1, norm.alloc);
			norm.v[norm.nr].name = xstrdup(cols.v[i].name);
			norm.v[norm.nr++].type = xstrdup("UUID");
			continue;
		}
		sync_normalize_name(&n, cols.v[i].name);
		/* two headers may normalize alike: number the later ones */
		for (int k = 2; columns_find(&norm, n.buf); k++) {
			strbuf_reset(&n);
			sync_normalize_name(&n, cols.v[i].name);
			strbuf_addf(&n, "_%d", k);
		}
		if (i)
			strbuf_addstr(&select, ", ");
		strbuf_add_sql_ident(&select, cols.v[i].name);
		strbuf_addstr(&select, " AS ");
		strbuf_add_sql_ident(&select, n.buf);
		ALLOC_GROW(norm.v, norm.nr + 1, norm.alloc);
		norm.v[norm.nr].name = strbuf_detach(&n, NULL);
		norm.v[norm.nr++].type = xstrdup(cols.v[i].type);
	}
	/* the metadata every row carries: this load's constants, then the
	 * batch's own (file name, mtime...), and a fresh _dlt_id per row */
	struct sync_batch meta = { 0 };
	char *lit = xasprintf("'%s'", job->load_id);
	sync_batch_add_const(&meta, "_dlt_load_id", "VARCHAR", lit);
	free(lit);
	if (!own_id)
		sync_batch_add_const(&meta, "_dlt_id", "UUID", "gen_random_uuid()");
	lit = xasprintf("TIMESTAMPTZ '%s'", job->extracted_at);
	sync_batch_add_const(&meta, "_dlt_extracted_at", "TIMESTAMP WITH TIME ZONE", lit);
	free(lit);
	for (size_t i = 0; i < b->nr_consts; i++)
		sync_batch_add_const(&meta, b->consts[i].name, b->consts[i].type, b->consts[i].value);

	strbuf_reset(&sql);
	int exists = strvec_has(&l->tables, table.buf) || warehouse_has_table(l->wh, l->schema.buf, table.buf);
	/* replace and --full-refresh start the table over at a resource's first batch */
	int fresh = !exists || ((res->disposition == WD_REPLACE || job->opts->full_refresh) &&
				!strvec_has(&l->created, b->resource));
	int merge = !fresh && res->disposition == WD_MERGE && res->primary_key.nr;
	if (fresh) {
		/* an empty table of the batch's columns, then the metadata columns */
		strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s AS SELECT %s FROM %s LIMIT 0;\n", target.buf, select.buf,
			    b->relation);
		for (size_t i = 0; i < meta.nr_consts; i++)
			strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN %s %s;\n", target.buf, meta.consts[i].name,
				    meta.consts[i].type);
		if (warehouse_exec(l->wh, sql.buf, &e) < 0) {
			add_db_error(l->err, b->label, e.buf);
			goto out_meta;
		}
		strbuf_reset(&sql);
	} else {
		if (evolve(l, b, res, table.buf, &norm, &meta) < 0)
			goto out_meta;
		if (b->replace_where) {
			struct strbuf del = STRBUF_INIT;
			strbuf_addf(&del, "DELETE FROM %s WHERE %s", target.buf, b->replace_where);
			int r = warehouse_exec(l->wh, del.buf, l->err);
			strbuf_release(&del);
			if (r < 0)
				goto out_meta;
		}
	}
	if (merge) {
		struct strbuf keys = STRBUF_INIT;
		for (size_t i = 0; i < res->primary_key.nr; i++) {
			if (i)
				strbuf_addstr(&keys, ", ");
			strbuf_add_sql_ident(&keys, res->primary_key.v[i]);
		}
		for (size_t i = 0; i < meta.nr_consts; i++)
			strbuf_addf(&select, ", %s AS %s", meta.consts[i].value, meta.consts[i].name);
		/* the newest row of a key wins: later rows of the batch over earlier
		 * (so the file's order must be kept), the batch over the table */
		strbuf_addf(&sql, "SET preserve_insertion_order = true;\n"
			    "CREATE OR REPLACE TEMP TABLE __dango_batch AS SELECT %s FROM %s", select.buf, b->relation);
		if (l->remaining > 0)
			strbuf_addf(&sql, " LIMIT %lld", (long long)l->remaining);
		/* rowid follows the file's order (DuckDB keeps insertion order) */
		strbuf_addf(&sql, ";\nDELETE FROM __dango_batch WHERE rowid NOT IN (SELECT max(rowid) FROM "
			    "__dango_batch GROUP BY %s);\n"
			    "DELETE FROM %s WHERE (%s) IN (SELECT (%s) FROM __dango_batch);\n",
			    keys.buf, target.buf, keys.buf, keys.buf);
		strbuf_release(&keys);
		if (warehouse_exec(l->wh, sql.buf, &e) < 0) {
			add_db_error(l->err, b->label, e.buf);
			goto out_meta;
		}
		strbuf_reset(&sql);
		strbuf_addf(&sql, "INSERT INTO %s BY NAME SELECT * FROM __dango_batch", target.buf);
	} else {
		/* the metadata through column defaults (see struct batch_const);
		 * rows need not keep the file's order, which lets DuckDB write in
		 * parallel with a third less memory */
		strbuf_addstr(&sql, "SET preserve_insertion_order = false;\n");
		for (size_t i = 0; i < meta.nr_consts; i++)
			strbuf_addf(&sql, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", target.buf,
				    meta.consts[i].name, meta.consts[i].value);
		if (warehouse_exec(l->wh, sql.buf, &e) < 0) {
			add_db_error(l->err, b->label, e.buf);
			goto out_meta;
		}
		strbuf_reset(&sql);
		strbuf_addf(&sql, "INSERT INTO %s BY NAME SELECT %s FROM %s", target.buf, select.buf, b->relation);
		if (l->remaining > 0)
			strbuf_addf(&sql, " LIMIT %lld", (long long)l->remaining);
	}
	if (exec_count(l->wh, sql.buf, &count, &e) < 0) {
		add_db_error(l->err, b->label, e.buf);
		goto out_meta;
	}
	if (!merge) {
		/* the table keeps no defaults of a load: dropped once at its end
		 * (each batch sets its own meanwhile) */
		for (size_t i = 0; i < meta.nr_consts; i++) {
			struct strbuf key = STRBUF_INIT;
			strbuf_addf(&key, "%s\t%s", target.buf, meta.consts[i].name);
			if (!strvec_has(&l->defaulted, key.buf))
				strvec_push(&l->defaulted, key.buf);
			strbuf_release(&key);
		}
	}
	if (!strvec_has(&l->tables, table.buf))
		strvec_push(&l->tables, table.buf);
	if (fresh && !strvec_has(&l->created, b->resource))
		strvec_push(&l->created, b->resource);
	if (b->collect_rejects && collect_rejects(l, b, res) < 0)
		goto out;
	if (merge)
		warehouse_exec(l->wh, "DROP TABLE IF EXISTS __dango_batch", &e);
	if (l->remaining > 0)
		l->remaining = count >= l->remaining ? 0 : l->remaining - count;
	res->rows += count;
	if (b->file)
		b->file->rows = count;
	ret = 0;
out_meta:
	for (size_t i = 0; i < meta.nr_consts; i++) {
		free(meta.consts[i].name);
		free(meta.consts[i].type);
		free(meta.consts[i].value);
	}
	free(meta.consts);
out:
	columns_release(&cols);
	columns_release(&norm);
	strbuf_release(&table);
	strbuf_release(&target);
	strbuf_release(&select);
	strbuf_release(&sql);
	strbuf_release(&e);
	return ret;
}

static int soft_delete(struct loader *l, struct sync_resource *res)
{
	struct strbuf sql = STRBUF_INIT;
	int ret = 0;
	if (!res->deleted_files.nr || l->job->opts->full_refresh ||
	    !warehouse_has_table(l->wh, l->schema.buf, res->name))
		return 0;
	strbuf_addstr(&sql, "UPDATE ");
	add_table(&sql, l->schema.buf, res->name);
	strbuf_addstr(&sql, " SET _dango_deleted = true WHERE _dango_filename IN (");
	for (size_t i = 0; i < res->deleted_files.nr; i++) {
		if (i)
			strbuf_addstr(&sql, ", ");
		strbuf_add_sql_str(&sql, res->deleted_files.v[i]);
	}
	strbuf_addstr(&sql, ")");
	ret = warehouse_exec(l->wh, sql.buf, l->err);
	strbuf_release(&sql);
	return ret;
}

static int write_file_metadata(struct loader *l)
{
	struct sync_job *job = l->job;
	struct strbuf sql = STRBUF_INIT, meta = STRBUF_INIT;
	int ret = 0;
	add_table(&meta, l->schema.buf, "_dango_file_metadata");
	if (job->opts->full_refresh)
		strbuf_addf(&sql, "DELETE FROM %s;\n", meta.buf);
	/* one DELETE and one INSERT for all files of the load (a statement
	 * per file costs more than loading a small file) */
	struct strbuf paths = STRBUF_INIT, rows = STRBUF_INIT;
	for (size_t i = 0; i < job->nr_batches; i++) {
		const struct tracked_file *f = job->batches[i]->file;
		char when[32];
		struct tm tm;
		time_t t;
		if (!f)
			continue;
		t = (time_t)f->mtime;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		strbuf_addstr(&paths, paths.len ? ", " : "");
		strbuf_add_sql_str(&paths, f->path);
		strbuf_addstr(&rows, rows.len ? ",\n(" : "(");
		strbuf_add_sql_str(&rows, f->path);
		strbuf_addf(&rows, ", %lld, TIMESTAMP '%s', '%s', %lld, '%s', '%s', TIMESTAMPTZ '%s')", (long long)f->size,
			    when, f->hash ? f->hash : "", (long long)f->rows, f->status, job->load_id, job->extracted_at);
	}
	if (paths.len)
		strbuf_addf(&sql, "DELETE FROM %s WHERE path IN (%s);\nINSERT INTO %s VALUES %s;\n", meta.buf, paths.buf,
			    meta.buf, rows.buf);
	strbuf_release(&paths);
	strbuf_release(&rows);
	/* deleted files keep their row, marked */
	for (size_t r = 0; r < job->nr_resources; r++) {
		const struct sync_resource *res = job->resources[r];
		for (size_t i = 0; i < res->deleted_files.nr && !job->opts->full_refresh; i++) {
			strbuf_addf(&sql, "UPDATE %s SET status = 'deleted', load_id = '%s' WHERE path = ", meta.buf,
				    job->load_id);
			strbuf_add_sql_str(&sql, res->deleted_files.v[i]);
			strbuf_addstr(&sql, ";\n");
		}
	}
	if (sql.len)
		ret = warehouse_exec(l->wh, sql.buf, l->err);
	strbuf_release(&sql);
	strbuf_release(&meta);
	return ret;
}

static int write_state(struct loader *l)
{
	struct sync_job *job = l->job;
	struct strbuf sql = STRBUF_INIT, st = STRBUF_INIT;
	const char *key;
	json_t *value;
	int ret = 0;
	add_table(&st, l->schema.buf, "_dango_state");
	if (job->opts->full_refresh)
		strbuf_addf(&sql, "DELETE FROM %s;\n", st.buf);
	json_object_foreach(job->new_state, key, value) {
		char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		strbuf_addf(&sql, "DELETE FROM %s WHERE resource = ", st.buf);
		strbuf_add_sql_str(&sql, key);
		strbuf_addf(&sql, ";\nINSERT INTO %s VALUES (", st.buf);
		strbuf_add_sql_str(&sql, key);
		strbuf_addstr(&sql, ", ");
		strbuf_add_sql_str(&sql, text);
		strbuf_addf(&sql, ", '%s', TIMESTAMPTZ '%s');\n", job->load_id, job->extracted_at);
		free(text);
	}
	/* what each resource declared, for dango generate (primary keys) */
	static const char *const wd_names[] = { "append", "replace", "merge" };
	for (size_t i = 0; i < job->nr_resources; i++) {
		const struct sync_resource *r = job->resources[i];
		json_t *pk = json_array();
		for (size_t k = 0; k < r->primary_key.nr; k++)
			json_array_append_new(pk, json_string(r->primary_key.v[k]));
		char *pkt = json_dumps(pk, JSON_COMPACT);
		strbuf_addstr(&sql, "DELETE FROM ");
		add_table(&sql, l->schema.buf, "_dango_resources");
		strbuf_addstr(&sql, " WHERE resource = ");
		strbuf_add_sql_str(&sql, r->name);
		strbuf_addstr(&sql, ";\nINSERT INTO ");
		add_table(&sql, l->schema.buf, "_dango_resources");
		strbuf_addstr(&sql, " VALUES (");
		strbuf_add_sql_str(&sql, r->name);
		strbuf_addstr(&sql, ", ");
		strbuf_add_sql_str(&sql, pkt);
		strbuf_addf(&sql, ", '%s', '%s');\n", wd_names[r->disposition], job->load_id);
		free(pkt);
		json_decref(pk);
	}
	strbuf_addstr(&sql, "INSERT INTO ");
	add_table(&sql, l->schema.buf, "_dlt_loads");
	strbuf_addf(&sql, " VALUES ('%s', ", job->load_id);
	strbuf_add_sql_str(&sql, job->source->name);
	strbuf_addf(&sql, ", 0, TIMESTAMPTZ '%s', NULL);", job->extracted_at);
	ret = warehouse_exec(l->wh, sql.buf, l->err);
	strbuf_release(&sql);
	strbuf_release(&st);
	return ret;
}

/* --full-refresh (and resources that ask for it, swap_in): put the new
 * tables in place of the old, after the row-count checks. */
static int swap_tables(struct loader *l)
{
	struct sync_job *job = l->job;
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	int ret = 0;
	for (size_t i = 0; i < job->nr_resources && !ret; i++) {
		struct sync_resource *r = job->resources[i];
		struct strbuf newt = STRBUF_INIT, oldt = STRBUF_INIT;
		int64_t old_rows = 0;
		if (!job->opts->full_refresh && !r->swap_in)
			continue;
		target_name(&newt, l, r->name);
		if (!warehouse_has_table(l->wh, l->schema.buf, newt.buf)) {
			strbuf_release(&newt);
			continue;
		}
		add_table(&oldt, l->schema.buf, r->name);
		int had_old = warehouse_has_table(l->wh, l->schema.buf, r->name);
		if (had_old)
			old_rows = warehouse_count_rows(l->wh, l->schema.buf, r->name);
		strbuf_reset(&sql);
		if (had_old && r->rows == 0 && old_rows > 0 && !job->opts->allow_empty) {
			char n[32];
			strbuf_addf(l->err, "full refresh of %s.%s loaded 0 rows over %s existing rows; refusing "
				    "(nothing was changed; pass --allow-empty if the source really is empty now)",
				    l->schema.buf, r->name, fmt_count(n, old_rows));
			ret = -1;
		} else if (had_old && r->rows * 2 < old_rows) {
			char stamp[32], a[32], b[32];
			time_t now = time(NULL);
			struct tm tm;
			gmtime_r(&now, &tm);
			strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
			struct strbuf backup = STRBUF_INIT;
			strbuf_addf(&backup, "%s__backup_%s", r->name, stamp);
			/* two refreshes within a second must not collide */
			for (int k = 2; warehouse_has_table(l->wh, l->schema.buf, backup.buf); k++) {
				strbuf_reset(&backup);
				strbuf_addf(&backup, "%s__backup_%s_%d", r->name, stamp, k);
			}
			strbuf_addf(&sql, "ALTER TABLE %s RENAME TO ", oldt.buf);
			strbuf_add_sql_ident(&sql, backup.buf);
			strbuf_addch(&sql, ';');
			strvec_pushf(&job->warnings,
				     "full refresh of %s.%s loaded %s rows, under half of the previous %s; the old table "
				     "is kept as %s.%s for recovery",
				     l->schema.buf, r->name, fmt_count(a, r->rows), fmt_count(b, old_rows), l->schema.buf,
				     backup.buf);
			strbuf_release(&backup);
		} else if (had_old) {
			strbuf_addf(&sql, "DROP TABLE %s;", oldt.buf);
		}
		if (!ret) {
			strbuf_addf(&sql, "ALTER TABLE ");
			add_table(&sql, l->schema.buf, newt.buf);
			strbuf_addstr(&sql, " RENAME TO ");
			strbuf_add_sql_ident(&sql, r->name);
			ret = warehouse_exec(l->wh, sql.buf, l->err);
		}
		strbuf_release(&newt);
		strbuf_release(&oldt);
	}
	strbuf_release(&sql);
	strbuf_release(&e);
	return ret;
}

int sync_load(struct warehouse *wh, struct sync_job *job, struct sync_result *res, struct strbuf *err)
{
	struct loader l = { .wh = wh, .job = job, .err = err };
	struct strbuf sql = STRBUF_INIT;
	const struct sync_batch *failed = NULL;
	int ret = -1;
	strbuf_init(&l.schema, 0);
	sync_schema_name(&l.schema, job->source->name);
	l.remaining = job->opts->limit > 0 && !job->limit_handled ? job->opts->limit : -1;

	if (warehouse_begin(wh, err) < 0)
		goto out_norollback;
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
	strbuf_add_sql_ident(&sql, l.schema.buf);
	strbuf_addstr(&sql, ";\n");
	struct strbuf quoted = STRBUF_INIT;
	strbuf_add_sql_ident(&quoted, l.schema.buf);
	strbuf_addf(&sql, meta_tables_sql, quoted.buf);
	strbuf_release(&quoted);
	if (warehouse_exec(wh, sql.buf, err) < 0)
		goto out;
	/* batches as extract hands them over; the rest once it is done */
	struct sync_batch *b;
	for (size_t i = 0; (b = next_batch(job, i)); i++) {
		/* a batch without a relation only updates file metadata (a file
		 * touched but not changed) */
		if (!b->relation)
			continue;
		if (b->label)
			job->progress(job, "Reading %s%s%s%s", b->label, b->file ? " (" : "",
				      b->file ? b->file->status : "", b->file ? ")" : "");
		if (load_batch(&l, b) < 0) {
			failed = b;
			goto out;
		}
	}
	if (job->extract_rc < 0) {
		strbuf_addbuf(err, &job->extract_err);
		goto out;
	}
	strbuf_reset(&sql);
	for (size_t i = 0; i < l.defaulted.nr; i++) {
		const char *tab = strchr(l.defaulted.v[i], '\t');
		strbuf_addf(&sql, "ALTER TABLE %.*s ALTER COLUMN %s DROP DEFAULT;\n", (int)(tab - l.defaulted.v[i]),
			    l.defaulted.v[i], tab + 1);
	}
	if (sql.len && warehouse_exec(wh, sql.buf, err) < 0)
		goto out;
	for (size_t i = 0; i < job->nr_resources; i++)
		if (soft_delete(&l, job->resources[i]) < 0)
			goto out;
	if (swap_tables(&l) < 0)
		goto out;
	if (write_file_metadata(&l) < 0 || write_state(&l) < 0)
		goto out;
	if (warehouse_commit(wh, err) < 0)
		goto out;
	for (size_t i = 0; i < job->nr_resources; i++)
		res->rows += job->resources[i]->rows;
	ret = 0;
out:
	if (ret < 0) {
		warehouse_rollback(wh);
		if (failed)
			diagnose(wh, failed, err);
	}
out_norollback:
	if (ret < 0)
		job->cancelled = 1; /* an extract still running may stop: nothing will be kept */
	strbuf_release(&l.schema);
	strbuf_release(&sql);
	strvec_clear(&l.created);
	strvec_clear(&l.tables);
	strvec_clear(&l.defaulted);
	return ret;
}

void sync_record_history(struct warehouse *wh, const struct sync_job *job, const struct sync_result *res,
			 const char *started_at)
{
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	json_t *tables = json_object();
	for (size_t i = 0; i < job->nr_resources; i++)
		json_object_set_new(tables, job->resources[i]->name, json_integer(job->resources[i]->rows));
	char *tj = json_dumps(tables, JSON_COMPACT);
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS _dango;\n"
			    "CREATE TABLE IF NOT EXISTS _dango.sync_history (source VARCHAR, load_id VARCHAR, "
			    "started_at TIMESTAMP WITH TIME ZONE, finished_at TIMESTAMP WITH TIME ZONE, duration_s DOUBLE, "
			    "status VARCHAR, rows BIGINT, tables JSON, error VARCHAR);\n"
			    "INSERT INTO _dango.sync_history VALUES (");
	strbuf_add_sql_str(&sql, job->source->name);
	strbuf_addf(&sql, ", '%s', TIMESTAMPTZ '%s', now(), %.3f, '%s', %lld, ", job->load_id, started_at, res->seconds,
		    res->ok ? "success" : "failed", (long long)res->rows);
	strbuf_add_sql_str(&sql, tj);
	strbuf_addstr(&sql, ", ");
	if (res->ok)
		strbuf_addstr(&sql, "NULL");
	else
		strbuf_add_sql_str(&sql, res->error.buf);
	strbuf_addstr(&sql, ")");
	warehouse_exec(wh, sql.buf, &e);
	free(tj);
	json_decref(tables);
	strbuf_release(&sql);
	strbuf_release(&e);
}

int sync_table_counts(struct warehouse *wh, const char *source, struct strvec *lines, int64_t *total,
		      struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT;
	struct wh_result r;
	*total = 0;
	sync_schema_name(&schema, source);
	strbuf_addstr(&sql, "SELECT table_name FROM information_schema.tables WHERE table_schema = ");
	strbuf_add_sql_str(&sql, schema.buf);
	strbuf_addstr(&sql, " AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_dlt\\_%' ESCAPE '\\' "
			    "AND table_name NOT LIKE '\\_dango\\_%' ESCAPE '\\' AND table_name NOT LIKE '%\\_\\_backup\\_%' "
			    "ESCAPE '\\' ORDER BY 1");
	int ret = warehouse_query(wh, sql.buf, &r, err);
	if (ret == 0) {
		for (size_t i = 0; i < r.rows; i++) {
			char *t = wh_result_str(&r, i, 0), n[32];
			int64_t c = warehouse_count_rows(wh, schema.buf, t);
			strvec_pushf(lines, "%s.%s (%s rows)", schema.buf, t, fmt_count(n, c));
			*total += c;
			free(t);
		}
		wh_result_free(&r);
	}
	strbuf_release(&schema);
	strbuf_release(&sql);
	return ret;
}
