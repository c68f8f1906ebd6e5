/* dango: global options, the command table, dispatch. */
#include "cmd/cmd.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "version.h"
#include "warehouse/warehouse.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct global_opts global;

struct command {
	const char *name;
	int (*fn)(int argc, const char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, "Create a new Dango project" },
	{ "source", cmd_source, "Add, list, remove, edit and test data sources" },
	{ "sync", cmd_sync, "Load data from sources into the warehouse" },
	{ "generate", cmd_generate, "Write dbt staging models from the raw tables" },
	{ "run", cmd_run, "Build the dbt models (dbt run, natively)" },
	{ "seed", cmd_seed, "Load the dbt project's CSV seeds" },
	{ "test", cmd_test, "Run the dbt project's data tests" },
	{ "build", cmd_build, "Seeds, models and tests in graph order" },
	{ "compile", cmd_compile, "Render the dbt models' SQL into target/compiled/" },
	{ "ls", cmd_ls, "List the dbt project's nodes" },
	{ "deps", cmd_deps, "Install the dbt packages of packages.yml into dbt_packages/" },
	{ "snapshot", cmd_snapshot, "Run the dbt project's snapshots" },
	{ "run-operation", cmd_run_operation, "Call a macro of the dbt project with --args" },
	{ "parse", cmd_parse, "Parse the dbt project and write target/manifest.json" },
	{ "clean", cmd_clean, "Delete the dbt project's clean-targets (target/)" },
	{ "freshness", cmd_freshness, "Check the freshness of the dbt project's sources (dbt source freshness)" },
	{ "docs", cmd_docs, "docs generate: the dbt project's manifest.json and catalog.json" },
	{ "debug", cmd_debug, "Check the dbt project, its profile and the connection" },
	{ "show", cmd_show, "Preview a dbt model's or an inline query's first rows" },
	{ "retry", cmd_retry, "Re-run what failed or was skipped in the last dbt command" },
	{ "validate", cmd_validate, "Check the configuration, credentials and dbt project" },
	{ "query", cmd_query, "Run SQL against the warehouse" },
	{ "db", cmd_db, "Warehouse status, backups (db backups, db restore), cleaning" },
	{ "oauth", cmd_oauth, "OAuth credentials for API sources: setup, list, check, refresh, remove" },
	{ "schedule", cmd_schedule, "List, add, run and inspect schedules (.dango/schedules.yml)" },
	{ "scheduler", cmd_scheduler, "Run the scheduler in the foreground" },
	{ "state", cmd_state, "Show, move (set) or forget (reset) the incremental state of sources" },
	{ "governance", cmd_governance, "Schema drift: drift-report, accept, baseline" },
	{ "web", cmd_web, "The web page: sources, Sync Now, runs, models, lineage, query" },
};

static void print_help(void)
{
	printf("Dango %s: a local data platform in one command.\n\n"
	       "usage: dango [global options] <command> [options]\n\n"
	       "Commands:\n", DANGO_VERSION);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-12s %s\n", commands[i].name, commands[i].summary);
	printf("  %-12s %s\n", "help", "Show help for a command: dango help COMMAND");
	printf("\nGlobal options:\n"
	       "  --project-dir DIR   the project (default: nearest folder upwards holding .dango/)\n"
	       "  -v, --verbose       more detail\n"
	       "  -q, --quiet         only warnings and errors\n"
	       "  --no-color          no colours (also: NO_COLOR=1)\n"
	       "  --version           print the version\n"
	       "  -h, --help          this help\n"
	       "\nEnvironment: RUNTIME__LOG_LEVEL=DEBUG prints debug logs; NO_COLOR disables colours.\n"
	       "\nExit codes: 0 success, 1 the command failed, 2 usage error,\n"
	       "            3 the warehouse lock could not be had in time.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[ARRAY_SIZE(commands) + 2];
	size_t n = 0;
	for (; n < ARRAY_SIZE(commands); n++)
		names[n] = commands[n].name;
	names[n++] = "help";
	names[n] = NULL;
	const char *hint = did_you_mean(name, names);
	if (hint)
		ui_error("unknown command '%s' (did you mean '%s'?)", name, hint);
	else
		ui_error("unknown command '%s'", name);
	fprintf(stderr, "Run 'dango --help' for the list of commands.\n");
	return EXIT_USAGE;
}

/* Global options may stand anywhere on the line (dango sync --no-color);
 * take them out before the command sees its arguments. */
static int take_global_options(int *argc, const char **argv, int *want_version, int *want_help)
{
	int out = 1, seen_command = 0;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--project-dir") || !strncmp(a, "--project-dir=", 14)) {
			if (a[13] == '=') {
				global.project_dir = a + 14;
			} else if (i + 1 < *argc) {
				global.project_dir = argv[++i];
			} else {
				ui_error("option '--project-dir' needs a value");
				return -1;
			}
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			global.verbose = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			global.quiet = 1;
		} else if (!strcmp(a, "--no-color") || !strcmp(a, "--no-colour")) {
			global.no_color = 1;
		} else if (!seen_command && !strcmp(a, "--version")) {
			*want_version = 1;
		} else if (!seen_command && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
			*want_help = 1;
		} else {
			if (a[0] != '-')
				seen_command = 1;
			else if (!seen_command) {
				ui_error("unknown option '%s'", a);
				fprintf(stderr, "Run 'dango --help' for the global options.\n");
				return -1;
			}
			argv[out++] = a;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int main(int argc, char **argv_in)
{
	int want_version = 0, want_help = 0;
	const char **argv = xcalloc((size_t)argc + 1, sizeof(*argv));
	int ret;

	malloc_keep_freed();
	setlocale(LC_CTYPE, "");
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < argc; i++)
		argv[i] = argv_in[i];
	if (take_global_options(&argc, argv, &want_version, &want_help) < 0) {
		free(argv);
		return EXIT_USAGE;
	}
	ui_setup(global.no_color, global.quiet, global.verbose);

	if (want_version) {
		printf("dango %s (DuckDB %s)\n", DANGO_VERSION, warehouse_library_version());
		ret = EXIT_OK;
	} else if (want_help || argc < 2) {
		print_help();
		ret = argc < 2 && !want_help ? EXIT_USAGE : EXIT_OK;
	} else if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			print_help();
			ret = EXIT_OK;
		} else {
			const struct command *c = find_command(argv[2]);
			if (!c) {
				ret = unknown_command(argv[2]);
			} else {
				/* "dango help source add" -> "dango source add --help" */
				const char *hargv[8] = { argv[2] };
				int n = 1;
				for (int i = 3; i < argc && n < 6; i++)
					hargv[n++] = argv[i];
				hargv[n++] = "--help";
				hargv[n] = NULL;
				ret = c->fn(n, hargv);
			}
		}
	} else {
		const struct command *c = find_command(argv[1]);
		ret = c ? c->fn(argc - 1, argv + 1) : unknown_command(argv[1]);
	}
	fflush(stdout);
	free(argv);
	return ret;
}
