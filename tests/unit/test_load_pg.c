/* The type mapping of a PostgreSQL warehouse (src/ingest/pg_types.c):
 * DuckDB's types to PostgreSQL's, and back to the same DuckDB type for
 * every type a load creates (so that a file table's accepted schema
 * reads the same after a round trip through the server), through the
 * column's type note where PostgreSQL's type does not say it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "ingest/load_pg.h"

static void expect_pg(const char *duck, const char *pg)
{
	struct strbuf sb = STRBUF_INIT;
	pg_load_pg_type(&sb, duck);
	assert_string_equal(sb.buf, pg);
	strbuf_release(&sb);
}

static void expect_duck(const char *pg, const char *duck)
{
	struct strbuf sb = STRBUF_INIT;
	pg_load_duck_type(&sb, pg);
	assert_string_equal(sb.buf, duck);
	strbuf_release(&sb);
}

static void test_duck_to_pg(void **state)
{
	(void)state;
	expect_pg("BIGINT", "bigint");
	expect_pg("DECIMAL(12,3)", "numeric(12,3)");
	expect_pg("DOUBLE", "double precision");
	expect_pg("VARCHAR", "text");
	expect_pg("TIMESTAMP WITH TIME ZONE", "timestamptz");
	expect_pg("UUID", "uuid");
	expect_pg("JSON", "jsonb");
	expect_pg("BLOB", "bytea");
	expect_pg("INTEGER[]", "integer[]");
	expect_pg("DECIMAL(5,2)[]", "numeric(5,2)[]");
	expect_pg("INTEGER[][]", "jsonb");
	expect_pg("STRUCT(a INTEGER, b VARCHAR)", "jsonb");
	expect_pg("STRUCT(a INTEGER)[]", "jsonb");
	expect_pg("MAP(VARCHAR, INTEGER)", "jsonb");
	expect_pg("HUGEINT", "numeric(39,0)");
	expect_pg("ENUM('a', 'b')", "text");
}

static void test_round_trip(void **state)
{
	static const char *const types[] = { "BOOLEAN", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE",
					     "DECIMAL(18,3)", "VARCHAR", "DATE", "TIME", "TIMESTAMP",
					     "TIMESTAMP WITH TIME ZONE", "UUID", "JSON", "BLOB", "INTERVAL",
					     "BIGINT[]", "VARCHAR[]", NULL };
	(void)state;
	for (const char *const *t = types; *t; t++) {
		struct strbuf pg = STRBUF_INIT;
		pg_load_pg_type(&pg, *t);
		/* format_type's spelling of what the server created */
		const char *ft = !strcmp(pg.buf, "time") ? "time without time zone"
				 : !strcmp(pg.buf, "timestamp") ? "timestamp without time zone"
				 : !strcmp(pg.buf, "timestamptz") ? "timestamp with time zone"
				 : pg.buf;
		expect_duck(ft, *t);
		strbuf_release(&pg);
	}
	expect_duck("character varying(10)", "VARCHAR");
	expect_duck("numeric", "DOUBLE");
	expect_duck("timestamp(3) without time zone", "TIMESTAMP");
	expect_duck("numeric(39,0)", "HUGEINT");
	expect_duck("numeric(20,0)", "DECIMAL(20,0)");
}

static void expect_column(const char *pg, const char *comment, const char *duck)
{
	struct strbuf sb = STRBUF_INIT;
	pg_types_column(&sb, pg, comment);
	assert_string_equal(sb.buf, duck);
	strbuf_release(&sb);
}

/* Every type goes to the server and back to itself: by its PostgreSQL type
 * alone, or with its note. */
static void test_notes_round_trip(void **state)
{
	static const char *const types[] = {
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "HUGEINT", "TINYINT", "TIMESTAMP_S",
		"TIMESTAMP_MS", "TIMESTAMP_NS", "TIME_NS", "TIME WITH TIME ZONE", "STRUCT(a INTEGER, b VARCHAR)",
		"STRUCT(\"my field\" INTEGER, Up VARCHAR, \"a\"\"q\" INTEGER[])", "MAP(VARCHAR, STRUCT(x INTEGER)[])",
		"INTEGER[][]", "INTEGER[3]", "UTINYINT[]", "TIMESTAMP[]", "UNION(k INTEGER, s VARCHAR)",
		"ENUM('a', 'it''s')", "DECIMAL(38,10)", "BIT", "INTEGER", NULL };
	(void)state;
	for (const char *const *t = types; *t; t++) {
		struct strbuf pg = STRBUF_INIT;
		pg_types_format(&pg, *t);
		char *note = pg_types_note(*t);
		expect_column(pg.buf, note, *t);
		free(note);
		strbuf_release(&pg);
	}
	char *none = pg_types_note("BIGINT");
	assert_null(none);
	char *u1 = pg_types_note("UTINYINT");
	assert_string_equal(u1, "dango: DuckDB type UTINYINT");
	free(u1);
}

/* A note that is no plain type, or no longer fits the column, is not used. */
static void test_bad_notes(void **state)
{
	(void)state;
	expect_column("smallint", "dango: DuckDB type UTINYINT", "UTINYINT");
	expect_column("integer", "dango: DuckDB type UTINYINT", "INTEGER"); /* altered by hand */
	expect_column("smallint", "a comment of the user's", "SMALLINT");
	expect_column("text", "dango: DuckDB type VARCHAR); COPY (SELECT 1) TO 'x'; CREATE TABLE t (y VARCHAR", "VARCHAR");
	expect_column("text", "dango: DuckDB type VARCHAR DEFAULT (getenv('HOME'))", "VARCHAR");
	expect_column("jsonb", "dango: DuckDB type STRUCT(a INTEGER DEFAULT (1), b VARCHAR)", "JSON");
	expect_column("jsonb", "dango: DuckDB type STRUCT(a INTEGER, b VARCHAR", "JSON");
	expect_column("jsonb", "dango: DuckDB type STRUCT(\"a INTEGER)", "JSON");
	expect_column("numeric(5,2)", "dango: DuckDB type DECIMAL(5,2+1)", "DECIMAL(5,2)");
	expect_column("text", "dango: DuckDB type ENUM('a', b)", "VARCHAR");
	expect_column("text", "dango: DuckDB type VARCHAR, x INTEGER", "VARCHAR");
	expect_column("text[]", "dango: DuckDB type VARCHAR[1; DROP TABLE t]", "VARCHAR[]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duck_to_pg),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_notes_round_trip),
		cmocka_unit_test(test_bad_notes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
