/* Python behaviour the filters and methods share: case mapping, sorting,
 * json.dumps, str.format and %-formatting. */
#include "internal.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int py_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
	       (c >= 0x1c && c <= 0x1f);
}

/* ASCII case mapping; other characters are kept as they are. */
void py_lower(struct strbuf *out, const char *s, size_t n)
{
	strbuf_grow(out, n);
	for (size_t i = 0; i < n; i++)
		strbuf_addch(out, (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
}

void py_upper(struct strbuf *out, const char *s, size_t n)
{
	strbuf_grow(out, n);
	for (size_t i = 0; i < n; i++)
		strbuf_addch(out, (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i]);
}

int arg_int(struct jinja_call *c, const struct jval *v, const char *what, int64_t *out)
{
	if (v->type == JVAL_INT) {
		*out = v->u.i;
		return 0;
	}
	if (v->type == JVAL_BOOL) {
		*out = v->u.b;
		return 0;
	}
	return jinja_call_error(c, "%s must be an integer, not '%s'", what, jval_type_name(*v));
}

int arg_size(struct jinja_call *c, const struct jval *v, const char *what, int items, int64_t *out)
{
	int64_t max = items ? JINJA_MAX_ITEMS : JINJA_MAX_STR;
	if (arg_int(c, v, what, out))
		return -1;
	if (*out > max)
		return jinja_call_error(c, "%s %" PRId64 " is too large (the limit is %" PRId64 ")", what,
					*out, max);
	return 0;
}

/* --- sorting ------------------------------------------------------------- */

struct sortctx {
	struct jinja_call *c;
	int failed;
	int reverse;
};

static int key_cmp(struct sortctx *sc, struct jval a, struct jval b)
{
	int r;
	if (sc->failed)
		return 0;
	if (jval_compare(a, b, &r)) {
		sc->failed = 1;
		jinja_call_error(sc->c, "'<' not supported between instances of '%s' and '%s'",
				 jval_type_name(a), jval_type_name(b));
		return 0;
	}
	return sc->reverse ? -r : r;
}

/* A stable merge sort of idx by keys[idx]. */
static void merge_sort(struct sortctx *sc, size_t *idx, size_t *tmp, size_t n, const struct jval *keys)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	merge_sort(sc, idx, tmp, h, keys);
	merge_sort(sc, idx + h, tmp, n - h, keys);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n) {
		/* take from the right only when strictly smaller: stable */
		if (key_cmp(sc, keys[idx[j]], keys[idx[i]]) < 0)
			tmp[k++] = idx[j++];
		else
			tmp[k++] = idx[i++];
	}
	while (i < h)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof(*idx));
}

/* The sort key of an item: its attribute (dotted path), lowercased when
 * not case sensitive. */
int value_key(struct jinja_call *c, struct jval item, int case_sensitive, const char *attribute,
	      struct jval *out)
{
	struct jval v = jval_ref(item);
	if (attribute) {
		const char *p = attribute;
		while (*p) {
			const char *dot = strchr(p, '.');
			size_t len = dot ? (size_t)(dot - p) : strlen(p);
			struct jval key;
			char *end;
			char *part = xstrndup(p, len);
			long long n = strtoll(part, &end, 10);
			if (len && *end == '\0' && isdigit((unsigned char)part[0]))
				key = jval_int(n);
			else
				key = jval_str(part);
			free(part);
			struct jval next;
			int rc = value_getitem(c->r, c->site, v, key, &next);
			jval_unref(key);
			jval_unref(v);
			if (rc)
				return -1;
			v = next;
			p += len;
			if (*p == '.')
				p++;
		}
	}
	if (!case_sensitive && v.type == JVAL_STR) {
		struct strbuf sb = STRBUF_INIT;
		py_lower(&sb, v.u.s->s, v.u.s->len);
		jval_unref(v);
		v = jval_str_from_buf(&sb);
	}
	*out = v;
	return 0;
}

int sort_values(struct jinja_call *c, struct jval *items, size_t n, int reverse,
		int case_sensitive, const char *attribute)
{
	if (n < 2)
		return 0;
	struct jval *keys = xcalloc(n, sizeof(*keys));
	size_t *idx = xmalloc(n * sizeof(*idx)), *tmp = xmalloc(n * sizeof(*tmp));
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		idx[i] = i;
		rc = value_key(c, items[i], case_sensitive, attribute, &keys[i]);
		if (!rc && keys[i].type == JVAL_UNDEFINED && render_strict(c->r, keys[i]))
			rc = render_undefined(c->r, c->site, keys[i]);
	}
	if (!rc) {
		struct sortctx sc = { c, 0, reverse };
		merge_sort(&sc, idx, tmp, n, keys);
		if (sc.failed)
			rc = -1;
	}
	if (!rc) {
		struct jval *sorted = xmalloc(n * sizeof(*sorted));
		for (size_t i = 0; i < n; i++)
			sorted[i] = items[idx[i]];
		memcpy(items, sorted, n * sizeof(*items));
		free(sorted);
	}
	for (size_t i = 0; i < n; i++)
		jval_unref(keys[i]);
	free(keys);
	free(idx);
	free(tmp);
	return rc;
}

/* --- json ------------------------------------------------------------------ */

static unsigned long utf8_decode(const char *s, size_t n, size_t *w)
{
	unsigned char c = (unsigned char)s[0];
	*w = utf8_step(s, n);
	if (*w == 1)
		return c;
	unsigned long cp = c & (0xff >> (*w + 1));
	for (size_t i = 1; i < *w; i++)
		cp = (cp << 6) | ((unsigned char)s[i] & 0x3f);
	return cp;
}

static void json_str(struct strbuf *out, const char *s, size_t n)
{
	strbuf_addch(out, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t w = 1;
		unsigned long cp = c;
		if (c >= 0x80)
			cp = utf8_decode(s + i, n - i, &w);
		i += w;
		switch (cp) {
		case '"':
			strbuf_addstr(out, "\\\"");
			break;
		case '\\':
			strbuf_addstr(out, "\\\\");
			break;
		case '\n':
			strbuf_addstr(out, "\\n");
			break;
		case '\r':
			strbuf_addstr(out, "\\r");
			break;
		case '\t':
			strbuf_addstr(out, "\\t");
			break;
		case '\b':
			strbuf_addstr(out, "\\b");
			break;
		case '\f':
			strbuf_addstr(out, "\\f");
			break;
		/* Jinja's htmlsafe_json_dumps */
		case '<':
			strbuf_addstr(out, "\\u003c");
			break;
		case '>':
			strbuf_addstr(out, "\\u003e");
			break;
		case '&':
			strbuf_addstr(out, "\\u0026");
			break;
		case '\'':
			strbuf_addstr(out, "\\u0027");
			break;
		default:
			if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000)) {
				if (cp < 0x7f)
					strbuf_addf(out, "\\u%04lx", cp);
				else if (cp == 0x7f)
					strbuf_addch(out, 0x7f);
				else
					strbuf_addf(out, "\\u%04lx", cp);
			} else if (cp >= 0x10000) {
				unsigned long v = cp - 0x10000;
				strbuf_addf(out, "\\u%04lx\\u%04lx", 0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff));
			} else {
				strbuf_addch(out, (int)cp);
			}
		}
	}
	strbuf_addch(out, '"');
}

static void json_newline(struct strbuf *out, long indent, int level)
{
	strbuf_addch(out, '\n');
	strbuf_addchars(out, ' ', (size_t)(indent * level));
}

int py_tojson(struct jinja_call *c, struct jval v, int sort_keys, long indent, int level,
	      struct strbuf *out)
{
	/* also what ends a list that contains itself (Python: "Circular
	 * reference detected") without overflowing the stack */
	if (level > 200)
		return jinja_call_error(c, "tojson: the value is nested too deeply (or contains itself)");
	if (out->len > (size_t)JINJA_MAX_STR)
		return jinja_call_error(c, "tojson: the result is too long (more than %lld bytes)",
					(long long)JINJA_MAX_STR);
	switch (v.type) {
	case JVAL_NONE:
		strbuf_addstr(out, "null");
		return 0;
	case JVAL_BOOL:
		strbuf_addstr(out, v.u.b ? "true" : "false");
		return 0;
	case JVAL_INT:
		strbuf_addf(out, "%lld", (long long)v.u.i);
		return 0;
	case JVAL_FLOAT:
		if (isnan(v.u.f))
			strbuf_addstr(out, "NaN");
		else if (isinf(v.u.f))
			strbuf_addstr(out, v.u.f < 0 ? "-Infinity" : "Infinity");
		else
			jval_write_float(out, v.u.f);
		return 0;
	case JVAL_STR:
		json_str(out, v.u.s->s, v.u.s->len);
		return 0;
	case JVAL_LIST: {
		if (v.u.l->kind > JL_TUPLE)
			break;
		if (!v.u.l->n) {
			strbuf_addstr(out, "[]");
			return 0;
		}
		strbuf_addch(out, '[');
		for (size_t i = 0; i < v.u.l->n; i++) {
			if (i)
				strbuf_addstr(out, indent >= 0 ? "," : ", ");
			if (indent >= 0)
				json_newline(out, indent, level + 1);
			if (py_tojson(c, v.u.l->v[i], sort_keys, indent, level + 1, out))
				return -1;
		}
		if (indent >= 0)
			json_newline(out, indent, level);
		strbuf_addch(out, ']');
		return 0;
	}
	case JVAL_DICT: {
		if (v.u.d->ns)
			break;
		size_t n = v.u.d->n;
		if (!n) {
			strbuf_addstr(out, "{}");
			return 0;
		}
		/* keys must be strings (or scalars, which json turns into strings) */
		struct jval *keys = xmalloc(n * sizeof(*keys));
		for (size_t i = 0; i < n; i++) {
			struct jval k = v.u.d->e[i].key;
			if (k.type == JVAL_STR) {
				keys[i] = jval_ref(k);
			} else if (k.type == JVAL_INT || k.type == JVAL_FLOAT) {
				struct strbuf sb = STRBUF_INIT;
				jval_write_str(&sb, k);
				keys[i] = jval_str_from_buf(&sb);
			} else if (k.type == JVAL_BOOL || k.type == JVAL_NONE) {
				keys[i] = jval_str(k.type == JVAL_NONE ? "null" : k.u.b ? "true" : "false");
			} else {
				for (size_t j = 0; j < i; j++)
					jval_unref(keys[j]);
				free(keys);
				return jinja_call_error(c, "keys must be str, int, float, bool or None, not %s",
							jval_type_name(k));
			}
		}
		size_t *order = xmalloc(n * sizeof(*order));
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		if (sort_keys) {
			/* insertion sort by key: dicts in templates are small */
			for (size_t i = 1; i < n; i++) {
				size_t x = order[i], j = i;
				int cmp = 0;
				while (j > 0) {
					jval_compare(keys[order[j - 1]], keys[x], &cmp);
					if (cmp <= 0)
						break;
					order[j] = order[j - 1];
					j--;
				}
				order[j] = x;
			}
		}
		int rc = 0;
		strbuf_addch(out, '{');
		for (size_t i = 0; i < n && !rc; i++) {
			if (i)
				strbuf_addstr(out, indent >= 0 ? "," : ", ");
			if (indent >= 0)
				json_newline(out, indent, level + 1);
			struct jval k = keys[order[i]];
			json_str(out, k.u.s->s, k.u.s->len);
			strbuf_addstr(out, ": ");
			rc = py_tojson(c, v.u.d->e[order[i]].val, sort_keys, indent, level + 1, out);
		}
		if (!rc) {
			if (indent >= 0)
				json_newline(out, indent, level);
			strbuf_addch(out, '}');
		}
		for (size_t i = 0; i < n; i++)
			jval_unref(keys[i]);
		free(keys);
		free(order);
		return rc;
	}
	case JVAL_UNDEFINED:
		if (render_strict(c->r, v))
			return render_undefined(c->r, c->site, v);
		break;
	default:
		break;
	}
	return jinja_call_error(c, "Object of type %s is not JSON serializable", jval_type_name(v));
}

/* --- str.format ------------------------------------------------------------ */

struct spec {
	char fill, align, sign, type;
	int alt, zero, comma;
	long width, prec;
};

/* Decimal digits at s[*i] as a width or precision, saturating past
 * JINJA_MAX_STR (the caller refuses that). */
static long spec_number(const char *s, size_t n, size_t *i)
{
	long v = 0;
	while (*i < n && isdigit((unsigned char)s[*i])) {
		if (v <= JINJA_MAX_STR)
			v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return v;
}

static int parse_spec(const char *s, size_t n, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->fill = ' ';
	sp->width = -1;
	sp->prec = -1;
	size_t i = 0;
	if (n >= 2 && strchr("<>=^", s[1])) {
		sp->fill = s[0];
		sp->align = s[1];
		i = 2;
	} else if (n >= 1 && strchr("<>=^", s[0])) {
		sp->align = s[0];
		i = 1;
	}
	if (i < n && strchr("+- ", s[i]))
		sp->sign = s[i++];
	if (i < n && s[i] == '#') {
		sp->alt = 1;
		i++;
	}
	if (i < n && s[i] == '0') {
		sp->zero = 1;
		i++;
	}
	if (i < n && isdigit((unsigned char)s[i]))
		sp->width = spec_number(s, n, &i);
	if (i < n && (s[i] == ',' || s[i] == '_')) {
		sp->comma = s[i];
		i++;
	}
	if (i < n && s[i] == '.') {
		i++;
		sp->prec = spec_number(s, n, &i);
	}
	if (i < n)
		sp->type = s[i++];
	return i == n ? 0 : -1;
}

static void add_grouped(struct strbuf *out, const char *digits, char sep)
{
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			strbuf_addch(out, sep);
		strbuf_addch(out, digits[i]);
	}
}

static int format_one(struct jinja_call *c, struct jval v, const char *specs, size_t slen,
		      struct strbuf *out)
{
	struct spec sp;
	if (parse_spec(specs, slen, &sp))
		return jinja_call_error(c, "Invalid format specifier");
	if (sp.width > JINJA_MAX_STR || sp.prec > JINJA_MAX_STR)
		return jinja_call_error(c, "format width or precision is too large (the limit is %lld)",
					(long long)JINJA_MAX_STR);
	struct strbuf body = STRBUF_INIT;
	int numeric = 0;
	char t = sp.type;
	if (v.type == JVAL_BOOL && !slen) {
		/* format(True, '') is str(True); any other spec formats an int */
		strbuf_addstr(out, v.u.b ? "True" : "False");
		strbuf_release(&body);
		return 0;
	}
	if ((v.type == JVAL_INT || v.type == JVAL_BOOL || v.type == JVAL_FLOAT) && t != 's') {
		numeric = 1;
		double f = v.type == JVAL_FLOAT ? v.u.f : (double)(v.type == JVAL_INT ? v.u.i : v.u.b);
		int64_t iv = v.type == JVAL_INT ? v.u.i : v.u.b;
		int neg;
		char buf[512];
		if (!t && v.type != JVAL_FLOAT)
			t = 'd';
		if (t == 'd' || t == 'n') {
			if (v.type == JVAL_FLOAT) {
				strbuf_release(&body);
				return jinja_call_error(c, "Unknown format code 'd' for object of type 'float'");
			}
			neg = iv < 0;
			snprintf(buf, sizeof(buf), "%llu",
				 neg ? (unsigned long long)(-(iv + 1)) + 1ULL : (unsigned long long)iv);
		} else if (t == 'x' || t == 'X' || t == 'o' || t == 'b') {
			neg = iv < 0;
			unsigned long long u = neg ? (unsigned long long)(-(iv + 1)) + 1ULL
						   : (unsigned long long)iv;
			if (t == 'b') {
				char tmp[70];
				int k = 0;
				do {
					tmp[k++] = (char)('0' + (u & 1));
					u >>= 1;
				} while (u);
				for (int j = 0; j < k; j++)
					buf[j] = tmp[k - 1 - j];
				buf[k] = '\0';
			} else {
				snprintf(buf, sizeof(buf), t == 'x' ? "%llx" : t == 'X' ? "%llX" : "%llo", u);
			}
		} else if (t == 'f' || t == 'F' || t == 'e' || t == 'E' || t == 'g' || t == 'G' ||
			   t == '%' || !t) {
			neg = signbit(f) && !isnan(f);
			double a = fabs(f);
			if (t == '%') {
				snprintf(buf, sizeof(buf), "%.*f%%", (int)(sp.prec < 0 ? 6 : sp.prec), a * 100);
			} else if (!t) {
				if (sp.prec < 0) {
					struct strbuf fb = STRBUF_INIT;
					jval_write_float(&fb, a);
					snprintf(buf, sizeof(buf), "%s", fb.buf);
					strbuf_release(&fb);
				} else {
					snprintf(buf, sizeof(buf), "%.*g", (int)(sp.prec ? sp.prec : 1), a);
				}
			} else {
				char fmt[8] = { '%', '.', '*', t, 0 };
				snprintf(buf, sizeof(buf), fmt, (int)(sp.prec < 0 ? 6 : sp.prec), a);
			}
		} else {
			strbuf_release(&body);
			return jinja_call_error(c, "Unknown format code '%c' for object of type '%s'", t,
						jval_type_name(v));
		}
		if (neg)
			strbuf_addch(&body, '-');
		else if (sp.sign == '+')
			strbuf_addch(&body, '+');
		else if (sp.sign == ' ')
			strbuf_addch(&body, ' ');
		if (sp.alt && (t == 'x' || t == 'X' || t == 'o' || t == 'b'))
			strbuf_addf(&body, "0%c", t);
		if (sp.comma && (t == 'd' || t == 'f' || t == 'F' || !t)) {
			char *dot = strchr(buf, '.');
			char tail[512] = "";
			if (dot) {
				snprintf(tail, sizeof(tail), "%s", dot);
				*dot = '\0';
			}
			add_grouped(&body, buf, (char)sp.comma);
			strbuf_addstr(&body, tail);
		} else {
			strbuf_addstr(&body, buf);
		}
	} else {
		if (t && t != 's') {
			strbuf_release(&body);
			return jinja_call_error(c, "Unknown format code '%c' for object of type '%s'", t,
						jval_type_name(v));
		}
		if (v.type == JVAL_UNDEFINED && render_strict(c->r, v)) {
			strbuf_release(&body);
			return render_undefined(c->r, c->site, v);
		}
		jval_write_str(&body, v);
		if (sp.prec >= 0 && v.type == JVAL_STR)
			strbuf_setlen(&body, utf8_offset(body.buf, body.len, (size_t)sp.prec));
	}
	size_t len = utf8_len(body.buf, body.len);
	if (sp.width > 0 && (size_t)sp.width > len) {
		size_t pad = (size_t)sp.width - len;
		char align = sp.align ? sp.align : numeric ? '>' : '<';
		char fill = sp.fill;
		if (sp.zero && !sp.align) {
			align = '=';
			fill = '0';
		}
		if (align == '<') {
			strbuf_addbuf(out, &body);
			strbuf_addchars(out, fill, pad);
		} else if (align == '>') {
			strbuf_addchars(out, fill, pad);
			strbuf_addbuf(out, &body);
		} else if (align == '^') {
			strbuf_addchars(out, fill, pad / 2);
			strbuf_addbuf(out, &body);
			strbuf_addchars(out, fill, pad - pad / 2);
		} else {
			size_t signlen = body.len && strchr("+- ", body.buf[0]) ? 1 : 0;
			strbuf_add(out, body.buf, signlen);
			strbuf_addchars(out, fill, pad);
			strbuf_add(out, body.buf + signlen, body.len - signlen);
		}
	} else {
		strbuf_addbuf(out, &body);
	}
	strbuf_release(&body);
	return 0;
}

int py_format(struct jinja_call *c, const char *fmt, size_t len, size_t argc,
	      const struct jval *argv, size_t kwc, const char *const *kwnames,
	      const struct jval *kwvals, struct strbuf *out)
{
	size_t auto_idx = 0;
	int used_auto = 0, used_manual = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = fmt[i];
		if (ch == '}') {
			if (i + 1 < len && fmt[i + 1] == '}') {
				strbuf_addch(out, '}');
				i++;
				continue;
			}
			return jinja_call_error(c, "Single '}' encountered in format string");
		}
		if (ch != '{') {
			strbuf_addch(out, ch);
			continue;
		}
		if (i + 1 < len && fmt[i + 1] == '{') {
			strbuf_addch(out, '{');
			i++;
			continue;
		}
		size_t end = i + 1;
		int depth = 1;
		while (end < len && depth) {
			if (fmt[end] == '{')
				depth++;
			else if (fmt[end] == '}')
				depth--;
			if (depth)
				end++;
		}
		if (end >= len)
			return jinja_call_error(c, "expected '}' before end of string");
		const char *field = fmt + i + 1;
		size_t flen = end - i - 1;
		const char *colon = memchr(field, ':', flen);
		const char *bang = memchr(field, '!', colon ? (size_t)(colon - field) : flen);
		size_t nlen = bang ? (size_t)(bang - field) : colon ? (size_t)(colon - field) : flen;
		/* the argument: index, name, or next; then .attr / [key] parts */
		size_t j = 0;
		while (j < nlen && field[j] != '.' && field[j] != '[')
			j++;
		struct jval v;
		if (j == 0) {
			if (used_manual)
				return jinja_call_error(c, "cannot switch from manual field specification to automatic field numbering");
			used_auto = 1;
			if (auto_idx >= argc)
				return jinja_call_error(c, "Replacement index %zu out of range for positional args tuple", auto_idx);
			v = jval_ref(argv[auto_idx++]);
		} else if (isdigit((unsigned char)field[0])) {
			if (used_auto)
				return jinja_call_error(c, "cannot switch from automatic field numbering to manual field specification");
			used_manual = 1;
			size_t k = (size_t)strtoul(field, NULL, 10);
			if (k >= argc)
				return jinja_call_error(c, "Replacement index %zu out of range for positional args tuple", k);
			v = jval_ref(argv[k]);
		} else {
			size_t k;
			for (k = 0; k < kwc; k++)
				if (strlen(kwnames[k]) == j && !memcmp(kwnames[k], field, j))
					break;
			if (k == kwc)
				return jinja_call_error(c, "'%.*s'", (int)j, field);
			v = jval_ref(kwvals[k]);
		}
		while (j < nlen) {
			struct jval key, nv;
			if (field[j] == '.') {
				size_t s = ++j;
				while (j < nlen && field[j] != '.' && field[j] != '[')
					j++;
				char *name = xstrndup(field + s, j - s);
				int rc = value_getattr(c->r, c->site, v, name, &nv);
				free(name);
				jval_unref(v);
				if (rc)
					return -1;
				v = nv;
			} else {
				size_t s = ++j;
				while (j < nlen && field[j] != ']')
					j++;
				char *name = xstrndup(field + s, j - s);
				char *e;
				long long n = strtoll(name, &e, 10);
				key = *name && !*e ? jval_int(n) : jval_str(name);
				free(name);
				j++;
				int rc = value_getitem(c->r, c->site, v, key, &nv);
				jval_unref(key);
				jval_unref(v);
				if (rc)
					return -1;
				v = nv;
			}
		}
		if (bang && bang + 1 < field + flen && bang[1] == 'r') {
			struct strbuf sb = STRBUF_INIT;
			jval_write_repr(&sb, v);
			jval_unref(v);
			v = jval_str_from_buf(&sb);
		}
		int rc = format_one(c, v, colon ? colon + 1 : "", colon ? flen - (size_t)(colon + 1 - field) : 0,
				    out);
		jval_unref(v);
		if (rc)
			return -1;
		i = end;
	}
	return 0;
}

/* --- %-formatting ------------------------------------------------------------ */

int py_percent(struct jinja_call *c, const char *fmt, size_t len, struct jval args,
	       struct strbuf *out)
{
	size_t argi = 0, nargs;
	const struct jval *av;
	int is_tuple = args.type == JVAL_LIST && args.u.l->kind == JL_TUPLE;
	if (is_tuple) {
		av = args.u.l->v;
		nargs = args.u.l->n;
	} else {
		av = &args;
		nargs = 1;
	}
	for (size_t i = 0; i < len; i++) {
		if (fmt[i] != '%') {
			strbuf_addch(out, fmt[i]);
			continue;
		}
		if (++i >= len)
			return jinja_call_error(c, "incomplete format");
		struct jval key = jval_undefined();
		if (fmt[i] == '(') {
			size_t e = i + 1;
			while (e < len && fmt[e] != ')')
				e++;
			if (e >= len)
				return jinja_call_error(c, "incomplete format key");
			char *name = xstrndup(fmt + i + 1, e - i - 1);
			const struct jval *v = args.type == JVAL_DICT ? jval_dict_get(args, name) : NULL;
			if (!v) {
				jinja_call_error(c, "'%s'", name);
				free(name);
				return -1;
			}
			free(name);
			key = *v;
			i = e + 1;
		}
		size_t specstart = i;
		while (i < len && strchr("-+ #0", fmt[i]))
			i++;
		long width = spec_number(fmt, len, &i), prec = 0;
		if (i < len && fmt[i] == '.') {
			i++;
			prec = spec_number(fmt, len, &i);
		}
		if (width > JINJA_MAX_STR || prec > JINJA_MAX_STR)
			return jinja_call_error(c, "format width or precision is too large (the limit is %lld)",
						(long long)JINJA_MAX_STR);
		if (i >= len)
			return jinja_call_error(c, "incomplete format");
		char conv = fmt[i];
		if (conv == '%') {
			strbuf_addch(out, '%');
			continue;
		}
		struct jval v;
		if (key.type != JVAL_UNDEFINED) {
			v = key;
		} else {
			if (argi >= nargs)
				return jinja_call_error(c, "not enough arguments for format string");
			v = av[argi++];
		}
		char flags[32];
		size_t fl = i - specstart < sizeof(flags) - 8 ? i - specstart : sizeof(flags) - 8;
		char cfmt[48];
		snprintf(flags, sizeof(flags), "%.*s", (int)fl, fmt + specstart);
		char buf[512];
		switch (conv) {
		case 's':
		case 'r': {
			struct strbuf sb = STRBUF_INIT;
			if (conv == 'r')
				jval_write_repr(&sb, v);
			else
				jval_write_str(&sb, v);
			snprintf(cfmt, sizeof(cfmt), "%%%ss", flags);
			struct strbuf tmp = STRBUF_INIT;
			strbuf_addf(&tmp, cfmt, sb.buf);
			strbuf_addbuf(out, &tmp);
			strbuf_release(&tmp);
			strbuf_release(&sb);
			break;
		}
		case 'd':
		case 'i':
		case 'x':
		case 'X':
		case 'o': {
			int64_t n = 0;
			if (v.type == JVAL_FLOAT && !(fabs(v.u.f) < 9.2e18))
				return jinja_call_error(c, isnan(v.u.f) ? "cannot convert float NaN to integer"
							: isinf(v.u.f) ? "cannot convert float infinity to integer"
								       : "integer overflow");
			if (v.type == JVAL_FLOAT)
				n = (int64_t)v.u.f;
			else if (arg_int(c, &v, "%d format: a real number is required", &n))
				return -1;
			snprintf(cfmt, sizeof(cfmt), "%%%sll%c", flags, conv == 'i' ? 'd' : conv);
			snprintf(buf, sizeof(buf), cfmt, (long long)n);
			strbuf_addstr(out, buf);
			break;
		}
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G': {
			if (v.type != JVAL_FLOAT && v.type != JVAL_INT && v.type != JVAL_BOOL)
				return jinja_call_error(c, "must be real number, not %s", jval_type_name(v));
			double d = v.type == JVAL_FLOAT ? v.u.f : (double)(v.type == JVAL_INT ? v.u.i : v.u.b);
			snprintf(cfmt, sizeof(cfmt), "%%%s%c", flags, conv);
			snprintf(buf, sizeof(buf), cfmt, d);
			strbuf_addstr(out, buf);
			break;
		}
		default:
			return jinja_call_error(c, "unsupported format character '%c'", conv);
		}
	}
	if (argi < nargs && is_tuple)
		return jinja_call_error(c, "not all arguments converted during string formatting");
	return 0;
}
