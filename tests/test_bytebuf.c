/* test_bytebuf.c — the growable byte buffer: appends survive growth, reserve
 * guarantees room without changing the content, absurd sizes fail cleanly. */
#include <stdint.h>
#include <string.h>

#include "core/bytebuf.h"
#include "t.h"

int main(void) {
    bb_buf b;
    bb_init(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    int bad = 0;
    for (uint32_t i = 0; i < 5000; i++) CHECK_EQ_I64(bb_append(&b, &i, sizeof i), 0);
    CHECK_EQ_I64(b.len, 5000 * sizeof(uint32_t));
    CHECK(b.cap >= b.len);
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t v;
        memcpy(&v, b.data + i * sizeof v, sizeof v);
        if (v != i) bad++;
    }
    CHECK_EQ_I64(bad, 0);
    size_t len = b.len;
    CHECK_EQ_I64(bb_reserve(&b, 100000), 0);
    CHECK(b.cap - b.len >= 100000);
    CHECK_EQ_I64(b.len, len);
    uint32_t last;
    memcpy(&last, b.data + len - sizeof last, sizeof last);
    CHECK_EQ_I64(last, 4999);
    size_t cap = b.cap;
    CHECK_EQ_I64(bb_reserve(&b, SIZE_MAX - 8), -1); /* cannot exist: refused, buffer intact */
    CHECK_EQ_I64(b.cap, cap);
    CHECK_EQ_I64(b.len, len);
    CHECK_EQ_I64(bb_append(&b, "", 0), 0);
    CHECK_EQ_I64(b.len, len);
    bb_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    CHECK_EQ_I64(bb_append(&b, "abc", 3), 0); /* reusable after free */
    CHECK(b.len == 3 && memcmp(b.data, "abc", 3) == 0);
    bb_free(&b);
    T_DONE();
}
