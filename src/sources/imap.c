/* The email inbox connector (imap.h). Three parts: the source's config;
 * a small IMAP client on the connection libcurl made and logged in
 * (tagged commands, responses read whole with their literals, a tokenizer
 * for the parts of FETCH and SEARCH responses it reads); and the sync,
 * mailbox by mailbox, messages into the normalizer's spool files, handed
 * to the engine as they fill. */
#include "sources/imap.h"
#include "sources/mime.h"
#include "sources/normalize.h"
#include "core/env.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "ingest/connector.h"
#include "ingest/sync.h"
#include "project/project.h"
#include "project/sources.h"

#include <ctype.h>
#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define RESOURCE "messages"
#define FETCH_CHUNK 50

enum imap_security { SEC_TLS, SEC_STARTTLS, SEC_NONE };

struct imap_conf {
	const struct source *source;
	char *host;
	long port;
	enum imap_security security;
	char *username;
	char *shown_user;              /* in messages: the name, or "the account in VAR" (username_env) */
	const char *password;          /* borrowed from the project's env */
	char *ca_file;
	struct strvec mailboxes;
	char *since;                   /* "1-Jan-2024" for SEARCH SENTSINCE (the Date header), or NULL */
	double timeout;                /* seconds a read may wait */
	size_t max_message;            /* bytes */
};

struct imap_conn {
	CURL *curl;
	curl_socket_t sock;
	const struct imap_conf *conf;
	char rbuf[65536];
	size_t rpos, rlen;
	unsigned tag;
	struct strbuf server_said;     /* the last line libcurl's login got */
	struct strbuf resp;            /* the response being read */
};

/* ---- config ------------------------------------------------------------------------- */

static void conf_free(struct imap_conf *c)
{
	if (!c)
		return;
	free(c->host);
	free(c->username);
	free(c->shown_user);
	free(c->ca_file);
	strvec_clear(&c->mailboxes);
	free(c->since);
	free(c);
}

static const char *conf_secret(const struct source *s, const struct project *p, const char *key,
			       struct strbuf *err)
{
	const char *var = source_get(s, key);
	if (!var)
		return NULL;
	const char *v = env_lookup(&p->env, var, NULL);
	if (!v)
		strbuf_addf(err, "source '%s': the environment variable %s is not set (%s); export it, or add it to .env",
			    s->name, var, key);
	return v;
}

static int conf_parse(const struct source *s, const struct project *p, struct imap_conf **out, struct strbuf *err)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct imap_conf *c = xcalloc(1, sizeof(*c));
	*out = c;
	c->source = s;
	const char *host = source_get(s, "host"), *sec = source_get(s, "security");
	if (!host || !*host) {
		strbuf_addf(err, "source '%s': 'host' names the IMAP server (imap.example.com)", s->name);
		return -1;
	}
	c->host = xstrdup(host);
	c->security = !sec || !strcmp(sec, "tls") ? SEC_TLS : !strcmp(sec, "starttls") ? SEC_STARTTLS : SEC_NONE;
	int64_t v;
	c->port = c->security == SEC_TLS ? 993 : 143;
	if (ynode_int(ymap_get(s->block, "port"), &v) == 0) {
		if (v < 1 || v > 65535) {
			strbuf_addf(err, "source '%s': 'port' must be from 1 to 65535", s->name);
			return -1;
		}
		c->port = (long)v;
	}
	const char *user = source_get(s, "username");
	if (!user && source_get(s, "username_env") && !(user = conf_secret(s, p, "username_env", err)))
		return -1;
	if (!user || !*user) {
		strbuf_addf(err, "source '%s': 'username' (or 'username_env') names the account to log in as", s->name);
		return -1;
	}
	c->username = xstrdup(user);
	/* a name from the environment is a secret: messages name the variable */
	c->shown_user = source_get(s, "username") ? xstrdup(user)
						  : xasprintf("the account in %s", source_get(s, "username_env"));
	if (!source_get(s, "password_env")) {
		strbuf_addf(err, "source '%s': 'password_env' names the environment variable holding the password",
			    s->name);
		return -1;
	}
	if (!(c->password = conf_secret(s, p, "password_env", err)))
		return -1;
	const char *ca = source_get(s, "ca_file");
	if (ca) {
		struct strbuf sb = STRBUF_INIT;
		if (ca[0] == '/')
			strbuf_addstr(&sb, ca);
		else
			strbuf_addf(&sb, "%s/%s", p->root, ca);
		c->ca_file = strbuf_detach(&sb, NULL);
	}
	const struct ynode *mb = ymap_get(s->block, "mailboxes");
	if (mb && mb->kind == Y_SCALAR && !ynode_is_null(mb) && *mb->str)
		strvec_push(&c->mailboxes, mb->str);   /* one name: "Sent Items" has a space */
	for (size_t i = 0; mb && mb->kind == Y_SEQ && i < mb->n; i++)
		if (mb->items[i]->kind == Y_SCALAR)
			strvec_push(&c->mailboxes, mb->items[i]->str);
	if (!c->mailboxes.nr)
		strvec_push(&c->mailboxes, "INBOX");
	for (size_t i = 0; i < c->mailboxes.nr; i++)
		for (const char *q = c->mailboxes.v[i]; *q; q++)
			if (*q == '\r' || *q == '\n' || *q == '\0') {
				strbuf_addf(err, "source '%s': mailbox names cannot hold line breaks", s->name);
				return -1;
			}
	const char *sd = source_get(s, "start_date");
	if (sd) {
		int y, m, d;
		if (sscanf(sd, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
			strbuf_addf(err, "source '%s': start_date '%s' is not a date (YYYY-MM-DD)", s->name, sd);
			return -1;
		}
		c->since = xasprintf("%d-%s-%04d", d, mon[m - 1], y);
	}
	double t = 60, mbytes = 50;
	ynode_double(ymap_get(s->block, "timeout"), &t);
	c->timeout = t > 0 ? t : 60;
	ynode_double(ymap_get(s->block, "max_message_mb"), &mbytes);
	c->max_message = (size_t)((mbytes > 0 ? mbytes : 50) * 1024 * 1024);
	return 0;
}

/* ---- the connection ---------------------------------------------------------------------- */

static int on_debug(CURL *h, curl_infotype type, char *data, size_t n, void *arg)
{
	struct imap_conn *c = arg;
	(void)h;
	/* only what the server said: what we sent holds the password */
	if (type != CURLINFO_HEADER_IN)
		return 0;
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	strbuf_reset(&c->server_said);
	strbuf_add(&c->server_said, data, n);
	return 0;
}

/* The server's words without the tag: "NO [AUTHENTICATIONFAILED] ...". */
static const char *server_words(const struct strbuf *line)
{
	const char *s = line->buf;
	if (!line->len)
		return "";
	const char *sp = strchr(s, ' ');
	return sp ? sp + 1 : s;
}

static void conn_where(const struct imap_conf *c, struct strbuf *sb)
{
	strbuf_addf(sb, "%s://%s:%ld", c->security == SEC_TLS ? "imaps" : "imap", c->host, c->port);
}

static int conn_open(struct imap_conn *c, const struct imap_conf *conf, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, where = STRBUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	int ret = -1;
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	strbuf_init(&c->server_said, 0);
	strbuf_init(&c->resp, 0);
	conn_where(conf, &where);
	strbuf_addf(&url, "%s/", where.buf);
	c->curl = curl_easy_init();
	if (!c->curl) {
		strbuf_addstr(err, "libcurl could not start");
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url.buf);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(c->curl, CURLOPT_USERNAME, conf->username);
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, conf->password);
	curl_easy_setopt(c->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(conf->timeout * 1000));
	curl_easy_setopt(c->curl, CURLOPT_USE_SSL,
			 conf->security == SEC_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (conf->ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, conf->ca_file);
	curl_easy_setopt(c->curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(c->curl, CURLOPT_DEBUGDATA, c);
	CURLcode rc = curl_easy_perform(c->curl);
	if (rc == CURLE_LOGIN_DENIED) {
		strbuf_addf(err, "the IMAP server %s refused the login of '%s': %s", where.buf, conf->shown_user,
			    c->server_said.len ? server_words(&c->server_said) : "login denied");
		goto out;
	}
	if (rc != CURLE_OK) {
		strbuf_addf(err, "cannot reach the IMAP server %s: %s", where.buf, *errbuf ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK || c->sock == CURL_SOCKET_BAD) {
		strbuf_addf(err, "the connection to %s was lost after the login", where.buf);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&url);
	strbuf_release(&where);
	return ret;
}

static void conn_close(struct imap_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	strbuf_release(&c->server_said);
	strbuf_release(&c->resp);
}

static int conn_wait(struct imap_conn *c, short events, struct strbuf *err)
{
	struct pollfd pfd = { .fd = c->sock, .events = events };
	int r = poll(&pfd, 1, (int)(c->conf->timeout * 1000));
	if (r > 0)
		return 0;
	strbuf_addf(err, "the IMAP server %s did not answer within %g s", c->conf->host, c->conf->timeout);
	return -1;
}

static int conn_send(struct imap_conn *c, const char *s, size_t n, struct strbuf *err)
{
	while (n) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(c->curl, s, n, &sent);
		if (rc == CURLE_AGAIN) {
			if (conn_wait(c, POLLOUT, err) < 0)
				return -1;
			continue;
		}
		if (rc != CURLE_OK) {
			strbuf_addf(err, "sending to the IMAP server %s failed: %s", c->conf->host, curl_easy_strerror(rc));
			return -1;
		}
		s += sent;
		n -= sent;
	}
	return 0;
}

static int conn_fill(struct imap_conn *c, struct strbuf *err)
{
	for (;;) {
		size_t got = 0;
		CURLcode rc = curl_easy_recv(c->curl, c->rbuf, sizeof(c->rbuf), &got);
		if (rc == CURLE_AGAIN) {
			if (conn_wait(c, POLLIN, err) < 0)
				return -1;
			continue;
		}
		if (rc != CURLE_OK || !got) {
			strbuf_addf(err, "the IMAP server %s closed the connection%s%s", c->conf->host,
				    rc != CURLE_OK ? ": " : "", rc != CURLE_OK ? curl_easy_strerror(rc) : "");
			return -1;
		}
		c->rpos = 0;
		c->rlen = got;
		return 0;
	}
}

/* Append one line (with its CRLF) to out. */
static int read_line(struct imap_conn *c, struct strbuf *out, struct strbuf *err)
{
	for (;;) {
		if (c->rpos == c->rlen && conn_fill(c, err) < 0)
			return -1;
		const char *p = c->rbuf + c->rpos, *nl = memchr(p, '\n', c->rlen - c->rpos);
		size_t n = nl ? (size_t)(nl - p) + 1 : c->rlen - c->rpos;
		strbuf_add(out, p, n);
		c->rpos += n;
		if (nl)
			return 0;
		if (out->len > (1u << 20)) {
			strbuf_addf(err, "the IMAP server %s sent a line longer than 1 MB", c->conf->host);
			return -1;
		}
	}
}

static int read_bytes(struct imap_conn *c, struct strbuf *out, size_t n, struct strbuf *err)
{
	while (n) {
		if (c->rpos == c->rlen && conn_fill(c, err) < 0)
			return -1;
		size_t k = c->rlen - c->rpos < n ? c->rlen - c->rpos : n;
		strbuf_add(out, c->rbuf + c->rpos, k);
		c->rpos += k;
		n -= k;
	}
	return 0;
}

/* The literal a line announces at its end ("... {123}\r\n"): its size, or -1. */
static long long line_literal(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (!n || s[n - 1] != '}')
		return -1;
	size_t i = n - 1;
	if (i && s[i - 1] == '+')
		i--;
	size_t e = i;
	while (i && isdigit((unsigned char)s[i - 1]))
		i--;
	if (i == e || !i || s[i - 1] != '{' || e - i > 12)
		return -1;
	return strtoll(s + i, NULL, 10);
}

/* One whole response (its lines and literals) into c->resp. */
static int read_response(struct imap_conn *c, struct strbuf *err)
{
	strbuf_reset(&c->resp);
	for (;;) {
		size_t start = c->resp.len;
		if (read_line(c, &c->resp, err) < 0)
			return -1;
		long long lit = line_literal(c->resp.buf + start, c->resp.len - start);
		if (lit < 0)
			return 0;
		if ((size_t)lit > c->conf->max_message) {
			strbuf_addf(err, "the IMAP server %s sent a message of %lld bytes, over max_message_mb", c->conf->host,
				    lit);
			return -1;
		}
		if (read_bytes(c, &c->resp, (size_t)lit, err) < 0)
			return -1;
	}
}

/* Send a command and read its responses: each untagged one goes to fn;
 * 0 when the server said OK, -1 with its words in err otherwise. */
static int imap_command(struct imap_conn *c, const char *cmd, int (*fn)(void *, const struct strbuf *, struct strbuf *),
			void *data, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT, tag = STRBUF_INIT;
	int ret = -1;
	strbuf_addf(&tag, "D%u ", ++c->tag);
	strbuf_addf(&line, "%s%s\r\n", tag.buf, cmd);
	if (conn_send(c, line.buf, line.len, err) < 0)
		goto out;
	for (;;) {
		if (read_response(c, err) < 0)
			goto out;
		if (!strncmp(c->resp.buf, tag.buf, tag.len)) {
			const char *w = c->resp.buf + tag.len;
			size_t n = c->resp.len - tag.len;
			while (n && (w[n - 1] == '\n' || w[n - 1] == '\r'))
				n--;
			if (n >= 2 && !strncasecmp(w, "OK", 2)) {
				ret = 0;
			} else {
				strbuf_addf(err, "the IMAP server answered: %.*s", (int)n, w);
			}
			goto out;
		}
		if (!strncmp(c->resp.buf, "* BYE", 5)) {
			strbuf_addf(err, "the IMAP server %s ended the session: %.*s", c->conf->host,
				    (int)strcspn(c->resp.buf + 2, "\r\n"), c->resp.buf + 2);
			goto out;
		}
		if (fn && c->resp.buf[0] == '*' && fn(data, &c->resp, err) < 0)
			goto out;
	}
out:
	strbuf_release(&line);
	strbuf_release(&tag);
	return ret;
}

/* A mailbox name as an IMAP quoted string, non-ASCII names in modified
 * UTF-7 (RFC 3501 5.1.3). */
static void add_mailbox(struct strbuf *sb, const char *name)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
	const unsigned char *p = (const unsigned char *)name;
	strbuf_addch(sb, '"');
	while (*p) {
		if (*p >= 0x20 && *p < 0x7f) {
			if (*p == '&')
				strbuf_addstr(sb, "&-");
			else if (*p == '"' || *p == '\\') {
				strbuf_addch(sb, '\\');
				strbuf_addch(sb, *p);
			} else
				strbuf_addch(sb, *p);
			p++;
			continue;
		}
		/* a run of other characters: UTF-16BE in base64 */
		uint32_t acc = 0;
		int bits = 0;
		strbuf_addch(sb, '&');
		while (*p && !(*p >= 0x20 && *p < 0x7f)) {
			uint32_t cp = *p++;
			int extra = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;
			cp &= extra == 3 ? 0x07 : extra == 2 ? 0x0f : extra == 1 ? 0x1f : 0x7f;
			while (extra-- && (*p & 0xc0) == 0x80)
				cp = (cp << 6) | (*p++ & 0x3f);
			uint16_t units[2];
			int nu = 1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = (uint16_t)(0xd800 | (cp >> 10));
				units[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
				nu = 2;
			} else {
				units[0] = (uint16_t)cp;
			}
			for (int u = 0; u < nu; u++) {
				acc = (acc << 16) | units[u];
				bits += 16;
				while (bits >= 6) {
					bits -= 6;
					strbuf_addch(sb, b64[(acc >> bits) & 0x3f]);
				}
			}
		}
		if (bits)
			strbuf_addch(sb, b64[(acc << (6 - bits)) & 0x3f]);
		strbuf_addch(sb, '-');
	}
	strbuf_addch(sb, '"');
}

/* ---- reading responses ----------------------------------------------------------------- */

enum tok_kind { T_END, T_ATOM, T_QUOTED, T_LITERAL, T_OPEN, T_CLOSE };

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t n;
};

static void next_tok(const char **pp, const char *end, struct tok *t)
{
	const char *p = *pp;
	while (p < end && (*p == ' ' || *p == '\r' || *p == '\n'))
		p++;
	t->s = p;
	t->n = 0;
	if (p >= end) {
		t->kind = T_END;
	} else if (*p == '(' || *p == ')') {
		t->kind = *p == '(' ? T_OPEN : T_CLOSE;
		p++;
	} else if (*p == '"') {
		t->kind = T_QUOTED;
		t->s = ++p;
		while (p < end && *p != '"')
			p += *p == '\\' && p + 1 < end ? 2 : 1;
		t->n = (size_t)(p - t->s);
		if (p < end)
			p++;
	} else if (*p == '{') {
		char *e;
		long long n = strtoll(p + 1, &e, 10);
		while (e < end && (*e == '+' || *e == '}'))
			e++;
		if (e < end && *e == '\r')
			e++;
		if (e < end && *e == '\n')
			e++;
		if (n < 0 || (size_t)n > (size_t)(end - e))
			n = end - e;
		t->kind = T_LITERAL;
		t->s = e;
		t->n = (size_t)n;
		p = e + n;
	} else {
		t->kind = T_ATOM;
		while (p < end && *p != ' ' && *p != '(' && *p != ')' && *p != '\r' && *p != '\n')
			p++;
		t->n = (size_t)(p - t->s);
	}
	*pp = p;
}

static int tok_is(const struct tok *t, const char *word)
{
	return t->kind == T_ATOM && t->n == strlen(word) && !strncasecmp(t->s, word, t->n);
}

/* Skip the value that starts with t (a list skips to its close). */
static void skip_value(const char **p, const char *end, const struct tok *t)
{
	struct tok k;
	if (t->kind != T_OPEN)
		return;
	for (int depth = 1; depth > 0;) {
		next_tok(p, end, &k);
		if (k.kind == T_END)
			return;
		depth += k.kind == T_OPEN ? 1 : k.kind == T_CLOSE ? -1 : 0;
	}
}

static void tok_text(const struct tok *t, struct strbuf *out)
{
	if (t->kind != T_QUOTED) {
		strbuf_add(out, t->s, t->n);
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i] == '\\' && i + 1 < t->n)
			i++;
		strbuf_addch(out, t->s[i]);
	}
}

struct mailbox_status {
	unsigned long long uidvalidity, exists, uidnext;
};

/* "* OK [UIDVALIDITY 3857529045] UIDs valid", "* 172 EXISTS" */
static int on_examine(void *data, const struct strbuf *r, struct strbuf *err)
{
	struct mailbox_status *st = data;
	const char *b;
	(void)err;
	if ((b = strstr(r->buf, "[UIDVALIDITY ")))
		st->uidvalidity = strtoull(b + 13, NULL, 10);
	else if ((b = strstr(r->buf, "[UIDNEXT ")))
		st->uidnext = strtoull(b + 9, NULL, 10);
	else if (isdigit((unsigned char)r->buf[2])) {
		char *e;
		unsigned long long n = strtoull(r->buf + 2, &e, 10);
		if (!strncasecmp(e, " EXISTS", 7))
			st->exists = n;
	}
	return 0;
}

struct uid_list {
	unsigned long long *v;
	size_t nr, alloc;
};

/* "* SEARCH 3 7 9" */
static int on_search(void *data, const struct strbuf *r, struct strbuf *err)
{
	struct uid_list *l = data;
	(void)err;
	if (strncasecmp(r->buf, "* SEARCH", 8))
		return 0;
	const char *p = r->buf + 8;
	while (*p) {
		char *e;
		while (*p == ' ')
			p++;
		unsigned long long u = strtoull(p, &e, 10);
		if (e == p)
			break;
		ALLOC_GROW(l->v, l->nr + 1, l->alloc);
		l->v[l->nr++] = u;
		p = e;
	}
	return 0;
}

/* "* LIST (\HasNoChildren) "/" INBOX" */
static int on_list(void *data, const struct strbuf *r, struct strbuf *err)
{
	struct strvec *names = data;
	const char *p = r->buf + 2, *end = r->buf + r->len;
	struct tok t;
	(void)err;
	next_tok(&p, end, &t);
	if (!tok_is(&t, "LIST"))
		return 0;
	next_tok(&p, end, &t);
	skip_value(&p, end, &t);
	next_tok(&p, end, &t);   /* the hierarchy delimiter */
	next_tok(&p, end, &t);
	if (t.kind == T_END)
		return 0;
	struct strbuf sb = STRBUF_INIT;
	tok_text(&t, &sb);
	strvec_push(names, sb.buf);
	strbuf_release(&sb);
	return 0;
}

/* ---- messages into rows ------------------------------------------------------------------ */

struct imap_sync {
	struct sync_job *job;
	const struct imap_conf *conf;
	struct normalizer norm;
	int norm_ready;
	int table;
	struct jv_doc doc;
	const char *mailbox;
	unsigned long long uidvalidity, max_uid;
	int64_t records;
	int stop;                 /* --limit reached */
};

static void set_str(json_t *o, const char *key, const char *v)
{
	json_t *s = v ? json_string(v) : NULL;
	json_object_set_new(o, key, s ? s : json_null());
}

static int add_message(struct imap_sync *x, unsigned long long uid, const char *flags, const char *internal,
		       long long size, const char *raw, size_t len, struct strbuf *err)
{
	struct mime_message m;
	long long t;
	mime_parse(&m, raw, len);
	json_t *rec = json_object(), *att = json_array();
	set_str(rec, "mailbox", x->mailbox);
	json_object_set_new(rec, "uidvalidity", json_integer((json_int_t)x->uidvalidity));
	json_object_set_new(rec, "uid", json_integer((json_int_t)uid));
	set_str(rec, "message_id", m.message_id);
	set_str(rec, "subject", m.subject);
	set_str(rec, "sender", m.from);
	set_str(rec, "recipients", m.to);
	set_str(rec, "cc", m.cc);
	set_str(rec, "reply_to", m.reply_to);
	set_str(rec, "in_reply_to", m.in_reply_to);
	set_str(rec, "date", m.date);
	char *recv = NULL;
	if (internal && mime_parse_date(internal, &t) == 0) {
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		recv = xasprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	set_str(rec, "received_at", recv);
	free(recv);
	json_object_set_new(rec, "size", size >= 0 ? json_integer(size) : json_null());
	set_str(rec, "flags", flags && *flags ? flags : NULL);
	set_str(rec, "body_text", m.text.len ? m.text.buf : NULL);
	set_str(rec, "body_html", m.html.len ? m.html.buf : NULL);
	for (size_t i = 0; i < m.nr_att; i++) {
		json_t *a = json_object();
		set_str(a, "filename", m.att[i].filename);
		set_str(a, "content_type", m.att[i].content_type);
		json_object_set_new(a, "size", json_integer((json_int_t)m.att[i].size));
		json_array_append_new(att, a);
	}
	json_object_set_new(rec, "attachments", att);
	mime_message_release(&m);

	char *text = json_dumps(rec, JSON_COMPACT);
	char *seed = xasprintf("%s\x1f%llu\x1f%llu", x->mailbox, x->uidvalidity, uid);
	int ret = jv_parse(&x->doc, text, strlen(text), err);
	if (ret == 0)
		ret = normalizer_add(&x->norm, x->table, x->doc.root, NULL, 0, seed, -1, err);
	/* the tree points into text: done with both before they go */
	jv_doc_release(&x->doc);
	x->doc = (struct jv_doc)JV_DOC_INIT;
	free(seed);
	free(text);
	json_decref(rec);
	if (ret < 0)
		return -1;
	x->records++;
	if (uid > x->max_uid)
		x->max_uid = uid;
	return 0;
}

/* "* 12 FETCH (UID 40 FLAGS (\Seen) INTERNALDATE "..." RFC822.SIZE 2211 BODY[] {2211}\r\n...)" */
static int on_fetch(void *data, const struct strbuf *r, struct strbuf *err)
{
	struct imap_sync *x = data;
	const char *p = r->buf + 2, *end = r->buf + r->len;
	struct tok t, v;
	struct strbuf flags = STRBUF_INIT, internal = STRBUF_INIT;
	unsigned long long uid = 0;
	long long size = -1;
	const char *body = NULL;
	size_t body_len = 0;
	int ret = 0;
	next_tok(&p, end, &t);   /* the sequence number */
	next_tok(&p, end, &t);
	if (!tok_is(&t, "FETCH") || x->stop)
		return 0;
	next_tok(&p, end, &t);
	if (t.kind != T_OPEN)
		return 0;
	for (;;) {
		next_tok(&p, end, &t);
		if (t.kind != T_ATOM)
			break;
		next_tok(&p, end, &v);
		if (tok_is(&t, "UID") && v.kind == T_ATOM) {
			uid = strtoull(v.s, NULL, 10);
		} else if (tok_is(&t, "RFC822.SIZE") && v.kind == T_ATOM) {
			size = strtoll(v.s, NULL, 10);
		} else if (tok_is(&t, "INTERNALDATE") && v.kind == T_QUOTED) {
			tok_text(&v, &internal);
		} else if (tok_is(&t, "FLAGS") && v.kind == T_OPEN) {
			struct tok f;
			/* \Recent says which session saw a message first, not what it is */
			for (next_tok(&p, end, &f); f.kind == T_ATOM; next_tok(&p, end, &f))
				if (!tok_is(&f, "\\Recent"))
					strbuf_addf(&flags, "%s%.*s", flags.len ? " " : "", (int)f.n, f.s);
		} else if (t.n >= 5 && !strncasecmp(t.s, "BODY[", 5) && (v.kind == T_LITERAL || v.kind == T_QUOTED)) {
			body = v.s;
			body_len = v.n;
		} else {
			skip_value(&p, end, &v);
		}
	}
	/* a FETCH the server sent on its own (a flag changed) has no body */
	if (uid && body)
		ret = add_message(x, uid, flags.buf, internal.len ? internal.buf : NULL, size, body, body_len, err);
	if (ret == 0 && body && x->job->opts->limit > 0 && x->records >= x->job->opts->limit)
		x->stop = 1;
	strbuf_release(&flags);
	strbuf_release(&internal);
	return ret;
}

/* Every column from the start, with its type: a header no message of a
 * sync had (Cc, In-Reply-To) is still a column, not a "removed" one. */
static void declare_columns(struct normalizer *n, int t)
{
	static const struct { const char *name; enum norm_type type; } cols[] = {
		{ "mailbox", NT_TEXT }, { "uidvalidity", NT_BIGINT }, { "uid", NT_BIGINT }, { "message_id", NT_TEXT },
		{ "subject", NT_TEXT }, { "sender", NT_TEXT }, { "recipients", NT_TEXT }, { "cc", NT_TEXT },
		{ "reply_to", NT_TEXT }, { "in_reply_to", NT_TEXT }, { "date", NT_TIMESTAMP },
		{ "received_at", NT_TIMESTAMP }, { "size", NT_BIGINT }, { "flags", NT_TEXT }, { "body_text", NT_TEXT },
		{ "body_html", NT_TEXT },
	};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		normalizer_declare_column(n, t, -1, cols[i].name, cols[i].type);
	int att = normalizer_declare_list(n, t, -1, "attachments");
	normalizer_declare_column(n, att, -1, "filename", NT_TEXT);
	normalizer_declare_column(n, att, -1, "content_type", NT_TEXT);
	normalizer_declare_column(n, att, -1, "size", NT_BIGINT);
}

/* A spool file is complete: a batch for the engine. */
static void spool_file_done(void *data, int ti, size_t k)
{
	struct imap_sync *x = data;
	struct sync_job *job = x->job;
	const struct norm_table *t = &x->norm.tables[ti];
	struct sync_resource *res = sync_job_resource(job, t->name);
	if (t->parent >= 0 && !res->primary_key.nr) {
		res->disposition = WD_MERGE;
		strvec_push(&res->primary_key, "_dlt_id");
	}
	struct sync_batch *b = sync_job_add_batch(job, t->name);
	struct strbuf rel = STRBUF_INIT;
	normalizer_relation(&x->norm, t, t->files.v[k], &rel);
	b->relation = strbuf_detach(&rel, NULL);
	b->spool_path = xstrdup(t->files.v[k]);
	b->own_ids = 1;
	b->label = xasprintf("%s (part %zu)", t->name, k + 1);
	sync_job_emit(job);
}

/* ---- the sync ---------------------------------------------------------------------------- */

static unsigned long long state_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (unsigned long long)json_integer_value(v) : 0;
}

/* A message set of UIDs: "3:7,9" */
static void uid_set(struct strbuf *sb, const unsigned long long *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		strbuf_addf(sb, "%s%llu", sb->len ? "," : "", v[i]);
		if (j > i)
			strbuf_addf(sb, ":%llu", v[j]);
		i = j + 1;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

/* The mailboxes the server has, for a message about one it has not. */
static void list_mailboxes(struct imap_conn *c, struct strbuf *out)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf e = STRBUF_INIT;
	if (imap_command(c, "LIST \"\" \"*\"", on_list, &names, &e) == 0 && names.nr) {
		strbuf_addstr(out, " (the mailboxes there: ");
		for (size_t i = 0; i < names.nr; i++)
			strbuf_addf(out, "%s%s", i ? ", " : "", names.v[i]);
		strbuf_addch(out, ')');
	}
	strvec_clear(&names);
	strbuf_release(&e);
}

static int examine(struct imap_conn *c, const char *mailbox, struct mailbox_status *st, struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT, e = STRBUF_INIT;
	memset(st, 0, sizeof(*st));
	strbuf_addstr(&cmd, "EXAMINE ");
	add_mailbox(&cmd, mailbox);
	int ret = imap_command(c, cmd.buf, on_examine, st, &e);
	if (ret < 0) {
		strbuf_addf(err, "mailbox '%s': %s", mailbox, e.buf);
		list_mailboxes(c, err);
	} else if (!st->uidvalidity) {
		strbuf_addf(err, "mailbox '%s': the IMAP server gave no UIDVALIDITY", mailbox);
		ret = -1;
	}
	strbuf_release(&cmd);
	strbuf_release(&e);
	return ret;
}

static int sync_mailbox(struct imap_sync *x, struct imap_conn *c, json_t *prev, json_t *next,
			struct strvec *stale, struct strbuf *err)
{
	struct sync_job *job = x->job;
	struct mailbox_status st;
	struct uid_list uids = { 0 };
	struct strbuf cmd = STRBUF_INIT;
	int ret = -1;
	if (examine(c, x->mailbox, &st, err) < 0)
		goto out;
	json_t *was = job->opts->full_refresh ? NULL : json_object_get(prev, x->mailbox);
	unsigned long long last = 0, was_validity = state_u64(was, "uidvalidity");
	if (was && was_validity == st.uidvalidity) {
		last = state_u64(was, "last_uid");
	} else if (was) {
		strvec_pushf(&job->warnings,
			     "mailbox '%s': its UIDVALIDITY changed (%llu, now %llu), so the UIDs loaded before mean "
			     "nothing: it is read again from the start, and its rows of UIDVALIDITY %llu are deleted",
			     x->mailbox, was_validity, st.uidvalidity, was_validity);
		strvec_pushf(stale, "%s\x1f%llu", x->mailbox, st.uidvalidity);
	}
	x->uidvalidity = st.uidvalidity;
	x->max_uid = last;
	if (st.exists) {
		if (last)
			strbuf_addf(&cmd, "UID SEARCH UID %llu:*", last + 1);
		else if (x->conf->since)
			strbuf_addf(&cmd, "UID SEARCH SENTSINCE %s", x->conf->since);
		else
			strbuf_addstr(&cmd, "UID SEARCH ALL");
		if (imap_command(c, cmd.buf, on_search, &uids, err) < 0) {
			struct strbuf m = STRBUF_INIT;
			strbuf_addf(&m, "mailbox '%s': %s", x->mailbox, err->buf);
			strbuf_reset(err);
			strbuf_addbuf(err, &m);
			strbuf_release(&m);
			goto out;
		}
	}
	/* "n:*" names the last message even below n: only what is new */
	size_t keep = 0;
	for (size_t i = 0; i < uids.nr; i++)
		if (uids.v[i] > last)
			uids.v[keep++] = uids.v[i];
	uids.nr = keep;
	if (uids.nr) /* no qsort of an empty list: its base is NULL (UBSan) */
		qsort(uids.v, uids.nr, sizeof(*uids.v), cmp_u64);
	job->progress(job, "Mailbox %s: %zu new message%s%s", x->mailbox, uids.nr, uids.nr == 1 ? "" : "s",
		      last ? " (above the last UID loaded)" : "");
	for (size_t i = 0; i < uids.nr && !x->stop && !job->cancelled;) {
		size_t n = uids.nr - i < FETCH_CHUNK ? uids.nr - i : FETCH_CHUNK;
		if (job->opts->limit > 0 && (int64_t)n > job->opts->limit - x->records)
			n = (size_t)(job->opts->limit - x->records);
		strbuf_reset(&cmd);
		struct strbuf set = STRBUF_INIT;
		uid_set(&set, uids.v + i, n);
		strbuf_addf(&cmd, "UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])", set.buf);
		strbuf_release(&set);
		if (imap_command(c, cmd.buf, on_fetch, x, err) < 0) {
			struct strbuf m = STRBUF_INIT;
			strbuf_addf(&m, "mailbox '%s': %s", x->mailbox, err->buf);
			strbuf_reset(err);
			strbuf_addbuf(err, &m);
			strbuf_release(&m);
			goto out;
		}
		i += n;
		job->progress(job, "Mailbox %s: %zu of %zu messages", x->mailbox, i, uids.nr);
	}
	json_object_set_new(next, x->mailbox,
			    json_pack("{s:I, s:I}", "uidvalidity", (json_int_t)st.uidvalidity, "last_uid",
				      (json_int_t)x->max_uid));
	ret = 0;
out:
	free(uids.v);
	strbuf_release(&cmd);
	return ret;
}

static int imap_open(struct sync_job *job, struct strbuf *err)
{
	struct imap_conf *c = NULL;
	int ret = conf_parse(job->source, job->project, &c, err);
	job->conn = c;
	return ret;
}

static void imap_close(struct sync_job *job)
{
	conf_free(job->conn);
	job->conn = NULL;
}

static void describe_resource(struct sync_job *job)
{
	struct sync_resource *res = sync_job_resource(job, RESOURCE);
	res->disposition = WD_MERGE;
	strvec_clear(&res->primary_key);
	strvec_push(&res->primary_key, "mailbox");
	strvec_push(&res->primary_key, "uidvalidity");
	strvec_push(&res->primary_key, "uid");
}

/* Rows of mailboxes whose UIDVALIDITY changed: "mailbox = 'X' AND uidvalidity <> N". */
static void stale_rows(struct sync_job *job, const struct strvec *stale)
{
	if (!stale->nr)
		return;
	struct strbuf w = STRBUF_INIT;
	for (size_t i = 0; i < stale->nr; i++) {
		const char *sep = strchr(stale->v[i], '\x1f');
		char *name = xstrndup(stale->v[i], (size_t)(sep - stale->v[i]));
		strbuf_addstr(&w, i ? " OR " : "");
		strbuf_addstr(&w, "(mailbox = ");
		strbuf_add_sql_str(&w, name);
		strbuf_addf(&w, " AND uidvalidity <> %s)", sep + 1);
		free(name);
	}
	struct sync_resource *res = sync_job_resource(job, RESOURCE);
	free(res->delete_where);
	res->delete_where = strbuf_detach(&w, NULL);
	/* and the attachments of those rows (deleted after them: the engine
	 * goes through the resources in order, and messages came first) */
	struct strbuf schema = STRBUF_INIT;
	sync_schema_name(&schema, job->source->name);
	res = sync_job_resource(job, RESOURCE "__attachments");
	if (!res->primary_key.nr) {
		res->disposition = WD_MERGE;
		strvec_push(&res->primary_key, "_dlt_id");
	}
	free(res->delete_where);
	strbuf_addstr(&w, "_dlt_parent_id NOT IN (SELECT _dlt_id FROM ");
	strbuf_add_sql_ident(&w, schema.buf);
	strbuf_addf(&w, ".%s)", RESOURCE);
	res->delete_where = strbuf_detach(&w, NULL);
	strbuf_release(&schema);
}

static void prefix_source(const struct imap_conf *c, struct strbuf *err)
{
	struct strbuf m = STRBUF_INIT;
	strbuf_addf(&m, "source '%s': %s", c->source->name, err->buf);
	strbuf_reset(err);
	strbuf_addbuf(err, &m);
	strbuf_release(&m);
}

static int imap_extract(struct sync_job *job, struct strbuf *err)
{
	const struct imap_conf *conf = job->conn;
	struct imap_sync x = { .job = job, .conf = conf };
	struct imap_conn c;
	struct strvec stale = STRVEC_INIT;
	json_t *prev = json_object_get(json_object_get(job->prev_state, RESOURCE), "mailboxes");
	json_t *next = json_object();
	int ret = -1, opened = 0;
	x.doc = (struct jv_doc)JV_DOC_INIT;
	job->limit_handled = 1;
	if (sync_job_spool_dir(job, err) < 0)
		goto out;
	normalizer_init(&x.norm, job->spool_dir);
	x.norm_ready = 1;
	x.norm.on_file = spool_file_done;
	x.norm.on_file_data = &x;
	x.table = normalizer_table(&x.norm, RESOURCE, -1);
	declare_columns(&x.norm, x.table);
	describe_resource(job);
	struct strbuf where = STRBUF_INIT;
	conn_where(conf, &where);
	job->progress(job, "Logging in to %s as %s", where.buf, conf->shown_user);
	strbuf_release(&where);
	opened = 1;
	if (conn_open(&c, conf, err) < 0)
		goto out_msg;
	/* mailboxes the config no longer names keep their state */
	if (!job->opts->full_refresh && json_is_object(prev))
		json_object_update(next, prev);
	for (size_t i = 0; i < conf->mailboxes.nr && !x.stop; i++) {
		x.mailbox = conf->mailboxes.v[i];
		if (sync_mailbox(&x, &c, prev, next, &stale, err) < 0)
			goto out_msg;
	}
	struct strbuf e = STRBUF_INIT;
	imap_command(&c, "LOGOUT", NULL, NULL, &e);   /* a polite end; its answer does not matter */
	strbuf_release(&e);
	if (normalizer_finish(&x.norm, err) < 0)
		goto out;
	stale_rows(job, &stale);
	if (x.stop)
		strvec_pushf(&job->notes, "--limit: stopped after %lld messages", (long long)x.records);
	/* "cursor": a summary for dango state show; the sync reads "mailboxes" */
	struct strbuf sum = STRBUF_INIT;
	const char *mbname;
	json_t *mbst;
	json_object_foreach(next, mbname, mbst)
		strbuf_addf(&sum, "%s%s: UID %llu", sum.len ? ", " : "", mbname, state_u64(mbst, "last_uid"));
	json_object_set_new(job->new_state, RESOURCE, json_pack("{s:O, s:s}", "mailboxes", next, "cursor", sum.buf));
	strbuf_release(&sum);
	ret = 0;
	goto out;
out_msg:
	prefix_source(conf, err);
out:
	if (opened)
		conn_close(&c);
	if (x.norm_ready)
		normalizer_release(&x.norm);
	jv_doc_release(&x.doc);
	json_decref(next);
	strvec_clear(&stale);
	return ret;
}

static int imap_describe(struct sync_job *job, struct strbuf *out, struct strbuf *err)
{
	const struct imap_conf *c = job->conn;
	json_t *prev = json_object_get(json_object_get(job->prev_state, RESOURCE), "mailboxes");
	(void)err;
	struct strbuf where = STRBUF_INIT;
	conn_where(c, &where);
	strbuf_addf(out, "would log in to %s as %s and read\n", where.buf, c->shown_user);
	for (size_t i = 0; i < c->mailboxes.nr; i++) {
		json_t *was = job->opts->full_refresh ? NULL : json_object_get(prev, c->mailboxes.v[i]);
		unsigned long long last = state_u64(was, "last_uid");
		if (last)
			strbuf_addf(out, "mailbox %s: messages above UID %llu (UIDVALIDITY %llu)\n", c->mailboxes.v[i],
				    last, state_u64(was, "uidvalidity"));
		else
			strbuf_addf(out, "mailbox %s: every message%s%s\n", c->mailboxes.v[i],
				    c->since ? " since " : "", c->since ? c->since : "");
	}
	strbuf_release(&where);
	return 0;
}

static int imap_resources(struct sync_job *job, struct strvec *out, struct strbuf *err)
{
	(void)job;
	(void)err;
	strvec_push(out, RESOURCE);
	strvec_push(out, RESOURCE "__attachments");
	return 0;
}

const struct connector_ops imap_connector = {
	.type = "imap",
	.caps = 0,
	.open = imap_open,
	.extract = imap_extract,
	.describe = imap_describe,
	.close = imap_close,
	.resources = imap_resources,
};

/* ---- dango source test ------------------------------------------------------------------ */

int imap_check(const struct source *s, const struct project *p, struct strbuf *report)
{
	struct imap_conf *conf = NULL;
	struct imap_conn c;
	struct strbuf err = STRBUF_INIT, where = STRBUF_INIT;
	int ret = -1, opened = 0;
	if (conf_parse(s, p, &conf, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	conn_where(conf, &where);
	opened = 1;
	if (conn_open(&c, conf, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	strbuf_addf(report, "✓ logged in to %s as %s\n", where.buf, conf->shown_user);
	ret = 0;
	for (size_t i = 0; i < conf->mailboxes.nr; i++) {
		struct mailbox_status st;
		strbuf_reset(&err);
		if (examine(&c, conf->mailboxes.v[i], &st, &err) < 0) {
			strbuf_addf(report, "✗ %s\n", err.buf);
			ret = -1;
		} else {
			strbuf_addf(report, "✓ mailbox %s: %llu message%s (UIDVALIDITY %llu)\n", conf->mailboxes.v[i],
				    st.exists, st.exists == 1 ? "" : "s", st.uidvalidity);
		}
	}
	imap_command(&c, "LOGOUT", NULL, NULL, &err);
out:
	if (opened)
		conn_close(&c);
	conf_free(conf);
	strbuf_release(&err);
	strbuf_release(&where);
	return ret;
}
