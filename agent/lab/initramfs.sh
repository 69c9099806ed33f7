# Sourced by faultline-lab: the guest's initramfs. Uses $arch, $triplet, $work_dir,
# $guest_init, $guest_agent_bin and debian_package (debian_packages.sh) from the caller.

# Modules a kernel needs for the guest's network and scratch disk, deps first. They come from
# the Debian package the image came from (…/boot/vmlinuz-V beside …/lib/modules/V); a kernel
# with no module tree must have the drivers built in.
module_tree_for() {
  local image="$1" base version
  base="$(dirname "$(dirname "$image")")"
  version="$(basename "$image")"; version="${version#vmlinuz-}"
  [[ -d "$base/lib/modules/$version" ]] && echo "$base/lib/modules/$version"
  return 0
}
module_depends() { tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' ' '; }
add_modules() {  # add_modules TREE DEST_DIR ORDER_FILE MODULE...
  local tree="$1" dest="$2" order="$3"; shift 3
  local m file
  for m in "$@"; do
    grep -qx "$m" "$order" 2>/dev/null && continue
    file="$(find "$tree" -name "$m.ko" -print -quit)"
    [[ -n "$file" ]] || continue
    # shellcheck disable=SC2046
    add_modules "$tree" "$dest" "$order" $(module_depends "$file")
    cp "$file" "$dest/$m.ko"
    echo "$m" >>"$order"
  done
}

# Shared libraries of an ELF binary, recursively, from the multiarch directories of $triplet.
needed_libraries() {
  local seen=" " queue=("$1") f lib path
  while (( ${#queue[@]} > 0 )); do
    f="${queue[0]}"; queue=("${queue[@]:1}")
    for lib in $(readelf -d "$f" 2>/dev/null | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
      [[ "$seen" == *" $lib "* ]] && continue
      seen+="$lib "
      path=""
      for dir in "/lib/$triplet" "/usr/lib/$triplet"; do
        [[ -e "$dir/$lib" ]] && { path="$dir/$lib"; break; }
      done
      [[ -n "$path" ]] || die "$(basename "$1"): needs $lib, not found in /usr/lib/$triplet"
      echo "$path"
      queue+=("$path")
    done
  done
}

build_initramfs() {  # build_initramfs OUT KERNEL_IMAGE
  local out="$1" image="$2" root="$work_dir/initramfs-root"
  rm -rf "$root"
  mkdir -p "$root"/{bin,lab/modules,proc,sys,dev,tmp,etc}
  local busybox
  if [[ "$arch" == x86_64 ]]; then busybox=/bin/busybox; else
    busybox="$(debian_package busybox-static)/bin/busybox"
  fi
  [[ -x "$busybox" ]] || die "no static busybox at $busybox (Debian's busybox-static)"
  cp "$busybox" "$root/bin/busybox"
  cp "$guest_init" "$root/init"
  chmod 755 "$root/init"
  cp "$guest_agent_bin" "$root/bin/faultline-agent"
  chmod 755 "$root/bin/faultline-agent"
  local interp
  interp="$(readelf -l "$guest_agent_bin" | sed -nE 's/.*interpreter: (.*)\]/\1/p')"
  [[ -n "$interp" ]] || die "$guest_agent_bin: no program interpreter (not a dynamic ELF?)"
  local libs
  if [[ "$arch" == x86_64 ]]; then
    libs="$(ldd "$guest_agent_bin" | awk '/=> \// { print $3 }')"
  else
    libs="$(needed_libraries "$guest_agent_bin")" || exit 2
  fi
  local lib
  for lib in $libs "$interp"; do
    [[ "$lib" == "$interp" ]] && lib="$(readlink -f "$interp")" && {
      mkdir -p "$root$(dirname "$interp")"
      cp -L "$lib" "$root$interp"
      continue
    }
    mkdir -p "$root/lib/$triplet"
    cp -L "$lib" "$root/lib/$triplet/$(basename "$lib")"
  done
  echo "/lib/$triplet" >"$root/lab/library_path"
  echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
  : >"$root/lab/modules.order"
  local tree
  tree="$(module_tree_for "$image")"
  if [[ -n "$tree" ]]; then
    add_modules "$tree" "$root/lab/modules" "$root/lab/modules.order" \
      virtio_pci virtio_mmio virtio_net virtio_blk
  fi
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$out") || die "cpio failed"
  rm -rf "$root"
}

# A machine's initramfs: the shared one plus a second archive holding its certificate, key and
# the CA under /lab/tls. The kernel unpacks concatenated archives one after another, so one
# shared image serves every machine and only a few KiB differ.
add_guest_tls() {  # add_guest_tls OUT BASE_INITRAMFS PKI_DIR AGENT_ID
  local out="$1" base="$2" pki="$3" id="$4" root="$work_dir/initramfs-tls"
  rm -rf "$root"
  mkdir -p "$root/lab/tls"
  cp "$pki/ca.pem" "$root/lab/tls/ca.pem"
  cp "$pki/$id.pem" "$root/lab/tls/agent.pem"
  cp "$pki/$id.key" "$root/lab/tls/agent.key"
  chmod 600 "$root/lab/tls/agent.key"
  cp "$base" "$out"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >>"$out") || die "cpio failed"
  rm -rf "$root"
}
