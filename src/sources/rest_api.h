/* The declarative REST API connector (type rest_api, and every API preset:
 * stripe, github, hubspot, user presets). See rest_api.c for the design. */
#ifndef DANGO_SOURCES_REST_API_H
#define DANGO_SOURCES_REST_API_H
#include "ingest/connector.h"

struct source;
struct project;

extern const struct connector_ops rest_api_connector;

/* Does the rest_api connector load sources of this type (rest_api, a
 * bundled or a user preset)? */
int rest_api_handles(const char *type);

/* `dango source test`: one authenticated request to the first endpoint,
 * reported as lines "✓ ..." / "✗ ..."; 0 if it succeeded. */
int rest_api_check(const struct source *s, const struct project *p, struct strbuf *report);

/* A source's configuration as the engine reads it (its rest_api block, or
 * its preset expanded with its block), for `dango oauth setup --source`.
 * *conf is the caller's (json_decref). */
int rest_api_config(const struct source *s, json_t **conf, struct strbuf *err);

/* auth_type oauth: is the source's credential there and unexpired (no
 * refresh, nothing written)? A "✓"/"✗" line into report; -1 when not. 0
 * for sources without OAuth. */
int rest_api_oauth_status(const struct source *s, const struct project *p, struct strbuf *report);

#endif
