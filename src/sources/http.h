/* A polite HTTP client on libcurl for API sources: one connection reused
 * across requests, a delay between requests, retries with exponential
 * backoff on network errors, 408, 429 and 5xx (Retry-After obeyed on 429
 * and 503, up to max_retry_wait), and URLs in messages with their secrets
 * masked.
 *
 * Credentials go only to one origin (scheme, host, port): the client's
 * (the configured base URL) or the request's own (a token URL). The client
 * follows redirects itself, hop by hop, rather than letting libcurl do it,
 * so that each hop is judged: a hop to another origin is refused, or made
 * without the request's credential headers and query parameter (and
 * without any query parameter whose value is a known secret), as
 * cross_origin says; a hop from https to http is always refused. A
 * redirect loop, too many redirects, a 4xx other than 408/429, a TLS error
 * and a response over max_body are not retried.
 *
 * http_do() returns 0 when a response arrived (whatever its status, after
 * the retries) and -1 when none did (network error, timeout, a refused
 * hop), with the message in err. The caller decides what a 401 or a 404
 * means. Retries are reported at info level and every request at debug
 * level through the log callback, if one is set (messages mask secrets). */
#ifndef DANGO_SOURCES_HTTP_H
#define DANGO_SOURCES_HTTP_H
#include <stdint.h>
#include "core/strbuf.h"
#include "core/strvec.h"

/* What a link or redirect to another origin gets. */
enum http_cross_origin {
	HTTP_CROSS_STRIP,   /* followed without credentials (the default) */
	HTTP_CROSS_REFUSE,  /* an error */
	HTTP_CROSS_ALLOW,   /* followed with the credentials */
};

enum http_log_level { HTTP_LOG_INFO, HTTP_LOG_DEBUG };

struct http_client {
	void *curl;
	double timeout;           /* seconds for a whole request; 0: 60 */
	double rate_limit_delay;  /* seconds between the starts of requests */
	int max_attempts;         /* tries per request (>= 1) */
	double backoff_factor;    /* wait factor * 2^(try-1) seconds before a retry */
	double max_retry_wait;    /* cap on any one wait (Retry-After included) */
	int max_redirects;        /* hops per request */
	int64_t max_body;         /* bytes of one response; 0: no limit */
	char *origin;             /* "https://host:443" credentials go to, or NULL */
	enum http_cross_origin cross_origin;
	double last_start;        /* monotonic seconds of the last request */
	struct strvec secrets;    /* values masked in messages */
	int64_t requests;         /* requests made, retries included */
	int64_t retries;
	int told_foreign;         /* the withheld-credentials note was given */
	/* where retries (info) and requests (debug) are told; may be NULL */
	void (*log)(void *data, enum http_log_level level, const char *msg);
	void *log_data;
	int log_debug;            /* debug lines wanted (RUNTIME__LOG_LEVEL=DEBUG) */
};

struct http_request {
	const char *method;                 /* NULL: GET */
	const char *url;
	const struct strvec *headers;       /* "Name: value" lines for every hop; may be NULL */
	const struct strvec *auth_headers;  /* only for the trusted origin; may be NULL */
	const char *auth_query;             /* "name=value" (escaped), added for the trusted origin; or NULL */
	const char *body;                   /* a request body, or NULL */
	int body_secret;                    /* the body holds credentials: never to another origin */
	const char *origin;                 /* the trusted origin's URL; NULL: the client's */
};

struct http_response {
	long status;
	struct strbuf body;
	char *link_next;          /* Link: <...>; rel="next", or NULL */
	char *content_type;
	char *url;                /* the URL that answered (after redirects), secrets masked */
	double retry_after;       /* seconds, <0 if absent */
	/* x-ratelimit-remaining / x-ratelimit-reset (GitHub's and others'
	 * documented headers): requests left, and when the window resets
	 * (epoch seconds); <0 if absent */
	long long ratelimit_remaining, ratelimit_reset;
	int attempts;
};

void http_client_init(struct http_client *c);
void http_client_release(struct http_client *c);
/* A client with model's settings, origin, secrets and log, and a
 * connection of its own: one per worker when pages are fetched at once
 * (a client is used by one thread at a time). */
void http_client_init_like(struct http_client *c, const struct http_client *model);
/* Remember a secret so that messages never show it. */
void http_client_add_secret(struct http_client *c, const char *secret);
/* Credentials go to url's origin. -1 with err if url has no scheme and host. */
int http_client_set_origin(struct http_client *c, const char *url, struct strbuf *err);

void http_response_init(struct http_response *r);
void http_response_release(struct http_response *r);

/* One request, redirects followed and retried as configured. */
int http_do(struct http_client *c, const struct http_request *req, struct http_response *resp, struct strbuf *err);

/* "scheme://host:port" of url (lowercase, the default port filled in) into
 * out; -1 if url is not an absolute http(s) URL. */
int http_origin(const char *url, struct strbuf *out);
/* url with every remembered secret replaced by "***", into sb. */
void http_mask(const struct http_client *c, struct strbuf *sb, const char *url);
/* Append s percent-encoded for a query string. */
void http_add_escaped(struct strbuf *sb, const char *s);
/* Monotonic seconds. */
double http_now(void);

#endif
