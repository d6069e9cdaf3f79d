/**
 * The event loop ({@link io.jvfio.sys.event.EventLoop}): one thread, epoll over eventfds and a timerfd.
 * The machine runs its user-side interrupt handlers and timers on one, the vfio-user server watches its
 * clients' unmask eventfds on another. A loop must not run guest exits (those stay on vCPU threads) nor
 * block on anything but its epoll set; it knows nothing of machines or devices.
 */
package io.jvfio.sys.event;
