/* Rendering: executing statements and evaluating expressions over scopes,
 * plus the public entry points (environments, templates, renders, calls).
 *
 * Scopes follow Jinja: a for-loop iteration, a macro call, a call block's
 * body, a block set, a filter block and a with block each get a frame of
 * their own; `set` writes to the innermost frame, so it never leaks out of
 * a loop. Name lookup walks the frames, then the render's context, the
 * environment's globals and the builtins. */
#include "internal.h"
#include "template.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_BREAK 1
#define EXEC_CONTINUE 2
#define MAX_DEPTH 200 /* nested calls, so runaway recursion is an error */

struct var {
	const char *name;
	size_t len;
	uint32_t hash;
	struct jval val;
};

struct frame {
	struct frame *parent;
	struct var *vars;
	size_t n, alloc;
	struct jmacro **closures; /* macros that refer to this frame */
	size_t nclosures, aclosures;
};

struct render {
	const struct jinja_env *env;
	struct jval ctx;
	struct strbuf *err;
	struct jval retval; /* the value of a return() being unwound */
	int returning;      /* unwinding (as an error, without a message) */
	const struct expr *return_site;
	struct jinja_template *tmpl; /* whose code is running */
	struct jval block_value; /* the body in a filter block's filter chain */
	int depth;
	int strict;
	struct jdict *ns; /* the running macro's package namespace, or NULL */
};

/* --- errors --------------------------------------------------------------- */

static int verror_at(struct render *r, const char *file, unsigned line, unsigned col,
		     const char *fmt, va_list ap)
{
	if (file)
		strbuf_addf(r->err, "%s:%u:%u: ", file, line, col);
	strbuf_vaddf(r->err, fmt, ap);
	return -1;
}

int render_error(struct render *r, const struct expr *site, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (site)
		verror_at(r, site->file, site->line, site->col, fmt, ap);
	else
		verror_at(r, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return -1;
}

static int stmt_error(struct render *r, const struct stmt *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int stmt_error(struct render *r, const struct stmt *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror_at(r, s->file, s->line, s->col, fmt, ap);
	va_end(ap);
	return -1;
}

int render_undefined(struct render *r, const struct expr *site, struct jval v)
{
	return render_error(r, site, "%s", v.u.s ? v.u.s->s : "undefined value");
}

int render_strict(const struct render *r, struct jval v)
{
	return r->strict && !(v.type == JVAL_UNDEFINED && v.u.s && v.u.s->lenient);
}

static struct jval undefined_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct jval undefined_fmt(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	struct jval v = jval_undefined_msg(sb.buf);
	strbuf_release(&sb);
	return v;
}

/* Truthiness; using an undefined is an error under StrictUndefined. */
static int truth(struct render *r, const struct expr *site, struct jval v, int *out)
{
	if (v.type == JVAL_UNDEFINED && render_strict(r, v))
		return render_undefined(r, site, v);
	*out = jval_truthy(v);
	return 0;
}

/* --- frames ----------------------------------------------------------- */

static struct var *frame_find(struct frame *f, const char *name, size_t len, uint32_t hash)
{
	for (size_t i = f->n; i-- > 0;) {
		struct var *v = &f->vars[i];
		if (v->hash == hash && v->len == len && !memcmp(v->name, name, len))
			return v;
	}
	return NULL;
}

/* Bind name in f (v is stolen). name must outlive the frame: it comes
 * from a parse tree or a static string. */
static void frame_set(struct frame *f, const struct name *n, struct jval v)
{
	struct var *var = frame_find(f, n->s, n->len, n->hash);
	if (var) {
		jval_set(&var->val, v);
		return;
	}
	ALLOC_GROW(f->vars, f->n + 1, f->alloc);
	var = &f->vars[f->n++];
	var->name = n->s;
	var->len = n->len;
	var->hash = n->hash;
	var->val = v;
}

static void frame_clear_vars(struct frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		jval_unref(f->vars[i].val);
	f->n = 0;
}

static void frame_release(struct frame *f)
{
	frame_clear_vars(f);
	free(f->vars);
	for (size_t i = 0; i < f->nclosures; i++) {
		struct jval m = { JVAL_MACRO, { 0 } };
		m.u.m = f->closures[i];
		m.u.m->frame = NULL;
		jval_unref(m);
	}
	free(f->closures);
	memset(f, 0, sizeof(*f));
}

static struct jval make_macro(struct render *r, struct frame *f, const struct macro *node)
{
	struct jmacro *m = xcalloc(1, sizeof(*m));
	m->h.refcnt = 1;
	m->node = node;
	m->tmpl = jinja_template_ref(r->tmpl);
	m->frame = f;
	struct jval v = { JVAL_MACRO, { 0 } };
	v.u.m = m;
	if (f) {
		/* the frame keeps a reference so it can detach the macro later */
		ALLOC_GROW(f->closures, f->nclosures + 1, f->aclosures);
		f->closures[f->nclosures++] = jval_ref(v).u.m;
	}
	return v;
}

static const struct name NAME_LOOP = { "loop", 4, 0 };
static const struct name NAME_CALLER = { "caller", 6, 0 };
static const struct name NAME_VARARGS = { "varargs", 7, 0 };
static const struct name NAME_KWARGS = { "kwargs", 6, 0 };

static struct name hashed(struct name n)
{
	n.hash = jval_hash_str(n.s, n.len);
	return n;
}

static int lookup(struct render *r, struct frame *f, const char *name, size_t len, uint32_t hash,
		  struct jval *out)
{
	for (; f; f = f->parent) {
		struct var *v = frame_find(f, name, len, hash);
		if (v) {
			*out = jval_ref(v->val);
			return 1;
		}
	}
	if (r->ctx.type == JVAL_DICT) {
		long i = jdict_find_str(r->ctx.u.d, name, len, hash);
		if (i >= 0) {
			*out = jval_ref(r->ctx.u.d->e[i].val);
			return 1;
		}
	}
	if (r->ns) {
		long i = jdict_find_str(r->ns, name, len, hash);
		if (i >= 0) {
			*out = jval_ref(r->ns->e[i].val);
			return 1;
		}
	}
	if (r->env && r->env->globals.type == JVAL_DICT) {
		long i = jdict_find_str(r->env->globals.u.d, name, len, hash);
		if (i >= 0) {
			*out = jval_ref(r->env->globals.u.d->e[i].val);
			return 1;
		}
	}
	if (global_lookup(name, out))
		return 1;
	return 0;
}

/* --- attribute and item access ----------------------------------------- */

int value_getattr(struct render *r, const struct expr *site, struct jval obj, const char *name,
		  struct jval *out)
{
	switch (obj.type) {
	case JVAL_UNDEFINED:
		return render_undefined(r, site, obj);
	case JVAL_DICT:
		if (obj.u.d->ns) {
			const struct jval *v = jval_dict_get(obj, name);
			if (v) {
				*out = jval_ref(*v);
				return 0;
			}
			break;
		}
		/* dict methods come before keys, as getattr() does */
		__attribute__((fallthrough));
	case JVAL_STR:
	case JVAL_LIST: {
		jinja_fn m = method_lookup(obj, name);
		if (m) {
			*out = jval_native(name, m, NULL, NULL);
			out->u.fn->self = jval_ref(obj);
			return 0;
		}
		if (obj.type == JVAL_DICT) {
			const struct jval *v = jval_dict_get(obj, name);
			if (v) {
				*out = jval_ref(*v);
				return 0;
			}
		}
		break;
	}
	case JVAL_OBJECT: {
		const struct jinja_object_ops *ops = obj.u.o->ops;
		if (ops->getattr) {
			int rc = ops->getattr(obj.u.o->data, name, out);
			if (rc <= 0)
				return rc;
		}
		*out = undefined_fmt("'%s object' has no attribute '%s'",
				     ops->type_name ? ops->type_name : "object", name);
		return 0;
	}
	case JVAL_MACRO:
		if (!strcmp(name, "name")) {
			*out = jval_str(obj.u.m->node->name);
			return 0;
		}
		break;
	default:
		break;
	}
	if (obj.type == JVAL_NONE)
		*out = undefined_fmt("'None' has no attribute '%s'", name);
	else
		*out = undefined_fmt("'%s' has no attribute '%s'", jval_type_repr(obj), name);
	return 0;
}

static int index_of(struct jval key, size_t len, size_t *out)
{
	int64_t i;
	if (key.type == JVAL_INT)
		i = key.u.i;
	else if (key.type == JVAL_BOOL)
		i = key.u.b;
	else
		return -1;
	if (i < 0)
		i += (int64_t)len;
	if (i < 0 || (uint64_t)i >= len)
		return 1;
	*out = (size_t)i;
	return 0;
}

int value_getitem(struct render *r, const struct expr *site, struct jval obj, struct jval key,
		  struct jval *out)
{
	size_t i;
	switch (obj.type) {
	case JVAL_UNDEFINED:
		return render_undefined(r, site, obj);
	case JVAL_LIST: {
		int rc = index_of(key, obj.u.l->n, &i);
		if (!rc) {
			*out = jval_ref(obj.u.l->v[i]);
			return 0;
		}
		if (rc > 0)
			goto no_element;
		break;
	}
	case JVAL_STR: {
		size_t n = jval_len(obj);
		int rc = index_of(key, n, &i);
		if (!rc) {
			const char *s = obj.u.s->s;
			size_t off = obj.u.s->ascii ? i : utf8_offset(s, obj.u.s->len, i);
			*out = jval_strn(s + off, utf8_step(s + off, obj.u.s->len - off));
			return 0;
		}
		if (rc > 0)
			goto no_element;
		break;
	}
	case JVAL_DICT: {
		if (obj.u.d->ns)
			break;
		uint32_t h;
		if (jval_hash(key, &h))
			return render_error(r, site, "unhashable type: '%s'", jval_type_name(key));
		long k = jdict_find(obj.u.d, key, h);
		if (k >= 0) {
			*out = jval_ref(obj.u.d->e[k].val);
			return 0;
		}
		break;
	}
	case JVAL_OBJECT:
		if (obj.u.o->ops->as_list && (key.type == JVAL_INT || key.type == JVAL_BOOL)) {
			struct jval l = obj.u.o->ops->as_list(obj.u.o->data);
			int rc = value_getitem(r, site, l, key, out);
			jval_unref(l);
			return rc;
		}
		break;
	default:
		break;
	}
	if (key.type == JVAL_STR)
		return value_getattr(r, site, obj, key.u.s->s, out);
no_element: {
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s has no element ", jval_type_repr(obj));
	jval_write_repr(&sb, key);
	*out = jval_undefined_msg(sb.buf);
	strbuf_release(&sb);
	return 0;
}
}

/* Python's slice.indices(). */
/* One bound of a slice, Python's way: missing -> dflt, negative counts from
 * the end, then clamped to [lo, hi]. */
static int64_t slice_bound(const struct jval *v, int64_t len, int64_t lo, int64_t hi, int64_t dflt)
{
	if (!v || v->type == JVAL_NONE)
		return dflt;
	int64_t x = v->u.i;
	if (x < 0) {
		x += len;
		if (x < lo)
			x = lo;
	} else if (x > hi) {
		x = hi;
	}
	return x;
}

static void slice_indices(int64_t len, const struct jval *start, const struct jval *stop,
			  int64_t step, int64_t *pstart, int64_t *pstop)
{
	int64_t lo = step < 0 ? -1 : 0, hi = step < 0 ? len - 1 : len;
	int64_t s = slice_bound(start, len, lo, hi, step < 0 ? hi : lo);
	int64_t e = slice_bound(stop, len, lo, hi, step < 0 ? lo : hi);
	*pstart = s;
	*pstop = e;
}

static int slice_arg(struct render *r, const struct expr *site, struct jval *v)
{
	if (v->type == JVAL_BOOL)
		*v = jval_int(v->u.b);
	if (v->type != JVAL_INT && v->type != JVAL_NONE)
		return render_error(r, site,
				    "slice indices must be integers or None or have an __index__ method");
	return 0;
}

static int do_slice(struct render *r, const struct expr *site, struct jval obj, struct jval *bounds,
		    struct jval *out)
{
	for (int k = 0; k < 3; k++)
		if (slice_arg(r, site, &bounds[k]))
			return -1;
	int64_t step = bounds[2].type == JVAL_INT ? bounds[2].u.i : 1;
	if (step == 0)
		return render_error(r, site, "slice step cannot be zero");
	if (obj.type == JVAL_UNDEFINED)
		return render_undefined(r, site, obj);
	if (obj.type != JVAL_LIST && obj.type != JVAL_STR)
		return render_error(r, site, "'%s' object is not subscriptable", jval_type_name(obj));
	int64_t len = (int64_t)jval_len(obj), s, e;
	slice_indices(len, &bounds[0], &bounds[1], step, &s, &e);
	if (obj.type == JVAL_LIST) {
		struct jval res = obj.u.l->kind == JL_TUPLE ? jval_tuple_new() : jval_list_new();
		for (int64_t i = s; step > 0 ? i < e : i > e; i += step)
			jlist_push(res.u.l, jval_ref(obj.u.l->v[i]));
		*out = res;
		return 0;
	}
	const char *str = obj.u.s->s;
	size_t n = obj.u.s->len;
	struct strbuf sb = STRBUF_INIT;
	if (obj.u.s->ascii) {
		if (step == 1 && e > s) {
			strbuf_add(&sb, str + s, (size_t)(e - s));
		} else {
			for (int64_t i = s; step > 0 ? i < e : i > e; i += step)
				strbuf_addch(&sb, str[i]);
		}
	} else {
		/* offsets of every character, then pick */
		size_t *offs = xmalloc(((size_t)len + 1) * sizeof(*offs));
		size_t o = 0;
		for (int64_t i = 0; i < len; i++) {
			offs[i] = o;
			o += utf8_step(str + o, n - o);
		}
		offs[len] = n;
		for (int64_t i = s; step > 0 ? i < e : i > e; i += step)
			strbuf_add(&sb, str + offs[i], offs[i + 1] - offs[i]);
		free(offs);
	}
	*out = jval_str_from_buf(&sb);
	return 0;
}

int value_iterate(struct render *r, const struct expr *site, struct jval v, struct jval *out)
{
	switch (v.type) {
	case JVAL_LIST:
		*out = jval_ref(v);
		return 0;
	case JVAL_DICT: {
		if (v.u.d->ns)
			break;
		struct jval l = jval_list_new();
		for (size_t i = 0; i < v.u.d->n; i++)
			jlist_push(l.u.l, jval_ref(v.u.d->e[i].key));
		*out = l;
		return 0;
	}
	case JVAL_STR: {
		struct jval l = jval_list_new();
		const char *s = v.u.s->s;
		size_t n = v.u.s->len;
		for (size_t i = 0; i < n;) {
			size_t w = utf8_step(s + i, n - i);
			jlist_push(l.u.l, jval_strn(s + i, w));
			i += w;
		}
		*out = l;
		return 0;
	}
	case JVAL_UNDEFINED:
		if (render_strict(r, v))
			return render_undefined(r, site, v);
		*out = jval_list_new();
		return 0;
	case JVAL_OBJECT:
		if (v.u.o->ops->as_list) {
			*out = v.u.o->ops->as_list(v.u.o->data);
			return 0;
		}
		break;
	default:
		break;
	}
	return render_error(r, site, "'%s' object is not iterable", jval_type_name(v));
}

/* --- the loop object ----------------------------------------------------- */

struct loopstate {
	unsigned refs;     /* the loop object and its bound methods */
	struct jval items; /* the list iterated */
	size_t i;
	struct jval changed_last;
	int changed_seen;
};

static int loop_cycle(struct jinja_call *c, struct jval *ret)
{
	struct loopstate *ls = c->data;
	if (!c->argc)
		return jinja_call_error(c, "no items for cycling given");
	*ret = jval_ref(c->argv[ls->i % c->argc]);
	return 0;
}

static int loop_changed(struct jinja_call *c, struct jval *ret)
{
	struct loopstate *ls = c->data;
	struct jval now = jval_list_from(NULL, 0, JL_LIST);
	for (size_t i = 0; i < c->argc; i++)
		jlist_push(now.u.l, jval_ref(c->argv[i]));
	int changed = !ls->changed_seen || !jval_equal(now, ls->changed_last);
	ls->changed_seen = 1;
	jval_set(&ls->changed_last, now);
	*ret = jval_bool(changed);
	return 0;
}

static void loop_free(void *data);

static int loop_getattr(void *data, const char *name, struct jval *out)
{
	struct loopstate *ls = data;
	size_t n = ls->items.u.l->n, i = ls->i;
	if (!strcmp(name, "index"))
		*out = jval_int((int64_t)i + 1);
	else if (!strcmp(name, "index0"))
		*out = jval_int((int64_t)i);
	else if (!strcmp(name, "revindex"))
		*out = jval_int((int64_t)(n - i));
	else if (!strcmp(name, "revindex0"))
		*out = jval_int((int64_t)(n - i - 1));
	else if (!strcmp(name, "first"))
		*out = jval_bool(i == 0);
	else if (!strcmp(name, "last"))
		*out = jval_bool(i + 1 == n);
	else if (!strcmp(name, "length"))
		*out = jval_int((int64_t)n);
	else if (!strcmp(name, "depth"))
		*out = jval_int(1);
	else if (!strcmp(name, "depth0"))
		*out = jval_int(0);
	else if (!strcmp(name, "previtem"))
		*out = i ? jval_ref(ls->items.u.l->v[i - 1])
			 : jval_undefined_msg("there is no previous item");
	else if (!strcmp(name, "nextitem"))
		*out = i + 1 < n ? jval_ref(ls->items.u.l->v[i + 1])
				 : jval_undefined_msg("there is no next item");
	else if (!strcmp(name, "cycle") || !strcmp(name, "changed")) {
		/* a bound method sharing the state */
		__atomic_add_fetch(&ls->refs, 1, __ATOMIC_RELAXED);
		*out = jval_native(name, name[1] == 'y' ? loop_cycle : loop_changed, ls, loop_free);
	} else
		return 1;
	return 0;
}

static void loop_str(void *data, struct strbuf *out)
{
	struct loopstate *ls = data;
	strbuf_addf(out, "<LoopContext %zu/%zu>", ls->i + 1, ls->items.u.l->n);
}

static void loop_free(void *data)
{
	struct loopstate *ls = data;
	if (__atomic_sub_fetch(&ls->refs, 1, __ATOMIC_ACQ_REL))
		return;
	jval_unref(ls->items);
	jval_unref(ls->changed_last);
	free(ls);
}

static const struct jinja_object_ops loop_ops = { "LoopContext", loop_getattr, loop_str, NULL,
						  loop_free, NULL, 0 };

/* --- calls -------------------------------------------------------------- */

int call_bind(struct jinja_call *c, const char *const *names, size_t n, const struct jval **out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = i < c->argc ? &c->argv[i] : NULL;
	if (c->argc > n)
		return jinja_call_error(c, "%s() takes at most %zu argument%s (%zu given)", c->name, n,
					n == 1 ? "" : "s", c->argc);
	for (size_t k = 0; k < c->kwc; k++) {
		size_t i;
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], c->kwnames[k]))
				break;
		if (i == n)
			return jinja_call_error(c, "%s() got an unexpected keyword argument '%s'",
						c->name, c->kwnames[k]);
		if (out[i] && i < c->argc)
			return jinja_call_error(c, "%s() got multiple values for argument '%s'",
						c->name, names[i]);
		out[i] = &c->kwvals[k];
	}
	return 0;
}

static int exec_body(struct render *r, struct frame *f, const struct body *b, struct strbuf *out);
static int eval(struct render *r, struct frame *f, const struct expr *e, struct jval *out);

static int invoke_macro(struct render *r, const struct expr *site, struct jmacro *m, size_t argc,
			const struct jval *argv, size_t kwc, const char *const *kwnames,
			const struct jval *kwvals, struct jval *out)
{
	const struct macro *node = m->node;
	const char *mname = node->kind == MACRO_CALLER ? "caller" : node->name;
	struct frame f = { .parent = m->frame };
	struct jval varargs = jval_undefined(), kwargs = jval_undefined(), caller = jval_undefined();
	struct jinja_template *saved_tmpl = r->tmpl;
	struct jdict *saved_ns = r->ns;
	unsigned char given_local[16];
	unsigned char *given = node->nparams <= sizeof(given_local) ? given_local
								     : xcalloc(node->nparams, 1);
	memset(given, 0, node->nparams);
	int rc = -1;

	if (argc > node->nparams && !node->uses_varargs) {
		render_error(r, site, "macro '%s' takes not more than %zu argument(s)", mname,
			     node->nparams);
		goto out;
	}
	for (size_t i = 0; i < argc; i++) {
		if (i < node->nparams) {
			frame_set(&f, &node->params[i], jval_ref(argv[i]));
			given[i] = 1;
		} else {
			if (varargs.type == JVAL_UNDEFINED)
				varargs = jval_tuple_new();
			jlist_push(varargs.u.l, jval_ref(argv[i]));
		}
	}
	for (size_t k = 0; k < kwc; k++) {
		size_t i;
		for (i = 0; i < node->nparams; i++)
			if (!strcmp(node->params[i].s, kwnames[k]))
				break;
		if (i < node->nparams) {
			if (given[i]) {
				render_error(r, site, "macro '%s' got multiple values for argument '%s'",
					     mname, kwnames[k]);
				goto out;
			}
			frame_set(&f, &node->params[i], jval_ref(kwvals[k]));
			given[i] = 1;
		} else if (!strcmp(kwnames[k], "caller") && node->uses_caller) {
			jval_set(&caller, jval_ref(kwvals[k]));
		} else if (node->uses_kwargs) {
			if (kwargs.type == JVAL_UNDEFINED)
				kwargs = jval_dict_new();
			jval_dict_set(kwargs, kwnames[k], jval_ref(kwvals[k]));
		} else {
			render_error(r, site, "macro '%s' takes no keyword argument '%s'", mname,
				     kwnames[k]);
			goto out;
		}
	}
	if (++r->depth > MAX_DEPTH) {
		render_error(r, site, "maximum recursion depth exceeded");
		goto out_depth;
	}
	r->tmpl = m->tmpl;
	if (node->kind != MACRO_CALLER && !m->frame)
		r->ns = m->ns;
	struct name nv = hashed(NAME_VARARGS), nk = hashed(NAME_KWARGS),
			    nc = hashed(NAME_CALLER);
	if (node->uses_varargs)
		frame_set(&f, &nv, varargs.type ? jval_ref(varargs) : jval_tuple_new());
	if (node->uses_kwargs)
		frame_set(&f, &nk, kwargs.type ? jval_ref(kwargs) : jval_dict_new());
	if (node->uses_caller)
		frame_set(&f, &nc,
			  caller.type ? jval_ref(caller) : jval_undefined_msg("No caller defined"));
	for (size_t i = 0; i < node->nparams; i++) {
		if (given[i])
			continue;
		struct jval v;
		if (node->defaults && node->defaults[i]) {
			if (eval(r, &f, node->defaults[i], &v))
				goto out_depth;
		} else {
			v = undefined_fmt("parameter '%s' was not provided", node->params[i].s);
		}
		frame_set(&f, &node->params[i], v);
	}
	struct strbuf buf = STRBUF_INIT;
	rc = exec_body(r, &f, &node->body, &buf);
	if (rc < 0 && r->returning) {
		*out = r->retval;
		r->retval = jval_undefined();
		r->returning = 0;
		rc = 0;
	} else if (rc == 0) {
		*out = jval_strn(buf.buf, buf.len);
	} else {
		rc = -1;
	}
	strbuf_release(&buf);
out_depth:
	r->depth--;
	r->tmpl = saved_tmpl;
	r->ns = saved_ns;
out:
	if (given != given_local)
		free(given);
	jval_unref(varargs);
	jval_unref(kwargs);
	jval_unref(caller);
	frame_release(&f);
	return rc;
}

int call_value(struct render *r, const struct expr *site, struct jval callee, size_t argc,
	       const struct jval *argv, size_t kwc, const char *const *kwnames,
	       const struct jval *kwvals, struct jval *out)
{
	struct jinja_call c = { .argc = argc, .argv = argv, .kwc = kwc, .kwnames = kwnames,
				.kwvals = kwvals, .r = r, .site = site };
	jinja_fn fn;
	switch (callee.type) {
	case JVAL_MACRO:
		return invoke_macro(r, site, callee.u.m, argc, argv, kwc, kwnames, kwvals, out);
	case JVAL_FUNC:
		c.name = callee.u.fn->name;
		c.self = callee.u.fn->self;
		c.data = callee.u.fn->data;
		fn = callee.u.fn->fn;
		break;
	case JVAL_OBJECT:
		if (!callee.u.o->ops->call)
			goto not_callable;
		c.name = callee.u.o->ops->type_name ? callee.u.o->ops->type_name : "object";
		c.self = callee;
		c.data = callee.u.o->data;
		fn = callee.u.o->ops->call;
		break;
	case JVAL_UNDEFINED:
		return render_undefined(r, site, callee);
	default:
		goto not_callable;
	}
	if (++r->depth > MAX_DEPTH) {
		r->depth--;
		return render_error(r, site, "maximum recursion depth exceeded");
	}
	size_t errlen = r->err->len;
	*out = jval_undefined();
	int rc = fn(&c, out);
	r->depth--;
	if (rc < 0 && !r->returning && r->err->len == errlen)
		render_error(r, site, "%s() failed", c.name);
	if (rc < 0) {
		jval_unref(*out);
		*out = jval_undefined();
		return -1;
	}
	return 0;
not_callable:
	return render_error(r, site, "'%s' object is not callable", jval_type_name(callee));
}

/* Evaluated arguments of a call. */
struct argv {
	struct jval *v;
	size_t n, alloc;
	const char **kwn;
	struct jval *kwv;
	size_t nkw, akwn, akwv;
	struct jval stash; /* a **kwargs dict whose keys name keywords */
	struct jval inline_v[6];
};

static void argv_init(struct argv *a)
{
	a->v = a->inline_v;
	a->n = 0;
	a->alloc = ARRAY_SIZE(a->inline_v);
	a->kwn = NULL;
	a->kwv = NULL;
	a->nkw = a->akwn = a->akwv = 0;
	a->stash = jval_undefined();
}

static void argv_push(struct argv *a, struct jval v)
{
	if (a->n == a->alloc) {
		size_t na = a->alloc * 2;
		struct jval *nv = xmalloc(na * sizeof(*nv));
		memcpy(nv, a->v, a->n * sizeof(*nv));
		if (a->v != a->inline_v)
			free(a->v);
		a->v = nv;
		a->alloc = na;
	}
	a->v[a->n++] = v;
}

static void argv_kw(struct argv *a, const char *name, struct jval v)
{
	for (size_t i = 0; i < a->nkw; i++)
		if (!strcmp(a->kwn[i], name)) {
			jval_set(&a->kwv[i], v);
			return;
		}
	ALLOC_GROW(a->kwn, a->nkw + 1, a->akwn);
	ALLOC_GROW(a->kwv, a->nkw + 1, a->akwv);
	a->kwn[a->nkw] = name;
	a->kwv[a->nkw++] = v;
}

static void argv_release(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		jval_unref(a->v[i]);
	for (size_t i = 0; i < a->nkw; i++)
		jval_unref(a->kwv[i]);
	if (a->v != a->inline_v)
		free(a->v);
	free(a->kwn);
	free(a->kwv);
	jval_unref(a->stash);
}

static int eval_args(struct render *r, struct frame *f, const struct args *args, struct argv *a)
{
	struct jval v;
	for (size_t i = 0; i < args->npos; i++) {
		if (eval(r, f, args->pos[i], &v))
			return -1;
		argv_push(a, v);
	}
	if (args->star) {
		struct jval l;
		if (eval(r, f, args->star, &v))
			return -1;
		int rc = value_iterate(r, args->star, v, &l);
		jval_unref(v);
		if (rc)
			return -1;
		for (size_t i = 0; i < l.u.l->n; i++)
			argv_push(a, jval_ref(l.u.l->v[i]));
		jval_unref(l);
	}
	for (size_t i = 0; i < args->nkw; i++) {
		if (eval(r, f, args->kwvals[i], &v))
			return -1;
		argv_kw(a, args->kwnames[i], v);
	}
	if (args->dstar) {
		if (eval(r, f, args->dstar, &v))
			return -1;
		if (v.type != JVAL_DICT) {
			jval_unref(v);
			return render_error(r, args->dstar, "argument after ** must be a mapping");
		}
		/* the keyword names point into the dict: keep it until released */
		a->stash = v;
		for (size_t i = 0; i < v.u.d->n; i++) {
			const struct jval *k = &v.u.d->e[i].key;
			if (k->type != JVAL_STR)
				return render_error(r, args->dstar, "keywords must be strings");
			argv_kw(a, k->u.s->s, jval_ref(v.u.d->e[i].val));
		}
	}
	return 0;
}

static int eval_call(struct render *r, struct frame *f, const struct expr *e, struct jval *out)
{
	const struct expr *callee_e = e->u.call.callee;
	struct jval callee = jval_undefined(), self = jval_undefined();
	jinja_fn method = NULL;
	if (callee_e->kind == EX_GETATTR) {
		/* obj.method(...) calls the builtin method without binding it */
		if (eval(r, f, callee_e->u.attr.obj, &self))
			return -1;
		if (self.type == JVAL_STR || self.type == JVAL_LIST ||
		    (self.type == JVAL_DICT && !self.u.d->ns))
			method = method_lookup(self, callee_e->u.attr.attr.s);
		if (!method) {
			/* the object stays alive through the call: a host object's
			 * method may use its data (run_query(q).columns.items()) */
			int rc = value_getattr(r, callee_e, self, callee_e->u.attr.attr.s, &callee);
			if (rc) {
				jval_unref(self);
				return -1;
			}
		}
	} else if (eval(r, f, callee_e, &callee)) {
		return -1;
	}
	struct argv a;
	argv_init(&a);
	int rc = eval_args(r, f, &e->u.call.args, &a);
	if (!rc) {
		if (method) {
			struct jinja_call c = { .name = callee_e->u.attr.attr.s, .self = self,
						.argc = a.n, .argv = a.v, .kwc = a.nkw,
						.kwnames = a.kwn, .kwvals = a.kwv, .r = r, .site = e };
			*out = jval_undefined();
			rc = method(&c, out);
			if (rc) {
				jval_unref(*out);
				rc = -1;
			}
		} else {
			rc = call_value(r, e, callee, a.n, a.v, a.nkw, a.kwn, a.kwv, out);
		}
	}
	argv_release(&a);
	jval_unref(callee);
	jval_unref(self);
	return rc;
}

/* --- filters and tests -------------------------------------------------- */

static int undefined_ok_filter(const char *name)
{
	return !strcmp(name, "default") || !strcmp(name, "d");
}

static int run_filter(struct render *r, const struct expr *site, const char *name,
		      const struct builtin *fn, struct jval v, size_t argc, const struct jval *argv,
		      size_t kwc, const char *const *kwnames, const struct jval *kwvals,
		      struct jval *out)
{
	if (v.type == JVAL_UNDEFINED && render_strict(r, v) && !undefined_ok_filter(name))
		return render_undefined(r, site, v);
	struct jval local[8];
	struct jval *all = argc + 1 <= ARRAY_SIZE(local) ? local : xmalloc((argc + 1) * sizeof(*all));
	all[0] = v;
	if (argc)
		memcpy(all + 1, argv, argc * sizeof(*argv));
	int rc;
	if (fn) {
		struct jinja_call c = { .name = fn->name, .argc = argc + 1, .argv = all, .kwc = kwc,
					.kwnames = kwnames, .kwvals = kwvals, .r = r, .site = site };
		*out = jval_undefined();
		rc = fn->fn(&c, out);
		if (rc) {
			jval_unref(*out);
			rc = -1;
		}
	} else {
		const struct jval *host = r->env ? jval_dict_get(r->env->filters, name) : NULL;
		if (!host)
			rc = render_error(r, site, "no filter named '%s'", name);
		else
			rc = call_value(r, site, *host, argc + 1, all, kwc, kwnames, kwvals, out);
	}
	if (all != local)
		free(all);
	return rc;
}

int apply_filter(struct render *r, const struct expr *site, const char *name, struct jval v,
		 size_t argc, const struct jval *argv, size_t kwc, const char *const *kwnames,
		 const struct jval *kwvals, struct jval *out)
{
	const struct builtin *fn = filter_lookup(name);
	if (!fn && !(r->env && jval_dict_get(r->env->filters, name)))
		return render_error(r, site, "no filter named '%s'", name);
	return run_filter(r, site, name, fn, v, argc, argv, kwc, kwnames, kwvals, out);
}

static int undefined_ok_test(const char *name)
{
	static const char *const ok[] = { "defined", "undefined", "none", "string", "number",
					  "mapping", "sequence", "boolean", "true", "false",
					  "integer", "float", "callable", "sameas", "escaped" };
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(ok[i], name))
			return 1;
	return 0;
}

int apply_test(struct render *r, const struct expr *site, const char *name, struct jval v,
	       size_t argc, const struct jval *argv, size_t kwc, const char *const *kwnames,
	       const struct jval *kwvals, int *result)
{
	const struct builtin *fn = test_lookup(name);
	const struct jval *host = NULL;
	if (!fn && !(r->env && (host = jval_dict_get(r->env->tests, name))))
		return render_error(r, site, "no test named '%s'", name);
	if (v.type == JVAL_UNDEFINED && render_strict(r, v) && !undefined_ok_test(name))
		return render_undefined(r, site, v);
	struct jval local[8];
	struct jval *all = argc + 1 <= ARRAY_SIZE(local) ? local : xmalloc((argc + 1) * sizeof(*all));
	all[0] = v;
	if (argc)
		memcpy(all + 1, argv, argc * sizeof(*argv));
	struct jval out = jval_undefined();
	int rc;
	if (fn) {
		struct jinja_call c = { .name = fn->name, .argc = argc + 1, .argv = all, .kwc = kwc,
					.kwnames = kwnames, .kwvals = kwvals, .r = r, .site = site };
		rc = fn->fn(&c, &out) ? -1 : 0;
	} else {
		rc = call_value(r, site, *host, argc + 1, all, kwc, kwnames, kwvals, &out);
	}
	if (!rc)
		*result = jval_truthy(out);
	jval_unref(out);
	if (all != local)
		free(all);
	return rc;
}

static int eval_filter(struct render *r, struct frame *f, const struct expr *e, struct jval *out)
{
	struct jval v;
	if (!e->u.filter.arg)
		v = jval_ref(r->block_value);
	else if (eval(r, f, e->u.filter.arg, &v))
		return -1;
	struct argv a;
	argv_init(&a);
	int rc = eval_args(r, f, &e->u.filter.args, &a);
	if (!rc)
		rc = run_filter(r, e->u.filter.arg ? e->u.filter.arg : e, e->u.filter.name,
				e->u.filter.fn, v, a.n, a.v, a.nkw, a.kwn, a.kwv, out);
	argv_release(&a);
	jval_unref(v);
	return rc;
}

static int eval_test(struct render *r, struct frame *f, const struct expr *e, struct jval *out)
{
	struct jval v;
	if (eval(r, f, e->u.test.arg, &v))
		return -1;
	struct argv a;
	argv_init(&a);
	int rc = eval_args(r, f, &e->u.test.args, &a);
	int res = 0;
	if (!rc)
		rc = apply_test(r, e->u.test.arg, e->u.test.name, v, a.n, a.v, a.nkw, a.kwn, a.kwv,
				&res);
	argv_release(&a);
	jval_unref(v);
	if (!rc)
		*out = jval_bool(res);
	return rc;
}

/* --- operators -------------------------------------------------------- */

static const char *const BINOP_SYM[] = { "+", "-", "*", "/", "//", "%", "**" };

static int is_num(struct jval v)
{
	return v.type == JVAL_INT || v.type == JVAL_FLOAT || v.type == JVAL_BOOL;
}

static double as_f(struct jval v)
{
	return v.type == JVAL_FLOAT ? v.u.f : v.type == JVAL_INT ? (double)v.u.i : v.u.b;
}

static int64_t as_i(struct jval v)
{
	return v.type == JVAL_INT ? v.u.i : v.u.b;
}

static int too_long(struct render *r, const struct expr *site)
{
	return render_error(r, site, "string is too long (more than %lld bytes)", (long long)JINJA_MAX_STR);
}

static int repeat(struct render *r, const struct expr *e, struct jval seq, int64_t n,
		  struct jval *out)
{
	if (n < 0)
		n = 0;
	if (seq.type == JVAL_STR) {
		if (n && seq.u.s->len && (uint64_t)n > (uint64_t)JINJA_MAX_STR / seq.u.s->len)
			return render_error(r, e, "repeated string is too long (more than %lld bytes)",
					    (long long)JINJA_MAX_STR);
		struct strbuf sb = STRBUF_INIT;
		for (int64_t i = 0; i < n; i++)
			strbuf_add(&sb, seq.u.s->s, seq.u.s->len);
		*out = jval_str_from_buf(&sb);
		return 0;
	}
	if (n && seq.u.l->n && (uint64_t)n > (uint64_t)JINJA_MAX_ITEMS / seq.u.l->n)
		return render_error(r, e, "repeated list is too long (more than %lld items)",
				    (long long)JINJA_MAX_ITEMS);
	struct jval l = seq.u.l->kind == JL_TUPLE ? jval_tuple_new() : jval_list_new();
	for (int64_t i = 0; i < n; i++)
		for (size_t k = 0; k < seq.u.l->n; k++)
			jlist_push(l.u.l, jval_ref(seq.u.l->v[k]));
	*out = l;
	return 0;
}

static int arith(struct render *r, const struct expr *e, enum binop op, struct jval a, struct jval b,
		 struct jval *out)
{
	if (a.type == JVAL_UNDEFINED)
		return render_undefined(r, e->u.bin.l, a);
	if (b.type == JVAL_UNDEFINED)
		return render_undefined(r, e->u.bin.r, b);
	if (is_num(a) && is_num(b)) {
		if (a.type != JVAL_FLOAT && b.type != JVAL_FLOAT) {
			int64_t x = as_i(a), y = as_i(b), z;
			switch (op) {
			case OP_ADD:
				if (__builtin_add_overflow(x, y, &z))
					goto overflow;
				break;
			case OP_SUB:
				if (__builtin_sub_overflow(x, y, &z))
					goto overflow;
				break;
			case OP_MUL:
				if (__builtin_mul_overflow(x, y, &z))
					goto overflow;
				break;
			case OP_DIV:
				if (!y)
					return render_error(r, e, "division by zero");
				*out = jval_float((double)x / (double)y);
				return 0;
			case OP_FLOORDIV:
			case OP_MOD:
				if (!y)
					return render_error(r, e, op == OP_MOD ? "integer modulo by zero"
									       : "integer division or modulo by zero");
				if (x == INT64_MIN && y == -1)
					goto overflow;
				z = x / y;
				if ((x % y != 0) && ((x < 0) != (y < 0)))
					z--;
				if (op == OP_MOD)
					z = x - z * y;
				break;
			case OP_POW:
				if (y < 0) {
					if (!x)
						return render_error(r, e, "0.0 cannot be raised to a negative power");
					*out = jval_float(pow((double)x, (double)y));
					return 0;
				}
				/* by squaring: y may be huge when x is 0, 1 or -1 */
				z = 1;
				for (int64_t base = x, k = y;;) {
					if ((k & 1) && __builtin_mul_overflow(z, base, &z))
						goto overflow;
					k >>= 1;
					if (!k)
						break;
					if (__builtin_mul_overflow(base, base, &base))
						goto overflow;
				}
				break;
			default:
				z = 0;
			}
			*out = jval_int(z);
			return 0;
		}
		double x = as_f(a), y = as_f(b), z;
		switch (op) {
		case OP_ADD:
			z = x + y;
			break;
		case OP_SUB:
			z = x - y;
			break;
		case OP_MUL:
			z = x * y;
			break;
		case OP_DIV:
			if (y == 0)
				return render_error(r, e, "float division by zero");
			z = x / y;
			break;
		case OP_FLOORDIV:
			if (y == 0)
				return render_error(r, e, "float floor division by zero");
			z = floor(x / y);
			break;
		case OP_MOD:
			if (y == 0)
				return render_error(r, e, "float modulo");
			z = fmod(x, y);
			if (z != 0 && ((z < 0) != (y < 0)))
				z += y;
			break;
		case OP_POW:
			if (x == 0 && y < 0)
				return render_error(r, e, "0.0 cannot be raised to a negative power");
			z = pow(x, y);
			break;
		default:
			z = 0;
		}
		*out = jval_float(z);
		return 0;
	}
	if (op == OP_ADD && a.type == JVAL_STR && b.type == JVAL_STR) {
		if (a.u.s->len + b.u.s->len > (size_t)JINJA_MAX_STR)
			return too_long(r, e);
		struct strbuf sb = STRBUF_INIT;
		strbuf_grow(&sb, a.u.s->len + b.u.s->len);
		strbuf_add(&sb, a.u.s->s, a.u.s->len);
		strbuf_add(&sb, b.u.s->s, b.u.s->len);
		*out = jval_str_from_buf(&sb);
		return 0;
	}
	if (op == OP_ADD && a.type == JVAL_LIST && b.type == JVAL_LIST &&
	    (a.u.l->kind == JL_TUPLE) == (b.u.l->kind == JL_TUPLE) && a.u.l->kind <= JL_TUPLE &&
	    b.u.l->kind <= JL_TUPLE) {
		if (a.u.l->n + b.u.l->n > (size_t)JINJA_MAX_ITEMS)
			return render_error(r, e, "list is too long (more than %lld items)",
					    (long long)JINJA_MAX_ITEMS);
		struct jval l = a.u.l->kind == JL_TUPLE ? jval_tuple_new() : jval_list_new();
		for (size_t i = 0; i < a.u.l->n; i++)
			jlist_push(l.u.l, jval_ref(a.u.l->v[i]));
		for (size_t i = 0; i < b.u.l->n; i++)
			jlist_push(l.u.l, jval_ref(b.u.l->v[i]));
		*out = l;
		return 0;
	}
	if (op == OP_MUL && (a.type == JVAL_STR || a.type == JVAL_LIST) &&
	    (b.type == JVAL_INT || b.type == JVAL_BOOL))
		return repeat(r, e, a, as_i(b), out);
	if (op == OP_MUL && (b.type == JVAL_STR || b.type == JVAL_LIST) &&
	    (a.type == JVAL_INT || a.type == JVAL_BOOL))
		return repeat(r, e, b, as_i(a), out);
	if (op == OP_MOD && a.type == JVAL_STR) {
		struct strbuf sb = STRBUF_INIT;
		struct jinja_call c = { .name = "%", .r = r, .site = e };
		if (py_percent(&c, a.u.s->s, a.u.s->len, b, &sb)) {
			strbuf_release(&sb);
			return -1;
		}
		*out = jval_str_from_buf(&sb);
		return 0;
	}
	for (int swapped = 0; swapped < 2; swapped++) {
		struct jval o = swapped ? b : a;
		const struct jinja_object_arith *ar =
			o.type == JVAL_OBJECT ? jinja_object_arith_of(o.u.o->ops) : NULL;
		char *msg = NULL;
		int rc = ar && ar->binop ? ar->binop(o.u.o->data, op, swapped ? a : b, swapped, out, &msg) : 1;
		if (rc < 0) {
			render_error(r, e, "%s", msg ? msg : "operation failed");
			free(msg);
			return -1;
		}
		if (!rc)
			return 0;
	}
	if (op == OP_ADD && (a.type == JVAL_STR || (a.type == JVAL_LIST && a.u.l->kind == JL_LIST)))
		return render_error(r, e, "can only concatenate %s (not \"%s\") to %s",
				    jval_type_name(a), jval_type_name(b), jval_type_name(a));
	return render_error(r, e, "unsupported operand type(s) for %s: '%s' and '%s'", BINOP_SYM[op],
			    jval_type_name(a), jval_type_name(b));
overflow:
	return render_error(r, e, "integer overflow");
}

static int contains(struct render *r, const struct expr *site, struct jval item, struct jval seq,
		    int *out)
{
	switch (seq.type) {
	case JVAL_STR:
		if (item.type != JVAL_STR)
			return render_error(r, site, "'in <string>' requires string as left operand, not %s",
					    jval_type_name(item));
		*out = memmem(seq.u.s->s, seq.u.s->len, item.u.s->s, item.u.s->len) != NULL;
		return 0;
	case JVAL_LIST:
		*out = 0;
		for (size_t i = 0; i < seq.u.l->n && !*out; i++)
			*out = jval_equal(item, seq.u.l->v[i]);
		return 0;
	case JVAL_DICT: {
		uint32_t h;
		if (jval_hash(item, &h))
			return render_error(r, site, "unhashable type: '%s'", jval_type_name(item));
		*out = jdict_find(seq.u.d, item, h) >= 0;
		return 0;
	}
	case JVAL_UNDEFINED:
		return render_undefined(r, site, seq);
	default:
		return render_error(r, site, "argument of type '%s' is not iterable",
				    jval_type_name(seq));
	}
}

static const char *const CMP_SYM[] = { "==", "!=", "<", "<=", ">", ">=", "in", "not in" };

static int compare_op(struct render *r, const struct expr *site, enum cmpop op, struct jval a,
		      struct jval b, int *res)
{
	if (a.type == JVAL_UNDEFINED && render_strict(r, a))
		return render_undefined(r, site, a);
	if (b.type == JVAL_UNDEFINED && render_strict(r, b))
		return render_undefined(r, site, b);
	switch (op) {
	case CMP_EQ:
		*res = jval_equal(a, b);
		return 0;
	case CMP_NE:
		*res = !jval_equal(a, b);
		return 0;
	case CMP_IN:
	case CMP_NOTIN:
		if (contains(r, site, a, b, res))
			return -1;
		if (op == CMP_NOTIN)
			*res = !*res;
		return 0;
	default: {
		int c;
		if (jval_compare(a, b, &c))
			return render_error(r, site, "'%s' not supported between instances of '%s' and '%s'",
					    CMP_SYM[op], jval_type_name(a), jval_type_name(b));
		*res = op == CMP_LT ? c < 0 : op == CMP_LE ? c <= 0 : op == CMP_GT ? c > 0 : c >= 0;
		return 0;
	}
	}
}

/* Every printed value and concatenation goes through here: it bounds the
 * output (of a render, a block or a ~ expression). */
static int write_value(struct render *r, const struct expr *site, struct jval v,
		       struct strbuf *out)
{
	if (v.type == JVAL_UNDEFINED) {
		if (render_strict(r, v))
			return render_undefined(r, site, v);
		return 0;
	}
	if (v.type == JVAL_STR && out->len + v.u.s->len > (size_t)JINJA_MAX_STR)
		return too_long(r, site);
	jval_write_str(out, v);
	if (out->len > (size_t)JINJA_MAX_STR)
		return too_long(r, site);
	return 0;
}

/* --- expressions ---------------------------------------------------------- */

static int eval(struct render *r, struct frame *f, const struct expr *e, struct jval *out)
{
	struct jval a, b;
	int rc, t = 0;
	switch (e->kind) {
	case EX_CONST:
		*out = jval_ref(e->u.cval);
		return 0;
	case EX_NAME:
		if (!lookup(r, f, e->u.name.s, e->u.name.len, e->u.name.hash, out))
			*out = undefined_fmt("'%s' is undefined", e->u.name.s);
		return 0;
	case EX_LIST:
	case EX_TUPLE: {
		struct jval l = e->kind == EX_LIST ? jval_list_new() : jval_tuple_new();
		for (size_t i = 0; i < e->u.seq.n; i++) {
			if (eval(r, f, e->u.seq.items[i], &a)) {
				jval_unref(l);
				return -1;
			}
			jlist_push(l.u.l, a);
		}
		*out = l;
		return 0;
	}
	case EX_DICT: {
		struct jval d = jval_dict_new();
		for (size_t i = 0; i < e->u.dict.n; i++) {
			if (eval(r, f, e->u.dict.keys[i], &a)) {
				jval_unref(d);
				return -1;
			}
			if (eval(r, f, e->u.dict.vals[i], &b)) {
				jval_unref(a);
				jval_unref(d);
				return -1;
			}
			const char *tn = jval_type_name(a);
			if (jval_dict_setv(d, a, b)) {
				jval_unref(d);
				return render_error(r, e->u.dict.keys[i], "unhashable type: '%s'", tn);
			}
		}
		*out = d;
		return 0;
	}
	case EX_GETATTR:
		if (eval(r, f, e->u.attr.obj, &a))
			return -1;
		rc = value_getattr(r, e, a, e->u.attr.attr.s, out);
		jval_unref(a);
		return rc;
	case EX_GETITEM: {
		if (eval(r, f, e->u.item.obj, &a))
			return -1;
		const struct expr *ix = e->u.item.index;
		if (ix->kind == EX_SLICE) {
			struct jval bounds[3] = { jval_none(), jval_none(), jval_none() };
			const struct expr *parts[3] = { ix->u.slice.start, ix->u.slice.stop,
							ix->u.slice.step };
			rc = 0;
			for (int k = 0; k < 3 && !rc; k++)
				if (parts[k])
					rc = eval(r, f, parts[k], &bounds[k]);
			if (!rc)
				rc = do_slice(r, e, a, bounds, out);
			for (int k = 0; k < 3; k++)
				jval_unref(bounds[k]);
			jval_unref(a);
			return rc;
		}
		if (eval(r, f, ix, &b)) {
			jval_unref(a);
			return -1;
		}
		rc = value_getitem(r, e, a, b, out);
		jval_unref(a);
		jval_unref(b);
		return rc;
	}
	case EX_SLICE:
		return render_error(r, e, "unexpected slice");
	case EX_CALL:
		return eval_call(r, f, e, out);
	case EX_FILTER:
		return eval_filter(r, f, e, out);
	case EX_TEST:
		return eval_test(r, f, e, out);
	case EX_BINOP:
		if (eval(r, f, e->u.bin.l, &a))
			return -1;
		if (eval(r, f, e->u.bin.r, &b)) {
			jval_unref(a);
			return -1;
		}
		rc = arith(r, e, e->u.bin.op, a, b, out);
		jval_unref(a);
		jval_unref(b);
		return rc;
	case EX_AND:
	case EX_OR:
		if (eval(r, f, e->u.bin.l, &a))
			return -1;
		if (truth(r, e->u.bin.l, a, &t)) {
			jval_unref(a);
			return -1;
		}
		if ((e->kind == EX_AND) != !!t) {
			*out = a; /* `a and b` is a when a is false; `a or b` a when true */
			return 0;
		}
		jval_unref(a);
		return eval(r, f, e->u.bin.r, out);
	case EX_NOT:
		if (eval(r, f, e->u.un, &a))
			return -1;
		rc = truth(r, e->u.un, a, &t);
		jval_unref(a);
		if (!rc)
			*out = jval_bool(!t);
		return rc;
	case EX_NEG:
	case EX_POS:
		if (eval(r, f, e->u.un, &a))
			return -1;
		const struct jinja_object_arith *ar =
			a.type == JVAL_OBJECT ? jinja_object_arith_of(a.u.o->ops) : NULL;
		if (a.type == JVAL_UNDEFINED) {
			rc = render_undefined(r, e->u.un, a);
		} else if (ar && ar->neg && e->kind == EX_POS) {
			*out = jval_ref(a);
			rc = 0;
		} else if (ar && ar->neg && !ar->neg(a.u.o->data, out)) {
			rc = 0;
		} else if (!is_num(a)) {
			rc = render_error(r, e, "bad operand type for unary %c: '%s'",
					  e->kind == EX_NEG ? '-' : '+', jval_type_name(a));
		} else {
			rc = 0;
			if (a.type == JVAL_FLOAT)
				*out = jval_float(e->kind == EX_NEG ? -a.u.f : a.u.f);
			else if (e->kind == EX_NEG && as_i(a) == INT64_MIN)
				rc = render_error(r, e, "integer overflow");
			else
				*out = jval_int(e->kind == EX_NEG ? -as_i(a) : as_i(a));
		}
		jval_unref(a);
		return rc;
	case EX_CONCAT: {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < e->u.concat.n; i++) {
			if (eval(r, f, e->u.concat.items[i], &a)) {
				strbuf_release(&sb);
				return -1;
			}
			rc = write_value(r, e->u.concat.items[i], a, &sb);
			jval_unref(a);
			if (rc) {
				strbuf_release(&sb);
				return -1;
			}
		}
		*out = jval_str_from_buf(&sb);
		return 0;
	}
	case EX_COMPARE: {
		if (eval(r, f, e->u.cmp.first, &a))
			return -1;
		int res = 1;
		for (size_t i = 0; i < e->u.cmp.n; i++) {
			if (eval(r, f, e->u.cmp.rest[i], &b)) {
				jval_unref(a);
				return -1;
			}
			rc = compare_op(r, e->u.cmp.first, e->u.cmp.ops[i], a, b, &res);
			jval_unref(a);
			a = b;
			if (rc) {
				jval_unref(a);
				return -1;
			}
			if (!res)
				break;
		}
		jval_unref(a);
		*out = jval_bool(res);
		return 0;
	}
	case EX_COND:
		if (eval(r, f, e->u.cond.cond, &a))
			return -1;
		rc = truth(r, e->u.cond.cond, a, &t);
		jval_unref(a);
		if (rc)
			return -1;
		if (t)
			return eval(r, f, e->u.cond.then, out);
		if (e->u.cond.els)
			return eval(r, f, e->u.cond.els, out);
		*out = undefined_fmt("the inline if-expression on line %u evaluated to false and no else section was defined.",
				     e->line);
		out->u.s->lenient = 1;
		return 0;
	}
	return render_error(r, e, "cannot evaluate expression");
}

/* --- statements ---------------------------------------------------------- */

static int assign(struct render *r, struct frame *f, const struct stmt *s, const struct target *t,
		  struct jval v)
{
	if (t->kind == TG_NAME) {
		frame_set(f, &t->name, v);
		return 0;
	}
	if (t->kind == TG_ATTR) {
		/* lookup() leaves ns alone when the name is undefined */
		struct jval ns = jval_undefined();
		if (!lookup(r, f, t->name.s, t->name.len, t->name.hash, &ns) ||
		    ns.type != JVAL_DICT || !ns.u.d->ns) {
			jval_unref(ns);
			jval_unref(v);
			return stmt_error(r, s, "cannot assign attribute on non-namespace object");
		}
		jval_dict_set(ns, t->attr.s, v);
		jval_unref(ns);
		return 0;
	}
	struct jval l;
	struct expr site = { .file = s->file, .line = s->line, .col = s->col };
	if (value_iterate(r, &site, v, &l)) {
		jval_unref(v);
		return -1;
	}
	jval_unref(v);
	int rc = 0;
	if (l.u.l->n < t->n)
		rc = stmt_error(r, s, "not enough values to unpack (expected %zu, got %zu)", t->n,
				l.u.l->n);
	else if (l.u.l->n > t->n)
		rc = stmt_error(r, s, "too many values to unpack (expected %zu)", t->n);
	for (size_t i = 0; !rc && i < t->n; i++)
		rc = assign(r, f, s, t->items[i], jval_ref(l.u.l->v[i]));
	jval_unref(l);
	return rc;
}

static int exec_for(struct render *r, struct frame *f, const struct stmt *s, struct strbuf *out)
{
	struct jval it, items;
	if (eval(r, f, s->u.for_.iter, &it))
		return -1;
	int rc = value_iterate(r, s->u.for_.iter, it, &items);
	jval_unref(it);
	if (rc)
		return -1;
	struct frame lf = { .parent = f };
	if (s->u.for_.filter) {
		/* filter first: loop.index and loop.length count kept items */
		struct jval kept = jval_list_new();
		for (size_t i = 0; i < items.u.l->n; i++) {
			frame_clear_vars(&lf);
			struct jval c;
			int t = 0;
			if (assign(r, &lf, s, s->u.for_.target, jval_ref(items.u.l->v[i])) ||
			    eval(r, &lf, s->u.for_.filter, &c)) {
				rc = -1;
			} else {
				rc = truth(r, s->u.for_.filter, c, &t);
				jval_unref(c);
			}
			if (rc) {
				jval_unref(kept);
				jval_unref(items);
				frame_release(&lf);
				return -1;
			}
			if (t)
				jlist_push(kept.u.l, jval_ref(items.u.l->v[i]));
		}
		jval_unref(items);
		items = kept;
	}
	struct jval loop = jval_undefined();
	struct loopstate *ls = NULL;
	if (s->u.for_.uses_loop) {
		ls = xcalloc(1, sizeof(*ls));
		ls->refs = 1;
		ls->items = jval_ref(items);
		loop = jval_object(&loop_ops, ls);
	}
	struct name loopname = hashed(NAME_LOOP);
	rc = 0;
	size_t n = items.u.l->n;
	for (size_t i = 0; i < n; i++) {
		frame_clear_vars(&lf);
		if (ls) {
			ls->i = i;
			frame_set(&lf, &loopname, jval_ref(loop));
		}
		/* the list may be mutated by the body: hold the item */
		if (i >= items.u.l->n)
			break;
		if (assign(r, &lf, s, s->u.for_.target, jval_ref(items.u.l->v[i]))) {
			rc = -1;
			break;
		}
		rc = exec_body(r, &lf, &s->u.for_.body, out);
		if (rc == EXEC_CONTINUE) {
			rc = 0;
			continue;
		}
		if (rc == EXEC_BREAK) {
			rc = 0;
			break;
		}
		if (rc)
			break;
	}
	frame_release(&lf);
	if (!rc && !n && s->u.for_.els.n) {
		struct frame ef = { .parent = f };
		rc = exec_body(r, &ef, &s->u.for_.els, out);
		frame_release(&ef);
	}
	jval_unref(loop);
	jval_unref(items);
	return rc;
}

/* Render a body in its own frame into a string. */
static int capture(struct render *r, struct frame *f, const struct body *b, struct jval *out)
{
	struct frame inner = { .parent = f };
	struct strbuf sb = STRBUF_INIT;
	int rc = exec_body(r, &inner, b, &sb);
	frame_release(&inner);
	if (rc) {
		strbuf_release(&sb);
		return rc;
	}
	*out = jval_str_from_buf(&sb);
	return 0;
}

static int apply_block_filter(struct render *r, struct frame *f, const struct expr *filter,
			      struct jval body, struct jval *out)
{
	struct jval saved = r->block_value;
	r->block_value = body;
	int rc = eval(r, f, filter, out);
	r->block_value = saved;
	return rc;
}

static int exec(struct render *r, struct frame *f, const struct stmt *s, struct strbuf *out)
{
	struct jval v, w;
	int rc, t = 0;
	switch (s->kind) {
	case ST_DATA:
		if (out->len + s->u.data.len > (size_t)JINJA_MAX_STR) {
			struct expr site = { .file = s->file, .line = s->line, .col = s->col };
			return too_long(r, &site);
		}
		strbuf_add(out, s->u.data.s, s->u.data.len);
		return 0;
	case ST_PRINT:
		if (eval(r, f, s->u.expr, &v))
			return -1;
		rc = write_value(r, s->u.expr, v, out);
		jval_unref(v);
		return rc;
	case ST_IF:
		if (eval(r, f, s->u.if_.cond, &v))
			return -1;
		rc = truth(r, s->u.if_.cond, v, &t);
		jval_unref(v);
		if (rc)
			return -1;
		return exec_body(r, f, t ? &s->u.if_.then : &s->u.if_.els, out);
	case ST_FOR:
		return exec_for(r, f, s, out);
	case ST_SET:
		if (eval(r, f, s->u.set.value, &v))
			return -1;
		return assign(r, f, s, s->u.set.target, v);
	case ST_SETBLOCK:
		if ((rc = capture(r, f, &s->u.setblock.body, &v)))
			return rc;
		if (s->u.setblock.filter) {
			rc = apply_block_filter(r, f, s->u.setblock.filter, v, &w);
			jval_unref(v);
			if (rc)
				return -1;
			v = w;
		}
		return assign(r, f, s, s->u.setblock.target, v);
	case ST_MACRO:
		frame_set(f, &s->u.macro->bound, make_macro(r, f, s->u.macro));
		return 0;
	case ST_CALLBLOCK: {
		const struct expr *call = s->u.callblock.call;
		struct jval caller = make_macro(r, f, s->u.callblock.caller);
		struct jval callee;
		if (eval(r, f, call->u.call.callee, &callee)) {
			jval_unref(caller);
			return -1;
		}
		struct argv a;
		argv_init(&a);
		rc = eval_args(r, f, &call->u.call.args, &a);
		if (!rc) {
			argv_kw(&a, "caller", caller);
			caller = jval_undefined();
			rc = call_value(r, call, callee, a.n, a.v, a.nkw, a.kwn, a.kwv, &v);
			if (!rc) {
				rc = write_value(r, call, v, out);
				jval_unref(v);
			}
		}
		argv_release(&a);
			jval_unref(caller);
		jval_unref(callee);
		return rc;
	}
	case ST_FILTERBLOCK:
		if ((rc = capture(r, f, &s->u.filterblock.body, &v)))
			return rc;
		rc = apply_block_filter(r, f, s->u.filterblock.filter, v, &w);
		jval_unref(v);
		if (rc)
			return -1;
		rc = write_value(r, s->u.filterblock.filter, w, out);
		jval_unref(w);
		return rc;
	case ST_DO:
		if (eval(r, f, s->u.expr, &v))
			return -1;
		jval_unref(v);
		return 0;
	case ST_WITH: {
		struct frame wf = { .parent = f };
		rc = 0;
		for (size_t i = 0; i < s->u.with.n && !rc; i++) {
			/* values see the outer scope, as in Jinja */
			if (eval(r, f, s->u.with.values[i], &v))
				rc = -1;
			else
				rc = assign(r, &wf, s, s->u.with.targets[i], v);
		}
		if (!rc)
			rc = exec_body(r, &wf, &s->u.with.body, out);
		frame_release(&wf);
		return rc;
	}
	case ST_BREAK:
		return EXEC_BREAK;
	case ST_CONTINUE:
		return EXEC_CONTINUE;
	}
	return stmt_error(r, s, "cannot execute statement");
}

static int exec_body(struct render *r, struct frame *f, const struct body *b, struct strbuf *out)
{
	for (size_t i = 0; i < b->n; i++) {
		int rc = exec(r, f, b->s[i], out);
		if (rc)
			return rc;
	}
	return 0;
}

/* --- public API ------------------------------------------------------------ */

void jinja_env_init(struct jinja_env *env)
{
	env->globals = jval_dict_new();
	env->filters = jval_dict_new();
	env->tests = jval_dict_new();
	env->lenient_undefined = 0;
}

void jinja_env_release(struct jinja_env *env)
{
	jval_unref(env->globals);
	jval_unref(env->filters);
	jval_unref(env->tests);
	memset(env, 0, sizeof(*env));
}

void jinja_env_set_global(struct jinja_env *env, const char *name, struct jval v)
{
	jval_dict_set(env->globals, name, v);
}

void jinja_env_add_filter(struct jinja_env *env, const char *name, jinja_fn fn, void *data)
{
	jval_dict_set(env->filters, name, jval_native(name, fn, data, NULL));
}

void jinja_env_add_test(struct jinja_env *env, const char *name, jinja_fn fn, void *data)
{
	jval_dict_set(env->tests, name, jval_native(name, fn, data, NULL));
}

static void template_free(struct jinja_template *t)
{
	for (size_t i = 0; i < t->nconsts; i++)
		jval_unref(t->consts[i]);
	free(t->consts);
	free(t->docs);
	arena_release(&t->arena);
	free(t);
}

struct jinja_template *jinja_template_parse(const struct jinja_env *env, const char *file,
					    const char *src, size_t len, struct strbuf *err)
{
	struct jinja_template *t = xcalloc(1, sizeof(*t));
	t->refcnt = 1;
	/* a parse tree takes about 8-16 times its text (tokens, nodes, strings) */
	arena_hint(&t->arena, 1024 + len * 16);
	t->file = arena_strdup(&t->arena, file ? file : "<template>");
	if (parser_run(t, env, src, len, err)) {
		template_free(t);
		return NULL;
	}
	return t;
}

struct jinja_template *jinja_template_ref(struct jinja_template *t)
{
	if (t)
		__atomic_add_fetch(&t->refcnt, 1, __ATOMIC_RELAXED);
	return t;
}

void jinja_template_unref(struct jinja_template *t)
{
	if (t && __atomic_sub_fetch(&t->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		template_free(t);
}

const char *jinja_template_file(const struct jinja_template *t)
{
	return t->file;
}

static void render_init(struct render *r, const struct jinja_env *env, struct jval ctx,
			struct jinja_template *t, struct strbuf *err)
{
	memset(r, 0, sizeof(*r));
	r->env = env;
	r->ctx = ctx;
	r->err = err;
	r->tmpl = t;
	r->strict = !(env && env->lenient_undefined);
}

static int finish(struct render *r, int rc)
{
	if (r->returning) {
		jval_unref(r->retval);
		r->retval = jval_undefined();
		r->returning = 0;
		render_error(r, r->return_site, "return() called outside of a macro");
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

int jinja_render(const struct jinja_env *env, struct jinja_template *t, struct jval ctx,
		 struct strbuf *out, struct strbuf *err)
{
	struct render r;
	render_init(&r, env, ctx, t, err);
	struct frame root = { 0 };
	int rc = exec_body(&r, &root, &t->body, out);
	frame_release(&root);
	return finish(&r, rc);
}

int jinja_template_macros(struct jinja_template *t, struct jval dict)
{
	return jinja_template_macros_ns(t, dict, jval_none());
}

int jinja_template_macros_ns(struct jinja_template *t, struct jval dict, struct jval ns)
{
	int n = 0;
	struct render r;
	render_init(&r, NULL, jval_none(), t, NULL);
	for (size_t i = 0; i < t->body.n; i++) {
		const struct stmt *s = t->body.s[i];
		if (s->kind != ST_MACRO || s->u.macro->kind == MACRO_DOCS)
			continue;
		struct jval m = make_macro(&r, NULL, s->u.macro);
		m.u.m->ns = ns.type == JVAL_DICT ? ns.u.d : NULL;
		jval_dict_set(dict, s->u.macro->name, m);
		n++;
	}
	return n;
}

size_t jinja_template_doc_count(const struct jinja_template *t)
{
	return t->ndocs;
}

const char *jinja_template_doc_name(const struct jinja_template *t, size_t i)
{
	return i < t->ndocs ? t->docs[i]->docname : NULL;
}

int jinja_render_doc(const struct jinja_env *env, struct jinja_template *t, const char *name,
		     struct jval ctx, struct strbuf *out, struct strbuf *err)
{
	for (size_t i = 0; i < t->ndocs; i++) {
		if (strcmp(t->docs[i]->docname, name))
			continue;
		struct render r;
		render_init(&r, env, ctx, t, err);
		struct frame root = { 0 };
		int rc = exec_body(&r, &root, &t->docs[i]->body, out);
		frame_release(&root);
		return finish(&r, rc);
	}
	strbuf_addf(err, "%s: no docs block named '%s'", t->file, name);
	return -1;
}

int jinja_invoke(const struct jinja_env *env, struct jval ctx, struct jval callee, size_t argc,
		 const struct jval *argv, size_t kwc, const char *const *kwnames,
		 const struct jval *kwvals, struct jval *ret, struct strbuf *err)
{
	struct render r;
	render_init(&r, env, ctx, callee.type == JVAL_MACRO ? callee.u.m->tmpl : NULL, err);
	*ret = jval_undefined();
	int rc = call_value(&r, NULL, callee, argc, argv, kwc, kwnames, kwvals, ret);
	if (r.returning) {
		/* return() called directly from C: its value is the result */
		*ret = r.retval;
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

const char *jinja_call_name(const struct jinja_call *c)
{
	return c->name;
}

const char *jinja_call_file(const struct jinja_call *c)
{
	return c->site && c->site->file ? c->site->file : "";
}

void *jinja_call_data(const struct jinja_call *c)
{
	return c->data;
}

size_t jinja_call_argc(const struct jinja_call *c)
{
	return c->argc;
}

const struct jval *jinja_call_arg(const struct jinja_call *c, size_t i)
{
	return i < c->argc ? &c->argv[i] : NULL;
}

size_t jinja_call_kwargc(const struct jinja_call *c)
{
	return c->kwc;
}

const char *jinja_call_kwname(const struct jinja_call *c, size_t i)
{
	return i < c->kwc ? c->kwnames[i] : NULL;
}

const struct jval *jinja_call_kwval(const struct jinja_call *c, size_t i)
{
	return i < c->kwc ? &c->kwvals[i] : NULL;
}

const struct jval *jinja_call_kwarg(const struct jinja_call *c, const char *name)
{
	for (size_t i = 0; i < c->kwc; i++)
		if (!strcmp(c->kwnames[i], name))
			return &c->kwvals[i];
	return NULL;
}

const struct jval *jinja_call_param(const struct jinja_call *c, size_t pos, const char *name)
{
	if (pos < c->argc)
		return &c->argv[pos];
	return name ? jinja_call_kwarg(c, name) : NULL;
}

struct jval jinja_call_context(const struct jinja_call *c)
{
	return c->r->ctx;
}

int jinja_call_error(struct jinja_call *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (c->site)
		verror_at(c->r, c->site->file, c->site->line, c->site->col, fmt, ap);
	else
		verror_at(c->r, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int jinja_call_invoke(struct jinja_call *c, struct jval callee, size_t argc, const struct jval *argv,
		      size_t kwc, const char *const *kwnames, const struct jval *kwvals,
		      struct jval *ret)
{
	*ret = jval_undefined();
	return call_value(c->r, c->site, callee, argc, argv, kwc, kwnames, kwvals, ret);
}

/* return(value): dbt's way to make a macro call evaluate to a value. It
 * unwinds like an error, without a message, to the innermost macro call,
 * which yields the value. */
int builtin_return(struct jinja_call *c, struct jval *ret)
{
	jval_set(&c->r->retval, c->argc ? jval_ref(c->argv[0]) : jval_none());
	c->r->returning = 1;
	c->r->return_site = c->site;
	(void)ret;
	return -1;
}
