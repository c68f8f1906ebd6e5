/* dbt packages and macro namespaces.
 *
 * Namespaces, as dbt has them: every package's macros live in a dict of
 * their own under the package's name (`dbt_utils.star`), the root
 * project's under its name and bare, and dbt's built-in macros
 * (the .sql files of src/transform/macros, compiled in) under `dbt` and bare, the root
 * project's bare names winning. A package macro looks up the free names of
 * its body in its own package after the render's context (jinja's ns), so
 * that `default__x` in dbt_utils finds dbt_utils' helpers.
 *
 * adapter.dispatch(name, namespace) searches the packages of the root
 * project's `dispatch:` search order for the namespace (or just the
 * namespace; for `dbt`: the root project, then dbt), trying `duckdb__name`
 * then `default__name` in each, as dbt does for the duckdb adapter.
 *
 * Installed packages are the folders of dbt_packages/ (or
 * packages-install-path) that hold a dbt_project.yml. */
#include "transform/dbt.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "transform/semver.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct embedded_file {
	const char *name, *text;
};
extern const struct embedded_file dbt_builtin_macros[];

static const char *ystr(const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);
	return n && n->kind == Y_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The macros of one file's text into dict; two macros of one name in a
 * namespace are an error, as in dbt. */
static int add_macros(struct dbt_project *p, const char *file, const char *text, size_t len, struct jval dict,
		      struct jval ns, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	struct jinja_template *t = jinja_template_parse(&p->env, file, text, len, &e);
	if (!t && dict.u.d != p->internal.u.d) {
		/* a package file that does not parse costs its macros (the nodes
		 * that call them fail), not the whole project */
		dbt_log(p, 2, "%s (the macros of this file are left out)", e.buf);
		strbuf_release(&e);
		return 0;
	}
	if (!t) {
		strbuf_addbuf(err, &e);
		strbuf_release(&e);
		return -1;
	}
	strbuf_release(&e);
	struct jval tmp = jval_dict_new();
	jinja_template_macros_ns(t, tmp, ns);
	const struct jval *k, *v;
	int ret = 0;
	for (size_t i = 0; jval_dict_entry(tmp, i, &k, &v); i++) {
		if (jval_dict_get(dict, jval_str_cstr(*k))) {
			strbuf_addf(err, "%s: dbt found two macros named '%s' in the same namespace", file,
				    jval_str_cstr(*k));
			ret = -1;
			break;
		}
		jval_dict_set(dict, jval_str_cstr(*k), jval_ref(*v));
	}
	jval_unref(tmp);
	ALLOC_GROW(p->tmpls, p->ntmpls + 1, p->atmpls);
	p->tmpls[p->ntmpls++] = t;
	return ret;
}

static int load_builtins(struct dbt_project *p, struct strbuf *err)
{
	for (size_t i = 0; dbt_builtin_macros[i].name; i++) {
		struct strbuf file = STRBUF_INIT;
		strbuf_addf(&file, "<dango>/macros/%s.sql", dbt_builtin_macros[i].name);
		int r = add_macros(p, file.buf, dbt_builtin_macros[i].text, strlen(dbt_builtin_macros[i].text),
				   p->internal, p->internal, err);
		strbuf_release(&file);
		if (r < 0)
			return -1;
	}
	return 0;
}

static void paths_of(struct strvec *sv, const struct ynode *root, const char *key, const char *dflt)
{
	const struct ynode *n = ymap_get(root, key);
	if (n && n->kind == Y_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (n->items[i]->kind == Y_SCALAR)
				strvec_push(sv, n->items[i]->str);
	} else if (n && n->kind == Y_SCALAR && !ynode_is_null(n)) {
		strvec_push(sv, n->str);
	} else {
		strvec_push(sv, dflt);
	}
}

/* One installed package: its dbt_project.yml, vars and macros. */
/* require-dbt-version: one constraint or a list (">=1.3.0", "<2.0.0");
 * the dbt version Dango's engine follows (DANGO_DBT_VERSION) must satisfy
 * every one, with dbt's message when it does not. --no-version-check,
 * flags: {version_check: false} or DBT_VERSION_CHECK=false turn it off. */
static int check_dbt_version(const struct dbt_project *p, const struct ydoc *doc, const char *name,
			     const char *file, struct strbuf *err)
{
	const struct ynode *v = ymap_get(doc->root, "require-dbt-version");
	if (!v || p->no_version_check || ynode_is_null(v))
		return 0;
	const struct ynode *one[1] = { v };
	const struct ynode *const *items = one;
	size_t n = 1;
	if (v->kind == Y_SEQ) {
		items = (const struct ynode *const *)v->items;
		n = v->n;
	}
	struct semver_range range = { 0 };
	struct strbuf spec = STRBUF_INIT;
	struct semver have;
	semver_parse(DANGO_DBT_VERSION, &have);
	strbuf_addch(&spec, '[');
	for (size_t i = 0; i < n; i++) {
		struct strbuf c = STRBUF_INIT, why = STRBUF_INIT;
		for (const char *s = items[i]->kind == Y_SCALAR ? items[i]->str : ""; *s; s++)
			if (*s != ' ')
				strbuf_addch(&c, *s);
		int bad = semver_range_add(&range, c.buf, &why);
		if (bad < 0 || items[i]->kind != Y_SCALAR) {
			ynode_where(err, doc, items[i]);
			strbuf_addf(err, "require-dbt-version: %s",
				    bad < 0 ? why.buf : "a version constraint is a text such as \">=1.3.0\"");
		}
		strbuf_addf(&spec, "%s'%s%s'", i ? ", " : "", strchr("<>=", *c.buf) ? "" : "=", c.buf);
		strbuf_release(&c);
		strbuf_release(&why);
		if (err->len) {
			strbuf_release(&spec);
			return -1;
		}
	}
	strbuf_addch(&spec, ']');
	int ok = semver_range_contains(&range, &have);
	if (!ok)
		strbuf_addf(err,
			    "%s: this version of dbt is not supported with the '%s' package.\n"
			    "  Installed version of dbt: =%s (Dango %s runs projects as dbt %s)\n"
			    "  Required version of dbt for '%s': %s\n"
			    "Check for a different version of the '%s' package, or run again with --no-version-check",
			    file, name, DANGO_DBT_VERSION, DANGO_VERSION, DANGO_DBT_VERSION, name, spec.buf, name);
	strbuf_release(&spec);
	return ok ? 0 : -1;
}

/* The version check is off when flags: version_check (dbt 1.8's place in
 * dbt_project.yml) or DBT_VERSION_CHECK says false. */
static void version_check_setting(struct dbt_project *p, const struct ynode *root)
{
	const struct ynode *f = ymap_get(ymap_get(root, "flags"), "version_check");
	const char *env = getenv("DBT_VERSION_CHECK");
	if (f && f->kind == Y_SCALAR && (!strcasecmp(f->str, "false") || !strcmp(f->str, "0")))
		p->no_version_check = 1;
	if (env && (!strcasecmp(env, "false") || !strcmp(env, "0")))
		p->no_version_check = 1;
}

static int load_package(struct dbt_project *p, const char *dir, const char *display, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct ydoc doc = { 0 };
	struct strvec paths = STRVEC_INIT;
	int ret = -1;
	strbuf_addf(&path, "%s/dbt_project.yml", dir);
	char *file = xasprintf("%s/dbt_project.yml", display);
	if (strbuf_read_file(&text, path.buf) < 0) {
		strbuf_addf(err, "%s: cannot read: %s", file, strerror(errno));
		goto out;
	}
	if (ydoc_parse(&doc, file, text.buf, text.len, err) < 0)
		goto out;
	const char *name = ystr(doc.root, "name");
	if (!name) {
		strbuf_addf(err, "%s: the package needs a 'name'", file);
		goto out;
	}
	if (jval_dict_get(p->namespaces, name)) {
		strbuf_addf(err, "%s: package '%s' is installed twice (or named like the project)", file, name);
		goto out;
	}
	if (check_dbt_version(p, &doc, name, file, err) < 0)
		goto out;
	for (int end = 0; end < 2; end++) {
		const struct ynode *h = ymap_get(doc.root, end ? "on-run-end" : "on-run-start");
		const struct ynode *one[1] = { h };
		const struct ynode *const *items = one;
		size_t n = h && h->kind == Y_SCALAR && !ynode_is_null(h) ? 1 : 0;
		if (h && h->kind == Y_SEQ) {
			items = (const struct ynode *const *)h->items;
			n = h->n;
		}
		for (size_t i = 0; i < n; i++)
			if (items[i]->kind == Y_SCALAR) {
				strvec_push(&p->pkg_hooks, name);
				strvec_push(&p->pkg_hooks, end ? "1" : "0");
				strvec_push(&p->pkg_hooks, items[i]->str);
			}
	}
	strvec_push(&p->packages, name);
	strvec_push(&p->package_dirs, dir);
	struct jval vars = jval_dict_new();
	const struct ynode *vn = ymap_get(doc.root, "vars");
	for (size_t i = 0; vn && vn->kind == Y_MAP && i < vn->n; i++) {
		const struct ypair *pr = &vn->pairs[i];
		if (!strcmp(pr->key->str, name) && pr->value->kind == Y_MAP) {
			for (size_t j = 0; j < pr->value->n; j++)
				jval_dict_set(vars, pr->value->pairs[j].key->str,
					      dbt_yaml_value(pr->value->pairs[j].value));
		} else if (pr->value->kind != Y_MAP) {
			jval_dict_set(vars, pr->key->str, dbt_yaml_value(pr->value));
		}
	}
	jval_dict_set(p->pkg_vars, name, vars);
	struct jval ns = jval_dict_new();
	jval_dict_set(p->namespaces, name, ns);
	paths_of(&paths, doc.root, "macro-paths", "macros");
	struct strvec tp = STRVEC_INIT;
	paths_of(&tp, doc.root, "test-paths", "tests");
	for (size_t i = 0; i < tp.nr; i++)
		strvec_pushf(&paths, "%s/generic", tp.v[i]);
	strvec_clear(&tp);
	for (size_t d = 0; d < paths.nr; d++) {
		struct strvec files = STRVEC_INIT;
		struct strbuf base = STRBUF_INIT;
		strbuf_addf(&base, "%s/%s", dir, paths.v[d]);
		fs_list_files(&files, base.buf, (const char *const[]){ ".sql", NULL });
		for (size_t i = 0; i < files.nr; i++) {
			struct strbuf f = STRBUF_INIT, shown = STRBUF_INIT, src = STRBUF_INIT;
			strbuf_addf(&f, "%s/%s", base.buf, files.v[i]);
			strbuf_addf(&shown, "%s/%s/%s", display, paths.v[d], files.v[i]);
			int r = strbuf_read_file(&src, f.buf);
			if (r < 0) {
				strbuf_addf(err, "%s: cannot read: %s", shown.buf, strerror(errno));
			} else {
				r = add_macros(p, shown.buf, src.buf, src.len, ns, ns, err);
			}
			strbuf_release(&f);
			strbuf_release(&shown);
			strbuf_release(&src);
			if (r < 0) {
				strvec_clear(&files);
				strbuf_release(&base);
				goto out;
			}
		}
		strvec_clear(&files);
		strbuf_release(&base);
	}
	ret = 0;
out:
	free(file);
	strvec_clear(&paths);
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	return ret;
}


/* The packages' on-run-start/on-run-end hooks before the root project's,
 * packages by name, each package's in its order (dbt's _hook_keyfunc). */
static void merge_hooks(struct dbt_project *p)
{
	for (int end = 0; end < 2; end++) {
		struct strvec *hooks = end ? &p->on_run_end : &p->on_run_start;
		struct strvec *owners = end ? &p->hook_owner_end : &p->hook_owner_start;
		struct strvec merged = STRVEC_INIT, pkgs = STRVEC_INIT;
		for (size_t i = 0; i + 2 < p->pkg_hooks.nr; i += 3)
			if (!strvec_has(&pkgs, p->pkg_hooks.v[i]))
				strvec_push(&pkgs, p->pkg_hooks.v[i]);
		if (pkgs.nr)
			qsort(pkgs.v, pkgs.nr, sizeof(char *), cmp_str);
		for (size_t k = 0; k < pkgs.nr; k++)
			for (size_t i = 0; i + 2 < p->pkg_hooks.nr; i += 3)
				if (!strcmp(p->pkg_hooks.v[i], pkgs.v[k]) && p->pkg_hooks.v[i + 1][0] == (end ? '1' : '0')) {
					strvec_push(owners, pkgs.v[k]);
					strvec_push(&merged, p->pkg_hooks.v[i + 2]);
				}
		for (size_t i = 0; i < hooks->nr; i++) {
			strvec_push(owners, p->name);
			strvec_push(&merged, hooks->v[i]);
		}
		strvec_clear(hooks);
		*hooks = merged;
		strvec_clear(&pkgs);
	}
	strvec_clear(&p->pkg_hooks);
}

/* The name a packages.yml entry installs under, when it can be told
 * without installing: a hub package's, a local package's. NULL: unknown
 * (a git package's name is in its dbt_project.yml). */
static char *entry_name(const struct dbt_project *p, const struct ynode *e)
{
	const char *pkg = ystr(e, "package"), *local = ystr(e, "local");
	if (local) {
		struct strbuf dir = STRBUF_INIT;
		if (local[0] == '/')
			strbuf_addstr(&dir, local);
		else
			strbuf_addf(&dir, "%s/%s", p->dir, local);
		char *name = dbt_project_name_in(dir.buf);
		strbuf_release(&dir);
		return name;
	}
	if (!pkg)
		return NULL;
	const char *slash = strrchr(pkg, '/');
	return xstrdup(slash ? slash + 1 : pkg);
}

/* Every entry of packages.yml / dependencies.yml must be installed. */
static int check_installed(struct dbt_project *p, size_t found, struct strbuf *err)
{
	static const char *const names[] = { "packages.yml", "dependencies.yml" };
	int ret = 0;
	for (size_t i = 0; i < 2 && !ret; i++) {
		struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
		struct ydoc doc = { 0 };
		strbuf_addf(&path, "%s/%s", p->dir, names[i]);
		if (strbuf_read_file(&text, path.buf) == 0) {
			if (ydoc_parse(&doc, names[i], text.buf, text.len, err) < 0) {
				ret = -1;
			} else {
				const struct ynode *pk = ymap_get(doc.root, "packages");
				size_t listed = pk && pk->kind == Y_SEQ ? pk->n : 0;
				for (size_t j = 0; j < listed && !ret; j++) {
					char *nm = entry_name(p, pk->items[j]);
					int missing = nm ? !strvec_has(&p->packages, nm) : found < listed;
					if (missing) {
						ynode_where(err, &doc, pk->items[j]);
						const char *what = nm ? nm : ystr(pk->items[j], "git");
						if (!what)
							what = ystr(pk->items[j], "local");
						strbuf_addf(err, "package '%s' is not installed in %s: run `dango deps`",
							    what ? what : "?", p->packages_dir);
						ret = -1;
					}
					free(nm);
				}
			}
		}
		ydoc_release(&doc);
		strbuf_release(&path);
		strbuf_release(&text);
	}
	return ret;
}

static int load_dispatch(struct dbt_project *p, const struct ynode *root, struct strbuf *err)
{
	const struct ynode *d = ymap_get(root, "dispatch");
	if (!d || ynode_is_null(d))
		return 0;
	if (d->kind != Y_SEQ) {
		ynode_where(err, p->root_doc, d);
		strbuf_addstr(err, "'dispatch' must be a list of {macro_namespace, search_order}");
		return -1;
	}
	for (size_t i = 0; i < d->n; i++) {
		const char *ns = ystr(d->items[i], "macro_namespace");
		const struct ynode *order = ymap_get(d->items[i], "search_order");
		if (!ns || !order || order->kind != Y_SEQ) {
			ynode_where(err, p->root_doc, d->items[i]);
			strbuf_addstr(err, "a dispatch entry needs 'macro_namespace' and a list 'search_order'");
			return -1;
		}
		jval_dict_set(p->dispatch, ns, dbt_yaml_value(order));
	}
	return 0;
}

int dbt_packages_load(struct dbt_project *p, const struct ynode *root, struct strbuf *err)
{
	p->internal = jval_dict_new();
	p->namespaces = jval_dict_new();
	p->dispatch = jval_dict_new();
	p->pkg_vars = jval_dict_new();
	const char *ip = ystr(root, "packages-install-path");
	struct strbuf dir = STRBUF_INIT;
	fs_path_join(&dir, p->dir, ip ? ip : "dbt_packages");
	p->packages_dir = strbuf_detach(&dir, NULL);
	version_check_setting(p, root);
	if (p->root_doc && check_dbt_version(p, p->root_doc, p->name, "dbt_project.yml", err) < 0)
		return -1;
	if (load_dispatch(p, root, err) < 0 || load_builtins(p, err) < 0)
		return -1;
	jval_dict_set(p->namespaces, "dbt", jval_ref(p->internal));
	jval_dict_set(p->namespaces, p->name, jval_ref(p->macros));
	struct strvec names = STRVEC_INIT;
	DIR *d = opendir(p->packages_dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			strvec_push(&names, e->d_name);
	if (d)
		closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(char *), cmp_str);
	int ret = 0;
	size_t found = 0;
	for (size_t i = 0; i < names.nr && !ret; i++) {
		struct strbuf pdir = STRBUF_INIT, proj = STRBUF_INIT, shown = STRBUF_INIT;
		strbuf_addf(&pdir, "%s/%s", p->packages_dir, names.v[i]);
		strbuf_addf(&proj, "%s/dbt_project.yml", pdir.buf);
		strbuf_addf(&shown, "%s/%s", ip ? ip : "dbt_packages", names.v[i]);
		if (fs_exists(proj.buf)) {
			ret = load_package(p, pdir.buf, shown.buf, err);
			found++;
		}
		strbuf_release(&pdir);
		strbuf_release(&proj);
		strbuf_release(&shown);
	}
	strvec_clear(&names);
	if (!ret)
		merge_hooks(p);
	if (!ret)
		ret = check_installed(p, found, err);
	return ret;
}

const struct jval *dbt_find_macro(const struct dbt_project *p, const char *pkg, const char *name)
{
	if (pkg) {
		const struct jval *ns = jval_dict_get(p->namespaces, pkg);
		return ns ? jval_dict_get(*ns, name) : NULL;
	}
	const struct jval *m = jval_dict_get(p->macros, name);
	for (size_t i = 0; !m && i < p->packages.nr; i++) {
		const struct jval *ns = jval_dict_get(p->namespaces, p->packages.v[i]);
		m = ns ? jval_dict_get(*ns, name) : NULL;
	}
	if (!m && p->internal.type == JVAL_DICT)
		m = jval_dict_get(p->internal, name);
	return m;
}

static const struct jval *dispatch_in(const struct dbt_project *p, const char *pkg, const char *name)
{
	/* the adapter's prefix first: postgres__ on a postgres target */
	const char *const prefixes[] = { dbt_target_is_postgres(p) ? "postgres__" : "duckdb__", "default__" };
	for (size_t i = 0; i < 2; i++) {
		char *full = xasprintf("%s%s", prefixes[i], name);
		const struct jval *m = dbt_find_macro(p, pkg, full);
		free(full);
		if (m)
			return m;
	}
	return NULL;
}

const struct jval *dbt_dispatch_find(const struct dbt_project *p, const char *name, const char *ns)
{
	const struct jval *order = ns ? jval_dict_get(p->dispatch, ns) : NULL;
	if (order && order->type == JVAL_LIST) {
		for (size_t i = 0; i < jval_len(*order); i++) {
			const char *pkg = jval_str_cstr(*jval_list_at(*order, i));
			const struct jval *m = pkg ? dispatch_in(p, pkg, name) : NULL;
			if (m)
				return m;
		}
		return NULL;
	}
	if (!ns || !strcmp(ns, "dbt")) {
		const struct jval *m = dispatch_in(p, p->name, name);
		return m ? m : dispatch_in(p, "dbt", name);
	}
	return dispatch_in(p, ns, name);
}

/* The project name in dir/dbt_project.yml, or NULL. */
char *dbt_project_name_in(const char *dir)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT;
	struct ydoc doc = { 0 };
	char *name = NULL;
	strbuf_addf(&path, "%s/dbt_project.yml", dir);
	if (strbuf_read_file(&text, path.buf) == 0 && ydoc_parse(&doc, path.buf, text.buf, text.len, &err) == 0 &&
	    ystr(doc.root, "name"))
		name = xstrdup(ystr(doc.root, "name"));
	ydoc_release(&doc);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
	return name;
}
