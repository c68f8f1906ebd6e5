/* Python's datetime module (and pytz's UTC and named zones) for dbt's
 * `modules.datetime` / `modules.pytz`, and the typed values run_query
 * gives for DATE and TIMESTAMP columns.
 *
 * Values, as Python has them: date, datetime (naive, or aware with a fixed
 * UTC offset and the tzinfo it came from), timedelta (kept as a count of
 * microseconds) and tzinfo objects (datetime.timezone / pytz.utc with a
 * fixed offset, or a named IANA zone read by src/schedule/tz.c). Days are
 * counted from 1970-01-01 on the proleptic Gregorian calendar, within
 * Python's years 1..9999. Arithmetic and comparisons go through the Jinja
 * interpreter's jinja_object_arith hooks, with Python's results and
 * errors: date + timedelta uses the timedelta's days, date - date is a
 * timedelta, naive and aware datetimes do not mix. "Now" is Dango's clock
 * (DANGO_NOW in tests). */
#include "transform/pymodules.h"
#include "core/clock.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "schedule/tz.h"
#include "transform/jinja/ast.h"
#include "transform/jinja/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define US_PER_DAY INT64_C(86400000000)
#define US_PER_SEC INT64_C(1000000)
#define MIN_DAYS INT64_C(-719162)  /* 0001-01-01 */
#define MAX_DAYS INT64_C(2932896)  /* 9999-12-31 */

enum pyk { PY_DATE, PY_DATETIME, PY_DELTA, PY_TIME };

struct pytz {
	int refs;
	int32_t off;       /* fixed zones: seconds east of UTC */
	char *name;        /* str(): "UTC", "UTC+02:00", "Europe/Berlin" */
	int named;         /* an IANA zone: the offset depends on the instant */
	int is_pytz;       /* pytz's (has .zone, localize, normalize) */
	struct tz zone;
};

struct pyv {
	enum pyk k;
	int64_t days;      /* date, datetime: days since 1970-01-01 */
	int64_t us;        /* datetime: microseconds into the day; timedelta: all of it */
	int aware;
	int32_t off;       /* aware: the UTC offset of this wall time, seconds */
	struct pytz *tz;   /* aware: its tzinfo (a reference) */
};

static const struct jinja_object_ops date_ops, datetime_ops, delta_ops, tz_ops, time_ops;
static const struct jinja_object_arith pyv_arith;
static struct jval tz_value(struct pytz *z);
static struct pytz *tz_utc(int is_pytz);

/* --- calendar --------------------------------------------------------------------- */
static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* days since 1970-01-01 of a civil date (era arithmetic on 400-year cycles) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floordiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floordiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int weekday(int64_t days) /* Monday 0, as Python */
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

/* --- values ------------------------------------------------------------------------ */
static struct pytz *tz_ref(struct pytz *z)
{
	if (z)
		z->refs++;
	return z;
}

static void tz_unref(struct pytz *z)
{
	if (!z || --z->refs > 0)
		return;
	if (z->named)
		tz_release(&z->zone);
	free(z->name);
	free(z);
}

static struct jval make(enum pyk k, int64_t days, int64_t us, int aware, int32_t off, struct pytz *tz)
{
	struct pyv *v = xcalloc(1, sizeof(*v));
	v->k = k;
	v->days = days;
	v->us = us;
	v->aware = aware;
	v->off = off;
	v->tz = aware ? tz_ref(tz) : NULL;
	return jval_object(k == PY_DATE ? &date_ops : k == PY_DATETIME ? &datetime_ops : k == PY_TIME ? &time_ops : &delta_ops, v);
}

static void pyv_free(void *data)
{
	struct pyv *v = data;
	tz_unref(v->tz);
	free(v);
}

static struct pyv *as_pyv(struct jval v, enum pyk k)
{
	if (v.type != JVAL_OBJECT)
		return NULL;
	const struct jinja_object_ops *want = k == PY_DATE ? &date_ops : k == PY_DATETIME ? &datetime_ops : k == PY_TIME ? &time_ops : &delta_ops;
	return v.u.o->ops == want ? v.u.o->data : NULL;
}

static struct pytz *as_tz(struct jval v)
{
	return v.type == JVAL_OBJECT && v.u.o->ops == &tz_ops ? v.u.o->data : NULL;
}

/* A datetime with day overflow carried; -1 when outside years 1..9999. */
static int make_dt(int64_t days, int64_t us, int aware, int32_t off, struct pytz *tz, struct jval *out)
{
	days += floordiv(us, US_PER_DAY);
	us -= floordiv(us, US_PER_DAY) * US_PER_DAY;
	if (days < MIN_DAYS || days > MAX_DAYS)
		return -1;
	*out = make(PY_DATETIME, days, us, aware, off, tz);
	return 0;
}

static int make_date(int64_t days, struct jval *out)
{
	if (days < MIN_DAYS || days > MAX_DAYS)
		return -1;
	*out = make(PY_DATE, days, 0, 0, 0, NULL);
	return 0;
}

/* The UTC offset of a zone at an instant (seconds since the epoch, UTC). */
static int32_t tz_offset_at(const struct pytz *z, int64_t utc_sec)
{
	if (!z->named)
		return z->off;
	const struct tz_type *t = tz_at(&z->zone, utc_sec);
	return t ? t->off : 0;
}

/* The offset a zone gives a wall time (pytz's localize, is_dst=False). */
static int32_t tz_offset_local(const struct pytz *z, int64_t local_sec)
{
	int32_t off = tz_offset_at(z, local_sec);
	int32_t off2 = tz_offset_at(z, local_sec - off);
	return tz_offset_at(z, local_sec - off2) == off2 ? off2 : off;
}

/* --- printing --------------------------------------------------------------------- */
static int64_t utc_us(const struct pyv *v)
{
	return v->days * US_PER_DAY + v->us - (int64_t)v->off * US_PER_SEC;
}

static void print_date(struct strbuf *out, int64_t days)
{
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	strbuf_addf(out, "%04lld-%02d-%02d", (long long)y, m, d);
}

static void print_off(struct strbuf *out, int32_t off, int colon)
{
	int32_t a = off < 0 ? -off : off;
	strbuf_addf(out, "%c%02d%s%02d", off < 0 ? '-' : '+', a / 3600, colon ? ":" : "", a / 60 % 60);
	if (a % 60)
		strbuf_addf(out, "%s%02d", colon ? ":" : "", a % 60);
}

static void print_time(struct strbuf *out, int64_t us)
{
	int64_t s = us / US_PER_SEC;
	strbuf_addf(out, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
	if (us % US_PER_SEC)
		strbuf_addf(out, ".%06d", (int)(us % US_PER_SEC));
}

static void print_dt(struct strbuf *out, const struct pyv *v, char sep)
{
	print_date(out, v->days);
	strbuf_addch(out, sep);
	print_time(out, v->us);
	if (v->aware)
		print_off(out, v->off, 1);
}

static void print_delta(struct strbuf *out, int64_t us)
{
	int64_t days = floordiv(us, US_PER_DAY);
	int64_t rest = us - days * US_PER_DAY;
	if (days)
		strbuf_addf(out, "%lld day%s, ", (long long)days, days == 1 || days == -1 ? "" : "s");
	int64_t s = rest / US_PER_SEC;
	strbuf_addf(out, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
	if (rest % US_PER_SEC)
		strbuf_addf(out, ".%06d", (int)(rest % US_PER_SEC));
}

static void pyv_str(void *data, struct strbuf *out)
{
	struct pyv *v = data;
	if (v->k == PY_DATE)
		print_date(out, v->days);
	else if (v->k == PY_DATETIME)
		print_dt(out, v, ' ');
	else if (v->k == PY_TIME)
		print_time(out, v->us);
	else
		print_delta(out, v->us);
}

/* strftime with Python's additions: %f, %z, %Z (and %:z) done here, the
 * rest by the C library on the civil fields. */
static void do_strftime(struct strbuf *out, const struct pyv *v, const char *fmt)
{
	struct tm tm = { 0 };
	int64_t y;
	int m, d;
	int64_t days = v->k == PY_TIME ? days_from_civil(1900, 1, 1) : v->days;
	civil_from_days(days, &y, &m, &d);
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_wday = (weekday(days) + 1) % 7;
	tm.tm_yday = (int)(days - days_from_civil(y, 1, 1));
	tm.tm_isdst = -1;
	if (v->k == PY_DATETIME || v->k == PY_TIME) {
		int64_t s = v->us / US_PER_SEC;
		tm.tm_hour = (int)(s / 3600);
		tm.tm_min = (int)(s / 60 % 60);
		tm.tm_sec = (int)(s % 60);
	}
	struct strbuf f = STRBUF_INIT;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%' || !p[1]) {
			strbuf_addch(&f, *p);
			continue;
		}
		char c = *++p;
		if (c == 'f')
			strbuf_addf(&f, "%06d", (int)(v->k != PY_DATE ? v->us % US_PER_SEC : 0));
		else if (c == 'z' && v->aware)
			print_off(&f, v->off, 0);
		else if (c == 'z')
			;
		else if (c == 'Z' && v->aware && v->tz && v->tz->named) {
			const struct tz_type *t = tz_at(&v->tz->zone, floordiv(utc_us(v), US_PER_SEC));
			strbuf_addstr(&f, t ? t->abbr : "");
		} else if (c == 'Z' && v->aware)
			strbuf_addstr(&f, v->tz ? v->tz->name : "UTC");
		else if (c == 'Z')
			;
		else if (c == '%')
			strbuf_addstr(&f, "%%");
		else
			strbuf_addf(&f, "%%%c", c);
	}
	size_t cap = f.len * 4 + 64;
	char *buf = xmalloc(cap);
	buf[0] = 0;
	size_t n = f.len ? strftime(buf, cap, f.buf, &tm) : 0;
	strbuf_add(out, buf, n);
	free(buf);
	strbuf_release(&f);
}

/* --- parsing ---------------------------------------------------------------------- */
static const char *const MONTHS[] = { "january", "february", "march", "april", "may", "june", "july",
				      "august", "september", "october", "november", "december" };
static const char *const WDAYS[] = { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" };

static int digits(const char **s, int min, int max, int64_t *out)
{
	int n = 0;
	int64_t v = 0;
	while (n < max && isdigit((unsigned char)(*s)[n]))
		v = v * 10 + ((*s)[n++] - '0');
	if (n < min)
		return -1;
	*s += n;
	*out = v;
	return 0;
}

static int name_of(const char **s, const char *const *names, int count, int *out)
{
	for (int i = 0; i < count; i++) {
		size_t full = strlen(names[i]);
		if (!strncasecmp(*s, names[i], full)) {
			*s += full;
			*out = i;
			return 0;
		}
	}
	for (int i = 0; i < count; i++)
		if (!strncasecmp(*s, names[i], 3)) {
			*s += 3;
			*out = i;
			return 0;
		}
	return -1;
}

static int parse_off(const char **s, int32_t *off)
{
	const char *p = *s;
	if (*p == 'Z' || *p == 'z') {
		*s = p + 1;
		*off = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	int neg = *p++ == '-';
	int64_t h, m = 0, sec = 0;
	if (digits(&p, 2, 2, &h))
		return -1;
	if (*p == ':')
		p++;
	if (isdigit((unsigned char)*p) && digits(&p, 2, 2, &m))
		return -1;
	if (*p == ':' || isdigit((unsigned char)*p)) {
		if (*p == ':')
			p++;
		if (digits(&p, 2, 2, &sec))
			return -1;
	}
	*off = (int32_t)((h * 3600 + m * 60 + sec) * (neg ? -1 : 1));
	*s = p;
	return 0;
}

struct fields {
	int64_t y, mo, d, h, mi, s, us, yday;
	int pm, has_pm, aware;
	int32_t off;
};

/* Python's strptime for the usual directives; -1 on a mismatch, -2 when
 * the string goes on past the format (*rest then points there). */
static int strptime_py(const char *s, const char *fmt, struct fields *f, const char **rest)
{
	memset(f, 0, sizeof(*f));
	f->y = 1900;
	f->mo = f->d = 1;
	f->yday = -1;
	for (const char *p = fmt; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (!isspace((unsigned char)*s))
				return -1;
			while (isspace((unsigned char)*s))
				s++;
			continue;
		}
		if (*p != '%') {
			if (tolower((unsigned char)*s) != tolower((unsigned char)*p))
				return -1;
			s++;
			continue;
		}
		int idx, r = 0;
		int64_t v;
		switch (*++p) {
		case 'Y': r = digits(&s, 4, 4, &f->y); break;
		case 'y':
			r = digits(&s, 2, 2, &v);
			f->y = v < 69 ? 2000 + v : 1900 + v;
			break;
		case 'm': r = digits(&s, 1, 2, &f->mo); break;
		case 'd': r = digits(&s, 1, 2, &f->d); break;
		case 'H': r = digits(&s, 1, 2, &f->h); break;
		case 'I': r = digits(&s, 1, 2, &f->h); f->has_pm = 1; break;
		case 'M': r = digits(&s, 1, 2, &f->mi); break;
		case 'S': r = digits(&s, 1, 2, &f->s); break;
		case 'j': r = digits(&s, 1, 3, &f->yday); break;
		case 'f': {
			const char *b = s;
			r = digits(&s, 1, 6, &v);
			for (long n = s - b; !r && n < 6; n++)
				v *= 10;
			f->us = v;
			break;
		}
		case 'b': case 'B': case 'h':
			r = name_of(&s, MONTHS, 12, &idx);
			f->mo = idx + 1;
			break;
		case 'a': case 'A': r = name_of(&s, WDAYS, 7, &idx); break;
		case 'p':
			if (!strncasecmp(s, "am", 2) || !strncasecmp(s, "pm", 2)) {
				f->pm = tolower((unsigned char)*s) == 'p';
				s += 2;
			} else
				r = -1;
			break;
		case 'z': r = parse_off(&s, &f->off); f->aware = !r; break;
		case 'Z':
			if (!strncasecmp(s, "UTC", 3) || !strncasecmp(s, "GMT", 3))
				s += 3;
			else
				r = -1;
			break;
		case '%': r = *s == '%' ? (s++, 0) : -1; break;
		default: return -1;
		}
		if (r)
			return -1;
	}
	if (f->has_pm)
		f->h = f->h % 12 + (f->pm ? 12 : 0);
	if (*s) {
		*rest = s;
		return -2;
	}
	return 0;
}

/* ISO 8601 as Python's fromisoformat reads it: a date, then optionally
 * T or a space, HH[:MM[:SS[.ffffff]]] and an offset (Z, +HH:MM). */
static int parse_iso(const char *s, int want_time, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	if (digits(&s, 4, 4, &f->y) || *s++ != '-' || digits(&s, 2, 2, &f->mo) || *s++ != '-' ||
	    digits(&s, 2, 2, &f->d))
		return -1;
	if (!*s)
		return 0;
	if (!want_time || (*s != 'T' && *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, 2, &f->h))
		return -1;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, 2, &f->mi))
			return -1;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, 2, &f->s))
				return -1;
			if (*s == '.' || *s == ',') {
				s++;
				const char *b = s;
				if (digits(&s, 1, 9, &f->us))
					return -1;
				for (long n = s - b; n > 6; n--)
					f->us /= 10;
				for (long n = s - b; n < 6; n++)
					f->us *= 10;
			}
		}
	}
	if (*s) {
		if (parse_off(&s, &f->off) || *s)
			return -1;
		f->aware = 1;
	}
	return 0;
}

/* The fields as a date or datetime, Python's range checks and messages. */
static int check_fields(struct jinja_call *c, const struct fields *f, int with_time)
{
	if (f->y < 1 || f->y > 9999)
		return jinja_call_error(c, "year %lld is out of range", (long long)f->y);
	if (f->mo < 1 || f->mo > 12)
		return jinja_call_error(c, "month must be in 1..12");
	if (f->d < 1 || f->d > days_in_month(f->y, (int)f->mo))
		return jinja_call_error(c, "day is out of range for month");
	if (!with_time)
		return 0;
	if (f->h < 0 || f->h > 23)
		return jinja_call_error(c, "hour must be in 0..23");
	if (f->mi < 0 || f->mi > 59)
		return jinja_call_error(c, "minute must be in 0..59");
	if (f->s < 0 || f->s > 59)
		return jinja_call_error(c, "second must be in 0..59");
	if (f->us < 0 || f->us > 999999)
		return jinja_call_error(c, "microsecond must be in 0..999999");
	return 0;
}

static struct pytz *fixed_zone(int32_t off, const char *name);

static struct jval from_fields(const struct fields *f, int with_time, struct pytz *tz)
{
	int64_t days = days_from_civil(f->y, (int)f->mo, (int)f->d);
	if (!with_time)
		return make(PY_DATE, days, 0, 0, 0, NULL);
	int64_t us = ((f->h * 60 + f->mi) * 60 + f->s) * US_PER_SEC + f->us;
	if (tz) {
		int32_t off = tz->named ? tz_offset_local(tz, days * 86400 + us / US_PER_SEC) : tz->off;
		return make(PY_DATETIME, days, us, 1, off, tz);
	}
	if (f->aware) {
		struct pytz *z = fixed_zone(f->off, NULL);
		struct jval v = make(PY_DATETIME, days, us, 1, f->off, z);
		tz_unref(z);
		return v;
	}
	return make(PY_DATETIME, days, us, 0, 0, NULL);
}

/* --- arguments ---------------------------------------------------------------------- */
static int num_of(const struct jval *v, double *out)
{
	if (v->type == JVAL_INT || v->type == JVAL_BOOL)
		*out = (double)(v->type == JVAL_INT ? v->u.i : v->u.b);
	else if (v->type == JVAL_FLOAT)
		*out = v->u.f;
	else
		return -1;
	return 0;
}

static int tz_param(struct jinja_call *c, const struct jval *v, struct pytz **out)
{
	*out = NULL;
	if (!v || v->type == JVAL_NONE)
		return 0;
	if (!(*out = as_tz(*v)))
		return jinja_call_error(c, "tzinfo argument must be None or of a tzinfo subclass, not type '%s'",
					jval_type_name(*v));
	return 0;
}

/* --- methods ------------------------------------------------------------------------- */
/* A method's value holds its own copy of the object (the object may go
 * before the method is called). */
static struct pyv *self_copy(const struct pyv *v)
{
	struct pyv *c = xmalloc(sizeof(*c));
	*c = *v;
	tz_ref(c->tz);
	return c;
}

static struct jval method(const char *name, jinja_fn fn, const struct pyv *v)
{
	return jval_native(name, fn, self_copy(v), pyv_free);
}

static int m_strftime(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	const struct jval *f = jinja_call_param(c, 0, "format");
	if (!f || f->type != JVAL_STR)
		return jinja_call_error(c, "strftime() argument 1 must be str");
	struct strbuf sb = STRBUF_INIT;
	do_strftime(&sb, v, jval_str_cstr(*f));
	*ret = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 0;
}

static int m_isoformat(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	struct strbuf sb = STRBUF_INIT;
	if (v->k == PY_DATE)
		print_date(&sb, v->days);
	else if (v->k == PY_TIME)
		print_time(&sb, v->us);
	else {
		const struct jval *sep = jinja_call_param(c, 0, "sep");
		const char *s = sep ? jval_str_cstr(*sep) : NULL;
		print_dt(&sb, v, s && *s ? *s : 'T');
	}
	*ret = jval_str_from_buf(&sb);
	strbuf_release(&sb);
	return 0;
}

static int m_weekday(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	int w = weekday(v->days);
	*ret = jval_int(!strcmp(jinja_call_name(c), "isoweekday") ? w + 1 : w);
	return 0;
}

static int m_toordinal(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	*ret = jval_int(v->days - MIN_DAYS + 1);
	return 0;
}

static int m_isocalendar(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	int wd = weekday(v->days);
	int64_t thursday = v->days - wd + 3, y;
	int m, d;
	civil_from_days(thursday, &y, &m, &d);
	int64_t week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
	*ret = jval_tuple_new();
	jval_list_append(*ret, jval_int(y));
	jval_list_append(*ret, jval_int(week));
	jval_list_append(*ret, jval_int(wd + 1));
	return 0;
}

static int m_replace(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	static const char *const names[] = { "year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo" };
	size_t n = v->k == PY_DATE ? 3 : 8;
	const struct jval *a[8];
	if (call_bind(c, names, n, a))
		return -1;
	struct fields f = { 0 };
	int mo, d;
	civil_from_days(v->days, &f.y, &mo, &d);
	f.mo = mo;
	f.d = d;
	int64_t s = v->us / US_PER_SEC;
	f.h = s / 3600;
	f.mi = s / 60 % 60;
	f.s = s % 60;
	f.us = v->us % US_PER_SEC;
	int64_t *slots[] = { &f.y, &f.mo, &f.d, &f.h, &f.mi, &f.s, &f.us };
	for (size_t i = 0; i < n && i < 7; i++)
		if (a[i] && arg_int(c, a[i], names[i], slots[i]))
			return -1;
	if (check_fields(c, &f, v->k == PY_DATETIME))
		return -1;
	if (v->k == PY_DATE) {
		*ret = from_fields(&f, 0, NULL);
		return 0;
	}
	struct pytz *tz = v->aware ? v->tz : NULL;
	if (a[7] && tz_param(c, a[7], &tz))
		return -1;
	int64_t days = days_from_civil(f.y, (int)f.mo, (int)f.d);
	int64_t us = ((f.h * 60 + f.mi) * 60 + f.s) * US_PER_SEC + f.us;
	/* replace(tzinfo=) attaches the zone without moving the wall time */
	int32_t off = !tz ? 0 : a[7] ? (tz->named ? tz_offset_at(tz, days * 86400 + us / US_PER_SEC) : tz->off) : v->off;
	*ret = make(PY_DATETIME, days, us, tz != NULL, off, tz);
	return 0;
}

static int m_date(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	*ret = make(PY_DATE, v->days, 0, 0, 0, NULL);
	return 0;
}

static int m_timestamp(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	if (v->aware) {
		*ret = jval_float((double)utc_us(v) / 1e6);
		return 0;
	}
	/* a naive datetime is local time, as Python takes it */
	int64_t y;
	int m, d;
	civil_from_days(v->days, &y, &m, &d);
	struct tm tm = { 0 };
	int64_t s = v->us / US_PER_SEC;
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = (int)(s / 3600);
	tm.tm_min = (int)(s / 60 % 60);
	tm.tm_sec = (int)(s % 60);
	tm.tm_isdst = -1;
	*ret = jval_float((double)mktime(&tm) + (double)(v->us % US_PER_SEC) / 1e6);
	return 0;
}

/* Seconds east of UTC of the machine's zone at a UTC instant. */
static int32_t local_offset(int64_t utc_sec)
{
	time_t t = (time_t)utc_sec;
	struct tm tm;
	localtime_r(&t, &tm);
	return (int32_t)tm.tm_gmtoff;
}

static int to_zone(const struct pyv *v, struct pytz *tz, struct jval *ret)
{
	int64_t u = v->aware ? utc_us(v) : 0;
	if (!v->aware) {
		int64_t local = v->days * 86400 + v->us / US_PER_SEC;
		u = v->days * US_PER_DAY + v->us - (int64_t)local_offset(local - local_offset(local)) * US_PER_SEC;
	}
	int32_t off = tz_offset_at(tz, floordiv(u, US_PER_SEC));
	return make_dt(0, u + (int64_t)off * US_PER_SEC, 1, off, tz, ret);
}

static int m_astimezone(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	struct pytz *tz;
	if (tz_param(c, jinja_call_param(c, 0, "tz"), &tz))
		return -1;
	if (!tz) { /* the machine's zone, as a fixed offset */
		int64_t u = v->aware ? utc_us(v) : v->days * US_PER_DAY + v->us;
		int32_t off = local_offset(floordiv(u, US_PER_SEC));
		struct pytz *z = fixed_zone(off, NULL);
		int r = to_zone(v, z, ret);
		tz_unref(z);
		return r < 0 ? jinja_call_error(c, "date value out of range") : 0;
	}
	if (to_zone(v, tz, ret) < 0)
		return jinja_call_error(c, "date value out of range");
	return 0;
}

static int m_utcoffset(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	*ret = v->aware ? make(PY_DELTA, 0, (int64_t)v->off * US_PER_SEC, 0, 0, NULL) : jval_none();
	return 0;
}

static int m_tzname(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	if (!v->aware) {
		*ret = jval_none();
		return 0;
	}
	if (v->tz && v->tz->named) {
		const struct tz_type *t = tz_at(&v->tz->zone, floordiv(utc_us(v), US_PER_SEC));
		*ret = jval_str(t ? t->abbr : "");
	} else
		*ret = jval_str(v->tz ? v->tz->name : "UTC");
	return 0;
}

static int m_total_seconds(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	*ret = jval_float((double)v->us / 1e6);
	return 0;
}

/* --- attributes ---------------------------------------------------------------------- */
static int m_time(struct jinja_call *c, struct jval *ret)
{
	struct pyv *v = jinja_call_data(c);
	*ret = make(PY_TIME, 0, v->us, 0, 0, NULL);
	return 0;
}

static int date_getattr(void *data, const char *name, struct jval *out)
{
	struct pyv *v = data;
	int64_t y;
	int m, d;
	civil_from_days(v->days, &y, &m, &d);
	int64_t s = v->us / US_PER_SEC;
	if (!strcmp(name, "year"))
		*out = jval_int(y);
	else if (!strcmp(name, "month"))
		*out = jval_int(m);
	else if (!strcmp(name, "day"))
		*out = jval_int(d);
	else if (!strcmp(name, "strftime"))
		*out = method("strftime", m_strftime, v);
	else if (!strcmp(name, "isoformat"))
		*out = method("isoformat", m_isoformat, v);
	else if (!strcmp(name, "weekday") || !strcmp(name, "isoweekday"))
		*out = method(name, m_weekday, v);
	else if (!strcmp(name, "toordinal"))
		*out = method("toordinal", m_toordinal, v);
	else if (!strcmp(name, "isocalendar"))
		*out = method("isocalendar", m_isocalendar, v);
	else if (!strcmp(name, "replace"))
		*out = method("replace", m_replace, v);
	else if (v->k == PY_DATE)
		return 1;
	else if (!strcmp(name, "hour"))
		*out = jval_int(s / 3600);
	else if (!strcmp(name, "minute"))
		*out = jval_int(s / 60 % 60);
	else if (!strcmp(name, "second"))
		*out = jval_int(s % 60);
	else if (!strcmp(name, "microsecond"))
		*out = jval_int(v->us % US_PER_SEC);
	else if (!strcmp(name, "tzinfo"))
		*out = v->aware && v->tz ? tz_value(tz_ref(v->tz)) : jval_none();
	else if (!strcmp(name, "date"))
		*out = method("date", m_date, v);
	else if (!strcmp(name, "time"))
		*out = method("time", m_time, v);
	else if (!strcmp(name, "timestamp"))
		*out = method("timestamp", m_timestamp, v);
	else if (!strcmp(name, "astimezone"))
		*out = method("astimezone", m_astimezone, v);
	else if (!strcmp(name, "utcoffset"))
		*out = method("utcoffset", m_utcoffset, v);
	else if (!strcmp(name, "tzname"))
		*out = method("tzname", m_tzname, v);
	else
		return 1;
	return 0;
}

static int time_getattr(void *data, const char *name, struct jval *out)
{
	struct pyv *v = data;
	int64_t s = v->us / US_PER_SEC;
	if (!strcmp(name, "hour"))
		*out = jval_int(s / 3600);
	else if (!strcmp(name, "minute"))
		*out = jval_int(s / 60 % 60);
	else if (!strcmp(name, "second"))
		*out = jval_int(s % 60);
	else if (!strcmp(name, "microsecond"))
		*out = jval_int(v->us % US_PER_SEC);
	else if (!strcmp(name, "tzinfo"))
		*out = jval_none();
	else if (!strcmp(name, "isoformat"))
		*out = method("isoformat", m_isoformat, v);
	else if (!strcmp(name, "strftime"))
		*out = method("strftime", m_strftime, v);
	else
		return 1;
	return 0;
}

static int delta_getattr(void *data, const char *name, struct jval *out)
{
	struct pyv *v = data;
	int64_t days = floordiv(v->us, US_PER_DAY), rest = v->us - days * US_PER_DAY;
	if (!strcmp(name, "days"))
		*out = jval_int(days);
	else if (!strcmp(name, "seconds"))
		*out = jval_int(rest / US_PER_SEC);
	else if (!strcmp(name, "microseconds"))
		*out = jval_int(rest % US_PER_SEC);
	else if (!strcmp(name, "total_seconds"))
		*out = method("total_seconds", m_total_seconds, v);
	else
		return 1;
	return 0;
}

/* --- operators ------------------------------------------------------------------------ */
static char *range_msg(const char *what)
{
	return xstrdup(what);
}

static int date_binop(void *data, int op, struct jval other, int swapped, struct jval *out, char **msg)
{
	struct pyv *v = data, *o;
	if ((o = as_pyv(other, PY_DELTA)) && (op == OP_ADD || (op == OP_SUB && !swapped))) {
		int64_t d = op == OP_ADD ? o->us : -o->us;
		if (v->k == PY_DATE) {
			/* Python: date - td is date + timedelta(-td.days) */
			int64_t dd = op == OP_ADD ? floordiv(d, US_PER_DAY) : -floordiv(o->us, US_PER_DAY);
			if (make_date(v->days + dd, out) < 0)
				return *msg = range_msg("date value out of range"), -1;
			return 0;
		}
		if (make_dt(v->days, v->us + d, v->aware, v->off, v->tz, out) < 0)
			return *msg = range_msg("date value out of range"), -1;
		return 0;
	}
	if (op != OP_SUB || swapped)
		return 1;
	if (v->k == PY_DATE && (o = as_pyv(other, PY_DATE))) {
		*out = make(PY_DELTA, 0, (v->days - o->days) * US_PER_DAY, 0, 0, NULL);
		return 0;
	}
	if (v->k == PY_DATETIME && (o = as_pyv(other, PY_DATETIME))) {
		if (v->aware != o->aware)
			return *msg = xstrdup("can't subtract offset-naive and offset-aware datetimes"), -1;
		int64_t a = v->days * US_PER_DAY + v->us - (int64_t)v->off * US_PER_SEC;
		int64_t b = o->days * US_PER_DAY + o->us - (int64_t)o->off * US_PER_SEC;
		*out = make(PY_DELTA, 0, a - b, 0, 0, NULL);
		return 0;
	}
	return 1;
}

static int delta_binop(void *data, int op, struct jval other, int swapped, struct jval *out, char **msg)
{
	struct pyv *v = data, *o = as_pyv(other, PY_DELTA);
	double f;
	if (o) {
		int64_t a = swapped ? o->us : v->us, b = swapped ? v->us : o->us, r;
		switch (op) {
		case OP_ADD:
		case OP_SUB:
			if (op == OP_ADD ? __builtin_add_overflow(a, b, &r) : __builtin_sub_overflow(a, b, &r))
				return *msg = xstrdup("timedelta value out of range"), -1;
			*out = make(PY_DELTA, 0, r, 0, 0, NULL);
			return 0;
		case OP_DIV:
			if (!b)
				return *msg = xstrdup("division by zero"), -1;
			*out = jval_float((double)a / (double)b);
			return 0;
		case OP_FLOORDIV:
			if (!b)
				return *msg = xstrdup("integer division or modulo by zero"), -1;
			*out = jval_int(floordiv(a, b));
			return 0;
		case OP_MOD:
			if (!b)
				return *msg = xstrdup("integer division or modulo by zero"), -1;
			*out = make(PY_DELTA, 0, a - floordiv(a, b) * b, 0, 0, NULL);
			return 0;
		default:
			return 1;
		}
	}
	if (num_of(&other, &f) < 0)
		return 1;
	if (op == OP_MUL) {
		double r = rint((double)v->us * f);
		if (fabs(r) > 9.2e18)
			return *msg = xstrdup("timedelta value out of range"), -1;
		*out = make(PY_DELTA, 0, (int64_t)r, 0, 0, NULL);
		return 0;
	}
	if ((op == OP_DIV || op == OP_FLOORDIV) && !swapped) {
		if (f == 0)
			return *msg = xstrdup(op == OP_DIV ? "division by zero" : "integer division or modulo by zero"), -1;
		if (op == OP_FLOORDIV && other.type == JVAL_INT)
			*out = make(PY_DELTA, 0, floordiv(v->us, other.u.i), 0, 0, NULL);
		else if (op == OP_FLOORDIV)
			return 1;
		else
			*out = make(PY_DELTA, 0, (int64_t)rint((double)v->us / f), 0, 0, NULL);
		return 0;
	}
	return 1;
}

static int pyv_binop(void *data, int op, struct jval other, int swapped, struct jval *out, char **msg)
{
	struct pyv *v = data;
	if (v->k == PY_TIME)
		return 1;
	if (v->k == PY_DELTA) {
		/* date + delta arrives here swapped when the delta is on the left */
		if (swapped && op == OP_ADD && (as_pyv(other, PY_DATE) || as_pyv(other, PY_DATETIME))) {
			struct jval me = jval_object(&delta_ops, self_copy(v));
			int r = date_binop(other.u.o->data, op, me, 0, out, msg);
			jval_unref(me);
			return r;
		}
		return delta_binop(data, op, other, swapped, out, msg);
	}
	return date_binop(data, op, other, swapped, out, msg);
}

static int pyv_neg(void *data, struct jval *out)
{
	struct pyv *v = data;
	if (v->k != PY_DELTA)
		return 1;
	*out = make(PY_DELTA, 0, -v->us, 0, 0, NULL);
	return 0;
}

static int pyv_compare(void *data, struct jval other, int *cmp)
{
	struct pyv *v = data, *o = as_pyv(other, v->k);
	if (!o)
		return 1;
	int64_t a, b;
	if (v->k == PY_DATE)
		a = v->days, b = o->days;
	else if (v->k == PY_DELTA || v->k == PY_TIME)
		a = v->us, b = o->us;
	else {
		if (v->aware != o->aware)
			return 1;
		a = v->days * US_PER_DAY + v->us - (int64_t)v->off * US_PER_SEC;
		b = o->days * US_PER_DAY + o->us - (int64_t)o->off * US_PER_SEC;
	}
	*cmp = a < b ? -1 : a > b;
	return 0;
}

static uint32_t pyv_hash(void *data)
{
	struct pyv *v = data;
	uint64_t x = (uint64_t)(v->k == PY_DELTA ? v->us : v->days * US_PER_DAY + v->us - (int64_t)v->off * US_PER_SEC);
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return (uint32_t)x ^ (uint32_t)v->k;
}

static const struct jinja_object_arith pyv_arith = { pyv_binop, pyv_neg, pyv_compare, pyv_hash };

static const struct jinja_object_ops date_ops = { "datetime.date", date_getattr, pyv_str, NULL, pyv_free, NULL, 0 };
static const struct jinja_object_ops datetime_ops = { "datetime.datetime", date_getattr, pyv_str, NULL, pyv_free, NULL, 0 };
static const struct jinja_object_ops time_ops = { "datetime.time", time_getattr, pyv_str, NULL, pyv_free, NULL, 0 };
static const struct jinja_object_ops delta_ops = { "datetime.timedelta", delta_getattr, pyv_str, NULL, pyv_free, NULL, 0 };

/* --- time zones ---------------------------------------------------------------------- */
static int tz_localize(struct jinja_call *c, struct jval *ret)
{
	struct pytz *z = jinja_call_data(c);
	const struct jval *a = jinja_call_param(c, 0, "dt");
	struct pyv *v = a ? as_pyv(*a, PY_DATETIME) : NULL;
	if (!v)
		return jinja_call_error(c, "localize() takes a datetime");
	if (!strcmp(jinja_call_name(c), "normalize")) {
		if (!v->aware)
			return jinja_call_error(c, "Naive time - no tzinfo set");
		return to_zone(v, z, ret) < 0 ? jinja_call_error(c, "date value out of range") : 0;
	}
	if (v->aware)
		return jinja_call_error(c, "Not naive datetime (tzinfo is already set)");
	int32_t off = z->named ? tz_offset_local(z, v->days * 86400 + v->us / US_PER_SEC) : z->off;
	*ret = make(PY_DATETIME, v->days, v->us, 1, off, z);
	return 0;
}

static void tz_free_data(void *data)
{
	tz_unref(data);
}

static int tz_utcoffset(struct jinja_call *c, struct jval *ret)
{
	struct pytz *z = jinja_call_data(c);
	const struct jval *a = jinja_call_param(c, 0, "dt");
	struct pyv *v = a ? as_pyv(*a, PY_DATETIME) : NULL;
	int32_t off = z->off;
	if (z->named) {
		if (!v) {
			*ret = jval_none();
			return 0;
		}
		off = v->aware ? tz_offset_at(z, floordiv(utc_us(v), US_PER_SEC))
			       : tz_offset_local(z, v->days * 86400 + v->us / US_PER_SEC);
	}
	*ret = make(PY_DELTA, 0, (int64_t)off * US_PER_SEC, 0, 0, NULL);
	return 0;
}

static int tz_getattr(void *data, const char *name, struct jval *out)
{
	struct pytz *z = data;
	if (!strcmp(name, "zone") && z->is_pytz)
		*out = jval_str(z->name);
	else if ((!strcmp(name, "localize") || !strcmp(name, "normalize")) && z->is_pytz)
		*out = jval_native(name, tz_localize, tz_ref(z), tz_free_data);
	else if (!strcmp(name, "utcoffset"))
		*out = jval_native(name, tz_utcoffset, tz_ref(z), tz_free_data);
	else
		return 1;
	return 0;
}

static void tz_str(void *data, struct strbuf *out)
{
	strbuf_addstr(out, ((struct pytz *)data)->name);
}

static const struct jinja_object_ops tz_ops = { "timezone", tz_getattr, tz_str, NULL, tz_free_data, NULL, 0 };

static struct jval tz_value(struct pytz *z)
{
	return jval_object(&tz_ops, z);
}

static struct pytz *tz_utc(int is_pytz)
{
	struct pytz *z = xcalloc(1, sizeof(*z));
	z->refs = 1;
	z->name = xstrdup("UTC");
	z->is_pytz = is_pytz;
	return z;
}

/* --- the module's classes ------------------------------------------------------------ */
static struct pytz *fixed_zone(int32_t off, const char *name)
{
	struct pytz *z = xcalloc(1, sizeof(*z));
	z->refs = 1;
	z->off = off;
	if (name)
		z->name = xstrdup(name);
	else {
		struct strbuf n = STRBUF_INIT;
		strbuf_addstr(&n, "UTC");
		if (off)
			print_off(&n, off, 1);
		z->name = strbuf_detach(&n, NULL);
	}
	return z;
}

static int c_timezone(struct jinja_call *c, struct jval *ret)
{
	const struct jval *o = jinja_call_param(c, 0, "offset"), *n = jinja_call_param(c, 1, "name");
	struct pyv *d = o ? as_pyv(*o, PY_DELTA) : NULL;
	if (!d)
		return jinja_call_error(c, "timezone() argument 1 must be datetime.timedelta");
	if (d->us <= -US_PER_DAY || d->us >= US_PER_DAY)
		return jinja_call_error(c, "offset must be a timedelta strictly between -timedelta(hours=24) and "
					   "timedelta(hours=24)");
	*ret = tz_value(fixed_zone((int32_t)(d->us / US_PER_SEC), n ? jval_str_cstr(*n) : NULL));
	return 0;
}

static int c_date(struct jinja_call *c, struct jval *ret)
{
	static const char *const names[] = { "year", "month", "day" };
	const struct jval *a[3];
	struct fields f = { 0 };
	if (call_bind(c, names, 3, a))
		return -1;
	for (int i = 0; i < 3; i++)
		if (!a[i])
			return jinja_call_error(c, "function missing required argument '%s' (pos %d)", names[i], i + 1);
	if (arg_int(c, a[0], "year", &f.y) || arg_int(c, a[1], "month", &f.mo) || arg_int(c, a[2], "day", &f.d))
		return -1;
	if (check_fields(c, &f, 0))
		return -1;
	*ret = from_fields(&f, 0, NULL);
	return 0;
}

static int c_datetime(struct jinja_call *c, struct jval *ret)
{
	static const char *const names[] = { "year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo" };
	const struct jval *a[8];
	struct fields f = { 0 };
	int64_t *slots[] = { &f.y, &f.mo, &f.d, &f.h, &f.mi, &f.s, &f.us };
	if (call_bind(c, names, 8, a))
		return -1;
	for (int i = 0; i < 3; i++)
		if (!a[i])
			return jinja_call_error(c, "function missing required argument '%s' (pos %d)", names[i], i + 1);
	for (int i = 0; i < 7; i++)
		if (a[i] && arg_int(c, a[i], names[i], slots[i]))
			return -1;
	struct pytz *tz;
	if (check_fields(c, &f, 1) || tz_param(c, a[7], &tz))
		return -1;
	/* a named pytz zone as tzinfo= gets the zone's first offset (LMT) in
	 * Python; here the offset of that wall time, as localize() gives */
	*ret = from_fields(&f, 1, tz);
	return 0;
}

static int c_time(struct jinja_call *c, struct jval *ret)
{
	static const char *const names[] = { "hour", "minute", "second", "microsecond" };
	const struct jval *a[4];
	struct fields f = { 0 };
	int64_t *slots[] = { &f.h, &f.mi, &f.s, &f.us };
	f.y = 2000;
	f.mo = f.d = 1;
	if (call_bind(c, names, 4, a))
		return -1;
	for (int i = 0; i < 4; i++)
		if (a[i] && arg_int(c, a[i], names[i], slots[i]))
			return -1;
	if (check_fields(c, &f, 1))
		return -1;
	*ret = make(PY_TIME, 0, ((f.h * 60 + f.mi) * 60 + f.s) * US_PER_SEC + f.us, 0, 0, NULL);
	return 0;
}

static int c_timedelta(struct jinja_call *c, struct jval *ret)
{
	static const char *const names[] = { "days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks" };
	static const double scale[] = { 86400e6, 1e6, 1, 1e3, 60e6, 3600e6, 604800e6 };
	const struct jval *a[7];
	if (call_bind(c, names, 7, a))
		return -1;
	int64_t total = 0;
	double frac = 0;
	for (int i = 0; i < 7; i++) {
		double x;
		if (!a[i])
			continue;
		if (num_of(a[i], &x) < 0)
			return jinja_call_error(c, "unsupported type for timedelta %s component: %s", names[i],
						jval_type_name(*a[i]));
		if (a[i]->type == JVAL_INT) {
			int64_t t;
			if (__builtin_mul_overflow(a[i]->u.i, (int64_t)scale[i], &t) ||
			    __builtin_add_overflow(total, t, &total))
				return jinja_call_error(c, "days=%lld; must have magnitude <= 999999999",
							(long long)(a[i]->u.i));
		} else
			frac += x * scale[i];
	}
	if (fabs(frac) > 9.2e18)
		return jinja_call_error(c, "timedelta value out of range");
	*ret = make(PY_DELTA, 0, total + (int64_t)rint(frac), 0, 0, NULL);
	return 0;
}

/* now(tz=None), utcnow(), today(): Dango's clock */
static int c_now(struct jinja_call *c, struct jval *ret)
{
	const char *which = jinja_call_name(c);
	double t = clock_now();
	int64_t u = (int64_t)floor(t * 1e6);
	struct pytz *tz = NULL;
	if (!strcmp(which, "now") && tz_param(c, jinja_call_param(c, 0, "tz"), &tz))
		return -1;
	if (tz) {
		int32_t off = tz_offset_at(tz, floordiv(u, US_PER_SEC));
		return make_dt(0, u + (int64_t)off * US_PER_SEC, 1, off, tz, ret) < 0
			       ? jinja_call_error(c, "date value out of range")
			       : 0;
	}
	if (strcmp(which, "utcnow"))
		u += (int64_t)local_offset(floordiv(u, US_PER_SEC)) * US_PER_SEC;
	if (make_dt(0, u, 0, 0, NULL, ret) < 0)
		return jinja_call_error(c, "date value out of range");
	if (!strcmp(which, "today_date")) {
		struct pyv *v = ret->u.o->data;
		struct jval d = make(PY_DATE, v->days, 0, 0, 0, NULL);
		jval_unref(*ret);
		*ret = d;
	}
	return 0;
}

static int c_fromtimestamp(struct jinja_call *c, struct jval *ret)
{
	const struct jval *a = jinja_call_param(c, 0, "timestamp");
	double t;
	if (!a || num_of(a, &t) < 0)
		return jinja_call_error(c, "an integer or a float is required");
	int64_t u = (int64_t)rint(t * 1e6);
	struct pytz *tz = NULL;
	int utc = !strcmp(jinja_call_name(c), "utcfromtimestamp");
	if (!utc && tz_param(c, jinja_call_param(c, 1, "tz"), &tz))
		return -1;
	int32_t off = tz ? tz_offset_at(tz, floordiv(u, US_PER_SEC)) : utc ? 0 : local_offset(floordiv(u, US_PER_SEC));
	if (make_dt(0, u + (int64_t)off * US_PER_SEC, tz != NULL, off, tz, ret) < 0)
		return jinja_call_error(c, "year is out of range");
	if (!strcmp(jinja_call_name(c), "date_fromtimestamp")) {
		struct pyv *v = ret->u.o->data;
		struct jval d = make(PY_DATE, v->days, 0, 0, 0, NULL);
		jval_unref(*ret);
		*ret = d;
	}
	return 0;
}

static int c_strptime(struct jinja_call *c, struct jval *ret)
{
	const struct jval *s = jinja_call_param(c, 0, "date_string"), *f = jinja_call_param(c, 1, "format");
	if (!s || !f || s->type != JVAL_STR || f->type != JVAL_STR)
		return jinja_call_error(c, "strptime() argument 1 must be str");
	struct fields fl;
	const char *rest = NULL;
	int r = strptime_py(jval_str_cstr(*s), jval_str_cstr(*f), &fl, &rest);
	if (r == -2)
		return jinja_call_error(c, "unconverted data remains: %s", rest);
	/* Python's patterns only take 1-12 for %m, 0-23 for %H... */
	if (!r && (fl.mo < 1 || fl.mo > 12 || fl.d < 1 || fl.d > 31 || fl.h > 23 || fl.mi > 59 || fl.s > 61 ||
		   fl.yday == 0 || fl.yday > 366))
		r = -1;
	if (r < 0)
		return jinja_call_error(c, "time data '%s' does not match format '%s'", jval_str_cstr(*s),
					jval_str_cstr(*f));
	if (fl.yday > 0) {
		int64_t d = days_from_civil(fl.y, 1, 1) + fl.yday - 1, y;
		int m, dd;
		civil_from_days(d, &y, &m, &dd);
		fl.mo = m;
		fl.d = dd;
	}
	if (check_fields(c, &fl, 1))
		return -1;
	*ret = from_fields(&fl, 1, NULL);
	return 0;
}

static int c_fromisoformat(struct jinja_call *c, struct jval *ret)
{
	const struct jval *s = jinja_call_param(c, 0, "date_string");
	int with_time = !strcmp(jinja_call_name(c), "fromisoformat");
	struct fields f;
	if (!s || s->type != JVAL_STR)
		return jinja_call_error(c, "fromisoformat: argument must be str");
	if (parse_iso(jval_str_cstr(*s), with_time, &f) < 0)
		return jinja_call_error(c, "Invalid isoformat string: '%s'", jval_str_cstr(*s));
	if (check_fields(c, &f, with_time))
		return -1;
	*ret = from_fields(&f, with_time, NULL);
	return 0;
}

static int c_combine(struct jinja_call *c, struct jval *ret)
{
	const struct jval *d = jinja_call_param(c, 0, "date"), *t = jinja_call_param(c, 1, "time");
	struct pyv *dv = d ? (as_pyv(*d, PY_DATE) ? as_pyv(*d, PY_DATE) : as_pyv(*d, PY_DATETIME)) : NULL;
	struct pyv *tv = t ? as_pyv(*t, PY_TIME) : NULL;
	if (!dv)
		return jinja_call_error(c, "combine() argument 1 must be datetime.date");
	if (!tv)
		return jinja_call_error(c, "combine() argument 2 must be datetime.time");
	*ret = make(PY_DATETIME, dv->days, tv ? tv->us : 0, tv && tv->aware, tv ? tv->off : 0, tv ? tv->tz : NULL);
	return 0;
}

/* A class: callable, with class methods and constants as attributes. */
struct pyclass {
	const char *name;
	jinja_fn ctor;
	const char *const *methods; /* name, then the native's name for it */
	jinja_fn *fns;
	size_t n;
	enum pyk k;
};

static int class_getattr(void *data, const char *name, struct jval *out)
{
	const struct pyclass *k = data;
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->methods[2 * i], name)) {
			*out = jval_native(k->methods[2 * i + 1], k->fns[i], NULL, NULL);
			return 0;
		}
	if (!strcmp(name, "min") || !strcmp(name, "max")) {
		int max = name[1] == 'a';
		if (k->k == PY_DELTA || k->k == PY_TIME) /* 999999999 days do not fit our microseconds */
			return 1;
		*out = make(k->k, max ? MAX_DAYS : MIN_DAYS, max && k->k == PY_DATETIME ? US_PER_DAY - 1 : 0, 0,
				    0, NULL);
		return 0;
	}
	if (k->k == PY_DELTA && !strcmp(name, "resolution")) {
		*out = make(PY_DELTA, 0, 1, 0, 0, NULL);
		return 0;
	}
	return 1;
}

static void class_str(void *data, struct strbuf *out)
{
	strbuf_addf(out, "<class '%s'>", ((const struct pyclass *)data)->name);
}

static int class_call(struct jinja_call *c, struct jval *ret)
{
	const struct pyclass *k = jinja_call_data(c);
	return k->ctor(c, ret);
}

static const struct jinja_object_ops class_ops = { "type", class_getattr, class_str, class_call, NULL, NULL, 0 };

static const char *const date_methods[] = { "today", "today_date", "fromisoformat", "date_fromisoformat",
					    "fromtimestamp", "date_fromtimestamp" };
static jinja_fn date_fns[] = { c_now, c_fromisoformat, c_fromtimestamp };
static const struct pyclass date_class = { "datetime.date", c_date, date_methods, date_fns, 3, PY_DATE };

static const char *const dt_methods[] = { "now", "now", "utcnow", "utcnow", "today", "today",
					  "strptime", "strptime", "fromisoformat", "fromisoformat",
					  "fromtimestamp", "fromtimestamp", "utcfromtimestamp", "utcfromtimestamp",
					  "combine", "combine" };
static jinja_fn dt_fns[] = { c_now, c_now, c_now, c_strptime, c_fromisoformat, c_fromtimestamp, c_fromtimestamp,
			     c_combine };
static const struct pyclass datetime_class = { "datetime.datetime", c_datetime, dt_methods, dt_fns, 8,
					       PY_DATETIME };
static const struct pyclass time_class = { "datetime.time", c_time, NULL, NULL, 0, PY_TIME };
static const struct pyclass delta_class = { "datetime.timedelta", c_timedelta, NULL, NULL, 0, PY_DELTA };

static int tzclass_getattr(void *data, const char *name, struct jval *out)
{
	(void)data;
	if (!strcmp(name, "utc")) {
		*out = tz_value(tz_utc(0));
		return 0;
	}
	return 1;
}

static void tzclass_str(void *data, struct strbuf *out)
{
	(void)data;
	strbuf_addstr(out, "<class 'datetime.timezone'>");
}

static int tzclass_call(struct jinja_call *c, struct jval *ret)
{
	return c_timezone(c, ret);
}

static const struct jinja_object_ops tzclass_ops = { "type", tzclass_getattr, tzclass_str, tzclass_call, NULL, NULL, 0 };

/* pytz.timezone(name): UTC (and its aliases) fixed, others from zoneinfo */
static int pytz_timezone(struct jinja_call *c, struct jval *ret)
{
	const struct jval *a = jinja_call_param(c, 0, "zone");
	const char *name = a ? jval_str_cstr(*a) : NULL;
	if (!name)
		return jinja_call_error(c, "timezone() takes a zone name");
	if (!strcasecmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "GMT") || !strcmp(name, "Zulu")) {
		*ret = tz_value(tz_utc(1));
		return 0;
	}
	struct pytz *z = xcalloc(1, sizeof(*z));
	struct strbuf err = STRBUF_INIT;
	/* a POSIX TZ text ("UTC0") is no zone name to pytz */
	if (!strchr(name, '/') || strstr(name, "..") || tz_load(&z->zone, name, &err) < 0) {
		strbuf_release(&err);
		free(z);
		return jinja_call_error(c, "UnknownTimeZoneError: '%s'", name);
	}
	strbuf_release(&err);
	z->refs = 1;
	z->named = 1;
	z->is_pytz = 1;
	z->name = xstrdup(name);
	*ret = tz_value(z);
	return 0;
}

static void register_arith(void)
{
	jinja_object_set_arith(&date_ops, &pyv_arith);
	jinja_object_set_arith(&datetime_ops, &pyv_arith);
	jinja_object_set_arith(&delta_ops, &pyv_arith);
	jinja_object_set_arith(&time_ops, &pyv_arith);
}

struct jval dbt_datetime_module(void)
{
	register_arith();
	struct jval m = jval_dict_new();
	jval_dict_set(m, "date", jval_object(&class_ops, (void *)&date_class));
	jval_dict_set(m, "datetime", jval_object(&class_ops, (void *)&datetime_class));
	jval_dict_set(m, "timedelta", jval_object(&class_ops, (void *)&delta_class));
	jval_dict_set(m, "time", jval_object(&class_ops, (void *)&time_class));
	jval_dict_set(m, "timezone", jval_object(&tzclass_ops, NULL));
	jval_dict_set(m, "MINYEAR", jval_int(1));
	jval_dict_set(m, "MAXYEAR", jval_int(9999));
	return jval_object_dict(m);
}

struct jval dbt_pytz_module(void)
{
	register_arith();
	struct jval m = jval_dict_new();
	jval_dict_set(m, "utc", tz_value(tz_utc(1)));
	jval_dict_set(m, "UTC", tz_value(tz_utc(1)));
	jval_dict_set(m, "timezone", jval_native("timezone", pytz_timezone, NULL, NULL));
	return jval_object_dict(m);
}

struct jval dbt_datetime_value(time_t t, long usec, int utc)
{
	register_arith();
	int64_t u = (int64_t)t * US_PER_SEC + usec;
	struct jval v = jval_none();
	if (utc) {
		struct pytz *z = tz_utc(1);
		make_dt(0, u, 1, 0, z, &v);
		tz_unref(z);
	} else
		make_dt(0, u + (int64_t)local_offset((int64_t)t) * US_PER_SEC, 0, 0, NULL, &v);
	return v;
}

struct jval dbt_date_value(int32_t days_since_epoch)
{
	register_arith();
	struct jval v = jval_none();
	make_date(days_since_epoch, &v);
	return v;
}

struct jval dbt_timestamp_value(int64_t us_since_epoch, int aware)
{
	register_arith();
	struct jval v = jval_none();
	if (aware) {
		struct pytz *z = tz_utc(1);
		make_dt(0, us_since_epoch, 1, 0, z, &v);
		tz_unref(z);
	} else
		make_dt(0, us_since_epoch, 0, 0, NULL, &v);
	return v;
}

struct jval dbt_datetime_from_sql(const char *text, const char *type_name)
{
	struct fields f;
	int kind = !strcmp(type_name, "date") ? 0 : !strcmp(type_name, "time") ? 2
		 : !strncmp(type_name, "timestamp", 9) ? 1 : -1;
	if (kind < 0)
		return jval_undefined();
	register_arith();
	if (kind == 2) {
		/* "HH:MM:SS[.ffffff]" */
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "2000-01-01 %s", text);
		int bad = parse_iso(sb.buf, 1, &f) < 0 || f.aware || f.h > 23 || f.mi > 59 || f.s > 59;
		strbuf_release(&sb);
		if (bad)
			return jval_undefined();
		return make(PY_TIME, 0, ((f.h * 60 + f.mi) * 60 + f.s) * US_PER_SEC + f.us, 0, 0, NULL);
	}
	/* infinity, BC dates and years past 9999 stay text */
	if (parse_iso(text, kind == 1, &f) < 0 || f.y < 1 || f.y > 9999 || f.mo < 1 || f.mo > 12 || f.d < 1 ||
	    f.d > days_in_month(f.y, (int)f.mo) || f.h > 23 || f.mi > 59 || f.s > 59)
		return jval_undefined();
	if (kind == 1 && f.aware && f.off == 0) { /* TIMESTAMPTZ in UTC: pytz.utc, as dbt-duckdb gives */
		struct pytz *z = tz_utc(1);
		struct jval v = from_fields(&f, 1, z);
		tz_unref(z);
		return v;
	}
	return from_fields(&f, kind == 1, NULL);
}
