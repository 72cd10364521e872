#!/usr/bin/python3
"""Checks of netprobed's / page for tests/integration/statuspage.sh.

  page_check.py validate FILE     the page as served: strict structure
                                  (every element closed in order, known
                                  void elements, one html/head/body, the
                                  charset first in head, unique ids, no
                                  bare '&'), and self-contained (no
                                  script, no event handler attribute, no
                                  src, no link or url() outside the
                                  gateway).  Prints each problem; exit 1
                                  if any.
  page_check.py query FILE EXPR   evaluate the Python expression EXPR
                                  over what the page (or a browser's DOM
                                  dump of it) shows: probes, alerts,
                                  watchers, flows, empty, site, title,
                                  rendered, rendered_at, summary, lang,
                                  charset, scripts, refresh; helpers
                                  one(LIST, key=value...) and
                                  age(RFC3339) (seconds to now).  A
                                  string prints as is, anything else
                                  as JSON.
  page_check.py png FILE          decode a screenshot (8-bit RGB/RGBA,
                                  not interlaced: what Chromium writes)
                                  and print JSON: width, height, colours
                                  (distinct, counted up to 100000) and
                                  the pixels of each status colour.

Standard library only (Debian's /usr/bin/python3): html.parser, zlib.
"""

import datetime
import html.parser
import json
import re
import struct
import sys
import zlib

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input",
        "link", "meta", "source", "track", "wbr"}

# The page's status colours (statuspage.c): row borders and cell fills.
COLOURS = {
    "ok_border": (0x2d, 0xa4, 0x4e), "bad_border": (0xcf, 0x22, 0x2e),
    "unknown_border": (0x8c, 0x95, 0x9f),
    "ok_fill": (0xda, 0xfb, 0xe1), "bad_fill": (0xff, 0xeb, 0xe9),
}


def norm(s):
    return " ".join(s.split())


class Page(html.parser.HTMLParser):
    """Collects the page's tables, flows and header, and its problems."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.stack = []         # (tag, attrs dict)
        self.ids = set()
        self.counts = {}
        self.doctype = None
        self.first_in_head = None
        self.tables = {}        # id -> [row]
        self.table = None
        self.row = None
        self.cell = None
        self.flows = []
        self.flow = None
        self.text = {}          # id -> text, for a few elements
        self.title = ""
        self.lang = None
        self.charset = None
        self.refresh = None
        self.seen_start = False
        self.rendered_at = None

    def problem(self, msg):
        line, col = self.getpos()
        self.problems.append("%d:%d: %s" % (line, col + 1, msg))

    # ---- structure -------------------------------------------------------

    def handle_decl(self, decl):
        if self.seen_start:
            self.problem("doctype after the first element")
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.seen_start = True
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if self.stack and self.stack[-1][0] == "head" and \
                self.first_in_head is None:
            self.first_in_head = (tag, a)
        if "id" in a:
            if a["id"] in self.ids:
                self.problem("duplicate id %r" % a["id"])
            self.ids.add(a["id"])
        for k, v in attrs:
            if k.startswith("on"):
                self.problem("event handler attribute %s" % k)
            if k == "src":
                self.problem("<%s src=%r>: an external resource" % (tag, v))
            if k == "href" and (v is None or not v.startswith("/")):
                self.problem("<%s href=%r>: not on this gateway" % (tag, v))
        if tag in ("script", "iframe", "object", "embed", "link", "img"):
            self.problem("<%s> element" % tag)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "meta" and "charset" in a:
            self.charset = a["charset"]
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.refresh = a.get("content")
        if tag == "time" and self.rendered_at is None and \
                any(x.get("id") == "rendered" for _, x in self.stack):
            self.rendered_at = a.get("datetime")
        if tag not in VOID:
            self.stack.append((tag, a))
        self.collect_start(tag, a)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.problem("<%s/>: not a void element" % tag)
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problem("</%s>: a void element has no end tag" % tag)
            return
        if not self.stack:
            self.problem("</%s> with nothing open" % tag)
            return
        if self.stack[-1][0] != tag:
            self.problem("</%s> closes <%s>" % (tag, self.stack[-1][0]))
            # recover: close up to the matching element, if any
            for i in range(len(self.stack) - 1, -1, -1):
                if self.stack[i][0] == tag:
                    while len(self.stack) > i:
                        self.collect_end(self.stack.pop()[0])
                    return
            return
        self.collect_end(tag)
        self.stack.pop()

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if data.strip() and not ({"head", "body"} & set(tags)):
            self.problem("text outside head and body: %r" % data[:40])
        if "title" in tags:
            self.title += data
        for t, a in self.stack:
            if "id" in a:
                self.text[a["id"]] = self.text.get(a["id"], "") + data
        if self.cell is not None:
            self.cell["text"] += data
            if any("lb" in (a.get("class") or "").split()
                   for t, a in self.stack[self.cell_depth:]):
                self.cell["sub"] += data
            else:
                self.cell["own"] += data
        if self.flow is not None:
            self.flow["text"] += data

    # ---- what the page shows ---------------------------------------------

    def collect_start(self, tag, a):
        if tag == "table" and "id" in a:
            self.table = self.tables.setdefault(a["id"], [])
        elif tag == "tr" and self.table is not None:
            self.row = {"class": a.get("class") or "", "cells": [],
                        "head": False}
        elif tag in ("td", "th") and self.row is not None:
            if tag == "th":
                self.row["head"] = True
            self.cell = {"class": a.get("class") or "", "text": "",
                         "own": "", "sub": ""}
            self.cell_depth = len(self.stack)
        elif tag == "li" and "flow" in (a.get("class") or "").split():
            self.flow = {"text": ""}

    def collect_end(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "tr" and self.row is not None:
            if not self.row["head"]:
                self.table.append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.cell is not None:
            for k in ("text", "own", "sub"):
                self.cell[k] = norm(self.cell[k])
            self.row["cells"].append(self.cell)
            self.cell = None
        elif tag == "li" and self.flow is not None:
            self.flows.append(norm(self.flow["text"]))
            self.flow = None

    def finish(self):
        self.close()
        if self.stack:
            self.problem("unclosed at the end: %s" %
                         " ".join(t for t, _ in self.stack))
        if not self.doctype or self.doctype.lower() != "doctype html":
            self.problem("no <!DOCTYPE html> (got %r)" % self.doctype)
        for t in ("html", "head", "body", "title"):
            if self.counts.get(t, 0) != 1:
                self.problem("%d <%s> elements" % (self.counts.get(t, 0), t))
        if self.first_in_head is None or self.first_in_head[0] != "meta" or \
                (self.first_in_head[1].get("charset") or "").lower() != "utf-8":
            self.problem("<meta charset=\"utf-8\"> is not first in head")


def load(path):
    raw = open(path, "rb").read()
    p = Page()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        p.problems.append("not UTF-8: %s" % e)
        text = raw.decode("utf-8", "replace")
    ref = r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)"
    for m in re.finditer(ref, text):
        p.problems.append("offset %d: a bare '&'" % m.start())
    if re.search(r"url\(|@import", text, re.I):
        p.problems.append("url() or @import in the page")
    p.feed(text)
    p.finish()
    return p


def view(p):
    """What an operator reads, table by table."""
    empty = {}

    def rows(tid, kind):
        out = []
        for r in p.tables.get(tid, []):
            cls = r["class"].split()
            if kind in cls:
                out.append(r)
            elif len(r["cells"]) == 1 and "none" in r["cells"][0]["class"]:
                empty[tid] = r["cells"][0]["text"]
        return out

    def status(classes):
        for c in ("ok", "bad", "unknown"):
            if c in classes.split():
                return c
        return ""

    probes = []
    for r in rows("probe-table", "probe"):
        c = r["cells"]
        probes.append({
            "probe": c[0]["text"], "type": c[1]["text"],
            "target": c[2]["text"], "result": c[3]["text"],
            "result_class": status(c[3]["class"]),
            "duration": c[4]["text"], "last_run": c[5]["text"],
            "isolation": c[6]["text"],
            "isolation_class": status(c[6]["class"]),
            "labels": c[7]["text"], "row_class": status(r["class"])})
    alerts = []
    for r in rows("alert-table", "alert"):
        c = r["cells"]
        alerts.append({
            "name": c[0]["own"], "labels": c[0]["sub"],
            "state": c[1]["text"], "state_class": status(c[1]["class"]),
            "severity": c[2]["text"], "summary": c[3]["own"],
            "summary_en": c[3]["sub"], "since": c[4]["text"],
            "row_class": status(r["class"])})
    watchers = []
    for r in rows("watcher-table", "watcher"):
        c = r["cells"]
        w = {"name": c[0]["text"], "interface": c[1]["text"],
             "capture": c[2]["own"], "capture_class": status(c[2]["class"]),
             "error": c[2]["sub"], "packets": int(c[3]["text"]),
             "row_class": status(r["class"])}
        heads = ["egress", "ingress", "foreign_mcu", "listen_only"]
        for k, cell in zip(heads, c[4:]):
            w[k] = int(cell["text"])
            w[k + "_class"] = status(cell["class"])
        watchers.append(w)
    return {
        "probes": probes, "alerts": alerts, "watchers": watchers,
        "flows": p.flows, "empty": empty,
        "site": norm(p.text.get("site", "")), "title": norm(p.title),
        "rendered": norm(p.text.get("rendered", "")),
        "rendered_at": p.rendered_at,
        "summary": norm(p.text.get("summary", "")),
        "lang": p.lang, "charset": p.charset, "refresh": p.refresh,
        "scripts": p.counts.get("script", 0),
    }


# ---- PNG --------------------------------------------------------------


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if ihdr is None:
        raise ValueError("no IHDR")
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG: depth %d, colour type %d, "
                         "interlace %d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ValueError("IDAT holds %d bytes, expected %d" %
                         (len(raw), h * (stride + 1)))
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif f == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 0xff
        elif f != 0:
            raise ValueError("row %d: unknown filter %d" % (y, f))
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def png_summary(path):
    w, h, bpp, rows = png_pixels(path)
    colours = {}
    for line in rows:
        for i in range(0, len(line), bpp):
            px = line[i:i + 3]
            if px in colours:
                colours[px] += 1
            elif len(colours) < 100000:
                colours[px] = 1
    out = {"width": w, "height": h, "colours": len(colours)}
    for name, rgb in COLOURS.items():
        out[name] = colours.get(bytes(rgb), 0)
    return out


def main(argv):
    if len(argv) >= 3 and argv[1] == "validate":
        p = load(argv[2])
        for msg in p.problems:
            print(msg)
        return 1 if p.problems else 0
    if len(argv) >= 4 and argv[1] == "query":
        v = view(load(argv[2]))
        # one namespace: comprehensions see globals only
        v.update({"one": one, "age": age})
        res = eval(argv[3], v)
        print(res if isinstance(res, str) else
              json.dumps(res, ensure_ascii=False, sort_keys=True))
        return 0
    if len(argv) >= 3 and argv[1] == "png":
        print(json.dumps(png_summary(argv[2]), sort_keys=True))
        return 0
    sys.stderr.write(__doc__)
    return 2


def age(rfc3339):
    """Seconds from an RFC 3339 UTC time ("...T08:00:00.123Z") to now."""
    t = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return (datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()


def one(items, **want):
    """The one item whose keys have these values (else an error)."""
    found = [i for i in items if all(i.get(k) == v for k, v in want.items())]
    if len(found) != 1:
        raise LookupError("%d items match %r" % (len(found), want))
    return found[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
