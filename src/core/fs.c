#include "fs.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct list_entry {
	char *name;
	unsigned char dir;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name, ((const struct list_entry *)b)->name);
}

int fs_list_dir(const char *path, struct strvec *names, unsigned char **dirs)
{
	*dirs = NULL;
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct list_entry *v = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int dir;
		if (e->d_type == DT_DIR) {
			dir = 1;
		} else if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
			struct stat st;
			dir = fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
		} else {
			dir = 0;
		}
		if (nr == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[nr].name = xstrdup(e->d_name);
		v[nr++].dir = (unsigned char)dir;
	}
	closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_entry);
	*dirs = xmalloc(nr ? nr : 1);
	for (size_t i = 0; i < nr; i++) {
		strvec_push(names, v[i].name);
		(*dirs)[i] = v[i].dir;
		free(v[i].name);
	}
	free(v);
	return 0;
}

/* fs_list_files below rel, a folder of base ("" for base itself) */
static void list_files_below(struct strvec *out, const char *base, const char *rel, const char *const *exts)
{
	struct strbuf path = STRBUF_INIT;
	if (*rel)
		fs_path_join(&path, base, rel);
	else
		strbuf_addstr(&path, base);
	struct strvec names = STRVEC_INIT;
	unsigned char *dirs;
	if (fs_list_dir(path.buf, &names, &dirs) < 0) {
		strbuf_release(&path);
		return;
	}
	struct strbuf sub = STRBUF_INIT;
	for (size_t i = 0; i < names.nr; i++) {
		strbuf_reset(&sub);
		if (*rel)
			strbuf_addf(&sub, "%s/%s", rel, names.v[i]);
		else
			strbuf_addstr(&sub, names.v[i]);
		if (dirs[i]) {
			list_files_below(out, base, sub.buf, exts);
		} else {
			for (const char *const *x = exts; *x; x++)
				if (ends_with(names.v[i], *x)) {
					strvec_push(out, sub.buf);
					break;
				}
		}
	}
	strbuf_release(&sub);
	free(dirs);
	strvec_clear(&names);
	strbuf_release(&path);
}

void fs_list_files(struct strvec *out, const char *dir, const char *const *exts)
{
	list_files_below(out, dir, "", exts);
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int ret = 0;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				ret = -1;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	int saved = errno;
	free(p);
	if (ret == 0 && !fs_is_dir(path)) {
		errno = ENOTDIR;
		return -1;
	}
	errno = saved;
	return ret;
}

/* fsync the folder that holds path, so that a rename into it is durable.
 * Best effort: some file systems cannot sync a folder, and the rename has
 * already happened by then. */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static int write_all(int fd, const char *p, size_t left)
{
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic_mode(const char *path, const void *data, size_t len, mode_t mode)
{
	struct strbuf tmp = STRBUF_INIT;
	struct stat st;
	int fd, ret = -1, saved;
	/* the temporary file is created with the final mode (never wider), so
	 * that a secret is not readable by others even for a moment */
	int keep = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	strbuf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, keep ? (st.st_mode & 07777) : mode);
	if (fd < 0)
		goto out;
	/* open() applies the umask: an existing file's mode is kept exactly */
	if ((keep && fchmod(fd, st.st_mode & 07777) < 0) || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp.buf);
		errno = saved;
		goto out;
	}
	if (close(fd) < 0 || rename(tmp.buf, path) < 0) {
		saved = errno;
		unlink(tmp.buf);
		errno = saved;
		goto out;
	}
	sync_parent(path);
	ret = 0;
out:
	saved = errno;
	strbuf_release(&tmp);
	errno = saved;
	return ret;
}

int fs_write_atomic(const char *path, const void *data, size_t len)
{
	return fs_write_atomic_mode(path, data, len, 0644);
}

void fs_path_join(struct strbuf *sb, const char *dir, const char *name)
{
	strbuf_addstr(sb, dir);
	if (sb->len && sb->buf[sb->len - 1] != '/' && *name)
		strbuf_addch(sb, '/');
	while (*name == '/' && sb->len)
		name++;
	strbuf_addstr(sb, name);
}

int fs_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	int ret = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct strbuf sub = STRBUF_INIT;
		fs_path_join(&sub, path, e->d_name);
		if (fs_remove_tree(sub.buf) < 0)
			ret = -1;
		strbuf_release(&sub);
	}
	closedir(d);
	if (rmdir(path) < 0)
		ret = -1;
	return ret;
}

void fs_absolute(struct strbuf *sb, const char *path)
{
	struct strbuf raw = STRBUF_INIT;
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		strbuf_addstr(&raw, cwd ? cwd : ".");
		free(cwd);
		strbuf_addch(&raw, '/');
	}
	strbuf_addstr(&raw, path);
	/* normalize: drop "." and empty parts, resolve ".." lexically */
	size_t base = sb->len;
	char *save, *part = strtok_r(raw.buf, "/", &save);
	for (; part; part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			char *slash = strrchr(sb->buf + base, '/');
			if (slash)
				strbuf_setlen(sb, (size_t)(slash - sb->buf));
			continue;
		}
		strbuf_addch(sb, '/');
		strbuf_addstr(sb, part);
	}
	if (sb->len == base)
		strbuf_addch(sb, '/');
	strbuf_release(&raw);
}
