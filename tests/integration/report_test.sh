#!/usr/bin/env bash
# The results report (docs/usage.md "report") on the README demo's outputs (integration.demo):
#   1. the step's resume conventions: up to date -> skipped; a changed upstream file -> redrawn;
#      --force -> redrawn;
#   2. in a real browser (headless Chromium, from the file system, no server): the page's text
#      (traits, QC numbers equal to those computed from the csv.gz, the planted cell type first in
#      the Cauchy chart, provenance), and in the screenshot the spots of the planted cell type are
#      the hottest of the map (colours read back through the page's own colour bar).
# Exit 77 (skipped) only when Chromium is not installed.
# Usage: report_test.sh EXE DEMO_SCRATCH   (DEMO_SCRATCH: the directory integration.demo filled)
set -euo pipefail
exe=$1 demo=$2
[[ -f "$demo/work/demo/report/index.html" ]] || {
  echo "FAIL: $demo/work/demo/report/index.html missing: quick-mode did not write the report"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gsmap-report-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/work"
cp -r "$demo/work/demo" "$tmp/work/demo"
rm -rf "$tmp/work/demo/.locks"
run_report() { "$exe" report --workdir "$tmp/work" --project-name demo "$@" 2>&1; }
expect() {  # expect PATTERN TEXT
  grep -q -- "$1" <<<"$2" || { echo "FAIL: expected '$1' in:"; echo "$2"; exit 1; }
}

# -- 1. skip, redraw on a changed upstream, --force --
out=$(run_report)
expect "skipping report: complete and up to date" "$out"
echo "# comment" >> "$tmp/work/demo/spatial_ldsc/metadata.yaml"
out=$(run_report)
expect "recomputing report: metadata spatial ldsc changed" "$out"
expect "report: wrote $tmp/work/demo/report/index.html" "$out"
out=$(run_report --force)
expect "recomputing report: --force" "$out"
out=$(run_report --trait-name planted_T1 --annotation annotation)
expect "recomputing report: --traits changed, --annotations changed" "$out"
out=$(run_report)
expect "recomputing report: --traits changed, --annotations changed" "$out"
echo "ok: skipped when up to date, redrawn after a change and with --force"

# -- 2. the browser --
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "SKIP: Chromium is not installed (Debian package chromium; scripts/install-deps.sh installs it)"
  exit 77
fi
page="file://$tmp/work/demo/report/index.html"
chrome=(timeout 90 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars
        --force-color-profile=srgb --force-device-scale-factor=1)
"${chrome[@]}" --user-data-dir="$tmp/chrome-dom" --dump-dom "$page" > "$tmp/dom.html" 2> "$tmp/chrome.log" || {
  cat "$tmp/chrome.log"; echo "FAIL: chromium --dump-dom"; exit 1; }
# Tall enough for the second trait's map (traits are in name order: null_trait, planted_T1).
# (Headless Chromium paints nothing when told to scroll to a #fragment first.)
"${chrome[@]}" --user-data-dir="$tmp/chrome-shot" --window-size=1100,2800 --screenshot="$tmp/shot.png" \
  "$page" >> "$tmp/chrome.log" 2>&1 || {
  cat "$tmp/chrome.log"; echo "FAIL: chromium --screenshot"; exit 1; }
# REPORT_TEST_KEEP=DIR keeps the page's DOM and the screenshot of a failed check there.
if ! /usr/bin/python3 - "$tmp/dom.html" "$tmp/shot.png" "$demo/data" "$tmp/work/demo" <<'PY'
import base64, gzip, io, json, re, sys
import anndata
import numpy as np
import pandas as pd
import yaml
from PIL import Image

dom_path, shot_path, data_dir, project = sys.argv[1:5]
dom = open(dom_path, encoding="utf-8").read()
truth = json.load(open(f"{data_dir}/manifest.json"))["truth"]["planted_type"]
trait = f"planted_{truth}"

# -- the page's text, as the browser parsed it --
for text in ["gsmap-mpi report: demo", f"Trait {trait}", "Trait null_trait", "λGC", "mean χ2",
             "Spatial map of −log10 p", "Cauchy combination by annotation",
             "Cauchy combination by domain", "Provenance", "spatial_ldsc/metadata.yaml",
             "cauchy_combination/metadata.yaml", "fingerprint"]:
    plain = re.sub(r"<[^>]+>", "", dom)
    assert text in plain, f"'{text}' is not in the page's text"
section = re.search(r'<section class="trait" id="trait-%s">(.*?)</section>' % trait, dom, re.S).group(1)
cell = lambda name: re.search(r'<td class="%s">([^<]*)</td>' % name, section).group(1)
# QC: from the spatial LDSC record, and the significance counts from the csv.gz.
summary = yaml.safe_load(open(f"{project}/spatial_ldsc/demo_{trait}.csv.gz.provenance.yaml"))["summary"]
assert int(cell("snps")) == int(summary["n_snps_used"]) > 1000, cell("snps")
assert abs(float(cell("lambda")) - float(summary["lambda_gc"])) < 1e-4, cell("lambda")
assert abs(float(cell("chisq")) - float(summary["mean_chisq"])) < 1e-4, cell("chisq")
p = pd.read_csv(f"{project}/spatial_ldsc/demo_{trait}.csv.gz")["p"].dropna().to_numpy()
n = len(p)
bonferroni = int((p < 0.05 / n).sum())
ranked = np.sort(p)
passing = np.nonzero(ranked <= np.arange(1, n + 1) * 0.05 / n)[0]
fdr = int(passing[-1] + 1) if len(passing) else 0
assert (int(cell("spots")), int(cell("bonferroni")), int(cell("fdr"))) == (n, bonferroni, fdr), \
    (cell("spots"), cell("bonferroni"), cell("fdr"), n, bonferroni, fdr)
assert bonferroni > 0
# The Cauchy chart of the annotation: the planted type first and alone beyond the line.
table = re.search(r'<table class="cauchy" data-trait="%s" data-annotation="annotation">(.*?)</table>'
                  % trait, section, re.S).group(1)
labels = re.findall(r'<td class="label">([^<]*)</td>', table)
assert labels[0] == truth, labels
print(f"page: {trait}: {cell('snps')} SNPs, lambda GC {cell('lambda')}, {bonferroni} Bonferroni / "
      f"{fdr} FDR spots of {n}; Cauchy order {labels}")

# -- the screenshot: find the map as drawn, then the colours under each spot --
tag = re.search(r'<img class="map"[^>]*data-trait="%s"[^>]*>' % trait, dom).group(0)
attr = dict(re.findall(r'([a-z0-9-]+)="([^"]*)"', tag))
drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(attr["src"].split(",", 1)[1]))).convert("RGB")).astype(int)
shot = np.asarray(Image.open(shot_path).convert("RGB")).astype(int)
H, W = drawn.shape[:2]
at = None
ys, xs = np.nonzero(np.abs(shot - drawn[0, 0]).sum(axis=2) <= 6)
for y, x in zip(ys, xs):
    if y + H > shot.shape[0] or x + W > shot.shape[1]:
        continue
    if np.abs(shot[y, x:x + W] - drawn[0]).max() > 3 or np.abs(shot[y:y + H, x] - drawn[:, 0]).max() > 3:
        continue
    if np.abs(shot[y:y + H, x:x + W] - drawn).max() <= 3:
        at = (x, y)
        break
assert at, "the map image is not in the screenshot as the report drew it"
bar_tag = re.search(r'<img alt="colour scale"[^>]*>', dom).group(0)
bar = np.asarray(Image.open(io.BytesIO(base64.b64decode(
    re.search(r'src="data:image/png;base64,([^"]*)"', bar_tag).group(1)))).convert("RGB")).astype(int)
scale = bar[bar.shape[0] // 2]  # the colour bar, left (0) to right (max)

ad = anndata.read_h5ad(f"{project}/latent_to_gene/marker_scores.h5ad")
xy = np.asarray(ad.obsm["spatial"], dtype=float)
label = ad.obs["annotation"].astype(str).to_numpy()
f = {k: float(attr["data-" + k]) for k in ("xmin", "ymax", "scale", "x0", "y0")}
px = np.floor(at[0] + f["x0"] + f["scale"] * (xy[:, 0] - f["xmin"])).astype(int)
py = np.floor(at[1] + f["y0"] + f["scale"] * (f["ymax"] - xy[:, 1])).astype(int)
colours = shot[py, px]
dist = ((colours[:, None, :] - scale[None, :, :]) ** 2).sum(axis=2)
heat = dist.argmin(axis=1) / (len(scale) - 1)
assert np.median(dist.min(axis=1)) <= 12, "spot pixels are not colour-bar colours"
means = {t: heat[label == t].mean() for t in sorted(set(label)) if (label == t).sum() >= 20}
order = sorted(means, key=means.get, reverse=True)
print("screenshot: mean heat per cell type: " + ", ".join(f"{t} {means[t]:.3f}" for t in order))
assert order[0] == truth, f"the hottest region is {order[0]}, not the planted type {truth}"
assert means[truth] > 2 * means[order[1]], "the planted type is not clearly the hottest"
print(f"ok: page text and QC; map found at {at} in the screenshot; {truth} is the hottest")
PY
then
  [[ -n "${REPORT_TEST_KEEP:-}" ]] && cp "$tmp/dom.html" "$tmp/shot.png" "$REPORT_TEST_KEEP/"
  exit 1
fi
