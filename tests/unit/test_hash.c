/* hash64: the same bytes give the same hash however they are fed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/hash.h"

static uint64_t in_pieces(const char *s, const size_t *cuts)
{
	struct hash64 h;
	size_t at = 0, n = strlen(s);
	hash64_init(&h);
	for (; *cuts && at < n; cuts++) {
		size_t k = *cuts < n - at ? *cuts : n - at;
		hash64_update(&h, s + at, k);
		at += k;
	}
	hash64_update(&h, s + at, n - at);
	return hash64_final(&h);
}

static void test_pieces(void **state)
{
	(void)state;
	static const size_t whole[] = { 0 }, ones[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 },
			    mixed[] = { 1, 2, 9, 3, 8, 5, 0 }, short_then[] = { 1, 2, 0 };
	const char *texts[] = { "k25", "k26", "a text longer than eight bytes, to cross words", "" };
	for (size_t i = 0; i < 4; i++) {
		uint64_t h = in_pieces(texts[i], whole);
		assert_true(h == in_pieces(texts[i], ones));
		assert_true(h == in_pieces(texts[i], mixed));
		assert_true(h == in_pieces(texts[i], short_then));
	}
	/* a short update after a short one is not lost */
	assert_true(in_pieces("k25", short_then) != in_pieces("k26", short_then));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_pieces) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
