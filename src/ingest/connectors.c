/* Which connector loads which source type. */
#include "ingest/connector.h"

#include <string.h>

const struct connector_ops *connector_for(const char *type)
{
	if (!strcmp(type, "csv") || !strcmp(type, "local_files"))
		return &files_connector;
	return NULL;
}
