package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import org.junit.jupiter.api.Test;

/** What a VM checks before it asks KVM; its fd here is an eventfd, so any ioctl that got through fails. */
class VmTest {
    @Test
    void aSlotWhoseEndOverflowsIsRefusedBeforeKvmIsAsked() throws Exception {
        try (Mapping memory = Mapping.anonymous(4096, "slot memory");
                Vm vm = new Vm(null, EventFd.create().fd())) {
            assertThatThrownBy(() -> vm.setMemorySlot(0, 0, memory, 4096, Long.MAX_VALUE, false))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
