/**
 * The vfio-user server and its device-model SPI: a {@link io.jvfio.vfiouser.server.DeviceModel}
 * declares regions ({@link io.jvfio.vfiouser.server.RegionSpec}: callbacks or shared memory) and IRQ
 * indexes ({@link io.jvfio.vfiouser.server.ModelIrqSpec}); {@link io.jvfio.vfiouser.server.VfioUserServer}
 * serves it, checking every field a client sends. Models reach IRQs and DMA through the
 * {@link io.jvfio.vfiouser.server.DeviceContext}. No client code lives here.
 */
package io.jvfio.vfiouser.server;
