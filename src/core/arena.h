/* A bump allocator for parse trees: everything allocated from an arena is
 * freed at once by arena_release(). Allocations are 16-byte aligned. */
#ifndef DANGO_ARENA_H
#define DANGO_ARENA_H
#include <stddef.h>

struct arena_block;
struct arena {
	struct arena_block *head;
	size_t block;      /* size of the next block (0: 64 KiB); see arena_hint */
};
#define ARENA_INIT { 0 }

void *arena_alloc(struct arena *a, size_t n);     /* zeroed */
void *arena_alloc_raw(struct arena *a, size_t n); /* not zeroed: for what is written over at once */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_release(struct arena *a);
/* Everything freed at once, the memory kept for the next use (a parser
 * that reads page after page of about the same size allocates nothing
 * after the first), unless the last use filled less than a quarter of it. */
void arena_reset(struct arena *a);
/* Before the first allocation: the arena will likely need about n bytes,
 * so its first block is that size (blocks then double up to 64 KiB). A
 * project parses one small template per model and keeps them all: a
 * 64 KiB block each is malloc's slow path and page faults for nothing. */
void arena_hint(struct arena *a, size_t n);

#endif
