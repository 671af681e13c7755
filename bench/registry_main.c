/* bench_parser: the parsers whose symbols can share one program. */
#include <stddef.h>

#include "bench.h"

const bench_case_t *const bench_cases[] = {
    &bench_case_qmpkit_whole, &bench_case_qmpkit_64k, &bench_case_qmpkit_4k,
    &bench_case_qmpkit_1, &bench_case_qmpkit_shared_64k, &bench_case_qmpkit_shared_1,
    &bench_case_jsmn, &bench_case_cjson, NULL,
};
