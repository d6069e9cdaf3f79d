package io.jvfio.chips.serial;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A UART wired to recorders: the interrupt levels it set, the bytes it transmitted (with a switch that
 * makes the host end refuse bytes), and a fake clock whose time moves only when a test advances it.
 */
final class UartFixture {
    final FakeClock clock = new FakeClock();
    final List<Boolean> levels = new ArrayList<>();
    final ByteArrayOutputStream transmitted = new ByteArrayOutputStream();
    boolean hostAccepts = true;
    final Uart16550 uart;

    UartFixture() {
        this(Uart16550.InterruptOutput.GATED_BY_OUT2);
    }

    UartFixture(Uart16550.InterruptOutput output) {
        uart = Uart16550.builder()
                .interruptSink(levels::add)
                .transmitter(value -> {
                    if (!hostAccepts) {
                        return false;
                    }
                    transmitted.write(value);
                    return true;
                })
                .clock(clock)
                .interruptOutput(output)
                .build();
    }

    /** The line's level now (low before any change). */
    boolean line() {
        return !levels.isEmpty() && levels.getLast();
    }

    String transmittedText() {
        return transmitted.toString(StandardCharsets.ISO_8859_1);
    }

    int read(int offset) {
        return uart.read(offset);
    }

    void write(int offset, int value) {
        uart.write(offset, value);
    }

    void receive(String text) {
        uart.receive(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Scheduled tasks run when {@link #advance} passes their deadline, on the test's thread. */
    static final class FakeClock implements Uart16550.Clock {
        private record Task(long deadline, long sequence, Runnable action, boolean[] cancelled)
                implements Comparable<Task> {
            @Override
            public int compareTo(Task other) {
                int byDeadline = Long.compare(deadline, other.deadline);
                return byDeadline != 0 ? byDeadline : Long.compare(sequence, other.sequence);
            }
        }

        private final PriorityQueue<Task> tasks = new PriorityQueue<>();
        private long now = 1_000_000_000L;
        private long sequence;

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public Runnable schedule(long delayNanos, Runnable task) {
            boolean[] cancelled = {false};
            tasks.add(new Task(now + delayNanos, sequence++, task, cancelled));
            return () -> cancelled[0] = true;
        }

        void advance(long nanos) {
            long until = now + nanos;
            while (!tasks.isEmpty() && tasks.peek().deadline() <= until) {
                Task next = tasks.poll();
                now = next.deadline();
                if (!next.cancelled()[0]) {
                    next.action().run();
                }
            }
            now = until;
        }

        /** Tasks scheduled and neither run nor cancelled. */
        long pending() {
            return tasks.stream().filter(task -> !task.cancelled()[0]).count();
        }
    }
}
