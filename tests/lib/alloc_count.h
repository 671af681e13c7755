/* Counts malloc/calloc/realloc/free by interposition (not in sanitizer
 * builds, whose runtimes interpose them too). */
#ifndef QMPK_TEST_ALLOC_COUNT_H
#define QMPK_TEST_ALLOC_COUNT_H
#include <stddef.h>
void qmpk_alloc_count_start(void);
/* Stops counting and returns the calls made since start. */
size_t qmpk_alloc_count_stop(void);
#endif
