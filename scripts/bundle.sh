#!/usr/bin/env bash
# Packs a built gsmap-mpi into one relocatable folder for machines that have a CUDA driver but none
# of Debian's libraries (docs/gpu.md "The relocatable bundle"):
#
#   scripts/bundle.sh [BUILD_DIR] [OUT_DIR]      # defaults: build, BUILD_DIR/gsmap-bundle
#
# OUT_DIR holds bin/gsmap-mpi and bin/mpirun (wrappers that set up the bundle's Open MPI, then run
# the real programs in libexec/; likewise bin/test_transport and bin/gpu_selftest when built), lib/ (every shared library the program, Open MPI's launcher and
# its components need, RPATH $ORIGIN-relative), lib/openmpi and lib/pmix (Open MPI's and PMIx's
# components), share/ (their help texts), etc/ (the transport settings, etc/openmpi-mca-params.conf)
# and MANIFEST.txt (every packed file with its Debian package). Not packed: glibc, libstdc++ and
# libgcc_s (any recent Linux has them), the CUDA driver, the CUDA runtime (linked statically) and
# NCCL (opened at run time when present: docs/gpu.md "NCCL"). The folder can be copied anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-$build/gsmap-bundle}
max_mib=${GSMAP_BUNDLE_MAX_MIB:-60}

die() { echo "bundle.sh: $*" >&2; exit 1; }
exe=$build/bin/gsmap-mpi
[[ -x $exe ]] || die "$exe not found: build first (cmake --build $build --target gsmap-mpi)"
command -v patchelf >/dev/null || die "patchelf not found: run scripts/install-deps.sh"
mpirun_real=$(readlink -f "$(command -v mpirun)") || die "mpirun not found (openmpi-bin)"
orted_real=$(readlink -f "$(command -v orted)") || die "orted not found (openmpi-bin)"
# Debian's Open MPI 4.1 (configured with --prefix=/usr) and its external PMIx: ask them where their
# components live instead of assuming.
ompi_pkglibdir=$(ompi_info --path pkglibdir --parsable | sed -n 's/^path:pkglibdir://p')
ompi_pkgdatadir=$(ompi_info --path pkgdatadir --parsable | sed -n 's/^path:pkgdatadir://p')
[[ -d $ompi_pkglibdir ]] || die "Open MPI component folder '$ompi_pkglibdir' not found"
pmix_lib=$(ldd "$ompi_pkglibdir/mca_pmix_ext3x.so" | awk '$1 == "libpmix.so.2" {print $3}')
pmix_root=$(dirname "$(dirname "$(readlink -f "$pmix_lib")")")   # .../pmix2
[[ -d $pmix_root/lib/pmix ]] || die "PMIx component folder not found next to $pmix_lib"

version=$("$exe" --version)
if ! grep -q '^CUDA backend: on' <<<"$version"; then
  echo "bundle.sh: warning: $exe was built without the CUDA backend: the bundle runs on the CPU only" >&2
fi

# Libraries a CUDA machine provides itself: glibc, the C++ runtime, the driver; NCCL is opened at
# run time. Everything else that ldd resolves is packed.
system_re='^(linux-vdso\.so|ld-linux-x86-64\.so|libc\.so|libm\.so|libmvec\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so|libutil\.so|libanl\.so|libnss_|libBrokenLocale\.so|libstdc\+\+\.so|libgcc_s\.so|libcuda\.so|libnvidia-|libcudart\.so|libnccl\.so)'
# Open MPI components left out: OpenSHMEM (not used) and the network stacks for InfiniBand,
# Omni-Path, libfabric and UCX, whose libraries a single GPU machine lacks; Open MPI falls back to
# its own components (ob1 + vader/tcp, reachable_weighted).
foreign_re='^(liboshmem|libucp|libucs|libuct|libucm|libfabric|librdmacm|libibverbs|libefa|libpsm|libinfinipath|libnl-)'

if [[ -e $out ]]; then
  [[ -f $out/MANIFEST.txt || -z $(ls -A "$out") ]] ||
    die "$out exists and is not a bundle (no MANIFEST.txt): choose another OUT_DIR"
  rm -rf "$out"
fi
mkdir -p "$out"/{bin,libexec,lib/openmpi,lib/pmix,lib/hwloc,share/openmpi,share/pmix,etc}

deps_of() {  # the resolved shared libraries of ELF files, as "soname path" lines
  ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
}
elves=()
install_elf() {  # SRC DEST
  cp -L "$1" "$2"
  chmod u+w "$2"
  elves+=("$2")
}

install_elf "$exe" "$out/libexec/gsmap-mpi"
install_elf "$mpirun_real" "$out/libexec/mpirun"
install_elf "$orted_real" "$out/bin/orted"
[[ -x $build/bin/gpu_selftest ]] && install_elf "$build/bin/gpu_selftest" "$out/bin/gpu_selftest"
# The device transport's test (NCCL self send/receive on one GPU), for bin/gpu-check.sh.
tools=(gsmap-mpi mpirun)
if [[ -x $build/bin/test_transport ]]; then
  install_elf "$build/bin/test_transport" "$out/libexec/test_transport"
  tools+=(test_transport)
fi

# cairo is opened at run time by the report's images (src/report/raster.cpp), not linked: packed
# with its closure like a dependency.
cairo_lib=$(ldconfig -p | awk '$1 == "libcairo.so.2" && /x86-64/ {print $NF; exit}')
[[ -n $cairo_lib ]] || die "libcairo.so.2 not found (ldconfig -p): run scripts/install-deps.sh"
install_elf "$cairo_lib" "$out/lib/libcairo.so.2"

skipped=()
for c in "$ompi_pkglibdir"/*.so "$pmix_root"/lib/pmix/*.so; do
  name=$(basename "$c")
  case $name in mca_atomic_* | mca_memheap_* | mca_scoll_* | mca_spml_* | mca_sshmem_*)
    skipped+=("$name (OpenSHMEM)"); continue ;;
  esac
  foreign=$(deps_of "$c" | awk '{print $1}' | grep -E "$foreign_re" | tr '\n' ' ' || true)
  if [[ -n $foreign ]]; then
    skipped+=("$name (needs ${foreign% })")
    continue
  fi
  case $name in pmix_mca_*) install_elf "$c" "$out/lib/pmix/$name" ;;
                *) install_elf "$c" "$out/lib/openmpi/$name" ;;
  esac
done

# The closure: ldd lists every library an ELF needs, transitively.
declare -A packed=([libcairo.so.2]=$cairo_lib)
while read -r soname path; do
  [[ $soname =~ $system_re || -n ${packed[$soname]:-} ]] && continue
  [[ $soname =~ $foreign_re ]] && die "$soname ($path) is needed by a packed file but excluded"
  packed[$soname]=$path
  install_elf "$path" "$out/lib/$soname"
done < <(deps_of "${elves[@]}" | sort -u)
[[ -n ${packed[libmpi.so.40]:-} ]] || die "libmpi.so.40 not among the dependencies of $exe"

for f in "${elves[@]}"; do
  case $f in
    "$out"/lib/openmpi/* | "$out"/lib/pmix/*) rpath='$ORIGIN/..' ;;
    "$out"/lib/*) rpath='$ORIGIN' ;;
    *) rpath='$ORIGIN/../lib' ;;
  esac
  [[ $f == */gpu_selftest ]] && rpath=''   # static apart from glibc and the driver
  strip --strip-unneeded "$f" 2>/dev/null || true
  # DT_RPATH (not RUNPATH): applies to indirect dependencies too and wins over LD_LIBRARY_PATH.
  if [[ -n $rpath ]]; then patchelf --force-rpath --set-rpath "$rpath" "$f"; fi
done

cp "$ompi_pkgdatadir"/help-*.txt "$ompi_pkgdatadir"/amca-param-sets -r "$out/share/openmpi/" 2>/dev/null ||
  cp "$ompi_pkgdatadir"/help-*.txt "$out/share/openmpi/"
cp "$pmix_root"/share/pmix/help-*.txt "$out/share/pmix/"

# Transports (docs/gpu.md "Transports"): ob1 with shared memory between the ranks of one machine
# (vader, copy-in/copy-out: the single-copy mechanisms CMA and KNEM need system calls a sandbox
# such as gVisor may refuse) and TCP between machines; no process binding (a sandbox may refuse it,
# and the pipeline's worker threads need more than one core per rank). OMPI_MCA_* variables and
# mpirun --mca override these.
cat >"$out/etc/openmpi-mca-params.conf" <<'EOF'
# gsmap-mpi bundle: transports that also work in a GPU sandbox (docs/gpu.md "Transports").
pml = ob1
btl = self,vader,tcp
btl_vader_single_copy_mechanism = none
hwloc_base_binding_policy = none
EOF

cat >"$out/etc/gsmap-env.sh" <<'EOF'
# Sourced by bin/mpirun and bin/gsmap-mpi with B set to the bundle's folder: relocates Open MPI
# (OPAL_*) and PMIx (PMIX_*) into the bundle and puts its bin/ first on PATH.
export OPAL_PREFIX="$B" OPAL_EXEC_PREFIX="$B" OPAL_BINDIR="$B/bin" OPAL_SBINDIR="$B/bin"
export OPAL_LIBEXECDIR="$B/libexec" OPAL_LIBDIR="$B/lib" OPAL_PKGLIBDIR="$B/lib/openmpi"
export OPAL_DATAROOTDIR="$B/share" OPAL_DATADIR="$B/share" OPAL_PKGDATADIR="$B/share/openmpi"
export OPAL_SYSCONFDIR="$B/etc"
export PMIX_PREFIX="$B" PMIX_EXEC_PREFIX="$B" PMIX_LIBDIR="$B/lib" PMIX_PKGLIBDIR="$B/lib/pmix"
export PMIX_PKGDATADIR="$B/share/pmix"
export HWLOC_PLUGINS_PATH="$B/lib/hwloc"
case ":$PATH:" in *":$B/bin:"*) ;; *) export PATH="$B/bin:$PATH" ;; esac
# NCCL is not packed (docs/gpu.md "NCCL"): look for the libnccl.so.2 of a Python environment's
# nvidia-nccl wheel once, unless GSMAP_NCCL_LIBRARY names one (or "none").
if [ -z "${GSMAP_NCCL_LIBRARY:-}" ] && command -v python3 >/dev/null 2>&1; then
  GSMAP_NCCL_LIBRARY=$(python3 -c 'import glob, os, nvidia
for d in nvidia.__path__:
    for p in sorted(glob.glob(os.path.join(d, "**", "libnccl.so.2"), recursive=True)):
        print(p); raise SystemExit' 2>/dev/null || true)
  [ -n "$GSMAP_NCCL_LIBRARY" ] && export GSMAP_NCCL_LIBRARY
fi
EOF

for tool in "${tools[@]}"; do
  cat >"$out/bin/$tool" <<EOF
#!/bin/sh
# gsmap-mpi bundle: runs libexec/$tool with the bundle's Open MPI (etc/gsmap-env.sh).
B=\$(cd "\$(dirname "\$(readlink -f "\$0")")/.." && pwd)
. "\$B/etc/gsmap-env.sh"
exec "\$B/libexec/$tool" "\$@"
EOF
  chmod +x "$out/bin/$tool"
done
install -m 755 scripts/gpu-check.sh scripts/compare_runs.py "$out/bin/"

{
  echo "gsmap-mpi bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/bundle.sh from $exe"
  echo "$version" | sed 's/^/  /'
  echo "Open MPI: $(ompi_info --version 2>/dev/null | head -1); PMIx from $pmix_root"
  echo
  echo "Packed libraries (lib/), with their Debian package:"
  # One dpkg query for all files (each query reads the whole package database), under /usr/lib
  # and /lib alike (merged /usr: dpkg knows a file under the path its package installed).
  declare -A owner=()
  while IFS= read -r line; do
    owner[$(basename "${line#*: }")]=${line%%: *}
  done < <(for soname in "${!packed[@]}"; do
             real=$(readlink -f "${packed[$soname]}")
             echo "$real"; echo "${real#/usr}"
           done | xargs dpkg -S 2>/dev/null | sed 's/:[a-z0-9]*: /: /')
  for soname in $(printf '%s\n' "${!packed[@]}" | sort); do
    pkg=${owner[$(basename "$(readlink -f "${packed[$soname]}")")]:-?}
    printf '  %-36s %s %s\n' "$soname" "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)"
  done
  echo
  echo "Components left out:"
  printf '  %s\n' "${skipped[@]}"
  echo
  versions=$(for f in "${elves[@]}"; do objdump -T "$f" 2>/dev/null; done |
             grep -o -E 'GLIBC_2\.[0-9]+|GLIBCXX_3\.4\.[0-9]+' | sort -u -V)
  echo "Needs on the target: glibc with $(grep GLIBC_ <<<"$versions" | tail -1)," \
       "libstdc++ with $(grep GLIBCXX_ <<<"$versions" | tail -1)"
  echo "Not packed (the machine provides them): glibc, libstdc++, libgcc_s, the CUDA driver;"
  echo "the CUDA runtime is linked statically; NCCL is opened at run time (GSMAP_NCCL_LIBRARY)."
} >"$out/MANIFEST.txt"

size=$(du -sb "$out" | cut -f1)
mib=$(( (size + 1048575) / 1048576 ))
echo "bundle.sh: $out: ${#packed[@]} libraries, $(ls "$out/lib/openmpi" | wc -l) Open MPI components, $mib MiB"
(( mib <= max_mib )) || die "the bundle is $mib MiB, more than $max_mib MiB"
