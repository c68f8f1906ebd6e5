/* dango oauth setup|list|check|refresh|remove: OAuth credentials for API
 * sources (the flows and the store are in src/oauth/). Exit codes: 0 done
 * (check: every credential usable, maybe with warnings), 1 failed (check:
 * an expired or missing credential), 2 usage. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/clock.h"
#include "core/opts.h"
#include "core/table.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "oauth/oauth.h"
#include "sources/rest_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cmd_info oauth_info = {
	"oauth",
	"dango oauth setup PROVIDER [--source NAME] [--device] | list | check [NAME] | refresh NAME | remove NAME",
	"OAuth credentials for API sources: obtain, list, check, renew and remove them.",
	"Providers: google (also google_sheets, google_analytics, google_ads), facebook_ads,\n"
	"hubspot, salesforce, and oauth2 (endpoints from the source's block). Tokens are kept\n"
	"in .dango/oauth/ (0600) and never printed. A source uses one with\n"
	"  auth_type: oauth\n  oauth_credential: NAME\n"
	"in its block; see docs/oauth.md.",
};

static const struct cmd_info setup_info = {
	"oauth setup",
	"dango oauth setup PROVIDER [--source NAME] [--name NAME] [--device] [--port N] [--no-browser]\n"
	"                          [--timeout SECONDS] [--authorize-url URL] [--token-url URL] [--device-url URL]\n"
	"                          [--client-id-env VAR] [--client-secret-env VAR] [--scopes \"A B\"]",
	"Authorize Dango at an OAuth provider and store the token.",
	"The browser flow (authorization code with PKCE) listens on 127.0.0.1 for the redirect\n"
	"(a free port, or --port for providers that need a registered redirect URI) and prints\n"
	"the URL to open; it is opened for you when a display exists. --device uses the device\n"
	"flow instead: a code to enter on any device with a browser.\n"
	"With --source, the source's block gives the endpoints, client id/secret variables and\n"
	"scopes (authorize_url, token_url, device_url, client_id_env, client_secret_env, scopes,\n"
	"oauth_credential), and the source is linked to the credential.",
};

static void say_line(void *data, const char *line)
{
	(void)data;
	printf("%s\n", line);
	fflush(stdout);
}

/* "scopes" of a block: a list or a string, into one space-separated string. */
static void block_scopes(json_t *v, struct strbuf *out)
{
	size_t i;
	json_t *it;
	if (json_is_string(v))
		strbuf_addstr(out, json_string_value(v));
	json_array_foreach(v, i, it) if (json_is_string(it)) strbuf_addf(out, "%s%s", out->len ? " " : "",
									 json_string_value(it));
}

/* The settings a source's block gives (--source): -1 with a message when
 * the source does not use auth_type oauth or names another provider. */
static int settings_from_source(const struct project *p, const struct source_list *list, const char *name,
				const char *provider, struct oauth_settings *st)
{
	struct strbuf err = STRBUF_INIT;
	json_t *conf = NULL;
	int ret = -1;
	struct source *s = sources_find(list, name);
	if (!s) {
		cmd_no_such_source(list, name);
		goto out;
	}
	if (!rest_api_handles(s->type_name)) {
		ui_error("source '%s' is of type '%s', which takes no OAuth credential (API sources do: rest_api and "
			 "the API presets)", name, s->type_name);
		goto out;
	}
	if (rest_api_config(s, &conf, &err) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	const char *auth = json_string_value(json_object_get(conf, "auth_type"));
	if (!auth || strcmp(auth, "oauth")) {
		ui_error("source '%s' does not use OAuth (auth_type is %s); set 'auth_type: oauth' in its block of "
			 ".dango/sources.yml first", name, auth ? auth : "not set");
		goto out;
	}
	const char *want = json_string_value(json_object_get(conf, "oauth_provider"));
	if (want && strcmp(want, provider)) {
		ui_error("source '%s' names oauth_provider '%s', not '%s'; run: dango oauth setup %s --source %s", name,
			 want, provider, want, name);
		goto out;
	}
	static const char *const keys[] = { "authorize_url", "token_url",	 "device_url",	     "userinfo_url",
					    "client_id_env", "client_secret_env", "oauth_credential", NULL };
	for (int i = 0; keys[i]; i++)
		oauth_settings_set(st, keys[i], json_string_value(json_object_get(conf, keys[i])));
	struct strbuf sc = STRBUF_INIT;
	block_scopes(json_object_get(conf, "scopes"), &sc);
	if (sc.len)
		oauth_settings_set(st, "scopes", sc.buf);
	strbuf_release(&sc);
	json_t *port = json_object_get(conf, "redirect_port");
	if (json_is_integer(port))
		st->port = (int)json_integer_value(port);
	st->source = xstrdup(name);
	ret = 0;
out:
	json_decref(conf);
	strbuf_release(&err);
	return ret;
}

/* A source with auth_type oauth that uses credential name of provider: it
 * names it, or is linked to it, or names no credential but the provider. */
static char *source_using(const struct project *p, const struct source_list *list, const char *name,
			  const char *provider)
{
	struct oauth_cred c;
	struct strbuf err = STRBUF_INIT;
	char *found = NULL;
	if (oauth_cred_load(p, name, &c, &err) == 1)
		for (size_t i = 0; i < c.sources.nr && !found; i++)
			if (sources_find(list, c.sources.v[i]))
				found = xstrdup(c.sources.v[i]);
	oauth_cred_release(&c);
	for (size_t i = 0; i < list->nr && !found; i++) {
		const struct source *s = &list->items[i];
		json_t *conf = NULL;
		strbuf_reset(&err);
		if (rest_api_handles(s->type_name) && rest_api_config(s, &conf, &err) == 0) {
			const char *auth = json_string_value(json_object_get(conf, "auth_type"));
			const char *cred = json_string_value(json_object_get(conf, "oauth_credential"));
			const char *prov = json_string_value(json_object_get(conf, "oauth_provider"));
			if (auth && !strcmp(auth, "oauth") &&
			    ((cred && !strcmp(cred, name)) || (!cred && prov && !strcmp(prov, provider) && !strcmp(name, provider))))
				found = xstrdup(s->name);
		}
		json_decref(conf);
	}
	strbuf_release(&err);
	return found;
}

static void print_expiry_note(const struct oauth_cred *c)
{
	struct strbuf sb = STRBUF_INIT, hint = STRBUF_INIT;
	oauth_describe_expiry(&sb, c, clock_now_sec());
	if (c->refresh_token) {
		ui_print("  Token: %s", sb.buf);
	} else if (c->expires_at) {
		oauth_setup_hint(&hint, c);
		ui_print("  Token: %s; it cannot renew itself: run '%s' again before then", sb.buf, hint.buf);
	} else {
		ui_print("  Token: %s", sb.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&hint);
}

static int oauth_setup(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	const char *source = NULL, *name = NULL, *auth_url = NULL, *token_url = NULL, *device_url = NULL,
		   *id_env = NULL, *secret_env = NULL, *scopes = NULL;
	int device = 0, port = -1, no_browser = 0, timeout = 300, ret = EXIT_USAGE;
	struct project p;
	struct source_list list;
	struct oauth_settings st;
	struct oauth_cred c, old;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	int have_project = 0, have_list = 0, have_st = 0;
	const struct opt options[] = {
		OPT_STRING(0, "source", &source, "NAME", "the source that uses it (its block gives the settings)"),
		OPT_STRING(0, "name", &name, "NAME", "the credential's name (default: the provider's)"),
		OPT_BOOL(0, "device", &device, "the device flow (no browser on this machine)"),
		OPT_INT(0, "port", &port, "N", "loopback port of the redirect (default: a free one)"),
		OPT_BOOL(0, "no-browser", &no_browser, "print the URL only, never run xdg-open"),
		OPT_INT(0, "timeout", &timeout, "SECONDS", "how long to wait for the authorization (default 300)"),
		OPT_STRING(0, "authorize-url", &auth_url, "URL", "the authorization endpoint"),
		OPT_STRING(0, "token-url", &token_url, "URL", "the token endpoint"),
		OPT_STRING(0, "device-url", &device_url, "URL", "the device-authorization endpoint"),
		OPT_STRING(0, "client-id-env", &id_env, "VAR", "variable holding the client id"),
		OPT_STRING(0, "client-secret-env", &secret_env, "VAR", "variable holding the client secret"),
		OPT_STRING(0, "scopes", &scopes, "\"A B\"", "scopes to ask for (space-separated)"),
		OPT_END(),
	};
	int r = opts_parse(&setup_info, options, argc, argv, &args);
	if (r) {
		ret = r == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if (args.nr != 1) {
		ui_error("dango oauth setup needs one PROVIDER (%s)", args.nr ? "only one" : "google, facebook_ads, ...");
		goto out;
	}
	const struct oauth_provider *prov = oauth_provider_find(args.v[0]);
	if (!prov) {
		struct strbuf names = STRBUF_INIT;
		oauth_provider_names(&names);
		static const char *const known[] = { "google", "google_sheets", "google_analytics", "google_ads",
						     "facebook_ads", "hubspot", "salesforce", "oauth2", NULL };
		const char *hint = did_you_mean(args.v[0], known);
		if (hint)
			ui_error("unknown OAuth provider '%s' (did you mean '%s'?)", args.v[0], hint);
		else
			ui_error("unknown OAuth provider '%s' (known: %s)", args.v[0], names.buf);
		strbuf_release(&names);
		goto out;
	}
	if ((ret = cmd_open_project(&p)))
		goto out;
	have_project = 1;
	oauth_settings_init(&st, prov);
	have_st = 1;
	ret = EXIT_FAIL;
	if (source) {
		if (cmd_load_sources(&p, &list))
			goto out;
		have_list = 1;
		if (settings_from_source(&p, &list, source, prov->name, &st) < 0)
			goto out;
	} else if (cmd_load_sources(&p, &list) == 0) {
		/* set up again (the hint of an expiry message): the settings of a
		 * source that uses the credential */
		have_list = 1;
		char *user = source_using(&p, &list, name ? name : prov->name, prov->name);
		if (user && settings_from_source(&p, &list, user, prov->name, &st) < 0) {
			free(user);
			goto out;
		}
		free(user);
	}
	oauth_settings_set(&st, "oauth_credential", name);
	oauth_settings_set(&st, "authorize_url", auth_url);
	oauth_settings_set(&st, "token_url", token_url);
	oauth_settings_set(&st, "device_url", device_url);
	oauth_settings_set(&st, "client_id_env", id_env);
	oauth_settings_set(&st, "client_secret_env", secret_env);
	oauth_settings_set(&st, "scopes", scopes);
	if (port >= 0)
		st.port = port;
	st.timeout = timeout;
	st.open_browser = !no_browser;
	if (!oauth_valid_name(st.name)) {
		ui_error("'%s' is not a credential name (letters, digits, _ . -)", st.name);
		ret = EXIT_USAGE;
		goto out;
	}
	struct oauth_ui oui = { say_line, NULL };
	if ((device ? oauth_flow_device(&p, &st, &oui, &c, &err) : oauth_flow_browser(&p, &st, &oui, &c, &err)) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	/* a credential set up again keeps the sources it served */
	if (oauth_cred_load(&p, st.name, &old, &err) == 1)
		for (size_t i = 0; i < old.sources.nr; i++)
			if (!strvec_has(&c.sources, old.sources.v[i]))
				strvec_push(&c.sources, old.sources.v[i]);
	oauth_cred_release(&old);
	strbuf_reset(&err);
	if (st.source && !strvec_has(&c.sources, st.source))
		strvec_push(&c.sources, st.source);
	if (oauth_cred_save(&p, &c, &err) < 0) {
		ui_error("%s", err.buf);
		oauth_cred_release(&c);
		goto out;
	}
	oauth_cred_path(&path, &p, c.name);
	struct strbuf rel = STRBUF_INIT;
	project_relpath(&rel, &p, path.buf);
	ui_ok("OAuth credential '%s' saved (%s, readable by you only)", c.name, rel.buf);
	strbuf_release(&rel);
	ui_print("  Provider: %s", prov->label);
	ui_print("  Account: %s", c.account ? c.account : "(the provider did not say)");
	print_expiry_note(&c);
	if (c.sources.nr) {
		struct strbuf s = STRBUF_INIT;
		for (size_t i = 0; i < c.sources.nr; i++)
			strbuf_addf(&s, "%s%s", i ? ", " : "", c.sources.v[i]);
		ui_print("  Used by: %s", s.buf);
		strbuf_release(&s);
	} else {
		ui_print("  Use it in a source's block: auth_type: oauth, oauth_credential: %s", c.name);
	}
	if (!source && st.source)
		ui_print("  (endpoints and client settings from source '%s')", st.source);
	oauth_cred_release(&c);
	ret = EXIT_OK;
out:
	if (have_st)
		oauth_settings_release(&st);
	if (have_list)
		sources_release(&list);
	if (have_project)
		project_release(&p);
	strvec_clear(&args);
	strbuf_release(&err);
	strbuf_release(&path);
	return ret;
}

/* The project and (when it loads) its sources; list->nr == 0 otherwise. */
static int open_all(struct project *p, struct source_list *list, int *have_list)
{
	int ret = cmd_open_project(p);
	if (ret)
		return ret;
	*have_list = cmd_load_sources(p, list) == 0;
	return 0;
}

static const struct cmd_info list_info = {
	"oauth list", "dango oauth list",
	"The stored OAuth credentials: provider, account, sources using them, expiry, last refresh.", NULL,
};

static int oauth_list(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT, names = STRVEC_INIT;
	struct project p;
	struct source_list list;
	struct strbuf err = STRBUF_INIT;
	int have_list = 0, ret;
	const struct opt options[] = { OPT_END() };
	if ((ret = opts_parse(&list_info, options, argc, argv, &args))) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr) {
		ui_error("dango oauth list takes no arguments");
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	if ((ret = open_all(&p, &list, &have_list)))
		goto out_args;
	ret = EXIT_FAIL;
	if (oauth_cred_names(&p, &names, &err) < 0) {
		ui_error("%s", err.buf);
		goto out;
	}
	if (!names.nr) {
		ui_print("No OAuth credentials. Set one up: dango oauth setup PROVIDER [--source NAME]");
		ret = EXIT_OK;
		goto out;
	}
	struct text_table t;
	static const char *const heads[] = { "name", "provider", "account", "sources", "expires", "last refresh" };
	text_table_init(&t, 6);
	for (size_t i = 0; i < 6; i++)
		text_table_header(&t, i, heads[i], NULL, 0);
	time_t now = clock_now_sec();
	int bad = 0;
	for (size_t i = 0; i < names.nr; i++) {
		struct oauth_cred c;
		strbuf_reset(&err);
		if (oauth_cred_load(&p, names.v[i], &c, &err) != 1) {
			ui_warn("%s", err.buf);
			bad = 1;
			continue;
		}
		struct strvec using = STRVEC_INIT;
		struct strbuf srcs = STRBUF_INIT, exp = STRBUF_INIT;
		char last[32] = "never";
		oauth_sources_using(&p, have_list ? &list : NULL, c.name, &c, &using);
		for (size_t k = 0; k < using.nr; k++)
			strbuf_addf(&srcs, "%s%s", k ? ", " : "", using.v[k]);
		oauth_describe_expiry(&exp, &c, now);
		if (c.last_refresh) {
			clock_format_utc(last, c.last_refresh);
			last[10] = ' ';
			last[16] = '\0'; /* "2026-11-30 10:00" UTC */
		}
		const char *row[] = { c.name, c.provider, c.account ? c.account : "-", srcs.len ? srcs.buf : "-", exp.buf,
				      last };
		text_table_add_row(&t, row);
		strvec_clear(&using);
		strbuf_release(&srcs);
		strbuf_release(&exp);
		oauth_cred_release(&c);
	}
	text_table_print(&t, stdout, 1000);
	text_table_release(&t);
	ret = bad ? EXIT_FAIL : EXIT_OK;
out:
	strvec_clear(&names);
	if (have_list)
		sources_release(&list);
	project_release(&p);
out_args:
	strvec_clear(&args);
	strbuf_release(&err);
	return ret;
}

static const struct cmd_info check_info = {
	"oauth check", "dango oauth check [NAME]",
	"Is each OAuth credential valid, expiring within 7 days, or expired? Exit 1 when one is expired or missing.",
	"A token that renews itself is valid even when its access token has run out: the next\n"
	"sync renews it. Without NAME, sources with auth_type oauth and no credential count too.",
};

static int check_one(const struct project *p, const char *name, time_t now)
{
	struct oauth_cred c;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT, hint = STRBUF_INIT;
	int ret = 0;
	int found = oauth_cred_load(p, name, &c, &err);
	if (found <= 0) {
		if (!found)
			ui_fail("no OAuth credential named '%s' (dango oauth list shows them)", name);
		else
			ui_fail("%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	oauth_describe_expiry(&sb, &c, now);
	oauth_setup_hint(&hint, &c);
	switch (oauth_cred_state(&c, now)) {
	case OAUTH_VALID:
	case OAUTH_NEEDS_REFRESH:
		ui_ok("%s (%s): valid, %s", c.name, c.provider, sb.buf);
		break;
	case OAUTH_EXPIRING:
		ui_warn("%s (%s): %s; renew it before then: %s", c.name, c.provider, sb.buf, hint.buf);
		break;
	case OAUTH_EXPIRED:
		ui_fail("OAuth token for %s %s; run: %s", c.name, sb.buf, hint.buf);
		ret = 1;
		break;
	}
	oauth_cred_release(&c);
	strbuf_release(&err);
	strbuf_release(&sb);
	strbuf_release(&hint);
	return ret;
}

static int oauth_check(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT, names = STRVEC_INIT;
	struct project p;
	struct source_list list;
	struct strbuf err = STRBUF_INIT;
	int have_list = 0, ret, bad = 0;
	const struct opt options[] = { OPT_END() };
	if ((ret = opts_parse(&check_info, options, argc, argv, &args))) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr > 1) {
		ui_error("dango oauth check takes at most one credential name");
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	if ((ret = open_all(&p, &list, &have_list)))
		goto out_args;
	time_t now = clock_now_sec();
	if (args.nr) {
		bad = check_one(&p, args.v[0], now);
		goto done;
	}
	if (oauth_cred_names(&p, &names, &err) < 0) {
		ui_error("%s", err.buf);
		bad = 1;
		goto done;
	}
	for (size_t i = 0; i < names.nr; i++)
		bad |= check_one(&p, names.v[i], now);
	/* sources that would fail for want of a credential */
	for (size_t i = 0; have_list && i < list.nr; i++) {
		const struct source *s = &list.items[i];
		json_t *conf = NULL;
		struct strbuf e = STRBUF_INIT, which = STRBUF_INIT;
		if (s->enabled && rest_api_handles(s->type_name) && rest_api_config(s, &conf, &e) == 0) {
			const char *auth = json_string_value(json_object_get(conf, "auth_type"));
			if (auth && !strcmp(auth, "oauth") &&
			    oauth_credential_for(&p, s->name, json_string_value(json_object_get(conf, "oauth_credential")),
						 json_string_value(json_object_get(conf, "oauth_provider")), &which, &e) == 0 &&
			    !strvec_has(&names, which.buf)) {
				strbuf_reset(&e);
				strbuf_addf(&e, "source '%s' names OAuth credential '%s', which is not set up; run: dango "
					    "oauth setup PROVIDER --name %s --source %s", s->name, which.buf, which.buf, s->name);
			}
			if (e.len) {
				ui_fail("%s", e.buf);
				bad = 1;
			}
		}
		json_decref(conf);
		strbuf_release(&e);
		strbuf_release(&which);
	}
	if (!names.nr && !bad)
		ui_print("No OAuth credentials. Set one up: dango oauth setup PROVIDER [--source NAME]");
done:
	ret = bad ? EXIT_FAIL : EXIT_OK;
	strvec_clear(&names);
	if (have_list)
		sources_release(&list);
	project_release(&p);
out_args:
	strvec_clear(&args);
	strbuf_release(&err);
	return ret;
}

static const struct cmd_info refresh_info = {
	"oauth refresh", "dango oauth refresh NAME",
	"Renew a credential's access token now with its refresh token (syncs do it when needed).", NULL,
};

static const struct cmd_info remove_info = {
	"oauth remove", "dango oauth remove NAME", "Forget a stored OAuth credential (the file and its metadata).",
	"The provider keeps the grant until you revoke it in its settings.",
};

/* One NAME argument, the project open: 0, or an exit code. */
static int name_command(const struct cmd_info *info, int argc, const char **argv, struct strvec *args,
			struct project *p)
{
	const struct opt options[] = { OPT_END() };
	int ret = opts_parse(info, options, argc, argv, args);
	if (ret)
		return ret == OPTS_HELP ? -1 : EXIT_USAGE;
	if (args->nr != 1) {
		ui_error("%s needs one credential NAME (dango oauth list shows them)", info->usage);
		return EXIT_USAGE;
	}
	return cmd_open_project(p);
}

static int oauth_refresh_cmd(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct oauth_cred c;
	int ret = name_command(&refresh_info, argc, argv, &args, &p);
	if (ret) {
		strvec_clear(&args);
		return ret < 0 ? EXIT_OK : ret;
	}
	ret = EXIT_FAIL;
	int found = oauth_cred_load(&p, args.v[0], &c, &err);
	if (found <= 0) {
		if (!found)
			ui_error("no OAuth credential named '%s' (dango oauth list shows them)", args.v[0]);
		else
			ui_error("%s", err.buf);
		goto out;
	}
	if (oauth_refresh(&p, &c, &err) < 0 || oauth_cred_save(&p, &c, &err) < 0) {
		ui_error("%s", err.buf);
		oauth_cred_release(&c);
		goto out;
	}
	oauth_describe_expiry(&sb, &c, clock_now_sec());
	ui_ok("Refreshed OAuth credential '%s': %s", c.name, sb.buf);
	oauth_cred_release(&c);
	ret = EXIT_OK;
out:
	project_release(&p);
	strvec_clear(&args);
	strbuf_release(&err);
	strbuf_release(&sb);
	return ret;
}

static int oauth_remove_cmd(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT, using = STRVEC_INIT;
	struct project p;
	struct source_list list;
	struct strbuf err = STRBUF_INIT;
	struct oauth_cred c;
	int have_list = 0;
	int ret = name_command(&remove_info, argc, argv, &args, &p);
	if (ret) {
		strvec_clear(&args);
		return ret < 0 ? EXIT_OK : ret;
	}
	have_list = cmd_load_sources(&p, &list) == 0;
	int found = oauth_cred_load(&p, args.v[0], &c, &err);
	if (found == 1)
		oauth_sources_using(&p, have_list ? &list : NULL, c.name, &c, &using);
	oauth_cred_release(&c);
	strbuf_reset(&err);
	int r = oauth_cred_remove(&p, args.v[0], &err);
	if (r < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
	} else if (r == 0) {
		ui_error("no OAuth credential named '%s' (dango oauth list shows them)", args.v[0]);
		ret = EXIT_FAIL;
	} else {
		ui_ok("Removed OAuth credential '%s'", args.v[0]);
		if (using.nr) {
			struct strbuf s = STRBUF_INIT;
			for (size_t i = 0; i < using.nr; i++)
				strbuf_addf(&s, "%s%s", i ? ", " : "", using.v[i]);
			int one = using.nr == 1;
			ui_warn("%s %s %s it: %s syncs fail until it is set up again", one ? "source" : "sources", s.buf,
				one ? "uses" : "use", one ? "its" : "their");
			strbuf_release(&s);
		}
		ret = EXIT_OK;
	}
	if (have_list)
		sources_release(&list);
	project_release(&p);
	strvec_clear(&args);
	strvec_clear(&using);
	strbuf_release(&err);
	return ret;
}

int cmd_oauth(int argc, const char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		opts_print_help(&oauth_info, NULL);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "setup"))
		return oauth_setup(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return oauth_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return oauth_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "refresh"))
		return oauth_refresh_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return oauth_remove_cmd(argc - 1, argv + 1);
	static const char *const names[] = { "setup", "list", "check", "refresh", "remove", NULL };
	const char *hint = did_you_mean(argv[1], names);
	ui_error("unknown subcommand 'oauth %s'%s%s%s", argv[1], hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
	return EXIT_USAGE;
}
