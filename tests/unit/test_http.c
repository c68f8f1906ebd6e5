/* The HTTP client's origin rules, checked without a network: a URL's
 * origin, and hops it refuses before connecting (an https -> http
 * downgrade, another origin under cross_origin: refuse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/strbuf.h"
#include "sources/http.h"

static void origin_is(const char *url, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	if (!want) {
		assert_int_equal(http_origin(url, &sb), -1);
	} else {
		assert_int_equal(http_origin(url, &sb), 0);
		assert_string_equal(sb.buf, want);
	}
	strbuf_release(&sb);
}

static void test_origin(void **state)
{
	(void)state;
	origin_is("https://api.example.com/v1/x?y=1", "https://api.example.com:443");
	origin_is("HTTPS://API.Example.COM:443/", "https://api.example.com:443");
	origin_is("http://127.0.0.1:8080/a", "http://127.0.0.1:8080");
	origin_is("http://127.0.0.1/a", "http://127.0.0.1:80");
	origin_is("https://user:pw@h.example/a", "https://h.example:443");
	origin_is("ftp://h.example/a", NULL);
	origin_is("/relative/path", NULL);
}

static int refused(enum http_cross_origin policy, const char *base, const char *url, const char *want)
{
	struct http_client c;
	struct http_response resp;
	struct strbuf err = STRBUF_INIT;
	http_client_init(&c);
	c.cross_origin = policy;
	c.max_attempts = 1;
	assert_int_equal(http_client_set_origin(&c, base, &err), 0);
	http_response_init(&resp);
	struct http_request req = { .url = url };
	int rc = http_do(&c, &req, &resp, &err);
	if (rc < 0 && want && !strstr(err.buf, want))
		fail_msg("error '%s' lacks '%s'", err.buf, want);
	assert_int_equal(c.requests, 0); /* refused before any connection */
	http_response_release(&resp);
	http_client_release(&c);
	strbuf_release(&err);
	return rc < 0;
}

static void test_refused_hops(void **state)
{
	(void)state;
	/* leaving HTTPS is refused whatever cross_origin says */
	assert_true(refused(HTTP_CROSS_STRIP, "https://api.example.com", "http://api.example.com/x", "leaves HTTPS"));
	assert_true(refused(HTTP_CROSS_ALLOW, "https://api.example.com", "http://other.example/x", "leaves HTTPS"));
	assert_true(refused(HTTP_CROSS_REFUSE, "http://127.0.0.1:1", "http://127.0.0.2:1/x", "cross_origin: refuse"));
	assert_true(refused(HTTP_CROSS_REFUSE, "http://127.0.0.1:1", "http://127.0.0.1:2/x", "cross_origin: refuse"));
	assert_true(refused(HTTP_CROSS_STRIP, "http://127.0.0.1:1", "file:///etc/passwd", "not an http"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_refused_hops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
