/* dango source add | list | remove | edit | test */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "warehouse/pg_query.h"
#include "warehouse/pg_warehouse.h"
#include "core/env.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "ingest/connector.h"
#include "ingest/sync.h"
#include "sources/check.h"
#include "sources/command.h"
#include "sources/db/db.h"
#include "sources/preset.h"
#include "sources/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- building a new entry -------------------------------------------------- */

struct entry_kv {
	char *key;   /* "path", or "paginator.type" for one level of nesting */
	char *value; /* YAML text */
};

struct entry {
	char *name, *type, *description;
	struct entry_kv *kv;
	size_t nr, alloc;
	struct strvec tags;
	int disabled;
};

/* A --set value is YAML: plain words stay as typed (numbers, booleans,
 * [lists]); anything that YAML would read differently is quoted. */
static void add_value(struct strbuf *sb, const char *v)
{
	int raw = *v == '[' || *v == '{';
	if (!raw && *v) {
		raw = 1;
		for (const char *p = v; *p; p++) {
			int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				 (*p >= '0' && *p <= '9') || strchr("_./-", *p) || (p > v && *p == '*');
			if (!ok || (p == v && *p == '-' && p[1] == ' '))
				raw = 0;
		}
	}
	if (raw)
		strbuf_addstr(sb, v);
	else
		yaml_add_scalar(sb, v);
}

static void entry_set(struct entry *e, const char *key, const char *value)
{
	for (size_t i = 0; i < e->nr; i++) {
		if (!strcmp(e->kv[i].key, key)) {
			free(e->kv[i].value);
			e->kv[i].value = xstrdup(value);
			return;
		}
	}
	ALLOC_GROW(e->kv, e->nr + 1, e->alloc);
	e->kv[e->nr].key = xstrdup(key);
	e->kv[e->nr++].value = xstrdup(value);
}

static void entry_release(struct entry *e)
{
	for (size_t i = 0; i < e->nr; i++) {
		free(e->kv[i].key);
		free(e->kv[i].value);
	}
	free(e->kv);
	free(e->name);
	free(e->type);
	free(e->description);
	strvec_clear(&e->tags);
}

static void entry_yaml(const struct entry *e, struct strbuf *sb)
{
	strbuf_addstr(sb, "name: ");
	yaml_add_scalar(sb, e->name);
	strbuf_addstr(sb, "\ntype: ");
	yaml_add_scalar(sb, e->type);
	strbuf_addf(sb, "\nenabled: %s\n", e->disabled ? "false" : "true");
	if (e->description) {
		strbuf_addstr(sb, "description: ");
		yaml_add_scalar(sb, e->description);
		strbuf_addch(sb, '\n');
	}
	if (e->tags.nr) {
		strbuf_addstr(sb, "tags: [");
		for (size_t i = 0; i < e->tags.nr; i++) {
			if (i)
				strbuf_addstr(sb, ", ");
			yaml_add_scalar(sb, e->tags.v[i]);
		}
		strbuf_addstr(sb, "]\n");
	}
	/* keys of the entry itself (lookback_days, deduplication) come as "^key" */
	for (size_t i = 0; i < e->nr; i++) {
		if (e->kv[i].key[0] == '^') {
			strbuf_addf(sb, "%s: ", e->kv[i].key + 1);
			add_value(sb, e->kv[i].value);
			strbuf_addch(sb, '\n');
		}
	}
	strbuf_addf(sb, "%s:\n", e->type);
	for (size_t i = 0; i < e->nr; i++) {
		const char *k = e->kv[i].key, *dot = strchr(k, '.');
		if (k[0] == '^')
			continue;
		if (!dot) {
			strbuf_addf(sb, "  %s: ", k);
			add_value(sb, e->kv[i].value);
			strbuf_addch(sb, '\n');
			continue;
		}
		/* group "a.b" keys under one "a:" at the first of them */
		int first = 1;
		for (size_t j = 0; j < i; j++)
			if (!strncmp(e->kv[j].key, k, (size_t)(dot - k) + 1))
				first = 0;
		if (!first)
			continue;
		strbuf_addf(sb, "  %.*s:\n", (int)(dot - k), k);
		for (size_t j = i; j < e->nr; j++) {
			if (strncmp(e->kv[j].key, k, (size_t)(dot - k) + 1))
				continue;
			strbuf_addf(sb, "    %s: ", e->kv[j].key + (dot - k) + 1);
			add_value(sb, e->kv[j].value);
			strbuf_addch(sb, '\n');
		}
	}
}

/* ---- the interactive wizard ---------------------------------------------- */

static char *ask(const char *q, const char *dflt)
{
	char *a = ui_prompt(q, dflt);
	if (!a) {
		ui_error("no answer (end of input); nothing was saved");
	}
	return a;
}

static const struct source_type *wizard_pick_type(void)
{
	int n = 0;
	ui_print("Select source type:");
	/* spec 001's nine categories, in its order (the catalogue: docs/sources.md) */
	const struct source_type *order[128];
	for (size_t c = 0; source_categories[c]; c++) {
		const struct source_type *in[64];
		size_t k = source_type_catalog(source_categories[c], in, ARRAY_SIZE(in));
		ui_print("  %s", source_categories[c]);
		if (!k)
			ui_print("    (none yet: see docs/sources.md)");
		for (size_t i = 0; i < k && n < (int)ARRAY_SIZE(order); i++) {
			order[n] = in[i];
			ui_print("    %d. %s (%s)", n + 1, in[i]->label, in[i]->name);
			n++;
		}
	}
	/* the project's own presets (.dango/presets/NAME.yml) */
	struct strvec user = STRVEC_INIT;
	int heading = 0;
	preset_user_names(&user);
	for (size_t i = 0; i < user.nr && n < (int)ARRAY_SIZE(order); i++) {
		const struct source_type *t = source_type_find(user.v[i]);
		if (!t)
			continue;
		if (!heading++)
			ui_print("  Your presets (.dango/presets)");
		order[n] = t;
		ui_print("    %d. %s (%s)", n + 1, t->label, t->name);
		n++;
	}
	strvec_clear(&user);
	for (;;) {
		char *a = ask("Choice", "1");
		if (!a)
			return NULL;
		int64_t k;
		const struct source_type *t = NULL;
		if (parse_int64(a, &k) == 0 && k >= 1 && k <= n)
			t = order[k - 1];
		else
			t = source_type_find(a);
		free(a);
		if (t)
			return t;
		ui_print("Please enter a number from 1 to %d, or a type name.", n);
	}
}

/* The resources of an API preset: the valid names listed, each answer
 * checked against them (with a did-you-mean), asked again until right. */
static int wizard_resources(struct entry *e, const struct source_type *t, const char *key)
{
	struct strvec names = STRVEC_INIT, parts = STRVEC_INIT;
	struct strbuf list = STRBUF_INIT;
	int ret = -1;
	preset_endpoint_names(t->name, &names);
	if (names.nr) {
		for (size_t j = 0; j < names.nr; j++)
			strbuf_addf(&list, "%s%s", j ? ", " : "", names.v[j]);
		ui_print("Resources of %s: %s", t->label, list.buf);
	}
	for (;;) {
		char *a = ask("Resources to sync (comma-separated, empty for the preset's default)", "");
		const char *bad = NULL;
		if (!a)
			goto out;
		strvec_clear(&parts);
		strvec_push_split(&parts, a);
		free(a);
		for (size_t j = 0; j < parts.nr && names.nr && !bad; j++)
			if (!strvec_has(&names, parts.v[j]))
				bad = parts.v[j];
		if (!bad)
			break;
		const char *hint = did_you_mean(bad, (const char *const *)names.v);
		ui_print("%s has no resource '%s'%s%s%s.", t->label, bad, hint ? " (did you mean '" : "", hint ? hint : "",
			 hint ? "'?)" : "");
	}
	if (parts.nr) {
		strbuf_reset(&list);
		strbuf_addch(&list, '[');
		for (size_t j = 0; j < parts.nr; j++)
			strbuf_addf(&list, "%s%s", j ? ", " : "", parts.v[j]);
		strbuf_addch(&list, ']');
		entry_set(e, key, list.buf);
	}
	ret = 0;
out:
	strvec_clear(&names);
	strvec_clear(&parts);
	strbuf_release(&list);
	return ret;
}

/* Database sources: the tables to read, as streams (full refresh; the
 * connection test that follows lists what each one holds). */
static int wizard_db_streams(struct entry *e, const char *dflt)
{
	char *a = ask("Tables to sync (comma-separated; schema.* for every table of a schema)", dflt);
	if (!a)
		return -1;
	struct strvec parts = STRVEC_INIT;
	struct strbuf yml = STRBUF_INIT;
	strvec_push_split(&parts, *a ? a : dflt);
	strbuf_addch(&yml, '{');
	for (size_t i = 0; i < parts.nr; i++) {
		strbuf_addstr(&yml, i ? ", " : "");
		yaml_add_scalar(&yml, parts.v[i]);
		strbuf_addstr(&yml, ": {}");
	}
	strbuf_addch(&yml, '}');
	entry_set(e, "streams", yml.buf);
	strbuf_release(&yml);
	strvec_clear(&parts);
	free(a);
	return 0;
}

/* A command source: the program, its format, and for a Singer tap that
 * can --discover, the streams to select. */
static int wizard_command(struct entry *e, const char *root)
{
	char *run = NULL, *fmt = NULL, *sel = NULL;
	int ret = -1, eof = 0;
	while ((run = ask("Program to run (prints Singer messages or NDJSON on stdout)", "")) && !*run) {
		ui_print("Give the program, e.g. ./extract/crm.sh --region eu");
		free(run);
	}
	if (!run)
		goto out;
	/* a plain command line becomes a list; anything the shell must read stays a string */
	if (strpbrk(run, "|&;<>()$`\\\"'*?~")) {
		entry_set(e, "run", run);
	} else {
		struct strbuf list = STRBUF_INIT;
		const char *p = run;
		strbuf_addch(&list, '[');
		while (*p) {
			size_t n = strcspn(p, " \t");
			if (n) {
				char *w = xstrndup(p, n);
				strbuf_addstr(&list, list.len > 1 ? ", " : "");
				yaml_add_scalar(&list, w);
				free(w);
			}
			p += n + strspn(p + n, " \t");
		}
		strbuf_addch(&list, ']');
		entry_set(e, "run", list.buf);
		strbuf_release(&list);
	}
	while ((fmt = ask("Output format (singer, ndjson, auto)", "auto")) && strcmp(fmt, "singer") &&
	       strcmp(fmt, "ndjson") && strcmp(fmt, "auto")) {
		ui_print("Answer singer, ndjson or auto.");
		free(fmt);
	}
	if (!fmt)
		goto out;
	if (strcmp(fmt, "auto"))
		entry_set(e, "format", fmt);
	if (strcmp(fmt, "ndjson")) {
		/* discovery needs a source to run: this entry, parsed alone */
		struct entry tmp = *e;
		struct strbuf yml = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT;
		struct source_list one = { 0 };
		struct strvec streams = STRVEC_INIT;
		struct project p = { 0 };
		tmp.name = e->name ? e->name : "new_source";
		entry_yaml(&tmp, &yml);
		strbuf_addstr(&text, "version: \"1.0\"\nsources:\n");
		for (const char *l = yml.buf; *l;) {
			size_t n = strcspn(l, "\n");
			strbuf_addf(&text, "%s%.*s\n", l == yml.buf ? "  - " : "    ", (int)n, l);
			l += n + (l[n] == '\n');
		}
		p.root = (char *)root;
		if (sources_parse(&one, ".dango/sources.yml", text.buf, text.len, &err) == 0) {
			ui_print("Asking the program for its streams (--discover)...");
			int found = command_discover(&one.items[0], &p, &streams, &err);
			if (found > 0 && streams.nr) {
				struct strbuf all = STRBUF_INIT;
				for (size_t i = 0; i < streams.nr; i++)
					strbuf_addf(&all, "%s%s", i ? ", " : "", streams.v[i]);
				ui_print("Streams: %s", all.buf);
				strbuf_release(&all);
				for (;;) {
					const char *bad = NULL;
					struct strvec parts = STRVEC_INIT;
					free(sel);
					if (!(sel = ask("Streams to sync (comma-separated, empty for all)", ""))) {
						eof = 1;
						break;
					}
					strvec_push_split(&parts, sel);
					for (size_t i = 0; i < parts.nr && !bad; i++)
						if (!strvec_has(&streams, parts.v[i]))
							bad = parts.v[i];
					if (!bad && parts.nr) {
						struct strbuf list = STRBUF_INIT;
						strbuf_addch(&list, '[');
						for (size_t i = 0; i < parts.nr; i++) {
							strbuf_addstr(&list, i ? ", " : "");
							yaml_add_scalar(&list, parts.v[i]);
						}
						strbuf_addch(&list, ']');
						entry_set(e, "select", list.buf);
						strbuf_release(&list);
					}
					if (bad)
						ui_print("The program has no stream '%s'.", bad);
					strvec_clear(&parts);
					if (!bad)
						break;
				}
			} else {
				ui_print("No discovery (%s): every stream the program writes is synced.", err.buf);
			}
		}
		sources_release(&one);
		strvec_clear(&streams);
		strbuf_release(&yml);
		strbuf_release(&text);
		strbuf_release(&err);
		if (eof)
			goto out;
	}
	ret = 0;
out:
	free(run);
	free(fmt);
	free(sel);
	return ret;
}

/* Database sources: connect with the answers so far and pick the tables
 * from the catalog (sources/db/wizard.c); without a connection, the table
 * names are asked for. */
static int wizard_db(struct entry *e, const struct source_list *list, const struct project *p, const char *dflt)
{
	struct strbuf text = STRBUF_INIT, all = STRBUF_INIT, err = STRBUF_INIT, yml = STRBUF_INIT;
	struct source_list one = { 0 };
	int r = -1;
	/* a stand-in the streams replace, for the entry to parse */
	entry_set(e, "streams", "{'*': {}}");
	entry_yaml(e, &text);
	if (sources_text_append(list, text.buf, &all, &err) == 0 &&
	    sources_parse(&one, ".dango/sources.yml", all.buf, all.len, &err) == 0)
		r = db_wizard_streams(sources_find(&one, e->name), p, &yml, &err);
	if (r == 0) {
		entry_set(e, "streams", yml.buf);
	} else if (r == -1) {
		ui_fail("%s", err.buf);
		ui_print("The tables cannot be listed; name them instead.");
		r = wizard_db_streams(e, dflt);
	}
	sources_release(&one);
	strbuf_release(&text);
	strbuf_release(&all);
	strbuf_release(&err);
	strbuf_release(&yml);
	return r < 0 ? -1 : 0;
}

static int wizard_type_questions(struct entry *e, const struct source_type *t, const struct source_list *list,
				 const struct project *p)
{
	const char *root = p->root;
	char *a = NULL, *dflt = NULL;
#define ASK(q, d, key)                                  \
	do {                                            \
		if (!(a = ask((q), (d))))               \
			goto fail;                      \
		if (*a)                                 \
			entry_set(e, (key), a);         \
		free(a);                                \
		a = NULL;                               \
	} while (0)
	if (!strcmp(t->name, "csv")) {
		dflt = xasprintf("data/%s.csv", e->name);
		ASK("CSV file (or folder of files)", dflt, "path");
		size_t last = e->nr - 1;
		struct strbuf where = STRBUF_INIT;
		if (e->nr && e->kv[last].value[0] != '/')
			fs_path_join(&where, root, e->kv[last].value);
		else if (e->nr)
			strbuf_addstr(&where, e->kv[last].value);
		int is_dir = e->nr && fs_is_dir(where.buf);
		strbuf_release(&where);
		if (is_dir) {
			/* a folder: switch to directory + pattern */
			free(e->kv[last].key);
			e->kv[last].key = xstrdup("directory");
			ASK("File pattern", "*.csv", "file_pattern");
		}
	} else if (!strcmp(t->name, "local_files")) {
		ASK("Folder", "data/uploads", "directory");
		ASK("File pattern", "*.csv", "file_pattern");
		ASK("Primary key column (empty for none)", "", "primary_key");
	} else if (!strcmp(t->name, "rest_api")) {
		ASK("Base URL", "https://api.example.com", "base_url");
		ASK("Auth type (bearer, api_key, basic, oauth2_client_credentials, custom_header, none)", "bearer",
		    "auth_type");
		ASK("Token stored in environment variable", "MY_API_TOKEN", "auth_token_env");
		if (!(a = ask("First endpoint name", "items")))
			goto fail;
		char *path = ask("Its path", "/items");
		if (!path)
			goto fail;
		struct strbuf ep = STRBUF_INIT;
		strbuf_addstr(&ep, "[{name: ");
		yaml_add_scalar(&ep, a);
		strbuf_addstr(&ep, ", path: ");
		yaml_add_scalar(&ep, path);
		strbuf_addstr(&ep, "}]");
		entry_set(e, "endpoints", ep.buf);
		strbuf_release(&ep);
		free(path);
		free(a);
		a = NULL;
	} else if (!strcmp(t->name, "command")) {
		if (wizard_command(e, root) < 0)
			goto fail;
	} else if (!strcmp(t->name, "postgres") || !strcmp(t->name, "mysql")) {
		int pg = !strcmp(t->name, "postgres");
		ASK("Host", "localhost", "host");
		ASK("Port", pg ? "5432" : "3306", "port");
		ASK("Database", pg ? "postgres" : "", "database");
		ASK("User", pg ? "postgres" : "root", "user");
		ASK("Password stored in environment variable", pg ? "PGPASSWORD" : "MYSQL_PWD", "password_env");
		if (wizard_db(e, list, p, pg ? "public.*" : "*") < 0)
			goto fail;
	} else if (!strcmp(t->name, "imap")) {
		ASK("IMAP server", "imap.example.com", "host");
		while ((a = ask("Security (tls, starttls, none)", "tls")) && strcmp(a, "tls") && strcmp(a, "starttls") &&
		       strcmp(a, "none")) {
			ui_print("Answer tls, starttls or none.");
			free(a);
		}
		if (!a)
			goto fail;
		int tls = !strcmp(a, "tls");
		if (!tls)
			entry_set(e, "security", a);
		free(a);
		a = NULL;
		ASK("Port", tls ? "993" : "143", "port");
		ASK("User name", "", "username");
		ASK("Password stored in environment variable", t->default_secret_env, "password_env");
		if (!(a = ask("Mailboxes (comma-separated)", "INBOX")))
			goto fail;
		if (*a && strcmp(a, "INBOX")) {
			struct strvec parts = STRVEC_INIT;
			struct strbuf yml = STRBUF_INIT;
			/* commas only: "Sent Items" is one mailbox */
			for (const char *q = a; *q;) {
				size_t n = strcspn(q, ",");
				char *one = xstrndup(q, n);
				struct strbuf tr = STRBUF_INIT;
				strbuf_addstr(&tr, one);
				strbuf_trim(&tr);
				if (tr.len)
					strvec_push(&parts, tr.buf);
				strbuf_release(&tr);
				free(one);
				q += n + (q[n] == ',');
			}
			strbuf_addch(&yml, '[');
			for (size_t i = 0; i < parts.nr; i++) {
				strbuf_addstr(&yml, i ? ", " : "");
				yaml_add_scalar(&yml, parts.v[i]);
			}
			strbuf_addch(&yml, ']');
			entry_set(e, "mailboxes", yml.buf);
			strbuf_release(&yml);
			strvec_clear(&parts);
		}
		free(a);
		a = NULL;
	} else if (!strcmp(t->name, "sqlite")) {
		ASK("Database file", "data/app.db", "path");
		if (wizard_db(e, list, p, "*") < 0)
			goto fail;
	} else {
		/* the API presets: a secret (or, for an OAuth preset, a stored
		 * credential instead), resources, a start date */
		int oauth = 0;
		for (size_t i = 0; t->keys[i].name && !oauth; i++)
			oauth = !strcmp(t->keys[i].name, "oauth_credential");
		if (oauth) {
			if (!(a = ask("OAuth credential from 'dango oauth setup' (empty: a token in an environment variable)",
				      "")))
				goto fail;
			oauth = *a != '\0';
			if (oauth)
				entry_set(e, "oauth_credential", a);
			free(a);
			a = NULL;
		}
		for (size_t i = 0; t->keys[i].name; i++) {
			const struct cfg_key *k = &t->keys[i];
			if (!strcmp(k->name, "oauth_credential") || (oauth && (k->flags & CFG_SECRET)))
				continue;
			if (k->flags & CFG_SECRET) {
				ASK("API Key stored in environment variable", t->default_secret_env, k->name);
			} else if (!strcmp(k->name, "repository")) {
				ASK("Repository (owner/name)", "", k->name);
			} else if (k->flags & CFG_REQUIRED) {
				/* what the preset cannot do without (a shop, a domain, a sheet) */
				struct strbuf q = STRBUF_INIT;
				strbuf_addf(&q, "%s%s%s%s", k->name, k->help ? " (" : "", k->help ? k->help : "", k->help ? ")" : "");
				a = ask(q.buf, "");
				strbuf_release(&q);
				if (!a)
					goto fail;
				if (*a)
					entry_set(e, k->name, a);
				free(a);
				a = NULL;
			} else if (!strcmp(k->name, "endpoints")) {
				if (wizard_resources(e, t, k->name) < 0)
					goto fail;
			} else if (!strcmp(k->name, "start_date")) {
				/* a real calendar day, or ask again */
				while ((a = ask("Start date (YYYY-MM-DD)", "2024-01-01")) && !is_calendar_date(a)) {
					ui_print("'%s' is not a date of the calendar (YYYY-MM-DD).", a);
					free(a);
				}
				if (!a)
					goto fail;
				entry_set(e, k->name, a);
				free(a);
				a = NULL;
			}
		}
	}
#undef ASK
	free(dflt);
	return 0;
fail:
	free(dflt);
	free(a);
	return -1;
}

/* t: the type given on the command line, or NULL: ask for it */
static int wizard(struct entry *e, const struct source_list *list, const struct project *p,
		  const struct source_type *t)
{
	if (!t && !(t = wizard_pick_type()))
		return -1;
	e->type = xstrdup(t->name);
	for (;;) {
		char *name = ask("Source name (unique identifier)", NULL);
		if (!name)
			return -1;
		if (!is_snake_case(name)) {
			ui_print("Use lowercase letters, digits and _ (e.g. stripe_payments).");
		} else if (sources_find(list, name)) {
			ui_print("A source named '%s' exists already.", name);
		} else {
			e->name = name;
			break;
		}
		free(name);
	}
	return wizard_type_questions(e, t, list, p);
}

/* ---- add --------------------------------------------------------------------- */

static const struct cmd_info add_info = {
	"source add",
	"dango source add [TYPE --name NAME [--path P | --directory D] [--set KEY=VALUE]...]",
	"Add a data source to .dango/sources.yml: with no TYPE, an interactive wizard (on a terminal).",
	"Examples:\n"
	"  dango source add                                    # the wizard\n"
	"  dango source add csv --name sales --path data/sales.csv\n"
	"  dango source add local_files --name uploads --directory data/uploads --set file_pattern='*.csv'\n"
	"  dango source add stripe --name stripe_payments --set stripe_secret_key_env=STRIPE_API_KEY\n"
	"--set takes any key of the type's block; 'a.b=v' sets a nested key; values are YAML.",
};

/* `dango source add TYPE --help`: the keys of TYPE's block. */
static void print_type_keys(const struct source_type *t, const struct cfg_key *keys, int depth)
{
	static const char *const kinds[] = { "text", "integer", "number", "true/false", "one or a list", "mapping",
					     "list of mappings", "mapping", "any" };
	if (!depth) {
		printf("%s (type: %s), in the category %s.\n", t->label, t->name, t->category);
		printf("Keys of its block in .dango/sources.yml (docs/sources.md#%s):\n", t->name);
	}
	for (size_t i = 0; keys[i].name; i++) {
		const struct cfg_key *k = &keys[i];
		struct strbuf line = STRBUF_INIT;
		strbuf_addf(&line, "%*s%s", 2 + depth * 2, "", k->name);
		strbuf_addf(&line, " (%s%s%s)", kinds[k->kind], k->flags & CFG_REQUIRED ? ", required" : "",
			    k->flags & CFG_SECRET ? ", names an environment variable" : "");
		if (k->choices) {
			strbuf_addstr(&line, " one of:");
			for (size_t c = 0; k->choices[c]; c++)
				strbuf_addf(&line, " %s", k->choices[c]);
		}
		if (k->help)
			strbuf_addf(&line, ": %s", k->help);
		printf("%s\n", line.buf);
		strbuf_release(&line);
		if (k->children && depth < 2)
			print_type_keys(t, k->children, depth + 1);
	}
	struct strvec names = STRVEC_INIT;
	if (!depth && preset_endpoint_names(t->name, &names) == 0 && names.nr) {
		printf("Resources (endpoints):");
		for (size_t i = 0; i < names.nr; i++)
			printf("%s %s", i ? "," : "", names.v[i]);
		printf("\n");
	}
	strvec_clear(&names);
	if (!depth && !strcmp(t->name, "command"))
		printf("Example:\n  dango source add command --name crm --set 'run=[./extract/crm.sh, --region, eu]' "
		       "--set format=singer\nSee docs/command-sources.md.\n");
}

static int source_add(int argc, const char **argv)
{
	/* TYPE --help: that type's keys rather than the command's options */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") && strcmp(argv[i], "-h"))
			continue;
		for (int j = 0; j < argc; j++) {
			const struct source_type *t = argv[j][0] != '-' && (!j || strcmp(argv[j - 1], "--set"))
							      ? source_type_find(argv[j]) : NULL;
			if (t) {
				print_type_keys(t, t->keys, 0);
				printf("\nAdd one: dango source add %s --name NAME --set KEY=VALUE ...\n", t->name);
				return EXIT_OK;
			}
		}
	}
	struct project p;
	struct source_list list;
	struct entry e = { 0 };
	struct strvec args = STRVEC_INIT;
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT, report = STRBUF_INIT;
	const char *name = NULL, *path = NULL, *dir = NULL, *desc = NULL, *dedup = NULL;
	int disabled = 0, no_test = 0, lookback = -1, ret, interactive = 0;
	struct strvec sets_raw = STRVEC_INIT;
	const struct opt opts[] = {
		OPT_STRING(0, "name", &name, "NAME", "unique source name (lowercase snake_case)"),
		OPT_STRING(0, "path", &path, "FILE", "file to load (csv, local_files)"),
		OPT_STRING(0, "directory", &dir, "DIR", "folder of files to load (csv, local_files)"),
		OPT_STRING(0, "description", &desc, "TEXT", "what the source is"),
		OPT_LIST(0, "tag", &e.tags, "TAG", "a tag (repeatable)"),
		OPT_INT(0, "lookback-days", &lookback, "N", "re-read this many days on each sync"),
		OPT_STRING(0, "deduplication", &dedup, "STRATEGY", "latest_only, scd_type2 or none"),
		OPT_BOOL(0, "disabled", &disabled, "add it disabled"),
		OPT_BOOL(0, "no-test", &no_test, "skip the connection test"),
		{ OPT_T_STRING, 0, "set", NULL, "KEY=VALUE", "any key of the type's block (repeatable)" },
		OPT_END(),
	};
	/* --set repeats and may hold commas: collect it by hand */
	const char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--set") && i + 1 < argc) {
			strvec_push(&sets_raw, argv[++i]);
		} else if (!strncmp(argv[i], "--set=", 6)) {
			strvec_push(&sets_raw, argv[i] + 6);
		} else {
			rest[nrest++] = argv[i];
		}
	}
	ret = opts_parse(&add_info, opts, nrest, rest, &args);
	free(rest);
	if (ret) {
		ret = ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
		goto out_noproject;
	}
	if ((ret = cmd_open_project(&p)))
		goto out_noproject;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;

	if (!args.nr) {
		if (!ui.stdin_tty) {
			ui_error("no terminal for the wizard: give the type and settings, e.g.\n"
				 "  dango source add csv --name sales --path data/sales.csv");
			ret = EXIT_USAGE;
			goto out;
		}
		interactive = 1;
		if (wizard(&e, &list, &p, NULL) < 0) {
			ret = EXIT_FAIL;
			goto out;
		}
	} else {
		if (args.nr > 1) {
			ui_error("too many arguments; usage: %s", add_info.usage);
			ret = EXIT_USAGE;
			goto out;
		}
		const struct source_type *t = source_type_find(args.v[0]);
		if (!t) {
			const char *hint = did_you_mean(args.v[0], source_type_names());
			ui_error("unknown source type '%s'%s%s%s", args.v[0], hint ? " (did you mean '" : "",
				 hint ? hint : "", hint ? "'?)" : "");
			ret = EXIT_USAGE;
			goto out;
		}
		if (!name && ui.stdin_tty && db_source_handles(t->name)) {
			/* `dango source add postgres`: the wizard, that type's questions */
			interactive = 1;
			if (wizard(&e, &list, &p, t) < 0) {
				ret = EXIT_FAIL;
				goto out;
			}
		} else if (!name) {
			ui_error("--name is required with a type");
			ret = EXIT_USAGE;
			goto out;
		} else {
			e.type = xstrdup(t->name);
			e.name = xstrdup(name);
		}
		if (path)
			entry_set(&e, "path", path);
		if (dir)
			entry_set(&e, "directory", dir);
	}
	if (desc)
		e.description = xstrdup(desc);
	if (lookback >= 0) {
		char n[24];
		snprintf(n, sizeof(n), "%d", lookback);
		entry_set(&e, "^lookback_days", n);
	}
	if (dedup)
		entry_set(&e, "^deduplication", dedup);
	e.disabled = disabled;
	for (size_t i = 0; i < sets_raw.nr; i++) {
		char *eq = strchr(sets_raw.v[i], '=');
		if (!eq || eq == sets_raw.v[i]) {
			ui_error("--set expects KEY=VALUE, not '%s'", sets_raw.v[i]);
			ret = EXIT_USAGE;
			goto out;
		}
		*eq = '\0';
		entry_set(&e, sets_raw.v[i], eq + 1);
	}
	if (sources_find(&list, e.name)) {
		ui_error("a source named '%s' already exists in .dango/sources.yml", e.name);
		ret = EXIT_FAIL;
		goto out;
	}
	entry_yaml(&e, &text);
	if (sources_text_append(&list, text.buf, &out, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}

	/* check the result as a whole before touching the file */
	struct source_list check = { 0 };
	if (sources_parse(&check, ".dango/sources.yml", out.buf, out.len, &err) < 0) {
		ui_error("the new source is not valid:\n%s", err.buf);
		sources_release(&check);
		ret = EXIT_FAIL;
		goto out;
	}
	int test_failed = 0;
	if (!no_test) {
		ui_print("Testing connection...");
		test_failed = source_check(sources_find(&check, e.name), &p, 1, &report) < 0;
		if (ui.level >= UI_NORMAL)
			fputs(report.buf, stdout);
		if (!source_check_tests_connection(e.type))
			ui_print("? the connection was not tested: Dango cannot test sources of type '%s' yet", e.type);
		if (!connector_for(e.type))
			ui_warn("'dango sync' cannot sync sources of type '%s' yet", e.type);
	}
	sources_release(&check);
	/* A source added by a script that fails its test is not added
	 * (nothing is saved): the script must not read success. The wizard's
	 * answers are kept, with a warning instead of the ✓ (the user sees
	 * the test's findings just above). */
	if (test_failed && !interactive) {
		ui_fail("Source '%s' not added: the connection test failed (see above)", e.name);
		ui_print("Fix it (create the file, set the variable), or pass --no-test to add it untested.");
		ret = EXIT_FAIL;
		goto out;
	}
	if (sources_save(p.sources_path, ".dango/sources.yml", out.buf, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	if (test_failed)
		ui_warn("source '%s' added to .dango/sources.yml, but its connection test failed "
			"(fix it, then run 'dango source test %s')", e.name, e.name);
	else
		ui_ok("Source added to .dango/sources.yml");
	ui_print("Tip: run 'dango sync %s' to load data, then 'dango generate' to create staging models.",
		 e.name);
	ret = EXIT_OK;
out:
	sources_release(&list);
out_project:
	project_release(&p);
out_noproject:
	entry_release(&e);
	strvec_clear(&args);
	strvec_clear(&sets_raw);
	strbuf_release(&text);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&report);
	return ret;
}

/* ---- list -------------------------------------------------------------------- */

static const struct cmd_info list_info = {
	"source list", "dango source list [--enabled-only] [--verbose]",
	"List configured sources: status, type, last sync, tables and row counts.", NULL,
};

static void print_secret(const char *key, const char *var, const char *value, void *data)
{
	struct strbuf m = STRBUF_INIT;
	if (value)
		env_mask(&m, value);
	printf("    %s: %s (%s)\n", key, var, value ? m.buf : "not set");
	strbuf_release(&m);
}

static void print_block(const struct ynode *n, int depth)
{
	if (!n)
		return;
	for (size_t i = 0; n->kind == Y_MAP && i < n->n; i++) {
		const struct ypair *pr = &n->pairs[i];
		if (ends_with(pr->key->str, "_env"))
			continue; /* shown with their masked values */
		if (pr->value->kind == Y_SCALAR) {
			printf("%*s%s: %s\n", depth * 2 + 4, "", pr->key->str, pr->value->str);
		} else if (pr->value->kind == Y_SEQ && pr->value->n && pr->value->items[0]->kind == Y_SCALAR) {
			printf("%*s%s: ", depth * 2 + 4, "", pr->key->str);
			for (size_t j = 0; j < pr->value->n; j++)
				printf("%s%s", j ? ", " : "", pr->value->items[j]->str);
			printf("\n");
		} else {
			printf("%*s%s: (%s)\n", depth * 2 + 4, "", pr->key->str, ynode_kind_name(pr->value));
		}
	}
}

/* Every relation's schema and name, read once: listing information_schema
 * for each source read every relation each time (quadratic in sources). */
static int list_relations(struct warehouse *wh, struct wh_result *all)
{
	struct strbuf err = STRBUF_INIT;
	int r = warehouse_query(wh, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2", all,
				&err);
	strbuf_release(&err);
	return r;
}

/* Tables of raw_<name> (from all, list_relations') with row counts, and
 * the last successful load. */
static void print_warehouse_info(struct warehouse *wh, struct wh_result *all, const struct source *s)
{
	struct strbuf sql = STRBUF_INIT, err = STRBUF_INIT, schema = STRBUF_INIT;
	struct strvec tables = STRVEC_INIT;
	strbuf_addf(&schema, "raw_%s", s->name);
	for (size_t i = 0; i < all->rows; i++) {
		char *sc = wh_result_str(all, i, 0);
		if (sc && !strcmp(sc, schema.buf)) {
			char *t = wh_result_str(all, i, 1);
			if (t)
				strvec_push(&tables, t);
			free(t);
		}
		free(sc);
	}
	if (strvec_has(&tables, "_dlt_loads")) {
		struct wh_result last;
		/* to the second, in both warehouses' SQL (no strftime in PostgreSQL) */
		strbuf_addstr(&sql, "SELECT max(inserted_at) FROM ");
		strbuf_add_sql_ident(&sql, schema.buf);
		strbuf_addstr(&sql, "._dlt_loads WHERE status = 0");
		if (warehouse_query(wh, sql.buf, &last, &err) == 0) {
			char *v = last.rows ? wh_result_str(&last, 0, 0) : NULL;
			if (v && strlen(v) > 19)
				v[19] = '\0';
			printf("  Last synced: %s\n", v ? v : "never");
			free(v);
			wh_result_free(&last);
		}
	} else {
		printf("  Last synced: never\n");
	}
	size_t shown = 0;
	for (size_t i = 0; i < tables.nr; i++) {
		const char *t = tables.v[i];
		char cnt[32];
		/* bookkeeping and full-refresh backups are not the source's tables */
		if (!sync_is_meta_name(t)) {
			int64_t rows = warehouse_count_rows(wh, schema.buf, t);
			printf("%s%s (%s %s)", shown++ ? ", " : "  Tables: ", t, fmt_count(cnt, rows),
			       plural(rows, "row", "rows"));
		}
	}
	if (shown)
		printf("\n");
	strvec_clear(&tables);
	strbuf_release(&sql);
	strbuf_release(&err);
	strbuf_release(&schema);
}

static int source_list(int argc, const char **argv)
{
	struct project p;
	struct source_list list;
	struct strvec args = STRVEC_INIT;
	struct warehouse wh = { 0 };
	int enabled_only = 0, verbose = 0, ret, have_wh = 0;
	const struct opt opts[] = {
		OPT_BOOL(0, "enabled-only", &enabled_only, "only enabled sources"),
		OPT_BOOL('v', "verbose", &verbose, "show each source's settings (secrets masked)"),
		OPT_END(),
	};
	ret = opts_parse(&list_info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	verbose |= global.verbose;
	if ((ret = cmd_open_project(&p)))
		return ret;
	if ((ret = cmd_load_sources(&p, &list))) {
		project_release(&p);
		return ret;
	}
	if (!list.nr) {
		printf("No sources configured. Add one with 'dango source add'.\n");
		goto out;
	}
	if (pg_warehouse_enabled(&p)) {
		/* PostgreSQL serves readers while a sync writes: no waiting, no lock */
		struct strbuf err = STRBUF_INIT;
		if (pg_query_open(&wh, &p, WH_READ_ONLY, p.pg.statement_timeout, &err) == 0)
			have_wh = 1;
		else
			printf("(the warehouse cannot be reached, sync details are not shown: %s)\n", err.buf);
		strbuf_release(&err);
	} else if (fs_exists(p.warehouse_path)) {
		struct strbuf err = STRBUF_INIT;
		int r = warehouse_open(&wh, p.warehouse_path, WH_READ_ONLY, &err);
		if (r == 0)
			have_wh = 1;
		else if (r == WH_LOCKED)
			printf("(the warehouse is being written right now: sync details are not shown)\n");
		strbuf_release(&err);
	}
	struct wh_result all = { 0 };
	if (have_wh && list_relations(&wh, &all) < 0) {
		printf("(the warehouse's tables cannot be listed: sync details are not shown)\n");
		warehouse_close(&wh);
		have_wh = 0;
	}
	printf("Configured Sources:\n");
	for (size_t i = 0; i < list.nr; i++) {
		const struct source *s = &list.items[i];
		if (enabled_only && !s->enabled)
			continue;
		printf("%s%s%s %s (%s) - %s\n", ui_color(s->enabled ? "green" : "dim"), s->enabled ? "●" : "○",
		       ui_reset(), s->name, s->type_name, s->enabled ? "Enabled" : "Disabled");
		if (s->description)
			printf("  %s\n", s->description);
		const char *file = source_get(s, "path");
		const char *dir = source_get(s, "directory");
		if (file)
			printf("  File: %s\n", file);
		else if (dir)
			printf("  Folder: %s (%s)\n", dir, source_get(s, "file_pattern") ? source_get(s, "file_pattern") : "*");
		if (have_wh)
			print_warehouse_info(&wh, &all, s);
		if (verbose) {
			printf("  Settings:\n");
			print_block(s->block, 0);
			source_each_secret(s, &p.env, print_secret, NULL);
		}
	}
	if (have_wh)
		wh_result_free(&all);
out:
	if (have_wh)
		warehouse_close(&wh);
	sources_release(&list);
	project_release(&p);
	return EXIT_OK;
}

/* ---- remove ------------------------------------------------------------------ */

static const struct cmd_info remove_info = {
	"source remove", "dango source remove NAME [-y]",
	"Remove a source from .dango/sources.yml, and (asking first, or with -y) the staging\n"
	"files dango generate made for it and nobody edited since; edited ones are kept, with\n"
	"a note. Its loaded data stays in the warehouse; 'dango db clean' removes orphaned tables.", NULL,
};

static int source_remove(int argc, const char **argv)
{
	struct project p;
	struct source_list list;
	struct strvec args = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, q = STRBUF_INIT;
	int yes = 0, ret;
	const struct opt opts[] = { OPT_BOOL('y', "yes", &yes, "skip the confirmation"), OPT_END() };
	ret = opts_parse(&remove_info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr != 1) {
		ui_error("name one source to remove; usage: %s", remove_info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	if ((ret = cmd_open_project(&p))) {
		strvec_clear(&args);
		return ret;
	}
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	const char *name = args.v[0];
	if (!sources_find(&list, name)) {
		cmd_no_such_source(&list, name);
		ret = EXIT_FAIL;
		goto out;
	}
	strbuf_addf(&q, "Remove source '%s' from .dango/sources.yml?", name);
	if (!cmd_confirm(q.buf, yes)) {
		ui_print("Nothing changed.");
		ret = EXIT_FAIL;
		goto out;
	}
	if (sources_text_remove(&list, name, &out, &err) < 0 ||
	    sources_save(p.sources_path, ".dango/sources.yml", out.buf, &err) < 0) {
		ui_error("cannot remove '%s': %s", name, err.buf);
		ret = EXIT_FAIL;
		goto out;
	}
	ui_ok("Removed '%s' from .dango/sources.yml", name);
	ret = cmd_remove_generated(&p, name, yes);
	ui_print("Its data stays in the warehouse (schema raw_%s); 'dango db clean' removes it.", name);
out:
	sources_release(&list);
out_project:
	project_release(&p);
	strvec_clear(&args);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&q);
	return ret;
}

/* ---- edit -------------------------------------------------------------------- */

static const struct cmd_info edit_info = {
	"source edit", "dango source edit [NAME]",
	"Open .dango/sources.yml in $EDITOR (at NAME's entry), then check it.", NULL,
};

static int run_editor(const char *file, int line)
{
	const char *editor = getenv("VISUAL");
	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	struct strbuf cmd = STRBUF_INIT;
	/* most editors take +LINE; run through the shell so EDITOR may hold flags */
	if (line > 0)
		strbuf_addf(&cmd, "%s +%d '%s'", editor, line, file);
	else
		strbuf_addf(&cmd, "%s '%s'", editor, file);
	fflush(stdout);
	int st = system(cmd.buf);
	strbuf_release(&cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int source_edit(int argc, const char **argv)
{
	struct project p;
	struct strvec args = STRVEC_INIT;
	int ret;
	const struct opt opts[] = { OPT_END() };
	ret = opts_parse(&edit_info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if ((ret = cmd_open_project(&p))) {
		strvec_clear(&args);
		return ret;
	}
	for (;;) {
		struct source_list list;
		struct strbuf err = STRBUF_INIT;
		int line = 0;
		/* find the entry's line, even if the file has problems elsewhere */
		if (args.nr) {
			struct strbuf text = STRBUF_INIT;
			struct ydoc doc;
			strbuf_read_file(&text, p.sources_path);
			if (ydoc_parse(&doc, "sources.yml", text.buf, text.len, &err) == 0) {
				const struct ynode *srcs = ymap_get(doc.root, "sources");
				for (size_t i = 0; srcs && srcs->kind == Y_SEQ && i < srcs->n; i++) {
					const struct ynode *n = ymap_get(srcs->items[i], "name");
					if (n && n->kind == Y_SCALAR && !strcmp(n->str, args.v[0]))
						line = srcs->items[i]->line;
				}
				ydoc_release(&doc);
			}
			strbuf_release(&text);
			strbuf_reset(&err);
			if (!line)
				ui_warn("no source named '%s'; opening the whole file", args.v[0]);
		}
		int st = run_editor(p.sources_path, line);
		if (st != 0) {
			ui_error("the editor exited with status %d", st);
			ret = EXIT_FAIL;
			break;
		}
		int bad = sources_load(&list, p.sources_path, ".dango/sources.yml", &err) < 0;
		sources_release(&list);
		if (!bad) {
			ui_ok(".dango/sources.yml is valid");
			strbuf_release(&err);
			ret = EXIT_OK;
			break;
		}
		ui_error("invalid configuration:\n%s", err.buf);
		strbuf_release(&err);
		if (ui_confirm("Edit again?", 1) != 1) {
			ret = EXIT_FAIL;
			break;
		}
	}
	project_release(&p);
	strvec_clear(&args);
	return ret;
}

/* ---- test -------------------------------------------------------------------- */

static const struct cmd_info test_info = {
	"source test", "dango source test NAME",
	"Test a source's connection: files exist and are readable, a command's program exists\n"
	"and is executable, credentials are set, and API sources answer. A type that cannot be\n"
	"tested or synced yet is said so, and is never 'ready' (exit 1).", NULL,
};

static int source_test(int argc, const char **argv)
{
	struct project p;
	struct source_list list;
	struct strvec args = STRVEC_INIT;
	struct strbuf report = STRBUF_INIT;
	int ret;
	const struct opt opts[] = { OPT_END() };
	ret = opts_parse(&test_info, opts, argc, argv, &args);
	if (ret) {
		strvec_clear(&args);
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	if (args.nr != 1) {
		ui_error("name one source to test; usage: %s", test_info.usage);
		strvec_clear(&args);
		return EXIT_USAGE;
	}
	if ((ret = cmd_open_project(&p))) {
		strvec_clear(&args);
		return ret;
	}
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	const struct source *s = sources_find(&list, args.v[0]);
	if (!s) {
		cmd_no_such_source(&list, args.v[0]);
		ret = EXIT_FAIL;
		goto out;
	}
	ui_print("Testing connection for '%s' (%s)...", s->name, s->type_name);
	int ok = source_check(s, &p, 1, &report) == 0;
	fputs(report.buf, stdout);
	/* "ready" only for what was tested for real and can be synced */
	int untested = !source_check_tests_connection(s->type_name), unsyncable = !connector_for(s->type_name);
	if (untested)
		printf("? the connection was not tested: Dango cannot test sources of type '%s' yet\n", s->type_name);
	if (unsyncable)
		printf("✗ 'dango sync' cannot sync sources of type '%s' yet\n", s->type_name);
	if (ok && !untested && !unsyncable) {
		ui_ok("Source '%s' is ready to sync", s->name);
		ret = EXIT_OK;
	} else if (ok && untested) {
		ui_warn("source '%s' could not be tested", s->name);
		ret = EXIT_FAIL;
	} else {
		ui_fail("Source '%s' is not ready", s->name);
		ret = EXIT_FAIL;
	}
out:
	sources_release(&list);
out_project:
	project_release(&p);
	strvec_clear(&args);
	strbuf_release(&report);
	return ret;
}

/* ---- dispatch ---------------------------------------------------------------- */

static const struct cmd_info source_info = {
	"source", "dango source <add|list|remove|edit|test> [options]",
	"Manage data sources in .dango/sources.yml.",
	"Subcommands:\n"
	"  add      add a source (wizard on a terminal, or TYPE --name NAME ...)\n"
	"  list     list sources with status, last sync, tables and rows\n"
	"  remove   remove a source (its data stays until 'dango db clean')\n"
	"  edit     open sources.yml in $EDITOR and check it\n"
	"  test     test a source's connection",
};

int cmd_source(int argc, const char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, const char **);
	} subs[] = {
		{ "add", source_add }, { "list", source_list }, { "remove", source_remove },
		{ "edit", source_edit }, { "test", source_test },
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		opts_print_help(&source_info, NULL);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *names[ARRAY_SIZE(subs) + 1] = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		names[i] = subs[i].name;
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	}
	const char *hint = did_you_mean(argv[1], names);
	ui_error("unknown subcommand 'source %s'%s%s%s", argv[1], hint ? " (did you mean '" : "", hint ? hint : "",
		 hint ? "'?)" : "");
	return EXIT_USAGE;
}
