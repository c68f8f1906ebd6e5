#include "schedule/notify.h"

#include "core/env.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

void notify_config_load(struct notify_config *c, const char *project_root)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT;
	struct ydoc doc = { 0 };
	memset(c, 0, sizeof(*c));
	c->stale_after_hours = 24;
	fs_path_join(&path, project_root, ".dango/project.yml");
	if (strbuf_read_file(&text, path.buf) == 0 &&
	    ydoc_parse(&doc, ".dango/project.yml", text.buf, text.len, &err) == 0) {
		const struct ynode *n = ymap_get(doc.root, "notifications");
		const struct ynode *u = ymap_get(n, "webhook_url_env"), *f = ymap_get(n, "webhook_format");
		if (u && u->kind == Y_SCALAR && !ynode_is_null(u) && *u->str)
			c->url_env = xstrdup(u->str);
		if (f && f->kind == Y_SCALAR && !ynode_is_null(f))
			c->format = xstrdup(f->str);
		double h;
		if (ynode_double(ymap_get(n, "stale_after_hours"), &h) == 0 && h > 0)
			c->stale_after_hours = h;
	}
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
}

void notify_config_release(struct notify_config *c)
{
	free(c->url_env);
	free(c->format);
	memset(c, 0, sizeof(*c));
}

static int is_slack(const struct notify_config *c, const char *url)
{
	if (c->format && strcmp(c->format, "auto"))
		return !strcmp(c->format, "slack");
	return !strncmp(url, "https://hooks.slack.com/", 24);
}

static size_t discard(char *p, size_t size, size_t n, void *data)
{
	(void)p;
	(void)data;
	return size * n;
}

/* The URL without its path and query (Slack's path is the secret). */
static void url_origin(struct strbuf *sb, const char *url)
{
	const char *s = strstr(url, "://");
	const char *end = s ? strchr(s + 3, '/') : NULL;
	strbuf_add(sb, url, end ? (size_t)(end - url) : strlen(url));
}

int notify_send(const struct notify_config *c, const struct env *env, const char *event, json_t *info,
		struct strbuf *err)
{
	if (!c->url_env)
		return 0;
	const char *url = env_lookup(env, c->url_env, NULL);
	if (!url || !*url) {
		strbuf_addf(err, "notification not sent: %s (notifications.webhook_url_env) is not set", c->url_env);
		return -1;
	}
	json_t *body;
	if (is_slack(c, url)) {
		body = json_pack("{s:O}", "text", json_object_get(info, "text"));
	} else {
		body = json_deep_copy(info);
		json_object_set_new(body, "event", json_string(event));
	}
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	int ret = -1;
	if (!curl) {
		strbuf_addstr(err, "notification not sent: cannot start the HTTP client");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "dango-scheduler");
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	struct strbuf where = STRBUF_INIT;
	url_origin(&where, url);
	if (rc != CURLE_OK)
		strbuf_addf(err, "notification to %s failed: %s", where.buf, curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		strbuf_addf(err, "notification to %s failed: HTTP %ld", where.buf, status);
	else
		ret = 0;
	strbuf_release(&where);
out:
	if (curl)
		curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	free(text);
	return ret;
}
