package io.jvfio.vfio;

import io.jvfio.sys.EventFd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * A VFIO_DEVICE_SET_IRQS request: an action on IRQs {@code start .. start+count-1} of one index, with
 * no data, a bool per IRQ, or an eventfd per IRQ (empty: de-assign). {@code count == 0} with
 * {@link Data.None} and TRIGGER tears down all of the index's triggers.
 */
public record IrqSet(int index, IrqAction action, int start, int count, Data data) {
    public static final int DATA_NONE = 1;
    public static final int DATA_BOOL = 1 << 1;
    public static final int DATA_EVENTFD = 1 << 2;

    public IrqSet {
        if (index < 0 || start < 0 || count < 0) {
            throw new IllegalArgumentException("IRQ set: negative index, start or count");
        }
        int dataCount = switch (data) {
            case Data.None none -> count;
            case Data.Bools bools -> bools.values().length;
            case Data.EventFds fds -> fds.fds().size();
        };
        if (dataCount != count) {
            throw new IllegalArgumentException("IRQ set: " + dataCount + " data entries for count " + count);
        }
    }

    /** Connects (or with an empty optional disconnects) the eventfd signalled when IRQ {@code sub} fires. */
    public static IrqSet trigger(int index, int sub, Optional<EventFd> eventFd) {
        return new IrqSet(index, IrqAction.TRIGGER, sub, 1, new Data.EventFds(List.of(eventFd)));
    }

    /** Connects an eventfd whose signal unmasks IRQ {@code sub} (the resample path of level IRQs). */
    public static IrqSet unmaskEventFd(int index, int sub, Optional<EventFd> eventFd) {
        return new IrqSet(index, IrqAction.UNMASK, sub, 1, new Data.EventFds(List.of(eventFd)));
    }

    /** Unmasks IRQ {@code sub} now. */
    public static IrqSet unmask(int index, int sub) {
        return new IrqSet(index, IrqAction.UNMASK, sub, 1, new Data.None());
    }

    /** Masks IRQ {@code sub} now. */
    public static IrqSet mask(int index, int sub) {
        return new IrqSet(index, IrqAction.MASK, sub, 1, new Data.None());
    }

    /** Removes every trigger of an index. */
    public static IrqSet disableAll(int index) {
        return new IrqSet(index, IrqAction.TRIGGER, 0, 0, new Data.None());
    }

    /** The VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_* flag word. */
    public int flags() {
        int dataFlag = switch (data) {
            case Data.None none -> DATA_NONE;
            case Data.Bools bools -> DATA_BOOL;
            case Data.EventFds fds -> DATA_EVENTFD;
        };
        return dataFlag | action.flag();
    }

    /** What accompanies an IRQ set. */
    public sealed interface Data {
        /** No data: the action applies to every IRQ in the range. */
        record None() implements Data {}

        /** One bool per IRQ: the action applies where true. */
        record Bools(boolean[] values) implements Data {
            public Bools {
                values = values.clone();
            }

            @Override
            public boolean[] values() {
                return values.clone();
            }

            @Override
            public String toString() {
                return "Bools" + Arrays.toString(values);
            }
        }

        /** One eventfd per IRQ; an empty entry de-assigns. The caller keeps ownership of the eventfds. */
        record EventFds(List<Optional<EventFd>> fds) implements Data {
            public EventFds {
                fds = Collections.unmodifiableList(new ArrayList<>(fds));
            }
        }
    }
}
