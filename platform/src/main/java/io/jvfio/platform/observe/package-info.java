/**
 * What jvfio tells about assigned devices: JFR events for every IRQ state change, injection, EOI,
 * unmask, fast/slow switch and trapped access (QEMU's trace points, with the same information), and
 * counters readable as JMX MBeans.
 */
package io.jvfio.platform.observe;
