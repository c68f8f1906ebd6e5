/* `dango deps`: install a dbt project's packages (see deps.c). */
#ifndef DANGO_DEPS_H
#define DANGO_DEPS_H
struct strbuf;

struct deps_options {
	int upgrade;   /* resolve again, ignoring package-lock.yml */
};

/* Install the packages of project_dir's packages.yml (or dependencies.yml)
 * and what they depend on into its packages-install-path; log gets one
 * line per package. 0, or -1 with a message naming the entry (file:line). */
int dbt_deps_install(const char *project_dir, const struct deps_options *opts,
		     void (*log)(void *data, const char *line), void *data, struct strbuf *err);

#endif
