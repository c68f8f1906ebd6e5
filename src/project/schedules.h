/* .dango/schedules.yml: the schedules, in the Python Dango's shape
 *
 *   version: "1.0"
 *   history_retention_days: 90          # optional
 *   schedules:
 *     - name: nightly_all               # lowercase snake_case, unique
 *       type: sync                      # sync | sync_only | dbt | script
 *       cron: daily                     # a preset, an @-form or five fields (schedule/cron.h)
 *       sources: [shop_db, stripe.charges]
 *       ...
 *
 * Loading validates everything and reports every problem, one per line, as
 * "FILE:LINE:COL: message" (unknown keys with a suggestion, a bad cron
 * naming its field and range, an unknown time zone, an unknown source when
 * the sources are given). Edits (add, remove, enable, disable) change the
 * text in place, keeping comments and layout, and are validated before
 * they are written. Strings in struct schedule are borrowed from the list. */
#ifndef DANGO_PROJECT_SCHEDULES_H
#define DANGO_PROJECT_SCHEDULES_H
#include <stdint.h>
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/yaml.h"
#include "schedule/cron.h"
struct source_list;

enum schedule_type { SCHED_SYNC, SCHED_SYNC_ONLY, SCHED_DBT, SCHED_SCRIPT };

enum {
	NOTIFY_FAILURE = 1,
	NOTIFY_SUCCESS = 2,
	NOTIFY_STALE = 4,
};

struct schedule {
	const char *name;
	enum schedule_type type;
	const char *cron_text;       /* as written */
	struct cron cron;
	const char *timezone;        /* NULL: the machine's zone */
	struct strvec sources;       /* "shop_db" or "shop_db.orders", as written; empty: all enabled */
	const char *select;          /* dbt selection (type dbt), or NULL */
	const char *dbt_command;     /* build | run | test; default run */
	const char *command;         /* type script: a shell command run in the project folder */
	const char *description;
	int enabled;
	int64_t misfire_grace;       /* seconds */
	int64_t timeout_minutes;     /* 0: none */
	int64_t retries_max;
	int64_t backoff_seconds;
	int64_t lock_wait;           /* seconds; -1: the project's defaults.lock_wait */
	unsigned notify_on;          /* NOTIFY_* bits */
	double stale_after_hours;    /* 0: the project's notifications.stale_after_hours */
	const struct ynode *node;
};

struct schedule_list {
	char *path;
	const char *display;
	struct strbuf text;
	struct ydoc doc;
	struct schedule *items;
	size_t nr, alloc;
	int64_t history_days;
};

#define SCHEDULE_DEFAULT_GRACE 300
#define SCHEDULE_DEFAULT_HISTORY_DAYS 90

/* Load and validate path (a missing file is an empty list). With sources
 * given, each schedule's sources must be among them. -1 with every problem
 * in err (one per line, no trailing newline), the list released. */
int schedules_load(struct schedule_list *list, const char *path, const char *display,
		   const struct source_list *sources, struct strbuf *err);
int schedules_parse(struct schedule_list *list, const char *display, const char *text, size_t len,
		    const struct source_list *sources, struct strbuf *err);
void schedules_release(struct schedule_list *list);
struct schedule *schedules_find(const struct schedule_list *list, const char *name);

const char *schedule_type_name(enum schedule_type t);
/* "shop_db, stripe.charges" / "all sources" / "dbt: marts.*" / the command. */
void schedule_describe_selection(struct strbuf *sb, const struct schedule *s);

/* Edits: the new file text in out; -1 with a message when they cannot be made. */
int schedules_text_add(const struct schedule_list *list, const char *entry, struct strbuf *out, struct strbuf *err);
int schedules_text_remove(const struct schedule_list *list, const char *name, struct strbuf *out, struct strbuf *err);
int schedules_text_enable(const struct schedule_list *list, const char *name, int enabled, struct strbuf *out,
			  struct strbuf *err);
/* Validate text and write it atomically. */
int schedules_save(const char *path, const char *display, const char *text, const struct source_list *sources,
		   struct strbuf *err);

#endif
