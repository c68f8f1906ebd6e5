/* Python's itertools for dbt's `modules.itertools`: chain (and
 * chain.from_iterable), product, combinations,
 * combinations_with_replacement, permutations, groupby, islice and
 * zip_longest. Python returns lazy iterators; these return lists (of
 * tuples), which a template iterates, indexes or pipes through `list` the
 * same way. groupby gives (key, list of items) pairs. Results are bounded
 * by the interpreter's item limit, so product() of large inputs is an
 * error rather than an allocation of every combination. */
#include "transform/pymodules.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "transform/jinja/internal.h"

#include <stdlib.h>
#include <string.h>

/* The items of an iterable argument (new reference), or -1. */
static int items_of(struct jinja_call *c, const struct jval *v, struct jval *out)
{
	if (!v)
		return jinja_call_error(c, "%s() missing an iterable argument", c->name);
	return value_iterate(c->r, c->site, *v, out);
}

static int too_many(struct jinja_call *c)
{
	return jinja_call_error(c, "%s(): the result has more than %lld items", c->name, (long long)JINJA_MAX_ITEMS);
}

static int it_chain(struct jinja_call *c, struct jval *ret)
{
	struct jval all = jval_list_new();
	int from = !strcmp(c->name, "from_iterable");
	struct jval outer = jval_undefined();
	size_t n = c->argc;
	const struct jval *args = c->argv;
	if (from) {
		if (items_of(c, jinja_call_param(c, 0, "iterable"), &outer)) {
			jval_unref(all);
			return -1;
		}
		n = jval_len(outer);
		args = n ? jval_list_at(outer, 0) : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct jval l;
		if (items_of(c, &args[i], &l)) {
			jval_unref(all);
			jval_unref(outer);
			return -1;
		}
		for (size_t k = 0; k < jval_len(l); k++)
			jval_list_append(all, jval_ref(*jval_list_at(l, k)));
		jval_unref(l);
		if (jval_len(all) > (size_t)JINJA_MAX_ITEMS) {
			jval_unref(all);
			jval_unref(outer);
			return too_many(c);
		}
	}
	jval_unref(outer);
	*ret = all;
	return 0;
}

static struct jval tuple_of(struct jval pool, const size_t *idx, size_t r)
{
	struct jval t = jval_tuple_new();
	for (size_t i = 0; i < r; i++)
		jval_list_append(t, jval_ref(*jval_list_at(pool, idx[i])));
	return t;
}

static int it_product(struct jinja_call *c, struct jval *ret)
{
	int64_t repeat = 1;
	const struct jval *rp = jinja_call_kwarg(c, "repeat");
	if (rp && arg_int(c, rp, "repeat", &repeat))
		return -1;
	if (repeat < 0)
		return jinja_call_error(c, "repeat argument cannot be negative");
	size_t npools = c->argc * (size_t)repeat;
	if (repeat > 64 || npools > 64)
		return too_many(c);
	struct jval *pools = xcalloc(npools ? npools : 1, sizeof(*pools));
	size_t *idx = xcalloc(npools ? npools : 1, sizeof(*idx));
	int rc = -1;
	double total = 1;
	for (size_t i = 0; i < c->argc; i++) {
		if (items_of(c, &c->argv[i], &pools[i]))
			goto out;
	}
	for (size_t i = c->argc; i < npools; i++)
		pools[i] = jval_ref(pools[i % c->argc]);
	for (size_t i = 0; i < npools; i++)
		total *= (double)jval_len(pools[i]);
	if (total > (double)JINJA_MAX_ITEMS) {
		too_many(c);
		goto out;
	}
	*ret = jval_list_new();
	if (total > 0) {
		for (;;) {
			struct jval t = jval_tuple_new();
			for (size_t i = 0; i < npools; i++)
				jval_list_append(t, jval_ref(*jval_list_at(pools[i], idx[i])));
			jval_list_append(*ret, t);
			size_t i = npools;
			while (i > 0 && ++idx[i - 1] == jval_len(pools[i - 1]))
				idx[--i] = 0;
			if (i == 0)
				break;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < npools; i++)
		jval_unref(pools[i]);
	free(pools);
	free(idx);
	return rc;
}

/* combinations, combinations_with_replacement, permutations */
static int it_combos(struct jinja_call *c, struct jval *ret)
{
	int perm = !strcmp(c->name, "permutations"), repl = !strcmp(c->name, "combinations_with_replacement");
	struct jval pool;
	if (items_of(c, jinja_call_param(c, 0, "iterable"), &pool))
		return -1;
	size_t n = jval_len(pool);
	int64_t r = (int64_t)n;
	const struct jval *rv = jinja_call_param(c, 1, "r");
	if (!perm && !rv) {
		jval_unref(pool);
		return jinja_call_error(c, "%s() missing required argument 'r' (pos 2)", c->name);
	}
	if (rv && rv->type != JVAL_NONE && arg_int(c, rv, "r", &r)) {
		jval_unref(pool);
		return -1;
	}
	if (r < 0) {
		jval_unref(pool);
		return jinja_call_error(c, "r must be non-negative");
	}
	*ret = jval_list_new();
	if ((!repl && (size_t)r > n) || (repl && !n && r)) {
		jval_unref(pool);
		return 0;
	}
	size_t *idx = xcalloc((size_t)r + 1, sizeof(*idx));
	unsigned char *used = xcalloc(n + 1, 1);
	int rc = 0;
	/* depth-first over index sequences, in Python's (lexicographic) order */
	size_t depth = 0;
	idx[0] = 0;
	if (r == 0) {
		jval_list_append(*ret, jval_tuple_new());
		goto out;
	}
	for (;;) {
		if (idx[depth] >= n) {
			if (depth == 0)
				break;
			depth--;
			if (perm)
				used[idx[depth]] = 0;
			idx[depth]++;
			continue;
		}
		if (perm && used[idx[depth]]) {
			idx[depth]++;
			continue;
		}
		if (depth + 1 == (size_t)r) {
			if (jval_len(*ret) >= (size_t)JINJA_MAX_ITEMS) {
				rc = too_many(c);
				break;
			}
			jval_list_append(*ret, tuple_of(pool, idx, (size_t)r));
			idx[depth]++;
			continue;
		}
		if (perm)
			used[idx[depth]] = 1;
		idx[depth + 1] = perm ? 0 : repl ? idx[depth] : idx[depth] + 1;
		depth++;
	}
out:
	free(idx);
	free(used);
	jval_unref(pool);
	if (rc) {
		jval_unref(*ret);
		*ret = jval_undefined();
	}
	return rc;
}

static int it_groupby(struct jinja_call *c, struct jval *ret)
{
	struct jval items;
	const struct jval *key = jinja_call_param(c, 1, "key");
	if (items_of(c, jinja_call_param(c, 0, "iterable"), &items))
		return -1;
	if (key && key->type == JVAL_NONE)
		key = NULL;
	*ret = jval_list_new();
	struct jval cur = jval_undefined(), group = jval_undefined();
	int rc = 0;
	for (size_t i = 0; i < jval_len(items); i++) {
		struct jval item = *jval_list_at(items, i), k;
		if (key) {
			if (jinja_call_invoke(c, *key, 1, &item, 0, NULL, NULL, &k)) {
				rc = -1;
				break;
			}
		} else
			k = jval_ref(item);
		if (group.type == JVAL_UNDEFINED || !jval_equal(k, cur)) {
			group = jval_list_new();
			struct jval pair = jval_tuple_new();
			jval_list_append(pair, jval_ref(k));
			jval_list_append(pair, group);
			jval_list_append(*ret, pair);
			jval_set(&cur, jval_ref(k));
		}
		jval_list_append(group, jval_ref(item));
		jval_unref(k);
	}
	jval_unref(cur);
	jval_unref(items);
	if (rc) {
		jval_unref(*ret);
		*ret = jval_undefined();
	}
	return rc;
}

static int opt_index(struct jinja_call *c, const struct jval *v, int64_t dflt, int64_t *out)
{
	*out = dflt;
	if (!v || v->type == JVAL_NONE)
		return 0;
	if (arg_int(c, v, "index", out))
		return -1;
	if (*out < 0)
		return jinja_call_error(c, "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.");
	return 0;
}

static int it_islice(struct jinja_call *c, struct jval *ret)
{
	struct jval items;
	int64_t start = 0, stop, step = 1;
	if (c->argc < 2 || c->argc > 4)
		return jinja_call_error(c, "islice expected 2 to 4 arguments, got %zu", c->argc);
	if (c->argc == 2) {
		if (opt_index(c, &c->argv[1], INT64_MAX, &stop))
			return -1;
	} else if (opt_index(c, &c->argv[1], 0, &start) || opt_index(c, &c->argv[2], INT64_MAX, &stop) ||
		   (c->argc == 4 && opt_index(c, &c->argv[3], 1, &step)))
		return -1;
	if (step < 1)
		return jinja_call_error(c, "Step for islice() must be a positive integer or None.");
	if (items_of(c, &c->argv[0], &items))
		return -1;
	*ret = jval_list_new();
	for (int64_t i = start; i < stop && (size_t)i < jval_len(items); i += step)
		jval_list_append(*ret, jval_ref(*jval_list_at(items, (size_t)i)));
	jval_unref(items);
	return 0;
}

static int it_zip_longest(struct jinja_call *c, struct jval *ret)
{
	const struct jval *fill = jinja_call_kwarg(c, "fillvalue");
	struct jval *lists = xcalloc(c->argc ? c->argc : 1, sizeof(*lists));
	size_t longest = 0;
	int rc = 0;
	size_t got = 0;
	for (; got < c->argc; got++) {
		if (items_of(c, &c->argv[got], &lists[got])) {
			rc = -1;
			break;
		}
		if (jval_len(lists[got]) > longest)
			longest = jval_len(lists[got]);
	}
	if (!rc) {
		*ret = jval_list_new();
		for (size_t i = 0; i < longest; i++) {
			struct jval t = jval_tuple_new();
			for (size_t k = 0; k < c->argc; k++)
				jval_list_append(t, i < jval_len(lists[k]) ? jval_ref(*jval_list_at(lists[k], i))
									    : fill ? jval_ref(*fill) : jval_none());
			jval_list_append(*ret, t);
		}
	}
	for (size_t k = 0; k < got; k++)
		jval_unref(lists[k]);
	free(lists);
	return rc;
}

/* chain is callable and has chain.from_iterable */
static int chain_getattr(void *data, const char *name, struct jval *out)
{
	(void)data;
	if (strcmp(name, "from_iterable"))
		return 1;
	*out = jval_native("from_iterable", it_chain, NULL, NULL);
	return 0;
}

static void chain_str(void *data, struct strbuf *out)
{
	(void)data;
	strbuf_addstr(out, "<class 'itertools.chain'>");
}

static int chain_call(struct jinja_call *c, struct jval *ret)
{
	c->name = "chain";
	return it_chain(c, ret);
}

static const struct jinja_object_ops chain_ops = { "type", chain_getattr, chain_str, chain_call, NULL, NULL, 0 };

struct jval dbt_itertools_module(void)
{
	static const struct {
		const char *name;
		jinja_fn fn;
	} fns[] = {
		{ "product", it_product },
		{ "combinations", it_combos },
		{ "combinations_with_replacement", it_combos },
		{ "permutations", it_combos },
		{ "groupby", it_groupby },
		{ "islice", it_islice },
		{ "zip_longest", it_zip_longest },
	};
	struct jval m = jval_dict_new();
	jval_dict_set(m, "chain", jval_object(&chain_ops, NULL));
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		jval_dict_set(m, fns[i].name, jval_native(fns[i].name, fns[i].fn, NULL, NULL));
	return jval_object_dict(m);
}

void dbt_pymodules_add(struct jval mods)
{
	jval_dict_set(mods, "datetime", dbt_datetime_module());
	jval_dict_set(mods, "pytz", dbt_pytz_module());
	jval_dict_set(mods, "itertools", dbt_itertools_module());
}
