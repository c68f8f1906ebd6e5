/* OAuth pieces that need no server: SHA-256 against known digests (the
 * lengths around a block's padding boundary), the PKCE example of RFC 7636
 * appendix B, base64url, and the expiry rules of spec 003. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "oauth/oauth.h"

static void hex(char *out, const unsigned char *d)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha(const char *in, size_t len, const char *want)
{
	unsigned char d[32];
	char h[65];
	oauth_sha256(in, len, d);
	hex(h, d);
	assert_string_equal(h, want);
}

static void test_sha256(void **state)
{
	char a[200];
	(void)state;
	memset(a, 'a', sizeof(a));
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	check_sha(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	check_sha(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	check_sha(a, 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
}

static void test_pkce_rfc7636(void **state)
{
	const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	unsigned char d[32];
	struct strbuf sb = STRBUF_INIT, v = STRBUF_INIT, c = STRBUF_INIT;
	(void)state;
	oauth_sha256(verifier, strlen(verifier), d);
	oauth_base64url(&sb, d, sizeof(d));
	assert_string_equal(sb.buf, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	assert_int_equal(oauth_pkce(&v, &c), 0);
	assert_int_equal(v.len, 43);
	assert_int_equal(c.len, 43);
	assert_null(strpbrk(v.buf, "+/="));
	strbuf_reset(&sb);
	oauth_sha256(v.buf, v.len, d);
	oauth_base64url(&sb, d, sizeof(d));
	assert_string_equal(sb.buf, c.buf);
	strbuf_release(&sb);
	strbuf_release(&v);
	strbuf_release(&c);
}

static void test_states(void **state)
{
	struct oauth_cred c;
	struct strbuf sb = STRBUF_INIT;
	const time_t now = 1800000000;
	(void)state;
	oauth_cred_init(&c);
	c.name = "facebook_ads";
	c.provider = "facebook_ads";
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_VALID); /* no expiry */
	c.expires_at = now + 8 * 86400;
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_VALID);
	c.expires_at = now + 7 * 86400;
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_EXPIRING);
	oauth_describe_expiry(&sb, &c, now);
	assert_string_equal(sb.buf, "expires in 7 days (on 2027-01-22)");
	c.expires_at = now;
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_EXPIRED);
	strbuf_reset(&sb);
	oauth_describe_expiry(&sb, &c, now);
	assert_string_equal(sb.buf, "expired on 2027-01-15");
	c.refresh_token = "r";
	c.expires_at = now + OAUTH_REFRESH_MARGIN + 1;
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_VALID);
	c.expires_at = now + OAUTH_REFRESH_MARGIN;
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_NEEDS_REFRESH);
	c.expires_at = now - 86400;
	assert_int_equal(oauth_cred_state(&c, now), OAUTH_NEEDS_REFRESH);
	strbuf_reset(&sb);
	oauth_setup_hint(&sb, &c);
	assert_string_equal(sb.buf, "dango oauth setup facebook_ads");
	c.name = "fb2";
	strbuf_reset(&sb);
	oauth_setup_hint(&sb, &c);
	assert_string_equal(sb.buf, "dango oauth setup facebook_ads --name fb2");
	assert_true(oauth_valid_name("google_ads-2"));
	assert_false(oauth_valid_name("../x"));
	assert_false(oauth_valid_name(".hidden"));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_pkce_rfc7636),
		cmocka_unit_test(test_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
