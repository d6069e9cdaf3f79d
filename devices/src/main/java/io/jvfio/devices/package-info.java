/**
 * Device models served over vfio-user and how to pick one by name: {@link io.jvfio.devices.DeviceCatalog},
 * {@link io.jvfio.devices.ModelledDevice}, and {@link io.jvfio.devices.ServeMain}, a plain {@code main}
 * that serves a model on a socket. Models use only the vfio-user server SPI and
 * the register-level chips of module {@code chips}; nothing here knows about
 * KVM, the machine or the platform device, and nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.devices;
