#include "sources/check.h"
#include "sources/registry.h"
#include "sources/rest_api.h"
#include "sources/db/db.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "project/project.h"
#include "project/sources.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <string.h>
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
			strbuf_addf(report, "✓ file '%s' exists and is readable\n", source_get(s, "path"));
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
			strbuf_addf(report, "✓ folder '%s' holds %d file%s matching '%s'\n", source_get(s, "directory"),
				    n, n == 1 ? "" : "s", pattern ? pattern : "*");
		}
	}
	strbuf_release(&loc);
	return ret;
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
	source_each_secret(s, &p->env, report_secret, &sr);
	if (sr.missing)
		ret = -1;
	/* API sources: one authenticated request, when the secrets are there */
	else if (online && rest_api_handles(s->type->name) && rest_api_check(s, p, report) < 0)
		ret = -1;
	/* databases: a real connection, and each stream's table and keys */
	else if (online && db_source_handles(s->type->name) && db_source_check(s, p, report) < 0)
		ret = -1;
	return ret;
}
