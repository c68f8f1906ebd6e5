/* "Now" for every command. Normally the system clock; tests set
 * DANGO_NOW to an ISO 8601 time (2026-03-28T12:00:00Z, or with an offset
 * such as +01:00) that is "now" when the process starts, and optionally
 * DANGO_CLOCK_SPEED (say 600) to make that clock run that many times faster
 * than real time from there. The scheduler, OAuth expiry checks, history and
 * "44m ago" texts all read this clock, so no test has to sleep. */
#ifndef DANGO_CLOCK_H
#define DANGO_CLOCK_H
#include <time.h>
struct strbuf;

/* Seconds since the epoch, with fractions. */
double clock_now(void);
/* The same, whole seconds. */
time_t clock_now_sec(void);
/* Real seconds to sleep so that `clock_seconds` pass on Dango's clock
 * (divided by DANGO_CLOCK_SPEED when set). */
double clock_real_seconds(double clock_seconds);
/* Parse an ISO 8601 date-time: YYYY-MM-DD[T ]HH:MM[:SS[.fff]] followed by Z,
 * +HH:MM, -HH:MM, +HHMM or nothing (then UTC). A bare date is midnight UTC.
 * 0 on success, -1 otherwise. */
int clock_parse_iso8601(const char *s, time_t *out);
/* t as UTC "2026-03-28T12:00:00Z" into buf (at least 32 bytes); returns buf. */
char *clock_format_utc(char *buf, time_t t);
/* t as UTC the way a SQL TIMESTAMP reads, "2026-03-28 12:00:00" (at least 32 bytes). */
char *clock_format_utc_sql(char *buf, time_t t);
/* t as UTC with microseconds, "2026-03-28T12:00:00.250000Z" (at least 40 bytes). */
char *clock_format_utc_usec(char *buf, double t);
/* Forget the cached DANGO_NOW reading (for unit tests that change it). */
void clock_reset(void);

#endif
