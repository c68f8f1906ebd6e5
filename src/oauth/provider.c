/* The OAuth providers Dango knows, and the settings of one setup. Every
 * endpoint here can be overridden (in the source's block or by a flag of
 * `dango oauth setup`), which is also how the tests point them at a local
 * imitation; `oauth2` has no defaults at all. */
#include "oauth/oauth.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define GOOGLE_ENDPOINTS                                                                            \
	"https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",        \
		"https://oauth2.googleapis.com/device/code", "https://openidconnect.googleapis.com/v1/userinfo", \
		"GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"
/* offline access and a consent prompt, so that Google gives a refresh token */
#define GOOGLE_PARAMS "access_type=offline&prompt=consent"

static const struct oauth_provider providers[] = {
	{ "google", "Google", GOOGLE_ENDPOINTS,
	  "openid email https://www.googleapis.com/auth/spreadsheets.readonly "
	  "https://www.googleapis.com/auth/analytics.readonly https://www.googleapis.com/auth/adwords",
	  GOOGLE_PARAMS, 0, 3600 },
	{ "google_sheets", "Google Sheets", GOOGLE_ENDPOINTS,
	  "openid email https://www.googleapis.com/auth/spreadsheets.readonly", GOOGLE_PARAMS, 0, 3600 },
	{ "google_analytics", "Google Analytics", GOOGLE_ENDPOINTS,
	  "openid email https://www.googleapis.com/auth/analytics.readonly", GOOGLE_PARAMS, 0, 3600 },
	{ "google_ads", "Google Ads", GOOGLE_ENDPOINTS, "openid email https://www.googleapis.com/auth/adwords",
	  GOOGLE_PARAMS, 0, 3600 },
	/* a long-lived user token lasts about 60 days and cannot be refreshed */
	{ "facebook_ads", "Facebook Ads", "https://www.facebook.com/v19.0/dialog/oauth",
	  "https://graph.facebook.com/v19.0/oauth/access_token", NULL, "https://graph.facebook.com/v19.0/me?fields=id,name",
	  "FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET", "ads_read", NULL, 1, 60 * 86400 },
	{ "hubspot", "HubSpot", "https://app.hubspot.com/oauth/authorize", "https://api.hubapi.com/oauth/v1/token", NULL,
	  NULL, "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET",
	  "oauth crm.objects.contacts.read crm.objects.companies.read crm.objects.deals.read", NULL, 0, 1800 },
	/* Salesforce gives no expires_in: its session timeout (2 hours by default) */
	{ "salesforce", "Salesforce", "https://login.salesforce.com/services/oauth2/authorize",
	  "https://login.salesforce.com/services/oauth2/token", NULL, NULL, "SALESFORCE_CLIENT_ID",
	  "SALESFORCE_CLIENT_SECRET", "api refresh_token", NULL, 0, 7200 },
	{ "oauth2", "OAuth 2.0", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
};

const struct oauth_provider *oauth_provider_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(providers); i++)
		if (!strcmp(providers[i].name, name))
			return &providers[i];
	return NULL;
}

void oauth_provider_names(struct strbuf *sb)
{
	for (size_t i = 0; i < ARRAY_SIZE(providers); i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", providers[i].name);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void oauth_settings_init(struct oauth_settings *st, const struct oauth_provider *p)
{
	memset(st, 0, sizeof(*st));
	st->provider = p;
	st->name = xstrdup(p->name);
	st->authorize_url = dup_or_null(p->authorize_url);
	st->token_url = dup_or_null(p->token_url);
	st->device_url = dup_or_null(p->device_url);
	st->userinfo_url = dup_or_null(p->userinfo_url);
	st->client_id_env = dup_or_null(p->client_id_env);
	st->client_secret_env = dup_or_null(p->client_secret_env);
	st->scopes = dup_or_null(p->scopes);
	st->timeout = 300;
	st->open_browser = 1;
}

void oauth_settings_release(struct oauth_settings *st)
{
	free(st->name);
	free(st->authorize_url);
	free(st->token_url);
	free(st->device_url);
	free(st->userinfo_url);
	free(st->client_id_env);
	free(st->client_secret_env);
	free(st->scopes);
	free(st->source);
	memset(st, 0, sizeof(*st));
}

void oauth_settings_set(struct oauth_settings *st, const char *key, const char *value)
{
	char **field = !strcmp(key, "authorize_url")       ? &st->authorize_url
		       : !strcmp(key, "token_url")         ? &st->token_url
		       : !strcmp(key, "device_url")        ? &st->device_url
		       : !strcmp(key, "userinfo_url")      ? &st->userinfo_url
		       : !strcmp(key, "client_id_env")     ? &st->client_id_env
		       : !strcmp(key, "client_secret_env") ? &st->client_secret_env
		       : !strcmp(key, "scopes")            ? &st->scopes
		       : !strcmp(key, "oauth_credential")  ? &st->name
							   : NULL;
	/* an empty value (a preset's placeholder left blank) keeps the default */
	if (!field || !value || !*value)
		return;
	free(*field);
	*field = xstrdup(value);
}
