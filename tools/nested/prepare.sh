#!/usr/bin/env bash
# Prepares everything run.sh needs to boot a nested guest that has /dev/kvm and VFIO:
# QEMU, a static busybox, a Debian kernel and a busybox initramfs with that kernel's modules.
#
# Idempotent: each step is skipped when its output already exists. Everything it builds lives
# in the cache dir ($JVFIO_NESTED_CACHE, default ~/.cache/jvfio-nested); only the two apt
# packages are installed system-wide (needs root, as on CI).
#
# Environment:
#   JVFIO_NESTED_CACHE       cache dir (default: $HOME/.cache/jvfio-nested)
#   JVFIO_NESTED_KERNEL_PKG  kernel package to use, e.g. linux-image-6.12.117+deb12-amd64-unsigned
#                            (default: whatever linux-image-amd64 currently points at, unsigned flavour)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${JVFIO_NESTED_CACHE:-$HOME/.cache/jvfio-nested}"

log() { printf '[prepare] %s\n' "$*" >&2; }
die() { printf '[prepare] ERROR: %s\n' "$*" >&2; exit 1; }

# Modules the guest needs, by name. Their dependencies are added from modules.dep, so only
# the leaves are listed. Names missing from this kernel (iommufd before 6.2) or built in are skipped.
wanted_modules=(
  virtio_pci 9pnet_virtio 9p   # the host filesystem over virtio-9p
  overlay                      # writable tmpfs layers over read-only 9p dirs (--overlay)
  kvm kvm_amd kvm_intel        # whichever matches the CPU model loads; the other fails harmlessly
  vfio vfio_iommu_type1 vfio_pci iommufd
)

# --- 1. host packages -------------------------------------------------------------------------
# apt-get update only when a package is not known yet: it is slow and CI images are often fresh.
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
# busybox-static installs /bin/busybox; the dynamic 'busybox' package would not work in the initramfs.
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
if ((${#need_pkgs[@]})); then
  [[ $(id -u) == 0 ]] || die "need root to install ${need_pkgs[*]}"
  # shellcheck disable=SC2010 # apt's list files have plain names
  if ! apt-cache show "${need_pkgs[@]}" >/dev/null 2>&1 || [[ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]]; then
    log "apt-get update (package lists are missing)"
    apt-get update -qq
  fi
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
busybox=/bin/busybox
grep -qx cpio <<<"$("$busybox" --list)" || die "$busybox has no cpio applet"

# --- 2. the kernel ----------------------------------------------------------------------------
# The unsigned flavour is the same kernel without the secure-boot signature wrapper; it is what
# we boot directly with -kernel. linux-image-amd64 is the meta package that names the current ABI.
kpkg="${JVFIO_NESTED_KERNEL_PKG:-}"
if [[ -z $kpkg ]]; then
  signed=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  if [[ -z $signed ]]; then
    log "apt-get update (linux-image-amd64 unknown)"
    apt-get update -qq
    signed=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  fi
  [[ -n $signed ]] || die "cannot find the current kernel package via linux-image-amd64"
  kpkg="${signed}-unsigned"
fi
kdir="$cache/$kpkg"
mkdir -p "$kdir"
if [[ ! -e $kdir/root/.extracted ]]; then
  log "downloading $kpkg"
  rm -rf "$kdir/root" "$kdir"/*.deb
  # apt-get download writes into the cwd; _apt cannot write to root-owned dirs, hence the
  # harmless "unsandboxed" warning.
  (cd "$kdir" && apt-get download -q "$kpkg" 2>&1 | grep -v unsandboxed >&2 || true)
  deb=$(ls "$kdir"/*.deb 2>/dev/null | head -n1)
  [[ -n $deb ]] || die "apt-get download $kpkg failed"
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$kdir/root"
  rm -f "$deb"   # 70 MB; the unpacked tree is all we need
  touch "$kdir/root/.extracted"
fi
# Under pipefail a missing directory would end the script with ls's message alone, before die's.
kver=$(ls "$kdir/root/lib/modules" 2>/dev/null | head -n1) || true
[[ -n $kver ]] || die "no modules in $kpkg (nothing in $kdir/root/lib/modules)"
moddir="$kdir/root/lib/modules/$kver"
cp -f "$kdir/root/boot/vmlinuz-$kver" "$kdir/vmlinuz"

# The package ships no modules.dep (the postinst runs depmod); busybox's depmod makes one.
if [[ ! -s $moddir/modules.dep ]]; then
  log "generating modules.dep for $kver"
  "$busybox" depmod -b "$kdir/root" "$kver"
fi

# --- 3. module load order -----------------------------------------------------------------------
# Depth-first over modules.dep so every module comes after what it needs (modules.dep lists
# a module's full dependency closure, but not in load order).
declare -A dep_of=() path_of=() seen=()
while IFS= read -r line; do
  mod_path=${line%%:*}
  name=${mod_path##*/}; name=${name%%.ko*}; name=${name//-/_}
  path_of[$name]=$mod_path
  dep_of[$mod_path]=${line#*:}
done <"$moddir/modules.dep"

order=()
visit() {
  local p=$1 d
  [[ -n ${seen[$p]:-} ]] && return
  seen[$p]=1
  for d in ${dep_of[$p]}; do visit "$d"; done
  order+=("$p")
}
for m in "${wanted_modules[@]}"; do
  key=${m//-/_}
  if [[ -n ${path_of[$key]:-} ]]; then
    visit "${path_of[$key]}"
  elif grep -Eq "/${m//_/[-_]}\.ko" "$moddir/modules.builtin"; then
    log "module $m is built in"
  else
    log "module $m does not exist in $kver (skipped)"
  fi
done

# --- 4. initramfs -------------------------------------------------------------------------------
initrd="$kdir/initramfs.cpio.gz"
stamp=$(cat "$here/init" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
if [[ -s $initrd && "$(cat "$kdir/initramfs.stamp" 2>/dev/null)" == "$stamp" ]]; then
  log "initramfs up to date: $initrd"
else
  log "building initramfs with ${#order[@]} modules"
  staging=$(mktemp -d)
  trap 'rm -rf "$staging"' EXIT
  mkdir -p "$staging"/{bin,sbin,dev,proc,sys,tmp,run,newroot,etc,lib/modules/"$kver"}
  cp "$busybox" "$staging/bin/busybox"
  cp "$here/init" "$staging/init"
  chmod 755 "$staging/init"
  : >"$staging/etc/modules.load"
  for p in "${order[@]}"; do
    dst="$staging/lib/modules/$kver/${p%.xz}"; dst=${dst%.zst}; dst=${dst%.gz}
    mkdir -p "$(dirname "$dst")"
    # Decompress here: busybox insmod is not guaranteed to read .ko.xz/.ko.zst.
    case $p in
      *.ko.xz)  xz -dc "$moddir/$p" >"$dst" ;;
      *.ko.zst) zstd -qdc "$moddir/$p" >"$dst" ;;
      *.ko.gz)  gzip -dc "$moddir/$p" >"$dst" ;;
      *)        cp "$moddir/$p" "$dst" ;;
    esac
    echo "/lib/modules/$kver/${dst#"$staging/lib/modules/$kver/"}" >>"$staging/etc/modules.load"
  done
  echo "$kver" >"$staging/etc/kernel-version"
  # cpio's stderr is its block count, so a failure has to be said here.
  (cd "$staging" && find . | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null | gzip -6 >"$initrd.tmp") \
    || die "packing $initrd.tmp failed"
  mv "$initrd.tmp" "$initrd"
  echo "$stamp" >"$kdir/initramfs.stamp"
  log "modules: $(sed 's#.*/##' "$staging/etc/modules.load" | tr '\n' ' ')"
fi

# run.sh boots whatever 'current' points at.
ln -sfn "$kpkg" "$cache/current"
log "ready: kernel $kver, $(du -h "$initrd" | cut -f1) initramfs, in $kdir"
