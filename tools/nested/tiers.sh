#!/usr/bin/env bash
# Runs test tiers (kvm, vfio, linux) for real inside the nested guest (tools/nested/run.sh), for hosts that
# lack what they need: /dev/kvm, VFIO, or a KVM that can run a stock kernel. Expects `mvn verify` (or test-compile) to have built the tree:
# it reuses the compiled test classes and runs them with the JUnit console launcher in one JVM, which
# is much faster under software emulation than Maven forking one JVM per module.
#
#   tools/nested/tiers.sh [TAG...]      (default: kvm vfio)
#
# The interrupt storm tests (tag storm) run afterwards in a second guest of their own, on one TCG thread.
#
# JVFIO_TIERS_SELECT narrows the run, e.g. "--select-class io.jvfio.platform.PlatformAssignmentKvmTest"
# (any JUnit console-launcher selector options; the default scans every module's test classes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
. tools/java-env.sh
. tools/progress.sh

# Removed however the script ends (a Ctrl-C in a guest's boot, say).
scratch=()
trap 'rm -f "${scratch[@]}"' EXIT

tags=("$@")
[ ${#tags[@]} -gt 0 ] || tags=(kvm vfio)

launcher_version=1.14.1
launcher="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$launcher_version/junit-platform-console-standalone-$launcher_version.jar"
if [ ! -f "$launcher" ]; then
    mvn -q -B -ntp dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$launcher_version"
fi

# One classpath for every module's tests: each module's test classes, classes and test-scope deps. It
# goes on java's own -cp (not the launcher's --class-path) so tests that start child JVMs with
# java.class.path give them everything.
# test-compile in the same invocation makes Maven resolve jvfio's own modules to this tree's
# target/ directories instead of looking for them in ~/.m2.
progress "compiling the tests (mvn test-compile)" mvn -q -B -ntp test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test >/dev/null
# The modules' own directories come first and jvfio's artifacts are dropped from the dependency lists:
# a jar left in ~/.m2 by an earlier `mvn install` would otherwise shadow what was just compiled.
classpath=()
scan=()
for module_pom in */pom.xml; do
    module=$(dirname "$module_pom")
    [ -d "$module/target/test-classes" ] || continue
    scan+=("$repo/$module/target/test-classes")
    classpath+=("$repo/$module/target/test-classes" "$repo/$module/target/classes")
done
dependencies=$(cat */target/test.classpath 2>/dev/null | tr ':' '\n' | grep -v '/io/jvfio/' | grep -v "^$repo/" \
    | awk 'NF && !seen[$0]++' | paste -sd: -)
joined=$(IFS=:; echo "${classpath[*]}"):$dependencies
scan_joined=$(IFS=:; echo "${scan[*]}")

"$here/prepare.sh" >&2
# run_tiers TAG_ARGS...: the tests those tags select, in one JVM in one nested guest. A guest boots for
# minutes and a test may run for minutes: a line at least every 30 s counts the tests done so far (the
# console launcher's tree marks each with one of these).
# shellcheck disable=SC2086 # JVFIO_TIERS_SELECT is a list of launcher options
run_tiers() {
    PROGRESS_DONE='✔|✘|↷' progress "nested tiers ($*)" "$here/run.sh" --overlay "$repo" -- \
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 \
        -cp "$launcher:$joined" org.junit.platform.console.ConsoleLauncher execute \
        --disable-banner --details=tree --fail-if-no-tests \
        ${JVFIO_TIERS_SELECT:---scan-class-path "$scan_joined"} "$@"
}
# triple_faulted_tests OUTPUT: when every failure the console launcher listed in OUTPUT is a test's own
# guest triple-faulting (GuestFailedException, KVM_EXIT_SHUTDOWN), prints a --select-method option for
# each of those tests; otherwise prints nothing.
triple_faulted_tests() {
    sed 's/\x1b\[[0-9;]*m//g; s/\r$//' "$1" | awk '
        /^Failures \([0-9]+\):/ { listing = 1; next }
        !listing { next }
        /MethodSource \[className = / {
            line = $0
            sub(/.*className = \047/, "", line); class = line; sub(/\047.*/, "", class)
            sub(/.*methodName = \047/, "", line); method = line; sub(/\047.*/, "", method)
            sub(/.*methodParameterTypes = \047/, "", line); types = line; sub(/\047.*/, "", types)
            gsub(/ /, "", types)
            source = class "#" method "(" types ")"
            next
        }
        /^ *=> / {
            if (source == "" || $0 !~ /=> io\.jvfio\.machine\.GuestFailedException: guest failed: the guest triple-faulted \(KVM_EXIT_SHUTDOWN\)/)
                other = 1
            else if (!(source in seen)) { seen[source] = 1; order[++count] = source }
            source = ""
        }
        END {
            if (other || count == 0) exit
            for (i = 1; i <= count; i++) printf "--select-method %s ", order[i]
        }'
}
# A tier's run, again where the nested guest failed rather than a test:
# - 125: the nested guest died before the tests finished: its own kernel panicked (under TCG's emulation
#   of SVM it has, rarely, in KVM's paths: the linux tier's guest did in three of four CI runs on
#   2026-12-04, and the next boot ran through), or it locked up (a soft-lockup report, or its programs'
#   heartbeat stopped), or its boot hung (tools/nested/run.sh). The tiers run again from a fresh boot,
#   at most twice.
# - 124 with nothing printed: the guest ran until its timeout and the JVM never wrote a line, not even
#   the one it prints at its start. Twice in about ten CI runs on 2026-12-04 the kvm tier's guest did
#   so, both CPUs busy and no kernel report, before run.sh watched for a heartbeat and blocked tasks;
#   should it come back in a shape those miss, it counts as a dead guest too (once: a timeout costs
#   JVFIO_NESTED_TIMEOUT), and run.sh now says where the vCPUs were.
# - 1 with every failure a test guest's triple fault: that emulation has also, rarely, shut down a guest
#   of jvfio's that runs correctly everywhere else (the kvm tier's serial console guest on jvfio's own
#   irqchip, whose kicks signal the vCPU thread, in two of seven CI runs on 2026-12-04, while thirty runs
#   of that test alone passed; a benchmark's guest on KVM's irqchip under JFR, whose sampler signals
#   every thread; stock kernels in the linux tier, which their tests boot once more themselves), and its
#   kvm_amd resets the vCPU then, so no register tells where. Those tests alone run once more, in a fresh
#   boot; a second triple fault fails.
# Any other failing test is never run again.
run_tiers_again_if_the_guest_failed() {
    local status=0 output again
    output=$(mktemp)
    scratch+=("$output")
    boot_again_while_the_guest_dies "$output" "$@" || status=$?
    if [ "$status" -eq 1 ]; then
        again=$(triple_faulted_tests "$output")
        if [ -n "$again" ]; then
            echo "[nested] every failure above is a test's guest triple-faulting under the nested guest's emulated" \
                "SVM: running those tests once more ($again)" >&2
            status=0
            JVFIO_TIERS_SELECT="$again" boot_again_while_the_guest_dies "$output" "$@" || status=$?
        fi
    fi
    rm -f "$output"
    return "$status"
}
# boot_again_while_the_guest_dies OUTPUT TAG_ARGS...: run_tiers, its output also in OUTPUT, and again in a
# fresh boot when the guest died (125) or timed out silently (124, once), up to three boots in all.
boot_again_while_the_guest_dies() {
    local output=$1 status boots=0 silent_timeouts=0
    shift
    while true; do
        status=0
        boots=$((boots + 1))
        { run_tiers "$@" | tee "$output"; } || status=$?
        [ "$boots" -lt 3 ] || break
        if [ "$status" -eq 124 ] && [ ! -s "$output" ] && [ "$silent_timeouts" -eq 0 ]; then
            silent_timeouts=1
            echo "[nested] the tests printed nothing before the nested guest's timeout: running them once more" >&2
        elif [ "$status" -eq 125 ]; then
            echo "[nested] the nested guest died before the tests finished (console above): running them once more" >&2
        else
            break
        fi
    done
    return "$status"
}
echo "[nested] running tiers: ${tags[*]} (inside a QEMU guest whose KVM and VFIO behave as documented)" >&2
status=0
if [ -n "${JVFIO_TIERS_SELECT:-}" ]; then
    # A narrowed run: one guest for whatever the selection holds of the tiers.
    tag_args=()
    for tag in "${tags[@]}"; do tag_args+=(--include-tag "$tag"); done
    run_tiers_again_if_the_guest_failed "${tag_args[@]}" --exclude-tag storm || status=$?
else
    # Each tier gets a guest of its own, and so the whole of JVFIO_NESTED_TIMEOUT: on a host without
    # /dev/kvm the kvm, vfio and linux tiers together outlast one guest's 15 minutes. A test with several
    # of the tags runs with the first of them.
    earlier=""
    for tag in "${tags[@]}"; do
        echo "[nested] tier $tag" >&2
        run_tiers_again_if_the_guest_failed --include-tag "$tag$earlier" --exclude-tag storm || status=$?
        [ "$status" -eq 0 ] || break
        earlier+=" & !$tag"
    done
fi
# Interrupt storms (Tiers.STORM) have made this guest's kernel panic when QEMU gives each vCPU a host
# thread of its own; on one thread for all of them the full-size storm of bench/run reliability runs
# through, so they get a guest of their own run that way.
# Every storm test is also a kvm test.
if [ "$status" -eq 0 ] && [ -z "${JVFIO_TIERS_SELECT:-}" ] && [[ " ${tags[*]} " == *" kvm "* ]]; then
    echo "[nested] running the storm tests (QEMU -accel tcg,thread=single)" >&2
    JVFIO_NESTED_ACCEL=tcg,thread=single run_tiers_again_if_the_guest_failed --include-tag "storm & kvm" \
        || status=$?
fi
exit "$status"
