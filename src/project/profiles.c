#include "project/profiles.h"
#include "project/project.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/util.h"

#include <libpq-fe.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DANGO_MARK "# dbt profile for the warehouse"

void profiles_default(struct strbuf *sb)
{
	strbuf_addstr(sb, DANGO_MARK ". Paths are relative to the project folder,\n"
			  "# where both 'dango run' and 'dbt ... --profiles-dir .dango' are run.\n"
			  "dango:\n"
			  "  target: dev\n"
			  "  outputs:\n"
			  "    dev:\n"
			  "      type: duckdb\n"
			  "      path: data/warehouse.duckdb\n"
			  "      schema: main\n"
			  "      threads: 4\n");
}

/* a YAML scalar in double quotes */
static void add_quoted(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static void add_key(struct strbuf *sb, const char *key, const char *val)
{
	if (!val || !*val)
		return;
	strbuf_addf(sb, "      %s: ", key);
	add_quoted(sb, val);
	strbuf_addch(sb, '\n');
}

/* host, port, user, dbname, sslmode of a postgresql:// URL (never its password) */
static const char *url_part(PQconninfoOption *opts, const char *key)
{
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, key) && o->val && *o->val)
			return o->val;
	return NULL;
}

static void render_postgres(const struct project *p, struct strbuf *sb)
{
	const char *url = p->pg.url_env ? env_lookup(&p->env, p->pg.url_env, NULL) : NULL;
	PQconninfoOption *opts = url ? PQconninfoParse(url, NULL) : NULL;
	char port[16] = "";
	const char *url_port = url_part(opts, "port");
	if (p->pg.port)
		snprintf(port, sizeof(port), "%d", p->pg.port);
	strbuf_addstr(sb, DANGO_MARK ", written by Dango from .dango/project.yml's\n"
			  "# warehouse: (change it there: this file follows it). The password comes from\n"
			  "# the environment, as for 'dbt ... --profiles-dir .dango' with dbt-postgres.\n"
			  "dango:\n"
			  "  target: dev\n"
			  "  outputs:\n"
			  "    dev:\n"
			  "      type: postgres\n");
	add_key(sb, "host", p->pg.host ? p->pg.host : url_part(opts, "host"));
	add_key(sb, "port", *port ? port : url_port ? url_port : "5432");
	add_key(sb, "user", p->pg.user ? p->pg.user : url_part(opts, "user"));
	if (p->pg.password_env) {
		strbuf_addf(sb, "      password: \"{{ env_var('%s') }}\"\n", p->pg.password_env);
	} else if (url_part(opts, "password")) {
		/* dbt-postgres takes no URL: the password is the part between the
		 * user's ':' and the last '@' (percent-escapes are not decoded) */
		strbuf_addf(sb, "      password: \"{{ env_var('%s').rsplit('@', 1)[0].split(':', 2)[2] }}\"\n",
			    p->pg.url_env);
	} else {
		strbuf_addstr(sb, "      password: \"\"\n");
	}
	add_key(sb, "dbname", p->pg.database ? p->pg.database : url_part(opts, "dbname"));
	strbuf_addstr(sb, "      schema: public\n");
	add_key(sb, "sslmode", p->pg.sslmode ? p->pg.sslmode : url_part(opts, "sslmode"));
	strbuf_addf(sb, "      threads: %d\n", p->threads > 0 ? p->threads : 4);
	PQconninfoFree(opts);
}

void profiles_render(const struct project *p, struct strbuf *sb)
{
	if (p->warehouse_type == WAREHOUSE_POSTGRES)
		render_postgres(p, sb);
	else
		profiles_default(sb);
}

int profiles_sync(const struct project *p, struct strbuf *note, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, now = STRBUF_INIT, want = STRBUF_INIT;
	int ret = 0;
	fs_path_join(&path, p->dango_dir, "profiles.yml");
	int have = strbuf_read_file(&now, path.buf) >= 0;
	/* written by hand: the user's to keep in line ('dango validate' says if it is not) */
	if (have && !starts_with(now.buf, DANGO_MARK))
		goto out;
	profiles_render(p, &want);
	if (have && !strcmp(now.buf, want.buf))
		goto out;
	if (fs_write_atomic(path.buf, want.buf, want.len) < 0) {
		strbuf_addf(err, "cannot write .dango/profiles.yml: %s", strerror(errno));
		ret = -1;
		goto out;
	}
	strbuf_addf(note, "Wrote .dango/profiles.yml: a %s target, as project.yml's warehouse",
		    p->warehouse_type == WAREHOUSE_POSTGRES ? "postgres" : "duckdb");
	ret = 1;
out:
	strbuf_release(&path);
	strbuf_release(&now);
	strbuf_release(&want);
	return ret;
}

static void export_var(const struct project *p, const char *name)
{
	const char *v = name ? env_lookup(&p->env, name, NULL) : NULL;
	if (v && !getenv(name))
		setenv(name, v, 0);
}

void profiles_export_env(const struct project *p)
{
	if (p->warehouse_type != WAREHOUSE_POSTGRES)
		return;
	export_var(p, p->pg.url_env);
	export_var(p, p->pg.password_env);
}
