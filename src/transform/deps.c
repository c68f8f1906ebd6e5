/* `dango deps`: dbt's package installer.
 *
 * Entries come from packages.yml (or dependencies.yml): local:, git:
 * (revision, subdirectory), tarball: (a URL or a file, with name:) and hub
 * packages (package: namespace/name with version: constraints), resolved
 * through the hub's JSON API at $DBT_PACKAGE_HUB_URL (default
 * https://hub.getdbt.com/): GET api/v1/<namespace>/<name>.json lists the
 * versions, each with its tarball and its own package dependencies.
 *
 * Resolution is dbt's: every package's own packages.yml (or, for hub
 * packages, the hub's list) adds entries; the constraints on one hub package
 * intersect and the newest release inside them wins (prereleases only when
 * asked for); two different sources of one project name are an error.
 * The resolved tree goes into package-lock.yml, and a lock that covers
 * every entry of packages.yml is installed as it stands (no resolution), as
 * dbt 1.7+ does; `--upgrade` resolves again.
 *
 * Everything is fetched into a staging folder inside the install path
 * first and moved into place only when all of it arrived, so a failed
 * `deps` leaves the installed packages as they were. */
#include "transform/deps.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/proc.h"
#include "core/sha1.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "transform/dbt.h"
#include "transform/semver.h"

#define DEFAULT_HUB "https://hub.getdbt.com/"
#define MAX_PACKAGES 256
#define MAX_ROUNDS 64

enum dep_kind { DEP_LOCAL, DEP_GIT, DEP_TARBALL, DEP_HUB };

struct dep {
	enum dep_kind kind;
	char *spec;        /* as written: path, URL (unrendered) or namespace/name */
	char *target;      /* what is fetched: absolute path, rendered URL */
	char *revision;    /* git: asked for; after the clone, the commit */
	char *subdir;
	char *name;        /* the project's name */
	char *where;       /* "packages.yml:3:5: " of the first entry */
	char *dir;         /* fetched into (local: the package itself) */
	int from_lock;
	/* hub */
	struct semver_range range;
	struct strvec asked;   /* the constraints, for messages */
	int prerelease;
	char *version;         /* chosen */
	json_t *meta;          /* the hub's answer */
	int expanded;          /* its dependencies were queued */
};

struct entry {              /* one packages.yml entry not yet merged */
	const struct ynode *node;
	const struct ydoc *doc;
	char *base;             /* folder local: paths are relative to */
	int from_lock;
};

struct deps {
	const char *project_dir;
	char *hub;
	char *staging;
	struct dep *deps[MAX_PACKAGES];
	size_t n;
	struct ydoc docs[MAX_PACKAGES + 2];
	size_t ndocs;
	struct entry queue[MAX_PACKAGES * 4];
	size_t qn;
	int fetched;            /* a counter for staging folder names */
	const struct ydoc *root; /* the project's packages.yml, when it lists packages */
};

static const char *ystr(const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);
	return n && n->kind == Y_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

static void where_of(struct strbuf *sb, const struct entry *e)
{
	ynode_where(sb, e->doc, e->node);
}

/* --- rendering {{ env_var('X') }} in entries ------------------------------------- */

/* dbt renders packages.yml with env_var() available, mostly for tokens in
 * private git URLs. Only env_var('NAME'[, 'default']) is understood here;
 * anything else in {{ }} is an error naming the entry. */
static int render_env(const char *text, struct strbuf *out, struct strbuf *err)
{
	const char *p = text;
	while (*p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			strbuf_addstr(out, p);
			break;
		}
		strbuf_add(out, p, (size_t)(open - p));
		const char *close = strstr(open, "}}");
		char name[128], dflt[256] = "";
		int has_default = 0, used = 0;
		if (close && sscanf(open, "{{ env_var ( '%127[^']' , '%255[^']' ) }}%n", name, dflt, &used) >= 2 &&
		    used)
			has_default = 1;
		else if (close && (used = 0, sscanf(open, "{{ env_var ( '%127[^']' ) }}%n", name, &used) >= 1) &&
			 used)
			;
		else {
			strbuf_addf(err, "only {{ env_var('NAME') }} can be used in a package entry, not '%.*s'",
				    close ? (int)(close + 2 - open) : (int)strlen(open), open);
			return -1;
		}
		const char *v = getenv(name);
		if (!v && !has_default) {
			strbuf_addf(err, "env_var('%s') is not set", name);
			return -1;
		}
		strbuf_addstr(out, v ? v : dflt);
		p = open + used;
	}
	return 0;
}

/* --- child programs (git, tar) ---------------------------------------------------- */

static int run_tool(const char *const *argv, const char *cwd, struct strbuf *out, struct strbuf *err)
{
	struct proc p;
	struct proc_opts o = { .argv = argv, .cwd = cwd, .out = out ? PROC_PIPE : PROC_NULL, .err = PROC_PIPE,
			       .stdin_null = 1 };
	struct strbuf msg = STRBUF_INIT;
	char buf[4096];
	ssize_t k;
	if (proc_spawn(&p, &o, err) < 0)
		return -1;
	if (out)
		while ((k = read(p.stdout_fd, buf, sizeof buf)) > 0)
			strbuf_add(out, buf, (size_t)k);
	while ((k = read(p.stderr_fd, buf, sizeof buf)) > 0)
		if (msg.len < 2000)
			strbuf_add(&msg, buf, (size_t)k);
	proc_wait(&p, -1);
	proc_release(&p);
	struct strbuf why = STRBUF_INIT;
	int failed = proc_describe_status(&why, p.status);
	if (failed) {
		strbuf_rtrim(&msg);
		strbuf_addf(err, "`%s %s` %s%s%s", argv[0], argv[1], why.buf, msg.len ? ": " : "", msg.buf);
	}
	strbuf_release(&why);
	strbuf_release(&msg);
	return failed ? -1 : 0;
}

/* --- downloads ---------------------------------------------------------------------- */

static size_t to_file(char *data, size_t size, size_t n, void *fp)
{
	return fwrite(data, size, n, fp);
}

static size_t to_strbuf(char *data, size_t size, size_t n, void *sb)
{
	strbuf_add(sb, data, size * n);
	return n;
}

/* GET url into a file or a buffer; an HTTP error status is an error. */
static int download(const char *url, FILE *fp, struct strbuf *sb, long *status, struct strbuf *err)
{
	CURL *c = curl_easy_init();
	char curl_err[CURL_ERROR_SIZE] = "";
	int ret = -1;
	if (!c) {
		strbuf_addstr(err, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dango-deps");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fp ? to_file : to_strbuf);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, fp ? (void *)fp : (void *)sb);
	CURLcode rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK)
		strbuf_addf(err, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
	else if (*status >= 400)
		strbuf_addf(err, "HTTP %ld", *status);
	else
		ret = 0;
	curl_easy_cleanup(c);
	return ret;
}

/* --- the dep list -------------------------------------------------------------------- */

static struct dep *find_dep(struct deps *d, enum dep_kind kind, const char *target, const char *subdir)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dep *x = d->deps[i];
		if (x->kind == kind && !strcmp(x->target, target) &&
		    !strcmp(x->subdir ? x->subdir : "", subdir ? subdir : ""))
			return x;
	}
	return NULL;
}

static void dep_free(struct dep *x)
{
	free(x->spec);
	free(x->target);
	free(x->revision);
	free(x->subdir);
	free(x->name);
	free(x->where);
	free(x->dir);
	free(x->version);
	strvec_clear(&x->asked);
	if (x->meta)
		json_decref(x->meta);
	free(x);
}

static const char *kind_word(enum dep_kind k)
{
	static const char *const words[] = { "local", "git", "tarball", "hub" };
	return words[k];
}

/* Another package already named name, or NULL. */
static const struct dep *name_taken(const struct deps *d, const struct dep *x, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->deps[i] != x && d->deps[i]->name && !strcmp(d->deps[i]->name, name))
			return d->deps[i];
	return NULL;
}

static int queue_file_entries(struct deps *d, const char *dir, int from_lock, struct strbuf *err);

/* A fetched package's name, checked against the others; then its own
 * packages.yml joins the queue. */
static int settle_name(struct deps *d, struct dep *x, struct strbuf *err)
{
	char *name = dbt_project_name_in(x->dir);
	const struct dep *o;
	if (!name) {
		strbuf_addf(err, "%s%s package '%s': no dbt_project.yml with a name", x->where, kind_word(x->kind),
			    x->spec);
		return -1;
	}
	if ((o = name_taken(d, x, name))) {
		strbuf_addf(err, "%sdbt found two packages named '%s': %s '%s' and %s '%s'", x->where, name,
			    kind_word(o->kind), o->spec, kind_word(x->kind), x->spec);
		free(name);
		return -1;
	}
	free(x->name);
	x->name = name;
	return x->from_lock ? 0 : queue_file_entries(d, x->dir, 0, err);
}

static char *staging_dir(struct deps *d)
{
	char *dir = xasprintf("%s/%d", d->staging, d->fetched++);
	return dir;
}

static int fetch_git(struct deps *d, struct dep *x, struct strbuf *err)
{
	char *clone = staging_dir(d);
	struct strbuf sha = STRBUF_INIT;
	int ret = -1;
	const char *clone_argv[] = { "git", "clone", "--quiet", x->target, clone, NULL };
	const char *co_argv[] = { "git", "-c", "advice.detachedHead=false", "checkout", "--quiet", x->revision,
				  NULL };
	const char *head_argv[] = { "git", "rev-parse", "HEAD", NULL };
	if (run_tool(clone_argv, NULL, NULL, err) < 0 || (x->revision && run_tool(co_argv, clone, NULL, err) < 0) ||
	    run_tool(head_argv, clone, &sha, err) < 0)
		goto out;
	strbuf_trim(&sha);
	free(x->revision);
	x->revision = strbuf_detach(&sha, NULL);
	char *sub = x->subdir ? xasprintf("%s/%s", clone, x->subdir) : xstrdup(clone);
	free(x->dir);
	x->dir = sub;
	ret = 0;
out:
	free(clone);
	strbuf_release(&sha);
	return ret;
}

/* The folder of an unpacked archive that holds dbt_project.yml: the top
 * or its only subfolder (GitHub's tarballs wrap everything in one). */
static char *package_root(const char *dir)
{
	struct strbuf p = STRBUF_INIT;
	char *found = NULL;
	strbuf_addf(&p, "%s/dbt_project.yml", dir);
	if (fs_exists(p.buf)) {
		strbuf_release(&p);
		return xstrdup(dir);
	}
	DIR *dh = opendir(dir);
	struct dirent *e;
	while (dh && (e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s/dbt_project.yml", dir, e->d_name);
		if (fs_exists(p.buf)) {
			free(found);
			found = xasprintf("%s/%s", dir, e->d_name);
		}
	}
	if (dh)
		closedir(dh);
	strbuf_release(&p);
	return found;
}

/* The SHA-1 of a file as 40 hex digits into hex[41]. */
static int file_sha1(const char *file, char hex[41])
{
	FILE *fp = fopen(file, "rb");
	char buf[65536];
	size_t n;
	struct sha1 s;
	if (!fp)
		return -1;
	sha1_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sha1_update(&s, buf, n);
	int bad = ferror(fp);
	fclose(fp);
	sha1_final_hex(&s, hex);
	return bad ? -1 : 0;
}

/* Download and unpack url; when the hub gives the archive's SHA-1
 * (downloads.sha1), a different file is an error before anything is
 * unpacked. */
static int fetch_tarball(struct deps *d, struct dep *x, const char *url, const char *sha1,
			 struct strbuf *err)
{
	char *dir = staging_dir(d), *file = xasprintf("%s.tar", dir);
	long status;
	int ret = -1;
	FILE *fp = fopen(file, "wb");
	if (!fp || fs_mkdir_p(dir, 0755) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", file, strerror(errno));
		goto out;
	}
	int r = download(url, fp, NULL, &status, err);
	if (fclose(fp) != 0 && !r) {
		strbuf_addf(err, "cannot write '%s': %s", file, strerror(errno));
		r = -1;
	}
	fp = NULL;
	if (r < 0)
		goto out;
	if (sha1 && *sha1) {
		char hex[41];
		if (file_sha1(file, hex) < 0) {
			strbuf_addf(err, "cannot read '%s': %s", file, strerror(errno));
			goto out;
		}
		if (strcasecmp(hex, sha1)) {
			strbuf_addf(err, "the archive's SHA-1 is %s but the package hub gives %s", hex, sha1);
			goto out;
		}
	}
	const char *tar_argv[] = { "tar", "-xf", file, "-C", dir, NULL };
	if (run_tool(tar_argv, NULL, NULL, err) < 0)
		goto out;
	free(x->dir);
	x->dir = package_root(dir);
	if (!x->dir) {
		strbuf_addf(err, "the archive holds no dbt_project.yml");
		goto out;
	}
	ret = 0;
out:
	if (fp)
		fclose(fp);
	unlink(file);
	free(file);
	free(dir);
	return ret;
}

/* --- the hub ------------------------------------------------------------------------- */

static int hub_metadata(struct deps *d, struct dep *x, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT;
	long status;
	int ret = -1;
	strbuf_addf(&url, "%s%sapi/v1/%s.json", d->hub, d->hub[strlen(d->hub) - 1] == '/' ? "" : "/", x->spec);
	if (download(url.buf, NULL, &body, &status, &why) < 0) {
		if (status == 404)
			strbuf_addf(err, "%spackage '%s' was not found in the package hub (%s)", x->where, x->spec,
				    url.buf);
		else
			strbuf_addf(err, "%scannot read package '%s' from the package hub (%s): %s", x->where,
				    x->spec, url.buf, why.buf);
		goto out;
	}
	json_error_t jerr;
	x->meta = json_loadb(body.buf, body.len, 0, &jerr);
	if (!json_is_object(json_object_get(x->meta, "versions"))) {
		strbuf_addf(err, "%sthe package hub's answer for '%s' (%s) has no versions", x->where, x->spec,
			    url.buf);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&url);
	strbuf_release(&body);
	strbuf_release(&why);
	return ret;
}

/* The newest listed version inside the range; prereleases only when the
 * entry allows them or a constraint names one. */
static int hub_choose(struct dep *x, struct strbuf *err)
{
	json_t *versions = json_object_get(x->meta, "versions");
	const char *key;
	json_t *val;
	struct semver best, v;
	const char *best_key = NULL;
	json_object_foreach(versions, key, val) {
		if (semver_parse(key, &v) < 0 || !semver_range_contains(&x->range, &v))
			continue;
		if (*v.pre && !x->prerelease && !x->range.names_prerelease)
			continue;
		if (!best_key || semver_cmp(&v, &best) > 0) {
			best = v;
			best_key = key;
		}
	}
	if (!best_key) {
		struct strbuf range = STRBUF_INIT;
		semver_range_describe(&range, &x->range);
		strbuf_addf(err, "%sversion error for package '%s': no version satisfies every constraint (", x->where,
			    x->spec);
		for (size_t i = 0; i < x->asked.nr; i++)
			strbuf_addf(err, "%s'%s'", i ? ", " : "", x->asked.v[i]);
		strbuf_addf(err, "; together: %s). Versions in the hub:", range.buf);
		size_t shown = 0;
		json_object_foreach(versions, key, val)
			if (shown++ < 20)
				strbuf_addf(err, " %s", key);
		strbuf_release(&range);
		return -1;
	}
	if (x->version && !strcmp(x->version, best_key))
		return 0;
	free(x->version);
	x->version = xstrdup(best_key);
	x->expanded = 0;
	return 1;
}

/* The hub's list of the chosen version's own dependencies, queued as if
 * they were written in a packages.yml of the package. */
static int hub_expand(struct deps *d, struct dep *x, struct strbuf *err)
{
	json_t *ver = json_object_get(json_object_get(x->meta, "versions"), x->version);
	json_t *pkgs = json_object_get(ver, "packages");
	size_t i;
	json_t *p;
	struct strbuf yml = STRBUF_INIT;
	x->expanded = 1;
	if (x->from_lock || !json_array_size(pkgs))
		return 0;
	/* Through YAML, so that one code path reads every entry. */
	strbuf_addstr(&yml, "packages:\n");
	json_array_foreach(pkgs, i, p) {
		const char *name = json_string_value(json_object_get(p, "package"));
		json_t *ver_c = json_object_get(p, "version");
		if (!name)
			continue;
		strbuf_addf(&yml, "  - package: ");
		yaml_add_scalar(&yml, name);
		strbuf_addstr(&yml, "\n    version: [");
		if (json_is_string(ver_c))
			yaml_add_scalar(&yml, json_string_value(ver_c));
		else {
			size_t j;
			json_t *c;
			json_array_foreach(ver_c, j, c) {
				strbuf_addstr(&yml, j ? ", " : "");
				yaml_add_scalar(&yml, json_string_value(c) ? json_string_value(c) : "");
			}
		}
		strbuf_addstr(&yml, "]\n");
	}
	char *file = xasprintf("%s (from the package hub)", x->spec);
	struct ydoc *doc = &d->docs[d->ndocs];
	int ret = -1;
	if (d->ndocs >= sizeof d->docs / sizeof *d->docs) {
		strbuf_addstr(err, "too many packages");
		goto out;
	}
	/* the document keeps its file name pointer: leak it with the doc's life */
	if (ydoc_parse(doc, file, yml.buf, yml.len, err) < 0)
		goto out;
	d->ndocs++;
	const struct ynode *list = ymap_get(doc->root, "packages");
	for (size_t k = 0; list && k < list->n && d->qn < sizeof d->queue / sizeof *d->queue; k++)
		d->queue[d->qn++] = (struct entry){ list->items[k], doc, NULL, 0 };
	file = NULL;
	ret = 0;
out:
	free(file);
	strbuf_release(&yml);
	return ret;
}

/* --- merging entries ------------------------------------------------------------------ */

static int add_constraints(struct dep *x, const struct entry *e, struct strbuf *err)
{
	const struct ynode *v = ymap_get(e->node, "version");
	const struct ynode *one[1];
	const struct ynode *const *items = one;
	size_t n = 1;
	if (!v) {
		where_of(err, e);
		strbuf_addf(err, "hub package '%s' needs a version (for example version: [\">=1.0.0\", \"<2.0.0\"])",
			    x->spec);
		return -1;
	}
	if (v->kind == Y_SEQ) {
		items = (const struct ynode *const *)v->items;
		n = v->n;
	} else
		one[0] = v;
	for (size_t i = 0; i < n; i++) {
		if (items[i]->kind != Y_SCALAR) {
			ynode_where(err, e->doc, items[i]);
			strbuf_addstr(err, "a version constraint is a text such as \">=1.0.0\"");
			return -1;
		}
		/* "1.0.0 2.0.0" is not a thing in dbt, but ">=1.0.0 <2.0.0" in one string
		 * is what the hub writes for require-dbt-version: split on spaces */
		struct strvec parts = STRVEC_INIT;
		strvec_push_split(&parts, items[i]->str);
		for (size_t k = 0; k < parts.nr; k++) {
			struct strbuf why = STRBUF_INIT;
			if (semver_range_add(&x->range, parts.v[k], &why) < 0) {
				ynode_where(err, e->doc, items[i]);
				strbuf_addbuf(err, &why);
				strbuf_release(&why);
				strvec_clear(&parts);
				return -1;
			}
			strvec_push(&x->asked, parts.v[k]);
		}
		strvec_clear(&parts);
	}
	int pre;
	const struct ynode *ip = ymap_get(e->node, "install-prerelease");
	if (ip && !ynode_bool(ip, &pre) && pre)
		x->prerelease = 1;
	return 0;
}

static struct dep *new_dep(struct deps *d, enum dep_kind kind, const struct entry *e, const char *spec,
			   const char *target, struct strbuf *err)
{
	if (d->n >= MAX_PACKAGES) {
		strbuf_addstr(err, "more than 256 packages");
		return NULL;
	}
	struct dep *x = xcalloc(1, sizeof(*x));
	struct strbuf w = STRBUF_INIT;
	where_of(&w, e);
	x->kind = kind;
	x->spec = xstrdup(spec);
	x->target = xstrdup(target);
	x->where = strbuf_detach(&w, NULL);
	x->from_lock = e->from_lock;
	d->deps[d->n++] = x;
	return x;
}

static int merge_hub(struct deps *d, const struct entry *e, const char *spec, struct strbuf *err)
{
	struct dep *x = find_dep(d, DEP_HUB, spec, NULL);
	if (!x && !(x = new_dep(d, DEP_HUB, e, spec, spec, err)))
		return -1;
	struct semver_range before = x->range;
	if (add_constraints(x, e, err) < 0)
		return -1;
	if (memcmp(&before, &x->range, sizeof before))
		x->expanded = 0;
	return 0;
}

static int merge_fetched(struct deps *d, const struct entry *e, enum dep_kind kind, const char *spec,
			 const char *target, struct strbuf *err)
{
	const char *rev = ystr(e->node, "revision"), *sub = ystr(e->node, "subdirectory");
	struct dep *x = find_dep(d, kind, target, sub);
	if (x) {
		if (kind == DEP_GIT && rev && x->revision && strcmp(rev, x->revision) && x->from_lock == e->from_lock) {
			where_of(err, e);
			strbuf_addf(err, "git package '%s' is asked for at two revisions ('%s' and '%s')", spec, rev,
				    x->revision);
			return -1;
		}
		return 0;
	}
	if (!(x = new_dep(d, kind, e, spec, target, err)))
		return -1;
	x->revision = rev ? xstrdup(rev) : NULL;
	x->subdir = sub ? xstrdup(sub) : NULL;
	struct strbuf why = STRBUF_INIT;
	int r = 0;
	if (kind == DEP_LOCAL) {
		x->dir = xstrdup(target);
	} else if (kind == DEP_GIT) {
		r = fetch_git(d, x, &why);
	} else {
		r = fetch_tarball(d, x, target, NULL, &why);
	}
	if (r < 0) {
		strbuf_addf(err, "%s%s package '%s': %s", x->where, kind_word(kind), spec, why.buf);
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	if (kind == DEP_TARBALL && ystr(e->node, "name")) {
		/* dbt takes a tarball's name from the entry */
		char *n = dbt_project_name_in(x->dir);
		if (n && strcmp(n, ystr(e->node, "name"))) {
			strbuf_addf(err, "%starball package '%s' is named '%s' in packages.yml but '%s' in its "
				    "dbt_project.yml", x->where, spec, ystr(e->node, "name"), n);
			free(n);
			return -1;
		}
		free(n);
	}
	return settle_name(d, x, err);
}

/* A URL or path as the entry gives it, rendered; relative paths are
 * relative to the folder of the packages.yml that names them. */
static char *entry_target(const struct entry *e, const char *key, const char *text, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	if (render_env(text, &out, &why) < 0) {
		where_of(err, e);
		strbuf_addf(err, "%s: %s", key, why.buf);
		strbuf_release(&why);
		strbuf_release(&out);
		return NULL;
	}
	strbuf_release(&why);
	int is_url = strstr(out.buf, "://") != NULL || (!strcmp(key, "git") && strchr(out.buf, '@'));
	if (!is_url && out.buf[0] != '/') {
		struct strbuf abs = STRBUF_INIT, joined = STRBUF_INIT;
		fs_path_join(&joined, e->base, out.buf);
		fs_absolute(&abs, joined.buf);
		strbuf_release(&joined);
		strbuf_release(&out);
		if (!strcmp(key, "tarball")) {
			char *url = xasprintf("file://%s", abs.buf);
			strbuf_release(&abs);
			return url;
		}
		return strbuf_detach(&abs, NULL);
	}
	return strbuf_detach(&out, NULL);
}

/* The checks that need nothing fetched: the shape of the entry, a name for
 * a tarball, parseable constraints for a hub package. Run on every entry of
 * packages.yml even when the lock is installed, as dbt does. */
static int check_entry(const struct entry *e, struct strbuf *err)
{
	const struct ynode *n = e->node;
	if (n->kind != Y_MAP) {
		where_of(err, e);
		strbuf_addstr(err, "a package entry is a map with one of local:, git:, tarball: or package:");
		return -1;
	}
	if (ystr(n, "package")) {
		struct dep tmp;
		memset(&tmp, 0, sizeof tmp);
		tmp.spec = (char *)ystr(n, "package");
		int r = add_constraints(&tmp, e, err);
		strvec_clear(&tmp.asked);
		return r;
	}
	if (ystr(n, "tarball") && !ystr(n, "name")) {
		where_of(err, e);
		strbuf_addf(err, "tarball package '%s' needs a name: (the package's project name)", ystr(n, "tarball"));
		return -1;
	}
	if (ystr(n, "local") || ystr(n, "git") || ystr(n, "tarball"))
		return 0;
	where_of(err, e);
	if (ymap_get(n, "private"))
		strbuf_addstr(err, "private: packages (dbt Cloud's git integration) cannot be installed by Dango; "
				   "use git: with a URL");
	else
		strbuf_addstr(err, "a package entry needs one of local:, git:, tarball: or package:");
	return -1;
}

static int merge_entry(struct deps *d, const struct entry *e, struct strbuf *err)
{
	static const char *const kinds[] = { "local", "git", "tarball", NULL };
	if (check_entry(e, err) < 0)
		return -1;
	if (ystr(e->node, "package"))
		return merge_hub(d, e, ystr(e->node, "package"), err);
	for (size_t k = 0; kinds[k]; k++) {
		const char *v = ystr(e->node, kinds[k]);
		if (!v)
			continue;
		char *target = entry_target(e, kinds[k], v, err);
		if (!target)
			return -1;
		int r = merge_fetched(d, e, (enum dep_kind)k, v, target, err);
		free(target);
		return r;
	}
	return -1; /* check_entry saw one of them */
}

/* --- reading the files ------------------------------------------------------------------ */

/* Parse path into the next document; display (the name used in messages)
 * becomes the document's, freed with it. */
static struct ydoc *read_yaml(struct deps *d, const char *path, char *display, struct strbuf *err,
			      int *missing)
{
	struct strbuf text = STRBUF_INIT;
	struct ydoc *doc = NULL;
	*missing = 0;
	if (strbuf_read_file(&text, path) < 0)
		*missing = 1;
	else if (d->ndocs >= sizeof d->docs / sizeof *d->docs)
		strbuf_addstr(err, "too many packages");
	else if (ydoc_parse(&d->docs[d->ndocs], display, text.buf, text.len, err) < 0)
		ydoc_release(&d->docs[d->ndocs]);
	else
		doc = &d->docs[d->ndocs++];
	if (!doc)
		free(display);
	strbuf_release(&text);
	return doc;
}

static const struct ynode *packages_list(const struct ydoc *doc, struct strbuf *err)
{
	const struct ynode *list = doc->root ? ymap_get(doc->root, "packages") : NULL;
	if (list && list->kind != Y_SEQ) {
		ynode_where(err, doc, list);
		strbuf_addstr(err, "'packages' is a list of package entries");
		return NULL;
	}
	return list;
}

/* Queue the entries of dir's packages.yml or dependencies.yml. */
static int queue_file_entries(struct deps *d, const char *dir, int from_lock, struct strbuf *err)
{
	static const char *const files[] = { "packages.yml", "dependencies.yml" };
	for (size_t f = 0; f < 2; f++) {
		char *path = xasprintf("%s/%s", dir, files[f]);
		char *display = dir == d->project_dir ? xstrdup(files[f]) : xstrdup(path);
		int missing;
		struct ydoc *doc = read_yaml(d, path, display, err, &missing);
		free(path);
		if (!doc) {
			if (missing)
				continue;
			return -1;
		}
		const struct ynode *list = packages_list(doc, err);
		if (err->len)
			return -1;
		for (size_t i = 0; list && i < list->n; i++) {
			if (d->qn >= sizeof d->queue / sizeof *d->queue) {
				strbuf_addstr(err, "too many package entries");
				return -1;
			}
			d->queue[d->qn++] = (struct entry){ list->items[i], doc, xstrdup(dir), from_lock };
		}
		if (list) {
			if (dir == d->project_dir)
				d->root = doc;
			return 0; /* dbt reads one of the two files */
		}
	}
	return 0;
}

/* --- resolving --------------------------------------------------------------------------- */

static int drain_queue(struct deps *d, struct strbuf *err)
{
	while (d->qn) {
		struct entry e = d->queue[0];
		memmove(d->queue, d->queue + 1, (d->qn - 1) * sizeof *d->queue);
		d->qn--;
		if (!e.base)
			e.base = xstrdup(d->project_dir);
		int r = merge_entry(d, &e, err);
		free(e.base);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int resolve(struct deps *d, struct strbuf *err)
{
	for (int round = 0; round < MAX_ROUNDS; round++) {
		if (drain_queue(d, err) < 0)
			return -1;
		int changed = 0;
		for (size_t i = 0; i < d->n; i++) {
			struct dep *x = d->deps[i];
			if (x->kind != DEP_HUB || x->expanded)
				continue;
			if (!x->meta && hub_metadata(d, x, err) < 0)
				return -1;
			if (hub_choose(x, err) < 0)
				return -1;
			if (hub_expand(d, x, err) < 0)
				return -1;
			changed = 1;
		}
		if (!changed && !d->qn)
			return 0;
	}
	strbuf_addstr(err, "the package versions do not settle (a cycle of constraints?)");
	return -1;
}

/* Hub packages: fetch the chosen version's tarball. */
static int fetch_hub_packages(struct deps *d, struct strbuf *err)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dep *x = d->deps[i];
		if (x->kind != DEP_HUB)
			continue;
		json_t *ver = json_object_get(json_object_get(x->meta, "versions"), x->version);
		json_t *dl = json_object_get(ver, "downloads");
		const char *url = json_string_value(json_object_get(dl, "tarball"));
		const char *sha1 = json_string_value(json_object_get(dl, "sha1"));
		struct strbuf why = STRBUF_INIT;
		if (!url) {
			strbuf_addf(err, "%sthe package hub lists no tarball for %s %s", x->where, x->spec, x->version);
			return -1;
		}
		if (fetch_tarball(d, x, url, sha1, &why) < 0) {
			strbuf_addf(err, "%shub package '%s' %s (%s): %s", x->where, x->spec, x->version, url, why.buf);
			strbuf_release(&why);
			return -1;
		}
		strbuf_release(&why);
		char *name = dbt_project_name_in(x->dir);
		const struct dep *o;
		if (!name) {
			strbuf_addf(err, "%shub package '%s' %s has no dbt_project.yml with a name", x->where, x->spec,
				    x->version);
			return -1;
		}
		if ((o = name_taken(d, x, name))) {
			strbuf_addf(err, "%sdbt found two packages named '%s': hub '%s' and %s '%s'", x->where, name,
				    x->spec, kind_word(o->kind), o->spec);
			free(name);
			return -1;
		}
		x->name = name;
	}
	return 0;
}

/* --- package-lock.yml ------------------------------------------------------------------- */

/* A value as Python's json.dumps writes the YAML that dbt reads. */
static void add_py_json(struct strbuf *sb, const struct ynode *n)
{
	int64_t i;
	int b;
	if (n->kind == Y_SEQ) {
		strbuf_addch(sb, '[');
		for (size_t k = 0; k < n->n; k++) {
			strbuf_addstr(sb, k ? ", " : "");
			add_py_json(sb, n->items[k]);
		}
		strbuf_addch(sb, ']');
	} else if (n->kind == Y_MAP) {
		strbuf_addstr(sb, "{...}");
	} else if (ynode_is_null(n)) {
		strbuf_addstr(sb, "null");
	} else if (!ynode_bool(n, &b)) {
		strbuf_addstr(sb, b ? "true" : "false");
	} else if (!ynode_int(n, &i)) {
		strbuf_addf(sb, "%lld", (long long)i);
	} else {
		strbuf_add_json_str(sb, n->str);
	}
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dbt's hash of the package specs: each entry as sorted-key JSON, the
 * lines sorted and joined with newlines, SHA-1 in hex. */
static void specs_hash(const struct ynode *list, char hex[41])
{
	struct strvec lines = STRVEC_INIT;
	struct sha1 s;
	for (size_t i = 0; list && i < list->n; i++) {
		const struct ynode *e = list->items[i];
		struct strvec keys = STRVEC_INIT;
		struct strbuf line = STRBUF_INIT;
		for (size_t k = 0; e->kind == Y_MAP && k < e->n; k++)
			strvec_push(&keys, e->pairs[k].key->str);
		if (keys.nr)
			qsort(keys.v, keys.nr, sizeof *keys.v, cmp_cstr);
		strbuf_addch(&line, '{');
		for (size_t k = 0; k < keys.nr; k++) {
			strbuf_addstr(&line, k ? ", " : "");
			strbuf_add_json_str(&line, keys.v[k]);
			strbuf_addstr(&line, ": ");
			add_py_json(&line, ymap_get(e, keys.v[k]));
		}
		strbuf_addch(&line, '}');
		strvec_push(&lines, line.buf);
		strbuf_release(&line);
		strvec_clear(&keys);
	}
	if (lines.nr)
		qsort(lines.v, lines.nr, sizeof *lines.v, cmp_cstr);
	sha1_init(&s);
	for (size_t i = 0; i < lines.nr; i++) {
		if (i)
			sha1_update(&s, "\n", 1);
		sha1_update(&s, lines.v[i], strlen(lines.v[i]));
	}
	sha1_final_hex(&s, hex);
	strvec_clear(&lines);
}

static int same_text(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Does the lock have an entry for this packages.yml entry (same source;
 * a hub version inside the entry's constraints)? */
static int lock_covers(const struct ynode *lock, const struct ydoc *doc, const struct ynode *e)
{
	for (size_t i = 0; lock && i < lock->n; i++) {
		const struct ynode *l = lock->items[i];
		if (ystr(e, "package") && same_text(ystr(e, "package"), ystr(l, "package"))) {
			struct dep tmp;
			struct semver v;
			struct strbuf err = STRBUF_INIT;
			struct entry en = { e, doc, NULL, 0 };
			memset(&tmp, 0, sizeof tmp);
			tmp.spec = (char *)ystr(e, "package");
			int ok = add_constraints(&tmp, &en, &err) == 0 && ystr(l, "version") &&
				 semver_parse(ystr(l, "version"), &v) == 0 && semver_range_contains(&tmp.range, &v);
			strvec_clear(&tmp.asked);
			strbuf_release(&err);
			if (ok)
				return 1;
		}
		for (const char *const *k = (const char *const[]){ "git", "local", "tarball", NULL }; *k; k++)
			if (ystr(e, *k) && same_text(ystr(e, *k), ystr(l, *k)) &&
			    !strcmp(ystr(e, "subdirectory") ? ystr(e, "subdirectory") : "",
				    ystr(l, "subdirectory") ? ystr(l, "subdirectory") : ""))
				return 1;
	}
	return 0;
}

/* 1 when package-lock.yml exists and covers every entry, so that it is
 * installed as it stands; its entries are then queued. */
static int use_lock(struct deps *d, const struct ydoc *specs_doc, const struct ynode *specs, const char *hash,
		    struct strbuf *err)
{
	char *path = xasprintf("%s/package-lock.yml", d->project_dir);
	int missing;
	struct ydoc *doc = read_yaml(d, path, xstrdup("package-lock.yml"), err, &missing);
	free(path);
	if (!doc)
		return missing ? 0 : -1;
	const struct ynode *lock = packages_list(doc, err);
	if (err->len)
		return -1;
	int covered = same_text(ystr(doc->root, "sha1_hash"), hash);
	for (size_t i = 0; !covered && specs && i < specs->n; i++)
		if (!lock_covers(lock, specs_doc, specs->items[i]))
			return 0;
	for (size_t i = 0; lock && i < lock->n && d->qn < sizeof d->queue / sizeof *d->queue; i++)
		d->queue[d->qn++] = (struct entry){ lock->items[i], doc, xstrdup(d->project_dir), 1 };
	return 1;
}

static int cmp_dep_name(const void *a, const void *b)
{
	const struct dep *x = *(struct dep *const *)a, *y = *(struct dep *const *)b;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static void lock_field(struct strbuf *sb, const char *key, const char *value, int first)
{
	if (!value)
		return;
	strbuf_addf(sb, "%s%s: ", first ? "  - " : "    ", key);
	yaml_add_scalar(sb, value);
	strbuf_addch(sb, '\n');
}

static int write_lock(struct deps *d, const char *hash, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	static const char *const keys[] = { "local", "git", "tarball", "package" };
	qsort(d->deps, d->n, sizeof *d->deps, cmp_dep_name);
	strbuf_addstr(&sb, "packages:\n");
	for (size_t i = 0; i < d->n; i++) {
		const struct dep *x = d->deps[i];
		lock_field(&sb, keys[x->kind], x->spec, 1);
		lock_field(&sb, "name", x->name, 0);
		lock_field(&sb, "version", x->kind == DEP_HUB ? x->version : NULL, 0);
		lock_field(&sb, "revision", x->kind == DEP_GIT ? x->revision : NULL, 0);
		lock_field(&sb, "subdirectory", x->subdir, 0);
	}
	if (!d->n)
		strbuf_setlen(&sb, 0), strbuf_addstr(&sb, "packages: []\n");
	strbuf_addf(&sb, "sha1_hash: %s\n", hash);
	char *path = xasprintf("%s/package-lock.yml", d->project_dir);
	int r = fs_write_atomic(path, sb.buf, sb.len);
	if (r < 0)
		strbuf_addf(err, "cannot write '%s': %s", path, strerror(errno));
	free(path);
	strbuf_release(&sb);
	return r;
}

/* --- installing -------------------------------------------------------------------------- */

static int move_into_place(const struct dep *x, const char *dest, struct strbuf *err)
{
	char *final = xasprintf("%s/%s", dest, x->name);
	int r = fs_remove_tree(final);
	if (r == 0)
		r = x->kind == DEP_LOCAL ? symlink(x->dir, final) : rename(x->dir, final);
	if (r < 0)
		strbuf_addf(err, "cannot install '%s': %s", final, strerror(errno));
	free(final);
	return r;
}

static void log_installed(const struct dep *x, void (*log)(void *, const char *), void *data)
{
	char *line = x->kind == DEP_HUB ? xasprintf("Installed %s %s (%s)", x->name, x->version, x->spec)
					: xasprintf("Installed %s (%s)", x->name, x->spec);
	log(data, line);
	free(line);
}

static void deps_release(struct deps *d)
{
	for (size_t i = 0; i < d->n; i++)
		dep_free(d->deps[i]);
	for (size_t i = 0; i < d->qn; i++)
		free(d->queue[i].base);
	for (size_t i = 0; i < d->ndocs; i++) {
		char *file = (char *)d->docs[i].file;
		ydoc_release(&d->docs[i]);
		free(file);
	}
	if (d->staging) {
		fs_remove_tree(d->staging);
		free(d->staging);
	}
	free(d->hub);
}

static char *install_path(const char *project_dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, dest = STRBUF_INIT;
	struct ydoc proj = { 0 };
	char *ret = NULL;
	strbuf_addf(&path, "%s/dbt_project.yml", project_dir);
	if (strbuf_read_file(&text, path.buf) < 0)
		strbuf_addf(err, "no dbt_project.yml in '%s'", project_dir);
	else if (ydoc_parse(&proj, "dbt_project.yml", text.buf, text.len, err) == 0) {
		const char *ip = ystr(proj.root, "packages-install-path");
		fs_path_join(&dest, project_dir, ip ? ip : "dbt_packages");
		ret = strbuf_detach(&dest, NULL);
	}
	ydoc_release(&proj);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&dest);
	return ret;
}

int dbt_deps_install(const char *project_dir, const struct deps_options *opts,
		     void (*log)(void *data, const char *line), void *data, struct strbuf *err)
{
	struct deps d;
	char hash[41];
	int ret = -1;
	memset(&d, 0, sizeof d);
	d.project_dir = project_dir;
	const char *hub = getenv("DBT_PACKAGE_HUB_URL");
	d.hub = xstrdup(hub && *hub ? hub : DEFAULT_HUB);
	char *dest = install_path(project_dir, err);
	if (!dest)
		goto out;
	if (fs_mkdir_p(dest, 0755) < 0) {
		strbuf_addf(err, "cannot create '%s': %s", dest, strerror(errno));
		goto out;
	}
	d.staging = xasprintf("%s/.dango-deps-XXXXXX", dest);
	if (!mkdtemp(d.staging)) {
		strbuf_addf(err, "cannot make a folder in '%s': %s", dest, strerror(errno));
		free(d.staging);
		d.staging = NULL;
		goto out;
	}
	if (queue_file_entries(&d, project_dir, 0, err) < 0)
		goto out;
	/* the root entries, as written, for the hash and the lock's coverage */
	const struct ydoc *root_doc = d.root;
	const struct ynode *root_list = root_doc ? ymap_get(root_doc->root, "packages") : NULL;
	specs_hash(root_list, hash);
	for (size_t i = 0; i < d.qn; i++)
		if (check_entry(&d.queue[i], err) < 0)
			goto out;
	int locked = 0;
	if (!opts->upgrade) {
		size_t saved = d.qn;
		struct entry saved_q[MAX_PACKAGES * 4];
		memcpy(saved_q, d.queue, saved * sizeof *saved_q);
		d.qn = 0;
		locked = use_lock(&d, root_doc, root_list, hash, err);
		if (locked < 0)
			goto out;
		if (locked) {
			for (size_t i = 0; i < saved; i++)
				free(saved_q[i].base);
			log(data, "Installing the packages of package-lock.yml");
		} else {
			memcpy(d.queue, saved_q, saved * sizeof *saved_q);
			d.qn = saved;
		}
	}
	if (!d.qn && !locked) {
		log(data, "No packages to install (no packages.yml or dependencies.yml entries)");
		ret = 0;
		goto out;
	}
	if (resolve(&d, err) < 0 || fetch_hub_packages(&d, err) < 0)
		goto out;
	for (size_t i = 0; i < d.n; i++)
		if (move_into_place(d.deps[i], dest, err) < 0)
			goto out;
	for (size_t i = 0; i < d.n; i++)
		log_installed(d.deps[i], log, data);
	if (!locked || opts->upgrade) {
		if (write_lock(&d, hash, err) < 0)
			goto out;
		log(data, "Wrote package-lock.yml");
	}
	ret = 0;
out:
	deps_release(&d);
	free(dest);
	return ret;
}
