/* The database connector: streams, modes, state and the spool, shared by
 * postgres.c, mysql.c and sqlite.c (see db.h for the design).
 *
 * Incremental reads are bounded on both sides: one aggregate query finds
 * the newest update_key inside the window (and counts NULL keys), then the
 * data query reads `key >= stored AND key <= newest`. A row changed while
 * the sync runs lands above `newest` and is read by the next sync, so no
 * snapshot is needed for correctness. The newest value becomes the state,
 * which the engine commits in the transaction that loads the rows. */
#include "sources/db/db.h"
#include "ingest/connector.h"
#include "core/env.h"
#include "core/fs.h"
#include "core/pool.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "project/project.h"
#include "project/schema.h"
#include "project/sources.h"
#include "sources/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A spool file holds at most this many rows: the engine loads one while
 * the next fills. */
#define SPOOL_ROWS 250000

struct db_ctx {
	const struct db_family *fam;
	struct db_conf conf;
	struct ydoc repl;            /* a replication: file, when configured */
	char *repl_text;             /* the file's text, which the document points into */
	int have_repl;
	struct db_stream *streams;   /* resolved: wildcards expanded, disabled ones dropped */
	size_t nr_streams, alloc_streams;
	pthread_mutex_t lock;        /* batches, state and warnings from the stream workers */
	struct sync_job *job;
	volatile int failed;
	struct strbuf first_err;
};

struct db_spool {
	struct db_ctx *ctx;
	const struct db_stream *st;
	struct db_cols *cols;
	FILE *fp;
	char *path;
	int nfield, line_done, seq;
	int64_t file_rows, rows, zero_dates;
	int64_t limit;
	int io_error;
};

/* ---- columns ---- */

void db_cols_add(struct db_cols *c, const char *name, const char *duck, const char *src_expr, const char *duck_expr)
{
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	struct db_col *col = &c->v[c->nr++];
	memset(col, 0, sizeof(*col));
	col->name = xstrdup(name);
	col->duck = xstrdup(duck);
	col->src_expr = src_expr ? xstrdup(src_expr) : NULL;
	col->duck_expr = duck_expr ? xstrdup(duck_expr) : NULL;
}

static void col_release(struct db_col *c)
{
	free(c->name);
	free(c->duck);
	free(c->src_expr);
	free(c->duck_expr);
}

void db_cols_release(struct db_cols *c)
{
	for (size_t i = 0; i < c->nr; i++)
		col_release(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static struct db_col *cols_find(struct db_cols *c, const char *name)
{
	for (size_t i = 0; i < c->nr; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

static void cols_list(struct strbuf *sb, const struct db_cols *c)
{
	for (size_t i = 0; i < c->nr; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", c->v[i].name);
}

/* ---- config ---- */

static const struct db_family *family_for(const char *type)
{
	if (!strcmp(type, "postgres"))
		return &db_postgres;
	if (!strcmp(type, "mysql"))
		return &db_mysql;
	if (!strcmp(type, "sqlite"))
		return &db_sqlite;
	return NULL;
}

int db_source_handles(const char *type)
{
	return family_for(type) != NULL;
}

static void stream_release(struct db_stream *s)
{
	free(s->name);
	free(s->schema);
	free(s->table);
	free(s->object);
	free(s->update_key);
	free(s->sql);
	strvec_clear(&s->primary_key);
	strvec_clear(&s->select);
}

static const struct ynode *pick(const struct ynode *v, const struct ynode *defaults, const char *key)
{
	const struct ynode *n = v && v->kind == Y_MAP ? ymap_get(v, key) : NULL;
	if (!n || ynode_is_null(n))
		n = defaults && defaults->kind == Y_MAP ? ymap_get(defaults, key) : NULL;
	return n && !ynode_is_null(n) ? n : NULL;
}

static void str_list(const struct ynode *n, struct strvec *out)
{
	if (!n)
		return;
	if (n->kind == Y_SCALAR) {
		strvec_push_split(out, n->str);
		return;
	}
	for (size_t i = 0; n->kind == Y_SEQ && i < n->n; i++)
		if (n->items[i]->kind == Y_SCALAR)
			strvec_push(out, n->items[i]->str);
}

/* Split "schema.table" (a name without a dot has no schema). */
static void split_name(const char *name, char **schema, char **table)
{
	const char *dot = strrchr(name, '.');
	*schema = dot ? xstrndup(name, (size_t)(dot - name)) : NULL;
	*table = xstrdup(dot ? dot + 1 : name);
}

/* Sling's object may be "schema.{stream_table}": the last part names the
 * table in raw_<source>; {stream_table} and {stream_schema} are filled. */
static char *object_name(const char *object, const struct db_stream *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = object; *p;) {
		if (starts_with(p, "{stream_table}")) {
			strbuf_addstr(&sb, s->table);
			p += 14;
		} else if (starts_with(p, "{stream_schema}")) {
			strbuf_addstr(&sb, s->schema ? s->schema : "main");
			p += 15;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	const char *dot = strrchr(sb.buf, '.');
	char *out = xstrdup(dot ? dot + 1 : sb.buf);
	strbuf_release(&sb);
	return out;
}

static int parse_stream(const struct ydoc *doc, const char *name, const struct ynode *v, const struct ynode *defaults,
			struct db_stream *s, struct strbuf *err)
{
	const struct ynode *n;
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->line = v ? v->line : 0;
	split_name(name, &s->schema, &s->table);
	s->mode = DBM_FULL_REFRESH;
	if ((n = pick(v, defaults, "mode")) && n->kind == Y_SCALAR) {
		if (!strcmp(n->str, "incremental"))
			s->mode = DBM_INCREMENTAL;
		else if (!strcmp(n->str, "truncate"))
			s->mode = DBM_TRUNCATE;
		else if (strcmp(n->str, "full-refresh")) {
			if (doc)
				ynode_where(err, doc, n);
			strbuf_addf(err, "stream '%s': mode '%s' is not supported (full-refresh, incremental or truncate)",
				    name, n->str);
			return -1;
		}
	}
	str_list(pick(v, defaults, "primary_key"), &s->primary_key);
	str_list(pick(v, defaults, "select"), &s->select);
	if ((n = pick(v, defaults, "update_key")) && n->kind == Y_SCALAR)
		s->update_key = xstrdup(n->str);
	/* a custom query belongs to its stream only, never to the defaults */
	if (v && v->kind == Y_MAP && (n = ymap_get(v, "sql")) && n->kind == Y_SCALAR && !ynode_is_null(n))
		s->sql = xstrdup(n->str);
	if (v && v->kind == Y_MAP && (n = ymap_get(v, "object")) && n->kind == Y_SCALAR && !ynode_is_null(n))
		s->object = object_name(n->str, s);
	else if ((n = pick(NULL, defaults, "object")) && n->kind == Y_SCALAR && strstr(n->str, "{stream_table}"))
		s->object = object_name(n->str, s);
	else
		s->object = xstrdup(s->table);
	int dis = 0;
	ynode_bool(pick(v, NULL, "disabled"), &dis);
	s->disabled = dis;
	if (s->mode == DBM_INCREMENTAL && !s->update_key) {
		if (doc)
			ynode_where(err, doc, v ? v : defaults);
		strbuf_addf(err, "stream '%s': mode incremental needs an update_key", name);
		return -1;
	}
	return 0;
}

static int add_streams(struct db_ctx *ctx, const struct ydoc *doc, const struct ynode *defaults,
		       const struct ynode *streams, struct strbuf *err)
{
	for (size_t i = 0; streams && streams->kind == Y_MAP && i < streams->n; i++) {
		struct db_stream s;
		if (parse_stream(doc, streams->pairs[i].key->str, streams->pairs[i].value, defaults, &s, err) < 0) {
			stream_release(&s);
			return -1;
		}
		ALLOC_GROW(ctx->conf.streams, ctx->conf.nr_streams + 1, ctx->conf.alloc_streams);
		ctx->conf.streams[ctx->conf.nr_streams++] = s;
	}
	return 0;
}

/* Keys of a Sling replication file that have no meaning here: read and ignored. */
static const char *const sling_ignored[] = { "source_options", "target_options", "transforms", "columns",
					     "description", "tags", "hooks", "single", "where", NULL };
static const struct cfg_key repl_stream_keys[] = {
	{ "mode", CFG_STR, 0, NULL, NULL, NULL },
	{ "primary_key", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "update_key", CFG_STR, 0, NULL, NULL, NULL },
	{ "sql", CFG_STR, 0, NULL, NULL, NULL },
	{ "object", CFG_STR, 0, NULL, NULL, NULL },
	{ "select", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "disabled", CFG_BOOL, 0, NULL, NULL, NULL },
	{ "source_options", CFG_ANY, 0, NULL, NULL, NULL },
	{ "target_options", CFG_ANY, 0, NULL, NULL, NULL },
	{ "transforms", CFG_ANY, 0, NULL, NULL, NULL },
	{ "columns", CFG_ANY, 0, NULL, NULL, NULL },
	{ "description", CFG_ANY, 0, NULL, NULL, NULL },
	{ "tags", CFG_ANY, 0, NULL, NULL, NULL },
	{ "hooks", CFG_ANY, 0, NULL, NULL, NULL },
	{ "single", CFG_ANY, 0, NULL, NULL, NULL },
	{ "where", CFG_ANY, 0, NULL, NULL, NULL },
	{ NULL }
};
static const struct cfg_key repl_top_keys[] = {
	{ "source", CFG_STR, 0, NULL, NULL, NULL },
	{ "target", CFG_STR, 0, NULL, NULL, NULL },
	{ "defaults", CFG_MAP, 0, repl_stream_keys, NULL, NULL },
	{ "streams", CFG_FREE_MAP, 0, NULL, NULL, NULL },
	{ "env", CFG_ANY, 0, NULL, NULL, NULL },
	{ "hooks", CFG_ANY, 0, NULL, NULL, NULL },
	{ NULL }
};

/* replication: a Sling replication file; its defaults and streams (the
 * connection names source/target stand for this block's connection). */
static int read_replication(struct db_ctx *ctx, const struct project *p, const char *path, struct strvec *warnings,
			    struct strbuf *err)
{
	struct strbuf abs = STRBUF_INIT, text = STRBUF_INIT;
	int ret = -1, bad = 0;
	if (path[0] == '/')
		strbuf_addstr(&abs, path);
	else
		fs_path_join(&abs, p->root, path);
	if (strbuf_read_file(&text, abs.buf) < 0) {
		strbuf_addf(err, "replication file '%s': %s", path, strerror(errno));
		goto out;
	}
	/* the document keeps pointers into the text: it is kept with it */
	char *file = xstrdup(path);
	if (ydoc_parse(&ctx->repl, file, text.buf, text.len, err) < 0) {
		free(file);
		goto out;
	}
	ctx->have_repl = 1;
	const struct ynode *root = ctx->repl.root;
	if (!root || root->kind != Y_MAP) {
		strbuf_addf(err, "replication file '%s' must be a mapping with 'streams:'", path);
		goto out;
	}
	struct strbuf problems = STRBUF_INIT;
	bad += schema_check(&ctx->repl, root, repl_top_keys, "the replication file", &problems);
	const struct ynode *streams = ymap_get(root, "streams"), *defaults = ymap_get(root, "defaults");
	for (size_t i = 0; streams && streams->kind == Y_MAP && i < streams->n; i++) {
		const struct ynode *v = streams->pairs[i].value;
		if (v->kind == Y_MAP)
			bad += schema_check(&ctx->repl, v, repl_stream_keys, streams->pairs[i].key->str, &problems);
		for (size_t k = 0; v->kind == Y_MAP && sling_ignored[k]; k++)
			if (ymap_get(v, sling_ignored[k]))
				strvec_pushf(warnings, "%s: stream '%s': '%s' is ignored by Dango", path,
					     streams->pairs[i].key->str, sling_ignored[k]);
	}
	if (bad) {
		strbuf_rtrim(&problems);
		strbuf_addbuf(err, &problems);
		strbuf_release(&problems);
		goto out;
	}
	strbuf_release(&problems);
	if (!streams || streams->kind != Y_MAP || !streams->n) {
		strbuf_addf(err, "replication file '%s' has no streams", path);
		goto out;
	}
	ret = add_streams(ctx, &ctx->repl, defaults, streams, err);
out:
	strbuf_release(&abs);
	if (ret < 0 || !ctx->have_repl)
		strbuf_release(&text);
	else
		ctx->repl_text = strbuf_detach(&text, NULL);
	return ret;
}

static void ctx_free(struct db_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->conf.nr_streams; i++)
		stream_release(&ctx->conf.streams[i]);
	free(ctx->conf.streams);
	for (size_t i = 0; i < ctx->nr_streams; i++)
		stream_release(&ctx->streams[i]);
	free(ctx->streams);
	free(ctx->conf.path);
	if (ctx->have_repl) {
		free((char *)ctx->repl.file);
		ydoc_release(&ctx->repl);
	}
	free(ctx->repl_text);
	pthread_mutex_destroy(&ctx->lock);
	strbuf_release(&ctx->first_err);
	free(ctx);
}

static const char *secret(const struct source *s, const struct project *p, const char *key, struct strbuf *err)
{
	const char *var = source_get(s, key);
	if (!var)
		return NULL;
	const char *v = env_lookup(&p->env, var, NULL);
	if (!v)
		strbuf_addf(err, "source '%s': %s names %s, which is not set (export it, or add it to .env)", s->name,
			    key, var);
	return v;
}

static struct db_ctx *ctx_open_ext(const struct source *s, const struct project *p, struct strvec *warnings,
				   int need_streams, struct strbuf *err)
{
	struct db_ctx *ctx = xcalloc(1, sizeof(*ctx));
	int64_t n;
	ctx->fam = family_for(s->type_name);
	pthread_mutex_init(&ctx->lock, NULL);
	strbuf_init(&ctx->first_err, 0);
	struct db_conf *c = &ctx->conf;
	c->source = s;
	c->host = source_get(s, "host");
	c->database = source_get(s, "database");
	c->user = source_get(s, "user");
	c->sslmode = source_get(s, "sslmode");
	if (ynode_int(ymap_get(s->block, "port"), &n) == 0)
		c->port = (int)n;
	if (ynode_int(ymap_get(s->block, "timeout"), &n) == 0)
		c->timeout = (int)n;
	c->connect_timeout = 10;
	if (ynode_int(ymap_get(s->block, "connect_timeout"), &n) == 0)
		c->connect_timeout = (int)n;
	size_t errlen = err->len;
	c->password = secret(s, p, "password_env", err);
	c->url = secret(s, p, "url_env", err);
	if (err->len > errlen)
		goto fail;
	const char *path = source_get(s, "path");
	if (path) {
		struct strbuf sb = STRBUF_INIT;
		if (path[0] == '/')
			strbuf_addstr(&sb, path);
		else
			fs_path_join(&sb, p->root, path);
		c->path = strbuf_detach(&sb, NULL);
	}
	if (!strcmp(ctx->fam->type, "sqlite") && !c->path) {
		strbuf_addf(err, "source '%s' needs 'path' (the SQLite database file)", s->name);
		goto fail;
	}
	const char *repl = source_get(s, "replication");
	if (repl && read_replication(ctx, p, repl, warnings, err) < 0)
		goto fail;
	if (add_streams(ctx, NULL, ymap_get(s->block, "defaults"), ymap_get(s->block, "streams"), err) < 0) {
		/* messages of sources.yml carry no file prefix from a NULL doc */
		goto fail;
	}
	if (!c->nr_streams && need_streams) {
		strbuf_addf(err, "source '%s' has no streams (add 'streams:' with tables such as %s)", s->name,
			    ctx->fam->default_schema ? "public.orders or public.*" : "orders or '*'");
		goto fail;
	}
	return ctx;
fail:
	ctx_free(ctx);
	return NULL;
}

static struct db_ctx *ctx_open(const struct source *s, const struct project *p, struct strvec *warnings,
			       struct strbuf *err)
{
	return ctx_open_ext(s, p, warnings, 1, err);
}

static int is_wildcard(const struct db_stream *s)
{
	return !strcmp(s->table, "*");
}

/* Same table? An unqualified name stands for the default schema. */
static int same_table(const struct db_family *f, const char *schema_a, const char *table_a, const char *schema_b,
		      const char *table_b)
{
	const char *a = schema_a ? schema_a : f->default_schema, *b = schema_b ? schema_b : f->default_schema;
	if (strcmp(table_a, table_b))
		return 0;
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void stream_copy(struct db_stream *dst, const struct db_stream *src, const char *schema, const char *table)
{
	memset(dst, 0, sizeof(*dst));
	dst->schema = schema ? xstrdup(schema) : NULL;
	dst->table = xstrdup(table);
	dst->name = schema ? xasprintf("%s.%s", schema, table) : xstrdup(table);
	dst->object = xstrdup(table);
	dst->mode = src->mode;
	for (size_t i = 0; i < src->primary_key.nr; i++)
		strvec_push(&dst->primary_key, src->primary_key.v[i]);
	for (size_t i = 0; i < src->select.nr; i++)
		strvec_push(&dst->select, src->select.v[i]);
	dst->update_key = src->update_key ? xstrdup(src->update_key) : NULL;
	dst->line = src->line;
}

/* The streams of this sync: wildcards expanded with the tables that exist
 * now, explicit entries over wildcard ones, disabled ones dropped. */
static int resolve_streams(struct db_ctx *ctx, void *conn, struct strbuf *err)
{
	struct db_conf *c = &ctx->conf;
	for (size_t i = 0; i < c->nr_streams; i++) {
		const struct db_stream *s = &c->streams[i];
		if (is_wildcard(s) || s->disabled)
			continue;
		ALLOC_GROW(ctx->streams, ctx->nr_streams + 1, ctx->alloc_streams);
		struct db_stream *d = &ctx->streams[ctx->nr_streams++];
		stream_copy(d, s, s->schema, s->table);
		free(d->name);
		d->name = xstrdup(s->name);
		free(d->object);
		d->object = xstrdup(s->object);
		d->sql = s->sql ? xstrdup(s->sql) : NULL;
	}
	for (size_t i = 0; i < c->nr_streams; i++) {
		const struct db_stream *w = &c->streams[i];
		struct strvec tables = STRVEC_INIT;
		if (!is_wildcard(w) || w->disabled)
			continue;
		const char *schema = w->schema ? w->schema : ctx->fam->default_schema;
		if (ctx->fam->tables(conn, schema, &tables, err) < 0)
			return -1;
		if (!tables.nr) {
			strbuf_addf(err, "source '%s', stream '%s': no table matches (", ctx->conf.source->name, w->name);
			if (schema)
				strbuf_addf(err, "is there a schema '%s'?)", schema);
			else
				strbuf_addstr(err, "the database has no tables)");
			strvec_clear(&tables);
			return -1;
		}
		for (size_t t = 0; t < tables.nr; t++) {
			int explicit = 0;
			for (size_t k = 0; k < c->nr_streams && !explicit; k++)
				explicit = !is_wildcard(&c->streams[k]) &&
					   same_table(ctx->fam, c->streams[k].schema, c->streams[k].table, schema,
						      tables.v[t]);
			if (explicit)
				continue;
			ALLOC_GROW(ctx->streams, ctx->nr_streams + 1, ctx->alloc_streams);
			stream_copy(&ctx->streams[ctx->nr_streams++], w, w->schema, tables.v[t]);
		}
		strvec_clear(&tables);
	}
	for (size_t i = 0; i < ctx->nr_streams; i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(ctx->streams[i].object, ctx->streams[k].object)) {
				strbuf_addf(err, "streams '%s' and '%s' both load into '%s' (set 'object' on one of them)",
					    ctx->streams[k].name, ctx->streams[i].name, ctx->streams[i].object);
				return -1;
			}
	return 0;
}

/* ---- queries ---- */

/* FROM-able text of a stream: its table, or its query as a subquery. */
static void stream_from(const struct db_ctx *ctx, const struct db_stream *s, struct strbuf *sb)
{
	if (s->sql) {
		struct strbuf q = STRBUF_INIT;
		strbuf_addstr(&q, s->sql);
		strbuf_rtrim(&q);
		while (q.len && q.buf[q.len - 1] == ';')
			strbuf_setlen(&q, q.len - 1);
		strbuf_addf(sb, "(%s) AS dango_q", q.buf);
		strbuf_release(&q);
		return;
	}
	if (s->schema) {
		ctx->fam->ident(sb, s->schema);
		strbuf_addch(sb, '.');
	}
	ctx->fam->ident(sb, s->table);
}

/* What a stream reads: columns (after select), checked keys. */
struct stream_plan {
	struct db_cols cols;
	struct strbuf from, uk;       /* uk: the quoted update_key */
	struct strbuf window;         /* WHERE condition of this sync's rows, or empty */
	const char *prev;             /* stored update_key value */
	int strict;                   /* > rather than >= (append without a primary key) */
	struct strvec declared_pk;    /* configured, or from the catalog */
};

static void plan_release(struct stream_plan *pl)
{
	db_cols_release(&pl->cols);
	strbuf_release(&pl->from);
	strbuf_release(&pl->uk);
	strbuf_release(&pl->window);
	strvec_clear(&pl->declared_pk);
}

static void stream_err(struct strbuf *err, const struct db_ctx *ctx, const struct db_stream *s)
{
	strbuf_addf(err, "source '%s', stream '%s': ", ctx->conf.source->name, s->name);
}

static int apply_select(struct db_ctx *ctx, const struct db_stream *s, struct db_cols *cols, struct strbuf *err)
{
	int keep_listed = 0;
	for (size_t i = 0; i < s->select.nr; i++) {
		const char *name = s->select.v[i][0] == '-' ? s->select.v[i] + 1 : s->select.v[i];
		keep_listed |= s->select.v[i][0] != '-';
		if (!cols_find(cols, name)) {
			stream_err(err, ctx, s);
			strbuf_addf(err, "select names '%s', which is not a column (columns: ", name);
			cols_list(err, cols);
			strbuf_addch(err, ')');
			return -1;
		}
	}
	if (!s->select.nr)
		return 0;
	struct db_cols kept = { 0 };
	for (size_t i = 0; i < cols->nr; i++) {
		int listed = strvec_has(&s->select, cols->v[i].name);
		struct strbuf minus = STRBUF_INIT;
		strbuf_addf(&minus, "-%s", cols->v[i].name);
		int dropped = strvec_has(&s->select, minus.buf);
		strbuf_release(&minus);
		if ((keep_listed && !listed) || dropped) {
			col_release(&cols->v[i]);
			continue;
		}
		ALLOC_GROW(kept.v, kept.nr + 1, kept.alloc);
		kept.v[kept.nr++] = cols->v[i];
	}
	free(cols->v);
	*cols = kept;
	return 0;
}

static int has_text(const struct strbuf *sb)
{
	return sb->len > 0;
}

static void window_and(struct strbuf *w)
{
	if (has_text(w))
		strbuf_addstr(w, " AND ");
}

/* The columns, keys and window of a stream; prev_value: the stored
 * update_key value or NULL. */
static int plan_stream(struct db_ctx *ctx, void *conn, const struct db_stream *s, const char *prev_value,
		       struct stream_plan *pl, struct strvec *warnings, struct strbuf *err)
{
	const struct sync_options *o = ctx->job ? ctx->job->opts : NULL;
	const struct db_family *f = ctx->fam;
	struct strbuf e = STRBUF_INIT;
	memset(pl, 0, sizeof(*pl));
	strbuf_init(&pl->from, 0);
	strbuf_init(&pl->uk, 0);
	strbuf_init(&pl->window, 0);
	stream_from(ctx, s, &pl->from);
	struct strvec w = STRVEC_INIT;
	int r = f->columns(conn, pl->from.buf, &pl->cols, &w, &e);
	for (size_t i = 0; i < w.nr; i++)
		strvec_pushf(warnings, "%s: %s", s->name, w.v[i]);
	strvec_clear(&w);
	if (r < 0) {
		stream_err(err, ctx, s);
		strbuf_addbuf(err, &e);
		strbuf_release(&e);
		return -1;
	}
	strbuf_release(&e);
	if (apply_select(ctx, s, &pl->cols, err) < 0)
		return -1;
	for (size_t i = 0; i < s->primary_key.nr; i++)
		if (!cols_find(&pl->cols, s->primary_key.v[i])) {
			stream_err(err, ctx, s);
			strbuf_addf(err, "primary_key '%s' is not a column (columns: ", s->primary_key.v[i]);
			cols_list(err, &pl->cols);
			strbuf_addch(err, ')');
			return -1;
		}
	if (s->primary_key.nr) {
		for (size_t i = 0; i < s->primary_key.nr; i++)
			strvec_push(&pl->declared_pk, s->primary_key.v[i]);
	} else if (!s->sql && f->primary_key) {
		struct strbuf ignored = STRBUF_INIT;
		f->primary_key(conn, s, &pl->declared_pk, &ignored);
		strbuf_release(&ignored);
		for (size_t i = 0; i < pl->declared_pk.nr; i++)
			if (!cols_find(&pl->cols, pl->declared_pk.v[i]))
				strvec_clear(&pl->declared_pk);
	}
	if (s->mode != DBM_INCREMENTAL)
		return 0;
	const struct db_col *ukc = cols_find(&pl->cols, s->update_key);
	if (!ukc) {
		stream_err(err, ctx, s);
		strbuf_addf(err, "update_key '%s' is not a column (columns: ", s->update_key);
		cols_list(err, &pl->cols);
		strbuf_addch(err, ')');
		return -1;
	}
	f->ident(&pl->uk, s->update_key);
	pl->prev = prev_value;
	pl->strict = !s->primary_key.nr;
	int lookback = (int)ctx->conf.source->lookback_days;
	if (o && (o->since || o->until) && !ukc->temporal) {
		strvec_pushf(warnings, "%s: --since/--until apply to date or timestamp update keys; %s is %s, the range is ignored",
			     s->name, s->update_key, ukc->duck);
	} else if (o && (o->since || o->until)) {
		if (o->since) {
			struct strbuf lit = STRBUF_INIT;
			f->literal(conn, &lit, o->since);
			strbuf_addf(&pl->window, "%s >= %s", pl->uk.buf, lit.buf);
			strbuf_release(&lit);
		}
		if (o->until) {
			struct strbuf lit = STRBUF_INIT;
			f->literal(conn, &lit, o->until);
			window_and(&pl->window);
			strbuf_addf(&pl->window, "%s < ", pl->uk.buf);
			f->shift_days(&pl->window, lit.buf, 1);
			strbuf_release(&lit);
		}
		if (o->since)
			return 0;
	}
	if (prev_value) {
		struct strbuf lit = STRBUF_INIT;
		f->literal(conn, &lit, prev_value);
		window_and(&pl->window);
		if (lookback > 0 && ukc->temporal) {
			strbuf_addf(&pl->window, "%s >= ", pl->uk.buf);
			f->shift_days(&pl->window, lit.buf, -lookback);
		} else {
			strbuf_addf(&pl->window, "%s %s %s", pl->uk.buf, pl->strict ? ">" : ">=", lit.buf);
		}
		strbuf_release(&lit);
	}
	return 0;
}

/* SELECT of the columns as the spool wants them. */
static void select_sql(const struct db_ctx *ctx, const struct stream_plan *pl, const char *extra_where,
		       int64_t limit, struct strbuf *sql)
{
	strbuf_addstr(sql, "SELECT ");
	for (size_t i = 0; i < pl->cols.nr; i++) {
		struct strbuf q = STRBUF_INIT;
		ctx->fam->ident(&q, pl->cols.v[i].name);
		if (i)
			strbuf_addstr(sql, ", ");
		if (pl->cols.v[i].src_expr) {
			/* the expression names the column with %1$s */
			const char *p = pl->cols.v[i].src_expr;
			for (; *p; p++) {
				if (starts_with(p, "%s")) {
					strbuf_addbuf(sql, &q);
					p++;
				} else {
					strbuf_addch(sql, *p);
				}
			}
		} else {
			strbuf_addbuf(sql, &q);
		}
		strbuf_release(&q);
	}
	strbuf_addf(sql, " FROM %s", pl->from.buf);
	if (has_text(&pl->window) || extra_where) {
		strbuf_addstr(sql, " WHERE ");
		if (has_text(&pl->window))
			strbuf_addbuf(sql, &pl->window);
		if (extra_where)
			strbuf_addf(sql, "%s%s", has_text(&pl->window) ? " AND " : "", extra_where);
	}
	if (limit > 0)
		strbuf_addf(sql, " LIMIT %lld", (long long)limit);
}

/* ---- the spool ---- */

static int spool_open(struct db_spool *sp, struct strbuf *err)
{
	struct sync_job *job = sp->ctx->job;
	pthread_mutex_lock(&sp->ctx->lock);
	sp->seq++;
	sp->path = xasprintf("%s/%s-%d.csv", job->spool_dir, sp->st->object, sp->seq);
	pthread_mutex_unlock(&sp->ctx->lock);
	sp->fp = fopen(sp->path, "w");
	if (!sp->fp) {
		strbuf_addf(err, "cannot write a spool file in %s: %s", job->spool_dir, strerror(errno));
		return -1;
	}
	setvbuf(sp->fp, NULL, _IOFBF, 1 << 20);
	sp->file_rows = 0;
	return 0;
}

/* The relation DuckDB reads for a spool file: types fixed, nothing sniffed;
 * an unquoted empty field is NULL, a quoted one the empty string. */
static char *spool_relation(const char *path, const struct db_cols *cols)
{
	struct strbuf sb = STRBUF_INIT, colspec = STRBUF_INIT;
	strbuf_addstr(&sb, "(SELECT ");
	for (size_t i = 0; i < cols->nr; i++) {
		const struct db_col *c = &cols->v[i];
		char cn[24];
		snprintf(cn, sizeof(cn), "\"c%zu\"", i);
		if (i) {
			strbuf_addstr(&sb, ", ");
			strbuf_addstr(&colspec, ", ");
		}
		if (c->misfit || !c->duck_expr) {
			strbuf_addstr(&sb, cn);
		} else {
			for (const char *p = c->duck_expr; *p; p++) {
				if (starts_with(p, "%s")) {
					strbuf_addstr(&sb, cn);
					p++;
				} else {
					strbuf_addch(&sb, *p);
				}
			}
		}
		strbuf_addstr(&sb, " AS ");
		strbuf_add_sql_ident(&sb, c->name);
		strbuf_addf(&colspec, "'c%zu': '%s'", i, c->misfit ? "VARCHAR" : c->duck_expr ? "VARCHAR" : c->duck);
	}
	strbuf_addstr(&sb, " FROM read_csv(");
	strbuf_add_sql_str(&sb, path);
	strbuf_addf(&sb, ", header=false, auto_detect=false, delim=',', quote='\"', escape='\"', new_line='\\n', "
		    "allow_quoted_nulls=false, columns={%s}))", colspec.buf);
	strbuf_release(&colspec);
	return strbuf_detach(&sb, NULL);
}

/* A spool file is complete: hand it to the engine as a batch. */
static int spool_finish(struct db_spool *sp, struct strbuf *err)
{
	struct db_ctx *ctx = sp->ctx;
	struct sync_job *job = ctx->job;
	if (!sp->fp)
		return 0;
	int bad = ferror(sp->fp);
	if (fclose(sp->fp) != 0 || bad) {
		sp->fp = NULL;
		strbuf_addf(err, "cannot write spool file %s: %s", sp->path, strerror(errno));
		return -1;
	}
	sp->fp = NULL;
	pthread_mutex_lock(&ctx->lock);
	struct sync_batch *b = sync_job_add_batch(job, sp->st->object);
	b->relation = spool_relation(sp->path, sp->cols);
	b->spool_path = sp->path;
	b->label = sp->seq > 1 ? xasprintf("%s (part %d)", sp->st->name, sp->seq) : xstrdup(sp->st->name);
	if (sp->st->mode == DBM_TRUNCATE && sp->seq == 1)
		b->replace_where = xstrdup("true");
	sp->path = NULL;
	sync_job_emit(job);
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

/* Files open lazily, at a row's first field: a rotation leaves none open. */
static int spool_ensure(struct db_spool *sp)
{
	struct strbuf e = STRBUF_INIT;
	if (!sp->fp && !sp->io_error && spool_open(sp, &e) < 0)
		sp->io_error = 1;
	strbuf_release(&e);
	return sp->fp ? 0 : -1;
}

static void field_sep(struct db_spool *sp)
{
	if (spool_ensure(sp) < 0)
		return;
	if (sp->nfield++)
		putc_unlocked(',', sp->fp);
}

void db_spool_field_null(struct db_spool *sp)
{
	field_sep(sp);
}

void db_spool_field_text(struct db_spool *sp, const char *s, size_t len)
{
	field_sep(sp);
	if (!sp->fp)
		return;
	putc_unlocked('"', sp->fp);
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		if (!q) {
			fwrite_unlocked(p, 1, (size_t)(end - p), sp->fp);
			break;
		}
		fwrite_unlocked(p, 1, (size_t)(q - p) + 1, sp->fp);
		putc_unlocked('"', sp->fp);
		p = q + 1;
	}
	putc_unlocked('"', sp->fp);
}

void db_spool_field_raw(struct db_spool *sp, const char *s, size_t len)
{
	field_sep(sp);
	if (sp->fp)
		fwrite_unlocked(s, 1, len, sp->fp);
}

void db_spool_field_hex(struct db_spool *sp, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	field_sep(sp);
	if (!sp->fp)
		return;
	putc_unlocked('"', sp->fp);
	for (size_t i = 0; i < len; i++) {
		putc_unlocked(hex[s[i] >> 4], sp->fp);
		putc_unlocked(hex[s[i] & 15], sp->fp);
	}
	putc_unlocked('"', sp->fp);
}

void db_spool_write_line(struct db_spool *sp, const char *s, size_t len)
{
	if (spool_ensure(sp) == 0)
		fwrite_unlocked(s, 1, len, sp->fp);
	sp->line_done = len && s[len - 1] == '\n';
}

void db_spool_note_zero_date(struct db_spool *sp)
{
	sp->zero_dates++;
}

int db_spool_row_end(struct db_spool *sp, struct strbuf *err)
{
	if (sp->ctx->job->cancelled || sp->ctx->failed) {
		strbuf_addstr(err, "cancelled");
		return -1;
	}
	if (spool_ensure(sp) < 0) {
		strbuf_addf(err, "cannot write a spool file in %s: %s", sp->ctx->job->spool_dir, strerror(errno));
		return -1;
	}
	if (!sp->line_done)
		putc_unlocked('\n', sp->fp);
	sp->line_done = 0;
	sp->nfield = 0;
	sp->rows++;
	if (++sp->file_rows >= SPOOL_ROWS)
		return spool_finish(sp, err);
	return 0;
}


/* ---- one stream ---- */

static void add_warning(struct db_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(struct db_ctx *ctx, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&ctx->lock);
	strvec_push(&ctx->job->warnings, sb.buf);
	pthread_mutex_unlock(&ctx->lock);
	strbuf_release(&sb);
}

static const char *prev_value(struct db_ctx *ctx, const struct db_stream *s)
{
	struct sync_job *job = ctx->job;
	if (job->opts->full_refresh || s->mode != DBM_INCREMENTAL)
		return NULL;
	json_t *st = json_object_get(job->prev_state, s->object);
	const char *uk = json_string_value(json_object_get(st, "update_key"));
	if (!uk || strcmp(uk, s->update_key))
		return NULL; /* a new update_key starts over */
	return json_string_value(json_object_get(st, "value"));
}

static int run_stream(struct db_ctx *ctx, void *conn, const struct db_stream *s, struct strbuf *err)
{
	struct sync_job *job = ctx->job;
	const struct db_family *f = ctx->fam;
	struct stream_plan pl;
	struct strvec warnings = STRVEC_INIT;
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT, upper = STRBUF_INIT;
	char *vals[3] = { NULL, NULL, NULL };
	int ret = -1;
	int64_t limit = job->opts->limit;
	const char *prev = prev_value(ctx, s);
	struct db_spool sp = { .ctx = ctx, .st = s };

	if (plan_stream(ctx, conn, s, prev, &pl, &warnings, err) < 0)
		goto out;
	sp.cols = &pl.cols;

	pthread_mutex_lock(&ctx->lock);
	struct sync_resource *res = sync_job_resource(job, s->object);
	/* under --full-refresh the table is new: nothing to merge with, and
	 * one read of a table holds each key once */
	res->disposition = s->mode == DBM_FULL_REFRESH ? WD_REPLACE
			   : s->mode == DBM_INCREMENTAL && s->primary_key.nr && !job->opts->full_refresh ? WD_MERGE
													 : WD_APPEND;
	res->swap_in = s->mode == DBM_FULL_REFRESH;
	for (size_t i = 0; i < pl.declared_pk.nr; i++)
		strvec_push(&res->primary_key, pl.declared_pk.v[i]);
	for (size_t i = 0; i < warnings.nr; i++)
		strvec_push(&job->warnings, warnings.v[i]);
	pthread_mutex_unlock(&ctx->lock);

	if (s->mode == DBM_INCREMENTAL) {
		/* the newest key in the window, and keys that are NULL: two
		 * queries an index on the key answers */
		strbuf_addstr(&sql, "SELECT ");
		f->max_text(&sql, pl.uk.buf);
		strbuf_addf(&sql, " FROM %s", pl.from.buf);
		if (has_text(&pl.window))
			strbuf_addf(&sql, " WHERE %s", pl.window.buf);
		if (f->query_row(conn, sql.buf, vals, 1, &e) < 0) {
			stream_err(err, ctx, s);
			strbuf_addbuf(err, &e);
			goto out;
		}
		strbuf_reset(&sql);
		strbuf_addf(&sql, "SELECT count(*) FROM %s WHERE %s IS NULL", pl.from.buf, pl.uk.buf);
		if (f->query_row(conn, sql.buf, vals + 1, 1, &e) < 0) {
			stream_err(err, ctx, s);
			strbuf_addbuf(err, &e);
			goto out;
		}
		int64_t nulls = vals[1] ? strtoll(vals[1], NULL, 10) : 0;
		if (nulls > 0) {
			char n[32];
			add_warning(ctx, "%s: %s row%s %s NULL %s and %s never picked up incrementally", s->name,
				    fmt_count(n, nulls), nulls == 1 ? "" : "s", nulls == 1 ? "has" : "have", s->update_key,
				    nulls == 1 ? "is" : "are");
		}
		if (vals[0]) {
			struct strbuf lit = STRBUF_INIT;
			f->literal(conn, &lit, vals[0]);
			strbuf_addf(&upper, "%s <= %s", pl.uk.buf, lit.buf);
			strbuf_release(&lit);
		} else {
			strbuf_addstr(&upper, "1 = 0"); /* nothing new: an empty batch keeps the table's shape */
		}
	}
	strbuf_reset(&sql);
	select_sql(ctx, &pl, upper.len ? upper.buf : NULL, limit, &sql);
	strbuf_reset(&e);
	if (f->copy(conn, sql.buf, &pl.cols, &sp, &e) < 0) {
		if (!job->cancelled) {
			stream_err(err, ctx, s);
			strbuf_addbuf(err, &e);
		}
		goto out;
	}
	/* no rows at all: an empty file still gives the table its columns */
	if ((!sp.seq && spool_open(&sp, err) < 0) || spool_finish(&sp, err) < 0)
		goto out;
	if (sp.zero_dates) {
		char n[32];
		add_warning(ctx, "%s: %s zero date%s ('0000-00-00') loaded as NULL", s->name, fmt_count(n, sp.zero_dates),
			    sp.zero_dates == 1 ? "" : "s");
	}
	for (size_t i = 0; i < pl.cols.nr; i++)
		if (pl.cols.v[i].misfit)
			add_warning(ctx, "%s.%s: values that are not %s; the column is loaded as VARCHAR", s->name,
				    pl.cols.v[i].name, pl.cols.v[i].duck);
	if (s->mode == DBM_INCREMENTAL && vals[0] && limit <= 0) {
		pthread_mutex_lock(&ctx->lock);
		json_object_set_new(job->new_state, s->object,
				    json_pack("{s:s, s:s, s:s}", "stream", s->name, "update_key", s->update_key, "value",
					      vals[0]));
		pthread_mutex_unlock(&ctx->lock);
	}
	ret = 0;
out:
	if (sp.fp) {
		fclose(sp.fp);
		unlink(sp.path);
	}
	free(sp.path);
	for (int i = 0; i < 3; i++)
		free(vals[i]);
	plan_release(&pl);
	strvec_clear(&warnings);
	strbuf_release(&sql);
	strbuf_release(&e);
	strbuf_release(&upper);
	return ret;
}

/* ---- the connector ---- */

static int db_open(struct sync_job *job, struct strbuf *err)
{
	struct db_ctx *ctx = ctx_open(job->source, job->project, &job->warnings, err);
	if (!ctx)
		return -1;
	ctx->job = job;
	job->conn = ctx;
	/* Measured (docs/benchmarks.md): with DuckDB's default of one thread
	 * a core, each loading thread builds row groups of its own, and the
	 * sync of 2M rows peaked at 365 MB; with one it peaked at 195 MB and
	 * was no slower, since the spool files are read while the database
	 * server and the spooling thread keep the other cores busy. Small
	 * incremental merges run on one thread too: their cost is one scan
	 * of the table's key column, which a second thread shortened by less
	 * than the CPU it spent handing work over (a merge of 10,000 rows
	 * into 5M: 0.21-0.28 s of CPU on one thread, 0.38-0.62 s on two). */
	job->load_threads = 1;
	/* DuckDB keeps the blocks a load has written in its buffer pool until
	 * the memory limit (by default 80% of RAM) makes it evict them, so
	 * the peak grew with the table inside the sync's one transaction
	 * (333 MB at 5M rows in a replay of the load); under a limit of
	 * 150 MB it peaked at 273 MB, under 100 MB at 221 MB. Operators that
	 * need more (a large merge batch) spill to DuckDB's temp folder. */
	job->load_memory_limit = "128MB";
	return 0;
}

static void db_close(struct sync_job *job)
{
	ctx_free(job->conn);
	job->conn = NULL;
}

static int make_spool_dir(struct sync_job *job, struct strbuf *err)
{
	if (job->spool_dir)
		return 0;
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/dango-db-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		strbuf_addf(err, "cannot create a spool folder in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(tmpl);
		return -1;
	}
	job->spool_dir = tmpl;
	return 0;
}

static int connect_db(struct db_ctx *ctx, void **conn, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int ret = ctx->fam->connect(&ctx->conf, conn, &e);
	if (ret < 0) {
		strbuf_addf(err, "source '%s': cannot connect to ", ctx->conf.source->name);
		ctx->fam->where(&ctx->conf, err);
		strbuf_addf(err, ": %s", e.buf);
		strbuf_rtrim(err);
	}
	strbuf_release(&e);
	return ret;
}

struct stream_task {
	struct db_ctx *ctx;
	const struct db_stream *stream;
	void *conn;            /* a connection of its own, or NULL: connect */
	int rc;
	struct strbuf err;
};

static void stream_task_run(void *data, size_t worker)
{
	struct stream_task *t = data;
	void *conn = t->conn;
	if (t->ctx->failed || t->ctx->job->cancelled) {
		t->rc = 0;
		return;
	}
	if (!conn && connect_db(t->ctx, &conn, &t->err) < 0) {
		t->rc = -1;
	} else {
		t->rc = run_stream(t->ctx, conn, t->stream, &t->err);
		if (!t->conn)
			t->ctx->fam->disconnect(conn);
	}
	if (t->rc < 0) {
		/* the first stream to fail is the one to tell: the others then
		 * stop with "cancelled", maybe before it is reported */
		pthread_mutex_lock(&t->ctx->lock);
		if (!t->ctx->failed)
			strbuf_addbuf(&t->ctx->first_err, &t->err);
		t->ctx->failed = 1;
		pthread_mutex_unlock(&t->ctx->lock);
	}
}

static int db_extract(struct sync_job *job, struct strbuf *err)
{
	struct db_ctx *ctx = job->conn;
	void *conn;
	int ret = -1;
	if (make_spool_dir(job, err) < 0)
		return -1;
	if (connect_db(ctx, &conn, err) < 0)
		return -1;
	job->limit_handled = 1;
	if (resolve_streams(ctx, conn, err) < 0)
		goto out;
	size_t n = 0;
	for (size_t i = 0; i < ctx->nr_streams; i++)
		n += sync_job_selected(job, ctx->streams[i].object);
	if (!n) {
		strbuf_addf(err, "source '%s': no stream to sync%s", job->source->name,
			    job->opts->select.nr ? " (none matches --select)" : "");
		goto out;
	}
	size_t workers = job->opts->workers > 1 ? (size_t)job->opts->workers : 1;
	if (workers > n)
		workers = n;
	struct stream_task *tasks = xcalloc(ctx->nr_streams, sizeof(*tasks));
	if (workers == 1) {
		/* one connection for all streams */
		for (size_t i = 0; i < ctx->nr_streams; i++) {
			tasks[i] = (struct stream_task){ ctx, &ctx->streams[i], conn, 0, STRBUF_INIT };
			if (sync_job_selected(job, ctx->streams[i].object))
				stream_task_run(&tasks[i], 0);
		}
	} else {
		struct pool pool;
		pool_init(&pool, workers, stream_task_run);
		for (size_t i = 0; i < ctx->nr_streams; i++) {
			tasks[i] = (struct stream_task){ ctx, &ctx->streams[i], NULL, 0, STRBUF_INIT };
			if (sync_job_selected(job, ctx->streams[i].object))
				pool_submit(&pool, &tasks[i]);
		}
		while (pool_wait(&pool))
			;
		pool_release(&pool);
	}
	ret = 0;
	for (size_t i = 0; i < ctx->nr_streams; i++) {
		if (tasks[i].rc < 0 && ret == 0) {
			strbuf_addbuf(err, ctx->first_err.len ? &ctx->first_err : &tasks[i].err);
			ret = -1;
		}
		strbuf_release(&tasks[i].err);
	}
	if (ret < 0 && !err->len)
		strbuf_addf(err, "source '%s': the sync was cancelled", job->source->name);
	free(tasks);
out:
	ctx->fam->disconnect(conn);
	return ret;
}

static const char *mode_name(const struct db_stream *s)
{
	return s->mode == DBM_FULL_REFRESH ? "full-refresh" : s->mode == DBM_TRUNCATE ? "truncate" : "incremental";
}

/* The number of rows a stream would read now (its window applied; with
 * skip_null_keys, not the rows an incremental read never picks up). */
static int count_rows(struct db_ctx *ctx, void *conn, const struct stream_plan *pl, int skip_null_keys, int64_t *n,
		      struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	char *v[1] = { NULL };
	strbuf_addf(&sql, "SELECT count(*) FROM %s", pl->from.buf);
	if (has_text(&pl->window))
		strbuf_addf(&sql, " WHERE %s", pl->window.buf);
	if (skip_null_keys && pl->uk.len)
		strbuf_addf(&sql, " %s %s IS NOT NULL", has_text(&pl->window) ? "AND" : "WHERE", pl->uk.buf);
	int ret = ctx->fam->query_row(conn, sql.buf, v, 1, err);
	*n = ret == 0 && v[0] ? strtoll(v[0], NULL, 10) : 0;
	free(v[0]);
	strbuf_release(&sql);
	return ret;
}

static int db_describe(struct sync_job *job, struct strbuf *out, struct strbuf *err)
{
	struct db_ctx *ctx = job->conn;
	void *conn;
	int64_t total = 0;
	int ret = -1;
	if (connect_db(ctx, &conn, err) < 0)
		return -1;
	if (resolve_streams(ctx, conn, err) < 0)
		goto out;
	for (size_t i = 0; i < ctx->nr_streams; i++) {
		const struct db_stream *s = &ctx->streams[i];
		struct stream_plan pl;
		struct strvec w = STRVEC_INIT;
		int64_t n = 0;
		char num[32];
		if (!sync_job_selected(job, s->object))
			continue;
		const char *prev = prev_value(ctx, s);
		int r = plan_stream(ctx, conn, s, prev, &pl, &w, err);
		if (r == 0)
			r = count_rows(ctx, conn, &pl, 1, &n, err);
		strvec_clear(&w);
		plan_release(&pl);
		if (r < 0)
			goto out;
		total += n;
		strbuf_addf(out, "%s -> %s: %s", s->name, s->object, mode_name(s));
		if (s->mode == DBM_INCREMENTAL)
			strbuf_addf(out, " on %s, stored value %s", s->update_key, prev ? prev : "none (first sync: every row)");
		strbuf_addf(out, ", ~%s rows\n", fmt_count(num, n));
	}
	strbuf_addf(out, "=%lld\n", (long long)total);
	ret = 0;
out:
	ctx->fam->disconnect(conn);
	return ret;
}

const struct connector_ops db_connector = {
	.type = "database",
	.caps = CONNECTOR_DATE_RANGE,
	.open = db_open,
	.extract = db_extract,
	.describe = db_describe,
	.close = db_close,
};

/* ---- dango source test ---- */

int db_source_check(const struct source *s, const struct project *p, struct strbuf *report)
{
	struct strbuf err = STRBUF_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct sync_options opts = { 0 };
	struct sync_job job = { 0 };
	void *conn = NULL;
	int ret = -1;
	struct db_ctx *ctx = ctx_open(s, p, &warnings, &err);
	if (!ctx) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	/* a job of no sync, for the stream planner's options and warnings */
	job.source = s;
	job.project = p;
	job.opts = &opts;
	job.prev_state = json_object();
	ctx->job = &job;
	if (connect_db(ctx, &conn, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	strbuf_addstr(report, "✓ connected to ");
	ctx->fam->where(&ctx->conf, report);
	strbuf_addch(report, '\n');
	if (resolve_streams(ctx, conn, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < ctx->nr_streams; i++) {
		const struct db_stream *st = &ctx->streams[i];
		struct stream_plan pl;
		int64_t n = 0;
		char num[32];
		strbuf_reset(&err);
		if (plan_stream(ctx, conn, st, NULL, &pl, &warnings, &err) < 0 || count_rows(ctx, conn, &pl, 0, &n, &err) < 0) {
			strbuf_addf(report, "✗ %s\n", err.buf);
			ret = -1;
		} else {
			strbuf_addf(report, "✓ %s: %s row%s, %s", st->name, fmt_count(num, n), n == 1 ? "" : "s",
				    mode_name(st));
			if (st->update_key)
				strbuf_addf(report, " on %s", st->update_key);
			if (pl.declared_pk.nr) {
				strbuf_addstr(report, ", primary key ");
				for (size_t k = 0; k < pl.declared_pk.nr; k++)
					strbuf_addf(report, "%s%s", k ? ", " : "", pl.declared_pk.v[k]);
			}
			strbuf_addch(report, '\n');
		}
		plan_release(&pl);
	}
	for (size_t i = 0; i < job.warnings.nr; i++)
		strbuf_addf(report, "⚠ %s\n", job.warnings.v[i]);
	for (size_t i = 0; i < warnings.nr; i++)
		strbuf_addf(report, "⚠ %s\n", warnings.v[i]);
out:
	if (conn)
		ctx->fam->disconnect(conn);
	ctx_free(ctx);
	json_decref(job.prev_state);
	strvec_clear(&job.warnings);
	strvec_clear(&warnings);
	strbuf_release(&err);
	return ret;
}

/* ---- the catalog, for the wizard ---- */

static int is_temporal(const struct db_col *c)
{
	/* SQLite's columns are typed by their declaration (DATETIME...) */
	return c->temporal || starts_with(c->duck, "TIMESTAMP") || !strcmp(c->duck, "DATE");
}

/* A timestamp column named like a last-change time: updated_at first, then
 * any other updated/modified/changed name. */
static const char *propose_update_key(const struct db_cols *cols)
{
	static const char *const exact[] = { "updated_at", "modified_at", "last_modified", "updated", "modified",
					     "last_updated", "updated_on", "modified_on", "changed_at", NULL };
	for (size_t k = 0; exact[k]; k++)
		for (size_t i = 0; i < cols->nr; i++)
			if (is_temporal(&cols->v[i]) && !strcasecmp(cols->v[i].name, exact[k]))
				return cols->v[i].name;
	for (size_t i = 0; i < cols->nr; i++)
		if (is_temporal(&cols->v[i]) && (strcasestr(cols->v[i].name, "updat") || strcasestr(cols->v[i].name, "modif") ||
					    strcasestr(cols->v[i].name, "chang")))
			return cols->v[i].name;
	return NULL;
}

static int catalog_table(struct db_ctx *ctx, void *conn, const char *schema, const char *table, struct db_catalog *cat,
			 struct strbuf *err)
{
	struct db_stream st = { 0 };
	struct db_cols cols = { 0 };
	struct strvec w = STRVEC_INIT;
	struct strbuf from = STRBUF_INIT, e = STRBUF_INIT;
	st.schema = (char *)schema;
	st.table = (char *)table;
	stream_from(ctx, &st, &from);
	int ret = ctx->fam->columns(conn, from.buf, &cols, &w, &e);
	if (ret < 0) {
		strbuf_addf(err, "table '%s%s%s': %s", schema ? schema : "", schema ? "." : "", table, e.buf);
		goto out;
	}
	ALLOC_GROW(cat->v, cat->nr + 1, cat->alloc);
	struct db_table_info *t = &cat->v[cat->nr++];
	memset(t, 0, sizeof(*t));
	t->name = schema ? xasprintf("%s.%s", schema, table) : xstrdup(table);
	for (size_t i = 0; i < cols.nr; i++)
		strvec_push(&t->columns, cols.v[i].name);
	if (ctx->fam->primary_key)
		ctx->fam->primary_key(conn, &st, &t->primary_key, &e);
	const char *uk = propose_update_key(&cols);
	t->update_key = uk ? xstrdup(uk) : NULL;
out:
	db_cols_release(&cols);
	strvec_clear(&w);
	strbuf_release(&from);
	strbuf_release(&e);
	return ret;
}

int db_source_catalog(const struct source *s, const struct project *p, struct db_catalog *cat, struct strbuf *err)
{
	struct strvec warnings = STRVEC_INIT, schemas = STRVEC_INIT;
	struct sync_options opts = { 0 };
	struct sync_job job = { 0 };
	struct strbuf where = STRBUF_INIT;
	void *conn = NULL;
	int ret = -1;
	memset(cat, 0, sizeof(*cat));
	struct db_ctx *ctx = ctx_open_ext(s, p, &warnings, 0, err);
	if (!ctx)
		goto out;
	job.opts = &opts;
	ctx->job = &job;
	if (connect_db(ctx, &conn, err) < 0)
		goto out;
	ctx->fam->where(&ctx->conf, &where);
	cat->where = strbuf_detach(&where, NULL);
	if (ctx->fam->schemas) {
		if (ctx->fam->schemas(conn, &schemas, err) < 0)
			goto out;
	} else if (ctx->conf.database && ctx->fam->default_schema == NULL && strcmp(ctx->fam->type, "sqlite")) {
		strvec_push(&schemas, ctx->conf.database); /* mysql: the database is the schema */
	}
	size_t n = schemas.nr ? schemas.nr : 1;
	for (size_t i = 0; i < n; i++) {
		struct strvec tables = STRVEC_INIT;
		const char *schema = schemas.nr ? schemas.v[i] : NULL;
		if (ctx->fam->tables(conn, schema, &tables, err) < 0) {
			strvec_clear(&tables);
			goto out;
		}
		for (size_t t = 0; t < tables.nr; t++)
			if (catalog_table(ctx, conn, schema, tables.v[t], cat, err) < 0) {
				strvec_clear(&tables);
				goto out;
			}
		strvec_clear(&tables);
	}
	ret = 0;
out:
	if (conn)
		ctx->fam->disconnect(conn);
	ctx_free(ctx);
	strvec_clear(&warnings);
	strvec_clear(&schemas);
	strvec_clear(&job.warnings);
	strbuf_release(&where);
	return ret;
}

void db_catalog_release(struct db_catalog *cat)
{
	for (size_t i = 0; i < cat->nr; i++) {
		free(cat->v[i].name);
		strvec_clear(&cat->v[i].columns);
		strvec_clear(&cat->v[i].primary_key);
		free(cat->v[i].update_key);
	}
	free(cat->v);
	free(cat->where);
	memset(cat, 0, sizeof(*cat));
}
