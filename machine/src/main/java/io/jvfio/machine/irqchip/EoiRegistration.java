package io.jvfio.machine.irqchip;

/** A listener of a pin's guest EOIs; closing it removes the listener, and cannot fail. */
@FunctionalInterface
public interface EoiRegistration extends AutoCloseable {
    @Override
    void close();
}
