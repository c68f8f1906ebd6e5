/* Allocation that never returns NULL: out of memory aborts with a message,
 * since no caller of a CLI tool can do better. */
#ifndef DANGO_XALLOC_H
#define DANGO_XALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow an array `p` of `alloc` slots so that it holds at least `n`. */
#define ALLOC_GROW(p, n, alloc)                                                \
	do {                                                                   \
		if ((size_t)(n) > (size_t)(alloc)) {                           \
			size_t na_ = (alloc) ? (size_t)(alloc) * 2 : 8;        \
			while (na_ < (size_t)(n))                              \
				na_ *= 2;                                      \
			(p) = xrealloc((p), na_ * sizeof(*(p)));               \
			(alloc) = na_;                                         \
		}                                                              \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
