/* `dango source test` and the wizard's connection test: what can be checked
 * about a source without loading it. Connector families add their own
 * checks here (an authenticated request for APIs, a connect for databases). */
#ifndef DANGO_SOURCES_CHECK_H
#define DANGO_SOURCES_CHECK_H
struct source;
struct project;
struct strbuf;

/* Appends one line per finding to report ("✓ ..." / "✗ ..."); returns 0 if
 * the source looks usable, -1 otherwise. Offline it checks files and that
 * secrets are set; online it also connects (one authenticated request). */
int source_check(const struct source *s, const struct project *p, int online, struct strbuf *report);

/* Does source_check test this type for real (files read, a program found,
 * an API asked)? Others only get their secrets checked. */
int source_check_tests_connection(const char *type);

/* Resolve a source's file path or directory against the project root into
 * sb; returns 0, or -1 if the source has neither. */
int source_file_location(const struct source *s, const struct project *p, struct strbuf *sb, int *is_dir);

/* Does path (symlinks and ".." resolved) lie outside the project? Then 1,
 * with the resolved absolute path in where; 0 if inside or unresolvable. */
int source_file_outside(const struct project *p, const char *path, struct strbuf *where);

/* The same for many files: the project's and the last folder's real paths
 * kept from one file to the next (resolving both for each of 1,000 files
 * was 15 readlink calls a file). Init, ask for each path, release. */
struct outside_check {
	char *root;            /* the project's real path, or NULL */
	char *dir, *dir_real;  /* the last folder asked about, as given and real */
};
void outside_check_init(struct outside_check *c, const struct project *p);
int outside_check_path(struct outside_check *c, const char *path, struct strbuf *where);
void outside_check_release(struct outside_check *c);

#endif
