#include "warehouse/lock.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static void copy_field(char *dst, size_t n, json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	snprintf(dst, n, "%s", v ? v : "");
}

static int read_holder(const char *info_path, struct lock_holder *h)
{
	json_error_t jerr;
	memset(h, 0, sizeof(*h));
	json_t *root = json_load_file(info_path, 0, &jerr);
	if (!root)
		return -1;
	h->pid = (long)json_integer_value(json_object_get(root, "pid"));
	copy_field(h->command, sizeof(h->command), root, "command");
	copy_field(h->source, sizeof(h->source), root, "source");
	copy_field(h->started_at, sizeof(h->started_at), root, "started_at");
	copy_field(h->hostname, sizeof(h->hostname), root, "hostname");
	json_decref(root);
	return 0;
}

void lock_describe(struct strbuf *sb, const struct lock_holder *h)
{
	if (!h->pid) {
		strbuf_addstr(sb, "another process");
		return;
	}
	strbuf_addf(sb, "pid %ld", h->pid);
	if (*h->command)
		strbuf_addf(sb, ", %s%s%s", h->command, *h->source ? " " : "", h->source);
	/* started_at is YYYY-MM-DDTHH:MM:SS; the time of day is what helps */
	if (strlen(h->started_at) >= 19)
		strbuf_addf(sb, ", since %.8s", h->started_at + 11);
}

static int write_holder(struct dango_lock *lock, const char *command, const char *source)
{
	char host[64] = "", started[32];
	time_t now = time(NULL);
	struct tm tm;
	gethostname(host, sizeof(host) - 1);
	localtime_r(&now, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%S", &tm);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "pid", (json_int_t)getpid(),
			      "command", command ? command : "", "source", source ? source : "",
			      "started_at", started, "hostname", host);
	char *text = json_dumps(o, JSON_INDENT(2));
	int r = fs_write_atomic(lock->info_path, text, strlen(text));
	free(text);
	json_decref(o);
	return r;
}

static void lock_paths(struct dango_lock *lock, const char *state_dir)
{
	struct strbuf sb = STRBUF_INIT;
	fs_path_join(&sb, state_dir, "dbt.lock");
	lock->path = strbuf_detach(&sb, NULL);
	lock->info_path = xasprintf("%s.json", lock->path);
}

/* Milliseconds from a to b on the monotonic clock: comparing whole
 * seconds gave up on --wait 2 after as little as 1.0x s. */
static int64_t elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return ((int64_t)b->tv_sec - a->tv_sec) * 1000 + ((int64_t)b->tv_nsec - a->tv_nsec) / 1000000;
}

int lock_acquire(struct dango_lock *lock, const char *state_dir, const char *command,
		 const char *source, int wait_seconds, struct strbuf *err)
{
	struct timespec start, now;
	int told = 0;

	if (fs_mkdir_p(state_dir, 0755) < 0) {
		strbuf_addf(err, "cannot create '%s': %s", state_dir, strerror(errno));
		return -1;
	}
	lock_paths(lock, state_dir);
	lock->fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock->fd < 0) {
		strbuf_addf(err, "cannot open lock file '%s': %s", lock->path, strerror(errno));
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(lock->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			strbuf_addf(err, "cannot lock '%s': %s", lock->path, strerror(errno));
			goto fail;
		}
		struct lock_holder h;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (elapsed_ms(&start, &now) >= (int64_t)wait_seconds * 1000) {
			struct strbuf who = STRBUF_INIT;
			if (read_holder(lock->info_path, &h) < 0)
				memset(&h, 0, sizeof(h));
			lock_describe(&who, &h);
			if (wait_seconds > 0)
				strbuf_addf(err, "gave up after %d s waiting for the warehouse lock, held by %s",
					    wait_seconds, who.buf);
			else
				strbuf_addf(err, "the warehouse lock is held by %s (use --wait SECONDS to wait for it)",
					    who.buf);
			strbuf_release(&who);
			close(lock->fd);
			lock->fd = -1;
			lock_release(lock);
			return LOCK_TIMEOUT;
		}
		/* the holder writes its details just after taking the lock: give
		 * it a moment so that the message can name it */
		int known = read_holder(lock->info_path, &h) == 0 && h.pid;
		if (!told && (known || elapsed_ms(&start, &now) >= 1000)) {
			struct strbuf msg = STRBUF_INIT;
			if (known) {
				strbuf_addf(&msg, "⏳ Another %s is running (pid %ld",
					    !strncmp(h.command, "dango sync", 10) ? "sync" : "writer", h.pid);
				if (strlen(h.started_at) >= 19)
					strbuf_addf(&msg, ", since %.8s", h.started_at + 11);
				strbuf_addch(&msg, ')');
			} else {
				strbuf_addstr(&msg, "⏳ Another sync is running");
			}
			if (wait_seconds % 60 == 0)
				strbuf_addf(&msg, ". Waiting for lock (up to %d minute%s)...", wait_seconds / 60,
					    wait_seconds == 60 ? "" : "s");
			else
				strbuf_addf(&msg, ". Waiting for lock (up to %d seconds)...", wait_seconds);
			ui_print("%s", msg.buf);
			strbuf_release(&msg);
			told = 1;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (write_holder(lock, command, source) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", lock->info_path, strerror(errno));
		goto fail;
	}
	if (told)
		ui_ok("Lock acquired.");
	return 0;
fail:
	lock_release(lock);
	return -1;
}

void lock_release(struct dango_lock *lock)
{
	if (lock->fd >= 0) {
		/* remove the details first: once unlocked, a new holder writes its own */
		unlink(lock->info_path);
		flock(lock->fd, LOCK_UN);
		close(lock->fd);
	}
	free(lock->path);
	free(lock->info_path);
	lock->fd = -1;
	lock->path = lock->info_path = NULL;
}

int lock_probe(const char *state_dir, struct lock_holder *holder)
{
	struct dango_lock probe = DANGO_LOCK_INIT;
	int ret;
	memset(holder, 0, sizeof(*holder));
	lock_paths(&probe, state_dir);
	int fd = open(probe.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -1;
	} else if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		ret = 0;
	} else {
		ret = 1;
		if (read_holder(probe.info_path, holder) < 0)
			memset(holder, 0, sizeof(*holder));
	}
	if (fd >= 0)
		close(fd);
	free(probe.path);
	free(probe.info_path);
	return ret;
}
