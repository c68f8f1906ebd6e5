/* The result module's text rendering, checked against DuckDB itself: for
 * values of every type (edge cases included), the text read from the vectors
 * must equal DuckDB's CAST(x AS VARCHAR), which is what the duckdb CLI shows.
 * Also the JSON rendering, the (row, col) access across chunks, streaming, and
 * the integer accessors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "warehouse/warehouse.h"

static struct warehouse wh;
static int mismatches;

static int setup(void **state)
{
	mismatches = 0;
	struct strbuf err = STRBUF_INIT;
	int r = warehouse_open(&wh, ":memory:", WH_READ_WRITE, &err);
	if (r < 0)
		fprintf(stderr, "%s\n", err.buf);
	strbuf_release(&err);
	return r;
}

static int teardown(void **state)
{
	warehouse_close(&wh);
	return 0;
}

/* Every row of "SELECT x FROM (values)" renders as DuckDB's cast of it
 * (mismatches are all printed, and counted in mismatches). */
static void check_like_cast(const char *values)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT;
	struct wh_result r;
	strbuf_addf(&sql, "SELECT x, CAST(x AS VARCHAR) AS t FROM (%s) v(x)", values);
	if (warehouse_query(&wh, sql.buf, &r, &err) < 0) {
		print_error("%s: %s\n", values, err.buf);
		mismatches++;
		strbuf_release(&sql);
		strbuf_release(&err);
		return;
	}
	assert_true(r.rows > 0);
	for (size_t i = 0; i < r.rows; i++) {
		char *got = wh_result_str(&r, i, 0), *want = wh_result_str(&r, i, 1);
		if (!got != !want || (got && strcmp(got, want))) {
			print_error("%s, row %zu: rendered '%s', DuckDB says '%s'\n", values, i, got ? got : "(null)",
				    want ? want : "(null)");
			mismatches++;
		}
		free(got);
		free(want);
	}
	wh_result_free(&r);
	strbuf_release(&sql);
	strbuf_release(&err);
}

static const char *const scalar_cases[] = {
	"VALUES (true), (false), (NULL::BOOLEAN)",
	"VALUES ((-128)::TINYINT), (127::TINYINT), (0::TINYINT)",
	"VALUES ((-32768)::SMALLINT), (32767::SMALLINT)",
	"VALUES ((-2147483648)::INTEGER), (2147483647::INTEGER)",
	"VALUES ((-9223372036854775808)::BIGINT), (9223372036854775807::BIGINT)",
	"VALUES (255::UTINYINT), (65535::USMALLINT), (4294967295::UINTEGER)",
	"VALUES (18446744073709551615::UBIGINT), (0::UBIGINT)",
	"VALUES (170141183460469231731687303715884105727::HUGEINT), (-170141183460469231731687303715884105727::HUGEINT - 1), "
	"(0::HUGEINT), (-1::HUGEINT), (18446744073709551616::HUGEINT)",
	"VALUES (340282366920938463463374607431768211455::UHUGEINT), (0::UHUGEINT), (18446744073709551616::UHUGEINT)",
	"VALUES (1.0::DOUBLE), (0.1::DOUBLE), (1e20::DOUBLE), (1e15::DOUBLE), (1e16::DOUBLE), (9999999999999998.0::DOUBLE), "
	"(123456789.125::DOUBLE), (1e-5::DOUBLE), (0.0001::DOUBLE), (0.00012345::DOUBLE), ('inf'::DOUBLE), "
	"('-inf'::DOUBLE), ('nan'::DOUBLE), (-0.0::DOUBLE), (2.5e-310::DOUBLE), (1.7976931348623157e308::DOUBLE), "
	"(-3.14159::DOUBLE), (100.0::DOUBLE), (1.5e-7::DOUBLE), (123456789012345678.0::DOUBLE), (1/3::DOUBLE)",
	"VALUES (0.1::FLOAT), (3.4e38::FLOAT), (1.5e-45::FLOAT), (16777216::FLOAT), (1/3::FLOAT), (-2.5::FLOAT), "
	"(1e16::FLOAT), (123456.7::FLOAT)",
	"VALUES (1.50::DECIMAL(5,2)), (-0.05::DECIMAL(5,2)), (0::DECIMAL(5,2)), (999.99::DECIMAL(5,2))",
	"VALUES (123::DECIMAL(3,0)), (-1.5::DECIMAL(18,1)), (0.000001::DECIMAL(9,6)), (-123456789.123456789::DECIMAL(18,9))",
	"VALUES (12345678901234567890.123456789::DECIMAL(38,9)), (-0.1::DECIMAL(38,30)), (1::DECIMAL(38,0))",
	"VALUES ('plain'), (''), ('with ''quote'''), ('tab\there'), ('ünïcødé ✓')",
	"VALUES ('\\x00ab\\x0A\\x5C\\x27\\x22\\x7F\\x80\\xFF a'::BLOB), (''::BLOB), ('abc'::BLOB)",
	"VALUES (DATE '2024-02-29'), (DATE '0001-01-01'), (DATE '-0044-03-15'), (DATE '9999-12-31'), "
	"('infinity'::DATE), ('-infinity'::DATE), (DATE '1969-12-31'), (DATE '10000-01-01')",
	"VALUES (TIME '00:00:00'), (TIME '12:00:00.123'), (TIME '23:59:59.999999'), (TIME '01:02:03.000001'), "
	"('24:00:00'::TIME)",
	"VALUES (TIMESTAMP '2024-01-02 03:04:05.5'), (TIMESTAMP '1969-12-31 23:59:59.999999'), "
	"(TIMESTAMP '-0044-03-15 10:00:00'), ('infinity'::TIMESTAMP), ('-infinity'::TIMESTAMP), (TIMESTAMP '1970-01-01')",
	"VALUES (TIMESTAMP_S '2024-01-01 01:02:03'), (TIMESTAMP_S '1900-01-01 00:00:00')",
	"VALUES (TIMESTAMP_MS '2024-01-01 01:02:03.123'), (TIMESTAMP_MS '1960-01-01 01:02:03.1')",
	"VALUES (TIMESTAMP_NS '2024-01-01 01:02:03.123456789'), (TIMESTAMP_NS '1969-12-31 23:59:59.000000001'), "
	"(TIMESTAMP_NS '2024-01-01 01:02:03')",
	"VALUES (TIMESTAMPTZ '2024-01-01 12:00:00+00'), (TIMESTAMPTZ '2024-07-01 12:00:00.25+02'), "
	"(TIMESTAMPTZ '1950-06-01 00:00:00+00'), ('infinity'::TIMESTAMPTZ)",
	"VALUES ('12:00:00+05:30'::TIMETZ), ('12:00:00-08'::TIMETZ), ('12:00:00.5+05:30:15'::TIMETZ), ('00:00:00+00'::TIMETZ)",
	"VALUES (INTERVAL 1 YEAR + INTERVAL 2 MONTH + INTERVAL 3 DAY + INTERVAL '04:05:06.789'), (INTERVAL '-1 day'), "
	"(INTERVAL '-01:00:00'), (INTERVAL 0 SECOND), (INTERVAL 13 MONTH), (INTERVAL '100 hours'), (INTERVAL '1 microsecond'), "
	"(INTERVAL '-1 year -2 days 00:00:01'), (INTERVAL '1 month -1 day'), (INTERVAL '-00:00:00.5'), (INTERVAL '2 years'), "
	"(INTERVAL '-14 months')",
	"VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID), ('00000000-0000-0000-0000-000000000000'::UUID), "
	"('ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID), ('7fffffff-ffff-ffff-8000-000000000000'::UUID)",
	"VALUES ('101010'::BIT), ('1'::BIT), ('0000000011111111'::BIT), ('101101011'::BIT)",
	"VALUES (12345678901234567890123::BIGNUM), (-5::BIGNUM), (0::BIGNUM), (255::BIGNUM), (-256::BIGNUM), "
	"(-12345678901234567890123::BIGNUM), (256::BIGNUM)",
	"SELECT unnest(['b', 'a', NULL])::ENUM('a', 'b')",
	"VALUES ('{\"a\": [1, 2]}'::JSON), ('3'::JSON)",
	"VALUES (NULL), (NULL)",
};

static const char *const nested_cases[] = {
	"VALUES ([1, 2, 3]), ([]::INT[]), ([NULL::INT]), (NULL::INT[])",
	"VALUES (['a', 'b c', 'd,e', '', NULL, 'it''s', '[x]', 'NULL', 'null', ' lead', 'trail ', 'q\"', '{a}', 'a:b', "
	"'a=b', 'x\\y', 'a\\b,', '(p)', ' '])",
	"VALUES ([[1, 2], [3]]), ([[]]::INT[][])",
	"VALUES ([1, 2, 3]::INT[3]), ([NULL, 2, 3]::INT[3])",
	"VALUES ({'a': 1, 'b c': 'x y', 'k''': [1, 2], 'n': NULL})",
	"VALUES ({'x': {'y': 'z, w'}})",
	"VALUES (MAP {'k': 1, 'k,2': NULL}), (MAP {}::MAP(VARCHAR, INT))",
	"VALUES (MAP {1: [1.5, 2.0]}), (MAP {2: NULL::DOUBLE[]})",
	"VALUES (MAP {'a b': 'c d'})",
	"SELECT union_value(num := 2)::UNION(num INT, str VARCHAR) UNION ALL "
	"SELECT union_value(str := 'a,b')::UNION(num INT, str VARCHAR)",
	"VALUES ([union_value(s := 'a,b')::UNION(n INT, s VARCHAR)])",
	"VALUES (['2024-01-01'::DATE]), ([NULL::DATE])",
	"VALUES ([TIMESTAMPTZ '2024-01-01 00:00:00+00'])", "VALUES ([TIMESTAMP '2024-01-01 00:00:00'])",
	"VALUES ([1.5::DOUBLE, 1e20, 'nan'::DOUBLE])", "VALUES ([1.50::DECIMAL(5,2)])",
	"VALUES ([true, false])", "VALUES (['\\xAA'::BLOB])", "VALUES (['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID])",
	"VALUES ([INTERVAL 1 DAY, INTERVAL '01:00:00'])", "VALUES ([TIME '01:02:03'])", "VALUES (['12:00:00+05:30'::TIMETZ])",
	"VALUES ([{'a': 'x'}, NULL])", "VALUES ([MAP {'k': [1]}])",
	"VALUES (['101'::BIT])", "VALUES ([12345678901234567890123::BIGNUM])", "VALUES (['{\"a\": 1}'::JSON])",
	"SELECT [unnest(['b', 'a'])::ENUM('a', 'b')]",
	"VALUES ({'a': [{'b': MAP {'c': [1, NULL]}}]})",
};

static void test_scalars_like_cast(void **state)
{
	for (size_t i = 0; i < sizeof(scalar_cases) / sizeof(scalar_cases[0]); i++)
		check_like_cast(scalar_cases[i]);
	assert_int_equal(mismatches, 0);
}

static void test_nested_like_cast(void **state)
{
	for (size_t i = 0; i < sizeof(nested_cases) / sizeof(nested_cases[0]); i++)
		check_like_cast(nested_cases[i]);
	assert_int_equal(mismatches, 0);
}

static void test_timestamptz_in_session_zone(void **state)
{
	static const char *const zones[] = { "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Etc/UTC" };
	struct strbuf err = STRBUF_INIT;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		assert_int_equal(warehouse_execf(&wh, &err, "SET TimeZone = '%s'", zones[z]), 0);
		check_like_cast("VALUES (TIMESTAMPTZ '2024-01-01 12:00:00+00'), (TIMESTAMPTZ '2024-07-01 12:34:56.789+00'), "
				"(TIMESTAMPTZ '1900-01-01 00:00:00+00'), (TIMESTAMPTZ '2024-03-10 07:30:00+00'), "
				"(TIMESTAMPTZ '2100-07-01 00:00:00+00'), (TIMESTAMPTZ '1800-01-01 00:00:00+00')");
		check_like_cast("VALUES ([TIMESTAMPTZ '2024-07-01 12:00:00+00'])");
		check_like_cast("VALUES ({'t': TIMESTAMPTZ '2024-01-01 00:00:00+00'})");
	}
	strbuf_release(&err);
	assert_int_equal(mismatches, 0);
}

static char *json_of(const char *sql)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct wh_result r;
	if (warehouse_query(&wh, sql, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.buf);
	for (size_t c = 0; c < r.cols; c++) {
		strbuf_addstr(&sb, c ? ", " : "");
		wh_result_add_json(&r, 0, c, &sb);
	}
	wh_result_free(&r);
	strbuf_release(&err);
	return strbuf_detach(&sb, NULL);
}

static void test_json(void **state)
{
	static const struct { const char *sql, *want; } cases[] = {
		{ "SELECT 1, -2::BIGINT, true, NULL, 'x\"y'", "1, -2, true, null, \"x\\\"y\"" },
		{ "SELECT 170141183460469231731687303715884105727::HUGEINT, 12345678901234567890.123456789::DECIMAL(38,9)",
		  "170141183460469231731687303715884105727, 12345678901234567890.123456789" },
		{ "SELECT 1.5::DOUBLE, 1e20::DOUBLE, 'nan'::DOUBLE, 'inf'::FLOAT, 0.1::FLOAT",
		  "1.5, 1e+20, \"nan\", \"inf\", 0.1" },
		{ "SELECT [1, NULL, 3], [['a'], []], [1, 2]::INT[2]", "[1, null, 3], [[\"a\"], []], [1, 2]" },
		{ "SELECT {'a': 1, 'b': {'c': [true]}}, MAP {'k': 1, 'j': NULL}, MAP {1: 'x'}",
		  "{\"a\": 1, \"b\": {\"c\": [true]}}, {\"k\": 1, \"j\": null}, {\"1\": \"x\"}" },
		{ "SELECT union_value(n := 2)::UNION(n INT, s VARCHAR), union_value(s := 'q')::UNION(n INT, s VARCHAR)",
		  "2, \"q\"" },
		{ "SELECT '\\x00\\xFFa\\x22'::BLOB, DATE '2024-01-02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID",
		  "\"\\\\x00\\\\xFFa\\\\x22\", \"2024-01-02\", \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"" },
		{ "SELECT '{\"a\": [1, 2]}'::JSON, INTERVAL 1 DAY, '101'::BIT, -5::BIGNUM",
		  "{\"a\": [1, 2]}, \"1 day\", \"101\", -5" },
		{ "SELECT 'a' || chr(0) || 'b'", "\"a\\u0000b\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = json_of(cases[i].sql);
		if (strcmp(got, cases[i].want))
			fail_msg("%s: got %s, want %s", cases[i].sql, got, cases[i].want);
		free(got);
	}
}

/* Several chunks: every row is found, in order, both ways. */
static void test_chunks_and_streaming(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct wh_result r;
	const char *sql = "SELECT i, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, i::VARCHAR AS s FROM range(10000) t(i)";
	assert_int_equal(warehouse_query(&wh, sql, &r, &err), 0);
	assert_int_equal(r.rows, 10000);
	assert_int_equal(r.cols, 3);
	for (size_t i = 0; i < r.rows; i += 997) {
		char *s = wh_result_str(&r, i, 2);
		assert_int_equal(wh_result_int(&r, i, 0), (int64_t)i);
		assert_int_equal(strtoll(s, NULL, 10), (long long)i);
		free(s);
	}
	assert_int_equal(wh_result_int(&r, 9999, 0), 9999);
	assert_int_equal(wh_result_int(&r, 3, 0), 3);
	assert_null(wh_result_str(&r, 10000, 0));
	wh_result_free(&r);

	size_t seen = 0;
	int64_t sum = 0;
	assert_int_equal(warehouse_query_stream(&wh, sql, &r, &err), 0);
	assert_int_equal(r.rows, 0);
	while (wh_result_next(&r, &err) == 1) {
		for (size_t i = 0; i < r.rows; i++)
			sum += wh_result_int(&r, i, 0);
		seen += r.rows;
	}
	wh_result_free(&r);
	assert_int_equal(seen, 10000);
	assert_int_equal(sum, (int64_t)10000 * 9999 / 2);
	strbuf_release(&err);
}

static void test_int_accessors(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct wh_result r;
	int64_t v;
	assert_int_equal(warehouse_query(&wh, "SELECT 170141183460469231731687303715884105727::HUGEINT, -7::HUGEINT, "
					      "12.75::DECIMAL(5,2), true, 'x', NULL::INT, 18446744073709551615::UBIGINT, 2.5::DOUBLE",
					 &r, &err), 0);
	assert_true(wh_result_get_int(&r, 0, 0, &v) < 0);
	assert_int_equal(wh_result_int(&r, 0, 0), INT64_MAX);
	assert_int_equal(wh_result_get_int(&r, 0, 1, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(wh_result_int(&r, 0, 2), 12);
	assert_true(fabs(wh_result_double(&r, 0, 2) - 12.75) < 1e-9);
	assert_int_equal(wh_result_int(&r, 0, 3), 1);
	assert_true(wh_result_get_int(&r, 0, 4, &v) < 0);
	assert_true(wh_result_is_null(&r, 0, 5));
	assert_true(wh_result_get_int(&r, 0, 6, &v) < 0);
	assert_true(fabs(wh_result_double(&r, 0, 7) - 2.5) < 1e-9);
	assert_int_equal(wh_result_type(&r, 0), WH_T_INT);
	assert_int_equal(wh_result_type(&r, 2), WH_T_FLOAT);
	assert_string_equal(wh_result_type_name(&r, 2), "decimal(5,2)");
	wh_result_free(&r);
	strbuf_release(&err);
}

/* Every statement, in order; the first failure stops the rest. */
static int count_results(struct wh_result *r, void *data)
{
	struct strbuf *sb = data;
	if (!r->cols || wh_result_is_status(r))
		return 0;
	char *v = wh_result_str(r, 0, 0);
	strbuf_addf(sb, "%s;", v ? v : "NULL");
	free(v);
	return 0;
}

static void test_each_statement(void **state)
{
	struct strbuf err = STRBUF_INIT, seen = STRBUF_INIT;
	assert_int_equal(warehouse_query_each(&wh, "SELECT 1; CREATE TEMP TABLE e AS SELECT 2 AS x; INSERT INTO e VALUES (3);"
					      "SELECT sum(x) FROM e; SELECT 'a;b'", count_results, &seen, &err), 0);
	assert_string_equal(seen.buf, "1;5;a;b;");
	strbuf_reset(&seen);
	assert_int_equal(warehouse_query_each(&wh, "BEGIN; SET threads = 2; INSERT INTO e VALUES (4) RETURNING x; COMMIT; CHECKPOINT",
					      count_results, &seen, &err), 0);
	assert_string_equal(seen.buf, "4;");
	strbuf_reset(&seen);
	assert_true(warehouse_query_each(&wh, "SELECT 7; SELECT * FROM nope; SELECT 8", count_results, &seen, &err) < 0);
	assert_string_equal(seen.buf, "7;");
	assert_non_null(strstr(err.buf, "nope"));
	strbuf_release(&err);
	strbuf_release(&seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scalars_like_cast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_like_cast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamptz_in_session_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks_and_streaming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_accessors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_statement, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
