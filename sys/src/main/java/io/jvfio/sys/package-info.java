/**
 * The native layer: libc downcalls and the single owners of what they return (fds, eventfds,
 * mappings, epoll sets, timers, UNIX sockets with fd passing), with errors as {@link
 * io.jvfio.sys.ErrnoException}. The only package family of jvfio that touches {@code java.lang.foreign};
 * it knows nothing of devices or VMs.
 */
package io.jvfio.sys;
