/**
 * Device models served over vfio-user and how to pick one by name: {@link io.jvfio.devices.DeviceCatalog},
 * {@link io.jvfio.devices.ModelledDevice}, {@link io.jvfio.devices.ServeMain}, which serves a model on a
 * socket (its own {@code main}, {@code jvfio serve} and the benchmarks' servers), and
 * {@link io.jvfio.devices.ServerProcess}, which runs such a server in a child JVM. Models use only the
 * vfio-user server SPI and the register-level chips of module {@code chips}; nothing here knows about
 * KVM, the machine or the platform device, and nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.devices;
