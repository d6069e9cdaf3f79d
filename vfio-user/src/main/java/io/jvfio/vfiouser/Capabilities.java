package io.jvfio.vfiouser;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.LinkedHashSet;
import java.util.List;
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
        JsonObject capabilities = new JsonObject();
        for (String name : NAMES) {
            if (names.contains(name)) {
                capabilities.addProperty(name, value(name));
            }
        }
        if (twinSocket != null) {
            JsonObject twin = new JsonObject();
            twin.addProperty("supported", twinSocket.supported());
            if (twinSocket.fdIndex() >= 0) {
                twin.addProperty("fd_index", twinSocket.fdIndex());
            }
            capabilities.add(TWIN_SOCKET, twin);
        }
        JsonObject top = new JsonObject();
        top.add("capabilities", capabilities);
        return top.toString();
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
     * Parses the JSON of a VERSION message strictly (Gson, no lenient syntax); unknown keys are
     * ignored, known ones must be non-negative integers within jvfio's limits. Also tells which of
     * {@link #NAMES} the JSON gave.
     */
    public static Parsed parse(String json) throws ProtocolException {
        JsonObject caps = capabilitiesObject(json);
        Set<String> names = new LinkedHashSet<>();
        for (String name : NAMES) {
            if (caps != null && caps.has(name)) {
                names.add(name);
            }
        }
        return new Parsed(values(caps), names, twinSocket(caps));
    }

    /** The twin_socket object: "supported" a boolean (default false), "fd_index" a non-negative integer. */
    private static TwinSocket twinSocket(JsonObject caps) throws ProtocolException {
        JsonElement element = caps == null ? null : caps.get(TWIN_SOCKET);
        if (element == null) {
            return null;
        }
        if (!element.isJsonObject()) {
            throw new ProtocolException("VERSION JSON: \"twin_socket\" is not an object");
        }
        JsonObject twin = element.getAsJsonObject();
        JsonElement supported = twin.get("supported");
        if (supported != null && !(supported instanceof JsonPrimitive primitive && primitive.isBoolean())) {
            throw new ProtocolException("VERSION JSON: \"twin_socket.supported\" is not a boolean");
        }
        int fdIndex = twin.has("fd_index") ? (int) integer(twin, "fd_index", -1, 0, LIMIT_MAX_MSG_FDS - 1) : -1;
        return new TwinSocket(supported != null && supported.getAsBoolean(), fdIndex);
    }

    /** The "capabilities" object of VERSION JSON, or null when there is none. */
    private static JsonObject capabilitiesObject(String json) throws ProtocolException {
        JsonElement top;
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            // JsonParser keeps the reader's strictness and, unlike a Gson instance, builds no type
            // adapter factories: those cost a fresh JVM 60-70 ms, half of what `jvfio info` took.
            top = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new ProtocolException("VERSION JSON has data after its top-level value");
            }
        } catch (ProtocolException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ProtocolException("VERSION JSON is malformed: " + e.getMessage());
        }
        if (top == null || !top.isJsonObject()) {
            throw new ProtocolException("VERSION JSON is not an object");
        }
        JsonElement capabilities = top.getAsJsonObject().get("capabilities");
        if (capabilities == null) {
            return null;
        }
        if (!capabilities.isJsonObject()) {
            throw new ProtocolException("VERSION JSON: \"capabilities\" is not an object");
        }
        return capabilities.getAsJsonObject();
    }

    private static Capabilities values(JsonObject caps) throws ProtocolException {
        if (caps == null) {
            return defaults();
        }
        return new Capabilities(
                (int) integer(caps, MAX_MSG_FDS, DEFAULT_MAX_MSG_FDS, 0, LIMIT_MAX_MSG_FDS),
                integer(caps, MAX_DATA_XFER_SIZE, DEFAULT_MAX_DATA_XFER_SIZE, 1, LIMIT_MAX_DATA_XFER_SIZE),
                integer(caps, MAX_DMA_MAPS, DEFAULT_MAX_DMA_MAPS, 1, Integer.MAX_VALUE),
                integer(caps, PGSIZES, DEFAULT_PGSIZES, 1, Long.MAX_VALUE));
    }

    private static long integer(JsonObject caps, String name, long fallback, long min, long max)
            throws ProtocolException {
        JsonElement element = caps.get(name);
        if (element == null) {
            return fallback;
        }
        if (!(element instanceof JsonPrimitive primitive) || !primitive.isNumber()) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" is not a number");
        }
        long value;
        try {
            value = exactLong(primitive.getAsString());
        } catch (ArithmeticException | NumberFormatException e) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" is not an integer: " + primitive);
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
