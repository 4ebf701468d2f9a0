/* bench_sinopac.h — Sinopac's published SSE samples as a benchmark corpus
 * (tests/fixtures/sinopac/sse/: the payloads MANIFEST expects events from),
 * cycled to n payloads, compacted as the server sends them. Shared by
 * bench_parse (the parser alone) and bench_pipeline (end to end), so both
 * measure the same mix. Fixtures are found under $SHJ_SOURCE_DIR, else "..".
 */
#ifndef SHJ_BENCH_SINOPAC_H
#define SHJ_BENCH_SINOPAC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

typedef struct {
    char *buf;     /* all payloads back to back */
    size_t *off;   /* payload i = buf[off[i] .. off[i] + len[i]) */
    uint32_t *len;
    uint8_t *tag;
    size_t n;
    size_t bytes;
} corpus;

/* Sinopac's samples (see the header). 0 on success. */
static inline int load_sinopac(corpus *c, size_t n) {
    const char *src = getenv("SHJ_SOURCE_DIR");
    char path[1200], line[1024], file[256] = "", tag[32] = "";
    snprintf(path, sizeof path, "%.900s/tests/fixtures/sinopac/sse/MANIFEST", src ? src : "..");
    FILE *m = fopen(path, "r");
    if (!m) return -1;
    char *one[128];
    uint32_t one_len[128];
    uint8_t one_tag[128];
    size_t k = 0;
    while (fgets(line, sizeof line, m) && k < 128) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "fixture ", 8)) snprintf(file, sizeof file, "%.200s", line + 8);
        if (!strncmp(line, "tag ", 4)) snprintf(tag, sizeof tag, "%.31s", line + 4);
        if (strcmp(line, "result event") != 0) continue;
        char fp[1300];
        snprintf(fp, sizeof fp, "%.900s/tests/fixtures/sinopac/sse/%s", src ? src : "..", file);
        FILE *f = fopen(fp, "rb");
        if (!f) continue;
        char raw[8192];
        size_t rn = fread(raw, 1, sizeof raw, f), o = 0;
        fclose(f);
        one[k] = malloc(rn + 1);
        int in_str = 0; /* compact: drop whitespace outside strings */
        for (size_t i = 0; i < rn; i++) {
            char ch = raw[i];
            if (in_str) {
                if (ch == '\\' && i + 1 < rn) {
                    one[k][o++] = ch;
                    ch = raw[++i];
                } else if (ch == '"') {
                    in_str = 0;
                }
            } else if (ch == '"') {
                in_str = 1;
            } else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') {
                continue;
            }
            one[k][o++] = ch;
        }
        one_len[k] = (uint32_t)o;
        one_tag[k] = (uint8_t)psr_tag_from_name(tag, strlen(tag));
        k++;
    }
    fclose(m);
    if (!k) return -1;
    size_t bytes = 0;
    for (size_t i = 0; i < k; i++) bytes += one_len[i];
    c->n = n;
    c->off = malloc(n * sizeof *c->off);
    c->len = malloc(n * sizeof *c->len);
    c->tag = malloc(n * sizeof *c->tag);
    c->buf = malloc(bytes * (n / k + 1) + 64);
    c->bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = i % k;
        memcpy(c->buf + c->bytes, one[j], one_len[j]);
        c->off[i] = c->bytes;
        c->len[i] = one_len[j];
        c->tag[i] = one_tag[j];
        c->bytes += one_len[j];
    }
    for (size_t i = 0; i < k; i++) free(one[i]);
    return 0;
}

#endif
