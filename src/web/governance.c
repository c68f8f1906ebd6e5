/* Governance in the web API: schema drift (governance/governance.h) with
 * its accept, and the OAuth credentials' status (oauth/oauth.h). Both live
 * outside the warehouse, so they answer while a sync holds it.
 *
 * OAuth answers carry metadata only (provider, account, expiry, linked
 * sources): a credential is loaded to read its expiry, and its tokens
 * never leave this file. */
#include "web/internal.h"
#include "core/clock.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "governance/governance.h"
#include "oauth/oauth.h"
#include "project/project.h"
#include "project/sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *event_json(const struct drift_event *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "table", jstr(e->table));
	json_object_set_new(o, "column", jstr(e->column));
	json_object_set_new(o, "change", jstr(e->kind));
	json_object_set_new(o, "old_type", jstr(e->old_type));
	json_object_set_new(o, "new_type", jstr(e->new_type));
	json_object_set_new(o, "breaking", json_boolean(e->breaking));
	json_object_set_new(o, "status", jstr(e->status));
	json_object_set_new(o, "first_seen", jstr(e->first_seen));
	json_object_set_new(o, "first_load_id", jstr(e->load_id));
	json_object_set_new(o, "last_seen", jstr(e->last_seen));
	json_object_set_new(o, "accepted_by", jstr(e->accepted_by));
	json_object_set_new(o, "accepted_at", jstr(e->accepted_at));
	return o;
}

/* The events grouped by source (they come ordered by source). */
static json_t *drift_sources(const struct drift_events *ev)
{
	json_t *out = json_array();
	for (size_t i = 0; i < ev->nr;) {
		const char *src = ev->v[i].source;
		size_t j = i;
		int open = 0, breaking = 0;
		json_t *events = json_array();
		for (; j < ev->nr && !strcmp(ev->v[j].source, src); j++) {
			int is_open = !strcmp(ev->v[j].status, "open");
			open += is_open;
			breaking += is_open && ev->v[j].breaking;
			json_array_append_new(events, event_json(&ev->v[j]));
		}
		struct strbuf desc = STRBUF_INIT;
		drift_describe_breaking(&desc, ev, src);
		json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:b, s:s?, s:o, s:s+}", "source", src, "open", open,
						     "open_breaking", breaking, "blocks_models", breaking > 0,
						     "summary", desc.len ? desc.buf : NULL, "events", events,
						     "accept_command", "dango governance accept ", src));
		strbuf_release(&desc);
		i = j;
	}
	return out;
}

static void get_drift(struct web *w, const struct web_request *rq, struct web_response *rs,
		      const char *source)
{
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *all = web_arg(rq, "all");
	int with_all = all && (!strcmp(all, "1") || !strcmp(all, "true"));
	if (governance_read_drift(w->p->state_dir, source, with_all, &ev, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
	} else {
		json_t *srcs = drift_sources(&ev);
		size_t breaking = 0, open = 0, i;
		json_t *s;
		json_array_foreach(srcs, i, s) {
			breaking += json_integer_value(json_object_get(s, "open_breaking"));
			open += json_integer_value(json_object_get(s, "open"));
		}
		if (source) {
			json_t *one = json_array_size(srcs) ? json_incref(json_array_get(srcs, 0))
							    : json_pack("{s:s, s:i, s:i, s:b, s:n, s:[]}", "source", source,
									"open", 0, "open_breaking", 0, "blocks_models", 0,
									"summary", "events");
			web_json(rs, 200, one);
			json_decref(srcs);
		} else {
			web_json(rs, 200, json_pack("{s:o, s:i, s:i}", "sources", srcs, "open", (json_int_t)open,
						    "open_breaking", (json_int_t)breaking));
		}
	}
	drift_events_release(&ev);
	strbuf_release(&err);
}

json_t *web_drift_summary(struct web *w)
{
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strbuf err = STRBUF_INIT;
	json_t *o;
	if (governance_read_drift(w->p->state_dir, NULL, 0, &ev, &err) < 0) {
		o = json_pack("{s:s}", "error", err.buf);
	} else {
		json_t *srcs = drift_sources(&ev), *blocked = json_array(), *s;
		size_t breaking = 0, i;
		json_array_foreach(srcs, i, s) {
			json_int_t b = json_integer_value(json_object_get(s, "open_breaking"));
			breaking += (size_t)b;
			if (b)
				json_array_append(blocked, json_object_get(s, "source"));
		}
		o = json_pack("{s:i, s:i, s:o}", "open", (json_int_t)ev.nr, "open_breaking", (json_int_t)breaking,
			      "blocked_sources", blocked);
		json_decref(srcs);
	}
	drift_events_release(&ev);
	strbuf_release(&err);
	return o;
}

/* POST /api/drift/{source}/accept {"table": "orders"} (table optional) */
static void post_accept(struct web *w, const struct web_request *rq, const char *source, struct web_response *rs)
{
	static const char *const keys[] = { "table", NULL };
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strbuf err = STRBUF_INIT, who = STRBUF_INIT;
	json_t *body = web_parse_body(rq, rs);
	int nr = 0;
	if (!body)
		return;
	if (web_check_keys(body, keys, rs) < 0)
		goto out;
	json_t *t = json_object_get(body, "table");
	if (t && !json_is_string(t)) {
		web_error(rs, 400, "'table' is a table name");
		goto out;
	}
	const char *table = json_string_value(t);
	if (governance_read_drift(w->p->state_dir, source, 0, &ev, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		goto out;
	}
	size_t open = 0;
	for (size_t i = 0; i < ev.nr; i++)
		open += !table || !strcmp(ev.v[i].table, table);
	if (!open) {
		web_error(rs, 404, "no open drift for source '%s'%s%s", source, table ? " table " : "", table ? table : "");
		goto out;
	}
	governance_user(&who);
	strbuf_addstr(&who, " (web)");
	if (governance_accept(w->p->state_dir, source, table, who.buf, &nr, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		goto out;
	}
	web_json(rs, 200, json_pack("{s:s, s:s?, s:i, s:s}", "source", source, "table", table, "accepted", nr,
				    "accepted_by", who.buf));
out:
	json_decref(body);
	drift_events_release(&ev);
	strbuf_release(&err);
	strbuf_release(&who);
}

/* ---- OAuth ---------------------------------------------------------------------------- */

static const char *state_name(enum oauth_state s)
{
	switch (s) {
	case OAUTH_VALID:
		return "valid";
	case OAUTH_EXPIRING:
		return "expiring";
	case OAUTH_EXPIRED:
		return "expired";
	case OAUTH_NEEDS_REFRESH:
		return "needs_refresh";
	}
	return "valid";
}

static json_t *time_or_null(time_t t)
{
	char buf[40];
	if (t <= 0)
		return json_null();
	web_iso(buf, sizeof(buf), (double)t);
	return json_string(buf);
}

/* One credential's metadata: never its tokens. */
static json_t *cred_json(struct web *w, const struct source_list *list, const struct oauth_cred *c, time_t now)
{
	struct strbuf expiry = STRBUF_INIT, hint = STRBUF_INIT;
	struct strvec users = STRVEC_INIT;
	json_t *o = json_object(), *srcs = json_array();
	oauth_describe_expiry(&expiry, c, now);
	oauth_setup_hint(&hint, c);
	if (list)
		oauth_sources_using(w->p, list, c->name, c, &users);
	for (size_t i = 0; i < users.nr; i++)
		json_array_append_new(srcs, json_string(users.v[i]));
	json_object_set_new(o, "name", jstr(c->name));
	json_object_set_new(o, "provider", jstr(c->provider));
	json_object_set_new(o, "account", jstr(c->account));
	json_object_set_new(o, "state", json_string(state_name(oauth_cred_state(c, now))));
	json_object_set_new(o, "refreshable", json_boolean(c->refresh_token && *c->refresh_token));
	json_object_set_new(o, "expires_at", time_or_null(c->expires_at));
	/* whole days left, rounded down; negative once expired */
	json_object_set_new(o, "days_to_expiry",
			    c->expires_at ? json_integer((json_int_t)((c->expires_at - now) >= 0
									  ? (c->expires_at - now) / 86400
									  : -((now - c->expires_at + 86399) / 86400)))
					  : json_null());
	json_object_set_new(o, "expiry", json_string(expiry.buf));
	json_object_set_new(o, "last_refresh", time_or_null(c->last_refresh));
	json_object_set_new(o, "created_at", time_or_null(c->created_at));
	json_object_set_new(o, "scopes", jstr(c->scope));
	json_object_set_new(o, "sources", srcs);
	json_object_set_new(o, "renew_command", json_string(hint.buf));
	strbuf_release(&expiry);
	strbuf_release(&hint);
	strvec_clear(&users);
	return o;
}

static void get_oauth(struct web *w, struct web_response *rs)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct web_sources *ref = NULL;
	const struct source_list *list = web_sources_get(w, &ref, &err);
	strbuf_reset(&err);
	if (oauth_cred_names(w->p, &names, &err) < 0) {
		web_error(rs, 500, "%s", err.buf);
		goto out;
	}
	json_t *arr = json_array(), *problems = json_array();
	time_t now = clock_now_sec();
	for (size_t i = 0; i < names.nr; i++) {
		struct oauth_cred c;
		oauth_cred_init(&c);
		strbuf_reset(&err);
		int r = oauth_cred_load(w->p, names.v[i], &c, &err);
		if (r == 1)
			json_array_append_new(arr, cred_json(w, list, &c, now));
		else if (r < 0)
			json_array_append_new(problems, json_pack("{s:s, s:s}", "name", names.v[i], "error", err.buf));
		oauth_cred_release(&c);
	}
	web_json(rs, 200, json_pack("{s:o, s:o, s:i}", "credentials", arr, "errors", problems, "warn_days",
				    OAUTH_WARN_DAYS));
out:
	if (ref)
		web_sources_put(w, ref);
	strvec_clear(&names);
	strbuf_release(&err);
}

int web_governance_route(struct web *w, const struct web_request *rq, struct web_response *rs,
			 const char *const *parts, size_t n)
{
	int get = strcmp(rq->method, "POST") != 0;
	if (!strcmp(parts[0], "oauth")) {
		if (n != 1)
			return -1;
		get ? get_oauth(w, rs) : web_error(rs, 405, "read the credentials with GET");
	} else if (n == 1) {
		get ? get_drift(w, rq, rs, NULL) : web_error(rs, 405, "read the drift with GET");
	} else if (n == 2) {
		get ? get_drift(w, rq, rs, parts[1]) : web_error(rs, 405, "accept with POST /api/drift/%s/accept", parts[1]);
	} else if (n == 3 && !strcmp(parts[2], "accept")) {
		get ? web_error(rs, 405, "accept drift with POST") : post_accept(w, rq, parts[1], rs);
	} else {
		return -1;
	}
	return 0;
}
