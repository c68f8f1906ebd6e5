#include "project/project.h"
#include "project/schema.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cfg_key paths_keys[] = {
	{ "warehouse", CFG_STR, 0, NULL, NULL, "DuckDB file (default data/warehouse.duckdb)" },
	{ "dbt", CFG_STR, 0, NULL, NULL, "dbt project folder (default dbt)" },
	{ "data", CFG_STR, 0, NULL, NULL, "data folder (default data)" },
	{ NULL }
};
static const struct cfg_key web_keys[] = {
	{ "port", CFG_INT, 0, NULL, NULL, NULL },
	{ "host", CFG_STR, 0, NULL, NULL, NULL },
	{ NULL }
};
static const struct cfg_key defaults_keys[] = {
	{ "workers", CFG_INT, 0, NULL, NULL, "sources read at once by dango sync" },
	{ "threads", CFG_INT, 0, NULL, NULL, "models built at once by dango run" },
	{ "lock_wait", CFG_INT, 0, NULL, NULL, "seconds a writer waits for the lock" },
	{ NULL }
};
/* read by the scheduler (src/schedule/notify.c) */
static const char *const webhook_formats[] = { "auto", "slack", "json", NULL };
static const struct cfg_key notifications_keys[] = {
	{ "webhook_url_env", CFG_STR, CFG_SECRET, NULL, NULL, "variable holding the webhook URL" },
	{ "webhook_format", CFG_STR, 0, NULL, webhook_formats, NULL },
	{ "stale_after_hours", CFG_NUM, 0, NULL, NULL, NULL },
	{ NULL }
};
static const struct cfg_key governance_keys[] = {
	{ "webhook_url_env", CFG_STR, 0, NULL, NULL, "variable holding the URL a schema drift report is POSTed to" },
	{ NULL }
};
static const char *const warehouse_types[] = { "duckdb", "postgres", NULL };
static const char *const sslmodes[] = { "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL };
static const struct cfg_key warehouse_keys[] = {
	{ "type", CFG_STR, 0, NULL, warehouse_types, "duckdb (the default) or postgres" },
	{ "path", CFG_STR, 0, NULL, NULL, "duckdb: the file (default data/warehouse.duckdb)" },
	{ "url_env", CFG_STR, CFG_SECRET, NULL, NULL, "postgres: variable holding a postgresql:// URL" },
	{ "host", CFG_STR, 0, NULL, NULL, NULL },
	{ "port", CFG_INT, 0, NULL, NULL, NULL },
	{ "database", CFG_STR, 0, NULL, NULL, NULL },
	{ "user", CFG_STR, 0, NULL, NULL, NULL },
	{ "password_env", CFG_STR, CFG_SECRET, NULL, NULL, "postgres: variable holding the password" },
	{ "sslmode", CFG_STR, 0, NULL, sslmodes, NULL },
	{ "statement_timeout", CFG_INT, 0, NULL, NULL, "postgres: seconds a read-only query may run (default 300)" },
	{ NULL }
};
static const struct cfg_key project_keys[] = {
	{ "name", CFG_STR, CFG_REQUIRED, NULL, NULL, NULL },
	{ "description", CFG_STR, 0, NULL, NULL, NULL },
	{ "created", CFG_STR, 0, NULL, NULL, NULL },
	{ "version", CFG_STR, 0, NULL, NULL, NULL },
	{ "paths", CFG_MAP, 0, paths_keys, NULL, NULL },
	{ "warehouse", CFG_MAP, 0, warehouse_keys, NULL, "where the data lives: duckdb (default) or postgres" },
	{ "web", CFG_MAP, 0, web_keys, NULL, NULL },
	{ "defaults", CFG_MAP, 0, defaults_keys, NULL, NULL },
	{ "auto_generate", CFG_BOOL, 0, NULL, NULL, NULL },
	{ "notifications", CFG_MAP, 0, notifications_keys, NULL, NULL },
	{ "governance", CFG_MAP, 0, governance_keys, NULL, NULL },
	{ NULL }
};

int project_find(const char *dir, struct strbuf *root, struct strbuf *err)
{
	struct strbuf probe = STRBUF_INIT;
	strbuf_reset(root);
	fs_absolute(root, dir ? dir : ".");
	if (dir) {
		fs_path_join(&probe, root->buf, ".dango");
		int ok = fs_is_dir(probe.buf);
		strbuf_release(&probe);
		if (!ok) {
			strbuf_addf(err, "'%s' is not a Dango project (no .dango/ folder); run 'dango init' there first",
				    dir);
			return -1;
		}
		return 0;
	}
	for (;;) {
		strbuf_reset(&probe);
		fs_path_join(&probe, root->buf, ".dango");
		if (fs_is_dir(probe.buf)) {
			strbuf_release(&probe);
			return 0;
		}
		char *slash = strrchr(root->buf, '/');
		if (!slash || root->len == 1)
			break;
		strbuf_setlen(root, slash == root->buf ? 1 : (size_t)(slash - root->buf));
	}
	strbuf_release(&probe);
	strbuf_addstr(err, "not in a Dango project (no .dango/ folder here or in any parent); "
			   "run 'dango init' to create one, or pass --project-dir DIR");
	return -1;
}

static char *resolve(const char *root, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	if (rel[0] == '/')
		strbuf_addstr(&sb, rel);
	else
		fs_path_join(&sb, root, rel);
	return strbuf_detach(&sb, NULL);
}

static int get_int(const struct ynode *map, const char *key, int dflt)
{
	int64_t v;
	return ynode_int(ymap_get(map, key), &v) == 0 ? (int)v : dflt;
}

static const char *get_str(const struct ynode *map, const char *key, const char *dflt)
{
	const struct ynode *n = ymap_get(map, key);
	return n && n->kind == Y_SCALAR && !ynode_is_null(n) ? n->str : dflt;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* warehouse: {type, path | url_env, host, ...}; paths.warehouse stays the
 * DuckDB file's older spelling, and the two may not disagree. */
static int load_warehouse(struct project *p, const struct ydoc *doc, const struct ynode *r, struct strbuf *err)
{
	const struct ynode *w = ymap_get(r, "warehouse");
	const char *legacy = get_str(ymap_get(r, "paths"), "warehouse", NULL);
	const char *path = get_str(w, "path", NULL);
	const char *type = get_str(w, "type", "duckdb");
	if (legacy && path && strcmp(legacy, path)) {
		ynode_where(err, doc, ymap_get(w, "path"));
		strbuf_addf(err, "warehouse.path '%s' and paths.warehouse '%s' disagree; keep one", path,
			    legacy);
		return -1;
	}
	p->warehouse_path = resolve(p->root, path ? path : legacy ? legacy : "data/warehouse.duckdb");
	if (strcmp(type, "postgres"))
		return 0;
	p->warehouse_type = WAREHOUSE_POSTGRES;
	if (path) {
		ynode_where(err, doc, ymap_get(w, "path"));
		strbuf_addstr(err, "warehouse.path is for a duckdb warehouse; a postgres one takes "
				   "url_env or host, port, database, user, password_env");
		return -1;
	}
	p->pg.url_env = dup_or_null(get_str(w, "url_env", NULL));
	p->pg.host = dup_or_null(get_str(w, "host", NULL));
	p->pg.database = dup_or_null(get_str(w, "database", NULL));
	p->pg.user = dup_or_null(get_str(w, "user", NULL));
	p->pg.sslmode = dup_or_null(get_str(w, "sslmode", NULL));
	p->pg.password_env = dup_or_null(get_str(w, "password_env", NULL));
	p->pg.port = get_int(w, "port", 0);
	p->pg.statement_timeout = get_int(w, "statement_timeout", 300);
	if (!p->pg.url_env && !p->pg.database) {
		ynode_where(err, doc, w);
		strbuf_addstr(err, "a postgres warehouse needs url_env (a variable holding "
				   "postgresql://...) or database (with host, port, user, password_env)");
		return -1;
	}
	return 0;
}

int project_load(struct project *p, const char *root, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct ydoc doc = { 0 };
	int ret = -1;

	memset(p, 0, sizeof(*p));
	p->root = xstrdup(root);
	p->dango_dir = resolve(root, ".dango");
	p->state_dir = resolve(root, ".dango/state");
	p->sources_path = resolve(root, ".dango/sources.yml");
	fs_path_join(&path, root, ".dango/project.yml");
	if (strbuf_read_file(&text, path.buf) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, ".dango/project.yml: cannot read: %s", strerror(errno));
			goto out;
		}
		/* a project made by hand may lack it: defaults apply */
		strbuf_reset(&text);
	}
	if (ydoc_parse(&doc, ".dango/project.yml", text.buf, text.len, err) < 0)
		goto out;
	const struct ynode *r = doc.root;
	if (r && r->kind != Y_MAP) {
		ynode_where(err, &doc, r);
		strbuf_addstr(err, "project.yml must be a mapping of keys");
		goto out;
	}
	if (r && schema_check(&doc, r, project_keys, "project.yml", err)) {
		strbuf_rtrim(err);
		goto out;
	}
	const struct ynode *paths = ymap_get(r, "paths"), *web = ymap_get(r, "web"),
			  *defaults = ymap_get(r, "defaults");
	if (load_warehouse(p, &doc, r, err) < 0)
		goto out;
	const char *base = strrchr(root, '/');
	p->name = xstrdup(get_str(r, "name", base && base[1] ? base + 1 : "dango"));
	p->dbt_dir = resolve(root, get_str(paths, "dbt", "dbt"));
	p->data_dir = resolve(root, get_str(paths, "data", "data"));
	p->web_port = get_int(web, "port", 8800);
	p->workers = get_int(defaults, "workers", 4);
	p->threads = get_int(defaults, "threads", 4);
	p->lock_wait = get_int(defaults, "lock_wait", 300);
	int ag = 1;
	ynode_bool(ymap_get(r, "auto_generate"), &ag);
	p->auto_generate = ag;
	const char *hook = get_str(ymap_get(r, "governance"), "webhook_url_env", NULL);
	p->governance_webhook_env = hook ? xstrdup(hook) : NULL;
	if (env_load(&p->env, root, err) < 0)
		goto out;
	ret = 0;
out:
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	if (ret < 0)
		project_release(p);
	return ret;
}

void project_release(struct project *p)
{
	free(p->root);
	free(p->dango_dir);
	free(p->state_dir);
	free(p->sources_path);
	free(p->warehouse_path);
	free(p->pg.url_env);
	free(p->pg.host);
	free(p->pg.database);
	free(p->pg.user);
	free(p->pg.sslmode);
	free(p->pg.password_env);
	free(p->dbt_dir);
	free(p->data_dir);
	free(p->name);
	free(p->governance_webhook_env);
	env_release(&p->env);
	memset(p, 0, sizeof(*p));
}

void project_relpath(struct strbuf *sb, const struct project *p, const char *abs_path)
{
	size_t n = strlen(p->root);
	if (!strncmp(abs_path, p->root, n) && abs_path[n] == '/')
		strbuf_addstr(sb, abs_path + n + 1);
	else
		strbuf_addstr(sb, abs_path);
}

void project_default_yml(struct strbuf *sb, const char *name)
{
	strbuf_addstr(sb, "# Dango project settings. See 'dango help' for the commands.\nname: ");
	yaml_add_scalar(sb, name);
	strbuf_addstr(sb,
		      "\n"
		      "paths:\n"
		      "  warehouse: data/warehouse.duckdb   # the DuckDB file every command reads and writes\n"
		      "  dbt: dbt\n"
		      "web:\n"
		      "  port: 8800\n"
		      "defaults:\n"
		      "  workers: 4        # sources read at once by 'dango sync'\n"
		      "  threads: 4        # models built at once by 'dango run'\n"
		      "  lock_wait: 300    # seconds a writer waits for another to finish\n"
		      "auto_generate: true # 'dango sync' writes staging models for new raw tables\n");
}
