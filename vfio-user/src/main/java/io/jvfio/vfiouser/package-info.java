/**
 * The vfio-user protocol: the message header and payloads ({@link io.jvfio.vfiouser.Payload}), their
 * codec with every length checked ({@link io.jvfio.vfiouser.Codec}), the VERSION capabilities (JSON via
 * Gson), jvfio's platform extension, and the {@link io.jvfio.vfiouser.Channel} that frames messages
 * and their fds on a socket. No client or server logic, and no {@code java.lang.foreign}, lives here.
 */
package io.jvfio.vfiouser;
