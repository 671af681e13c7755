#!/bin/sh
# Source-based coverage (clang-19, llvm-cov-19) of parser/ and engine/ from
# replaying the saved corpora: corpus/<harness>/, corpus/regressions/<harness>/
# and the third-party corpora read in place from ../shared.
#
# usage: fuzz/coverage.sh [BUILD_DIR] [OUT_DIR]
#   BUILD_DIR  default build-fuzz/coverage (configured and built here)
#   OUT_DIR    default BUILD_DIR/report: summary.txt and html/index.html
# Prints the line/branch/function summary of parser/ and engine/ files.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-fuzz/coverage}
out=${2:-$build/report}
shared=${QMPK_SHARED_DIR:-$src/../shared}
CLANG=${CLANG:-clang-19}
PROFDATA=${LLVM_PROFDATA:-llvm-profdata-19}
COV=${LLVM_COV:-llvm-cov-19}

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=Debug \
      -DQMPK_COVERAGE=ON -DQMPK_BUILD_TESTS=ON -DQMPK_BUILD_TOOLS=OFF \
      -DQMPK_BUILD_EXAMPLES=OFF >/dev/null
harnesses=""
for h in stream message differential engine case; do
    if cmake --build "$build" --target "fuzz_${h}_replay" >/dev/null 2>&1; then
        harnesses="$harnesses $h"
    fi
done
[ -n "$harnesses" ] || { echo "coverage: no harness built" >&2; exit 1; }

rm -rf "$build/profiles" "$out"
mkdir -p "$build/profiles" "$out"
objects=""
for h in $harnesses; do
    bin="$build/fuzz/fuzz_${h}_replay"
    objects="$objects -object $bin"
    # corpus and regressions apart: an open regression aborts its run, and
    # an aborted run writes no profile
    LLVM_PROFILE_FILE="$build/profiles/$h-own.profraw" \
        "$bin" --skip-missing "$src/corpus/$h" 2>&1 | tail -n 1 | sed "s/^/$h: /" || true
    for f in "$src/corpus/regressions/$h"/*; do
        [ -f "$f" ] || continue
        LLVM_PROFILE_FILE="$build/profiles/$h-reg-$(basename "$f").profraw" \
            "$bin" "$f" >/dev/null 2>&1 || echo "$h: regression $(basename "$f") fails (open finding)"
    done
    jts="$shared/corpus/JSONTestSuite/test_parsing"
    case $h in
        stream) extra="0000:$jts 0004:$jts 0008:$jts 000c:$jts 3e02:$jts 3e06:$jts 0003:$shared/corpus/libvirt-replies" ;;
        message) extra="00:$jts 01:$jts 00:$shared/corpus/libvirt-replies 01:$shared/corpus/qemu-7.2/payloads" ;;
        differential) extra=":$jts" ;;
        *) extra="" ;;
    esac
    i=0
    for e in $extra; do
        i=$((i + 1))
        prefix=${e%%:*}
        dir=${e#*:}
        [ -d "$dir" ] || continue
        if [ -n "$prefix" ]; then
            set -- --prefix "$prefix" "$dir"
        else
            set -- "$dir"
        fi
        # one process per file when a file aborts (an open finding)
        if ! LLVM_PROFILE_FILE="$build/profiles/$h-shared$i.profraw" \
                "$bin" --skip-missing "$@" >"$build/profiles/$h-shared$i.log" 2>&1; then
            rm -f "$build/profiles/$h-shared$i.profraw"
            for f in "$dir"/*; do
                if [ -n "$prefix" ]; then
                    set -- --prefix "$prefix" "$f"
                else
                    set -- "$f"
                fi
                LLVM_PROFILE_FILE="$build/profiles/$h-shared$i-%p.profraw" \
                    "$bin" "$@" >/dev/null 2>&1 || echo "$h (shared $i): $(basename "$f") fails"
            done
        fi
        echo "$h (shared $i): $(tail -n 1 "$build/profiles/$h-shared$i.log")"
    done
done
"$PROFDATA" merge -sparse "$build"/profiles/*.profraw -o "$build/merged.profdata"
# shellcheck disable=SC2086
first=$(echo $objects | awk '{print $2}')
rest=$(echo $objects | cut -d' ' -f3-)
sources=""
for d in parser engine; do
    [ -d "$src/$d" ] && sources="$sources $src/$d"
done
# shellcheck disable=SC2086
"$COV" report "$first" $rest -instr-profile="$build/merged.profdata" \
    -show-branch-summary $sources | tee "$out/summary.txt"
for d in parser engine; do
    [ -d "$src/$d" ] || continue
    # shellcheck disable=SC2086
    "$COV" report "$first" $rest -instr-profile="$build/merged.profdata" "$src/$d" \
        | tail -n 1 | awk -v d="$d" '{printf "%s/ TOTAL: regions %s, functions %s, lines %s, branches %s\n", d, $4, $7, $10, $13}' \
        | tee -a "$out/summary.txt"
done
# shellcheck disable=SC2086
"$COV" show "$first" $rest -instr-profile="$build/merged.profdata" -format=html \
    -show-branches=count -output-dir="$out/html" $sources
echo "coverage: HTML report in $out/html/index.html"
