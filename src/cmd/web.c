/* dango web: serve the page and its API until SIGTERM or Ctrl-C. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/proc.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/xalloc.h"
#include "web/internal.h"
#include "web/web.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_TOKEN 16

static const struct cmd_info info = {
	"web", "dango web [--host 127.0.0.1] [--port 8800] [--open] [--token-env NAME] [--no-scheduler]",
	"Serve the web page (Overview, Sources with Sync Now, Runs, Models, Lineage, Schedules,\n"
	"Governance, Query) and its JSON API (docs/api.md) on http://127.0.0.1:8800/, and run the\n"
	"schedules of .dango/schedules.yml as 'dango scheduler' does (unless --no-scheduler).",
	"It binds 127.0.0.1 by default. Bound to any other address it requires a token for every\n"
	"request: the value of the environment variable named by --token-env, or one generated and\n"
	"printed once at start; send it as 'Authorization: Bearer TOKEN' or log in at /login.\n"
	"Syncs and model runs started from the page run as 'dango sync' and 'dango run'\n"
	"subprocesses that wait up to 5 minutes for the warehouse lock. SIGTERM stops the server\n"
	"and the jobs it started; scheduled jobs still running end first (a second signal kills\n"
	"them, recording them failed). When another scheduler runs for the project, this one\n"
	"serves without it and says so.",
};

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag++; /* a second signal kills the scheduled jobs still running */
}

struct ready {
	int open;
	const char *token;
	int generated;
};

static void open_browser(const char *url)
{
	const char *argv[] = { "xdg-open", url, NULL };
	struct proc_opts o = { .argv = argv, .out = PROC_NULL, .err = PROC_NULL, .stdin_null = 1 };
	struct proc pr;
	struct strbuf err = STRBUF_INIT;
	if (proc_spawn(&pr, &o, &err) < 0 || !proc_wait(&pr, 10) || pr.status != 0)
		ui_warn("could not open a browser (xdg-open): open %s yourself", url);
	proc_release(&pr);
	strbuf_release(&err);
}

static void on_ready(const char *url, void *data)
{
	struct ready *r = data;
	printf("Dango web on %s  (Ctrl-C stops it)\n", url);
	if (r->generated)
		printf("Token (shown once; every request needs it): %s\n"
		       "Log in at %slogin, or send 'Authorization: Bearer <token>'.\n", r->token, url);
	fflush(stdout);
	if (r->open)
		open_browser(url);
}

static char *self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return xstrdup("dango");
	buf[n] = '\0';
	return xstrdup(buf);
}

int cmd_web(int argc, const char **argv)
{
	const char *host = "127.0.0.1", *token_env = NULL;
	int port = -100000, open = 0, no_scheduler = 0, ret;
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct strbuf err = STRBUF_INIT;
	char generated[65];
	const struct opt opts[] = {
		OPT_STRING(0, "host", &host, "ADDR", "address to listen on (default 127.0.0.1)"),
		OPT_INT(0, "port", &port, "PORT", "port (default: project.yml's web port, else 8800; 0: any free port)"),
		OPT_BOOL(0, "open", &open, "open the page in a browser"),
		OPT_STRING(0, "token-env", &token_env, "NAME", "environment variable holding the access token"),
		OPT_BOOL(0, "no-scheduler", &no_scheduler, "do not run the schedules in this server"),
		OPT_END(),
	};
	ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr) {
		ui_error("unexpected argument '%s'; usage: %s", args.v[0], info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	strvec_clear(&args);
	if ((ret = cmd_open_project(&p)))
		return ret;
	if (port == -100000)
		port = p.web_port > 0 ? p.web_port : 8800;
	if (port < 0 || port > 65535) {
		ui_error("--port %d is not a port (1 to 65535, or 0 for any free one)", port);
		project_release(&p);
		return EXIT_USAGE;
	}
	struct web_config cfg = { .host = host, .port = port, .no_scheduler = no_scheduler };
	struct ready ready = { open, NULL, 0 };
	if (token_env) {
		const char *v = getenv(token_env);
		if (!v)
			v = env_lookup(&p.env, token_env, NULL);
		if (!v || strlen(v) < MIN_TOKEN) {
			ui_error("--token-env %s: the variable is %s (a token has at least %d characters)", token_env,
				 v ? "too short" : "not set", MIN_TOKEN);
			project_release(&p);
			return EXIT_USAGE;
		}
		cfg.token = v;
	} else if (!web_host_is_loopback(host)) {
		web_random_hex(generated);
		cfg.token = generated;
		ready.generated = 1;
	}
	ready.token = cfg.token;
	char *exe = self_exe();
	cfg.self_exe = exe;

	/* Without TZ, glibc stats /etc/localtime on every localtime_r() and
	 * mktime(): two hundred times for one answer of a hundred sources. The
	 * same zone, named, is read once. Set before any thread starts. */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (web_serve(&p, &cfg, &stop_flag, on_ready, &ready, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
	} else {
		printf("Stopped.\n");
		ret = EXIT_OK;
	}
	free(exe);
	strbuf_release(&err);
	project_release(&p);
	return ret;
}
