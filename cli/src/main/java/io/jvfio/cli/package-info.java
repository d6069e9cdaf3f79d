/**
 * The {@code jvfio} command: {@code demo}, {@code run}, {@code serve}, {@code info}, {@code dt},
 * {@code bind}, {@code unbind}, {@code host}, and {@code --trace}. Each command parses its arguments, calls the library
 * modules and prints; nothing a library user would need lives here. Errors are one line on stderr, exit
 * codes are 0 (ok), 1 (runtime failure), 2 (usage) and the guest's own code for {@code run}.
 */
package io.jvfio.cli;
