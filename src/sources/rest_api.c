/* The declarative REST API connector, in the manner of dlt's rest_api.
 *
 * A source's configuration (its rest_api: block, or a preset expanded into
 * the same shape) is read into a client (base URL, headers, auth,
 * politeness) and endpoints (path, params, paginator, data selector,
 * primary key, write disposition, incremental cursor, parent resource).
 * extract() pages through each endpoint in order (parents before their
 * children), parses each page with the jv parser and streams the records
 * through the normalizer into spool files in the job's spool folder; the
 * files become batches read by __dango_spool (warehouse/spool.h) with every
 * column typed. Memory stays bounded by one page plus the normalizer's buffers.
 *
 * Incremental state per endpoint goes into job->new_state as
 * {"cursor": highest value seen, "first": lowest value ever loaded}; the
 * engine commits it in the same transaction as the rows, so the cursor
 * advances only when the load commits. */
#include "sources/rest_api.h"
#include "sources/http.h"
#include "sources/normalize.h"
#include "sources/preset.h"
#include "sources/registry.h"
#include "sources/rest_shape.h"
#include "core/clock.h"
#include "core/env.h"
#include "oauth/oauth.h"
#include "core/hash.h"
#include "core/pool.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "ingest/sync.h"
#include "project/project.h"
#include "project/sources.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum pg_type { PG_AUTO, PG_SINGLE, PG_OFFSET, PG_PAGE, PG_CURSOR, PG_JSON_LINK, PG_HEADER_LINK };
enum auth_type { AUTH_NONE, AUTH_BEARER, AUTH_API_KEY, AUTH_BASIC, AUTH_OAUTH2, AUTH_CUSTOM, AUTH_STORED };

struct paginator {
	int set;
	enum pg_type type;
	int64_t limit;
	const char *limit_param, *offset_param, *page_param;
	int64_t base_page;
	const char *total_path, *has_more_path, *cursor_path, *cursor_param, *next_url_path, *record_cursor_path;
	const char *stop_path;  /* a page saying true here is the last (end_of_stream, isLast) */
	int in_body;            /* cursor, offset and limit go into the JSON body (POST search APIs) */
	int64_t maximum_pages;
};

struct incremental {
	int set;
	const char *cursor_path, *initial_value, *param, *end_param;
	int unix_time;          /* the API takes and gives epoch seconds */
	const char *format;     /* else a strftime pattern (UTC) for the start value, or NULL */
	const char *cursor_format; /* strptime pattern of the records' cursor values (GA4's %Y%m%d) */
};

struct endpoint {
	const char *name, *path, *method, *data_selector;
	json_t *params, *body, *headers;   /* borrowed from the config */
	json_t *shape;                     /* record_shape (rest_shape.h), or NULL */
	json_t *async;                     /* an async report to start and poll first, or NULL */
	struct strvec primary_key;
	enum write_disposition wd;
	struct paginator pg;
	struct incremental inc;
	int max_nesting;
	struct strvec include_from_parent;
	int parent;                        /* endpoint index, -1 */
	struct strvec parent_fields;       /* fields of the parent the child needs */
	int needed;                        /* fetched (selected, or a parent of one) */
	int write;                         /* its rows are loaded */
	int table;                         /* normalizer table */
	/* what children need of this endpoint's rows: nr_rows * keep.nr raw
	 * JSON values (NULL when missing) */
	struct strvec keep;
	char **rows;
	enum norm_type *row_types;
	size_t nr_rows, alloc_rows, alloc_types;
	int done;
};

struct rest {
	json_t *conf;                      /* owns every string below */
	const char *label;                 /* "Stripe" or the base URL */
	const char *base_url;
	json_t *headers;
	enum auth_type auth;
	const char *token, *key_name, *key_value, *user, *pass, *client_id, *client_secret, *token_url, *scopes,
		*header_name, *header_value;
	int key_in_query;
	char *auth_query;                  /* "name=value" of an api_key in the query, escaped */
	struct strvec secret_vars;         /* env variables of the secrets, for messages */
	char *oauth_token;
	double oauth_expires;
	/* auth_type oauth: a credential of the token store (src/oauth/) */
	const char *oauth_credential, *oauth_provider;
	char *stored_token;
	int just_renewed;                  /* renewed after a 401, no answer since */
	const char *token_path;            /* where the token endpoint's answer holds the token */
	int token_json;                    /* send the client credentials as a JSON body */
	json_t *response_error;            /* an error reported inside a 200 (Slack's ok:false) */
	struct strvec secret_headers;      /* "Name: value" lines from secret_headers */
	/* bodies of a failed answer that mean bad credentials (the Graph API's
	 * OAuthException with HTTP 400) or a rate limit (Salesforce's
	 * REQUEST_LIMIT_EXCEEDED with HTTP 403) */
	struct strvec auth_match, rate_match;
	struct paginator pg;
	int64_t max_pages;
	struct endpoint *eps;
	size_t nr_eps;
	struct http_client http;
	struct normalizer norm;
	int norm_ready;
	int64_t total_rows;
	int stop_all;                      /* --limit reached, or the load failed */
	int concurrency;                   /* pages fetched at once when their URLs are known */
	struct sync_job *job;              /* for spool files handed over as they close */
	size_t *batched;                   /* per normalizer table: its files handed over so far */
	size_t nr_batched;
};

/* ---- config access ----------------------------------------------------------- */

/* A scalar as a string; numbers and booleans are turned into strings in
 * place so that the returned pointer lives as long as the config. */
static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	char buf[64];
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	json_object_set_new(o, key, json_string(buf));
	return json_string_value(json_object_get(o, key));
}

static double jnum(json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v)) {
		char *end;
		double d = strtod(json_string_value(v), &end);
		if (end != json_string_value(v) && !*end)
			return d;
	}
	return dflt;
}

static void jlist(json_t *o, const char *key, struct strvec *out)
{
	json_t *v = json_object_get(o, key);
	size_t i;
	json_t *it;
	if (json_is_string(v))
		strvec_push_split(out, json_string_value(v));
	else if (json_is_array(v))
		json_array_foreach(v, i, it) if (json_is_string(it)) strvec_push(out, json_string_value(it));
}


static const char *secret_from_env(struct rest *r, struct sync_job *job, json_t *conf, const char *key,
				   struct strbuf *err)
{
	const char *var = jstr(conf, key);
	if (!var)
		return NULL;
	const char *v = env_lookup(&job->project->env, var, NULL);
	if (!v || !*v) {
		strbuf_addf(err, "AuthenticationError: the environment variable %s is not set (%s of source '%s'); "
			    "export it, or add it to .env",
			    var, key, job->source->name);
		return NULL;
	}
	if (!strvec_has(&r->secret_vars, var))
		strvec_push(&r->secret_vars, var);
	http_client_add_secret(&r->http, v);
	return v;
}

static int parse_paginator(json_t *p, struct paginator *pg, const char *where, struct strbuf *err)
{
	static const char *const names[] = { "auto", "single_page", "offset", "page_number", "cursor", "json_link",
					     "header_link", NULL };
	memset(pg, 0, sizeof(*pg));
	if (!p)
		return 0;
	pg->set = 1;
	const char *type = json_is_string(p) ? json_string_value(p) : jstr(p, "type");
	if (!type)
		type = "auto";
	int k;
	for (k = 0; names[k] && strcmp(names[k], type); k++)
		;
	/* dlt's names for the same paginators */
	if (!names[k]) {
		if (!strcmp(type, "next_url") || !strcmp(type, "json_response"))
			k = PG_JSON_LINK;
		else if (!strcmp(type, "header") || !strcmp(type, "link_header"))
			k = PG_HEADER_LINK;
		else if (!strcmp(type, "page") || !strcmp(type, "page_number"))
			k = PG_PAGE;
		else if (!strcmp(type, "single") || !strcmp(type, "none"))
			k = PG_SINGLE;
		else {
			strbuf_addf(err, "%s: unknown paginator type '%s' (auto, single_page, offset, page_number, cursor, "
				    "json_link, header_link)", where, type);
			return -1;
		}
	}
	pg->type = (enum pg_type)k;
	if (!json_is_object(p))
		return 0;
	pg->limit = (int64_t)jnum(p, "limit", 0);
	pg->limit_param = jstr(p, "limit_param");
	pg->offset_param = jstr(p, "offset_param");
	pg->page_param = jstr(p, "page_param");
	pg->base_page = (int64_t)jnum(p, "base_page", pg->type == PG_PAGE ? 1 : 0);
	pg->total_path = jstr(p, "total_path");
	pg->has_more_path = jstr(p, "has_more_path");
	pg->cursor_path = jstr(p, "cursor_path");
	pg->cursor_param = jstr(p, "cursor_param");
	pg->next_url_path = jstr(p, "next_url_path");
	pg->record_cursor_path = jstr(p, "record_cursor_path");
	pg->maximum_pages = (int64_t)jnum(p, "maximum_pages", 0);
	pg->stop_path = jstr(p, "stop_path");
	const char *loc = jstr(p, "location");
	if (loc && strcmp(loc, "body") && strcmp(loc, "query")) {
		strbuf_addf(err, "%s: paginator location '%s' is not query or body", where, loc);
		return -1;
	}
	pg->in_body = loc && !strcmp(loc, "body");
	if (pg->type == PG_PAGE && !json_object_get(p, "base_page"))
		pg->base_page = 1;
	return 0;
}

/* {resources.NAME.FIELD} placeholders name a parent. */
static void find_parent_refs(const char *s, struct strvec *parents, struct strvec *fields)
{
	const char *p = s;
	while (s && (p = strstr(p, "{resources."))) {
		const char *name = p + 11, *dot = strchr(name, '.'), *close = strchr(name, '}');
		if (!dot || !close || dot > close) {
			p++;
			continue;
		}
		char *n = xstrndup(name, (size_t)(dot - name)), *f = xstrndup(dot + 1, (size_t)(close - dot - 1));
		if (!strvec_has(parents, n))
			strvec_push(parents, n);
		if (!strvec_has(fields, f))
			strvec_push(fields, f);
		free(n);
		free(f);
		p = close;
	}
}

static int parse_endpoint(struct rest *r, json_t *e, struct endpoint *ep, struct strvec *parent_names, size_t i,
			  const char *src, struct strbuf *err)
{
	memset(ep, 0, sizeof(*ep));
	ep->parent = -1;
	if (json_is_string(e)) {
		/* a bare name: the path is the name */
		strbuf_addf(err, "source '%s': endpoint #%zu must be a mapping with 'name' and 'path'", src, i + 1);
		return -1;
	}
	ep->name = jstr(e, "name");
	if (!ep->name || !*ep->name) {
		strbuf_addf(err, "source '%s': endpoint #%zu has no 'name'", src, i + 1);
		return -1;
	}
	ep->path = jstr(e, "path");
	if (!ep->path)
		ep->path = ep->name;
	ep->method = jstr(e, "method");
	if (!ep->method)
		ep->method = "GET";
	ep->data_selector = jstr(e, "data_selector");
	ep->params = json_object_get(e, "params");
	ep->body = json_object_get(e, "json");
	ep->headers = json_object_get(e, "headers");
	jlist(e, "primary_key", &ep->primary_key);
	const char *wd = jstr(e, "write_disposition");
	ep->wd = !wd ? (ep->primary_key.nr ? WD_MERGE : WD_APPEND)
		     : !strcmp(wd, "merge") ? WD_MERGE : !strcmp(wd, "replace") ? WD_REPLACE : WD_APPEND;
	if (wd && strcmp(wd, "merge") && strcmp(wd, "replace") && strcmp(wd, "append")) {
		strbuf_addf(err, "source '%s': endpoint '%s': write_disposition '%s' is not append, replace or merge", src,
			    ep->name, wd);
		return -1;
	}
	if (ep->wd == WD_MERGE && !ep->primary_key.nr) {
		strbuf_addf(err, "source '%s': endpoint '%s': write_disposition 'merge' needs a primary_key", src, ep->name);
		return -1;
	}
	struct strbuf where = STRBUF_INIT;
	strbuf_addf(&where, "source '%s': endpoint '%s'", src, ep->name);
	int bad = parse_paginator(json_object_get(e, "paginator"), &ep->pg, where.buf, err) < 0;
	strbuf_release(&where);
	if (bad)
		return -1;
	json_t *inc = json_object_get(e, "incremental");
	if (json_is_object(inc)) {
		ep->inc.set = 1;
		ep->inc.cursor_path = jstr(inc, "cursor_path");
		ep->inc.initial_value = jstr(inc, "initial_value");
		ep->inc.param = jstr(inc, "param");
		ep->inc.end_param = jstr(inc, "end_param");
		const char *fmt = jstr(inc, "start_format");
		ep->inc.unix_time = fmt && (!strcmp(fmt, "unix") || !strcmp(fmt, "epoch"));
		if (fmt && !ep->inc.unix_time) {
			if (!strcmp(fmt, "date"))
				ep->inc.format = "%Y-%m-%d";
			else if (!strcmp(fmt, "datetime"))
				ep->inc.format = "%Y-%m-%dT%H:%M:%SZ";
			else if (strchr(fmt, '%'))
				ep->inc.format = fmt;
			else {
				strbuf_addf(err, "source '%s': endpoint '%s': start_format '%s' is not unix, date, datetime "
					    "or a strftime pattern", src, ep->name, fmt);
				return -1;
			}
		}
		ep->inc.cursor_format = jstr(inc, "cursor_format");
		if (!ep->inc.cursor_path) {
			strbuf_addf(err, "source '%s': endpoint '%s': incremental needs a cursor_path", src, ep->name);
			return -1;
		}
	}
	ep->shape = json_object_get(e, "record_shape");
	if (ep->shape) {
		struct strbuf w = STRBUF_INIT;
		strbuf_addf(&w, "source '%s': endpoint '%s'", src, ep->name);
		int bad_shape = shape_check(ep->shape, w.buf, err) < 0;
		strbuf_release(&w);
		if (bad_shape)
			return -1;
	}
	ep->async = json_object_get(e, "async");
	if (ep->async && (!json_is_object(ep->async) || !jstr(ep->async, "path") || !jstr(ep->async, "id_path") ||
			  !jstr(ep->async, "poll_path") || !jstr(ep->async, "status_path") || !jstr(ep->async, "done"))) {
		strbuf_addf(err, "source '%s': endpoint '%s': async needs path, id_path, poll_path, status_path and done",
			    src, ep->name);
		return -1;
	}
	ep->max_nesting = (int)jnum(e, "max_table_nesting", 1000);
	jlist(e, "include_from_parent", &ep->include_from_parent);

	struct strvec parents = STRVEC_INIT;
	find_parent_refs(ep->path, &parents, &ep->parent_fields);
	const char *k;
	json_t *v;
	json_object_foreach(ep->params, k, v)
		if (json_is_string(v))
			find_parent_refs(json_string_value(v), &parents, &ep->parent_fields);
	for (size_t j = 0; j < ep->include_from_parent.nr; j++)
		if (!strvec_has(&ep->parent_fields, ep->include_from_parent.v[j]))
			strvec_push(&ep->parent_fields, ep->include_from_parent.v[j]);
	if (parents.nr > 1) {
		strbuf_addf(err, "source '%s': endpoint '%s' refers to more than one parent resource", src, ep->name);
		strvec_clear(&parents);
		return -1;
	}
	strvec_push(parent_names, parents.nr ? parents.v[0] : "");
	strvec_clear(&parents);
	(void)r;
	return 0;
}

static void endpoint_release(struct endpoint *ep)
{
	strvec_clear(&ep->primary_key);
	strvec_clear(&ep->include_from_parent);
	strvec_clear(&ep->parent_fields);
	for (size_t i = 0; i < ep->nr_rows * ep->keep.nr; i++)
		free(ep->rows[i]);
	free(ep->rows);
	free(ep->row_types);
	strvec_clear(&ep->keep);
}

static void rest_free(struct rest *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_eps; i++)
		endpoint_release(&r->eps[i]);
	free(r->eps);
	strvec_clear(&r->secret_vars);
	strvec_clear(&r->secret_headers);
	strvec_clear(&r->auth_match);
	strvec_clear(&r->rate_match);
	free(r->oauth_token);
	if (r->stored_token)
		memset(r->stored_token, 0, strlen(r->stored_token));
	free(r->stored_token);
	free(r->auth_query);
	http_client_release(&r->http);
	if (r->norm_ready)
		normalizer_release(&r->norm);
	free(r->batched);
	json_decref(r->conf);
	free(r);
}

/* The configuration of a source as JSON: its rest_api block, or its
 * preset expanded with its block. */
static int load_conf(const struct source *s, json_t **conf, const char **label, struct strbuf *err)
{
	json_t *block = s->block ? yaml_to_json(s->block) : json_object();
	int ret = -1;
	*label = NULL;
	if (!strcmp(s->type_name, "rest_api")) {
		*conf = block;
		return 0;
	}
	json_t *spec = NULL;
	int found = preset_load(s->type_name, &spec, err);
	if (found < 0)
		goto out;
	if (!found) {
		strbuf_addf(err, "source '%s': no API preset named '%s'", s->name, s->type_name);
		goto out;
	}
	if (preset_expand(spec, block, s->name, conf, err) < 0)
		goto out;
	ret = 0;
out:
	json_decref(spec);
	json_decref(block);
	return ret;
}

/* A dlt runtime setting: RUNTIME__NAME in the environment (or .env), else
 * [runtime] NAME in .dlt/config.toml, else dflt. The source's own key wins
 * over both. */
static double runtime_setting(struct sync_job *job, const char *name, double dflt)
{
	struct strbuf var = STRBUF_INIT;
	const char *origin = NULL;
	strbuf_addstr(&var, "RUNTIME__");
	for (const char *p = name; *p; p++)
		strbuf_addch(&var, (char)toupper((unsigned char)*p));
	const char *v = env_lookup(&job->project->env, var.buf, &origin);
	if (!v) {
		strbuf_reset(&var);
		strbuf_addf(&var, "runtime.%s", name);
		v = env_lookup(&job->project->env, var.buf, &origin);
	}
	char *end;
	double d = v ? strtod(v, &end) : 0;
	if (v && (end == v || *end || d < 0)) {
		/* said, not silently ignored */
		strvec_pushf(&job->warnings, "%s = '%s' (%s) is not a number >= 0; using %g", var.buf, v,
			     origin ? origin : "environment", dflt);
		v = NULL;
	}
	strbuf_release(&var);
	return v ? d : dflt;
}

/* The HTTP client's retries and (at debug level) requests, as progress
 * lines of the job, in order with its other lines. */
static void http_log(void *data, enum http_log_level level, const char *msg)
{
	struct sync_job *job = data;
	if (level == HTTP_LOG_DEBUG)
		job->progress(job, "DEBUG %s", msg);
	else
		job->progress(job, "%s", msg);
}

static int rest_parse(struct sync_job *job, const struct source *s, struct rest **out, struct strbuf *err)
{
	struct rest *r = xcalloc(1, sizeof(*r));
	struct strvec parent_names = STRVEC_INIT;
	struct strbuf tmp = STRBUF_INIT;
	const char *label;
	int ret = -1;
	*out = r;
	http_client_init(&r->http);
	r->http.log = http_log;
	r->http.log_data = job;
	r->http.log_debug = ui.level >= UI_DEBUG;
	if (load_conf(s, &r->conf, &label, err) < 0)
		goto out;
	json_t *c = r->conf;
	r->label = jstr(c, "label");
	r->base_url = jstr(c, "base_url");
	if (!r->base_url || !*r->base_url) {
		strbuf_addf(err, "source '%s': 'base_url' is required", s->name);
		goto out;
	}
	r->headers = json_object_get(c, "headers");
	r->http.timeout = jnum(c, "timeout", 60);
	r->http.rate_limit_delay = jnum(c, "rate_limit_delay", 0);
	r->http.max_attempts = (int)jnum(c, "request_max_attempts", runtime_setting(job, "request_max_attempts", 5));
	r->http.backoff_factor = jnum(c, "request_backoff_factor", runtime_setting(job, "request_backoff_factor", 1));
	r->http.max_retry_wait = jnum(c, "max_retry_wait", 60);
	double mb = jnum(c, "max_page_mb", 100);
	r->http.max_body = mb > 0 ? (int64_t)(mb * (1 << 20)) : 0;
	if (http_origin(r->base_url, &tmp) < 0) {
		strbuf_addf(err, "source '%s': base_url '%s' is not an http:// or https:// URL", s->name, r->base_url);
		goto out;
	}
	http_client_set_origin(&r->http, r->base_url, err);
	const char *co = jstr(c, "cross_origin");
	if (!co || !strcmp(co, "strip"))
		r->http.cross_origin = HTTP_CROSS_STRIP;
	else if (!strcmp(co, "refuse"))
		r->http.cross_origin = HTTP_CROSS_REFUSE;
	else if (!strcmp(co, "allow"))
		r->http.cross_origin = HTTP_CROSS_ALLOW;
	else {
		strbuf_addf(err, "source '%s': cross_origin '%s' is not strip, refuse or allow", s->name, co);
		goto out;
	}
	r->max_pages = (int64_t)jnum(c, "max_pages", 0);
	double conc = jnum(c, "concurrency", 4);
	if (conc < 1 || conc > 64 || conc != floor(conc)) {
		strbuf_addf(err, "source '%s': concurrency '%s' is not a whole number from 1 to 64", s->name,
			    jstr(c, "concurrency"));
		goto out;
	}
	r->concurrency = (int)conc;
	if (parse_paginator(json_object_get(c, "paginator"), &r->pg, s->name, err) < 0)
		goto out;

	const char *auth = jstr(c, "auth_type");
	if (!auth)
		auth = json_object_get(c, "auth_token_env") ? "bearer" : "none";
	if (!strcmp(auth, "bearer")) {
		r->auth = AUTH_BEARER;
		if (!(r->token = secret_from_env(r, job, c, "auth_token_env", err))) {
			if (!err->len)
				strbuf_addf(err, "source '%s': auth_type bearer needs auth_token_env", s->name);
			goto out;
		}
	} else if (!strcmp(auth, "api_key")) {
		r->auth = AUTH_API_KEY;
		r->key_name = jstr(c, "api_key_name");
		const char *loc = jstr(c, "api_key_location");
		r->key_in_query = loc && !strcmp(loc, "query");
		if (!r->key_name)
			r->key_name = r->key_in_query ? "api_key" : "X-API-Key";
		if (!(r->key_value = secret_from_env(r, job, c, "api_key_env", err))) {
			if (!err->len)
				strbuf_addf(err, "source '%s': auth_type api_key needs api_key_env", s->name);
			goto out;
		}
		if (r->key_in_query) {
			struct strbuf q = STRBUF_INIT;
			http_add_escaped(&q, r->key_name);
			strbuf_addch(&q, '=');
			http_add_escaped(&q, r->key_value);
			r->auth_query = strbuf_detach(&q, NULL);
		}
	} else if (!strcmp(auth, "basic")) {
		r->auth = AUTH_BASIC;
		/* a user name that is no secret may be written as it is (Zendesk's email/token) */
		if (!json_object_get(c, "username_env") && jstr(c, "username"))
			r->user = jstr(c, "username");
		else if (!(r->user = secret_from_env(r, job, c, "username_env", err))) {
			if (!err->len)
				strbuf_addf(err, "source '%s': auth_type basic needs username_env", s->name);
			goto out;
		}
		r->pass = json_object_get(c, "password_env") ? secret_from_env(r, job, c, "password_env", err)
			  : jstr(c, "password") ? jstr(c, "password") /* a fixed one (Freshdesk's X) */
						: "";
		if (!r->pass)
			goto out;
	} else if (!strcmp(auth, "oauth2_client_credentials")) {
		r->auth = AUTH_OAUTH2;
		r->token_url = jstr(c, "token_url");
		if (!r->token_url) {
			strbuf_addf(err, "source '%s': auth_type oauth2_client_credentials needs token_url", s->name);
			goto out;
		}
		if (!(r->client_id = secret_from_env(r, job, c, "client_id_env", err)) ||
		    !(r->client_secret = secret_from_env(r, job, c, "client_secret_env", err))) {
			if (!err->len)
				strbuf_addf(err, "source '%s': oauth2_client_credentials needs client_id_env and client_secret_env",
					    s->name);
			goto out;
		}
		json_t *sc = json_object_get(c, "scopes");
		if (json_is_array(sc)) {
			struct strbuf sb = STRBUF_INIT;
			size_t i;
			json_t *it;
			json_array_foreach(sc, i, it) if (json_is_string(it)) strbuf_addf(&sb, "%s%s", sb.len ? " " : "",
										      json_string_value(it));
			json_object_set_new(c, "scopes", json_string(sb.buf));
			strbuf_release(&sb);
		}
		r->scopes = jstr(c, "scopes");
		r->token_path = jstr(c, "token_path");
		const char *tb = jstr(c, "token_body");
		r->token_json = tb && !strcmp(tb, "json");
	} else if (!strcmp(auth, "custom_header")) {
		r->auth = AUTH_CUSTOM;
		r->header_name = jstr(c, "header_name");
		if (!r->header_name) {
			strbuf_addf(err, "source '%s': auth_type custom_header needs header_name", s->name);
			goto out;
		}
		if (!(r->header_value = secret_from_env(r, job, c, "header_value_env", err))) {
			if (!err->len)
				strbuf_addf(err, "source '%s': auth_type custom_header needs header_value_env", s->name);
			goto out;
		}
	} else if (!strcmp(auth, "oauth")) {
		/* the token comes from `dango oauth setup`, checked before the first request */
		r->auth = AUTH_STORED;
		r->oauth_credential = jstr(c, "oauth_credential");
		r->oauth_provider = jstr(c, "oauth_provider");
		if (r->oauth_credential && !oauth_valid_name(r->oauth_credential)) {
			strbuf_addf(err, "source '%s': oauth_credential '%s' is not a credential name (letters, digits, _ . -)",
				    s->name, r->oauth_credential);
			goto out;
		}
	} else if (strcmp(auth, "none")) {
		strbuf_addf(err, "source '%s': unknown auth_type '%s'", s->name, auth);
		goto out;
	}

	/* more secrets in headers (Google Ads' developer-token): name -> variable */
	const char *hk;
	json_t *hv;
	json_object_foreach(json_object_get(c, "secret_headers"), hk, hv) {
		json_t *one = json_object();
		json_object_set(one, "v", hv);
		const char *val = secret_from_env(r, job, one, "v", err);
		if (val) {
			struct strbuf h = STRBUF_INIT;
			strbuf_addf(&h, "%s: %s", hk, val);
			strvec_push(&r->secret_headers, h.buf);
			strbuf_release(&h);
		}
		json_decref(one);
		if (!val)
			goto out;
	}
	jlist(c, "auth_error_match", &r->auth_match);
	jlist(c, "rate_limit_match", &r->rate_match);
	r->response_error = json_object_get(c, "response_error");
	if (r->response_error && (!json_is_object(r->response_error) || !jstr(r->response_error, "path"))) {
		strbuf_addf(err, "source '%s': response_error needs a 'path' (and 'value', 'message_path')", s->name);
		goto out;
	}
	json_t *eps = json_object_get(c, "endpoints");
	if (!json_is_array(eps) || !json_array_size(eps)) {
		strbuf_addf(err, "source '%s': 'endpoints' must list at least one endpoint", s->name);
		goto out;
	}
	r->nr_eps = json_array_size(eps);
	r->eps = xcalloc(r->nr_eps, sizeof(*r->eps));
	for (size_t i = 0; i < r->nr_eps; i++)
		if (parse_endpoint(r, json_array_get(eps, i), &r->eps[i], &parent_names, i, s->name, err) < 0) {
			r->nr_eps = i + 1;
			goto out;
		}
	for (size_t i = 0; i < r->nr_eps; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->eps[i].name, r->eps[j].name)) {
				strbuf_addf(err, "source '%s': two endpoints are named '%s'", s->name, r->eps[i].name);
				goto out;
			}
		if (!*parent_names.v[i])
			continue;
		for (size_t j = 0; j < r->nr_eps; j++)
			if (!strcmp(r->eps[j].name, parent_names.v[i]))
				r->eps[i].parent = (int)j;
		if (r->eps[i].parent < 0 || r->eps[i].parent == (int)i) {
			strbuf_addf(err, "source '%s': endpoint '%s' refers to resources.%s, which is not an endpoint", s->name,
				    r->eps[i].name, parent_names.v[i]);
			goto out;
		}
	}
	/* no cycles: each chain of parents ends */
	for (size_t i = 0; i < r->nr_eps; i++) {
		int p = r->eps[i].parent;
		for (size_t steps = 0; p >= 0; steps++) {
			if (steps > r->nr_eps) {
				strbuf_addf(err, "source '%s': endpoint '%s' is its own ancestor", s->name, r->eps[i].name);
				goto out;
			}
			p = r->eps[p].parent;
		}
	}
	if (!r->label)
		r->label = r->base_url;
	ret = 0;
out:
	strvec_clear(&parent_names);
	strbuf_release(&tmp);
	return ret;
}

int rest_api_config(const struct source *s, json_t **conf, struct strbuf *err)
{
	const char *label;
	return load_conf(s, conf, &label, err);
}

int rest_api_oauth_status(const struct source *s, const struct project *p, struct strbuf *report)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT, line = STRBUF_INIT;
	json_t *conf = NULL;
	int ret = 0;
	if (rest_api_config(s, &conf, &err) < 0)
		goto out; /* the sync and the other checks say what is wrong */
	const char *auth = json_string_value(json_object_get(conf, "auth_type"));
	if (!auth || strcmp(auth, "oauth"))
		goto out;
	if (oauth_credential_for(p, s->name, json_string_value(json_object_get(conf, "oauth_credential")),
				 json_string_value(json_object_get(conf, "oauth_provider")), &name, &err) < 0 ||
	    oauth_peek(p, name.buf, &line, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		ret = -1;
		goto out;
	}
	strbuf_addf(report, "✓ %s\n", line.buf);
out:
	json_decref(conf);
	strbuf_release(&err);
	strbuf_release(&name);
	strbuf_release(&line);
	return ret;
}

/* ---- connector: open / close ------------------------------------------------------ */

static int rest_open(struct sync_job *job, struct strbuf *err)
{
	struct rest *r;
	int ret = rest_parse(job, job->source, &r, err);
	job->conn = r;
	/* DuckDB keeps the blocks a load wrote in its buffer pool until its
	 * memory limit (80% of RAM by default) makes it evict them, so the
	 * peak grew with the records (300 MB at 5M); under 128 MB it stays
	 * near 200 MB, with two files parsed at once (see SPOOL_GROUP) */
	job->load_memory_limit = "128MB";
	return ret;
}

static void rest_close(struct sync_job *job)
{
	rest_free(job->conn);
	job->conn = NULL;
}

/* ---- requests ------------------------------------------------------------------ */

static void base64(struct strbuf *sb, const char *s)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		strbuf_addch(sb, tbl[v >> 18 & 63]);
		strbuf_addch(sb, tbl[v >> 12 & 63]);
		strbuf_addch(sb, i + 1 < n ? tbl[v >> 6 & 63] : '=');
		strbuf_addch(sb, i + 2 < n ? tbl[v & 63] : '=');
	}
}

static void masked(struct rest *r, struct strbuf *sb, const char *url)
{
	http_mask(&r->http, sb, url);
}

/* The API's own words about a failure, from the usual places of its error
 * body (Stripe's error.message, Slack's error, Jira's errorMessages, ...),
 * else the body's start; secrets masked, on one line. */
static void api_says(struct rest *r, const struct http_response *resp, struct strbuf *out)
{
	static const char *const paths[] = { "error.message", "error_description", "message", "errors.0.message",
					     "errorMessages.0", "error.0.message", "0.message", "0.error.message",
					     "error.messages.0", "error", "errors",
					     "detail", "title", "msg", NULL };
	struct jv_doc doc = JV_DOC_INIT;
	struct strbuf e = STRBUF_INIT, text = STRBUF_INIT, masked_text = STRBUF_INIT;
	if (!resp || !resp->body.len)
		goto out;
	if (jv_parse(&doc, resp->body.buf, resp->body.len, &e) == 0) {
		for (size_t i = 0; paths[i] && !text.len; i++) {
			const struct jv *v = jv_path(doc.root, paths[i]);
			if (v && v->type == JV_STR)
				jv_text(v, &text);
		}
	}
	if (!text.len && (!resp->content_type || !strcasestr(resp->content_type, "html")))
		strbuf_add(&text, resp->body.buf, resp->body.len < 200 ? resp->body.len : 200);
	if (!text.len)
		goto out;
	http_mask(&r->http, &masked_text, text.buf);
	for (size_t i = 0; i < masked_text.len && i < 300; i++)
		strbuf_addch(out, masked_text.buf[i] == '\n' || masked_text.buf[i] == '\r' ? ' ' : masked_text.buf[i]);
out:
	jv_doc_release(&doc);
	strbuf_release(&e);
	strbuf_release(&text);
	strbuf_release(&masked_text);
}

static int auth_error(struct rest *r, struct sync_job *job, long status, const char *url,
		      const struct http_response *resp, struct strbuf *err)
{
	struct strbuf m = STRBUF_INIT, says = STRBUF_INIT;
	masked(r, &m, url);
	if (r->auth == AUTH_STORED) {
		const char *cred = r->oauth_credential ? r->oauth_credential : "?";
		const char *prov = r->oauth_provider ? r->oauth_provider : "PROVIDER";
		int same = !strcmp(cred, prov);
		strbuf_addf(err, "AuthenticationError: the API refused the OAuth token of credential '%s' (HTTP %ld from %s); "
			    "it may have been revoked or lack a scope: run dango oauth setup %s%s%s",
			    cred, status, m.buf, prov, same ? "" : " --name ", same ? "" : cred);
		strbuf_release(&m);
		return -1;
	}
	strbuf_addf(err, "AuthenticationError: %s (HTTP %ld from %s); ",
		    status == 401 ? (r->auth == AUTH_NONE ? "The API asks for credentials" : "Invalid API key")
		    : status == 403 ? "Access denied: the credentials lack permission"
				    : "The API refused the credentials",
		    status, m.buf);
	if (r->secret_vars.nr) {
		strbuf_addf(err, "check the environment variable%s ", r->secret_vars.nr > 1 ? "s" : "");
		for (size_t i = 0; i < r->secret_vars.nr; i++)
			strbuf_addf(err, "%s%s", i ? (i + 1 == r->secret_vars.nr ? " and " : ", ") : "", r->secret_vars.v[i]);
		strbuf_addstr(err, " (dango source list --verbose shows it masked)");
	} else {
		strbuf_addf(err, "set auth_type and its *_env key for source '%s' in .dango/sources.yml", job->source->name);
	}
	api_says(r, resp, &says);
	if (says.len)
		strbuf_addf(err, "\nThe API says: %s", says.buf);
	strbuf_release(&m);
	strbuf_release(&says);
	return -1;
}

static int status_error(struct rest *r, struct sync_job *job, const char *url, const struct http_response *resp,
			struct strbuf *err)
{
	struct strbuf m = STRBUF_INIT;
	long st = resp->status;
	if (resp->url)
		url = resp->url; /* as sent, after redirects, secrets masked */
	int is_rate = st == 429, is_auth = st == 401 || st == 403;
	for (size_t i = 0; i < r->rate_match.nr && !is_rate; i++)
		is_rate = strstr(resp->body.buf ? resp->body.buf : "", r->rate_match.v[i]) != NULL;
	for (size_t i = 0; i < r->auth_match.nr && !is_auth && !is_rate; i++)
		is_auth = strstr(resp->body.buf ? resp->body.buf : "", r->auth_match.v[i]) != NULL;
	if (is_auth && !is_rate)
		return auth_error(r, job, st, url, resp, err);
	masked(r, &m, url);
	if (is_rate) {
		strbuf_addf(err,
			    "RateLimitError: Too many requests (HTTP %ld from %s, %d attempt%s)\n"
			    "Hints:\n"
			    "  - reduce workers: dango sync %s --workers 1\n"
			    "  - add delays between requests in the source's block of .dango/sources.yml:\n"
			    "      rate_limit_delay: 1.0  # seconds between requests\n"
			    "  - sync less frequently (daily rather than hourly), or incrementally",
			    st, m.buf, resp->attempts, resp->attempts == 1 ? "" : "s", job->source->name);
		struct strbuf says = STRBUF_INIT;
		api_says(r, resp, &says);
		if (says.len)
			strbuf_addf(err, "\nThe API says: %s", says.buf);
		strbuf_release(&says);
	} else {
		strbuf_addf(err, "HTTP %ld from %s", st, m.buf);
		if (resp->attempts > 1)
			strbuf_addf(err, " (after %d attempts)", resp->attempts);
		/* the API's own words, briefly */
		size_t n = resp->body.len;
		if (n) {
			struct strbuf body = STRBUF_INIT;
			http_mask(&r->http, &body, resp->body.buf);
			strbuf_addstr(err, ": ");
			for (size_t i = 0; i < body.len && i < 300; i++)
				strbuf_addch(err, body.buf[i] == '\n' || body.buf[i] == '\r' ? ' ' : body.buf[i]);
			if (body.len > 300)
				strbuf_addstr(err, "...");
			strbuf_release(&body);
		}
	}
	strbuf_release(&m);
	return -1;
}

static int oauth_token(struct rest *r, struct sync_job *job, struct strbuf *err)
{
	if (r->oauth_token && http_now() < r->oauth_expires)
		return 0;
	struct strbuf body = STRBUF_INIT, e = STRBUF_INIT;
	struct strvec headers = STRVEC_INIT;
	struct http_response resp;
	struct jv_doc doc = JV_DOC_INIT;
	int ret = -1;
	http_response_init(&resp);
	if (r->token_json) {
		/* APIs with their own token call (Personio's /v1/auth) */
		strbuf_addstr(&body, "{\"client_id\":");
		strbuf_add_json_str(&body, r->client_id);
		strbuf_addstr(&body, ",\"client_secret\":");
		strbuf_add_json_str(&body, r->client_secret);
		strbuf_addch(&body, '}');
		strvec_push(&headers, "Content-Type: application/json");
	} else {
		strbuf_addstr(&body, "grant_type=client_credentials&client_id=");
		http_add_escaped(&body, r->client_id);
		strbuf_addstr(&body, "&client_secret=");
		http_add_escaped(&body, r->client_secret);
		if (r->scopes && *r->scopes) {
			strbuf_addstr(&body, "&scope=");
			http_add_escaped(&body, r->scopes);
		}
		strvec_push(&headers, "Content-Type: application/x-www-form-urlencoded");
	}
	strvec_push(&headers, "Accept: application/json");
	struct http_request req = { .method = "POST", .url = r->token_url, .headers = &headers, .body = body.buf,
				    .body_secret = 1, .origin = r->token_url };
	if (http_do(&r->http, &req, &resp, err) < 0)
		goto out;
	if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
		auth_error(r, job, 401, r->token_url, &resp, err);
		goto out;
	}
	if (resp.status >= 300) {
		status_error(r, job, r->token_url, &resp, err);
		goto out;
	}
	const char *tpath = r->token_path ? r->token_path : "access_token";
	if (jv_parse(&doc, resp.body.buf, resp.body.len, &e) < 0 || !jv_path(doc.root, tpath)) {
		struct strbuf m = STRBUF_INIT;
		masked(r, &m, r->token_url);
		strbuf_addf(err, "AuthenticationError: the token endpoint %s answered without %s", m.buf, tpath);
		strbuf_release(&m);
		goto out;
	}
	struct strbuf tok = STRBUF_INIT;
	jv_text(jv_path(doc.root, tpath), &tok);
	free(r->oauth_token);
	r->oauth_token = strbuf_detach(&tok, NULL);
	http_client_add_secret(&r->http, r->oauth_token);
	double expires = 3600;
	struct strbuf ex = STRBUF_INIT;
	if (jv_text(jv_get(doc.root, "expires_in"), &ex) == 0)
		expires = strtod(ex.buf, NULL);
	strbuf_release(&ex);
	/* renew a little before the API would refuse it */
	r->oauth_expires = http_now() + (expires > 120 ? expires - 60 : expires / 2);
	ret = 0;
out:
	strbuf_release(&body);
	strbuf_release(&e);
	strvec_clear(&headers);
	http_response_release(&resp);
	jv_doc_release(&doc);
	return ret;
}

/* auth_type oauth: which credential, and its token after the pre-sync
 * check (renewed first when it must be; a warning when it expires soon;
 * an error, before any request, when it has expired). */
static int resolve_credential(struct rest *r, struct sync_job *job, struct strbuf *name, struct strbuf *err)
{
	if (oauth_credential_for(job->project, job->source->name, r->oauth_credential, r->oauth_provider, name, err) < 0)
		return -1;
	r->oauth_credential = NULL; /* named below from the resolved name */
	json_object_set_new(r->conf, "oauth_credential", json_string(name->buf));
	r->oauth_credential = jstr(r->conf, "oauth_credential");
	return 0;
}

static int stored_token(struct rest *r, struct sync_job *job, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int ret = -1;
	if (r->auth != AUTH_STORED || r->stored_token)
		return 0;
	if (resolve_credential(r, job, &name, err) < 0)
		goto out;
	if (oauth_prepare(job->project, name.buf, &r->stored_token, &job->warnings, err) < 0)
		goto out;
	http_client_add_secret(&r->http, r->stored_token);
	ret = 0;
out:
	strbuf_release(&name);
	return ret;
}

/* A 401 with a stored token: renewed once (a token may expire during a
 * long sync), then the request is made again. 1 renewed, 0 not, -1 the
 * refresh failed (err). */
static int renew_stored(struct rest *r, struct sync_job *job, struct strbuf *err)
{
	char *tok = NULL;
	if (r->auth != AUTH_STORED || !r->stored_token || r->just_renewed)
		return 0;
	int rc = oauth_renew(job->project, r->oauth_credential, r->stored_token, &tok, err);
	if (rc <= 0)
		return rc;
	memset(r->stored_token, 0, strlen(r->stored_token));
	free(r->stored_token);
	r->stored_token = tok;
	http_client_add_secret(&r->http, tok);
	r->just_renewed = 1;
	job->progress(job, "the API refused the OAuth token of %s (HTTP 401): renewed it, trying again",
		      r->oauth_credential);
	return 1;
}

static void add_header_json(struct strvec *h, json_t *headers)
{
	const char *k;
	json_t *v;
	json_object_foreach(headers, k, v) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "%s: ", k);
		size_t len = sb.len;
		/* an empty value (an optional header the user did not set) is not sent */
		if (json_scalar_text(v, &sb) && sb.len > len)
			strvec_push(h, sb.buf);
		strbuf_release(&sb);
	}
}

/* The headers of a request: h goes to every origin; auth (the configured
 * headers, which may hold keys, and the credentials) only to the source's
 * own origin. */
static int request_headers(struct rest *r, struct sync_job *job, const struct endpoint *ep, struct strvec *h,
			   struct strvec *auth, struct strbuf *err)
{
	strvec_push(h, "Accept: application/json");
	add_header_json(auth, r->headers);
	if (ep)
		add_header_json(auth, ep->headers);
	for (size_t i = 0; i < r->secret_headers.nr; i++)
		strvec_push(auth, r->secret_headers.v[i]);
	struct strbuf sb = STRBUF_INIT;
	switch (r->auth) {
	case AUTH_BEARER:
		strvec_pushf(auth, "Authorization: Bearer %s", r->token);
		break;
	case AUTH_API_KEY:
		if (!r->key_in_query)
			strvec_pushf(auth, "%s: %s", r->key_name, r->key_value);
		break;
	case AUTH_BASIC:
		strbuf_addf(&sb, "%s:%s", r->user, r->pass ? r->pass : "");
		{
			struct strbuf enc = STRBUF_INIT;
			base64(&enc, sb.buf);
			strvec_pushf(auth, "Authorization: Basic %s", enc.buf);
			http_client_add_secret(&r->http, enc.buf);
			strbuf_release(&enc);
		}
		break;
	case AUTH_OAUTH2:
		if (oauth_token(r, job, err) < 0) {
			strbuf_release(&sb);
			return -1;
		}
		strvec_pushf(auth, "Authorization: Bearer %s", r->oauth_token);
		break;
	case AUTH_CUSTOM:
		strvec_pushf(auth, "%s: %s", r->header_name, r->header_value);
		break;
	case AUTH_STORED:
		if (r->stored_token)
			strvec_pushf(auth, "Authorization: Bearer %s", r->stored_token);
		break;
	default:
		break;
	}
	strbuf_release(&sb);
	return 0;
}

/* ---- templates and dates ---------------------------------------------------------- */

struct tctx {
	const char *start, *end;          /* incremental values, or NULL */
	const struct endpoint *parent;    /* for {resources.P.F} */
	const struct endpoint *child;
	size_t parent_row;
	const char *async_id;             /* {async.id}: the report being read */
};

static const char *parent_value(const struct tctx *t, const char *field, struct strbuf *tmp)
{
	if (!t->parent || !t->child)
		return NULL;
	for (size_t i = 0; i < t->parent->keep.nr; i++) {
		if (strcmp(t->parent->keep.v[i], field))
			continue;
		const char *raw = t->parent->rows[t->parent_row * t->parent->keep.nr + i];
		if (!raw)
			return NULL;
		strbuf_reset(tmp);
		if (raw[0] == '"')
			jv_unescape(tmp, raw + 1, strlen(raw) - 2);
		else
			strbuf_addstr(tmp, raw);
		return tmp->buf;
	}
	return NULL;
}

/* Expand {incremental.start_value}, {incremental.end_value} and
 * {resources.P.F} in s into out; escape: percent-encode the values (for
 * paths). Returns -1 if a placeholder has no value (err says which). */
static int expand(const char *s, const struct tctx *t, int escape, struct strbuf *out, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	while (*s) {
		const char *open = strchr(s, '{'), *close = open ? strchr(open, '}') : NULL;
		if (!open || !close) {
			strbuf_addstr(out, s);
			break;
		}
		/* the innermost braces: JSON text around a placeholder stays as it is
		 * ({"since":"{incremental.start_value}"}) */
		for (const char *p = open + 1; p < close; p++)
			if (*p == '{')
				open = p;
		strbuf_add(out, s, (size_t)(open - s));
		char *name = xstrndup(open + 1, (size_t)(close - open - 1));
		const char *val = NULL;
		int known = 1;
		if (!strcmp(name, "incremental.start_value") || !strcmp(name, "incremental.initial_value"))
			val = t->start;
		else if (!strcmp(name, "incremental.end_value"))
			val = t->end;
		else if (!strcmp(name, "async.id"))
			val = t->async_id;
		else if (!strcmp(name, "now")) {
			strbuf_reset(&tmp);
			strbuf_addf(&tmp, "%lld", (long long)clock_now_sec());
			val = tmp.buf;
		}
		else if (!strcmp(name, "today")) {
			/* the API's "until now" where it wants a date (time ranges) */
			char day[16];
			time_t now = (time_t)clock_now_sec();
			struct tm tm;
			gmtime_r(&now, &tm);
			strftime(day, sizeof(day), "%Y-%m-%d", &tm);
			strbuf_reset(&tmp);
			strbuf_addstr(&tmp, day);
			val = tmp.buf;
		}
		else if (starts_with(name, "resources.")) {
			const char *dot = strchr(name + 10, '.');
			val = dot ? parent_value(t, dot + 1, &tmp) : NULL;
		} else
			known = 0;
		if (known && !val) {
			if (starts_with(name, "incremental.")) {
				/* no start yet: an empty value */
				val = "";
			} else {
				strbuf_addf(err, "no value for {%s}", name);
				free(name);
				strbuf_release(&tmp);
				return -1;
			}
		}
		if (!known)
			strbuf_add(out, open, (size_t)(close - open + 1));
		else if (escape)
			http_add_escaped(out, val);
		else
			strbuf_addstr(out, val);
		free(name);
		s = close + 1;
	}
	strbuf_release(&tmp);
	return 0;
}

/* "2024-06-01", "2024-06-01T10:00:00Z", "2024-06-01 10:00:00+02:00" -> epoch seconds. */
static int parse_when(const char *s, time_t *out, int *date_only)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	*date_only = 1;
	const char *p = s + n;
	long off = 0;
	if (*p == 'T' || *p == ' ') {
		int m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
			return -1;
		p += 1 + m;
		if (*p == ':') {
			se = (int)strtol(p + 1, (char **)&p, 10);
		}
		if (*p == '.')
			while (*++p >= '0' && *p <= '9')
				;
		if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh = 0, om = 0;
			/* +02:00, or +0200 as Jira writes it */
			if (p[1] && p[2] && p[3] == ':' ? sscanf(p + 1, "%2d:%2d", &oh, &om) < 1
							: sscanf(p + 1, "%2d%2d", &oh, &om) < 1)
				return -1;
			off = sign * (oh * 3600L + om * 60L);
		}
		*date_only = 0;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm) - off;
	return 0;
}

static int is_number(const char *s)
{
	char *end;
	if (!s || !*s)
		return 0;
	strtod(s, &end);
	return !*end;
}

/* A start value in the form the API takes. */
static char *format_start(const struct endpoint *ep, const char *v)
{
	time_t t;
	int date_only;
	if (!v)
		return NULL;
	if (ep->inc.unix_time && !is_number(v) && parse_when(v, &t, &date_only) == 0)
		return xasprintf("%lld", (long long)t);
	if (ep->inc.format && *v && (is_number(v) || parse_when(v, &t, &date_only) == 0)) {
		char buf[80];
		struct tm tm;
		if (is_number(v))
			t = (time_t)strtoll(v, NULL, 10);
		gmtime_r(&t, &tm);
		if (strftime(buf, sizeof(buf), ep->inc.format, &tm))
			return xstrdup(buf);
	}
	return xstrdup(v);
}

/* v moved back by days, in v's own form. */
static char *minus_days(const char *v, int64_t days)
{
	time_t t;
	int date_only;
	char buf[40];
	if (is_number(v))
		return xasprintf("%lld", (long long)(strtoll(v, NULL, 10) - days * 86400));
	if (parse_when(v, &t, &date_only) < 0)
		return xstrdup(v);
	t -= (time_t)(days * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/* Compare cursor values: as numbers when both are, else as text (ISO dates
 * sort as text). */
static int cursor_cmp(const char *a, const char *b)
{
	if (is_number(a) && is_number(b)) {
		double x = strtod(a, NULL), y = strtod(b, NULL);
		return x < y ? -1 : x > y;
	}
	/* two times in different spellings (…05:00:00.000Z and …05:00:00Z,
	 * +0000 and Z) compare as instants, to the second */
	time_t ta, tb;
	int da, db;
	if (strlen(a) > 10 && strlen(b) > 10 && parse_when(a, &ta, &da) == 0 && parse_when(b, &tb, &db) == 0 && ta != tb)
		return ta < tb ? -1 : 1;
	if (strlen(a) > 10 && strlen(b) > 10 && parse_when(a, &ta, &da) == 0 && parse_when(b, &tb, &db) == 0)
		return 0;
	return strcmp(a, b);
}

/* ---- paging ---------------------------------------------------------------------- */

static void url_join(struct strbuf *url, const char *base, const char *path)
{
	if (starts_with(path, "http://") || starts_with(path, "https://")) {
		strbuf_addstr(url, path);
		return;
	}
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	if (path[0] == '/' && path[1] != '/') {
		/* an absolute path keeps the base's own path prefix (https://h/api + /users) */
		strbuf_add(url, base, bl);
		strbuf_addstr(url, path);
	} else {
		strbuf_add(url, base, bl);
		if (*path)
			strbuf_addch(url, '/');
		strbuf_addstr(url, path);
	}
}

/* A next link from the API: absolute, or relative to the base URL's host. */
static void resolve_link(struct strbuf *out, const char *base, const char *link)
{
	if (starts_with(link, "http://") || starts_with(link, "https://")) {
		strbuf_addstr(out, link);
	} else if (link[0] == '/') {
		const char *host = strstr(base, "://");
		const char *slash = host ? strchr(host + 3, '/') : NULL;
		if (slash)
			strbuf_add(out, base, (size_t)(slash - base));
		else
			strbuf_addstr(out, base);
		strbuf_addstr(out, link);
	} else {
		url_join(out, base, link);
	}
}

static void add_param(struct strbuf *q, const char *k, const char *v)
{
	strbuf_addch(q, q->len ? '&' : '?');
	http_add_escaped(q, k);
	strbuf_addch(q, '=');
	http_add_escaped(q, v);
}

static int truthy(const struct jv *v)
{
	if (!v || v->type == JV_NULL || v->type == JV_FALSE)
		return 0;
	if (v->type == JV_NUM)
		return !(v->len == 1 && v->s[0] == '0');
	if (v->type == JV_STR)
		return v->len && !(v->len == 5 && !memcmp(v->s, "false", 5));
	return 1;
}

static const struct jv *find_records(const struct jv *root, const char *selector, int *found)
{
	static const char *const keys[] = { "data", "results", "items", "records", "entries", "values", "rows", NULL };
	*found = 1;
	if (selector)
		return jv_path(root, selector);
	if (root->type == JV_ARR)
		return root;
	for (size_t i = 0; keys[i]; i++) {
		const struct jv *v = jv_get(root, keys[i]);
		if (v && v->type == JV_ARR)
			return v;
		/* {"data": {"items": [...]}} */
		if (v && v->type == JV_OBJ)
			for (size_t k = 0; keys[k]; k++) {
				const struct jv *w = jv_get(v, keys[k]);
				if (w && w->type == JV_ARR)
					return w;
			}
	}
	for (size_t i = 0; root->type == JV_OBJ && i < root->n; i++)
		if (root->kids[i].type == JV_ARR)
			return &root->kids[i];
	/* one object: one record */
	*found = 0;
	return root;
}

struct fetch {
	struct endpoint *ep;
	const char *start, *end;          /* incremental window, formatted for the API */
	const char *filter_start, *filter_end;  /* client-side filter (no server param) */
	char *max_cursor, *min_cursor;
	int64_t rows, pages;
	int parent_row;                   /* -1: not a child */
	/* An append resource's boundary, as dlt's incremental keeps it: the
	 * keys (primary key, else a hash of the record) of the records at the
	 * highest cursor value. An inclusive start parameter (updated_since,
	 * created[gte]) brings the previous sync's boundary records back; they
	 * are dropped rather than loaded twice. */
	int dedupe;                       /* an append resource with a cursor */
	const char *prev_cursor;          /* the cursor committed last time */
	struct strvec prev_keys;          /* its boundary keys, sorted */
	struct strvec max_keys;           /* the keys at max_cursor in this sync */
	int64_t dropped;                  /* records of the previous sync skipped */
};

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The boundary key of a record: its primary key, else a hash of its JSON. */
static void record_key(const struct endpoint *ep, const struct jv *rec, struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct hash64 h;
	int ok = ep->primary_key.nr > 0;
	for (size_t k = 0; k < ep->primary_key.nr && ok; k++) {
		if (k)
			strbuf_addch(&sb, '\x1f');
		ok = jv_text(jv_path(rec, ep->primary_key.v[k]), &sb) == 0;
	}
	hash64_init(&h);
	if (ok) {
		hash64_update(&h, "k", 1);
		hash64_update(&h, sb.buf, sb.len);
	} else {
		const char *raw;
		size_t n;
		jv_raw(rec, &raw, &n);
		hash64_update(&h, "r", 1);
		hash64_update(&h, raw, n);
	}
	strbuf_addf(out, "%016llx", (unsigned long long)hash64_final(&h));
	strbuf_release(&sb);
}

/* Track the boundary; 1 when the record was loaded by the previous sync. */
static int boundary_seen(struct fetch *f, const struct jv *rec, const char *cursor, int above_max, int at_max)
{
	struct strbuf key = STRBUF_INIT;
	int seen = 0;
	record_key(f->ep, rec, &key);
	if (above_max)
		strvec_clear(&f->max_keys);
	if (above_max || at_max)
		strvec_push(&f->max_keys, key.buf);
	if (f->prev_cursor && f->prev_keys.nr && !cursor_cmp(cursor, f->prev_cursor)) {
		const char *k = key.buf;
		seen = bsearch(&k, f->prev_keys.v, f->prev_keys.nr, sizeof(*f->prev_keys.v), cmp_strp) != NULL;
	}
	strbuf_release(&key);
	return seen;
}

/* The raw value of field "_P_F" for a child row: its parent P's field F. */
static const char *parent_field(const struct rest *r, const struct endpoint *ep, int parent_row, const char *name,
				enum norm_type *type)
{
	if (parent_row < 0 || ep->parent < 0 || name[0] != '_')
		return NULL;
	const struct endpoint *p = &r->eps[ep->parent];
	size_t n = strlen(p->name);
	if (strncmp(name + 1, p->name, n) || name[1 + n] != '_')
		return NULL;
	for (size_t k = 0; k < p->keep.nr; k++)
		if (!strcmp(p->keep.v[k], name + 2 + n)) {
			*type = p->row_types[(size_t)parent_row * p->keep.nr + k];
			return p->rows[(size_t)parent_row * p->keep.nr + k];
		}
	return NULL;
}

static int add_record(struct rest *r, struct sync_job *job, struct fetch *f, const struct jv *rec, struct strbuf *err)
{
	struct endpoint *ep = f->ep;
	struct strbuf tmp = STRBUF_INIT;
	int ret = -1;
	if (ep->inc.set && (rec->type == JV_OBJ || !strcmp(ep->inc.cursor_path, "$"))) {
		const struct jv *cv = jv_path(rec, ep->inc.cursor_path);
		if (cv && jv_text(cv, &tmp) == 0 && ep->inc.cursor_format) {
			/* the API's own date form (GA4's 20240105) as ISO, so that
			 * lookback and the next start value work on it */
			struct tm tm;
			char buf[40];
			memset(&tm, 0, sizeof(tm));
			const char *end = strptime(tmp.buf, ep->inc.cursor_format, &tm);
			if (end && !*end) {
				int timed = strstr(ep->inc.cursor_format, "%H") != NULL;
				strftime(buf, sizeof(buf), timed ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
				strbuf_reset(&tmp);
				strbuf_addstr(&tmp, buf);
			}
		}
		if (cv && tmp.len) {
			if (f->filter_start && *f->filter_start && cursor_cmp(tmp.buf, f->filter_start) < 0) {
				ret = 0;
				goto out;
			}
			if (f->filter_end && *f->filter_end && cursor_cmp(tmp.buf, f->filter_end) > 0) {
				ret = 0;
				goto out;
			}
			int above = !f->max_cursor || cursor_cmp(tmp.buf, f->max_cursor) > 0;
			int at = !above && !cursor_cmp(tmp.buf, f->max_cursor);
			if (above) {
				free(f->max_cursor);
				f->max_cursor = xstrdup(tmp.buf);
			}
			if (!f->min_cursor || cursor_cmp(tmp.buf, f->min_cursor) < 0) {
				free(f->min_cursor);
				f->min_cursor = xstrdup(tmp.buf);
			}
			if (f->dedupe && boundary_seen(f, rec, tmp.buf, above, at)) {
				f->dropped++;
				ret = 0;
				goto out;
			}
		}
	}
	/* keep what children need of this row */
	size_t nf = ep->keep.nr;
	if (nf) {
		ALLOC_GROW(ep->rows, (ep->nr_rows + 1) * nf, ep->alloc_rows);
		ALLOC_GROW(ep->row_types, (ep->nr_rows + 1) * nf, ep->alloc_types);
		for (size_t k = 0; k < nf; k++) {
			/* "$" is the record itself (a list of URLs, as Chess.com's archives) */
			const struct jv *v = rec->type == JV_OBJ || !strcmp(ep->keep.v[k], "$") ? jv_path(rec, ep->keep.v[k]) : NULL;
			const char *raw;
			size_t n;
			char **slot = &ep->rows[ep->nr_rows * nf + k];
			enum norm_type pt = NT_NONE;
			const char *from_parent = v ? NULL : parent_field(r, ep, f->parent_row, ep->keep.v[k], &pt);
			if (from_parent) {
				/* _P_F: the parent's field F, as include_from_parent names it
				 * (Slack's replies need the channel of the message) */
				*slot = xstrdup(from_parent);
				ep->row_types[ep->nr_rows * nf + k] = pt;
			} else if (v && v->type != JV_NULL) {
				jv_raw(v, &raw, &n);
				*slot = xstrndup(raw, n);
				ep->row_types[ep->nr_rows * nf + k] = norm_value_type(v);
			} else {
				*slot = NULL;
				ep->row_types[ep->nr_rows * nf + k] = NT_NONE;
			}
		}
		ep->nr_rows++;
	}
	if (ep->write) {
		struct norm_extra extra[32];
		size_t nx = 0;
		struct strbuf names[32];
		if (f->parent_row >= 0) {
			const struct endpoint *p = &r->eps[ep->parent];
			size_t pf = p->keep.nr;
			for (size_t k = 0; k < ep->include_from_parent.nr && nx < 32; k++) {
				size_t slot = 0;
				while (slot < pf && strcmp(p->keep.v[slot], ep->include_from_parent.v[k]))
					slot++;
				const char *raw = slot < pf ? p->rows[(size_t)f->parent_row * pf + slot] : NULL;
				if (!raw)
					continue;
				strbuf_init(&names[nx], 0);
				strbuf_addf(&names[nx], "_%s_", p->name);
				sync_normalize_name(&names[nx], ep->include_from_parent.v[k]);
				extra[nx].name = names[nx].buf;
				extra[nx].raw = raw;
				extra[nx].len = strlen(raw);
				extra[nx].type = p->row_types[(size_t)f->parent_row * pf + slot];
				nx++;
			}
		}
		char *seed = NULL;
		if (ep->wd == WD_MERGE && rec->type == JV_OBJ) {
			/* a record merged again keeps its _dlt_id, and so do its child rows */
			struct strbuf sb = STRBUF_INIT;
			int ok = 1;
			strbuf_addf(&sb, "%s", ep->name);
			for (size_t k = 0; k < ep->primary_key.nr && ok; k++) {
				strbuf_addch(&sb, '\x1f');
				ok = jv_text(jv_path(rec, ep->primary_key.v[k]), &sb) == 0;
			}
			if (f->parent_row >= 0) {
				/* a child resource's key is within its parent */
				const struct endpoint *p = &r->eps[ep->parent];
				for (size_t k = 0; k < p->keep.nr; k++) {
					const char *raw = p->rows[(size_t)f->parent_row * p->keep.nr + k];
					strbuf_addf(&sb, "\x1e%s", raw ? raw : "");
				}
			}
			seed = ok ? strbuf_detach(&sb, NULL) : NULL;
			strbuf_release(&sb);
		}
		int rc = normalizer_add(&r->norm, ep->table, rec, extra, nx, seed, ep->max_nesting, err);
		free(seed);
		for (size_t k = 0; k < nx; k++)
			strbuf_release(&names[k]);
		if (rc < 0)
			goto out;
		r->total_rows++;
	}
	f->rows++;
	ret = 0;
out:
	strbuf_release(&tmp);
	return ret;
}

/* Guess the paginator from the first response, as dlt does. */
static void detect_paginator(struct paginator *pg, const struct http_response *resp, const struct jv *root)
{
	static const char *const links[] = { "next", "links.next", "@odata.nextLink", "next_page_url", "paging.next.link",
					     "pagination.next", "meta.next", "_links.next.href", NULL };
	static const char *const cursors[][2] = { { "next_cursor", "cursor" }, { "cursors.next", "cursor" },
						  { "meta.next_cursor", "cursor" }, { "paging.next.after", "after" },
						  { "pagination.next_cursor", "cursor" }, { NULL, NULL } };
	pg->type = PG_SINGLE;
	if (resp->link_next) {
		pg->type = PG_HEADER_LINK;
		return;
	}
	if (root->type != JV_OBJ)
		return;
	for (size_t i = 0; links[i]; i++) {
		const struct jv *v = jv_path(root, links[i]);
		if (v && v->type == JV_STR && v->len && (memchr(v->s, '/', v->len) || memchr(v->s, '?', v->len))) {
			pg->type = PG_JSON_LINK;
			pg->next_url_path = links[i];
			return;
		}
	}
	for (size_t i = 0; cursors[i][0]; i++) {
		const struct jv *v = jv_path(root, cursors[i][0]);
		if (v && (v->type == JV_STR || v->type == JV_NUM)) {
			pg->type = PG_CURSOR;
			pg->cursor_path = cursors[i][0];
			pg->cursor_param = cursors[i][1];
			return;
		}
	}
}

/* A page's body as JSON; an error names the URL and says what came
 * instead (an HTML page, bad UTF-8). */
static int parse_page(struct rest *r, const char *method, const char *url, const struct http_response *resp,
		      struct jv_doc *doc, struct strbuf *err)
{
	struct strbuf m = STRBUF_INIT, e = STRBUF_INIT;
	const char *ct = resp->content_type;
	int ret = -1;
	masked(r, &m, resp->url ? resp->url : url);
	size_t bad = utf8_bad_at((const unsigned char *)resp->body.buf, resp->body.len);
	if (bad < resp->body.len) {
		strbuf_addf(err, "the response of %s %s is not valid UTF-8 (byte %zu)", method, m.buf, bad);
		goto out;
	}
	if (jv_parse(doc, resp->body.buf, resp->body.len, &e) == 0) {
		ret = 0;
		goto out;
	}
	if (!resp->body.len) {
		strbuf_addf(err, "invalid JSON from %s: the response is empty", m.buf);
	} else if (ct && !strcasestr(ct, "json")) {
		strbuf_addf(err, "%s %s answered %s, not JSON", method, m.buf, ct);
		if (strcasestr(ct, "html"))
			strbuf_addstr(err, " (an HTML page: is base_url the API's address, and the path right?)");
		strbuf_addstr(err, ": ");
		for (size_t i = 0, n = 0; i < resp->body.len && n < 80; i++) {
			unsigned char c = (unsigned char)resp->body.buf[i];
			if (c == '\n' || c == '\r' || c == '\t')
				c = ' ';
			if (c == ' ' && err->len && err->buf[err->len - 1] == ' ')
				continue;
			strbuf_addch(err, (char)c);
			n++;
		}
	} else {
		strbuf_addf(err, "invalid JSON from %s: %s", m.buf, e.buf);
	}
out:
	strbuf_release(&m);
	strbuf_release(&e);
	return ret;
}

/* The params of a request into query, placeholders expanded. */
static int add_params(json_t *params, const struct tctx *t, struct strbuf *query, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *k;
	json_t *v;
	int ret = -1;
	json_object_foreach(params, k, v) {
		strbuf_reset(&tmp);
		if (json_is_object(v) || json_is_null(v))
			continue; /* dlt's incremental/resolve objects are configured elsewhere here */
		if (json_is_array(v)) {
			size_t i;
			json_t *it;
			json_array_foreach(v, i, it) {
				struct strbuf raw = STRBUF_INIT;
				strbuf_reset(&tmp);
				int rc = json_scalar_text(it, &raw) ? expand(raw.buf, t, 0, &tmp, err) : 1;
				strbuf_release(&raw);
				if (rc < 0)
					goto out;
				if (!rc && tmp.len)
					add_param(query, k, tmp.buf);
			}
			continue;
		}
		struct strbuf raw = STRBUF_INIT;
		json_scalar_text(v, &raw);
		int rc = expand(raw.buf, t, 0, &tmp, err);
		strbuf_release(&raw);
		if (rc < 0)
			goto out;
		/* an incremental placeholder without a value: leave the param out */
		if (!tmp.len && json_is_string(v) && strstr(json_string_value(v), "{incremental."))
			continue;
		add_param(query, k, tmp.buf);
	}
	ret = 0;
out:
	strbuf_release(&tmp);
	return ret;
}

/* An error the API reports inside a successful answer (Slack's
 * {"ok": false, "error": "invalid_auth"}, Matomo's {"result": "error"}):
 * -1 with err, an AuthenticationError when the message is one of
 * response_error.auth_errors. */
static int inband_error(struct rest *r, struct sync_job *job, const char *url, const struct http_response *resp,
			const struct jv *root, struct strbuf *err)
{
	json_t *re = r->response_error;
	struct strbuf text = STRBUF_INIT, msg = STRBUF_INIT, m = STRBUF_INIT;
	int ret = 0;
	if (!re || !root)
		return 0;
	const char *want = jstr(re, "value"), *mpath = jstr(re, "message_path");
	const struct jv *v = jv_path(root, jstr(re, "path"));
	if (!v)
		goto out;
	if (v->type == JV_FALSE || v->type == JV_TRUE)
		strbuf_addstr(&text, v->type == JV_TRUE ? "true" : "false");
	else
		jv_text(v, &text);
	if (want ? strcmp(text.buf, want) : !truthy(v))
		goto out;
	ret = -1;
	jv_text(jv_path(root, mpath ? mpath : "error"), &msg);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(re, "auth_errors"), i, a)
		if (json_is_string(a) && msg.len && strstr(msg.buf, json_string_value(a))) {
			auth_error(r, job, 200, url, resp, err);
			goto out;
		}
	masked(r, &m, resp->url ? resp->url : url);
	strbuf_addf(err, "the API reported an error (HTTP %ld from %s): ", resp->status, m.buf);
	strbuf_reset(&text);
	http_mask(&r->http, &text, msg.len ? msg.buf : "(no message)");
	strbuf_addbuf(err, &text);
out:
	strbuf_release(&text);
	strbuf_release(&msg);
	strbuf_release(&m);
	return ret;
}

/* One request of an endpoint, answered with JSON: 0 with doc, or -1. */
static int request(struct rest *r, struct sync_job *job, const struct endpoint *ep, const char *method,
		   const char *url, const char *body, struct http_response *resp, struct jv_doc *doc, struct strbuf *err)
{
	struct strvec headers = STRVEC_INIT, auth = STRVEC_INIT;
	int ret = -1;
	if (request_headers(r, job, ep, &headers, &auth, err) < 0)
		goto out;
	struct http_request req = { .method = method, .url = url, .headers = &headers, .auth_headers = &auth,
				    .auth_query = r->auth_query, .body = body };
	if (http_do(&r->http, &req, resp, err) < 0)
		goto out;
	if (resp->status == 401) {
		/* a stored OAuth token the API no longer takes: renew it once and retry */
		int renewed = renew_stored(r, job, err);
		if (renewed < 0)
			goto out;
		if (renewed) {
			strvec_clear(&headers);
			strvec_clear(&auth);
			if (request_headers(r, job, ep, &headers, &auth, err) < 0 || http_do(&r->http, &req, resp, err) < 0)
				goto out;
		}
	}
	if (resp->status >= 300) {
		status_error(r, job, url, resp, err);
		goto out;
	}
	r->just_renewed = 0;
	if (parse_page(r, method, url, resp, doc, err) < 0 || inband_error(r, job, url, resp, doc->root, err) < 0)
		goto out;
	ret = 0;
out:
	strvec_clear(&headers);
	strvec_clear(&auth);
	return ret;
}

/* An async report (the Graph API's insights report runs): start it, poll
 * its status until it is done, and leave its id in id for {async.id}. */
static int run_async(struct rest *r, struct sync_job *job, const struct endpoint *ep, struct tctx *t,
		     struct strbuf *id, struct strbuf *err)
{
	json_t *a = ep->async;
	struct strbuf url = STRBUF_INIT, tmp = STRBUF_INIT, query = STRBUF_INIT, status = STRBUF_INIT;
	struct http_response resp;
	struct jv_doc doc = JV_DOC_INIT;
	const char *method = jstr(a, "method") ? jstr(a, "method") : "POST";
	double interval = jnum(a, "interval", 5), timeout = jnum(a, "timeout", 3600), started = http_now();
	int ret = -1;
	http_response_init(&resp);
	if (expand(jstr(a, "path"), t, 1, &tmp, err) < 0 || add_params(json_object_get(a, "params"), t, &query, err) < 0)
		goto out;
	url_join(&url, r->base_url, tmp.buf);
	strbuf_addbuf(&url, &query);
	if (request(r, job, ep, method, url.buf, NULL, &resp, &doc, err) < 0)
		goto out;
	strbuf_reset(id);
	if (jv_text(jv_path(doc.root, jstr(a, "id_path")), id) < 0 || !id->len) {
		strbuf_addf(err, "%s: the answer that starts the report has no %s", ep->name, jstr(a, "id_path"));
		goto out;
	}
	t->async_id = id->buf;
	job->progress(job, "Started report %s for %s", id->buf, ep->name);
	for (;;) {
		strbuf_reset(&tmp);
		strbuf_reset(&url);
		if (expand(jstr(a, "poll_path"), t, 1, &tmp, err) < 0)
			goto out;
		url_join(&url, r->base_url, tmp.buf);
		http_response_release(&resp);
		http_response_init(&resp);
		if (request(r, job, ep, "GET", url.buf, NULL, &resp, &doc, err) < 0)
			goto out;
		strbuf_reset(&status);
		jv_text(jv_path(doc.root, jstr(a, "status_path")), &status);
		if (!strcmp(status.buf, jstr(a, "done")))
			break;
		size_t i;
		json_t *fv;
		json_array_foreach(json_object_get(a, "failed"), i, fv)
			if (json_is_string(fv) && !strcmp(status.buf, json_string_value(fv))) {
				strbuf_addf(err, "%s: report %s ended with status '%s'", ep->name, id->buf, status.buf);
				goto out;
			}
		if (http_now() - started > timeout) {
			strbuf_addf(err, "%s: report %s is not done after %g seconds (status '%s'); async.timeout waits longer",
				    ep->name, id->buf, timeout, status.buf);
			goto out;
		}
		if (job->cancelled) {
			strbuf_addf(err, "%s: cancelled while waiting for report %s", ep->name, id->buf);
			goto out;
		}
		job->progress(job, "Report %s: %s", id->buf, status.len ? status.buf : "(no status yet)");
		if (interval > 0)
			usleep((useconds_t)(interval * 1e6));
	}
	ret = 0;
out:
	strbuf_release(&url);
	strbuf_release(&tmp);
	strbuf_release(&query);
	strbuf_release(&status);
	http_response_release(&resp);
	jv_doc_release(&doc);
	return ret;
}

/* The body of one page: the endpoint's, with the paginator's cursor,
 * offset or page and limit set in it when they travel in the body. */
static void page_body(const struct strbuf *base, const struct paginator *pg, const struct strbuf *cursor,
		      int64_t offset, int64_t page, int64_t limit, struct strbuf *out)
{
	strbuf_reset(out);
	if (!pg->in_body) {
		strbuf_addbuf(out, base);
		return;
	}
	json_t *b = base->len ? json_loads(base->buf, 0, NULL) : NULL;
	if (!json_is_object(b)) {
		json_decref(b);
		b = json_object();
	}
	if (limit > 0)
		json_object_set_new(b, pg->limit_param ? pg->limit_param : "limit", json_integer(limit));
	if (pg->type == PG_CURSOR && cursor->len)
		json_object_set_new(b, pg->cursor_param ? pg->cursor_param : "cursor", json_string(cursor->buf));
	else if (pg->type == PG_OFFSET)
		json_object_set_new(b, pg->offset_param ? pg->offset_param : "offset", json_integer(offset));
	else if (pg->type == PG_PAGE)
		json_object_set_new(b, pg->page_param ? pg->page_param : "page", json_integer(page));
	char *js = json_dumps(b, JSON_COMPACT);
	strbuf_addstr(out, js);
	free(js);
	json_decref(b);
}

/* The records of a page into items: the data selector's list ('*' parts
 * fan out), reshaped by record_shape when the endpoint has one. */
static int page_records(struct rest *r, const struct endpoint *ep, const char *url, const struct jv *root,
			struct shape_state *st, struct jv_doc *shaped, struct jv_list *items, struct strbuf *err)
{
	int found;
	items->nr = 0;
	if (ep->data_selector && strchr(ep->data_selector, '*')) {
		struct jv_list l = { 0 };
		jv_collect(root, ep->data_selector, &l);
		for (size_t i = 0; i < l.nr; i++) {
			if (l.v[i]->type == JV_ARR) {
				for (size_t k = 0; k < l.v[i]->n; k++) {
					ALLOC_GROW(items->v, items->nr + 1, items->alloc);
					items->v[items->nr++] = &l.v[i]->kids[k];
				}
			} else if (l.v[i]->type == JV_OBJ) {
				ALLOC_GROW(items->v, items->nr + 1, items->alloc);
				items->v[items->nr++] = l.v[i];
			}
		}
		jv_list_release(&l);
		return 0;
	}
	const char *st_type = ep->shape ? json_string_value(json_object_get(ep->shape, "type")) : NULL;
	int entries = st_type && !strcmp(st_type, "entries");
	const struct jv *recs = entries && !ep->data_selector ? root : find_records(root, ep->data_selector, &found);
	if (entries && !ep->data_selector)
		found = 1;
	if (ep->data_selector && (!recs || (recs->type != JV_ARR && recs->type != JV_NULL && !(entries && recs->type == JV_OBJ)))) {
		struct strbuf m = STRBUF_INIT;
		masked(r, &m, url);
		strbuf_addf(err, "data_selector '%s' of endpoint '%s' finds no list in the response of %s", ep->data_selector,
			    ep->name, m.buf);
		if (recs)
			strbuf_addf(err, " (it finds %s)", recs->type == JV_OBJ ? "an object" : "a single value");
		strbuf_release(&m);
		return -1;
	}
	if (ep->shape)
		return shape_records(ep->shape, root, recs, st, shaped, items, err);
	if (recs && recs->type == JV_ARR) {
		for (size_t i = 0; i < recs->n; i++) {
			ALLOC_GROW(items->v, items->nr + 1, items->alloc);
			items->v[items->nr++] = &recs->kids[i];
		}
	} else if (recs && recs->type == JV_OBJ && !found && recs->n) {
		ALLOC_GROW(items->v, items->nr + 1, items->alloc);
		items->v[items->nr++] = recs;
	}
	return 0;
}

/* The URL of one page of a paginator that says where pages are (offset,
 * page number, cursor) rather than linking them. */
static void page_url(struct strbuf *url, const struct strbuf *base, const struct strbuf *query, const struct paginator *pg,
		     int64_t offset, int64_t page, int64_t limit, const struct strbuf *cursor)
{
	struct strbuf tmp = STRBUF_INIT, extra = STRBUF_INIT;
	strbuf_addbuf(url, base);
	strbuf_addbuf(url, query);
	if (pg->in_body) {
		/* page_body puts them in the body */
	} else if (pg->type == PG_OFFSET) {
		if (limit > 0) {
			strbuf_addf(&tmp, "%lld", (long long)limit);
			add_param(&extra, pg->limit_param ? pg->limit_param : "limit", tmp.buf);
		}
		strbuf_reset(&tmp);
		strbuf_addf(&tmp, "%lld", (long long)offset);
		add_param(&extra, pg->offset_param ? pg->offset_param : "offset", tmp.buf);
	} else if (pg->type == PG_PAGE) {
		strbuf_addf(&tmp, "%lld", (long long)page);
		add_param(&extra, pg->page_param ? pg->page_param : "page", tmp.buf);
		if (limit > 0) {
			strbuf_reset(&tmp);
			strbuf_addf(&tmp, "%lld", (long long)limit);
			add_param(&extra, pg->limit_param ? pg->limit_param : "per_page", tmp.buf);
		}
	} else if (pg->type == PG_CURSOR) {
		if (limit > 0) {
			strbuf_addf(&tmp, "%lld", (long long)limit);
			add_param(&extra, pg->limit_param ? pg->limit_param : "limit", tmp.buf);
		}
		if (cursor->len)
			add_param(&extra, pg->cursor_param ? pg->cursor_param : "cursor", cursor->buf);
	}
	if (extra.len) {
		if (query->len)
			extra.buf[0] = '&';
		strbuf_addbuf(url, &extra);
	}
	strbuf_release(&tmp);
	strbuf_release(&extra);
}

/* ---- pages fetched ahead -------------------------------------------------------
 *
 * When an offset or page-number paginator learns the total from the first
 * page, every later page's URL is known: up to `concurrency` of them are
 * requested at once, each worker of a pool on a connection of its own (an
 * http_client each; HTTP/2 where an https server offers it), and their
 * bodies are checked and parsed on the worker. The records still go to the
 * normalizer in page order, on the extract thread, through the same loop
 * as one page at a time. A worker runs http_do itself, so redirects and
 * their origin rules, retries, backoff and Retry-After are those of any
 * request; what needs the source's state (a 401's token renewal, the
 * error messages, the client's log lines) happens when the page's turn
 * comes. A failed page fails the endpoint as it would one page at a time;
 * the pages after it are dropped unread. */

struct ahead;

struct ahead_page {
	struct ahead *a;
	char *url, *body;
	struct strvec headers, auth;
	struct http_response resp;
	struct jv_doc doc;
	struct strbuf err;     /* http_do's message */
	struct strvec said;    /* the client's log lines, told in page order */
	int rc;                /* http_do's */
	int parsed;            /* the body is JSON, in doc */
	int done;              /* handed back by the pool */
};

struct ahead {
	struct rest *r;
	struct sync_job *job;
	const struct endpoint *ep;
	const struct paginator *pg;
	const struct strbuf *base, *query, *body;
	int64_t limit;
	struct pool pool;
	struct http_client *clients;  /* one per worker */
	size_t nr_clients;
	struct ahead_page *slots;     /* page i in slots[i % window] */
	size_t window;
	int64_t next;                 /* the next page to ask for */
	int64_t end;                  /* pages [1, end) are fetched ahead; 0: none */
	int cancel;                   /* the rest is not wanted: workers skip it */
};

static void ahead_log(void *data, enum http_log_level level, const char *msg)
{
	struct ahead_page *p = data;
	strvec_pushf(&p->said, "%s%s", level == HTTP_LOG_DEBUG ? "DEBUG " : "", msg);
}

/* On a worker: the request, and the body checked and parsed. */
static void ahead_run(void *task, size_t worker)
{
	struct ahead_page *p = task;
	struct ahead *a = p->a;
	struct http_client *c = &a->clients[worker];
	if (__atomic_load_n(&a->cancel, __ATOMIC_ACQUIRE)) {
		p->rc = -1;
		strbuf_addstr(&p->err, "not fetched: an earlier page ended the endpoint");
		return;
	}
	c->log_data = p;
	struct http_request req = { .method = a->ep->method, .url = p->url, .headers = &p->headers,
				    .auth_headers = &p->auth, .auth_query = a->r->auth_query, .body = p->body };
	p->rc = http_do(c, &req, &p->resp, &p->err);
	if (p->rc < 0 || p->resp.status >= 300 ||
	    utf8_bad_at((const unsigned char *)p->resp.body.buf, p->resp.body.len) < p->resp.body.len)
		return;
	struct strbuf e = STRBUF_INIT;
	p->parsed = jv_parse(&p->doc, p->resp.body.buf, p->resp.body.len, &e) == 0;
	strbuf_release(&e);
}

static void ahead_page_reset(struct ahead_page *p)
{
	free(p->url);
	free(p->body);
	p->url = p->body = NULL;
	strvec_clear(&p->headers);
	strvec_clear(&p->auth);
	strbuf_reset(&p->err);
	strvec_clear(&p->said);
	p->rc = p->parsed = p->done = 0;
}

/* Ask for the pages after the first until `window` are out or taken from
 * `first` on (page first - 1 is read, its slot free). */
static int ahead_fill(struct ahead *a, int64_t first, struct strbuf *err)
{
	struct strbuf none = STRBUF_INIT, u = STRBUF_INIT, b = STRBUF_INIT;
	int ret = -1;
	while (a->next < a->end && a->next < first + (int64_t)a->window) {
		struct ahead_page *p = &a->slots[a->next % (int64_t)a->window];
		int64_t offset = a->next * a->limit, page = a->pg->base_page + a->next;
		ahead_page_reset(p);
		strbuf_reset(&u);
		page_url(&u, a->base, a->query, a->pg, offset, page, a->limit, &none);
		page_body(a->body, a->pg, &none, offset, page, a->limit, &b);
		p->url = xstrdup(u.buf);
		p->body = b.len ? xstrdup(b.buf) : NULL;
		if (request_headers(a->r, a->job, a->ep, &p->headers, &p->auth, err) < 0)
			goto out;
		pool_submit(&a->pool, p);
		a->next++;
	}
	ret = 0;
out:
	strbuf_release(&none);
	strbuf_release(&u);
	strbuf_release(&b);
	return ret;
}

/* After the first page: fetch the rest ahead if the paginator and the
 * page's total say where they are. 0, or -1 with err. */
static int ahead_start(struct ahead *a, struct rest *r, struct sync_job *job, const struct endpoint *ep,
		       const struct paginator *pg, const struct jv *first, const struct strbuf *base,
		       const struct strbuf *query, const struct strbuf *body, int64_t limit, int64_t max_pages,
		       struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	/* a delay between requests is a wish for one at a time */
	if (r->concurrency < 2 || r->http.rate_limit_delay > 0 || !pg->total_path ||
	    (pg->type != PG_OFFSET && pg->type != PG_PAGE) || (pg->type == PG_OFFSET && limit <= 0))
		return 0;
	char *end = NULL;
	long long total = jv_text(jv_path(first, pg->total_path), &tmp) == 0 ? strtoll(tmp.buf, &end, 10) : 0;
	if (!tmp.len || !end || *end)
		total = 0;
	strbuf_release(&tmp);
	/* the pages the loop would read one by one: offsets below the total, or
	 * the total's count of pages */
	int64_t pages = pg->type == PG_OFFSET ? (total + limit - 1) / limit : total;
	if (max_pages > 0 && pages > max_pages)
		pages = max_pages;
	if (pages <= 1)
		return 0;
	size_t workers = (size_t)r->concurrency < (size_t)(pages - 1) ? (size_t)r->concurrency : (size_t)(pages - 1);
	*a = (struct ahead){ .r = r, .job = job, .ep = ep, .pg = pg, .base = base, .query = query, .body = body,
			     .limit = limit, .next = 1, .end = pages };
	a->nr_clients = workers;
	a->clients = xcalloc(workers, sizeof(*a->clients));
	for (size_t i = 0; i < workers; i++) {
		http_client_init_like(&a->clients[i], &r->http);
		a->clients[i].log = ahead_log;
	}
	/* one page read while each worker fetches one */
	a->window = workers + 1;
	a->slots = xcalloc(a->window, sizeof(*a->slots));
	for (size_t i = 0; i < a->window; i++) {
		a->slots[i].a = a;
		http_response_init(&a->slots[i].resp);
		a->slots[i].doc = (struct jv_doc)JV_DOC_INIT;
		strbuf_init(&a->slots[i].err, 0);
	}
	pool_init(&a->pool, workers, ahead_run);
	job->progress(job, "%s: %lld more pages, %zu at a time (the total says where they are)", ep->name,
		      (long long)(pages - 1), workers);
	return ahead_fill(a, 1, err);
}

/* The most pages (the first included) worth fetching ahead after the
 * first of this call, per pages of `per` records: max_pages counts the
 * pages of every parent row, --limit the records of every endpoint; 0 for
 * no bound. */
static int64_t ahead_cap(const struct rest *r, const struct sync_job *job, const struct fetch *f, int64_t max_pages,
			 int64_t per)
{
	int64_t cap = max_pages > 0 ? max_pages - f->pages + 1 : 0;
	if (job->opts->limit > 0 && per > 0) {
		int64_t want = 1 + (job->opts->limit - r->total_rows + per - 1) / per;
		if (!cap || want < cap)
			cap = want;
	}
	return cap;
}

/* Page i (its turn has come), once fetched. */
static struct ahead_page *ahead_take(struct ahead *a, int64_t i, struct strbuf *err)
{
	struct ahead_page *p = &a->slots[i % (int64_t)a->window];
	if (ahead_fill(a, i, err) < 0)
		return NULL;
	while (!p->done) {
		struct ahead_page *d = pool_wait(&a->pool);
		if (!d) {
			strbuf_addf(err, "page %lld was never asked for (a bug)", (long long)i + 1);
			return NULL;
		}
		d->done = 1;
	}
	return p;
}

/* A fetched page as request() would have left it: 0 with the JSON in
 * p->doc, or -1 with err. */
static int ahead_finish(struct rest *r, struct sync_job *job, const struct endpoint *ep, struct ahead_page *p,
			struct strbuf *err)
{
	for (size_t i = 0; i < p->said.nr; i++)
		job->progress(job, "%s", p->said.v[i]);
	strvec_clear(&p->said);
	if (p->rc < 0) {
		strbuf_addbuf(err, &p->err);
		return -1;
	}
	if (p->resp.status == 401)
		/* a token to renew, perhaps: asked again as a request of its own */
		return request(r, job, ep, ep->method, p->url, p->body, &p->resp, &p->doc, err);
	if (p->resp.status >= 300) {
		status_error(r, job, p->url, &p->resp, err);
		return -1;
	}
	r->just_renewed = 0;
	if (!p->parsed)
		/* says what is wrong with the body */
		return parse_page(r, ep->method, p->url, &p->resp, &p->doc, err) < 0 ||
		       inband_error(r, job, p->url, &p->resp, p->doc.root, err) < 0 ? -1 : 0;
	return inband_error(r, job, p->url, &p->resp, p->doc.root, err);
}

/* The workers stopped (after their current request), the rest dropped. */
static void ahead_stop(struct ahead *a)
{
	if (!a->end)
		return;
	__atomic_store_n(&a->cancel, 1, __ATOMIC_RELEASE);
	pool_release(&a->pool);
	for (size_t i = 0; i < a->nr_clients; i++)
		http_client_release(&a->clients[i]);
	for (size_t i = 0; i < a->window; i++) {
		ahead_page_reset(&a->slots[i]);
		http_response_release(&a->slots[i].resp);
		jv_doc_release(&a->slots[i].doc);
		strbuf_release(&a->slots[i].err);
	}
	free(a->clients);
	free(a->slots);
	memset(a, 0, sizeof(*a));
}

static int fetch_pages(struct rest *r, struct sync_job *job, struct fetch *f, struct strbuf *err)
{
	struct endpoint *ep = f->ep;
	struct paginator pg = ep->pg.set ? ep->pg : r->pg;
	struct strbuf base = STRBUF_INIT, query = STRBUF_INIT, url = STRBUF_INIT, next = STRBUF_INIT,
		      cursor = STRBUF_INIT, tmp = STRBUF_INIT, e = STRBUF_INIT, body = STRBUF_INIT, reqbody = STRBUF_INIT,
		      async_id = STRBUF_INIT;
	/* links and cursors met, a hash set: a list searched a page made
	 * paging quadratic in the pages */
	json_t *seen = json_object();
	struct http_response resp;
	struct jv_doc doc = JV_DOC_INIT, shaped = JV_DOC_INIT;
	struct jv_list items = { 0 };
	struct shape_state shape = SHAPE_STATE_INIT;
	struct ahead ahead = { 0 };
	int64_t here = 0;  /* pages read in this call (f counts those of every parent row) */
	struct tctx t = { f->start, f->end, ep->parent >= 0 ? &r->eps[ep->parent] : NULL, ep,
			  f->parent_row >= 0 ? (size_t)f->parent_row : 0, NULL };
	int ret = -1, detected = pg.type != PG_AUTO;
	int64_t offset = 0, page = pg.base_page, limit = pg.limit, max_pages = pg.maximum_pages;
	if (!max_pages)
		max_pages = r->max_pages;
	http_response_init(&resp);
	if (ep->async && run_async(r, job, ep, &t, &async_id, err) < 0)
		goto out;

	/* the fixed part of every request: path and params */
	strbuf_reset(&tmp);
	/* a path that is one placeholder is a URL from the parent (Chess.com's
	 * archives): taken as it is, not escaped */
	size_t plen = strlen(ep->path);
	int whole = plen > 2 && ep->path[0] == '{' && ep->path[plen - 1] == '}' && !strchr(ep->path + 1, '{');
	if (expand(ep->path, &t, !whole, &tmp, err) < 0) {
		strbuf_addf(err, " in the path of endpoint '%s'", ep->name);
		goto out;
	}
	url_join(&base, r->base_url, tmp.buf);
	if (strchr(base.buf, '?')) {
		/* params written into the path stay there */
		char *q = strchr(base.buf, '?');
		strbuf_addstr(&query, q);
		strbuf_setlen(&base, (size_t)(q - base.buf));
	}
	if (add_params(ep->params, &t, &query, err) < 0)
		goto out;
	if (ep->inc.set && ep->inc.param && f->start && *f->start)
		add_param(&query, ep->inc.param, f->start);
	if (ep->inc.set && ep->inc.end_param && f->end && *f->end)
		add_param(&query, ep->inc.end_param, f->end);
	if (ep->body) {
		char *js = json_dumps(ep->body, JSON_COMPACT);
		if (expand(js, &t, 0, &body, err) < 0) {
			free(js);
			goto out;
		}
		free(js);
	}

	for (;;) {
		if (r->stop_all)
			break;
		/* the page: fetched now, or ahead by a worker */
		struct http_response *rp = &resp;
		struct jv_doc *dp = &doc;
		strbuf_reset(&url);
		if (ahead.end && here < ahead.end) {
			struct ahead_page *ap = ahead_take(&ahead, here, err);
			if (!ap || ahead_finish(r, job, ep, ap, err) < 0)
				goto out;
			strbuf_addstr(&url, ap->url);
			rp = &ap->resp;
			dp = &ap->doc;
		} else {
			if (next.len)
				/* the key in the query is the client's to add, for our own origin only */
				strbuf_addbuf(&url, &next);
			else
				page_url(&url, &base, &query, &pg, offset, page, limit, &cursor);
			page_body(&body, &pg, &cursor, offset, page, limit, &reqbody);
			if (request(r, job, ep, ep->method, url.buf, reqbody.len ? reqbody.buf : NULL, &resp, &doc, err) < 0)
				goto out;
		}
		f->pages++;
		here++;
		if (page_records(r, ep, url.buf, dp->root, &shape, &shaped, &items, err) < 0)
			goto out;
		size_t nrec = items.nr;
		for (size_t i = 0; i < items.nr && !r->stop_all; i++) {
			if (add_record(r, job, f, items.v[i], err) < 0)
				goto out;
			if (job->opts->limit > 0 && r->total_rows >= job->opts->limit)
				r->stop_all = 1;
			if (job->cancelled)
				r->stop_all = 1; /* the load failed: nothing will be kept */
		}
		if (f->pages % 100 == 0) {
			char n1[32], n2[32];
			job->progress(job, "Fetched %s %s so far (%s pages)", fmt_count(n1, f->rows), ep->name,
				      fmt_count(n2, f->pages));
		}

		/* the next page, if any */
		if (!detected) {
			detect_paginator(&pg, rp, dp->root);
			detected = 1;
		}
		if (r->stop_all || pg.type == PG_SINGLE || (max_pages > 0 && f->pages >= max_pages))
			break;
		if (pg.stop_path && truthy(jv_path(dp->root, pg.stop_path)))
			break;
		const char *again = NULL;  /* the value that leads on, checked for repeats */
		strbuf_reset(&next);
		if (pg.type == PG_HEADER_LINK) {
			if (!rp->link_next)
				break;
			resolve_link(&next, r->base_url, rp->link_next);
			again = next.buf;
		} else if (pg.type == PG_JSON_LINK) {
			const struct jv *nv = jv_path(dp->root, pg.next_url_path ? pg.next_url_path : "next");
			strbuf_reset(&tmp);
			if (!nv || jv_text(nv, &tmp) < 0 || !tmp.len)
				break;
			resolve_link(&next, r->base_url, tmp.buf);
			again = next.buf;
		} else if (pg.type == PG_CURSOR) {
			if (pg.has_more_path && !truthy(jv_path(dp->root, pg.has_more_path)))
				break;
			strbuf_reset(&cursor);
			if (pg.record_cursor_path) {
				if (!nrec)
					break;
				if (jv_text(jv_path(items.v[items.nr - 1], pg.record_cursor_path), &cursor) < 0)
					break;
			} else {
				const struct jv *cv = jv_path(dp->root, pg.cursor_path ? pg.cursor_path : "next_cursor");
				if (!cv || jv_text(cv, &cursor) < 0)
					break;
			}
			if (!cursor.len)
				break;
			again = cursor.buf;
		} else if (pg.type == PG_OFFSET) {
			if (!nrec)
				break;
			offset += limit > 0 ? limit : (int64_t)nrec;
			if (pg.has_more_path && !truthy(jv_path(dp->root, pg.has_more_path)))
				break;
			if (pg.total_path) {
				strbuf_reset(&tmp);
				if (jv_text(jv_path(dp->root, pg.total_path), &tmp) == 0 && offset >= strtoll(tmp.buf, NULL, 10))
					break;
			}
		} else if (pg.type == PG_PAGE) {
			if (!nrec)
				break;
			if (pg.has_more_path && !truthy(jv_path(dp->root, pg.has_more_path)))
				break;
			if (pg.total_path) {
				strbuf_reset(&tmp);
				/* total_path counts pages */
				if (jv_text(jv_path(dp->root, pg.total_path), &tmp) == 0 &&
				    page - pg.base_page + 1 >= strtoll(tmp.buf, NULL, 10))
					break;
			}
			page++;
		}
		if (!nrec && (pg.type == PG_CURSOR || pg.type == PG_JSON_LINK || pg.type == PG_HEADER_LINK))
			break; /* an empty page ends it, whatever the links say */
		if (here == 1 && ahead_start(&ahead, r, job, ep, &pg, dp->root, &base, &query, &body, limit,
					     ahead_cap(r, job, f, max_pages, limit > 0 ? limit : (int64_t)nrec), err) < 0)
			goto out;
		if (again) {
			if (json_object_get(seen, again)) {
				struct strbuf m = STRBUF_INIT;
				masked(r, &m, url.buf);
				strvec_pushf(&job->warnings, "%s: the API repeated a page link or cursor after %s; stopped paging "
					     "there", ep->name, m.buf);
				strbuf_release(&m);
				break;
			}
			json_object_set_new_nocheck(seen, again, json_true());
		}
	}
	if (max_pages > 0 && f->pages >= max_pages && !r->stop_all)
		strvec_pushf(&job->notes, "%s: stopped after %lld pages (max_pages)", ep->name, (long long)max_pages);
	ret = 0;
out:
	ahead_stop(&ahead);
	strbuf_release(&base);
	strbuf_release(&query);
	strbuf_release(&url);
	strbuf_release(&next);
	strbuf_release(&cursor);
	strbuf_release(&tmp);
	strbuf_release(&e);
	strbuf_release(&body);
	strbuf_release(&reqbody);
	strbuf_release(&async_id);
	json_decref(seen);
	http_response_release(&resp);
	jv_doc_release(&doc);
	jv_doc_release(&shaped);
	jv_list_release(&items);
	shape_state_release(&shape);
	return ret;
}

/* ---- extract ------------------------------------------------------------------ */

static const char *state_str(json_t *state, const char *res, const char *key, struct strbuf *sb)
{
	json_t *v = json_object_get(json_object_get(state, res), key);
	strbuf_reset(sb);
	return json_scalar_text(v, sb) ? sb->buf : NULL;
}

/* A cursor as a user reads it: epoch seconds of a unix-time API as an ISO
 * date ("2024-10-01T00:00:00Z", not 1727740800); others as they are. */
static char *show_cursor(const struct endpoint *ep, const char *v)
{
	char buf[40];
	if (!ep->inc.unix_time || !is_number(v))
		return xstrdup(v);
	time_t t = (time_t)strtoll(v, NULL, 10);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/* "1 customer", "2 customers": a resource name made singular for a count of
 * one, by English's common rules (companies, addresses, charges). */
static void add_count(struct strbuf *sb, int64_t n, const char *name)
{
	char num[32];
	size_t len = strlen(name);
	strbuf_addf(sb, "%s ", fmt_count(num, n));
	if (n != 1 || len < 2 || name[len - 1] != 's' || name[len - 2] == 's') {
		strbuf_addstr(sb, name);
	} else if (len > 3 && ends_with(name, "ies")) {
		strbuf_add(sb, name, len - 3);
		strbuf_addch(sb, 'y');
	} else if (len > 4 && (ends_with(name, "sses") || ends_with(name, "xes") || ends_with(name, "ches") ||
			       ends_with(name, "shes"))) {
		strbuf_add(sb, name, len - 2);
	} else {
		strbuf_add(sb, name, len - 1);
	}
}

/* The previous sync's boundary of an append resource, for f. */
static void load_boundary(struct fetch *f, json_t *prev_state, const char *cursor)
{
	json_t *keys = json_object_get(json_object_get(prev_state, f->ep->name), "boundary");
	size_t i;
	json_t *k;
	f->prev_cursor = cursor;
	json_array_foreach(keys, i, k) if (json_is_string(k)) strvec_push(&f->prev_keys, json_string_value(k));
	if (f->prev_keys.nr > 1)
		qsort(f->prev_keys.v, f->prev_keys.nr, sizeof(*f->prev_keys.v), cmp_strp);
}

/* The boundary to commit: the keys at the cursor that will be stored. */
static json_t *new_boundary(struct fetch *f, const char *cursor)
{
	struct strvec all = STRVEC_INIT;
	json_t *a = json_array();
	if (!cursor_cmp(cursor, f->max_cursor))
		for (size_t i = 0; i < f->max_keys.nr; i++)
			strvec_push(&all, f->max_keys.v[i]);
	/* the cursor stays where it was: its boundary records still count */
	if (f->prev_cursor && !cursor_cmp(cursor, f->prev_cursor))
		for (size_t i = 0; i < f->prev_keys.nr; i++)
			strvec_push(&all, f->prev_keys.v[i]);
	if (all.nr > 1)
		qsort(all.v, all.nr, sizeof(*all.v), cmp_strp);
	for (size_t i = 0; i < all.nr; i++)
		if (!i || strcmp(all.v[i], all.v[i - 1]))
			json_array_append_new(a, json_string(all.v[i]));
	strvec_clear(&all);
	return a;
}

static int fetch_endpoint(struct rest *r, struct sync_job *job, struct endpoint *ep, struct strbuf *err)
{
	const struct sync_options *o = job->opts;
	struct fetch f = { .ep = ep, .parent_row = -1, .prev_keys = STRVEC_INIT, .max_keys = STRVEC_INIT };
	struct strbuf prev = STRBUF_INIT, first = STRBUF_INIT, msg = STRBUF_INIT;
	char *start = NULL, *end = NULL, *fstart = NULL, *fend = NULL;
	const char *overridden = NULL; /* the start --since replaced */
	int ret = -1;
	char n1[32];

	if (ep->inc.set) {
		const char *cur = o->full_refresh ? NULL : state_str(job->prev_state, ep->name, "cursor", &prev);
		const char *known_first = o->full_refresh ? NULL : state_str(job->prev_state, ep->name, "first", &first);
		const char *from = cur ? cur : ep->inc.initial_value;
		f.dedupe = ep->wd == WD_APPEND;
		if (f.dedupe && cur)
			load_boundary(&f, job->prev_state, cur);
		if (o->since) {
			if (from && strcmp(from, o->since))
				overridden = from; /* spec 000: "Overriding default: <date>" */
			from = o->since;
			char *fs = format_start(ep, o->since);
			if (known_first && cursor_cmp(fs, known_first) < 0)
				strvec_pushf(&job->notes, "gap fill: --since %s is earlier than the earliest %s loaded (%s)",
					     o->since, ep->name, known_first);
			free(fs);
		}
		if (o->until)
			sync_job_check_window(job, ep->name, from,
					      o->since ? "--since" : cur ? "the cursor of the last sync" : "the initial value",
					      o->until);
		char *widened = from && cur && !o->since && job->source->lookback_days > 0
					? minus_days(from, job->source->lookback_days)
					: NULL;
		if (widened)
			from = widened;
		start = format_start(ep, from);
		if (o->until) {
			char *u = xasprintf("%sT23:59:59Z", o->until);
			end = format_start(ep, u);
			free(u);
		}
		if (!ep->inc.param) {
			fstart = start ? xstrdup(start) : NULL;
			fend = end ? xstrdup(end) : NULL;
		}
		char *shown = from ? show_cursor(ep, from) : NULL;
		if (o->full_refresh)
			strbuf_addf(&msg, "Fetching %s (full refresh%s%s%s%s)", ep->name, start && *start ? " from " : "",
				    start && *start ? shown : "", end ? " to " : "", end ? o->until : "");
		else if (start && *start)
			strbuf_addf(&msg, "Fetching %s (incremental from %s%s%s)", ep->name, shown, end ? " to " : "",
				    end ? o->until : "");
		else
			strbuf_addf(&msg, "Fetching %s (incremental, first sync)", ep->name);
		free(shown);
		free(widened);
	} else {
		strbuf_addf(&msg, "Fetching %s%s", ep->name, ep->wd == WD_REPLACE || o->full_refresh ? " (full refresh)" : "");
	}
	f.start = start;
	f.end = end;
	f.filter_start = fstart;
	f.filter_end = fend;

	if (ep->parent >= 0) {
		struct endpoint *p = &r->eps[ep->parent];
		strbuf_reset(&msg);
		add_count(&msg, (int64_t)p->nr_rows, p->name);
		job->progress(job, "Fetching %s for %s", ep->name, msg.buf);
		for (size_t i = 0; i < p->nr_rows && !r->stop_all; i++) {
			f.parent_row = (int)i;
			int missing = 0;
			for (size_t k = 0; k < p->keep.nr; k++)
				missing |= !p->rows[i * p->keep.nr + k] && strvec_has(&ep->parent_fields, p->keep.v[k]) &&
					   !strvec_has(&ep->include_from_parent, p->keep.v[k]);
			if (missing)
				continue;
			if (fetch_pages(r, job, &f, err) < 0)
				goto out;
		}
	} else {
		job->progress(job, "%s", msg.buf);
		if (overridden)
			job->progress(job, "Overriding default: %s", overridden);
		if (fetch_pages(r, job, &f, err) < 0)
			goto out;
	}
	strbuf_reset(&msg);
	add_count(&msg, f.rows, ep->name);
	if (f.dropped)
		strbuf_addf(&msg, " (%s already loaded at the cursor, skipped)", fmt_count(n1, f.dropped));
	job->progress(job, "Fetched %s", msg.buf);

	if (ep->inc.set && f.max_cursor) {
		json_t *st = json_object();
		const char *cur = o->full_refresh ? NULL : state_str(job->prev_state, ep->name, "cursor", &prev);
		const char *known_first = o->full_refresh ? NULL : state_str(job->prev_state, ep->name, "first", &first);
		/* a backfill of an older range never moves the cursor back */
		const char *c = cur && cursor_cmp(cur, f.max_cursor) > 0 ? cur : f.max_cursor;
		const char *fi = known_first && cursor_cmp(known_first, f.min_cursor) < 0 ? known_first : f.min_cursor;
		json_object_set_new(st, "cursor", json_string(c));
		json_object_set_new(st, "first", json_string(fi));
		if (f.dedupe)
			json_object_set_new(st, "boundary", new_boundary(&f, c));
		json_object_set_new(job->new_state, ep->name, st);
	}
	ret = 0;
out:
	free(f.max_cursor);
	free(f.min_cursor);
	strvec_clear(&f.prev_keys);
	strvec_clear(&f.max_keys);
	free(start);
	free(end);
	free(fstart);
	free(fend);
	strbuf_release(&prev);
	strbuf_release(&first);
	strbuf_release(&msg);
	return ret;
}

static int make_spool(struct sync_job *job, struct strbuf *err)
{
	return sync_job_spool_dir(job, err);
}

/* Spool files per batch: __dango_spool reads a file with one thread, and
 * the files of a list in parallel, so a batch of two keeps both cores
 * loading. A file holds one row group of DuckDB's (122,880 rows) when its
 * rows are small enough: each thread's rows then fill whole row groups,
 * which DuckDB writes to the database file at once; a part of one stays
 * in memory to the commit, spilled to its temp folder under the memory
 * limit (425 MB spilled and read back in a sync of 5M records of 16 MB
 * files, none with a row group a file; a third less CPU). */
#define SPOOL_GROUP 2
#define SPOOL_FILE_ROWS 122880
#define SPOOL_FILE_BYTES (30u << 20)

static size_t *batched_slot(struct rest *r, int ti)
{
	if ((size_t)ti >= r->nr_batched) {
		r->batched = xrealloc(r->batched, ((size_t)ti + 1) * sizeof(*r->batched));
		memset(r->batched + r->nr_batched, 0, ((size_t)ti + 1 - r->nr_batched) * sizeof(*r->batched));
		r->nr_batched = (size_t)ti + 1;
	}
	return &r->batched[ti];
}

/* Table ti's files from the first not handed over to `upto` (excluded)
 * become one batch. */
static void emit_files(struct rest *r, int ti, size_t upto)
{
	struct sync_job *job = r->job;
	const struct norm_table *t = &r->norm.tables[ti];
	size_t *from = batched_slot(r, ti), first = *from;
	if (first >= upto)
		return;
	*from = upto;
	struct sync_batch *b = sync_job_add_batch(job, t->name);
	struct strbuf rel = STRBUF_INIT;
	normalizer_relation_files(&r->norm, t, (const char *const *)t->files.v + first, upto - first, &rel);
	b->relation = strbuf_detach(&rel, NULL);
	/* the engine removes one file a batch; the others go with the
	 * spool folder at the job's end */
	b->spool_path = xstrdup(t->files.v[first]);
	/* a value is held whole in a block of the next power of two above
	 * its size, and again where DuckDB stores it: a long record needs
	 * more than the job's limit */
	if (t->max_row > (4u << 20))
		b->memory_limit = xasprintf("%zuMB", ((upto - first) * 4 * t->max_row >> 20) + 128);
	b->own_ids = 1;
	b->label = upto - first == 1 ? xasprintf("%s (part %zu)", t->name, first + 1)
				     : xasprintf("%s (parts %zu-%zu)", t->name, first + 1, upto);
	sync_job_emit(job);
}

/* A spool file is complete: hand it to the engine as a batch (with the
 * files before it not handed over yet), so that it loads while the next
 * pages are fetched. */
static void spool_file_done(void *data, int ti, size_t k)
{
	struct rest *r = data;
	struct sync_job *job = r->job;
	const struct norm_table *t = &r->norm.tables[ti];
	int root = ti;
	while (r->norm.tables[root].parent >= 0)
		root = r->norm.tables[root].parent;
	const struct endpoint *ep = NULL;
	for (size_t i = 0; i < r->nr_eps; i++)
		if (r->eps[i].table == root)
			ep = &r->eps[i];
	if (!ep || !ep->write) {
		unlink(t->files.v[k]);
		*batched_slot(r, ti) = k + 1;
		return;
	}
	struct sync_resource *res = sync_job_resource(job, t->name);
	if (t->parent >= 0 && !res->primary_key.nr) {
		/* child rows follow their parent's disposition; merged by their own
		 * (stable) _dlt_id when the parent merges */
		res->disposition = ep->wd;
		if (ep->wd == WD_MERGE)
			strvec_push(&res->primary_key, "_dlt_id");
	}
	if (k + 1 - *batched_slot(r, ti) >= SPOOL_GROUP)
		emit_files(r, ti, k + 1);
}

static int rest_extract(struct sync_job *job, struct strbuf *err)
{
	/* --limit counts records of the endpoints, not their child rows */
	job->limit_handled = 1;
	struct rest *r = job->conn;
	int ret = -1;
	if (make_spool(job, err) < 0)
		return -1;
	normalizer_init(&r->norm, job->spool_dir);
	r->norm.rotate_bytes = SPOOL_FILE_BYTES;
	r->norm.rotate_rows = SPOOL_FILE_ROWS;
	r->norm_ready = 1;
	if (stored_token(r, job, err) < 0)
		return -1;
	job->progress(job, "Connecting to %s%s", r->label, strchr(r->label, '/') ? "" : " API");

	/* what to fetch: the selected endpoints and their ancestors */
	for (size_t i = 0; i < r->nr_eps; i++) {
		struct endpoint *ep = &r->eps[i];
		if (!sync_job_selected(job, ep->name))
			continue;
		ep->write = 1;
		for (int p = (int)i; p >= 0; p = r->eps[p].parent)
			r->eps[p].needed = 1;
	}
	for (size_t i = 0; i < r->nr_eps; i++) {
		struct endpoint *ep = &r->eps[i];
		ep->table = normalizer_table(&r->norm, ep->name, -1);
		if (ep->parent >= 0 && ep->needed)
			for (size_t k = 0; k < ep->parent_fields.nr; k++)
				if (!strvec_has(&r->eps[ep->parent].keep, ep->parent_fields.v[k]))
					strvec_push(&r->eps[ep->parent].keep, ep->parent_fields.v[k]);
	}
	/* resources are described before their first batch is handed over */
	for (size_t i = 0; i < r->nr_eps; i++) {
		struct endpoint *ep = &r->eps[i];
		if (!ep->write)
			continue;
		struct sync_resource *res = sync_job_resource(job, ep->name);
		res->disposition = ep->wd;
		for (size_t k = 0; k < ep->primary_key.nr; k++) {
			/* a key is its column: Salesforce's Id is id, a nested key
			 * (attributes.id.value) its flattened column */
			struct strvec parts = STRVEC_INIT;
			struct strbuf col = STRBUF_INIT, one = STRBUF_INIT;
			const char *p = ep->primary_key.v[k], *dot;
			while (p) {
				dot = strchr(p, '.');
				char *part = dot ? xstrndup(p, (size_t)(dot - p)) : xstrdup(p);
				strbuf_reset(&one);
				sync_normalize_name(&one, part);
				strbuf_addf(&col, "%s%s", col.len ? "__" : "", one.buf);
				free(part);
				p = dot ? dot + 1 : NULL;
			}
			strvec_push(&res->primary_key, col.buf);
			strvec_clear(&parts);
			strbuf_release(&col);
			strbuf_release(&one);
		}
		if (ep->wd == WD_REPLACE)
			strvec_pushf(&job->notes, "replace: every sync reloads %s", ep->name);
	}
	r->job = job;
	r->norm.on_file = spool_file_done;
	r->norm.on_file_data = r;
	/* parents before children */
	for (size_t pass = 0; pass <= r->nr_eps; pass++) {
		for (size_t i = 0; i < r->nr_eps; i++) {
			struct endpoint *ep = &r->eps[i];
			if (ep->done || !ep->needed || (ep->parent >= 0 && !r->eps[ep->parent].done))
				continue;
			if (fetch_endpoint(r, job, ep, err) < 0)
				goto out;
			ep->done = 1;
		}
	}
	if (normalizer_finish(&r->norm, err) < 0)
		goto out;
	/* the last files of each table, fewer than a group */
	for (size_t i = 0; i < r->norm.nr_tables; i++)
		emit_files(r, (int)i, r->norm.tables[i].files.nr);
	for (size_t i = 0; i < r->norm.nr_tables; i++)
		for (size_t k = 0; k < r->norm.tables[i].renamed.nr; k++)
			strvec_push(&job->warnings, r->norm.tables[i].renamed.v[k]);

	/* one batch per spool file; one resource per table */
	ret = 0;
out:
	return ret;
}

static int rest_describe(struct sync_job *job, struct strbuf *out, struct strbuf *err)
{
	struct rest *r = job->conn;
	struct strbuf prev = STRBUF_INIT;
	if (r->auth == AUTH_STORED) {
		struct strbuf name = STRBUF_INIT;
		int bad = resolve_credential(r, job, &name, err) < 0 || oauth_peek(job->project, name.buf, out, err) < 0;
		strbuf_release(&name);
		if (bad) {
			strbuf_release(&prev);
			return -1;
		}
		strbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < r->nr_eps; i++) {
		const struct endpoint *ep = &r->eps[i];
		if (!sync_job_selected(job, ep->name))
			continue;
		strbuf_addf(out, "%s: GET ", ep->name);
		url_join(out, r->base_url, ep->path);
		if (ep->inc.set) {
			const char *cur = job->opts->full_refresh ? NULL : state_str(job->prev_state, ep->name, "cursor", &prev);
			const char *from = job->opts->since ? job->opts->since : cur ? cur : ep->inc.initial_value;
			char *shown = from ? show_cursor(ep, from) : NULL;
			strbuf_addf(out, " (%s from %s)", job->opts->full_refresh ? "full refresh" : "incremental",
				    shown ? shown : "the beginning");
			free(shown);
		} else if (ep->wd == WD_REPLACE) {
			strbuf_addstr(out, " (full refresh)");
		}
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "=0\n");
	strbuf_release(&prev);
	return 0;
}

static int rest_resources(struct sync_job *job, struct strvec *out, struct strbuf *err)
{
	const struct rest *r = job->conn;
	(void)err;
	for (size_t i = 0; i < r->nr_eps; i++)
		strvec_push(out, r->eps[i].name);
	return 0;
}

const struct connector_ops rest_api_connector = {
	.type = "rest_api",
	.caps = CONNECTOR_DATE_RANGE,
	.open = rest_open,
	.extract = rest_extract,
	.describe = rest_describe,
	.close = rest_close,
	.resources = rest_resources,
};

int rest_api_handles(const char *type)
{
	json_t *spec = NULL;
	struct strbuf err = STRBUF_INIT;
	if (!strcmp(type, "rest_api"))
		return 1;
	int found = preset_load(type, &spec, &err);
	json_decref(spec);
	strbuf_release(&err);
	return found != 0;
}

/* ---- dango source test ---------------------------------------------------------------- */

static void check_progress(struct sync_job *job, const char *fmt, ...)
{
	(void)job;
	(void)fmt;
}

int rest_api_check(const struct source *s, const struct project *p, struct strbuf *report)
{
	struct sync_options opts;
	struct sync_job job;
	struct strbuf err = STRBUF_INIT, url = STRBUF_INIT, m = STRBUF_INIT, e = STRBUF_INIT;
	struct strvec headers = STRVEC_INIT, auth = STRVEC_INIT;
	struct http_response resp;
	struct jv_doc doc = JV_DOC_INIT;
	struct rest *r = NULL;
	int ret = -1;
	memset(&opts, 0, sizeof(opts));
	memset(&job, 0, sizeof(job));
	job.source = s;
	job.project = p;
	job.opts = &opts;
	job.progress = check_progress;
	http_response_init(&resp);
	if (rest_parse(&job, s, &r, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	/* the first endpoint that needs no parent */
	struct endpoint *ep = NULL;
	for (size_t i = 0; i < r->nr_eps && !ep; i++)
		if (r->eps[i].parent < 0)
			ep = &r->eps[i];
	if (!ep) {
		strbuf_addstr(report, "✗ no endpoint without a parent to try\n");
		goto out;
	}
	if (stored_token(r, &job, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	for (size_t i = 0; i < job.warnings.nr; i++)
		strbuf_addf(report, "⚠ %s\n", job.warnings.v[i]);
	url_join(&url, r->base_url, ep->path);
	r->http.max_attempts = 2;
	struct http_request req = { .method = ep->method, .url = url.buf, .headers = &headers, .auth_headers = &auth,
				    .auth_query = r->auth_query };
	if (request_headers(r, &job, ep, &headers, &auth, &err) < 0 || http_do(&r->http, &req, &resp, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	masked(r, &m, resp.url ? resp.url : url.buf);
	if (resp.status >= 300) {
		status_error(r, &job, url.buf, &resp, &err);
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	if (parse_page(r, ep->method, url.buf, &resp, &doc, &e) < 0) {
		strbuf_addf(report, "✗ HTTP %ld, but %s\n", resp.status, e.buf);
		goto out;
	}
	int found;
	const struct jv *recs = find_records(doc.root, ep->data_selector, &found);
	size_t n = recs && recs->type == JV_ARR ? recs->n : (recs && recs->type == JV_OBJ) ? 1 : 0;
	strbuf_addf(report, "✓ %s %s: HTTP %ld, %zu record%s on the first page of %s\n", ep->method, m.buf, resp.status, n,
		    n == 1 ? "" : "s", ep->name);
	if (r->secret_vars.nr)
		strbuf_addf(report, "✓ authenticated with %s\n", r->secret_vars.v[0]);
	else if (r->auth == AUTH_STORED)
		strbuf_addf(report, "✓ authenticated with OAuth credential %s\n", r->oauth_credential);
	ret = 0;
out:
	strvec_clear(&job.warnings);
	strvec_clear(&job.notes);
	rest_free(r);
	strbuf_release(&err);
	strbuf_release(&url);
	strbuf_release(&m);
	strbuf_release(&e);
	strvec_clear(&headers);
	strvec_clear(&auth);
	http_response_release(&resp);
	jv_doc_release(&doc);
	return ret;
}
