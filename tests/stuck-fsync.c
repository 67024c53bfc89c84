/* stuck-fsync.so: an LD_PRELOAD shim for the tests that makes the file system hang. fsync() of a
 * file below the folder $STUCK_FSYNC_DIR never returns, as on a hung NFS mount or a dying disk;
 * every other fsync() is the real one. The caller's signals stay as they are (the backup writer
 * blocks them all, so only SIGKILL ends it), as in the kernel's uninterruptible sleep. */

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fsync(int fd);

int fsync(int fd) {
        static int (*real)(int) = NULL;
        const char *dir = getenv("STUCK_FSYNC_DIR");
        char link[64], path[PATH_MAX];
        ssize_t n;

        if (!real)
                real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
        if (dir && dir[0]) {
                size_t l = strlen(dir);

                (void) snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                n = readlink(link, path, sizeof path - 1);
                if (n > 0) {
                        path[n] = '\0';
                        if (strncmp(path, dir, l) == 0 && path[l] == '/')
                                for (;;)
                                        (void) pause();
                }
        }
        return real(fd);
}
