#include "sources/preset.h"
#include "sources/registry.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"

#include <errno.h>
#include <limits.h>
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t preset_lock = PTHREAD_MUTEX_INITIALIZER;
static char *user_dir;

void preset_set_user_dir(const char *dir)
{
	pthread_mutex_lock(&preset_lock);
	free(user_dir);
	user_dir = dir ? xstrdup(dir) : NULL;
	pthread_mutex_unlock(&preset_lock);
}

json_t *yaml_to_json(const struct ynode *n)
{
	if (!n)
		return json_null();
	if (n->kind == Y_MAP) {
		json_t *o = json_object();
		for (size_t i = 0; i < n->n; i++)
			json_object_set_new(o, n->pairs[i].key->str, yaml_to_json(n->pairs[i].value));
		return o;
	}
	if (n->kind == Y_SEQ) {
		json_t *a = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(a, yaml_to_json(n->items[i]));
		return a;
	}
	if (!n->quoted) {
		int b;
		int64_t i;
		double d;
		if (ynode_is_null(n))
			return json_null();
		if (ynode_bool(n, &b) == 0)
			return json_boolean(b);
		if (ynode_int(n, &i) == 0)
			return json_integer((json_int_t)i);
		if (ynode_double(n, &d) == 0)
			return json_real(d);
	}
	return json_string(n->str ? n->str : "");
}

/* The user presets folder: the one set, or .dango/presets of the nearest
 * project upwards from the working directory. */
static int find_user_dir(struct strbuf *out)
{
	pthread_mutex_lock(&preset_lock);
	if (user_dir) {
		strbuf_addstr(out, user_dir);
		pthread_mutex_unlock(&preset_lock);
		return 0;
	}
	pthread_mutex_unlock(&preset_lock);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	for (;;) {
		struct strbuf d = STRBUF_INIT;
		strbuf_addf(&d, "%s/.dango", cwd);
		if (fs_is_dir(d.buf)) {
			strbuf_addf(out, "%s/presets", d.buf);
			strbuf_release(&d);
			return 0;
		}
		strbuf_release(&d);
		char *slash = strrchr(cwd, '/');
		if (!slash || slash == cwd)
			return -1;
		*slash = '\0';
	}
}

static int parse_spec(const char *file, const char *text, size_t len, json_t **out, struct strbuf *err)
{
	struct ydoc doc;
	memset(&doc, 0, sizeof(doc));
	if (ydoc_parse(&doc, file, text, len, err) < 0) {
		ydoc_release(&doc);
		return -1;
	}
	if (!doc.root || doc.root->kind != Y_MAP) {
		strbuf_addf(err, "%s: a preset must be a mapping (label, config, client, endpoints)", file);
		ydoc_release(&doc);
		return -1;
	}
	*out = yaml_to_json(doc.root);
	ydoc_release(&doc);
	if (!json_is_array(json_object_get(*out, "endpoints"))) {
		strbuf_addf(err, "%s: a preset needs an 'endpoints' list", file);
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int preset_load(const char *name, json_t **out, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	int ret = 0;
	*out = NULL;
	if (!is_snake_case(name))
		return 0;
	if (find_user_dir(&dir) == 0) {
		strbuf_addf(&path, "%s/%s.yml", dir.buf, name);
		if (strbuf_read_file(&text, path.buf) < 0) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s.yaml", dir.buf, name);
			strbuf_read_file(&text, path.buf);
		}
		if (text.len) {
			ret = parse_spec(path.buf, text.buf, text.len, out, err) < 0 ? -1 : 1;
			goto out;
		}
	}
	for (size_t i = 0; bundled_presets[i].name; i++) {
		if (strcmp(bundled_presets[i].name, name))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "(bundled preset %s.yml)", name);
		ret = parse_spec(path.buf, bundled_presets[i].text, strlen(bundled_presets[i].text), out, err) < 0 ? -1 : 1;
		break;
	}
out:
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}

/* ---- expansion ------------------------------------------------------------------- */

struct values {
	json_t *v;         /* config key -> value */
};

int json_scalar_text(json_t *v, struct strbuf *sb)
{
	if (json_is_string(v))
		strbuf_addstr(sb, json_string_value(v));
	else if (json_is_integer(v))
		strbuf_addf(sb, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		strbuf_addf(sb, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		strbuf_addstr(sb, json_is_true(v) ? "true" : "false");
	else
		return 0;
	return 1;
}

/* {config.KEY} in every string of v; a string that is only a placeholder
 * takes the value itself (a list stays a list; a missing value is null). */
static json_t *substitute(json_t *v, json_t *values)
{
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x) json_object_set_new(o, k, substitute(x, values));
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) json_array_append_new(a, substitute(x, values));
		return a;
	}
	if (!json_is_string(v) || !strstr(json_string_value(v), "{config."))
		return json_deep_copy(v);
	const char *s = json_string_value(v);
	size_t n = strlen(s);
	if (starts_with(s, "{config.") && s[n - 1] == '}' && !strchr(s + 1, '{')) {
		char *key = xstrndup(s + 8, n - 9);
		char *filter = strchr(key, '|');
		if (filter)
			*filter++ = '\0';
		json_t *val = json_object_get(values, key);
		int names = filter && !strcmp(filter, "names");
		free(key);
		if (names) {
			/* [a, b] -> [{name: a}, {name: b}] (GA4's dimensions and metrics) */
			json_t *a = json_array();
			struct strvec parts = STRVEC_INIT;
			if (json_is_string(val))
				strvec_push_split(&parts, json_string_value(val));
			size_t i;
			json_t *x;
			json_array_foreach(val, i, x) if (json_is_string(x)) strvec_push(&parts, json_string_value(x));
			for (size_t k = 0; k < parts.nr; k++)
				json_array_append_new(a, json_pack("{s:s}", "name", parts.v[k]));
			strvec_clear(&parts);
			return a;
		}
		return val ? json_deep_copy(val) : json_null();
	}
	struct strbuf out = STRBUF_INIT;
	while (*s) {
		const char *open = strstr(s, "{config."), *close = open ? strchr(open, '}') : NULL;
		if (!open || !close) {
			strbuf_addstr(&out, s);
			break;
		}
		strbuf_add(&out, s, (size_t)(open - s));
		char *key = xstrndup(open + 8, (size_t)(close - open - 8));
		json_scalar_text(json_object_get(values, key), &out);
		free(key);
		s = close + 1;
	}
	json_t *r = json_string(out.buf);
	strbuf_release(&out);
	return r;
}

static json_t *find_endpoint(json_t *eps, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(eps, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && !strcmp(n, name))
			return e;
	}
	return NULL;
}

/* The endpoint a {resources.P.F} placeholder of e names, or NULL. */
static const char *parent_of(json_t *e, struct strbuf *sb)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	const char *p = path ? strstr(path, "{resources.") : NULL;
	if (!p)
		return NULL;
	const char *dot = strchr(p + 11, '.');
	if (!dot)
		return NULL;
	strbuf_reset(sb);
	strbuf_add(sb, p + 11, (size_t)(dot - p - 11));
	return sb->buf;
}

static void add_with_parents(json_t *out, json_t *all, json_t *e)
{
	struct strbuf sb = STRBUF_INIT;
	const char *parent = parent_of(e, &sb);
	if (parent) {
		json_t *pe = find_endpoint(all, parent);
		if (pe && !find_endpoint(out, parent))
			add_with_parents(out, all, pe);
	}
	strbuf_release(&sb);
	if (!find_endpoint(out, json_string_value(json_object_get(e, "name"))))
		json_array_append(out, e);
}

/* {item}, {item_name} (snake_case) and {item_url} (percent-encoded) in
 * every string of v. */
static json_t *substitute_item(json_t *v, const char *item)
{
	if (json_is_object(v) || json_is_array(v)) {
		json_t *o = json_is_object(v) ? json_object() : json_array();
		const char *k;
		size_t i;
		json_t *x;
		if (json_is_object(v))
			json_object_foreach(v, k, x) json_object_set_new(o, k, substitute_item(x, item));
		else
			json_array_foreach(v, i, x) json_array_append_new(o, substitute_item(x, item));
		return o;
	}
	if (!json_is_string(v) || !strstr(json_string_value(v), "{item"))
		return json_deep_copy(v);
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT, url = STRBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)item; *p; p++) {
		int alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
		if (alnum)
			strbuf_addch(&name, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
		else if (name.len && name.buf[name.len - 1] != '_')
			strbuf_addch(&name, '_');
		if (alnum || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			strbuf_addch(&url, (char)*p);
		else
			strbuf_addf(&url, "%%%02X", *p);
	}
	while (name.len && name.buf[name.len - 1] == '_')
		strbuf_setlen(&name, name.len - 1);
	if (!name.len || (name.buf[0] >= '0' && name.buf[0] <= '9'))
		strbuf_insert(&name, 0, "t_", 2);
	for (const char *s = json_string_value(v); *s;) {
		if (starts_with(s, "{item}")) {
			strbuf_addstr(&out, item);
			s += 6;
		} else if (starts_with(s, "{item_name}")) {
			strbuf_addbuf(&out, &name);
			s += 11;
		} else if (starts_with(s, "{item_url}")) {
			strbuf_addbuf(&out, &url);
			s += 10;
		} else {
			strbuf_addch(&out, *s++);
		}
	}
	json_t *r = json_string(out.buf);
	strbuf_release(&out);
	strbuf_release(&name);
	strbuf_release(&url);
	return r;
}

/* The spec's endpoints plus one per item of a list the user gives
 * (endpoints_for_each: {config: sheets, endpoint: {...}}: a table per
 * sheet, per Airtable table, per Salesforce object). New reference. */
static json_t *all_endpoints(json_t *spec, json_t *values, json_t **generated)
{
	json_t *eps = json_deep_copy(json_object_get(spec, "endpoints"));
	json_t *each = json_object_get(spec, "endpoints_for_each");
	*generated = json_array();
	if (!json_is_object(each))
		return eps;
	const char *key = json_string_value(json_object_get(each, "config"));
	json_t *list = key ? json_object_get(values, key) : NULL, *tmpl = json_object_get(each, "endpoint");
	struct strvec items = STRVEC_INIT;
	if (json_is_string(list))
		strvec_push_split(&items, json_string_value(list));
	else if (json_is_array(list)) {
		size_t i;
		json_t *x;
		json_array_foreach(list, i, x) if (json_is_string(x)) strvec_push(&items, json_string_value(x));
	}
	for (size_t i = 0; i < items.nr && tmpl; i++) {
		json_t *e = substitute_item(tmpl, items.v[i]);
		json_array_append(eps, e);
		json_array_append_new(*generated, e);
	}
	strvec_clear(&items);
	return eps;
}

static const char *const politeness[] = { "rate_limit_delay", "request_max_attempts", "request_backoff_factor",
					  "max_pages", "timeout", "cross_origin", "max_page_mb", "max_retry_wait",
					  "concurrency", NULL };

/* A block that names an oauth_credential: the spec's `oauth: {provider:
 * P}` decides the provider, the token comes from the OAuth store (and is
 * renewed by it), and the client's own token settings go. Without one,
 * the preset's token variable as before. */
static void use_oauth(json_t *spec, json_t *block, json_t *conf)
{
	static const char *const token_keys[] = { "auth_token_env", "api_key_env", "api_key_name", "api_key_location",
						  "username", "username_env", "password_env", NULL };
	static const char *const url_keys[] = { "authorize_url", "token_url", "userinfo_url", "device_url", NULL };
	json_t *oa = json_object_get(spec, "oauth"), *cred = json_object_get(block, "oauth_credential");
	if (!json_is_object(oa) || !json_is_string(cred))
		return;
	for (size_t i = 0; token_keys[i]; i++)
		json_object_del(conf, token_keys[i]);
	json_object_set_new(conf, "auth_type", json_string("oauth"));
	json_object_set(conf, "oauth_credential", cred);
	json_object_set(conf, "oauth_provider", json_object_get(oa, "provider"));
	for (size_t i = 0; url_keys[i]; i++) {
		json_t *v = json_object_get(block, url_keys[i]);
		if (json_is_string(v))
			json_object_set(conf, url_keys[i], v);
	}
}

int preset_expand(const json_t *spec_c, const json_t *block_c, const char *source_name, json_t **conf,
		  struct strbuf *err)
{
	json_t *spec = (json_t *)spec_c, *block = (json_t *)block_c;
	json_t *values = json_object(), *chosen = json_array(), *eps = NULL, *generated = NULL;
	json_t *defs = json_object_get(spec, "config");
	const char *label = json_string_value(json_object_get(spec, "label"));
	int ret = -1;
	const char *k;
	json_t *d;
	*conf = NULL;
	if (!label)
		label = source_name;
	/* the config values: the user's, else the defaults */
	json_object_foreach(defs, k, d) {
		json_t *v = json_object_get(block, k);
		if (!v || json_is_null(v))
			v = json_object_get(d, "default");
		if ((!v || json_is_null(v)) && json_is_true(json_object_get(d, "required"))) {
			const char *help = json_string_value(json_object_get(d, "help"));
			strbuf_addf(err, "source '%s': '%s' is required for %s%s%s%s", source_name, k, label, help ? " (" : "",
				    help ? help : "", help ? ")" : "");
			goto out;
		}
		if (v && !json_is_null(v))
			json_object_set(values, k, v);
	}
	/* keys the spec does not declare still reach templates */
	json_object_foreach(block, k, d) if (!json_object_get(values, k)) json_object_set(values, k, d);
	eps = all_endpoints(spec, values, &generated);

	/* the endpoints: the user's choice, else the spec's default list, else all */
	json_t *want = json_object_get(block, "endpoints");
	if (!want || json_is_null(want))
		want = json_object_get(spec, "default_endpoints");
	if (json_is_string(want)) {
		struct strvec parts = STRVEC_INIT;
		strvec_push_split(&parts, json_string_value(want));
		json_t *a = json_array();
		for (size_t i = 0; i < parts.nr; i++)
			json_array_append_new(a, json_string(parts.v[i]));
		strvec_clear(&parts);
		json_object_set_new(values, "__endpoints", a);
		want = json_object_get(values, "__endpoints");
	}
	if (json_is_array(want) && json_array_size(want)) {
		size_t i;
		json_t *w;
		json_array_foreach(want, i, w) {
			const char *name = json_string_value(w);
			json_t *e = name ? find_endpoint(eps, name) : NULL;
			if (!e) {
				size_t j, n = json_array_size(eps);
				const char **names = xcalloc(n + 1, sizeof(*names));
				json_t *x;
				json_array_foreach(eps, j, x) names[j] = json_string_value(json_object_get(x, "name"));
				const char *hint = name ? did_you_mean(name, names) : NULL;
				strbuf_addf(err, "source '%s': %s has no endpoint '%s'", source_name, label, name ? name : "?");
				if (hint)
					strbuf_addf(err, " (did you mean '%s'?)", hint);
				strbuf_addstr(err, "; it has: ");
				for (j = 0; j < n; j++)
					strbuf_addf(err, "%s%s", j ? ", " : "", names[j] ? names[j] : "?");
				free(names);
				goto out;
			}
			add_with_parents(chosen, eps, e);
		}
		/* a spec's default list does not know the user's sheets or tables */
		if (!json_object_get(block, "endpoints") || json_is_null(json_object_get(block, "endpoints"))) {
			json_array_foreach(generated, i, w)
				if (!find_endpoint(chosen, json_string_value(json_object_get(w, "name"))))
					json_array_append(chosen, w);
		}
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(eps, i, e) json_array_append(chosen, e);
	}
	json_object_del(values, "__endpoints");

	json_t *client = json_object_get(spec, "client");
	*conf = client ? substitute(client, values) : json_object();
	json_object_set_new(*conf, "endpoints", substitute(chosen, values));
	use_oauth(spec, block, *conf);
	json_object_set_new(*conf, "label", json_string(label));
	for (size_t i = 0; politeness[i]; i++) {
		json_t *v = json_object_get(block, politeness[i]);
		if (v && !json_is_null(v))
			json_object_set(*conf, politeness[i], v);
	}
	ret = 0;
out:
	json_decref(values);
	json_decref(chosen);
	json_decref(eps);
	json_decref(generated);
	return ret;
}

/* ---- validation -------------------------------------------------------------------- */

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

int is_calendar_date(const char *s)
{
	int y, mo, d, h, mi, se, n = 0;
	if (!s || strlen(s) < 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return 0;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return 0;
	const char *p = s + 10;
	if (!*p)
		return 1;
	/* a time of day: THH:MM[:SS[.fff]][Z|+hh:mm|-hh:mm] */
	if ((*p != 'T' && *p != ' ') || sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5 || h > 23 || mi > 59)
		return 0;
	p += 6;
	if (*p == ':') {
		if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
			return 0;
		se = (p[1] - '0') * 10 + (p[2] - '0');
		if (se > 60)
			return 0;
		p += 3;
		if (*p == '.')
			while (*++p >= '0' && *p <= '9')
				;
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5 || h > 23 || mi > 59)
			return 0;
		p += 6;
	}
	return !*p;
}

static int check_date(const struct ydoc *doc, const struct ynode *v, const char *key, const char *source_name,
		      struct strbuf *err)
{
	if (!v || v->kind != Y_SCALAR || ynode_is_null(v) || !v->str)
		return 0;
	/* an epoch or a template is not for us to judge */
	if (!*v->str || strchr(v->str, '{') || strspn(v->str, "0123456789") == strlen(v->str))
		return 0;
	if (is_calendar_date(v->str))
		return 0;
	ynode_where(err, doc, v);
	strbuf_addf(err, "%s '%s' in source '%s' is not a calendar date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)\n", key,
		    v->str, source_name);
	return 1;
}

static int check_endpoint_name(const struct ydoc *doc, const struct ynode *v, json_t *eps, const char *label,
			       const char *source_name, struct strbuf *err)
{
	if (!v || v->kind != Y_SCALAR || !v->str || find_endpoint(eps, v->str))
		return 0;
	size_t j, n = json_array_size(eps);
	const char **names = xcalloc(n + 1, sizeof(*names));
	json_t *x;
	json_array_foreach(eps, j, x) names[j] = json_string_value(json_object_get(x, "name"));
	const char *hint = did_you_mean(v->str, names);
	ynode_where(err, doc, v);
	strbuf_addf(err, "source '%s': %s has no endpoint '%s'", source_name, label, v->str);
	if (hint)
		strbuf_addf(err, " (did you mean '%s'?)", hint);
	strbuf_addstr(err, "; it has: ");
	for (j = 0; j < n; j++)
		strbuf_addf(err, "%s%s", j ? ", " : "", names[j] ? names[j] : "?");
	strbuf_addch(err, '\n');
	free(names);
	return 1;
}

int preset_endpoint_names(const char *name, struct strvec *out)
{
	json_t *spec = NULL, *e;
	struct strbuf err = STRBUF_INIT;
	size_t i;
	int found = preset_load(name, &spec, &err);
	strbuf_release(&err);
	if (found <= 0)
		return -1;
	json_array_foreach(json_object_get(spec, "endpoints"), i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n)
			strvec_push(out, n);
	}
	json_decref(spec);
	return 0;
}

int preset_check_block(const struct ydoc *doc, const struct ynode *source, const struct ynode *block,
		       const char *source_name, struct strbuf *err)
{
	const struct ynode *type = ymap_get(source, "type");
	json_t *spec = NULL;
	struct strbuf e = STRBUF_INIT;
	int bad = 0;
	if (!block)
		return 0;
	bad += check_date(doc, ymap_get(block, "start_date"), "start_date", source_name, err);
	const struct ynode *eps = ymap_get(block, "endpoints");
	if (type && type->kind == Y_SCALAR && type->str && !strcmp(type->str, "rest_api")) {
		/* rest_api: each endpoint's incremental.initial_value */
		for (size_t i = 0; eps && eps->kind == Y_SEQ && i < eps->n; i++) {
			const struct ynode *inc = eps->items[i]->kind == Y_MAP ? ymap_get(eps->items[i], "incremental") : NULL;
			if (inc && inc->kind == Y_MAP)
				bad += check_date(doc, ymap_get(inc, "initial_value"), "initial_value", source_name, err);
		}
		return bad;
	}
	if (!type || type->kind != Y_SCALAR || !type->str || preset_load(type->str, &spec, &e) <= 0 || !eps) {
		json_decref(spec);
		strbuf_release(&e);
		return bad;
	}
	const char *label = json_string_value(json_object_get(spec, "label"));
	json_t *all = json_object_get(spec, "endpoints");
	if (!label)
		label = type->str;
	if (eps->kind == Y_SCALAR && eps->str && !ynode_is_null(eps)) {
		/* "charges, customers" */
		struct strvec parts = STRVEC_INIT;
		strvec_push_split(&parts, eps->str);
		for (size_t i = 0; i < parts.nr; i++) {
			struct ynode one = *eps;
			one.str = parts.v[i];
			bad += check_endpoint_name(doc, &one, all, label, source_name, err);
		}
		strvec_clear(&parts);
	} else if (eps->kind == Y_SEQ) {
		for (size_t i = 0; i < eps->n; i++)
			bad += check_endpoint_name(doc, eps->items[i], all, label, source_name, err);
	}
	json_decref(spec);
	strbuf_release(&e);
	return bad;
}

/* ---- source types of user presets ------------------------------------------------------- */

struct user_type {
	struct user_type *next;
	struct source_type type;
	struct cfg_key *keys;
};
static struct user_type *user_types;

static const char *const cross_origins[] = { "strip", "refuse", "allow", NULL };
static const struct cfg_key common_keys[] = {
	{ "endpoints", CFG_STR_LIST, 0, NULL, NULL, "endpoints to sync (default: the preset's)" },
	{ "base_url", CFG_STR, 0, NULL, NULL, NULL },
	{ "start_date", CFG_STR, 0, NULL, NULL, "YYYY-MM-DD" },
	{ "rate_limit_delay", CFG_NUM, 0, NULL, NULL, "seconds between requests" },
	{ "request_max_attempts", CFG_INT, 0, NULL, NULL, NULL },
	{ "request_backoff_factor", CFG_NUM, 0, NULL, NULL, NULL },
	{ "max_pages", CFG_INT, 0, NULL, NULL, NULL },
	{ "timeout", CFG_NUM, 0, NULL, NULL, "seconds" },
	{ "cross_origin", CFG_STR, 0, NULL, cross_origins, "strip, refuse or allow (links to other hosts)" },
	{ "max_page_mb", CFG_NUM, 0, NULL, NULL, "largest response accepted, in MB" },
	{ "max_retry_wait", CFG_NUM, 0, NULL, NULL, "seconds" },
	{ "concurrency", CFG_INT, 0, NULL, NULL, "pages fetched at once where their URLs are known (default 4)" },
};

/* Presets whose spec has an `oauth:` section take a stored credential
 * instead of their token variable (preset_expand). */
static const struct cfg_key oauth_keys[] = {
	{ "oauth_credential", CFG_STR, 0, NULL, NULL,
	  "a credential saved by dango oauth setup, used instead of the token variable" },
	{ "authorize_url", CFG_STR, 0, NULL, NULL, "OAuth authorization endpoint (default: the provider's)" },
	{ "token_url", CFG_STR, 0, NULL, NULL, "OAuth token endpoint (default: the provider's)" },
	{ "userinfo_url", CFG_STR, 0, NULL, NULL, "endpoint naming the account of a token (default: the provider's)" },
};

static struct user_type *make_type(const char *name, json_t *spec)
{
	struct user_type *u = xcalloc(1, sizeof(*u));
	json_t *defs = json_object_get(spec, "config");
	size_t n = json_object_size(defs) + ARRAY_SIZE(common_keys) + ARRAY_SIZE(oauth_keys) + 1, nr = 0;
	const char *k;
	json_t *d;
	u->keys = xcalloc(n, sizeof(*u->keys));
	json_object_foreach(defs, k, d) {
		struct cfg_key *key = &u->keys[nr++];
		key->name = xstrdup(k);
		key->kind = json_is_true(json_object_get(d, "list")) ? CFG_STR_LIST : CFG_STR;
		key->flags = (json_is_true(json_object_get(d, "secret")) ? CFG_SECRET : 0) |
			     (json_is_true(json_object_get(d, "required")) && !json_object_get(d, "default") ? CFG_REQUIRED : 0);
		if (json_is_string(json_object_get(d, "help")))
			key->help = xstrdup(json_string_value(json_object_get(d, "help")));
		if ((key->flags & CFG_SECRET) && !u->type.default_secret_env && json_is_string(json_object_get(d, "default")))
			u->type.default_secret_env = xstrdup(json_string_value(json_object_get(d, "default")));
	}
	for (size_t i = 0; i < ARRAY_SIZE(common_keys); i++) {
		if (json_object_get(defs, common_keys[i].name))
			continue;
		u->keys[nr++] = common_keys[i];
	}
	for (size_t i = 0; json_is_object(json_object_get(spec, "oauth")) && i < ARRAY_SIZE(oauth_keys); i++)
		if (!json_object_get(defs, oauth_keys[i].name))
			u->keys[nr++] = oauth_keys[i];
	u->type.name = xstrdup(name);
	const char *label = json_string_value(json_object_get(spec, "label"));
	const char *cat = json_string_value(json_object_get(spec, "category"));
	u->type.label = xstrdup(label ? label : name);
	u->type.category = xstrdup(cat ? cat : "Custom presets");
	u->type.keys = u->keys;
	u->type.can_sync = 1;
	u->type.check = preset_check_block;
	return u;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void preset_user_names(struct strvec *out)
{
	struct strbuf dir = STRBUF_INIT;
	if (find_user_dir(&dir) == 0) {
		DIR *d = opendir(dir.buf);
		struct dirent *e;
		size_t first = out->nr;
		while (d && (e = readdir(d))) {
			size_t n = strlen(e->d_name);
			if (e->d_name[0] != '.' && n > 4 && !strcmp(e->d_name + n - 4, ".yml")) {
				char *name = xstrndup(e->d_name, n - 4);
				strvec_push(out, name);
				free(name);
			}
		}
		if (d)
			closedir(d);
		if (out->nr - first > 1)
			qsort(out->v + first, out->nr - first, sizeof(*out->v), cmp_str);
	}
	strbuf_release(&dir);
}

const struct source_type *preset_source_type(const char *name)
{
	json_t *spec = NULL;
	struct strbuf err = STRBUF_INIT;
	const struct source_type *t = NULL;
	if (preset_load(name, &spec, &err) <= 0) {
		strbuf_release(&err);
		return NULL;
	}
	strbuf_release(&err);
	pthread_mutex_lock(&preset_lock);
	for (struct user_type *u = user_types; u; u = u->next)
		if (!strcmp(u->type.name, name))
			t = &u->type;
	if (!t) {
		/* kept for the life of the process: registry entries are static */
		struct user_type *u = make_type(name, spec);
		u->next = user_types;
		user_types = u;
		t = &u->type;
	}
	pthread_mutex_unlock(&preset_lock);
	json_decref(spec);
	return t;
}
