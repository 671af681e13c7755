#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script: builds every harness with the
# environment's $CC/$CFLAGS and links it with $LIB_FUZZING_ENGINE into $OUT,
# next to <target>_seed_corpus.zip, <target>.dict and <target>.options.
#
# Under OSS-Fuzz it runs as $SRC/qmpkit/fuzz/build.sh (see fuzz/oss-fuzz/).
# Locally, set the variables by hand (docs/FUZZING.md):
#   CC=clang-19 CXX=clang++-19 \
#   CFLAGS="-O1 -g -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/oss-out fuzz/build.sh
# jsmn.h is taken from $JSMN_DIR, else /usr/include (Debian libjsmn-dev).

src=$(cd "$(dirname "$0")/.." && pwd)
: "${CC:=clang}"
: "${CFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$src/build-fuzz/oss-fuzz-out}"
: "${JSMN_DIR:=/usr/include}"
link=${CXX:-$CC}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

flags="$CFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L -I$src/include -I$JSMN_DIR"

compile_dir() {     # compile_dir NAME FILES... -> $work/NAME.a
    local name=$1
    shift
    mkdir -p "$work/$name"
    for f in "$@"; do
        # shellcheck disable=SC2086
        $CC $flags -I"$(dirname "$f")" -c "$f" -o "$work/$name/$(basename "$f" .c).o"
    done
    ar rcs "$work/$name.a" "$work/$name"/*.o
}

harness() {         # harness NAME EXTRA_CFLAGS LIBS...
    local name=$1 extra=$2
    shift 2
    # shellcheck disable=SC2086
    $CC $flags $extra -c "$src/fuzz/fuzz_$name.c" -o "$work/fuzz_$name.o"
    # shellcheck disable=SC2086
    $link $CFLAGS $LIB_FUZZING_ENGINE "$work/fuzz_$name.o" "$@" -lm -o "$OUT/fuzz_$name"
    cp "$src/fuzz/qmp.dict" "$OUT/fuzz_$name.dict"
    sed "s/^dict = .*/dict = fuzz_$name.dict/" "$src/fuzz/fuzz_$name.options" \
        > "$OUT/fuzz_$name.options"
    rm -f "$OUT/fuzz_${name}_seed_corpus.zip"
    local seeds=()
    for d in "$src/corpus/$name" "$src/corpus/regressions/$name"; do
        [ -d "$d" ] && seeds+=("$d"/*)
    done
    if [ ${#seeds[@]} -gt 0 ]; then
        zip -q -j "$OUT/fuzz_${name}_seed_corpus.zip" "${seeds[@]}"
    fi
    echo "build.sh: $OUT/fuzz_$name"
}

compile_dir parser "$src"/parser/*.c
harness stream "" "$work/parser.a"
harness message "" "$work/parser.a"

# jansson is linked statically: the runner images do not have it.
jansson_a=""
for d in $(pkg-config --variable=libdir jansson 2>/dev/null) /usr/lib/x86_64-linux-gnu /usr/lib /usr/local/lib; do
    if [ -f "$d/libjansson.a" ]; then
        jansson_a="$d/libjansson.a"
        break
    fi
done
if [[ "$CFLAGS" == *sanitize=memory* ]]; then
    echo "build.sh: MSan build, differential harness skipped (jansson is not instrumented)" >&2
elif [ -n "$jansson_a" ]; then
    harness differential "$(pkg-config --cflags jansson 2>/dev/null || true)" "$work/parser.a" "$jansson_a"
else
    echo "build.sh: no libjansson.a, differential harness skipped" >&2
fi

if ls "$src"/engine/*.c >/dev/null 2>&1 && [ -f "$src/fuzz/fuzz_engine.c" ]; then
    compile_dir engine "$src"/engine/*.c
    harness engine "-I$src/engine" "$work/engine.a" "$work/parser.a"
fi

conform=$src/tools/qmp-conform
if [ -f "$conform/casefile.c" ]; then
    compile_dir conform "$conform/casefile.c" "$conform/value.c" "$conform/util.c"
    harness case "-I$conform" "$work/conform.a" "$work/parser.a"
fi
