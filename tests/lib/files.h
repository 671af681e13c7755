/* Test input files (tests may allocate; the library may not). */
#ifndef QMPK_TEST_FILES_H
#define QMPK_TEST_FILES_H
#include <stdbool.h>
#include <stddef.h>

/* Reads a whole file; returns a malloc'd buffer (free it) or NULL. */
char *qmpk_read_file(const char *path, size_t *len);
/* The shared corpus folder (argv[1] of corpus tests, or QMPK_SHARED_DIR);
 * NULL when it does not exist. */
const char *qmpk_shared_dir(int argc, char **argv);
/* Calls fn for every regular file in dir whose name ends with suffix, in
 * sorted order; returns the number of files, -1 when dir is missing. */
int qmpk_for_files(const char *dir, const char *suffix,
                   void (*fn)(const char *path, const char *name, void *ctx), void *ctx);
#endif
