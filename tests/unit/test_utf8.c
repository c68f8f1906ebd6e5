/* utf8_bad_at (core/util.h): where a byte string stops being UTF-8, at
 * every offset of the word-at-a-time fast paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"

static size_t bad_at(const char *s, size_t n)
{
	return utf8_bad_at((const unsigned char *)s, n);
}

static void test_valid(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"", "plain ascii", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8d\xa1 dango", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xc2\x80", "\x7f",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(bad_at(ok[i], strlen(ok[i])), strlen(ok[i]));
}

static void test_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t at;
	} bad[] = {
		{ "\x80", 0 },                 /* a continuation byte alone */
		{ "ab\xc0\xaf", 2 },           /* overlong "/" */
		{ "\xc1\xbf", 0 },             /* overlong */
		{ "\xe0\x9f\xbf", 0 },         /* overlong, three bytes */
		{ "\xf0\x8f\xbf\xbf", 0 },     /* overlong, four bytes */
		{ "x\xed\xa0\x80", 1 },        /* a surrogate */
		{ "\xed\xbf\xbf", 0 },         /* a surrogate */
		{ "\xf4\x90\x80\x80", 0 },     /* past U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 0 }, /* five bytes */
		{ "\xff", 0 },
		{ "caf\xc3", 3 },              /* cut short at the end */
		{ "\xe2\x82", 0 },
		{ "\xe2\x28\xa1", 0 },         /* a bad second byte */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bad_at(bad[i].s, strlen(bad[i].s)), bad[i].at);
}

/* a bad byte at every offset of a long ASCII run, and a good one too */
static void test_every_offset(void **state)
{
	(void)state;
	char buf[80];
	for (size_t at = 0; at + 2 <= sizeof(buf); at++) {
		memset(buf, 'a', sizeof(buf));
		buf[at] = '\xff';
		assert_int_equal(bad_at(buf, sizeof(buf)), at);
		memset(buf, 'a', sizeof(buf));
		buf[at] = '\xc3';
		buf[at + 1] = '\xa9';
		assert_int_equal(bad_at(buf, sizeof(buf)), sizeof(buf));
		/* the length given is respected: a bad byte just past it is not read */
		assert_int_equal(bad_at(buf, at), at);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
