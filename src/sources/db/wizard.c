/* The database part of `dango source add`'s wizard: with the connection
 * answered, connect, list the tables of every user schema (with the
 * primary keys the catalog declares and a proposed update key: a timestamp
 * named like updated_at), ask which to sync, then each table's mode and
 * keys. Every answer is checked against the catalog and asked again until
 * it names a real table or column; the result is the `streams:` mapping. */
#include "sources/db/db.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <stdlib.h>
#include <string.h>

/* NULL at the end of input (the caller saves nothing). */
static char *ask(const char *q, const char *dflt)
{
	char *a = ui_prompt(q, dflt);
	if (!a)
		ui_error("no answer (end of input); nothing was saved");
	return a;
}

static void join(struct strbuf *sb, const struct strvec *v, const char *sep)
{
	for (size_t i = 0; i < v->nr; i++)
		strbuf_addf(sb, "%s%s", i ? sep : "", v->v[i]);
}

static const struct db_table_info *find_table(const struct db_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->nr; i++)
		if (!strcmp(cat->v[i].name, name))
			return &cat->v[i];
	/* "orders" for "public.orders" when only one schema has it */
	const struct db_table_info *found = NULL;
	for (size_t i = 0; i < cat->nr; i++) {
		const char *dot = strchr(cat->v[i].name, '.');
		if (dot && !strcmp(dot + 1, name)) {
			if (found)
				return NULL;
			found = &cat->v[i];
		}
	}
	return found;
}

static void list_tables(const struct db_catalog *cat)
{
	ui_print("Tables in %s:", cat->where);
	for (size_t i = 0; i < cat->nr; i++) {
		const struct db_table_info *t = &cat->v[i];
		struct strbuf sb = STRBUF_INIT;
		if (t->primary_key.nr) {
			strbuf_addstr(&sb, "primary key ");
			join(&sb, &t->primary_key, ", ");
		}
		if (t->update_key)
			strbuf_addf(&sb, "%supdate key %s", sb.len ? "; " : "", t->update_key);
		ui_print("  %zu. %s%s%s%s", i + 1, t->name, sb.len ? " (" : "", sb.buf, sb.len ? ")" : "");
		strbuf_release(&sb);
	}
}

/* Which tables: numbers, names, schema.* or "all"; NULL at end of input. */
static int pick_tables(const struct db_catalog *cat, struct strvec *picked)
{
	for (;;) {
		struct strvec parts = STRVEC_INIT;
		const char *bad = NULL;
		char *a = ask("Tables to sync (numbers or names, comma-separated; schema.* for a whole schema)", "all");
		if (!a)
			return -1;
		strvec_clear(picked);
		strvec_push_split(&parts, a);
		free(a);
		for (size_t i = 0; i < parts.nr && !bad; i++) {
			const char *w = parts.v[i];
			int64_t k;
			const struct db_table_info *t = NULL;
			if (!strcmp(w, "all")) {
				for (size_t j = 0; j < cat->nr; j++)
					if (!strvec_has(picked, cat->v[j].name))
						strvec_push(picked, cat->v[j].name);
				continue;
			}
			if (ends_with(w, ".*") || !strcmp(w, "*")) {
				strvec_push(picked, w);
				continue;
			}
			if (parse_int64(w, &k) == 0 && k >= 1 && (size_t)k <= cat->nr)
				t = &cat->v[k - 1];
			else
				t = find_table(cat, w);
			if (!t)
				bad = w;
			else if (!strvec_has(picked, t->name))
				strvec_push(picked, t->name);
		}
		if (!bad && picked->nr) {
			strvec_clear(&parts);
			return 0;
		}
		if (bad)
			ui_print("There is no table '%s'; give numbers from 1 to %zu or names from the list.", bad, cat->nr);
		strvec_clear(&parts);
	}
}

/* Ask until every comma-separated answer is a column; empty allowed when
 * may_be_empty. */
static char *ask_columns(const char *q, const char *dflt, const struct db_table_info *t, int many, int may_be_empty)
{
	for (;;) {
		struct strvec parts = STRVEC_INIT;
		const char *bad = NULL;
		char *a = ask(q, dflt);
		if (!a)
			return NULL;
		strvec_push_split(&parts, a);
		for (size_t i = 0; i < parts.nr && !bad; i++)
			if (!strvec_has(&t->columns, parts.v[i]))
				bad = parts.v[i];
		if (!bad && (parts.nr || may_be_empty) && (many || parts.nr <= 1)) {
			strvec_clear(&parts);
			return a;
		}
		struct strbuf cols = STRBUF_INIT;
		join(&cols, &t->columns, ", ");
		if (bad) {
			const char *hint = did_you_mean(bad, (const char *const *)t->columns.v);
			ui_print("%s has no column '%s'%s%s%s (columns: %s).", t->name, bad, hint ? "; did you mean '" : "",
				 hint ? hint : "", hint ? "'?" : "", cols.buf);
		} else {
			ui_print("Give %s column of %s (columns: %s).", many ? "at least one" : "one", t->name, cols.buf);
		}
		strbuf_release(&cols);
		strvec_clear(&parts);
		free(a);
	}
}

/* One table's mode and keys as a YAML flow mapping into yml. */
static int ask_stream(const struct db_table_info *t, struct strbuf *yml)
{
	struct strbuf q = STRBUF_INIT, pk = STRBUF_INIT;
	char *mode = NULL, *uk = NULL, *keys = NULL;
	int ret = -1;
	for (;;) {
		strbuf_reset(&q);
		strbuf_addf(&q, "%s: mode (full-refresh, incremental, truncate)", t->name);
		if (!(mode = ask(q.buf, t->update_key ? "incremental" : "full-refresh")))
			goto out;
		if (!strcmp(mode, "full-refresh") || !strcmp(mode, "incremental") || !strcmp(mode, "truncate"))
			break;
		ui_print("'%s' is not a mode: full-refresh, incremental or truncate.", mode);
		free(mode);
	}
	if (strcmp(mode, "incremental")) {
		strbuf_addf(yml, strcmp(mode, "truncate") ? "{}" : "{mode: truncate}");
		ret = 0;
		goto out;
	}
	strbuf_reset(&q);
	strbuf_addf(&q, "%s: update key (a column that grows with each change)", t->name);
	if (!(uk = ask_columns(q.buf, t->update_key, t, 0, 0)))
		goto out;
	join(&pk, &t->primary_key, ", ");
	strbuf_reset(&q);
	strbuf_addf(&q, "%s: primary key (comma-separated; empty: new rows are appended, never merged)", t->name);
	if (!(keys = ask_columns(q.buf, pk.len ? pk.buf : "", t, 1, 1)))
		goto out;
	strbuf_addstr(yml, "{mode: incremental");
	if (*keys) {
		struct strvec parts = STRVEC_INIT;
		strvec_push_split(&parts, keys);
		strbuf_addstr(yml, ", primary_key: [");
		for (size_t i = 0; i < parts.nr; i++) {
			strbuf_addstr(yml, i ? ", " : "");
			yaml_add_scalar(yml, parts.v[i]);
		}
		strbuf_addch(yml, ']');
		strvec_clear(&parts);
	}
	strbuf_addstr(yml, ", update_key: ");
	yaml_add_scalar(yml, uk);
	strbuf_addch(yml, '}');
	ret = 0;
out:
	free(mode);
	free(uk);
	free(keys);
	strbuf_release(&q);
	strbuf_release(&pk);
	return ret;
}

int db_wizard_streams(const struct source *s, const struct project *p, struct strbuf *yaml, struct strbuf *err)
{
	struct db_catalog cat;
	struct strvec picked = STRVEC_INIT;
	int ret = -1;
	ui_print("Connecting...");
	if (db_source_catalog(s, p, &cat, err) < 0)
		return -1;
	ui_ok("connected to %s", cat.where);
	if (!cat.nr) {
		strbuf_addf(err, "%s has no tables", cat.where);
		goto out;
	}
	list_tables(&cat);
	ret = -2;
	if (pick_tables(&cat, &picked) < 0)
		goto out;
	strbuf_addch(yaml, '{');
	for (size_t i = 0; i < picked.nr; i++) {
		const struct db_table_info *t = find_table(&cat, picked.v[i]);
		strbuf_addstr(yaml, i ? ", " : "");
		yaml_add_scalar(yaml, picked.v[i]);
		strbuf_addstr(yaml, ": ");
		if (!t)
			strbuf_addstr(yaml, "{}"); /* a wildcard: full refresh of what it finds */
		else if (ask_stream(t, yaml) < 0)
			goto out;
	}
	strbuf_addch(yaml, '}');
	ret = 0;
out:
	db_catalog_release(&cat);
	strvec_clear(&picked);
	return ret;
}
