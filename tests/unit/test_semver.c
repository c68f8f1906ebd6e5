/* Package versions: precedence and ranges as dbt's hub resolver has them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/strbuf.h"
#include "transform/semver.h"

static int cmp(const char *a, const char *b)
{
	struct semver x, y;
	assert_int_equal(semver_parse(a, &x), 0);
	assert_int_equal(semver_parse(b, &y), 0);
	int c = semver_cmp(&x, &y);
	return (c > 0) - (c < 0);
}

static void test_order(void **state)
{
	(void)state;
	const char *ordered[] = { "0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2",
				  "1.0.0-beta.11", "1.0.0-rc1", "1.0.0", "1.0.1", "1.2", "1.10.0", "2.0.0b1", "2.0.0" };
	size_t n = sizeof ordered / sizeof *ordered;
	for (size_t i = 0; i + 1 < n; i++) {
		assert_int_equal(cmp(ordered[i], ordered[i + 1]), -1);
		assert_int_equal(cmp(ordered[i + 1], ordered[i]), 1);
	}
	assert_int_equal(cmp("1.2", "1.2.0"), 0);
	assert_int_equal(cmp("v1.2.0", "1.2.0+build5"), 0);
	struct semver v;
	assert_int_equal(semver_parse("one", &v), -1);
	assert_int_equal(semver_parse("1.x", &v), -1);
	assert_int_equal(semver_parse("", &v), -1);
}

static int in_range(const char *const *constraints, const char *version)
{
	struct semver_range r;
	struct semver v;
	struct strbuf err = STRBUF_INIT;
	memset(&r, 0, sizeof r);
	for (; *constraints; constraints++)
		assert_int_equal(semver_range_add(&r, *constraints, &err), 0);
	assert_int_equal(semver_parse(version, &v), 0);
	strbuf_release(&err);
	return semver_range_contains(&r, &v);
}

static void test_ranges(void **state)
{
	(void)state;
	const char *band[] = { ">=1.0.0", "<2.0.0", NULL };
	assert_true(in_range(band, "1.0.0"));
	assert_true(in_range(band, "1.99.3"));
	assert_false(in_range(band, "2.0.0"));
	assert_false(in_range(band, "0.9.9"));
	const char *exact[] = { "1.1.1", NULL }, *eq[] = { "=1.1.1", NULL }, *gt[] = { ">1.1", "<=1.2", NULL };
	assert_true(in_range(exact, "1.1.1"));
	assert_false(in_range(exact, "1.1.2"));
	assert_true(in_range(eq, "1.1.1"));
	assert_false(in_range(gt, "1.1.0"));
	assert_true(in_range(gt, "1.2.0"));
	/* narrower constraints win, whatever their order */
	const char *narrowing[] = { "<3.0.0", ">=1.0.0", "<1.5.0", ">=1.2.0", NULL };
	assert_false(in_range(narrowing, "1.5.0"));
	assert_true(in_range(narrowing, "1.4.0"));
	assert_false(in_range(narrowing, "1.1.0"));
	struct semver_range r;
	struct strbuf sb = STRBUF_INIT;
	memset(&r, 0, sizeof r);
	assert_int_equal(semver_range_add(&r, ">=soon", &sb), -1);
	assert_non_null(strstr(sb.buf, "'>=soon' is not a version constraint"));
	strbuf_reset(&sb);
	semver_range_add(&r, ">=1.0", &sb);
	semver_range_add(&r, "<2.0.0", &sb);
	semver_range_describe(&sb, &r);
	assert_string_equal(sb.buf, ">=1.0.0, <2.0.0");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_order), cmocka_unit_test(test_ranges) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
