package io.jvfio.devices.virtio;

/**
 * The driver broke the virtqueue rules (a descriptor index past the table, a loop, a ring or buffer
 * outside its DMA windows, a bad queue size): the device sets DEVICE_NEEDS_RESET and serves nothing
 * until the driver resets it. The message names what was wrong.
 */
public final class MalformedQueueException extends Exception {
    public MalformedQueueException(String message) {
        super(message, null, false, false);
    }
}
