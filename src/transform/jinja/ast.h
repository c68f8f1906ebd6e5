/* The parse tree of a template. Every node lives in the template's arena
 * and is freed with it; constant values are released by the template. */
#ifndef DANGO_JINJA_AST_H
#define DANGO_JINJA_AST_H
#include "value.h"

#include <stddef.h>
#include <stdint.h>

struct builtin;

enum expr_kind {
	EX_CONST,
	EX_NAME,
	EX_LIST,
	EX_TUPLE,
	EX_DICT,
	EX_GETATTR,
	EX_GETITEM,
	EX_SLICE, /* only as the index of EX_GETITEM */
	EX_CALL,
	EX_FILTER,
	EX_TEST,
	EX_BINOP,
	EX_AND,
	EX_OR,
	EX_NOT,
	EX_NEG,
	EX_POS,
	EX_CONCAT,
	EX_COMPARE,
	EX_COND,
};

enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW };
enum cmpop { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_IN, CMP_NOTIN };

struct name {
	const char *s;
	size_t len;
	uint32_t hash;
};

struct args {
	struct expr **pos;
	size_t npos;
	const char **kwnames;
	struct expr **kwvals;
	size_t nkw;
	struct expr *star, *dstar; /* *args, **kwargs */
};

struct expr {
	enum expr_kind kind;
	unsigned line, col;
	const char *file;
	union {
		struct jval cval;
		struct name name;
		struct {
			struct expr **items;
			size_t n;
		} seq;
		struct {
			struct expr **keys, **vals;
			size_t n;
		} dict;
		struct {
			struct expr *obj;
			struct name attr;
		} attr;
		struct {
			struct expr *obj, *index;
		} item;
		struct {
			struct expr *start, *stop, *step;
		} slice;
		struct {
			struct expr *callee;
			struct args args;
		} call;
		struct {
			struct expr *arg; /* NULL in a filter block: the body */
			const char *name;
			const struct builtin *fn; /* NULL: a host filter */
			struct args args;
		} filter;
		struct {
			struct expr *arg;
			const char *name;
			const struct builtin *fn;
			struct args args;
		} test;
		struct {
			enum binop op;
			struct expr *l, *r;
		} bin;
		struct expr *un;
		struct {
			struct expr **items;
			size_t n;
		} concat;
		struct {
			struct expr *first;
			enum cmpop *ops;
			struct expr **rest;
			size_t n;
		} cmp;
		struct {
			struct expr *cond, *then, *els; /* els may be NULL */
		} cond;
	} u;
};

/* Assignment targets: a name, a tuple of targets, or ns.attr. */
struct target {
	enum { TG_NAME, TG_TUPLE, TG_ATTR } kind;
	struct name name;
	struct name attr;
	struct target **items;
	size_t n;
};

struct stmt;
struct body {
	struct stmt **s;
	size_t n;
};

enum macro_kind { MACRO_PLAIN, MACRO_CALLER, MACRO_DOCS, MACRO_TEST, MACRO_MATERIALIZATION };

struct macro {
	enum macro_kind kind;
	const char *name; /* the bound name: docs "x" binds "dbt_docs__x" */
	const char *docname; /* docs: the name as written */
	struct name bound;
	size_t nparams;
	struct name *params;
	struct expr **defaults; /* defaults[i] or NULL */
	struct body body;
	unsigned uses_caller : 1, uses_varargs : 1, uses_kwargs : 1;
	const char *file;
	unsigned line, col;
};

enum stmt_kind {
	ST_DATA,
	ST_PRINT,
	ST_IF,
	ST_FOR,
	ST_SET,
	ST_SETBLOCK,
	ST_MACRO,
	ST_CALLBLOCK,
	ST_FILTERBLOCK,
	ST_DO,
	ST_WITH,
	ST_BREAK,
	ST_CONTINUE,
};

struct stmt {
	enum stmt_kind kind;
	unsigned line, col;
	const char *file;
	union {
		struct {
			const char *s;
			size_t len;
		} data;
		struct expr *expr; /* PRINT, DO */
		struct {
			struct expr *cond;
			struct body then, els;
		} if_;
		struct {
			struct target *target;
			struct expr *iter, *filter;
			struct body body, els;
			unsigned uses_loop : 1;
		} for_;
		struct {
			struct target *target;
			struct expr *value;
		} set;
		struct {
			struct target *target;
			struct expr *filter; /* NULL or a filter chain over the body */
			struct body body;
		} setblock;
		struct macro *macro;
		struct {
			struct expr *call; /* an EX_CALL */
			struct macro *caller;
		} callblock;
		struct {
			struct expr *filter;
			struct body body;
		} filterblock;
		struct {
			struct target **targets;
			struct expr **values;
			size_t n;
			struct body body;
		} with;
	} u;
};

#endif
