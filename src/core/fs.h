/* Files and paths. Functions return 0 on success and -1 with errno set. */
#ifndef DANGO_FS_H
#define DANGO_FS_H
#include <stddef.h>
#include <sys/types.h>
struct strbuf;
struct strvec;

int fs_exists(const char *path);
int fs_is_dir(const char *path);
int fs_mkdir_p(const char *path, mode_t mode);
/* The entries of the folder path whose names do not start with a dot,
 * sorted by name (strcmp), appended to names; (*dirs)[i] says whether
 * the i-th name appended is a folder (symlinks followed), *dirs being the
 * caller's to free. The types come from readdir where the file system gives them, so
 * a listing costs no stat per entry. -1 when the folder cannot be read. */
int fs_list_dir(const char *path, struct strvec *names, unsigned char **dirs);
/* The files under dir, recursively and sorted, as paths relative to it,
 * whose names end in one of exts (NULL-ended), appended to out; a folder
 * that cannot be read adds nothing. */
void fs_list_files(struct strvec *out, const char *dir, const char *const *exts);
/* Write data to path through a temporary file and rename(), so that readers
 * see the old or the new content, never a part, even after a crash: the
 * file is fsync'ed before the rename and its folder after. A file that
 * exists keeps its permission bits; a new one gets 0644 (less the umask). */
int fs_write_atomic(const char *path, const void *data, size_t len);
/* The same, creating a new file with mode (0600 for a file that holds or
 * may hold secrets: .env, sources.yml, tokens). */
int fs_write_atomic_mode(const char *path, const void *data, size_t len, mode_t mode);
/* Append "/" and name to a path in a strbuf, avoiding doubled slashes. */
void fs_path_join(struct strbuf *sb, const char *dir, const char *name);
/* Remove a tree (like rm -rf); missing paths are not an error. */
int fs_remove_tree(const char *path);
/* The absolute, normalized form of path into sb (need not exist). */
void fs_absolute(struct strbuf *sb, const char *path);

#endif
