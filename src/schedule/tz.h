/* IANA time zones, read from the system's zoneinfo files (TZif, RFC 8536)
 * without touching the process's TZ: the scheduler may run in a thread of
 * `dango web`, where setenv("TZ") + tzset() would change every other
 * thread's local time. A zone is its transitions, its local time types and
 * the POSIX TZ rule of the file's footer for instants past the last
 * transition (or a POSIX TZ string given directly, such as "UTC0").
 *
 * Instants are seconds since the epoch (int64_t); a "civil" time is a wall
 * clock reading in the zone (year, month, day, hour, minute). */
#ifndef DANGO_SCHEDULE_TZ_H
#define DANGO_SCHEDULE_TZ_H
#include <stddef.h>
#include <stdint.h>
struct strbuf;

struct tz_type {
	int32_t off;        /* seconds east of UTC */
	int isdst;
	char abbr[16];
};

/* A POSIX TZ rule: "CET-1CEST,M3.5.0,M10.5.0/3". */
struct tz_rule_date {
	char kind;          /* 'M' (month.week.day), 'J' (Julian day 1-365, no Feb 29), 'D' (day 0-365) */
	int month, week, wday, day;
	int32_t time;       /* seconds after local midnight (may be negative or past 24h) */
};
struct tz_rule {
	struct tz_type std, dst;
	int has_dst;
	struct tz_rule_date start, end;
};

struct tz {
	char *name;         /* as given, or "UTC" / the TZ value for the local zone */
	int64_t *trans;
	unsigned char *idx; /* type of each transition */
	struct tz_type *types;
	size_t ntrans, ntypes;
	struct tz_rule rule;
	int has_rule;
};

/* Load the zone `name` ("Europe/Berlin"); NULL or "" is the machine's zone
 * (TZ, else /etc/localtime, else UTC). Files come from $TZDIR or
 * /usr/share/zoneinfo. 0, or -1 with "unknown time zone 'x'" in err. */
int tz_load(struct tz *tz, const char *name, struct strbuf *err);
void tz_release(struct tz *tz);

/* The local time type in force at instant t (borrowed). */
const struct tz_type *tz_at(const struct tz *tz, int64_t t);

struct tz_civil {
	int year, month, day, hour, minute, second;
	int wday;           /* 0 = Sunday */
	int32_t off;
	const char *abbr;   /* borrowed from the zone */
};
/* Instant t as a wall clock reading in the zone. */
void tz_to_civil(const struct tz *tz, int64_t t, struct tz_civil *out);

enum tz_civil_kind {
	TZ_UNIQUE = 0,      /* the reading happens once */
	TZ_GAP,             /* skipped by a forward change: *out is the change's instant */
	TZ_REPEATED,        /* happens twice (a backward change): *out is the first */
};
/* The instant of a wall clock reading (seconds 0). */
enum tz_civil_kind tz_from_civil(const struct tz *tz, int year, int month, int day, int hour, int minute,
				 int64_t *out);

/* Calendar helpers shared with the cron code. */
int64_t tz_days_from_civil(int y, int m, int d);
void tz_civil_from_days(int64_t days, int *y, int *m, int *d);
int tz_days_in_month(int y, int m);

#endif
