/* The process reads DANGO_NOW once, at the first call, and remembers the
 * real time of that moment, so that a faked clock still advances (at
 * DANGO_CLOCK_SPEED times real time, 0 to stand still) while the process
 * runs. */
#include "core/clock.h"
#include "core/ui.h"

#include <ctype.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int clock_ready;
static int clock_faked;
static double fake_start;   /* DANGO_NOW, epoch seconds */
static double real_start;   /* the real time when DANGO_NOW was read */
static double clock_speed = 1.0;

static double real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void clock_setup(void)
{
	const char *now = getenv("DANGO_NOW");
	const char *speed = getenv("DANGO_CLOCK_SPEED");
	time_t t;

	clock_ready = 1;
	clock_faked = 0;
	clock_speed = 1.0;
	if (now && *now && !clock_parse_iso8601(now, &t)) {
		clock_faked = 1;
		fake_start = (double)t;
		real_start = real_now();
	}
	if (speed && *speed) {
		char *end;
		double v = strtod(speed, &end);
		if (*end == '\0' && v >= 0 && v <= 1e6)
			clock_speed = v;
		else
			ui_warn("DANGO_CLOCK_SPEED=%s is not a number from 0 (a clock that stands still) to 1000000; "
				"the clock runs at real speed",
				speed);
	}
}

void clock_reset(void)
{
	clock_ready = 0;
}

double clock_now(void)
{
	if (!clock_ready)
		clock_setup();
	if (!clock_faked)
		return real_now();
	return fake_start + (real_now() - real_start) * clock_speed;
}

time_t clock_now_sec(void)
{
	return (time_t)clock_now();
}

double clock_real_seconds(double clock_seconds)
{
	if (!clock_ready)
		clock_setup();
	if (clock_speed == 0) /* a clock that stands still: what is due now is due, the rest never */
		return clock_seconds > 0 ? DBL_MAX : 0;
	return clock_seconds / clock_speed;
}

/* Read exactly n digits at *p into *out; advances *p. */
static int read_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * civil-from-days algorithm, inverted). */
static long long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

static int parse_offset(const char *p, int *offset)
{
	int sign, hh, mm = 0;
	if (*p == '\0') {
		*offset = 0;
		return 0;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*offset = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (read_digits(&p, 2, &hh))
		return -1;
	if (*p == ':')
		p++;
	if (*p && read_digits(&p, 2, &mm))
		return -1;
	if (*p || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600 + mm * 60);
	return 0;
}

int clock_parse_iso8601(const char *s, time_t *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, offset = 0;

	if (!s || read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) ||
	    *p++ != '-' || read_digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (read_digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
	}
	if (parse_offset(p, &offset))
		return -1;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400LL + h * 3600 + mi * 60 + sec - offset);
	return 0;
}

char *clock_format_utc(char *buf, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *clock_format_utc_sql(char *buf, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

char *clock_format_utc_usec(char *buf, double t)
{
	time_t sec = (time_t)t;
	long usec = (long)((t - (double)sec) * 1e6);
	struct tm tm;
	if (usec < 0)
		usec = 0;
	if (usec > 999999)
		usec = 999999;
	gmtime_r(&sec, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), 16, ".%06ldZ", usec);
	return buf;
}
