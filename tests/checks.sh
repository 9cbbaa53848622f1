# checks.sh - what the shell test scripts share: a line per check, the
# count of failures, and the small fixtures (weights, PNGs) in a folder.
#   . tests/checks.sh; check "what it is" COMMAND...; ...; checks_done NAME
#   (a condition of several commands: COND && COND; check_last "what it is")
fails=0
pass() { echo "  ok   $1"; }
fail() { echo "  FAIL $1"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# after a compound condition (`test ... && grep ...`): whether it held
check_last() { local rc=$?; if [ $rc -eq 0 ]; then pass "$1"; else fail "$1"; fi; }
# fixtures DIR: small.safetensors, rgb8.png, rgb16.png, rgba8.png, style.png...
fixtures() { "${PY:-/usr/bin/python3}" "$(dirname "${BASH_SOURCE[0]}")/make_fixtures.py" "$1" || { echo "cannot write fixtures"; exit 1; }; }
# the closing line, and the exit status
checks_done() {
    if [ $fails -ne 0 ]; then echo "$1: $fails FAILED"; exit 1; fi
    echo "$1 passed"
}
