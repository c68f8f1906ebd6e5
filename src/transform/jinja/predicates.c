/* Jinja's builtin tests (jinja2/tests.py), used as `x is NAME(args)`. Each
 * gets the tested value as argument 0 and returns a bool. */
#include "internal.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARG0 (c->argv[0])

static int need(struct jinja_call *c, size_t n)
{
	if (c->argc < n)
		return jinja_call_error(c, "test '%s' needs %zu argument%s", c->name, n - 1,
					n == 2 ? "" : "s");
	return 0;
}

static int ret_bool(struct jval *ret, int b)
{
	*ret = jval_bool(b);
	return 0;
}

static int t_defined(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type != JVAL_UNDEFINED);
}

static int t_undefined(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_UNDEFINED);
}

static int t_none(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_NONE);
}

static int t_string(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_STR);
}

static int t_number(struct jinja_call *c, struct jval *ret)
{
	enum jval_type t = ARG0.type;
	return ret_bool(ret, t == JVAL_INT || t == JVAL_FLOAT || t == JVAL_BOOL);
}

static int t_integer(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_INT);
}

static int t_float(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_FLOAT);
}

static int t_boolean(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_BOOL);
}

static int t_true(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_BOOL && ARG0.u.b);
}

static int t_false(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, ARG0.type == JVAL_BOOL && !ARG0.u.b);
}

static int t_mapping(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, (ARG0.type == JVAL_DICT && !ARG0.u.d->ns) ||
				     (ARG0.type == JVAL_OBJECT && ARG0.u.o->ops->mapping));
}

static int t_sequence(struct jinja_call *c, struct jval *ret)
{
	enum jval_type t = ARG0.type;
	return ret_bool(ret, t == JVAL_STR || (t == JVAL_LIST && ARG0.u.l->kind <= JL_TUPLE) ||
				     (t == JVAL_DICT && !ARG0.u.d->ns));
}

static int t_iterable(struct jinja_call *c, struct jval *ret)
{
	enum jval_type t = ARG0.type;
	return ret_bool(ret, t == JVAL_STR || t == JVAL_LIST || (t == JVAL_DICT && !ARG0.u.d->ns));
}

static int t_callable(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, jval_is_callable(ARG0));
}

static int t_escaped(struct jinja_call *c, struct jval *ret)
{
	return ret_bool(ret, 0);
}

static int t_sameas(struct jinja_call *c, struct jval *ret)
{
	if (need(c, 2))
		return -1;
	struct jval x = ARG0, y = c->argv[1];
	int same;
	if (x.type != y.type)
		same = 0;
	else if (x.type == JVAL_NONE || x.type == JVAL_UNDEFINED)
		same = 1;
	else if (x.type == JVAL_BOOL)
		same = x.u.b == y.u.b;
	else if (x.type == JVAL_INT)
		same = x.u.i == y.u.i; /* small ints are shared in CPython */
	else if (x.type == JVAL_FLOAT)
		same = 0;
	else
		same = x.u.h == y.u.h;
	return ret_bool(ret, same);
}

static int cmp_test(struct jinja_call *c, struct jval *ret, int which)
{
	static const char *const sym[] = { "==", "!=", ">", ">=", "<", "<=" };
	if (need(c, 2))
		return -1;
	struct jval x = ARG0, y = c->argv[1];
	if (which == 0)
		return ret_bool(ret, jval_equal(x, y));
	if (which == 1)
		return ret_bool(ret, !jval_equal(x, y));
	int cmp;
	if (jval_compare(x, y, &cmp))
		return jinja_call_error(c, "'%s' not supported between instances of '%s' and '%s'",
					sym[which], jval_type_name(x), jval_type_name(y));
	switch (which) {
	case 2:
		return ret_bool(ret, cmp > 0);
	case 3:
		return ret_bool(ret, cmp >= 0);
	case 4:
		return ret_bool(ret, cmp < 0);
	default:
		return ret_bool(ret, cmp <= 0);
	}
}

static int t_eq(struct jinja_call *c, struct jval *ret)
{
	return cmp_test(c, ret, 0);
}

static int t_ne(struct jinja_call *c, struct jval *ret)
{
	return cmp_test(c, ret, 1);
}

static int t_gt(struct jinja_call *c, struct jval *ret)
{
	return cmp_test(c, ret, 2);
}

static int t_ge(struct jinja_call *c, struct jval *ret)
{
	return cmp_test(c, ret, 3);
}

static int t_lt(struct jinja_call *c, struct jval *ret)
{
	return cmp_test(c, ret, 4);
}

static int t_le(struct jinja_call *c, struct jval *ret)
{
	return cmp_test(c, ret, 5);
}

static int t_in(struct jinja_call *c, struct jval *ret)
{
	if (need(c, 2))
		return -1;
	struct jval seq = c->argv[1], x = ARG0;
	int found = 0;
	if (seq.type == JVAL_STR) {
		if (x.type != JVAL_STR)
			return jinja_call_error(c, "'in <string>' requires string as left operand, not %s",
						jval_type_name(x));
		found = memmem(seq.u.s->s, seq.u.s->len, x.u.s->s, x.u.s->len) != NULL;
	} else if (seq.type == JVAL_LIST) {
		for (size_t i = 0; i < seq.u.l->n && !found; i++)
			found = jval_equal(x, seq.u.l->v[i]);
	} else if (seq.type == JVAL_DICT) {
		found = jval_dict_getv(seq, x) != NULL;
	} else {
		return jinja_call_error(c, "argument of type '%s' is not iterable",
					jval_type_name(seq));
	}
	return ret_bool(ret, found);
}

static int int_arg(struct jinja_call *c, struct jval v, int64_t *out)
{
	if (v.type == JVAL_INT || v.type == JVAL_BOOL) {
		*out = v.type == JVAL_INT ? v.u.i : v.u.b;
		return 0;
	}
	return 1;
}

/* Python's float % 2 */
static double pymod2(double f)
{
	double m = fmod(f, 2.0);
	return m < 0 ? m + 2.0 : m;
}

static int t_odd(struct jinja_call *c, struct jval *ret)
{
	int64_t v;
	if (ARG0.type == JVAL_FLOAT)
		return ret_bool(ret, pymod2(ARG0.u.f) == 1.0);
	if (int_arg(c, ARG0, &v))
		return jinja_call_error(c, "not all arguments converted during string formatting");
	return ret_bool(ret, (v % 2 + 2) % 2 == 1);
}

static int t_even(struct jinja_call *c, struct jval *ret)
{
	int64_t v;
	if (ARG0.type == JVAL_FLOAT)
		return ret_bool(ret, pymod2(ARG0.u.f) == 0.0);
	if (int_arg(c, ARG0, &v))
		return jinja_call_error(c, "not all arguments converted during string formatting");
	return ret_bool(ret, v % 2 == 0);
}

static int t_divisibleby(struct jinja_call *c, struct jval *ret)
{
	if (need(c, 2))
		return -1;
	int64_t v, n;
	if (int_arg(c, ARG0, &v) || int_arg(c, c->argv[1], &n))
		return jinja_call_error(c, "divisibleby needs integers");
	if (!n)
		return jinja_call_error(c, "integer division or modulo by zero");
	return ret_bool(ret, v % n == 0);
}

static int case_test(struct jinja_call *c, struct jval *ret, int upper)
{
	if (ARG0.type != JVAL_STR) {
		char *s = jval_to_cstr(ARG0);
		struct jval v = jval_str(s);
		free(s);
		struct jinja_call c2 = *c;
		c2.argv = &v;
		int rc = case_test(&c2, ret, upper);
		jval_unref(v);
		return rc;
	}
	/* str.islower(): some cased character, and none of the other case */
	int cased = 0;
	for (size_t i = 0; i < ARG0.u.s->len; i++) {
		char ch = ARG0.u.s->s[i];
		if (ch >= 'a' && ch <= 'z') {
			if (upper)
				return ret_bool(ret, 0);
			cased = 1;
		} else if (ch >= 'A' && ch <= 'Z') {
			if (!upper)
				return ret_bool(ret, 0);
			cased = 1;
		}
	}
	return ret_bool(ret, cased);
}

static int t_lower(struct jinja_call *c, struct jval *ret)
{
	return case_test(c, ret, 0);
}

static int t_upper(struct jinja_call *c, struct jval *ret)
{
	return case_test(c, ret, 1);
}

static const struct builtin tests[] = {
	{ "!=", t_ne },
	{ "<", t_lt },
	{ "<=", t_le },
	{ "==", t_eq },
	{ ">", t_gt },
	{ ">=", t_ge },
	{ "boolean", t_boolean },
	{ "callable", t_callable },
	{ "defined", t_defined },
	{ "divisibleby", t_divisibleby },
	{ "eq", t_eq },
	{ "equalto", t_eq },
	{ "escaped", t_escaped },
	{ "even", t_even },
	{ "false", t_false },
	{ "float", t_float },
	{ "ge", t_ge },
	{ "greaterthan", t_gt },
	{ "gt", t_gt },
	{ "in", t_in },
	{ "integer", t_integer },
	{ "iterable", t_iterable },
	{ "le", t_le },
	{ "lessthan", t_lt },
	{ "lower", t_lower },
	{ "lt", t_lt },
	{ "mapping", t_mapping },
	{ "ne", t_ne },
	{ "none", t_none },
	{ "number", t_number },
	{ "odd", t_odd },
	{ "sameas", t_sameas },
	{ "sequence", t_sequence },
	{ "string", t_string },
	{ "true", t_true },
	{ "undefined", t_undefined },
	{ "upper", t_upper },
};

static int cmp_builtin(const void *key, const void *elem)
{
	return strcmp(key, ((const struct builtin *)elem)->name);
}

const struct builtin *test_lookup(const char *name)
{
	const struct builtin *b =
		bsearch(name, tests, ARRAY_SIZE(tests), sizeof(tests[0]), cmp_builtin);
	return b;
}
