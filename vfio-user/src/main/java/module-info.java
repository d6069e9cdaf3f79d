/** The vfio-user protocol: codec, a client that is a {@code VfioDevice}, and a server for device models. */
module io.jvfio.vfiouser {
    requires transitive io.jvfio.vfio;

    exports io.jvfio.vfiouser;
    exports io.jvfio.vfiouser.client;
    exports io.jvfio.vfiouser.server;
}
