/* Which connector loads which source type. */
#include "ingest/connector.h"
#include "sources/rest_api.h"
#include "sources/db/db.h"
#include "sources/command.h"
#include "sources/imap.h"

#include <string.h>

const struct connector_ops *connector_for(const char *type)
{
	if (!strcmp(type, "csv") || !strcmp(type, "local_files"))
		return &files_connector;
	/* rest_api, and the API presets (stripe, github, hubspot, user presets) */
	if (rest_api_handles(type))
		return &rest_api_connector;
	if (db_source_handles(type))
		return &db_connector;
	if (!strcmp(type, "command"))
		return &command_connector;
	if (!strcmp(type, "imap"))
		return &imap_connector;
	return NULL;
}
