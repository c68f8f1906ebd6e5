#include "sources/check.h"
#include "sources/imap.h"
#include "sources/registry.h"
#include "sources/rest_api.h"
#include "sources/db/db.h"
#include "sources/command.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "project/project.h"
#include "project/sources.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int source_file_location(const struct source *s, const struct project *p, struct strbuf *sb, int *is_dir)
{
	const char *path = source_get(s, "path"), *dir = source_get(s, "directory");
	const char *rel = path ? path : dir;
	if (!rel)
		return -1;
	*is_dir = !path;
	if (rel[0] == '/')
		strbuf_addstr(sb, rel);
	else
		fs_path_join(sb, p->root, rel);
	return 0;
}

void outside_check_init(struct outside_check *c, const struct project *p)
{
	c->root = realpath(p->root, NULL);
	c->dir = c->dir_real = NULL;
}

void outside_check_release(struct outside_check *c)
{
	free(c->root);
	free(c->dir);
	free(c->dir_real);
	memset(c, 0, sizeof(*c));
}

/* path's real path into real: its folder's (kept for the next file) and
 * its name, unless the name is a symlink or a dot, which realpath takes. */
static int real_path_of(struct outside_check *c, const char *path, struct strbuf *real)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct stat st;
	if (!slash || !*name || !strcmp(name, ".") || !strcmp(name, "..") || lstat(path, &st) < 0 ||
	    S_ISLNK(st.st_mode)) {
		char *r = realpath(path, NULL);
		if (!r)
			return -1;
		strbuf_addstr(real, r);
		free(r);
		return 0;
	}
	size_t dir_len = slash == path ? 1 : (size_t)(slash - path);
	if (!c->dir || strlen(c->dir) != dir_len || strncmp(c->dir, path, dir_len)) {
		free(c->dir);
		free(c->dir_real);
		c->dir = xstrndup(path, dir_len);
		c->dir_real = realpath(c->dir, NULL);
	}
	if (!c->dir_real)
		return -1;
	strbuf_addstr(real, c->dir_real);
	if (strcmp(c->dir_real, "/"))
		strbuf_addch(real, '/');
	strbuf_addstr(real, name);
	return 0;
}

int outside_check_path(struct outside_check *c, const char *path, struct strbuf *where)
{
	struct strbuf real = STRBUF_INIT;
	int outside = 0;
	if (c->root && real_path_of(c, path, &real) == 0) {
		size_t n = strlen(c->root);
		outside = strncmp(real.buf, c->root, n) || (real.buf[n] != '/' && real.buf[n] != '\0');
		if (outside)
			strbuf_addbuf(where, &real);
	}
	strbuf_release(&real);
	return outside;
}

int source_file_outside(const struct project *p, const char *path, struct strbuf *where)
{
	struct outside_check c;
	outside_check_init(&c, p);
	int outside = outside_check_path(&c, path, where);
	outside_check_release(&c);
	return outside;
}

struct secret_report {
	struct strbuf *report;
	int missing;
};

static void report_secret(const char *key, const char *var, const char *value, void *data)
{
	struct secret_report *r = data;
	if (value) {
		strbuf_addf(r->report, "✓ %s is set (%s)\n", var, key);
	} else {
		strbuf_addf(r->report, "✗ %s is not set (%s): export it, or add it to .env\n", var, key);
		r->missing++;
	}
}

static int check_files(const struct source *s, const struct project *p, struct strbuf *report)
{
	struct strbuf loc = STRBUF_INIT;
	int is_dir, ret = 0;
	if (source_file_location(s, p, &loc, &is_dir) < 0) {
		strbuf_addstr(report, "✗ no 'path' or 'directory' configured\n");
		return -1;
	}
	if (!is_dir) {
		if (access(loc.buf, R_OK) < 0) {
			strbuf_addf(report, "✗ cannot read '%s': %s\n", loc.buf, strerror(errno));
			ret = -1;
		} else if (fs_is_dir(loc.buf)) {
			strbuf_addf(report, "✗ '%s' is a folder; use 'directory' and 'file_pattern'\n", loc.buf);
			ret = -1;
		} else {
			struct strbuf where = STRBUF_INIT;
			strbuf_addf(report, "✓ file '%s' exists and is readable", source_get(s, "path"));
			if (source_file_outside(p, loc.buf, &where))
				strbuf_addf(report, " (it is %s, outside the project)", where.buf);
			strbuf_addch(report, '\n');
			strbuf_release(&where);
		}
	} else {
		const char *pattern = source_get(s, "file_pattern");
		DIR *d = opendir(loc.buf);
		if (!d) {
			strbuf_addf(report, "✗ cannot open folder '%s': %s\n", loc.buf, strerror(errno));
			ret = -1;
		} else {
			int n = 0;
			struct dirent *e;
			while ((e = readdir(d)))
				if (e->d_name[0] != '.' && (!pattern || !fnmatch(pattern, e->d_name, 0)))
					n++;
			closedir(d);
			struct strbuf where = STRBUF_INIT;
			strbuf_addf(report, "✓ folder '%s' holds %d file%s matching '%s'", source_get(s, "directory"), n,
				    n == 1 ? "" : "s", pattern ? pattern : "*");
			if (source_file_outside(p, loc.buf, &where))
				strbuf_addf(report, " (it is %s, outside the project)", where.buf);
			strbuf_addch(report, '\n');
			strbuf_release(&where);
		}
	}
	strbuf_release(&loc);
	return ret;
}

/* A command source: its program must exist and be executable (found as
 * the shell would: a path with a slash from working_dir or the project,
 * a bare name on PATH). */
static int check_command(const struct source *s, const struct project *p, struct strbuf *report)
{
	const struct ynode *c = ymap_get(s->block, "run");
	if (!c)
		c = ymap_get(s->block, "command");
	struct strbuf prog = STRBUF_INIT, path = STRBUF_INIT;
	const char *wd = source_get(s, "working_dir");
	int ret = -1;
	if (c && c->kind == Y_SEQ && c->n && c->items[0]->kind == Y_SCALAR)
		strbuf_addstr(&prog, c->items[0]->str);
	else if (c && c->kind == Y_SCALAR)
		strbuf_add(&prog, c->str, strcspn(c->str, " \t"));
	if (!prog.len) {
		strbuf_addstr(report, "✗ no 'run' configured\n");
		goto out;
	}
	if (strchr(prog.buf, '/')) {
		if (prog.buf[0] == '/')
			strbuf_addbuf(&path, &prog);
		else if (wd && wd[0] == '/')
			fs_path_join(&path, wd, prog.buf);
		else {
			fs_path_join(&path, p->root, wd ? wd : ".");
			strbuf_addch(&path, '/');
			strbuf_addbuf(&path, &prog);
		}
	} else {
		const char *env = getenv("PATH");
		for (const char *d = env ? env : ""; *d;) {
			size_t n = strcspn(d, ":");
			strbuf_reset(&path);
			strbuf_add(&path, n ? d : ".", n ? n : 1);
			strbuf_addch(&path, '/');
			strbuf_addbuf(&path, &prog);
			if (access(path.buf, X_OK) == 0 && !fs_is_dir(path.buf))
				break;
			d += n + (d[n] == ':');
			strbuf_reset(&path);
		}
	}
	if (!path.len || access(path.buf, F_OK) < 0)
		strbuf_addf(report, "✗ program '%s' not found%s\n", prog.buf, strchr(prog.buf, '/') ? "" : " on PATH");
	else if (fs_is_dir(path.buf) || access(path.buf, X_OK) < 0)
		strbuf_addf(report, "✗ '%s' is not an executable program\n", path.buf);
	else {
		strbuf_addf(report, "✓ program '%s' exists and is executable (%s)\n", prog.buf, path.buf);
		ret = 0;
	}
out:
	strbuf_release(&prog);
	strbuf_release(&path);
	return ret;
}

int source_check_tests_connection(const char *type)
{
	return !strcmp(type, "csv") || !strcmp(type, "local_files") || !strcmp(type, "command") ||
	       !strcmp(type, "imap") || rest_api_handles(type) || db_source_handles(type);
}

int source_check(const struct source *s, const struct project *p, int online, struct strbuf *report)
{
	struct secret_report sr = { report, 0 };
	int ret = 0;
	if (!s->type) {
		strbuf_addf(report, "✗ unknown source type '%s'\n", s->type_name);
		return -1;
	}
	if (!strcmp(s->type->name, "csv") || !strcmp(s->type->name, "local_files"))
		ret = check_files(s, p, report);
	else if (!strcmp(s->type->name, "command"))
		ret = check_command(s, p, report);
	source_each_secret(s, &p->env, report_secret, &sr);
	if (sr.missing)
		ret = -1;
	/* API sources: one authenticated request, when the secrets are there */
	else if (online && rest_api_handles(s->type->name) && rest_api_check(s, p, report) < 0)
		ret = -1;
	/* offline (dango validate): a stored OAuth token must be there and unexpired */
	else if (!online && rest_api_handles(s->type->name) && rest_api_oauth_status(s, p, report) < 0)
		ret = -1;
	/* databases: a real connection, and each stream's table and keys */
	else if (online && db_source_handles(s->type->name) && db_source_check(s, p, report) < 0)
		ret = -1;
	/* commands: discovery, when the program supports it */
	else if (online && ret == 0 && !strcmp(s->type->name, "command") && command_check(s, p, report) < 0)
		ret = -1;
	/* email: the login, and each mailbox */
	else if (online && !strcmp(s->type->name, "imap") && imap_check(s, p, report) < 0)
		ret = -1;
	return ret;
}
