#!/usr/bin/python3
"""The one definition of "identical outputs" for every test that compares two runs (rank
invariance, resume after a kill, concurrent runs): docs/usage.md "Fingerprints, skipping and
--force".

Two project directories hold identical outputs when they contain the same output files and
  * every HDF5 file (h5ad) has the same objects, every data set the same values (NaN == NaN) and
    every attribute the same value, except the provenance attributes at the root (gsmap_* other
    than gsmap_complete);
  * every csv.gz / .gz file has the same decompressed content; the report (.html) the same bytes
    outside its run-specific parts (the "generated" line and the provenance section); every other
    file the same bytes.
Provenance is excluded: sidecars <file>.provenance.yaml, metadata.yaml, the lock directory
.locks/ and logs (*.log).

  outputs_same.py PROJECT_DIR_A PROJECT_DIR_B     # exit 0 = identical; prints what differs
"""
import gzip, os, re, sys

import h5py
import numpy as np

PROVENANCE_FILES = ("metadata.yaml",)
PROVENANCE_SUFFIXES = (".provenance.yaml", ".log")
PROVENANCE_DIRS = (".locks",)


def html_content(path):
    """The report page without its run-specific parts (src/report/html.cpp)."""
    text = open(path, "rb").read().decode()
    text = re.sub(r'<p class="generated">.*?</p>', "", text, flags=re.S)
    return re.sub(r'<section id="provenance">.*?</section>', "", text, flags=re.S)


def is_provenance_attr(obj_name, attr):
    return obj_name == "/" and attr.startswith("gsmap_") and attr != "gsmap_complete"


def output_files(root):
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in PROVENANCE_DIRS]
        for n in names:
            if n in PROVENANCE_FILES or n.endswith(PROVENANCE_SUFFIXES):
                continue
            out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def _equal(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    return a == b


def hdf5_content(path):
    """{name: ('dataset', value) | ('group', None)} and {(name, attr): value}."""
    objects, attrs = {}, {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            objects[name] = ("dataset", obj[()]) if isinstance(obj, h5py.Dataset) else ("group", None)
            for k, v in obj.attrs.items():
                attrs[(name, k)] = v
        for k, v in f.attrs.items():
            if not is_provenance_attr("/", k):
                attrs[("/", k)] = v
        f.visititems(visit)
    return objects, attrs


def compare(a, b, report):
    """Calls report(ok, what) per file; returns the number of differences."""
    bad = 0
    fa, fb = output_files(a), output_files(b)
    extra = sorted(set(fb) - set(fa))
    ok = len(fa) > 0
    report(ok, f"{len(fa)} output files in {a}")
    bad += not ok
    for rel in extra:
        report(False, f"{rel} only in {b}")
        bad += 1
    for rel in fa:
        pa, pb = os.path.join(a, rel), os.path.join(b, rel)
        if not os.path.exists(pb):
            report(False, f"{rel} missing in {b}")
            bad += 1
            continue
        if rel.endswith((".h5ad", ".h5")):
            oa, ata = hdf5_content(pa)
            ob, atb = hdf5_content(pb)
            diff = [k for k in sorted(set(oa) | set(ob))
                    if k not in oa or k not in ob or oa[k][0] != ob[k][0] or not _equal(oa[k][1], ob[k][1])]
            diff += [f"{k[0]}@{k[1]}" for k in sorted(set(ata) | set(atb), key=str)
                     if k not in ata or k not in atb or not _equal(ata[k], atb[k])]
            ok = not diff
            report(ok, f"{rel}: HDF5 data sets and attributes identical" +
                   ("" if ok else f" (differ: {', '.join(map(str, diff[:5]))})"))
        elif rel.endswith(".gz"):
            ok = gzip.open(pa).read() == gzip.open(pb).read()
            report(ok, f"{rel}: identical after decompression")
        elif rel.endswith(".html"):
            ok = html_content(pa) == html_content(pb)
            report(ok, f"{rel}: identical outside the generated line and the provenance section")
        else:
            ok = open(pa, "rb").read() == open(pb, "rb").read()
            report(ok, f"{rel}: identical")
        bad += not ok
    return bad


def main():
    def report(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
    bad = compare(sys.argv[1], sys.argv[2], report)
    print(f"{bad} failure(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
