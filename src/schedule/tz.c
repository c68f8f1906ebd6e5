/* TZif reading: the version 2+ (64-bit) body when present, else the
 * version 1 body; the footer's POSIX rule covers instants after the last
 * transition (slim zone files have few transitions and rely on it). */
#include "schedule/tz.h"

#include "core/strbuf.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- calendar ------------------------------------------------------------ */

int64_t tz_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- POSIX TZ strings ------------------------------------------------------ */

static int parse_abbr(const char **p, char *out, size_t n)
{
	size_t len = 0;
	if (**p == '<') {
		(*p)++;
		while (**p && **p != '>') {
			if (len + 1 < n)
				out[len++] = **p;
			(*p)++;
		}
		if (**p != '>')
			return -1;
		(*p)++;
	} else {
		while (isalpha((unsigned char)**p)) {
			if (len + 1 < n)
				out[len++] = **p;
			(*p)++;
		}
	}
	out[len] = '\0';
	return len >= 3 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] as seconds */
static int parse_hms(const char **p, int32_t *out)
{
	int sign = 1;
	long h = 0, m = 0, s = 0;
	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p) && h < 1000)
		h = h * 10 + *(*p)++ - '0';
	if (**p == ':') {
		(*p)++;
		while (isdigit((unsigned char)**p) && m < 100)
			m = m * 10 + *(*p)++ - '0';
		if (**p == ':') {
			(*p)++;
			while (isdigit((unsigned char)**p) && s < 100)
				s = s * 10 + *(*p)++ - '0';
		}
	}
	if (h > 167 || m > 59 || s > 59)
		return -1;
	*out = (int32_t)(sign * (h * 3600 + m * 60 + s));
	return 0;
}

static int parse_num(const char **p, int *out, int lo, int hi)
{
	long v = 0;
	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p) && v <= hi)
		v = v * 10 + *(*p)++ - '0';
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_rule_date(const char **p, struct tz_rule_date *d)
{
	memset(d, 0, sizeof(*d));
	d->time = 7200;
	if (**p == 'M') {
		(*p)++;
		d->kind = 'M';
		if (parse_num(p, &d->month, 1, 12) || *(*p)++ != '.' || parse_num(p, &d->week, 1, 5) ||
		    *(*p)++ != '.' || parse_num(p, &d->wday, 0, 6))
			return -1;
	} else if (**p == 'J') {
		(*p)++;
		d->kind = 'J';
		if (parse_num(p, &d->day, 1, 365))
			return -1;
	} else {
		d->kind = 'D';
		if (parse_num(p, &d->day, 0, 365))
			return -1;
	}
	if (**p == '/') {
		(*p)++;
		if (parse_hms(p, &d->time))
			return -1;
	}
	return 0;
}

static int parse_posix(const char *s, struct tz_rule *r)
{
	const char *p = s;
	int32_t off;
	memset(r, 0, sizeof(*r));
	if (parse_abbr(&p, r->std.abbr, sizeof(r->std.abbr)) || parse_hms(&p, &off))
		return -1;
	r->std.off = -off;
	if (!*p)
		return 0;
	if (parse_abbr(&p, r->dst.abbr, sizeof(r->dst.abbr)))
		return -1;
	r->has_dst = 1;
	r->dst.isdst = 1;
	r->dst.off = r->std.off + 3600;
	if (*p && *p != ',') {
		if (parse_hms(&p, &off))
			return -1;
		r->dst.off = -off;
	}
	if (!*p) {
		/* POSIX leaves the default rule to the implementation: the US one */
		r->start = (struct tz_rule_date){ 'M', 3, 2, 0, 0, 7200 };
		r->end = (struct tz_rule_date){ 'M', 11, 1, 0, 0, 7200 };
		return 0;
	}
	if (*p++ != ',' || parse_rule_date(&p, &r->start) || *p++ != ',' || parse_rule_date(&p, &r->end))
		return -1;
	return *p ? -1 : 0;
}

/* Days since the epoch of a rule's date in year y. */
static int64_t rule_day(const struct tz_rule_date *d, int y)
{
	if (d->kind == 'J') {
		/* 1..365, February 29 never counted */
		int64_t base = tz_days_from_civil(y, 1, 1) + d->day - 1;
		return base + (is_leap(y) && d->day >= 60);
	}
	if (d->kind == 'D')
		return tz_days_from_civil(y, 1, 1) + d->day;
	int64_t first = tz_days_from_civil(y, d->month, 1);
	int wday_first = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
	int64_t day = first + (d->wday - wday_first + 7) % 7 + (int64_t)(d->week - 1) * 7;
	int64_t last = first + tz_days_in_month(y, d->month) - 1;
	while (day > last)
		day -= 7;
	return day;
}

static const struct tz_type *rule_at(const struct tz_rule *r, int64_t t)
{
	if (!r->has_dst)
		return &r->std;
	int y, m, d;
	tz_civil_from_days(floor_div(t + r->std.off, 86400), &y, &m, &d);
	/* the change into DST happens on standard time, the change out on DST */
	for (int yy = y - 1; yy <= y + 1; yy++) {
		int64_t start = rule_day(&r->start, yy) * 86400 + r->start.time - r->std.off;
		int64_t end = rule_day(&r->end, yy) * 86400 + r->end.time - r->dst.off;
		if (start < end) {
			if (t >= start && t < end)
				return &r->dst;
		} else if (yy == y && !(t >= end && t < start)) {
			return &r->dst; /* southern hemisphere: DST spans the new year */
		}
	}
	return &r->std;
}

/* ---- TZif ------------------------------------------------------------------- */

static int64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

struct tzif_counts {
	size_t isut, isstd, leap, time, type, chars;
};

static int read_counts(const unsigned char *p, size_t len, struct tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4))
		return -1;
	c->isut = (size_t)be(p + 20, 4);
	c->isstd = (size_t)be(p + 24, 4);
	c->leap = (size_t)be(p + 28, 4);
	c->time = (size_t)be(p + 32, 4);
	c->type = (size_t)be(p + 36, 4);
	c->chars = (size_t)be(p + 40, 4);
	if (c->time > 100000 || c->type == 0 || c->type > 256 || c->chars > 10000 || c->leap > 10000 ||
	    c->isut > 256 || c->isstd > 256)
		return -1;
	return 0;
}

static size_t body_size(const struct tzif_counts *c, int tsize)
{
	return c->time * (size_t)tsize + c->time + c->type * 6 + c->chars + c->leap * (size_t)(tsize + 4) + c->isstd +
	       c->isut;
}

static int parse_tzif(struct tz *tz, const unsigned char *buf, size_t len)
{
	struct tzif_counts c;
	int tsize = 4;
	const unsigned char *p = buf;
	if (read_counts(p, len, &c))
		return -1;
	if (buf[4] >= '2') {
		size_t skip = 44 + body_size(&c, 4);
		if (skip > len)
			return -1;
		p = buf + skip;
		len -= skip;
		if (read_counts(p, len, &c))
			return -1;
		tsize = 8;
	}
	size_t need = 44 + body_size(&c, tsize);
	if (need > len)
		return -1;
	const unsigned char *q = p + 44;
	tz->ntrans = c.time;
	tz->ntypes = c.type;
	tz->trans = xcalloc(c.time ? c.time : 1, sizeof(*tz->trans));
	tz->idx = xcalloc(c.time ? c.time : 1, 1);
	tz->types = xcalloc(c.type, sizeof(*tz->types));
	for (size_t i = 0; i < c.time; i++)
		tz->trans[i] = be(q + i * (size_t)tsize, tsize);
	q += c.time * (size_t)tsize;
	for (size_t i = 0; i < c.time; i++) {
		if (q[i] >= c.type)
			return -1;
		tz->idx[i] = q[i];
	}
	q += c.time;
	const unsigned char *chars = q + c.type * 6;
	for (size_t i = 0; i < c.type; i++) {
		const unsigned char *t = q + i * 6;
		tz->types[i].off = (int32_t)be(t, 4);
		tz->types[i].isdst = t[4];
		size_t ai = t[5];
		if (ai < c.chars) {
			size_t n = strnlen((const char *)chars + ai, c.chars - ai);
			if (n >= sizeof(tz->types[i].abbr))
				n = sizeof(tz->types[i].abbr) - 1;
			memcpy(tz->types[i].abbr, chars + ai, n);
		}
	}
	/* the footer: "\n<POSIX TZ>\n" */
	if (tsize == 8 && len > need + 1 && p[need] == '\n') {
		const char *f = (const char *)p + need + 1;
		const char *nl = memchr(f, '\n', len - need - 1);
		if (nl && nl > f) {
			char *rule = xstrndup(f, (size_t)(nl - f));
			tz->has_rule = parse_posix(rule, &tz->rule) == 0;
			free(rule);
		}
	}
	return 0;
}

static int read_whole(const char *path, struct strbuf *sb)
{
	return strbuf_read_file(sb, path);
}

static int valid_name(const char *name)
{
	if (!*name || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
			return 0;
	return 1;
}

static int load_file(struct tz *tz, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int r = -1;
	if (read_whole(path, &sb) == 0)
		r = parse_tzif(tz, (const unsigned char *)sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

static void tz_clear(struct tz *tz)
{
	free(tz->trans);
	free(tz->idx);
	free(tz->types);
	tz->trans = NULL;
	tz->idx = NULL;
	tz->types = NULL;
	tz->ntrans = tz->ntypes = 0;
	tz->has_rule = 0;
}

static int load_named(struct tz *tz, const char *name)
{
	const char *dir = getenv("TZDIR");
	struct strbuf path = STRBUF_INIT;
	int r;
	strbuf_addf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	r = load_file(tz, path.buf);
	strbuf_release(&path);
	if (r < 0)
		tz_clear(tz);
	return r;
}

static void set_utc(struct tz *tz)
{
	tz->has_rule = 1;
	memset(&tz->rule, 0, sizeof(tz->rule));
	strcpy(tz->rule.std.abbr, "UTC");
}

int tz_load(struct tz *tz, const char *name, struct strbuf *err)
{
	memset(tz, 0, sizeof(*tz));
	if (name && *name) {
		tz->name = xstrdup(name);
		if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) {
			if (load_named(tz, name) < 0)
				set_utc(tz);
			return 0;
		}
		if (valid_name(name) && load_named(tz, name) == 0)
			return 0;
		strbuf_addf(err, "unknown time zone '%s' (an IANA name such as Europe/Berlin or America/New_York)",
			    name);
		tz_release(tz);
		return -1;
	}
	/* the machine's zone, as the C library would find it */
	const char *env = getenv("TZ");
	if (env && *env) {
		const char *v = *env == ':' ? env + 1 : env;
		tz->name = xstrdup(v);
		if (v[0] == '/' ? load_file(tz, v) == 0 : valid_name(v) && load_named(tz, v) == 0)
			return 0;
		tz_clear(tz);
		if (parse_posix(v, &tz->rule) == 0) {
			tz->has_rule = 1;
			return 0;
		}
		set_utc(tz);
		return 0;
	}
	if (load_file(tz, "/etc/localtime") == 0) {
		tz->name = xstrdup("localtime");
		return 0;
	}
	tz_clear(tz);
	tz->name = xstrdup("UTC");
	set_utc(tz);
	return 0;
}

void tz_release(struct tz *tz)
{
	tz_clear(tz);
	free(tz->name);
	memset(tz, 0, sizeof(*tz));
}

const struct tz_type *tz_at(const struct tz *tz, int64_t t)
{
	if (!tz->ntrans || t < tz->trans[0]) {
		if (!tz->ntypes)
			return tz->has_rule ? rule_at(&tz->rule, t) : NULL;
		/* before the first transition: the first standard time type */
		for (size_t i = 0; i < tz->ntypes; i++)
			if (!tz->types[i].isdst)
				return &tz->types[i];
		return &tz->types[0];
	}
	if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
		return rule_at(&tz->rule, t);
	size_t lo = 0, hi = tz->ntrans; /* last transition <= t */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &tz->types[tz->idx[lo]];
}

static int32_t off_at(const struct tz *tz, int64_t t)
{
	const struct tz_type *ty = tz_at(tz, t);
	return ty ? ty->off : 0;
}

void tz_to_civil(const struct tz *tz, int64_t t, struct tz_civil *c)
{
	const struct tz_type *ty = tz_at(tz, t);
	int32_t off = ty ? ty->off : 0;
	int64_t local = t + off;
	int64_t days = floor_div(local, 86400);
	int64_t secs = local - days * 86400;
	tz_civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int)(secs / 3600);
	c->minute = (int)(secs / 60 % 60);
	c->second = (int)(secs % 60);
	c->wday = (int)((days % 7 + 11) % 7);
	c->off = off;
	c->abbr = ty ? ty->abbr : "UTC";
}

enum tz_civil_kind tz_from_civil(const struct tz *tz, int year, int month, int day, int hour, int minute,
				 int64_t *out)
{
	int64_t c = tz_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60;
	/* the offsets in force a day either side: a change of offset is rarer
	 * than that, so these are the only candidates */
	int32_t before = off_at(tz, c - 86400 - 14 * 3600), after = off_at(tz, c + 86400 + 14 * 3600);
	int64_t a = c - before, b = c - after;
	int va = off_at(tz, a) == before, vb = off_at(tz, b) == after;
	if (va && vb && a != b) {
		*out = a < b ? a : b;
		return TZ_REPEATED;
	}
	if (va || vb) {
		*out = va ? a : b;
		return TZ_UNIQUE;
	}
	/* skipped: find the change between the two readings */
	int64_t lo = b < a ? b : a, hi = b < a ? a : b;
	int32_t first = off_at(tz, lo);
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (off_at(tz, mid) == first)
			lo = mid;
		else
			hi = mid;
	}
	*out = hi;
	return TZ_GAP;
}
