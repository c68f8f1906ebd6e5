/* Fields become bit sets; the next fire time walks the zone's calendar day
 * by day (at most eight years, enough for February 29 on a given weekday
 * to come round) and, on a matching day, the set hours and minutes, each
 * candidate turned into an instant by tz_from_civil. */
#include "schedule/cron.h"
#include "schedule/tz.h"

#include "core/strbuf.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct field_spec {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] stands for lo + i */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
					   "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field_spec specs[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, dow_names },
};

struct preset {
	const char *name, *fields, *meaning;
};
static const struct preset presets[] = {
	{ "every_15m", "*/15 * * * *", "every 15 minutes" },
	{ "every_hour", "0 * * * *", "every hour, on the hour" },
	{ "every_6h", "0 */6 * * *", "every 6 hours (00:00, 06:00, 12:00, 18:00)" },
	{ "daily", "0 6 * * *", "every day at 06:00" },
	{ "weekly", "0 6 * * 1", "every Monday at 06:00" },
	{ "@hourly", "0 * * * *", "every hour, on the hour" },
	{ "@daily", "0 0 * * *", "every day at midnight" },
	{ "@midnight", "0 0 * * *", "every day at midnight" },
	{ "@weekly", "0 0 * * 0", "every Sunday at midnight" },
	{ "@monthly", "0 0 1 * *", "the first of every month at midnight" },
	{ "@yearly", "0 0 1 1 *", "every January 1 at midnight" },
	{ "@annually", "0 0 1 1 *", "every January 1 at midnight" },
	{ NULL, NULL, NULL },
};

const char *cron_preset_names(void)
{
	return "every_15m, every_hour, every_6h, daily, weekly, @hourly, @daily, @midnight, @weekly, "
	       "@monthly, @yearly, @annually";
}

static void field_error(struct strbuf *err, const struct field_spec *f, const char *fmt, const char *what)
{
	strbuf_addf(err, "field '%s' (%d-%d", f->name, f->lo, f->hi);
	if (f->names)
		strbuf_addf(err, " or %s-%s", f->names[0], f->names[f == &specs[3] ? 11 : 6]);
	strbuf_addstr(err, "): ");
	strbuf_addf(err, fmt, what);
}

/* A number or a name at *p; advances *p. */
static int read_value(const char **p, const struct field_spec *f, int *out, struct strbuf *err)
{
	const char *s = *p;
	char tok[32];
	size_t n = 0;
	if (isdigit((unsigned char)*s)) {
		long v = 0;
		while (isdigit((unsigned char)*s)) {
			if (v < 100000)
				v = v * 10 + (*s - '0');
			s++;
		}
		if (v < f->lo || v > f->hi) {
			snprintf(tok, sizeof(tok), "%ld", v);
			field_error(err, f, "value %s is out of range", tok);
			return -1;
		}
		*out = (int)v;
		*p = s;
		return 0;
	}
	while (isalpha((unsigned char)s[n]) && n + 1 < sizeof(tok)) {
		tok[n] = s[n];
		n++;
	}
	tok[n] = '\0';
	if (n == 3 && f->names) {
		for (int i = 0; f->names[i]; i++) {
			if (!strcasecmp(tok, f->names[i])) {
				*out = f->lo + i;
				*p = s + n;
				return 0;
			}
		}
	}
	if (!n) {
		snprintf(tok, sizeof(tok), "%.8s", *s ? s : "(nothing)");
		field_error(err, f, "expected a number at '%s'", tok);
	} else {
		field_error(err, f, f->names ? "'%s' is not a number or a name" : "'%s' is not a number", tok);
	}
	return -1;
}

static int parse_item(const char *item, const struct field_spec *f, uint64_t *bits, int *star, struct strbuf *err)
{
	const char *p = item;
	int lo, hi, step = 1;
	if (*p == '*') {
		lo = f->lo;
		hi = f->hi;
		p++;
		*star = 1;
	} else {
		if (read_value(&p, f, &lo, err) < 0)
			return -1;
		hi = lo;
		if (*p == '-') {
			p++;
			if (read_value(&p, f, &hi, err) < 0)
				return -1;
			if (hi < lo) {
				field_error(err, f, "range '%s' goes backwards", item);
				return -1;
			}
		} else if (*p == '/') {
			hi = f->hi; /* "5/15": from 5 to the end, every 15 */
		}
	}
	if (*p == '/') {
		p++;
		long v = 0;
		if (!isdigit((unsigned char)*p)) {
			field_error(err, f, "step in '%s' must be a whole number", item);
			return -1;
		}
		while (isdigit((unsigned char)*p)) {
			if (v < 100000)
				v = v * 10 + (*p - '0');
			p++;
		}
		if (v < 1 || v > f->hi - f->lo + 1) {
			field_error(err, f, "step in '%s' is out of range", item);
			return -1;
		}
		step = (int)v;
	}
	if (*p) {
		field_error(err, f, "unexpected text in '%s'", item);
		return -1;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int parse_field(const char *text, int which, uint64_t *bits, int *star, struct strbuf *err)
{
	const struct field_spec *f = &specs[which];
	char buf[128];
	*bits = 0;
	*star = text[0] == '*'; /* Vixie's rule looks at the first character */
	if (strlen(text) >= sizeof(buf)) {
		field_error(err, f, "'%s' is too long", "...");
		return -1;
	}
	strcpy(buf, text);
	int dummy = 0;
	for (char *save, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (parse_item(item, f, bits, &dummy, err) < 0)
			return -1;
	if (!*bits || text[0] == ',' || text[strlen(text) - 1] == ',' || strstr(text, ",,")) {
		field_error(err, f, "empty list item in '%s'", text);
		return -1;
	}
	return 0;
}

/* Some day of some month in the set exists (February 30 does not). */
static int days_possible(const struct cron *c)
{
	if (c->dom_star || !c->dow_star)
		return 1;
	for (int m = 1; m <= 12; m++) {
		if (!(c->month & (1u << m)))
			continue;
		for (int d = 1; d <= tz_days_in_month(2024, m); d++)
			if (c->dom & (1u << d))
				return 1;
	}
	return 0;
}

int cron_parse(struct cron *c, const char *expr, struct strbuf *err)
{
	char buf[256], *f[6];
	int n = 0;
	memset(c, 0, sizeof(*c));
	while (isspace((unsigned char)*expr))
		expr++;
	if (!*expr) {
		strbuf_addf(err, "empty cron expression (use five fields or one of: %s)", cron_preset_names());
		return -1;
	}
	if (strlen(expr) >= sizeof(buf)) {
		strbuf_addstr(err, "cron expression too long");
		return -1;
	}
	strcpy(buf, expr);
	for (size_t i = strlen(buf); i > 0 && isspace((unsigned char)buf[i - 1]); i--)
		buf[i - 1] = '\0';
	if (!strchr(buf, ' ') && !strchr(buf, '\t')) {
		const char *names[sizeof(presets) / sizeof(*presets)];
		size_t k = 0;
		for (const struct preset *p = presets; p->name; p++) {
			if (!strcasecmp(p->name, buf)) {
				int r = cron_parse(c, p->fields, err);
				c->preset = p->name;
				return r;
			}
			names[k++] = p->name;
		}
		names[k] = NULL;
		if (!strcmp(buf, "@reboot")) {
			strbuf_addstr(err, "'@reboot' has no fire time; the scheduler runs schedules by the clock only");
			return -1;
		}
		const char *hint = did_you_mean(buf, names);
		strbuf_addf(err, "unknown cron preset '%s'", buf);
		if (hint)
			strbuf_addf(err, " (did you mean '%s'?)", hint);
		else
			strbuf_addf(err, " (use five fields, or one of: %s)", cron_preset_names());
		return -1;
	}
	for (char *save, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 5) {
			n++;
			break;
		}
		f[n++] = t;
	}
	if (n != 5) {
		strbuf_addf(err, "expected 5 fields (minute hour day-of-month month day-of-week), got %s",
			    n > 5 ? "more" : n == 1 ? "1" : n == 2 ? "2" : n == 3 ? "3" : "4");
		return -1;
	}
	uint64_t bits[5];
	int star[5];
	for (int i = 0; i < 5; i++)
		if (parse_field(f[i], i, &bits[i], &star[i], err) < 0)
			return -1;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
	c->dom_star = star[2];
	c->dow_star = star[4];
	snprintf(c->fields, sizeof(c->fields), "%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
	if (!days_possible(c)) {
		strbuf_addf(err, "'%s' never fires: no month in field 'month' has such a day of the month", c->fields);
		return -1;
	}
	return 0;
}

static int day_matches(const struct cron *c, int m, int d, int wday)
{
	if (!(c->month & (1u << m)))
		return 0;
	int dom = (c->dom >> d) & 1, dow = (c->dow >> wday) & 1;
	return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

int cron_next(const struct cron *c, const struct tz *tz, int64_t after, int64_t *out)
{
	struct tz_civil now;
	tz_to_civil(tz, after, &now);
	/* the next whole minute on the wall clock */
	int64_t day = tz_days_from_civil(now.year, now.month, now.day);
	int h0 = now.hour, m0 = now.minute + 1;
	if (m0 == 60) {
		m0 = 0;
		if (++h0 == 24) {
			h0 = 0;
			day++;
		}
	}
	for (int64_t i = 0; i < 366 * 8 + 2; i++, day++, h0 = 0, m0 = 0) {
		int y, m, d;
		tz_civil_from_days(day, &y, &m, &d);
		int wday = (int)((day % 7 + 11) % 7);
		if (!day_matches(c, m, d, wday))
			continue;
		for (int h = h0; h < 24; h++) {
			if (!(c->hour & (1u << h)))
				continue;
			for (int mi = h == h0 ? m0 : 0; mi < 60; mi++) {
				if (!(c->minute & (1ULL << mi)))
					continue;
				int64_t t;
				tz_from_civil(tz, y, m, d, h, mi, &t);
				/* a repeated reading fires the first time only; a
				 * skipped one maps to the change, which may already
				 * have fired */
				if (t > after) {
					*out = t;
					return 0;
				}
			}
		}
	}
	return -1;
}
