/* Jinja's builtin filters (jinja2/filters.py). Each gets the filtered value
 * as argument 0. Filters that return generators in Jinja (map, select,
 * unique, reverse...) return lists here. */
#include "internal.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS(...)                                                                    \
	static const char *const names[] = { __VA_ARGS__ };                            \
	const struct jval *a[ARRAY_SIZE(names)];                                       \
	if (call_bind(c, names, ARRAY_SIZE(names), a))                                 \
		return -1

static int opt_bool(const struct jval *v, int def)
{
	return v ? jval_truthy(*v) : def;
}

/* str() of a value into sb (an undefined is ""). */
static void str_of(struct jval v, struct strbuf *sb)
{
	jval_write_str(sb, v);
}

static int str_ret(struct strbuf *sb, struct jval *ret)
{
	*ret = jval_str_from_buf(sb);
	return 0;
}

/* A string argument, or NULL (with an error) if v is not a string. */
static const char *opt_str(struct jinja_call *c, const struct jval *v, const char *def,
			   const char *what)
{
	if (!v || v->type == JVAL_NONE)
		return def;
	if (v->type != JVAL_STR) {
		jinja_call_error(c, "%s must be a string, not '%s'", what, jval_type_name(*v));
		return NULL;
	}
	return v->u.s->s;
}

static int iter_list(struct jinja_call *c, struct jval v, struct jval *out)
{
	return value_iterate(c->r, c->site, v, out);
}

/* --- strings ------------------------------------------------------------- */

static int f_lower(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	py_lower(&sb, in.buf, in.len);
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int f_upper(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	py_upper(&sb, in.buf, in.len);
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int f_capitalize(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	if (in.len) {
		py_upper(&sb, in.buf, 1);
		py_lower(&sb, in.buf + 1, in.len - 1);
	}
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int is_title_sep(char ch)
{
	return ch == '-' || py_isspace((unsigned char)ch) || ch == '(' || ch == '{' || ch == '[' ||
	       ch == '<';
}

static int f_title(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	/* Jinja splits on runs of [-\s({[<] and capitalizes every piece */
	int start = 1;
	for (size_t i = 0; i < in.len; i++) {
		char ch = in.buf[i];
		if (is_title_sep(ch)) {
			strbuf_addch(&sb, ch);
			start = 1;
		} else if (start) {
			py_upper(&sb, &ch, 1);
			start = 0;
		} else {
			py_lower(&sb, &ch, 1);
		}
	}
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int is_strip_char(const char *chars, const char *s, size_t n, size_t *w)
{
	*w = 1;
	if (!chars)
		return py_isspace((unsigned char)*s);
	*w = utf8_step(s, n);
	for (const char *p = chars; *p;) {
		size_t cw = utf8_step(p, strlen(p));
		if (cw == *w && !memcmp(p, s, cw))
			return 1;
		p += cw;
	}
	return 0;
}

/* Python str.strip(chars): which = 1 left, 2 right, 3 both. */
void py_strip(struct strbuf *out, const char *s, size_t n, const char *chars, int which)
{
	size_t b = 0, e = n, w;
	if (which & 1)
		while (b < e && is_strip_char(chars, s + b, e - b, &w))
			b += w;
	if (which & 2)
		while (e > b) {
			size_t k = e - 1;
			while (k > b && ((unsigned char)s[k] & 0xc0) == 0x80)
				k--;
			if (!is_strip_char(chars, s + k, e - k, &w))
				break;
			e = k;
		}
	strbuf_add(out, s + b, e - b);
}

static int f_trim(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "chars");
	const char *chars = opt_str(c, a[1], NULL, "chars");
	if (a[1] && a[1]->type != JVAL_NONE && !chars)
		return -1;
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	py_strip(&sb, in.buf, in.len, chars, 3);
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

/* Python str.replace. */
int py_replace(struct strbuf *out, const char *s, size_t n, const char *old, size_t on,
		const char *new, size_t nn, int64_t count)
{
	if (!on) {
		/* "" matches between characters */
		size_t i = 0;
		int64_t done = 0;
		while (count < 0 || done < count) {
			strbuf_add(out, new, nn);
			done++;
			if (out->len > (size_t)JINJA_MAX_STR)
				return -1;
			if (i >= n)
				break;
			size_t w = utf8_step(s + i, n - i);
			strbuf_add(out, s + i, w);
			i += w;
		}
		strbuf_add(out, s + i, n - i);
		return 0;
	}
	size_t i = 0;
	int64_t done = 0;
	while (i < n && (count < 0 || done < count)) {
		const char *hit = memmem(s + i, n - i, old, on);
		if (!hit)
			break;
		strbuf_add(out, s + i, (size_t)(hit - (s + i)));
		strbuf_add(out, new, nn);
		i = (size_t)(hit - s) + on;
		done++;
		if (out->len > (size_t)JINJA_MAX_STR)
			return -1;
	}
	strbuf_add(out, s + i, n - i);
	return 0;
}

static int f_replace(struct jinja_call *c, struct jval *ret)
{
	PARAMS("s", "old", "new", "count");
	if (!a[1] || !a[2])
		return jinja_call_error(c, "replace() missing required argument");
	int64_t count = -1;
	if (a[3] && a[3]->type != JVAL_NONE && arg_int(c, a[3], "count", &count))
		return -1;
	struct strbuf in = STRBUF_INIT, o = STRBUF_INIT, n = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	str_of(*a[1], &o);
	str_of(*a[2], &n);
	int rc = py_replace(&sb, in.buf, in.len, o.buf, o.len, n.buf, n.len, count);
	strbuf_release(&in);
	strbuf_release(&o);
	strbuf_release(&n);
	if (rc < 0) {
		strbuf_release(&sb);
		return jinja_call_error(c, "replaced string is too long (more than %lld bytes)",
					(long long)JINJA_MAX_STR);
	}
	return str_ret(&sb, ret);
}

static int f_string(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	if (a[0]->type == JVAL_STR) {
		*ret = jval_ref(*a[0]);
		return 0;
	}
	struct strbuf sb = STRBUF_INIT;
	str_of(*a[0], &sb);
	return str_ret(&sb, ret);
}

static void html_escape(struct strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			strbuf_addstr(sb, "&amp;");
			break;
		case '<':
			strbuf_addstr(sb, "&lt;");
			break;
		case '>':
			strbuf_addstr(sb, "&gt;");
			break;
		case '"':
			strbuf_addstr(sb, "&#34;");
			break;
		case '\'':
			strbuf_addstr(sb, "&#39;");
			break;
		default:
			strbuf_addch(sb, s[i]);
		}
	}
}

static int f_escape(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	html_escape(&sb, in.buf, in.len);
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int f_safe(struct jinja_call *c, struct jval *ret)
{
	return f_string(c, ret);
}

static int f_center(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "width");
	int64_t width = 80;
	if (a[1] && arg_size(c, a[1], "width", 0, &width))
		return -1;
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	int64_t len = (int64_t)utf8_len(in.buf, in.len);
	if (width <= len) {
		strbuf_release(&sb);
		*ret = jval_str_from_buf(&in);
		return 0;
	}
	/* CPython: left = marg/2 + (marg & width & 1) */
	int64_t marg = width - len, left = marg / 2 + (marg & width & 1);
	strbuf_addchars(&sb, ' ', (size_t)left);
	strbuf_addbuf(&sb, &in);
	strbuf_addchars(&sb, ' ', (size_t)(marg - left));
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int f_truncate(struct jinja_call *c, struct jval *ret)
{
	PARAMS("s", "length", "killwords", "end", "leeway");
	int64_t length = 255, leeway = 5;
	if (a[1] && arg_int(c, a[1], "length", &length))
		return -1;
	if (a[4] && a[4]->type != JVAL_NONE && arg_int(c, a[4], "leeway", &leeway))
		return -1;
	const char *end = opt_str(c, a[3], "...", "end");
	if (!end)
		return -1;
	int64_t endlen = (int64_t)utf8_len(end, strlen(end));
	if (length < endlen)
		return jinja_call_error(c, "expected length >= %lld, got %lld", (long long)endlen,
					(long long)length);
	if (leeway < 0)
		return jinja_call_error(c, "expected leeway >= 0, got %lld", (long long)leeway);
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	int64_t len = (int64_t)utf8_len(in.buf, in.len);
	if (len <= length + leeway) {
		*ret = jval_str_from_buf(&in);
		return 0;
	}
	size_t cut = utf8_offset(in.buf, in.len, (size_t)(length - endlen));
	if (opt_bool(a[2], 0)) {
		strbuf_add(&sb, in.buf, cut);
	} else {
		/* s[:length - len(end)].rsplit(" ", 1)[0] */
		size_t k = cut;
		while (k > 0 && in.buf[k - 1] != ' ')
			k--;
		strbuf_add(&sb, in.buf, k ? k - 1 : cut);
	}
	strbuf_addstr(&sb, end);
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

static int f_wordcount(struct jinja_call *c, struct jval *ret)
{
	PARAMS("s");
	struct strbuf in = STRBUF_INIT;
	str_of(*a[0], &in);
	int64_t n = 0;
	int inword = 0;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char ch = (unsigned char)in.buf[i];
		int w = isalnum(ch) || ch == '_' || ch >= 0x80;
		if (w && !inword)
			n++;
		inword = w;
	}
	strbuf_release(&in);
	*ret = jval_int(n);
	return 0;
}

static int f_indent(struct jinja_call *c, struct jval *ret)
{
	PARAMS("s", "width", "first", "blank");
	struct strbuf ind = STRBUF_INIT;
	if (a[1] && a[1]->type == JVAL_STR) {
		strbuf_addstr(&ind, a[1]->u.s->s);
	} else {
		int64_t w = 4;
		if (a[1] && arg_size(c, a[1], "width", 0, &w)) {
			strbuf_release(&ind);
			return -1;
		}
		strbuf_addchars(&ind, ' ', w > 0 ? (size_t)w : 0);
	}
	int first = opt_bool(a[2], 0), blank = opt_bool(a[3], 0);
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	strbuf_addch(&in, '\n'); /* Jinja's trick to keep a trailing newline */
	/* splitlines: \n, \r\n, \r, \v, \f, \x1c-\x1e */
	size_t i = 0, line = 0;
	while (i < in.len) {
		size_t e = i;
		while (e < in.len && !strchr("\n\r\v\f\x1c\x1d\x1e", in.buf[e]))
			e++;
		if (e >= in.len)
			break;
		size_t next = e + 1;
		if (in.buf[e] == '\r' && next < in.len && in.buf[next] == '\n')
			next++;
		if (line) {
			strbuf_addch(&sb, '\n');
			if (blank || e > i)
				strbuf_addbuf(&sb, &ind);
		} else if (first) {
			strbuf_addbuf(&sb, &ind);
		}
		strbuf_add(&sb, in.buf + i, e - i);
		line++;
		i = next;
	}
	strbuf_release(&in);
	strbuf_release(&ind);
	return str_ret(&sb, ret);
}

static int f_striptags(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, tmp = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	/* drop <!-- comments --> and <tags> */
	for (size_t i = 0; i < in.len;) {
		if (!strncmp(in.buf + i, "<!--", 4)) {
			const char *e = strstr(in.buf + i + 4, "-->");
			if (e) {
				i = (size_t)(e - in.buf) + 3;
				continue;
			}
		}
		if (in.buf[i] == '<') {
			const char *e = strchr(in.buf + i + 1, '>');
			if (e) {
				i = (size_t)(e - in.buf) + 1;
				continue;
			}
		}
		strbuf_addch(&tmp, in.buf[i++]);
	}
	/* collapse whitespace */
	for (size_t i = 0; i < tmp.len;) {
		while (i < tmp.len && py_isspace((unsigned char)tmp.buf[i]))
			i++;
		size_t s = i;
		while (i < tmp.len && !py_isspace((unsigned char)tmp.buf[i]))
			i++;
		if (i > s) {
			if (sb.len)
				strbuf_addch(&sb, ' ');
			strbuf_add(&sb, tmp.buf + s, i - s);
		}
	}
	/* unescape the common entities */
	static const char *const ents[][2] = { { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
					       { "&quot;", "\"" }, { "&#34;", "\"" }, { "&#39;", "'" },
					       { "&nbsp;", "\xc2\xa0" } };
	strbuf_reset(&tmp);
	for (size_t i = 0; i < sb.len;) {
		size_t k;
		for (k = 0; k < ARRAY_SIZE(ents); k++) {
			size_t el = strlen(ents[k][0]);
			if (!strncmp(sb.buf + i, ents[k][0], el)) {
				strbuf_addstr(&tmp, ents[k][1]);
				i += el;
				break;
			}
		}
		if (k == ARRAY_SIZE(ents))
			strbuf_addch(&tmp, sb.buf[i++]);
	}
	strbuf_release(&in);
	strbuf_release(&sb);
	return str_ret(&tmp, ret);
}

static int f_format(struct jinja_call *c, struct jval *ret)
{
	if (c->argc < 1)
		return jinja_call_error(c, "format() missing value");
	if (c->argc > 1 && c->kwc)
		return jinja_call_error(c, "can't handle positional and keyword arguments at the same time");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(c->argv[0], &in);
	struct jval args;
	if (c->kwc) {
		args = jval_dict_new();
		for (size_t i = 0; i < c->kwc; i++)
			jval_dict_set(args, c->kwnames[i], jval_ref(c->kwvals[i]));
	} else {
		args = jval_list_from(NULL, 0, JL_TUPLE);
		for (size_t i = 1; i < c->argc; i++)
			jlist_push(args.u.l, jval_ref(c->argv[i]));
	}
	int rc = py_percent(c, in.buf, in.len, args, &sb);
	jval_unref(args);
	strbuf_release(&in);
	if (rc) {
		strbuf_release(&sb);
		return -1;
	}
	return str_ret(&sb, ret);
}

/* --- numbers ----------------------------------------------------------- */

/* Python int(str, base): whitespace and underscores allowed. */
static int parse_int(const char *s, int base, int64_t *out)
{
	while (py_isspace((unsigned char)*s))
		s++;
	char buf[128];
	size_t k = 0;
	int neg = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if ((base == 16 || base == 0) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, base = 16;
	else if ((base == 8 || base == 0) && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		s += 2, base = 8;
	else if ((base == 2 || base == 0) && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		s += 2, base = 2;
	if (!base)
		base = 10;
	for (; *s && !py_isspace((unsigned char)*s); s++) {
		if (*s == '_' && k && s[1] && s[1] != '_')
			continue;
		if (k + 1 >= sizeof(buf))
			return -1;
		buf[k++] = *s;
	}
	while (py_isspace((unsigned char)*s))
		s++;
	if (*s || !k)
		return -1;
	buf[k] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, base);
	if (*end || errno || buf[0] == '+' || buf[0] == '-')
		return -1;
	*out = neg ? -v : v;
	return 0;
}

static int parse_float(const char *s, double *out)
{
	while (py_isspace((unsigned char)*s))
		s++;
	char buf[128];
	size_t k = 0;
	for (; *s && !py_isspace((unsigned char)*s); s++) {
		if (*s == '_')
			continue;
		if (k + 1 >= sizeof(buf))
			return -1;
		buf[k++] = *s;
	}
	while (py_isspace((unsigned char)*s))
		s++;
	if (*s || !k)
		return -1;
	buf[k] = '\0';
	/* strtod also takes hex floats, which Python's float() does not */
	for (size_t i = 0; i < k; i++)
		if (buf[i] == 'x' || buf[i] == 'X')
			return -1;
	char *end;
	*out = strtod(buf, &end);
	return *end ? -1 : 0;
}

static int f_int(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "default", "base");
	int64_t base = 10, v;
	if (a[2] && arg_int(c, a[2], "base", &base))
		return -1;
	struct jval x = *a[0];
	switch (x.type) {
	case JVAL_INT:
		*ret = x;
		return 0;
	case JVAL_BOOL:
		*ret = jval_int(x.u.b);
		return 0;
	case JVAL_FLOAT:
		if (isfinite(x.u.f) && fabs(x.u.f) < 9.2e18) {
			*ret = jval_int((int64_t)x.u.f);
			return 0;
		}
		return jinja_call_error(c, "cannot convert float %s to integer",
					isnan(x.u.f) ? "NaN" : "infinity");
	case JVAL_STR: {
		double f;
		if (!parse_int(x.u.s->s, (int)base, &v)) {
			*ret = jval_int(v);
			return 0;
		}
		if (!parse_float(x.u.s->s, &f) && isfinite(f) && fabs(f) < 9.2e18) {
			*ret = jval_int((int64_t)f);
			return 0;
		}
		break;
	}
	default:
		break;
	}
	*ret = a[1] ? jval_ref(*a[1]) : jval_int(0);
	return 0;
}

static int f_float(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "default");
	struct jval x = *a[0];
	double f;
	if (x.type == JVAL_FLOAT) {
		*ret = x;
		return 0;
	}
	if (x.type == JVAL_INT || x.type == JVAL_BOOL) {
		*ret = jval_float(x.type == JVAL_INT ? (double)x.u.i : x.u.b);
		return 0;
	}
	if (x.type == JVAL_STR && !parse_float(x.u.s->s, &f)) {
		*ret = jval_float(f);
		return 0;
	}
	*ret = a[1] ? jval_ref(*a[1]) : jval_float(0.0);
	return 0;
}

static int f_abs(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct jval x = *a[0];
	if (x.type == JVAL_INT)
		*ret = x.u.i == INT64_MIN ? jval_float(9.223372036854775808e18)
					  : jval_int(x.u.i < 0 ? -x.u.i : x.u.i);
	else if (x.type == JVAL_BOOL)
		*ret = jval_int(x.u.b);
	else if (x.type == JVAL_FLOAT)
		*ret = jval_float(fabs(x.u.f));
	else
		return jinja_call_error(c, "bad operand type for abs(): '%s'", jval_type_name(x));
	return 0;
}

static int f_round(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "precision", "method");
	int64_t prec = 0;
	if (a[1] && arg_int(c, a[1], "precision", &prec))
		return -1;
	/* past +-400 digits every double rounds the same: keep -prec defined */
	if (prec > 400)
		prec = 400;
	if (prec < -400)
		prec = -400;
	const char *method = opt_str(c, a[2], "common", "method");
	if (!method)
		return -1;
	if (strcmp(method, "common") && strcmp(method, "ceil") && strcmp(method, "floor"))
		return jinja_call_error(c, "method must be common, ceil or floor");
	struct jval x = *a[0];
	if (x.type != JVAL_INT && x.type != JVAL_BOOL && x.type != JVAL_FLOAT)
		return jinja_call_error(c, "type %s doesn't define __round__ method",
					jval_type_name(x));
	if (!strcmp(method, "common")) {
		if (x.type != JVAL_FLOAT) {
			/* round(int, n) stays an int, rounded half to even */
			int64_t v = x.type == JVAL_INT ? x.u.i : x.u.b, p = 1;
			for (int64_t i = 0; i < -prec && p <= INT64_MAX / 10; i++)
				p *= 10;
			if (prec < 0) {
				int64_t q = v / p, rem = v % p;
				if (rem < 0) {
					q--;
					rem += p;
				}
				if (2 * rem > p || (2 * rem == p && (q & 1)))
					q++;
				v = q * p;
			}
			*ret = jval_int(v);
			return 0;
		}
		double f = x.u.f;
		if (!isfinite(f)) {
			*ret = x;
			return 0;
		}
		if (prec == 0) {
			*ret = jval_float(nearbyint(f)); /* half to even, as Python */
			return 0;
		}
		if (prec >= 300) {
			*ret = x; /* no double has digits that far */
			return 0;
		}
		if (prec < -308) {
			*ret = jval_float(copysign(0.0, f)); /* 10**-prec is past every double */
			return 0;
		}
		if (prec > 0) {
			/* round the exact decimal value, as Python does */
			char buf[512];
			snprintf(buf, sizeof(buf), "%.*f", (int)prec, f);
			*ret = jval_float(strtod(buf, NULL));
			return 0;
		}
		double p = pow(10.0, (double)-prec);
		*ret = jval_float(nearbyint(f / p) * p);
		return 0;
	}
	double f = x.type == JVAL_FLOAT ? x.u.f : (double)(x.type == JVAL_INT ? x.u.i : x.u.b);
	double p = pow(10.0, (double)prec);
	double v = method[0] == 'c' ? ceil(f * p) : floor(f * p);
	*ret = jval_float(v / p);
	return 0;
}

/* --- sequences ----------------------------------------------------------- */

static int f_length(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct jval x = *a[0];
	if (x.type == JVAL_STR || x.type == JVAL_LIST || x.type == JVAL_DICT ||
	    (x.type == JVAL_OBJECT && x.u.o->ops->as_list)) {
		*ret = jval_int((int64_t)jval_len(x));
		return 0;
	}
	if (x.type == JVAL_UNDEFINED) {
		*ret = jval_int(0);
		return 0;
	}
	return jinja_call_error(c, "object of type '%s' has no len()", jval_type_name(x));
}

static int f_list(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	/* always a new list */
	*ret = jval_list_new();
	for (size_t i = 0; i < l.u.l->n; i++)
		jlist_push(ret->u.l, jval_ref(l.u.l->v[i]));
	jval_unref(l);
	return 0;
}

static int f_first(struct jinja_call *c, struct jval *ret)
{
	PARAMS("seq");
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	*ret = l.u.l->n ? jval_ref(l.u.l->v[0])
			: jval_undefined_msg("No first item, sequence was empty.");
	jval_unref(l);
	return 0;
}

static int f_last(struct jinja_call *c, struct jval *ret)
{
	PARAMS("seq");
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	*ret = l.u.l->n ? jval_ref(l.u.l->v[l.u.l->n - 1])
			: jval_undefined_msg("No last item, sequence was empty.");
	jval_unref(l);
	return 0;
}

static int f_reverse(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct jval x = *a[0];
	struct jval l;
	if (iter_list(c, x, &l))
		return -1;
	if (x.type == JVAL_STR) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = l.u.l->n; i-- > 0;)
			strbuf_add(&sb, l.u.l->v[i].u.s->s, l.u.l->v[i].u.s->len);
		jval_unref(l);
		return str_ret(&sb, ret);
	}
	*ret = jval_list_new();
	for (size_t i = l.u.l->n; i-- > 0;)
		jlist_push(ret->u.l, jval_ref(l.u.l->v[i]));
	jval_unref(l);
	return 0;
}

static int f_join(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "d", "attribute");
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	const char *attr = NULL;
	struct strbuf sb = STRBUF_INIT, sep = STRBUF_INIT;
	if (a[1])
		str_of(*a[1], &sep);
	if (a[2] && a[2]->type != JVAL_NONE) {
		if (a[2]->type != JVAL_STR) {
			jval_unref(l);
			strbuf_release(&sep);
			return jinja_call_error(c, "attribute must be a string");
		}
		attr = a[2]->u.s->s;
	}
	int rc = 0;
	for (size_t i = 0; i < l.u.l->n && !rc; i++) {
		struct jval v;
		if (value_key(c, l.u.l->v[i], 1, attr, &v)) {
			rc = -1;
			break;
		}
		if (i)
			strbuf_addbuf(&sb, &sep);
		if (v.type == JVAL_UNDEFINED && render_strict(c->r, v))
			rc = render_undefined(c->r, c->site, v);
		else
			str_of(v, &sb);
		jval_unref(v);
		if (!rc && sb.len > (size_t)JINJA_MAX_STR)
			rc = jinja_call_error(c, "joined string is too long (more than %lld bytes)",
					      (long long)JINJA_MAX_STR);
	}
	jval_unref(l);
	strbuf_release(&sep);
	if (rc) {
		strbuf_release(&sb);
		return -1;
	}
	return str_ret(&sb, ret);
}

static const char *attr_arg(struct jinja_call *c, const struct jval *v)
{
	if (!v || v->type == JVAL_NONE)
		return NULL;
	if (v->type == JVAL_STR)
		return v->u.s->s;
	jinja_call_error(c, "attribute must be a string");
	return "";
}

static int f_sort(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "reverse", "case_sensitive", "attribute");
	const char *attr = attr_arg(c, a[3]);
	if (attr && !*attr)
		return -1;
	struct jval it;
	if (iter_list(c, *a[0], &it))
		return -1;
	struct jval l = jval_list_new();
	for (size_t i = 0; i < it.u.l->n; i++)
		jlist_push(l.u.l, jval_ref(it.u.l->v[i]));
	jval_unref(it);
	if (sort_values(c, l.u.l->v, l.u.l->n, opt_bool(a[1], 0), opt_bool(a[2], 0), attr)) {
		jval_unref(l);
		return -1;
	}
	*ret = l;
	return 0;
}

static int f_unique(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "case_sensitive", "attribute");
	const char *attr = attr_arg(c, a[2]);
	if (attr && !*attr)
		return -1;
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	struct jval seen = jval_dict_new();
	*ret = jval_list_new();
	int rc = 0;
	for (size_t i = 0; i < l.u.l->n && !rc; i++) {
		struct jval k;
		if (value_key(c, l.u.l->v[i], opt_bool(a[1], 0), attr, &k)) {
			rc = -1;
			break;
		}
		if (!jval_dict_getv(seen, k)) {
			jlist_push(ret->u.l, jval_ref(l.u.l->v[i]));
			const char *tn = jval_type_name(k);
			if (jval_dict_setv(seen, k, jval_none()))
				rc = jinja_call_error(c, "unhashable type: '%s'", tn);
		} else {
			jval_unref(k);
		}
	}
	jval_unref(seen);
	jval_unref(l);
	if (rc) {
		jval_unref(*ret);
		*ret = jval_undefined();
	}
	return rc;
}

static int minmax(struct jinja_call *c, struct jval *ret, int want_max)
{
	PARAMS("value", "case_sensitive", "attribute");
	const char *attr = attr_arg(c, a[2]);
	if (attr && !*attr)
		return -1;
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	if (!l.u.l->n) {
		jval_unref(l);
		*ret = jval_undefined_msg("No aggregated item, sequence was empty.");
		return 0;
	}
	size_t best = 0;
	struct jval bk;
	int rc = value_key(c, l.u.l->v[0], opt_bool(a[1], 0), attr, &bk);
	int have_bk = !rc; /* bk is dropped on every way out (a fuzzer found the leak) */
	for (size_t i = 1; i < l.u.l->n && !rc; i++) {
		struct jval k;
		int cmp;
		if ((rc = value_key(c, l.u.l->v[i], opt_bool(a[1], 0), attr, &k)))
			break;
		/* as StrictUndefined's comparison does */
		struct jval u = k.type == JVAL_UNDEFINED ? k : bk;
		if (u.type == JVAL_UNDEFINED && render_strict(c->r, u)) {
			rc = render_undefined(c->r, c->site, u);
			jval_unref(k);
			break;
		}
		if (jval_compare(k, bk, &cmp)) {
			rc = jinja_call_error(c, "'%s' not supported between instances of '%s' and '%s'",
					      want_max ? ">" : "<", jval_type_name(k), jval_type_name(bk));
			jval_unref(k);
			break;
		}
		if (want_max ? cmp > 0 : cmp < 0) {
			jval_set(&bk, k);
			best = i;
		} else {
			jval_unref(k);
		}
	}
	if (have_bk)
		jval_unref(bk);
	if (!rc)
		*ret = jval_ref(l.u.l->v[best]);
	jval_unref(l);
	return rc;
}

static int f_min(struct jinja_call *c, struct jval *ret)
{
	return minmax(c, ret, 0);
}

static int f_max(struct jinja_call *c, struct jval *ret)
{
	return minmax(c, ret, 1);
}

static int f_sum(struct jinja_call *c, struct jval *ret)
{
	PARAMS("iterable", "attribute", "start");
	const char *attr = attr_arg(c, a[1]);
	if (attr && !*attr)
		return -1;
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	struct jval total = a[2] ? jval_ref(*a[2]) : jval_int(0);
	int rc = 0;
	for (size_t i = 0; i < l.u.l->n && !rc; i++) {
		struct jval k;
		if ((rc = value_key(c, l.u.l->v[i], 1, attr, &k)))
			break;
		struct jval t = total, x = k;
		if ((t.type == JVAL_INT || t.type == JVAL_BOOL) && (x.type == JVAL_INT || x.type == JVAL_BOOL)) {
			int64_t s;
			if (__builtin_add_overflow(t.type == JVAL_INT ? t.u.i : t.u.b,
						   x.type == JVAL_INT ? x.u.i : x.u.b, &s))
				rc = jinja_call_error(c, "integer overflow");
			else
				total = jval_int(s);
		} else if ((t.type == JVAL_INT || t.type == JVAL_BOOL || t.type == JVAL_FLOAT) &&
			   (x.type == JVAL_INT || x.type == JVAL_BOOL || x.type == JVAL_FLOAT)) {
			double ft = t.type == JVAL_FLOAT ? t.u.f : (double)(t.type == JVAL_INT ? t.u.i : t.u.b);
			double fx = x.type == JVAL_FLOAT ? x.u.f : (double)(x.type == JVAL_INT ? x.u.i : x.u.b);
			total = jval_float(ft + fx);
		} else if (t.type == JVAL_LIST && x.type == JVAL_LIST) {
			struct jval nl = jval_list_new();
			for (size_t j = 0; j < t.u.l->n; j++)
				jlist_push(nl.u.l, jval_ref(t.u.l->v[j]));
			for (size_t j = 0; j < x.u.l->n; j++)
				jlist_push(nl.u.l, jval_ref(x.u.l->v[j]));
			jval_unref(t);
			total = nl;
		} else {
			rc = jinja_call_error(c, "unsupported operand type(s) for +: '%s' and '%s'",
					      jval_type_name(t), jval_type_name(x));
		}
		jval_unref(k);
	}
	jval_unref(l);
	if (rc) {
		jval_unref(total);
		return -1;
	}
	*ret = total;
	return 0;
}

static int f_batch(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "linecount", "fill_with");
	int64_t n;
	if (!a[1])
		return jinja_call_error(c, "batch() missing required argument 'linecount'");
	if (arg_size(c, a[1], "linecount", 1, &n))
		return -1;
	if (n <= 0)
		return jinja_call_error(c, "linecount must be positive");
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	*ret = jval_list_new();
	struct jval tmp = jval_undefined();
	for (size_t i = 0; i < l.u.l->n; i++) {
		if (tmp.type == JVAL_UNDEFINED)
			tmp = jval_list_new();
		jlist_push(tmp.u.l, jval_ref(l.u.l->v[i]));
		if ((int64_t)tmp.u.l->n == n) {
			jlist_push(ret->u.l, tmp);
			tmp = jval_undefined();
		}
	}
	if (tmp.type != JVAL_UNDEFINED) {
		if (a[2] && a[2]->type != JVAL_NONE)
			while ((int64_t)tmp.u.l->n < n)
				jlist_push(tmp.u.l, jval_ref(*a[2]));
		jlist_push(ret->u.l, tmp);
	}
	jval_unref(l);
	return 0;
}

static int f_slice(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "slices", "fill_with");
	int64_t slices;
	if (!a[1])
		return jinja_call_error(c, "slice() missing required argument 'slices'");
	if (arg_size(c, a[1], "slices", 1, &slices))
		return -1;
	if (slices <= 0)
		return jinja_call_error(c, "slices must be positive");
	struct jval l;
	if (iter_list(c, *a[0], &l))
		return -1;
	size_t length = l.u.l->n;
	size_t per = length / (size_t)slices, extra = length % (size_t)slices, offset = 0;
	*ret = jval_list_new();
	for (size_t i = 0; i < (size_t)slices; i++) {
		size_t start = offset + i * per;
		if (i < extra)
			offset++;
		size_t end = offset + (i + 1) * per;
		struct jval tmp = jval_list_new();
		for (size_t k = start; k < end && k < length; k++)
			jlist_push(tmp.u.l, jval_ref(l.u.l->v[k]));
		if (a[2] && a[2]->type != JVAL_NONE && i >= extra)
			jlist_push(tmp.u.l, jval_ref(*a[2]));
		jlist_push(ret->u.l, tmp);
	}
	jval_unref(l);
	return 0;
}

/* --- mappings -------------------------------------------------------------- */

static struct jval pair(struct jval k, struct jval v)
{
	struct jval t = jval_tuple_new();
	jlist_push(t.u.l, k);
	jlist_push(t.u.l, v);
	return t;
}

static int items_of(struct jinja_call *c, struct jval x, struct jval *ret)
{
	if (x.type == JVAL_UNDEFINED) {
		*ret = jval_list_new();
		return 0;
	}
	if (x.type != JVAL_DICT || x.u.d->ns)
		return jinja_call_error(c, "Can only get item pairs from a mapping.");
	*ret = jval_list_new();
	for (size_t i = 0; i < x.u.d->n; i++)
		jlist_push(ret->u.l, pair(jval_ref(x.u.d->e[i].key), jval_ref(x.u.d->e[i].val)));
	return 0;
}

static int f_items(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	return items_of(c, *a[0], ret);
}

static int f_dictsort(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "case_sensitive", "by", "reverse");
	const char *by = opt_str(c, a[2], "key", "by");
	if (!by)
		return -1;
	int pos;
	if (!strcmp(by, "key"))
		pos = 0;
	else if (!strcmp(by, "value"))
		pos = 1;
	else
		return jinja_call_error(c, "You can only sort by either \"key\" or \"value\"");
	if (items_of(c, *a[0], ret))
		return -1;
	if (sort_values(c, ret->u.l->v, ret->u.l->n, opt_bool(a[3], 0), opt_bool(a[1], 0),
			pos ? "1" : "0")) {
		jval_unref(*ret);
		*ret = jval_undefined();
		return -1;
	}
	return 0;
}

static int f_tojson(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "indent");
	int64_t indent = -1;
	if (a[1] && a[1]->type != JVAL_NONE && arg_size(c, a[1], "indent", 0, &indent))
		return -1;
	struct strbuf sb = STRBUF_INIT;
	if (py_tojson(c, *a[0], 1, indent, 0, &sb)) {
		strbuf_release(&sb);
		return -1;
	}
	return str_ret(&sb, ret);
}

static int f_default(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value", "default_value", "boolean");
	struct jval x = *a[0];
	int use_default = x.type == JVAL_UNDEFINED || (opt_bool(a[2], 0) && !jval_truthy(x));
	if (use_default)
		*ret = a[1] ? jval_ref(*a[1]) : jval_str("");
	else
		*ret = jval_ref(x);
	return 0;
}

static int f_attr(struct jinja_call *c, struct jval *ret)
{
	PARAMS("obj", "name");
	if (!a[1] || a[1]->type != JVAL_STR)
		return jinja_call_error(c, "attr() name must be a string");
	struct jval x = *a[0];
	if (x.type == JVAL_DICT && !x.u.d->ns) {
		/* getattr() only: dict keys are not attributes */
		jinja_fn m = method_lookup(x, a[1]->u.s->s);
		if (!m) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_addf(&sb, "'dict object' has no attribute '%s'", a[1]->u.s->s);
			*ret = jval_undefined_msg(sb.buf);
			strbuf_release(&sb);
			return 0;
		}
	}
	return value_getattr(c->r, c->site, x, a[1]->u.s->s, ret);
}

/* --- map / select ---------------------------------------------------------- */

static int f_map(struct jinja_call *c, struct jval *ret)
{
	if (c->argc < 1)
		return jinja_call_error(c, "map() missing value");
	/* Jinja's map, select and reject start with `if value:`: None
	 * (and any false value) maps to nothing */
	if (c->argv[0].type != JVAL_UNDEFINED && !jval_truthy(c->argv[0])) {
		*ret = jval_list_new();
		return 0;
	}
	struct jval l;
	if (iter_list(c, c->argv[0], &l))
		return -1;
	const struct jval *attribute = jinja_call_kwarg(c, "attribute");
	*ret = jval_list_new();
	int rc = 0;
	if (c->argc == 1 && attribute) {
		const struct jval *def = jinja_call_kwarg(c, "default");
		for (size_t i = 0; i < c->kwc; i++)
			if (strcmp(c->kwnames[i], "attribute") && strcmp(c->kwnames[i], "default"))
				rc = jinja_call_error(c, "Unexpected keyword argument '%s'", c->kwnames[i]);
		const char *attr = attribute->type == JVAL_STR ? attribute->u.s->s : NULL;
		struct strbuf ab = STRBUF_INIT;
		if (!attr) {
			str_of(*attribute, &ab);
			attr = ab.buf;
		}
		for (size_t i = 0; i < l.u.l->n && !rc; i++) {
			struct jval v;
			if ((rc = value_key(c, l.u.l->v[i], 1, attr, &v)))
				break;
			if (v.type == JVAL_UNDEFINED && def) {
				jval_unref(v);
				v = jval_ref(*def);
			}
			jlist_push(ret->u.l, v);
		}
		strbuf_release(&ab);
	} else if (c->argc >= 2 && c->argv[1].type == JVAL_STR) {
		const char *name = c->argv[1].u.s->s;
		for (size_t i = 0; i < l.u.l->n && !rc; i++) {
			struct jval v;
			rc = apply_filter(c->r, c->site, name, l.u.l->v[i], c->argc - 2, c->argv + 2,
					  c->kwc, c->kwnames, c->kwvals, &v);
			if (!rc)
				jlist_push(ret->u.l, v);
		}
	} else if (c->argc == 1 && !c->kwc) {
		for (size_t i = 0; i < l.u.l->n; i++)
			jlist_push(ret->u.l, jval_ref(l.u.l->v[i]));
	} else {
		rc = jinja_call_error(c, "map requires a filter argument");
	}
	jval_unref(l);
	if (rc) {
		jval_unref(*ret);
		*ret = jval_undefined();
	}
	return rc;
}

static int select_common(struct jinja_call *c, struct jval *ret, int want, int by_attr)
{
	size_t first_arg = by_attr ? 2 : 1;
	if (c->argc < first_arg)
		return jinja_call_error(c, "%s() missing required argument", c->name);
	const char *attr = NULL;
	if (by_attr) {
		if (c->argv[1].type != JVAL_STR)
			return jinja_call_error(c, "attribute must be a string");
		attr = c->argv[1].u.s->s;
	}
	if (c->argv[0].type != JVAL_UNDEFINED && !jval_truthy(c->argv[0])) {
		*ret = jval_list_new();
		return 0;
	}
	struct jval l;
	if (iter_list(c, c->argv[0], &l))
		return -1;
	const char *test = NULL;
	if (c->argc > first_arg) {
		if (c->argv[first_arg].type != JVAL_STR) {
			jval_unref(l);
			return jinja_call_error(c, "test name must be a string");
		}
		test = c->argv[first_arg].u.s->s;
	}
	*ret = jval_list_new();
	int rc = 0;
	for (size_t i = 0; i < l.u.l->n && !rc; i++) {
		struct jval v;
		if ((rc = value_key(c, l.u.l->v[i], 1, attr, &v)))
			break;
		int t;
		if (test) {
			rc = apply_test(c->r, c->site, test, v, c->argc - first_arg - 1,
					c->argv + first_arg + 1, c->kwc, c->kwnames, c->kwvals, &t);
		} else if (v.type == JVAL_UNDEFINED && render_strict(c->r, v)) {
			rc = render_undefined(c->r, c->site, v);
		} else {
			t = jval_truthy(v);
		}
		jval_unref(v);
		if (!rc && !!t == want)
			jlist_push(ret->u.l, jval_ref(l.u.l->v[i]));
	}
	jval_unref(l);
	if (rc) {
		jval_unref(*ret);
		*ret = jval_undefined();
	}
	return rc;
}

static int f_select(struct jinja_call *c, struct jval *ret)
{
	return select_common(c, ret, 1, 0);
}

static int f_reject(struct jinja_call *c, struct jval *ret)
{
	return select_common(c, ret, 0, 0);
}

static int f_selectattr(struct jinja_call *c, struct jval *ret)
{
	return select_common(c, ret, 1, 1);
}

static int f_rejectattr(struct jinja_call *c, struct jval *ret)
{
	return select_common(c, ret, 0, 1);
}

static int f_urlencode(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	struct strbuf in = STRBUF_INIT, sb = STRBUF_INIT;
	str_of(*a[0], &in);
	for (size_t i = 0; i < in.len; i++) {
		unsigned char ch = (unsigned char)in.buf[i];
		if (isalnum(ch) || strchr("_.-~/", ch))
			strbuf_addch(&sb, ch);
		else
			strbuf_addf(&sb, "%%%02X", ch);
	}
	strbuf_release(&in);
	return str_ret(&sb, ret);
}

/* Sorted by name for bsearch. */
static const struct builtin filters[] = {
	{ "abs", f_abs },
	{ "attr", f_attr },
	{ "batch", f_batch },
	{ "capitalize", f_capitalize },
	{ "center", f_center },
	{ "count", f_length },
	{ "d", f_default },
	{ "default", f_default },
	{ "dictsort", f_dictsort },
	{ "e", f_escape },
	{ "escape", f_escape },
	{ "first", f_first },
	{ "float", f_float },
	{ "forceescape", f_escape },
	{ "format", f_format },
	{ "indent", f_indent },
	{ "int", f_int },
	{ "items", f_items },
	{ "join", f_join },
	{ "last", f_last },
	{ "length", f_length },
	{ "list", f_list },
	{ "lower", f_lower },
	{ "map", f_map },
	{ "max", f_max },
	{ "min", f_min },
	{ "reject", f_reject },
	{ "rejectattr", f_rejectattr },
	{ "replace", f_replace },
	{ "reverse", f_reverse },
	{ "round", f_round },
	{ "safe", f_safe },
	{ "select", f_select },
	{ "selectattr", f_selectattr },
	{ "slice", f_slice },
	{ "sort", f_sort },
	{ "string", f_string },
	{ "striptags", f_striptags },
	{ "sum", f_sum },
	{ "title", f_title },
	{ "tojson", f_tojson },
	{ "trim", f_trim },
	{ "truncate", f_truncate },
	{ "unique", f_unique },
	{ "upper", f_upper },
	{ "urlencode", f_urlencode },
	{ "wordcount", f_wordcount },
};

static int cmp_builtin(const void *key, const void *elem)
{
	return strcmp(key, ((const struct builtin *)elem)->name);
}

const struct builtin *filter_lookup(const char *name)
{
	return bsearch(name, filters, ARRAY_SIZE(filters), sizeof(filters[0]), cmp_builtin);
}
