/* API presets: named APIs (stripe, github, hubspot, ...) as declarative
 * spec files that expand into a rest_api configuration, so that a new API
 * is a YAML file rather than C code. The bundled specs live in
 * src/sources/presets/NAME.yml (compiled into the binary); a project adds
 * or overrides presets with .dango/presets/NAME.yml.
 *
 * A spec holds: label and category (for the wizard), `config:` (the keys
 * users set in the source's block, with defaults and flags), `client:`
 * (a rest_api block: base_url, auth, paginator, politeness) and
 * `endpoints:` (rest_api endpoints). Strings may say {config.KEY}, replaced
 * by the user's value or the default.
 *
 * Returned json_t references are the caller's (json_decref). */
#ifndef DANGO_SOURCES_PRESET_H
#define DANGO_SOURCES_PRESET_H
#include <jansson.h>

struct strbuf;
struct ynode;
struct source_type;

struct embedded_file { const char *name, *text; };
extern const struct embedded_file bundled_presets[];

/* Where user presets are: dir/NAME.yml (the project's .dango/presets).
 * Without it, the nearest .dango/presets upwards from the working
 * directory. dir is copied; NULL forgets it. */
void preset_set_user_dir(const char *dir);

/* The spec named name (user presets first): 1 and *out set, 0 if there is
 * none, -1 with err if its file does not parse. */
int preset_load(const char *name, json_t **out, struct strbuf *err);
/* A preset's spec, expanded with the user's block (may be NULL) into a
 * rest_api configuration (*conf). -1 with err on an unknown endpoint, a
 * missing required key, ... */
int preset_expand(const json_t *spec, const json_t *block, const char *source_name, json_t **conf,
		  struct strbuf *err);
/* The source type of a user preset (for validation and the wizard), or
 * NULL. Bundled presets with a registry entry are found there first. */
const struct source_type *preset_source_type(const char *name);
struct strvec;
/* A scalar JSON value as text into sb (strings as they are, numbers,
 * true/false); 0 when v is not a scalar. */
int json_scalar_text(json_t *v, struct strbuf *sb);
/* The names of the project's own presets (.dango/presets/NAME.yml), sorted. */
void preset_user_names(struct strvec *out);

struct ydoc;
/* The registry's check of an API source's block (rest_api or a preset):
 * dates are calendar dates (start_date, incremental.initial_value) and
 * endpoints are the preset's, with a did-you-mean and the list. Appends a
 * file:line: line per problem to err; returns their count. */
int preset_check_block(const struct ydoc *doc, const struct ynode *source, const struct ynode *block,
		       const char *source_name, struct strbuf *err);
/* The endpoint names of preset name into out; -1 if there is no such preset. */
int preset_endpoint_names(const char *name, struct strvec *out);
/* s is YYYY-MM-DD (a real day of the calendar), maybe with a time of day. */
int is_calendar_date(const char *s);

/* A YAML node as JSON: plain scalars typed by YAML's rules (null, bool,
 * int, float), quoted ones strings. */
json_t *yaml_to_json(const struct ynode *n);

#endif
