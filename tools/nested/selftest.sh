#!/usr/bin/env bash
# Proves the nested guest is fit for the kvm and vfio test tiers: boots it through run.sh and
# runs selftest/nestedcheck.c inside, which
#   - runs a real-mode vCPU on the guest's /dev/kvm and registers irqfd (+resample) and ioeventfd,
#   - drives QEMU's edu device through vfio-pci: type1 container, BAR0 pread + mmap, INTx and MSI
#     into eventfds, DMA through the emulated Intel IOMMU.
# Exits 0 only when both pass (1: KVM failed, 2: VFIO failed, 3: both, else run.sh's status).
# Extra arguments go to run.sh (e.g. -v). JVFIO_NESTED_CPU picks the CPU model, as for run.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${JVFIO_NESTED_CACHE:-$HOME/.cache/jvfio-nested}"
bindir="$cache/selftest"

# Static, so it needs nothing from the guest; gcc and libc.a come from Debian when missing.
if ! command -v gcc >/dev/null || [[ ! -e /usr/lib/x86_64-linux-gnu/libc.a ]]; then
  echo "[selftest] installing gcc libc6-dev" >&2
  [[ $(id -u) == 0 ]] || { echo "[selftest] ERROR: need root to install gcc libc6-dev" >&2; exit 1; }
  # A fresh machine has no package lists yet.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi
mkdir -p "$bindir"
gcc -static -O2 -Wall -Wextra -Werror -o "$bindir/nestedcheck" "$here/selftest/nestedcheck.c"

# The inner script: both checks always run so one report shows everything.
set +e
"$here/run.sh" --share "$bindir" "$@" -- sh -c '
  echo "== guest: $(uname -r), CPU flags:$(grep -m1 "^flags" /proc/cpuinfo | tr " " "\n" | grep -xE "svm|npt|vmx|ept" | tr "\n" " ")"
  echo "== kvm modules: $(grep -oE "^kvm[a-z_]*" /proc/modules | tr "\n" " ")"
  echo "== /dev/vfio: $(ls /dev/vfio | tr "\n" " ")  /dev/vfio/devices: $(ls /dev/vfio/devices 2>/dev/null | tr "\n" " ")  /dev/iommu: $([ -c /dev/iommu ] && echo yes || echo no)"
  echo "== edu at ${JVFIO_EDU_BDF:-<missing>}, driver $(basename "$(readlink /sys/bus/pci/devices/$JVFIO_EDU_BDF/driver)")"
  echo "== KVM"
  "$0" kvm; k=$?
  echo "== VFIO"
  "$0" vfio "$JVFIO_EDU_BDF"; v=$?
  exit $((k + 2 * v))
' "$bindir/nestedcheck"
rc=$?
set -e
case $rc in
  0) echo "[selftest] PASS: KVM and VFIO work inside the nested guest" ;;
  1) echo "[selftest] FAIL: KVM does not work inside the nested guest" ;;
  2) echo "[selftest] FAIL: VFIO does not work inside the nested guest" ;;
  3) echo "[selftest] FAIL: neither KVM nor VFIO works inside the nested guest" ;;
  *) echo "[selftest] FAIL: the guest did not finish (run.sh status $rc)" ;;
esac >&2
exit "$rc"
