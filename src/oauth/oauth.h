/* OAuth 2.0 for API sources: providers, the token store, the flows that
 * obtain a token, and the check every sync makes before its first request.
 *
 * A credential is a named token: `.dango/oauth/NAME.json` (0600, in a 0700
 * folder, written atomically) holds the tokens with what is needed to renew
 * them (the token endpoint, the names of the variables holding the client
 * id and secret); the client secret itself is never stored. Non-secret
 * metadata (provider, account, expiry, last refresh, sources) is mirrored in
 * the ops-db table oauth_credentials so that the web page can show it while
 * a sync runs. Tokens are never printed: messages name the credential.
 *
 * Expiry rules (spec 003): a token that cannot renew itself (facebook_ads'
 * long-lived token) warns within 7 days of its expiry and fails the sync of
 * the sources using it once expired; a token with a refresh token is
 * renewed before the sync when it is expired or within OAUTH_REFRESH_MARGIN
 * of its expiry. Every "now" is the shared clock (DANGO_NOW in tests).
 *
 * Ownership: const char * arguments are borrowed; char * fields of the
 * structs below belong to the struct and go with its _release. */
#ifndef DANGO_OAUTH_H
#define DANGO_OAUTH_H
#include <stdint.h>
#include <time.h>
#include "core/strbuf.h"
#include "core/strvec.h"

struct project;
struct source;
struct source_list;

#define OAUTH_WARN_DAYS 7
#define OAUTH_REFRESH_MARGIN 300 /* seconds before expiry a refreshable token is renewed */

/* ---- providers ------------------------------------------------------------- */

struct oauth_provider {
	const char *name;           /* google, facebook_ads, hubspot, salesforce, oauth2, ... */
	const char *label;
	const char *authorize_url, *token_url, *device_url, *userinfo_url;
	const char *client_id_env, *client_secret_env;
	const char *scopes;         /* space-separated */
	const char *auth_params;    /* extra query of the authorization URL */
	int long_lived_exchange;    /* Facebook: the code's token is exchanged for a ~60-day one */
	int64_t default_lifetime;   /* seconds when the answer has no expires_in (0: no expiry) */
};

/* The provider called name, or NULL. */
const struct oauth_provider *oauth_provider_find(const char *name);
/* "google, google_sheets, ..." for messages. */
void oauth_provider_names(struct strbuf *sb);

/* What one setup uses: the provider's defaults, then a source's block,
 * then the command's flags (the caller fills it in that order). */
struct oauth_settings {
	const struct oauth_provider *provider;
	char *name;                 /* the credential's name */
	char *authorize_url, *token_url, *device_url, *userinfo_url;
	char *client_id_env, *client_secret_env;
	char *scopes;
	char *source;               /* the source to link, or NULL */
	int port;                   /* loopback port; 0: a free one */
	int timeout;                /* seconds to wait for the browser or the device */
	int open_browser;           /* run xdg-open when a display exists */
};

void oauth_settings_init(struct oauth_settings *st, const struct oauth_provider *p);
void oauth_settings_release(struct oauth_settings *st);
/* Set one field (by its sources.yml key: authorize_url, token_url,
 * device_url, userinfo_url, client_id_env, client_secret_env, scopes). */
void oauth_settings_set(struct oauth_settings *st, const char *key, const char *value);

/* ---- the token store --------------------------------------------------------- */

struct oauth_cred {
	char *name, *provider;
	char *account;              /* email or id when the provider says; may be NULL */
	char *access_token, *refresh_token, *token_type, *scope;
	char *token_url, *client_id_env, *client_secret_env;
	char *instance_url;         /* Salesforce's API host; may be NULL */
	time_t expires_at;          /* 0: does not expire (or unknown) */
	time_t created_at, last_refresh; /* last_refresh 0: never refreshed */
	struct strvec sources;      /* sources linked by `dango oauth setup --source` */
};

void oauth_cred_init(struct oauth_cred *c);
void oauth_cred_release(struct oauth_cred *c);

/* Is name usable as a credential name (letters, digits, _ . -)? */
int oauth_valid_name(const char *name);
/* .dango/oauth/NAME.json into sb. */
void oauth_cred_path(struct strbuf *sb, const struct project *p, const char *name);
/* Read a credential: 1 found, 0 none by that name, -1 with err. */
int oauth_cred_load(const struct project *p, const char *name, struct oauth_cred *c, struct strbuf *err);
/* Write it atomically (0600) and mirror its metadata in the ops-db. */
int oauth_cred_save(const struct project *p, const struct oauth_cred *c, struct strbuf *err);
/* Remove the file and its metadata: 1 removed, 0 none, -1 with err. */
int oauth_cred_remove(const struct project *p, const char *name, struct strbuf *err);
/* Names of the stored credentials, sorted. */
int oauth_cred_names(const struct project *p, struct strvec *names, struct strbuf *err);

/* ---- state of a credential ------------------------------------------------------ */

enum oauth_state {
	OAUTH_VALID,        /* usable; or renews itself */
	OAUTH_EXPIRING,     /* cannot renew itself and expires within 7 days */
	OAUTH_EXPIRED,      /* cannot renew itself and has expired */
	OAUTH_NEEDS_REFRESH,/* renewable, expired or within the refresh margin */
};

enum oauth_state oauth_cred_state(const struct oauth_cred *c, time_t now);
/* "expires in 5 days", "expired on 2026-11-30", "never expires",
 * "renews automatically" ... for listings. */
void oauth_describe_expiry(struct strbuf *sb, const struct oauth_cred *c, time_t now);
/* The command that renews the credential: "dango oauth setup facebook_ads"
 * (with --name when the credential is not named like its provider). */
void oauth_setup_hint(struct strbuf *sb, const struct oauth_cred *c);

/* ---- flows ------------------------------------------------------------------- */

/* How a flow talks to the user: lines to show (the URL to open, the
 * device code); the flows never print themselves. */
struct oauth_ui {
	void (*say)(void *data, const char *line);
	void *data;
};

/* The authorization-code flow with PKCE (S256) and a loopback redirect:
 * listens on 127.0.0.1 (st->port, or a free port), tells the URL (and
 * opens it with xdg-open when st->open_browser and a display exists),
 * waits up to st->timeout seconds for the redirect, exchanges the code.
 * Fills c (name, provider, tokens, expiry, account). */
int oauth_flow_browser(const struct project *p, const struct oauth_settings *st, const struct oauth_ui *ui,
		       struct oauth_cred *c, struct strbuf *err);
/* The device-authorization flow (RFC 8628): tells the verification URL
 * and the user code, then polls the token endpoint. */
int oauth_flow_device(const struct project *p, const struct oauth_settings *st, const struct oauth_ui *ui,
		      struct oauth_cred *c, struct strbuf *err);
/* Renew c with its refresh token (c updated in memory; the caller saves).
 * A refusal carries the provider's words. */
int oauth_refresh(const struct project *p, struct oauth_cred *c, struct strbuf *err);

/* ---- before a sync ----------------------------------------------------------------- */

/* The credential a source uses: its block's oauth_credential, else the
 * stored credential that lists the source (setup --source), else one named
 * like oauth_provider. The name into out; -1 with err when there is none. */
int oauth_credential_for(const struct project *p, const char *source, const char *configured,
			 const char *provider, struct strbuf *out, struct strbuf *err);

/* The pre-sync check of spec 003, before any request of the source: loads
 * the credential, renews it first when it is renewable and expired or
 * close to expiry (saved atomically, under a lock, so that sources syncing
 * at once renew it once), fails when it expired and cannot renew itself,
 * and adds a warning line when it expires within 7 days. On 0, *token is
 * the access token (the caller's to free). */
int oauth_prepare(const struct project *p, const char *name, char **token, struct strvec *warnings,
		  struct strbuf *err);
/* An API refused the access token `refused` (HTTP 401) during a sync:
 * renew it with the refresh token, unless another process already did.
 * 1 with a new *token (the caller's), 0 when it cannot be renewed (no
 * refresh token), -1 with err when the refresh failed. */
int oauth_renew(const struct project *p, const char *name, const char *refused, char **token, struct strbuf *err);
/* The same without renewing or writing anything (dry runs): 0 usable (maybe
 * after a refresh, said in a line), -1 with err otherwise. */
int oauth_peek(const struct project *p, const char *name, struct strbuf *line, struct strbuf *err);

/* The sources of list that use the credential name (linked or naming it). */
void oauth_sources_using(const struct project *p, const struct source_list *list, const char *name,
			 const struct oauth_cred *c, struct strvec *out);

/* ---- PKCE and encodings (pkce.c) ----------------------------------------------------- */

void oauth_sha256(const void *data, size_t len, unsigned char out[32]);
/* Base64url without padding. */
void oauth_base64url(struct strbuf *sb, const unsigned char *data, size_t len);
/* A code verifier (43 characters) and its S256 challenge. */
int oauth_pkce(struct strbuf *verifier, struct strbuf *challenge);

#endif
