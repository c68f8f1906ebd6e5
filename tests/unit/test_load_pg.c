/* The type mapping of a PostgreSQL warehouse (src/ingest/load_pg.c):
 * DuckDB's types to PostgreSQL's, and back to the same DuckDB type for
 * every type a load creates (so that a file table's accepted schema
 * reads the same after a round trip through the server). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duck_to_pg),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
