package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LapicStateTest {
    private static final LapicState ZEROS = new LapicState(new byte[1024]);

    @Test
    void inServiceReadsVectorBitOfItsIsrRegister() {
        LapicState state =
                ZEROS.withRegister(LapicState.ISR + 0x10, 1 << 16).withRegister(LapicState.ISR + 0x70, 1 << 31);

        assertThat(state.inService(0x30)).isTrue();
        assertThat(state.inService(0xFF)).isTrue();
        assertThat(state.inService(0x31)).isFalse();
        assertThat(state.inService(0x10)).isFalse();
    }

    @Test
    void withRegisterChangesACopyLittleEndian() {
        LapicState enabled = ZEROS.withRegister(LapicState.SVR, 0x1FF);

        assertThat(enabled.register(LapicState.SVR)).isEqualTo(0x1FF);
        assertThat(enabled.bytes()[LapicState.SVR]).isEqualTo((byte) 0xFF);
        assertThat(enabled.bytes()[LapicState.SVR + 1]).isEqualTo((byte) 0x01);
        assertThat(ZEROS.register(LapicState.SVR)).isZero();
    }

    @Test
    void offsetsOutsideThePageOrBetweenRegistersAreRefused() {
        assertThatThrownBy(() -> ZEROS.register(0x400)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZEROS.register(0x104)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ZEROS.inService(256)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LapicState(new byte[512])).isInstanceOf(IllegalArgumentException.class);
    }
}
