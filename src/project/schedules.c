#include "project/schedules.h"
#include "project/yaml_edit.h"
#include "project/schema.h"
#include "project/sources.h"
#include "schedule/tz.h"
#include "core/fs.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "sources/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_choices[] = { "sync", "sync_only", "dbt", "script", NULL };
static const char *const dbt_choices[] = { "run", "build", "test", NULL };
static const char *const notify_choices[] = { "failure", "success", "stale", NULL };

static const struct cfg_key retry_keys[] = {
	{ "max", CFG_INT, 0, NULL, NULL, "attempts after the first" },
	{ "backoff_seconds", CFG_INT, 0, NULL, NULL, "wait before the first retry (doubles each time)" },
	{ NULL }
};

static const struct cfg_key entry_keys[] = {
	{ "name", CFG_STR, CFG_REQUIRED, NULL, NULL, NULL },
	{ "type", CFG_STR, 0, NULL, type_choices, NULL },
	{ "cron", CFG_STR, CFG_REQUIRED, NULL, NULL, NULL },
	{ "sources", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "timezone", CFG_STR, 0, NULL, NULL, NULL },
	{ "enabled", CFG_BOOL, 0, NULL, NULL, NULL },
	{ "description", CFG_STR, 0, NULL, NULL, NULL },
	{ "select", CFG_STR, 0, NULL, NULL, NULL },
	{ "dbt_command", CFG_STR, 0, NULL, dbt_choices, NULL },
	{ "command", CFG_STR, 0, NULL, NULL, NULL },
	{ "misfire_grace_time", CFG_INT, 0, NULL, NULL, NULL },
	{ "timeout_minutes", CFG_INT, 0, NULL, NULL, NULL },
	{ "retries", CFG_ANY, 0, NULL, NULL, NULL },
	{ "notify_on", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "stale_after_hours", CFG_NUM, 0, NULL, NULL, NULL },
	{ "lock_wait", CFG_INT, 0, NULL, NULL, NULL },
	{ NULL }
};

static const struct cfg_key top_keys[] = {
	{ "version", CFG_STR, 0, NULL, NULL, NULL },
	{ "history_retention_days", CFG_INT, 0, NULL, NULL, NULL },
	{ "schedules", CFG_ANY, 0, NULL, NULL, NULL },
	{ NULL }
};

const char *schedule_type_name(enum schedule_type t)
{
	return type_choices[t];
}

struct schedule *schedules_find(const struct schedule_list *list, const char *name)
{
	for (size_t i = 0; i < list->nr; i++)
		if (!strcmp(list->items[i].name, name))
			return &list->items[i];
	return NULL;
}

static const char *scalar(const struct ynode *n)
{
	return n && n->kind == Y_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

static int64_t int_or(const struct ynode *n, int64_t dflt)
{
	int64_t v;
	return n && ynode_int(n, &v) == 0 ? v : dflt;
}

static void push_list(struct strvec *sv, const struct ynode *n)
{
	if (!n || ynode_is_null(n))
		return;
	if (n->kind == Y_SCALAR) {
		strvec_push_split(sv, n->str);
		return;
	}
	for (size_t i = 0; n->kind == Y_SEQ && i < n->n; i++)
		if (n->items[i]->kind == Y_SCALAR)
			strvec_push_split(sv, n->items[i]->str);
}

#define PROBLEM(node, ...)                                   \
	do {                                                 \
		ynode_where(err, &list->doc, (node));        \
		strbuf_addf(err, __VA_ARGS__);               \
		strbuf_addch(err, '\n');                     \
		bad++;                                       \
	} while (0)

static int check_retries(struct schedule_list *list, struct schedule *s, const struct ynode *r, const char *where,
			 struct strbuf *err)
{
	int bad = 0;
	if (!r || ynode_is_null(r))
		return 0;
	if (r->kind == Y_SCALAR) {
		/* "retries: 2" as a short form */
		if (ynode_int(r, &s->retries_max) < 0 || s->retries_max < 0)
			PROBLEM(r, "'retries' in %s must be a whole number or {max: N, backoff_seconds: S}", where);
		return bad;
	}
	if (r->kind != Y_MAP) {
		PROBLEM(r, "'retries' in %s must be {max: N, backoff_seconds: S}", where);
		return bad;
	}
	bad += schema_check(&list->doc, r, retry_keys, where, err);
	s->retries_max = int_or(ymap_get(r, "max"), 0);
	s->backoff_seconds = int_or(ymap_get(r, "backoff_seconds"), 60);
	return bad;
}

static int check_sources(struct schedule_list *list, struct schedule *s, const struct ynode *node,
			 const struct source_list *sources, const char *where, struct strbuf *err)
{
	int bad = 0;
	for (size_t i = 0; i < s->sources.nr; i++) {
		const char *e = s->sources.v[i];
		const char *dot = strchr(e, '.');
		char *src = dot ? xstrndup(e, (size_t)(dot - e)) : xstrdup(e);
		if (!*src || (dot && !dot[1])) {
			PROBLEM(node, "'%s' in %s: write a source as NAME or NAME.TABLE", e, where);
		} else if (sources && !sources_find(sources, src)) {
			const char **names = sources_names(sources);
			const char *hint = did_you_mean(src, names);
			ynode_where(err, &list->doc, node);
			strbuf_addf(err, "unknown source '%s' in %s", src, where);
			if (hint)
				strbuf_addf(err, " (did you mean '%s'?)", hint);
			else if (!sources->nr)
				strbuf_addstr(err, " (.dango/sources.yml has no sources)");
			strbuf_addch(err, '\n');
			bad++;
			free(names);
		}
		free(src);
	}
	return bad;
}

static int check_entry(struct schedule_list *list, const struct ynode *e, const struct source_list *sources,
		       struct strbuf *err)
{
	int bad = 0;
	struct strbuf where = STRBUF_INIT;
	const char *name = scalar(ymap_get(e, "name"));
	struct schedule s;
	memset(&s, 0, sizeof(s));

	if (name)
		strbuf_addf(&where, "schedule '%s'", name);
	else
		strbuf_addf(&where, "schedule #%zu", list->nr + 1);
	bad += schema_check(&list->doc, e, entry_keys, where.buf, err);
	if (name && !is_snake_case(name))
		PROBLEM(ymap_get(e, "name"), "schedule name '%s' must be lowercase snake_case (letters, digits, _)", name);
	/* duplicates among all entries before, valid or not */
	const struct ynode *all = ymap_get(list->doc.root, "schedules");
	for (size_t i = 0; name && all && i < all->n && all->items[i] != e; i++) {
		const char *other = scalar(ymap_get(all->items[i], "name"));
		if (other && !strcmp(other, name)) {
			PROBLEM(ymap_get(e, "name"), "duplicate schedule name '%s' (first defined at line %d)", name,
				all->items[i]->line);
			break;
		}
	}

	s.name = name;
	s.node = e;
	const char *type = scalar(ymap_get(e, "type"));
	s.type = SCHED_SYNC;
	for (int t = 0; type && type_choices[t]; t++)
		if (!strcmp(type, type_choices[t]))
			s.type = (enum schedule_type)t;
	s.cron_text = scalar(ymap_get(e, "cron"));
	const struct ynode *cn = ymap_get(e, "cron");
	if (s.cron_text) {
		struct strbuf cerr = STRBUF_INIT;
		if (cron_parse(&s.cron, s.cron_text, &cerr) < 0)
			PROBLEM(cn, "bad cron '%s' in %s: %s", s.cron_text, where.buf, cerr.buf);
		strbuf_release(&cerr);
	}
	s.timezone = scalar(ymap_get(e, "timezone"));
	if (s.timezone) {
		struct tz tz;
		struct strbuf terr = STRBUF_INIT;
		if (tz_load(&tz, s.timezone, &terr) < 0)
			PROBLEM(ymap_get(e, "timezone"), "%s in %s", terr.buf, where.buf);
		else
			tz_release(&tz);
		strbuf_release(&terr);
	}
	int en = 1;
	ynode_bool(ymap_get(e, "enabled"), &en);
	s.enabled = en;
	s.description = scalar(ymap_get(e, "description"));
	push_list(&s.sources, ymap_get(e, "sources"));
	s.select = scalar(ymap_get(e, "select")); /* a dbt selection, spaces and all */
	s.dbt_command = scalar(ymap_get(e, "dbt_command"));
	s.command = scalar(ymap_get(e, "command"));
	s.misfire_grace = int_or(ymap_get(e, "misfire_grace_time"), SCHEDULE_DEFAULT_GRACE);
	s.timeout_minutes = int_or(ymap_get(e, "timeout_minutes"), 0);
	s.lock_wait = int_or(ymap_get(e, "lock_wait"), -1);
	s.backoff_seconds = 60;
	bad += check_retries(list, &s, ymap_get(e, "retries"), where.buf, err);
	ynode_double(ymap_get(e, "stale_after_hours"), &s.stale_after_hours);
	struct strvec notify = STRVEC_INIT;
	const struct ynode *nn = ymap_get(e, "notify_on");
	push_list(&notify, nn);
	for (size_t i = 0; i < notify.nr; i++) {
		int k = -1;
		for (int j = 0; notify_choices[j]; j++)
			if (!strcmp(notify.v[i], notify_choices[j]))
				k = j;
		if (k < 0) {
			const char *hint = did_you_mean(notify.v[i], notify_choices);
			PROBLEM(nn, "invalid value '%s' in 'notify_on' of %s (expected failure, success or stale)%s%s%s",
				notify.v[i], where.buf, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		} else {
			s.notify_on |= 1u << k;
		}
	}
	strvec_clear(&notify);

	/* what each type needs and does not use */
	const struct ynode *srcn = ymap_get(e, "sources");
	if (s.type == SCHED_SYNC || s.type == SCHED_SYNC_ONLY) {
		bad += check_sources(list, &s, srcn, sources, where.buf, err);
		if (s.command)
			PROBLEM(ymap_get(e, "command"), "'command' in %s is only for type 'script'", where.buf);
	} else {
		if (srcn && !ynode_is_null(srcn))
			PROBLEM(srcn, "'sources' in %s is not used by type '%s'%s", where.buf, schedule_type_name(s.type),
				s.type == SCHED_DBT ? " (use 'select' for dbt models)" : "");
	}
	if (s.type == SCHED_SCRIPT && !s.command)
		PROBLEM(e, "missing required key 'command' in %s (type 'script')", where.buf);
	if (s.type == SCHED_DBT && s.command)
		PROBLEM(ymap_get(e, "command"), "'command' in %s is only for type 'script'", where.buf);
	if ((s.type == SCHED_SYNC_ONLY || s.type == SCHED_SCRIPT) && (s.select || s.dbt_command))
		PROBLEM(ymap_get(e, s.select ? "select" : "dbt_command"), "'%s' in %s is not used by type '%s'",
			s.select ? "select" : "dbt_command", where.buf, schedule_type_name(s.type));

	if (name && s.cron_text && !bad) {
		ALLOC_GROW(list->items, list->nr + 1, list->alloc);
		list->items[list->nr++] = s;
	} else {
		strvec_clear(&s.sources);
	}
	strbuf_release(&where);
	return bad;
}

int schedules_parse(struct schedule_list *list, const char *display, const char *text, size_t len,
		    const struct source_list *sources, struct strbuf *err)
{
	int bad = 0;
	list->display = display;
	list->history_days = SCHEDULE_DEFAULT_HISTORY_DAYS;
	if (list->text.buf != text) {
		strbuf_reset(&list->text);
		strbuf_add(&list->text, text, len);
	}
	if (ydoc_parse(&list->doc, display, list->text.buf, list->text.len, err) < 0)
		return -1;
	const struct ynode *r = list->doc.root;
	if (!r)
		return 0;
	if (r->kind != Y_MAP) {
		ynode_where(err, &list->doc, r);
		strbuf_addstr(err, "schedules.yml must be a mapping with a 'schedules:' list");
		return -1;
	}
	bad += schema_check(&list->doc, r, top_keys, "schedules.yml", err);
	list->history_days = int_or(ymap_get(r, "history_retention_days"), SCHEDULE_DEFAULT_HISTORY_DAYS);
	const struct ynode *items = ymap_get(r, "schedules");
	if (items && !ynode_is_null(items)) {
		if (items->kind != Y_SEQ) {
			ynode_where(err, &list->doc, items);
			strbuf_addf(err, "'schedules' must be a list, not %s\n", ynode_kind_name(items));
			bad++;
		} else {
			for (size_t i = 0; i < items->n; i++) {
				const struct ynode *e = items->items[i];
				if (e->kind != Y_MAP) {
					ynode_where(err, &list->doc, e);
					strbuf_addstr(err, "each schedule must be a mapping with 'name' and 'cron'\n");
					bad++;
					continue;
				}
				bad += check_entry(list, e, sources, err);
			}
		}
	}
	if (bad) {
		strbuf_rtrim(err);
		return -1;
	}
	return 0;
}

int schedules_load(struct schedule_list *list, const char *path, const char *display,
		   const struct source_list *sources, struct strbuf *err)
{
	memset(list, 0, sizeof(*list));
	strbuf_init(&list->text, 0);
	list->path = xstrdup(path);
	list->display = display;
	list->history_days = SCHEDULE_DEFAULT_HISTORY_DAYS;
	if (strbuf_read_file(&list->text, path) < 0) {
		if (errno == ENOENT)
			return 0;
		strbuf_addf(err, "%s: cannot read: %s", display, strerror(errno));
		schedules_release(list);
		return -1;
	}
	if (schedules_parse(list, display, list->text.buf, list->text.len, sources, err) < 0) {
		schedules_release(list);
		return -1;
	}
	return 0;
}

void schedules_release(struct schedule_list *list)
{
	for (size_t i = 0; i < list->nr; i++)
		strvec_clear(&list->items[i].sources);
	ydoc_release(&list->doc);
	strbuf_release(&list->text);
	free(list->items);
	free(list->path);
	memset(list, 0, sizeof(*list));
}

void schedule_describe_selection(struct strbuf *sb, const struct schedule *s)
{
	switch (s->type) {
	case SCHED_SYNC:
	case SCHED_SYNC_ONLY:
		if (!s->sources.nr)
			strbuf_addstr(sb, "all sources");
		for (size_t i = 0; i < s->sources.nr; i++)
			strbuf_addf(sb, "%s%s", i ? ", " : "", s->sources.v[i]);
		break;
	case SCHED_DBT:
		strbuf_addf(sb, "dbt %s %s", s->dbt_command ? s->dbt_command : "run", s->select ? s->select : "(all models)");
		break;
	case SCHED_SCRIPT:
		strbuf_addf(sb, "$ %s", s->command ? s->command : "");
		break;
	}
}

/* ---- edits ---------------------------------------------------------------------- */

int schedules_text_add(const struct schedule_list *list, const char *entry, struct strbuf *out, struct strbuf *err)
{
	return yedit_list_append(&list->text, list->doc.root, "schedules", entry,
				 "# Schedules: 'dango schedule list', 'dango scheduler'. See docs/scheduler.md.\n"
				 "version: \"1.0\"\n",
				 list->display, out, err);
}

int schedules_text_remove(const struct schedule_list *list, const char *name, struct strbuf *out, struct strbuf *err)
{
	struct schedule *s = schedules_find(list, name);
	strbuf_reset(out);
	if (!s) {
		strbuf_addf(err, "no schedule named '%s' in %s", name, list->display);
		return -1;
	}
	return yedit_list_remove(&list->text, list->doc.root, "schedules", s->node, list->display, out, err);
}

int schedules_text_enable(const struct schedule_list *list, const char *name, int enabled, struct strbuf *out,
			  struct strbuf *err)
{
	struct schedule *s = schedules_find(list, name);
	strbuf_reset(out);
	if (!s) {
		strbuf_addf(err, "no schedule named '%s' in %s", name, list->display);
		return -1;
	}
	const char *word = enabled ? "true" : "false";
	struct ypair *p = ymap_pair(s->node, "enabled");
	if (p && p->value && !ynode_is_null(p->value)) {
		strbuf_add(out, list->text.buf, p->value->start_off);
		strbuf_addstr(out, word);
		strbuf_add(out, list->text.buf + p->value->end_off, list->text.len - p->value->end_off);
		return 0;
	}
	if (s->node->flow) {
		strbuf_addf(err, "%s: schedule '%s' is written in flow style; edit it by hand", list->display, name);
		return -1;
	}
	/* a new line after the name's, at the keys' indentation */
	struct ypair *np = ymap_pair(s->node, "name");
	size_t at = yedit_line_end(&list->text, np->value->end_off);
	strbuf_add(out, list->text.buf, at);
	if (out->len && out->buf[out->len - 1] != '\n')
		strbuf_addch(out, '\n');
	strbuf_addchars(out, ' ', (size_t)(np->key->col - 1));
	strbuf_addf(out, "enabled: %s\n", word);
	strbuf_add(out, list->text.buf + at, list->text.len - at);
	return 0;
}

int schedules_save(const char *path, const char *display, const char *text, const struct source_list *sources,
		   struct strbuf *err)
{
	struct schedule_list check;
	memset(&check, 0, sizeof(check));
	strbuf_init(&check.text, 0);
	int r = schedules_parse(&check, display, text, strlen(text), sources, err);
	schedules_release(&check);
	if (r < 0)
		return -1;
	if (fs_write_atomic(path, text, strlen(text)) < 0) {
		strbuf_addf(err, "%s: cannot write: %s", display, strerror(errno));
		return -1;
	}
	return 0;
}
