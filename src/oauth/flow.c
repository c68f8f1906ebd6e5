/* The flows that obtain and renew tokens, as RFC 6749, 7636 and 8628
 * describe them:
 *
 *   browser: a PKCE pair and a random state; a listener on 127.0.0.1 (a
 *     free port unless one is given) whose /callback receives the code; the
 *     authorization URL told to the user (and opened with xdg-open when a
 *     display exists); the code exchanged at the token endpoint with the
 *     verifier. Facebook's short-lived token is then exchanged for its
 *     long-lived one (grant_type=fb_exchange_token).
 *   device: the device endpoint gives a user code and a verification URL;
 *     the token endpoint is polled every `interval` seconds (authorization_
 *     pending, slow_down) until the user approves, refuses, or the code
 *     expires.
 *   refresh: grant_type=refresh_token; a new refresh token replaces the old
 *     when the provider sends one.
 *
 * Client credentials go in the request body (client_secret_post), only to
 * the token endpoint's origin; every token, code and secret is registered
 * with the HTTP client so that no message shows it. */
#include "oauth/oauth.h"
#include "core/clock.h"
#include "core/env.h"
#include "core/proc.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "sources/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- client credentials ---------------------------------------------------------- */

struct client {
	const char *id, *secret;      /* borrowed from the project's env; secret may be NULL */
};

static int client_from_env(const struct project *p, const char *provider, const char *id_env, const char *secret_env,
			   struct client *cl, struct strbuf *err)
{
	cl->id = id_env ? env_lookup(&p->env, id_env, NULL) : NULL;
	cl->secret = secret_env ? env_lookup(&p->env, secret_env, NULL) : NULL;
	if (cl->secret && !*cl->secret)
		cl->secret = NULL;
	if (!id_env) {
		strbuf_addf(err, "no client_id_env for OAuth provider '%s': name the variable holding the client id "
			    "(client_id_env in the source's block, or --client-id-env)", provider);
		return -1;
	}
	if (!cl->id || !*cl->id) {
		strbuf_addf(err, "the environment variable %s is not set (the OAuth client id for %s); export it, or "
			    "add it to .env", id_env, provider);
		return -1;
	}
	return 0;
}

/* ---- the token endpoint --------------------------------------------------------------- */

static void http_setup(struct http_client *h)
{
	http_client_init(h);
	h->timeout = 60;
	h->max_attempts = 3;
	h->backoff_factor = 1;
	h->max_retry_wait = 10;
}

static void add_param(struct strbuf *body, const char *k, const char *v)
{
	if (!v)
		return;
	if (body->len)
		strbuf_addch(body, '&');
	strbuf_addstr(body, k);
	strbuf_addch(body, '=');
	http_add_escaped(body, v);
}

/* The provider's words for a refusal: RFC 6749's error and
 * error_description, Facebook's error.message, or the body's start. */
static void provider_error(struct http_client *h, const struct http_response *r, json_t *o, struct strbuf *err)
{
	json_t *e = json_object_get(o, "error");
	const char *desc = json_string_value(json_object_get(o, "error_description"));
	struct strbuf m = STRBUF_INIT;
	if (json_is_string(e)) {
		strbuf_addstr(&m, json_string_value(e));
		if (desc)
			strbuf_addf(&m, ": %s", desc);
	} else if (json_is_object(e) && json_string_value(json_object_get(e, "message"))) {
		strbuf_addstr(&m, json_string_value(json_object_get(e, "message")));
	} else if (r->body.len) {
		for (size_t i = 0; i < r->body.len && i < 300; i++)
			strbuf_addch(&m, r->body.buf[i] == '\n' || r->body.buf[i] == '\r' ? ' ' : r->body.buf[i]);
	} else {
		strbuf_addstr(&m, "no explanation given");
	}
	struct strbuf masked = STRBUF_INIT;
	http_mask(h, &masked, m.buf);
	strbuf_addbuf(err, &masked);
	strbuf_release(&masked);
	strbuf_release(&m);
}

/* POST a form to url; *out the JSON answer of a 2xx. A 4xx/5xx is -1 with
 * the provider's error in err; *oerr (if given) gets its "error" code. */
static int post_form(struct http_client *h, const char *url, const char *body, json_t **out, char **oerr,
		     struct strbuf *err)
{
	struct strvec headers = STRVEC_INIT;
	struct http_response resp;
	struct strbuf m = STRBUF_INIT;
	json_t *o = NULL;
	int ret = -1;
	*out = NULL;
	if (oerr)
		*oerr = NULL;
	http_response_init(&resp);
	strvec_push(&headers, "Content-Type: application/x-www-form-urlencoded");
	strvec_push(&headers, "Accept: application/json");
	struct http_request req = { .method = "POST", .url = url, .headers = &headers, .body = body, .body_secret = 1,
				    .origin = url };
	http_mask(h, &m, url);
	if (http_do(h, &req, &resp, err) < 0)
		goto out;
	o = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
	if (resp.status >= 300) {
		if (oerr && json_is_string(json_object_get(o, "error")))
			*oerr = xstrdup(json_string_value(json_object_get(o, "error")));
		provider_error(h, &resp, o, err);
		strbuf_addf(err, " (HTTP %ld from %s)", resp.status, m.buf);
		goto out;
	}
	if (!json_is_object(o)) {
		strbuf_addf(err, "the OAuth endpoint %s answered HTTP %ld without a JSON object", m.buf, resp.status);
		goto out;
	}
	*out = o;
	o = NULL;
	ret = 0;
out:
	json_decref(o);
	strvec_clear(&headers);
	if (resp.body.buf)
		memset(resp.body.buf, 0, resp.body.len);
	http_response_release(&resp);
	strbuf_release(&m);
	return ret;
}

static int64_t jint(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	if (json_is_string(v) && *json_string_value(v))
		return strtoll(json_string_value(v), NULL, 10);
	return dflt;
}

static void replace(char **field, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (s && *s) {
		free(*field);
		*field = xstrdup(s);
	}
}

/* A token answer into c: the access token (required), a refresh token
 * when given, the expiry from expires_in (or the provider's usual
 * lifetime; none for a token without one). */
static int take_tokens(struct http_client *h, json_t *o, struct oauth_cred *c, int64_t default_lifetime,
		       struct strbuf *err)
{
	const char *at = json_string_value(json_object_get(o, "access_token"));
	if (!at || !*at) {
		strbuf_addstr(err, "the token endpoint answered without an access_token");
		return -1;
	}
	if (c->access_token)
		memset(c->access_token, 0, strlen(c->access_token));
	replace(&c->access_token, o, "access_token");
	replace(&c->refresh_token, o, "refresh_token");
	replace(&c->token_type, o, "token_type");
	replace(&c->scope, o, "scope");
	replace(&c->instance_url, o, "instance_url");
	http_client_add_secret(h, c->access_token);
	if (c->refresh_token)
		http_client_add_secret(h, c->refresh_token);
	int64_t life = jint(o, "expires_in", default_lifetime);
	c->expires_at = life > 0 ? clock_now_sec() + (time_t)life : 0;
	return 0;
}

/* ---- the account a token belongs to --------------------------------------------------- */

static int b64url_decode(const char *s, size_t n, struct strbuf *out)
{
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int c = s[i], d;
		if (c >= 'A' && c <= 'Z')
			d = c - 'A';
		else if (c >= 'a' && c <= 'z')
			d = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			d = c - '0' + 52;
		else if (c == '-' || c == '+')
			d = 62;
		else if (c == '_' || c == '/')
			d = 63;
		else if (c == '=')
			break;
		else
			return -1;
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (int)(v >> bits & 0xff));
		}
	}
	return 0;
}

static void account_from(json_t *o, struct oauth_cred *c)
{
	static const char *const keys[] = { "email", "name", "username", "id", "sub", "user", NULL };
	for (int i = 0; keys[i] && !c->account; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (json_is_string(v) && *json_string_value(v))
			c->account = xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			c->account = xasprintf("%lld", (long long)json_integer_value(v));
	}
}

/* From an OpenID id_token (it came straight from the token endpoint, so
 * its claims are read without checking the signature), else from the
 * provider's user-info endpoint; an account left unknown is no error. */
static void find_account(struct http_client *h, json_t *answer, const char *userinfo_url, struct oauth_cred *c)
{
	const char *idt = json_string_value(json_object_get(answer, "id_token"));
	if (idt) {
		const char *a = strchr(idt, '.'), *b = a ? strchr(a + 1, '.') : NULL;
		struct strbuf payload = STRBUF_INIT;
		if (b && b64url_decode(a + 1, (size_t)(b - a - 1), &payload) == 0) {
			json_t *o = json_loadb(payload.buf ? payload.buf : "", payload.len, 0, NULL);
			account_from(o, c);
			json_decref(o);
		}
		strbuf_release(&payload);
	}
	if (c->account || !userinfo_url || !*userinfo_url)
		return;
	struct strvec headers = STRVEC_INIT, auth = STRVEC_INIT;
	struct http_response resp;
	struct strbuf e = STRBUF_INIT;
	http_response_init(&resp);
	strvec_push(&headers, "Accept: application/json");
	strvec_pushf(&auth, "Authorization: Bearer %s", c->access_token);
	struct http_request req = { .url = userinfo_url, .headers = &headers, .auth_headers = &auth,
				    .origin = userinfo_url };
	if (http_do(h, &req, &resp, &e) == 0 && resp.status < 300) {
		json_t *o = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
		account_from(o, c);
		json_decref(o);
	}
	strvec_clear(&headers);
	strvec_clear(&auth);
	http_response_release(&resp);
	strbuf_release(&e);
}

/* What every new credential carries besides its tokens. */
static void new_cred(struct oauth_cred *c, const struct oauth_settings *st)
{
	oauth_cred_init(c);
	c->name = xstrdup(st->name);
	c->provider = xstrdup(st->provider->name);
	c->token_url = xstrdup(st->token_url);
	c->client_id_env = st->client_id_env ? xstrdup(st->client_id_env) : NULL;
	c->client_secret_env = st->client_secret_env ? xstrdup(st->client_secret_env) : NULL;
	c->created_at = clock_now_sec();
}

/* Facebook: the short-lived user token for a long-lived one (~60 days). */
static int long_lived(struct http_client *h, const struct oauth_settings *st, const struct client *cl,
		      struct oauth_cred *c, struct strbuf *err)
{
	struct strbuf body = STRBUF_INIT;
	json_t *o = NULL;
	if (!cl->secret) {
		strbuf_addf(err, "the environment variable %s is not set (the app secret Facebook needs to exchange a "
			    "short-lived token for a long-lived one)", st->client_secret_env ? st->client_secret_env : "?");
		return -1;
	}
	add_param(&body, "grant_type", "fb_exchange_token");
	add_param(&body, "client_id", cl->id);
	add_param(&body, "client_secret", cl->secret);
	add_param(&body, "fb_exchange_token", c->access_token);
	int ret = post_form(h, st->token_url, body.buf, &o, NULL, err);
	if (ret == 0)
		ret = take_tokens(h, o, c, st->provider->default_lifetime, err);
	if (ret < 0)
		strbuf_insert(err, 0, "exchanging for a long-lived token: ", 35);
	json_decref(o);
	memset(body.buf, 0, body.len);
	strbuf_release(&body);
	return ret;
}

static int need_url(const char *url, const char *key, const struct oauth_settings *st, struct strbuf *err)
{
	if (url && *url)
		return 0;
	strbuf_addf(err, "OAuth provider '%s' has no %s: set %s in the source's block (or --%s)", st->provider->name,
		    key, key, !strcmp(key, "authorize_url") ? "authorize-url" : !strcmp(key, "token_url") ? "token-url"
													   : "device-url");
	return -1;
}

/* ---- the loopback redirect ------------------------------------------------------------ */

struct loopback {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	const char *state;
	int done;
	char *code, *error;
};

static enum MHD_Result page(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb,
		    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Dango</title></head>"
		    "<body style=\"font-family:sans-serif\"><h1>Dango</h1><p>%s</p></body></html>\n",
		    text);
	struct MHD_Response *r = MHD_create_response_from_buffer(sb.len, sb.buf, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	strbuf_release(&sb);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct loopback *lb = cls;
	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, "GET") || strcmp(url, "/callback"))
		return page(conn, 404, "Not found.");
	const char *state = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
	const char *code = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "code");
	const char *error = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "error");
	const char *desc = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "error_description");
	/* a redirect without our state is not the one we wait for (another
	 * tab, or a forged request): refused, and the wait goes on */
	if (!state || strcmp(state, lb->state))
		return page(conn, 400, "This answer does not belong to the authorization Dango is waiting for.");
	pthread_mutex_lock(&lb->mu);
	int first = !lb->done;
	if (first) {
		if (error)
			lb->error = xasprintf("%s%s%s", error, desc ? ": " : "", desc ? desc : "");
		else if (code && *code)
			lb->code = xstrdup(code);
		else
			lb->error = xstrdup("the redirect carried neither a code nor an error");
		lb->done = 1;
		pthread_cond_broadcast(&lb->cond);
	}
	pthread_mutex_unlock(&lb->mu);
	if (!first)
		return page(conn, 409, "Dango already received an answer; you can close this tab.");
	return error ? page(conn, 200, "The authorization was refused; Dango says why in the terminal.")
		     : page(conn, 200, "Authorization received. You can close this tab and go back to the terminal.");
}

static void open_browser(const char *url)
{
	const char *display = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
	if ((!display || !*display) && (!wayland || !*wayland))
		return;
	const char *argv[] = { "xdg-open", url, NULL };
	struct proc_opts o = { .argv = argv, .out = PROC_NULL, .err = PROC_NULL, .stdin_null = 1 };
	struct proc pr;
	struct strbuf e = STRBUF_INIT;
	if (proc_spawn(&pr, &o, &e) == 0) {
		/* xdg-open hands over to the browser and exits */
		if (!proc_wait(&pr, 10))
			proc_terminate(&pr, 1);
		proc_release(&pr);
	}
	strbuf_release(&e);
}

static void say(const struct oauth_ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct oauth_ui *ui, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (ui && ui->say)
		ui->say(ui->data, sb.buf);
	strbuf_release(&sb);
}

int oauth_flow_browser(const struct project *p, const struct oauth_settings *st, const struct oauth_ui *ui,
		       struct oauth_cred *c, struct strbuf *err)
{
	struct client cl;
	struct strbuf verifier = STRBUF_INIT, challenge = STRBUF_INIT, state = STRBUF_INIT, url = STRBUF_INIT,
		      redirect = STRBUF_INIT, body = STRBUF_INIT;
	struct loopback lb = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct MHD_Daemon *d = NULL;
	struct http_client h;
	json_t *o = NULL;
	unsigned char raw[24];
	int ret = -1;
	http_setup(&h);
	oauth_cred_init(c);
	if (need_url(st->authorize_url, "authorize_url", st, err) < 0 || need_url(st->token_url, "token_url", st, err) < 0 ||
	    client_from_env(p, st->provider->name, st->client_id_env, st->client_secret_env, &cl, err) < 0)
		goto out;
	if (cl.secret)
		http_client_add_secret(&h, cl.secret);
	if (oauth_pkce(&verifier, &challenge) < 0 || random_bytes(raw, sizeof(raw)) < 0) {
		strbuf_addstr(err, "no random numbers from the kernel for PKCE");
		goto out;
	}
	oauth_base64url(&state, raw, sizeof(raw));
	lb.state = state.buf;

	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)st->port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &lb,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			     MHD_OPTION_END);
	if (!d) {
		strbuf_addf(err, "cannot listen on 127.0.0.1:%d for the OAuth redirect%s", st->port,
			    st->port ? " (is the port in use? try another --port)" : "");
		goto out;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	strbuf_addf(&redirect, "http://127.0.0.1:%u/callback", info ? (unsigned)info->port : (unsigned)st->port);

	strbuf_addf(&url, "%s%c", st->authorize_url, strchr(st->authorize_url, '?') ? '&' : '?');
	struct strbuf q = STRBUF_INIT;
	add_param(&q, "response_type", "code");
	add_param(&q, "client_id", cl.id);
	add_param(&q, "redirect_uri", redirect.buf);
	if (st->scopes && *st->scopes)
		add_param(&q, "scope", st->scopes);
	add_param(&q, "state", state.buf);
	add_param(&q, "code_challenge", challenge.buf);
	add_param(&q, "code_challenge_method", "S256");
	if (st->provider->auth_params)
		strbuf_addf(&q, "&%s", st->provider->auth_params);
	strbuf_addbuf(&url, &q);
	strbuf_release(&q);

	say(ui, "Open this URL in a browser to authorize Dango (%s):", st->provider->label);
	say(ui, "  %s", url.buf);
	say(ui, "Waiting for the redirect to %s (up to %d s; Ctrl-C to give up)...", redirect.buf, st->timeout);
	if (st->open_browser)
		open_browser(url.buf);

	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += st->timeout > 0 ? st->timeout : 300;
	pthread_mutex_lock(&lb.mu);
	while (!lb.done)
		if (pthread_cond_timedwait(&lb.cond, &lb.mu, &until) == ETIMEDOUT)
			break;
	int done = lb.done;
	pthread_mutex_unlock(&lb.mu);
	/* a moment for the page to reach the browser before the listener goes */
	if (done)
		usleep(100 * 1000);
	MHD_stop_daemon(d);
	d = NULL;
	if (!done) {
		strbuf_addf(err, "no authorization arrived within %d s; run the command again (or use --device on a "
			    "machine without a browser)", st->timeout);
		goto out;
	}
	if (lb.error) {
		strbuf_addf(err, "the provider refused the authorization: %s", lb.error);
		goto out;
	}
	http_client_add_secret(&h, lb.code);

	add_param(&body, "grant_type", "authorization_code");
	add_param(&body, "code", lb.code);
	add_param(&body, "redirect_uri", redirect.buf);
	add_param(&body, "client_id", cl.id);
	add_param(&body, "client_secret", cl.secret);
	add_param(&body, "code_verifier", verifier.buf);
	new_cred(c, st);
	if (post_form(&h, st->token_url, body.buf, &o, NULL, err) < 0) {
		strbuf_insert(err, 0, "the token endpoint refused the code: ", 37);
		goto out;
	}
	if (take_tokens(&h, o, c, st->provider->long_lived_exchange ? 3600 : st->provider->default_lifetime, err) < 0)
		goto out;
	if (st->provider->long_lived_exchange && long_lived(&h, st, &cl, c, err) < 0)
		goto out;
	find_account(&h, o, st->userinfo_url, c);
	ret = 0;
out:
	if (ret < 0)
		oauth_cred_release(c);
	if (d)
		MHD_stop_daemon(d);
	json_decref(o);
	free(lb.code);
	free(lb.error);
	if (body.buf)
		memset(body.buf, 0, body.len);
	strbuf_release(&verifier);
	strbuf_release(&challenge);
	strbuf_release(&state);
	strbuf_release(&url);
	strbuf_release(&redirect);
	strbuf_release(&body);
	http_client_release(&h);
	return ret;
}

/* ---- the device flow ------------------------------------------------------------------ */

static void sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int oauth_flow_device(const struct project *p, const struct oauth_settings *st, const struct oauth_ui *ui,
		      struct oauth_cred *c, struct strbuf *err)
{
	struct client cl;
	struct http_client h;
	struct strbuf body = STRBUF_INIT;
	json_t *o = NULL, *tok = NULL;
	char *code = NULL;
	int ret = -1;
	http_setup(&h);
	oauth_cred_init(c);
	if (st->provider->long_lived_exchange) {
		strbuf_addf(err, "%s has no standard device flow; use the browser flow: on a machine without a browser, "
			    "run dango oauth setup %s --port PORT and forward that port from yours (ssh -L "
			    "PORT:127.0.0.1:PORT)", st->provider->label, st->provider->name);
		goto out;
	}
	if (need_url(st->device_url, "device_url", st, err) < 0 || need_url(st->token_url, "token_url", st, err) < 0 ||
	    client_from_env(p, st->provider->name, st->client_id_env, st->client_secret_env, &cl, err) < 0)
		goto out;
	if (cl.secret)
		http_client_add_secret(&h, cl.secret);
	add_param(&body, "client_id", cl.id);
	if (st->scopes && *st->scopes)
		add_param(&body, "scope", st->scopes);
	if (post_form(&h, st->device_url, body.buf, &o, NULL, err) < 0) {
		strbuf_insert(err, 0, "the device endpoint refused: ", 29);
		goto out;
	}
	const char *device_code = json_string_value(json_object_get(o, "device_code"));
	const char *user_code = json_string_value(json_object_get(o, "user_code"));
	const char *verify = json_string_value(json_object_get(o, "verification_uri"));
	const char *complete = json_string_value(json_object_get(o, "verification_uri_complete"));
	if (!verify)
		verify = json_string_value(json_object_get(o, "verification_url")); /* Google's older name */
	if (!device_code || !user_code || !verify) {
		strbuf_addstr(err, "the device endpoint answered without device_code, user_code and verification_uri");
		goto out;
	}
	http_client_add_secret(&h, device_code);
	double interval = (double)jint(o, "interval", 5);
	int64_t lifetime = jint(o, "expires_in", 900);
	if (interval < 1)
		interval = 1;
	say(ui, "On any device, open %s and enter the code: %s", verify, user_code);
	if (complete)
		say(ui, "  (or open %s)", complete);
	say(ui, "Waiting for the approval (the code expires in %lld minutes; Ctrl-C to give up)...",
	    (long long)(lifetime + 59) / 60);

	strbuf_reset(&body);
	add_param(&body, "grant_type", "urn:ietf:params:oauth:grant-type:device_code");
	add_param(&body, "device_code", device_code);
	add_param(&body, "client_id", cl.id);
	add_param(&body, "client_secret", cl.secret);
	/* the real time a person needs, whatever DANGO_NOW says */
	double deadline = http_now() + (double)(lifetime > 0 ? lifetime : 900);
	if (st->timeout > 0 && http_now() + st->timeout < deadline)
		deadline = http_now() + st->timeout;
	new_cred(c, st);
	for (;;) {
		sleep_seconds(interval);
		struct strbuf e = STRBUF_INIT;
		free(code);
		code = NULL;
		if (post_form(&h, st->token_url, body.buf, &tok, &code, &e) == 0) {
			strbuf_release(&e);
			break;
		}
		if (code && !strcmp(code, "authorization_pending") && http_now() < deadline) {
			strbuf_release(&e);
			continue;
		}
		if (code && !strcmp(code, "slow_down") && http_now() < deadline) {
			interval += 5;
			strbuf_release(&e);
			continue;
		}
		if (code && !strcmp(code, "authorization_pending"))
			strbuf_addstr(err, "the device code expired before it was approved; run the command again");
		else if (code && !strcmp(code, "access_denied"))
			strbuf_addf(err, "the authorization was refused on the device: %s", e.buf);
		else if (code && !strcmp(code, "expired_token"))
			strbuf_addstr(err, "the device code expired before it was approved; run the command again");
		else
			strbuf_addf(err, "the token endpoint refused: %s", e.buf);
		strbuf_release(&e);
		goto out;
	}
	if (take_tokens(&h, tok, c, st->provider->default_lifetime, err) < 0)
		goto out;
	find_account(&h, tok, st->userinfo_url, c);
	ret = 0;
out:
	if (ret < 0)
		oauth_cred_release(c);
	json_decref(o);
	json_decref(tok);
	free(code);
	if (body.buf)
		memset(body.buf, 0, body.len);
	strbuf_release(&body);
	http_client_release(&h);
	return ret;
}

/* ---- refresh -------------------------------------------------------------------------- */

int oauth_refresh(const struct project *p, struct oauth_cred *c, struct strbuf *err)
{
	struct client cl;
	struct http_client h;
	struct strbuf body = STRBUF_INIT;
	json_t *o = NULL;
	int ret = -1;
	const struct oauth_provider *prov = oauth_provider_find(c->provider);
	http_setup(&h);
	if (!c->refresh_token) {
		strbuf_addf(err, "the %s token of '%s' cannot be renewed automatically; run: ", c->provider, c->name);
		oauth_setup_hint(err, c);
		goto out;
	}
	if (!c->token_url) {
		strbuf_addf(err, "credential '%s' has no token_url to renew it at; run: ", c->name);
		oauth_setup_hint(err, c);
		goto out;
	}
	if (client_from_env(p, c->provider, c->client_id_env, c->client_secret_env, &cl, err) < 0)
		goto out;
	if (cl.secret)
		http_client_add_secret(&h, cl.secret);
	http_client_add_secret(&h, c->refresh_token);
	add_param(&body, "grant_type", "refresh_token");
	add_param(&body, "refresh_token", c->refresh_token);
	add_param(&body, "client_id", cl.id);
	add_param(&body, "client_secret", cl.secret);
	if (post_form(&h, c->token_url, body.buf, &o, NULL, err) < 0 ||
	    take_tokens(&h, o, c, prov ? prov->default_lifetime : 0, err) < 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "refreshing the OAuth token for %s failed: ", c->name);
		strbuf_insert(err, 0, m.buf, m.len);
		strbuf_addstr(err, "; if it was revoked, run: ");
		oauth_setup_hint(err, c);
		strbuf_release(&m);
		goto out;
	}
	c->last_refresh = clock_now_sec();
	ret = 0;
out:
	json_decref(o);
	if (body.buf)
		memset(body.buf, 0, body.len);
	strbuf_release(&body);
	http_client_release(&h);
	return ret;
}
