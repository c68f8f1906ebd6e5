/* SHA-1 against FIPS 180 test vectors, fed whole and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/sha1.h"

static void check(const char *text, size_t repeat, const char *want)
{
	struct sha1 s;
	char hex[41];
	sha1_init(&s);
	for (size_t r = 0; r < repeat; r++)
		sha1_update(&s, text, strlen(text));
	sha1_final_hex(&s, hex);
	assert_string_equal(hex, want);
	if (repeat == 1) {
		sha1_init(&s);
		for (size_t i = 0; text[i]; i++)
			sha1_update(&s, text + i, 1);
		sha1_final_hex(&s, hex);
		assert_string_equal(hex, want);
	}
}

static void test_vectors(void **state)
{
	(void)state;
	check("", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	      "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check("a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_vectors) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
