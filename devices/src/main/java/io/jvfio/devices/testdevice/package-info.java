/**
 * The test device ({@code jvfio,test-device}): a programmable platform device with N IRQ lines (edge or
 * level), a countdown timer per line, a "raise now" register, a sparse RAM region with a doorbell page,
 * and a DMA engine, rich enough to exercise every path of VFIO platform assignment. The register map is
 * {@link io.jvfio.devices.testdevice.TestDeviceRegisters} and docs/devices/test-device.md. The model
 * uses only the vfio-user server SPI.
 */
package io.jvfio.devices.testdevice;
