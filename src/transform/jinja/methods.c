/* Python methods of str, list and dict values, as templates call them:
 * "a,b".split(","), xs.append(1), d.items(). The object is c->self. */
#include "internal.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SELF (c->self)
#define PARAMS(...)                                                                    \
	static const char *const names[] = { __VA_ARGS__ };                            \
	const struct jval *a[ARRAY_SIZE(names)];                                       \
	if (call_bind(c, names, ARRAY_SIZE(names), a))                                 \
		return -1

static int need_str(struct jinja_call *c, const struct jval *v, const char *what)
{
	if (!v)
		return jinja_call_error(c, "%s() missing required argument", c->name);
	if (v->type != JVAL_STR)
		return jinja_call_error(c, "%s arg must be str, not %s", what, jval_type_name(*v));
	return 0;
}

static int ret_str(struct strbuf *sb, struct jval *ret)
{
	*ret = jval_str_from_buf(sb);
	return 0;
}

/* --- str ------------------------------------------------------------------ */

static int s_upper(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	if (c->argc || c->kwc)
		return jinja_call_error(c, "%s() takes no arguments", c->name);
	py_upper(&sb, SELF.u.s->s, SELF.u.s->len);
	return ret_str(&sb, ret);
}

static int s_lower(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	if (c->argc || c->kwc)
		return jinja_call_error(c, "%s() takes no arguments", c->name);
	py_lower(&sb, SELF.u.s->s, SELF.u.s->len);
	return ret_str(&sb, ret);
}

static int s_swapcase(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < SELF.u.s->len; i++) {
		char ch = SELF.u.s->s[i];
		strbuf_addch(&sb, islower((unsigned char)ch) ? toupper((unsigned char)ch)
				  : isupper((unsigned char)ch) ? tolower((unsigned char)ch) : ch);
	}
	return ret_str(&sb, ret);
}

static int s_capitalize(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	if (SELF.u.s->len) {
		py_upper(&sb, SELF.u.s->s, 1);
		py_lower(&sb, SELF.u.s->s + 1, SELF.u.s->len - 1);
	}
	return ret_str(&sb, ret);
}

static int s_title(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	int prev_cased = 0;
	for (size_t i = 0; i < SELF.u.s->len; i++) {
		char ch = SELF.u.s->s[i];
		if (isalpha((unsigned char)ch)) {
			strbuf_addch(&sb, prev_cased ? tolower((unsigned char)ch) : toupper((unsigned char)ch));
			prev_cased = 1;
		} else {
			strbuf_addch(&sb, ch);
			prev_cased = 0;
		}
	}
	return ret_str(&sb, ret);
}

static int strip_common(struct jinja_call *c, struct jval *ret, int which)
{
	PARAMS("chars");
	const char *chars = NULL;
	if (a[0] && a[0]->type != JVAL_NONE) {
		if (need_str(c, a[0], "strip"))
			return -1;
		chars = a[0]->u.s->s;
	}
	struct strbuf sb = STRBUF_INIT;
	py_strip(&sb, SELF.u.s->s, SELF.u.s->len, chars, which);
	return ret_str(&sb, ret);
}

static int s_strip(struct jinja_call *c, struct jval *ret)
{
	return strip_common(c, ret, 3);
}

static int s_lstrip(struct jinja_call *c, struct jval *ret)
{
	return strip_common(c, ret, 1);
}

static int s_rstrip(struct jinja_call *c, struct jval *ret)
{
	return strip_common(c, ret, 2);
}

static int split_common(struct jinja_call *c, struct jval *ret, int right)
{
	PARAMS("sep", "maxsplit");
	int64_t maxsplit = -1;
	if (a[1] && arg_int(c, a[1], "maxsplit", &maxsplit))
		return -1;
	const char *s = SELF.u.s->s;
	size_t n = SELF.u.s->len;
	struct jval l = jval_list_new();
	if (!a[0] || a[0]->type == JVAL_NONE) {
		/* runs of whitespace, no empty strings */
		if (!right) {
			size_t i = 0;
			int64_t done = 0;
			for (;;) {
				while (i < n && py_isspace((unsigned char)s[i]))
					i++;
				if (i >= n)
					break;
				if (maxsplit >= 0 && done >= maxsplit) {
					/* the rest, trailing whitespace and all */
					jlist_push(l.u.l, jval_strn(s + i, n - i));
					break;
				}
				size_t st = i;
				while (i < n && !py_isspace((unsigned char)s[i]))
					i++;
				jlist_push(l.u.l, jval_strn(s + st, i - st));
				done++;
			}
		} else {
			size_t e = n;
			int64_t done = 0;
			struct jval tmp = jval_list_new();
			for (;;) {
				while (e > 0 && py_isspace((unsigned char)s[e - 1]))
					e--;
				if (!e)
					break;
				if (maxsplit >= 0 && done >= maxsplit) {
					jlist_push(tmp.u.l, jval_strn(s, e));
					break;
				}
				size_t en = e;
				while (e > 0 && !py_isspace((unsigned char)s[e - 1]))
					e--;
				jlist_push(tmp.u.l, jval_strn(s + e, en - e));
				done++;
			}
			for (size_t k = tmp.u.l->n; k-- > 0;)
				jlist_push(l.u.l, jval_ref(tmp.u.l->v[k]));
			jval_unref(tmp);
		}
		*ret = l;
		return 0;
	}
	if (need_str(c, a[0], "sep")) {
		jval_unref(l);
		return -1;
	}
	const char *sep = a[0]->u.s->s;
	size_t sl = a[0]->u.s->len;
	if (!sl) {
		jval_unref(l);
		return jinja_call_error(c, "empty separator");
	}
	if (!right) {
		size_t i = 0;
		int64_t done = 0;
		for (;;) {
			const char *hit = (maxsplit < 0 || done < maxsplit) ? memmem(s + i, n - i, sep, sl) : NULL;
			if (!hit) {
				jlist_push(l.u.l, jval_strn(s + i, n - i));
				break;
			}
			jlist_push(l.u.l, jval_strn(s + i, (size_t)(hit - (s + i))));
			i = (size_t)(hit - s) + sl;
			done++;
		}
	} else {
		struct jval tmp = jval_list_new();
		size_t e = n;
		int64_t done = 0;
		for (;;) {
			const char *hit = NULL;
			if (maxsplit < 0 || done < maxsplit)
				for (size_t k = e >= sl ? e - sl + 1 : 0; k-- > 0;)
					if (!memcmp(s + k, sep, sl)) {
						hit = s + k;
						break;
					}
			if (!hit) {
				jlist_push(tmp.u.l, jval_strn(s, e));
				break;
			}
			size_t h = (size_t)(hit - s);
			jlist_push(tmp.u.l, jval_strn(s + h + sl, e - h - sl));
			e = h;
			done++;
		}
		for (size_t k = tmp.u.l->n; k-- > 0;)
			jlist_push(l.u.l, jval_ref(tmp.u.l->v[k]));
		jval_unref(tmp);
	}
	*ret = l;
	return 0;
}

static int s_split(struct jinja_call *c, struct jval *ret)
{
	return split_common(c, ret, 0);
}

static int s_rsplit(struct jinja_call *c, struct jval *ret)
{
	return split_common(c, ret, 1);
}

static int s_splitlines(struct jinja_call *c, struct jval *ret)
{
	PARAMS("keepends");
	int keep = a[0] && jval_truthy(*a[0]);
	const char *s = SELF.u.s->s;
	size_t n = SELF.u.s->len, i = 0;
	struct jval l = jval_list_new();
	while (i < n) {
		size_t e = i;
		while (e < n && !strchr("\n\r\v\f\x1c\x1d\x1e", s[e]))
			e++;
		size_t next = e < n ? e + 1 : e;
		if (e < n && s[e] == '\r' && next < n && s[next] == '\n')
			next++;
		jlist_push(l.u.l, jval_strn(s + i, (keep ? next : e) - i));
		i = next;
	}
	*ret = l;
	return 0;
}

static int s_replace(struct jinja_call *c, struct jval *ret)
{
	PARAMS("old", "new", "count");
	int64_t count = -1;
	if (need_str(c, a[0], "replace") || need_str(c, a[1], "replace"))
		return -1;
	if (a[2] && arg_int(c, a[2], "count", &count))
		return -1;
	struct strbuf sb = STRBUF_INIT;
	if (py_replace(&sb, SELF.u.s->s, SELF.u.s->len, a[0]->u.s->s, a[0]->u.s->len, a[1]->u.s->s,
		       a[1]->u.s->len, count) < 0) {
		strbuf_release(&sb);
		return jinja_call_error(c, "replaced string is too long (more than %lld bytes)",
					(long long)JINJA_MAX_STR);
	}
	return ret_str(&sb, ret);
}

static int affix_common(struct jinja_call *c, struct jval *ret, int end)
{
	if (c->argc < 1)
		return jinja_call_error(c, "%s() takes at least 1 argument (0 given)", c->name);
	struct jval p = c->argv[0];
	const char *s = SELF.u.s->s;
	size_t n = SELF.u.s->len;
	size_t cnt = p.type == JVAL_LIST && p.u.l->kind == JL_TUPLE ? p.u.l->n : 1;
	for (size_t i = 0; i < cnt; i++) {
		struct jval x = p.type == JVAL_LIST && p.u.l->kind == JL_TUPLE ? p.u.l->v[i] : p;
		if (x.type != JVAL_STR)
			return jinja_call_error(c, "%s first arg must be str or a tuple of str, not %s",
						c->name, jval_type_name(x));
		size_t xl = x.u.s->len;
		if (xl <= n && !memcmp(end ? s + n - xl : s, x.u.s->s, xl)) {
			*ret = jval_bool(1);
			return 0;
		}
	}
	*ret = jval_bool(0);
	return 0;
}

static int s_startswith(struct jinja_call *c, struct jval *ret)
{
	return affix_common(c, ret, 0);
}

static int s_endswith(struct jinja_call *c, struct jval *ret)
{
	return affix_common(c, ret, 1);
}

static int s_removeprefix(struct jinja_call *c, struct jval *ret)
{
	PARAMS("prefix");
	if (need_str(c, a[0], "removeprefix"))
		return -1;
	size_t pl = a[0]->u.s->len;
	if (pl <= SELF.u.s->len && !memcmp(SELF.u.s->s, a[0]->u.s->s, pl))
		*ret = jval_strn(SELF.u.s->s + pl, SELF.u.s->len - pl);
	else
		*ret = jval_ref(SELF);
	return 0;
}

static int s_removesuffix(struct jinja_call *c, struct jval *ret)
{
	PARAMS("suffix");
	if (need_str(c, a[0], "removesuffix"))
		return -1;
	size_t pl = a[0]->u.s->len, n = SELF.u.s->len;
	if (pl && pl <= n && !memcmp(SELF.u.s->s + n - pl, a[0]->u.s->s, pl))
		*ret = jval_strn(SELF.u.s->s, n - pl);
	else
		*ret = jval_ref(SELF);
	return 0;
}

static int s_format(struct jinja_call *c, struct jval *ret)
{
	struct strbuf sb = STRBUF_INIT;
	if (py_format(c, SELF.u.s->s, SELF.u.s->len, c->argc, c->argv, c->kwc, c->kwnames,
		      c->kwvals, &sb)) {
		strbuf_release(&sb);
		return -1;
	}
	return ret_str(&sb, ret);
}

static int s_join(struct jinja_call *c, struct jval *ret)
{
	PARAMS("iterable");
	if (!a[0])
		return jinja_call_error(c, "join() takes exactly one argument (0 given)");
	struct jval l;
	if (value_iterate(c->r, c->site, *a[0], &l))
		return -1;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < l.u.l->n; i++) {
		struct jval x = l.u.l->v[i];
		if (x.type != JVAL_STR) {
			jval_unref(l);
			strbuf_release(&sb);
			return jinja_call_error(c, "sequence item %zu: expected str instance, %s found", i,
						jval_type_name(x));
		}
		if (i)
			strbuf_add(&sb, SELF.u.s->s, SELF.u.s->len);
		strbuf_add(&sb, x.u.s->s, x.u.s->len);
		if (sb.len > (size_t)JINJA_MAX_STR) {
			jval_unref(l);
			strbuf_release(&sb);
			return jinja_call_error(c, "joined string is too long (more than %lld bytes)",
						(long long)JINJA_MAX_STR);
		}
	}
	jval_unref(l);
	return ret_str(&sb, ret);
}

/* Find sub in self; returns the character index or -1. */
static int64_t find_sub(struct jval self, struct jval sub, int from_right)
{
	const char *s = self.u.s->s, *hit = NULL;
	size_t n = self.u.s->len, sl = sub.u.s->len;
	if (!from_right) {
		hit = memmem(s, n, sub.u.s->s, sl);
	} else if (sl <= n) {
		for (size_t k = n - sl + 1; k-- > 0;)
			if (!memcmp(s + k, sub.u.s->s, sl)) {
				hit = s + k;
				break;
			}
	}
	if (!hit)
		return -1;
	return (int64_t)(self.u.s->ascii ? (size_t)(hit - s) : utf8_len(s, (size_t)(hit - s)));
}

static int find_common(struct jinja_call *c, struct jval *ret, int right, int raise)
{
	PARAMS("sub");
	if (need_str(c, a[0], c->name))
		return -1;
	int64_t i = find_sub(SELF, *a[0], right);
	if (i < 0 && raise)
		return jinja_call_error(c, "substring not found");
	*ret = jval_int(i);
	return 0;
}

static int s_find(struct jinja_call *c, struct jval *ret)
{
	return find_common(c, ret, 0, 0);
}

static int s_rfind(struct jinja_call *c, struct jval *ret)
{
	return find_common(c, ret, 1, 0);
}

static int s_index(struct jinja_call *c, struct jval *ret)
{
	return find_common(c, ret, 0, 1);
}

static int s_rindex(struct jinja_call *c, struct jval *ret)
{
	return find_common(c, ret, 1, 1);
}

static int s_count(struct jinja_call *c, struct jval *ret)
{
	PARAMS("sub");
	if (need_str(c, a[0], "count"))
		return -1;
	const char *s = SELF.u.s->s;
	size_t n = SELF.u.s->len, sl = a[0]->u.s->len;
	int64_t cnt = 0;
	if (!sl) {
		*ret = jval_int((int64_t)jval_len(SELF) + 1);
		return 0;
	}
	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), a[0]->u.s->s, sl)); p += sl)
		cnt++;
	*ret = jval_int(cnt);
	return 0;
}

static int char_class(struct jinja_call *c, struct jval *ret, int (*pred)(int))
{
	size_t n = SELF.u.s->len;
	int ok = n > 0;
	for (size_t i = 0; i < n && ok; i++)
		ok = pred((unsigned char)SELF.u.s->s[i]);
	*ret = jval_bool(ok);
	return 0;
}

static int s_isdigit(struct jinja_call *c, struct jval *ret)
{
	return char_class(c, ret, isdigit);
}

static int s_isalpha(struct jinja_call *c, struct jval *ret)
{
	return char_class(c, ret, isalpha);
}

static int s_isalnum(struct jinja_call *c, struct jval *ret)
{
	return char_class(c, ret, isalnum);
}

static int s_isspace(struct jinja_call *c, struct jval *ret)
{
	return char_class(c, ret, py_isspace);
}

static int s_iscase(struct jinja_call *c, struct jval *ret, int upper)
{
	int cased = 0;
	for (size_t i = 0; i < SELF.u.s->len; i++) {
		unsigned char ch = (unsigned char)SELF.u.s->s[i];
		if (upper ? islower(ch) : isupper(ch)) {
			*ret = jval_bool(0);
			return 0;
		}
		if (isalpha(ch))
			cased = 1;
	}
	*ret = jval_bool(cased);
	return 0;
}

static int s_islower(struct jinja_call *c, struct jval *ret)
{
	return s_iscase(c, ret, 0);
}

static int s_isupper(struct jinja_call *c, struct jval *ret)
{
	return s_iscase(c, ret, 1);
}

static int pad_common(struct jinja_call *c, struct jval *ret, int how)
{
	PARAMS("width", "fillchar");
	int64_t width;
	if (!a[0])
		return jinja_call_error(c, "%s() takes at least 1 argument (0 given)", c->name);
	if (arg_size(c, a[0], "width", 0, &width))
		return -1;
	char fill = ' ';
	if (a[1]) {
		if (a[1]->type != JVAL_STR || a[1]->u.s->len != 1)
			return jinja_call_error(c, "The fill character must be exactly one character long");
		fill = a[1]->u.s->s[0];
	}
	int64_t len = (int64_t)jval_len(SELF);
	if (width <= len) {
		*ret = jval_ref(SELF);
		return 0;
	}
	int64_t pad = width - len, left;
	if (how == 0)
		left = 0;
	else if (how == 1)
		left = pad;
	else
		left = pad / 2 + (pad & width & 1);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addchars(&sb, fill, (size_t)left);
	strbuf_add(&sb, SELF.u.s->s, SELF.u.s->len);
	strbuf_addchars(&sb, fill, (size_t)(pad - left));
	return ret_str(&sb, ret);
}

static int s_ljust(struct jinja_call *c, struct jval *ret)
{
	return pad_common(c, ret, 0);
}

static int s_rjust(struct jinja_call *c, struct jval *ret)
{
	return pad_common(c, ret, 1);
}

static int s_center(struct jinja_call *c, struct jval *ret)
{
	return pad_common(c, ret, 2);
}

static int s_zfill(struct jinja_call *c, struct jval *ret)
{
	PARAMS("width");
	int64_t width;
	if (!a[0] || arg_size(c, a[0], "width", 0, &width))
		return a[0] ? -1 : jinja_call_error(c, "zfill() takes exactly one argument");
	int64_t len = (int64_t)jval_len(SELF);
	if (width <= len) {
		*ret = jval_ref(SELF);
		return 0;
	}
	struct strbuf sb = STRBUF_INIT;
	const char *s = SELF.u.s->s;
	size_t sign = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	strbuf_add(&sb, s, sign);
	strbuf_addchars(&sb, '0', (size_t)(width - len));
	strbuf_add(&sb, s + sign, SELF.u.s->len - sign);
	return ret_str(&sb, ret);
}

static int partition_common(struct jinja_call *c, struct jval *ret, int right)
{
	PARAMS("sep");
	if (need_str(c, a[0], "partition"))
		return -1;
	if (!a[0]->u.s->len)
		return jinja_call_error(c, "empty separator");
	const char *s = SELF.u.s->s;
	size_t n = SELF.u.s->len, sl = a[0]->u.s->len;
	const char *hit = NULL;
	if (!right) {
		hit = memmem(s, n, a[0]->u.s->s, sl);
	} else if (sl <= n) {
		for (size_t k = n - sl + 1; k-- > 0;)
			if (!memcmp(s + k, a[0]->u.s->s, sl)) {
				hit = s + k;
				break;
			}
	}
	struct jval t = jval_tuple_new();
	if (!hit) {
		if (right) {
			jlist_push(t.u.l, jval_str(""));
			jlist_push(t.u.l, jval_str(""));
			jlist_push(t.u.l, jval_ref(SELF));
		} else {
			jlist_push(t.u.l, jval_ref(SELF));
			jlist_push(t.u.l, jval_str(""));
			jlist_push(t.u.l, jval_str(""));
		}
	} else {
		size_t h = (size_t)(hit - s);
		jlist_push(t.u.l, jval_strn(s, h));
		jlist_push(t.u.l, jval_ref(*a[0]));
		jlist_push(t.u.l, jval_strn(s + h + sl, n - h - sl));
	}
	*ret = t;
	return 0;
}

static int s_partition(struct jinja_call *c, struct jval *ret)
{
	return partition_common(c, ret, 0);
}

static int s_rpartition(struct jinja_call *c, struct jval *ret)
{
	return partition_common(c, ret, 1);
}

/* --- list ------------------------------------------------------------------- */

static int l_append(struct jinja_call *c, struct jval *ret)
{
	PARAMS("object");
	if (!a[0])
		return jinja_call_error(c, "append() takes exactly one argument (0 given)");
	jlist_push(SELF.u.l, jval_ref(*a[0]));
	*ret = jval_none();
	return 0;
}

static int l_extend(struct jinja_call *c, struct jval *ret)
{
	PARAMS("iterable");
	struct jval l;
	if (!a[0])
		return jinja_call_error(c, "extend() takes exactly one argument (0 given)");
	if (value_iterate(c->r, c->site, *a[0], &l))
		return -1;
	size_t n = l.u.l->n; /* xs.extend(xs) adds each item once */
	for (size_t i = 0; i < n; i++)
		jlist_push(SELF.u.l, jval_ref(l.u.l->v[i]));
	jval_unref(l);
	*ret = jval_none();
	return 0;
}

static int l_pop(struct jinja_call *c, struct jval *ret)
{
	PARAMS("index");
	struct jlist *l = SELF.u.l;
	int64_t i = -1;
	if (a[0] && arg_int(c, a[0], "index", &i))
		return -1;
	if (!l->n)
		return jinja_call_error(c, "pop from empty list");
	if (i < 0)
		i += (int64_t)l->n;
	if (i < 0 || i >= (int64_t)l->n)
		return jinja_call_error(c, "pop index out of range");
	*ret = l->v[i];
	memmove(l->v + i, l->v + i + 1, (l->n - (size_t)i - 1) * sizeof(*l->v));
	l->n--;
	return 0;
}

static int l_insert(struct jinja_call *c, struct jval *ret)
{
	PARAMS("index", "object");
	int64_t i;
	if (!a[0] || !a[1])
		return jinja_call_error(c, "insert expected 2 arguments");
	if (arg_int(c, a[0], "index", &i))
		return -1;
	struct jlist *l = SELF.u.l;
	if (i < 0)
		i += (int64_t)l->n;
	if (i < 0)
		i = 0;
	if (i > (int64_t)l->n)
		i = (int64_t)l->n;
	jlist_push(l, jval_none());
	memmove(l->v + i + 1, l->v + i, (l->n - 1 - (size_t)i) * sizeof(*l->v));
	l->v[i] = jval_ref(*a[1]);
	*ret = jval_none();
	return 0;
}

static long list_find(struct jlist *l, struct jval x)
{
	for (size_t i = 0; i < l->n; i++)
		if (jval_equal(l->v[i], x))
			return (long)i;
	return -1;
}

static int l_remove(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	if (!a[0])
		return jinja_call_error(c, "remove() takes exactly one argument (0 given)");
	struct jlist *l = SELF.u.l;
	long i = list_find(l, *a[0]);
	if (i < 0)
		return jinja_call_error(c, "list.remove(x): x not in list");
	jval_unref(l->v[i]);
	memmove(l->v + i, l->v + i + 1, (l->n - (size_t)i - 1) * sizeof(*l->v));
	l->n--;
	*ret = jval_none();
	return 0;
}

static int l_index(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	if (!a[0])
		return jinja_call_error(c, "index expected at least 1 argument, got 0");
	long i = list_find(SELF.u.l, *a[0]);
	if (i < 0) {
		struct strbuf sb = STRBUF_INIT;
		jval_write_repr(&sb, *a[0]);
		jinja_call_error(c, "%s is not in %s", sb.buf, jval_type_name(SELF));
		strbuf_release(&sb);
		return -1;
	}
	*ret = jval_int(i);
	return 0;
}

static int l_count(struct jinja_call *c, struct jval *ret)
{
	PARAMS("value");
	if (!a[0])
		return jinja_call_error(c, "count() takes exactly one argument (0 given)");
	int64_t n = 0;
	for (size_t i = 0; i < SELF.u.l->n; i++)
		n += jval_equal(SELF.u.l->v[i], *a[0]);
	*ret = jval_int(n);
	return 0;
}

static int l_reverse(struct jinja_call *c, struct jval *ret)
{
	struct jlist *l = SELF.u.l;
	for (size_t i = 0; i < l->n / 2; i++) {
		struct jval t = l->v[i];
		l->v[i] = l->v[l->n - 1 - i];
		l->v[l->n - 1 - i] = t;
	}
	*ret = jval_none();
	return 0;
}

static int l_sort(struct jinja_call *c, struct jval *ret)
{
	PARAMS("reverse");
	if (sort_values(c, SELF.u.l->v, SELF.u.l->n, a[0] && jval_truthy(*a[0]), 1, NULL))
		return -1;
	*ret = jval_none();
	return 0;
}

static int l_copy(struct jinja_call *c, struct jval *ret)
{
	struct jval l = jval_list_new();
	for (size_t i = 0; i < SELF.u.l->n; i++)
		jlist_push(l.u.l, jval_ref(SELF.u.l->v[i]));
	*ret = l;
	return 0;
}

static int l_clear(struct jinja_call *c, struct jval *ret)
{
	struct jlist *l = SELF.u.l;
	for (size_t i = 0; i < l->n; i++)
		jval_unref(l->v[i]);
	l->n = 0;
	*ret = jval_none();
	return 0;
}

/* --- dict --------------------------------------------------------------------- */

static int d_view(struct jinja_call *c, struct jval *ret, enum jlist_kind kind)
{
	struct jdict *d = SELF.u.d;
	struct jval l = jval_list_from(NULL, 0, kind);
	for (size_t i = 0; i < d->n; i++) {
		if (kind == JL_KEYS) {
			jlist_push(l.u.l, jval_ref(d->e[i].key));
		} else if (kind == JL_VALUES) {
			jlist_push(l.u.l, jval_ref(d->e[i].val));
		} else {
			struct jval t = jval_tuple_new();
			jlist_push(t.u.l, jval_ref(d->e[i].key));
			jlist_push(t.u.l, jval_ref(d->e[i].val));
			jlist_push(l.u.l, t);
		}
	}
	*ret = l;
	return 0;
}

static int d_items(struct jinja_call *c, struct jval *ret)
{
	return d_view(c, ret, JL_ITEMS);
}

static int d_keys(struct jinja_call *c, struct jval *ret)
{
	return d_view(c, ret, JL_KEYS);
}

static int d_values(struct jinja_call *c, struct jval *ret)
{
	return d_view(c, ret, JL_VALUES);
}

static int hashable(struct jinja_call *c, const struct jval *k)
{
	uint32_t h;
	if (jval_hash(*k, &h))
		return jinja_call_error(c, "unhashable type: '%s'", jval_type_name(*k));
	return 0;
}

static int d_get(struct jinja_call *c, struct jval *ret)
{
	PARAMS("key", "default");
	if (!a[0])
		return jinja_call_error(c, "get expected at least 1 argument, got 0");
	if (hashable(c, a[0]))
		return -1;
	const struct jval *v = jval_dict_getv(SELF, *a[0]);
	*ret = v ? jval_ref(*v) : a[1] ? jval_ref(*a[1]) : jval_none();
	return 0;
}

static int d_setdefault(struct jinja_call *c, struct jval *ret)
{
	PARAMS("key", "default");
	if (!a[0])
		return jinja_call_error(c, "setdefault expected at least 1 argument, got 0");
	if (hashable(c, a[0]))
		return -1;
	const struct jval *v = jval_dict_getv(SELF, *a[0]);
	if (v) {
		*ret = jval_ref(*v);
		return 0;
	}
	struct jval d = a[1] ? jval_ref(*a[1]) : jval_none();
	jval_dict_setv(SELF, jval_ref(*a[0]), jval_ref(d));
	*ret = d;
	return 0;
}

static int d_pop(struct jinja_call *c, struct jval *ret)
{
	PARAMS("key", "default");
	if (!a[0])
		return jinja_call_error(c, "pop expected at least 1 argument, got 0");
	if (hashable(c, a[0]))
		return -1;
	if (jval_dict_del(SELF, *a[0], ret))
		return 0;
	if (a[1]) {
		*ret = jval_ref(*a[1]);
		return 0;
	}
	struct strbuf sb = STRBUF_INIT;
	jval_write_repr(&sb, *a[0]);
	jinja_call_error(c, "KeyError: %s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

static int d_popitem(struct jinja_call *c, struct jval *ret)
{
	struct jdict *d = SELF.u.d;
	if (!d->n)
		return jinja_call_error(c, "popitem(): dictionary is empty");
	struct jval k = jval_ref(d->e[d->n - 1].key), v;
	jval_dict_del(SELF, k, &v);
	struct jval t = jval_tuple_new();
	jlist_push(t.u.l, k);
	jlist_push(t.u.l, v);
	*ret = t;
	return 0;
}

static int d_update(struct jinja_call *c, struct jval *ret)
{
	if (c->argc > 1)
		return jinja_call_error(c, "update expected at most 1 argument, got %zu", c->argc);
	if (c->argc) {
		struct jval o = c->argv[0];
		if (o.type == JVAL_DICT) {
			/* copy first: d.update(d) must not iterate a changing dict */
			size_t n = o.u.d->n;
			struct jval *kv = xmalloc((n ? n : 1) * 2 * sizeof(*kv));
			for (size_t i = 0; i < n; i++) {
				kv[2 * i] = jval_ref(o.u.d->e[i].key);
				kv[2 * i + 1] = jval_ref(o.u.d->e[i].val);
			}
			for (size_t i = 0; i < n; i++)
				jval_dict_setv(SELF, kv[2 * i], kv[2 * i + 1]);
			free(kv);
		} else if (o.type == JVAL_LIST) {
			for (size_t i = 0; i < o.u.l->n; i++) {
				struct jval p = o.u.l->v[i];
				if (p.type != JVAL_LIST || p.u.l->n != 2)
					return jinja_call_error(c, "dictionary update sequence element #%zu has wrong length", i);
				if (hashable(c, &p.u.l->v[0]))
					return -1;
				jval_dict_setv(SELF, jval_ref(p.u.l->v[0]), jval_ref(p.u.l->v[1]));
			}
		} else {
			return jinja_call_error(c, "'%s' object is not iterable", jval_type_name(o));
		}
	}
	for (size_t i = 0; i < c->kwc; i++)
		jval_dict_set(SELF, c->kwnames[i], jval_ref(c->kwvals[i]));
	*ret = jval_none();
	return 0;
}

static int d_copy(struct jinja_call *c, struct jval *ret)
{
	struct jval d = jval_dict_new();
	for (size_t i = 0; i < SELF.u.d->n; i++)
		jval_dict_setv(d, jval_ref(SELF.u.d->e[i].key), jval_ref(SELF.u.d->e[i].val));
	*ret = d;
	return 0;
}

static int d_clear(struct jinja_call *c, struct jval *ret)
{
	struct jdict *d = SELF.u.d;
	while (d->n) {
		struct jval k = jval_ref(d->e[d->n - 1].key);
		jval_dict_del(SELF, k, NULL);
		jval_unref(k);
	}
	*ret = jval_none();
	return 0;
}

struct method {
	const char *name;
	jinja_fn fn;
};

static const struct method str_methods[] = {
	{ "capitalize", s_capitalize }, { "center", s_center },	      { "count", s_count },
	{ "endswith", s_endswith },	{ "find", s_find },	      { "format", s_format },
	{ "index", s_index },		{ "isalnum", s_isalnum },     { "isalpha", s_isalpha },
	{ "isdigit", s_isdigit },	{ "islower", s_islower },     { "isspace", s_isspace },
	{ "isupper", s_isupper },	{ "join", s_join },	      { "ljust", s_ljust },
	{ "lower", s_lower },		{ "lstrip", s_lstrip },	      { "partition", s_partition },
	{ "removeprefix", s_removeprefix }, { "removesuffix", s_removesuffix },
	{ "replace", s_replace },	{ "rfind", s_rfind },	      { "rindex", s_rindex },
	{ "rjust", s_rjust },		{ "rpartition", s_rpartition }, { "rsplit", s_rsplit },
	{ "rstrip", s_rstrip },		{ "split", s_split },	      { "splitlines", s_splitlines },
	{ "startswith", s_startswith }, { "strip", s_strip },	      { "swapcase", s_swapcase },
	{ "title", s_title },		{ "upper", s_upper },	      { "zfill", s_zfill },
};

static const struct method list_methods[] = {
	{ "append", l_append }, { "clear", l_clear },	{ "copy", l_copy },	  { "count", l_count },
	{ "extend", l_extend }, { "index", l_index },	{ "insert", l_insert }, { "pop", l_pop },
	{ "remove", l_remove }, { "reverse", l_reverse }, { "sort", l_sort },
};

static const struct method dict_methods[] = {
	{ "clear", d_clear },	{ "copy", d_copy },	    { "get", d_get },
	{ "items", d_items },	{ "keys", d_keys },	    { "pop", d_pop },
	{ "popitem", d_popitem }, { "setdefault", d_setdefault }, { "update", d_update },
	{ "values", d_values },
};

static int cmp_method(const void *key, const void *elem)
{
	return strcmp(key, ((const struct method *)elem)->name);
}

jinja_fn method_lookup(struct jval self, const char *name)
{
	const struct method *m = NULL;
	if (self.type == JVAL_STR) {
		m = bsearch(name, str_methods, ARRAY_SIZE(str_methods), sizeof(*m), cmp_method);
	} else if (self.type == JVAL_LIST) {
		m = bsearch(name, list_methods, ARRAY_SIZE(list_methods), sizeof(*m), cmp_method);
		/* tuples and views only count and index */
		if (m && self.u.l->kind != JL_LIST && m->fn != l_count && m->fn != l_index)
			m = NULL;
	} else if (self.type == JVAL_DICT && !self.u.d->ns) {
		m = bsearch(name, dict_methods, ARRAY_SIZE(dict_methods), sizeof(*m), cmp_method);
	}
	return m ? m->fn : NULL;
}
