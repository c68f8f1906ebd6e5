#include "sources/http.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
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
	c->max_retry_wait = 60;
	c->max_redirects = 5;
	c->max_body = (int64_t)100 << 20;
}

void http_client_release(struct http_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	strvec_clear(&c->secrets);
	free(c->origin);
	memset(c, 0, sizeof(*c));
}

void http_client_init_like(struct http_client *c, const struct http_client *model)
{
	http_client_init(c);
	c->timeout = model->timeout;
	c->rate_limit_delay = model->rate_limit_delay;
	c->max_attempts = model->max_attempts;
	c->backoff_factor = model->backoff_factor;
	c->max_retry_wait = model->max_retry_wait;
	c->max_redirects = model->max_redirects;
	c->max_body = model->max_body;
	c->origin = model->origin ? xstrdup(model->origin) : NULL;
	c->cross_origin = model->cross_origin;
	c->told_foreign = model->told_foreign;
	for (size_t i = 0; i < model->secrets.nr; i++)
		strvec_push(&c->secrets, model->secrets.v[i]);
	c->log = model->log;
	c->log_data = model->log_data;
	c->log_debug = model->log_debug;
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

int http_origin(const char *url, struct strbuf *out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int ret = -1;
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		goto out;
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	strbuf_addf(out, "%s://%s:%s", scheme, host, port);
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ret;
}

int http_client_set_origin(struct http_client *c, const char *url, struct strbuf *err)
{
	struct strbuf o = STRBUF_INIT;
	if (http_origin(url, &o) < 0) {
		strbuf_addf(err, "'%s' is not an http:// or https:// URL", url);
		strbuf_release(&o);
		return -1;
	}
	free(c->origin);
	c->origin = strbuf_detach(&o, NULL);
	return 0;
}

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
	r->retry_after = -1;
	r->ratelimit_remaining = r->ratelimit_reset = -1;
}

static void response_reset(struct http_response *r)
{
	strbuf_reset(&r->body);
	free(r->link_next);
	free(r->content_type);
	free(r->url);
	r->link_next = r->content_type = r->url = NULL;
	r->status = 0;
	r->retry_after = -1;
	r->ratelimit_remaining = r->ratelimit_reset = -1;
}

void http_response_release(struct http_response *r)
{
	response_reset(r);
	strbuf_release(&r->body);
}

/* Where a response goes: its body is capped at max bytes. */
struct sink {
	struct http_response *resp;
	int64_t max;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *p)
{
	struct sink *s = p;
	size_t n = size * nmemb;
	if (s->max > 0 && (int64_t)(s->resp->body.len + n) > s->max) {
		s->too_big = 1;
		return 0; /* libcurl stops the transfer */
	}
	strbuf_add(&s->resp->body, data, n);
	return n;
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
	struct sink *s = p;
	struct http_response *r = s->resp;
	size_t n = size * nmemb, len = n;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	/* a new status line (after a 100-continue) starts over */
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		free(r->link_next);
		r->link_next = NULL;
		r->retry_after = -1;
		r->ratelimit_remaining = r->ratelimit_reset = -1;
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
	char buf[64];
	size_t m = vlen < sizeof(buf) - 1 ? vlen : sizeof(buf) - 1;
	memcpy(buf, v, m);
	buf[m] = '\0';
	if (klen == 4 && !strncasecmp(data, "link", 4)) {
		char *next = link_next(v, vlen);
		if (next) {
			free(r->link_next);
			r->link_next = next;
		}
	} else if (klen == 11 && !strncasecmp(data, "retry-after", 11)) {
		char *end;
		double sec = strtod(buf, &end);
		if (end != buf && sec >= 0) {
			r->retry_after = sec;
		} else {
			/* an HTTP date */
			struct tm tm;
			memset(&tm, 0, sizeof(tm));
			if (strptime(buf, "%a, %d %b %Y %H:%M:%S", &tm)) {
				double d = difftime(timegm(&tm), time(NULL));
				r->retry_after = d > 0 ? d : 0;
			}
		}
	} else if (klen == 21 && !strncasecmp(data, "x-ratelimit-remaining", 21)) {
		r->ratelimit_remaining = strtoll(buf, NULL, 10);
	} else if (klen == 17 && !strncasecmp(data, "x-ratelimit-reset", 17)) {
		r->ratelimit_reset = strtoll(buf, NULL, 10);
	} else if (klen == 12 && !strncasecmp(data, "content-type", 12)) {
		free(r->content_type);
		r->content_type = xstrndup(v, vlen);
	} else if (klen == 14 && !strncasecmp(data, "content-length", 14)) {
		/* refuse a page that says it is too big before reading it */
		long long cl = strtoll(buf, NULL, 10);
		if (s->max > 0 && cl > s->max) {
			s->too_big = 1;
			return 0;
		}
	}
	return n;
}

static int retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504 || status == 408;
}

/* A 403 that is a rate limit, as GitHub documents it: no requests left
 * in the window (x-ratelimit-remaining: 0), or a secondary limit with
 * Retry-After. Another 403 is a refusal, not retried. */
static int rate_limited_403(const struct http_response *r)
{
	return r->status == 403 && (r->ratelimit_remaining == 0 || r->retry_after >= 0);
}

/* Seconds until a window with no requests left resets, or -1. */
static double ratelimit_wait(const struct http_response *r)
{
	if (r->ratelimit_remaining != 0 || r->ratelimit_reset < 0 || r->retry_after >= 0)
		return -1;
	double d = difftime((time_t)r->ratelimit_reset, time(NULL));
	return d > 0 ? d + 1 : 1;
}

/* Errors that another try would only repeat. */
static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_LOGIN_DENIED:
		return 0;
	default:
		return 1;
	}
}

static int is_tls_error(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM ||
	       rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
	       rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_INVALIDCERTSTATUS || rc == CURLE_USE_SSL_FAILED ||
	       rc == CURLE_SSL_CRL_BADFILE;
}

static void say(struct http_client *c, enum http_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct http_client *c, enum http_log_level level, const char *fmt, ...)
{
	if (!c->log || (level == HTTP_LOG_DEBUG && !c->log_debug))
		return;
	struct strbuf sb = STRBUF_INIT, m = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* whatever went into the line, no secret leaves it */
	http_mask(c, &m, sb.buf);
	c->log(c->log_data, level, m.buf);
	strbuf_release(&sb);
	strbuf_release(&m);
}

static int is_secret(const struct http_client *c, const char *v, size_t n)
{
	for (size_t i = 0; i < c->secrets.nr; i++)
		if (strlen(c->secrets.v[i]) == n && !memcmp(c->secrets.v[i], v, n))
			return 1;
	return 0;
}

/* url without the query parameters whose value is a secret, into out. */
static void strip_secret_params(const struct http_client *c, const char *url, struct strbuf *out)
{
	const char *q = strchr(url, '?');
	if (!q) {
		strbuf_addstr(out, url);
		return;
	}
	const char *hash = strchr(q, '#');
	const char *end = hash ? hash : q + strlen(q);
	strbuf_add(out, url, (size_t)(q - url));
	int first = 1;
	for (const char *p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (e > p && !(eq && is_secret(c, eq + 1, (size_t)(e - eq - 1)))) {
			strbuf_addch(out, first ? '?' : '&');
			strbuf_add(out, p, (size_t)(e - p));
			first = 0;
		}
		p = e + 1;
	}
	if (hash)
		strbuf_addstr(out, hash);
}

static int is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* One hop: the request as sent to url, the response or a curl error. */
static CURLcode perform(struct http_client *c, const char *method, const char *url, struct curl_slist *hl,
			const char *body, struct http_response *resp, struct sink *sink, char *errbuf)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* redirects are followed by http_do, hop by hop, each judged */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	/* HTTP/2 where an https server offers it (ALPN), HTTP/1.1 otherwise */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "dango");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)((c->timeout > 0 ? c->timeout : 60) * 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, sink);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (method && strcmp(method, "GET") && !(body && !strcmp(method, "POST")))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	sink->resp = resp;
	sink->too_big = 0;
	sink->max = c->max_body;
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	return rc;
}

/* The header list of one hop. */
static struct curl_slist *hop_headers(const struct http_request *req, int creds)
{
	struct curl_slist *hl = NULL;
	int has_type = 0;
	for (size_t i = 0; req->headers && i < req->headers->nr; i++) {
		hl = curl_slist_append(hl, req->headers->v[i]);
		has_type |= !strncasecmp(req->headers->v[i], "content-type:", 13);
	}
	for (size_t i = 0; creds && req->auth_headers && i < req->auth_headers->nr; i++)
		hl = curl_slist_append(hl, req->auth_headers->v[i]);
	if (req->body && !has_type)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	return hl;
}

enum hop_verdict { HOP_OK, HOP_FAIL, HOP_RETRY };

/* Follow one request through its redirects. HOP_OK: resp holds the final
 * response; HOP_RETRY: a network error worth another try (*rc set);
 * HOP_FAIL: an error that another try would repeat (err says it). */
static enum hop_verdict follow(struct http_client *c, const struct http_request *req, struct http_response *resp,
			       CURLcode *rc_out, char *errbuf, struct strbuf *err)
{
	struct strbuf hop = STRBUF_INIT, sent = STRBUF_INIT, trusted = STRBUF_INIT, o = STRBUF_INIT,
		      m = STRBUF_INIT, m2 = STRBUF_INIT;
	struct strvec seen = STRVEC_INIT;
	const char *method = req->method ? req->method : "GET";
	const char *body = req->body;
	enum hop_verdict v = HOP_FAIL;
	struct sink sink;
	char *method_own = NULL;

	strbuf_addstr(&hop, req->url);
	if (req->origin)
		http_origin(req->origin, &trusted);
	else if (c->origin)
		strbuf_addstr(&trusted, c->origin);
	for (int n = 0;; n++) {
		strbuf_reset(&o);
		strbuf_reset(&m);
		strbuf_reset(&sent);
		http_mask(c, &m, hop.buf);
		if (http_origin(hop.buf, &o) < 0) {
			strbuf_addf(err, "cannot request '%s': not an http:// or https:// URL", m.buf);
			goto out;
		}
		int same = !trusted.len || !strcmp(o.buf, trusted.buf);
		if (!same && starts_with(trusted.buf, "https:") && starts_with(o.buf, "http:")) {
			strbuf_addf(err, "refusing %s %s: it leaves HTTPS (the source's origin is %s)", method, m.buf,
				    trusted.buf);
			goto out;
		}
		if (!same && c->cross_origin == HTTP_CROSS_REFUSE) {
			strbuf_addf(err, "refusing %s %s: another origin than %s (cross_origin: refuse; "
				    "'strip' follows it without credentials)", method, m.buf, trusted.buf);
			goto out;
		}
		if (!same && body && req->body_secret && c->cross_origin != HTTP_CROSS_ALLOW) {
			strbuf_addf(err, "refusing to send credentials to %s (another origin than %s)", m.buf,
				    trusted.buf);
			goto out;
		}
		int creds = same || c->cross_origin == HTTP_CROSS_ALLOW;
		if (creds) {
			strbuf_addbuf(&sent, &hop);
			if (req->auth_query && *req->auth_query && !strstr(hop.buf, req->auth_query)) {
				strbuf_addch(&sent, strchr(hop.buf, '?') ? '&' : '?');
				strbuf_addstr(&sent, req->auth_query);
			}
		} else {
			strip_secret_params(c, hop.buf, &sent);
			if (!c->told_foreign &&
			    ((req->auth_headers && req->auth_headers->nr) || (req->auth_query && *req->auth_query))) {
				say(c, HTTP_LOG_INFO, "%s points to another origin (%s): following it without credentials", m.buf,
				    o.buf);
				c->told_foreign = 1;
			}
		}
		struct curl_slist *hl = hop_headers(req, creds);
		response_reset(resp);
		if (c->rate_limit_delay > 0 && c->last_start > 0) {
			double since = http_now() - c->last_start;
			if (since < c->rate_limit_delay)
				sleep_seconds(c->rate_limit_delay - since);
		}
		c->last_start = http_now();
		c->requests++;
		CURLcode rc = perform(c, method, sent.buf, hl, body, resp, &sink, errbuf);
		curl_slist_free_all(hl);
		strbuf_reset(&m);
		http_mask(c, &m, sent.buf);
		say(c, HTTP_LOG_DEBUG, "%s %s -> %s%ld, %zu bytes, %.0f ms", method, m.buf, rc == CURLE_OK ? "HTTP " : "failed ",
		    rc == CURLE_OK ? resp->status : (long)rc, resp->body.len, (http_now() - c->last_start) * 1000);
		if (rc != CURLE_OK) {
			*rc_out = rc;
			if (sink.too_big) {
				strbuf_addf(err, "the response of %s %s is larger than %.3g MB (max_page_mb); raise max_page_mb in "
					    "the source's block, or ask for smaller pages", method, m.buf,
					    (double)c->max_body / (1 << 20));
				goto out;
			}
			if (!retryable_curl(rc)) {
				strbuf_addf(err, "%s%s %s: %s (not retried)", is_tls_error(rc) ? "TLS error: " : "", method, m.buf,
					    errbuf[0] ? errbuf : curl_easy_strerror(rc));
				goto out;
			}
			v = HOP_RETRY;
			goto out;
		}
		resp->url = xstrdup(m.buf);
		char *loc = NULL;
		if (!is_redirect(resp->status) || curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK ||
		    !loc) {
			v = HOP_OK;
			goto out;
		}
		/* the next hop, from the URL as the server gave it (our key not added) */
		strvec_push(&seen, hop.buf);
		strbuf_reset(&hop);
		strbuf_addstr(&hop, loc);
		strbuf_reset(&m2);
		http_mask(c, &m2, loc);
		if (strvec_has(&seen, hop.buf)) {
			strbuf_reset(&m);
			http_mask(c, &m, req->url);
			strbuf_addf(err, "redirect loop: %s %s leads back to %s (not retried)", method, m.buf, m2.buf);
			goto out;
		}
		if (n + 1 > c->max_redirects) {
			strbuf_reset(&m);
			http_mask(c, &m, req->url);
			strbuf_addf(err, "too many redirects (more than %d) from %s %s (not retried)", c->max_redirects,
				    method, m.buf);
			goto out;
		}
		/* as browsers and curl do: 301/302/303 turn a POST into a GET */
		if (resp->status != 307 && resp->status != 308 && strcmp(method, "GET") && strcmp(method, "HEAD")) {
			free(method_own);
			method = method_own = xstrdup("GET");
			body = NULL;
		}
	}
out:
	free(method_own);
	strbuf_release(&hop);
	strbuf_release(&sent);
	strbuf_release(&trusted);
	strbuf_release(&o);
	strbuf_release(&m);
	strbuf_release(&m2);
	strvec_clear(&seen);
	return v;
}

int http_do(struct http_client *c, const struct http_request *req, struct http_response *resp, struct strbuf *err)
{
	char errbuf[CURL_ERROR_SIZE];
	int attempts = c->max_attempts > 0 ? c->max_attempts : 1;
	const char *method = req->method ? req->method : "GET";
	struct strbuf m = STRBUF_INIT;
	int ret = -1;
	if (!c->curl) {
		strbuf_addstr(err, "cannot start the HTTP client (libcurl)");
		return -1;
	}
	http_mask(c, &m, req->url);
	for (int attempt = 1;; attempt++) {
		double wait, asked = -1;
		CURLcode rc = CURLE_OK;
		resp->attempts = attempt;
		enum hop_verdict v = follow(c, req, resp, &rc, errbuf, err);
		if (v == HOP_FAIL)
			break;
		if (v == HOP_OK && ((!retryable_status(resp->status) && !rate_limited_403(resp)) || attempt >= attempts)) {
			ret = 0;
			break;
		}
		if (v == HOP_RETRY && attempt >= attempts) {
			if (rc == CURLE_OPERATION_TIMEDOUT)
				strbuf_addf(err, "request timed out after %gs: %s %s", c->timeout > 0 ? c->timeout : 60, method,
					    m.buf);
			else
				strbuf_addf(err, "cannot reach %s: %s", m.buf, errbuf[0] ? errbuf : curl_easy_strerror(rc));
			if (attempts > 1)
				strbuf_addf(err, " (after %d attempts)", attempt);
			break;
		}
		wait = c->backoff_factor * pow(2, attempt - 1);
		if (v == HOP_OK && (resp->status == 429 || resp->status == 503 || resp->status == 403) &&
		    resp->retry_after >= 0)
			wait = asked = resp->retry_after;
		int reset_wait = 0;
		if (v == HOP_OK && ratelimit_wait(resp) >= 0) {
			wait = asked = ratelimit_wait(resp);
			reset_wait = 1;
		}
		if (wait > c->max_retry_wait)
			wait = c->max_retry_wait;
		struct strbuf why = STRBUF_INIT;
		if (v == HOP_OK)
			strbuf_addf(&why, "HTTP %ld from %s", resp->status, m.buf);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			strbuf_addf(&why, "%s %s timed out", method, m.buf);
		else
			strbuf_addf(&why, "cannot reach %s (%s)", m.buf, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		if (reset_wait && asked > wait)
			say(c, HTTP_LOG_INFO, "%s, no requests left until the rate limit resets in %g s; waiting %g s "
			    "(max_retry_wait), attempt %d/%d", why.buf, asked, wait, attempt + 1, attempts);
		else if (reset_wait)
			say(c, HTTP_LOG_INFO, "%s, no requests left until the rate limit resets; waiting %g s, attempt %d/%d",
			    why.buf, wait, attempt + 1, attempts);
		else if (asked > wait)
			say(c, HTTP_LOG_INFO, "%s, Retry-After asks for %g s; waiting %g s (max_retry_wait), attempt %d/%d",
			    why.buf, asked, wait, attempt + 1, attempts);
		else if (asked >= 0)
			say(c, HTTP_LOG_INFO, "%s, waiting %g s as Retry-After asks, attempt %d/%d", why.buf, wait, attempt + 1,
			    attempts);
		else
			say(c, HTTP_LOG_INFO, "%s, retrying in %g s, attempt %d/%d", why.buf, wait, attempt + 1, attempts);
		strbuf_release(&why);
		c->retries++;
		sleep_seconds(wait);
	}
	strbuf_release(&m);
	return ret;
}
