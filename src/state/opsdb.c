#include "state/opsdb.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/strbuf.h"

#define OPSDB_FILE "dango.sqlite"
#define OPSDB_BUSY_MS 10000

static void db_path(struct strbuf *sb, const char *state_dir)
{
	strbuf_addf(sb, "%s/%s", state_dir, OPSDB_FILE);
}

/* Create the file 0600 before SQLite does, so it is never world-readable
 * (it may hold OAuth account names and webhook results). Only when it is
 * not there: closing a descriptor of an existing database drops every
 * POSIX lock this process holds on it, those of its other open
 * connections too (the web server's scheduler keeps one), and SQLite then
 * takes a closing connection for the last one and removes the WAL under
 * the others' feet. */
static int create_private(const char *path, struct strbuf *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		strbuf_addf(err, "cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	fchmod(fd, 0600);
	close(fd);
	return 0;
}

static int open_with(const char *state_dir, int flags, sqlite3 **db, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc = -1;

	*db = NULL;
	db_path(&path, state_dir);
	if (flags & SQLITE_OPEN_CREATE) {
		if (fs_mkdir_p(state_dir, 0755) < 0) {
			strbuf_addf(err, "cannot create '%s': %s", state_dir, strerror(errno));
			goto out;
		}
		if (create_private(path.buf, err) < 0)
			goto out;
	} else if (access(path.buf, F_OK)) {
		goto out;
	}
	if (sqlite3_open_v2(path.buf, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		strbuf_addf(err, "cannot open '%s': %s", path.buf,
			    *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		goto out;
	}
	sqlite3_busy_timeout(*db, OPSDB_BUSY_MS);
	if ((flags & SQLITE_OPEN_READWRITE) &&
	    opsdb_exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err) < 0) {
		opsdb_close(*db);
		*db = NULL;
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&path);
	return rc;
}

int opsdb_open(const char *state_dir, sqlite3 **db, struct strbuf *err)
{
	return open_with(state_dir, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, db, err);
}

int opsdb_open_readonly(const char *state_dir, sqlite3 **db, struct strbuf *err)
{
	return open_with(state_dir, SQLITE_OPEN_READONLY, db, err);
}

void opsdb_close(sqlite3 *db)
{
	if (db)
		sqlite3_close(db);
}

int opsdb_exec(sqlite3 *db, const char *sql, struct strbuf *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		strbuf_addf(err, "operational metadata: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int opsdb_ensure(sqlite3 *db, const char *module, const char *schema_sql, struct strbuf *err)
{
	/* CREATE ... IF NOT EXISTS is cheap; a failure names the module whose
	 * schema could not be set up. */
	if (opsdb_exec(db, schema_sql, err) < 0) {
		strbuf_addf(err, " (setting up the %s tables)", module);
		return -1;
	}
	return 0;
}
