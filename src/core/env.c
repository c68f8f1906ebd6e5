#include "env.h"
#include "strbuf.h"
#include "xalloc.h"
#include "fs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void env_add(struct env *env, const char *name, size_t nlen, const char *value, const char *origin)
{
	ALLOC_GROW(env->entries, env->nr + 1, env->alloc);
	env->entries[env->nr].name = xstrndup(name, nlen);
	env->entries[env->nr].value = xstrdup(value);
	env->entries[env->nr++].origin = origin;
}

/* Unquote a value: "..." with backslash escapes, '...' literal, or bare with
 * a trailing " # comment" dropped. */
static int parse_value(const char *p, struct strbuf *out)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"' || *p == '\'') {
		char q = *p++;
		for (; *p && *p != q; p++) {
			if (q == '"' && *p == '\\' && p[1]) {
				p++;
				strbuf_addch(out, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
			} else {
				strbuf_addch(out, *p);
			}
		}
		if (*p != q)
			return -1;
		return 0;
	}
	const char *hash = strstr(p, " #");
	strbuf_add(out, p, hash ? (size_t)(hash - p) : strlen(p));
	strbuf_trim(out);
	return 0;
}

static int load_dotenv(struct env *env, const char *path, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, val = STRBUF_INIT;
	int ret = 0, lineno = 0;
	if (strbuf_read_file(&text, path) < 0) {
		strbuf_release(&text);
		return 0; /* optional */
	}
	for (char *line = text.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		char *p = line;
		size_t l = strlen(p);
		if (l && p[l - 1] == '\r')
			p[l - 1] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "export ", 7))
			p += 7;
		char *eq = strchr(p, '=');
		if (!eq || eq == p) {
			strbuf_addf(err, "%s:%d: expected NAME=value", path, lineno);
			ret = -1;
			break;
		}
		size_t nlen = (size_t)(eq - p);
		while (nlen && isspace((unsigned char)p[nlen - 1]))
			nlen--;
		strbuf_reset(&val);
		if (parse_value(eq + 1, &val) < 0) {
			strbuf_addf(err, "%s:%d: unterminated quoted value", path, lineno);
			ret = -1;
			break;
		}
		env_add(env, p, nlen, val.buf, ".env");
	}
	strbuf_release(&text);
	strbuf_release(&val);
	return ret;
}

/* Just enough TOML for secrets: [sections], key = "string" | 'string' | bare.
 * With qualify (config.toml), a key is named "section.key". */
static int load_toml(struct env *env, const char *path, const char *origin, int qualify, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, val = STRBUF_INIT, section = STRBUF_INIT, name = STRBUF_INIT;
	int ret = 0, lineno = 0;
	if (strbuf_read_file(&text, path) < 0) {
		strbuf_release(&text);
		return 0;
	}
	char *p = text.buf;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		char *s = p;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '[') {
			char *close = strchr(s, ']');
			strbuf_reset(&section);
			if (close)
				strbuf_add(&section, s + 1, (size_t)(close - s - 1));
			strbuf_trim(&section);
		}
		if (*s && *s != '#' && *s != '[') {
			char *eq = strchr(s, '=');
			if (!eq) {
				strbuf_addf(err, "%s:%d: expected key = value", path, lineno);
				ret = -1;
				break;
			}
			size_t nlen = (size_t)(eq - s);
			while (nlen && isspace((unsigned char)s[nlen - 1]))
				nlen--;
			if (nlen > 1 && (s[0] == '"' || s[0] == '\'')) {
				s++;
				nlen -= 2;
			}
			strbuf_reset(&val);
			if (parse_value(eq + 1, &val) < 0) {
				strbuf_addf(err, "%s:%d: unterminated string", path, lineno);
				ret = -1;
				break;
			}
			strbuf_reset(&name);
			if (qualify && section.len)
				strbuf_addf(&name, "%s.", section.buf);
			strbuf_add(&name, s, nlen);
			env_add(env, name.buf, name.len, val.buf, origin);
		}
		p = nl ? nl + 1 : NULL;
	}
	strbuf_release(&text);
	strbuf_release(&val);
	strbuf_release(&section);
	strbuf_release(&name);
	return ret;
}

int env_load(struct env *env, const char *project_dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret;
	fs_path_join(&path, project_dir, ".env");
	ret = load_dotenv(env, path.buf, err);
	if (!ret) {
		strbuf_reset(&path);
		fs_path_join(&path, project_dir, ".dlt/secrets.toml");
		ret = load_toml(env, path.buf, ".dlt/secrets.toml", 0, err);
	}
	if (!ret) {
		strbuf_reset(&path);
		fs_path_join(&path, project_dir, ".dlt/config.toml");
		ret = load_toml(env, path.buf, ".dlt/config.toml", 1, err);
	}
	strbuf_release(&path);
	return ret;
}

void env_release(struct env *env)
{
	for (size_t i = 0; i < env->nr; i++) {
		free(env->entries[i].name);
		free(env->entries[i].value);
	}
	free(env->entries);
	env->entries = NULL;
	env->nr = env->alloc = 0;
}

const char *env_lookup(const struct env *env, const char *name, const char **origin)
{
	const char *v = getenv(name);
	if (v && *v) {
		if (origin)
			*origin = "environment";
		return v;
	}
	/* .env first, exact name; then secrets.toml, any case */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = env ? env->nr : 0; i-- > 0;) {
			const struct env_entry *e = &env->entries[i];
			int dotenv = !strcmp(e->origin, ".env");
			if (pass == 0 ? (dotenv && !strcmp(e->name, name))
				      : (!dotenv && !strcasecmp(e->name, name))) {
				if (origin)
					*origin = e->origin;
				return e->value;
			}
		}
	}
	return NULL;
}

/* At most 4 characters, the last ones (as payment and cloud consoles
 * show keys), and only of a secret of 16 or more, so that what shows is at
 * most a quarter of it; a shorter one shows nothing. */
void env_mask(struct strbuf *sb, const char *secret)
{
	size_t n = strlen(secret);
	if (n < ENV_MASK_MIN_SHOWN) {
		strbuf_addstr(sb, "****");
		return;
	}
	strbuf_addstr(sb, "…");
	strbuf_add(sb, secret + n - 4, 4);
}
