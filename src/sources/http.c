#include "sources/http.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

double http_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void http_client_init(struct http_client *c)
{
	memset(c, 0, sizeof(*c));
	pthread_once(&curl_once, curl_setup);
	c->curl = curl_easy_init();
	c->timeout = 60;
	c->max_attempts = 5;
	c->backoff_factor = 1;
	c->max_retry_wait = 300;
}

void http_client_release(struct http_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	strvec_clear(&c->secrets);
	memset(c, 0, sizeof(*c));
}

void http_add_escaped(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			strbuf_addch(sb, *p);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[*p >> 4]);
			strbuf_addch(sb, hex[*p & 15]);
		}
	}
}

void http_client_add_secret(struct http_client *c, const char *secret)
{
	if (!secret || strlen(secret) < 3 || strvec_has(&c->secrets, secret))
		return;
	strvec_push(&c->secrets, secret);
	/* as it appears in a query string too */
	struct strbuf esc = STRBUF_INIT;
	http_add_escaped(&esc, secret);
	if (strcmp(esc.buf, secret))
		strvec_push(&c->secrets, esc.buf);
	strbuf_release(&esc);
}

void http_mask(const struct http_client *c, struct strbuf *sb, const char *url)
{
	size_t start = sb->len;
	strbuf_addstr(sb, url);
	for (size_t i = 0; i < c->secrets.nr; i++) {
		const char *sec = c->secrets.v[i];
		size_t n = strlen(sec);
		char *hit;
		size_t from = start;
		while ((hit = strstr(sb->buf + from, sec))) {
			size_t at = (size_t)(hit - sb->buf);
			strbuf_remove(sb, at, n);
			strbuf_insert(sb, at, "***", 3);
			from = at + 3;
		}
	}
}

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
	r->retry_after = -1;
}

static void response_reset(struct http_response *r)
{
	strbuf_reset(&r->body);
	free(r->link_next);
	free(r->content_type);
	r->link_next = r->content_type = NULL;
	r->status = 0;
	r->retry_after = -1;
}

void http_response_release(struct http_response *r)
{
	response_reset(r);
	strbuf_release(&r->body);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *p)
{
	strbuf_add(p, data, size * nmemb);
	return size * nmemb;
}

/* rel="next" of a Link header: <url>; rel="next", <url2>; rel="last" */
static char *link_next(const char *v, size_t n)
{
	const char *e = v + n;
	while (v < e) {
		const char *lt = memchr(v, '<', (size_t)(e - v));
		if (!lt)
			return NULL;
		const char *gt = memchr(lt, '>', (size_t)(e - lt));
		if (!gt)
			return NULL;
		const char *comma = gt;
		int in_quote = 0;
		while (comma < e && (in_quote || *comma != ',')) {
			if (*comma == '"')
				in_quote = !in_quote;
			comma++;
		}
		struct strbuf params = STRBUF_INIT;
		strbuf_add(&params, gt + 1, (size_t)(comma - gt - 1));
		for (char *q = params.buf; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		int is_next = strstr(params.buf, "rel=\"next\"") || strstr(params.buf, "rel=next") ||
			      strstr(params.buf, " next ") || strstr(params.buf, "rel=\"next ");
		strbuf_release(&params);
		if (is_next)
			return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		v = comma < e ? comma + 1 : e;
	}
	return NULL;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *p)
{
	struct http_response *r = p;
	size_t n = size * nmemb, len = n;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	/* a new status line (after a redirect or 100-continue) starts over */
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		free(r->link_next);
		r->link_next = NULL;
		r->retry_after = -1;
		return n;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return n;
	size_t klen = (size_t)(colon - data);
	const char *v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	size_t vlen = (size_t)(data + len - v);
	if (klen == 4 && !strncasecmp(data, "link", 4)) {
		char *next = link_next(v, vlen);
		if (next) {
			free(r->link_next);
			r->link_next = next;
		}
	} else if (klen == 11 && !strncasecmp(data, "retry-after", 11)) {
		char buf[64];
		size_t m = vlen < sizeof(buf) - 1 ? vlen : sizeof(buf) - 1;
		memcpy(buf, v, m);
		buf[m] = '\0';
		char *end;
		double s = strtod(buf, &end);
		if (end != buf && s >= 0) {
			r->retry_after = s;
		} else {
			/* an HTTP date */
			struct tm tm;
			memset(&tm, 0, sizeof(tm));
			if (strptime(buf, "%a, %d %b %Y %H:%M:%S", &tm)) {
				double d = difftime(timegm(&tm), time(NULL));
				r->retry_after = d > 0 ? d : 0;
			}
		}
	} else if (klen == 12 && !strncasecmp(data, "content-type", 12)) {
		free(r->content_type);
		r->content_type = xstrndup(v, vlen);
	}
	return n;
}

static int retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504 || status == 408;
}

int http_do(struct http_client *c, const char *method, const char *url, const struct strvec *headers,
	    const char *body, struct http_response *resp, struct strbuf *err)
{
	CURL *h = c->curl;
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE];
	int attempts = c->max_attempts > 0 ? c->max_attempts : 1;
	int ret = -1;
	if (!h) {
		strbuf_addstr(err, "cannot start the HTTP client (libcurl)");
		return -1;
	}
	for (size_t i = 0; headers && i < headers->nr; i++)
		hl = curl_slist_append(hl, headers->v[i]);
	int has_type = 0;
	for (size_t i = 0; headers && i < headers->nr; i++)
		has_type |= !strncasecmp(headers->v[i], "content-type:", 13);
	if (body && !has_type)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");

	for (int attempt = 1;; attempt++) {
		double wait = 0;
		CURLcode rc;
		response_reset(resp);
		resp->attempts = attempt;
		if (c->rate_limit_delay > 0 && c->last_start > 0) {
			double since = http_now() - c->last_start;
			if (since < c->rate_limit_delay)
				sleep_seconds(c->rate_limit_delay - since);
		}
		c->last_start = http_now();
		c->requests++;
		curl_easy_reset(h);
		errbuf[0] = '\0';
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(h, CURLOPT_USERAGENT, "dango");
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)((c->timeout > 0 ? c->timeout : 60) * 1000));
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
		if (body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		}
		if (method && strcmp(method, "GET") && !(body && !strcmp(method, "POST")))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		rc = curl_easy_perform(h);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
			if (!retryable(resp->status) || attempt >= attempts) {
				ret = 0;
				break;
			}
			if ((resp->status == 429 || resp->status == 503) && resp->retry_after >= 0)
				wait = resp->retry_after;
			else
				wait = c->backoff_factor * pow(2, attempt - 1);
		} else {
			if (attempt >= attempts) {
				struct strbuf masked = STRBUF_INIT;
				http_mask(c, &masked, url);
				if (rc == CURLE_OPERATION_TIMEDOUT)
					strbuf_addf(err, "request timed out after %gs: %s %s", c->timeout > 0 ? c->timeout : 60,
						    method ? method : "GET", masked.buf);
				else
					strbuf_addf(err, "cannot reach %s: %s", masked.buf, errbuf[0] ? errbuf : curl_easy_strerror(rc));
				if (attempts > 1)
					strbuf_addf(err, " (after %d attempts)", attempt);
				strbuf_release(&masked);
				break;
			}
			wait = c->backoff_factor * pow(2, attempt - 1);
		}
		if (wait > c->max_retry_wait)
			wait = c->max_retry_wait;
		c->retries++;
		sleep_seconds(wait);
	}
	curl_slist_free_all(hl);
	return ret;
}
