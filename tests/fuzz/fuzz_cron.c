/* libFuzzer target: the cron parser and the next-fire search. Input: an
 * expression (up to the first NUL); each one that parses is asked for its
 * next fire times in Europe/Berlin (DST changes included) from a time the
 * input's length picks, and each must come strictly after the one before. */
#include "core/strbuf.h"
#include "schedule/cron.h"
#include "schedule/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct tz zone;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct strbuf err = STRBUF_INIT;
	if (tz_load(&zone, "Europe/Berlin", &err) < 0) {
		fprintf(stderr, "fuzz_cron: %s\n", err.buf);
		exit(1);
	}
	strbuf_release(&err);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *expr = strndup((const char *)data, size);
	struct cron c;
	struct strbuf err = STRBUF_INIT;
	if (cron_parse(&c, expr, &err) == 0) {
		int64_t at = 1774000000 + (int64_t)(size % 64) * 86400 * 7, next;
		for (int i = 0; i < 4 && cron_next(&c, &zone, at, &next) == 0; i++) {
			if (next <= at)
				abort();
			at = next;
		}
	} else if (!err.len) {
		abort(); /* a failure always says why */
	}
	strbuf_release(&err);
	free(expr);
	return 0;
}
