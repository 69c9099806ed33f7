#!/usr/bin/env bash
# faultline-kernel-build: (source, patch series, config, arch) -> a bootable kernel image for
# the lab, cached by the content of everything that goes into it. docs/kernels.md.
#
#   faultline-kernel-build --source=debian:6.12 --arch=x86_64 \
#       [--series=agent/lab/series/vm-fault-retry-hard [--patches=N]] [--config=my.config]
#
# Prints the image's cache directory on stdout (image, config, build.log, info); stages and
# make's progress go to stderr. A second request for the same inputs costs nothing; a request
# that differs from an earlier one of the same series only in how many of its patches apply
# (a bisect step) reuses that build tree (kbuild's O=) and recompiles what the patches touch.
# Exit status: 0 built or cached, 1 the build failed (the log's tail is printed), 2 bad input
# (a missing source, a patch that does not apply, a config that loses an option).
set -euo pipefail

die() { echo "faultline-kernel-build: $*" >&2; exit 2; }
stage() { echo "faultline-kernel-build: $*" >&2; }
log() { stage "$@"; }

usage() {
  cat <<'USAGE'
faultline-kernel-build --source=SOURCE --arch=ARCH [options]
  --source=SOURCE   debian:6.12 (Debian's linux-source-6.12, fetched with apt-get download)
                    or the path of a local kernel git tree (its HEAD and diff key the cache)
  --arch=ARCH       x86_64 (native) or arm64 (cross-built with gcc-aarch64-linux-gnu)
  --series=DIR      patches to apply in order: DIR/series (quilt) or DIR/*.patch (git format-patch)
  --patches=N       apply only the first N patches of the series (default: all)
  --config=FILE     a config fragment merged after faultline's guest fragments (repeatable)
  --cache_dir=DIR   default /var/cache/faultline-lab (~/.cache/faultline-lab when not root)
  --jobs=N          make -j (default: the number of CPUs)
  --list            print the series' patches (index, file, subject) and exit
USAGE
}

source_arg=""
arch=""
series_dir=""
patch_limit=""
user_configs=()
jobs="$(nproc)"
list_only=0
if [[ $(id -u) -eq 0 ]]; then cache_dir=/var/cache/faultline-lab; else
  cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/faultline-lab"
fi
cache_dir="${FAULTLINE_LAB_CACHE:-$cache_dir}"
for arg in "$@"; do
  case "$arg" in
    --source=*) source_arg="${arg#*=}" ;;
    --arch=*) arch="${arg#*=}" ;;
    --series=*) series_dir="${arg#*=}" ;;
    --patches=*) patch_limit="${arg#*=}" ;;
    --config=*) user_configs+=("${arg#*=}") ;;
    --cache_dir=*) cache_dir="${arg#*=}" ;;
    --jobs=*) jobs="${arg#*=}" ;;
    --list) list_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument \"$arg\" (see --help)" ;;
  esac
done

script_dir="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
config_dir="${FAULTLINE_KERNEL_CONFIG_DIR:-$script_dir/kernel_config}"
[[ -r "$config_dir/guest-common.config" ]] || die "cannot find the guest fragments in $config_dir"

# --- the series ---------------------------------------------------------------------------------
# An ordered list of patch files: DIR/series as quilt writes it (one file a line, '#' comments,
# an optional -pN), else DIR/*.patch in name order, as git format-patch numbers them.
patches=()
if [[ -n "$series_dir" ]]; then
  [[ -d "$series_dir" ]] || die "--series: \"$series_dir\" is not a directory"
  series_dir="$(cd "$series_dir" && pwd)"
  if [[ -f "$series_dir/series" ]]; then
    while read -r name _; do
      [[ -z "$name" || "$name" == \#* ]] && continue
      [[ -r "$series_dir/$name" ]] || die "--series: $series_dir/series names \"$name\", which is not there"
      patches+=("$series_dir/$name")
    done <"$series_dir/series"
  else
    for p in "$series_dir"/*.patch; do [[ -e "$p" ]] && patches+=("$p"); done
  fi
  (( ${#patches[@]} > 0 )) || die "--series: no patches in $series_dir (a series file or *.patch)"
fi
patch_subject() {  # the Subject of a mail-format patch, else its file name
  local s
  s="$(sed -n 's/^Subject: *//p' "$1" | head -1 | sed -E 's/^\[[^]]*\] *//')"
  echo "${s:-$(basename "$1")}"
}
if (( list_only )); then
  for i in "${!patches[@]}"; do
    printf '%d\t%s\t%s\n' "$((i + 1))" "$(basename "${patches[i]}")" "$(patch_subject "${patches[i]}")"
  done
  exit 0
fi
if [[ -n "$patch_limit" ]]; then
  [[ "$patch_limit" =~ ^[0-9]+$ ]] && (( patch_limit <= ${#patches[@]} )) ||
    die "--patches: \"$patch_limit\" is not 0..${#patches[@]} (the series has ${#patches[@]})"
else
  patch_limit=${#patches[@]}
fi
wanted=("${patches[@]:0:patch_limit}")

# --- arch and toolchain -------------------------------------------------------------------------
case "$arch" in
  x86_64 | amd64) arch=x86_64; karch=x86_64; cross=""; target=bzImage; image_rel=arch/x86/boot/bzImage ;;
  arm64 | aarch64) arch=arm64; karch=arm64; cross=aarch64-linux-gnu-; target=Image; image_rel=arch/arm64/boot/Image ;;
  "") die "--arch: give x86_64 or arm64" ;;
  *) die "--arch: \"$arch\" is not one of x86_64, arm64" ;;
esac
for c in "${user_configs[@]}"; do [[ -r "$c" ]] || die "--config: cannot read \"$c\""; done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs: \"$jobs\" is not a positive number"

source "$script_dir/debian_packages.sh"
# kconfig needs flex and bison, objtool libelf; bc, perl and openssl's headers the build itself.
build_packages=(make gcc bc flex bison libelf-dev libssl-dev perl cpio xz-utils kmod)
[[ "$arch" == arm64 ]] && build_packages+=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
ensure_packages "${build_packages[@]}"
compiler="$("${cross}gcc" --version | head -1)"

mkdir -p "$cache_dir" || die "cannot create $cache_dir"
cache_dir="$(cd "$cache_dir" && pwd)"
sha() { sha256sum | cut -c1-64; }

# --- the source ---------------------------------------------------------------------------------
# Debian's linux-source package unpacks once into the cache, into a directory named by its
# version; a local tree is used in place (kbuild writes only into O=) and keyed by its commit.
if [[ -z "$source_arg" ]]; then die "--source: give debian:6.12 or a kernel tree"; fi
if [[ "$source_arg" == debian:* ]]; then
  series_version="${source_arg#debian:}"
  [[ "$series_version" =~ ^[0-9]+\.[0-9]+$ ]] || die "--source: \"$source_arg\" is not debian:MAJOR.MINOR (e.g. debian:6.12)"
  pkg="linux-source-$series_version"
  mkdir -p "$cache_dir/debs"
  deb="$(ls "$cache_dir/debs/${pkg}_"*_all.deb 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -z "$deb" ]]; then
    stage "source: apt-get download $pkg"
    apt_download "$cache_dir/debs" "$pkg" || die "--source: Debian's package $pkg cannot be downloaded (not in this machine's mirror?)"
    deb="$(ls "$cache_dir/debs/${pkg}_"*_all.deb 2>/dev/null | sort -V | tail -1 || true)"
    [[ -n "$deb" ]] || die "--source: apt-get download $pkg left no .deb in $cache_dir/debs"
  fi
  deb_version="$(dpkg-deb -f "$deb" Version)"
  source_id="debian-$pkg-$deb_version"
  src="$cache_dir/src/$pkg-$deb_version"
  if [[ ! -f "$src/.faultline-unpacked" ]]; then
    stage "source: unpacking $(basename "$deb") into $src"
    tmp="$(mktemp -d "$cache_dir/src.XXXXXX")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/$pkg.tar.xz" ||
      { rm -rf "$tmp"; die "--source: $deb holds no usr/src/$pkg.tar.xz"; }
    mkdir -p "$tmp/tree"
    tar -x -C "$tmp/tree" --strip-components=1 -f "$tmp/usr/src/$pkg.tar.xz" ||
      { rm -rf "$tmp"; die "--source: cannot unpack $pkg.tar.xz"; }
    touch "$tmp/tree/.faultline-unpacked"
    mkdir -p "$cache_dir/src"
    rm -rf "$src"
    mv "$tmp/tree" "$src"
    rm -rf "$tmp"
  fi
else
  [[ -f "$source_arg/Makefile" && -d "$source_arg/mm" && -d "$source_arg/arch" ]] ||
    die "--source: \"$source_arg\" is not a kernel tree (no Makefile, mm/ and arch/ there)"
  src="$(cd "$source_arg" && pwd)"
  git -C "$src" rev-parse HEAD >/dev/null 2>&1 ||
    die "--source: \"$src\" is not a git checkout: a local tree's commit and diff key the cache"
  source_id="local-$(git -C "$src" rev-parse HEAD)-$( (git -C "$src" diff HEAD; git -C "$src" status --porcelain) | sha | cut -c1-16)"
fi
kernel_version="$(make -s -C "$src" kernelversion 2>/dev/null)" || die "--source: make kernelversion fails in $src"

# --- keys -------------------------------------------------------------------------------------
fragments=("$config_dir/guest-common.config" "$config_dir/guest-$arch.config" "${user_configs[@]}")
patch_hashes() { for p in "$@"; do sha <"$p"; done; }
# Bump when what this script does with its inputs changes.
recipe=1
config_key="$( { echo "recipe $recipe base tinyconfig arch $arch"; echo "$compiler"; echo "$source_id";
  for f in "${fragments[@]}"; do sha <"$f"; done; } | sha)"
# The image: the config's inputs, exactly the patches applied, and the series' name, which the
# image's own version string carries.
series_name="$( [[ -n "$series_dir" ]] && basename "$series_dir" || echo stock)"
image_key="$( { echo "$config_key"; patch_hashes "${wanted[@]}"; (( ${#wanted[@]} == 0 )) || echo "$series_name"; } | sha)"
# The build tree: one per series (all of its patches), so that stock and patched keep their own
# object files and a bisect of one series moves its own tree between patch counts.
tree_key="$( { echo "$config_key"; echo "series"; patch_hashes "${patches[@]}"; } | sha)"
out="$cache_dir/kernels/$arch-$kernel_version-${image_key:0:16}"
series_tag="$series_name"
(( ${#patches[@]} > 0 )) && series_tag="$series_name.$patch_limit-of-${#patches[@]}"

if [[ -f "$out/info" && -f "$out/image" ]]; then
  stage "cached: $out ($series_tag)"
  echo "$out"
  exit 0
fi

# --- the build tree: a patched copy of the source and kbuild's O= ------------------------------
tree="$cache_dir/kbuild/$arch-$kernel_version-${tree_key:0:16}"
# A request that fails leaves the cache as it found it: a build tree it created goes again
# (one that an earlier request made stays, so that a bisect keeps its objects).
created_tree=0
[[ -d "$tree" ]] || created_tree=1
drop_new_tree() {
  local rc=$?
  if (( rc != 0 && created_tree )); then rm -rf "$tree"; fi
  exit "$rc"
}
trap drop_new_tree EXIT
mkdir -p "$tree"
exec 9>"$tree/.lock"
flock 9
work_src="$tree/src"
# kbuild's O= directory sits directly inside the source copy, so kbuild names the source "..":
# every command it records is free of absolute paths, and a tree copied elsewhere (a seed, below)
# is up to date where it was.
objdir="$work_src/obj"
applied_file="$tree/applied"   # sha256 of each patch applied to work_src, in order
echo "$config_key" >"$tree/config_key"
if (( ${#patches[@]} == 0 )) && [[ "$source_arg" != debian:* ]]; then
  # A local tree without a series is built in place, its objects kept in the cache.
  work_src="$src"
  objdir="$tree/obj"
elif [[ ! -f "$tree/.src-ready" || ! -d "$objdir" && -d "$tree/obj" ]]; then
  rm -rf "$work_src" "$tree/obj" "$applied_file"
  # A new series starts from the built tree of the same source and config that shares the
  # longest prefix of its patches (at least the stock one): only what its patches touch is
  # compiled again, instead of every object.
  seed="" seed_common=-1
  mapfile -t want_all < <(patch_hashes "${wanted[@]}")
  for candidate in "$cache_dir/kbuild/$arch-$kernel_version-"*; do
    # Only a tree whose last build finished: its objects match the patches it records.
    [[ "$candidate" != "$tree" && -f "$candidate/.built" && -f "$candidate/src/obj/.config" ]] || continue
    [[ "$(cat "$candidate/config_key" 2>/dev/null)" == "$config_key" ]] || continue
    mapfile -t cand_applied <"$candidate/applied"
    common=0
    while (( common < ${#cand_applied[@]} && common < ${#want_all[@]} )) &&
        [[ "${cand_applied[common]}" == "${want_all[common]}" ]]; do common=$((common + 1)); done
    # A seed must carry nothing beyond the common prefix: its other patches belong to another
    # series, whose files this build does not have to pop them with.
    (( common == ${#cand_applied[@]} )) || continue
    (( common > seed_common )) && { seed="$candidate"; seed_common=$common; }
  done
  if [[ -n "$seed" ]]; then
    stage "build tree: seeding $tree from $(basename "$seed") (its objects; hard-linked sources)"
    (
      flock 8
      # Sources as hard links (patch(1) replaces a file it changes rather than writing through
      # the link); objects as copies, since the compiler rewrites them in place.
      cp -al "$seed/src" "$work_src.tmp" && rm -rf "$work_src.tmp/obj" &&
        cp -a "$seed/src/obj" "$work_src.tmp/obj" && cp "$seed/applied" "$applied_file"
    ) 8>"$seed/.lock" || { rm -rf "$work_src.tmp"; die "build tree: cannot copy $seed"; }
    # tools/ (objtool, which every x86 object depends on) records absolute paths: point them at
    # this tree, or objtool is rebuilt and every object with it. Same length, so only the key
    # differs in each path.
    grep -rlIF --null "$seed/" "$work_src.tmp/obj" 2>/dev/null |
      xargs -0 -r sed -i "s|$seed/|$tree/|g"
    mv "$work_src.tmp" "$work_src"
  else
    stage "build tree: copying $src (hard links) into $work_src"
    # Hard links cost no space; patch(1) writes a new file and renames it over the link, so the
    # pristine tree is never written through.
    cp -al "$src" "$work_src"
    rm -f "$work_src/.faultline-unpacked"
    : >"$applied_file"
  fi
  touch "$tree/.src-ready"
fi

# Moves work_src from the patches it carries to exactly the wanted ones: pops what differs
# (newest first), pushes the rest. Changed files get new mtimes, so kbuild rebuilds only them.
apply_patch() {  # apply_patch FILE [-R]
  local file="$1" reverse="${2:-}" log
  if ! log="$(patch -d "$work_src" -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch $reverse --dry-run <"$file" 2>&1)"; then
    # Name the patch, the file and the hunk that failed.
    local where
    where="$(grep -E '^(checking|patching) file|^Hunk #[0-9]+ FAILED|can.t find file|Reversed' <<<"$log" |
      awk '/^(checking|patching) file/ { f = $3 } /FAILED|find file|Reversed/ { print (f ? f ": " : "") $0 }' | head -5)"
    echo "faultline-kernel-build: patch $(basename "$file") (\"$(patch_subject "$file")\") does not ${reverse:+un}apply to $source_id:" >&2
    echo "${where:-$log}" | sed 's/^/  /' >&2
    return 1
  fi
  patch -d "$work_src" -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch $reverse --quiet <"$file" >/dev/null
}
if [[ "$work_src" != "$src" ]]; then
  mapfile -t have <"$applied_file"
  mapfile -t want < <(patch_hashes "${wanted[@]}")
  common=0
  while (( common < ${#have[@]} && common < ${#want[@]} )) && [[ "${have[common]}" == "${want[common]}" ]]; do
    common=$((common + 1))
  done
  for (( i = ${#have[@]} - 1; i >= common; i-- )); do
    stage "patch: popping $(basename "${patches[i]}")"
    apply_patch "${patches[i]}" -R || { rm -f "$tree/.src-ready"; exit 2; }
    printf '%s\n' "${have[@]:0:i}" | sed '/^$/d' >"$applied_file"
  done
  for (( i = common; i < ${#want[@]}; i++ )); do
    stage "patch: applying $(basename "${wanted[i]}") ($(patch_subject "${wanted[i]}"))"
    if ! apply_patch "${wanted[i]}"; then
      # What applied before it stays recorded; nothing is cached for this request.
      exit 2
    fi
    printf '%s\n' "${want[@]:0:i+1}" >"$applied_file"
  done
fi

# From here until the build finishes, the tree's objects and patches may disagree.
rm -f "$tree/.built"

# --- config -------------------------------------------------------------------------------------
mkdir -p "$objdir"
kmake() { make -C "$work_src" O="$objdir" ARCH="$karch" ${cross:+CROSS_COMPILE=$cross} "$@"; }
stage "config: tinyconfig + $(for f in "${fragments[@]}"; do printf '%s ' "$(basename "$f")"; done)(merge_config.sh, olddefconfig)"
config_log="$tree/config.log"
{
  kmake tinyconfig &&
    "$work_src/scripts/kconfig/merge_config.sh" -m -O "$objdir" "$objdir/.config" "${fragments[@]}" &&
    kmake olddefconfig
} >"$config_log" 2>&1 || { tail -20 "$config_log" >&2; die "config: making the configuration failed (log above, $config_log)"; }
# olddefconfig drops what it cannot satisfy without a word: every option the fragments ask for
# must have come out as written.
lost=()
for f in "${fragments[@]}"; do
  while IFS= read -r line; do
    name="${line%%=*}"
    if [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
      name="${BASH_REMATCH[1]}"
      grep -qE "^$name=" "$objdir/.config" && lost+=("$name (asked: not set; got: $(grep -E "^$name=" "$objdir/.config"), from $(basename "$f"))")
    elif [[ "$line" =~ ^CONFIG_ ]]; then
      grep -qxF "$line" "$objdir/.config" ||
        lost+=("$name (asked: ${line#*=}; got: $(grep -E "^(# )?$name[= ]" "$objdir/.config" || echo 'absent: a dependency is missing'), from $(basename "$f"))")
    fi
  done < <(grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$f")
done
if (( ${#lost[@]} > 0 )); then
  echo "faultline-kernel-build: config: after olddefconfig these options are not as the fragments ask:" >&2
  printf '  %s\n' "${lost[@]}" >&2
  die "config: refusing to build a kernel without them"
fi
config_hash="$(sha <"$objdir/.config")"

# --- build --------------------------------------------------------------------------------------
# The kernel's own version string names the series, so the booted kernel's fingerprint
# (/proc/version) tells what it carries; the config stays identical between stock and patched.
export KBUILD_BUILD_USER=faultline KBUILD_BUILD_HOST="${series_tag//[^A-Za-z0-9._-]/_}"
export KBUILD_BUILD_TIMESTAMP="@0" KBUILD_BUILD_VERSION=1
build_log="$tree/build.log"
stage "build: $arch $kernel_version ($series_tag), make -j$jobs $target in $objdir"
start=$(date +%s)
set +e
kmake -j"$jobs" "$target" 2>&1 | tee "$build_log" | awk -v start="$start" '
  /^  [A-Z][A-Z0-9_]* / { n++; last = $2 }
  { now = systime(); if (now - shown >= 30) { shown = now; printf "faultline-kernel-build: make: %d steps, %d s, at %s\n", n, now - start, last > "/dev/stderr"; fflush("/dev/stderr") } }'
rc=${PIPESTATUS[0]}
set -e
seconds=$(( $(date +%s) - start ))
if (( rc != 0 )) || [[ ! -f "$objdir/$image_rel" ]]; then
  echo "faultline-kernel-build: build failed after $seconds s (make exit $rc); the last lines of $build_log:" >&2
  grep -E 'error|Error' "$build_log" | head -10 | sed 's/^/  /' >&2
  tail -15 "$build_log" | sed 's/^/  /' >&2
  exit 1
fi
steps="$(grep -cE '^  [A-Z][A-Z0-9_]* ' "$build_log" || true)"
touch "$tree/.built"
stage "build: done in $seconds s ($steps make steps)"

# --- into the cache (atomically: a half-written entry is never seen) -------------------------------
mkdir -p "$cache_dir/kernels"
tmp="$(mktemp -d "$cache_dir/kernels/.new.XXXXXX")"
cp "$objdir/$image_rel" "$tmp/image"
cp "$objdir/.config" "$tmp/config"
cp "$objdir/System.map" "$tmp/System.map" 2>/dev/null || true
cp "$build_log" "$tmp/build.log"
release="$(cat "$objdir/include/config/kernel.release")"
{
  echo "arch=$arch"
  echo "release=$release"
  echo "source=$source_id"
  echo "series=$series_name"
  echo "series_tag=$series_tag"
  echo "patches_applied=$patch_limit"
  echo "patches_total=${#patches[@]}"
  for i in "${!wanted[@]}"; do echo "patch.$((i + 1))=$(basename "${wanted[i]}") $(sha <"${wanted[i]}") $(patch_subject "${wanted[i]}")"; done
  echo "config_sha256=$config_hash"
  echo "compiler=$compiler"
  echo "build_seconds=$seconds"
  echo "make_steps=$steps"
  echo "built_at=$(date -u +%FT%TZ)"
} >"$tmp/info"
rm -rf "$out"
mv "$tmp" "$out"
stage "image: $out/image"
echo "$out"
