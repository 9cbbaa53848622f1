#!/usr/bin/env bash
# Fails when a translation catalogue is out of date: a user-visible string in
# the sources that the .pot or a .po lacks, an untranslated or fuzzy entry, a
# stale one, or a format string that does not match.  Then checks that the
# compiled catalogues translate at run time.
#   usage: check_po.sh "XGETTEXT COMMAND" BUILD_DIR
set -uo pipefail
XGETTEXT=$1
BUILD=$2
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
bad() { echo "  FAIL $*"; fails=$((fails + 1)); }

# the plug-ins and the table of settings, whose labels and help they show
$XGETTEXT -o "$T/new.pot" $(ls plugin/*.c | sort) engine/settings.c
ids() { msgcat --no-wrap --sort-output "$1" | grep -E '^msgid ' ; }
if ! diff <(ids "$T/new.pot") <(ids po/gimp-neural-style.pot) >"$T/diff"; then
    bad "po/gimp-neural-style.pot is out of date with the sources (run make update-po):"
    head -10 "$T/diff" | sed 's/^/      /'
fi
for po in po/*.po; do
    lang=$(basename "$po" .po)
    msgmerge --quiet --no-fuzzy-matching "$po" "$T/new.pot" -o "$T/$lang.po"
    n_untr=$(msgattrib --untranslated --no-obsolete "$T/$lang.po" | grep -c '^msgid ' || true)
    n_fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$T/$lang.po" | grep -c '^msgid ' || true)
    n_stale=$(msgattrib --only-obsolete "$T/$lang.po" | grep -c '^#~ msgid ' || true)
    # the header counts as one untranslated-looking entry in msgattrib's output
    [ "$n_untr" -le 1 ] || bad "$lang: $((n_untr - 1)) string(s) not translated"
    [ "$n_fuzzy" -eq 0 ] || bad "$lang: $n_fuzzy fuzzy string(s)"
    [ "$n_stale" -eq 0 ] || bad "$lang: $n_stale string(s) no longer in the sources"
    msgfmt --check --check-accelerators=_ -o /dev/null "$po" 2>"$T/err" || { bad "$lang: msgfmt --check"; cat "$T/err"; }
    echo "  $lang: $(msgfmt --statistics -o /dev/null "$po" 2>&1)"
done
# the compiled catalogues answer at run time
check_rt() { # lang expected
    got=$(LANGUAGE=$1 LC_ALL=C.UTF-8 TEXTDOMAINDIR="$BUILD/locale" gettext -d gimp-neural-style "Neural Style")
    [ "$got" = "$2" ] || bad "$1: the compiled catalogue answers '$got', not '$2'"
}
check_rt ja "ニューラルスタイル"
check_rt zh_CN "神经风格"
if [ $fails -ne 0 ]; then echo "translation checks: $fails FAILED"; exit 1; fi
echo "translation checks passed"
