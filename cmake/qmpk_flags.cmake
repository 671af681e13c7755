# Compiler flags and build variants.  Every invalid combination fails early
# with a message that says how to fix it.
set(QMPK_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wpointer-arith)
if(QMPK_WERROR)
  list(APPEND QMPK_WARNINGS -Werror)
endif()
add_compile_options(${QMPK_WARNINGS})
add_compile_definitions(_POSIX_C_SOURCE=200809L)

if(QMPK_FUZZ OR QMPK_BUILD_FUZZERS)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(SEND_ERROR "QMPK_FUZZ/QMPK_BUILD_FUZZERS need clang (libFuzzer): "
                       "configure with -DCMAKE_C_COMPILER=clang-19")
  endif()
endif()
if(QMPK_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
  if(NOT QMPK_SANITIZE)
    message(WARNING "QMPK_FUZZ without QMPK_SANITIZE: fuzzers will not see memory errors; "
                    "add -DQMPK_SANITIZE=ON")
  endif()
endif()
if(QMPK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
if(QMPK_COVERAGE)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(SEND_ERROR "QMPK_COVERAGE needs clang: configure with -DCMAKE_C_COMPILER=clang-19")
  endif()
  add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
  add_link_options(-fprofile-instr-generate -fcoverage-mapping)
endif()
