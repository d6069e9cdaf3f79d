/** The {@code jvfio} command. */
module io.jvfio.cli {
    requires io.jvfio.platform;
    requires io.jvfio.devices;
    requires io.jvfio.kvm;
    requires io.jvfio.vfio.kernel;
    requires io.jvfio.vfiouser;
    requires jdk.jfr;

    provides java.lang.System.LoggerFinder with
            io.jvfio.cli.ConsoleLoggerFinder;
}
