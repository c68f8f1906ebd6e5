/* A growable NULL-terminated array of owned strings. */
#ifndef DANGO_STRVEC_H
#define DANGO_STRVEC_H
#include <stddef.h>

struct strvec {
	char **v;
	size_t nr, alloc;
};
#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Push each comma- or space-separated part of s (empty parts are skipped). */
void strvec_push_split(struct strvec *sv, const char *s);
int strvec_has(const struct strvec *sv, const char *s);
void strvec_clear(struct strvec *sv);

#endif
