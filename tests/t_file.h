/* t_file.h — a whole file into memory, for tests that read fixtures. */
#ifndef SHJ_T_FILE_H
#define SHJ_T_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* The file's bytes, NUL-terminated, and *len; NULL (said on stderr) if it
 * cannot be opened. The caller frees. */
static inline char *t_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

#endif
