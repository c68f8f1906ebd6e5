/* A polite HTTP client on libcurl for API sources: one connection reused
 * across requests, a delay between requests, retries with exponential
 * backoff on network errors, 429 and 5xx (Retry-After obeyed on 429 and
 * 503), and URLs in messages with their secrets masked.
 *
 * http_do() returns 0 when a response arrived (whatever its status, after
 * the retries) and -1 when none did (network error, timeout), with the
 * message in err. The caller decides what a 401 or a 404 means. */
#ifndef DANGO_SOURCES_HTTP_H
#define DANGO_SOURCES_HTTP_H
#include <stdint.h>
#include "core/strbuf.h"
#include "core/strvec.h"

struct http_client {
	void *curl;
	double timeout;           /* seconds for a whole request; 0: 60 */
	double rate_limit_delay;  /* seconds between the starts of requests */
	int max_attempts;         /* tries per request (>= 1) */
	double backoff_factor;    /* wait factor * 2^(try-1) seconds before a retry */
	double max_retry_wait;    /* cap on any one wait (Retry-After included) */
	double last_start;        /* monotonic seconds of the last request */
	struct strvec secrets;    /* values masked in messages */
	int64_t requests;         /* requests made, retries included */
	int64_t retries;
};

struct http_response {
	long status;
	struct strbuf body;
	char *link_next;          /* Link: <...>; rel="next", or NULL */
	char *content_type;
	double retry_after;       /* seconds, <0 if absent */
	int attempts;
};

void http_client_init(struct http_client *c);
void http_client_release(struct http_client *c);
/* Remember a secret so that messages never show it. */
void http_client_add_secret(struct http_client *c, const char *secret);

void http_response_init(struct http_response *r);
void http_response_release(struct http_response *r);

/* One request, retried as configured. headers: "Name: value" lines (may be
 * NULL); body: a JSON text or NULL. */
int http_do(struct http_client *c, const char *method, const char *url, const struct strvec *headers,
	    const char *body, struct http_response *resp, struct strbuf *err);

/* url with every remembered secret replaced by "***", into sb. */
void http_mask(const struct http_client *c, struct strbuf *sb, const char *url);
/* Append s percent-encoded for a query string. */
void http_add_escaped(struct strbuf *sb, const char *s);
/* Monotonic seconds. */
double http_now(void);

#endif
