package io.jvfio.machine.bus;

/** A device on the MMIO bus: offsets are bytes from the start of its guest-physical range. */
public interface MmioDevice extends BusDevice {}
