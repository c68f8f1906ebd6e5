/* Database sources (postgres, mysql, sqlite): what the three families share.
 *
 * A source's block holds a connection and streams in the shape of Sling's
 * replication file (defaults:, streams:, modes full-refresh, incremental
 * and truncate). db.c reads the config, expands wildcards, builds each
 * stream's queries, spools rows to CSV files that DuckDB reads with the
 * column types fixed (no sniffing), and keeps the incremental state. A
 * family (postgres.c, mysql.c, sqlite.c) only connects, reads the catalog,
 * maps its column types to DuckDB's and streams a query's rows into the
 * spool: PostgreSQL through COPY ... TO STDOUT, MySQL through
 * mysql_use_result, SQLite row by row through its own C API.
 *
 * Ownership: char * fields are owned by their struct; const char * ones are
 * borrowed from the parsed sources.yml or the project's environment. */
#ifndef DANGO_SOURCES_DB_H
#define DANGO_SOURCES_DB_H
#include <stdint.h>
#include <stdio.h>
#include "core/strbuf.h"
#include "core/strvec.h"

struct source;
struct project;
struct sync_job;
struct ynode;

enum db_mode { DBM_FULL_REFRESH, DBM_INCREMENTAL, DBM_TRUNCATE };

/* One column of a stream as it is spooled and loaded. */
struct db_col {
	char *name;       /* the database's name for it */
	char *duck;       /* the DuckDB type of the loaded column */
	char *src_expr;   /* source-side expression rendering the value for the spool (PostgreSQL); NULL: the column */
	char *duck_expr;  /* DuckDB expression over the spooled text, with one %s; NULL: read as `duck` directly */
	int temporal;     /* a date or timestamp: --since/--until and lookback_days apply */
	int kind;         /* family-private: how its row loop writes the value */
	int misfit;       /* SQLite: a value did not fit the affinity, the column is loaded as VARCHAR */
};

struct db_cols {
	struct db_col *v;
	size_t nr, alloc;
};
void db_cols_add(struct db_cols *c, const char *name, const char *duck, const char *src_expr, const char *duck_expr);
void db_cols_release(struct db_cols *c);

struct db_stream {
	char *name;        /* as configured: "public.orders" (or expanded from "public.*") */
	char *schema;      /* NULL when the name has none */
	char *table;
	char *object;      /* target table in raw_<source> */
	enum db_mode mode;
	struct strvec primary_key;
	char *update_key;
	char *sql;         /* a custom query, or NULL */
	struct strvec select; /* columns to keep, or "-col" to drop */
	int disabled;
	int line;          /* where it is configured, for messages */
};

struct db_conf {
	const struct source *source;
	const char *host, *database, *user, *sslmode;
	char *path;                 /* sqlite: absolute */
	int port;
	const char *password;       /* from the environment: never printed */
	const char *url;            /* a connection URL from the environment: never printed */
	int timeout;                /* seconds for a statement (a stalled server); 0: none */
	int connect_timeout;
	struct db_stream *streams;  /* as configured, wildcards unexpanded */
	size_t nr_streams, alloc_streams;
};

struct db_spool;

/* What a family implements. conn is the family's own connection. */
struct db_family {
	const char *type;
	const char *default_schema;   /* "public"; NULL: names have no schema (sqlite) */
	int (*connect)(const struct db_conf *c, void **conn, struct strbuf *err);
	void (*disconnect)(void *conn);
	void (*ident)(struct strbuf *sb, const char *name);
	void (*literal)(void *conn, struct strbuf *sb, const char *value);
	/* "max(x)" rendered as text the database reads back as x's type */
	void (*max_text)(struct strbuf *sb, const char *quoted_col);
	/* a timestamp `days` days after the literal (negative: before) */
	void (*shift_days)(struct strbuf *sb, const char *literal_sql, int days);
	int (*tables)(void *conn, const char *schema, struct strvec *out, struct strbuf *err);
	/* the columns of "SELECT * FROM <from>" with their DuckDB types */
	int (*columns)(void *conn, const char *from, struct db_cols *out, struct strvec *warnings, struct strbuf *err);
	int (*primary_key)(void *conn, const struct db_stream *s, struct strvec *out, struct strbuf *err);
	/* the first row of a query as text: vals[i] malloc'ed, or NULL for NULL */
	int (*query_row)(void *conn, const char *sql, char **vals, int n, struct strbuf *err);
	/* stream a SELECT's rows (columns as in cols) into the spool */
	int (*copy)(void *conn, const char *select_sql, struct db_cols *cols, struct db_spool *sp, struct strbuf *err);
	/* "host:port/database" for messages */
	void (*where)(const struct db_conf *c, struct strbuf *sb);
	/* the schemas a user's tables may be in (the wizard); NULL: only the
	 * configured database (mysql) or none (sqlite) */
	int (*schemas)(void *conn, struct strvec *out, struct strbuf *err);
};

extern const struct db_family db_postgres, db_mysql, db_sqlite;

/* ---- the spool: CSV files DuckDB reads, one batch each ---- */
void db_spool_field_null(struct db_spool *sp);
void db_spool_field_text(struct db_spool *sp, const char *s, size_t len);   /* quoted */
void db_spool_field_raw(struct db_spool *sp, const char *s, size_t len);    /* as is (numbers) */
void db_spool_field_hex(struct db_spool *sp, const unsigned char *s, size_t len);
/* PostgreSQL's COPY hands over whole CSV lines */
void db_spool_write_line(struct db_spool *sp, const char *s, size_t len);
/* a row is complete; -1 when the spool cannot be written or the sync was cancelled */
int db_spool_row_end(struct db_spool *sp, struct strbuf *err);
/* count a value changed on the way (zero dates), for one warning per stream */
void db_spool_note_zero_date(struct db_spool *sp);

/* ---- the connector and `dango source test` ---- */
struct connector_ops;
extern const struct connector_ops db_connector;
int db_source_handles(const char *type);
int db_source_check(const struct source *s, const struct project *p, struct strbuf *report);

/* ---- the catalog, for the wizard (`dango source add postgres`) ---- */
struct db_table_info {
	char *name;               /* as a stream names it: "public.orders", or "orders" */
	struct strvec columns;
	struct strvec primary_key;  /* from the catalog; may be empty */
	char *update_key;         /* a proposed one (a timestamp named like updated_at), or NULL */
};
struct db_catalog {
	char *where;              /* "host:port/database" */
	struct db_table_info *v;
	size_t nr, alloc;
};
/* Connect with s's connection (its streams may be missing) and list the
 * tables of every user schema with their columns and keys. */
int db_source_catalog(const struct source *s, const struct project *p, struct db_catalog *cat, struct strbuf *err);
void db_catalog_release(struct db_catalog *cat);

/* The wizard's questions after the connection's (src/sources/db/wizard.c):
 * lists the tables, asks which to sync and each one's mode and keys, and
 * puts the streams as a YAML flow mapping in yaml. 0; -1 with err when it
 * cannot connect (the caller may ask for table names instead); -2 at the
 * end of input. */
int db_wizard_streams(const struct source *s, const struct project *p, struct strbuf *yaml, struct strbuf *err);

#endif
