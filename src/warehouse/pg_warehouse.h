/* A PostgreSQL warehouse (project.yml warehouse: {type: postgres}): the
 * connection every command that reads or writes it opens. Loading, queries
 * and dbt all start here, so that one place decides how Dango talks to the
 * server (UTC, ISO dates, an application name) and what an error may show:
 * host:port/database, never the password or the URL's secret parts. */
#ifndef DANGO_PG_WAREHOUSE_H
#define DANGO_PG_WAREHOUSE_H
struct project;
struct strbuf;
struct pg_conn; /* libpq's PGconn */

/* Is the project's warehouse PostgreSQL? */
int pg_warehouse_enabled(const struct project *p);

/* Connect to the project's PostgreSQL warehouse. statement_timeout_s > 0
 * bounds every statement of the session (read-only queries); 0 none.
 * -1 with err naming the server ("postgres warehouse host:port/db: ..."). */
int pg_warehouse_connect(const struct project *p, int statement_timeout_s, struct pg_conn **out,
			 struct strbuf *err);
void pg_warehouse_disconnect(struct pg_conn *c);

/* "host:port/database" of the warehouse for messages (from the URL's
 * parts when url_env is used; no user, password or options). */
void pg_warehouse_describe(const struct project *p, struct strbuf *sb);

/* libpq's last error on c, trimmed of its newlines and "ERROR:  ". */
void pg_warehouse_error(struct pg_conn *c, struct strbuf *err);
/* The same for a message libpq gave (a result's, a connection's). */
void pg_warehouse_add_message(struct strbuf *err, const char *msg);

#endif
