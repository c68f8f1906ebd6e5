/* Jinja's global functions: range, dict, namespace, cycler, joiner, and
 * dbt's return(). They are immortal static values, shared by all renders. */
#include "internal.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_RANGE 100000 /* the sandbox's limit */

static int g_range(struct jinja_call *c, struct jval *ret)
{
	int64_t start = 0, stop, step = 1;
	if (c->kwc)
		return jinja_call_error(c, "range() takes no keyword arguments");
	if (c->argc < 1 || c->argc > 3)
		return jinja_call_error(c, "range expected at most 3 arguments, got %zu", c->argc);
	if (c->argc == 1) {
		if (arg_int(c, &c->argv[0], "range() argument", &stop))
			return -1;
	} else {
		if (arg_int(c, &c->argv[0], "range() argument", &start) ||
		    arg_int(c, &c->argv[1], "range() argument", &stop))
			return -1;
		if (c->argc == 3 && arg_int(c, &c->argv[2], "range() argument", &step))
			return -1;
	}
	if (!step)
		return jinja_call_error(c, "range() arg 3 must not be zero");
	/* in unsigned arithmetic: stop - start may not fit in an int64 */
	uint64_t n = 0;
	if (step > 0 && stop > start)
		n = ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
	else if (step < 0 && stop < start)
		n = ((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1;
	if (n > MAX_RANGE)
		return jinja_call_error(c, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).",
					MAX_RANGE);
	struct jval l = jval_list_new();
	for (uint64_t i = 0; i < n; i++)
		jlist_push(l.u.l, jval_int((int64_t)((uint64_t)start + i * (uint64_t)step)));
	*ret = l;
	return 0;
}

/* dict(mapping or pairs, **kwargs), also namespace(...) */
static int make_dict(struct jinja_call *c, struct jval *ret, int ns)
{
	struct jval d = jval_dict_new();
	d.u.d->ns = (unsigned char)ns;
	if (c->argc > 1) {
		jval_unref(d);
		return jinja_call_error(c, "%s expected at most 1 argument, got %zu", c->name, c->argc);
	}
	if (c->argc) {
		struct jval o = c->argv[0];
		if (o.type == JVAL_DICT) {
			for (size_t i = 0; i < o.u.d->n; i++)
				jval_dict_setv(d, jval_ref(o.u.d->e[i].key), jval_ref(o.u.d->e[i].val));
		} else if (o.type == JVAL_LIST) {
			for (size_t i = 0; i < o.u.l->n; i++) {
				struct jval p = o.u.l->v[i];
				if (p.type != JVAL_LIST || p.u.l->n != 2) {
					jval_unref(d);
					return jinja_call_error(c, "dictionary update sequence element #%zu has wrong length", i);
				}
				if (jval_dict_setv(d, jval_ref(p.u.l->v[0]), jval_ref(p.u.l->v[1]))) {
					jval_unref(d);
					return jinja_call_error(c, "unhashable type");
				}
			}
		} else {
			jval_unref(d);
			return jinja_call_error(c, "'%s' object is not iterable", jval_type_name(o));
		}
	}
	for (size_t i = 0; i < c->kwc; i++)
		jval_dict_set(d, c->kwnames[i], jval_ref(c->kwvals[i]));
	*ret = d;
	return 0;
}

static int g_dict(struct jinja_call *c, struct jval *ret)
{
	return make_dict(c, ret, 0);
}

static int g_namespace(struct jinja_call *c, struct jval *ret)
{
	return make_dict(c, ret, 1);
}

/* cycler(*items): .next(), .reset(), .current */
struct cycler {
	unsigned refs; /* the object and its bound methods */
	struct jval items;
	size_t pos;
};

static int cycler_next(struct jinja_call *c, struct jval *ret)
{
	struct cycler *cy = c->data;
	struct jlist *l = cy->items.u.l;
	*ret = jval_ref(l->v[cy->pos]);
	cy->pos = (cy->pos + 1) % l->n;
	return 0;
}

static int cycler_reset(struct jinja_call *c, struct jval *ret)
{
	struct cycler *cy = c->data;
	cy->pos = 0;
	*ret = jval_none();
	return 0;
}

static int cycler_getattr(void *data, const char *name, struct jval *out);

static void cycler_free(void *data)
{
	struct cycler *cy = data;
	if (__atomic_sub_fetch(&cy->refs, 1, __ATOMIC_ACQ_REL))
		return;
	jval_unref(cy->items);
	free(cy);
}

static const struct jinja_object_ops cycler_ops = { "Cycler", cycler_getattr, NULL, NULL,
						    cycler_free, NULL, 0 };

static int cycler_getattr(void *data, const char *name, struct jval *out)
{
	struct cycler *cy = data;
	if (!strcmp(name, "current")) {
		*out = jval_ref(cy->items.u.l->v[cy->pos]);
		return 0;
	}
	jinja_fn fn = !strcmp(name, "next") ? cycler_next : !strcmp(name, "reset") ? cycler_reset : NULL;
	if (!fn)
		return 1;
	/* the bound method shares the state */
	__atomic_add_fetch(&cy->refs, 1, __ATOMIC_RELAXED);
	*out = jval_native(name, fn, cy, cycler_free);
	return 0;
}

static int g_cycler(struct jinja_call *c, struct jval *ret)
{
	if (!c->argc)
		return jinja_call_error(c, "at least one item has to be provided");
	struct cycler *cy = xcalloc(1, sizeof(*cy));
	cy->refs = 1;
	cy->items = jval_list_new();
	for (size_t i = 0; i < c->argc; i++)
		jlist_push(cy->items.u.l, jval_ref(c->argv[i]));
	*ret = jval_object(&cycler_ops, cy);
	return 0;
}

/* joiner(sep=", "): "" the first call, sep after */
struct joiner {
	struct jval sep;
	int used;
};

static int joiner_call(struct jinja_call *c, struct jval *ret)
{
	struct joiner *j = c->data;
	*ret = j->used ? jval_ref(j->sep) : jval_str("");
	j->used = 1;
	return 0;
}

static void joiner_free(void *data)
{
	struct joiner *j = data;
	jval_unref(j->sep);
	free(j);
}

static const struct jinja_object_ops joiner_ops = { "Joiner", NULL, NULL, joiner_call,
						    joiner_free, NULL, 0 };

static int g_joiner(struct jinja_call *c, struct jval *ret)
{
	const struct jval *sep = jinja_call_param(c, 0, "sep");
	struct joiner *j = xcalloc(1, sizeof(*j));
	j->sep = sep ? jval_ref(*sep) : jval_str(", ");
	*ret = jval_object(&joiner_ops, j);
	return 0;
}

#define GLOBAL(n, f) { JHEAD_IMMORTAL, n, f, NULL, NULL, { JVAL_UNDEFINED, { 0 } } }

/* Immortal: never counted or written, so sharing them is thread-safe. */
static const struct jfunc globals[] = {
	GLOBAL("cycler", g_cycler), GLOBAL("dict", g_dict),	  GLOBAL("joiner", g_joiner),
	GLOBAL("namespace", g_namespace), GLOBAL("range", g_range), GLOBAL("return", builtin_return),
};

int global_lookup(const char *name, struct jval *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(globals); i++) {
		if (strcmp(globals[i].name, name))
			continue;
		out->type = JVAL_FUNC;
		out->u.fn = (struct jfunc *)&globals[i];
		return 1;
	}
	return 0;
}
