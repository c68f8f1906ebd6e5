/* The token store: one JSON file a credential in .dango/oauth/ (a 0700
 * folder, 0600 files written atomically), and its non-secret metadata
 * mirrored in the ops-db table oauth_credentials for the web page:
 *
 *   name, provider, account, expires_at (ISO, or NULL: no expiry),
 *   refreshable (0/1), last_refresh, created_at, scopes, sources (JSON
 *   array of linked sources), updated_at
 *
 * The file, not the table, is the truth: the table is rewritten on every
 * save and remove, and a failure to write it is reported but never loses
 * the token. */
#include "oauth/oauth.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/sources.h"
#include "state/opsdb.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS oauth_credentials ("
	" name TEXT PRIMARY KEY, provider TEXT NOT NULL, account TEXT, expires_at TEXT,"
	" refreshable INTEGER NOT NULL, last_refresh TEXT, created_at TEXT, scopes TEXT, sources TEXT,"
	" updated_at TEXT NOT NULL);";

void oauth_cred_init(struct oauth_cred *c)
{
	memset(c, 0, sizeof(*c));
}

void oauth_cred_release(struct oauth_cred *c)
{
	char **fields[] = { &c->name, &c->provider, &c->account, &c->access_token, &c->refresh_token, &c->token_type,
			    &c->scope, &c->token_url, &c->client_id_env, &c->client_secret_env, &c->instance_url };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (*fields[i] && (fields[i] == &c->access_token || fields[i] == &c->refresh_token))
			memset(*fields[i], 0, strlen(*fields[i])); /* tokens do not linger in freed memory */
		free(*fields[i]);
	}
	strvec_clear(&c->sources);
	memset(c, 0, sizeof(*c));
}

int oauth_valid_name(const char *name)
{
	if (!name || !*name || *name == '.' || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return 0;
	return 1;
}

static void store_dir(struct strbuf *sb, const struct project *p)
{
	fs_path_join(sb, p->dango_dir, "oauth");
}

void oauth_cred_path(struct strbuf *sb, const struct project *p, const char *name)
{
	store_dir(sb, p);
	strbuf_addf(sb, "/%s.json", name);
}

static char *jdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? xstrdup(s) : NULL;
}

static time_t jtime(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	time_t t = 0;
	if (s && clock_parse_iso8601(s, &t) < 0)
		t = 0;
	return t;
}

int oauth_cred_load(const struct project *p, const char *name, struct oauth_cred *c, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	json_error_t je;
	json_t *o = NULL;
	int ret = -1;
	oauth_cred_init(c);
	if (!oauth_valid_name(name)) {
		strbuf_addf(err, "'%s' is not a credential name (letters, digits, _ . -)", name);
		goto out;
	}
	oauth_cred_path(&path, p, name);
	if (strbuf_read_file(&text, path.buf) < 0) {
		if (errno == ENOENT) {
			ret = 0;
			goto out;
		}
		strbuf_addf(err, "cannot read %s: %s", path.buf, strerror(errno));
		goto out;
	}
	o = json_loadb(text.buf, text.len, 0, &je);
	if (!json_is_object(o)) {
		strbuf_addf(err, "%s:%d: not a token file (%s); set it up again: dango oauth setup", path.buf, je.line,
			    je.text);
		goto out;
	}
	c->name = xstrdup(name);
	c->provider = jdup(o, "provider");
	c->account = jdup(o, "account");
	c->access_token = jdup(o, "access_token");
	c->refresh_token = jdup(o, "refresh_token");
	c->token_type = jdup(o, "token_type");
	c->scope = jdup(o, "scope");
	c->token_url = jdup(o, "token_url");
	c->client_id_env = jdup(o, "client_id_env");
	c->client_secret_env = jdup(o, "client_secret_env");
	c->instance_url = jdup(o, "instance_url");
	c->expires_at = jtime(o, "expires_at");
	c->created_at = jtime(o, "created_at");
	c->last_refresh = jtime(o, "last_refresh");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "sources"), i, v) if (json_is_string(v))
		strvec_push(&c->sources, json_string_value(v));
	if (!c->provider || !c->access_token) {
		strbuf_addf(err, "%s: no provider or access_token; set it up again: dango oauth setup", path.buf);
		goto out;
	}
	ret = 1;
out:
	if (ret < 0)
		oauth_cred_release(c);
	if (text.buf)
		memset(text.buf, 0, text.len);
	json_decref(o);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static void set_time(json_t *o, const char *key, time_t t)
{
	char buf[32];
	if (t)
		json_object_set_new(o, key, json_string(clock_format_utc(buf, t)));
}

static void sources_json(struct strbuf *sb, const struct strvec *v)
{
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < v->nr; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_add_json_str(sb, v->v[i]);
	}
	strbuf_addch(sb, ']');
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* The metadata row of c (or its removal, c NULL). */
static int mirror(const struct project *p, const char *name, const struct oauth_cred *c, struct strbuf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct strbuf srcs = STRBUF_INIT;
	char exp[32], last[32], created[32], now[32];
	int ret = -1;
	if (opsdb_open(p->state_dir, &db, err) < 0 || opsdb_ensure(db, "oauth", schema_sql, err) < 0)
		goto out;
	const char *sql = c ? "INSERT OR REPLACE INTO oauth_credentials (name, provider, account, expires_at, refreshable,"
			      " last_refresh, created_at, scopes, sources, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
			    : "DELETE FROM oauth_credentials WHERE name = ?";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		strbuf_addf(err, "ops-db: %s", sqlite3_errmsg(db));
		goto out;
	}
	bind_text(st, 1, name);
	if (c) {
		sources_json(&srcs, &c->sources);
		bind_text(st, 2, c->provider);
		bind_text(st, 3, c->account);
		bind_text(st, 4, c->expires_at ? clock_format_utc(exp, c->expires_at) : NULL);
		sqlite3_bind_int(st, 5, c->refresh_token != NULL);
		bind_text(st, 6, c->last_refresh ? clock_format_utc(last, c->last_refresh) : NULL);
		bind_text(st, 7, c->created_at ? clock_format_utc(created, c->created_at) : NULL);
		bind_text(st, 8, c->scope);
		bind_text(st, 9, srcs.buf);
		bind_text(st, 10, clock_format_utc(now, clock_now_sec()));
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		strbuf_addf(err, "ops-db: %s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	opsdb_close(db);
	strbuf_release(&srcs);
	return ret;
}

int oauth_cred_save(const struct project *p, const struct oauth_cred *c, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	json_t *o = json_object();
	char *text = NULL;
	int ret = -1;
	store_dir(&dir, p);
	if (fs_mkdir_p(dir.buf, 0700) < 0) {
		strbuf_addf(err, "cannot create %s: %s", dir.buf, strerror(errno));
		goto out;
	}
	chmod(dir.buf, 0700);
	set_str(o, "provider", c->provider);
	set_str(o, "account", c->account);
	set_str(o, "access_token", c->access_token);
	set_str(o, "refresh_token", c->refresh_token);
	set_str(o, "token_type", c->token_type);
	set_str(o, "scope", c->scope);
	set_time(o, "expires_at", c->expires_at);
	set_time(o, "created_at", c->created_at);
	set_time(o, "last_refresh", c->last_refresh);
	set_str(o, "token_url", c->token_url);
	set_str(o, "client_id_env", c->client_id_env);
	set_str(o, "client_secret_env", c->client_secret_env);
	set_str(o, "instance_url", c->instance_url);
	json_t *srcs = json_array();
	for (size_t i = 0; i < c->sources.nr; i++)
		json_array_append_new(srcs, json_string(c->sources.v[i]));
	json_object_set_new(o, "sources", srcs);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	oauth_cred_path(&path, p, c->name);
	if (!text || fs_write_atomic_mode(path.buf, text, strlen(text), 0600) < 0) {
		strbuf_addf(err, "cannot write %s: %s", path.buf, strerror(errno));
		goto out;
	}
	chmod(path.buf, 0600); /* a file that existed keeps its bits: make sure */
	if (mirror(p, c->name, c, err) < 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "the token was saved, but its metadata for the web page was not: %s", err->buf);
		strbuf_reset(err);
		strbuf_addbuf(err, &m);
		strbuf_release(&m);
		goto out;
	}
	ret = 0;
out:
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	json_decref(o);
	strbuf_release(&dir);
	strbuf_release(&path);
	return ret;
}

int oauth_cred_remove(const struct project *p, const char *name, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret = -1;
	if (!oauth_valid_name(name)) {
		strbuf_addf(err, "'%s' is not a credential name (letters, digits, _ . -)", name);
		goto out;
	}
	oauth_cred_path(&path, p, name);
	if (unlink(path.buf) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, "cannot remove %s: %s", path.buf, strerror(errno));
			goto out;
		}
		ret = 0;
	} else {
		ret = 1;
	}
	strbuf_setlen(&path, path.len - 5);
	strbuf_addstr(&path, ".lock");
	unlink(path.buf);
	if (mirror(p, name, NULL, err) < 0)
		ret = -1;
out:
	strbuf_release(&path);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oauth_cred_names(const struct project *p, struct strvec *names, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	store_dir(&dir, p);
	DIR *d = opendir(dir.buf);
	if (!d) {
		int e = errno;
		strbuf_release(&dir);
		if (e == ENOENT)
			return 0;
		strbuf_addf(err, "cannot read %s: %s", dir.buf, strerror(e));
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 5 && !strcmp(de->d_name + n - 5, ".json")) {
			char *name = xstrndup(de->d_name, n - 5);
			if (oauth_valid_name(name))
				strvec_push(names, name);
			free(name);
		}
	}
	closedir(d);
	if (names->nr > 1)
		qsort(names->v, names->nr, sizeof(*names->v), cmp_str);
	strbuf_release(&dir);
	return 0;
}

/* ---- state ------------------------------------------------------------------- */

enum oauth_state oauth_cred_state(const struct oauth_cred *c, time_t now)
{
	if (!c->expires_at)
		return OAUTH_VALID;
	if (c->refresh_token)
		return c->expires_at - now <= OAUTH_REFRESH_MARGIN ? OAUTH_NEEDS_REFRESH : OAUTH_VALID;
	if (now >= c->expires_at)
		return OAUTH_EXPIRED;
	if (c->expires_at - now <= (time_t)OAUTH_WARN_DAYS * 86400)
		return OAUTH_EXPIRING;
	return OAUTH_VALID;
}

static void day(char *buf, time_t t)
{
	char iso[32];
	clock_format_utc(iso, t);
	memcpy(buf, iso, 10);
	buf[10] = '\0';
}

/* Rounded to the nearest unit: a token saved a moment ago for 60 days
 * "expires in 60 days", not 59. */
static void span(struct strbuf *sb, time_t secs)
{
	if (secs >= 2 * 86400 - 43200)
		strbuf_addf(sb, "%lld days", (long long)((secs + 43200) / 86400));
	else if (secs >= 2 * 3600 - 1800)
		strbuf_addf(sb, "%lld hours", (long long)((secs + 1800) / 3600));
	else if (secs >= 120)
		strbuf_addf(sb, "%lld minutes", (long long)((secs + 30) / 60));
	else
		strbuf_addf(sb, "%lld seconds", (long long)secs);
}

void oauth_describe_expiry(struct strbuf *sb, const struct oauth_cred *c, time_t now)
{
	char d[16];
	if (!c->expires_at) {
		strbuf_addstr(sb, "never expires");
		return;
	}
	day(d, c->expires_at);
	if (c->refresh_token) {
		strbuf_addstr(sb, "renews automatically (access token ");
		if (c->expires_at > now) {
			strbuf_addstr(sb, "expires in ");
			span(sb, c->expires_at - now);
		} else {
			strbuf_addstr(sb, "expired; renewed at the next use");
		}
		strbuf_addch(sb, ')');
		return;
	}
	if (now >= c->expires_at)
		strbuf_addf(sb, "expired on %s", d);
	else {
		strbuf_addstr(sb, "expires in ");
		span(sb, c->expires_at - now);
		strbuf_addf(sb, " (on %s)", d);
	}
}

void oauth_setup_hint(struct strbuf *sb, const struct oauth_cred *c)
{
	strbuf_addf(sb, "dango oauth setup %s", c->provider);
	if (strcmp(c->name, c->provider))
		strbuf_addf(sb, " --name %s", c->name);
}

/* ---- which credential, which sources ------------------------------------------- */

int oauth_credential_for(const struct project *p, const char *source, const char *configured, const char *provider,
			 struct strbuf *out, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	int ret = -1;
	strbuf_reset(out);
	if (configured && *configured) {
		strbuf_addstr(out, configured);
		return 0;
	}
	if (oauth_cred_names(p, &names, err) < 0)
		goto out;
	for (size_t i = 0; i < names.nr && !out->len; i++) {
		struct oauth_cred c;
		struct strbuf e = STRBUF_INIT;
		if (oauth_cred_load(p, names.v[i], &c, &e) == 1 && strvec_has(&c.sources, source))
			strbuf_addstr(out, names.v[i]);
		oauth_cred_release(&c);
		strbuf_release(&e);
	}
	if (!out->len && provider && strvec_has(&names, provider))
		strbuf_addstr(out, provider);
	if (!out->len) {
		strbuf_addf(err, "source '%s' uses auth_type oauth but no OAuth credential is set up for it; run: "
			    "dango oauth setup %s --source %s",
			    source, provider ? provider : "PROVIDER", source);
		goto out;
	}
	ret = 0;
out:
	strvec_clear(&names);
	return ret;
}

void oauth_sources_using(const struct project *p, const struct source_list *list, const char *name,
			 const struct oauth_cred *c, struct strvec *out)
{
	(void)p;
	for (size_t i = 0; c && i < c->sources.nr; i++)
		if (!strvec_has(out, c->sources.v[i]) && (!list || sources_find(list, c->sources.v[i])))
			strvec_push(out, c->sources.v[i]);
	for (size_t i = 0; list && i < list->nr; i++) {
		const char *n = source_get(&list->items[i], "oauth_credential");
		if (n && !strcmp(n, name) && !strvec_has(out, list->items[i].name))
			strvec_push(out, list->items[i].name);
	}
}
