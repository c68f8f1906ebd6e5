/* The Jinja interpreter on hostile input: no undefined behaviour, no huge
 * allocation, a clear error instead (issue 10, item 4). Every template here
 * renders in one environment, one after the other, as the models of a
 * `dango run` do: an error must leave nothing behind for the next render. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "transform/jinja/jinja.h"

static struct jinja_env env;

static int render(const char *src, struct strbuf *out, struct strbuf *err)
{
	struct jinja_template *t = jinja_template_parse(&env, "models/a.sql", src, strlen(src), err);
	int rc = t ? jinja_render(&env, t, jval_undefined(), out, err) : -1;
	jinja_template_unref(t);
	return rc;
}

static void expect_out(const char *src, const char *want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	if (render(src, &out, &err) < 0)
		fail_msg("%s: render failed: %s", src, err.buf);
	if (strcmp(out.buf, want))
		fail_msg("%s: got '%s', want '%s'", src, out.buf, want);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* The render fails with an error that contains want. */
static void expect_err(const char *src, const char *want)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	if (render(src, &out, &err) == 0)
		fail_msg("%s: expected an error, got '%.80s'", src, out.buf);
	if (!strstr(err.buf, want))
		fail_msg("%s: error '%s' does not say '%s'", src, err.buf, want);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_set_attribute_of_undefined(void **state)
{
	/* assign() used to unref an uninitialised value; twice in one env */
	for (int i = 0; i < 3; i++) {
		expect_err("{% set x.y = 1 %}", "models/a.sql:1:4: cannot assign attribute on non-namespace object");
		expect_err("{% set d = {} %}{% set d.y = 1 %}", "cannot assign attribute on non-namespace object");
	}
	expect_out("{% set ns = namespace(a=1) %}{% set ns.a = 2 %}{{ ns.a }}", "2");
}

static void test_integer_literals(void **state)
{
	expect_out("{{ 0x7fffffffffffffff }} {{ 9223372036854775807 }} {{ 0b1_0 }} {{ 0o17 }}",
		   "9223372036854775807 9223372036854775807 2 15");
	expect_err("{{ 0x10000000000000000 }}", "models/a.sql:1:4: integer overflow: the literal does not fit in 64 bits");
	expect_err("{{ 0xffffffffffffffffffff }}", "integer overflow");
	expect_err("{{ 0b11111111111111111111111111111111111111111111111111111111111111111 }}", "integer overflow");
	expect_err("{{ 99999999999999999999 }}", "integer overflow");
	expect_err("{{ 'a'.center(411111111111111111111111111) }}", "integer overflow");
}

static void test_integer_arithmetic(void **state)
{
	expect_out("{{ 9223372036854775806 + 1 }}", "9223372036854775807");
	expect_err("{{ 9223372036854775807 + 1 }}", "integer overflow");
	expect_err("{{ -9223372036854775807 - 2 }}", "integer overflow");
	expect_err("{{ 4294967296 * 4294967296 }}", "integer overflow");
	expect_err("{% set m = -9223372036854775807 - 1 %}{{ -m }}", "integer overflow");
	expect_err("{% set m = -9223372036854775807 - 1 %}{{ m // -1 }}", "integer overflow");
	expect_err("{{ 2 ** 63 }}", "integer overflow");
	expect_out("{{ 2 ** 62 }} {{ (-2) ** 63 }} {{ 3 ** 3 }}", "4611686018427387904 -9223372036854775808 27");
	/* by squaring: a huge exponent of 0, 1 or -1 is instant */
	expect_out("{{ 1 ** 1000000000000 }} {{ (-1) ** 1000000000001 }} {{ 0 ** 1000000000000 }}", "1 -1 0");
	expect_err("{{ [1, 2] | sum(start=9223372036854775807) }}", "integer overflow");
	expect_err("{{ '%d' % 1e300 }}", "integer overflow");
	expect_err("{{ '%d' % (1e300 * 1e300) }}", "cannot convert float infinity to integer");
	expect_out("{{ range(-9223372036854775807 - 1, 9223372036854775807, 4611686018427387904) | list }}",
		   "[-9223372036854775808, -4611686018427387904, 0, 4611686018427387904]");
	expect_out("{{ 2.5 | round(-9223372036854775807 - 1) }} {{ 2.5 | round(9223372036854775807) }}",
		   "0.0 2.5");
}

static void test_huge_sizes(void **state)
{
	expect_err("{{ 'a'.center(10**12) }}", "width 1000000000000 is too large");
	expect_err("{{ 'a'.ljust(10**12) }}", "too large");
	expect_err("{{ 'a'.rjust(10**12, '-') }}", "too large");
	expect_err("{{ '1'.zfill(10**12) }}", "too large");
	expect_err("{{ 'a' | center(10**12) }}", "too large");
	expect_err("{{ 'a\nb' | indent(10**12) }}", "too large");
	expect_err("{{ 'a' * 10**12 }}", "repeated string is too long");
	expect_err("{{ 10**12 * 'a' }}", "repeated string is too long");
	expect_err("{{ [1] * 10**12 }}", "repeated list is too long");
	expect_err("{{ range(10**12) | length }}", "Range too big");
	expect_err("{{ [1] | batch(10**12, 0) | list }}", "too large");
	expect_err("{{ [1] | slice(10**12) | list }}", "too large");
	expect_err("{{ '{:999999999999}'.format(1) }}", "format width or precision is too large");
	expect_err("{{ '{:99999999999999999999999999}'.format(1) }}", "too large");
	expect_err("{{ '%999999999999s' % 'a' }}", "too large");
	expect_err("{{ {'a': 1} | tojson(10**12) }}", "too large");
	expect_err("{{ ('a' * 1000) | replace('', 'b' * 1000000) }}", "replaced string is too long");
	expect_err("{{ ('a' * 1000).replace('a', 'b' * 1000000) }}", "replaced string is too long");
	expect_err("{{ ('x' * 1000000).join(['a'] * 1000) }}", "joined string is too long");
	/* doubling in a loop stops at the limit, not at the machine's memory */
	expect_err("{% set ns = namespace(s='x' * 134217729) %}{% set ns.s = ns.s ~ ns.s %}", "string is too long");
	expect_err("{% set s = 'x' * 134217729 %}{{ s + s }}", "string is too long");
	expect_out("{{ ('ab' * 3).center(10, '*') }}|{{ 'a' * 0 }}|{{ 'a' * -5 }}", "**ababab**||");
}

static void test_cycles_and_depth(void **state)
{
	/* Python prints a list that contains itself as [...]; the cycles are
	 * broken after (reference cycles leak, see value.h) */
	expect_out("{% set l = [1] %}{% do l.append(l) %}{{ l }}{% do l.pop() %}", "[1, [...]]");
	expect_out("{% set d = {} %}{% do d.update({'me': d}) %}{{ d }}{% do d.pop('me') %}", "{'me': {...}}");
	/* very deep nesting prints, cut off, without overflowing the stack */
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	assert_int_equal(render("{% set ns = namespace(l=[]) %}{% for i in range(5000) %}{% set ns.l = [ns.l] %}"
				"{% endfor %}{{ ns.l }}", &out, &err), 0);
	assert_non_null(strstr(out.buf, "[[[...]]]"));
	strbuf_release(&out);
	strbuf_release(&err);
	/* 100,000 levels: freed, compared and hashed without recursion past
	 * a bounded depth */
	const char *deep = "{% set ns = namespace(l=[], m=[], t=()) %}{% for i in range(100000) %}"
			   "{% set ns.l = [ns.l] %}{% set ns.m = [ns.m] %}{% set ns.t = (ns.t,) %}{% endfor %}";
	char src[512];
	/* two equal lists 100,000 deep: Python raises RecursionError; here
	 * the comparison gives up, past 200 levels, as unequal */
	snprintf(src, sizeof(src), "%s{{ ns.l | length }} {{ ns.l == ns.l }} {{ ns.l == [ns.l[0]] }} {{ ns.l == ns.m }}",
		 deep);
	expect_out(src, "1 True True False");
	snprintf(src, sizeof(src), "%s{{ ns.l | tojson }}", deep);
	expect_err(src, "tojson: the value is nested too deeply (or contains itself)");
	snprintf(src, sizeof(src), "%s{{ {ns.t: 1} }}", deep);
	expect_err(src, "unhashable type");
	snprintf(src, sizeof(src), "%s{{ [ns.l, ns.m] | sort }}", deep);
	expect_err(src, "not supported between instances");
}

static int setup(void **state)
{
	jinja_env_init(&env);
	return 0;
}

static int teardown(void **state)
{
	jinja_env_release(&env);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_attribute_of_undefined),
		cmocka_unit_test(test_integer_literals),
		cmocka_unit_test(test_integer_arithmetic),
		cmocka_unit_test(test_huge_sizes),
		cmocka_unit_test(test_cycles_and_depth),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
