/* The DuckDB warehouse. This module (with appender.c later) is the only code
 * that includes duckdb.h; everything else speaks SQL through it.
 *
 * Errors: functions return 0 on success and a negative value on failure with
 * a message appended to err. WH_LOCKED means another process has the file
 * open in a conflicting mode (DuckDB allows one writing process and no
 * readers beside it), which callers may wait out. */
#ifndef DANGO_WAREHOUSE_H
#define DANGO_WAREHOUSE_H
#include "warehouse/result.h"
#include <stddef.h>
#include <stdint.h>
struct strbuf;
struct strvec;

enum { WH_ERROR = -1, WH_LOCKED = -2 };
enum wh_mode { WH_READ_ONLY, WH_READ_WRITE };

struct warehouse {
	void *db;   /* duckdb_database */
	void *con;  /* duckdb_connection */
	char *path;  /* the DuckDB file; a PostgreSQL warehouse: "postgres host:port/db" */
	enum wh_mode mode;
	void *pg;    /* a PostgreSQL warehouse's PGconn (pg_query.c); db and con are NULL then */
	int pg_timeout; /* PostgreSQL, read-only: the statement timeout in seconds (for messages) */
};

int warehouse_open(struct warehouse *wh, const char *path, enum wh_mode mode, struct strbuf *err);
/* Open, retrying while the file is locked by another process, for up to
 * wait_seconds; on_wait (if set) is called once when waiting starts. */
int warehouse_open_wait(struct warehouse *wh, const char *path, enum wh_mode mode, int wait_seconds,
			void (*on_wait)(const char *why, void *data), void *data, struct strbuf *err);
void warehouse_close(struct warehouse *wh);

/* For SQL a user typed (dango query without --write, every web query): the
 * database reads the warehouse and nothing else. DuckDB's external access is
 * disabled (no file, folder or network outside the open warehouse: COPY TO,
 * EXPORT DATABASE, ATTACH, read_csv, read_text, glob ... all fail with a
 * "Permission Error"), persistent secrets are off, and the configuration is
 * locked so that no SET, RESET or PRAGMA undoes it. Call it right after
 * opening, before any user SQL; it applies to every connection of the
 * database, and settings cannot change afterwards (not even TimeZone). */
int warehouse_lock_down(struct warehouse *wh, struct strbuf *err);

int warehouse_exec(struct warehouse *wh, const char *sql, struct strbuf *err);
int warehouse_execf(struct warehouse *wh, struct strbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Run sql (one statement, or several: the last one's result) and read its
 * whole result into r (see result.h); wh_result_free(r) when done. */
int warehouse_query(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err);
/* The same for one statement whose rows are read a chunk at a time with
 * wh_result_next. Run nothing else on wh's connection until r is freed. */
int warehouse_query_stream(struct warehouse *wh, const char *sql, struct wh_result *r, struct strbuf *err);
/* Every statement of sql in turn, each one's result handed to each() (r is
 * freed after it returns); stops at the first failing statement (err) or a
 * non-zero return of each(), which it returns. SQL with COPY or EXPORT that
 * names the warehouse file is refused (it would overwrite the warehouse). */
int warehouse_query_each(struct warehouse *wh, const char *sql, int (*each)(struct wh_result *r, void *data),
			 void *data, struct strbuf *err);
/* The columns of `what` (a relation, or a query in parentheses or after
 * SELECT): DuckDB's DESCRIBE, each column's name and type appended to
 * names and types. */
int warehouse_describe(struct warehouse *wh, const char *what, struct strvec *names, struct strvec *types,
		       struct strbuf *err);
/* The first column of the first row as an integer; *out = 0 if no row. */
int warehouse_query_int(struct warehouse *wh, const char *sql, int64_t *out, struct strbuf *err);

int warehouse_begin(struct warehouse *wh, struct strbuf *err);
int warehouse_commit(struct warehouse *wh, struct strbuf *err);
void warehouse_rollback(struct warehouse *wh);

/* How far the query running on wh's connection is, 0..100, or -1 if none
 * is running or DuckDB cannot tell. Safe to call from another thread. */
double warehouse_progress(struct warehouse *wh);
/* Have DuckDB track the progress of statements (it does not by default),
 * without printing its own bar. */
void warehouse_track_progress(struct warehouse *wh);

/* The rows of schema.table (0 if it cannot be counted). */
int64_t warehouse_count_rows(struct warehouse *wh, const char *schema, const char *table);

/* Does schema.table (or a view of that name) exist? Names compare as
 * DuckDB's do, case-insensitively. */
int warehouse_has_table(struct warehouse *wh, const char *schema, const char *table);
/* Does schema.table exist with a column of that name? */
int warehouse_has_column(struct warehouse *wh, const char *schema, const char *table, const char *column);
/* The DuckDB library's version string, e.g. "v1.5.6". */
const char *warehouse_library_version(void);

/* Another connection to the database open in wh (for a worker thread):
 * out->db stays NULL, so warehouse_close(out) closes only the connection.
 * Close every such connection before wh itself. */
int warehouse_connect_extra(struct warehouse *wh, struct warehouse *out, struct strbuf *err);

#endif
