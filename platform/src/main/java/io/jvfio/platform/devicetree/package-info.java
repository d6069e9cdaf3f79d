/**
 * The guest's flattened device tree: an immutable model ({@link io.jvfio.platform.devicetree.DeviceTree},
 * {@link io.jvfio.platform.devicetree.Node}, {@link io.jvfio.platform.devicetree.Property}), an exact DTB
 * writer and a validating DTB reader (format version 17, checked against dtc in tests), and the layout of
 * jvfio's platform bus ({@link io.jvfio.platform.devicetree.PlatformBusTree}) under which assigned devices
 * appear. Pure Java over byte arrays: nothing here touches {@code java.lang.foreign}, the kernel or a VM.
 */
package io.jvfio.platform.devicetree;
