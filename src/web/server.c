/* The HTTP server of `dango web` on libmicrohttpd: request bodies and
 * headers bounded, connections limited and timed out, every response with
 * the security headers; authentication (a token off loopback), the CSRF
 * defence of state changes, the embedded page, and the dispatch to /api/.
 *
 * Who may do what:
 *  - With a token (always when bound off loopback): every request needs
 *    either "Authorization: Bearer TOKEN" or the session cookie that
 *    POST /login gives for the token. The login page and its stylesheet are
 *    the only things served without.
 *  - Without a token (loopback): the page gives the browser a session.
 *  - Every POST needs the bearer token, or a session with its CSRF token in
 *    X-CSRF-Token and an Origin that is this server.
 *  - On loopback the Host header must name a loopback host (DNS rebinding). */
#include "web/internal.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "project/project.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct web_asset {
	const char *name, *type;
	const unsigned char *data;
	size_t len;
};
extern const struct web_asset web_assets[]; /* build/gen/web_assets.c */

#define COOKIE "dango_session"
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static const char *const pages[] = { "/", "/overview", "/sources", "/runs", "/models", "/lineage", "/query",
				     "/schedules", "/governance", NULL };
static const char *const page_prefixes[] = { "/sources/", "/runs/", "/models/", NULL };

struct conn_state {
	struct strbuf body;
	int too_big;
};

double web_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void web_iso(char *buf, size_t n, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *web_local_to_utc(json_t *v)
{
	const char *s = json_string_value(v);
	struct tm tm = { 0 };
	char buf[40];
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return json_null();
	tm.tm_isdst = -1;
	web_iso(buf, sizeof(buf), (double)mktime(&tm));
	return json_string(buf);
}

int web_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

const char *web_arg(const struct web_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

void web_json(struct web_response *rs, int status, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	rs->status = status;
	rs->content_type = "application/json; charset=utf-8";
	strbuf_reset(&rs->body);
	strbuf_addstr(&rs->body, text ? text : "null");
	strbuf_addch(&rs->body, '\n');
	free(text);
	json_decref(doc);
}

void web_error(struct web_response *rs, int status, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	web_json(rs, status, json_pack("{s:s, s:i}", "error", msg.buf, "status", status));
	strbuf_release(&msg);
}

static const struct web_asset *find_asset(const char *name)
{
	for (const struct web_asset *a = web_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static void send_asset(struct web_response *rs, const struct web_asset *a)
{
	rs->status = 200;
	rs->content_type = a->type;
	strbuf_reset(&rs->body);
	strbuf_add(&rs->body, a->data, a->len);
	rs->cacheable = 1;
}

static int is_page(const char *path)
{
	for (size_t i = 0; pages[i]; i++)
		if (!strcmp(path, pages[i]))
			return 1;
	for (size_t i = 0; page_prefixes[i]; i++)
		if (!strncmp(path, page_prefixes[i], strlen(page_prefixes[i])) && path[strlen(page_prefixes[i])] &&
		    !strchr(path + strlen(page_prefixes[i]), '/'))
			return 1;
	return 0;
}

/* A path with ".." or "." segments, backslashes or control characters is
 * refused before any route sees it (MHD has decoded %2e and the like). */
static int path_is_safe(const char *path)
{
	if (path[0] != '/' || strstr(path, "//") || strchr(path, '\\'))
		return 0;
	for (const char *s = path; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	for (const char *seg = path + 1; seg && *seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		seg = end ? end + 1 : NULL;
	}
	return 1;
}

/* The name part of a Host or Origin ("127.0.0.1:8800" -> "127.0.0.1",
 * "[::1]:8800" -> "::1"), into buf. */
static void host_name(const char *hostport, char *buf, size_t n)
{
	const char *end;
	if (hostport[0] == '[') {
		hostport++;
		end = strchr(hostport, ']');
	} else {
		end = strchr(hostport, ':');
	}
	size_t len = end ? (size_t)(end - hostport) : strlen(hostport);
	if (len >= n)
		len = n - 1;
	memcpy(buf, hostport, len);
	buf[len] = '\0';
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int bearer_ok(struct web *w, struct MHD_Connection *c)
{
	const char *auth = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
	return w->cfg->token && auth && !strncmp(auth, "Bearer ", 7) && web_secret_equal(auth + 7, w->cfg->token);
}

/* Origin must be this very server: http:// + the Host the request names. */
static int origin_ok(struct MHD_Connection *c, struct strbuf *why)
{
	const char *origin = header(c, "Origin"), *host = header(c, MHD_HTTP_HEADER_HOST);
	if (!origin) {
		strbuf_addstr(why, "no Origin header");
		return 0;
	}
	if (!host || strncmp(origin, "http://", 7) || strcmp(origin + 7, host)) {
		strbuf_addf(why, "Origin '%s' is not this server", origin);
		return 0;
	}
	return 1;
}

/* The token sent by the login form (application/x-www-form-urlencoded). */
static char *form_token(const char *body)
{
	const char *p = strstr(body, "token=");
	if (!p || (p != body && p[-1] != '&'))
		return NULL;
	p += 6;
	struct strbuf sb = STRBUF_INIT;
	for (; *p && *p != '&'; p++) {
		if (*p == '+') {
			strbuf_addch(&sb, ' ');
		} else if (*p == '%' && p[1] && p[2]) {
			char hex[3] = { p[1], p[2], 0 };
			strbuf_addch(&sb, (int)strtol(hex, NULL, 16));
			p += 2;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void handle_login(struct web *w, struct web_request *rq, struct web_response *rs, char **new_cookie)
{
	struct strbuf why = STRBUF_INIT;
	if (!strcmp(rq->method, "GET")) {
		send_asset(rs, find_asset("login.html"));
		rs->cacheable = 0;
		const char *mark = strstr(rs->body.buf, "<!--message-->");
		if (mark && web_arg(rq, "failed")) {
			static const char msg[] = "<p class=\"errbox\">That is not the token. Try again.</p>";
			size_t at = (size_t)(mark - rs->body.buf);
			strbuf_remove(&rs->body, at, strlen("<!--message-->"));
			strbuf_insert(&rs->body, at, msg, strlen(msg));
		}
		return;
	}
	char *token = form_token(rq->body);
	if (!w->cfg->token) {
		rs->status = 303;
		rs->location = "/";
	} else if (!origin_ok(rq->conn, &why)) {
		web_error(rs, 403, "login refused: %s", why.buf);
	} else if (token && web_secret_equal(token, w->cfg->token)) {
		char csrf[65];
		*new_cookie = web_session_create(w->sessions, csrf);
		rs->status = 303;
		rs->location = "/";
	} else {
		sleep(1); /* a guesser gets one try a second per connection */
		rs->status = 303;
		rs->location = "/login?failed=1";
	}
	free(token);
	strbuf_release(&why);
}

/* GET /api/session: the CSRF token of the caller's session (created here
 * on loopback when the browser has none). */
static void handle_session(struct web *w, struct web_request *rq, struct web_response *rs, char **new_cookie)
{
	char csrf[65];
	if (!rq->session || !web_session_check(w->sessions, rq->session, csrf)) {
		if (w->cfg->token) {
			/* bearer clients need no CSRF token */
			web_json(rs, 200, json_pack("{s:n, s:b}", "csrf", "token_required", 1));
			return;
		}
		*new_cookie = web_session_create(w->sessions, csrf);
	}
	web_json(rs, 200, json_pack("{s:s, s:b}", "csrf", csrf, "token_required", w->cfg->token != NULL));
}

static void route(struct web *w, struct web_request *rq, struct web_response *rs, char **new_cookie)
{
	struct MHD_Connection *c = rq->conn;
	int is_get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	int is_post = !strcmp(rq->method, "POST");
	char csrf[65];
	int session_ok = rq->session && web_session_check(w->sessions, rq->session, csrf);
	int bearer = bearer_ok(w, c);
	int api = !strncmp(rq->path, "/api/", 5) || !strcmp(rq->path, "/api");
	struct strbuf why = STRBUF_INIT;

	if (!session_ok)
		rq->session = NULL;
	if (!is_get && !is_post) {
		web_error(rs, 405, "method %s is not allowed", rq->method);
		goto out;
	}
	if (!path_is_safe(rq->path)) {
		web_error(rs, 400, "bad path");
		goto out;
	}
	if (web_host_is_loopback(w->cfg->host)) {
		const char *host = header(c, MHD_HTTP_HEADER_HOST);
		char name[256];
		host_name(host ? host : "", name, sizeof(name));
		if (!web_host_is_loopback(name)) {
			web_error(rs, 421, "this server answers only to a loopback Host, not '%s'", host ? host : "");
			goto out;
		}
	}
	if (!strcmp(rq->path, "/login")) {
		handle_login(w, rq, rs, new_cookie);
		goto out;
	}
	if (!strncmp(rq->path, "/assets/", 8)) {
		const struct web_asset *a = find_asset(rq->path + 8);
		if (!is_get)
			web_error(rs, 405, "assets are read with GET");
		else if (!a || (w->cfg->token && !session_ok && !bearer && strcmp(a->name, "app.css")))
			web_error(rs, a ? 401 : 404, a ? "log in first" : "no such asset '%s'", rq->path + 8);
		else
			send_asset(rs, a);
		goto out;
	}
	if (w->cfg->token && !session_ok && !bearer) {
		if (api) {
			web_error(rs, 401, "a token is required: send 'Authorization: Bearer TOKEN' or log in at /login");
		} else {
			rs->status = 303;
			rs->location = "/login";
		}
		goto out;
	}
	if (is_post && !bearer) {
		const char *sent = header(c, "X-CSRF-Token");
		if (!session_ok)
			web_error(rs, 403, "CSRF check failed: no session (load the page first, or send a bearer token)");
		else if (!origin_ok(c, &why))
			web_error(rs, 403, "CSRF check failed: %s", why.buf);
		else if (!sent || !web_secret_equal(sent, csrf))
			web_error(rs, 403, "CSRF check failed: missing or wrong X-CSRF-Token");
		if (rs->status)
			goto out;
	}
	if (!strcmp(rq->path, "/api/session")) {
		if (!is_get)
			web_error(rs, 405, "use GET");
		else
			handle_session(w, rq, rs, new_cookie);
		goto out;
	}
	if (api) {
		if (web_api(w, rq, rs) < 0)
			web_error(rs, 404, "no route %s %s", rq->method, rq->path);
		goto out;
	}
	if (is_get && is_page(rq->path)) {
		send_asset(rs, find_asset("index.html"));
		rs->cacheable = 0;
		if (!session_ok && !w->cfg->token)
			*new_cookie = web_session_create(w->sessions, csrf);
		goto out;
	}
	web_error(rs, 404, "no page %s", rq->path);
out:
	strbuf_release(&why);
}

static void add_headers(struct MHD_Response *r, const struct web_response *rs, const char *cookie)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type ? rs->content_type : "text/plain");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", rs->cacheable ? "private, max-age=60" : "no-store");
	if (rs->location)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rs->location);
	if (cookie) {
		char buf[160];
		snprintf(buf, sizeof(buf), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", cookie);
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, buf);
	}
}

static enum MHD_Result queue(struct MHD_Connection *c, struct web_response *rs, const char *cookie)
{
	size_t len = rs->body.len;
	char *data = strbuf_detach(&rs->body, NULL);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	add_headers(r, rs, cookie);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct web *w = cls;
	struct conn_state *cs = *con_cls;
	if (!cs) {
		const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
		cs = xcalloc(1, sizeof(*cs));
		strbuf_init(&cs->body, 0);
		*con_cls = cs;
		if (cl && strtoull(cl, NULL, 10) > WEB_MAX_BODY) {
			struct web_response rs = { 0 };
			strbuf_init(&rs.body, 0);
			web_error(&rs, 413, "request body larger than %d bytes", WEB_MAX_BODY);
			return queue(c, &rs, NULL);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (cs->body.len + *upload_size > WEB_MAX_BODY)
			cs->too_big = 1;
		else
			strbuf_add(&cs->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	struct web_response rs = { 0 };
	strbuf_init(&rs.body, 0);
	char *cookie = NULL;
	if (cs->too_big) {
		web_error(&rs, 413, "request body larger than %d bytes", WEB_MAX_BODY);
	} else {
		struct web_request rq = { method, url, cs->body.buf, cs->body.len, c,
					  MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE) };
		route(w, &rq, &rs, &cookie);
	}
	if (!rs.status)
		web_error(&rs, 500, "no answer");
	enum MHD_Result ret = queue(c, &rs, cookie);
	strbuf_release(&rs.body);
	free(cookie);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;
	if (cs) {
		strbuf_release(&cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

static struct MHD_Daemon *start(struct web *w, struct strbuf *err)
{
	const char *host = !strcmp(w->cfg->host, "localhost") ? "127.0.0.1" : w->cfg->host;
	struct sockaddr_in a4 = { 0 };
	struct sockaddr_in6 a6 = { 0 };
	struct sockaddr *sa;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)w->cfg->port);
		sa = (struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)w->cfg->port);
		sa = (struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		strbuf_addf(err, "--host '%s' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)", w->cfg->host);
		return NULL;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)w->cfg->port, NULL, NULL, on_request, w,
		MHD_OPTION_SOCK_ADDR, sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15,
		/* request line and headers must fit in this (else 431) */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
		MHD_OPTION_END);
	if (!d)
		strbuf_addf(err, "cannot listen on %s port %d (is the port taken? try --port)", w->cfg->host,
			    w->cfg->port);
	return d;
}

/* The scheduler's rules for a stop: its running jobs end first; another
 * signal (*stop grows) kills their process groups. */
static void stop_scheduler(struct web *w, volatile int *stop)
{
	int seen = *stop, forced = 0;
	web_scheduler_stop(w, 0);
	while (!web_scheduler_done(w)) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		if (!forced && *stop > seen) {
			web_scheduler_stop(w, 1);
			forced = 1;
		}
	}
}

int web_serve(const struct project *p, const struct web_config *cfg, volatile int *stop,
	      void (*on_ready)(const char *url, void *data), void *data, struct strbuf *err)
{
	struct web w = { 0 };
	struct MHD_Daemon *d = NULL;
	int ret = -1;
	w.p = p;
	w.cfg = cfg;
	w.self_exe = xstrdup(cfg->self_exe);
	pthread_mutex_init(&w.runs_lock, NULL);
	pthread_mutex_init(&w.art_lock, NULL);
	pthread_mutex_init(&w.sched_lock, NULL);
	pthread_mutex_init(&w.status_lock, NULL);
	pthread_mutex_init(&w.cache_lock, NULL);
	w.sessions = web_sessions_new();
	web_catalog_init(&w);
	if (web_runs_init(&w, err) < 0)
		goto out;
	web_catalog_tick(&w, 1);
	if (!(d = start(&w, err)))
		goto out;
	web_scheduler_start(&w);
	if (on_ready) {
		char url[300];
		const char *h = cfg->host;
		int port = cfg->port;
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		if (info && info->port)
			port = info->port; /* --port 0: the one the system chose */
		snprintf(url, sizeof(url), strchr(h, ':') ? "http://[%s]:%d/" : "http://%s:%d/", h, port);
		on_ready(url, data);
	}
	for (unsigned tick = 0; !*stop; tick++) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		int wrote = web_runs_reap(&w);
		if (wrote || tick % 5 == 0)
			web_catalog_tick(&w, 0);
	}
	ret = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	stop_scheduler(&w, stop);
	web_runs_stop_all(&w);
	web_runs_release(&w);
	web_catalog_release(&w);
	json_decref(w.manifest);
	json_decref(w.run_results);
	json_decref(w.dbt_catalog);
	free(w.models_text);
	free(w.lineage_text);
	web_cache_free_all(&w);
	json_decref(w.sched_brief);
	free(w.sched_brief_key);
	pthread_mutex_destroy(&w.cache_lock);
	web_scheduler_release(&w);
	web_sessions_free(w.sessions);
	pthread_mutex_destroy(&w.sched_lock);
	pthread_mutex_destroy(&w.status_lock);
	json_decref(w.statuses);
	pthread_mutex_destroy(&w.runs_lock);
	pthread_mutex_destroy(&w.art_lock);
	free(w.self_exe);
	return ret;
}
