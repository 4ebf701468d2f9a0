/* instrument.c — the process-wide instrument table: code -> dense id (see instrument.h).
 *
 * Owns: an open-addressing hash table (linear probing, power-of-two capacity,
 * load factor <= 1/2) from code to id, and the inst_info records themselves.
 * Guarantees:
 *  - ids are dense from 1 in creation order and never change until inst_reset;
 *  - inst_get pointers stay valid until inst_reset: records live in fixed-size
 *    chunks that are never moved when the table grows (only the index grows);
 *  - at most INST_MAX instruments: a feed of garbage codes cannot eat the
 *    memory; past the cap new codes get id 0 (callers treat that as an error).
 * Single-threaded: only the event-loop thread calls it (no locks by design).
 */
#include "core/instrument.h"

#include <stdlib.h>
#include <string.h>

#define INST_CODE_MAX 15          /* bytes of a code, NUL excluded */
#define INST_CHUNK_BITS 8         /* 256 records per chunk */
#define INST_CHUNK (1u << INST_CHUNK_BITS)
#define INST_MAX (1u << 20)       /* ~1M instruments: far above any real universe */
#define INST_INITIAL_SLOTS 1024u

typedef struct {
    uint32_t hash; /* full hash, compared before the code */
    uint32_t id;   /* 0 = empty slot */
} inst_slot;

static inst_slot *slots;       /* the index */
static uint32_t slot_mask;     /* capacity - 1 (capacity is a power of two) */
static inst_info **chunks;     /* records: id i lives at chunks[(i-1)>>8][(i-1)&255] */
static uint32_t chunk_cap;     /* entries of chunks[] */
static uint32_t count;         /* ids handed out */

/* A code as two zero-padded 8-byte words: hashing and comparing it is then
 * two multiplies and two integer compares instead of byte loops and memcmp
 * (inst_intern runs once per parsed event). Records keep their code
 * zero-padded to 16 bytes, so the same words come from them. The byte
 * order in the words is the machine's, the same for both sides. */
typedef struct {
    uint64_t w[2];
} code_key;

/* Fixed-size loads only (a variable-length memcpy is a libc call): two
 * overlapping loads cover 4..8 and 8..16 bytes, OR-ing identical bytes
 * where they overlap. Never reads outside code[0..len). len is 1..15. */
static code_key make_key(const char *code, size_t len) {
    code_key k = {{0, 0}};
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    memcpy(k.w, code, len); /* the shifts below assume little-endian words */
    return k;
#endif
    if (len >= 8) {
        uint64_t hi;
        memcpy(&k.w[0], code, 8);
        memcpy(&hi, code + len - 8, 8);
        k.w[1] = len == 8 ? 0 : hi >> (8 * (16 - len)); /* drop bytes [len-8, 8) */
    } else if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, code, 4);
        memcpy(&hi, code + len - 4, 4);
        k.w[0] = (uint64_t)lo | ((uint64_t)hi << (8 * (len - 4)));
    } else {
        for (size_t i = 0; i < len; i++) k.w[0] |= (uint64_t)(unsigned char)code[i] << (8 * i);
    }
    return k;
}

static code_key record_key(const inst_info *r) {
    code_key k;
    memcpy(k.w, r->code, sizeof k.w);
    return k;
}

static uint32_t code_hash(code_key k) {
    uint64_t h = (k.w[0] * 0x9E3779B97F4A7C15ull) ^ (k.w[1] * 0xC2B2AE3D27D4EB4Full);
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static inst_info *record(uint32_t id) {
    uint32_t i = id - 1;
    return &chunks[i >> INST_CHUNK_BITS][i & (INST_CHUNK - 1)];
}

static int valid_code(const char *code, size_t len) {
    if (!code || len == 0 || len > INST_CODE_MAX) return 0;
    for (size_t i = 0; i < len; i++) /* an embedded NUL would make two codes look alike */
        if (code[i] == '\0') return 0;
    return 1;
}

/* Slot holding key, or the empty slot where it would go. */
static inst_slot *probe(code_key k, uint32_t h) {
    for (uint32_t i = h & slot_mask;; i = (i + 1) & slot_mask) {
        inst_slot *s = &slots[i];
        if (s->id == 0) return s;
        if (s->hash == h) {
            code_key rk = record_key(record(s->id));
            if (rk.w[0] == k.w[0] && rk.w[1] == k.w[1]) return s;
        }
    }
}

static int grow_index(void) {
    uint32_t cap = slots ? (slot_mask + 1) * 2 : INST_INITIAL_SLOTS;
    inst_slot *ns = calloc(cap, sizeof *ns);
    if (!ns) return -1;
    uint32_t mask = cap - 1;
    for (uint32_t i = 0; slots && i <= slot_mask; i++) {
        if (slots[i].id == 0) continue;
        uint32_t j = slots[i].hash & mask;
        while (ns[j].id) j = (j + 1) & mask;
        ns[j] = slots[i];
    }
    free(slots);
    slots = ns;
    slot_mask = mask;
    return 0;
}

/* Room for one more record (a new chunk when the last one is full). */
static int reserve_record(void) {
    uint32_t c = count >> INST_CHUNK_BITS; /* chunk index of id count+1 */
    if ((count & (INST_CHUNK - 1)) != 0) return 0;
    if (c >= chunk_cap) {
        uint32_t ncap = chunk_cap ? chunk_cap * 2 : 16;
        inst_info **nc = realloc(chunks, ncap * sizeof *nc);
        if (!nc) return -1;
        chunks = nc;
        chunk_cap = ncap;
    }
    chunks[c] = calloc(INST_CHUNK, sizeof(inst_info));
    return chunks[c] ? 0 : -1;
}

static uint32_t intern(const char *code, size_t len, int exchange, int sec_type, int overwrite,
                       int odd_lot) {
    if (!valid_code(code, len)) return 0;
    if (!slots && grow_index() != 0) return 0;
    code_key k = make_key(code, len);
    uint32_t h = code_hash(k);
    inst_slot *s = probe(k, h);
    if (s->id) {
        if (overwrite) {
            inst_info *r = record(s->id);
            r->exchange = (uint8_t)exchange;
            r->sec_type = (uint8_t)sec_type;
            r->odd_lot = (uint8_t)(odd_lot != 0);
        }
        return s->id;
    }
    if (count >= INST_MAX) return 0;
    if ((count + 1) * 2 > slot_mask + 1) { /* keep the load <= 1/2: short probes */
        if (grow_index() != 0) return 0;
        s = probe(k, h);
    }
    if (reserve_record() != 0) return 0;
    uint32_t id = ++count;
    inst_info *r = record(id);
    memset(r, 0, sizeof *r);
    memcpy(r->code, code, len);
    r->exchange = (uint8_t)exchange;
    r->sec_type = (uint8_t)sec_type;
    r->odd_lot = (uint8_t)(odd_lot != 0);
    s->hash = h;
    s->id = id;
    return id;
}

uint32_t inst_intern(const char *code, size_t len, int exchange, int sec_type) {
    return intern(code, len, exchange, sec_type, 0, 0);
}

uint32_t inst_register(const char *code, int exchange, int sec_type, int odd_lot) {
    if (!code) return 0;
    return intern(code, strnlen(code, INST_CODE_MAX + 1), exchange, sec_type, 1, odd_lot);
}

uint32_t inst_find(const char *code, size_t len) {
    if (!slots || !valid_code(code, len)) return 0;
    code_key k = make_key(code, len);
    return probe(k, code_hash(k))->id;
}

const inst_info *inst_get(uint32_t id) {
    if (id == 0 || id > count) return NULL;
    return record(id);
}

uint32_t inst_count(void) { return count; }

void inst_reset(void) {
    uint32_t used = (count + INST_CHUNK - 1) >> INST_CHUNK_BITS;
    for (uint32_t i = 0; i < used; i++) free(chunks[i]);
    free(chunks);
    free(slots);
    chunks = NULL;
    slots = NULL;
    chunk_cap = 0;
    slot_mask = 0;
    count = 0;
}
