# Sourced by faultline-lab: Debian packages the lab installs or downloads. Uses $deb_arch and
# $cache_dir, and die/log from the caller. Only Debian's mirror is used, through apt.

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  (( ${#missing[@]} == 0 )) && return 0
  log "installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || {
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  } || die "cannot install ${missing[*]}"
}

# Downloads a Debian package for $deb_arch from Debian's mirror into the cache and unpacks it.
# Prints the unpacked directory.
debian_package() {
  local name="$1" dir="$cache_dir/packages/$1_$deb_arch"
  if [[ ! -f "$dir/.unpacked" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && rm -f ./*.deb && apt-get download -qq "$name:$deb_arch" >/dev/null 2>&1) || {
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$dir" && apt-get download -qq "$name:$deb_arch" >/dev/null 2>&1)
    } || die "apt-get download $name:$deb_arch failed (for arm64: dpkg --add-architecture arm64)"
    dpkg-deb -x "$dir"/*.deb "$dir/root" || die "cannot unpack $dir/*.deb"
    touch "$dir/.unpacked"
  fi
  echo "$dir/root"
}

# debian:cloud -> the version linux-image-cloud-<arch> depends on today; debian:VERSION as given.
resolve_kernel() {
  local spec="$1" version
  if [[ "$spec" != debian:* ]]; then
    [[ -r "$spec" ]] || die "--kernel: cannot read \"$spec\""
    echo "$spec"
    return
  fi
  version="${spec#debian:}"
  if [[ "$version" == cloud ]]; then
    version="$(apt-cache depends "linux-image-cloud-$deb_arch:$deb_arch" 2>/dev/null |
      sed -nE "s/.*Depends: linux-image-(.*)-cloud-$deb_arch.*/\1/p" | head -1)"
    [[ -n "$version" ]] || die "--kernel=debian:cloud: no linux-image-cloud-$deb_arch in apt's lists"
  fi
  local root
  root="$(debian_package "linux-image-$version-cloud-$deb_arch-unsigned")"
  local image
  image="$(ls "$root"/boot/vmlinuz-* 2>/dev/null | head -1)"
  [[ -n "$image" ]] || die "linux-image-$version-cloud-$deb_arch-unsigned has no /boot/vmlinuz-*"
  echo "$image"
}

# apt_download DIR PACKAGE: Debian's .deb of PACKAGE (any architecture qualifier included) into
# DIR, refreshing apt's lists once when the package is not in them.
apt_download() {
  local dir="$1" name="$2"
  mkdir -p "$dir"
  (cd "$dir" && apt-get download -qq "$name" >/dev/null 2>&1) || {
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$dir" && apt-get download -qq "$name" >/dev/null 2>&1)
  }
}
