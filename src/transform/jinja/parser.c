/* A recursive-descent parser following Jinja's own (jinja2/parser.py), so
 * that precedence and the odd corners (left-associative **, filters
 * binding tighter than unary minus's operand...) come out the same. */
#include "internal.h"
#include "lexer.h"
#include "template.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct macro_scope {
	struct macro *m;
	struct macro_scope *up;
};

struct for_scope {
	struct stmt *s;
	struct for_scope *up;
};

struct parser {
	struct jinja_template *t;
	struct arena *a;
	const struct jinja_env *env;
	const char *file;
	struct token *tok;
	size_t n, pos;
	struct strbuf *err;
	struct macro_scope *macros;
	struct for_scope *fors;
	int loop_depth; /* break/continue are allowed inside for bodies */
};

/* A growable array of pointers, copied into the arena when done. */
struct ptrvec {
	void **v;
	size_t n, alloc;
};

static void pv_push(struct ptrvec *pv, void *p)
{
	ALLOC_GROW(pv->v, pv->n + 1, pv->alloc);
	pv->v[pv->n++] = p;
}

static void *pv_finish(struct parser *p, struct ptrvec *pv)
{
	void **r = NULL;
	if (pv->n) {
		r = arena_alloc(p->a, pv->n * sizeof(void *));
		memcpy(r, pv->v, pv->n * sizeof(void *));
	}
	free(pv->v);
	pv->v = NULL;
	pv->alloc = 0;
	return r;
}

static void pv_free(struct ptrvec *pv)
{
	free(pv->v);
	pv->v = NULL;
	pv->n = pv->alloc = 0;
}

static struct token *cur(struct parser *p)
{
	return &p->tok[p->pos];
}

static struct token *peek(struct parser *p, size_t k)
{
	size_t i = p->pos + k;
	return &p->tok[i < p->n ? i : p->n - 1];
}

static void next(struct parser *p)
{
	if (p->pos + 1 < p->n)
		p->pos++;
}

static int perror_at(struct parser *p, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perror_at(struct parser *p, const struct token *t, const char *fmt, ...)
{
	va_list ap;
	strbuf_addf(p->err, "%s:%u:%u: ", p->file, t->line, t->col);
	va_start(ap, fmt);
	strbuf_vaddf(p->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_name(const struct token *t, const char *name)
{
	return t->type == T_NAME && !strcmp(t->s, name);
}

static const char *tokdesc(const struct token *t, char *buf, size_t size)
{
	return token_describe(t, buf, size);
}

static int expect(struct parser *p, enum tok_type type)
{
	struct token *t = cur(p);
	if (t->type == type) {
		next(p);
		return 0;
	}
	struct token want = { .type = type };
	char b1[64], b2[64];
	const char *w = tokdesc(&want, b1, sizeof(b1)), *g = tokdesc(t, b2, sizeof(b2));
	const char *wq = w[0] == '\'' ? "" : "'", *gq = g[0] == '\'' ? "" : "'";
	if (t->type == T_EOF)
		return perror_at(p, t, "unexpected end of template, expected %s%s%s", wq, w, wq);
	return perror_at(p, t, "expected token %s%s%s, got %s%s%s", wq, w, wq, gq, g, gq);
}

static int expect_name(struct parser *p, const char *name)
{
	struct token *t = cur(p);
	if (is_name(t, name)) {
		next(p);
		return 0;
	}
	char b[64];
	return perror_at(p, t, "expected token '%s', got %s", name, tokdesc(t, b, sizeof(b)));
}

static struct expr *new_expr(struct parser *p, enum expr_kind kind, const struct token *at)
{
	struct expr *e = arena_alloc(p->a, sizeof(*e));
	e->kind = kind;
	e->line = at->line;
	e->col = at->col;
	e->file = p->file;
	return e;
}

static void set_name(struct parser *p, struct name *n, const char *s, size_t len)
{
	n->s = s;
	n->len = len;
	n->hash = jval_hash_str(s, len);
}

static struct expr *new_const(struct parser *p, const struct token *at, struct jval v)
{
	struct expr *e = new_expr(p, EX_CONST, at);
	e->u.cval = v;
	if (v.type >= JVAL_STR) {
		ALLOC_GROW(p->t->consts, p->t->nconsts + 1, p->t->aconsts);
		p->t->consts[p->t->nconsts++] = v;
	}
	return e;
}

static struct expr *parse_expression(struct parser *p, int with_condexpr);
static struct expr *parse_tuple(struct parser *p, int simplified, int with_condexpr,
				const char *extra_end, int explicit_parens);
static struct expr *parse_unary(struct parser *p, int with_filter);
static struct expr *parse_primary(struct parser *p);
static struct expr *parse_postfix(struct parser *p, struct expr *e);
static struct expr *parse_filter_expr(struct parser *p, struct expr *e);
static struct expr *parse_filter(struct parser *p, struct expr *e, int start_inline);

static void note_name(struct parser *p, const char *s)
{
	if (!strcmp(s, "loop")) {
		for (struct for_scope *f = p->fors; f; f = f->up)
			f->s->u.for_.uses_loop = 1;
		return;
	}
	int caller = !strcmp(s, "caller"), varargs = !strcmp(s, "varargs"),
	    kwargs = !strcmp(s, "kwargs");
	if (!caller && !varargs && !kwargs)
		return;
	for (struct macro_scope *m = p->macros; m; m = m->up) {
		if (caller)
			m->m->uses_caller = 1;
		if (varargs)
			m->m->uses_varargs = 1;
		if (kwargs)
			m->m->uses_kwargs = 1;
	}
}

/* --- expressions ------------------------------------------------------ */

static struct expr *parse_condexpr(struct parser *p);
static struct expr *parse_or(struct parser *p);

static struct expr *parse_expression(struct parser *p, int with_condexpr)
{
	return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

static struct expr *parse_and(struct parser *p);
static struct expr *parse_not(struct parser *p);
static struct expr *parse_compare(struct parser *p);
static struct expr *parse_math1(struct parser *p);
static struct expr *parse_concat(struct parser *p);
static struct expr *parse_math2(struct parser *p);
static struct expr *parse_pow(struct parser *p);

static struct expr *parse_condexpr(struct parser *p)
{
	struct token *at = cur(p);
	struct expr *e = parse_or(p);
	if (!e)
		return NULL;
	while (is_name(cur(p), "if")) {
		next(p);
		struct expr *c = new_expr(p, EX_COND, at);
		c->u.cond.then = e;
		if (!(c->u.cond.cond = parse_or(p)))
			return NULL;
		if (is_name(cur(p), "else")) {
			next(p);
			if (!(c->u.cond.els = parse_condexpr(p)))
				return NULL;
		}
		e = c;
	}
	return e;
}

static struct expr *parse_or(struct parser *p)
{
	struct expr *l = parse_and(p);
	while (l && is_name(cur(p), "or")) {
		struct token *at = cur(p);
		next(p);
		struct expr *e = new_expr(p, EX_OR, at);
		e->u.bin.l = l;
		if (!(e->u.bin.r = parse_and(p)))
			return NULL;
		l = e;
	}
	return l;
}

static struct expr *parse_and(struct parser *p)
{
	struct expr *l = parse_not(p);
	while (l && is_name(cur(p), "and")) {
		struct token *at = cur(p);
		next(p);
		struct expr *e = new_expr(p, EX_AND, at);
		e->u.bin.l = l;
		if (!(e->u.bin.r = parse_not(p)))
			return NULL;
		l = e;
	}
	return l;
}

static struct expr *parse_not(struct parser *p)
{
	if (is_name(cur(p), "not")) {
		struct token *at = cur(p);
		next(p);
		struct expr *e = new_expr(p, EX_NOT, at);
		if (!(e->u.un = parse_not(p)))
			return NULL;
		return e;
	}
	return parse_compare(p);
}

static struct expr *parse_compare(struct parser *p)
{
	struct token *at = cur(p);
	struct expr *first = parse_math1(p);
	if (!first)
		return NULL;
	struct ptrvec rest = { 0 };
	enum cmpop ops[64];
	size_t n = 0;
	for (;;) {
		struct token *t = cur(p);
		enum cmpop op;
		if (t->type == T_EQ)
			op = CMP_EQ;
		else if (t->type == T_NE)
			op = CMP_NE;
		else if (t->type == T_LT)
			op = CMP_LT;
		else if (t->type == T_LE)
			op = CMP_LE;
		else if (t->type == T_GT)
			op = CMP_GT;
		else if (t->type == T_GE)
			op = CMP_GE;
		else if (is_name(t, "in"))
			op = CMP_IN;
		else if (is_name(t, "not") && is_name(peek(p, 1), "in")) {
			op = CMP_NOTIN;
			next(p);
		} else
			break;
		next(p);
		if (n == ARRAY_SIZE(ops)) {
			pv_free(&rest);
			perror_at(p, t, "too many comparisons");
			return NULL;
		}
		struct expr *r = parse_math1(p);
		if (!r) {
			pv_free(&rest);
			return NULL;
		}
		ops[n++] = op;
		pv_push(&rest, r);
	}
	if (!n)
		return first;
	struct expr *e = new_expr(p, EX_COMPARE, at);
	e->u.cmp.first = first;
	e->u.cmp.n = n;
	e->u.cmp.rest = pv_finish(p, &rest);
	e->u.cmp.ops = arena_alloc(p->a, n * sizeof(*ops));
	memcpy(e->u.cmp.ops, ops, n * sizeof(*ops));
	return e;
}

static struct expr *binop(struct parser *p, const struct token *at, enum binop op, struct expr *l,
			  struct expr *r)
{
	if (!r)
		return NULL;
	struct expr *e = new_expr(p, EX_BINOP, at);
	e->u.bin.op = op;
	e->u.bin.l = l;
	e->u.bin.r = r;
	return e;
}

static struct expr *parse_math1(struct parser *p)
{
	struct expr *l = parse_concat(p);
	while (l && (cur(p)->type == T_ADD || cur(p)->type == T_SUB)) {
		struct token *at = cur(p);
		next(p);
		l = binop(p, at, at->type == T_ADD ? OP_ADD : OP_SUB, l, parse_concat(p));
	}
	return l;
}

static struct expr *parse_concat(struct parser *p)
{
	struct token *at = cur(p);
	struct expr *first = parse_math2(p);
	if (!first || cur(p)->type != T_TILDE)
		return first;
	struct ptrvec items = { 0 };
	pv_push(&items, first);
	while (cur(p)->type == T_TILDE) {
		next(p);
		struct expr *e = parse_math2(p);
		if (!e) {
			pv_free(&items);
			return NULL;
		}
		pv_push(&items, e);
	}
	struct expr *e = new_expr(p, EX_CONCAT, at);
	e->u.concat.n = items.n;
	e->u.concat.items = pv_finish(p, &items);
	return e;
}

static struct expr *parse_math2(struct parser *p)
{
	struct expr *l = parse_pow(p);
	for (;;) {
		if (!l)
			return NULL;
		struct token *at = cur(p);
		enum binop op;
		if (at->type == T_MUL)
			op = OP_MUL;
		else if (at->type == T_DIV)
			op = OP_DIV;
		else if (at->type == T_FLOORDIV)
			op = OP_FLOORDIV;
		else if (at->type == T_MOD)
			op = OP_MOD;
		else
			return l;
		next(p);
		l = binop(p, at, op, l, parse_pow(p));
	}
}

static struct expr *parse_pow(struct parser *p)
{
	struct expr *l = parse_unary(p, 1);
	while (l && cur(p)->type == T_POW) {
		struct token *at = cur(p);
		next(p);
		l = binop(p, at, OP_POW, l, parse_unary(p, 1));
	}
	return l;
}

static struct expr *parse_unary(struct parser *p, int with_filter)
{
	struct token *at = cur(p);
	struct expr *e;
	if (at->type == T_SUB || at->type == T_ADD) {
		next(p);
		e = new_expr(p, at->type == T_SUB ? EX_NEG : EX_POS, at);
		if (!(e->u.un = parse_unary(p, 0)))
			return NULL;
	} else {
		e = parse_primary(p);
	}
	if (!e || !(e = parse_postfix(p, e)))
		return NULL;
	if (with_filter)
		e = parse_filter_expr(p, e);
	return e;
}

static int parse_call_args(struct parser *p, struct args *args)
{
	/* at '(' */
	struct token *open = cur(p);
	if (expect(p, T_LPAREN))
		return -1;
	struct ptrvec pos = { 0 }, kwn = { 0 }, kwv = { 0 };
	int require_comma = 0;
	while (cur(p)->type != T_RPAREN) {
		if (require_comma) {
			if (expect(p, T_COMMA))
				goto fail;
			if (cur(p)->type == T_RPAREN)
				break;
		}
		struct token *t = cur(p);
		if (t->type == T_MUL) {
			next(p);
			if (!(args->star = parse_expression(p, 1)))
				goto fail;
		} else if (t->type == T_POW) {
			next(p);
			if (!(args->dstar = parse_expression(p, 1)))
				goto fail;
		} else if (t->type == T_NAME && peek(p, 1)->type == T_ASSIGN) {
			if (args->dstar) {
				perror_at(p, t, "invalid syntax for function call expression");
				goto fail;
			}
			next(p);
			next(p);
			struct expr *v = parse_expression(p, 1);
			if (!v)
				goto fail;
			pv_push(&kwn, (void *)t->s);
			pv_push(&kwv, v);
		} else {
			if (args->star || args->dstar || kwn.n) {
				perror_at(p, t, "invalid syntax for function call expression");
				goto fail;
			}
			struct expr *v = parse_expression(p, 1);
			if (!v)
				goto fail;
			pv_push(&pos, v);
		}
		require_comma = 1;
	}
	if (expect(p, T_RPAREN))
		goto fail;
	args->npos = pos.n;
	args->pos = pv_finish(p, &pos);
	args->nkw = kwn.n;
	args->kwnames = pv_finish(p, &kwn);
	args->kwvals = pv_finish(p, &kwv);
	(void)open;
	return 0;
fail:
	pv_free(&pos);
	pv_free(&kwn);
	pv_free(&kwv);
	return -1;
}

static struct expr *parse_primary(struct parser *p)
{
	struct token *t = cur(p);
	char b[64];
	switch (t->type) {
	case T_NAME: {
		next(p);
		if (!strcmp(t->s, "true") || !strcmp(t->s, "True"))
			return new_const(p, t, jval_bool(1));
		if (!strcmp(t->s, "false") || !strcmp(t->s, "False"))
			return new_const(p, t, jval_bool(0));
		if (!strcmp(t->s, "none") || !strcmp(t->s, "None"))
			return new_const(p, t, jval_none());
		struct expr *e = new_expr(p, EX_NAME, t);
		set_name(p, &e->u.name, t->s, t->len);
		note_name(p, t->s);
		return e;
	}
	case T_STRING: {
		/* adjacent string literals concatenate */
		struct strbuf sb = STRBUF_INIT;
		while (cur(p)->type == T_STRING) {
			strbuf_add(&sb, cur(p)->s, cur(p)->len);
			next(p);
		}
		return new_const(p, t, jval_str_from_buf(&sb));
	}
	case T_INT:
		next(p);
		return new_const(p, t, jval_int(t->num.i));
	case T_FLOAT:
		next(p);
		return new_const(p, t, jval_float(t->num.f));
	case T_LPAREN: {
		next(p);
		struct expr *e = parse_tuple(p, 0, 1, NULL, 1);
		if (!e || expect(p, T_RPAREN))
			return NULL;
		return e;
	}
	case T_LBRACKET: {
		next(p);
		struct ptrvec items = { 0 };
		while (cur(p)->type != T_RBRACKET) {
			if (items.n && expect(p, T_COMMA)) {
				pv_free(&items);
				return NULL;
			}
			if (cur(p)->type == T_RBRACKET)
				break;
			struct expr *e = parse_expression(p, 1);
			if (!e) {
				pv_free(&items);
				return NULL;
			}
			pv_push(&items, e);
		}
		if (expect(p, T_RBRACKET)) {
			pv_free(&items);
			return NULL;
		}
		struct expr *e = new_expr(p, EX_LIST, t);
		e->u.seq.n = items.n;
		e->u.seq.items = pv_finish(p, &items);
		return e;
	}
	case T_LBRACE: {
		next(p);
		struct ptrvec keys = { 0 }, vals = { 0 };
		while (cur(p)->type != T_RBRACE) {
			if (keys.n && expect(p, T_COMMA))
				goto dict_fail;
			if (cur(p)->type == T_RBRACE)
				break;
			struct expr *k = parse_expression(p, 1);
			if (!k || expect(p, T_COLON))
				goto dict_fail;
			struct expr *v = parse_expression(p, 1);
			if (!v)
				goto dict_fail;
			pv_push(&keys, k);
			pv_push(&vals, v);
		}
		if (expect(p, T_RBRACE))
			goto dict_fail;
		struct expr *e = new_expr(p, EX_DICT, t);
		e->u.dict.n = keys.n;
		e->u.dict.keys = pv_finish(p, &keys);
		e->u.dict.vals = pv_finish(p, &vals);
		return e;
	dict_fail:
		pv_free(&keys);
		pv_free(&vals);
		return NULL;
	}
	case T_EOF:
		perror_at(p, t, "unexpected end of template, expected an expression");
		return NULL;
	default:
		perror_at(p, t, "expected an expression, got %s", tokdesc(t, b, sizeof(b)));
		return NULL;
	}
}

static int is_tuple_end(struct parser *p, const char *extra_end)
{
	struct token *t = cur(p);
	if (t->type == T_VAR_END || t->type == T_BLOCK_END || t->type == T_RPAREN ||
	    t->type == T_EOF)
		return 1;
	return extra_end && is_name(t, extra_end);
}

static struct expr *parse_tuple(struct parser *p, int simplified, int with_condexpr,
				const char *extra_end, int explicit_parens)
{
	struct token *at = cur(p);
	struct ptrvec items = { 0 };
	int is_tuple = 0;
	for (;;) {
		if (items.n) {
			if (expect(p, T_COMMA))
				goto fail;
		}
		if (is_tuple_end(p, extra_end))
			break;
		struct expr *e = simplified ? parse_primary(p) : parse_expression(p, with_condexpr);
		if (!e)
			goto fail;
		pv_push(&items, e);
		if (cur(p)->type == T_COMMA)
			is_tuple = 1;
		else
			break;
	}
	if (!is_tuple) {
		if (items.n) {
			struct expr *e = items.v[0];
			pv_free(&items);
			return e;
		}
		if (!explicit_parens) {
			char b[64];
			perror_at(p, cur(p), "expected an expression, got %s",
				  tokdesc(cur(p), b, sizeof(b)));
			goto fail;
		}
	}
	struct expr *e = new_expr(p, EX_TUPLE, at);
	e->u.seq.n = items.n;
	e->u.seq.items = pv_finish(p, &items);
	return e;
fail:
	pv_free(&items);
	return NULL;
}

static struct expr *parse_subscribed(struct parser *p)
{
	struct token *at = cur(p);
	struct expr *args[3] = { NULL, NULL, NULL };
	if (at->type == T_COLON) {
		next(p);
	} else {
		struct expr *e = parse_expression(p, 1);
		if (!e)
			return NULL;
		if (cur(p)->type != T_COLON)
			return e;
		next(p);
		args[0] = e;
	}
	if (cur(p)->type != T_RBRACKET && cur(p)->type != T_COMMA) {
		if (cur(p)->type != T_COLON) {
			if (!(args[1] = parse_expression(p, 1)))
				return NULL;
		}
		if (cur(p)->type == T_COLON) {
			next(p);
			if (cur(p)->type != T_RBRACKET && cur(p)->type != T_COMMA)
				if (!(args[2] = parse_expression(p, 1)))
					return NULL;
		}
	}
	struct expr *s = new_expr(p, EX_SLICE, at);
	s->u.slice.start = args[0];
	s->u.slice.stop = args[1];
	s->u.slice.step = args[2];
	return s;
}

static struct expr *parse_subscript(struct parser *p, struct expr *obj)
{
	struct token *t = cur(p);
	next(p);
	if (t->type == T_DOT) {
		struct token *a = cur(p);
		if (a->type == T_NAME) {
			next(p);
			struct expr *e = new_expr(p, EX_GETATTR, a);
			e->line = obj->line;
			e->col = obj->col;
			e->u.attr.obj = obj;
			set_name(p, &e->u.attr.attr, a->s, a->len);
			return e;
		}
		if (a->type != T_INT) {
			perror_at(p, a, "expected name or number");
			return NULL;
		}
		next(p);
		struct expr *e = new_expr(p, EX_GETITEM, a);
		e->line = obj->line;
		e->col = obj->col;
		e->u.item.obj = obj;
		e->u.item.index = new_const(p, a, jval_int(a->num.i));
		return e;
	}
	/* '[' subscript (',' subscript)* ']' */
	struct ptrvec idx = { 0 };
	while (cur(p)->type != T_RBRACKET) {
		if (idx.n && expect(p, T_COMMA))
			goto fail;
		if (cur(p)->type == T_RBRACKET)
			break;
		struct expr *s = parse_subscribed(p);
		if (!s)
			goto fail;
		pv_push(&idx, s);
	}
	if (expect(p, T_RBRACKET))
		goto fail;
	if (!idx.n) {
		perror_at(p, t, "expected subscript expression");
		goto fail;
	}
	struct expr *e = new_expr(p, EX_GETITEM, t);
	e->line = obj->line;
	e->col = obj->col;
	e->u.item.obj = obj;
	if (idx.n == 1) {
		e->u.item.index = idx.v[0];
		pv_free(&idx);
	} else {
		struct expr *tu = new_expr(p, EX_TUPLE, t);
		tu->u.seq.n = idx.n;
		tu->u.seq.items = pv_finish(p, &idx);
		e->u.item.index = tu;
	}
	return e;
fail:
	pv_free(&idx);
	return NULL;
}

static struct expr *parse_call(struct parser *p, struct expr *callee)
{
	struct expr *e = new_expr(p, EX_CALL, cur(p));
	e->line = callee->line;
	e->col = callee->col;
	e->u.call.callee = callee;
	if (parse_call_args(p, &e->u.call.args))
		return NULL;
	return e;
}

static struct expr *parse_postfix(struct parser *p, struct expr *e)
{
	while (e) {
		enum tok_type t = cur(p)->type;
		if (t == T_DOT || t == T_LBRACKET)
			e = parse_subscript(p, e);
		else if (t == T_LPAREN)
			e = parse_call(p, e);
		else
			break;
	}
	return e;
}

/* A dotted name: filter and test names may contain dots. */
static const char *parse_dotted(struct parser *p)
{
	struct token *t = cur(p);
	if (t->type != T_NAME) {
		char b[64];
		perror_at(p, t, "expected token 'name', got %s", tokdesc(t, b, sizeof(b)));
		return NULL;
	}
	next(p);
	if (cur(p)->type != T_DOT || peek(p, 1)->type != T_NAME)
		return t->s;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, t->s);
	while (cur(p)->type == T_DOT && peek(p, 1)->type == T_NAME) {
		next(p);
		strbuf_addch(&sb, '.');
		strbuf_addstr(&sb, cur(p)->s);
		next(p);
	}
	const char *r = arena_strdup(p->a, sb.buf);
	strbuf_release(&sb);
	return r;
}

static int known_host(const struct jinja_env *env, struct jval table, const char *name)
{
	return env && jval_dict_get(table, name) != NULL;
}

static struct expr *parse_filter(struct parser *p, struct expr *e, int start_inline)
{
	while (cur(p)->type == T_PIPE || start_inline) {
		if (!start_inline)
			next(p);
		start_inline = 0;
		struct token *at = cur(p);
		const char *name = parse_dotted(p);
		if (!name)
			return NULL;
		struct expr *f = new_expr(p, EX_FILTER, at);
		f->u.filter.arg = e;
		f->u.filter.name = name;
		f->u.filter.fn = filter_lookup(name);
		if (!f->u.filter.fn && p->env && !known_host(p->env, p->env->filters, name)) {
			perror_at(p, at, "no filter named '%s'", name);
			return NULL;
		}
		if (cur(p)->type == T_LPAREN && parse_call_args(p, &f->u.filter.args))
			return NULL;
		e = f;
	}
	return e;
}

static struct expr *parse_test(struct parser *p, struct expr *e)
{
	struct token *is = cur(p);
	next(p); /* 'is' */
	int negated = 0;
	if (is_name(cur(p), "not")) {
		next(p);
		negated = 1;
	}
	struct token *at = cur(p);
	const char *name = parse_dotted(p);
	if (!name)
		return NULL;
	struct expr *t = new_expr(p, EX_TEST, at);
	t->u.test.arg = e;
	t->u.test.name = name;
	t->u.test.fn = test_lookup(name);
	if (!t->u.test.fn && p->env && !known_host(p->env, p->env->tests, name)) {
		perror_at(p, at, "no test named '%s'", name);
		return NULL;
	}
	struct token *c = cur(p);
	if (c->type == T_LPAREN) {
		if (parse_call_args(p, &t->u.test.args))
			return NULL;
	} else if ((c->type == T_NAME || c->type == T_STRING || c->type == T_INT ||
		    c->type == T_FLOAT || c->type == T_LPAREN || c->type == T_LBRACKET ||
		    c->type == T_LBRACE) &&
		   !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
		if (is_name(c, "is")) {
			perror_at(p, c, "You cannot chain multiple tests with is");
			return NULL;
		}
		struct expr *arg = parse_primary(p);
		if (!arg || !(arg = parse_postfix(p, arg)))
			return NULL;
		t->u.test.args.pos = arena_alloc(p->a, sizeof(struct expr *));
		t->u.test.args.pos[0] = arg;
		t->u.test.args.npos = 1;
	}
	(void)is;
	if (negated) {
		struct expr *n = new_expr(p, EX_NOT, at);
		n->u.un = t;
		return n;
	}
	return t;
}

static struct expr *parse_filter_expr(struct parser *p, struct expr *e)
{
	while (e) {
		struct token *t = cur(p);
		if (t->type == T_PIPE)
			e = parse_filter(p, e, 0);
		else if (is_name(t, "is"))
			e = parse_test(p, e);
		else if (t->type == T_LPAREN)
			e = parse_call(p, e);
		else
			break;
	}
	return e;
}

/* --- statements ------------------------------------------------------- */

static struct target *parse_assign_target(struct parser *p, int name_only, const char *extra_end,
					  int with_namespace)
{
	struct token *t = cur(p);
	if (with_namespace && t->type == T_NAME && peek(p, 1)->type == T_DOT &&
	    peek(p, 2)->type == T_NAME) {
		struct target *g = arena_alloc(p->a, sizeof(*g));
		g->kind = TG_ATTR;
		set_name(p, &g->name, t->s, t->len);
		struct token *a = peek(p, 2);
		set_name(p, &g->attr, a->s, a->len);
		next(p);
		next(p);
		next(p);
		return g;
	}
	if (name_only) {
		if (t->type != T_NAME) {
			char b[64];
			perror_at(p, t, "expected token 'name', got %s", tokdesc(t, b, sizeof(b)));
			return NULL;
		}
		next(p);
		struct target *g = arena_alloc(p->a, sizeof(*g));
		g->kind = TG_NAME;
		set_name(p, &g->name, t->s, t->len);
		return g;
	}
	/* a simplified tuple of names */
	struct ptrvec items = { 0 };
	int is_tuple = 0, paren = 0;
	if (t->type == T_LPAREN) {
		paren = 1;
		next(p);
	}
	for (;;) {
		if (items.n && expect(p, T_COMMA))
			goto fail;
		struct token *n = cur(p);
		if (n->type == T_BLOCK_END || n->type == T_ASSIGN || n->type == T_RPAREN ||
		    (extra_end && is_name(n, extra_end)) || n->type == T_PIPE)
			break;
		if (n->type == T_LPAREN) {
			struct target *sub = parse_assign_target(p, 0, NULL, 0);
			if (!sub)
				goto fail;
			pv_push(&items, sub);
		} else if (n->type != T_NAME) {
			char b[64];
			perror_at(p, n, "can't assign to %s", tokdesc(n, b, sizeof(b)));
			goto fail;
		} else {
			next(p);
			struct target *g = arena_alloc(p->a, sizeof(*g));
			g->kind = TG_NAME;
			set_name(p, &g->name, n->s, n->len);
			pv_push(&items, g);
		}
		if (cur(p)->type == T_COMMA)
			is_tuple = 1;
		else
			break;
	}
	if (paren && expect(p, T_RPAREN))
		goto fail;
	if (!items.n) {
		char b[64];
		perror_at(p, cur(p), "expected an assignment target, got %s",
			  tokdesc(cur(p), b, sizeof(b)));
		goto fail;
	}
	if (!is_tuple && !paren) {
		struct target *g = items.v[0];
		pv_free(&items);
		return g;
	}
	struct target *g = arena_alloc(p->a, sizeof(*g));
	g->kind = TG_TUPLE;
	g->n = items.n;
	g->items = pv_finish(p, &items);
	return g;
fail:
	pv_free(&items);
	return NULL;
}

static int parse_body(struct parser *p, struct body *b, const char *const *ends, size_t nends,
		      const char *block);

static struct stmt *new_stmt(struct parser *p, enum stmt_kind kind, const struct token *at)
{
	struct stmt *s = arena_alloc(p->a, sizeof(*s));
	s->kind = kind;
	s->line = at->line;
	s->col = at->col;
	s->file = p->file;
	return s;
}

static const char *const END_FOR[] = { "endfor", "else" };
static const char *const END_FOR2[] = { "endfor" };
static const char *const END_IF[] = { "elif", "else", "endif" };
static const char *const END_IF2[] = { "endif" };

/* Expect the end tag name at cur (as parse_body left it) and the %}. */
static int end_tag(struct parser *p)
{
	next(p); /* the end name */
	return expect(p, T_BLOCK_END);
}

static int parse_signature(struct parser *p, struct macro *m)
{
	struct ptrvec names = { 0 }, defs = { 0 };
	if (expect(p, T_LPAREN))
		return -1;
	while (cur(p)->type != T_RPAREN) {
		if (names.n && expect(p, T_COMMA))
			goto fail;
		if (cur(p)->type == T_RPAREN)
			break;
		struct token *t = cur(p);
		if (t->type != T_NAME) {
			char b[64];
			perror_at(p, t, "expected token 'name', got %s", tokdesc(t, b, sizeof(b)));
			goto fail;
		}
		next(p);
		struct expr *d = NULL;
		if (cur(p)->type == T_ASSIGN) {
			next(p);
			if (!(d = parse_expression(p, 1)))
				goto fail;
		} else if (defs.n && defs.v[defs.n - 1]) {
			perror_at(p, t, "non-default argument follows default argument");
			goto fail;
		}
		pv_push(&names, (void *)t);
		pv_push(&defs, d);
	}
	if (expect(p, T_RPAREN))
		goto fail;
	m->nparams = names.n;
	m->params = arena_alloc(p->a, (names.n ? names.n : 1) * sizeof(*m->params));
	for (size_t i = 0; i < names.n; i++) {
		struct token *t = names.v[i];
		set_name(p, &m->params[i], t->s, t->len);
	}
	pv_free(&names);
	m->defaults = pv_finish(p, &defs);
	return 0;
fail:
	pv_free(&names);
	pv_free(&defs);
	return -1;
}

static struct macro *new_macro(struct parser *p, enum macro_kind kind, const struct token *at,
			       const char *name)
{
	struct macro *m = arena_alloc(p->a, sizeof(*m));
	m->kind = kind;
	m->name = name;
	set_name(p, &m->bound, name, strlen(name));
	m->file = p->file;
	m->line = at->line;
	m->col = at->col;
	return m;
}

static int parse_macro_body(struct parser *p, struct macro *m, const char *end, const char *block)
{
	struct macro_scope ms = { m, p->macros };
	struct for_scope *fors = p->fors;
	int loops = p->loop_depth;
	p->macros = &ms;
	p->fors = NULL; /* `loop` inside a macro is not the enclosing loop's */
	p->loop_depth = 0;
	const char *ends[] = { end };
	int rc = parse_body(p, &m->body, ends, 1, block);
	p->macros = ms.up;
	p->fors = fors;
	p->loop_depth = loops;
	if (rc)
		return -1;
	return end_tag(p);
}

static struct stmt *parse_statement(struct parser *p)
{
	struct token *at = cur(p); /* the tag name */
	const char *tag = at->s;
	char b[64];
	if (at->type != T_NAME) {
		perror_at(p, at, "tag name expected");
		return NULL;
	}
	next(p);
	if (!strcmp(tag, "if")) {
		struct stmt *s = new_stmt(p, ST_IF, at);
		struct stmt *node = s;
		for (;;) {
			if (!(node->u.if_.cond = parse_tuple(p, 0, 0, NULL, 0)) ||
			    expect(p, T_BLOCK_END) ||
			    parse_body(p, &node->u.if_.then, END_IF, 3, "if"))
				return NULL;
			struct token *t = cur(p);
			next(p);
			if (!strcmp(t->s, "elif")) {
				struct stmt *n = new_stmt(p, ST_IF, t);
				node->u.if_.els.s = arena_alloc(p->a, sizeof(struct stmt *));
				node->u.if_.els.s[0] = n;
				node->u.if_.els.n = 1;
				node = n;
				continue;
			}
			if (!strcmp(t->s, "else")) {
				if (expect(p, T_BLOCK_END) ||
				    parse_body(p, &node->u.if_.els, END_IF2, 1, "if") || end_tag(p))
					return NULL;
			} else if (expect(p, T_BLOCK_END)) {
				return NULL;
			}
			return s;
		}
	}
	if (!strcmp(tag, "for")) {
		struct stmt *s = new_stmt(p, ST_FOR, at);
		if (!(s->u.for_.target = parse_assign_target(p, 0, "in", 0)) || expect_name(p, "in") ||
		    !(s->u.for_.iter = parse_tuple(p, 0, 0, "recursive", 0)))
			return NULL;
		if (is_name(cur(p), "if")) {
			next(p);
			if (!(s->u.for_.filter = parse_expression(p, 1)))
				return NULL;
		}
		if (is_name(cur(p), "recursive")) {
			perror_at(p, cur(p), "recursive loops are not supported");
			return NULL;
		}
		if (expect(p, T_BLOCK_END))
			return NULL;
		struct for_scope fs = { s, p->fors };
		p->fors = &fs;
		p->loop_depth++;
		int rc = parse_body(p, &s->u.for_.body, END_FOR, 2, "for");
		p->fors = fs.up;
		p->loop_depth--;
		if (rc)
			return NULL;
		if (is_name(cur(p), "else")) {
			next(p);
			if (expect(p, T_BLOCK_END) ||
			    parse_body(p, &s->u.for_.els, END_FOR2, 1, "for"))
				return NULL;
		}
		return end_tag(p) ? NULL : s;
	}
	if (!strcmp(tag, "set")) {
		struct target *tg = parse_assign_target(p, 0, NULL, 1);
		if (!tg)
			return NULL;
		if (cur(p)->type == T_ASSIGN) {
			next(p);
			struct stmt *s = new_stmt(p, ST_SET, at);
			s->u.set.target = tg;
			if (!(s->u.set.value = parse_tuple(p, 0, 1, NULL, 0)) ||
			    expect(p, T_BLOCK_END))
				return NULL;
			return s;
		}
		if (tg->kind == TG_TUPLE) {
			perror_at(p, cur(p), "expected token '=', got %s",
				  tokdesc(cur(p), b, sizeof(b)));
			return NULL;
		}
		struct stmt *s = new_stmt(p, ST_SETBLOCK, at);
		s->u.setblock.target = tg;
		if (cur(p)->type == T_PIPE &&
		    !(s->u.setblock.filter = parse_filter(p, NULL, 0)))
			return NULL;
		static const char *const end[] = { "endset" };
		if (expect(p, T_BLOCK_END) || parse_body(p, &s->u.setblock.body, end, 1, "set") ||
		    end_tag(p))
			return NULL;
		return s;
	}
	if (!strcmp(tag, "macro") || !strcmp(tag, "test")) {
		int is_test = tag[0] == 't';
		struct token *n = cur(p);
		if (n->type != T_NAME) {
			perror_at(p, n, "expected token 'name', got %s", tokdesc(n, b, sizeof(b)));
			return NULL;
		}
		next(p);
		const char *name = n->s;
		if (is_test) {
			char *tn = arena_alloc(p->a, n->len + 6);
			memcpy(tn, "test_", 5);
			memcpy(tn + 5, n->s, n->len + 1);
			name = tn;
		}
		struct macro *m = new_macro(p, is_test ? MACRO_TEST : MACRO_PLAIN, at, name);
		if (parse_signature(p, m) || expect(p, T_BLOCK_END) ||
		    parse_macro_body(p, m, is_test ? "endtest" : "endmacro", tag))
			return NULL;
		struct stmt *s = new_stmt(p, ST_MACRO, at);
		s->u.macro = m;
		return s;
	}
	if (!strcmp(tag, "docs")) {
		struct token *n = cur(p);
		if (n->type != T_NAME) {
			perror_at(p, n, "expected token 'name', got %s", tokdesc(n, b, sizeof(b)));
			return NULL;
		}
		next(p);
		char *mn = arena_alloc(p->a, n->len + 11);
		memcpy(mn, "dbt_docs__", 10);
		memcpy(mn + 10, n->s, n->len + 1);
		struct macro *m = new_macro(p, MACRO_DOCS, at, mn);
		m->docname = n->s;
		m->params = arena_alloc(p->a, sizeof(*m->params));
		if (expect(p, T_BLOCK_END) || parse_macro_body(p, m, "enddocs", "docs"))
			return NULL;
		ALLOC_GROW(p->t->docs, p->t->ndocs + 1, p->t->adocs);
		p->t->docs[p->t->ndocs++] = m;
		struct stmt *s = new_stmt(p, ST_MACRO, at);
		s->u.macro = m;
		return s;
	}
	if (!strcmp(tag, "materialization")) {
		struct token *n = cur(p);
		if (n->type != T_NAME) {
			perror_at(p, n, "expected token 'name', got %s", tokdesc(n, b, sizeof(b)));
			return NULL;
		}
		next(p);
		const char *adapter = "default";
		while (cur(p)->type == T_COMMA) {
			next(p);
			struct token *a = cur(p);
			if (a->type != T_NAME) {
				perror_at(p, a, "expected token 'name', got %s",
					  tokdesc(a, b, sizeof(b)));
				return NULL;
			}
			next(p);
			if (!strcmp(a->s, "default"))
				continue;
			if (!strcmp(a->s, "adapter") || !strcmp(a->s, "supported_languages")) {
				if (expect(p, T_ASSIGN))
					return NULL;
				struct expr *v = parse_expression(p, 1);
				if (!v)
					return NULL;
				if (a->s[0] == 'a') {
					if (v->kind != EX_CONST || v->u.cval.type != JVAL_STR) {
						perror_at(p, a, "adapter must be a string");
						return NULL;
					}
					adapter = v->u.cval.u.s->s;
				}
				continue;
			}
			perror_at(p, a, "invalid materialization argument '%s'", a->s);
			return NULL;
		}
		size_t len = strlen("materialization_") + n->len + 1 + strlen(adapter) + 1;
		char *mn = arena_alloc(p->a, len);
		snprintf(mn, len, "materialization_%s_%s", n->s, adapter);
		struct macro *m = new_macro(p, MACRO_MATERIALIZATION, at, mn);
		m->params = arena_alloc(p->a, sizeof(*m->params));
		if (expect(p, T_BLOCK_END) ||
		    parse_macro_body(p, m, "endmaterialization", "materialization"))
			return NULL;
		struct stmt *s = new_stmt(p, ST_MACRO, at);
		s->u.macro = m;
		return s;
	}
	if (!strcmp(tag, "call")) {
		struct macro *m = new_macro(p, MACRO_CALLER, at, "caller");
		if (cur(p)->type == T_LPAREN) {
			if (parse_signature(p, m))
				return NULL;
		} else {
			m->params = arena_alloc(p->a, sizeof(*m->params));
		}
		struct token *ct = cur(p);
		struct expr *call = parse_expression(p, 1);
		if (!call)
			return NULL;
		if (call->kind != EX_CALL) {
			perror_at(p, ct, "expected call");
			return NULL;
		}
		struct stmt *s = new_stmt(p, ST_CALLBLOCK, at);
		s->u.callblock.call = call;
		s->u.callblock.caller = m;
		if (expect(p, T_BLOCK_END) || parse_macro_body(p, m, "endcall", "call"))
			return NULL;
		return s;
	}
	if (!strcmp(tag, "filter")) {
		struct stmt *s = new_stmt(p, ST_FILTERBLOCK, at);
		static const char *const end[] = { "endfilter" };
		if (!(s->u.filterblock.filter = parse_filter(p, NULL, 1)) || expect(p, T_BLOCK_END) ||
		    parse_body(p, &s->u.filterblock.body, end, 1, "filter") || end_tag(p))
			return NULL;
		return s;
	}
	if (!strcmp(tag, "do") || !strcmp(tag, "print")) {
		struct stmt *s = new_stmt(p, tag[0] == 'd' ? ST_DO : ST_PRINT, at);
		if (!(s->u.expr = parse_tuple(p, 0, 1, NULL, 0)) || expect(p, T_BLOCK_END))
			return NULL;
		return s;
	}
	if (!strcmp(tag, "with")) {
		struct stmt *s = new_stmt(p, ST_WITH, at);
		struct ptrvec tg = { 0 }, vals = { 0 };
		while (cur(p)->type != T_BLOCK_END) {
			if (tg.n && expect(p, T_COMMA))
				goto with_fail;
			struct target *t = parse_assign_target(p, 0, NULL, 0);
			struct expr *v;
			if (!t || expect(p, T_ASSIGN) || !(v = parse_expression(p, 1)))
				goto with_fail;
			pv_push(&tg, t);
			pv_push(&vals, v);
		}
		next(p);
		s->u.with.n = tg.n;
		s->u.with.targets = pv_finish(p, &tg);
		s->u.with.values = pv_finish(p, &vals);
		static const char *const end[] = { "endwith" };
		if (parse_body(p, &s->u.with.body, end, 1, "with") || end_tag(p))
			return NULL;
		return s;
	with_fail:
		pv_free(&tg);
		pv_free(&vals);
		return NULL;
	}
	if (!strcmp(tag, "break") || !strcmp(tag, "continue")) {
		if (!p->loop_depth) {
			perror_at(p, at, "'%s' outside of a loop", tag);
			return NULL;
		}
		struct stmt *s = new_stmt(p, tag[0] == 'b' ? ST_BREAK : ST_CONTINUE, at);
		return expect(p, T_BLOCK_END) ? NULL : s;
	}
	if (!strcmp(tag, "include") || !strcmp(tag, "import") || !strcmp(tag, "from") ||
	    !strcmp(tag, "extends") || !strcmp(tag, "block") || !strcmp(tag, "autoescape")) {
		perror_at(p, at, "the '%s' tag is not supported", tag);
		return NULL;
	}
	perror_at(p, at, "encountered unknown tag '%s'", tag);
	return NULL;
}

/* Parse statements until one of ends (left at cur), or the end of the
 * template when ends is empty. */
static int parse_body(struct parser *p, struct body *b, const char *const *ends, size_t nends,
		      const char *block)
{
	struct ptrvec v = { 0 };
	for (;;) {
		struct token *t = cur(p);
		if (t->type == T_EOF) {
			if (!nends)
				break;
			struct strbuf sb = STRBUF_INIT;
			for (size_t i = 0; i < nends; i++)
				strbuf_addf(&sb, "%s'%s'", i ? " or " : "", ends[nends - 1 - i]);
			perror_at(p, t, "unexpected end of template, expected %s (the innermost open block is '%s')",
				  sb.buf, block);
			strbuf_release(&sb);
			goto fail;
		}
		if (t->type == T_DATA) {
			struct stmt *s = new_stmt(p, ST_DATA, t);
			s->u.data.s = t->s;
			s->u.data.len = t->len;
			pv_push(&v, s);
			next(p);
			continue;
		}
		if (t->type == T_VAR_BEGIN) {
			next(p);
			struct stmt *s = new_stmt(p, ST_PRINT, cur(p));
			if (!(s->u.expr = parse_tuple(p, 0, 1, NULL, 0)) || expect(p, T_VAR_END))
				goto fail;
			pv_push(&v, s);
			continue;
		}
		if (t->type == T_BLOCK_BEGIN) {
			struct token *n = peek(p, 1);
			if (n->type == T_NAME) {
				for (size_t i = 0; i < nends; i++)
					if (!strcmp(n->s, ends[i])) {
						next(p);
						goto done;
					}
			}
			next(p);
			if (cur(p)->type == T_EOF) {
				perror_at(p, cur(p), "unexpected end of template, expected a tag name");
				goto fail;
			}
			struct stmt *s = parse_statement(p);
			if (!s)
				goto fail;
			pv_push(&v, s);
			continue;
		}
		char buf[64];
		perror_at(p, t, "unexpected %s", tokdesc(t, buf, sizeof(buf)));
		goto fail;
	}
done:
	b->n = v.n;
	b->s = pv_finish(p, &v);
	return 0;
fail:
	pv_free(&v);
	return -1;
}

int parser_run(struct jinja_template *t, const struct jinja_env *env, const char *src, size_t len,
	       struct strbuf *err)
{
	struct lexer_out lo = { 0 };
	struct parser p = { .t = t, .a = &t->arena, .env = env, .file = t->file, .err = err };
	int rc = -1;
	if (lexer_run(&t->arena, t->file, src, len, &lo, err))
		goto out;
	p.tok = lo.tok;
	p.n = lo.n;
	rc = parse_body(&p, &t->body, NULL, 0, NULL);
out:
	free(lo.tok);
	return rc;
}
