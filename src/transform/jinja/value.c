/* Runtime values: construction, reference counting, containers, and the
 * Python semantics of printing, equality, ordering and hashing. */
#include "internal.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- UTF-8 ------------------------------------------------------------- */

int jstr_is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

size_t utf8_step(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t w = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return w > n ? n : w;
}

size_t utf8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; c++)
		i += utf8_step(s + i, n - i);
	return c;
}

size_t utf8_offset(const char *s, size_t n, size_t ci)
{
	size_t i = 0;
	while (ci-- && i < n)
		i += utf8_step(s + i, n - i);
	return i;
}

/* --- construction and counting ---------------------------------------- */

struct jval jval_undefined(void)
{
	struct jval v = { JVAL_UNDEFINED, { 0 } };
	return v;
}

struct jval jval_undefined_msg(const char *msg)
{
	struct jval s = jval_str(msg);
	struct jval v = { JVAL_UNDEFINED, { 0 } };
	v.u.s = s.u.s;
	return v;
}

struct jval jval_none(void)
{
	struct jval v = { JVAL_NONE, { 0 } };
	return v;
}

struct jval jval_bool(int b)
{
	struct jval v = { JVAL_BOOL, { 0 } };
	v.u.b = !!b;
	return v;
}

struct jval jval_int(int64_t i)
{
	struct jval v = { JVAL_INT, { 0 } };
	v.u.i = i;
	return v;
}

struct jval jval_float(double f)
{
	struct jval v = { JVAL_FLOAT, { 0 } };
	v.u.f = f;
	return v;
}

struct jval jval_strn(const char *s, size_t len)
{
	struct jstr *p = xmalloc(sizeof(*p) + len + 1);
	p->h.refcnt = 1;
	p->h.immortal = 0;
	p->len = len;
	p->lenient = 0;
	memcpy(p->s, s, len);
	p->s[len] = '\0';
	p->ascii = (unsigned char)jstr_is_ascii(s, len);
	struct jval v = { JVAL_STR, { 0 } };
	v.u.s = p;
	return v;
}

struct jval jval_str(const char *s)
{
	return jval_strn(s, strlen(s));
}

struct jval jval_str_from_buf(struct strbuf *sb)
{
	struct jval v = jval_strn(sb->buf, sb->len);
	strbuf_release(sb);
	return v;
}

struct jval jval_str_take(char *s, size_t len)
{
	struct jval v = jval_strn(s, len);
	free(s);
	return v;
}

static struct jlist *jlist_alloc(enum jlist_kind kind)
{
	struct jlist *l = xcalloc(1, sizeof(*l));
	l->h.refcnt = 1;
	l->kind = kind;
	return l;
}

struct jval jval_list_new(void)
{
	struct jval v = { JVAL_LIST, { 0 } };
	v.u.l = jlist_alloc(JL_LIST);
	return v;
}

struct jval jval_tuple_new(void)
{
	struct jval v = { JVAL_LIST, { 0 } };
	v.u.l = jlist_alloc(JL_TUPLE);
	return v;
}

struct jval jval_list_from(struct jval *items, size_t n, enum jlist_kind kind)
{
	struct jval v = { JVAL_LIST, { 0 } };
	v.u.l = jlist_alloc(kind);
	v.u.l->v = n ? xmalloc(n * sizeof(*items)) : NULL;
	if (n)
		memcpy(v.u.l->v, items, n * sizeof(*items));
	v.u.l->n = v.u.l->alloc = n;
	return v;
}

struct jval jval_dict_new(void)
{
	struct jdict *d = xcalloc(1, sizeof(*d));
	d->h.refcnt = 1;
	struct jval v = { JVAL_DICT, { 0 } };
	v.u.d = d;
	return v;
}

struct jval jval_native(const char *name, jinja_fn fn, void *data, void (*free_data)(void *))
{
	struct jfunc *f = xcalloc(1, sizeof(*f));
	f->h.refcnt = 1;
	f->name = xstrdup(name ? name : "<native>");
	f->fn = fn;
	f->data = data;
	f->free_data = free_data;
	struct jval v = { JVAL_FUNC, { 0 } };
	v.u.fn = f;
	return v;
}

struct jval jval_object(const struct jinja_object_ops *ops, void *data)
{
	struct jobject *o = xcalloc(1, sizeof(*o));
	o->h.refcnt = 1;
	o->ops = ops;
	o->data = data;
	struct jval v = { JVAL_OBJECT, { 0 } };
	v.u.o = o;
	return v;
}

static int dictobj_getattr(void *data, const char *name, struct jval *out)
{
	struct jval d = { JVAL_DICT, { 0 } };
	d.u.d = data;
	const struct jval *p = jval_dict_get(d, name);
	if (!p)
		return 1;
	*out = jval_ref(*p);
	return 0;
}

static void dictobj_str(void *data, struct strbuf *out)
{
	struct jval d = { JVAL_DICT, { 0 } };
	d.u.d = data;
	jval_write_str(out, d);
}

static void dictobj_free(void *data)
{
	struct jval d = { JVAL_DICT, { 0 } };
	d.u.d = data;
	jval_unref(d);
}

/* A handful of kinds at most (date, datetime, timedelta): a small table,
 * filled at start-up, read afterwards. */
static struct {
	const struct jinja_object_ops *ops;
	const struct jinja_object_arith *ar;
} arith_table[16];
static int arith_n;

void jinja_object_set_arith(const struct jinja_object_ops *ops, const struct jinja_object_arith *ar)
{
	for (int i = 0; i < __atomic_load_n(&arith_n, __ATOMIC_ACQUIRE); i++)
		if (arith_table[i].ops == ops)
			return;
	if (arith_n >= (int)(sizeof(arith_table) / sizeof(arith_table[0])))
		return;
	arith_table[arith_n].ops = ops;
	arith_table[arith_n].ar = ar;
	__atomic_store_n(&arith_n, arith_n + 1, __ATOMIC_RELEASE);
}

const struct jinja_object_arith *jinja_object_arith_of(const struct jinja_object_ops *ops)
{
	int n = __atomic_load_n(&arith_n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (arith_table[i].ops == ops)
			return arith_table[i].ar;
	return NULL;
}

struct jval jval_object_dict(struct jval dict)
{
	static const struct jinja_object_ops base = { "object", dictobj_getattr, dictobj_str,
						      NULL, dictobj_free, NULL, 0 };
	if (dict.type != JVAL_DICT) {
		jval_unref(dict);
		dict = jval_dict_new();
	}
	return jval_object(&base, dict.u.d);
}

static inline int is_heap(struct jval v)
{
	return v.type >= JVAL_STR || (v.type == JVAL_UNDEFINED && v.u.s);
}

struct jval jval_ref(struct jval v)
{
	if (is_heap(v) && !v.u.h->immortal)
		__atomic_add_fetch(&v.u.h->refcnt, 1, __ATOMIC_RELAXED);
	return v;
}

void jval_unref(struct jval v)
{
	if (!is_heap(v) || v.u.h->immortal)
		return;
	if (__atomic_sub_fetch(&v.u.h->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		jval_free_heap(v);
}

void jval_set(struct jval *dst, struct jval v)
{
	struct jval old = *dst;
	*dst = v;
	jval_unref(old);
}

/* Values whose last reference went while freeing a container: freed by
 * the loop in jval_free_heap() rather than by recursion, so that a list
 * nested 100,000 deep (a loop can build one) does not overflow the stack. */
struct dying {
	struct jval *v;
	size_t n, alloc;
};

static void drop(struct dying *d, struct jval v)
{
	if (!is_heap(v) || v.u.h->immortal)
		return;
	if (__atomic_sub_fetch(&v.u.h->refcnt, 1, __ATOMIC_ACQ_REL) == 0) {
		ALLOC_GROW(d->v, d->n + 1, d->alloc);
		d->v[d->n++] = v;
	}
}

static void free_one(struct dying *d, struct jval v)
{
	switch (v.type) {
	case JVAL_UNDEFINED:
	case JVAL_STR:
		free(v.u.s);
		break;
	case JVAL_LIST: {
		struct jlist *l = v.u.l;
		for (size_t i = 0; i < l->n; i++)
			drop(d, l->v[i]);
		free(l->v);
		free(l);
		break;
	}
	case JVAL_DICT: {
		struct jdict *dict = v.u.d;
		for (size_t i = 0; i < dict->n; i++) {
			drop(d, dict->e[i].key);
			drop(d, dict->e[i].val);
		}
		free(dict->e);
		free(dict->idx);
		free(dict);
		break;
	}
	case JVAL_FUNC: {
		struct jfunc *f = v.u.fn;
		if (f->free_data)
			f->free_data(f->data);
		drop(d, f->self);
		free((char *)f->name);
		free(f);
		break;
	}
	case JVAL_MACRO:
		jinja_template_unref(v.u.m->tmpl);
		free(v.u.m);
		break;
	case JVAL_OBJECT:
		if (v.u.o->ops->free)
			v.u.o->ops->free(v.u.o->data);
		free(v.u.o);
		break;
	default:
		break;
	}
}

void jval_free_heap(struct jval v)
{
	struct dying d = { NULL, 0, 0 };
	for (;;) {
		free_one(&d, v);
		if (!d.n)
			break;
		v = d.v[--d.n];
	}
	free(d.v);
}

/* --- inspection -------------------------------------------------------- */

int jval_is_defined(struct jval v)
{
	return v.type != JVAL_UNDEFINED;
}

int jval_is_callable(struct jval v)
{
	return v.type == JVAL_FUNC || v.type == JVAL_MACRO ||
	       (v.type == JVAL_OBJECT && v.u.o->ops->call);
}

int jval_truthy(struct jval v)
{
	switch (v.type) {
	case JVAL_UNDEFINED:
	case JVAL_NONE:
		return 0;
	case JVAL_BOOL:
		return v.u.b;
	case JVAL_INT:
		return v.u.i != 0;
	case JVAL_FLOAT:
		return v.u.f != 0.0;
	case JVAL_STR:
		return v.u.s->len != 0;
	case JVAL_LIST:
		return v.u.l->n != 0;
	case JVAL_DICT:
		return v.u.d->ns || v.u.d->n != 0;
	case JVAL_OBJECT:
		return !v.u.o->ops->as_list || jval_len(v) != 0;
	default:
		return 1;
	}
}

const char *jval_str_cstr(struct jval v)
{
	return v.type == JVAL_STR ? v.u.s->s : NULL;
}

const char *jval_type_name(struct jval v)
{
	static const char *const list_names[] = { "list", "tuple", "dict_keys", "dict_values",
						   "dict_items" };
	switch (v.type) {
	case JVAL_UNDEFINED:
		return "Undefined";
	case JVAL_NONE:
		return "NoneType";
	case JVAL_BOOL:
		return "bool";
	case JVAL_INT:
		return "int";
	case JVAL_FLOAT:
		return "float";
	case JVAL_STR:
		return "str";
	case JVAL_LIST:
		return list_names[v.u.l->kind];
	case JVAL_DICT:
		return v.u.d->ns ? "Namespace" : "dict";
	case JVAL_FUNC:
		return "function";
	case JVAL_MACRO:
		return "Macro";
	case JVAL_OBJECT:
		return v.u.o->ops->type_name ? v.u.o->ops->type_name : "object";
	}
	return "object";
}

/* Jinja's object_type_repr: "None" or "dict object". */
const char *jval_type_repr(struct jval v)
{
	static const char *const names[] = {
		"Undefined object", "None",	    "bool object",	 "int object",
		"float object",	    "str object",   "list object",	 "dict object",
		"function object",  "Macro object", "object",
	};
	if (v.type == JVAL_LIST && v.u.l->kind == JL_TUPLE)
		return "tuple object";
	if (v.type == JVAL_DICT && v.u.d->ns)
		return "Namespace object";
	return names[v.type];
}

size_t jval_len(struct jval v)
{
	switch (v.type) {
	case JVAL_STR:
		return v.u.s->ascii ? v.u.s->len : utf8_len(v.u.s->s, v.u.s->len);
	case JVAL_LIST:
		return v.u.l->n;
	case JVAL_DICT:
		return v.u.d->n;
	case JVAL_OBJECT:
		if (v.u.o->ops->as_list) {
			struct jval l = v.u.o->ops->as_list(v.u.o->data);
			size_t n = jval_len(l);
			jval_unref(l);
			return n;
		}
		return 0;
	default:
		return 0;
	}
}

/* --- lists ------------------------------------------------------------- */

void jlist_push(struct jlist *l, struct jval v)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = v;
}

void jval_list_append(struct jval list, struct jval item)
{
	if (list.type != JVAL_LIST) {
		jval_unref(item);
		return;
	}
	jlist_push(list.u.l, item);
}

const struct jval *jval_list_at(struct jval list, size_t i)
{
	if (list.type != JVAL_LIST || i >= list.u.l->n)
		return NULL;
	return &list.u.l->v[i];
}

/* --- hashing ----------------------------------------------------------- */

uint32_t jval_hash_str(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t jval_hash_bytes(const char *s, size_t n)
{
	return jval_hash_str(s, n);
}

static uint32_t hash_int(int64_t i)
{
	uint64_t x = (uint64_t)i;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* Equality, ordering and hashing recurse into lists, tuples and dicts: past
 * this depth they give up (unequal, unordered, unhashable) where Python
 * would raise RecursionError, rather than overflow the stack. */
#define VALUE_MAX_DEPTH 200

static int hash_at(struct jval v, uint32_t *out, int depth);

int jval_hash(struct jval v, uint32_t *out)
{
	return hash_at(v, out, 0);
}

static int hash_at(struct jval v, uint32_t *out, int depth)
{
	if (depth > VALUE_MAX_DEPTH)
		return -1;
	switch (v.type) {
	case JVAL_NONE:
		*out = 0x9e3779b9u;
		return 0;
	case JVAL_BOOL:
		*out = hash_int(v.u.b);
		return 0;
	case JVAL_INT:
		*out = hash_int(v.u.i);
		return 0;
	case JVAL_FLOAT:
		/* equal numbers hash equal, as in Python: 1 == 1.0 */
		if (v.u.f == floor(v.u.f) && fabs(v.u.f) < 9.2e18)
			*out = hash_int((int64_t)v.u.f);
		else {
			uint64_t bits;
			memcpy(&bits, &v.u.f, sizeof(bits));
			*out = hash_int((int64_t)bits);
		}
		return 0;
	case JVAL_STR:
		*out = jval_hash_str(v.u.s->s, v.u.s->len);
		return 0;
	case JVAL_LIST: {
		if (v.u.l->kind != JL_TUPLE)
			return -1;
		uint32_t h = 0x345678u;
		for (size_t i = 0; i < v.u.l->n; i++) {
			uint32_t x;
			if (hash_at(v.u.l->v[i], &x, depth + 1))
				return -1;
			h = (h ^ x) * 1000003u;
		}
		*out = h;
		return 0;
	}
	case JVAL_DICT:
		if (!v.u.d->ns)
			return -1;
		/* namespaces hash by identity */
		__attribute__((fallthrough));
	case JVAL_FUNC:
	case JVAL_MACRO:
	case JVAL_OBJECT: {
		const struct jinja_object_arith *ar = jinja_object_arith_of(v.u.o->ops);
		*out = ar && ar->hash ? ar->hash(v.u.o->data) : hash_int((int64_t)(intptr_t)v.u.h);
		return 0;
	}
	default:
		return -1;
	}
}

/* --- dicts ------------------------------------------------------------- */

#define DICT_INDEX_MIN 8 /* below this many entries, scan linearly */

static void dict_reindex(struct jdict *d)
{
	free(d->idx);
	d->idx = NULL;
	d->idxcap = 0;
	if (d->n < DICT_INDEX_MIN)
		return;
	size_t cap = 16;
	while (cap < d->n * 2)
		cap *= 2;
	d->idx = xcalloc(cap, sizeof(*d->idx));
	d->idxcap = cap;
	for (size_t i = 0; i < d->n; i++) {
		size_t slot = d->e[i].hash & (cap - 1);
		while (d->idx[slot])
			slot = (slot + 1) & (cap - 1);
		d->idx[slot] = (uint32_t)(i + 1);
	}
}

static int key_is_str(const struct jval *k, const char *s, size_t len)
{
	return k->type == JVAL_STR && k->u.s->len == len && !memcmp(k->u.s->s, s, len);
}

long jdict_find_str(const struct jdict *d, const char *key, size_t len, uint32_t hash)
{
	if (!d->idx) {
		for (size_t i = 0; i < d->n; i++)
			if (d->e[i].hash == hash && key_is_str(&d->e[i].key, key, len))
				return (long)i;
		return -1;
	}
	size_t slot = hash & (d->idxcap - 1);
	while (d->idx[slot]) {
		size_t i = d->idx[slot] - 1;
		if (d->e[i].hash == hash && key_is_str(&d->e[i].key, key, len))
			return (long)i;
		slot = (slot + 1) & (d->idxcap - 1);
	}
	return -1;
}

long jdict_find(const struct jdict *d, struct jval key, uint32_t hash)
{
	if (key.type == JVAL_STR)
		return jdict_find_str(d, key.u.s->s, key.u.s->len, hash);
	for (size_t i = 0; i < d->n; i++)
		if (d->e[i].hash == hash && jval_equal(d->e[i].key, key))
			return (long)i;
	return -1;
}

static void dict_insert(struct jdict *d, struct jval key, struct jval val, uint32_t hash)
{
	ALLOC_GROW(d->e, d->n + 1, d->alloc);
	d->e[d->n].key = key;
	d->e[d->n].val = val;
	d->e[d->n].hash = hash;
	d->n++;
	if (d->idx && d->n * 2 <= d->idxcap) {
		size_t slot = hash & (d->idxcap - 1);
		while (d->idx[slot])
			slot = (slot + 1) & (d->idxcap - 1);
		d->idx[slot] = (uint32_t)d->n;
	} else if (d->n >= DICT_INDEX_MIN) {
		dict_reindex(d);
	}
}

void jval_dict_set(struct jval dict, const char *key, struct jval v)
{
	if (dict.type != JVAL_DICT) {
		jval_unref(v);
		return;
	}
	size_t len = strlen(key);
	uint32_t h = jval_hash_str(key, len);
	long i = jdict_find_str(dict.u.d, key, len, h);
	if (i >= 0) {
		jval_set(&dict.u.d->e[i].val, v);
		return;
	}
	dict_insert(dict.u.d, jval_strn(key, len), v, h);
}

int jval_dict_setv(struct jval dict, struct jval key, struct jval v)
{
	uint32_t h;
	if (dict.type != JVAL_DICT || jval_hash(key, &h)) {
		jval_unref(key);
		jval_unref(v);
		return -1;
	}
	long i = jdict_find(dict.u.d, key, h);
	if (i >= 0) {
		jval_unref(key);
		jval_set(&dict.u.d->e[i].val, v);
		return 0;
	}
	dict_insert(dict.u.d, key, v, h);
	return 0;
}

const struct jval *jval_dict_get(struct jval dict, const char *key)
{
	if (dict.type != JVAL_DICT)
		return NULL;
	size_t len = strlen(key);
	long i = jdict_find_str(dict.u.d, key, len, jval_hash_str(key, len));
	return i < 0 ? NULL : &dict.u.d->e[i].val;
}

const struct jval *jval_dict_getv(struct jval dict, struct jval key)
{
	uint32_t h;
	if (dict.type != JVAL_DICT || jval_hash(key, &h))
		return NULL;
	long i = jdict_find(dict.u.d, key, h);
	return i < 0 ? NULL : &dict.u.d->e[i].val;
}

int jval_dict_del(struct jval dict, struct jval key, struct jval *out)
{
	uint32_t h;
	if (dict.type != JVAL_DICT || jval_hash(key, &h))
		return 0;
	struct jdict *d = dict.u.d;
	long i = jdict_find(d, key, h);
	if (i < 0)
		return 0;
	jval_unref(d->e[i].key);
	if (out)
		*out = d->e[i].val;
	else
		jval_unref(d->e[i].val);
	memmove(d->e + i, d->e + i + 1, (d->n - (size_t)i - 1) * sizeof(*d->e));
	d->n--;
	dict_reindex(d);
	return 1;
}

int jval_dict_entry(struct jval dict, size_t i, const struct jval **key, const struct jval **val)
{
	if (dict.type != JVAL_DICT || i >= dict.u.d->n)
		return 0;
	if (key)
		*key = &dict.u.d->e[i].key;
	if (val)
		*val = &dict.u.d->e[i].val;
	return 1;
}

/* --- printing ---------------------------------------------------------- */

void jval_write_float(struct strbuf *sb, double f)
{
	if (isnan(f)) {
		strbuf_addstr(sb, "nan");
		return;
	}
	if (isinf(f)) {
		strbuf_addstr(sb, f < 0 ? "-inf" : "inf");
		return;
	}
	/* Python's repr: the shortest digits that round-trip, in fixed
	 * notation for exponents in [-4, 16), else scientific. */
	char buf[64];
	int prec;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	const char *p = buf;
	int neg = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	char digits[32];
	int nd = 0;
	while (*p && *p != 'e') {
		if (*p != '.')
			digits[nd++] = *p;
		p++;
	}
	int exp = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (neg)
		strbuf_addch(sb, '-');
	if (exp >= -4 && exp < 16) {
		if (exp >= 0) {
			for (int i = 0; i <= exp; i++)
				strbuf_addch(sb, i < nd ? digits[i] : '0');
			strbuf_addch(sb, '.');
			if (nd > exp + 1)
				strbuf_add(sb, digits + exp + 1, (size_t)(nd - exp - 1));
			else
				strbuf_addch(sb, '0');
		} else {
			strbuf_addstr(sb, "0.");
			strbuf_addchars(sb, '0', (size_t)(-exp - 1));
			strbuf_add(sb, digits, (size_t)nd);
		}
	} else {
		strbuf_addch(sb, digits[0]);
		if (nd > 1) {
			strbuf_addch(sb, '.');
			strbuf_add(sb, digits + 1, (size_t)nd - 1);
		}
		strbuf_addf(sb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
}

static void write_str_repr(struct strbuf *sb, const char *s, size_t n)
{
	int q = '\'';
	if (memchr(s, '\'', n) && !memchr(s, '"', n))
		q = '"';
	strbuf_addch(sb, q);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == (unsigned)q) {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c);
		} else if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c == '\r')
			strbuf_addstr(sb, "\\r");
		else if (c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\x%02x", c);
		else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0) {
			/* C1 controls U+0080..U+009F are not printable */
			strbuf_addf(sb, "\\x%02x", (unsigned char)s[i + 1]);
			i++;
		} else
			strbuf_addch(sb, c);
	}
	strbuf_addch(sb, q);
}

/* The containers being printed, outermost first: a list that contains
 * itself prints as [...], as Python's repr does, and nesting deeper than
 * WRITE_MAX_DEPTH prints as ... (Python would raise RecursionError), so
 * that printing never overflows the stack. */
#define WRITE_MAX_DEPTH 200
struct wpath {
	const void *p[WRITE_MAX_DEPTH];
	int n;
};

static void write_common(struct strbuf *sb, struct jval v, int repr, struct wpath *path);

static void write_seq(struct strbuf *sb, const struct jlist *l, struct wpath *path)
{
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		write_common(sb, l->v[i], 1, path);
	}
}

static void write_dict(struct strbuf *sb, const struct jdict *d, struct wpath *path)
{
	strbuf_addch(sb, '{');
	for (size_t i = 0; i < d->n; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		write_common(sb, d->e[i].key, 1, path);
		strbuf_addstr(sb, ": ");
		write_common(sb, d->e[i].val, 1, path);
	}
	strbuf_addch(sb, '}');
}

/* 1 if v is a container already being printed (or too deep to print). */
static int write_cut(struct strbuf *sb, struct jval v, struct wpath *path)
{
	if (v.type != JVAL_LIST && v.type != JVAL_DICT)
		return 0;
	for (int i = 0; i < path->n; i++) {
		if (path->p[i] == v.u.h) {
			strbuf_addstr(sb, v.type == JVAL_DICT ? "{...}" : "[...]");
			return 1;
		}
	}
	if (path->n == WRITE_MAX_DEPTH) {
		strbuf_addstr(sb, "...");
		return 1;
	}
	path->p[path->n++] = v.u.h;
	return 0;
}

static void write_common(struct strbuf *sb, struct jval v, int repr, struct wpath *path)
{
	if (write_cut(sb, v, path))
		return;
	switch (v.type) {
	case JVAL_UNDEFINED:
		if (repr)
			strbuf_addstr(sb, "Undefined");
		break;
	case JVAL_NONE:
		strbuf_addstr(sb, "None");
		break;
	case JVAL_BOOL:
		strbuf_addstr(sb, v.u.b ? "True" : "False");
		break;
	case JVAL_INT:
		strbuf_addf(sb, "%lld", (long long)v.u.i);
		break;
	case JVAL_FLOAT:
		jval_write_float(sb, v.u.f);
		break;
	case JVAL_STR:
		if (repr)
			write_str_repr(sb, v.u.s->s, v.u.s->len);
		else
			strbuf_add(sb, v.u.s->s, v.u.s->len);
		break;
	case JVAL_LIST: {
		const struct jlist *l = v.u.l;
		switch (l->kind) {
		case JL_LIST:
			strbuf_addch(sb, '[');
			write_seq(sb, l, path);
			strbuf_addch(sb, ']');
			break;
		case JL_TUPLE:
			strbuf_addch(sb, '(');
			write_seq(sb, l, path);
			if (l->n == 1)
				strbuf_addch(sb, ',');
			strbuf_addch(sb, ')');
			break;
		default:
			strbuf_addstr(sb, jval_type_name(v));
			strbuf_addstr(sb, "([");
			write_seq(sb, l, path);
			strbuf_addstr(sb, "])");
			break;
		}
		break;
	}
	case JVAL_DICT:
		if (v.u.d->ns)
			strbuf_addstr(sb, "<Namespace ");
		write_dict(sb, v.u.d, path);
		if (v.u.d->ns)
			strbuf_addch(sb, '>');
		break;
	case JVAL_FUNC:
		if (v.u.fn->self.type != JVAL_UNDEFINED)
			strbuf_addf(sb, "<built-in method %s of %s object>", v.u.fn->name,
				    jval_type_name(v.u.fn->self));
		else
			strbuf_addf(sb, "<function %s>", v.u.fn->name);
		break;
	case JVAL_MACRO:
		strbuf_addf(sb, "<Macro '%s'>", v.u.m->node->name);
		break;
	case JVAL_OBJECT:
		if (v.u.o->ops->str)
			v.u.o->ops->str(v.u.o->data, sb);
		else
			strbuf_addf(sb, "<%s object>", jval_type_name(v));
		break;
	}
	if (v.type == JVAL_LIST || v.type == JVAL_DICT)
		path->n--;
}

/* path.p is not cleared: only p[0..n) is ever read, and this is the hot
 * path of every printed value */
void jval_write_str(struct strbuf *sb, struct jval v)
{
	struct wpath path;
	path.n = 0;
	write_common(sb, v, 0, &path);
}

void jval_write_repr(struct strbuf *sb, struct jval v)
{
	struct wpath path;
	path.n = 0;
	write_common(sb, v, 1, &path);
}

char *jval_to_cstr(struct jval v)
{
	if (v.type == JVAL_STR)
		return xstrndup(v.u.s->s, v.u.s->len);
	struct strbuf sb = STRBUF_INIT;
	jval_write_str(&sb, v);
	return strbuf_detach(&sb, NULL);
}

/* --- equality and ordering ------------------------------------------- */

static int is_number(struct jval v)
{
	return v.type == JVAL_BOOL || v.type == JVAL_INT || v.type == JVAL_FLOAT;
}

static double num_f(struct jval v)
{
	return v.type == JVAL_FLOAT ? v.u.f : v.type == JVAL_INT ? (double)v.u.i : (double)v.u.b;
}

static int64_t num_i(struct jval v)
{
	return v.type == JVAL_INT ? v.u.i : v.u.b;
}

static int equal_at(struct jval a, struct jval b, int depth);

int jval_equal(struct jval a, struct jval b)
{
	return equal_at(a, b, 0);
}

static int equal_at(struct jval a, struct jval b, int depth)
{
	/* the same list or dict: equal, as Python's containers decide for
	 * their items (and the answer for a list that contains itself) */
	if (a.type == b.type && is_heap(a) && a.u.h == b.u.h)
		return 1;
	if (depth > VALUE_MAX_DEPTH)
		return 0;
	if (is_number(a) && is_number(b)) {
		if (a.type == JVAL_FLOAT || b.type == JVAL_FLOAT)
			return num_f(a) == num_f(b);
		return num_i(a) == num_i(b);
	}
	if (a.type != b.type)
		return 0;
	switch (a.type) {
	case JVAL_UNDEFINED:
	case JVAL_NONE:
		return 1;
	case JVAL_STR:
		return a.u.s == b.u.s ||
		       (a.u.s->len == b.u.s->len && !memcmp(a.u.s->s, b.u.s->s, a.u.s->len));
	case JVAL_LIST: {
		const struct jlist *x = a.u.l, *y = b.u.l;
		if ((x->kind == JL_TUPLE) != (y->kind == JL_TUPLE) || x->n != y->n)
			return 0;
		for (size_t i = 0; i < x->n; i++)
			if (!equal_at(x->v[i], y->v[i], depth + 1))
				return 0;
		return 1;
	}
	case JVAL_DICT: {
		if (a.u.d->ns || b.u.d->ns)
			return a.u.d == b.u.d;
		if (a.u.d->n != b.u.d->n)
			return 0;
		for (size_t i = 0; i < a.u.d->n; i++) {
			const struct jval *o = jval_dict_getv(b, a.u.d->e[i].key);
			if (!o || !equal_at(a.u.d->e[i].val, *o, depth + 1))
				return 0;
		}
		return 1;
	}
	case JVAL_OBJECT: {
		const struct jinja_object_arith *ar = jinja_object_arith_of(a.u.o->ops);
		int c;
		if (a.u.h != b.u.h && ar && ar->compare)
			return !ar->compare(a.u.o->data, b, &c) && c == 0;
		return a.u.h == b.u.h;
	}
	default:
		return a.u.h == b.u.h;
	}
}

static int compare_at(struct jval a, struct jval b, int *cmp, int depth);

int jval_compare(struct jval a, struct jval b, int *cmp)
{
	return compare_at(a, b, cmp, 0);
}

static int compare_at(struct jval a, struct jval b, int *cmp, int depth)
{
	if (depth > VALUE_MAX_DEPTH)
		return -1;
	if (is_number(a) && is_number(b)) {
		if (a.type == JVAL_FLOAT || b.type == JVAL_FLOAT) {
			double x = num_f(a), y = num_f(b);
			*cmp = x < y ? -1 : x > y ? 1 : 0;
		} else {
			int64_t x = num_i(a), y = num_i(b);
			*cmp = x < y ? -1 : x > y ? 1 : 0;
		}
		return 0;
	}
	if (a.type == JVAL_STR && b.type == JVAL_STR) {
		size_t n = a.u.s->len < b.u.s->len ? a.u.s->len : b.u.s->len;
		int c = memcmp(a.u.s->s, b.u.s->s, n);
		if (!c)
			c = a.u.s->len < b.u.s->len ? -1 : a.u.s->len > b.u.s->len ? 1 : 0;
		*cmp = c < 0 ? -1 : c > 0;
		return 0;
	}
	if (a.type == JVAL_LIST && b.type == JVAL_LIST &&
	    (a.u.l->kind == JL_TUPLE) == (b.u.l->kind == JL_TUPLE)) {
		const struct jlist *x = a.u.l, *y = b.u.l;
		for (size_t i = 0; i < x->n && i < y->n; i++) {
			if (equal_at(x->v[i], y->v[i], depth + 1))
				continue;
			return compare_at(x->v[i], y->v[i], cmp, depth + 1);
		}
		*cmp = x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
		return 0;
	}
	if (a.type == JVAL_OBJECT) {
		const struct jinja_object_arith *ar = jinja_object_arith_of(a.u.o->ops);
		if (ar && ar->compare && !ar->compare(a.u.o->data, b, cmp))
			return 0;
	}
	return -1;
}
