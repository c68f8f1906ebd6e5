/* What several commands share: opening the project, its sources, and the
 * warehouse as a reader or as the single writer. Each prints its own error
 * and returns an exit code (EXIT_OK on success). */
#ifndef DANGO_CMD_COMMON_H
#define DANGO_CMD_COMMON_H
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/lock.h"
#include "warehouse/warehouse.h"

int cmd_open_project(struct project *p);
int cmd_load_sources(const struct project *p, struct source_list *list);

/* Take the single-writer lock (waiting up to wait_seconds, or the project's
 * default when wait_seconds < 0) and open the warehouse for writing. */
int cmd_open_writer(const struct project *p, const char *command, const char *source, int wait_seconds,
		    struct dango_lock *lock, struct warehouse *wh);
void cmd_close_writer(struct dango_lock *lock, struct warehouse *wh);
/* Open the warehouse read-only; while a writer has it, wait up to wait_seconds
 * and then explain who holds it and what to do. */
int cmd_open_reader(const struct project *p, int wait_seconds, struct warehouse *wh);
/* A postgres warehouse: the reader's connection, every statement read-only
 * and bounded by timeout_s seconds (0: no bound). cmd_open_reader uses it
 * with warehouse.statement_timeout; readers never wait (MVCC). */
int cmd_open_pg_reader(const struct project *p, int timeout_s, struct warehouse *wh);
/* The on_wait of a postgres warehouse's advisory locks (data: the int
 * seconds waited at most): "Waiting: WHY (up to N s)...". */
void cmd_say_waiting_for_pg(const char *why, void *data);
/* .dango/profiles.yml brought in line with project.yml's warehouse (if
 * Dango wrote it; see project/profiles.h), saying so when it changes, and
 * the warehouse's secrets exported for its env_var() calls. */
int cmd_sync_profiles(const struct project *p);
/* A command that has no postgres path yet: on a postgres warehouse, say so
 * (naming the command) and return 1; the caller exits EXIT_FAIL. Never let
 * such a command fall back to the DuckDB file. */
int cmd_refuse_postgres(const struct project *p, const char *command);

/* "no source named 'x' in .dango/sources.yml (did you mean 'y'?)" */
void cmd_no_such_source(const struct source_list *list, const char *name);

/* Ask to proceed: 1 yes, 0 no. Without a terminal and without -y, refuses
 * (returns 0) and says to pass -y. */
int cmd_confirm(const char *question, int yes);

/* For a source no longer in sources.yml: list the staging files dango
 * generate made for it, remove those not edited since (asking first unless
 * yes), and note the edited ones, which stay. */
int cmd_remove_generated(const struct project *p, const char *name, int yes);

#endif
