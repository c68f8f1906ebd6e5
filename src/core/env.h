/* Secrets and settings from the environment. A `*_env` key in sources.yml
 * names a variable, looked up in this order: the process environment, the
 * project's .env file, then .dlt/secrets.toml (a top-level `NAME = "value"`,
 * or `name = "value"` in any section, matched case-insensitively, as dlt
 * users keep them). .dlt/config.toml's settings are there too, named
 * "section.key" (runtime.request_max_attempts). */
#ifndef DANGO_ENV_H
#define DANGO_ENV_H
#include <stddef.h>
struct strbuf;

struct env_entry {
	char *name, *value;
	const char *origin; /* ".env", ".dlt/secrets.toml" or ".dlt/config.toml" */
};

struct env {
	struct env_entry *entries;
	size_t nr, alloc;
};
#define ENV_INIT { 0 }

/* Load the project's .env and .dlt/secrets.toml (both optional).
 * A malformed line is reported in err as FILE:LINE: and returns -1. */
int env_load(struct env *env, const char *project_dir, struct strbuf *err);
void env_release(struct env *env);
/* The value of name (borrowed), or NULL; *origin (if given) tells where from. */
const char *env_lookup(const struct env *env, const char *name, const char **origin);
/* Masking for display: "…2x9f" (the last 4 characters) for a secret of at
 * least ENV_MASK_MIN_SHOWN characters, "****" for a shorter one. */
#define ENV_MASK_MIN_SHOWN 16
void env_mask(struct strbuf *sb, const char *secret);

#endif
