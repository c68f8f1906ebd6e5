/* dango init [NAME]: a new project with its config, warehouse and dbt project. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "project/profiles.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cmd_info info = {
	"init", "dango init [NAME] [--force] [--skip-wizard]",
	"Create a Dango project: in a new folder NAME, or in the current folder (or --project-dir).",
	"Creates .dango/ (project.yml, sources.yml, profiles.yml, state/, logs/), data/ with the\n"
	"DuckDB warehouse (schemas raw, staging, intermediate, marts), dbt/ as a dbt project,\n"
	".env, .gitignore and a README. An existing project is left alone unless --force,\n"
	"which rewrites the generated files but keeps sources.yml, .env and the warehouse.",
};

/* Turn a folder name into a dbt-safe identifier: my-Project -> my_project. */
static char *identifier_from(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		strbuf_addch(&sb, isalnum(c) ? tolower(c) : '_');
	}
	if (!sb.len || isdigit((unsigned char)sb.buf[0]))
		strbuf_insert(&sb, 0, "p_", 2);
	return strbuf_detach(&sb, NULL);
}

struct writer {
	const char *root;
	int force;
	int failed;
};

/* Write root/rel unless it exists (and keep it even with --force if keep). */
static void put(struct writer *w, const char *rel, const char *content, int keep)
{
	struct strbuf path = STRBUF_INIT;
	fs_path_join(&path, w->root, rel);
	if (fs_exists(path.buf) && (keep || !w->force)) {
		strbuf_release(&path);
		return;
	}
	char *slash = strrchr(path.buf, '/');
	*slash = '\0';
	int r = fs_mkdir_p(path.buf, 0755);
	*slash = '/';
	/* files that hold secrets (or will) are for the owner only */
	mode_t mode = !strcmp(rel, ".env") || !strcmp(rel, ".dango/sources.yml") ? 0600 : 0644;
	if (r < 0 || fs_write_atomic_mode(path.buf, content, strlen(content), mode) < 0) {
		ui_error("cannot write '%s': %s", path.buf, strerror(errno));
		w->failed = 1;
	}
	strbuf_release(&path);
}

static void mkdir_in(struct writer *w, const char *rel)
{
	struct strbuf path = STRBUF_INIT;
	fs_path_join(&path, w->root, rel);
	if (fs_mkdir_p(path.buf, 0755) < 0) {
		ui_error("cannot create '%s': %s", path.buf, strerror(errno));
		w->failed = 1;
	}
	strbuf_release(&path);
}

static void write_dbt_project(struct writer *w, const char *ident)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb,
		    "# A standard dbt project: Dango runs it natively ('dango run'), and so does dbt:\n"
		    "#   dbt run --profiles-dir .dango --project-dir dbt\n"
		    "name: '%s'\n"
		    "version: '1.0.0'\n"
		    "config-version: 2\n"
		    "profile: 'dango'\n"
		    "\n"
		    "model-paths: [\"models\"]\n"
		    "seed-paths: [\"seeds\"]\n"
		    "test-paths: [\"tests\"]\n"
		    "macro-paths: [\"macros\"]\n"
		    "snapshot-paths: [\"snapshots\"]\n"
		    "analysis-paths: [\"analyses\"]\n"
		    "target-path: \"target\"\n"
		    "clean-targets: [\"target\", \"dbt_packages\"]\n"
		    "\n"
		    "models:\n"
		    "  %s:\n"
		    "    staging:\n"
		    "      +materialized: view\n"
		    "      +schema: staging\n"
		    "    intermediate:\n"
		    "      +materialized: view\n"
		    "      +schema: intermediate\n"
		    "    marts:\n"
		    "      +materialized: table\n"
		    "      +schema: marts\n",
		    ident, ident);
	put(w, "dbt/dbt_project.yml", sb.buf, 0);
	strbuf_release(&sb);
	put(w, "dbt/macros/generate_schema_name.sql",
	    "{#- Clean schema names: a model configured with schema 'marts' lands in\n"
	    "    'marts', not in '<target schema>_marts' as dbt does by default. -#}\n"
	    "{% macro generate_schema_name(custom_schema_name, node) -%}\n"
	    "    {%- if custom_schema_name is none -%}\n"
	    "        {{ target.schema }}\n"
	    "    {%- else -%}\n"
	    "        {{ custom_schema_name | trim }}\n"
	    "    {%- endif -%}\n"
	    "{%- endmacro %}\n", 0);
	static const char *const dirs[] = {
		"dbt/models/staging", "dbt/models/intermediate", "dbt/models/marts", "dbt/seeds",
		"dbt/tests", "dbt/snapshots", "dbt/analyses",
	};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct strbuf keep = STRBUF_INIT;
		strbuf_addf(&keep, "%s/.gitkeep", dirs[i]);
		put(w, keep.buf, "", 1);
		strbuf_release(&keep);
	}
}

static void write_files(struct writer *w, const char *name, const char *ident)
{
	struct strbuf sb = STRBUF_INIT;

	project_default_yml(&sb, name);
	put(w, ".dango/project.yml", sb.buf, 0);
	strbuf_reset(&sb);
	sources_default_yml(&sb);
	put(w, ".dango/sources.yml", sb.buf, 1);
	strbuf_reset(&sb);
	profiles_default(&sb);
	put(w, ".dango/profiles.yml", sb.buf, 0);
	mkdir_in(w, ".dango/state");
	mkdir_in(w, ".dango/logs");
	mkdir_in(w, "data/uploads");
	write_dbt_project(w, ident);
	put(w, ".env",
	    "# Secrets for your sources, read by Dango (never commit this file).\n"
	    "# sources.yml refers to them by name, e.g. stripe_secret_key_env: STRIPE_API_KEY\n"
	    "# STRIPE_API_KEY=sk_live_...\n", 1);
	put(w, ".gitignore",
	    "# Dango: data and secrets stay out of git\n"
	    ".env\n"
	    ".dlt/secrets.toml\n"
	    "data/warehouse.duckdb\n"
	    "data/warehouse.duckdb.wal\n"
	    ".dango/state/\n"
	    ".dango/oauth/\n"
	    ".dango/logs/\n"
	    "dbt/target/\n"
	    "dbt/logs/\n"
	    "dbt/dbt_packages/\n", 0);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "# %s\n\nA Dango data project.\n\n"
		    "    dango source add        # add a data source (.dango/sources.yml)\n"
		    "    dango sync              # load data into data/warehouse.duckdb (raw_<source> schemas)\n"
		    "    dango generate          # write staging models into dbt/models/staging/\n"
		    "    dango run               # build the dbt models\n"
		    "    dango query \"SELECT 1\"  # look at the warehouse\n\n"
		    "Layout: `.dango/` holds the configuration, `data/` the warehouse and the files to\n"
		    "load (`data/uploads/`), `dbt/` a standard dbt project: `dbt run --profiles-dir\n"
		    ".dango --project-dir dbt` builds the same tables.\n", name);
	put(w, "README.md", sb.buf, 1);
	strbuf_release(&sb);
}

static int create_warehouse(const char *root)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct warehouse wh;
	int ret = EXIT_OK;
	fs_path_join(&path, root, "data/warehouse.duckdb");
	if (warehouse_open(&wh, path.buf, WH_READ_WRITE, &err) < 0) {
		ui_error("%s", err.buf);
		ret = err.len && strstr(err.buf, "another process") ? EXIT_LOCKED : EXIT_FAIL;
		goto out;
	}
	if (warehouse_exec(&wh, "CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS staging; "
				"CREATE SCHEMA IF NOT EXISTS intermediate; CREATE SCHEMA IF NOT EXISTS marts;",
			   &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
	}
	warehouse_close(&wh);
out:
	strbuf_release(&path);
	strbuf_release(&err);
	return ret;
}

int cmd_init(int argc, const char **argv)
{
	int force = 0, skip_wizard = 0, ret;
	struct strvec args = STRVEC_INIT;
	struct strbuf root = STRBUF_INIT, probe = STRBUF_INIT;
	char *name = NULL, *ident = NULL;
	const struct opt opts[] = {
		OPT_BOOL(0, "force", &force, "rewrite the generated files of an existing project"),
		OPT_BOOL(0, "skip-wizard", &skip_wizard, "ask nothing, even on a terminal"),
		OPT_END(),
	};
	ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if (args.nr > 1) {
		ui_error("too many arguments; usage: %s", info.usage);
		ret = EXIT_USAGE;
		goto out;
	}

	fs_absolute(&root, global.project_dir ? global.project_dir : ".");
	if (args.nr) {
		/* a path, as git init takes one: made with its parents, the
		 * project named after its last component */
		struct strbuf where = STRBUF_INIT;
		if (args.v[0][0] == '/')
			strbuf_addstr(&where, args.v[0]);
		else
			fs_path_join(&where, root.buf, args.v[0]);
		strbuf_reset(&root);
		fs_absolute(&root, where.buf);
		strbuf_release(&where);
		while (root.len > 1 && root.buf[root.len - 1] == '/')
			strbuf_setlen(&root, root.len - 1);
		const char *base = strrchr(root.buf, '/');
		name = xstrdup(base && base[1] ? base + 1 : "dango_project");
	} else {
		const char *base = strrchr(root.buf, '/');
		name = xstrdup(base && base[1] ? base + 1 : "dango_project");
		if (ui.stdin_tty && !skip_wizard) {
			char *answer = ui_prompt("Project name", name);
			if (answer && *answer) {
				free(name);
				name = answer;
			} else {
				free(answer);
			}
		}
	}
	fs_path_join(&probe, root.buf, ".dango");
	if (fs_exists(probe.buf) && !force) {
		ui_error("'%s' is already a Dango project (use --force to rewrite its generated files)", root.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (fs_mkdir_p(root.buf, 0755) < 0) {
		ui_error("cannot create '%s': %s", root.buf, strerror(errno));
		ret = EXIT_FAIL;
		goto out;
	}
	ident = identifier_from(name);
	struct writer w = { root.buf, force, 0 };
	write_files(&w, name, ident);
	if (w.failed) {
		ret = EXIT_FAIL;
		goto out;
	}
	ret = create_warehouse(root.buf);
	if (ret)
		goto out;

	ui_ok("Created Dango project '%s' in %s", name, root.buf);
	ui_print("\nNext steps:");
	if (args.nr)
		ui_print("  cd %s", args.v[0]);
	ui_print("  dango source add     # add a data source\n"
		 "  dango sync           # load it into data/warehouse.duckdb\n"
		 "  dango generate       # staging models in dbt/models/staging/\n"
		 "  dango run            # build your models");
	if (ui.stdin_tty && !skip_wizard) {
		int add = ui_confirm("\nAdd a data source now?", 0);
		if (add == 1) {
			const char *sargv[] = { "source", "add", NULL };
			const char *saved = global.project_dir;
			global.project_dir = root.buf;
			ret = cmd_source(2, sargv);
			global.project_dir = saved;
		}
	}
out:
	strvec_clear(&args);
	strbuf_release(&root);
	strbuf_release(&probe);
	free(name);
	free(ident);
	return ret;
}
