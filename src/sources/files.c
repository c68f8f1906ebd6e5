/* The file connector, for types `csv` and `local_files`: one file, or a
 * folder of files matching a glob, in CSV/TSV, JSON/NDJSON or Parquet, all
 * into one table. Files are read by DuckDB's own readers.
 *
 * Each sync classifies files against _dango_file_metadata: new, updated
 * (size or mtime moved and the content hash differs), unchanged, deleted.
 * Only new and updated files are read; an updated file's old rows are
 * replaced; a deleted file's rows are marked _dango_deleted. */
#include "ingest/connector.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "project/project.h"
#include "project/sources.h"
#include "sources/check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct files_conf {
	char *location;         /* absolute path of the file or folder */
	char *display_base;     /* how paths are shown: relative to the project when inside it */
	int is_dir;
	const char *pattern;
	const char *format;     /* NULL: by extension */
	const char *table;
	const char *encoding;
	struct strbuf csv_options; /* ", delim=';', header=true, ..." */
	int skip_bad_rows;
	enum write_disposition disposition;
	struct strvec primary_key;
};

struct found_file {
	char *abs, *rel;
	struct stat st;
};

static void conf_free(struct files_conf *c)
{
	if (!c)
		return;
	free(c->location);
	free(c->display_base);
	strbuf_release(&c->csv_options);
	strvec_clear(&c->primary_key);
	free(c);
}

static void str_list(const struct ynode *n, struct strvec *out)
{
	if (!n || ynode_is_null(n))
		return;
	if (n->kind == Y_SCALAR) {
		strvec_push_split(out, n->str);
		return;
	}
	for (size_t i = 0; n->kind == Y_SEQ && i < n->n; i++)
		if (n->items[i]->kind == Y_SCALAR)
			strvec_push(out, n->items[i]->str);
}

static void add_csv_string_opt(struct strbuf *sb, const struct source *s, const char *key, const char *duck)
{
	const char *v = source_get(s, key);
	if (!v)
		return;
	strbuf_addf(sb, ", %s=", duck);
	/* "\t" written in YAML as a two-character escape is meant as a tab */
	strbuf_add_sql_str(sb, !strcmp(v, "\\t") ? "\t" : v);
}

static int files_open(struct sync_job *job, struct strbuf *err)
{
	const struct source *s = job->source;
	struct files_conf *c = xcalloc(1, sizeof(*c));
	struct strbuf loc = STRBUF_INIT;
	strbuf_init(&c->csv_options, 0);
	job->conn = c;
	if (source_file_location(s, job->project, &loc, &c->is_dir) < 0) {
		strbuf_addf(err, "source '%s' has neither 'path' nor 'directory'", s->name);
		strbuf_release(&loc);
		return -1;
	}
	c->location = strbuf_detach(&loc, NULL);
	c->pattern = source_get(s, "file_pattern");
	if (!c->pattern)
		c->pattern = !strcmp(s->type_name, "csv") ? "*.csv" : "*";
	c->format = source_get(s, "format");
	c->table = source_get(s, "table_name");
	if (!c->table)
		c->table = s->name;

	struct strbuf *o = &c->csv_options;
	add_csv_string_opt(o, s, "delimiter", "delim");
	add_csv_string_opt(o, s, "quote", "quote");
	add_csv_string_opt(o, s, "escape", "escape");
	add_csv_string_opt(o, s, "encoding", "encoding");
	c->encoding = source_get(s, "encoding");
	int header;
	if (ynode_bool(ymap_get(s->block, "header"), &header) == 0)
		strbuf_addf(o, ", header=%s", header ? "true" : "false");
	int64_t skip;
	if (ynode_int(ymap_get(s->block, "skip_rows"), &skip) == 0)
		strbuf_addf(o, ", skip=%lld", (long long)skip);
	struct strvec nulls = STRVEC_INIT;
	const struct ynode *nn = ymap_get(s->block, "null_strings");
	if (nn && nn->kind == Y_SCALAR)
		strvec_push(&nulls, nn->str);
	else
		str_list(nn, &nulls);
	if (nulls.nr) {
		strbuf_addstr(o, ", nullstr=[");
		for (size_t i = 0; i < nulls.nr; i++) {
			if (i)
				strbuf_addstr(o, ", ");
			strbuf_add_sql_str(o, nulls.v[i]);
		}
		strbuf_addch(o, ']');
	}
	strvec_clear(&nulls);
	const struct ynode *types = ymap_get(s->block, "column_types");
	if (types && types->kind == Y_MAP && types->n) {
		strbuf_addstr(o, ", types={");
		for (size_t i = 0; i < types->n; i++) {
			if (i)
				strbuf_addstr(o, ", ");
			strbuf_add_sql_str(o, types->pairs[i].key->str);
			strbuf_addstr(o, ": ");
			strbuf_add_sql_str(o, types->pairs[i].value->kind == Y_SCALAR ? types->pairs[i].value->str : "VARCHAR");
		}
		strbuf_addch(o, '}');
	}
	const char *on_error = source_get(s, "on_error");
	c->skip_bad_rows = on_error && !strcmp(on_error, "skip");

	str_list(ymap_get(s->block, "primary_key"), &c->primary_key);
	const char *wd = source_get(s, "write_disposition");
	c->disposition = !wd ? WD_APPEND : !strcmp(wd, "merge") ? WD_MERGE : !strcmp(wd, "replace") ? WD_REPLACE : WD_APPEND;
	if (c->disposition == WD_MERGE && !c->primary_key.nr) {
		strbuf_addf(err, "source '%s': write_disposition 'merge' needs a primary_key", s->name);
		return -1;
	}
	return 0;
}

static void files_close(struct sync_job *job)
{
	conf_free(job->conn);
	job->conn = NULL;
}

/* Paths are shown, and kept in metadata, relative to the project. */
static char *display_path(const struct project *p, const char *abs)
{
	struct strbuf sb = STRBUF_INIT;
	project_relpath(&sb, p, abs);
	return strbuf_detach(&sb, NULL);
}

static const char *file_format(const struct files_conf *c, const char *path)
{
	if (c->format)
		return c->format;
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (ends_with(name, ".tsv") || ends_with(name, ".tsv.gz") || ends_with(name, ".tab"))
		return "tsv";
	if (ends_with(name, ".ndjson") || ends_with(name, ".jsonl") || ends_with(name, ".ndjson.gz") ||
	    ends_with(name, ".jsonl.gz"))
		return "ndjson";
	if (ends_with(name, ".json") || ends_with(name, ".json.gz"))
		return "json";
	if (ends_with(name, ".parquet"))
		return "parquet";
	if (ends_with(name, ".csv") || ends_with(name, ".csv.gz") || ends_with(name, ".txt"))
		return "csv";
	return NULL;
}

static int cmp_found(const void *a, const void *b)
{
	return strcmp(((const struct found_file *)a)->rel, ((const struct found_file *)b)->rel);
}

/* The files of the source, sorted by name; errors name the file. */
static int list_files(struct sync_job *job, struct found_file **out, size_t *nr, struct strbuf *err)
{
	struct files_conf *c = job->conn;
	size_t alloc = 0;
	*out = NULL;
	*nr = 0;
	if (!c->is_dir) {
		struct found_file f = { 0 };
		char *rel = display_path(job->project, c->location);
		if (stat(c->location, &f.st) < 0) {
			strbuf_addf(err, "%s: %s", rel, errno == ENOENT ? "no such file" : strerror(errno));
			free(rel);
			return -1;
		}
		if (S_ISDIR(f.st.st_mode)) {
			strbuf_addf(err, "%s: is a folder; set 'directory' (and 'file_pattern') instead of 'path'", rel);
			free(rel);
			return -1;
		}
		f.abs = xstrdup(c->location);
		f.rel = rel;
		*out = xmalloc(sizeof(f));
		**out = f;
		*nr = 1;
		return 0;
	}
	DIR *d = opendir(c->location);
	if (!d) {
		char *rel = display_path(job->project, c->location);
		strbuf_addf(err, "%s: cannot open folder: %s", rel, strerror(errno));
		free(rel);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || fnmatch(c->pattern, e->d_name, 0))
			continue;
		struct found_file f = { 0 };
		struct strbuf abs = STRBUF_INIT;
		fs_path_join(&abs, c->location, e->d_name);
		if (stat(abs.buf, &f.st) < 0 || !S_ISREG(f.st.st_mode) || (!c->format && !file_format(c, e->d_name))) {
			strbuf_release(&abs);
			continue;
		}
		f.abs = strbuf_detach(&abs, NULL);
		f.rel = display_path(job->project, f.abs);
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[(*nr)++] = f;
	}
	closedir(d);
	qsort(*out, *nr, sizeof(**out), cmp_found);
	return 0;
}

static void free_found(struct found_file *files, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(files[i].abs);
		free(files[i].rel);
	}
	free(files);
}

/* A file name as a literal for DuckDB's readers, which expand glob
 * characters: each of * ? [ becomes a class of itself ("x[*].csv"). */
static void add_literal_path(struct strbuf *sb, const char *path)
{
	struct strbuf lit = STRBUF_INIT;
	for (const char *p = path; *p; p++) {
		if (*p == '*' || *p == '?' || *p == '[')
			strbuf_addf(&lit, "[%c]", *p);
		else
			strbuf_addch(&lit, *p);
	}
	strbuf_add_sql_str(sb, lit.buf);
	strbuf_release(&lit);
}

/* The options of every CSV read (see reader_sql), and its ")". */
static void csv_options(struct strbuf *sb, const struct files_conf *c, const char *format, int skip_bad_rows)
{
	if (!strstr(c->csv_options.buf, "delim="))
		strbuf_addstr(sb, !strcmp(format, "tsv") ? ", delim='\t'" : ", delim=','");
	if (!strstr(c->csv_options.buf, "quote="))
		strbuf_addstr(sb, ", quote='\"'");
	/* left to guess, the sniffer skips every line above one with more
	 * columns (a stray line at the end made a table of it alone) */
	if (!strstr(c->csv_options.buf, "skip="))
		strbuf_addstr(sb, ", skip=0");
	strbuf_addbuf(sb, &c->csv_options);
	if (skip_bad_rows)
		strbuf_addstr(sb, ", ignore_errors=true, store_rejects=true");
	strbuf_addch(sb, ')');
}

/* The DuckDB reader call for one file. A CSV's dialect is pinned (comma or
 * tab, double quotes, no lines skipped) unless configured: left to guess,
 * DuckDB's sniffer reads a file with one malformed row as a single column.
 * Every mode (incremental, full refresh, diagnosis) reads through here. */
static void reader_sql(struct strbuf *sb, const struct files_conf *c, const char *abs, const char *format,
		       int skip_bad_rows)
{
	if (!strcmp(format, "parquet")) {
		strbuf_addstr(sb, "read_parquet(");
		add_literal_path(sb, abs);
		strbuf_addch(sb, ')');
	} else if (!strcmp(format, "json") || !strcmp(format, "ndjson") || !strcmp(format, "jsonl")) {
		strbuf_addstr(sb, "read_json(");
		add_literal_path(sb, abs);
		strbuf_addf(sb, ", format='%s'", !strcmp(format, "json") ? "auto" : "newline_delimited");
		if (skip_bad_rows)
			strbuf_addstr(sb, ", ignore_errors=true");
		strbuf_addch(sb, ')');
	} else {
		strbuf_addstr(sb, "read_csv(");
		add_literal_path(sb, abs);
		csv_options(sb, c, format, skip_bad_rows);
	}
}

/* The CSV reader over several files: a list of paths, every file sniffed
 * (files_to_sniff=-1: DuckDB widens a column where files differ, which
 * the engine then sees), each row's file in __dango_path. */
static void csv_reader_list(struct strbuf *sb, const struct files_conf *c, const char *const *paths, size_t n,
			    const char *format)
{
	strbuf_addstr(sb, "read_csv([");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		add_literal_path(sb, paths[i]);
	}
	strbuf_addstr(sb, "], filename='__dango_path', files_to_sniff=-1");
	csv_options(sb, c, format, 0);
}

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static struct tracked_file *track(const struct found_file *f, const char *hash, const char *status, const char *table)
{
	struct tracked_file *t = xcalloc(1, sizeof(*t));
	t->path = xstrdup(f->rel);
	t->size = (int64_t)f->st.st_size;
	t->mtime = (int64_t)f->st.st_mtime;
	t->mtime_ns = ns_of(&f->st.st_mtim);
	t->ctime_ns = ns_of(&f->st.st_ctim);
	t->hash = xstrdup(hash);
	t->status = xstrdup(status);
	t->table = xstrdup(table);
	return t;
}

/* Does the file look as it did when it was loaded: size, and the
 * nanosecond mtime and ctime (whole-second mtime for metadata of older
 * versions)? */
static int stat_same(json_t *prev, const struct stat *st)
{
	json_t *m = json_object_get(prev, "mtime_ns");
	if (json_integer_value(json_object_get(prev, "size")) != (json_int_t)st->st_size)
		return 0;
	if (!m)
		return json_integer_value(json_object_get(prev, "mtime")) == (json_int_t)st->st_mtime;
	return json_integer_value(m) == ns_of(&st->st_mtim) &&
	       json_integer_value(json_object_get(prev, "ctime_ns")) == ns_of(&st->st_ctim);
}

/* Same times, but recorded so close to the file's last change that a
 * rewrite of the same size within the file system's clock tick would have
 * kept them (git calls this racily clean), or recorded in whole seconds:
 * the content hash decides. */
static int stat_doubtful(json_t *prev, const struct stat *st)
{
	json_t *m = json_object_get(prev, "mtime_ns");
	int64_t loaded = json_integer_value(json_object_get(prev, "loaded_at_ns"));
	int64_t changed = ns_of(&st->st_mtim) > ns_of(&st->st_ctim) ? ns_of(&st->st_mtim) : ns_of(&st->st_ctim);
	return !m || changed + 2000000000LL >= loaded;
}

/* DuckDB's JSON structure detection recurses: a file nested deeper than
 * this overflows its stack (the API path refuses the same depth). */
#define FILE_JSON_MAX_DEPTH 512

struct scan {
	int check_nul, check_depth;
	int64_t line, offset;
	int depth, in_str, esc;
};

/* The line of byte offset in a file (counted again: only errors need it). */
static int64_t line_of(const char *path, int64_t offset)
{
	unsigned char buf[65536];
	int64_t line = 1, pos = 0;
	FILE *fp = fopen(path, "rb");
	size_t n;
	while (fp && pos < offset && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		for (size_t i = 0; i < n && pos < offset; i++, pos++)
			line += buf[i] == '\n';
	if (fp)
		fclose(fp);
	return line;
}

static int scan_chunk(struct scan *sc, const unsigned char *p, size_t n, const char *abs, const char *rel,
		      struct strbuf *err)
{
	if (!sc->check_depth) {
		/* CSV: only NUL bytes matter, found at memchr's speed */
		const unsigned char *z = memchr(p, 0, n);
		if (z) {
			int64_t at = sc->offset + (z - p);
			strbuf_addf(err, "%s:%lld: a NUL byte inside the data (byte %lld): DuckDB would keep it and show "
				    "the value cut short; remove it (for example with tr -d '\\000') and sync again",
				    rel, (long long)line_of(abs, at), (long long)at + 1);
			return -1;
		}
		sc->offset += (int64_t)n;
		return 0;
	}
	for (size_t i = 0; i < n; i++, sc->offset++) {
		unsigned char ch = p[i];
		if (ch == '\n')
			sc->line++;
		if (sc->in_str) {
			if (sc->esc)
				sc->esc = 0;
			else if (ch == '\\')
				sc->esc = 1;
			else if (ch == '"')
				sc->in_str = 0;
		} else if (ch == '"') {
			sc->in_str = 1;
		} else if (ch == '[' || ch == '{') {
			if (++sc->depth > FILE_JSON_MAX_DEPTH) {
				strbuf_addf(err, "%s:%lld: JSON nested deeper than %d levels; refusing to read it (DuckDB's "
					    "JSON reader would overflow its stack)",
					    rel, (long long)sc->line, FILE_JSON_MAX_DEPTH);
				return -1;
			}
		} else if ((ch == ']' || ch == '}') && sc->depth > 0) {
			sc->depth--;
		}
	}
	return 0;
}

/* Read a file once for its content hash and for what DuckDB must not be
 * handed: a NUL byte in a CSV, JSON nested too deep. Compressed files are
 * only hashed. head (if not NULL) gets the first line, newline included,
 * when it is within the first block read. */
static int scan_file(const struct files_conf *c, const struct found_file *f, const char *format, char *hex,
		     struct strbuf *head, struct strbuf *err)
{
	int first = 1;
	static __thread unsigned char buf[1 << 18];
	struct scan sc = { .line = 1 };
	struct hash64 h;
	int compressed = ends_with(f->abs, ".gz") || ends_with(f->abs, ".zst");
	/* in UTF-16 text NUL bytes are the other half of most characters */
	int wide = c->encoding && (strstr(c->encoding, "16") || strstr(c->encoding, "32"));
	sc.check_nul = !compressed && !wide && (!strcmp(format, "csv") || !strcmp(format, "tsv"));
	sc.check_depth = !compressed && (!strcmp(format, "json") || !strcmp(format, "ndjson") || !strcmp(format, "jsonl"));
	int fd = open(f->abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(err, "%s: cannot read: %s", f->rel, strerror(errno));
		return -1;
	}
	hash64_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(err, "%s: cannot read: %s", f->rel, strerror(errno));
			close(fd);
			return -1;
		}
		if (!n)
			break;
		if (first && head) {
			const unsigned char *nl = memchr(buf, '\n', (size_t)n);
			if (nl)
				strbuf_add(head, buf, (size_t)(nl - buf) + 1);
		}
		first = 0;
		hash64_update(&h, buf, (size_t)n);
		if ((sc.check_nul || sc.check_depth) && scan_chunk(&sc, buf, (size_t)n, f->abs, f->rel, err) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	snprintf(hex, 17, "%016llx", (unsigned long long)hash64_final(&h));
	return 0;
}

/* A file read from outside the project (a path with "..", a symlink) is
 * allowed, and said: the line names where it really is. */
static void say_if_outside(struct sync_job *job, struct outside_check *oc, const struct found_file *f)
{
	struct strbuf where = STRBUF_INIT;
	if (outside_check_path(oc, f->abs, &where))
		job->progress(job, "%s resolves to %s, outside the project", f->rel, where.buf);
	strbuf_release(&where);
}

/* A file's mtime as a SQL literal, TIMESTAMP '...' (UTC, whole seconds). */
static void mtime_literal(struct strbuf *sb, const struct found_file *f)
{
	char when[32];
	strbuf_addf(sb, "TIMESTAMP '%s'", clock_format_utc_sql(when, f->st.st_mtime));
}

/* The batch that reads one new or updated file. */
static struct sync_batch *file_batch(struct sync_job *job, const struct files_conf *c, const struct found_file *f,
				     const char *format, const char *hash, const char *status)
{
	struct sync_batch *b = sync_batch_new(c->table);
	struct strbuf rel = STRBUF_INIT;
	reader_sql(&rel, c, f->abs, format, c->skip_bad_rows);
	b->relation = strbuf_detach(&rel, NULL);
	if (!strcmp(format, "csv") || !strcmp(format, "tsv")) {
		reader_sql(&rel, c, f->abs, format, 1);
		b->diagnose = strbuf_detach(&rel, NULL);
		b->collect_rejects = c->skip_bad_rows;
	}
	b->file = track(f, hash, status, c->table);
	b->label = xstrdup(f->rel);
	struct strbuf v = STRBUF_INIT;
	strbuf_add_sql_str(&v, f->rel);
	sync_batch_add_const(b, "_dango_filename", "VARCHAR", v.buf);
	strbuf_reset(&v);
	mtime_literal(&v, f);
	sync_batch_add_const(b, "_dango_file_mtime", "TIMESTAMP", v.buf);
	strbuf_reset(&v);
	strbuf_addf(&v, "TIMESTAMPTZ '%s'", job->extracted_at);
	sync_batch_add_const(b, "_dango_loaded_at", "TIMESTAMP WITH TIME ZONE", v.buf);
	sync_batch_add_const(b, "_dango_deleted", "BOOLEAN", "false");
	strbuf_release(&v);
	if (!strcmp(status, "updated")) {
		struct strbuf w = STRBUF_INIT;
		strbuf_addstr(&w, "_dango_filename = ");
		strbuf_add_sql_str(&w, f->rel);
		b->replace_where = strbuf_detach(&w, NULL);
	}
	return b;
}

/* New small CSV files that share a first line (the header) are read as
 * one group (struct sync_batch): a sniff and an insert a file cost more
 * than their rows. Files up to this size join a group, groups up to the
 * second: the group is read into memory first. */
#define GROUP_FILE_MAX (1 << 20)
#define GROUP_BYTES_MAX (64 << 20)

/* A batch in the order of the files, and the key of the group it may join. */
struct pending {
	struct sync_batch *b;
	char *key;            /* the first line of a file that may be grouped, or NULL */
	const struct found_file *f;
	int taken;            /* in a group already */
	int deferred;         /* not scanned yet (scan_deferred) */
};

/* A new CSV this big is scanned (content hash, NUL bytes) after its batch
 * is handed to the engine, while DuckDB loads it: the scan read the whole
 * file before the load began (0.3 s of a 466 MB load). A NUL byte found
 * then still fails the sync, whose transaction is rolled back; JSON is
 * always checked first (deep nesting would crash DuckDB's reader). */
#define DEFER_SCAN_MIN (8 << 20)

static int scan_deferred(struct sync_job *job, const struct files_conf *c, struct pending *p, size_t nr,
			 struct strbuf *err)
{
	int any = 0;
	for (size_t i = 0; i < nr && !any; i++)
		any = p[i].deferred;
	if (!any)
		return 0;
	sync_job_emit(job);
	for (size_t i = 0; i < nr && !job->cancelled; i++) {
		char hash[17] = "";
		if (!p[i].deferred)
			continue;
		if (scan_file(c, p[i].f, file_format(c, p[i].f->abs), hash, NULL, err) < 0)
			return -1;
		/* the engine reads the hash only once extract is done */
		free(p[i].b->file->hash);
		p[i].b->file->hash = xstrdup(hash);
	}
	return 0;
}

/* May this new file be read in a group? Only when a group reads it
 * exactly as alone: no sample limit, rejects or merge order to keep, a
 * header on the first line, a plain path. */
static int groupable(const struct sync_job *job, const struct files_conf *c, const struct found_file *f,
		     const char *format)
{
	int wide = c->encoding && (strstr(c->encoding, "16") || strstr(c->encoding, "32"));
	return (!strcmp(format, "csv") || !strcmp(format, "tsv")) && !job->opts->limit && !c->skip_bad_rows &&
	       c->disposition != WD_MERGE && !wide && !strstr(c->csv_options.buf, "skip=") &&
	       f->st.st_size <= GROUP_FILE_MAX && !ends_with(f->abs, ".gz") && !ends_with(f->abs, ".zst") &&
	       !strpbrk(f->abs, "*?[");
}

/* A file of a group as {"path", "file", "mtime"} in the JSON list files. */
static void add_group_file(struct strbuf *files, const struct found_file *f, const char *name)
{
	char when[32];
	clock_format_utc_sql(when, f->st.st_mtime);
	strbuf_addstr(files, files->len ? ",{\"path\":" : "[{\"path\":");
	strbuf_add_json_str(files, f->abs);
	strbuf_addstr(files, ",\"file\":");
	strbuf_add_json_str(files, name);
	strbuf_addf(files, ",\"mtime\":\"%s\"}", when);
}

/* The group of pending[first] and the later files with its key (up to
 * GROUP_BYTES_MAX): a read_csv over their list, each row's file and
 * mtime joined in from a list of the files. */
static struct sync_batch *make_group(struct sync_job *job, const struct files_conf *c, struct pending *p, size_t nr,
				     size_t first)
{
	struct sync_batch *g = sync_batch_new(c->table);
	struct strvec paths = STRVEC_INIT;
	struct strbuf sql = STRBUF_INIT, files = STRBUF_INIT;
	int64_t bytes = 0;
	const char *format = file_format(c, p[first].f->abs);
	for (size_t i = first; i < nr; i++) {
		if (!p[i].key || p[i].taken || strcmp(p[i].key, p[first].key) ||
		    strcmp(file_format(c, p[i].f->abs), format))
			continue;
		if (g->nr_parts && bytes + (int64_t)p[i].f->st.st_size > GROUP_BYTES_MAX)
			break;
		bytes += (int64_t)p[i].f->st.st_size;
		p[i].taken = 1;
		sync_batch_add_part(g, p[i].b);
		strvec_push(&paths, p[i].f->abs);
		add_group_file(&files, p[i].f, p[i].b->file->path);
	}
	strbuf_addch(&files, ']');
	strbuf_addstr(&sql, "(SELECT __dango_r.* EXCLUDE (__dango_path), __dango_m.file AS __dango_filename, "
			    "CAST(__dango_m.mtime AS TIMESTAMP) AS __dango_file_mtime FROM ");
	csv_reader_list(&sql, c, (const char *const *)paths.v, paths.nr, format);
	/* each file's name and mtime from one JSON literal: as VALUES, 1,000
	 * rows took DuckDB longer to bind than its join */
	strbuf_addstr(&sql, " __dango_r LEFT JOIN (SELECT unnest(from_json(");
	strbuf_add_sql_str(&sql, files.buf);
	strbuf_addstr(&sql, ", '[{\"path\":\"VARCHAR\",\"file\":\"VARCHAR\",\"mtime\":\"VARCHAR\"}]'), "
			    "recursive := true)) __dango_m ON __dango_r.__dango_path = __dango_m.path)");
	g->relation = strbuf_detach(&sql, NULL);
	g->label = xasprintf("%s and %zu more files", g->parts[0]->label, g->nr_parts - 1);
	/* the metadata columns in the order a file's batch has them */
	struct strbuf v = STRBUF_INIT;
	sync_batch_add_column(g, "_dango_filename", "VARCHAR", "__dango_filename");
	sync_batch_add_column(g, "_dango_file_mtime", "TIMESTAMP", "__dango_file_mtime");
	strbuf_addf(&v, "TIMESTAMPTZ '%s'", job->extracted_at);
	sync_batch_add_const(g, "_dango_loaded_at", "TIMESTAMP WITH TIME ZONE", v.buf);
	sync_batch_add_const(g, "_dango_deleted", "BOOLEAN", "false");
	strbuf_release(&v);
	strvec_clear(&paths);
	strbuf_release(&files);
	return g;
}

/* Hand the batches to the job in the files' order, a group where its
 * first file is. */
static void push_pending(struct sync_job *job, const struct files_conf *c, struct pending *p, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		if (p[i].taken)
			continue;
		size_t same = 0;
		for (size_t k = i + 1; p[i].key && k < nr && !same; k++)
			same = p[k].key && !p[k].taken && !strcmp(p[k].key, p[i].key);
		if (same)
			sync_job_push_batch(job, make_group(job, c, p, nr, i));
		else
			sync_job_push_batch(job, p[i].b);
		p[i].taken = 1;
	}
}

static int files_extract(struct sync_job *job, struct strbuf *err)
{
	struct files_conf *c = job->conn;
	struct found_file *files;
	struct pending *pend = NULL;
	size_t nr, nr_pend = 0, alloc_pend = 0, handed = 0;
	int ret = -1, unchanged = 0;
	struct outside_check oc;
	if (list_files(job, &files, &nr, err) < 0)
		return -1;
	outside_check_init(&oc, job->project);
	struct sync_resource *res = sync_job_resource(job, c->table);
	res->disposition = c->disposition;
	res->is_file_table = 1;
	for (size_t i = 0; i < c->primary_key.nr; i++)
		strvec_push(&res->primary_key, c->primary_key.v[i]);
	if (c->disposition == WD_REPLACE)
		strvec_pushf(&job->notes, "replace: every sync reloads %s", c->table);
	if (!sync_job_selected(job, c->table)) {
		ret = 0;
		goto out;
	}
	if (c->is_dir && !nr)
		strvec_pushf(&job->warnings, "no files match '%s' in %s", c->pattern, c->display_base ? c->display_base : c->location);

	/* replace reloads every file; otherwise only new and changed ones */
	int reload_all = job->opts->full_refresh || c->disposition == WD_REPLACE;
	for (size_t i = 0; i < nr; i++) {
		const struct found_file *f = &files[i];
		json_t *prev = json_object_get(job->prev_files, f->rel);
		const char *prev_status = json_string_value(json_object_get(prev, "status"));
		const char *prev_table = json_string_value(json_object_get(prev, "table"));
		int known = prev && prev_status && strcmp(prev_status, "deleted");
		char hash[17] = "";
		const char *format = file_format(c, f->abs);
		if (!format) {
			strbuf_addf(err, "%s: unknown file format (set 'format' to csv, tsv, json, ndjson or parquet)", f->rel);
			goto out;
		}
		if (access(f->abs, R_OK) < 0) {
			strbuf_addf(err, "%s: cannot read: %s", f->rel, strerror(errno));
			goto out;
		}
		if (f->st.st_size == 0) {
			strbuf_addf(err, "%s: the file is empty (no header, no rows)", f->rel);
			goto out;
		}
		if (known && prev_table && strcmp(prev_table, c->table)) {
			/* table_name changed: the file is new to its new table */
			strvec_pushf(&job->notes, "%s: table_name is now '%s': loading it into raw_%s.%s (raw_%s.%s keeps "
				     "the rows loaded before)",
				     f->rel, c->table, job->source->name, c->table, job->source->name, prev_table);
			known = 0;
		}
		if (known && !reload_all && stat_same(prev, &f->st) && !stat_doubtful(prev, &f->st)) {
			unchanged++;
			continue;
		}
		struct strbuf head = STRBUF_INIT;
		/* a big new CSV is hashed (and checked for NUL bytes) while DuckDB
		 * loads it, rather than before: see DEFER_SCAN_MIN */
		int defer = (!known || reload_all) && f->st.st_size >= DEFER_SCAN_MIN &&
			    (!strcmp(format, "csv") || !strcmp(format, "tsv"));
		if (!defer && scan_file(c, f, format, hash, &head, err) < 0) {
			strbuf_release(&head);
			goto out;
		}
		const char *status = "new";
		if (known && !reload_all) {
			if (!strcmp(json_string_value(json_object_get(prev, "hash")) ? json_string_value(json_object_get(prev, "hash")) : "", hash)) {
				/* touched, not changed: remember the new times, read nothing */
				struct sync_batch *b = sync_batch_new(c->table);
				b->file = track(f, hash, "unchanged", c->table);
				b->file->rows = json_integer_value(json_object_get(prev, "rows"));
				unchanged++;
				ALLOC_GROW(pend, nr_pend + 1, alloc_pend);
				pend[nr_pend++] = (struct pending){ b, NULL, f, 0, 0 };
				strbuf_release(&head);
				continue;
			}
			status = "updated";
		}
		say_if_outside(job, &oc, f);
		ALLOC_GROW(pend, nr_pend + 1, alloc_pend);
		int group = !strcmp(status, "new") && head.len && groupable(job, c, f, format);
		pend[nr_pend++] = (struct pending){ file_batch(job, c, f, format, hash, status),
						    group ? strbuf_detach(&head, NULL) : NULL, f, 0, defer };
		strbuf_release(&head);
	}
	push_pending(job, c, pend, nr_pend);
	handed = nr_pend;
	if (scan_deferred(job, c, pend, nr_pend, err) < 0)
		goto out;
	/* files known before and gone now */
	if (!job->opts->full_refresh) {
		const char *path;
		json_t *info;
		json_object_foreach(job->prev_files, path, info) {
			const char *st = json_string_value(json_object_get(info, "status"));
			int present = 0;
			if (st && !strcmp(st, "deleted"))
				continue;
			for (size_t i = 0; i < nr && !present; i++)
				present = !strcmp(files[i].rel, path);
			if (!present)
				strvec_push(&res->deleted_files, path);
		}
	}
	if (unchanged)
		strvec_pushf(&job->notes, "%d file%s unchanged, skipped", unchanged, unchanged == 1 ? "" : "s");
	ret = 0;
out:
	for (size_t i = 0; i < nr_pend; i++) {
		if (i >= handed) /* an error stopped the listing */
			sync_batch_free(pend[i].b);
		free(pend[i].key);
	}
	free(pend);
	free_found(files, nr);
	outside_check_release(&oc);
	return ret;
}

/* Rows in a file, estimated from the lines in its first 64 KiB. */
static int64_t estimate_rows(const char *path, int64_t size, const char *format)
{
	if (!strcmp(format, "parquet"))
		return -1;
	char buf[65536];
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	int64_t lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	if (!lines)
		return 1;
	int64_t est = (int64_t)((double)size / (double)n * (double)lines);
	return strcmp(format, "csv") && strcmp(format, "tsv") ? est : est - 1;
}

static int files_describe(struct sync_job *job, struct strbuf *out, struct strbuf *err)
{
	struct files_conf *c = job->conn;
	struct found_file *files;
	size_t nr;
	if (list_files(job, &files, &nr, err) < 0)
		return -1;
	int64_t total = 0;
	int reload_all = job->opts->full_refresh || c->disposition == WD_REPLACE;
	for (size_t i = 0; i < nr; i++) {
		json_t *prev = json_object_get(job->prev_files, files[i].rel);
		const char *ps = json_string_value(json_object_get(prev, "status"));
		int known = ps && strcmp(ps, "deleted");
		const char *pt = json_string_value(json_object_get(prev, "table"));
		known = known && !(pt && strcmp(pt, c->table));
		int same = known && stat_same(prev, &files[i].st);
		const char *format = file_format(c, files[i].abs);
		if (same && !reload_all) {
			strbuf_addf(out, "%s: unchanged, skipped\n", files[i].rel);
			continue;
		}
		int64_t est = format ? estimate_rows(files[i].abs, files[i].st.st_size, format) : -1;
		char n[32];
		if (est >= 0) {
			total += est;
			strbuf_addf(out, "%s: ~%s rows (%s)\n", files[i].rel, fmt_count(n, est),
				    reload_all ? "full refresh" : known ? "changed" : "new");
		} else {
			strbuf_addf(out, "%s: rows unknown (%s)\n", files[i].rel, known ? "changed" : "new");
		}
	}
	if (!job->opts->full_refresh) {
		const char *path;
		json_t *info;
		json_object_foreach(job->prev_files, path, info) {
			const char *st = json_string_value(json_object_get(info, "status"));
			int present = 0;
			for (size_t i = 0; i < nr && !present; i++)
				present = !strcmp(files[i].rel, path);
			if (!present && !(st && !strcmp(st, "deleted")))
				strbuf_addf(out, "%s: deleted, its rows will be marked _dango_deleted\n", path);
		}
	}
	strbuf_addf(out, "=%lld\n", (long long)total); /* the estimate, for the caller to sum */
	free_found(files, nr);
	return 0;
}

static int files_resources(struct sync_job *job, struct strvec *out, struct strbuf *err)
{
	const struct files_conf *c = job->conn;
	(void)err;
	strvec_push(out, c->table);
	return 0;
}

const struct connector_ops files_connector = {
	.type = "files",
	.caps = 0,
	.open = files_open,
	.extract = files_extract,
	.describe = files_describe,
	.close = files_close,
	.resources = files_resources,
};
