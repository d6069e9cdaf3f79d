package io.jvfio.bench;

/** Ends a child process and whatever it forked. */
final class ProcessTree {
    private ProcessTree() {}

    /**
     * Kills {@code process} and what it forked (pingpong's echoing child, irq_loop's device process) if they
     * still run: after a timeout or an interrupt they would otherwise outlive the benchmark, and a child
     * holding the output pipe open keeps the output from ending. Nothing to do once {@code process} has
     * exited: its children, if any, are no longer its descendants, and its pid may be another's.
     */
    static void destroy(Process process) {
        if (!process.isAlive()) {
            return;
        }
        // The children first: once the parent is gone they are no longer its descendants.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
