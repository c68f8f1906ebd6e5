#include "ingest/sync.h"
#include "ingest/load_pg_stream.h"
#include "governance/governance.h"
#include "ingest/backup.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- jobs ----------------------------------------------------------------- */

static void spool_remove(const char *dir);

static void no_progress(struct sync_job *job, const char *fmt, ...)
{
	(void)job;
	(void)fmt;
}

void sync_job_init(struct sync_job *job, const struct source *s, const struct project *p,
		   const struct sync_options *opts)
{
	struct timeval tv;
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
	clock_format_utc_sql(ts, tv.tv_sec);
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
		free(b->file->table);
		free(b->file->status);
		free(b->file);
	}
	if (b->spool_path) {
		unlink(b->spool_path);
		free(b->spool_path);
	}
	free(b->memory_limit);
	for (size_t i = 0; i < b->nr_parts; i++) {
		batch_release(b->parts[i]);
		free(b->parts[i]);
	}
	free(b->parts);
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
		free(job->resources[i]->delete_where);
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
		spool_remove(job->spool_dir);
		free(job->spool_dir);
	}
	strvec_clear(&job->notes);
	strvec_clear(&job->warnings);
	json_decref(job->observed);
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

struct sync_batch *sync_batch_new(const char *resource)
{
	struct sync_batch *b = xcalloc(1, sizeof(*b));
	b->resource = xstrdup(resource);
	return b;
}

void sync_batch_free(struct sync_batch *b)
{
	if (!b)
		return;
	batch_release(b);
	free(b);
}

void sync_job_push_batch(struct sync_job *job, struct sync_batch *b)
{
	pthread_mutex_lock(&job->lock);
	ALLOC_GROW(job->batches, job->nr_batches + 1, job->alloc_batches);
	job->batches[job->nr_batches++] = b;
	pthread_mutex_unlock(&job->lock);
}

struct sync_batch *sync_job_add_batch(struct sync_job *job, const char *resource)
{
	struct sync_batch *b = sync_batch_new(resource);
	sync_job_push_batch(job, b);
	return b;
}

void sync_batch_add_part(struct sync_batch *group, struct sync_batch *part)
{
	ALLOC_GROW(group->parts, group->nr_parts + 1, group->alloc_parts);
	group->parts[group->nr_parts++] = part;
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
	b->consts[b->nr_consts].per_row = 0;
	b->consts[b->nr_consts++].value = xstrdup(value);
}

void sync_batch_add_column(struct sync_batch *b, const char *name, const char *type, const char *column)
{
	sync_batch_add_const(b, name, type, column);
	b->consts[b->nr_consts - 1].per_row = 1;
}

int sync_job_selected(const struct sync_job *job, const char *resource)
{
	return !job->opts->select.nr || strvec_has(&job->opts->select, resource);
}

/* ---- spool folders ---------------------------------------------------------- */

/* Spool folders of this process, for the signal handler: fixed slots, so
 * that the handler touches no allocator. */
#define MAX_SPOOLS 64
static char spool_slots[MAX_SPOOLS][512];
static volatile sig_atomic_t spool_used[MAX_SPOOLS];
static pthread_mutex_t spool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t spool_once = PTHREAD_ONCE_INIT;

static const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* Empty and remove a flat folder with async-signal-safe calls only. */
static void remove_flat_dir(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		long n;
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				struct {
					uint64_t ino;
					int64_t off;
					unsigned short reclen;
					unsigned char type;
					char name[];
				} *d = (void *)(buf + off);
				if (strcmp(d->name, ".") && strcmp(d->name, ".."))
					unlinkat(fd, d->name, 0);
				off += d->reclen;
			}
		}
		close(fd);
	}
	rmdir(path);
}

static void spool_signal(int sig)
{
	for (int i = 0; i < MAX_SPOOLS; i++)
		if (spool_used[i])
			remove_flat_dir(spool_slots[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Once a process: the handlers (where nobody set one), and the spool
 * folders that processes which died left behind. */
static void spool_setup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction old, sa;
		if (sigaction(sigs[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = spool_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
	DIR *d = opendir(tmp_dir());
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		if (!starts_with(e->d_name, "dango-spool-"))
			continue;
		long pid = strtol(e->d_name + 12, &end, 10);
		if (*end != '-' || pid_alive(pid))
			continue;
		struct strbuf p = STRBUF_INIT;
		fs_path_join(&p, tmp_dir(), e->d_name);
		fs_remove_tree(p.buf);
		strbuf_release(&p);
	}
	if (d)
		closedir(d);
}

int sync_job_spool_dir(struct sync_job *job, struct strbuf *err)
{
	if (job->spool_dir)
		return 0;
	pthread_once(&spool_once, spool_setup);
	char *tmpl = xasprintf("%s/dango-spool-%ld-XXXXXX", tmp_dir(), (long)getpid());
	if (!mkdtemp(tmpl)) {
		strbuf_addf(err, "cannot create a spool folder in %s: %s", tmp_dir(), strerror(errno));
		free(tmpl);
		return -1;
	}
	pthread_mutex_lock(&spool_lock);
	for (int i = 0; i < MAX_SPOOLS; i++) {
		if (!spool_used[i] && strlen(tmpl) < sizeof(spool_slots[i])) {
			strcpy(spool_slots[i], tmpl);
			spool_used[i] = 1;
			break;
		}
	}
	pthread_mutex_unlock(&spool_lock);
	job->spool_dir = tmpl;
	return 0;
}

static void spool_remove(const char *dir)
{
	pthread_mutex_lock(&spool_lock);
	for (int i = 0; i < MAX_SPOOLS; i++)
		if (spool_used[i] && !strcmp(spool_slots[i], dir))
			spool_used[i] = 0;
	pthread_mutex_unlock(&spool_lock);
	fs_remove_tree(dir);
}

/* ---- date windows ------------------------------------------------------------- */

/* "2024-06-10..." or an epoch in seconds -> "2024-06-10"; 0 if neither. */
static int window_date(const char *v, char out[11])
{
	char *end;
	if (strlen(v) >= 10 && isdigit((unsigned char)v[0]) && v[4] == '-' && v[7] == '-') {
		memcpy(out, v, 10);
		out[10] = '\0';
		return 1;
	}
	long long n = strtoll(v, &end, 10);
	if (end == v || (*end && *end != '.') || n < 100000000LL)
		return 0;
	time_t t = (time_t)(n > 100000000000LL ? n / 1000 : n);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return 1;
}

void sync_job_check_window(struct sync_job *job, const char *resource, const char *from, const char *what,
			   const char *until)
{
	char f[11];
	if (!from || !until || !window_date(from, f) || strcmp(f, until) <= 0)
		return;
	pthread_mutex_lock(&job->lock);
	strvec_pushf(&job->warnings,
		     "%s: the date window is empty: it starts at %s (%s) and --until is %s, so nothing is fetched; "
		     "give --since to load an earlier range",
		     resource, f, what, until);
	pthread_mutex_unlock(&job->lock);
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
	return starts_with(name, "_dlt_") || starts_with(name, "_dango_") || sync_backup_parse(name, NULL, NULL);
}

int sync_column_name(struct strbuf *sb, const char *name)
{
	size_t start = sb->len;
	sync_normalize_name(sb, name);
	if (!sync_is_meta_name(sb->buf + start))
		return 0;
	/* "_dlt_load_id" -> "source_dlt_load_id": the value is kept, beside ours */
	strbuf_insert(sb, start, "source", 6);
	return 1;
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
	"loaded_at TIMESTAMP WITH TIME ZONE);"
	/* columns later versions added: nanosecond times, the file's table */
	"ALTER TABLE %1$s._dango_file_metadata ADD COLUMN IF NOT EXISTS mtime_ns BIGINT;"
	"ALTER TABLE %1$s._dango_file_metadata ADD COLUMN IF NOT EXISTS ctime_ns BIGINT;"
	"ALTER TABLE %1$s._dango_file_metadata ADD COLUMN IF NOT EXISTS table_name VARCHAR;"
	/* loads made with --limit, whose rows the next full load replaces */
	"CREATE TABLE IF NOT EXISTS %1$s._dango_samples (load_id VARCHAR NOT NULL, inserted_at TIMESTAMP WITH TIME ZONE);"
	/* accepted schema changes of file tables (--allow-schema-changes) */
	"CREATE TABLE IF NOT EXISTS %1$s._dango_schema_changes (table_name VARCHAR NOT NULL, column_name VARCHAR NOT NULL, "
	"change VARCHAR NOT NULL, old_type VARCHAR, new_type VARCHAR, file VARCHAR, load_id VARCHAR, "
	"changed_at TIMESTAMP WITH TIME ZONE);";

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
		int newer = warehouse_has_column(wh, schema.buf, "_dango_file_metadata", "mtime_ns");
		strbuf_reset(&sql);
		/* metadata of older versions has whole seconds and no table */
		/* a postgres warehouse is read there by --dry-run: its own epoch */
		strbuf_addf(&sql, "SELECT path, size, %s, content_hash, rows, status, %s, %s FROM ",
			    wh->pg ? "extract(epoch FROM mtime)::BIGINT" : "epoch(mtime)::BIGINT",
			    newer ? "mtime_ns, ctime_ns, table_name" : "NULL, NULL, NULL",
			    wh->pg ? "(extract(epoch FROM loaded_at) * 1000000000)::BIGINT" : "epoch_ns(loaded_at)");
		add_table(&sql, schema.buf, "_dango_file_metadata");
		if (warehouse_query(wh, sql.buf, &r, err) < 0) {
			ret = -1;
			goto out;
		}
		for (size_t i = 0; i < r.rows; i++) {
			char *path = wh_result_str(&r, i, 0), *hash = wh_result_str(&r, i, 3),
			     *status = wh_result_str(&r, i, 5), *table = wh_result_str(&r, i, 8);
			json_t *f = json_pack("{s:I, s:I, s:s, s:I, s:s, s:I}", "size", (json_int_t)wh_result_int(&r, i, 1),
					      "mtime", (json_int_t)wh_result_int(&r, i, 2), "hash", hash ? hash : "", "rows",
					      (json_int_t)wh_result_int(&r, i, 4), "status", status ? status : "",
					      "loaded_at_ns", (json_int_t)wh_result_int(&r, i, 9));
			if (!wh_result_is_null(&r, i, 6)) {
				json_object_set_new(f, "mtime_ns", json_integer(wh_result_int(&r, i, 6)));
				json_object_set_new(f, "ctime_ns", json_integer(wh_result_int(&r, i, 7)));
			}
			if (table)
				json_object_set_new(f, "table", json_string(table));
			json_object_set_new(job->prev_files, path, f);
			free(path);
			free(hash);
			free(status);
			free(table);
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
	int sample;               /* --limit: a sample load, which writes no incremental state */
	struct strvec created;    /* resources whose table this sync (re)created */
	struct strvec tables;     /* target tables known to exist (saves a catalog query a batch) */
	struct strvec defaulted;  /* "table\tcolumn" given a default by this load, dropped at its end */
	struct strvec optional;   /* "table\tcolumn" a schema change made optional (may be missing) */
	struct strvec deleted;    /* target tables that lost rows in this transaction */
	struct strbuf *err;
	int threads_set;          /* SET threads done for this job */
	char *limit_now;          /* the memory_limit SET for this job, or NULL */
	int no_groups;            /* load groups of files file by file (a second pass) */
	int in_group;             /* load_batch is loading a group */
	int regroup;              /* a group cannot be loaded as one: load again file by file */
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

static int is_optional(const struct loader *l, const char *table, const char *column)
{
	struct strbuf key = STRBUF_INIT;
	strbuf_addf(&key, "%s\t%s", table, column);
	int found = strvec_has(&l->optional, key.buf);
	strbuf_release(&key);
	return found;
}

/* The columns accepted schema changes made optional (see check_schema). */
static int read_optional(struct loader *l)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	strbuf_addstr(&sql, "SELECT table_name || chr(9) || column_name FROM ");
	add_table(&sql, l->schema.buf, "_dango_schema_changes");
	strbuf_addstr(&sql, " WHERE change IN ('added', 'missing')");
	int ret = warehouse_query(l->wh, sql.buf, &r, l->err);
	strbuf_release(&sql);
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < r.rows; i++) {
		char *k = wh_result_str(&r, i, 0);
		if (k && !strvec_has(&l->optional, k))
			strvec_push(&l->optional, k);
		free(k);
	}
	wh_result_free(&r);
	return 0;
}

/* A value of the batch's column raw (type btype) that the table's type
 * ttype cannot hold as it is, or NULL when every value fits (a sniffed
 * VARCHAR of numbers, a BIGINT of 0 and 1 into BOOLEAN...). */
static char *misfit(struct loader *l, const struct sync_batch *b, const char *raw, const char *btype,
		    const char *ttype, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, col = STRBUF_INIT;
	struct wh_result r;
	char *bad = NULL;
	strbuf_add_sql_ident(&col, raw);
	strbuf_addf(&sql, "SELECT CAST(%s AS VARCHAR) FROM %s WHERE %s IS NOT NULL AND (TRY_CAST(%s AS %s) IS NULL",
		    col.buf, b->relation, col.buf, col.buf, ttype);
	/* a value that converts with a loss (1.5 to 2, a time dropped) does not fit either;
	 * TRY_CAST back too: a value that cannot come back (a DOUBLE past UHUGEINT's
	 * range) misfits rather than failing the query, and with it the transaction
	 * the next columns' checks run in */
	if (strcmp(btype, "VARCHAR"))
		strbuf_addf(&sql, " OR TRY_CAST(TRY_CAST(%s AS %s) AS %s) IS DISTINCT FROM %s", col.buf, ttype, btype,
			    col.buf);
	strbuf_addstr(&sql, ") LIMIT 1");
	if (warehouse_query(l->wh, sql.buf, &r, err) == 0) {
		if (r.rows)
			bad = wh_result_str(&r, 0, 0);
		wh_result_free(&r);
	} else {
		/* DuckDB cannot even try the cast (a struct of other fields) */
		bad = xstrdup("of another kind");
	}
	strbuf_release(&sql);
	strbuf_release(&col);
	return bad;
}

/* What a file batch changes in the accepted schema of its table. */
struct schema_diff {
	struct strvec added, missing;
	struct strvec types;      /* four entries a change: column, old type, new type, a value */
};

static void schema_diff_release(struct schema_diff *d)
{
	strvec_clear(&d->added);
	strvec_clear(&d->missing);
	strvec_clear(&d->types);
}

static void schema_change_error(struct loader *l, const struct sync_batch *b, const char *table,
				const struct schema_diff *d)
{
	struct strbuf *err = l->err;
	const char *what = b->label ? b->label : b->resource;
	const char *const *t = (const char *const *)d->types.v;
	if (!d->added.nr && !d->missing.nr && d->types.nr == 4) {
		strbuf_addf(err, "%s: column '%s' no longer fits its type in %s.%s: it was %s, the file now needs %s "
			    "(a value '%s'); refusing the schema change (re-run with --allow-schema-changes to widen the "
			    "column)",
			    what, t[0], l->schema.buf, table, t[1], t[2], t[3]);
		return;
	}
	strbuf_addf(err, "%s: columns differ from %s.%s", what, l->schema.buf, table);
	if (d->added.nr) {
		strbuf_addstr(err, "; new: ");
		for (size_t i = 0; i < d->added.nr; i++)
			strbuf_addf(err, "%s%s", i ? ", " : "", d->added.v[i]);
	}
	if (d->missing.nr) {
		strbuf_addstr(err, "; missing: ");
		for (size_t i = 0; i < d->missing.nr; i++)
			strbuf_addf(err, "%s%s", i ? ", " : "", d->missing.v[i]);
	}
	for (size_t i = 0; i + 3 < d->types.nr; i += 4)
		strbuf_addf(err, "; type of %s: %s -> %s (a value '%s')", t[i], t[i + 1], t[i + 2], t[i + 3]);
	strbuf_addstr(err, " (re-run with --allow-schema-changes to add new columns, widen types and leave missing "
			   "ones NULL)");
}

/* An accepted change goes into _dango_schema_changes: the record for
 * governance, and the baseline later syncs are checked against (a column
 * added once may be missing from old files). */
static int record_schema_changes(struct loader *l, const struct sync_batch *b, const char *table,
				 const struct schema_diff *d)
{
	struct strbuf sql = STRBUF_INIT, tail = STRBUF_INIT;
	const struct strvec *lists[] = { &d->added, &d->missing };
	static const char *const kinds[] = { "added", "missing" };
	int ret;
	strbuf_add_sql_str(&tail, b->label ? b->label : b->resource);
	strbuf_addf(&tail, ", '%s', TIMESTAMPTZ '%s')", l->job->load_id, l->job->extracted_at);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < lists[k]->nr; i++) {
			strbuf_addstr(&sql, "INSERT INTO ");
			add_table(&sql, l->schema.buf, "_dango_schema_changes");
			strbuf_addstr(&sql, " VALUES (");
			strbuf_add_sql_str(&sql, table);
			strbuf_addstr(&sql, ", ");
			strbuf_add_sql_str(&sql, lists[k]->v[i]);
			strbuf_addf(&sql, ", '%s', NULL, NULL, %s;\n", kinds[k], tail.buf);
			strvec_pushf(&l->optional, "%s\t%s", table, lists[k]->v[i]);
		}
	}
	struct strbuf note = STRBUF_INIT;
	strbuf_addf(&note, "%s: schema change of %s.%s accepted (--allow-schema-changes):", b->label ? b->label : b->resource,
		    l->schema.buf, table);
	for (size_t i = 0; i < d->added.nr; i++)
		strbuf_addf(&note, " new column %s;", d->added.v[i]);
	for (size_t i = 0; i < d->missing.nr; i++)
		strbuf_addf(&note, " %s missing (NULL);", d->missing.v[i]);
	for (size_t i = 0; i + 3 < d->types.nr; i += 4) {
		strbuf_addstr(&sql, "INSERT INTO ");
		add_table(&sql, l->schema.buf, "_dango_schema_changes");
		strbuf_addstr(&sql, " VALUES (");
		strbuf_add_sql_str(&sql, table);
		strbuf_addstr(&sql, ", ");
		strbuf_add_sql_str(&sql, d->types.v[i]);
		strbuf_addf(&sql, ", 'type', '%s', '%s', %s;\n", d->types.v[i + 1], d->types.v[i + 2], tail.buf);
		strbuf_addf(&note, " %s %s -> %s;", d->types.v[i], d->types.v[i + 1], d->types.v[i + 2]);
	}
	strbuf_setlen(&note, note.len - 1);
	ret = warehouse_exec(l->wh, sql.buf, l->err);
	strvec_push(&l->job->notes, note.buf);
	strbuf_release(&note);
	strbuf_release(&sql);
	strbuf_release(&tail);
	return ret;
}

/* Check a file batch against the accepted schema of its table: base (the
 * table as it is, or for --full-refresh the table being replaced).
 * Without --allow-schema-changes, new columns, missing ones (not made
 * optional by an earlier accepted change) and values that no longer fit a
 * column's type refuse the batch. cast[i] is set to the base type a batch
 * column is read as, when its sniffed type differs but every value fits. */
static int check_schema(struct loader *l, const struct sync_batch *b, const char *table, const struct columns *base,
			const struct columns *raw, const struct columns *norm, char **cast)
{
	struct schema_diff d = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	struct strbuf e = STRBUF_INIT;
	int ret = -1;
	for (size_t i = 0; i < norm->nr; i++) {
		const struct column *nc = &norm->v[i], *bc;
		if (sync_is_meta_name(nc->name) && b->own_ids)
			continue;
		if (!(bc = columns_find(base, nc->name))) {
			strvec_push(&d.added, nc->name);
			continue;
		}
		if (!strcmp(bc->type, nc->type) || !strcmp(widen(bc->type, nc->type), bc->type))
			continue;
		char *bad = misfit(l, b, raw->v[i].name, nc->type, bc->type, &e);
		if (bad) {
			strvec_push(&d.types, nc->name);
			strvec_push(&d.types, bc->type);
			strvec_push(&d.types, nc->type);
			strvec_push(&d.types, bad);
		} else
			cast[i] = xstrdup(bc->type);
		free(bad);
	}
	for (size_t i = 0; i < base->nr; i++)
		if (!sync_is_meta_name(base->v[i].name) && !columns_find(norm, base->v[i].name) &&
		    !is_optional(l, table, base->v[i].name))
			strvec_push(&d.missing, base->v[i].name);
	if (!d.added.nr && !d.missing.nr && !d.types.nr) {
		ret = 0;
	} else if (l->in_group) {
		/* the message, or the record, names each file: file by file */
		l->regroup = 1;
		strbuf_addstr(l->err, "a group of files changes the schema");
	} else if (!l->job->opts->allow_schema_changes) {
		schema_change_error(l, b, table, &d);
	} else {
		/* the batch's own types stand where they do not fit */
		ret = record_schema_changes(l, b, table, &d);
	}
	schema_diff_release(&d);
	strbuf_release(&e);
	return ret;
}

/* Make the target table accept the batch: the metadata columns it lacks,
 * new columns, wider types (a file batch was checked before). DuckDB
 * cannot commit an ALTER of a table that lost rows earlier in the same
 * transaction (an updated file, a merge), so such a table is rebuilt with
 * its new columns instead. */
static int evolve(struct loader *l, const char *target, const struct columns *known, const struct columns *batch_cols,
		  char *const *cast, const struct sync_batch *meta)
{
	struct columns own = { 0 };
	const struct columns *tcols = known ? known : &own;
	struct strbuf sql = STRBUF_INIT, add = STRBUF_INIT, repl = STRBUF_INIT;
	int ret = -1;
	int rebuild = strvec_has(&l->deleted, target);
	if (!known && describe(l->wh, target, &own, l->err) < 0)
		goto out;
	/* metadata columns a table made before lacks (file columns on a table
	 * of another kind, say) */
	for (size_t i = 0; i < meta->nr_consts; i++) {
		if (columns_find(tcols, meta->consts[i].name))
			continue;
		if (rebuild) {
			strbuf_addf(&add, ", NULL::%s AS %s", meta->consts[i].type, meta->consts[i].name);
			continue;
		}
		strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN %s %s;\n", target, meta->consts[i].name, meta->consts[i].type);
	}
	for (size_t i = 0; i < batch_cols->nr; i++) {
		const struct column *bc = &batch_cols->v[i], *tc = columns_find(tcols, bc->name);
		const char *type = cast && cast[i] ? cast[i] : bc->type;
		if (!tc) {
			if (rebuild) {
				strbuf_addf(&add, ", NULL::%s AS ", type);
				strbuf_add_sql_ident(&add, bc->name);
				continue;
			}
			strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN ", target);
			strbuf_add_sql_ident(&sql, bc->name);
			strbuf_addf(&sql, " %s;\n", type);
		} else if (strcmp(tc->type, type) && strcmp(widen(tc->type, type), tc->type)) {
			if (rebuild) {
				strbuf_addf(&repl, "%sCAST(", repl.len ? ", " : "");
				strbuf_add_sql_ident(&repl, bc->name);
				strbuf_addf(&repl, " AS %s) AS ", widen(tc->type, type));
				strbuf_add_sql_ident(&repl, bc->name);
				continue;
			}
			strbuf_addf(&sql, "ALTER TABLE %s ALTER COLUMN ", target);
			strbuf_add_sql_ident(&sql, bc->name);
			strbuf_addf(&sql, " TYPE %s;\n", widen(tc->type, type));
		}
	}
	if (add.len || repl.len)
		strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s AS SELECT *%s%s%s%s FROM %s;\n", target, repl.len ? " REPLACE (" : "",
			    repl.buf, repl.len ? ")" : "", add.buf, target);
	ret = sql.len ? warehouse_exec(l->wh, sql.buf, l->err) : 0;
out:
	columns_release(&own);
	strbuf_release(&sql);
	strbuf_release(&add);
	strbuf_release(&repl);
	return ret;
}

/* The one empty-result rule, for every source and mode: a load never
 * replaces rows with nothing (a full refresh or a replace resource that
 * got no rows, a file now only a header) unless --allow-empty says the
 * source really is empty now; then it says what it removed. */
int sync_empty_result(struct sync_job *job, const char *what, int64_t old_rows, struct strbuf *err)
{
	char n[32];
	if (!job->opts->allow_empty) {
		strbuf_addf(err, "%s loaded 0 rows over %s existing rows; refusing (nothing was changed; pass "
			    "--allow-empty if the source really is empty now)",
			    what, fmt_count(n, old_rows));
		return -1;
	}
	strvec_pushf(&job->warnings, "%s loaded 0 rows: its %s previous rows were removed (--allow-empty)", what,
		     fmt_count(n, old_rows));
	return 0;
}

static int empty_result(struct loader *l, const char *what, int64_t old_rows)
{
	return sync_empty_result(l->job, what, old_rows, l->err);
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

/* A batch column's name in the table: a connector's own list index stays,
 * anything else as sync_column_name has it (1: renamed). */
static int batch_column_name(struct strbuf *sb, const struct sync_batch *b, const char *name)
{
	if (b->own_ids && !strcmp(name, "_dlt_list_idx")) {
		strbuf_addstr(sb, name);
		return 0;
	}
	return sync_column_name(sb, name);
}

/* What the source delivered, for the drift check after the commit: the
 * table alone never shows a column the source stopped sending. */
static void observe(struct sync_job *job, const struct sync_batch *b, const struct columns *norm)
{
	if (!job->observed)
		job->observed = json_object();
	json_t *t = json_object_get(job->observed, b->resource);
	if (!t) {
		t = json_object();
		json_object_set_new(job->observed, b->resource, t);
	}
	for (size_t i = 0; i < norm->nr; i++)
		if (!sync_is_meta_name(norm->v[i].name))
			json_object_set_new(t, norm->v[i].name, json_true());
}

/* A group's per-row metadata columns are not data columns. */
static void drop_per_row_columns(struct columns *cols, const struct sync_batch *b)
{
	size_t k = 0;
	for (size_t i = 0; i < cols->nr; i++) {
		int meta = 0;
		for (size_t j = 0; j < b->nr_consts && !meta; j++)
			meta = b->consts[j].per_row && !strcmp(b->consts[j].value, cols->v[i].name);
		if (meta) {
			free(cols->v[i].name);
			free(cols->v[i].type);
		} else {
			cols->v[k++] = cols->v[i];
		}
	}
	cols->nr = k;
}

/* ", <value> AS <name>" of a metadata column, projected. */
/* ", value AS name" (typed: cast to the column's type, for a table
 * created from the select) */
static void add_meta_value(struct strbuf *select, const struct batch_const *c, int typed)
{
	strbuf_addstr(select, typed ? ", CAST(" : ", ");
	if (c->per_row == 1)
		strbuf_add_sql_ident(select, c->value);
	else
		strbuf_addstr(select, c->value);
	if (typed)
		strbuf_addf(select, " AS %s)", c->type);
	strbuf_addf(select, " AS %s", c->name);
}

static int load_batch(struct loader *l, struct sync_batch *b)
{
	struct sync_job *job = l->job;
	struct sync_resource *res = sync_job_resource(job, b->resource);
	struct strbuf table = STRBUF_INIT, target = STRBUF_INIT, select = STRBUF_INIT, sql = STRBUF_INIT,
		      e = STRBUF_INIT;
	struct columns cols = { 0 }, norm = { 0 }, base = { 0 };
	char **cast = NULL;
	int ret = -1;
	int64_t count = 0, replaced = 0;

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
	drop_per_row_columns(&cols, b);
	cast = xcalloc(cols.nr + 1, sizeof(*cast));
	int own_id = b->own_ids && columns_find(&cols, "_dlt_id") != NULL;
	int own_extracted = b->own_ids && columns_find(&cols, "_dlt_extracted_at") != NULL;
	for (size_t i = 0; i < cols.nr; i++) {
		struct strbuf n = STRBUF_INIT;
		if (own_extracted && !strcmp(cols.v[i].name, "_dlt_extracted_at")) {
			/* a time per row (a Singer RECORD's time_extracted) */
			ALLOC_GROW(norm.v, norm.nr + 1, norm.alloc);
			norm.v[norm.nr].name = xstrdup(cols.v[i].name);
			norm.v[norm.nr++].type = xstrdup("TIMESTAMP WITH TIME ZONE");
			continue;
		}
		if (b->own_ids && (!strcmp(cols.v[i].name, "_dlt_id") || !strcmp(cols.v[i].name, "_dlt_parent_id"))) {
			/* ids a connector set itself, to link child rows to parents */
			ALLOC_GROW(norm.v, norm.nr + 1, norm.alloc);
			norm.v[norm.nr].name = xstrdup(cols.v[i].name);
			norm.v[norm.nr++].type = xstrdup("UUID");
			continue;
		}
		int renamed = batch_column_name(&n, b, cols.v[i].name);
		/* two headers may normalize alike: number the later ones */
		for (int k = 2; columns_find(&norm, n.buf); k++) {
			strbuf_reset(&n);
			batch_column_name(&n, b, cols.v[i].name);
			strbuf_addf(&n, "_%d", k);
		}
		if (renamed && l->in_group) {
			/* the warning names each file: file by file */
			l->regroup = 1;
			strbuf_addstr(l->err, "a group of files has a renamed column");
			strbuf_release(&n);
			goto out;
		}
		if (renamed)
			strvec_pushf(&job->warnings, "%s: column '%s' has a name Dango gives its own columns; loaded as '%s'",
				     b->label ? b->label : b->resource, cols.v[i].name, n.buf);
		ALLOC_GROW(norm.v, norm.nr + 1, norm.alloc);
		norm.v[norm.nr].name = strbuf_detach(&n, NULL);
		norm.v[norm.nr++].type = xstrdup(cols.v[i].type);
	}
	observe(job, b, &norm);
	/* the metadata every row carries: this load's constants, then the
	 * batch's own (file name, mtime...), and a fresh _dlt_id per row
	 * (warehouse/row_id.h: a random UUID per row triples the file's size) */
	struct sync_batch meta = { 0 };
	char *lit = xasprintf("'%s'", job->load_id);
	sync_batch_add_const(&meta, "_dlt_load_id", "VARCHAR", lit);
	free(lit);
	if (!own_id) {
		sync_batch_add_const(&meta, "_dlt_id", "UUID", "__dango_row_id()");
		meta.consts[meta.nr_consts - 1].per_row = 2;
	}
	lit = xasprintf("TIMESTAMPTZ '%s'", job->extracted_at);
	if (!own_extracted)
		sync_batch_add_const(&meta, "_dlt_extracted_at", "TIMESTAMP WITH TIME ZONE", lit);
	for (size_t i = 0; i < b->nr_consts; i++) {
		sync_batch_add_const(&meta, b->consts[i].name, b->consts[i].type, b->consts[i].value);
		meta.consts[meta.nr_consts - 1].per_row = b->consts[i].per_row;
	}

	strbuf_reset(&sql);
	int exists = strvec_has(&l->tables, table.buf) || warehouse_has_table(l->wh, l->schema.buf, table.buf);
	/* replace and --full-refresh start the table over at a resource's first batch */
	int fresh = !exists || ((res->disposition == WD_REPLACE || job->opts->full_refresh) &&
				!strvec_has(&l->created, b->resource));
	/* a new table's first batch is deduplicated too: a key sent twice in
	 * it is one row (the last), as in every later batch */
	int merge = res->disposition == WD_MERGE && res->primary_key.nr;

	/* A file batch meets the accepted schema: the table it goes into, or
	 * the table a full refresh replaces, in every mode alike. */
	int base_is_target = 0;
	if (res->is_file_table) {
		struct strbuf what = STRBUF_INIT;
		int have_base = 0;
		if (job->opts->full_refresh && warehouse_has_table(l->wh, l->schema.buf, b->resource)) {
			add_table(&what, l->schema.buf, b->resource);
			have_base = 1;
		} else if (exists && !fresh) {
			strbuf_addbuf(&what, &target);
			have_base = 1;
			base_is_target = 1;
		}
		if (have_base && describe(l->wh, what.buf, &base, l->err) < 0)
			have_base = -1;
		strbuf_release(&what);
		if (have_base < 0 || (have_base && check_schema(l, b, b->resource, &base, &cols, &norm, cast) < 0))
			goto out_meta;
	}
	for (size_t i = 0; i < cols.nr; i++) {
		if (i)
			strbuf_addstr(&select, ", ");
		if (own_extracted && !strcmp(cols.v[i].name, "_dlt_extracted_at")) {
			strbuf_addf(&select, "coalesce(CAST(\"_dlt_extracted_at\" AS TIMESTAMP WITH TIME ZONE), %s) AS "
				    "_dlt_extracted_at", lit);
			continue;
		}
		if (b->own_ids && norm.v[i].type && !strcmp(norm.v[i].type, "UUID") &&
		    (!strcmp(cols.v[i].name, "_dlt_id") || !strcmp(cols.v[i].name, "_dlt_parent_id"))) {
			strbuf_addf(&select, "\"%s\"::UUID AS %s", cols.v[i].name, cols.v[i].name);
			continue;
		}
		if (cast[i])
			strbuf_addstr(&select, "CAST(");
		strbuf_add_sql_ident(&select, cols.v[i].name);
		if (cast[i])
			strbuf_addf(&select, " AS %s)", cast[i]);
		strbuf_addstr(&select, " AS ");
		strbuf_add_sql_ident(&select, norm.v[i].name);
	}

	/* A new table of a plain load is one CREATE TABLE AS of the rows and
	 * their metadata: 5% fewer instructions than an empty table, ALTERs
	 * and an INSERT (one sniff less; the constants are stored as cheaply
	 * either way). A merge dedups through its batch table, and a postgres
	 * stage streams from an empty table's column defaults (load_pg_stream.c):
	 * both start from the empty table. */
	int one_ctas = fresh && !merge && !job->pg;
	if (fresh) {
		if (exists && res->disposition == WD_REPLACE && !job->opts->full_refresh)
			res->replaced_rows = warehouse_count_rows(l->wh, l->schema.buf, table.buf);
		if (one_ctas) {
			for (size_t i = 0; i < meta.nr_consts; i++)
				add_meta_value(&select, &meta.consts[i], 1);
			if (warehouse_exec(l->wh, "SET preserve_insertion_order = false", &e) < 0) {
				add_db_error(l->err, b->label, e.buf);
				goto out_meta;
			}
			strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s AS SELECT %s FROM %s", target.buf, select.buf,
				    b->relation);
			if (l->remaining > 0)
				strbuf_addf(&sql, " LIMIT %lld", (long long)l->remaining);
		} else {
			/* an empty table of the batch's columns, then the metadata columns */
			strbuf_addf(&sql, "CREATE OR REPLACE TABLE %s AS SELECT %s FROM %s LIMIT 0;\n", target.buf,
				    select.buf, b->relation);
			for (size_t i = 0; i < meta.nr_consts; i++)
				strbuf_addf(&sql, "ALTER TABLE %s ADD COLUMN %s %s;\n", target.buf, meta.consts[i].name,
					    meta.consts[i].type);
			if (warehouse_exec(l->wh, sql.buf, &e) < 0) {
				add_db_error(l->err, b->label, e.buf);
				goto out_meta;
			}
			strbuf_reset(&sql);
		}
	} else {
		if (evolve(l, target.buf, base_is_target ? &base : NULL, &norm, cast, &meta) < 0)
			goto out_meta;
		if (b->replace_where) {
			struct strbuf del = STRBUF_INIT;
			strbuf_addf(&del, "DELETE FROM %s WHERE %s", target.buf, b->replace_where);
			int r = exec_count(l->wh, del.buf, &replaced, l->err);
			strbuf_release(&del);
			if (r < 0)
				goto out_meta;
			if (!strvec_has(&l->deleted, target.buf))
				strvec_push(&l->deleted, target.buf);
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
			add_meta_value(&select, &meta.consts[i], 0);
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
		if (!strvec_has(&l->deleted, target.buf))
			strvec_push(&l->deleted, target.buf);
		strbuf_reset(&sql);
		strbuf_addf(&sql, "INSERT INTO %s BY NAME SELECT * FROM __dango_batch", target.buf);
	} else if (!one_ctas) {
		/* the metadata through column defaults (see struct batch_const);
		 * rows need not keep the file's order, which lets DuckDB write in
		 * parallel with a third less memory */
		strbuf_addstr(&sql, "SET preserve_insertion_order = false;\n");
		for (size_t i = 0; i < meta.nr_consts; i++) {
			if (meta.consts[i].per_row)
				add_meta_value(&select, &meta.consts[i], 0);
			else
				strbuf_addf(&sql, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", target.buf,
					    meta.consts[i].name, meta.consts[i].value);
		}
		if (warehouse_exec(l->wh, sql.buf, &e) < 0) {
			add_db_error(l->err, b->label, e.buf);
			goto out_meta;
		}
		strbuf_reset(&sql);
		strbuf_addf(&sql, "INSERT INTO %s BY NAME SELECT %s FROM %s", target.buf, select.buf, b->relation);
		if (l->remaining > 0)
			strbuf_addf(&sql, " LIMIT %lld", (long long)l->remaining);
	}
	/* postgres: a fresh table's rows may go to the server as DuckDB reads them */
	int streamed = fresh && !merge && !l->in_group && l->remaining < 0 ?
			       pg_stream_batch(job->pg, l->wh, job, b, l->schema.buf, table.buf, select.buf, &count, &e) : 0;
	if (streamed < 0 || (!streamed && exec_count(l->wh, sql.buf, &count, &e) < 0)) {
		add_db_error(l->err, b->label, e.buf);
		goto out_meta;
	}
	if (!merge && !one_ctas) {
		/* the table keeps no defaults of a load: dropped once at its end
		 * (each batch sets its own meanwhile) */
		for (size_t i = 0; i < meta.nr_consts; i++) {
			struct strbuf key = STRBUF_INIT;
			if (meta.consts[i].per_row)
				continue;
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
		goto out_meta;
	if (merge)
		warehouse_exec(l->wh, "DROP TABLE IF EXISTS __dango_batch", &e);
	/* a file now empty would replace its rows with nothing */
	if (count == 0 && replaced > 0) {
		struct strbuf what = STRBUF_INIT;
		strbuf_addf(&what, "%s (now without rows)", b->label ? b->label : b->resource);
		int r = empty_result(l, what.buf, replaced);
		strbuf_release(&what);
		if (r < 0)
			goto out_meta;
	}
	if (l->remaining > 0)
		l->remaining = count >= l->remaining ? 0 : l->remaining - count;
	res->rows += count;
	if (b->file)
		b->file->rows = count;
	ret = 0;
out_meta:
	free(lit);
	for (size_t i = 0; i < meta.nr_consts; i++) {
		free(meta.consts[i].name);
		free(meta.consts[i].type);
		free(meta.consts[i].value);
	}
	free(meta.consts);
out:
	for (size_t i = 0; cast && i < cols.nr; i++)
		free(cast[i]);
	free(cast);
	columns_release(&cols);
	columns_release(&norm);
	columns_release(&base);
	strbuf_release(&table);
	strbuf_release(&target);
	strbuf_release(&select);
	strbuf_release(&sql);
	strbuf_release(&e);
	return ret;
}

static int same_columns(const struct columns *a, const struct columns *b)
{
	if (a->nr != b->nr)
		return 0;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->v[i].name, b->v[i].name) || strcmp(a->v[i].type, b->v[i].type))
			return 0;
	return 1;
}

/* Each part's rows, from the group's per-row _dango_filename: every row
 * must belong to one of the group's files. */
static int attribute_rows(struct loader *l, const struct sync_batch *b, int64_t total)
{
	const char *column = NULL;
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	int64_t sum = 0;
	int ret = -1;
	for (size_t i = 0; i < b->nr_consts; i++)
		if (b->consts[i].per_row && !strcmp(b->consts[i].name, "_dango_filename"))
			column = b->consts[i].value;
	if (!column) {
		strbuf_addf(l->err, "%s: a group of files without _dango_filename", b->label);
		return -1;
	}
	strbuf_addstr(&sql, "SELECT ");
	strbuf_add_sql_ident(&sql, column);
	strbuf_addstr(&sql, ", count(*) FROM temp.__dango_group GROUP BY 1");
	if (warehouse_query(l->wh, sql.buf, &r, l->err) < 0)
		goto out;
	for (size_t i = 0; i < b->nr_parts; i++)
		b->parts[i]->file->rows = 0;
	for (size_t i = 0; i < r.rows; i++) {
		char *path = wh_result_str(&r, i, 0);
		struct tracked_file *f = NULL;
		for (size_t k = 0; path && k < b->nr_parts && !f; k++)
			if (!strcmp(b->parts[k]->file->path, path))
				f = b->parts[k]->file;
		if (!f) {
			strbuf_addf(l->err, "%s: %lld rows read from the files are not attributed to one of them (%s)",
				    b->label, (long long)wh_result_int(&r, i, 1), path ? path : "no file");
			free(path);
			wh_result_free(&r);
			goto out;
		}
		f->rows = wh_result_int(&r, i, 1);
		sum += f->rows;
		free(path);
	}
	wh_result_free(&r);
	if (sum != total) {
		strbuf_addf(l->err, "%s: %lld rows loaded, %lld attributed to the files", b->label, (long long)total,
			    (long long)sum);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&sql);
	return ret;
}

/* A group of files (struct sync_batch): read once into a temporary table,
 * loaded from there if it reads as its files would one by one (DuckDB
 * sniffs every file of the read and widens a column where files differ:
 * then the group's types differ from its first file's). Any failure sets
 * l->regroup: the load is then done again, file by file. */
static int load_group(struct loader *l, struct sync_batch *b)
{
	struct sync_resource *res = sync_job_resource(l->job, b->resource);
	struct columns whole = { 0 }, first = { 0 };
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	struct sync_batch g = *b;
	int64_t before = res->rows;
	int ret = -1;
	l->regroup = 1;
	strbuf_addf(&sql, "CREATE OR REPLACE TEMP TABLE __dango_group AS SELECT * FROM %s", b->relation);
	if (warehouse_exec(l->wh, sql.buf, &e) < 0)
		goto out;
	if (describe(l->wh, "temp.__dango_group", &whole, &e) < 0)
		goto out;
	drop_per_row_columns(&whole, b);
	strbuf_reset(&sql);
	strbuf_addf(&sql, "SELECT * FROM %s", b->parts[0]->relation);
	if (describe(l->wh, sql.buf, &first, &e) < 0 || !same_columns(&whole, &first))
		goto out;
	g.relation = (char *)"temp.__dango_group";
	l->in_group = 1;
	int rc = load_batch(l, &g);
	l->in_group = 0;
	if (rc < 0)
		goto out;
	l->regroup = 0;
	if (attribute_rows(l, b, res->rows - before) < 0)
		goto out;
	ret = warehouse_exec(l->wh, "DROP TABLE temp.__dango_group", l->err);
out:
	if (ret < 0 && l->regroup)
		strbuf_addf(l->err, "%s: %s", b->label, e.buf);
	columns_release(&whole);
	columns_release(&first);
	strbuf_release(&sql);
	strbuf_release(&e);
	return ret;
}

static int soft_delete(struct loader *l, struct sync_resource *res)
{
	struct strbuf sql = STRBUF_INIT;
	int ret = 0;
	if (!res->deleted_files.nr || l->job->opts->full_refresh || l->sample ||
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

/* A resource's delete_where, once all its batches are in (Singer's
 * ACTIVATE_VERSION: the rows of older versions go). A full refresh or a
 * sample skips it: the first holds only this load's rows, the second is
 * partial. Leaving the table empty is the empty-result rule's to allow. */
static int delete_where(struct loader *l, struct sync_resource *r)
{
	struct strbuf sql = STRBUF_INIT, what = STRBUF_INIT;
	int64_t n = 0;
	int ret = 0;
	if (!r->delete_where || l->sample || l->job->opts->full_refresh || r->swap_in ||
	    !warehouse_has_table(l->wh, l->schema.buf, r->name))
		return 0;
	strbuf_addstr(&sql, "DELETE FROM ");
	add_table(&sql, l->schema.buf, r->name);
	strbuf_addf(&sql, " WHERE %s", r->delete_where);
	ret = exec_count(l->wh, sql.buf, &n, l->err);
	if (!ret && n && !warehouse_count_rows(l->wh, l->schema.buf, r->name)) {
		strbuf_addf(&what, "activating a new version of %s.%s", l->schema.buf, r->name);
		ret = empty_result(l, what.buf, n);
	}
	strbuf_release(&sql);
	strbuf_release(&what);
	return ret;
}

/* A file's path for the DELETE and its row, a JSON object, for the INSERT
 * of the metadata. */
static void add_file_row(struct strbuf *paths, struct strbuf *rows, const struct sync_job *job,
			 const struct tracked_file *f)
{
	char when[32];
	clock_format_utc_sql(when, (time_t)f->mtime);
	strbuf_addstr(paths, paths->len ? ", " : "");
	strbuf_add_sql_str(paths, f->path);
	strbuf_addstr(rows, rows->len ? ",{\"path\":" : "[{\"path\":");
	strbuf_add_json_str(rows, f->path);
	strbuf_addf(rows, ",\"size\":%lld,\"mtime\":\"%s\",\"content_hash\":", (long long)f->size, when);
	strbuf_add_json_str(rows, f->hash ? f->hash : "");
	strbuf_addf(rows, ",\"rows\":%lld,\"status\":", (long long)f->rows);
	strbuf_add_json_str(rows, f->status);
	strbuf_addstr(rows, ",\"load_id\":");
	strbuf_add_json_str(rows, job->load_id);
	strbuf_addstr(rows, ",\"loaded_at\":");
	strbuf_add_json_str(rows, job->extracted_at);
	strbuf_addf(rows, ",\"mtime_ns\":%lld,\"ctime_ns\":%lld,\"table_name\":", (long long)f->mtime_ns,
		    (long long)f->ctime_ns);
	if (f->table)
		strbuf_add_json_str(rows, f->table);
	else
		strbuf_addstr(rows, "null");
	strbuf_addch(rows, '}');
}

/* The metadata rows from their JSON: 1,000 rows of VALUES took DuckDB 90
 * ms to bind, one JSON literal 16 ms. */
#define FILE_ROWS_STRUCT                                                                                       \
	"[{\"path\":\"VARCHAR\",\"size\":\"BIGINT\",\"mtime\":\"VARCHAR\",\"content_hash\":\"VARCHAR\","            \
	"\"rows\":\"BIGINT\",\"status\":\"VARCHAR\",\"load_id\":\"VARCHAR\",\"loaded_at\":\"VARCHAR\","              \
	"\"mtime_ns\":\"BIGINT\",\"ctime_ns\":\"BIGINT\",\"table_name\":\"VARCHAR\"}]"

static void add_file_rows_insert(struct strbuf *sql, const char *meta, struct strbuf *rows)
{
	strbuf_addch(rows, ']');
	strbuf_addf(sql,
		    "INSERT INTO %s (path, size, mtime, content_hash, rows, status, load_id, loaded_at, mtime_ns, "
		    "ctime_ns, table_name) SELECT r.path, r.size, CAST(r.mtime AS TIMESTAMP), r.content_hash, r.rows, "
		    "r.status, r.load_id, CAST(r.loaded_at AS TIMESTAMPTZ), r.mtime_ns, r.ctime_ns, r.table_name FROM "
		    "(SELECT unnest(from_json(",
		    meta);
	strbuf_add_sql_str(sql, rows->buf);
	strbuf_addstr(sql, ", '" FILE_ROWS_STRUCT "')) AS r);\n");
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
		const struct sync_batch *b = job->batches[i];
		if (b->file)
			add_file_row(&paths, &rows, job, b->file);
		for (size_t k = 0; k < b->nr_parts; k++)
			if (b->parts[k]->file)
				add_file_row(&paths, &rows, job, b->parts[k]->file);
	}
	if (paths.len) {
		strbuf_addf(&sql, "DELETE FROM %s WHERE path IN (%s);\n", meta.buf, paths.buf);
		add_file_rows_insert(&sql, meta.buf, &rows);
	}
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
	/* a sample leaves the cursors as they were */
	json_object_foreach(l->sample ? NULL : job->new_state, key, value) {
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
	if (l->sample) {
		strbuf_addstr(&sql, "\nINSERT INTO ");
		add_table(&sql, l->schema.buf, "_dango_samples");
		strbuf_addf(&sql, " VALUES ('%s', TIMESTAMPTZ '%s');", job->load_id, job->extracted_at);
	}
	ret = warehouse_exec(l->wh, sql.buf, l->err);
	strbuf_release(&sql);
	strbuf_release(&st);
	return ret;
}

/* The rows an earlier --limit sample loaded are provisional: the first
 * sync without --limit removes them (from every table of the source)
 * before it loads, and, since the sample left the incremental state as it
 * was, loads those rows again in full. */
static int drop_samples(struct loader *l)
{
	struct strbuf sql = STRBUF_INIT, samples = STRBUF_INIT;
	struct wh_result r;
	int64_t n = 0, removed = 0;
	int ret = -1;
	add_table(&samples, l->schema.buf, "_dango_samples");
	strbuf_addf(&sql, "SELECT count(*) FROM %s", samples.buf);
	if (exec_count(l->wh, sql.buf, &n, l->err) < 0)
		goto out;
	if (!n) {
		ret = 0;
		goto out;
	}
	strbuf_reset(&sql);
	strbuf_addstr(&sql, "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = ");
	strbuf_add_sql_str(&sql, l->schema.buf);
	strbuf_addstr(&sql, " AND column_name = '_dlt_load_id' ORDER BY 1");
	if (warehouse_query(l->wh, sql.buf, &r, l->err) < 0)
		goto out;
	for (size_t i = 0; i < r.rows; i++) {
		char *t = wh_result_str(&r, i, 0);
		int64_t k = 0;
		if (t && !sync_is_meta_name(t) && !strstr(t, "__backup_")) {
			strbuf_reset(&sql);
			strbuf_addstr(&sql, "DELETE FROM ");
			add_table(&sql, l->schema.buf, t);
			strbuf_addf(&sql, " WHERE _dlt_load_id IN (SELECT load_id FROM %s)", samples.buf);
			if (exec_count(l->wh, sql.buf, &k, l->err) < 0) {
				free(t);
				wh_result_free(&r);
				goto out;
			}
			removed += k;
		}
		free(t);
	}
	wh_result_free(&r);
	strbuf_reset(&sql);
	strbuf_addstr(&sql, "DELETE FROM ");
	add_table(&sql, l->schema.buf, "_dlt_loads");
	strbuf_addf(&sql, " WHERE load_id IN (SELECT load_id FROM %s);\nDELETE FROM %s", samples.buf, samples.buf);
	if (warehouse_exec(l->wh, sql.buf, l->err) < 0)
		goto out;
	if (removed) {
		char num[32];
		strvec_pushf(&l->job->notes, "replaced the %s row%s of an earlier --limit sample", fmt_count(num, removed),
			     removed == 1 ? "" : "s");
	}
	ret = 0;
out:
	strbuf_release(&sql);
	strbuf_release(&samples);
	return ret;
}

/* The empty-result rule for the resources a load replaces whole (--full-refresh,
 * write_disposition replace): with --allow-empty a table that got no
 * rows ends empty, rather than keeping its old rows or vanishing. */
static int check_replaced(struct loader *l)
{
	struct sync_job *job = l->job;
	struct strbuf what = STRBUF_INIT, sql = STRBUF_INIT, t = STRBUF_INIT;
	int ret = 0;
	for (size_t i = 0; i < job->nr_resources && !ret; i++) {
		struct sync_resource *r = job->resources[i];
		int fr = job->opts->full_refresh || r->swap_in;
		if ((!fr && r->disposition != WD_REPLACE) || r->rows || !sync_job_selected(job, r->name) ||
		    !warehouse_has_table(l->wh, l->schema.buf, r->name))
			continue;
		int recreated = strvec_has(&l->created, r->name);
		int64_t old = fr || !recreated ? warehouse_count_rows(l->wh, l->schema.buf, r->name) : r->replaced_rows;
		if (!old)
			continue;
		strbuf_reset(&what);
		strbuf_addf(&what, "%s of %s.%s", fr ? "full refresh" : "replace", l->schema.buf, r->name);
		ret = empty_result(l, what.buf, old);
		if (ret || recreated)
			continue;
		/* no batch came: the table itself is emptied (a full refresh swaps
		 * in an empty copy of it) */
		strbuf_reset(&sql);
		strbuf_reset(&t);
		add_table(&t, l->schema.buf, r->name);
		if (fr) {
			struct strbuf newt = STRBUF_INIT;
			target_name(&newt, l, r->name);
			strbuf_addstr(&sql, "CREATE TABLE ");
			add_table(&sql, l->schema.buf, newt.buf);
			strbuf_addf(&sql, " AS SELECT * FROM %s LIMIT 0", t.buf);
			strbuf_release(&newt);
		} else {
			strbuf_addf(&sql, "DELETE FROM %s", t.buf);
		}
		ret = warehouse_exec(l->wh, sql.buf, l->err);
	}
	strbuf_release(&what);
	strbuf_release(&sql);
	strbuf_release(&t);
	return ret;
}

/* --full-refresh (and resources that ask for it, swap_in): put the new
 * tables in place of the old, after the row-count checks. */
static int swap_tables(struct loader *l)
{
	struct sync_job *job = l->job;
	struct strbuf sql = STRBUF_INIT;
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
		if (had_old && r->rows && r->rows * 2 < old_rows) {
			char stamp[32], a[32], b[32];
			sync_backup_stamp(stamp);
			struct strbuf backup = STRBUF_INIT;
			sync_backup_name(&backup, r->name, stamp, 0);
			/* two refreshes within a second must not collide */
			for (int k = 2; warehouse_has_table(l->wh, l->schema.buf, backup.buf); k++) {
				strbuf_reset(&backup);
				sync_backup_name(&backup, r->name, stamp, k);
			}
			strbuf_addf(&sql, "ALTER TABLE %s RENAME TO ", oldt.buf);
			strbuf_add_sql_ident(&sql, backup.buf);
			strbuf_addch(&sql, ';');
			strvec_pushf(&job->warnings,
				     "full refresh of %s.%s loaded %s rows, under half of the previous %s; the old table "
				     "is kept as %s.%s for recovery (dango db restore)",
				     l->schema.buf, r->name, fmt_count(a, r->rows), fmt_count(b, old_rows), l->schema.buf,
				     backup.buf);
			strbuf_release(&backup);
		} else if (had_old) {
			strbuf_addf(&sql, "DROP TABLE %s;", oldt.buf);
		}
		strbuf_addf(&sql, "ALTER TABLE ");
		add_table(&sql, l->schema.buf, newt.buf);
		strbuf_addstr(&sql, " RENAME TO ");
		strbuf_add_sql_ident(&sql, r->name);
		ret = warehouse_exec(l->wh, sql.buf, l->err);
		strbuf_release(&newt);
		strbuf_release(&oldt);
	}
	strbuf_release(&sql);
	return ret;
}

/* The post-sync hooks, after the commit of every successful sync (CLI,
 * scheduler, web page): schema drift governance. The data is in: a hook's
 * failure is a warning, never a failed sync. */
void sync_post_sync(struct warehouse *wh, struct sync_job *job)
{
	struct strbuf e = STRBUF_INIT;
	if (!job->opts->dry_run && job->project &&
	    governance_after_sync(job->project, wh, job->source->name, job->load_id, job->observed, &job->warnings,
				  &e) < 0)
		strvec_pushf(&job->warnings, "schema drift check failed (the sync itself succeeded): %s", e.buf);
	strbuf_release(&e);
}

/* A batch's progress line, once (a second pass does not repeat it). */
static void report(struct sync_job *job, struct sync_batch *b)
{
	if (b->label && !b->reported)
		job->progress(job, "Reading %s%s%s%s", b->label, b->file ? " (" : "", b->file ? b->file->status : "",
			      b->file ? ")" : "");
	b->reported = 1;
}

/* Load one batch, or a group as one or its parts one by one; *failed is
 * the batch that failed. */
static int load_one(struct loader *l, struct sync_batch *b, struct sync_batch **failed)
{
	*failed = b;
	for (size_t i = 0; i < b->nr_parts; i++)
		report(l->job, b->parts[i]);
	if (!b->nr_parts) {
		report(l->job, b);
		return load_batch(l, b);
	}
	if (!l->no_groups)
		return load_group(l, b);
	for (size_t i = 0; i < b->nr_parts; i++) {
		*failed = b->parts[i];
		if (load_batch(l, b->parts[i]) < 0)
			return -1;
	}
	return 0;
}

/* One pass: every batch and the state in one transaction, committed; or
 * -1 after a rollback. */
static int load_pass(struct loader *l, struct sync_batch **failed)
{
	struct warehouse *wh = l->wh;
	struct sync_job *job = l->job;
	struct strbuf *err = l->err;
	struct strbuf sql = STRBUF_INIT;
	int ret = -1;
	*failed = NULL;
	if (warehouse_begin(wh, err) < 0) {
		strbuf_release(&sql);
		return -1;
	}
	strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
	strbuf_add_sql_ident(&sql, l->schema.buf);
	strbuf_addstr(&sql, ";\n");
	struct strbuf quoted = STRBUF_INIT;
	strbuf_add_sql_ident(&quoted, l->schema.buf);
	strbuf_addf(&sql, meta_tables_sql, quoted.buf);
	strbuf_release(&quoted);
	if (warehouse_exec(wh, sql.buf, err) < 0)
		goto out;
	if (read_optional(l) < 0)
		goto out;
	/* batches as extract hands them over; the rest once it is done */
	struct sync_batch *b;
	for (size_t i = 0; (b = next_batch(job, i)); i++) {
		/* a batch without a relation only updates file metadata (a file
		 * touched but not changed) */
		if (!b->relation)
			continue;
		/* known once extract has handed over a batch (open ran before) */
		if (job->load_threads > 0 && !l->threads_set) {
			if (warehouse_execf(wh, err, "SET threads = %d", job->load_threads) < 0)
				goto out;
			l->threads_set = 1;
		}
		/* a batch may need more than the job's limit (read buffers for
		 * long lines): set for it, and back for the next */
		const char *limit = b->memory_limit ? b->memory_limit : job->load_memory_limit;
		if (limit && (!l->limit_now || strcmp(l->limit_now, limit))) {
			if (warehouse_execf(wh, err, "SET memory_limit = '%s'", limit) < 0)
				goto out;
			free(l->limit_now);
			l->limit_now = xstrdup(limit);
		}
		if (load_one(l, b, failed) < 0)
			goto out;
	}
	*failed = NULL;
	if (job->extract_rc < 0) {
		strbuf_addbuf(err, &job->extract_err);
		goto out;
	}
	/* after the batches: DuckDB refuses to commit a table altered after
	 * rows of it were deleted in the same transaction */
	if (!l->sample && drop_samples(l) < 0)
		goto out;
	strbuf_reset(&sql);
	for (size_t i = 0; i < l->defaulted.nr; i++) {
		const char *tab = strchr(l->defaulted.v[i], '\t');
		strbuf_addf(&sql, "ALTER TABLE %.*s ALTER COLUMN %s DROP DEFAULT;\n", (int)(tab - l->defaulted.v[i]),
			    l->defaulted.v[i], tab + 1);
	}
	if (sql.len && warehouse_exec(wh, sql.buf, err) < 0)
		goto out;
	for (size_t i = 0; i < job->nr_resources; i++)
		if (soft_delete(l, job->resources[i]) < 0 || delete_where(l, job->resources[i]) < 0)
			goto out;
	if (!l->sample && check_replaced(l) < 0)
		goto out;
	if (swap_tables(l) < 0)
		goto out;
	if ((!l->sample && write_file_metadata(l) < 0) || write_state(l) < 0)
		goto out;
	if (warehouse_commit(wh, err) < 0)
		goto out;
	if (l->threads_set) {
		/* The checkpoint the warehouse's close would run, done now while
		 * DuckDB keeps to the load's threads: with its default threads the
		 * closing thread spins waiting for the checkpoint's other tasks
		 * (twice the CPU, measured on a 10,000-row merge into 5M rows).
		 * The data is committed: a failure here only leaves the work to
		 * the close. */
		struct strbuf e = STRBUF_INIT;
		warehouse_exec(wh, "CHECKPOINT", &e);
		strbuf_release(&e);
	}
	ret = 0;
out:
	if (ret < 0) {
		warehouse_rollback(wh);
		pg_stream_rollback(job->pg);
	}
	strbuf_release(&sql);
	return ret;
}

static void strvec_truncate(struct strvec *sv, size_t nr)
{
	while (sv->nr > nr) {
		free(sv->v[--sv->nr]);
		sv->v[sv->nr] = NULL;
	}
}

/* Before a second pass: the loader and the job as they were before the
 * first (its transaction was rolled back). */
static void restart(struct loader *l, size_t notes, size_t warnings)
{
	struct sync_job *job = l->job;
	l->remaining = job->opts->limit > 0 && !job->limit_handled ? job->opts->limit : -1;
	strvec_clear(&l->created);
	strvec_clear(&l->tables);
	strvec_clear(&l->defaulted);
	strvec_clear(&l->optional);
	strvec_clear(&l->deleted);
	l->regroup = 0;
	l->in_group = 0;
	strvec_truncate(&job->notes, notes);
	strvec_truncate(&job->warnings, warnings);
	for (size_t i = 0; i < job->nr_resources; i++) {
		job->resources[i]->rows = 0;
		job->resources[i]->rejected = 0;
		job->resources[i]->replaced_rows = 0;
	}
}

int sync_load(struct warehouse *wh, struct sync_job *job, struct sync_result *res, struct strbuf *err)
{
	struct loader l = { .wh = wh, .job = job, .err = err };
	struct sync_batch *failed = NULL;
	int ret = -1;
	strbuf_init(&l.schema, 0);
	sync_schema_name(&l.schema, job->source->name);
	l.remaining = job->opts->limit > 0 && !job->limit_handled ? job->opts->limit : -1;
	l.sample = job->opts->limit > 0;
	if (l.sample && job->opts->full_refresh) {
		/* a sample in place of the tables, with the state of the old ones,
		 * would leave the next sync nothing to load */
		strbuf_addstr(err, "--limit cannot be combined with --full-refresh: a sample cannot replace the tables");
		goto out;
	}
	size_t err_len = err->len, notes = job->notes.nr, warnings = job->warnings.nr;
	ret = load_pass(&l, &failed);
	if (ret < 0 && l.regroup) {
		/* a group of files did not read as its files would: all again,
		 * file by file, for today's types, messages and order */
		strbuf_setlen(err, err_len);
		restart(&l, notes, warnings);
		l.no_groups = 1;
		ret = load_pass(&l, &failed);
	}
	if (ret < 0) {
		if (failed)
			diagnose(wh, failed, err);
		goto out;
	}
	if (!job->publish_later)
		sync_post_sync(wh, job);
	for (size_t i = 0; i < job->nr_resources; i++)
		res->rows += job->resources[i]->rows;
	if (l.sample)
		strvec_pushf(&job->notes, "--limit: sample load, incremental state not saved (the next sync without "
					  "--limit replaces these rows and loads everything)");
out:
	if (ret < 0)
		job->cancelled = 1; /* an extract still running may stop: nothing will be kept */
	if (l.threads_set || l.limit_now) {
		struct strbuf e = STRBUF_INIT;
		warehouse_exec(wh, l.threads_set && l.limit_now ? "RESET threads; RESET memory_limit"
				   : l.threads_set		? "RESET threads"
								: "RESET memory_limit",
			       &e);
		strbuf_release(&e);
	}
	free(l.limit_now);
	strbuf_release(&l.schema);
	strvec_clear(&l.created);
	strvec_clear(&l.tables);
	strvec_clear(&l.defaulted);
	strvec_clear(&l.optional);
	strvec_clear(&l.deleted);
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
