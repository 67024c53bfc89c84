#pragma once

/* Files that must survive a crash intact and folders only we may write to: the state folder's
 * building blocks. libc only; nothing here logs. */

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Makes sure 'path' is a folder that only we can write to. What is missing is created, parents
 * included, with mode 0700 (whatever the umask), and each folder created is fsync'd with its
 * parent, so that a crash cannot lose the new entry. A symlink to a folder is followed (systemd's
 * StateDirectory= is one under DynamicUser=), and the checks below apply to its target; the
 * folders above 'path' are not checked. Returns 0 when 'path' is a directory that geteuid() owns,
 * that neither group nor others may write, and that we may write and search. Otherwise a negative
 * errno: -ENOTDIR when it (or a parent) is no directory; -EPERM when another user owns it or
 * group or others may write it, then with *reterr_hint (when reterr_hint is not NULL) set to the
 * command that fixes it, "chown UID 'PATH'" or "chmod go-w 'PATH'" (owned by the caller; set
 * only in these two cases); -EACCES and the rest as mkdir(), stat() and faccessat() give them. */
int fs_dir_prepare_private(const char *path, char **reterr_hint);

/* The check of fs_dir_prepare_private() without its changes, for the commands that must change
 * nothing (`plan`, `validate`): returns 0 when 'path' passes that check, or is missing and could
 * be created (its nearest existing ancestor is a directory we may write and search), else the
 * negative errno fs_dir_prepare_private() would fail with, and the same hints; a missing 'path'
 * under an ancestor we may not write gives -EACCES and the hint "install -d -m 0700 -o UID
 * 'PATH'" (to run as root). */
int fs_dir_check_private(const char *path, char **reterr_hint);

/* Replaces the file 'name' in the folder 'dir' with 'size' bytes of 'data' and mode 'mode' (not
 * narrowed by the umask), so that a reader sees the old content or the new, never a mix, even
 * after a crash: the data goes into the temporary ".NAME.PID.tmp" in the same folder (created
 * with O_EXCL and O_NOFOLLOW; one that a crashed process with our pid left is removed first),
 * which is fsync'd and renamed over 'name', and then the folder is fsync'd. 'name' is one path
 * component. Returns 0 once the new content is durable. On failure the temporary is removed, the
 * old file is left as it was (unless only the last folder sync failed: the new content is then in
 * place but maybe not durable) and a negative errno is returned: -EINVAL for a 'name' that is not
 * one component, -EISDIR when 'name' is a directory, the errno of the failed call otherwise. */
int fs_write_atomic(const char *dir, const char *name, const void *data, size_t size, mode_t mode);

/* Creates the file 'name' in the folder 'dir_fd' (O_EXCL, O_NOFOLLOW: it must not exist) with
 * mode 'mode' (not narrowed by the umask), writes 'size' bytes of 'data' into it, and fsyncs and
 * closes it; the folder is not fsync'd. Returns 0 or a negative errno, and then the file may be
 * left behind partly written: the caller removes it. */
int fs_create_synced(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);

/* As fs_write_atomic(), with the content written by 'write_fn' into 'f', a stream on the
 * temporary (borrowed: write_fn must not close it; fully buffered), so that a large file needs no
 * copy in memory. 'userdata' is passed through. write_fn returns 0, or a negative errno that
 * aborts the write (the temporary is removed, the old file left) and is returned; an error of the
 * stream (its error flag) fails the write too. */
int fs_write_atomic_stream(const char *dir, const char *name, mode_t mode,
                           int (*write_fn)(FILE *f, void *userdata), void *userdata);

/* Writes all 'size' bytes of 'data' to 'fd' at its offset, going on after a short write or an EINTR.
 * Returns 0 or the negative errno of the failed write(). */
int fs_write_all(int fd, const void *data, size_t size);

/* Reads the regular file 'path' whole, at most 'max' bytes (max < SIZE_MAX / 2). Returns 0 and sets
 * *ret to a new buffer (owned by the caller) holding the content and a NUL after it, and
 * *ret_size (when not NULL) to the size without the NUL. A file may hold NUL bytes: the caller
 * that needs a C string checks. Returns -ENOENT when the file does not exist, -EINVAL when it is
 * not a regular file (a folder, a FIFO: never blocks on opening one), -EFBIG when it holds more
 * than 'max' bytes, -ENOMEM, or the errno of the failed call. */
int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_size);
