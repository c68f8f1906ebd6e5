/* Operational metadata outside the warehouse: one SQLite file,
 * .dango/state/dango.sqlite (WAL mode), readable while a writer holds the
 * DuckDB warehouse. Drift baselines and events, schedule history, OAuth token
 * metadata and the web page's catalog snapshot keep their tables here; each
 * module creates its own tables (CREATE TABLE IF NOT EXISTS) through
 * opsdb_ensure, so modules stay independent. Writers wait for each other
 * (busy timeout), readers never block writers (WAL). */
#ifndef DANGO_OPSDB_H
#define DANGO_OPSDB_H
#include <sqlite3.h>
struct strbuf;

/* Open (creating when missing) state_dir/dango.sqlite. The file is 0600;
 * state_dir is created when missing. 0, or -1 with a message in err. */
int opsdb_open(const char *state_dir, sqlite3 **db, struct strbuf *err);
/* Open read-only; -1 (no message) when the file does not exist yet. */
int opsdb_open_readonly(const char *state_dir, sqlite3 **db, struct strbuf *err);
void opsdb_close(sqlite3 *db);
/* Run one or more statements without results (DDL, BEGIN/COMMIT). */
int opsdb_exec(sqlite3 *db, const char *sql, struct strbuf *err);
/* Run a module's `schema_sql` (CREATE ... IF NOT EXISTS statements); an
 * error names the module. */
int opsdb_ensure(sqlite3 *db, const char *module, const char *schema_sql, struct strbuf *err);

#endif
