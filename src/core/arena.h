/* A bump allocator for parse trees: everything allocated from an arena is
 * freed at once by arena_release(). Allocations are 16-byte aligned. */
#ifndef DANGO_ARENA_H
#define DANGO_ARENA_H
#include <stddef.h>

struct arena_block;
struct arena {
	struct arena_block *head;
};
#define ARENA_INIT { 0 }

void *arena_alloc(struct arena *a, size_t n);     /* zeroed */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_release(struct arena *a);

#endif
