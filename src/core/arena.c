#include "arena.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK 65536

void *arena_alloc(struct arena *a, size_t n)
{
	void *p = arena_alloc_raw(a, n);
	memset(p, 0, n);
	return p;
}

void *arena_alloc_raw(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena_block *b = a->head;
	if (!b || b->used + n > b->size) {
		size_t next = a->block ? a->block : ARENA_BLOCK;
		size_t size = n > next / 4 ? n : next;
		int big = b && n > next / 4;
		struct arena_block *nb = xmalloc(sizeof(*nb) + size);
		nb->used = 0;
		nb->size = size;
		if (big) {
			/* a big allocation gets its own block behind the current one */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
			if (next < ARENA_BLOCK)
				a->block = next * 2 < ARENA_BLOCK ? next * 2 : ARENA_BLOCK;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void arena_hint(struct arena *a, size_t n)
{
	if (a->head)
		return;
	n = (n + 255) & ~(size_t)255;
	a->block = n < 1024 ? 1024 : n > ARENA_BLOCK ? ARENA_BLOCK : n;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_release(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->block = 0;
}

void arena_reset(struct arena *a)
{
	size_t total = 0, used = 0;
	for (struct arena_block *b = a->head; b; b = b->next) {
		total += b->size;
		used += b->used;
	}
	/* memory the last use left mostly empty goes back: a sync that met
	 * one huge page keeps no huge block for the small ones after it */
	if (total > 4 * ARENA_BLOCK && used < total / 4) {
		arena_release(a);
		return;
	}
	if (a->head && !a->head->next) {
		a->head->used = 0;
		return;
	}
	/* several blocks: one of their size, so that the next use of the
	 * same size fits in it */
	arena_release(a);
	if (!total)
		return;
	struct arena_block *b = xmalloc(sizeof(*b) + total);
	b->next = NULL;
	b->used = 0;
	b->size = total;
	a->head = b;
}
