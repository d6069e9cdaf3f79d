/**
 * Whole-system benchmarks, each measured against a C baseline of the physical limit in the same run:
 * {@link io.jvfio.bench.VfioUserRtt} (a REGION_READ round trip against a raw AF_UNIX ping-pong) and
 * {@link io.jvfio.bench.MmioExit} (an MMIO exit through the full machine against a bare KVM_RUN loop).
 * Started by {@code bench/run}, which builds the C baselines; nothing here is a test and nothing depends
 * on this module. No {@code java.lang.foreign} here: the benchmarks use the library's public API only.
 */
package io.jvfio.bench;
