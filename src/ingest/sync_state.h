/* The incremental state of a source as users see and change it
 * (`dango state show|set|reset`).
 *
 * The state itself stays where the sync engine commits it with the data:
 * raw_<source>._dango_state (one JSON value per resource: a REST cursor
 * {"cursor", "first", "boundary"}, a database stream's {"stream",
 * "update_key", "value"}), _dango_resources (write disposition, keys),
 * _dango_file_metadata (tracked files) and _dlt_loads. This module reads
 * them into one JSON description per source, and changes them in one
 * transaction together with a row of _dango.state_history (who, when, old
 * and new value), which `show` reads back to tell why a cursor moved. The
 * caller holds the single-writer lock for set and reset (on a postgres
 * warehouse, the source's advisory lock on wh's connection). The SQL is
 * DuckDB's or PostgreSQL's as wh is.
 *
 * Returned json_t * are the caller's (json_decref). */
#ifndef DANGO_INGEST_SYNC_STATE_H
#define DANGO_INGEST_SYNC_STATE_H
#include <jansson.h>
#include "core/strbuf.h"
#include "core/strvec.h"

struct warehouse;

/* {"source": S, "resources": [{"resource", "kind": "cursor"|"update_key"|
 * "files"|"none", "update_key", "stream", "last_value", "last_value_date",
 * "first_value", "boundary": [...], "write_disposition", "primary_key",
 * "last_load_id", "last_load_at", "rows", "files": [{path, size, mtime,
 * hash, rows, status}], "last_change": {action, old_value, new_value, who,
 * at}}]}. A source never synced has no resources. NULL with err on error. */
json_t *sync_state_describe(struct warehouse *wh, const char *source, struct strbuf *err);

/* The resource r of a description, or NULL. */
json_t *sync_state_find(json_t *desc, const char *resource);
/* "orders, customers": the names of desc's resources (with a cursor only, when cursor_only). */
void sync_state_names(json_t *desc, int cursor_only, struct strbuf *sb);

/* Check value against the resource's cursor type (the loaded column's type
 * for a database stream, else the stored value's shape); -1 with err
 * saying what is expected. */
int sync_state_check_value(struct warehouse *wh, const char *source, json_t *res, const char *value,
			   struct strbuf *err);

/* Move the resource's cursor to value (it must have one). */
int sync_state_set(struct warehouse *wh, const char *source, json_t *res, const char *value, const char *who,
		   struct strbuf *err);

/* Forget the state of one resource (res) or of the whole source (res NULL):
 * cursors are removed, tracked files are marked so that the next sync
 * reloads each file once (its rows replaced). drop_data: also drop the
 * resources' tables and forget the files; on a postgres warehouse a table
 * that views read is emptied instead (a new empty table with its columns,
 * the views rebuilt on it) and a line pushed to kept per such table,
 * "raw_x.table: schema.view, ..." (see keep_views). One transaction. */
int sync_state_reset(struct warehouse *wh, const char *source, json_t *desc, json_t *res, int drop_data,
		     const char *who, struct strvec *kept, struct strbuf *err);

/* One line for --dry-run: where the next sync of a resource starts. */
void sync_state_start_line(json_t *res, struct strbuf *sb);

#endif
