#!/usr/bin/env bash
# The HTML report, opened in a real headless browser (Debian's chromium):
# the DOM the browser built must hold the summary and one matrix row per
# case, each with its verdict.
#   html_check.sh QMP_CONFORM QMP_REFD CASES_DIR
set -u
conform=$1 refd=$2 cases=$3
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "SKIP: chromium not installed"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$conform" server --exec "$refd --socket {socket} --socket {socket1} --socket {socket2}" \
    --name qmp-refd --suite "$cases" --cases '1.*' --chunkings whole \
    --html "$work/report.html" > "$work/run.log" 2>&1
ran=$(grep -o '[0-9]* cases in' "$work/run.log" | grep -o '^[0-9]*')
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --dump-dom "file://$work/report.html" \
    > "$work/dom.html" 2> "$work/browser.log"
rows=$(grep -o 'class="v \(PASS\|FAIL\|NON-STRICT\|INFO\|UNSUPPORTED\)"' "$work/dom.html" | wc -l)
pass=0 fail=0
check() {  # NAME CONDITION...
    local name=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name"; fi
}
check "the run produced a report" test -s "$work/report.html"
check "the browser rendered it" test -s "$work/dom.html"
check "the summary table is there" grep -q '<table id="summary">' "$work/dom.html"
check "the matrix table is there" grep -q '<table id="matrix">' "$work/dom.html"
check "one verdict cell per case (${rows} cells, ${ran:-?} cases)" test "${ran:-0}" -gt 0 -a "$rows" -eq "${ran:-0}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
