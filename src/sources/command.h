/* Sources of `type: command`: any program that writes Singer messages or
 * newline-delimited JSON to its standard output (docs/command-sources.md).
 *
 * The program runs in its own process group (core/proc.h), from the
 * project (or working_dir), with the source's env additions; its config
 * goes to a 0600 file passed as --config FILE. Its stdout is read line by
 * line and streamed through the normalizer into spool files that the
 * engine loads as they fill; its stderr lines become progress lines
 * prefixed with the source's name, with secrets masked. A non-zero exit,
 * a timeout, or a line that is not JSON (or breaks the Singer protocol)
 * fails the sync, and the engine then commits nothing. */
#ifndef DANGO_SOURCES_COMMAND_H
#define DANGO_SOURCES_COMMAND_H
#include "core/strvec.h"
struct source;
struct project;
struct strbuf;
struct connector_ops;

extern const struct connector_ops command_connector;

/* Run the program's Singer discovery (`--discover`): the stream names of
 * its catalog go to streams. 1 when it answered with a catalog, 0 when it
 * does not support discovery (why in err), -1 when the source's config is
 * wrong or discovery is required and failed (err says why). */
int command_discover(const struct source *s, const struct project *p, struct strvec *streams, struct strbuf *err);

/* The online part of `dango source test` for a command source: discovery
 * when the program supports it, and the selected streams against it.
 * Appends "✓/✗/?" lines to report; 0 or -1. */
int command_check(const struct source *s, const struct project *p, struct strbuf *report);

#endif
