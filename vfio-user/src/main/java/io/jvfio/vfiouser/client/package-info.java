/**
 * The vfio-user client: {@link io.jvfio.vfiouser.client.VfioUserDevice} is a
 * {@link io.jvfio.vfio.VfioDevice} whose regions, IRQs, DMA and reset go over a vfio-user socket,
 * through a {@link io.jvfio.vfiouser.client.ServerLink} that owns the connection and answers the
 * server's DMA requests. It trusts nothing the server sends: every reply is checked before use. No
 * server code lives here.
 */
package io.jvfio.vfiouser.client;
