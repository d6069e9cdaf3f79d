package io.jvfio.machine.bus;

/** A device on the port I/O bus: offsets are ports from its first port. */
public interface PioDevice extends BusDevice {}
