/**
 * The VFIO device API that every backend implements (kernel VFIO, vfio-user): device, region and IRQ
 * information, region access and mapping, IRQ signalling, DMA and reset. Flag values are those of
 * linux/vfio.h, which vfio-user also uses on the wire. No backend code lives here.
 */
package io.jvfio.vfio;
