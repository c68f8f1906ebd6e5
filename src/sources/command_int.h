/* Inside the command connector: what command.c (the program, its lines,
 * NDJSON) and singer.c (the Singer protocol) share. Not for other files. */
#ifndef DANGO_SOURCES_COMMAND_INT_H
#define DANGO_SOURCES_COMMAND_INT_H
#include <jansson.h>
#include "ingest/connector.h"
#include "sources/normalize.h"

enum cmd_format { FMT_AUTO, FMT_SINGER, FMT_NDJSON };

/* One output table: a Singer stream, or an NDJSON table. */
struct cmd_stream {
	char *name;            /* as the program names it */
	char *table;           /* the raw table (normalized name) */
	int t;                 /* normalizer table */
	int selected;
	int have_schema;       /* Singer: a SCHEMA was seen */
	enum write_disposition wd;
	struct strvec key;     /* primary key, as the records name its fields */
	int has_version;       /* some RECORD carried a version */
	int activated;         /* an ACTIVATE_VERSION came */
	long long version;
	int64_t rows;
};

struct cmd_extract {
	struct sync_job *job;
	const struct cmd_conf *conf;
	enum cmd_format format;
	struct normalizer norm;
	int norm_ready;
	struct jv_doc doc;
	struct cmd_stream *streams;
	size_t nr_streams, alloc_streams;
	int *table_stream;     /* normalizer table -> stream index (roots), -1 */
	size_t alloc_table_stream;
	json_t *state;         /* the last state the program emitted, or NULL */
	int64_t line;          /* of the program's output, 1-based */
	int64_t records;
	int limit_reached;
	int max_nesting;
};

/* The stream named name (made on first use, its table's resource
 * described from wd and key). */
struct cmd_stream *cmd_stream_get(struct cmd_extract *x, const char *name, int create);
void cmd_stream_describe(struct cmd_extract *x, struct cmd_stream *st);
/* One record of a stream into its table, with extra columns. */
int cmd_add_record(struct cmd_extract *x, struct cmd_stream *st, const struct jv *rec, const struct norm_extra *extra,
		   size_t nr_extra, struct strbuf *err);

/* Singer: one message (a parsed line); 0 or -1 with err (no line number). */
int singer_message(struct cmd_extract *x, const struct jv *msg, const char *line, size_t len, struct strbuf *err);
/* Does this parsed line look like a Singer message? */
int singer_looks_like(const struct jv *msg);
/* After a successful run: ACTIVATE_VERSION's deletions, notes. */
void singer_finish(struct cmd_extract *x);

#endif
