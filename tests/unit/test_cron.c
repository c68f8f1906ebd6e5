/* Cron golden cases: every field form, Vixie's day rule, leap days, month
 * ends, DST changes in Europe/Berlin and America/New_York, the @-forms and
 * Dango's presets, and the parse errors. The expected fire times were
 * computed independently (minute by minute over the zone's wall clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/strbuf.h"
#include "schedule/cron.h"
#include "schedule/tz.h"

struct golden {
	const char *expr, *zone, *after, *want;
};

static const struct golden cases[] = {
	{ "*/15 * * * *", "UTC", "2026-03-28T12:07:00Z", "2026-03-28T12:15:00Z 2026-03-28T12:30:00Z 2026-03-28T12:45:00Z 2026-03-28T13:00:00Z" },
	{ "0 12,18 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-28T17:00:00Z 2026-03-29T10:00:00Z 2026-03-29T16:00:00Z 2026-03-30T10:00:00Z" },
	{ "0 6 * * 1", "UTC", "2026-03-28T12:00:00Z", "2026-03-30T06:00:00Z 2026-04-06T06:00:00Z 2026-04-13T06:00:00Z" },
	{ "0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z 2032-02-29T00:00:00Z 2036-02-29T00:00:00Z" },
	{ "0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z 2026-05-31T00:00:00Z 2026-07-31T00:00:00Z 2026-08-31T00:00:00Z" },
	{ "0 0 L * *", "UTC", "2026-01-01T00:00:00Z", "error: field 'day-of-month' (1-31): 'L' is not a number" },
	{ "0 0 1,15 * 5", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z 2026-01-09T00:00:00Z 2026-01-15T00:00:00Z 2026-01-16T00:00:00Z 2026-01-23T00:00:00Z" },
	{ "0 0 */10 * mon", "UTC", "2026-01-01T00:00:00Z", "2026-05-11T00:00:00Z 2026-06-01T00:00:00Z 2026-08-31T00:00:00Z 2026-09-21T00:00:00Z" },
	{ "30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", "2026-03-28T01:30:00Z 2026-03-29T01:00:00Z 2026-03-30T00:30:00Z" },
	{ "*/20 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z 2026-03-30T00:00:00Z 2026-03-30T00:20:00Z 2026-03-30T00:40:00Z" },
	{ "30 2 * * *", "Europe/Berlin", "2026-10-24T00:00:00Z", "2026-10-24T00:30:00Z 2026-10-25T00:30:00Z 2026-10-26T01:30:00Z" },
	{ "*/30 * * * *", "Europe/Berlin", "2026-10-25T00:10:00Z", "2026-10-25T00:30:00Z 2026-10-25T02:00:00Z 2026-10-25T02:30:00Z 2026-10-25T03:00:00Z 2026-10-25T03:30:00Z 2026-10-25T04:00:00Z" },
	{ "0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z 2026-10-25T02:00:00Z 2026-10-25T03:00:00Z 2026-10-25T04:00:00Z" },
	{ "30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z 2026-03-09T06:30:00Z 2026-03-10T06:30:00Z" },
	{ "0 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:00:00Z 2026-11-02T06:00:00Z 2026-11-03T06:00:00Z" },
	{ "15 1 * * sun", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T05:15:00Z 2026-11-08T06:15:00Z" },
	{ "0 9-17/4 * * mon-fri", "America/New_York", "2026-03-06T00:00:00Z", "2026-03-06T14:00:00Z 2026-03-06T18:00:00Z 2026-03-06T22:00:00Z 2026-03-09T13:00:00Z 2026-03-09T17:00:00Z 2026-03-09T21:00:00Z" },
	{ "5 4 * jan,jul sat", "UTC", "2026-01-01T00:00:00Z", "2026-01-03T04:05:00Z 2026-01-10T04:05:00Z 2026-01-17T04:05:00Z 2026-01-24T04:05:00Z" },
	{ "0 0 1 */3 *", "UTC", "2026-02-15T00:00:00Z", "2026-04-01T00:00:00Z 2026-07-01T00:00:00Z 2026-10-01T00:00:00Z 2027-01-01T00:00:00Z" },
	{ "59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z 2028-12-31T23:59:00Z" },
	{ "0 0 * * 7", "UTC", "2026-03-28T00:00:00Z", "2026-03-29T00:00:00Z 2026-04-05T00:00:00Z" },
	{ "0 0 * * 5-7", "UTC", "2026-03-26T00:00:00Z", "2026-03-27T00:00:00Z 2026-03-28T00:00:00Z 2026-03-29T00:00:00Z 2026-04-03T00:00:00Z" },
	{ "10/20 * * * *", "UTC", "2026-03-28T12:00:00Z", "2026-03-28T12:10:00Z 2026-03-28T12:30:00Z 2026-03-28T12:50:00Z 2026-03-28T13:10:00Z" },
	{ "@hourly", "UTC", "2026-03-28T12:00:00Z", "2026-03-28T13:00:00Z 2026-03-28T14:00:00Z" },
	{ "@daily", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-28T23:00:00Z 2026-03-29T22:00:00Z" },
	{ "@midnight", "UTC", "2026-03-28T12:00:00Z", "2026-03-29T00:00:00Z" },
	{ "@weekly", "UTC", "2026-03-28T12:00:00Z", "2026-03-29T00:00:00Z 2026-04-05T00:00:00Z" },
	{ "@monthly", "UTC", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z 2026-03-01T00:00:00Z" },
	{ "@yearly", "UTC", "2026-03-28T12:00:00Z", "2027-01-01T00:00:00Z 2028-01-01T00:00:00Z" },
	{ "@annually", "UTC", "2026-03-28T12:00:00Z", "2027-01-01T00:00:00Z" },
	{ "every_15m", "UTC", "2026-03-28T12:00:00Z", "2026-03-28T12:15:00Z 2026-03-28T12:30:00Z" },
	{ "every_hour", "UTC", "2026-03-28T12:00:30Z", "2026-03-28T13:00:00Z 2026-03-28T14:00:00Z" },
	{ "every_6h", "UTC", "2026-03-28T12:00:00Z", "2026-03-28T18:00:00Z 2026-03-29T00:00:00Z 2026-03-29T06:00:00Z" },
	{ "daily", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T04:00:00Z 2026-03-30T04:00:00Z 2026-03-31T04:00:00Z" },
	{ "weekly", "America/New_York", "2026-03-28T12:00:00Z", "2026-03-30T10:00:00Z 2026-04-06T10:00:00Z" },
	{ "0 0 29 2 1", "UTC", "2027-02-20T00:00:00Z", "2027-02-22T00:00:00Z 2028-02-07T00:00:00Z 2028-02-14T00:00:00Z" },
	{ "0 3 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z 2026-03-30T01:00:00Z" },
	/* errors name the field and its range */
	{ "60 * * * *", "UTC", "", "error: field 'minute' (0-59): value 60 is out of range" },
	{ "0 24 * * *", "UTC", "", "error: field 'hour' (0-23): value 24 is out of range" },
	{ "0 0 0 * *", "UTC", "", "error: field 'day-of-month' (1-31): value 0 is out of range" },
	{ "0 0 * 13 *", "UTC", "", "error: field 'month' (1-12 or jan-dec): value 13 is out of range" },
	{ "0 0 * * 8", "UTC", "", "error: field 'day-of-week' (0-7 or sun-sat): value 8 is out of range" },
	{ "0 0 * foo *", "UTC", "", "error: field 'month' (1-12 or jan-dec): 'foo' is not a number or a name" },
	{ "5-1 * * * *", "UTC", "", "error: field 'minute' (0-59): range '5-1' goes backwards" },
	{ "*/0 * * * *", "UTC", "", "error: field 'minute' (0-59): step in '*/0' is out of range" },
	{ "1,,2 * * * *", "UTC", "", "error: field 'minute' (0-59): empty list item in '1,,2'" },
	{ "* * * *", "UTC", "", "error: expected 5 fields (minute hour day-of-month month day-of-week), got 4" },
	{ "* * * * * *", "UTC", "", "error: expected 5 fields (minute hour day-of-month month day-of-week), got more" },
	{ "0 0 30 2 *", "UTC", "", "error: '0 0 30 2 *' never fires: no month in field 'month' has such a day of the month" },
	{ "@dayly", "UTC", "", "error: unknown cron preset '@dayly' (did you mean '@daily'?)" },
	{ "@reboot", "UTC", "", "error: '@reboot' has no fire time; the scheduler runs schedules by the clock only" },
	{ "", "UTC", "", "error: empty cron expression" },
};

static void check_case(const struct golden *g)
{
	struct cron c;
	struct tz tz;
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	int r = cron_parse(&c, g->expr, &err);
	if (!strncmp(g->want, "error: ", 7)) {
		if (r == 0 || strncmp(err.buf, g->want + 7, strlen(g->want + 7)))
			fail_msg("'%s': want %s, got %s", g->expr, g->want, r ? err.buf : "no error");
		strbuf_release(&err);
		return;
	}
	if (r < 0)
		fail_msg("'%s': %s", g->expr, err.buf);
	assert_int_equal(tz_load(&tz, g->zone, &err), 0);
	time_t t;
	assert_int_equal(clock_parse_iso8601(g->after, &t), 0);
	int64_t at = t;
	size_t n = 1;
	for (const char *p = g->want; *p; p++)
		n += *p == ' ';
	for (size_t i = 0; i < n; i++) {
		char buf[32];
		int64_t next;
		if (cron_next(&c, &tz, at, &next) < 0) {
			strbuf_addstr(&got, " (none)");
			break;
		}
		strbuf_addf(&got, "%s%s", i ? " " : "", clock_format_utc(buf, (time_t)next));
		at = next;
	}
	if (strcmp(got.buf, g->want))
		fail_msg("'%s' in %s after %s:\n want %s\n  got %s", g->expr, g->zone, g->after, g->want, got.buf);
	tz_release(&tz);
	strbuf_release(&err);
	strbuf_release(&got);
}

static void test_golden(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		check_case(&cases[i]);
}

static void test_presets_name(void **state)
{
	(void)state;
	struct cron c;
	struct strbuf err = STRBUF_INIT;
	assert_int_equal(cron_parse(&c, "daily", &err), 0);
	assert_string_equal(c.preset, "daily");
	assert_string_equal(c.fields, "0 6 * * *");
	assert_int_equal(cron_parse(&c, "0 12,18 * * *", &err), 0);
	assert_null(c.preset);
	strbuf_release(&err);
}

static void test_zones(void **state)
{
	(void)state;
	struct tz tz;
	struct strbuf err = STRBUF_INIT;
	struct tz_civil c;
	assert_int_equal(tz_load(&tz, "Mars/Olympus", &err), -1);
	assert_non_null(strstr(err.buf, "unknown time zone 'Mars/Olympus'"));
	assert_int_equal(tz_load(&tz, "../../etc/passwd", &err), -1);
	/* past the file's transitions, the footer rule: summer 2100 in Berlin */
	assert_int_equal(tz_load(&tz, "Europe/Berlin", &err), 0);
	tz_to_civil(&tz, 4118083200LL /* 2100-07-01T00:00:00Z */, &c);
	assert_int_equal(c.hour, 2);
	assert_string_equal(c.abbr, "CEST");
	tz_to_civil(&tz, 4102444800LL /* 2100-01-01T00:00:00Z */, &c);
	assert_int_equal(c.hour, 1);
	int64_t t;
	assert_int_equal(tz_from_civil(&tz, 2026, 3, 29, 2, 30, &t), TZ_GAP);
	assert_true(t == 1774746000); /* 2026-03-29T01:00:00Z, the change */
	assert_int_equal(tz_from_civil(&tz, 2026, 10, 25, 2, 30, &t), TZ_REPEATED);
	assert_true(t == 1792888200); /* 2026-10-25T00:30:00Z, the first 02:30 */
	tz_release(&tz);
	/* a POSIX TZ string as the machine's zone */
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	assert_int_equal(tz_load(&tz, NULL, &err), 0);
	tz_to_civil(&tz, 1774699200 /* 2026-03-28T12:00:00Z */, &c);
	assert_int_equal(c.hour, 8);
	tz_release(&tz);
	unsetenv("TZ");
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_presets_name),
		cmocka_unit_test(test_zones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
