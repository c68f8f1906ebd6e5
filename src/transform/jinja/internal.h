/* Internals shared by the files of the Jinja interpreter; not a public API.
 * See jinja.h and value.h for what hosts use. */
#ifndef DANGO_JINJA_INTERNAL_H
#define DANGO_JINJA_INTERNAL_H
#include "jinja.h"
#include "ast.h"

#include <stdint.h>

struct strbuf;

struct jfunc {
	struct jhead h;
	const char *name; /* owned unless the function is immortal */
	jinja_fn fn;
	void *data;
	void (*free_data)(void *);
	struct jval self; /* bound methods: the object; else undefined */
};

struct frame;

struct jmacro {
	struct jhead h;
	const struct macro *node;
	struct jinja_template *tmpl; /* keeps the parse tree alive */
	/* The scope the macro was defined in, for its free names. Weak: the
	 * frame clears it when it ends, and names then resolve in the
	 * render's context, as for macros loaded from macro files. */
	struct frame *frame;
	/* The package namespace of a macro loaded from a macro file (weak: the
	 * host keeps it alive): its free names look there after the context,
	 * as a dbt package's macros see their own package. NULL: none. */
	struct jdict *ns;
};

struct jobject {
	struct jhead h;
	const struct jinja_object_ops *ops;
	void *data;
};

/* Immortal static values: never counted, never freed, safe to share. */
#define JHEAD_IMMORTAL { 0, 1 }

/* --- value.c internals ---------------------------------------------------- */
void jval_free_heap(struct jval v);
uint32_t jval_hash_str(const char *s, size_t n);
/* Index of key in d, or -1. */
long jdict_find_str(const struct jdict *d, const char *key, size_t len, uint32_t hash);
long jdict_find(const struct jdict *d, struct jval key, uint32_t hash);
void jlist_push(struct jlist *l, struct jval v); /* steals v */
struct jval jval_list_from(struct jval *items, size_t n, enum jlist_kind kind); /* steals items */
struct jval jval_str_take(char *s, size_t len); /* copies s, frees it */
const char *jval_type_repr(struct jval v);   /* "dict object", "None", ... */
int jstr_is_ascii(const char *s, size_t n);
/* Characters of a UTF-8 string (n bytes). */
size_t utf8_len(const char *s, size_t n);
/* Byte offset of character index ci in s (clamped to n). */
size_t utf8_offset(const char *s, size_t n, size_t ci);
/* Width in bytes of the UTF-8 sequence starting at s. */
size_t utf8_step(const char *s, size_t n);

/* --- calls (eval.c) --------------------------------------------------- */
struct render;

struct jinja_call {
	const char *name;       /* what is being called, for messages */
	struct jval self;       /* the bound object of a method, else undefined */
	size_t argc;            /* positional arguments (borrowed) */
	const struct jval *argv;
	size_t kwc;             /* keyword arguments (borrowed) */
	const char *const *kwnames;
	const struct jval *kwvals;
	void *data;             /* the native's data */
	struct render *r;
	const struct expr *site; /* where the call is, for messages */
};


/* Bind the call's arguments to parameter names: out[i] is the argument for
 * names[i] (borrowed), or NULL when not given. -1 with an error if there
 * are too many, unknown or duplicate arguments. */
int call_bind(struct jinja_call *c, const char *const *names, size_t n, const struct jval **out);
/* Call any callable value. */
int call_value(struct render *r, const struct expr *site, struct jval callee, size_t argc,
	       const struct jval *argv, size_t kwc, const char *const *kwnames,
	       const struct jval *kwvals, struct jval *out);
/* Report an error at a node: "FILE:LINE:COL: message"; returns -1. */
int render_error(struct render *r, const struct expr *site, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The error of using an undefined value; returns -1. */
int render_undefined(struct render *r, const struct expr *site, struct jval v);
/* Is using the undefined v an error (StrictUndefined)? An inline if
 * without else makes a lenient undefined even in strict renders, as
 * Jinja does. */
int render_strict(const struct render *r, struct jval v);
/* Python getattr/getitem as Jinja's sandbox does them. */
int value_getattr(struct render *r, const struct expr *site, struct jval obj, const char *name,
		  struct jval *out);
int value_getitem(struct render *r, const struct expr *site, struct jval obj, struct jval key,
		  struct jval *out);
/* Turn an iterable into a list (new reference): lists as is, dicts into
 * their keys, strings into characters. */
int value_iterate(struct render *r, const struct expr *site, struct jval v, struct jval *out);
/* Apply a filter or test by name, as the map/select filters do. */
int apply_filter(struct render *r, const struct expr *site, const char *name, struct jval v,
		 size_t argc, const struct jval *argv, size_t kwc, const char *const *kwnames,
		 const struct jval *kwvals, struct jval *out);
int apply_test(struct render *r, const struct expr *site, const char *name, struct jval v,
	       size_t argc, const struct jval *argv, size_t kwc, const char *const *kwnames,
	       const struct jval *kwvals, int *result);

/* --- builtin tables ------------------------------------------------------ */
struct builtin {
	const char *name;
	jinja_fn fn;
};
/* Sorted tables; lookups return NULL if the name is unknown. */
const struct builtin *filter_lookup(const char *name);
const struct builtin *test_lookup(const char *name);
/* A method of a str/list/dict value; NULL if the type has none by that name. */
jinja_fn method_lookup(struct jval self, const char *name);
/* Builtin global functions: range, dict, namespace, cycler, joiner, return. */
int global_lookup(const char *name, struct jval *out);

/* Python str.format and %-formatting, used by methods and filters. */
int py_format(struct jinja_call *c, const char *fmt, size_t len, size_t argc,
	      const struct jval *argv, size_t kwc, const char *const *kwnames,
	      const struct jval *kwvals, struct strbuf *out);
int py_percent(struct jinja_call *c, const char *fmt, size_t len, struct jval args,
	       struct strbuf *out);
/* Python-style string helpers. */
void py_lower(struct strbuf *out, const char *s, size_t n);
void py_upper(struct strbuf *out, const char *s, size_t n);
int py_isspace(int c);
/* str.strip(chars) (chars NULL: whitespace); which: 1 left, 2 right, 3 both. */
void py_strip(struct strbuf *out, const char *s, size_t n, const char *chars, int which);
/* str.replace(old, new, count); count < 0 for all. -1 (out then holds a
 * part) if the result would be longer than JINJA_MAX_STR. */
int py_replace(struct strbuf *out, const char *s, size_t n, const char *old, size_t on,
		const char *new, size_t nn, int64_t count);
/* json.dumps(v, sort_keys) with Jinja's HTML-safe escaping. */
int py_tojson(struct jinja_call *c, struct jval v, int sort_keys, long indent, int level,
	      struct strbuf *out);

/* Sizes a single operation may build from a small input ('a' * n,
 * 'a'.center(n), '%999999999s'...): past them a render fails with a clear
 * error rather than trying a huge allocation (Python would raise
 * MemoryError or OverflowError). */
#define JINJA_MAX_STR ((int64_t)1 << 28)   /* bytes of one string */
#define JINJA_MAX_ITEMS ((int64_t)1 << 24) /* items of one list */

/* Helpers for natives' arguments. */
int arg_int(struct jinja_call *c, const struct jval *v, const char *what, int64_t *out);
/* arg_int for a size or width: also an error past JINJA_MAX_STR (or
 * JINJA_MAX_ITEMS for a count of items, when items is set). */
int arg_size(struct jinja_call *c, const struct jval *v, const char *what, int items, int64_t *out);
/* The attribute (dotted path, "a.0.b") of item, lowercased if it is a
 * string and !case_sensitive; attribute may be NULL for the item itself. */
int value_key(struct jinja_call *c, struct jval item, int case_sensitive, const char *attribute,
	      struct jval *out);
/* return(): unwinds with JINJA_RETURN (eval.c). */
int builtin_return(struct jinja_call *c, struct jval *ret);
/* Sorting with a Python-style comparison; -1 if items cannot be ordered. */
int sort_values(struct jinja_call *c, struct jval *items, size_t n, int reverse,
		int case_sensitive, const char *attribute);

#endif
