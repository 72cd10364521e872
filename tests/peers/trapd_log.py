#!/usr/bin/python3
"""Read snmptrapd logs written with the test's format2 line

    TRAP <date> <time> from=<addr> sec=[<pdu>, <version>, <who>] <varbinds>

and print one JSON object per notification (a JSON list):
{"from": "UDP: [127.0.0.1]:...", "pdu": "INFORM", "version": "SNMP v2c",
 "who": "community public",
 "trap": ".1.3.6...", "vars": {".1.3.6...": value}}.  Hex-STRING values
(how snmptrapd shows octets outside ASCII, e.g. UTF-8 Chinese) are decoded
as UTF-8 when they are UTF-8, else kept as hex.  Records may span lines.

usage: trapd_log.py LOG...
"""
import json
import re
import sys

VAR = re.compile(r'(\.[0-9.]+) = (?:([A-Za-z0-9-]+): )?(.*)$', re.S)


def value(kind, text):
    text = text.strip()
    if kind == "Hex-STRING":
        raw = bytes.fromhex(text.replace("\n", " "))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.hex()
    if kind in ("Counter32", "INTEGER", "Gauge32", "Counter64"):
        return int(text.split()[0].rstrip(")").split("(")[-1])
    if kind == "STRING" or (kind is None and text.startswith('"')):
        if text.startswith('"') and text.endswith('"'):
            text = text[1:-1]
        return text.replace('\\"', '"').replace("\\\\", "\\")
    return text


def records(text):
    for chunk in re.split(r'(?m)^TRAP ', text):
        m = re.match(r'\S+ \S+ from=(.*?) sec=\[(.*?)\] (.*)', chunk, re.S)
        if not m:
            continue
        sec = [s.strip() for s in m.group(2).split(",")]
        rec = {"from": m.group(1), "pdu": sec[0],
               "version": sec[1] if len(sec) > 1 else "",
               "who": sec[2] if len(sec) > 2 else "", "vars": {}}
        for vb in m.group(3).rstrip("\n").split("| "):
            v = VAR.match(vb.strip())
            if not v:
                continue
            rec["vars"][v.group(1)] = value(v.group(2), v.group(3))
        rec["trap"] = rec["vars"].get(".1.3.6.1.6.3.1.1.4.1.0", "")
        yield rec


def main():
    out = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8", errors="replace") as f:
            out.extend(records(f.read()))
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
