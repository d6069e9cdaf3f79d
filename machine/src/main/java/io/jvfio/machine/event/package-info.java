/**
 * The machine's event loop ({@link io.jvfio.machine.event.EventLoop}): one thread, epoll over eventfds
 * and a timerfd, for user-side interrupt handlers and timers. It must not run guest exits (those stay on
 * vCPU threads) nor block on anything but its epoll set.
 */
package io.jvfio.machine.event;
