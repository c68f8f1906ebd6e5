/* The drift webhook: one JSON POST, no redirects, a short timeout. */
#include "governance/governance.h"
#include "core/strbuf.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* the answer's body is not needed */
static size_t discard(char *ptr, size_t size, size_t n, void *data)
{
	(void)ptr;
	(void)data;
	return size * n;
}

int governance_post_json(const char *url, const char *body, struct strbuf *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	int ret = -1;
	pthread_once(&curl_once, curl_setup);
	CURL *h = curl_easy_init();
	if (!h) {
		strbuf_addstr(err, "cannot start an HTTP request");
		return -1;
	}
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "dango");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		/* curl's message may quote the URL; say only what went wrong */
		strbuf_addf(err, "the request failed: %s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		strbuf_addf(err, "the receiver answered HTTP %ld", code);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return ret;
}
