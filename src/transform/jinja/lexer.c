/* The lexer. Source is first normalised as Jinja does (\r\n and \r become
 * \n, one trailing newline is dropped since keep_trailing_newline is off),
 * then split into data and tags. Whitespace control ("{%-", "-%}"...)
 * is applied here, by trimming the neighbouring data. */
#include "lexer.h"
#include "core/arena.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	struct arena *arena;
	const char *file;
	const char *src;
	size_t len, pos;
	unsigned line, col;
	struct lexer_out *out;
	struct strbuf *err;
	char stack[64]; /* open brackets inside a tag */
	size_t depth;
};

static int lex_error(struct lexer *lx, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int lex_error(struct lexer *lx, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	strbuf_addf(lx->err, "%s:%u:%u: ", lx->file, line, col);
	va_start(ap, fmt);
	strbuf_vaddf(lx->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Move to pos, keeping line and column up to date. */
static void advance_to(struct lexer *lx, size_t pos)
{
	while (lx->pos < pos) {
		if (lx->src[lx->pos] == '\n') {
			lx->line++;
			lx->col = 1;
		} else if (((unsigned char)lx->src[lx->pos] & 0xc0) != 0x80) {
			lx->col++;
		}
		lx->pos++;
	}
}

static struct token *push(struct lexer *lx, enum tok_type type, unsigned line, unsigned col)
{
	ALLOC_GROW(lx->out->tok, lx->out->n + 1, lx->out->alloc);
	struct token *t = &lx->out->tok[lx->out->n++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->line = line;
	t->col = col;
	return t;
}

static void push_data(struct lexer *lx, size_t start, size_t end, unsigned line, unsigned col)
{
	if (end <= start)
		return;
	struct token *t = push(lx, T_DATA, line, col);
	t->s = lx->src + start;
	t->len = end - start;
}

static size_t skip_space(const char *s, size_t pos, size_t len)
{
	while (pos < len && is_space(s[pos]))
		pos++;
	return pos;
}

/* Is there "{%[-+]? *endraw *[-+]?%}" at p? Sets *end past it, *lstrip if
 * it starts with "{%-" and *rstrip if it ends with "-%}". */
static int match_rawtag(const char *s, size_t p, size_t len, const char *word, size_t *end,
			int *lstrip, int *rstrip)
{
	if (p + 2 > len || s[p] != '{' || s[p + 1] != '%')
		return 0;
	p += 2;
	*lstrip = 0;
	if (p < len && (s[p] == '-' || s[p] == '+')) {
		*lstrip = s[p] == '-';
		p++;
	}
	p = skip_space(s, p, len);
	size_t wl = strlen(word);
	if (p + wl > len || memcmp(s + p, word, wl))
		return 0;
	p += wl;
	p = skip_space(s, p, len);
	*rstrip = 0;
	if (p < len && (s[p] == '-' || s[p] == '+')) {
		*rstrip = s[p] == '-';
		p++;
	}
	if (p + 2 > len || s[p] != '%' || s[p + 1] != '}')
		return 0;
	*end = p + 2;
	return 1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void add_utf8(struct strbuf *sb, unsigned long cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xc0 | (cp >> 6)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xe0 | (cp >> 12)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (int)(0xf0 | (cp >> 18)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	}
}

/* Decode a string literal's body with Python's unicode-escape rules. */
static void unescape(struct strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			strbuf_addch(sb, s[i]);
			continue;
		}
		char c = s[++i];
		switch (c) {
		case '\n':
			break;
		case '\\':
		case '\'':
		case '"':
			strbuf_addch(sb, c);
			break;
		case 'n':
			strbuf_addch(sb, '\n');
			break;
		case 't':
			strbuf_addch(sb, '\t');
			break;
		case 'r':
			strbuf_addch(sb, '\r');
			break;
		case 'a':
			strbuf_addch(sb, '\a');
			break;
		case 'b':
			strbuf_addch(sb, '\b');
			break;
		case 'f':
			strbuf_addch(sb, '\f');
			break;
		case 'v':
			strbuf_addch(sb, '\v');
			break;
		case 'x':
		case 'u':
		case 'U': {
			size_t w = c == 'x' ? 2 : c == 'u' ? 4 : 8, k;
			unsigned long cp = 0;
			for (k = 0; k < w && i + 1 + k < n && hexval(s[i + 1 + k]) >= 0; k++)
				cp = cp * 16 + (unsigned long)hexval(s[i + 1 + k]);
			if (k < w) {
				strbuf_addch(sb, '\\');
				strbuf_addch(sb, c);
				break;
			}
			i += w;
			add_utf8(sb, cp);
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				unsigned long cp = 0;
				size_t k = 0;
				while (k < 3 && i + k < n && s[i + k] >= '0' && s[i + k] <= '7') {
					cp = cp * 8 + (unsigned long)(s[i + k] - '0');
					k++;
				}
				i += k - 1;
				add_utf8(sb, cp);
			} else {
				strbuf_addch(sb, '\\');
				strbuf_addch(sb, c);
			}
		}
	}
}

static int digits_with_underscores(const char *s, size_t p, size_t len, size_t *end)
{
	if (p >= len || !isdigit((unsigned char)s[p]))
		return 0;
	p++;
	for (;;) {
		if (p < len && isdigit((unsigned char)s[p]))
			p++;
		else if (p + 1 < len && s[p] == '_' && isdigit((unsigned char)s[p + 1]))
			p += 2;
		else
			break;
	}
	*end = p;
	return 1;
}

static char *strip_underscores(struct arena *a, const char *s, size_t n)
{
	char *r = arena_alloc(a, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			r[k++] = s[i];
	r[k] = '\0';
	return r;
}

/* Jinja's integers are Python's, of any size; here they are 64-bit, and a
 * literal past that is an error rather than a silently different value. */
static int too_big(struct lexer *lx, unsigned line, unsigned col)
{
	return lex_error(lx, line, col, "integer overflow: the literal does not fit in 64 bits");
}

/* Lex a number at lx->pos; returns 1 if one was found, -1 on an error. */
static int lex_number(struct lexer *lx, unsigned line, unsigned col)
{
	const char *s = lx->src;
	size_t p = lx->pos, len = lx->len, e;
	if (!isdigit((unsigned char)s[p]))
		return 0;
	/* float: digits ('.' digits [exponent] | exponent), not after a dot */
	if (!(p > 0 && s[p - 1] == '.') && digits_with_underscores(s, p, len, &e)) {
		size_t q = e;
		int isfloat = 0;
		if (q + 1 < len && s[q] == '.' && isdigit((unsigned char)s[q + 1])) {
			digits_with_underscores(s, q + 1, len, &q);
			isfloat = 1;
		}
		if (q < len && (s[q] == 'e' || s[q] == 'E')) {
			size_t r = q + 1, r2;
			if (r < len && (s[r] == '+' || s[r] == '-'))
				r++;
			if (digits_with_underscores(s, r, len, &r2)) {
				q = r2;
				isfloat = 1;
			}
		}
		if (isfloat) {
			struct token *t = push(lx, T_FLOAT, line, col);
			t->num.f = strtod(strip_underscores(lx->arena, s + p, q - p), NULL);
			advance_to(lx, q);
			return 1;
		}
	}
	if (s[p] == '0' && p + 1 < len && strchr("bBoOxX", s[p + 1])) {
		int base = tolower(s[p + 1]) == 'b' ? 2 : tolower(s[p + 1]) == 'o' ? 8 : 16;
		size_t q = p + 2;
		int64_t v = 0;
		int any = 0;
		for (;;) {
			if (q < len && s[q] == '_')
				q++;
			int d = q < len ? hexval(s[q]) : -1;
			if (d < 0 || d >= base)
				break;
			if (__builtin_mul_overflow(v, (int64_t)base, &v) || __builtin_add_overflow(v, (int64_t)d, &v))
				return too_big(lx, line, col);
			any = 1;
			q++;
		}
		if (any) {
			struct token *t = push(lx, T_INT, line, col);
			t->num.i = v;
			advance_to(lx, q);
			return 1;
		}
	}
	size_t q = p + 1;
	if (s[p] == '0') {
		for (;;) {
			if (q < len && s[q] == '0')
				q++;
			else if (q + 1 < len && s[q] == '_' && s[q + 1] == '0')
				q += 2;
			else
				break;
		}
	} else {
		digits_with_underscores(s, p, len, &q);
	}
	errno = 0;
	int64_t v = strtoll(strip_underscores(lx->arena, s + p, q - p), NULL, 10);
	if (errno == ERANGE)
		return too_big(lx, line, col);
	struct token *t = push(lx, T_INT, line, col);
	t->num.i = v;
	advance_to(lx, q);
	return 1;
}

static const struct {
	const char *s;
	enum tok_type type;
} operators[] = {
	{ "//", T_FLOORDIV }, { "**", T_POW }, { "==", T_EQ },	 { "!=", T_NE },     { "<=", T_LE },
	{ ">=", T_GE },	      { "+", T_ADD },  { "-", T_SUB },	 { "*", T_MUL },     { "/", T_DIV },
	{ "%", T_MOD },	      { "~", T_TILDE }, { "[", T_LBRACKET }, { "]", T_RBRACKET }, { "(", T_LPAREN },
	{ ")", T_RPAREN },    { "{", T_LBRACE }, { "}", T_RBRACE }, { "<", T_LT },	     { ">", T_GT },
	{ "=", T_ASSIGN },    { ".", T_DOT },  { ":", T_COLON }, { "|", T_PIPE },    { ",", T_COMMA },
	{ ";", T_SEMICOLON },
};

/* Lex the inside of a tag up to its end delimiter ("}}" or "%}"). Sets
 * *rstrip when the tag ends with "-". */
static int lex_tag(struct lexer *lx, int is_var, int *rstrip)
{
	const char *s = lx->src;
	lx->depth = 0;
	for (;;) {
		advance_to(lx, skip_space(s, lx->pos, lx->len));
		size_t p = lx->pos;
		unsigned line = lx->line, col = lx->col;
		if (p >= lx->len) {
			push(lx, T_EOF, line, col);
			return 1; /* the parser reports what it expected */
		}
		char close = is_var ? '}' : '%';
		if (!lx->depth) {
			size_t q = p;
			int strip = 0;
			if ((s[q] == '-' || s[q] == '+') && q + 2 < lx->len + 0 && s[q + 1] == close &&
			    s[q + 2] == '}') {
				strip = s[q] == '-';
				q++;
			}
			if (q + 1 < lx->len && s[q] == close && s[q + 1] == '}') {
				push(lx, is_var ? T_VAR_END : T_BLOCK_END, line, col);
				advance_to(lx, q + 2);
				*rstrip = strip;
				return 0;
			}
		}
		unsigned char c = (unsigned char)s[p];
		if (isalpha(c) || c == '_') {
			size_t q = p + 1;
			while (q < lx->len && (isalnum((unsigned char)s[q]) || s[q] == '_'))
				q++;
			struct token *t = push(lx, T_NAME, line, col);
			t->s = arena_strndup(lx->arena, s + p, q - p);
			t->len = q - p;
			advance_to(lx, q);
			continue;
		}
		int num = lex_number(lx, line, col);
		if (num < 0)
			return -1;
		if (num)
			continue;
		if (c == '\'' || c == '"') {
			size_t q = p + 1;
			while (q < lx->len && s[q] != (char)c) {
				if (s[q] == '\\' && q + 1 < lx->len)
					q++;
				q++;
			}
			if (q >= lx->len)
				return lex_error(lx, line, col, "unexpected char %s at %zu",
						 c == '\'' ? "\"'\"" : "'\"'", p);
			struct strbuf sb = STRBUF_INIT;
			unescape(&sb, s + p + 1, q - p - 1);
			struct token *t = push(lx, T_STRING, line, col);
			t->s = arena_strndup(lx->arena, sb.buf, sb.len);
			t->len = sb.len;
			strbuf_release(&sb);
			advance_to(lx, q + 1);
			continue;
		}
		size_t i;
		for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
			size_t ol = strlen(operators[i].s);
			if (p + ol <= lx->len && !memcmp(s + p, operators[i].s, ol))
				break;
		}
		if (i == sizeof(operators) / sizeof(operators[0]))
			return lex_error(lx, line, col, "unexpected char '%c' at %zu", c, p);
		enum tok_type type = operators[i].type;
		if (type == T_LPAREN || type == T_LBRACKET || type == T_LBRACE) {
			if (lx->depth >= sizeof(lx->stack))
				return lex_error(lx, line, col, "brackets nested too deeply");
			lx->stack[lx->depth++] = type == T_LPAREN ? ')' : type == T_LBRACKET ? ']' : '}';
		} else if (type == T_RPAREN || type == T_RBRACKET || type == T_RBRACE) {
			if (!lx->depth)
				return lex_error(lx, line, col, "unexpected '%c'", c);
			char want = lx->stack[--lx->depth];
			if (want != (char)c)
				return lex_error(lx, line, col, "unexpected '%c', expected '%c'", c, want);
		}
		push(lx, type, line, col);
		advance_to(lx, p + strlen(operators[i].s));
	}
}

int lexer_run(struct arena *arena, const char *file, const char *src, size_t len,
	      struct lexer_out *out, struct strbuf *err)
{
	/* normalise newlines, drop one trailing newline */
	char *norm = arena_alloc(arena, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (src[i] == '\r') {
			norm[n++] = '\n';
			if (i + 1 < len && src[i + 1] == '\n')
				i++;
		} else {
			norm[n++] = src[i];
		}
	}
	if (n && norm[n - 1] == '\n')
		n--;
	norm[n] = '\0';

	struct lexer lx = { .arena = arena, .file = file, .src = norm, .len = n, .line = 1, .col = 1,
			    .out = out, .err = err };
	int lstrip_next = 0; /* the previous tag ended with "-" */
	while (lx.pos < lx.len) {
		size_t start = lx.pos;
		if (lstrip_next)
			start = skip_space(norm, start, n);
		lstrip_next = 0;
		/* find the next tag opening */
		size_t p = start;
		const char *tag = NULL;
		while ((tag = memchr(norm + p, '{', n - p))) {
			size_t t = (size_t)(tag - norm);
			if (t + 1 < n && (norm[t + 1] == '{' || norm[t + 1] == '%' || norm[t + 1] == '#'))
				break;
			p = t + 1;
		}
		size_t tpos = tag ? (size_t)(tag - norm) : n;
		size_t dend = tpos;
		int strip_before = tag && tpos + 2 < n && norm[tpos + 2] == '-';
		if (strip_before)
			while (dend > start && is_space(norm[dend - 1]))
				dend--;
		advance_to(&lx, start);
		unsigned dline = lx.line, dcol = lx.col;
		push_data(&lx, start, dend, dline, dcol);
		advance_to(&lx, tpos);
		if (!tag)
			break;
		unsigned line = lx.line, col = lx.col;
		char kind = norm[tpos + 1];
		size_t after = tpos + 2;
		if (after < n && (norm[after] == '-' || norm[after] == '+'))
			after++;
		if (kind == '#') {
			/* a comment: up to "#}", which may be "-#}" */
			const char *end = NULL;
			for (size_t q = after; q + 1 < n; q++)
				if (norm[q] == '#' && norm[q + 1] == '}') {
					end = norm + q;
					break;
				}
			if (!end)
				return lex_error(&lx, line, col, "missing end of comment tag");
			size_t q = (size_t)(end - norm);
			lstrip_next = q > after && norm[q - 1] == '-';
			advance_to(&lx, q + 2);
			continue;
		}
		int ls, rs;
		size_t rawend;
		if (kind == '%' && match_rawtag(norm, tpos, n, "raw", &rawend, &ls, &rs)) {
			/* raw: everything up to {% endraw %} is data */
			size_t body = rawend, q = rawend, eend = 0;
			int els = 0, ers = 0;
			while (q < n && !match_rawtag(norm, q, n, "endraw", &eend, &els, &ers))
				q++;
			if (q >= n)
				return lex_error(&lx, line, col, "missing end of raw directive");
			if (rs)
				body = skip_space(norm, body, q);
			size_t bend = q;
			if (els)
				while (bend > body && is_space(norm[bend - 1]))
					bend--;
			advance_to(&lx, body);
			push_data(&lx, body, bend, lx.line, lx.col);
			advance_to(&lx, eend);
			lstrip_next = ers;
			continue;
		}
		push(&lx, kind == '{' ? T_VAR_BEGIN : T_BLOCK_BEGIN, line, col);
		advance_to(&lx, after);
		int rstrip = 0;
		int rc = lex_tag(&lx, kind == '{', &rstrip);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0; /* ended inside a tag: T_EOF pushed */
		lstrip_next = rstrip;
	}
	push(&lx, T_EOF, lx.line, lx.col);
	return 0;
}

const char *token_describe(const struct token *t, char *buf, size_t size)
{
	static const char *const names[] = {
		"end of template", "template data", "begin of print statement",
		"end of print statement", "begin of statement block", "end of statement block",
		"name", "integer", "float", "string",
	};
	static const char *const ops[] = { "+", "-", "*", "/", "//", "%", "**", "~", "[",
					   "]", "(", ")", "{", "}", "==", "!=", "<", "<=",
					   ">", ">=", "=", ".", ":", "|", ",", ";" };
	if (t->type == T_NAME) {
		snprintf(buf, size, "'%s'", t->s);
		return buf;
	}
	if (t->type >= T_ADD) {
		snprintf(buf, size, "'%s'", ops[t->type - T_ADD]);
		return buf;
	}
	return names[t->type];
}
