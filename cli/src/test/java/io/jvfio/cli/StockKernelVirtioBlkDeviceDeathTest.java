package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.boot.linux.KernelImages;
import io.jvfio.machine.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 17's device killed mid-transfer: Debian's stock kernel reads its assigned virtio-blk disk over and
 * over in the background, and the test kills the serving process (SIGKILL) while it does, then types a
 * line on jvfio's stdin so /init knows. /init waits a while and reports what the guest sees, then powers
 * off; {@code jvfio run} must exit 0 having said that the device is gone. On both injection paths.
 *
 * <p>What Debian 6.1's virtio_blk does when its device dies so: nothing that fails. jvfio answers the dead
 * device's registers as absent hardware (reads all-ones, writes dropped, the line low), so the driver's
 * notifies go nowhere and no interrupt comes; virtio_blk has no request timeout handler (its queue has no
 * io_timeout), so nothing ends a request the device never completes: reads the kill caught in flight stay
 * there with no I/O error, and their readers wait in D state. When the kill falls between requests, the
 * driver's next look at the device (an interrupt's handler reading InterruptStatus as all-ones, its
 * configuration bit included) re-reads the capacity as 2^64-1 sectors, which the block layer takes as a
 * capacity change to -1. Either way the rest of the guest runs on.
 */
@Tag(Tiers.LINUX)
class StockKernelVirtioBlkDeviceDeathTest {
    private static final String READING = "jvfio-blk: reading";
    private static final String REPORT_MARKER = "jvfio-blk: report";
    private static final String STILL_RUNNING = "jvfio-blk: still running";
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(300);
    /**
     * How long a boot that never got to reading is given to end before it is judged: one that triple-faulted
     * has ended already (jvfio said so on stderr), one that is still running gets killed as before.
     */
    private static final Duration ENDING = Duration.ofSeconds(10);
    /** /init waits 3 s after the kill, then reports and powers off: seconds, even under emulation. */
    private static final Duration AFTER_THE_KILL = Duration.ofSeconds(120);
    /** A 16 MiB disk: a pass of dd takes long enough under emulation that the kill lands within one. */
    private static final int DISK_BYTES = 16 << 20;
    /** /sys/block/vda/inflight as /init prints it: reads, then writes. */
    private static final Pattern IN_FLIGHT =
            Pattern.compile("jvfio-blk: in flight \\(reads writes\\): +(\\d+) +(\\d+)");

    /** jvfio's summary of the disk's IRQ on the user side: triggers, injections, EOIs, unmasks, ended by a reset. */
    private static final Pattern USER_SIDE_COUNTS = Pattern.compile("user side, (\\d+) triggers, (\\d+) injections,"
            + " 0 coalesced, 0 cancelled, (\\d+) EOIs, (\\d+) unmasks, (\\d+) ended by a reset");

    private static final List<String> MODULES = KernelImages.virtioModules("kernel/drivers/block/virtio_blk.ko");
    /**
     * The reading loop reads the disk's first half over and over, dropping the page cache between passes so
     * that each pass asks the device again; it keeps its dd's pid in /reader.pid. The block layer shows a
     * disk's io_timeout only when its driver handles timeouts, which /init reports. Right after the kill
     * /init reads the disk's last block, which the loop never reads and the dropped cache no longer holds,
     * so that the driver notifies the device at least once after it died whatever the loop was doing:
     * jvfio finds the device gone there if not before. Then
     * /init reports the requests in flight and both readers' states (from /proc/PID/stat, which takes no
     * lock a blocked reader could hold) and powers off with the readers still waiting. It does not kill
     * them: a boot whose /init did never powered off (as far as we can tell, the disk's last close then
     * waits for the reads that never end, and poweroff's sync(2) behind it). Nor does it sync: nothing was
     * written, and once a CI run's kill caught a read in flight and the driver then read the dead
     * device's capacity, a plain {@code poweroff -f} did not end within two minutes (sync(2) is the one
     * step of it that can wait on the disk).
     */
    private static final String INIT = """
            #!/bin/busybox sh
            /bin/busybox mount -t devtmpfs dev /dev
            /bin/busybox mount -t proc proc /proc
            /bin/busybox mkdir -p /sys
            /bin/busybox mount -t sysfs sys /sys
            echo "<2>%1$s" > /dev/kmsg
            exec 3<>/dev/ttyS0
            state() {
              /bin/busybox sed -n 's/^[0-9]* (.*) \\(.\\) .*/\\1/p' /proc/$1/stat 2>/dev/null
            }
            {
              for m in virtio_ring virtio virtio_mmio virtio_blk; do
                /bin/busybox insmod /modules/$m.ko || echo "jvfio-blk: insmod $m failed"
              done
              tries=0
              until [ -b /dev/vda ] || [ $tries -ge 60 ]; do
                /bin/busybox sleep 1; tries=$((tries + 1))
              done
              (
                passes=0
                while :; do
                  /bin/busybox dd if=/dev/vda of=/dev/null bs=64k count=%5$d 2>/dev/null &
                  echo $! > /reader.pid
                  wait $!
                  status=$?
                  [ $status -eq 0 ] || break
                  passes=$((passes + 1))
                  echo 3 > /proc/sys/vm/drop_caches
                done
                echo "jvfio-blk: the reading loop's dd ended with status $status after $passes whole passes"
              ) &
              /bin/busybox sleep 1
              echo "%2$s"
              read -r line <&3
              echo "%3$s"
              echo "jvfio-blk: the host says: $line"
              echo 3 > /proc/sys/vm/drop_caches
              /bin/busybox dd if=/dev/vda of=/dev/null bs=4096 count=1 skip=%6$d 2>/dev/null &
              probe=$!
              /bin/busybox sleep 3
              reader=$(/bin/busybox cat /reader.pid)
              if [ -e /sys/block/vda/queue/io_timeout ]; then
                echo "jvfio-blk: a request timeout handler: yes"
              else
                echo "jvfio-blk: a request timeout handler: none"
              fi
              echo "jvfio-blk: in flight (reads writes): $(/bin/busybox cat /sys/block/vda/inflight)"
              echo "jvfio-blk: reader states: $(state $reader) $(state $probe)"
              /bin/busybox dmesg | /bin/busybox grep -iE "virtio|vda|I/O error|timeout|hung"
              /bin/busybox grep virtio /proc/interrupts
              echo "%4$s"
            } >&3 2>&1
            /bin/busybox poweroff -f -n
            """.formatted(
                    StockKernel.INIT_MARKER,
                    READING,
                    REPORT_MARKER,
                    STILL_RUNNING,
                    DISK_BYTES / 2 / 65536,
                    DISK_BYTES / 4096 - 1);

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() throws Exception {
        StockKernelBootTest.assumeAKvmThatRunsLinux();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x-irqfd=on", "x-irqfd=off"})
    void theGuestOutlivesItsDisksServerKilledMidReadAndJvfioExitsCleanly(String paths) throws Exception {
        Path kernel = StockKernel.assumeBzImage();
        Map<String, byte[]> files = AssignedDeviceBoot.modules(MODULES);
        Path initramfs = Files.write(directory.resolve("initramfs.cpio"), StockKernel.busyboxInitramfs(INIT, files));
        Path disk = Files.write(directory.resolve("disk.img"), new byte[DISK_BYTES]);
        List<String> command = List.of(
                "run",
                "--kernel",
                kernel.toString(),
                "--initrd",
                initramfs.toString(),
                "--append",
                AssignedDeviceBoot.APPEND_LOGGING_BINDINGS,
                "--ram",
                "256",
                "--timeout",
                "300",
                "--device",
                "vfio-platform,socket=" + directory.resolve("blk.sock") + "," + paths + ",x-reply-timeout-ms=60000");
        try (ServerProcess blk = ServeCommand.startChild(
                "virtio-blk",
                directory.resolve("blk.sock"),
                Duration.ofSeconds(120),
                List.of(),
                "--file",
                disk.toString())) {
            JvfioProcess run = JvfioProcess.start(ProcessBuilder.Redirect.PIPE, command.toArray(String[]::new));
            double reading = run.awaitOut(READING, BOOT_TIMEOUT);
            if (reading < 0 && AssignedDeviceBoot.bootOnceMore(run.awaitExit(ENDING), run.out(), run.err())) {
                System.err.printf("%s: %s%n", paths, AssignedDeviceBoot.ONCE_MORE);
                run.close();
                run = JvfioProcess.start(ProcessBuilder.Redirect.PIPE, command.toArray(String[]::new));
                reading = run.awaitOut(READING, BOOT_TIMEOUT);
            }
            try (JvfioProcess running = run) {
                theGuestOutlivesTheKill(paths, blk, running, reading);
            }
        }
    }

    private static void theGuestOutlivesTheKill(String paths, ServerProcess blk, JvfioProcess run, double reading)
            throws Exception {
        assertThat(reading).as(run.out() + run.err()).isPositive();

        blk.kill();
        try {
            run.type("killed\n");
        } catch (IOException e) {
            throw new AssertionError(
                    "jvfio ended before the kill could be typed (" + e.getMessage() + "); the console:\n" + run.out()
                            + "\nstderr:\n" + run.err(),
                    e);
        }

        int code = run.awaitExit(AFTER_THE_KILL);
        if (code < 0) {
            // The failure's message comes when every test has run, too late if the harness ends first.
            System.err.printf("%s: jvfio did not exit; the console:%n%s%nstderr:%n%s%n", paths, run.out(), run.err());
        }
        String context = "the console:\n" + run.out() + "\nstderr:\n" + run.err();
        assertThat(code).as("jvfio run's status\n" + context).isZero();
        assertThat(run.out()).as(context).contains(REPORT_MARKER, STILL_RUNNING);
        String report = run.out().substring(run.out().indexOf(REPORT_MARKER));
        assertThat(report)
                .as("virtio_blk has no timeout handler that could end a request\n" + context)
                .contains("jvfio-blk: a request timeout handler: none");
        Matcher inFlight = IN_FLIGHT.matcher(report);
        assertThat(inFlight.find()).as(context).isTrue();
        if (Long.parseLong(inFlight.group(1)) > 0) {
            // The kill caught reads in flight: without a timeout handler nothing ends them.
            assertThat(report)
                    .as("both readers wait for their reads, and the reading loop never saw its dd end\n" + context)
                    .contains("jvfio-blk: reader states: D D")
                    .doesNotContain("jvfio-blk: the reading loop's dd ended");
            assertThat(report)
                    .as("the block layer reported no error: the reads never ended\n" + context)
                    .doesNotContainIgnoringCase("I/O error");
        } else {
            // The kill came between requests. The driver's next look at the device read the gone device's
            // registers as all-ones (jvfio's device-gone handling): InterruptStatus with its configuration
            // bit set, and then a capacity of 2^64-1 sectors, which the block layer takes as -1.
            assertThat(report)
                    .as("no read in flight: the driver saw the gone device's all-ones registers\n" + context)
                    .contains("vda: detected capacity change from " + DISK_BYTES / 512 + " to -1");
        }
        assertThat(run.err())
                .as("jvfio found the device gone and carried on\n" + context)
                .contains("vfio blk.sock: the device is gone (");
        String interrupts = report.lines()
                .filter(line -> line.matches(" *\\d+:.* IO-APIC +16-fasteoi +virtio\\d+"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no virtio line in /proc/interrupts\n" + context));
        String taken = interrupts.trim().split("\\s+")[1];
        String prefix = "jvfio run: vfio blk.sock IRQ 0 (GSI 16, level): ";
        String summary = run.err()
                .lines()
                .filter(line -> line.startsWith(prefix))
                .findFirst()
                .map(line -> line.substring(prefix.length()))
                .orElseThrow(() -> new AssertionError("jvfio run gave no IRQ summary\n" + context));
        if (paths.equals("x-irqfd=on")) {
            assertThat(summary).as(context).isEqualTo("KVM irqfd, delivered and ended inside KVM");
        } else {
            // Every interrupt the guest took came before the device died, and jvfio ended each: at the
            // guest's EOI, or, for the one the handler was about to end when its access found the device
            // gone, by the reset that the death brings.
            Matcher counts = USER_SIDE_COUNTS.matcher(summary);
            assertThat(counts.matches()).as(summary + "\n" + context).isTrue();
            long took = Long.parseLong(taken);
            long eois = Long.parseLong(counts.group(3));
            long endedByReset = Long.parseLong(counts.group(5));
            assertThat(List.of(counts.group(1), counts.group(2))).as(context).containsOnly(taken);
            assertThat(counts.group(4)).as("unmasks, one per EOI\n" + context).isEqualTo(counts.group(3));
            assertThat(endedByReset).as(context).isBetween(0L, 1L);
            assertThat(eois + endedByReset).as(context).isEqualTo(took);
        }
        System.err.printf(
                "%s: killed %.1f s after jvfio started; \"%s\"; \"%s\"; /proc/interrupts \"%s\"; jvfio: \"%s\"%n",
                paths,
                reading,
                inFlight.group().strip(),
                report.lines()
                        .filter(line -> line.startsWith("jvfio-blk: reader states"))
                        .findFirst()
                        .orElseThrow(),
                interrupts.strip(),
                summary);
    }
}
