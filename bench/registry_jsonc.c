/* bench_parser_jsonc: json-c alone (its json_object_* clash with jansson's). */
#include <stddef.h>

#include "bench.h"

const bench_case_t *const bench_cases[] = { &bench_case_jsonc, NULL };
