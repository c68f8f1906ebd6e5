/* Globals of dbt's context that do not depend on a node, beyond the ones
 * context.c sets: api, zip, set, tojson, fromjson, toyaml, fromyaml,
 * local_md5, run_started_at, invocation_id, graph, and modules.re.
 *
 * modules.re runs Python patterns on POSIX extended regexes after turning
 * \d \w \s (and their negations) into bracket classes; that covers what
 * packages use (dbt_utils' slugify), not lookarounds or backreferences. */
#include "transform/runtime.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "transform/jinja/internal.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* --- zip, set ------------------------------------------------------------------------- */
static int g_zip(struct jinja_call *c, struct jval *ret)
{
	size_t n = jinja_call_argc(c), len = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		const struct jval *a = jinja_call_arg(c, i);
		if (a->type != JVAL_LIST)
			return jinja_call_error(c, "zip() argument %zu must be a list", i + 1);
		if (jval_len(*a) < len)
			len = jval_len(*a);
	}
	*ret = jval_list_new();
	for (size_t k = 0; n && k < len; k++) {
		struct jval t = jval_tuple_new();
		for (size_t i = 0; i < n; i++)
			jval_list_append(t, jval_ref(*jval_list_at(*jinja_call_arg(c, i), k)));
		jval_list_append(*ret, t);
	}
	return 0;
}

static int g_set(struct jinja_call *c, struct jval *ret)
{
	const struct jval *a = jinja_call_arg(c, 0);
	*ret = jval_list_new();
	if (!a)
		return 0;
	struct jval items = *a;
	int own = 0;
	if (a->type == JVAL_DICT) {
		items = jval_list_new();
		own = 1;
		const struct jval *k, *v;
		for (size_t i = 0; jval_dict_entry(*a, i, &k, &v); i++)
			jval_list_append(items, jval_ref(*k));
	} else if (a->type != JVAL_LIST) {
		jval_unref(*ret);
		return jinja_call_error(c, "set() takes a list");
	}
	for (size_t i = 0; i < jval_len(items); i++) {
		const struct jval *it = jval_list_at(items, i);
		int dup = 0;
		for (size_t j = 0; j < jval_len(*ret) && !dup; j++)
			dup = jval_equal(*jval_list_at(*ret, j), *it);
		if (!dup)
			jval_list_append(*ret, jval_ref(*it));
	}
	if (own)
		jval_unref(items);
	/* a Python set has no order: sorted, two sets of the same items are
	 * equal (==) whatever order they were built in */
	struct jlist *l = ret->u.l;
	for (size_t i = 1; i < l->n; i++)
		for (size_t j = i; j > 0; j--) {
			int cmp;
			if (jval_compare(l->v[j - 1], l->v[j], &cmp) < 0 || cmp <= 0)
				break;
			struct jval t = l->v[j - 1];
			l->v[j - 1] = l->v[j];
			l->v[j] = t;
		}
	return 0;
}

/* --- JSON ----------------------------------------------------------------------------- */

static int g_tojson(struct jinja_call *c, struct jval *ret)
{
	const struct jval *v = jinja_call_param(c, 0, "value");
	const struct jval *sk = jinja_call_param(c, 1, "sort_keys");
	json_t *j = dbt_jval_to_json(v ? *v : jval_none());
	char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | (sk && jval_truthy(*sk) ? JSON_SORT_KEYS : 0));
	json_decref(j);
	/* Python's json.dumps separators: ", " and ": " */
	struct strbuf sb = STRBUF_INIT;
	int in_str = 0;
	for (const char *p = s ? s : "null"; *p; p++) {
		strbuf_addch(&sb, *p);
		if (*p == '"' && (p == s || p[-1] != '\\'))
			in_str = !in_str;
		else if (!in_str && (*p == ',' || *p == ':'))
			strbuf_addch(&sb, ' ');
	}
	free(s);
	*ret = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 0;
}

static int g_fromjson(struct jinja_call *c, struct jval *ret)
{
	const struct jval *v = jinja_call_param(c, 0, "string");
	const char *s = v ? jval_str_cstr(*v) : NULL;
	const struct jval *dflt = jinja_call_param(c, 1, "default");
	json_error_t e;
	json_t *j = s ? json_loads(s, JSON_DECODE_ANY, &e) : NULL;
	if (!j) {
		if (dflt) {
			*ret = jval_ref(*dflt);
			return 0;
		}
		return jinja_call_error(c, "fromjson(): %s", s ? e.text : "takes a string");
	}
	*ret = dbt_jval_from_json(j);
	json_decref(j);
	return 0;
}

/* --- local_md5 (RFC 1321) ------------------------------------------------------------ */
static uint32_t rol(uint32_t x, int c)
{
	return (x << c) | (x >> (32 - c));
}

static void md5_block(uint32_t h[4], const unsigned char *p)
{
	static const uint32_t K[64] = {
		0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
		0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
		0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
		0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
		0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
		0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
		0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
		0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391
	};
	static const int R[64] = { 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
				   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
				   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
				   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21 };
	uint32_t w[16];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 | (uint32_t)p[i * 4 + 2] << 16 |
		       (uint32_t)p[i * 4 + 3] << 24;
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		uint32_t t = d;
		d = c;
		c = b;
		b = b + rol(a + f + K[i] + w[g], R[i]);
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

static void md5_hex(const char *s, size_t n, char out[33])
{
	uint32_t h[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	unsigned char block[64];
	size_t i = 0;
	for (; i + 64 <= n; i += 64)
		md5_block(h, (const unsigned char *)s + i);
	size_t rest = n - i;
	memset(block, 0, sizeof(block));
	memcpy(block, s + i, rest);
	block[rest] = 0x80;
	if (rest >= 56) {
		md5_block(h, block);
		memset(block, 0, sizeof(block));
	}
	uint64_t bits = (uint64_t)n * 8;
	for (int k = 0; k < 8; k++)
		block[56 + k] = (unsigned char)(bits >> (8 * k));
	md5_block(h, block);
	for (int k = 0; k < 16; k++)
		snprintf(out + 2 * k, 3, "%02x", (unsigned)(h[k / 4] >> (8 * (k % 4))) & 0xff);
}

static int g_local_md5(struct jinja_call *c, struct jval *ret)
{
	const struct jval *v = jinja_call_param(c, 0, "value");
	char *s = v ? jval_to_cstr(*v) : xstrdup("");
	char hex[33];
	md5_hex(s, strlen(s), hex);
	free(s);
	*ret = jval_str(hex);
	return 0;
}

/* --- fromyaml, toyaml ---------------------------------------------------------------- */
static int g_fromyaml(struct jinja_call *c, struct jval *ret)
{
	const struct jval *v = jinja_call_param(c, 0, "value");
	const struct jval *dflt = jinja_call_param(c, 1, "default");
	const char *s = v ? jval_str_cstr(*v) : NULL;
	struct ydoc doc = { 0 };
	struct strbuf e = STRBUF_INIT;
	int r = 0;
	if (s && ydoc_parse(&doc, "fromyaml", s, strlen(s), &e) == 0)
		*ret = doc.root ? dbt_yaml_value(doc.root) : jval_none();
	else if (dflt)
		*ret = jval_ref(*dflt);
	else
		r = jinja_call_error(c, "fromyaml(): %s", s ? e.buf : "takes a string");
	ydoc_release(&doc);
	strbuf_release(&e);
	return r;
}

static void yaml_write(struct strbuf *sb, struct jval v, int indent)
{
	if (v.type == JVAL_DICT && jval_len(v)) {
		const struct jval *k, *val;
		for (size_t i = 0; jval_dict_entry(v, i, &k, &val); i++) {
			char *ks = jval_to_cstr(*k);
			strbuf_addchars(sb, ' ', (size_t)indent);
			yaml_add_scalar(sb, ks);
			free(ks);
			strbuf_addch(sb, ':');
			if ((val->type == JVAL_DICT || val->type == JVAL_LIST) && jval_len(*val)) {
				/* PyYAML's block style: a list under a key is not indented */
				strbuf_addch(sb, '\n');
				yaml_write(sb, *val, val->type == JVAL_LIST ? indent : indent + 2);
			} else {
				strbuf_addch(sb, ' ');
				yaml_write(sb, *val, 0);
				strbuf_addch(sb, '\n');
			}
		}
	} else if (v.type == JVAL_LIST && jval_len(v)) {
		for (size_t i = 0; i < jval_len(v); i++) {
			const struct jval *it = jval_list_at(v, i);
			strbuf_addchars(sb, ' ', (size_t)indent);
			strbuf_addstr(sb, "- ");
			if ((it->type == JVAL_DICT || it->type == JVAL_LIST) && jval_len(*it)) {
				strbuf_addch(sb, '\n');
				yaml_write(sb, *it, indent + 2);
			} else {
				yaml_write(sb, *it, 0);
				strbuf_addch(sb, '\n');
			}
		}
	} else if (v.type == JVAL_DICT) {
		strbuf_addstr(sb, "{}");
	} else if (v.type == JVAL_LIST) {
		strbuf_addstr(sb, "[]");
	} else if (v.type == JVAL_NONE || v.type == JVAL_UNDEFINED) {
		strbuf_addstr(sb, "null");
	} else if (v.type == JVAL_BOOL) {
		strbuf_addstr(sb, v.u.b ? "true" : "false");
	} else if (v.type == JVAL_STR) {
		yaml_add_scalar(sb, jval_str_cstr(v));
	} else {
		jval_write_str(sb, v);
	}
}

static int g_toyaml(struct jinja_call *c, struct jval *ret)
{
	const struct jval *v = jinja_call_param(c, 0, "value");
	struct strbuf sb = STRBUF_INIT;
	yaml_write(&sb, v ? *v : jval_none(), 0);
	if (!sb.len || sb.buf[sb.len - 1] != '\n')
		strbuf_addch(&sb, '\n');
	*ret = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 0;
}

/* --- modules.re ---------------------------------------------------------------------- */
static void py_to_posix(struct strbuf *out, const char *pat)
{
	for (const char *p = pat; *p; p++) {
		if (*p == '\\' && p[1]) {
			const char *cls = NULL;
			switch (p[1]) {
			case 'd': cls = "[0-9]"; break;
			case 'D': cls = "[^0-9]"; break;
			case 'w': cls = "[A-Za-z0-9_]"; break;
			case 'W': cls = "[^A-Za-z0-9_]"; break;
			case 's': cls = "[[:space:]]"; break;
			case 'S': cls = "[^[:space:]]"; break;
			}
			if (cls) {
				strbuf_addstr(out, cls);
				p++;
				continue;
			}
			strbuf_addch(out, *p++);
			strbuf_addch(out, *p);
			continue;
		}
		strbuf_addch(out, *p);
	}
}

static int re_compile(struct jinja_call *c, const char *pat, regex_t *re, int icase)
{
	struct strbuf px = STRBUF_INIT;
	py_to_posix(&px, pat);
	int rc = regcomp(re, px.buf, REG_EXTENDED | (icase ? REG_ICASE : 0));
	strbuf_release(&px);
	if (rc) {
		char buf[128];
		regerror(rc, re, buf, sizeof(buf));
		return jinja_call_error(c, "re: bad pattern '%s': %s", pat, buf);
	}
	return 0;
}

static int re_flags(struct jinja_call *c)
{
	const struct jval *f = jinja_call_kwarg(c, "flags");
	return f && f->type == JVAL_INT && (f->u.i & 2);
}

/* re.sub(pattern, repl, string, count=0) with \1..\9 in repl */
static int re_sub(struct jinja_call *c, struct jval *ret)
{
	const struct jval *pv = jinja_call_param(c, 0, "pattern"), *rv = jinja_call_param(c, 1, "repl"),
			  *sv = jinja_call_param(c, 2, "string"), *cv = jinja_call_param(c, 3, "count");
	const char *pat = pv ? jval_str_cstr(*pv) : NULL, *repl = rv ? jval_str_cstr(*rv) : NULL;
	if (!pat || !repl || !sv)
		return jinja_call_error(c, "re.sub() takes a pattern, a replacement and a string");
	char *s = jval_to_cstr(*sv);
	regex_t re;
	if (re_compile(c, pat, &re, re_flags(c)) < 0) {
		free(s);
		return -1;
	}
	int64_t count = cv && cv->type == JVAL_INT ? cv->u.i : 0, done = 0;
	struct strbuf out = STRBUF_INIT;
	const char *p = s;
	regmatch_t m[10];
	int first = 1;
	while ((!count || done < count) && regexec(&re, p, 10, m, first ? 0 : REG_NOTBOL) == 0) {
		strbuf_add(&out, p, (size_t)m[0].rm_so);
		for (const char *r = repl; *r; r++) {
			if (*r == '\\' && r[1] >= '0' && r[1] <= '9') {
				int g = r[1] - '0';
				if (m[g].rm_so >= 0)
					strbuf_add(&out, p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
				r++;
			} else {
				strbuf_addch(&out, *r);
			}
		}
		done++;
		first = 0;
		if (m[0].rm_eo == m[0].rm_so) {
			if (!p[m[0].rm_eo]) {
				p += m[0].rm_eo;
				break;
			}
			strbuf_addch(&out, p[m[0].rm_eo]);
			p += m[0].rm_eo + 1;
		} else {
			p += m[0].rm_eo;
		}
	}
	strbuf_addstr(&out, p);
	regfree(&re);
	free(s);
	*ret = jval_str_from_buf(&out);
	strbuf_release(&out);
	return 0;
}

struct rematch {
	char *s;
	regmatch_t m[10];
};

static int rm_group(struct jinja_call *c, struct jval *ret)
{
	struct rematch *m = jinja_call_data(c);
	const struct jval *g = jinja_call_arg(c, 0);
	int64_t i = g && g->type == JVAL_INT ? g->u.i : 0;
	if (i < 0 || i > 9)
		return jinja_call_error(c, "no such group");
	if (m->m[i].rm_so < 0)
		*ret = jval_none();
	else
		*ret = jval_strn(m->s + m->m[i].rm_so, (size_t)(m->m[i].rm_eo - m->m[i].rm_so));
	return 0;
}

static int rm_getattr(void *data, const char *name, struct jval *out)
{
	if (!strcmp(name, "group")) {
		*out = jval_native("group", rm_group, data, NULL);
		return 0;
	}
	return 1;
}

static void rm_free(void *data)
{
	struct rematch *m = data;
	free(m->s);
	free(m);
}

static const struct jinja_object_ops rematch_ops = { "Match", rm_getattr, NULL, NULL, rm_free, NULL, 0 };

/* re.match / re.search / re.fullmatch / re.findall */
static int re_find(struct jinja_call *c, struct jval *ret)
{
	const struct jval *pv = jinja_call_param(c, 0, "pattern"), *sv = jinja_call_param(c, 1, "string");
	const char *pat = pv ? jval_str_cstr(*pv) : NULL;
	const char *w = jinja_call_name(c);
	if (!pat || !sv)
		return jinja_call_error(c, "re.%s() takes a pattern and a string", w);
	struct strbuf full = STRBUF_INIT;
	if (!strcmp(w, "match"))
		strbuf_addf(&full, "^(%s)", pat);
	else if (!strcmp(w, "fullmatch"))
		strbuf_addf(&full, "^(%s)$", pat);
	else
		strbuf_addstr(&full, pat);
	regex_t re;
	int rc = re_compile(c, full.buf, &re, re_flags(c));
	strbuf_release(&full);
	if (rc < 0)
		return -1;
	char *s = jval_to_cstr(*sv);
	if (!strcmp(w, "findall")) {
		*ret = jval_list_new();
		const char *p = s;
		regmatch_t m[2];
		while (*p && regexec(&re, p, 2, m, p == s ? 0 : REG_NOTBOL) == 0) {
			int g = re.re_nsub >= 1 ? 1 : 0;
			jval_list_append(*ret, jval_strn(p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so)));
			p += m[0].rm_eo > m[0].rm_so ? m[0].rm_eo : m[0].rm_eo + 1;
		}
		free(s);
	} else {
		struct rematch *m = xcalloc(1, sizeof(*m));
		m->s = s;
		if (regexec(&re, s, 10, m->m, 0) == 0) {
			if (strcmp(w, "search")) {
				/* the wrapping group is not the user's: shift groups down */
				memmove(&m->m[0], &m->m[1], sizeof(m->m[0]) * 9);
				m->m[9].rm_so = m->m[9].rm_eo = -1;
			}
			*ret = jval_object(&rematch_ops, m);
		} else {
			rm_free(m);
			*ret = jval_none();
		}
	}
	regfree(&re);
	return 0;
}

static int re_escape(struct jinja_call *c, struct jval *ret)
{
	const struct jval *sv = jinja_call_arg(c, 0);
	char *s = sv ? jval_to_cstr(*sv) : xstrdup("");
	struct strbuf out = STRBUF_INIT;
	for (const char *p = s; *p; p++) {
		if (strchr(".^$*+?{}[]\\|()-#&~ \t\n", *p))
			strbuf_addch(&out, '\\');
		strbuf_addch(&out, *p);
	}
	free(s);
	*ret = jval_str_from_buf(&out);
	strbuf_release(&out);
	return 0;
}

void dbt_modules_extend(struct jval mods);
void dbt_modules_extend(struct jval mods)
{
	struct jval re = jval_dict_new();
	jval_dict_set(re, "sub", jval_native("sub", re_sub, NULL, NULL));
	static const char *const finds[] = { "match", "search", "fullmatch", "findall", NULL };
	for (const char *const *f = finds; *f; f++)
		jval_dict_set(re, *f, jval_native(*f, re_find, NULL, NULL));
	jval_dict_set(re, "escape", jval_native("escape", re_escape, NULL, NULL));
	jval_dict_set(re, "IGNORECASE", jval_int(2));
	jval_dict_set(re, "I", jval_int(2));
	jval_dict_set(mods, "re", jval_object_dict(re));
}

/* --- graph ----------------------------------------------------------------------------- */
static struct jval node_dict(struct dbt_project *p, struct dbt_node *n)
{
	struct jval d = jval_dict_new();
	jval_dict_set(d, "unique_id", jval_str(n->unique_id));
	jval_dict_set(d, "name", jval_str(n->name));
	jval_dict_set(d, "resource_type", jval_str(dbt_node_kind_name(n->kind)));
	jval_dict_set(d, "package_name", jval_str(n->package_name ? n->package_name : p->name));
	jval_dict_set(d, "path", jval_str(n->path ? n->path : ""));
	jval_dict_set(d, "original_file_path", jval_str(n->file ? n->file : ""));
	jval_dict_set(d, "config", jval_ref(n->config));
	jval_dict_set(d, "schema", n->schema ? jval_str(n->schema) : jval_none());
	jval_dict_set(d, "database", jval_str(n->database ? n->database : p->target.database ? p->target.database : ""));
	jval_dict_set(d, "alias", jval_str(n->alias ? n->alias : n->name));
	jval_dict_set(d, "identifier", jval_str(n->alias ? n->alias : n->name));
	jval_dict_set(d, "description", jval_str(n->description ? n->description : ""));
	jval_dict_set(d, "columns", jval_ref(n->columns));
	jval_dict_set(d, "raw_code", jval_str(n->raw_sql ? n->raw_sql : ""));
	const struct jval *tags = jval_dict_get(n->config, "tags");
	jval_dict_set(d, "tags", tags ? jval_ref(*tags) : jval_list_new());
	struct jval fqn = jval_list_new();
	for (size_t i = 0; i < n->fqn.nr; i++)
		jval_list_append(fqn, jval_str(n->fqn.v[i]));
	jval_dict_set(d, "fqn", fqn);
	struct jval dep = jval_dict_new(), nodes = jval_list_new();
	for (size_t i = 0; i < n->nparents; i++)
		jval_list_append(nodes, jval_str(p->nodes[n->parents[i]]->unique_id));
	jval_dict_set(dep, "nodes", nodes);
	jval_dict_set(dep, "macros", jval_list_new());
	jval_dict_set(d, "depends_on", dep);
	struct jval refs = jval_list_new();
	for (size_t i = 0; i < n->refs.nr; i++) {
		struct jval r = jval_list_new();
		jval_list_append(r, jval_str(n->refs.v[i]));
		jval_list_append(refs, r);
	}
	jval_dict_set(d, "refs", refs);
	if (n->kind == NODE_SOURCE) {
		jval_dict_set(d, "source_name", jval_str(n->source_name));
		jval_dict_set(d, "identifier", jval_str(n->identifier));
	}
	if (n->kind == NODE_TEST && n->test_name) {
		struct jval md = jval_dict_new();
		jval_dict_set(md, "name", jval_str(n->test_name));
		jval_dict_set(md, "kwargs", jval_ref(n->test_kwargs));
		jval_dict_set(d, "test_metadata", md);
		jval_dict_set(d, "column_name", n->column_name ? jval_str(n->column_name) : jval_none());
	}
	return d;
}

static int graph_getattr(void *data, const char *name, struct jval *out)
{
	struct dbt_project *p = data;
	int sources = !strcmp(name, "sources");
	if (!sources && strcmp(name, "nodes") && strcmp(name, "exposures") && strcmp(name, "metrics") &&
	    strcmp(name, "groups") && strcmp(name, "semantic_models") && strcmp(name, "saved_queries"))
		return 1;
	struct jval d = jval_dict_new();
	/* graph.exposures, .metrics, ...: those kinds; graph.nodes: the others */
	static const char *const semantic[] = { "exposures", "metrics", "semantic_models", "saved_queries" };
	int kind = -1;
	for (int k = 0; k < 4; k++)
		if (!strcmp(name, semantic[k]))
			kind = NODE_EXPOSURE + k;
	for (size_t i = 0; (sources || kind >= 0 || !strcmp(name, "nodes")) && i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		int want = kind >= 0 ? (int)n->kind == kind : (n->kind == NODE_SOURCE) == sources && n->kind < NODE_EXPOSURE;
		if (want)
			jval_dict_set(d, n->unique_id, node_dict(p, n));
	}
	*out = d;
	return 0;
}

static const struct jinja_object_ops graph_ops = { "graph", graph_getattr, NULL, NULL, NULL, NULL, 1 };

struct jval dbt_graph_object(struct dbt_project *p)
{
	return jval_object(&graph_ops, p);
}

/* --- setup ---------------------------------------------------------------------------- */
struct jval dbt_datetime_value(time_t t, long usec, int utc);

static struct timeval started;
static char invocation[40];

void dbt_context_setup_more(struct dbt_project *p)
{
	struct jinja_env *env = &p->env;
	if (!started.tv_sec) {
		gettimeofday(&started, NULL);
		unsigned char b[16];
		/* an id, not a secret: the clock where the kernel gives nothing */
		if (random_bytes(b, sizeof(b)) < 0)
			for (size_t i = 0; i < sizeof(b); i++)
				b[i] = (unsigned char)(rand() ^ started.tv_usec >> (i % 8));
		b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
		b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
		snprintf(invocation, sizeof(invocation),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
			 b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	}
	jinja_env_set_global(env, "api", dbt_api_object(p));
	jinja_env_set_global(env, "zip", jval_native("zip", g_zip, NULL, NULL));
	jinja_env_set_global(env, "set", jval_native("set", g_set, NULL, NULL));
	jinja_env_set_global(env, "tojson", jval_native("tojson", g_tojson, NULL, NULL));
	jinja_env_set_global(env, "fromjson", jval_native("fromjson", g_fromjson, NULL, NULL));
	jinja_env_set_global(env, "fromyaml", jval_native("fromyaml", g_fromyaml, NULL, NULL));
	jinja_env_set_global(env, "toyaml", jval_native("toyaml", g_toyaml, NULL, NULL));
	jinja_env_set_global(env, "local_md5", jval_native("local_md5", g_local_md5, NULL, NULL));
	jinja_env_set_global(env, "invocation_id", jval_str(invocation));
	jinja_env_set_global(env, "run_started_at", dbt_datetime_value(started.tv_sec, started.tv_usec, 1));
	jinja_env_set_global(env, "graph", dbt_graph_object(p));
	jinja_env_set_global(env, "selected_resources", jval_list_new());
}

void dbt_context_set_selected(struct dbt_project *p)
{
	struct jval l = jval_list_new();
	for (size_t i = 0; i < p->nr; i++)
		if (p->nodes[i]->selected && p->nodes[i]->kind != NODE_SOURCE)
			jval_list_append(l, jval_str(p->nodes[i]->unique_id));
	jinja_env_set_global(&p->env, "selected_resources", l);
}
