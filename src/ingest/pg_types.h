/* DuckDB's column types and a PostgreSQL warehouse's, both ways (#19).
 *
 * Each DuckDB type has its PostgreSQL type (pg_load_pg_type): the unsigned
 * integers the next signed type that holds them, HUGEINT numeric(39,0),
 * STRUCT/MAP/UNION and lists of lists jsonb, a list of a scalar its array...
 * Back (pg_load_duck_type) a PostgreSQL type gives one DuckDB type, so
 * where two DuckDB types share a PostgreSQL one (UTINYINT and SMALLINT are
 * both smallint; any STRUCT is jsonb) the column's comment on the server
 * says which: a type note, "dango: DuckDB type UTINYINT" (pg_types_note),
 * read back by pg_types_column when the stage of the next sync is made, so
 * that it checks batches against the types of the first sync.
 *
 * A note is pasted into the stage's SQL, and anyone who may comment on the
 * table could write one: it is used only if it is a type in DuckDB's printed
 * grammar and still fits the column's PostgreSQL type. */
#ifndef DANGO_INGEST_PG_TYPES_H
#define DANGO_INGEST_PG_TYPES_H
#include <stddef.h>

struct strbuf;

#define PG_TYPES_NOTE "dango: DuckDB type "

/* PostgreSQL's type for a DuckDB column type ("DECIMAL(10,2)" -> "numeric(10,2)"). */
void pg_load_pg_type(struct strbuf *sb, const char *duck_type);
/* DuckDB's type for a PostgreSQL one (format_type's text). */
void pg_load_duck_type(struct strbuf *sb, const char *pg_type);
/* format_type's text of pg_load_pg_type's type ("TIME[]" -> "time without time zone[]"). */
void pg_types_format(struct strbuf *sb, const char *duck_type);
/* The comment a column of this DuckDB type needs (malloc'd), or NULL. */
char *pg_types_note(const char *duck_type);
/* The DuckDB type of a server column, from its type and comment (NULL: none). */
void pg_types_column(struct strbuf *sb, const char *pg_type, const char *comment);
/* STRUCT, MAP or UNION (jsonb) */
int pg_types_nested(const char *duck_type);
/* "INTEGER[]" -> 1 with the element type's length in *elem_len */
int pg_types_list(const char *duck_type, size_t *elem_len);

#endif
