/* The arena: zeroed and raw allocations, and arena_reset keeping memory
 * for the next use, or giving back what the last use left mostly empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/arena.h"

static void fill(struct arena *a, size_t total, size_t each)
{
	for (size_t done = 0; done < total; done += each) {
		unsigned char *p = arena_alloc(a, each);
		for (size_t i = 0; i < each; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xab, each);
	}
}

static void test_reset_keeps_memory(void **state)
{
	(void)state;
	struct arena a = ARENA_INIT;
	/* a "page" over several blocks, and a big allocation of its own */
	fill(&a, 300000, 1000);
	memset(arena_alloc_raw(&a, 100000), 1, 100000);
	arena_reset(&a);
	void *kept = a.head;
	assert_non_null(kept);
	/* the same again fits in the one block reset made: no new block, and
	 * arena_alloc still zeroes what the last use wrote */
	for (int round = 0; round < 3; round++) {
		fill(&a, 300000, 1000);
		memset(arena_alloc_raw(&a, 100000), 1, 100000);
		assert_ptr_equal(a.head, kept);
		arena_reset(&a);
		assert_ptr_equal(a.head, kept);
	}
	/* a small use of a big arena gives it back; a small arena is kept */
	fill(&a, 1000, 100);
	arena_reset(&a);
	assert_null(a.head);
	fill(&a, 1000, 100);
	arena_reset(&a);
	assert_non_null(a.head);
	arena_release(&a);
	assert_null(a.head);
	/* reset of an empty arena */
	arena_reset(&a);
	assert_null(a.head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_keeps_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
