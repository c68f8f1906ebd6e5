/* The single-writer lock: DuckDB lets one process write the warehouse, so
 * every Dango writer (CLI, web page, scheduler) takes this lock first.
 *
 * The lock is an OS file lock (flock) on .dango/state/dbt.lock: the kernel
 * drops it when its holder dies, so a killed holder never blocks anyone.
 * Who holds it is written to .dango/state/dbt.lock.json for messages and the
 * web page; that file is advisory and may be stale once the lock is free. */
#ifndef DANGO_LOCK_H
#define DANGO_LOCK_H
#include <sys/types.h>
struct strbuf;

enum { LOCK_TIMEOUT = -2 };

struct lock_holder {
	long pid;
	char command[64];
	char source[128];
	char started_at[32];  /* ISO 8601, local time */
	char hostname[64];
};

struct dango_lock {
	int fd;               /* -1 when not held */
	char *path, *info_path;
};
#define DANGO_LOCK_INIT { -1, NULL, NULL }

/* Take the lock, waiting up to wait_seconds (0: fail at once) while another
 * process holds it. Prints the waiting and acquired lines unless quiet.
 * Returns 0, LOCK_TIMEOUT with a message naming the holder, or -1. */
int lock_acquire(struct dango_lock *lock, const char *state_dir, const char *command,
		 const char *source, int wait_seconds, struct strbuf *err);
void lock_release(struct dango_lock *lock);

/* Is the lock held by another process? 1 if so (filling *holder when its
 * details are known), 0 if free, -1 on error. */
int lock_probe(const char *state_dir, struct lock_holder *holder);
/* Describe a holder: "pid 123, dango sync sales, since 12:34:56". */
void lock_describe(struct strbuf *sb, const struct lock_holder *holder);

#endif
