/* Commands: argument parsing and presentation. Each returns the process's
 * exit code (see EXIT_* below); only this layer and main.c print errors. */
#ifndef DANGO_CMD_H
#define DANGO_CMD_H
#include <stddef.h>

/* Exit codes, documented in `dango --help` and the README. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,     /* the command ran and failed (bad config, SQL error, failed sync) */
	EXIT_USAGE = 2,    /* unknown command or option, bad argument */
	EXIT_LOCKED = 3,   /* the warehouse lock could not be had in time */
};

struct global_opts {
	const char *project_dir;
	int verbose, quiet, no_color;
};
extern struct global_opts global;

int cmd_init(int argc, const char **argv);
int cmd_source(int argc, const char **argv);
int cmd_validate(int argc, const char **argv);
int cmd_query(int argc, const char **argv);
int cmd_db(int argc, const char **argv);
int cmd_sync(int argc, const char **argv);
/* src/cmd/generate.c: staging models; sync calls the second when auto_generate is on */
int cmd_generate(int argc, const char **argv);
struct project;
struct source_list;
struct source;
struct warehouse;
void cmd_generate_after_sync(const struct project *p, const struct source_list *list, struct warehouse *wh,
			     struct source *const *synced, size_t n);
/* src/cmd/run.c: the dbt project */
int cmd_run(int argc, const char **argv);
int cmd_seed(int argc, const char **argv);
int cmd_test(int argc, const char **argv);
int cmd_build(int argc, const char **argv);
int cmd_compile(int argc, const char **argv);
int cmd_ls(int argc, const char **argv);
int cmd_deps(int argc, const char **argv);
/* src/cmd/oauth.c: OAuth credentials for API sources */
int cmd_oauth(int argc, const char **argv);
/* src/cmd/schedule.c: schedules and the scheduler; validate calls the third */
int cmd_schedule(int argc, const char **argv);
int cmd_scheduler(int argc, const char **argv);
void cmd_validate_schedules(const struct project *p, const struct source_list *sources, int *problems);
/* src/cmd/state.c: dango state show | set | reset */
int cmd_state(int argc, const char **argv);
/* src/cmd/governance.c: schema drift. dango run/build take the second
 * (the models downstream of open breaking drift, pre-marked as skipped,
 * printed once per source through print); validate the third. */
int cmd_governance(int argc, const char **argv);
struct dbt_project;
struct strvec;
void cmd_drift_preskip(const struct project *p, const struct dbt_project *dp, int ignore, struct strvec *ids,
		       struct strvec *reasons, void (*print)(const char *fmt, ...));
int cmd_drift_validate(const struct project *p);
int cmd_snapshot(int argc, const char **argv);
int cmd_run_operation(int argc, const char **argv);
int cmd_parse(int argc, const char **argv);
int cmd_clean(int argc, const char **argv);
int cmd_freshness(int argc, const char **argv);
int cmd_docs(int argc, const char **argv);
int cmd_debug(int argc, const char **argv);
int cmd_show(int argc, const char **argv);
int cmd_retry(int argc, const char **argv);
/* src/cmd/web.c: the web page and its API */
int cmd_web(int argc, const char **argv);

#endif
