/* instrument.h — the process-wide instrument table: code -> small integer id.
 *
 * Ids let the bus and Lua filter by instrument with an integer compare
 * instead of a string compare per event. An instrument registered by a
 * subscription carries its exchange and security type; one first seen in a
 * payload is interned with what the payload's kind implies. Single-threaded:
 * only the event-loop thread calls it.
 */
#ifndef SHJ_INSTRUMENT_H
#define SHJ_INSTRUMENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct inst_info {
    char code[16];
    uint8_t exchange;  /* shj_exchange */
    uint8_t sec_type;  /* shj_sec_type */
    uint8_t odd_lot;   /* subscribed on the intraday odd-lot board */
} inst_info;

/* Id of code (len bytes), creating it with the given defaults when new. 0 if
 * the code is empty or longer than 15 bytes. */
uint32_t inst_intern(const char *code, size_t len, int exchange, int sec_type);
/* Same, but overwrite exchange/sec_type (a subscription knows better). */
uint32_t inst_register(const char *code, int exchange, int sec_type, int odd_lot);
/* Id of code or 0 if unknown. */
uint32_t inst_find(const char *code, size_t len);
const inst_info *inst_get(uint32_t id);
uint32_t inst_count(void);
/* Forget everything (tests). */
void inst_reset(void);

#endif
