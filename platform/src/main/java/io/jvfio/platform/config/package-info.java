/**
 * The {@code -device} strings and properties of VFIO platform devices, with QEMU's names and
 * defaults: parsing and validation into typed configurations, with one-line errors naming the bad
 * property. No device is opened here.
 */
package io.jvfio.platform.config;
