/* Cron expressions: Dango's presets (every_15m, every_hour, every_6h, daily,
 * weekly), the @-forms (@hourly, @daily, @midnight, @weekly, @monthly,
 * @yearly, @annually) and five fields
 *
 *     minute(0-59) hour(0-23) day-of-month(1-31) month(1-12, jan-dec) day-of-week(0-7, sun-sat)
 *
 * each a list of values, ranges (a-b), steps (*\/n, a-b/n, a/n) and names.
 * Days follow Vixie cron: when both day fields are restricted (neither
 * starts with '*'), a day matches if EITHER matches; otherwise both must.
 *
 * Next fire times are computed on the wall clock of a zone (tz.h): a time
 * skipped by a forward change fires once, at the change (the next valid
 * minute); a time repeated by a backward change fires once, the first time. */
#ifndef DANGO_SCHEDULE_CRON_H
#define DANGO_SCHEDULE_CRON_H
#include <stdint.h>
struct strbuf;
struct tz;

struct cron {
	uint64_t minute;     /* bit n: minute n */
	uint32_t hour;
	uint32_t dom;        /* bits 1-31 */
	uint16_t month;      /* bits 1-12 */
	uint8_t dow;         /* bits 0-6; 7 folds into 0 */
	int dom_star, dow_star;
	char fields[96];     /* the five fields it stands for */
	const char *preset;  /* the preset or @-form it came from, or NULL (static) */
};

/* Parse expr. 0, or -1 with a message naming the field and its allowed
 * range ("field 'hour' (0-23): value 24 is out of range") in err. An
 * expression that can never fire (February 30) is an error too. */
int cron_parse(struct cron *c, const char *expr, struct strbuf *err);
/* The first fire time strictly after `after`, in zone tz. 0, or -1 when
 * none comes within eight years. */
int cron_next(const struct cron *c, const struct tz *tz, int64_t after, int64_t *out);
/* "every 15 minutes" style description of a preset, or NULL. */
const char *cron_preset_names(void);

#endif
