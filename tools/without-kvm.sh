#!/usr/bin/env bash
# Runs COMMAND as on a host without /dev/kvm, on a host that has one: in a private mount namespace whose
# /dev is a copy of this one's without the kvm node (the rest of the system is unchanged, and other
# processes keep seeing /dev/kvm). For checking the paths jvfio takes where KVM is missing (./test's
# nested kvm tier, the launcher's nested demo, jvfio host's FAIL line) from a kvm_pvm or hardware host:
#   sudo tools/without-kvm.sh ./test
# Needs root (a mount namespace and device nodes); QEMU started inside sees no /dev/kvm either.
set -euo pipefail
if [ $# -eq 0 ]; then
    echo "usage: tools/without-kvm.sh COMMAND [ARG...]" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "tools/without-kvm.sh: needs root, to make a mount namespace and copy device nodes" >&2
    exit 1
fi
exec unshare --mount --propagation private bash -c '
set -euo pipefail
copy=$(mktemp -d /tmp/without-kvm-dev.XXXXXX)
mount -t tmpfs -o mode=755 tmpfs "$copy"
for node in /dev/*; do
    case ${node#/dev/} in
        kvm | pts | shm) ;;
        *) cp -a "$node" "$copy/" ;;
    esac
done
mkdir "$copy/pts" "$copy/shm"
mount --rbind /dev/pts "$copy/pts"
mount --rbind /dev/shm "$copy/shm"
mount --move "$copy" /dev
rmdir "$copy"
exec "$@"
' without-kvm "$@"
