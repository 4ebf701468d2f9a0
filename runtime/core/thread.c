/* thread.c — helper-thread scheduling class and name (see thread.h). */
#include "core/thread.h"

#include <pthread.h>
#include <sched.h>

void shj_thread_background(const char *name) {
    struct sched_param p = {.sched_priority = 0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &p); /* advisory: see thread.h */
    if (name) (void)pthread_setname_np(pthread_self(), name);
}
