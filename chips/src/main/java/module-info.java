/** Register-level chip models with no dependencies: the 16550A UART. */
module io.jvfio.chips {
    exports io.jvfio.chips.serial;
}
