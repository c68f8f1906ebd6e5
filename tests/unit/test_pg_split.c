/* The statements of user SQL on a postgres warehouse (pg_query.c): split at
 * the semicolons outside strings, quoted names, dollar quotes and comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/strvec.h"
#include "warehouse/pg_query.h"

static void check(const char *sql, const char *const *want, size_t n)
{
	struct strvec out = STRVEC_INIT;
	pg_split_statements(sql, &out);
	assert_int_equal(out.nr, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out.v[i], want[i]);
	strvec_clear(&out);
}

static void test_split(void **state)
{
	(void)state;
	const char *a[] = { "SELECT 1", "SELECT 2" };
	check("SELECT 1; SELECT 2;", a, 2);
	const char *b[] = { "SELECT 'a;b', 'it''s;'", "SELECT \"x;\"\"y\" FROM t" };
	check(" SELECT 'a;b', 'it''s;' ;\n SELECT \"x;\"\"y\" FROM t", b, 2);
	const char *c[] = { "SELECT $$a;b$$, $tag$ $$; $tag$", "SELECT $1" };
	check("SELECT $$a;b$$, $tag$ $$; $tag$; SELECT $1", c, 2);
	const char *d[] = { "SELECT 1 -- a; b", "/* x; /* nested; */ ; */ SELECT 2" };
	check("SELECT 1 -- a; b\n; /* x; /* nested; */ ; */ SELECT 2", d, 2);
	const char *e[] = { "SELECT E'\\';'" };
	check("SELECT E'\\';'; ;;", e, 1);
	check("  ;\n ; ", NULL, 0);
	/* an unterminated string runs to the end: one statement, which the server rejects */
	const char *f[] = { "SELECT 'a; DELETE FROM t" };
	check("SELECT 'a; DELETE FROM t", f, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_split) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
