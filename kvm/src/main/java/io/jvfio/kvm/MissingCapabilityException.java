package io.jvfio.kvm;

import java.io.IOException;

/** KVM lacks a capability that jvfio needs for what was asked: no system call failed, the answer was no. */
public final class MissingCapabilityException extends IOException {
    private final Cap capability;

    public MissingCapabilityException(Cap capability, String neededFor) {
        super("KVM lacks " + capability.kernelName() + ", which jvfio needs " + neededFor);
        this.capability = capability;
    }

    public Cap capability() {
        return capability;
    }
}
