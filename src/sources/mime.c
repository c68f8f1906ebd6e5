/* Internet messages: headers (RFC 5322, RFC 2047 encoded words, RFC 2231
 * parameters) and MIME bodies (RFC 2045/2046), read into what the email
 * source keeps. The parser walks the raw message once, part by part
 * (multiparts recursively, to a fixed depth), and decodes only what it
 * keeps: text parts into UTF-8, attachments only to learn their size. */
#include "sources/mime.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 20

struct hdr {
	char *name;
	char *value;   /* unfolded, raw */
};

struct hdrs {
	struct hdr *v;
	size_t nr, alloc;
};

/* ---- UTF-8 and charsets --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (!len || len > n || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return len;
}

static int utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

/* The bytes as UTF-8: invalid sequences become U+FFFD, NUL is dropped. */
static void add_sanitized(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (!k) {
			strbuf_addstr(out, "\xef\xbf\xbd");
			i++;
		} else {
			if (s[i])
				strbuf_add(out, s + i, k);
			i += k;
		}
	}
}

static int is_utf8_name(const char *cs)
{
	return !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8") || !strcasecmp(cs, "us-ascii") ||
	       !strcasecmp(cs, "ascii");
}

void mime_to_utf8(struct strbuf *out, const char *charset, const char *s, size_t n)
{
	if (!charset || !*charset || is_utf8_name(charset)) {
		add_sanitized(out, s, n);
		return;
	}
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		add_sanitized(out, s, n);
		return;
	}
	struct strbuf conv = STRBUF_INIT;
	char *in = (char *)s;
	size_t left = n;
	while (left) {
		strbuf_grow(&conv, left * 4 + 16);
		char *o = conv.buf + conv.len;
		size_t room = conv.alloc - conv.len - 1, before = room;
		size_t r = iconv(cd, &in, &left, &o, &room);
		strbuf_setlen(&conv, conv.len + (before - room));
		if (r == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			/* a byte the charset has not: U+FFFD, and on */
			strbuf_addstr(&conv, "\xef\xbf\xbd");
			if (errno == EINVAL)
				break;
			in++;
			left--;
		}
	}
	iconv_close(cd);
	add_sanitized(out, conv.buf, conv.len);
	strbuf_release(&conv);
}

/* ---- transfer encodings ----------------------------------------------------------------- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void mime_decode_qp(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '=') {
			strbuf_addch(out, s[i]);
			continue;
		}
		/* a soft line break: "=" at the end of a line, maybe after blanks */
		size_t j = i + 1;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && (s[j] == '\n' || (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n'))) {
			i = s[j] == '\r' ? j + 1 : j;
			continue;
		}
		if (j >= n) {
			i = n;
			continue;
		}
		int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi >= 0 && lo >= 0) {
			strbuf_addch(out, hi * 16 + lo);
			i += 2;
		} else {
			strbuf_addch(out, '=');   /* not an escape: kept as written */
		}
	}
}

static int b64val(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
	       : c == '+' ? 62 : c == '/' ? 63 : -1;
}

void mime_decode_base64(struct strbuf *out, const char *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			continue;   /* line breaks and stray characters */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (int)((acc >> bits) & 0xff));
		}
	}
}

/* ---- RFC 2047 encoded words ---------------------------------------------------------------- */

/* One encoded word at s ("=?cs?Q?text?="): its length, or 0. */
static size_t encoded_word(const char *s, size_t n, struct strbuf *out)
{
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	const char *cs = s + 2, *end = s + n;
	const char *q1 = memchr(cs, '?', (size_t)(end - cs));
	if (!q1 || q1 + 3 > end || q1[2] != '?')
		return 0;
	int enc = toupper((unsigned char)q1[1]);
	if (enc != 'Q' && enc != 'B')
		return 0;
	const char *text = q1 + 3, *close = NULL;
	for (const char *p = text; p + 1 < end; p++) {
		if (*p == '?' && p[1] == '=') {
			close = p;
			break;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			return 0;
	}
	if (!close)
		return 0;
	char *charset = xstrndup(cs, (size_t)(q1 - cs));
	char *star = strchr(charset, '*');   /* RFC 2231 language: "utf-8*en" */
	if (star)
		*star = '\0';
	struct strbuf raw = STRBUF_INIT;
	if (enc == 'B') {
		mime_decode_base64(&raw, text, (size_t)(close - text));
	} else {
		for (const char *p = text; p < close; p++) {
			int hi, lo;
			if (*p == '_')
				strbuf_addch(&raw, ' ');
			else if (*p == '=' && p + 2 < close && (hi = hexval((unsigned char)p[1])) >= 0 &&
				 (lo = hexval((unsigned char)p[2])) >= 0) {
				strbuf_addch(&raw, hi * 16 + lo);
				p += 2;
			} else
				strbuf_addch(&raw, *p);
		}
	}
	mime_to_utf8(out, charset, raw.buf, raw.len);
	strbuf_release(&raw);
	free(charset);
	return (size_t)(close + 2 - s);
}

/* Raw header text: UTF-8 as it is, anything else read as Windows-1252
 * (what unlabelled 8-bit headers mostly are). */
static void add_raw_text(struct strbuf *out, const char *s, size_t n)
{
	if (utf8_valid(s, n))
		strbuf_add(out, s, n);
	else
		mime_to_utf8(out, "WINDOWS-1252", s, n);
}

void mime_decode_words(struct strbuf *out, const char *s, size_t n)
{
	struct strbuf word = STRBUF_INIT;
	size_t i = 0, plain = 0;
	int after_word = 0;
	while (i < n) {
		strbuf_reset(&word);
		size_t k = s[i] == '=' ? encoded_word(s + i, n - i, &word) : 0;
		if (!k) {
			i++;
			continue;
		}
		/* the text before this word; blanks between two words vanish */
		int blank = 1;
		for (size_t j = plain; j < i && blank; j++)
			blank = s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n';
		if (!(blank && after_word))
			add_raw_text(out, s + plain, i - plain);
		strbuf_addbuf(out, &word);
		i += k;
		plain = i;
		after_word = 1;
	}
	add_raw_text(out, s + plain, n - plain);
	strbuf_release(&word);
}

/* ---- headers ------------------------------------------------------------------------------ */

static void hdrs_release(struct hdrs *h)
{
	for (size_t i = 0; i < h->nr; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
}

/* The header block at p (n bytes, up to the blank line): fields unfolded. */
static void hdrs_parse(struct hdrs *h, const char *p, size_t n)
{
	struct strbuf val = STRBUF_INIT;
	const char *end = p + n;
	char *name = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t len = (size_t)(le - p);
		if (len && p[len - 1] == '\r')
			len--;
		if ((*p == ' ' || *p == '\t') && name) {
			strbuf_add(&val, p, len);   /* a folded line goes on */
		} else {
			if (name) {
				ALLOC_GROW(h->v, h->nr + 1, h->alloc);
				strbuf_trim(&val);
				h->v[h->nr].name = name;
				h->v[h->nr++].value = strbuf_detach(&val, NULL);
				name = NULL;
			}
			const char *colon = memchr(p, ':', len);
			if (colon && colon > p) {
				name = xstrndup(p, (size_t)(colon - p));
				strbuf_reset(&val);
				strbuf_add(&val, colon + 1, len - (size_t)(colon + 1 - p));
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (name) {
		ALLOC_GROW(h->v, h->nr + 1, h->alloc);
		strbuf_trim(&val);
		h->v[h->nr].name = name;
		h->v[h->nr++].value = strbuf_detach(&val, NULL);
	}
	strbuf_release(&val);
}

static const char *hdr_get(const struct hdrs *h, const char *name)
{
	for (size_t i = 0; i < h->nr; i++)
		if (!strcasecmp(h->v[i].name, name))
			return h->v[i].value;
	return NULL;
}

/* Split a part into headers and body at the first blank line. */
static void split_part(const char *p, size_t n, size_t *hlen, const char **body, size_t *blen)
{
	if (n && (p[0] == '\n' || (n > 1 && p[0] == '\r' && p[1] == '\n'))) {
		size_t skip = p[0] == '\n' ? 1 : 2;
		*hlen = 0;
		*body = p + skip;
		*blen = n - skip;
		return;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		size_t j = i + 1;
		if (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n')
			j++;
		if (p[j] == '\n') {
			*hlen = i + 1;
			*body = p + j + 1;
			*blen = n - (j + 1);
			return;
		}
	}
	*hlen = n;
	*body = p + n;
	*blen = 0;
}

/* The value of a header without its parameters, lowercased and trimmed. */
static char *hdr_main_value(const char *v)
{
	if (!v)
		return NULL;
	size_t n = strcspn(v, ";");
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	while (n && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	char *s = xstrndup(v, n);
	for (char *c = s; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return s;
}

/* "%XX" escapes of an RFC 2231 value. */
static void pct_decode(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n + 0 && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			strbuf_addch(out, hi * 16 + lo);
			i += 2;
		} else {
			strbuf_addch(out, s[i]);
		}
	}
}

/* A parameter of a header value ("name" of 'text/plain; name="a b.txt"'),
 * decoded to UTF-8: RFC 2231 forms (name*=utf-8''..., name*0=, name*1*=)
 * before the plain one, encoded words in the plain one too. 1 if found. */
static int hdr_param(const char *v, const char *want, struct strbuf *out)
{
	struct strbuf plain = STRBUF_INIT, ext = STRBUF_INIT, val = STRBUF_INIT;
	char *charset = NULL;
	int have_plain = 0, have_ext = 0, ext_encoded = 0;
	size_t wlen = strlen(want);
	const char *p = v ? strchr(v, ';') : NULL;
	while (p && *p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		const char *attr = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		size_t alen = (size_t)(p - attr);
		while (alen && isspace((unsigned char)attr[alen - 1]))
			alen--;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		strbuf_reset(&val);
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				strbuf_addch(&val, *p);
			}
			if (*p == '"')
				p++;
			while (*p && *p != ';')
				p++;
		} else {
			const char *s = p;
			while (*p && *p != ';')
				p++;
			size_t n = (size_t)(p - s);
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			strbuf_add(&val, s, n);
		}
		if (alen < wlen || strncasecmp(attr, want, wlen))
			continue;
		const char *rest = attr + wlen;
		size_t rlen = alen - wlen;
		if (!rlen) {
			have_plain = 1;
			strbuf_reset(&plain);
			strbuf_addbuf(&plain, &val);
			continue;
		}
		if (*rest != '*')
			continue;
		/* name* or name*N or name*N*: the extended forms, in order */
		int encoded = rest[rlen - 1] == '*';
		int first = rlen == 1 || (rlen >= 2 && rest[1] == '0' && (rlen == 2 || (rlen == 3 && encoded)));
		const char *text = val.buf;
		size_t tlen = val.len;
		if (encoded && first) {
			const char *q1 = memchr(val.buf, '\'', val.len);
			const char *q2 = q1 ? memchr(q1 + 1, '\'', val.len - (size_t)(q1 + 1 - val.buf)) : NULL;
			if (q2) {
				free(charset);
				charset = xstrndup(val.buf, (size_t)(q1 - val.buf));
				text = q2 + 1;
				tlen = val.len - (size_t)(text - val.buf);
			}
		}
		if (first)
			strbuf_reset(&ext);
		if (encoded) {
			pct_decode(&ext, text, tlen);
			ext_encoded = 1;
		} else {
			strbuf_add(&ext, text, tlen);
		}
		have_ext = 1;
	}
	if (have_ext) {
		if (ext_encoded)
			mime_to_utf8(out, charset, ext.buf, ext.len);
		else
			add_raw_text(out, ext.buf, ext.len);
	} else if (have_plain) {
		mime_decode_words(out, plain.buf, plain.len);
	}
	free(charset);
	strbuf_release(&plain);
	strbuf_release(&ext);
	strbuf_release(&val);
	return have_ext || have_plain;
}

/* ---- dates -------------------------------------------------------------------------------- */

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int read_num(const char **p, int max_digits, int *out)
{
	int v = 0, k = 0;
	while (k < max_digits && isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	*out = v;
	return k;
}

int mime_parse_date(const char *s, long long *out)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					      "jul", "aug", "sep", "oct", "nov", "dec" };
	static const struct { const char *name; int off; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -500 }, { "EDT", -400 },
		{ "CST", -600 }, { "CDT", -500 }, { "MST", -700 }, { "MDT", -600 }, { "PST", -800 }, { "PDT", -700 },
	};
	const char *p = s;
	int day, mon = -1, year, hh, mm, ss = 0, off = 0, nd;
	while (isspace((unsigned char)*p))
		p++;
	if (isalpha((unsigned char)*p)) {   /* "Tue," */
		while (isalpha((unsigned char)*p))
			p++;
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
	}
	if (!read_num(&p, 2, &day) || (*p != ' ' && *p != '-'))
		return -1;
	while (*p == ' ' || *p == '-')
		p++;
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(p, months[i], 3))
			mon = i + 1;
	if (mon < 0)
		return -1;
	while (isalpha((unsigned char)*p))
		p++;
	while (*p == ' ' || *p == '-')
		p++;
	if ((nd = read_num(&p, 4, &year)) < 2)
		return -1;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	while (isspace((unsigned char)*p))
		p++;
	if (read_num(&p, 2, &hh) < 1 || *p++ != ':' || read_num(&p, 2, &mm) != 2)
		return -1;
	if (*p == ':' && (p++, read_num(&p, 2, &ss) != 2))
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, z;
		if (read_num(&p, 4, &z) != 4)
			return -1;
		off = sign * z;
	} else if (isalpha((unsigned char)*p)) {
		size_t n = 0;
		while (isalpha((unsigned char)p[n]))
			n++;
		for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
			if (strlen(zones[i].name) == n && !strncasecmp(p, zones[i].name, n))
				off = zones[i].off;
	}
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return -1;
	long long t = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss;
	t -= (off / 100) * 3600 + (off % 100) * 60;
	*out = t;
	return 0;
}

static char *format_utc(long long t)
{
	long long days = t >= 0 ? t / 86400 : (t - 86399) / 86400, secs = t - days * 86400;
	/* civil_from_days */
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long y = (long long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	return xasprintf("%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
}

/* ---- bodies ----------------------------------------------------------------------------- */

static void decode_body(struct strbuf *out, const char *cte, const char *s, size_t n)
{
	if (cte && !strcasecmp(cte, "base64"))
		mime_decode_base64(out, s, n);
	else if (cte && !strcasecmp(cte, "quoted-printable"))
		mime_decode_qp(out, s, n);
	else
		strbuf_add(out, s, n);
}

/* Next delimiter line "--boundary" (or "--boundary--") from p: where it
 * starts, where the line after it starts, and whether it closes. */
static const char *find_delim(const char *p, const char *end, const char *b, size_t blen, const char **after,
			      int *closing, const char *start)
{
	for (const char *q = p; q + 2 + blen <= end; q++) {
		q = memchr(q, '-', (size_t)(end - q));
		if (!q || q + 2 + blen > end)
			return NULL;
		if ((q != start && q[-1] != '\n') || q[1] != '-' || memcmp(q + 2, b, blen))
			continue;
		const char *r = q + 2 + blen;
		*closing = r + 1 < end && r[0] == '-' && r[1] == '-';
		const char *nl = memchr(r, '\n', (size_t)(end - r));
		*after = nl ? nl + 1 : end;
		return q;
	}
	return NULL;
}

static void add_attachment(struct mime_message *m, const char *name, const char *ctype, size_t size)
{
	ALLOC_GROW(m->att, m->nr_att + 1, m->alloc_att);
	struct mime_attachment *a = &m->att[m->nr_att++];
	a->filename = name ? xstrdup(name) : NULL;
	a->content_type = xstrdup(ctype);
	a->size = size;
}

static void parse_part(struct mime_message *m, const char *p, size_t n, int depth);

static void parse_multipart(struct mime_message *m, const char *body, size_t n, const char *boundary, int depth)
{
	const char *end = body + n, *after, *next_after;
	int closing, next_closing;
	size_t blen = strlen(boundary);
	const char *d = find_delim(body, end, boundary, blen, &after, &closing, body);
	while (d && !closing) {
		const char *nd = find_delim(after, end, boundary, blen, &next_after, &next_closing, body);
		const char *pend = nd ? nd : end;
		/* the line break before a delimiter belongs to it */
		if (nd && pend > after && pend[-1] == '\n')
			pend--;
		if (nd && pend > after && pend[-1] == '\r')
			pend--;
		parse_part(m, after, (size_t)(pend - after), depth + 1);
		d = nd;
		after = next_after;
		closing = next_closing;
	}
}

static void parse_part(struct mime_message *m, const char *p, size_t n, int depth)
{
	struct hdrs h = { 0 };
	struct strbuf name = STRBUF_INIT, boundary = STRBUF_INIT, charset = STRBUF_INIT, data = STRBUF_INIT;
	size_t hlen, blen;
	const char *body;
	split_part(p, n, &hlen, &body, &blen);
	hdrs_parse(&h, p, hlen);
	const char *ct_raw = hdr_get(&h, "Content-Type"), *cd_raw = hdr_get(&h, "Content-Disposition");
	char *ctype = hdr_main_value(ct_raw), *disp = hdr_main_value(cd_raw);
	char *cte = hdr_main_value(hdr_get(&h, "Content-Transfer-Encoding"));
	if (!ctype || !*ctype || !strchr(ctype, '/')) {
		free(ctype);
		ctype = xstrdup("text/plain");
	}
	if (!strncmp(ctype, "multipart/", 10) && hdr_param(ct_raw, "boundary", &boundary) && boundary.len &&
	    depth < MAX_DEPTH) {
		parse_multipart(m, body, blen, boundary.buf, depth);
		goto out;
	}
	int named = hdr_param(cd_raw, "filename", &name) || hdr_param(ct_raw, "name", &name);
	int is_text = !strcmp(ctype, "text/plain") || !strcmp(ctype, "text/html");
	int attachment = (disp && !strcmp(disp, "attachment")) || named || !is_text;
	decode_body(&data, cte, body, blen);
	if (attachment) {
		add_attachment(m, named ? name.buf : NULL, ctype, data.len);
		goto out;
	}
	struct strbuf *into = !strcmp(ctype, "text/html") ? &m->html : &m->text;
	if (into->len && into->buf[into->len - 1] != '\n')
		strbuf_addch(into, '\n');
	hdr_param(ct_raw, "charset", &charset);
	/* text lines end in LF, whichever way the message was stored */
	size_t k = 0;
	for (size_t i = 0; i < data.len; i++)
		if (!(data.buf[i] == '\r' && i + 1 < data.len && data.buf[i + 1] == '\n'))
			data.buf[k++] = data.buf[i];
	strbuf_setlen(&data, k);
	mime_to_utf8(into, charset.len ? charset.buf : NULL, data.buf, data.len);
out:
	free(ctype);
	free(disp);
	free(cte);
	strbuf_release(&name);
	strbuf_release(&boundary);
	strbuf_release(&charset);
	strbuf_release(&data);
	hdrs_release(&h);
}

static char *decoded_header(const struct hdrs *h, const char *name)
{
	const char *v = hdr_get(h, name);
	if (!v)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	mime_decode_words(&sb, v, strlen(v));
	return strbuf_detach(&sb, NULL);
}

static char *raw_header(const struct hdrs *h, const char *name)
{
	const char *v = hdr_get(h, name);
	if (!v)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	add_sanitized(&sb, v, strlen(v));
	return strbuf_detach(&sb, NULL);
}

void mime_parse(struct mime_message *m, const char *raw, size_t len)
{
	struct hdrs h = { 0 };
	size_t hlen, blen;
	const char *body;
	long long t;
	memset(m, 0, sizeof(*m));
	strbuf_init(&m->text, 0);
	strbuf_init(&m->html, 0);
	split_part(raw, len, &hlen, &body, &blen);
	hdrs_parse(&h, raw, hlen);
	m->subject = decoded_header(&h, "Subject");
	m->from = decoded_header(&h, "From");
	m->to = decoded_header(&h, "To");
	m->cc = decoded_header(&h, "Cc");
	m->reply_to = decoded_header(&h, "Reply-To");
	m->message_id = raw_header(&h, "Message-ID");
	m->in_reply_to = raw_header(&h, "In-Reply-To");
	const char *date = hdr_get(&h, "Date");
	if (date && mime_parse_date(date, &t) == 0)
		m->date = format_utc(t);
	hdrs_release(&h);
	parse_part(m, raw, len, 0);
}

void mime_message_release(struct mime_message *m)
{
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->reply_to);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->date);
	strbuf_release(&m->text);
	strbuf_release(&m->html);
	for (size_t i = 0; i < m->nr_att; i++) {
		free(m->att[i].filename);
		free(m->att[i].content_type);
	}
	free(m->att);
	memset(m, 0, sizeof(*m));
}
