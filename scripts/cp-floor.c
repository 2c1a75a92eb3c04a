/*
 * Copyright (c) ctrd.containerd contributors
 * GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
 *
 * What the kernel alone costs for containerd_cp's tree benchmark: the same system calls the engine makes
 * per file, in C, with no interpreter, spread over N threads by subdirectory.  docs/cp.md uses it to tell
 * the engine's overhead from the floor the speed goals run into.
 *
 *   gcc -O2 -pthread -o /tmp/cp-floor scripts/cp-floor.c
 *   /tmp/cp-floor SRC DST create THREADS    # DST must not exist; SRC holds subdirectories of regular files
 *   /tmp/cp-floor SRC DST compare THREADS   # after create: both sides read and compared, nothing written
 *
 * create, per file: open, fstat, open(O_CREAT|O_EXCL), sendfile, futimens, close, close.
 * compare, per file: fstatat (the destination), open, fstat, open, read, read, memcmp, close, close.
 * It prints the wall time; exit status 1 on any failure or difference.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
#define MAX_DIRS 4096
#define BUF (1 << 16)

static int src_root, dst_root, compare, threads, ndirs;
static char *dirs[MAX_DIRS];
static volatile int failed;

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "%s %s: %s\n", what, name, strerror(errno));
    failed = 1;
}

static void file_create(int sd, int dd, const char *name)
{
    int s = openat(sd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), d;
    struct stat st;
    if (s < 0 || fstat(s, &st) < 0) { fail("open source", name); return; }
    d = openat(dd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777);
    if (d < 0) { fail("create", name); close(s); return; }
    for (off_t left = st.st_size; left > 0;) {
        ssize_t n = sendfile(d, s, NULL, left);
        if (n <= 0) { fail("sendfile", name); break; }
        left -= n;
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (futimens(d, times) < 0) fail("futimens", name);
    close(d);
    close(s);
}

static void file_compare(int sd, int dd, const char *name, char *a, char *b)
{
    struct stat ds, ss;
    if (fstatat(dd, name, &ds, AT_SYMLINK_NOFOLLOW) < 0) { fail("lstat", name); return; }
    int s = openat(sd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (s < 0 || fstat(s, &ss) < 0) { fail("open source", name); return; }
    int d = openat(dd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (d < 0) { fail("open destination", name); close(s); return; }
    for (off_t at = 0; at < ss.st_size;) {
        ssize_t n = pread(s, a, BUF, at), m = pread(d, b, BUF, at);
        if (n <= 0 || m != n || memcmp(a, b, n)) { errno = 0; fail("differs", name); break; }
        at += n;
    }
    close(d);
    close(s);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char *a = malloc(BUF), *b = malloc(BUF);
    for (int i = id; i < ndirs; i += threads) {
        if (!compare && mkdirat(dst_root, dirs[i], 0755) < 0) { fail("mkdir", dirs[i]); continue; }
        int sd = openat(src_root, dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int dd = openat(dst_root, dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sd < 0 || dd < 0) { fail("open dir", dirs[i]); continue; }
        DIR *list = fdopendir(dup(sd));
        struct dirent *e;
        while ((e = readdir(list)) != NULL) {
            if (e->d_type != DT_REG) continue;
            if (compare) file_compare(sd, dd, e->d_name, a, b);
            else file_create(sd, dd, e->d_name);
        }
        closedir(list);
        close(sd);
        close(dd);
    }
    free(a);
    free(b);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[3], "create") && strcmp(argv[3], "compare"))) {
        fprintf(stderr, "usage: %s SRC DST create|compare THREADS\n", argv[0]);
        return 2;
    }
    compare = !strcmp(argv[3], "compare");
    threads = atoi(argv[4]);
    if (threads < 1 || threads > MAX_THREADS) threads = 1;
    if (!compare && mkdir(argv[2], 0755) < 0) { perror(argv[2]); return 1; }
    src_root = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    dst_root = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src_root < 0 || dst_root < 0) { perror("open roots"); return 1; }
    DIR *top = fdopendir(dup(src_root));
    struct dirent *e;
    while ((e = readdir(top)) != NULL && ndirs < MAX_DIRS)
        if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            dirs[ndirs++] = strdup(e->d_name);
    closedir(top);

    struct timespec t0, t1;
    pthread_t th[MAX_THREADS];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < threads; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s, %d thread(s): %.4f s\n", argv[3], threads, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return failed;
}
