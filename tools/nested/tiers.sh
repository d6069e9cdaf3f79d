#!/usr/bin/env bash
# Runs the `kvm` and `vfio` test tiers for real inside the nested guest (tools/nested/run.sh), for hosts
# that have neither /dev/kvm nor VFIO. Expects `mvn verify` (or test-compile) to have built the tree:
# it reuses the compiled test classes and runs them with the JUnit console launcher in one JVM, which
# is much faster under software emulation than Maven forking one JVM per module.
#
#   tools/nested/tiers.sh [TAG...]      (default: kvm vfio)
#
# JVFIO_TIERS_SELECT narrows the run, e.g. "--select-class io.jvfio.platform.PlatformAssignmentKvmTest"
# (any JUnit console-launcher selector options; the default scans every module's test classes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
. tools/java-env.sh

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
mvn -q -B -ntp test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath \
    -Dmdep.includeScope=test >/dev/null
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

tag_args=()
for tag in "${tags[@]}"; do tag_args+=(--include-tag "$tag"); done
# Interrupt storms have made this guest's kernel panic (a corrupted stack in the vCPU thread): they run
# only where /dev/kvm is real (Tiers.STORM).
tag_args+=(--exclude-tag storm)

"$here/prepare.sh" >&2
run_tiers() {
    "$here/run.sh" --overlay "$repo" -- \
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 \
        -cp "$launcher:$joined" org.junit.platform.console.ConsoleLauncher execute \
        --disable-banner --details=tree --fail-if-no-tests \
        ${JVFIO_TIERS_SELECT:---scan-class-path "$scan_joined"} "${tag_args[@]}"
}
echo "[nested] running tiers: ${tags[*]} (inside a QEMU guest: this host has no /dev/kvm or VFIO)" >&2
status=0
run_tiers || status=$?
# 125: the nested guest's own kernel died before the tests finished (its console is above; under TCG's
# emulation of SVM it has panicked, rarely, in KVM's paths). That is the harness failing, not a test:
# run the tiers once more from a fresh boot. A test failure (status 1) is never retried.
if [ "$status" -eq 125 ]; then
    echo "[nested] the nested guest died before the tiers finished (console above): running them once more" >&2
    status=0
    run_tiers || status=$?
fi
exit "$status"
