/* Anomaly backups: when a full refresh loads under half the rows a table
 * had, the old table is kept, renamed, in the source's own schema. One rule
 * names them, so that every reader (generate, source list, db status, the
 * full-refresh counts, dbt sources) tells them from the source's tables:
 *
 *     raw_<source>._dango_backup_<YYYYmmddHHMMSS>[_<k>]__<table>
 *
 * The _dango_ prefix makes them bookkeeping to sync_is_meta_name(); the
 * stamp is UTC. Tables named the old way (<table>__backup_<stamp>[_<k>])
 * are recognised too. */
#ifndef DANGO_INGEST_BACKUP_H
#define DANGO_INGEST_BACKUP_H
#include <time.h>

struct strbuf;

/* The backup name of table taken at stamp (14 digits, UTC), the k-th of
 * that second (k < 2: none), into sb. */
void sync_backup_name(struct strbuf *sb, const char *table, const char *stamp, int k);
/* The stamp of now, UTC, into buf (at least 15 bytes). */
void sync_backup_stamp(char *buf);
/* Is name a backup? 1 and, when not NULL, the table it backs up (into
 * table) and the time it was taken (*when); 0 otherwise. */
int sync_backup_parse(const char *name, struct strbuf *table, time_t *when);

#endif
