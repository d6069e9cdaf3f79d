/**
 * ACPI tables for booting a stock Linux kernel, which finds jvfio's devices through them (Debian's amd64
 * kernels have no device-tree support): an AML encoder ({@link io.jvfio.machine.acpi.Aml},
 * {@link io.jvfio.machine.acpi.NamePath}, {@link io.jvfio.machine.acpi.ResourceTemplate}), device
 * descriptions ({@link io.jvfio.machine.acpi.AcpiDevice}) and the tables themselves
 * ({@link io.jvfio.machine.acpi.AcpiTables}: RSDP, XSDT, FADT, MADT, DSDT). Pure byte layout: nothing here
 * touches guest RAM, KVM or {@code java.lang.foreign}; the caller copies the image into the guest
 * (docs/acpi.md).
 */
package io.jvfio.machine.acpi;
