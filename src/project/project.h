/* A Dango project: the folder holding .dango/, its project.yml, and the
 * paths and defaults every command needs. */
#ifndef DANGO_PROJECT_H
#define DANGO_PROJECT_H
#include "core/env.h"
struct strbuf;

enum warehouse_type { WAREHOUSE_DUCKDB, WAREHOUSE_POSTGRES };

/* project.yml's warehouse: {type: postgres, ...}: where the server is.
 * password_env and url_env name variables of the project's environment;
 * their values are read only when connecting (warehouse/pg_warehouse.c). */
struct warehouse_pg_conf {
	char *url_env;       /* a variable holding postgresql://... */
	char *host, *database, *user, *sslmode;
	char *password_env;
	int port;            /* 0: libpq's default */
	int statement_timeout; /* seconds a read-only query may run (0: no limit) */
};

struct project {
	char *root;            /* absolute path of the project folder */
	char *dango_dir;       /* root/.dango */
	char *state_dir;       /* root/.dango/state */
	char *sources_path;    /* root/.dango/sources.yml */
	enum warehouse_type warehouse_type;
	char *warehouse_path;  /* absolute; the DuckDB file (type duckdb) */
	struct warehouse_pg_conf pg; /* type postgres */
	char *dbt_dir;         /* root/dbt */
	char *data_dir;        /* root/data */
	char *name;
	int web_port;
	int workers, threads, lock_wait;
	int auto_generate;
	char *governance_webhook_env; /* governance.webhook_url_env, or NULL */
	struct env env;
};

/* Find the project: dir itself if given (it must hold .dango/), else the
 * nearest folder upwards from the working directory that holds .dango/.
 * The absolute root goes into root. 0 on success, -1 with a message. */
int project_find(const char *dir, struct strbuf *root, struct strbuf *err);
/* Load project.yml (validated) and the .env / secrets of the project. */
int project_load(struct project *p, const char *root, struct strbuf *err);
void project_release(struct project *p);

/* A path relative to the project root, as users see it, into sb. */
void project_relpath(struct strbuf *sb, const struct project *p, const char *abs_path);

/* The default project.yml for a new project named name. */
void project_default_yml(struct strbuf *sb, const char *name);

#endif
