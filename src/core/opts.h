/* Command-line options of one command:
 *
 *   int yes = 0; const char *name = NULL; struct strvec sel = STRVEC_INIT;
 *   const struct opt opts[] = {
 *       OPT_BOOL('y', "yes", &yes, "skip confirmation"),
 *       OPT_STRING(0, "name", &name, "NAME", "source name"),
 *       OPT_LIST(0, "select", &sel, "RES", "only these (repeatable, comma lists)"),
 *       OPT_END(),
 *   };
 *   r = opts_parse(&cmdinfo, opts, argc, argv, &args);
 *
 * Accepts --name=value and --name value, bundled short flags (-yq), and "--"
 * to end options. An unknown option is a usage error with a suggestion. */
#ifndef DANGO_OPTS_H
#define DANGO_OPTS_H
#include "strvec.h"

enum opt_type { OPT_T_END, OPT_T_BOOL, OPT_T_STRING, OPT_T_INT, OPT_T_INT_ALL, OPT_T_LIST };

struct opt {
	enum opt_type type;
	char short_name;
	const char *long_name;
	void *value;
	const char *argh;
	const char *help;
};

#define OPT_BOOL(s, l, v, h) { OPT_T_BOOL, (s), (l), (v), NULL, (h) }
#define OPT_STRING(s, l, v, a, h) { OPT_T_STRING, (s), (l), (v), (a), (h) }
#define OPT_INT(s, l, v, a, h) { OPT_T_INT, (s), (l), (v), (a), (h) }
/* a whole number, or -1 for "all" (dbt's --limit -1) */
#define OPT_INT_ALL(s, l, v, a, h) { OPT_T_INT_ALL, (s), (l), (v), (a), (h) }
#define OPT_LIST(s, l, v, a, h) { OPT_T_LIST, (s), (l), (v), (a), (h) }
#define OPT_END() { OPT_T_END, 0, NULL, NULL, NULL, NULL }

struct cmd_info {
	const char *name;      /* "source add" */
	const char *usage;     /* "dango source add [TYPE] [options]" */
	const char *summary;   /* one line */
	const char *details;   /* more text after the options, or NULL */
};

enum { OPTS_OK = 0, OPTS_HELP = 1, OPTS_ERROR = -1 };

/* Parse argv[1..] (argv[0] is the command name). Positional arguments go to
 * args. Prints help (OPTS_HELP) or a usage error (OPTS_ERROR) itself. */
int opts_parse(const struct cmd_info *info, const struct opt *opts, int argc, const char **argv,
	       struct strvec *args);
void opts_print_help(const struct cmd_info *info, const struct opt *opts);

#endif
