/* The clock: ISO 8601 parsing and DANGO_NOW / DANGO_CLOCK_SPEED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

static time_t parsed(const char *s)
{
	time_t t = -12345;
	assert_int_equal(clock_parse_iso8601(s, &t), 0);
	return t;
}

static void test_parse(void **state)
{
	(void)state;
	assert_true(parsed("1970-01-01T00:00:00Z") == 0);
	assert_true(parsed("2026-03-28T12:00:00Z") == 1774699200);
	assert_true(parsed("2026-03-28T13:00:00+01:00") == 1774699200);
	assert_true(parsed("2026-03-28T07:30:00-0430") == 1774699200);
	assert_true(parsed("2026-03-28 12:00") == 1774699200);
	assert_true(parsed("2026-03-28T12:00:00.250Z") == 1774699200);
	assert_true(parsed("2024-02-29") == 1709164800);
	time_t t;
	const char *bad[] = { "", "2026", "2026-13-01", "2025-02-29", "2026-01-01T24:00",
			      "2026-01-01T12:00Zjunk", "2026-01-01T12:00+25:00", "yesterday" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(clock_parse_iso8601(bad[i], &t), -1);
	char buf[32];
	assert_string_equal(clock_format_utc(buf, 1774699200), "2026-03-28T12:00:00Z");
	assert_string_equal(clock_format_utc_sql(buf, 1774699200), "2026-03-28 12:00:00");
	char fine[40];
	assert_string_equal(clock_format_utc_usec(fine, 1774699200.25), "2026-03-28T12:00:00.250000Z");
	assert_string_equal(clock_format_utc_usec(fine, 1774699200.0), "2026-03-28T12:00:00.000000Z");
}

static void test_fake_clock(void **state)
{
	(void)state;
	setenv("DANGO_NOW", "2026-03-28T12:00:00Z", 1);
	setenv("DANGO_CLOCK_SPEED", "600", 1);
	clock_reset();
	double a = clock_now();
	assert_true(a >= 1774699200.0 && a < 1774699200.0 + 600);
	assert_true(clock_real_seconds(600) == 1.0);
	/* 0: the clock stands still, and nothing later ever comes due */
	setenv("DANGO_CLOCK_SPEED", "0", 1);
	clock_reset();
	assert_true(clock_now() == 1774699200.0);
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	assert_true(clock_now() == 1774699200.0);
	assert_true(clock_real_seconds(60) == DBL_MAX);
	assert_true(clock_real_seconds(-5) == 0);
	/* a value it cannot use leaves real speed (and says so on stderr) */
	setenv("DANGO_CLOCK_SPEED", "-1", 1);
	clock_reset();
	assert_true(clock_real_seconds(600) == 600.0);
	unsetenv("DANGO_NOW");
	unsetenv("DANGO_CLOCK_SPEED");
	clock_reset();
	assert_true(clock_now() > 1774699200.0 + 86400 * 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_parse),
					    cmocka_unit_test(test_fake_clock) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
