/* Commands: argument parsing and presentation. Each returns the process's
 * exit code (see EXIT_* below); only this layer and main.c print errors. */
#ifndef DANGO_CMD_H
#define DANGO_CMD_H

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

#endif
