package io.jvfio.cli;

/** A bad option, argument or value: exit code 2 and one line naming it, with where to find the help. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
