#!/usr/bin/python3
"""Applies translations kept in a Python file to the .po catalogues (and
drops entries the sources no longer have).  A translator's helper:
    po/translate.py TABLE.py    (after make update-po)
TABLE.py defines T = {msgid: (ja, zh_CN)} and P = {msgid: ([ja...], [zh_CN...])}."""
import sys

import polib

table = {}
exec(open(sys.argv[1]).read(), table)
for i, lang in enumerate(("ja", "zh_CN")):
    po = polib.pofile("po/%s.po" % lang, wrapwidth=79)
    for e in po:
        if e.msgid in table["T"]:
            e.msgstr = table["T"][e.msgid][i]
        elif e.msgid in table.get("P", {}):
            for k, s in enumerate(table["P"][e.msgid][i]):
                e.msgstr_plural[k] = s
        else:
            continue
        if "fuzzy" in e.flags:
            e.flags.remove("fuzzy")
        e.previous_msgid = e.previous_msgid_plural = None
    for e in [e for e in po if e.obsolete]:
        po.remove(e)
    po.save()
