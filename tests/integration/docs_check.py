#!/usr/bin/env python3
"""Checks docs/*.md against the built gsmap-mpi.

Usage: docs_check.py options EXE DOCS_DIR
       docs_check.py demo-commands EXE DOCS_DIR DEMO_SH

options:        every --option named by `gsmap-mpi --help` and `gsmap-mpi <sub> --help` appears in
                docs/*.md; fails listing the missing ones.
demo-commands:  every `gsmap-mpi <sub> ...` command line in a fenced code block of docs/*.md that
                uses demo/ paths uses only options that `gsmap-mpi <sub> --help` knows, and the
                quick-mode command of scripts/demo.sh appears among them with the same options and
                values.
"""
import glob
import os
import re
import shlex
import subprocess
import sys

SUBCOMMANDS = ["quick-mode", "latent-to-gene", "spatial-ldsc", "cauchy-combination", "report", "simulate",
               "merge"]
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def help_text(exe, *args):
    r = subprocess.run([exe, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        sys.exit(f"FAIL: `{exe} {' '.join(args)} --help` exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def options_of(text):
    return set(OPTION.findall(text))


def read_docs(docs_dir):
    files = sorted(glob.glob(os.path.join(docs_dir, "*.md")))
    if not files:
        sys.exit(f"FAIL: no docs/*.md in {docs_dir}")
    return {f: open(f, encoding="utf-8").read() for f in files}


def check_options(exe, docs_dir):
    wanted = {}
    for args in [()] + [(s,) for s in SUBCOMMANDS]:
        for opt in options_of(help_text(exe, *args)):
            wanted.setdefault(opt, " ".join(args) or "(top level)")
    documented = set()
    for text in read_docs(docs_dir).values():
        documented |= options_of(text)
    missing = sorted(o for o in wanted if o not in documented)
    if missing:
        print("FAIL: options in --help that no docs/*.md mentions:")
        for o in missing:
            print(f"  {o}   (from gsmap-mpi {wanted[o]} --help)")
        return 1
    print(f"ok: all {len(wanted)} options of --help are documented in {docs_dir}")
    return 0


def logical_lines(block):
    """Joins backslash continuations."""
    out, cur = [], ""
    for line in block.splitlines():
        s = line.rstrip()
        if s.endswith("\\"):
            cur += s[:-1] + " "
        else:
            out.append(cur + s)
            cur = ""
    if cur:
        out.append(cur)
    return out


def parse_command(line):
    """(subcommand, [(option, [values])]) of a `gsmap-mpi <sub> ...` line, else None."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    idx = [i for i, w in enumerate(words) if os.path.basename(w) == "gsmap-mpi"]
    if not idx or idx[0] + 1 >= len(words):
        return None
    rest = words[idx[0] + 1:]
    sub, args = rest[0], rest[1:]
    opts = []
    for w in args:
        if w.startswith("--"):
            opts.append((w, []))
        elif opts:
            opts[-1][1].append(w)
        else:
            opts.append(("(positional)", [w]))
    return sub, opts


def check_demo_commands(exe, docs_dir, demo_sh):
    known = {s: options_of(help_text(exe, s)) for s in SUBCOMMANDS}
    failures, commands = [], []
    for path, text in read_docs(docs_dir).items():
        for block in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S):
            for line in logical_lines(block):
                if "gsmap-mpi" not in line or "demo/" not in line:
                    continue
                parsed = parse_command(line)
                if not parsed:
                    continue
                sub, opts = parsed
                where = f"{os.path.basename(path)}: {line.strip()[:100]}"
                if sub not in known:
                    failures.append(f"{where}\n    unknown subcommand {sub!r}")
                    continue
                bad = [o for o, _ in opts if o not in known[sub]]
                if bad:
                    failures.append(f"{where}\n    options unknown to `gsmap-mpi {sub} --help`: {bad}")
                commands.append((sub, opts, where))
    # The demo command of scripts/demo.sh must be documented verbatim (same options and values).
    demo = None
    for line in logical_lines(open(demo_sh, encoding="utf-8").read()):
        if "quick-mode" in line and "$exe" in line:
            demo = parse_command(line.replace("$exe", "gsmap-mpi"))
    if demo is None:
        failures.append(f"{demo_sh}: no `$exe quick-mode` command found")
    else:
        want = sorted((o, tuple(v)) for o, v in demo[1])
        if not any(s == "quick-mode" and sorted((o, tuple(v)) for o, v in opts) == want
                   for s, opts, _ in commands):
            failures.append("no docs/*.md code block has the quick-mode command of scripts/demo.sh:\n    "
                            + " ".join(f"{o} {' '.join(v)}" for o, v in demo[1]))
    if not commands:
        failures.append("no gsmap-mpi command with demo/ paths found in docs/*.md")
    if failures:
        print("FAIL:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"ok: {len(commands)} documented demo commands use only known options; "
          "the scripts/demo.sh quick-mode command is documented")
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "options":
        return check_options(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 5 and sys.argv[1] == "demo-commands":
        return check_demo_commands(sys.argv[2], sys.argv[3], sys.argv[4])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
