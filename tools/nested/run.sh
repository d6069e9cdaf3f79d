#!/usr/bin/env bash
# Runs COMMAND as root inside a nested guest (QEMU TCG, q35, emulated Intel IOMMU, QEMU's edu
# PCI device bound to vfio-pci, /dev/kvm from nested SVM) and exits with COMMAND's exit status.
#
#   tools/nested/run.sh [OPTIONS] -- COMMAND [ARG...]
#
# The guest's root is the host's / over virtio-9p, read-only, so host binaries (bash, the JDK,
# mvn) and absolute paths work unchanged; /tmp, /run, /dev/shm are tmpfs and /root is a
# throwaway overlay. To make more of the host visible differently:
#   --share DIR          mount host DIR at the same path, read-only, uncached (it may change)
#   --share-rw DIR       mount host DIR at the same path, writable: writes reach the host
#   --overlay DIR        mount host DIR at the same path with a tmpfs overlay: the guest may
#                        write (e.g. Maven's target/), the writes vanish at power-off
#   -e, --env NAME=VALUE set a variable for COMMAND (the guest starts from a clean environment;
#                        only JAVA_HOME and MAVEN_OPTS are passed through when set)
#   -v, --verbose        show module loading and the guest facts (edu BDF, IOMMU group, ...)
# COMMAND runs in the caller's working directory when that exists inside (it does unless it
# is under /tmp, which is the guest's own tmpfs). It also sees JVFIO_NESTED=1 and
# JVFIO_EDU_BDF=<the edu device's PCI address>. stdout and stderr both arrive on stdout.
#
# Environment:
#   JVFIO_NESTED_CACHE    where prepare.sh put the kernel/initramfs (default ~/.cache/jvfio-nested)
#   JVFIO_NESTED_TIMEOUT  seconds before QEMU is killed (default 900); exit status 124 then
#   JVFIO_NESTED_LOCKUP   seconds a guest CPU may stay stuck (its kernel's soft-lockup report), or the
#                         guest's programs may stop running (a heartbeat the command's shell writes every
#                         5 s stops), before QEMU is killed as a dead guest (default 120, 0 = never);
#                         exit status 125 then
#   JVFIO_NESTED_BOOT     seconds the guest may take to reach COMMAND before QEMU is killed as a dead
#                         guest (default 180, 0 = never); exit status 125 then
#   JVFIO_NESTED_CPU      QEMU -cpu model (default max; it has SVM, so kvm_amd loads)
#   JVFIO_NESTED_MEM      guest RAM (default 3G)
#   JVFIO_NESTED_SMP      guest vCPUs (default 2)
#   JVFIO_NESTED_ACCEL    QEMU -accel (default tcg, a host thread per vCPU; tcg,thread=single runs
#                         all vCPUs on one host thread, so no two of them ever run at the same time)
#   JVFIO_NESTED_KERNEL_PKG  boot this prepared kernel package instead of the last one prepare.sh made
#   JVFIO_NESTED_RESULTS  keep the results dir (facts, exitcode) here instead of a temp dir
# Exit status: COMMAND's, or 124 on timeout, or 125 when the guest died before COMMAND finished, or
# 129/130/143 when SIGHUP/SIGINT/SIGTERM ended run.sh (QEMU is stopped then too).
set -euo pipefail

cache="${JVFIO_NESTED_CACHE:-$HOME/.cache/jvfio-nested}"
timeout_s="${JVFIO_NESTED_TIMEOUT:-900}"
lockup_s="${JVFIO_NESTED_LOCKUP:-120}"
boot_s="${JVFIO_NESTED_BOOT:-180}"
cpu="${JVFIO_NESTED_CPU:-max}"
mem="${JVFIO_NESTED_MEM:-3G}"
smp="${JVFIO_NESTED_SMP:-2}"
accel="${JVFIO_NESTED_ACCEL:-tcg}"

log() { printf '[nested] %s\n' "$*" >&2; }
die() { printf '[nested] ERROR: %s\n' "$*" >&2; exit 125; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p' >&2; exit 125; }

shares=()   # "MODE DIR"
envs=()     # "NAME=VALUE"
for name in JAVA_HOME MAVEN_OPTS; do
  [[ -n ${!name:-} ]] && envs+=("$name=${!name}")
done
verbose=0
while (($#)); do
  case $1 in
    --share|--share-rw|--overlay)
                (($# >= 2)) || die "$1 wants a directory"
                # A failed realpath would end the script with status 1, which reads as COMMAND's.
                dir=$(realpath -e "$2" 2>/dev/null) || die "$1 $2: no such directory"
                case $1 in --share) mode=ro ;; --share-rw) mode=rw ;; *) mode=overlay ;; esac
                shares+=("$mode $dir"); shift 2 ;;
    -e|--env)   [[ ${2:-} == [A-Za-z_]*=* ]] || die "$1 wants NAME=VALUE, got '${2:-}'"
                envs+=("$2"); shift 2 ;;
    -v|--verbose) verbose=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) die "unknown option $1 (COMMAND goes after --)" ;;
  esac
done
(($#)) || usage

kdir="$cache/${JVFIO_NESTED_KERNEL_PKG:-current}"
kernel="$kdir/vmlinuz"
initrd="$kdir/initramfs.cpio.gz"
[[ -r $kernel && -r $initrd ]] || die "no guest kernel in $cache; run tools/nested/prepare.sh first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing; run tools/nested/prepare.sh"

if [[ -n ${JVFIO_NESTED_RESULTS:-} ]]; then
  results=$(realpath -m "$JVFIO_NESTED_RESULTS"); mkdir -p "$results"
  rm -f "$results"/{exitcode,facts,cmd.sh,guest.conf,console.log,qemu.pid,lockup,noboot,timeout,heartbeat,cpus}
else
  results=$(mktemp -d "${TMPDIR:-/tmp}/jvfio-nested.XXXXXX")
fi
# QEMU's monitor socket, in a directory of its own: a results path may be too long for a socket's.
control=$(mktemp -d /tmp/jvfio-qemu.XXXXXX)
# On every exit, a signal's too: QEMU (through timeout, which passes the signal on and kills it 10 s
# later if it is still there) and the watcher must not outlive this script, or a killed run.sh leaves a
# guest holding both cores until its timeout and a watcher polling forever.
qemu_job="" watcher=""
cleanup() {
  [[ -z $watcher ]] || kill "$watcher" 2>/dev/null || true
  [[ -z $qemu_job ]] || kill "$qemu_job" 2>/dev/null || true
  rm -rf "$control"
  [[ -n ${JVFIO_NESTED_RESULTS:-} ]] || rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The command, quoted for the guest's bash (the host's /bin/bash seen through 9p).
{
  echo 'set -u'
  # The heartbeat: while the guest's kernel still schedules programs, this changes every 5 s.
  echo '( beat=0; while :; do beat=$((beat + 1)); echo "$beat" >/run/jvfio/heartbeat; sleep 5; done ) </dev/null >/dev/null 2>&1 &'
  # A VM held open for the whole command. Linux 6.1's KVM enables SVM on every CPU (an IPI to each) when
  # the first VM is created and disables it when the last one is destroyed; under TCG one of those IPIs
  # is now and then never taken, and the thread closing its VM spins in kvm_destroy_vm ->
  # on_each_cpu_cond_mask for good (a soft lockup that freezes the guest; a create/close loop met it
  # within ~100 cycles). With this VM open the count never drops to zero, so SVM stays on throughout.
  cat <<'KEEPER'
if [ -w /dev/kvm ]; then
  python3 -c 'import fcntl, os, time
fcntl.ioctl(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC), 0xAE01, 0)  # KVM_CREATE_VM
time.sleep(1 << 30)' </dev/null >/dev/null 2>&1 &
  for _ in $(seq 300); do ls -l /proc/$!/fd 2>/dev/null | grep -q kvm-vm && break; sleep 0.1; done
fi
KEEPER
  for e in ${envs[@]+"${envs[@]}"}; do printf 'export %q\n' "$e"; done
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
  printf '%q ' "$@"; echo
} >"$results/cmd.sh"

# Every 9p share is one fsdev + virtio-9p-pci pair. multidevs=remap keeps inode numbers unique
# when a shared tree spans several host filesystems (the root always does); security_model=none
# lets the root-run QEMU write as itself without mapping ownership into xattrs.
qemu_shares=(
  -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
  -fsdev "local,id=jvfio_results,path=$results,security_model=none,multidevs=remap"
  -device "virtio-9p-pci,fsdev=jvfio_results,mount_tag=jvfio_results"
)
: >"$results/guest.conf"
[[ -s $kdir/kallsyms ]] || echo kallsyms >>"$results/guest.conf"
i=0
for s in ${shares[@]+"${shares[@]}"}; do
  mode=${s%% *} dir=${s#* } tag="share$i"; i=$((i + 1))
  [[ $dir != *[[:space:]]* ]] || die "paths with spaces are not supported: $dir"
  ro=; [[ $mode == rw ]] || ro=",readonly=on"
  qemu_shares+=(-fsdev "local,id=$tag,path=$dir,security_model=none,multidevs=remap$ro"
                -device "virtio-9p-pci,fsdev=$tag,mount_tag=$tag")
  echo "share $tag $dir $mode" >>"$results/guest.conf"
done

# The kernel console is ttyS0, logged to console.log (shown with -v or when the guest dies);
# COMMAND talks to ttyS1, which is our stdio. loglevel=4 keeps the log to errors and worse; a healthy
# boot logs only kvm_intel's refusal to load beside kvm_amd.
# hung_task_panic=1: a task blocked for 120 s (an I/O of the 9p root that never completes, say) panics
# the guest, so it counts as dead (125) instead of holding the caller until the timeout.
# intel_iommu=on: the guest kernel defaults to the IOMMU off; without it there is no IOMMU group.
# panic=-1 with -no-reboot: a guest panic ends QEMU instead of hanging until the timeout.
# nokaslr: the kernel's symbols sit where System.map says, so a dead guest's RIPs can be named.
append="console=ttyS0 quiet loglevel=4 panic=-1 hung_task_panic=1 intel_iommu=on nokaslr"
((verbose)) && append+=" jvfio.verbose=1"
[[ -t 1 ]] || append+=" jvfio.onlcr=0"   # no \r\n when our stdout is a file or a pipe

# TCG (this host has no /dev/kvm). -cpu max has SVM, which nested KVM (kvm_amd) needs.
# intel-iommu: intremap=on gives interrupt remapping, which vfio_iommu_type1 wants unless told
# allow_unsafe_interrupts; caching-mode=on makes QEMU see the guest's mappings (needed for
# assigned or emulated DMA through the vIOMMU). kernel-irqchip=split is what intremap needs
# under KVM; TCG ignores it, it is kept so the line also works with -accel kvm.
# edu twice, as two functions of one slot: without ACS, the kernel puts them in one IOMMU group, which
# the vfio tier's tests of a group shared by two devices need.
# shellcheck disable=SC2054 # the commas are QEMU's option syntax
qemu=(
  qemu-system-x86_64 -accel "$accel" -M q35,kernel-irqchip=split -cpu "$cpu" -smp "$smp" -m "$mem"
  -device intel-iommu,intremap=on,caching-mode=on
  -device edu,addr=01.0,multifunction=on -device edu,addr=01.1
  -display none -serial "file:$results/console.log" -serial stdio -no-reboot -nodefaults
  -monitor "unix:$control/monitor.sock,server=on,wait=off"
  -kernel "$kernel" -initrd "$initrd" -append "$append" -pidfile "$results/qemu.pid"
  "${qemu_shares[@]}"
)
((verbose)) && log "${qemu[*]}"

# Under TCG the guest's kernel has, now and then, locked up for good (both CPUs stuck, even at
# boot), which would otherwise hold the caller until the timeout: once a soft-lockup report says a
# CPU has been stuck for lockup_s seconds, or the command's heartbeat has not changed for lockup_s
# seconds, QEMU is killed and the guest counts as dead (125). A boot has also hung without any
# report, both CPUs busy and COMMAND never started (a CI run on 2026-12-04): a guest whose init has
# not written its facts, right before COMMAND, after boot_s seconds (a boot takes seconds) is killed
# and counts as dead too. Before any kill the vCPUs' state is saved (cpu_state) to tell where they were.
kill_guest() {  # kill_guest FILE REASON: the reason goes to FILE for the report below
  cpu_state >"$results/cpus" 2>&1 || true
  echo "$2" >"$results/$1"
  kill "$(<"$results/qemu.pid")" 2>/dev/null
}
watch_guest() {
  local stuck waited=0 beat="" last_beat="" beat_at=0
  while sleep 5; do
    waited=$((waited + 5))
    [[ -s $results/qemu.pid ]] || continue
    if ((waited >= timeout_s)); then
      kill_guest timeout "$waited"
      return
    fi
    if ((boot_s > 0)) && ((waited >= boot_s)) && [[ ! -e $results/facts ]]; then
      kill_guest noboot "$waited"
      return
    fi
    ((lockup_s > 0)) || continue
    stuck=$(grep -o 'soft lockup - CPU#[0-9]* stuck for [0-9]*s' "$results/console.log" 2>/dev/null \
      | sed 's/.* \([0-9]*\)s$/\1/' | sort -n | tail -n 1 || true)
    if [[ -n $stuck ]] && ((stuck >= lockup_s)); then
      kill_guest lockup "a CPU stuck for $stuck s"
      return
    fi
    beat=$(cat "$results/heartbeat" 2>/dev/null || true)
    [[ -n $beat ]] || continue
    if [[ $beat != "$last_beat" ]]; then
      last_beat=$beat beat_at=$waited
    elif ((waited - beat_at >= lockup_s)); then
      kill_guest lockup "no heartbeat from its programs for $((waited - beat_at)) s"
      return
    fi
  done
}
# cpu_state: every vCPU's RIP from QEMU's monitor, named from the guest kernel's symbols (the
# kallsyms its first boot left) when the RIP is the kernel's.
cpu_state() {
  local map=""
  [[ -s $kdir/kallsyms ]] && map=$kdir/kallsyms
  [[ -s $results/kallsyms ]] && map=$results/kallsyms
  python3 - "$control/monitor.sock" "$map" <<'PY'
import bisect, re, socket, sys, time
sock = socket.socket(socket.AF_UNIX)
sock.settimeout(2)
sock.connect(sys.argv[1])
sock.sendall(b"info registers -a\n")
reply, deadline = b"", time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        chunk = sock.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    reply += chunk
symbols = []
if sys.argv[2]:
    for line in open(sys.argv[2]):
        address, kind, name = line.split()[:3]
        if kind in "tTwW":
            symbols.append((int(address, 16), name))
    symbols.sort()
def name(rip):
    i = bisect.bisect_right(symbols, (rip, "\uffff")) - 1
    return f" {symbols[i][1]}+{rip - symbols[i][0]:#x}" if i >= 0 and rip - symbols[i][0] < 1 << 16 else ""
cpu = None
for line in reply.decode(errors="replace").splitlines():
    if m := re.match(r"\s*CPU#(\d+)", line):
        cpu = m.group(1)
    if (m := re.search(r"RIP=([0-9a-f]+) RFL=([0-9a-f]+)", line)) and cpu is not None:
        rip = int(m.group(1), 16)
        print(f"CPU {cpu}: RIP {rip:#x}{name(rip)} RFLAGS {m.group(2)}")
PY
}
watch_guest &
watcher=$!

start=$(date +%s)
set +e
# --foreground: QEMU reads the terminal (serial on stdio), so it must stay in our process group. The
# watcher kills QEMU at timeout_s, after saving the vCPUs' state; timeout is only the backstop.
# QEMU runs as a job waited for, not in the foreground, because bash runs a trap only once a foreground
# command has ended; <&0 keeps our stdin, which a job would otherwise get as /dev/null.
timeout --foreground -k 10 "$((timeout_s + 60))" "${qemu[@]}" <&0 &
qemu_job=$!
wait "$qemu_job"
qrc=$?
qemu_job=""
set -e
kill "$watcher" 2>/dev/null || true
watcher=""
elapsed=$(($(date +%s) - start))
if [[ -s $results/kallsyms && ! -s $kdir/kallsyms ]]; then
  cp "$results/kallsyms" "$kdir/kallsyms.tmp" && mv "$kdir/kallsyms.tmp" "$kdir/kallsyms"
fi

if ((verbose)) && [[ -s $results/console.log ]]; then
  sed 's/^/[nested] console: /' "$results/console.log" >&2
fi
if ((verbose)) && [[ -s $results/facts ]]; then
  sed 's/^/[nested] fact: /' "$results/facts" >&2
fi
if [[ -s $results/exitcode ]]; then
  rc=$(<"$results/exitcode")
  ((verbose)) && log "command exited $rc after ${elapsed}s in the guest"
  exit "$rc"
fi
# dead_guest_report: the end of the guest kernel's log and where its vCPUs were when it was killed.
dead_guest_report() {
  tail -n 10 "$results/console.log" 2>/dev/null | sed 's/^/[nested] console: /' >&2
  sed 's/^/[nested] at the kill: /' "$results/cpus" >&2 2>/dev/null || true
}
if [[ -s $results/lockup ]]; then
  dead_guest_report
  log "the guest locked up ($(<"$results/lockup"); JVFIO_NESTED_LOCKUP=$lockup_s): killed after ${elapsed}s"
  exit 125
fi
if [[ -s $results/noboot ]]; then
  dead_guest_report
  log "the guest did not reach the command within $(<"$results/noboot") s (JVFIO_NESTED_BOOT=$boot_s): killed"
  exit 125
fi
if [[ -s $results/timeout ]] || ((qrc == 124 || qrc == 137)); then
  dead_guest_report
  log "TIMEOUT: guest killed after ${timeout_s}s (JVFIO_NESTED_TIMEOUT)"
  exit 124
fi
((verbose)) || tail -n 40 "$results/console.log" 2>/dev/null | sed 's/^/[nested] console: /' >&2
log "guest stopped without an exit code (qemu status $qrc after ${elapsed}s)"
exit 125
