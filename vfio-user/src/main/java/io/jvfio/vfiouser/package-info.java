/**
 * The vfio-user protocol: the message header and payloads ({@link io.jvfio.vfiouser.Payload}), their
 * codec with every length checked ({@link io.jvfio.vfiouser.Codec}), the VERSION capabilities (JSON via
 * Gson), jvfio's platform extension, the {@link io.jvfio.vfiouser.Channel} that frames messages
 * and their fds on a socket, and the {@link io.jvfio.vfiouser.Session} both sides send their requests
 * through (reading until the reply, the peer's requests answered or kept meanwhile, as the side says).
 * No client- or server-specific logic, and no {@code java.lang.foreign}, lives here.
 */
package io.jvfio.vfiouser;
