/**
 * Virtio devices on the virtio-mmio transport (docs/devices/virtio-mmio.md), served over vfio-user:
 * {@link io.jvfio.devices.virtio.VirtioMmioDevice} (the version 2 registers, feature negotiation, the
 * interrupt), {@code SplitVirtqueue} (descriptor table, available and used rings, chained and indirect
 * descriptors), and the device types behind it, {@link io.jvfio.devices.virtio.VirtioRng} so far. The
 * queues are reached only through the client's DMA windows ({@link io.jvfio.devices.virtio.GuestMemory});
 * nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.devices.virtio;
