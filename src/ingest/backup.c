#include "ingest/backup.h"
#include "core/strbuf.h"
#include "core/util.h"

#include <ctype.h>
#include <string.h>

#define BACKUP_PREFIX "_dango_backup_"

void sync_backup_name(struct strbuf *sb, const char *table, const char *stamp, int k)
{
	strbuf_addf(sb, BACKUP_PREFIX "%s", stamp);
	if (k >= 2)
		strbuf_addf(sb, "_%d", k);
	strbuf_addf(sb, "__%s", table);
}

void sync_backup_stamp(char *buf)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, 15, "%Y%m%d%H%M%S", &tm);
}

/* 14 digits of a stamp at s (and an optional _<k>): its end, or NULL. */
static const char *parse_stamp(const char *s, time_t *when)
{
	struct tm tm = { 0 };
	for (int i = 0; i < 14; i++)
		if (!isdigit((unsigned char)s[i]))
			return NULL;
	char buf[15];
	memcpy(buf, s, 14);
	buf[14] = '\0';
	if (!strptime(buf, "%Y%m%d%H%M%S", &tm))
		return NULL;
	if (when)
		*when = timegm(&tm);
	s += 14;
	if (s[0] == '_' && isdigit((unsigned char)s[1])) {
		s++;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

int sync_backup_parse(const char *name, struct strbuf *table, time_t *when)
{
	const char *end;
	if (starts_with(name, BACKUP_PREFIX)) {
		end = parse_stamp(name + strlen(BACKUP_PREFIX), when);
		if (!end || !starts_with(end, "__") || !end[2])
			return 0;
		if (table)
			strbuf_addstr(table, end + 2);
		return 1;
	}
	/* the old naming: <table>__backup_<stamp>[_<k>] */
	for (const char *p = strstr(name, "__backup_"); p; p = strstr(p + 1, "__backup_")) {
		end = parse_stamp(p + 9, when);
		if (p > name && end && !*end) {
			if (table)
				strbuf_add(table, name, (size_t)(p - name));
			return 1;
		}
	}
	return 0;
}
