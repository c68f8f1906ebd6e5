/* SHA-256 against FIPS 180 test vectors (lengths around the padding
 * boundaries too), and the Python strip dbt's file checksums start with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "transform/dbt.h"

static void check(const char *text, size_t len, const char *want)
{
	char hex[65];
	sha256_hex(text, len, hex);
	assert_string_equal(hex, want);
}

static void test_vectors(void **state)
{
	(void)state;
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	check(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* 55, 56 and 64 bytes: the length fits in the last block, or not */
	check(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	check(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	check(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	free(a);
}

static void strip(const char *s, const char *want)
{
	size_t b, e;
	dbt_py_strip(s, strlen(s), &b, &e);
	assert_int_equal(e - b, strlen(want));
	assert_memory_equal(s + b, want, e - b);
}

static void test_py_strip(void **state)
{
	(void)state;
	strip("\n  select 1\n\n", "select 1");
	strip("\t\v\f\r x \x1c\x1d\x1e\x1f", "x");
	strip("\xc2\xa0x\xe3\x80\x80", "x");          /* NBSP, ideographic space */
	strip("\xe2\x80\xa8x y\xe2\x80\x89", "x y");  /* line separator, thin space */
	strip("\xc3\xa9", "\xc3\xa9");                /* é is not a space */
	strip("x\xe2\x80\x8b", "x\xe2\x80\x8b");      /* zero width space is not either */
	strip("   ", "");
	strip("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_vectors), cmocka_unit_test(test_py_strip) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
