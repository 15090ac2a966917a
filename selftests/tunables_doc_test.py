#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The documentation of the tunables against their one table.

<linux/ionclock_tunables.h> is the source of every tunable's range (the
module's checks, its parameters and ionclockctl config are made from it;
"ionclockctl config --ranges" prints it).  The prose that says them in
words, ionclockctl(8)'s config keys and the uapi header's struct
ionclock_config, is checked against it here: the same keys in the same
order, each with the table's range.

  tunables_doc_test.py <ionclockctl> <ionclockctl.8> <linux/ionclock.h>

Prints TAP and ends with "docs: N passed, N failed".
"""
import re
import subprocess
import sys

results = []


def check(desc, ok, why=""):
    results.append(ok)
    n = len(results)
    print(f"ok {n} - {desc}" if ok else f"not ok {n} - {desc}")
    if not ok and why:
        print(f"# {why}")


def number(text, macros):
    text = text.strip()
    if text in macros:
        return macros[text]
    m = re.fullmatch(r"10\^(\d+)", text)
    if m:
        return 10 ** int(m.group(1))
    return int(text)


def range_in(text, sep, macros):
    """The first "lo <sep> hi" in text, or None."""
    word = r"(\d+(?:\^\d+)?|[A-Z_]+)"
    m = re.search(word + r"(?: \(none\))? " + sep + r" " + word, text)
    if not m:
        return None
    try:
        return number(m.group(1), macros), number(m.group(2), macros)
    except ValueError:
        return None


def section(src, begin, end):
    """src from the first begin to the next end after it."""
    start = src.index(begin)
    return src[start:src.index(end, start)]


def man_keys(path):
    """ionclockctl(8)'s config keys: [(name, text)] in their order."""
    body = section(open(path, encoding="utf-8").read(), ".BR config ",
                   "\n.RE")
    keys = []
    for entry in body.split("\n.TP\n")[1:]:
        lines = entry.split("\n")
        m = re.fullmatch(r"\.B (\w+)", lines[0])
        if not m:
            continue
        text = " ".join(l for l in lines[1:] if not l.startswith("."))
        keys.append((m.group(1), re.sub(r"\\[&|]", "", text)))
    return keys


def uapi_keys(path):
    """struct ionclock_config's kernel-doc members: [(name, text)]."""
    src = open(path, encoding="utf-8").read()
    doc = section(src, " * struct ionclock_config - ", "*/")
    keys = []
    for m in re.finditer(r"^ \* @(\w+): (.*?)(?=^ \* @|^ \*$)", doc,
                         re.M | re.S):
        text = " ".join(l.lstrip(" *\t") for l in m.group(2).split("\n"))
        keys.append((m.group(1), text))
    macros = {k: int(v, 0) for k, v in re.findall(
        r"^#define\s+(IONCLOCK_[A-Z_]+)\s+(0x[0-9a-fA-F]+|\d+)[uUlL]*\s*$",
        src, re.M)}
    return [k for k in keys if k[0] not in ("flags", "set", "reserved")], \
        macros


def main():
    ctl, man, uapi = sys.argv[1:4]
    out = subprocess.run([ctl, "config", "--ranges"], capture_output=True,
                         text=True, timeout=10)
    table = []
    for line in out.stdout.split("\n"):
        if line:
            name, lo, hi, _unit, _default = line.split()
            table.append((name, int(lo), int(hi)))
    names = [t[0] for t in table]
    man_list = man_keys(man)
    uapi_list, macros = uapi_keys(uapi)
    every = bin(macros.get("IONCLOCK_CONFIG_ALL", 0)).count("1")
    check("config --ranges prints one row per IONCLOCK_CONFIG_* bit",
          out.returncode == 0 and len(table) == every,
          f"exit {out.returncode}, {len(table)} rows, {every} bits: "
          f"{out.stderr.strip()}")
    for what, keys, sep in (("ionclockctl(8)", man_list, "to"),
                            ("<linux/ionclock.h>", uapi_list, r"\.\.")):
        got = [k[0] for k in keys]
        check(f"{what} has the table's keys in its order", got == names,
              f"{got} != {names}")
        text = dict(keys)
        for name, lo, hi in table:
            if lo == 0 and hi == 1:
                ok = "1:" in text.get(name, "") and "0:" in text.get(name, "")
                check(f"{what}: {name} says what 1 and 0 mean", ok,
                      text.get(name, "missing"))
                continue
            found = range_in(text.get(name, ""), sep, macros)
            check(f"{what}: {name} is {lo} .. {hi}", found == (lo, hi),
                  f"says {found}: {text.get(name, 'missing')}")

    failed = results.count(False)
    print(f"1..{len(results)}")
    print(f"docs: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
