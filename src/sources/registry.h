/* The source types Dango knows: for each, the keys its block in sources.yml
 * takes (so that one validator checks every type and says which key is
 * wrong), where the wizard lists it, and whether `dango sync` can load it
 * yet. A new connector adds its entry here. */
#ifndef DANGO_SOURCES_REGISTRY_H
#define DANGO_SOURCES_REGISTRY_H
#include <stddef.h>

enum cfg_kind {
	CFG_STR,       /* a scalar */
	CFG_INT,       /* a whole number */
	CFG_NUM,       /* any number */
	CFG_BOOL,
	CFG_STR_LIST,  /* a scalar or a list of scalars */
	CFG_MAP,       /* a mapping with the keys in `children` */
	CFG_LIST_MAP,  /* a list of such mappings */
	CFG_FREE_MAP,  /* a mapping of any keys (headers, params) */
	CFG_ANY,       /* anything */
};

#define CFG_REQUIRED 0x1
#define CFG_SECRET   0x2  /* names an environment variable holding a secret */

struct cfg_key {
	const char *name;
	enum cfg_kind kind;
	unsigned flags;
	const struct cfg_key *children;   /* for CFG_MAP, CFG_LIST_MAP; {NULL}-ended */
	const char *const *choices;       /* allowed values, NULL-ended */
	const char *help;
};

struct ynode;
struct ydoc;
struct strbuf;

struct source_type {
	const char *name;        /* the `type:` value and the block's key */
	const char *label;       /* "CSV files" */
	const char *category;    /* wizard category */
	const struct cfg_key *keys;
	/* Checks that the key table cannot express (one of two keys, ...);
	 * appends problems to err, one per line, and returns their count. */
	int (*check)(const struct ydoc *doc, const struct ynode *source, const struct ynode *block,
		     const char *source_name, struct strbuf *err);
	int can_sync;            /* implemented by `dango sync` */
	const char *default_secret_env; /* e.g. STRIPE_API_KEY */
};

extern const struct source_type *const source_types[];
const struct source_type *source_type_find(const char *name);
/* The NULL-terminated list of type names (static storage). */
const char *const *source_type_names(void);
/* spec 001's nine wizard categories, in its order, NULL-ended. */
extern const char *const source_categories[];
/* The types of one category (registry entries, then bundled presets that
 * have none), at most max into out; returns how many. */
size_t source_type_catalog(const char *category, const struct source_type **out, size_t max);
/* Key names of a table, NULL-terminated, for suggestions; caller frees the array. */
const char **cfg_key_names(const struct cfg_key *keys);

#endif
