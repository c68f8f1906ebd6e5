#include "sources/normalize.h"
#include "core/hash.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/sync.h"
#include "warehouse/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- jv: parsing ------------------------------------------------------------ */

#define JV_MAX_DEPTH 512

/* Strings are scanned 16 bytes at a time with SSE2 (always there on
 * x86-64), 8 at a time elsewhere: most of a page is string bytes. */
#if defined(__SSE2__) && !defined(DANGO_JV_PORTABLE)
#include <emmintrin.h>
#define JV_SSE2 1
#endif

/* The parse functions take the position and return the one after what
 * they read (kept in a register, not in the struct), NULL on an error. */
struct jv_parser {
	const char *start, *end;
	struct jv_doc *d;
	struct strbuf *err;
	int depth;
};

static __attribute__((noinline, cold)) const char *jv_fail(struct jv_parser *ps, const char *at, const char *what)
{
	strbuf_addf(ps->err, "invalid JSON at byte %zu: %s", (size_t)(at - ps->start), what);
	return NULL;
}

static inline int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

static inline int is_hex(char c)
{
	return is_digit(c) || (unsigned char)((c | 0x20) - 'a') < 6;
}

static inline const char *skip_ws(const char *p, const char *e)
{
	/* compact JSON has none: one test, most of the time */
	while (p < e && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* The first byte from p on that ends a string's plain run: '"', '\\' or a
 * control byte (below 0x20); e if none. */
static inline const char *string_stop(const char *p, const char *e)
{
#ifdef JV_SSE2
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);
	while (e - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* x <= 0x1f, unsigned: min(x, 0x1f) == x */
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
					   _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
		unsigned bits = (unsigned)_mm_movemask_epi8(hit);
		if (bits)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#else
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	while (e - p >= 8) {
		uint64_t w, q, b;
		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		/* a zero byte in q or b, or a byte of w below 0x20 */
		if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) | ((w - ones * 0x20) & ~w & highs))
			break;
		p += 8;
	}
#endif
	while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

/* The rest of a string after a backslash or a control byte at p, the
 * string's opening quote before it: the closing quote, or NULL. */
static __attribute__((noinline)) const char *string_escapes(struct jv_parser *ps, const char *p, unsigned char *esc)
{
	const char *e = ps->end;
	for (;;) {
		if (p >= e)
			return jv_fail(ps, p, "unterminated string");
		if (*p == '"')
			return p;
		if (*p != '\\')
			return jv_fail(ps, p, "control character in string");
		*esc = 1;
		if (p + 1 >= e)
			return jv_fail(ps, p, "unterminated string");
		char c = p[1];
		if (c == 'u') {
			for (int i = 2; i < 6; i++)
				if (p + i >= e || !is_hex(p[i]))
					return jv_fail(ps, p, "bad \\u escape");
			p += 6;
		} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
			p += 2;
		} else {
			return jv_fail(ps, p, "bad escape");
		}
		p = string_stop(p, e);
	}
}

/* A string at p (on the opening quote): its raw span and escapes. */
static inline const char *parse_string(struct jv_parser *ps, const char *p, const char **s, size_t *n,
				       unsigned char *esc)
{
	const char *q = string_stop(p + 1, ps->end);
	*esc = 0;
	if (q >= ps->end || *q != '"') {
		q = string_escapes(ps, q, esc);
		if (!q)
			return NULL;
	}
	*s = p + 1;
	*n = (size_t)(q - (p + 1));
	return q + 1;
}

/* true, false or null at p */
static inline const char *parse_word(struct jv_parser *ps, const char *p, struct jv *out, const char *word, size_t n,
				     enum jv_type type)
{
	if ((size_t)(ps->end - p) < n || memcmp(p, word, n))
		return jv_fail(ps, p, "unexpected character");
	out->type = type;
	out->len = n;
	return p + n;
}

static inline const char *digits_end(const char *p, const char *e)
{
	while (p < e && is_digit(*p))
		p++;
	return p;
}

static inline const char *parse_number(struct jv_parser *ps, const char *start, struct jv *out)
{
	const char *p = start, *e = ps->end;
	int is_int = 1;
	if (*p == '-')
		p++;
	if (p >= e || !is_digit(*p))
		return jv_fail(ps, start, "unexpected character");
	p = digits_end(p, e);
	if (p < e && *p == '.') {
		is_int = 0;
		p++;
		if (p >= e || !is_digit(*p))
			return jv_fail(ps, p, "bad number");
		p = digits_end(p, e);
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		is_int = 0;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p))
			return jv_fail(ps, p, "bad number");
		p = digits_end(p, e);
	}
	out->type = JV_NUM;
	out->is_int = (unsigned char)is_int;
	out->len = (size_t)(p - start);
	return p;
}

/* Values are parsed into d->stack[slot]: a container's children go on the
 * stack above it, and are copied into the arena, all at once, when it
 * closes. The stack may move as it grows: hold slots, not pointers. */
static const char *parse_container(struct jv_parser *ps, const char *p, size_t slot);

/* Any value at p (no whitespace before it) into d->stack[slot]. */
static inline const char *parse_value(struct jv_parser *ps, const char *p, size_t slot)
{
	if (p >= ps->end)
		return jv_fail(ps, p, "unexpected end of input");
	struct jv *out = &ps->d->stack[slot];
	out->s = p;
	out->is_int = out->esc = 0;
	out->n = 0;
	out->kids = NULL;
	switch (*p) {
	case '"':
		out->type = JV_STR;
		return parse_string(ps, p, &out->s, &out->len, &out->esc);
	case '{':
	case '[':
		return parse_container(ps, p, slot);
	case 't':
		return parse_word(ps, p, out, "true", 4, JV_TRUE);
	case 'f':
		return parse_word(ps, p, out, "false", 5, JV_FALSE);
	case 'n':
		return parse_word(ps, p, out, "null", 4, JV_NULL);
	default:
		return parse_number(ps, p, out);
	}
}

static void take_kids(struct jv_doc *d, struct jv *out, size_t base)
{
	out->n = d->nr - base;
	out->kids = NULL;
	if (out->n) {
		out->kids = arena_alloc_raw(&d->arena, out->n * sizeof(*out->kids));
		memcpy(out->kids, d->stack + base, out->n * sizeof(*out->kids));
	}
	d->nr = base;
}

static const char *parse_container(struct jv_parser *ps, const char *start, size_t slot)
{
	struct jv_doc *d = ps->d;
	const char *e = ps->end, *p;
	const int obj = *start == '{';
	const char close = obj ? '}' : ']';
	size_t base = d->nr;
	if (++ps->depth > JV_MAX_DEPTH)
		return jv_fail(ps, start, "nested too deeply");
	p = skip_ws(start + 1, e);
	if (p < e && *p == close) {
		p++;
	} else {
		for (;;) {
			ALLOC_GROW(d->stack, d->nr + 1, d->alloc);
			size_t k = d->nr++;
			struct jv *kid = &d->stack[k];
			p = skip_ws(p, e);
			if (obj) {
				const char *key;
				size_t kn;
				if (p >= e || *p != '"')
					return jv_fail(ps, p, "expected a key");
				if (!(p = parse_string(ps, p, &key, &kn, &kid->kesc)))
					return NULL;
				kid->key = key;
				kid->klen = (uint32_t)kn;
				p = skip_ws(p, e);
				if (p >= e || *p != ':')
					return jv_fail(ps, p, "expected ':'");
				p++;
			} else {
				kid->key = NULL;
				kid->klen = 0;
				kid->kesc = 0;
			}
			if (!(p = parse_value(ps, skip_ws(p, e), k)))
				return NULL;
			p = skip_ws(p, e);
			if (p < e && *p == ',') {
				p++;
				continue;
			}
			if (p < e && *p == close) {
				p++;
				break;
			}
			if (p >= e)
				return jv_fail(ps, p, "unexpected end of input");
			return jv_fail(ps, p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	struct jv *out = &d->stack[slot];
	take_kids(d, out, base);
	out->type = obj ? JV_OBJ : JV_ARR;
	out->s = start;
	out->len = (size_t)(p - start);
	ps->depth--;
	return p;
}

int jv_parse(struct jv_doc *d, const char *text, size_t len, struct strbuf *err)
{
	struct jv_parser ps = { text, text + len, d, err, 0 };
	const char *p;
	/* the last page's memory serves this one */
	arena_reset(&d->arena);
	d->root = NULL;
	ALLOC_GROW(d->stack, 1, d->alloc);
	d->nr = 1;
	memset(d->stack, 0, sizeof(*d->stack));
	if (!(p = parse_value(&ps, skip_ws(text, ps.end), 0)))
		return -1;
	p = skip_ws(p, ps.end);
	if (p != ps.end) {
		jv_fail(&ps, p, "trailing characters after the value");
		return -1;
	}
	d->root = arena_alloc_raw(&d->arena, sizeof(*d->root));
	*d->root = d->stack[0];
	return 0;
}

void jv_doc_release(struct jv_doc *d)
{
	arena_release(&d->arena);
	free(d->stack);
	memset(d, 0, sizeof(*d));
}

static int key_eq(const struct jv *k, const char *key, size_t n)
{
	if (!k->kesc)
		return k->klen == n && !memcmp(k->key, key, n);
	struct strbuf sb = STRBUF_INIT;
	jv_unescape(&sb, k->key, k->klen);
	int eq = sb.len == n && !memcmp(sb.buf, key, n);
	strbuf_release(&sb);
	return eq;
}

static const struct jv *get_n(const struct jv *obj, const char *key, size_t n)
{
	if (!obj || obj->type != JV_OBJ)
		return NULL;
	/* the last of duplicate keys wins, as in most parsers */
	for (size_t i = obj->n; i-- > 0;)
		if (key_eq(&obj->kids[i], key, n))
			return &obj->kids[i];
	return NULL;
}

const struct jv *jv_get(const struct jv *obj, const char *key)
{
	return get_n(obj, key, strlen(key));
}

const struct jv *jv_path(const struct jv *v, const char *path)
{
	if (!path || !*path || !strcmp(path, "$"))
		return v;
	if (!strncmp(path, "$.", 2))
		path += 2;
	while (v && *path) {
		/* a key with dots in it ("@odata.nextLink") */
		const struct jv *whole = strchr(path, '.') ? jv_get(v, path) : NULL;
		if (whole)
			return whole;
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		const struct jv *next = get_n(v, path, n);
		if (!next && v->type == JV_ARR) {
			char *end;
			long idx = strtol(path, &end, 10);
			if (end == path + n && idx >= 0 && (size_t)idx < v->n)
				next = &v->kids[idx];
			else if (end == path + n && idx < 0 && (size_t)-idx <= v->n)
				next = &v->kids[v->n + idx];
		}
		v = next;
		path += n + (dot ? 1 : 0);
	}
	return v;
}

static void add_utf8(struct strbuf *out, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_addch(out, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(out, 0xc0 | (cp >> 6));
		strbuf_addch(out, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		strbuf_addch(out, 0xe0 | (cp >> 12));
		strbuf_addch(out, 0x80 | ((cp >> 6) & 0x3f));
		strbuf_addch(out, 0x80 | (cp & 0x3f));
	} else {
		strbuf_addch(out, 0xf0 | (cp >> 18));
		strbuf_addch(out, 0x80 | ((cp >> 12) & 0x3f));
		strbuf_addch(out, 0x80 | ((cp >> 6) & 0x3f));
		strbuf_addch(out, 0x80 | (cp & 0x3f));
	}
}

void jv_unescape(struct strbuf *out, const char *s, size_t n)
{
	const char *e = s + n;
	while (s < e) {
		if (*s != '\\') {
			strbuf_addch(out, *s++);
			continue;
		}
		if (s + 1 >= e)
			break;
		char c = s[1];
		s += 2;
		switch (c) {
		case 'b': strbuf_addch(out, '\b'); break;
		case 'f': strbuf_addch(out, '\f'); break;
		case 'n': strbuf_addch(out, '\n'); break;
		case 'r': strbuf_addch(out, '\r'); break;
		case 't': strbuf_addch(out, '\t'); break;
		case 'u': {
			if (e - s < 4)
				return;
			unsigned cp = (unsigned)strtoul((char[5]){ s[0], s[1], s[2], s[3], 0 }, NULL, 16);
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && e - s >= 6 && s[0] == '\\' && s[1] == 'u') {
				unsigned lo = (unsigned)strtoul((char[5]){ s[2], s[3], s[4], s[5], 0 }, NULL, 16);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				}
			}
			add_utf8(out, cp);
			break;
		}
		default: strbuf_addch(out, c); break;
		}
	}
}

int jv_text(const struct jv *v, struct strbuf *out)
{
	if (!v)
		return -1;
	switch (v->type) {
	case JV_STR:
		if (v->esc)
			jv_unescape(out, v->s, v->len);
		else
			strbuf_add(out, v->s, v->len);
		return 0;
	case JV_NUM:
	case JV_TRUE:
	case JV_FALSE:
		strbuf_add(out, v->s, v->len);
		return 0;
	default:
		return -1;
	}
}

void jv_raw(const struct jv *v, const char **p, size_t *n)
{
	if (v->type == JV_STR) {
		*p = v->s - 1;
		*n = v->len + 2;
	} else {
		*p = v->s;
		*n = v->len;
	}
}

/* ---- types ---------------------------------------------------------------------- */

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int norm_is_timestamp(const char *s, size_t n)
{
	/* YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH[:MM]] as dlt's iso_timestamp detection
	 * accepts, and only what DuckDB's cast to TIMESTAMPTZ then takes (a
	 * zone needs the seconds, no 31st of April, no leap second, an upper
	 * case Z): anything else stays text rather than failing the load. A
	 * bare date stays text too. */
	static const int month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (n < 16 || n > 40 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2))
		return 0;
	int year = num2(s) * 100 + num2(s + 2), month = num2(s + 5), day = num2(s + 8);
	if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || num2(s + 11) > 23 ||
	    num2(s + 14) > 59)
		return 0;
	if (month == 2 && day == 29 && (year % 4 || (year % 100 == 0 && year % 400)))
		return 0;
	size_t i = 16;
	if (i == n)
		return 1;
	if (s[i] == ':') {
		if (i + 3 > n || !digits(s + i + 1, 2) || num2(s + i + 1) > 59)
			return 0;
		i += 3;
		if (i < n && s[i] == '.') {
			i++;
			size_t f = i;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i == f || i - f > 9)
				return 0;
		}
	} else {
		return 0;
	}
	if (i == n)
		return 1;
	if (s[i] == 'Z')
		return i + 1 == n;
	if (s[i] == '+' || s[i] == '-') {
		i++;
		if (i + 2 > n || !digits(s + i, 2))
			return 0;
		i += 2;
		if (i == n)
			return 1;
		if (s[i] == ':')
			i++;
		return i + 2 == n && digits(s + i, 2);
	}
	return 0;
}

enum norm_type norm_value_type(const struct jv *v)
{
	switch (v->type) {
	case JV_TRUE:
	case JV_FALSE:
		return NT_BOOL;
	case JV_NUM:
		/* past 18 digits a BIGINT may overflow */
		return v->is_int && v->len <= 18 ? NT_BIGINT : NT_DOUBLE;
	case JV_STR:
		return !v->esc && norm_is_timestamp(v->s, v->len) ? NT_TIMESTAMP : NT_TEXT;
	case JV_ARR:
	case JV_OBJ:
		return NT_JSON;
	default:
		return NT_NONE;
	}
}

static enum norm_type widen(enum norm_type a, enum norm_type b)
{
	if (a == b || b == NT_NONE)
		return a;
	if (a == NT_NONE)
		return b;
	if ((a == NT_BIGINT && b == NT_DOUBLE) || (a == NT_DOUBLE && b == NT_BIGINT))
		return NT_DOUBLE;
	return NT_TEXT;
}

const char *norm_type_sql(enum norm_type t)
{
	switch (t) {
	case NT_BOOL: return "BOOLEAN";
	case NT_BIGINT: return "BIGINT";
	case NT_DOUBLE: return "DOUBLE";
	case NT_TIMESTAMP: return "TIMESTAMP WITH TIME ZONE";
	case NT_JSON: return "JSON";
	case NT_DATE: return "DATE";
	default: return "VARCHAR";
	}
}

/* ---- normalizer ------------------------------------------------------------------ */

/* A path seen in a table: (the entry of the enclosing object, raw key). */
struct norm_entry {
	int parent;            /* entry index of the enclosing object, -1 at the top */
	char *key;             /* raw key bytes */
	size_t klen;
	uint64_t hash;
	char *norm;            /* the normalized column name (the prefix of nested ones) */
	int col;               /* column index, -1 until a scalar is seen */
	int child;             /* child table index, -1 until a list is seen */
	int declared;          /* DECL_*: what a SCHEMA said the field is */
	/* Records mostly carry the same keys in the same order: the entry
	 * that came next after this one last time, and (of an object) its
	 * first, tried before the hash lookup. -1: none yet. */
	int next, first_kid;
};

enum { DECL_NONE, DECL_OBJECT, DECL_LIST };

/* Keys are short: a call to memcmp costs more than comparing them here,
 * in two overlapping words (their lengths repeat from record to record,
 * so the branches are predicted). */
static inline int same_key(const char *a, const char *b, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a1, a2, b1, b2;
		memcpy(&a1, a, 8);
		memcpy(&b1, b, 8);
		memcpy(&a2, a + n - 8, 8);
		memcpy(&b2, b + n - 8, 8);
		return !((a1 ^ b1) | (a2 ^ b2));
	}
	if (n >= 4 && n < 8) {
		uint32_t a1, a2, b1, b2;
		memcpy(&a1, a, 4);
		memcpy(&b1, b, 4);
		memcpy(&a2, a + n - 4, 4);
		memcpy(&b2, b + n - 4, 4);
		return !((a1 ^ b1) | (a2 ^ b2));
	}
	if (n < 4)
		return !n || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
	return !memcmp(a, b, n);
}

static uint64_t entry_hash(int parent, const char *key, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(parent + 2) * 0x9E3779B97F4A7C15ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void index_rebuild(struct norm_table *t)
{
	free(t->index);
	t->index_size = t->index_size ? t->index_size * 2 : 64;
	t->index = xmalloc(t->index_size * sizeof(*t->index));
	memset(t->index, 0xff, t->index_size * sizeof(*t->index));
	for (size_t i = 0; i < t->nr_entries; i++) {
		size_t slot = t->entries[i].hash & (t->index_size - 1);
		while (t->index[slot] >= 0)
			slot = (slot + 1) & (t->index_size - 1);
		t->index[slot] = (int)i;
	}
}

static int col_named(const struct norm_table *t, const char *name)
{
	for (size_t i = 0; i < t->nr_cols; i++)
		if (!strcmp(t->cols[i].name, name))
			return (int)i;
	return -1;
}

/* The entry for (parent, key) in table t, created on first sight. */
static struct norm_entry *entry_for(struct norm_table *t, int parent, const char *key, size_t klen, int kesc)
{
	uint64_t h = entry_hash(parent, key, klen);
	if (t->index_size) {
		size_t slot = h & (t->index_size - 1);
		while (t->index[slot] >= 0) {
			struct norm_entry *e = &t->entries[t->index[slot]];
			if (e->hash == h && e->parent == parent && e->klen == klen && same_key(e->key, key, klen))
				return e;
			slot = (slot + 1) & (t->index_size - 1);
		}
	}
	ALLOC_GROW(t->entries, t->nr_entries + 1, t->alloc_entries);
	struct norm_entry *e = &t->entries[t->nr_entries++];
	e->parent = parent;
	e->key = xstrndup(key, klen);
	e->klen = klen;
	e->hash = h;
	e->col = e->child = -1;
	e->next = e->first_kid = -1;
	e->declared = DECL_NONE;
	struct strbuf name = STRBUF_INIT, raw = STRBUF_INIT;
	if (parent >= 0) {
		strbuf_addstr(&name, t->entries[parent].norm);
		strbuf_addstr(&name, "__");
	}
	if (kesc)
		jv_unescape(&raw, key, klen);
	else
		strbuf_add(&raw, key, klen);
	/* a top-level field named like the engine's columns (_dlt_id, _dlt_load_id)
	 * is data: it gets a name of its own */
	if (parent < 0 && sync_column_name(&name, raw.buf))
		strvec_pushf(&t->renamed, "field '%s' of %s is loaded as column '%s' (Dango uses '%s' for its own column)",
			     raw.buf, t->name, name.buf, raw.buf);
	else if (parent >= 0)
		sync_normalize_name(&name, raw.buf);
	e->norm = strbuf_detach(&name, NULL);
	strbuf_release(&raw);
	if (t->nr_entries * 2 > t->index_size) {
		index_rebuild(t);
	} else {
		size_t slot = h & (t->index_size - 1);
		while (t->index[slot] >= 0)
			slot = (slot + 1) & (t->index_size - 1);
		t->index[slot] = (int)(t->nr_entries - 1);
	}
	return e;
}

static int add_col(struct norm_table *t, const char *name)
{
	struct strbuf n = STRBUF_INIT;
	strbuf_addstr(&n, name);
	/* two keys that normalize alike ("orderId", "order_id") get two columns */
	for (int k = 2; col_named(t, n.buf) >= 0; k++) {
		strbuf_reset(&n);
		strbuf_addf(&n, "%s_%d", name, k);
	}
	ALLOC_GROW(t->cols, t->nr_cols + 1, t->alloc_cols);
	memset(&t->cols[t->nr_cols], 0, sizeof(t->cols[t->nr_cols]));
	t->cols[t->nr_cols].name = strbuf_detach(&n, NULL);
	t->cols[t->nr_cols].type = NT_NONE;
	return (int)t->nr_cols++;
}

static uint64_t rng_next(uint64_t s[2])
{
	/* xorshift128+ */
	uint64_t x = s[0];
	const uint64_t y = s[1];
	s[0] = y;
	x ^= x << 23;
	s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return s[1] + y;
}

static void format_uuid(char out[37], uint64_t a, uint64_t b)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char bytes[16];
	for (int i = 0; i < 8; i++) {
		bytes[i] = (unsigned char)(a >> (56 - 8 * i));
		bytes[8 + i] = (unsigned char)(b >> (56 - 8 * i));
	}
	bytes[6] = (bytes[6] & 0x0f) | 0x40; /* version 4 */
	bytes[8] = (bytes[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[bytes[i] >> 4];
		out[o++] = hex[bytes[i] & 15];
	}
	out[o] = '\0';
}

static void seeded_uuid(char out[37], const char *seed, size_t n)
{
	struct hash64 h1, h2;
	hash64_init(&h1);
	hash64_init(&h2);
	hash64_update(&h1, seed, n);
	hash64_update(&h2, "dango-uuid:", 11);
	hash64_update(&h2, seed, n);
	format_uuid(out, hash64_final(&h1), hash64_final(&h2));
}

void normalizer_init(struct normalizer *n, const char *dir)
{
	struct timeval tv;
	memset(n, 0, sizeof(*n));
	n->dir = xstrdup(dir);
	/* small enough that loading starts early and the last file loads fast */
	n->rotate_bytes = 32u << 20;
	gettimeofday(&tv, NULL);
	n->rng[0] = 0x9E3779B97F4A7C15ULL ^ (uint64_t)tv.tv_sec * 1000003u ^ (uint64_t)tv.tv_usec;
	n->rng[1] = 0xD1B54A32D192ED03ULL ^ (uint64_t)getpid() << 20 ^ (uint64_t)(uintptr_t)n;
	/* ids, not secrets: the clock and pid above where the kernel gives nothing */
	uint64_t r[2];
	if (random_bytes(r, sizeof(r)) == 0) {
		n->rng[0] ^= r[0];
		n->rng[1] ^= r[1];
	}
	if (!n->rng[0] && !n->rng[1])
		n->rng[0] = 1;
}

static void table_release(struct norm_table *t)
{
	free(t->name);
	strvec_clear(&t->renamed);
	for (size_t i = 0; i < t->nr_cols; i++)
		free(t->cols[i].name);
	free(t->cols);
	for (size_t i = 0; i < t->nr_entries; i++) {
		free(t->entries[i].key);
		free(t->entries[i].norm);
	}
	free(t->entries);
	free(t->index);
	strbuf_release(&t->buf);
	if (t->fp)
		fclose(t->fp);
	strvec_clear(&t->files);
	strvec_clear(&t->file_rows);
}

void normalizer_release(struct normalizer *n)
{
	for (size_t i = 0; i < n->nr_tables; i++)
		table_release(&n->tables[i]);
	free(n->tables);
	free(n->dir);
	jv_doc_release(&n->extra_doc);
	memset(n, 0, sizeof(*n));
}

int normalizer_table(struct normalizer *n, const char *name, int parent)
{
	for (size_t i = 0; i < n->nr_tables; i++)
		if (!strcmp(n->tables[i].name, name))
			return (int)i;
	ALLOC_GROW(n->tables, n->nr_tables + 1, n->alloc_tables);
	struct norm_table *t = &n->tables[n->nr_tables];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->parent = parent;
	t->root_first = -1;
	strbuf_init(&t->buf, 0);
	return (int)n->nr_tables++;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The end of a spool file: its row count, so that a reader knows it whole. */
static int write_end(struct norm_table *t)
{
	unsigned char end[12];
	put_u32(end, SPOOL_END);
	put_u32(end + 4, (uint32_t)t->file_rows_now);
	put_u32(end + 8, (uint32_t)((uint64_t)t->file_rows_now >> 32));
	return fwrite(end, 1, sizeof(end), t->fp) == sizeof(end) ? 0 : -1;
}

static int flush_table(struct normalizer *n, struct norm_table *t, int close_file, struct strbuf *err)
{
	if (t->buf.len) {
		if (!t->fp) {
			struct strbuf path = STRBUF_INIT;
			strbuf_addf(&path, "%s/%s.%u.spool", n->dir, t->name, n->seq++);
			t->fp = fopen(path.buf, "wb");
			if (!t->fp) {
				strbuf_addf(err, "cannot write spool file %s: %s", path.buf, strerror(errno));
				strbuf_release(&path);
				return -1;
			}
			strvec_push(&t->files, path.buf);
			strbuf_release(&path);
			t->file_bytes = SPOOL_MAGIC_LEN;
			if (fwrite(SPOOL_MAGIC, 1, SPOOL_MAGIC_LEN, t->fp) != SPOOL_MAGIC_LEN) {
				strbuf_addf(err, "cannot write spool file %s: %s", t->files.v[t->files.nr - 1],
					    strerror(errno));
				return -1;
			}
		}
		if (fwrite(t->buf.buf, 1, t->buf.len, t->fp) != t->buf.len) {
			strbuf_addf(err, "cannot write spool file %s: %s", t->files.v[t->files.nr - 1], strerror(errno));
			return -1;
		}
		t->file_bytes += t->buf.len;
		strbuf_reset(&t->buf);
	}
	if (t->fp && (close_file || t->file_bytes >= n->rotate_bytes)) {
		t->rows_to_file = 0;
		int bad = write_end(t) < 0;
		bad |= fclose(t->fp) != 0;
		t->fp = NULL;
		strvec_pushf(&t->file_rows, "%lld", (long long)t->file_rows_now);
		t->file_rows_now = 0;
		if (bad) {
			strbuf_addf(err, "cannot write spool file %s: %s", t->files.v[t->files.nr - 1], strerror(errno));
			return -1;
		}
		if (n->on_file)
			n->on_file(n->on_file_data, (int)(t - n->tables), t->files.nr - 1);
	}
	return 0;
}

struct writer {
	struct normalizer *n;
	int max_nesting;
	int seeded;
	struct strbuf *err;
};

/* A row's _dlt_id is made and written only when needed (a child row points
 * at it, or it is seeded for merges): otherwise the engine makes one, and
 * the spool files stay smaller. */
struct row_id {
	char id[37];
	int have;
	const char *seed;
	size_t seed_len;
};

static const char *row_id_get(struct normalizer *n, struct row_id *r)
{
	if (!r->have) {
		if (r->seed) {
			seeded_uuid(r->id, r->seed, r->seed_len);
		} else {
			uint64_t a = rng_next(n->rng), b = rng_next(n->rng);
			format_uuid(r->id, a, b);
		}
		r->have = 1;
	}
	return r->id;
}

static int write_row(struct writer *w, int ti, const struct jv *rec, const char *parent_id, int64_t list_idx,
		     const struct norm_extra *extra, size_t nr_extra, const char *id_seed, size_t seed_len, int depth);

static const char *jv_kind(const struct jv *v)
{
	static const char *const names[] = { "null", "false", "true", "a number", "a string", "a list", "an object" };
	return names[v->type];
}

static int is_date(const char *s, size_t n)
{
	return n == 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2);
}

/* Does v fit a declared column's type? */
static int fits(enum norm_type type, const struct jv *v)
{
	switch (type) {
	case NT_BOOL: return v->type == JV_TRUE || v->type == JV_FALSE;
	case NT_BIGINT: return v->type == JV_NUM && v->is_int;
	case NT_DOUBLE: return v->type == JV_NUM;
	case NT_TIMESTAMP: return v->type == JV_STR && (norm_is_timestamp(v->s, v->len) || is_date(v->s, v->len));
	case NT_DATE: return v->type == JV_STR && is_date(v->s, v->len);
	case NT_TEXT: return v->type != JV_ARR && v->type != JV_OBJ;
	default: return 1;
	}
}

static const char *type_words(enum norm_type t)
{
	switch (t) {
	case NT_BOOL: return "a boolean";
	case NT_BIGINT: return "an integer";
	case NT_DOUBLE: return "a number";
	case NT_TIMESTAMP: return "a date-time";
	case NT_DATE: return "a date";
	default: return "a string";
	}
}

static int misfit_error(struct strbuf *err, const struct norm_entry *e, const struct jv *v, const char *should)
{
	const char *raw;
	size_t n;
	jv_raw(v, &raw, &n);
	strbuf_addf(err, "field '%s' is %.*s%s (%s), not %s as its SCHEMA says", e->norm, (int)(n > 60 ? 60 : n), raw,
		    n > 60 ? "..." : "", jv_kind(v), should);
	return -1;
}

/* ---- spool rows (warehouse/spool.h) ---- */

static size_t varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* v at p, which has room for 10 bytes; the bytes written */
static size_t varint_at(char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (char)v;
	return n;
}

/* room for `extra` more bytes without a call on the hot path */
static inline void room(struct strbuf *b, size_t extra)
{
	if (b->alloc - b->len <= extra)
		strbuf_grow(b, extra);
}

static void put_varint(struct strbuf *b, uint64_t v)
{
	room(b, 10);
	b->len += varint_at(b->buf + b->len, v);
	b->buf[b->len] = '\0';
}

/* v in exactly `width` bytes at p (continuation bits on the padding) */
static void put_varint_at(char *p, uint64_t v, size_t width)
{
	for (size_t i = 0; i + 1 < width; i++) {
		p[i] = (char)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	p[width - 1] = (char)v;
}

static void put_bytes(struct strbuf *b, uint64_t tag, const char *s, size_t n)
{
	room(b, n + 20);
	size_t len = b->len;
	len += varint_at(b->buf + len, tag);
	len += varint_at(b->buf + len, n);
	memcpy(b->buf + len, s, n);
	b->len = len + n;
	b->buf[b->len] = '\0';
}

/* A string's field, unescaped: its size is reserved at the raw text's
 * width, which the unescaped text never exceeds. */
static void put_string(struct strbuf *b, uint64_t tag, const struct jv *v)
{
	if (!v->esc) {
		put_bytes(b, tag, v->s, v->len);
		return;
	}
	size_t width = varint_size(v->len);
	put_varint(b, tag);
	strbuf_addchars(b, 0, width);
	size_t at = b->len;
	jv_unescape(b, v->s, v->len);
	put_varint_at(b->buf + at - width, b->len - at, width);
}

/* One value of column col (a file column, SPOOL_COL_FIRST on) into b;
 * whether it was a string. */
static int put_jv(struct strbuf *b, size_t col, const struct jv *v)
{
	uint64_t tag = (uint64_t)col << 3;
	const char *raw;
	size_t n;
	switch (v->type) {
	case JV_TRUE:
		put_varint(b, tag | SPOOL_TRUE);
		return 0;
	case JV_FALSE:
		put_varint(b, tag | SPOOL_FALSE);
		return 0;
	case JV_NUM:
		put_bytes(b, tag | (v->is_int ? SPOOL_INT : SPOOL_NUM), v->s, v->len);
		return 0;
	case JV_STR:
		put_string(b, tag | SPOOL_STR, v);
		return 1;
	case JV_ARR:
	case JV_OBJ:
		jv_raw(v, &raw, &n);
		put_bytes(b, tag | SPOOL_JSON, raw, n);
		return 0;
	default:
		return 1; /* null: no field */
	}
}

static void put_value(struct norm_table *t, struct norm_entry *e, const struct jv *v, enum norm_type type)
{
	if (e->col < 0)
		e->col = add_col(t, e->norm);
	struct norm_col *c = &t->cols[e->col];
	if (!c->fixed)
		c->type = widen(c->type, type);
	if (!put_jv(&t->buf, (size_t)e->col + SPOOL_COL_FIRST, v))
		c->nonstr = 1;
}

/* The fields of obj into table ti's current line, below entry `prefix`. */
static int flatten(struct writer *w, int ti, int prefix, const struct jv *obj, struct row_id *rid, int depth)
{
	int guess = prefix >= 0 ? w->n->tables[ti].entries[prefix].first_kid : w->n->tables[ti].root_first;
	int prev = -1;
	for (size_t i = 0; i < obj->n; i++) {
		const struct jv *v = &obj->kids[i];
		if (v->type == JV_NULL)
			continue;
		struct norm_table *t = &w->n->tables[ti];
		struct norm_entry *e = NULL;
		if (guess >= 0) {
			struct norm_entry *g = &t->entries[guess];
			if (g->parent == prefix && g->klen == v->klen && same_key(g->key, v->key, v->klen))
				e = g;
		}
		if (!e)
			e = entry_for(t, prefix, v->key, v->klen, v->kesc);
		int idx = (int)(e - t->entries);
		if (prev >= 0)
			t->entries[prev].next = idx;
		else if (prefix >= 0)
			t->entries[prefix].first_kid = idx;
		else
			t->root_first = idx;
		prev = idx;
		guess = e->next;
		if (e->col >= 0 && t->cols[e->col].fixed) {
			/* a declared column: the value must be what the SCHEMA says */
			enum norm_type ft = t->cols[e->col].type;
			if (!fits(ft, v))
				return misfit_error(w->err, e, v, type_words(ft));
			put_value(t, e, v, ft);
			continue;
		}
		if (e->declared == DECL_OBJECT && v->type != JV_OBJ)
			return misfit_error(w->err, e, v, "an object");
		if (e->declared == DECL_LIST && v->type != JV_ARR)
			return misfit_error(w->err, e, v, "a list");
		if (v->type == JV_OBJ && depth < w->max_nesting) {
			int eidx = (int)(e - t->entries);
			if (flatten(w, ti, eidx, v, rid, depth + 1) < 0)
				return -1;
		} else if (v->type == JV_ARR && depth < w->max_nesting) {
			if (e->child < 0) {
				struct strbuf name = STRBUF_INIT;
				strbuf_addf(&name, "%s__%s", t->name, e->norm);
				int c = normalizer_table(w->n, name.buf, ti);
				strbuf_release(&name);
				/* the table array may have moved */
				t = &w->n->tables[ti];
				e = entry_for(t, prefix, v->key, v->klen, v->kesc);
				e->child = c;
			}
			int child = e->child;
			const char *id = v->n ? row_id_get(w->n, rid) : NULL;
			for (size_t k = 0; k < v->n; k++) {
				char seed[80];
				int sn = snprintf(seed, sizeof(seed), "%s/%d/%zu", id, child, k);
				if (write_row(w, child, &v->kids[k], id, (int64_t)k, NULL, 0, w->seeded ? seed : NULL,
					      (size_t)sn, depth + 1) < 0)
					return -1;
			}
		} else {
			put_value(t, e, v, norm_value_type(v));
		}
	}
	return 0;
}

/* A field copied from elsewhere (struct norm_extra): its raw JSON parsed,
 * so that it is written as the record's own fields are. */
static int put_extra(struct normalizer *n, struct norm_table *t, const struct norm_extra *x, struct strbuf *err)
{
	int c = col_named(t, x->name);
	if (c < 0)
		c = add_col(t, x->name);
	t->cols[c].type = widen(t->cols[c].type, x->type);
	struct strbuf e = STRBUF_INIT;
	if (jv_parse(&n->extra_doc, x->raw, x->len, &e) < 0) {
		strbuf_addf(err, "field '%s' of %s: %s", x->name, t->name, e.buf);
		strbuf_release(&e);
		return -1;
	}
	strbuf_release(&e);
	if (!put_jv(&t->buf, (size_t)c + SPOOL_COL_FIRST, n->extra_doc.root))
		t->cols[c].nonstr = 1;
	return 0;
}

/* A row that failed half-way is taken back, so that its table's file
 * holds whole rows only (its child rows written before are whole). */
static int unwrite_row(struct normalizer *n, int ti, size_t line)
{
	strbuf_setlen(&n->tables[ti].buf, line);
	return -1;
}

static int write_row(struct writer *w, int ti, const struct jv *rec, const char *parent_id, int64_t list_idx,
		     const struct norm_extra *extra, size_t nr_extra, const char *id_seed, size_t seed_len, int depth)
{
	struct normalizer *n = w->n;
	struct norm_table *t = &n->tables[ti];
	struct row_id rid = { .seed = id_seed, .seed_len = seed_len };
	struct strbuf *b = &t->buf;
	/* the row's size, known at its end */
	size_t line = b->len;
	strbuf_addchars(b, 0, 4);
	if (parent_id) {
		put_bytes(b, SPOOL_COL_PARENT_ID << 3 | SPOOL_STR, parent_id, strlen(parent_id));
		unsigned char idx[8];
		for (int i = 0; i < 8; i++)
			idx[i] = (unsigned char)((uint64_t)list_idx >> (8 * i));
		put_varint(b, SPOOL_COL_LIST_IDX << 3 | SPOOL_I64);
		strbuf_add(b, idx, 8);
	}
	for (size_t i = 0; i < nr_extra; i++)
		if (put_extra(n, t, &extra[i], w->err) < 0)
			return unwrite_row(n, ti, line);
	if (rec->type == JV_OBJ) {
		if (flatten(w, ti, -1, rec, &rid, depth) < 0)
			return unwrite_row(n, ti, line);
	} else if (rec->type != JV_NULL) {
		/* a list of scalars: each item is a row with one column, `value`;
		 * a list in a list goes one level down, under `value` */
		struct jv item = *rec, wrap = { .type = JV_OBJ, .n = 1 };
		item.key = "value";
		item.klen = 5;
		item.kesc = 0;
		wrap.kids = &item;
		if (flatten(w, ti, -1, &wrap, &rid, depth) < 0)
			return unwrite_row(n, ti, line);
	}
	t = &n->tables[ti];
	b = &t->buf;
	if (id_seed)
		row_id_get(n, &rid);
	if (rid.have) {
		put_bytes(b, SPOOL_COL_ID << 3 | SPOOL_STR, rid.id, 36);
		t->ids = 1;
	}
	if (b->len - line - 4 >= SPOOL_END) {
		strbuf_addf(w->err, "a row of %s is larger than 4 GB", t->name);
		return unwrite_row(n, ti, line);
	}
	put_u32((unsigned char *)b->buf + line, (uint32_t)(b->len - line - 4));
	if (b->len - line > t->max_row)
		t->max_row = b->len - line;
	t->rows++;
	t->file_rows_now++;
	if (n->rotate_rows && ++t->rows_to_file >= n->rotate_rows)
		return flush_table(n, t, 1, w->err);
	if (t->buf.len >= (1u << 20))
		return flush_table(n, t, 0, w->err);
	return 0;
}

int normalizer_add(struct normalizer *n, int t, const struct jv *rec, const struct norm_extra *extra,
		   size_t nr_extra, const char *id_seed, int max_nesting, struct strbuf *err)
{
	struct writer w = { n, max_nesting < 0 ? 1000 : max_nesting, id_seed != NULL, err };
	return write_row(&w, t, rec, NULL, 0, extra, nr_extra, id_seed, id_seed ? strlen(id_seed) : 0, 0);
}

int normalizer_declare_object(struct normalizer *n, int t, int parent, const char *key)
{
	struct norm_entry *e = entry_for(&n->tables[t], parent, key, strlen(key), 0);
	e->declared = DECL_OBJECT;
	return (int)(e - n->tables[t].entries);
}

void normalizer_declare_column(struct normalizer *n, int t, int parent, const char *key, enum norm_type type)
{
	struct norm_table *tab = &n->tables[t];
	struct norm_entry *e = entry_for(tab, parent, key, strlen(key), 0);
	e->declared = DECL_NONE;
	if (e->col < 0)
		e->col = add_col(tab, e->norm);
	tab->cols[e->col].type = type;
	tab->cols[e->col].fixed = 1;
}

int normalizer_declare_list(struct normalizer *n, int t, int parent, const char *key)
{
	struct norm_entry *e = entry_for(&n->tables[t], parent, key, strlen(key), 0);
	e->declared = DECL_LIST;
	if (e->child < 0) {
		struct strbuf name = STRBUF_INIT;
		strbuf_addf(&name, "%s__%s", n->tables[t].name, e->norm);
		int c = normalizer_table(n, name.buf, t);
		strbuf_release(&name);
		/* the table array may have moved */
		e = entry_for(&n->tables[t], parent, key, strlen(key), 0);
		e->child = c;
	}
	return e->child;
}

int normalizer_flush(struct normalizer *n, int t, struct strbuf *err)
{
	return flush_table(n, &n->tables[t], 1, err);
}

int normalizer_finish(struct normalizer *n, struct strbuf *err)
{
	for (size_t i = 0; i < n->nr_tables; i++)
		if (flush_table(n, &n->tables[i], 1, err) < 0)
			return -1;
	return 0;
}

void normalizer_relation(const struct normalizer *n, const struct norm_table *t, const char *file,
			 struct strbuf *sql)
{
	normalizer_relation_files(n, t, &file, 1, sql);
}

/* A spool column in the relation: its name, file column and reader kind. */
static void relation_col(struct strbuf *names, struct strbuf *codes, struct strbuf *kinds, const char *name,
			 size_t code, const char *kind)
{
	if (names->len > 1) {
		strbuf_addstr(names, ", ");
		strbuf_addstr(codes, ", ");
		strbuf_addstr(kinds, ", ");
	}
	strbuf_add_sql_str(names, name);
	strbuf_addf(codes, "%zu", code);
	strbuf_addf(kinds, "'%s'", kind);
}

/* What the reader gives for a column of type c (and how the relation
 * makes it that type, as read_json did: `conv` around the column, "%s"
 * for its name, or NULL when the reader's type is the column's). */
static const char *reader_kind(const struct norm_col *c, const char **conv)
{
	*conv = NULL;
	switch (c->type) {
	case NT_BOOL: return "bool";
	case NT_BIGINT: return "bigint";
	case NT_DOUBLE: return "double";
	case NT_TIMESTAMP:
		*conv = "CAST(%s AS TIMESTAMP WITH TIME ZONE)";
		return "text";
	case NT_DATE:
		*conv = "CAST(%s AS DATE)";
		return "text";
	case NT_JSON:
		/* DuckDB's JSON as its JSON reader wrote it: minified, numbers
		 * in its own rendering */
		*conv = "json(%s)";
		return "json";
	default:
		/* a text column that took numbers or booleans renders them as
		 * read_json did, from their JSON text */
		if (c->nonstr) {
			*conv = "json_extract_string(%s, '$')";
			return "json";
		}
		return "text";
	}
}

void normalizer_relation_files(const struct normalizer *n, const struct norm_table *t, const char *const *files,
			       size_t nr, struct strbuf *sql)
{
	(void)n;
	struct strbuf names = STRBUF_INIT, codes = STRBUF_INIT, kinds = STRBUF_INIT, conv = STRBUF_INIT;
	strbuf_addch(&names, '[');
	strbuf_addch(&codes, '[');
	strbuf_addch(&kinds, '[');
	/* rows without children have no _dlt_id of their own: make one */
	if (t->ids) {
		relation_col(&names, &codes, &kinds, "_dlt_id", SPOOL_COL_ID, "text");
		strbuf_addstr(&conv, "coalesce(_dlt_id, uuid()::VARCHAR) AS _dlt_id");
	}
	if (t->parent >= 0) {
		relation_col(&names, &codes, &kinds, "_dlt_parent_id", SPOOL_COL_PARENT_ID, "text");
		relation_col(&names, &codes, &kinds, "_dlt_list_idx", SPOOL_COL_LIST_IDX, "bigint");
	}
	/* every column and its type, so that a field seen on one page only
	 * is still a column */
	for (size_t i = 0; i < t->nr_cols; i++) {
		const char *how;
		relation_col(&names, &codes, &kinds, t->cols[i].name, i + SPOOL_COL_FIRST, reader_kind(&t->cols[i], &how));
		if (!how)
			continue;
		struct strbuf id = STRBUF_INIT;
		strbuf_add_sql_ident(&id, t->cols[i].name);
		if (conv.len)
			strbuf_addstr(&conv, ", ");
		strbuf_addf(&conv, how, id.buf);
		strbuf_addf(&conv, " AS %s", id.buf);
		strbuf_release(&id);
	}
	if (names.len == 1)
		relation_col(&names, &codes, &kinds, "_dlt_id", SPOOL_COL_ID, "text");
	if (conv.len) {
		strbuf_addf(sql, "(SELECT * REPLACE (%s) FROM ", conv.buf);
	}
	/* a list: DuckDB reads its files in parallel, or in list order when
	 * the rows' order must be kept */
	strbuf_addstr(sql, "__dango_spool([");
	for (size_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addstr(sql, ", ");
		strbuf_add_sql_str(sql, files[i]);
	}
	strbuf_addf(sql, "], %s], %s], %s])", names.buf, codes.buf, kinds.buf);
	if (conv.len)
		strbuf_addch(sql, ')');
	strbuf_release(&names);
	strbuf_release(&codes);
	strbuf_release(&kinds);
	strbuf_release(&conv);
}
