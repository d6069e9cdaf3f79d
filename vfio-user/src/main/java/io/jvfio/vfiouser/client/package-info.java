/**
 * The vfio-user client: {@link io.jvfio.vfiouser.client.VfioUserDevice} is a
 * {@link io.jvfio.vfio.VfioDevice} whose regions, IRQs, DMA and reset go over a vfio-user socket. It
 * trusts nothing the server sends: every reply is checked before use. No server code lives here.
 */
package io.jvfio.vfiouser.client;
