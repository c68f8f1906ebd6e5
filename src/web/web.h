/* `dango web`: the local web page and its JSON API (docs/api.md).
 *
 * One process serves the page (assets embedded in the binary) and /api/;
 * syncs and model runs it starts are `dango` subprocesses (spec 003), so a
 * failing job never takes the server down and the single-writer lock works
 * as for the CLI. What the page shows while a writer holds the warehouse
 * comes from outside it: status files, the runs table and the catalog
 * snapshot in the ops-db (.dango/state/dango.sqlite, tables web_*). */
#ifndef DANGO_WEB_H
#define DANGO_WEB_H
struct project;
struct strbuf;

struct web_config {
	const char *host;      /* address to bind: 127.0.0.1 by default */
	int port;
	const char *token;     /* required for every request when set (off loopback: always) */
	const char *self_exe;  /* the dango binary the subprocesses run */
	int quiet;
	int no_scheduler;      /* --no-scheduler: do not run the schedules */
};

/* Is host a loopback address (127.0.0.0/8, ::1, "localhost")? */
int web_host_is_loopback(const char *host);

/* Serve until *stop becomes non-zero (checked every 200 ms; set it from a
 * signal handler). 0 after a clean stop, -1 with err (the port is taken,
 * the address is bad). on_ready (if set) is called once the socket listens,
 * with the URL. */
int web_serve(const struct project *p, const struct web_config *cfg, volatile int *stop,
	      void (*on_ready)(const char *url, void *data), void *data, struct strbuf *err);

#endif
