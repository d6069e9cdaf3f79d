package io.jvfio.platform.irq;

/**
 * The mmap'ed fast path of all a device's regions: while on, guest accesses go straight to device
 * memory without exits; while off, they trap, so the guest's EOI can be seen.
 */
public interface FastPath {
    void setEnabled(boolean enabled);
}
