/* Runtime values of the Jinja interpreter: Python-like, reference counted.
 *
 * A `struct jval` is a small tagged value passed by value. Scalars (none,
 * bools, ints, floats) live inside it; strings, lists, dicts, callables and
 * host objects live on the heap behind a reference count, so a value can
 * outlive the render that made it (a host may keep a config dict).
 *
 * Ownership: a function that returns a `struct jval` hands one reference to
 * the caller, who drops it with jval_unref(). Functions documented as
 * "steals" take over the reference passed in. `const struct jval *` results
 * are borrowed: valid while the container is alive and unmodified.
 *
 * Reference counts are atomic, so values may be shared between threads that
 * only read them; mutating a list or dict while another thread reads it is
 * the host's problem. Reference cycles (a list appended to itself) leak.
 *
 *   struct jval d = jval_dict_new();
 *   jval_dict_set(d, "name", jval_str("orders"));
 *   jval_dict_set(d, "rows", jval_int(3));
 *   ...
 *   jval_unref(d);
 */
#ifndef DANGO_JINJA_VALUE_H
#define DANGO_JINJA_VALUE_H
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct jinja_call;

enum jval_type {
	JVAL_UNDEFINED = 0, /* a zero-initialised jval is undefined */
	JVAL_NONE,
	JVAL_BOOL,
	JVAL_INT,
	JVAL_FLOAT,
	JVAL_STR,
	JVAL_LIST,   /* list, tuple, range or dict view */
	JVAL_DICT,   /* dict or namespace() */
	JVAL_FUNC,   /* native callable or bound method */
	JVAL_MACRO,  /* a Jinja macro or a call block's caller */
	JVAL_OBJECT, /* host object with attributes */
};

/* Every heap part starts with this header. */
struct jhead {
	unsigned refcnt;
	unsigned immortal; /* static values: never counted, never freed */
};

struct jstr {
	struct jhead h;
	size_t len;
	unsigned char ascii; /* only bytes < 0x80: byte index == char index */
	unsigned char lenient; /* as an undefined's message: Jinja's default
				  Undefined even under StrictUndefined */
	char s[];            /* NUL-terminated UTF-8 */
};

enum jlist_kind { JL_LIST, JL_TUPLE, JL_KEYS, JL_VALUES, JL_ITEMS };

struct jlist {
	struct jhead h;
	enum jlist_kind kind; /* only changes how the value prints */
	size_t n, alloc;
	struct jval *v;
};

struct jdict_ent;
struct jdict {
	struct jhead h;
	unsigned char ns; /* a namespace(): attributes are keys, settable */
	size_t n, alloc;
	struct jdict_ent *e;
	uint32_t *idx; /* open-addressing index into e (slot+1), or NULL */
	size_t idxcap;
};

/* A native callable. Returns 0 with *ret set (owned by the caller), or -1
 * after jinja_call_error(). See jinja.h for struct jinja_call. */
typedef int (*jinja_fn)(struct jinja_call *call, struct jval *ret);

struct jfunc;
struct jmacro;
struct jobject;

struct jval {
	enum jval_type type;
	union {
		int b;
		int64_t i;
		double f;
		struct jhead *h;
		struct jstr *s; /* also the message of an undefined, or NULL */
		struct jlist *l;
		struct jdict *d;
		struct jfunc *fn;
		struct jmacro *m;
		struct jobject *o;
	} u;
};

struct jdict_ent {
	struct jval key, val;
	uint32_t hash;
};

/* Host objects: attributes come from a native getter. */
struct jinja_object_ops {
	const char *type_name; /* for messages: "'NAME object' has no attribute" */
	/* Set *out (owned by the caller) and return 0, or return 1 if there is
	 * no such attribute (the template then sees an undefined). */
	int (*getattr)(void *data, const char *name, struct jval *out);
	/* Optional: how str() prints the object; default "<TYPE object>". */
	void (*str)(void *data, struct strbuf *out);
	/* Optional: makes the object callable, e.g. dbt's config(...). */
	jinja_fn call;
	/* Optional: frees data when the last reference goes. */
	void (*free)(void *data);
	/* Optional: the object is also a sequence (an agate table, its rows):
	 * it iterates, indexes by integer, has a length and a truth value as
	 * this list (a new reference) does. */
	struct jval (*as_list)(void *data);
	/* The object passes `is mapping` (dbt's Relation is a Mapping). */
	int mapping;
};

/* Python's operators on a kind of host object (datetime arithmetic), kept
 * beside its ops rather than in them so that every ops initializer stays
 * as it is. Register once, before any such object is made. */
struct jinja_object_arith {
	/* a OP b (op is enum binop of ast.h) with the object as a (swapped 0)
	 * or as b (swapped 1): 0 with *out set; 1 when the operand types do
	 * not go together (Python's TypeError); -1 with a message in *msg
	 * (malloc'd), e.g. "date value out of range". */
	int (*binop)(void *data, int op, struct jval other, int swapped, struct jval *out, char **msg);
	/* -x: 0 with *out, 1 when unsupported */
	int (*neg)(void *data, struct jval *out);
	/* 0 with *cmp (<0, 0, >0); 1 when the two do not compare (unequal,
	 * and ordering them is a TypeError) */
	int (*compare)(void *data, struct jval other, int *cmp);
	/* equal objects hash equal (set(), dict keys) */
	uint32_t (*hash)(void *data);
};
void jinja_object_set_arith(const struct jinja_object_ops *ops, const struct jinja_object_arith *ar);
const struct jinja_object_arith *jinja_object_arith_of(const struct jinja_object_ops *ops);

/* --- constructors ------------------------------------------------------ */
struct jval jval_undefined(void);
/* An undefined that carries an error message for when it is used. */
struct jval jval_undefined_msg(const char *msg);
struct jval jval_none(void);
struct jval jval_bool(int b);
struct jval jval_int(int64_t i);
struct jval jval_float(double f);
struct jval jval_str(const char *s);
struct jval jval_strn(const char *s, size_t len);
/* Takes a strbuf's contents, leaving it empty. */
struct jval jval_str_from_buf(struct strbuf *sb);
struct jval jval_list_new(void);
struct jval jval_tuple_new(void);
struct jval jval_dict_new(void);
/* A native callable; name is copied; free_data(data) runs on last unref. */
struct jval jval_native(const char *name, jinja_fn fn, void *data, void (*free_data)(void *));
struct jval jval_object(const struct jinja_object_ops *ops, void *data);
/* An object whose attributes are the keys of dict (steals dict); it prints
 * as the dict does. */
struct jval jval_object_dict(struct jval dict);

/* --- reference counting ------------------------------------------------ */
struct jval jval_ref(struct jval v); /* returns v with one more reference */
void jval_unref(struct jval v);
/* Replace *dst (unref'ing the old value) with v (stolen). */
void jval_set(struct jval *dst, struct jval v);

/* --- inspection -------------------------------------------------------- */
int jval_is_defined(struct jval v);
int jval_is_callable(struct jval v);
/* Python truthiness (undefined is false). */
int jval_truthy(struct jval v);
/* The string of a JVAL_STR (borrowed), else NULL. */
const char *jval_str_cstr(struct jval v);
/* Python-like type name: 'str', 'int', 'list', 'dict', 'NoneType'... */
const char *jval_type_name(struct jval v);

/* --- lists --------------------------------------------------------------- */
size_t jval_len(struct jval v); /* items of list/dict, chars of str, else 0 */
void jval_list_append(struct jval list, struct jval item); /* steals item */
const struct jval *jval_list_at(struct jval list, size_t i); /* borrowed */

/* --- dicts ------------------------------------------------------------- */
/* Set key (copied) to v (stolen). Insertion order is kept. */
void jval_dict_set(struct jval dict, const char *key, struct jval v);
/* Set any hashable key (stolen) to v (stolen); -1 if key is unhashable
 * (both are then dropped). */
int jval_dict_setv(struct jval dict, struct jval key, struct jval v);
const struct jval *jval_dict_get(struct jval dict, const char *key);
const struct jval *jval_dict_getv(struct jval dict, struct jval key);
/* Remove key; 1 if it was there (*out gets its value if out != NULL). */
int jval_dict_del(struct jval dict, struct jval key, struct jval *out);
/* Iterate: for (size_t i = 0; jval_dict_entry(d, i, &k, &v); i++) ... */
int jval_dict_entry(struct jval dict, size_t i, const struct jval **key, const struct jval **val);

/* --- conversion ---------------------------------------------------------- */
/* Append Python str(v) / repr(v). An undefined prints as "". */
void jval_write_str(struct strbuf *sb, struct jval v);
void jval_write_repr(struct strbuf *sb, struct jval v);
/* str(v) as a new string; the caller frees it. */
char *jval_to_cstr(struct jval v);
/* Python float repr: 1.0, 0.1, 1e+20, inf. */
void jval_write_float(struct strbuf *sb, double f);
/* Python ==. */
int jval_equal(struct jval a, struct jval b);
/* Python ordering: sets *cmp to <0, 0, >0 and returns 0, or returns -1 if
 * the types cannot be ordered. */
int jval_compare(struct jval a, struct jval b, int *cmp);
/* Python-compatible hash; -1 if unhashable. */
int jval_hash(struct jval v, uint32_t *out);
uint32_t jval_hash_bytes(const char *s, size_t n);

#endif
