package io.jvfio.vfiouser;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The capabilities a VERSION message carries as JSON: how many fds the sender accepts in one message,
 * the largest data transfer it accepts, how many DMA maps it keeps, and the DMA page sizes. Values the
 * peer leaves out take the specification's defaults.
 */
public record Capabilities(int maxMsgFds, long maxDataXferSize, long maxDmaMaps, long pgsizes) {
    public static final String MAX_MSG_FDS = "max_msg_fds";
    public static final String MAX_DATA_XFER_SIZE = "max_data_xfer_size";
    public static final String MAX_DMA_MAPS = "max_dma_maps";
    public static final String PGSIZES = "pgsizes";
    public static final String TWIN_SOCKET = "twin_socket";
    /** The capabilities jvfio knows, in the order it writes them. */
    public static final List<String> NAMES = List.of(MAX_MSG_FDS, MAX_DATA_XFER_SIZE, MAX_DMA_MAPS, PGSIZES);

    public static final int DEFAULT_MAX_MSG_FDS = 1;
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;
    public static final long DEFAULT_MAX_DMA_MAPS = 65535;
    public static final long DEFAULT_PGSIZES = 4096;
    /** Limits jvfio accepts from a peer: beyond them a VERSION is refused as malformed. */
    public static final int LIMIT_MAX_MSG_FDS = 1024;

    public static final long LIMIT_MAX_DATA_XFER_SIZE = 64L << 20;

    public Capabilities {
        if (maxMsgFds < 0 || maxDataXferSize <= 0 || maxDmaMaps <= 0 || pgsizes <= 0) {
            throw new IllegalArgumentException("capabilities out of range: " + maxMsgFds + ", " + maxDataXferSize + ", "
                    + maxDmaMaps + ", " + pgsizes);
        }
    }

    /** What a peer that says nothing offers. */
    public static Capabilities defaults() {
        return new Capabilities(DEFAULT_MAX_MSG_FDS, DEFAULT_MAX_DATA_XFER_SIZE, DEFAULT_MAX_DMA_MAPS, DEFAULT_PGSIZES);
    }

    /**
     * {@code {"capabilities":{...}}} with the values of {@code names} only (a VERSION reply names a
     * subset of what the client proposed), and {@code twinSocket} unless it is null; names jvfio does
     * not know are left out.
     */
    public String toJson(Set<String> names, TwinSocket twinSocket) {
        Map<String, Object> capabilities = new LinkedHashMap<>();
        for (String name : NAMES) {
            if (names.contains(name)) {
                capabilities.put(name, value(name));
            }
        }
        if (twinSocket != null) {
            Map<String, Object> twin = new LinkedHashMap<>();
            twin.put("supported", twinSocket.supported());
            if (twinSocket.fdIndex() >= 0) {
                twin.put("fd_index", twinSocket.fdIndex());
            }
            capabilities.put(TWIN_SOCKET, twin);
        }
        return Json.write(Map.of("capabilities", capabilities));
    }

    private long value(String name) {
        return switch (name) {
            case MAX_MSG_FDS -> maxMsgFds;
            case MAX_DATA_XFER_SIZE -> maxDataXferSize;
            case MAX_DMA_MAPS -> maxDmaMaps;
            case PGSIZES -> pgsizes;
            default -> throw new IllegalArgumentException("unknown capability " + name);
        };
    }

    /**
     * The twin_socket capability (specification, "Version"): whether the sender supports server-to-client
     * commands on a socket of their own, and in a reply the index of that socket among the reply's fds
     * (-1: not given).
     */
    public record TwinSocket(boolean supported, int fdIndex) {}

    /**
     * Capabilities as a VERSION message carried them: the values, which of jvfio's numeric names it
     * gave, and its twin_socket object (null when absent).
     */
    public record Parsed(Capabilities values, Set<String> names, TwinSocket twinSocket) {
        public Parsed {
            names = Set.copyOf(names);
        }
    }

    /**
     * Parses the JSON of a VERSION message strictly (RFC 8259, no lenient syntax); unknown keys are
     * ignored, known ones must be non-negative integers within jvfio's limits. Also tells which of
     * {@link #NAMES} the JSON gave.
     */
    public static Parsed parse(String json) throws ProtocolException {
        Map<?, ?> caps = capabilitiesObject(json);
        Set<String> names = new LinkedHashSet<>();
        for (String name : NAMES) {
            if (caps != null && caps.containsKey(name)) {
                names.add(name);
            }
        }
        return new Parsed(values(caps), names, twinSocket(caps));
    }

    /** The twin_socket object: "supported" a boolean (default false), "fd_index" a non-negative integer. */
    private static TwinSocket twinSocket(Map<?, ?> caps) throws ProtocolException {
        Object element = caps == null ? null : caps.get(TWIN_SOCKET);
        if (element == null) {
            return null;
        }
        if (!(element instanceof Map<?, ?> twin)) {
            throw new ProtocolException("VERSION JSON: \"twin_socket\" is not an object");
        }
        Object supported = twin.get("supported");
        if (supported != null && !(supported instanceof Boolean)) {
            throw new ProtocolException("VERSION JSON: \"twin_socket.supported\" is not a boolean");
        }
        int fdIndex = twin.containsKey("fd_index") ? (int) integer(twin, "fd_index", -1, 0, LIMIT_MAX_MSG_FDS - 1) : -1;
        return new TwinSocket(Boolean.TRUE.equals(supported), fdIndex);
    }

    /** The "capabilities" object of VERSION JSON, or null when there is none. */
    private static Map<?, ?> capabilitiesObject(String json) throws ProtocolException {
        Object top;
        try {
            top = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("VERSION JSON is malformed: " + e.getMessage());
        }
        if (!(top instanceof Map<?, ?> object)) {
            throw new ProtocolException("VERSION JSON is not an object");
        }
        Object capabilities = object.get("capabilities");
        if (capabilities == null) {
            return null;
        }
        if (!(capabilities instanceof Map<?, ?> map)) {
            throw new ProtocolException("VERSION JSON: \"capabilities\" is not an object");
        }
        return map;
    }

    private static Capabilities values(Map<?, ?> caps) throws ProtocolException {
        if (caps == null) {
            return defaults();
        }
        return new Capabilities(
                (int) integer(caps, MAX_MSG_FDS, DEFAULT_MAX_MSG_FDS, 0, LIMIT_MAX_MSG_FDS),
                integer(caps, MAX_DATA_XFER_SIZE, DEFAULT_MAX_DATA_XFER_SIZE, 1, LIMIT_MAX_DATA_XFER_SIZE),
                integer(caps, MAX_DMA_MAPS, DEFAULT_MAX_DMA_MAPS, 1, Integer.MAX_VALUE),
                integer(caps, PGSIZES, DEFAULT_PGSIZES, 1, Long.MAX_VALUE));
    }

    private static long integer(Map<?, ?> caps, String name, long fallback, long min, long max)
            throws ProtocolException {
        Object element = caps.get(name);
        if (element == null) {
            return fallback;
        }
        if (!(element instanceof Json.NumberText number)) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" is not a number");
        }
        long value;
        try {
            value = exactLong(number.text());
        } catch (ArithmeticException | NumberFormatException e) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" is not an integer: " + number);
        }
        if (value < min || value > max) {
            throw new ProtocolException(
                    "VERSION JSON: \"" + name + "\" = " + value + " is outside [" + min + ", " + max + "]");
        }
        return value;
    }

    /**
     * A JSON number that must be a whole long: digits alone are parsed directly, since BigDecimal's class
     * initialisation cost every client and server 15 ms at its first VERSION; a fraction or an exponent
     * (4096.0, 4.096e3) still goes through BigDecimal, which keeps only exact integers.
     */
    private static long exactLong(String number) {
        boolean plain = !number.isEmpty();
        for (int i = number.charAt(0) == '-' ? 1 : 0; plain && i < number.length(); i++) {
            plain = number.charAt(i) >= '0' && number.charAt(i) <= '9';
        }
        return plain ? Long.parseLong(number) : new BigDecimal(number).longValueExact();
    }
}
