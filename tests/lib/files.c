#include "files.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *qmpk_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else if (buf) {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

const char *qmpk_shared_dir(int argc, char **argv)
{
    static char path[4096];
    struct stat st;
    const char *d = NULL;

    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--shared=", 9) == 0) {
            d = argv[i] + 9;
        }
    }
    if (!d) {
        d = getenv("QMPK_SHARED_DIR");
    }
#ifdef QMPK_SHARED_DIR_DEFAULT
    if (!d) {
        d = QMPK_SHARED_DIR_DEFAULT;
    }
#endif
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s", d);
    return path;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int qmpk_for_files(const char *dir, const char *suffix,
                   void (*fn)(const char *path, const char *name, void *ctx), void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, sl = strlen(suffix);

    if (!d) {
        return -1;
    }
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < sl || strcmp(e->d_name + l - sl, suffix) != 0 || e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof(*names));
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        fn(path, names[i], ctx);
        free(names[i]);
    }
    free(names);
    return (int)n;
}
