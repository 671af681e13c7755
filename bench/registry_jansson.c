/* bench_parser_jansson: jansson alone (its json_object_* clash with json-c's). */
#include <stddef.h>

#include "bench.h"

const bench_case_t *const bench_cases[] = { &bench_case_jansson, NULL };
